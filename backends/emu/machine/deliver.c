/* SPDX-License-Identifier: MIT */
/*
 * deliver.c - events into the guest: an exception or interrupt delivered
 * through the guest's IDT as the CPU would (APM vol 2, 8.9 long-mode
 * interrupt control transfers), or the stop of the model when no usable gate
 * exists.
 */
#include <string.h>

#include "machine.h"

static void exit_exception(struct emu_inst *in, unsigned vector, bool has_ec, uint64_t ec)
{
	struct emu_machine *m = in->m;

	m->exit.vector = vector;
	m->exit.has_error_code = has_ec;
	m->exit.error_code = ec;
	machine_finish(m, EMU_EXIT_KIND_EXCEPTION, NULL);
}

/*
 * Deliver an exception or INT n through the 64-bit IDT: read the gate, pick
 * the stack (IST, TSS.RSP0 on a privilege change, else the current one), push
 * the frame and error code with the guest's own page and RMP checks, then load
 * the handler state (a full VMSA load when CS or CPL change).
 */
void x86_deliver(struct emu_inst *in, unsigned vector, bool has_ec, uint64_t ec, uint64_t cr2,
		 bool is_swint, uint64_t next_rip)
{
	struct emu_machine *m = in->m;
	uc_engine *uc = in->uc;
	uc_x86_mmr idtr, gdtr, tr;
	uint8_t gate[16], vmsa[0x1000];
	uint64_t handler, rsp, frame[6], rflags;
	uint16_t sel, old_cs = rreg(uc, UC_X86_REG_CS);
	unsigned cpl = old_cs & 3, dpl, ist, new_cpl, n = 0;
	struct emu_stop st;

	if (TRACE_ON(m))
		trace_exception(in, vector, has_ec, ec, cr2, is_swint);
	uc_reg_read(uc, UC_X86_REG_IDTR, &idtr);
	if ((uint64_t)vector * 16 + 15 > idtr.limit ||
	    guest_copy(in, idtr.base + vector * 16, gate, 16, false, &st)) {
		exit_exception(in, vector, has_ec, ec);
		return;
	}
	handler = gate[0] | gate[1] << 8 | (uint64_t)gate[6] << 16 | (uint64_t)gate[7] << 24 |
		  (uint64_t)(gate[8] | gate[9] << 8 | gate[10] << 16 | (uint32_t)gate[11] << 24)
			  << 32;
	sel = gate[2] | gate[3] << 8;
	ist = gate[4] & 7;
	dpl = (gate[5] >> 5) & 3;
	if (!(gate[5] & 0x80) || ((gate[5] & 0xE) != 0xE) || (is_swint && dpl < cpl)) {
		exit_exception(in, vector, has_ec, ec); /* no usable gate: the model stops */
		return;
	}
	new_cpl = sel & 3;
	rsp = rreg(uc, UC_X86_REG_RSP);
	uc_reg_read(uc, UC_X86_REG_TR, &tr);
	uc_reg_read(uc, UC_X86_REG_GDTR, &gdtr);
	if (ist || new_cpl < cpl) {
		uint64_t tss_rsp;

		if (guest_copy(in, tr.base + (ist ? 0x24 + 8 * (ist - 1) : 4), &tss_rsp, 8, false,
			       &st)) {
			exit_exception(in, vector, has_ec, ec);
			return;
		}
		rsp = tss_rsp;
	}
	rsp &= ~0xFULL;
	rflags = rreg(uc, UC_X86_REG_RFLAGS);
	frame[n++] = rreg(uc, UC_X86_REG_SS);
	frame[n++] = rreg(uc, UC_X86_REG_RSP);
	frame[n++] = rflags;
	frame[n++] = old_cs;
	frame[n++] = is_swint ? next_rip : rreg(uc, UC_X86_REG_RIP);
	if (has_ec)
		frame[n++] = ec;
	for (unsigned i = 0; i < n; i++) {
		rsp -= 8;
		if (guest_copy(in, rsp, &frame[i], 8, true, &st)) {
			exit_exception(in, 8, true, 0); /* fault while delivering: #DF */
			return;
		}
	}
	if (vector == EMU_VEC_PF)
		inst_set_cr2(in, cr2);
	rflags &= ~((1ULL << 8) | (1ULL << 14) | (1ULL << 16) | (1ULL << 17));
	if (!(gate[5] & 1))
		rflags &= ~(1ULL << 9); /* interrupt gate clears IF */
	if (sel == old_cs) {
		wreg(uc, UC_X86_REG_RSP, rsp);
		wreg(uc, UC_X86_REG_RFLAGS, rflags);
		wreg(uc, UC_X86_REG_RIP, handler);
		return;
	}
	if (cpl == 3 && new_cpl == 0) { /* the common case: no VMSA load */
		uint64_t d;
		int r;

		if (guest_copy(in, gdtr.base + (sel & ~7), &d, 8, false, &st)) {
			exit_exception(in, vector, has_ec, ec);
			return;
		}
		r = inst_enter_cpl0(in, sel, d, rsp, rflags, handler);
		if (r < 0)
			machine_finish(m, EMU_EXIT_KIND_ERROR, NULL);
		if (r <= 0)
			return;
	}
	/* CS/CPL change: build the target state and load it like a VMSA. */
	memcpy(vmsa, in->shadow, sizeof(in->shadow));
	memset(vmsa + sizeof(in->shadow), 0, sizeof(vmsa) - sizeof(in->shadow));
	inst_save(in, vmsa);
	{
		uint8_t desc[8];
		uint16_t attr;
		uint16_t ss_attr = 0x0C93 | (new_cpl << 5);

		if (guest_copy(in, gdtr.base + (sel & ~7), desc, 8, false, &st)) {
			exit_exception(in, vector, has_ec, ec);
			return;
		}
		attr = desc[5] | ((desc[6] & 0xF0) << 4);
		memcpy(vmsa + VMSA_CS, &sel, 2);
		memcpy(vmsa + VMSA_CS + 2, &attr, 2);
		memset(vmsa + VMSA_CS + 4, 0xFF, 4);
		st64(vmsa + VMSA_CS + 8, 0);
		sel = new_cpl; /* SS = NULL selector with RPL = new CPL */
		memcpy(vmsa + VMSA_SS, &sel, 2);
		memcpy(vmsa + VMSA_SS + 2, &ss_attr, 2);
	}
	vmsa[VMSA_CPL] = new_cpl;
	st64(vmsa + VMSA_RSP, rsp);
	st64(vmsa + VMSA_RFLAGS, rflags);
	st64(vmsa + VMSA_RIP, handler);
	if (inst_load(in, vmsa))
		machine_finish(m, EMU_EXIT_KIND_ERROR, NULL);
}
