/* SPDX-License-Identifier: MIT */
/*
 * run.c - the run loop: Unicorn stops become architectural events (#VC, #PF,
 * #NPF automatic exits, intercepts, VMGEXIT). Delivery through the guest IDT
 * is deliver.c; `exec` mode setup is exec.c.
 */
#include <string.h>

#include "emu_run.h"
#include "machine.h"

static bool has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

static void inject_vc(struct emu_inst *in, uint64_t code, uint64_t cr2)
{
	(void)cr2;
	if (code == SVM_EXIT_NOT_VALIDATED)
		inst_set_cr2(in, cr2);
	x86_deliver(in, EMU_VEC_VC, true, code, cr2, false, 0);
}

/* ---- intercepts ------------------------------------------------------ */

static void handle_msr(struct emu_inst *in)
{
	uc_engine *uc = in->uc;
	uint8_t op[2];
	struct emu_stop st;
	uint32_t ecx = rreg(uc, UC_X86_REG_RCX);
	bool write;
	uint64_t val;
	struct emu_vcpu *v = in->vcpu;

	if (guest_insn(in, rreg(uc, UC_X86_REG_RIP), op, 2, &st)) {
		inject_vc(in, SVM_EXIT_MSR, 0);
		return;
	}
	write = op[1] == 0x30;
	val = (rreg(uc, UC_X86_REG_RAX) & 0xFFFFFFFFULL) | (rreg(uc, UC_X86_REG_RDX) << 32);
	switch (ecx) {
	case MSR_GHCB:
		if (write)
			v->ghcb_msr[in->vmpl] = val;
		else
			val = v->ghcb_msr[in->vmpl];
		break;
	case MSR_SEV_STATUS:
		if (write) {
			x86_deliver(in, EMU_VEC_GP, true, 0, 0, false, 0);
			return;
		}
		val = 0x7; /* SEV, SEV-ES, SNP active */
		break;
	case MSR_EFER:
		if (write) {
			inst_set_msr(in, MSR_EFER, val & ~EFER_SVME);
			in->efer = inst_get_msr(in, MSR_EFER);
		} else {
			val = m_efer(in) | EFER_SVME;
		}
		break;
	case MSR_STAR:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_SFMASK:
	case MSR_KGSBASE: /* only writes are intercepted */
		inst_set_msr(in, ecx, val);
		in->msrs_dirty = true;
		break;
	default:
		inject_vc(in, SVM_EXIT_MSR, 0);
		return;
	}
	if (!write) {
		wreg(uc, UC_X86_REG_RAX, val & 0xFFFFFFFFULL);
		wreg(uc, UC_X86_REG_RDX, val >> 32);
	}
	inst_retire(in, 2);
}

/* Schedule the next runnable vCPU after the current one (round robin). */
void next_runnable(struct emu_machine *m)
{
	unsigned i, n = m->cfg.nr_vcpus;

	for (i = 1; i <= n; i++) {
		unsigned c = (m->cur + i) % n;

		if (m->vcpus[c].state == VCPU_RUNNABLE) {
			m->cur = c;
			return;
		}
	}
}

static void handle_swint(struct emu_inst *in)
{
	uc_engine *uc = in->uc;
	uint64_t rip = rreg(uc, UC_X86_REG_RIP);
	uint8_t op[2] = { 0 };
	struct emu_stop st;
	unsigned vec, len;

	if (guest_insn(in, rip, op, 2, &st))
		op[0] = 0;
	switch (op[0]) {
	case 0xCC:
		vec = 3;
		len = 1;
		break;
	case 0xCE:
		vec = 4;
		len = 1;
		break;
	case 0xF1:
		vec = 1;
		len = 1;
		break;
	default:
		vec = op[1];
		len = 2;
		break;
	}
	if (in->m->cfg.count_insns)
		in->m->insns++;
	x86_deliver(in, vec, false, 0, 0, true, rip + len);
}

/* Port and size of the IN/OUT/INS/OUTS whose bytes are `op`. */
static bool io_decode(const uint8_t *op, uint64_t rdx, unsigned *port, unsigned *size)
{
	bool opsize = false;
	unsigned i;

	for (i = 0; i < 14; i++) { /* legacy prefixes, then REX */
		if (op[i] == 0x66)
			opsize = true;
		else if (op[i] != 0xF2 && op[i] != 0xF3 && op[i] != 0x2E && op[i] != 0x36 &&
			 op[i] != 0x3E && op[i] != 0x26 && op[i] != 0x64 && op[i] != 0x65 &&
			 op[i] != 0x67 && (op[i] & 0xF0) != 0x40)
			break;
	}
	switch (op[i]) {
	case 0xE4:
	case 0xE5:
	case 0xE6:
	case 0xE7:
		*port = op[i + 1];
		break;
	case 0xEC:
	case 0xED:
	case 0xEE:
	case 0xEF:
	case 0x6C:
	case 0x6D:
	case 0x6E:
	case 0x6F:
		*port = rdx & 0xFFFF;
		break;
	default:
		return false;
	}
	*size = !(op[i] & 1) ? 1 : opsize ? 2 : 4;
	return true;
}

/*
 * Protected-mode I/O permission (APM vol 2, 13.3 "Protected-Mode I/O"): at
 * CPL > IOPL every port byte the access touches must be clear in the TSS I/O
 * permission bitmap, or the instruction takes #GP(0). The check precedes the
 * SVM IOIO intercept (APM vol 2, 15.10.2 "IN and OUT Behavior"), so such an
 * access never becomes a #VC: the class of CVE-2023-46813.
 */
static bool io_allowed(struct emu_inst *in)
{
	uc_engine *uc = in->uc;
	unsigned cpl = rreg(uc, UC_X86_REG_CS) & 3, port, size;
	uint64_t iopl = (rreg(uc, UC_X86_REG_RFLAGS) >> 12) & 3;
	uint64_t rip = rreg(uc, UC_X86_REG_RIP);
	uint8_t op[16] = { 0 }, bits[2];
	uint16_t base;
	uc_x86_mmr tr;
	struct emu_stop st;
	uint32_t off;
	size_t len = 0x1000 - (rip & 0xFFF) < sizeof(op) ? 0x1000 - (rip & 0xFFF) : sizeof(op);

	if (cpl <= iopl)
		return true;
	if (guest_insn(in, rip, op, len, &st) ||
	    !io_decode(op, rreg(uc, UC_X86_REG_RDX), &port, &size))
		return false;
	uc_reg_read(uc, UC_X86_REG_TR, &tr);
	/* The bitmap base is at TSS offset 0x66; both bytes holding the port's
	 * bits must lie within the TSS limit. */
	if (tr.limit < 0x67 || guest_copy(in, tr.base + 0x66, &base, 2, false, &st))
		return false;
	off = base + port / 8;
	if (off + 1 > tr.limit || guest_copy(in, tr.base + off, bits, 2, false, &st))
		return false;
	return !(((bits[0] | bits[1] << 8) >> (port % 8)) & ((1U << size) - 1));
}

/* The model's clock: RDTSC and RDTSCP (FIDELITY.md). RDTSCP also loads
 * ECX = TSC_AUX (APM vol 3, RDTSCP). */
static void rdtsc(struct emu_inst *in, bool p)
{
	uint64_t tsc = emu_tsc_read(in->m);

	wreg(in->uc, UC_X86_REG_RAX, tsc & 0xFFFFFFFFULL);
	wreg(in->uc, UC_X86_REG_RDX, tsc >> 32);
	if (p)
		wreg(in->uc, UC_X86_REG_RCX, inst_get_msr(in, MSR_TSC_AUX) & 0xFFFFFFFFULL);
	inst_retire(in, p ? 3 : 2);
}

void x86_handle_intercept(struct emu_inst *in, uint64_t code)
{
	struct emu_machine *m = in->m;
	uc_engine *uc = in->uc;
	uint8_t op[4] = { 0 };
	struct emu_stop st;

	switch (code) {
	case SVM_EXIT_MSR:
		handle_msr(in);
		return;
	case SVM_EXIT_VMMCALL:
		guest_insn(in, rreg(uc, UC_X86_REG_RIP), op, 4, &st);
		if (op[0] == 0xF3) { /* rep vmmcall = VMGEXIT: trap-like */
			inst_retire(in, 4);
			hv_vmgexit(in->m, in->vcpu, in->vmpl);
		} else {
			inject_vc(in, code, 0);
		}
		return;
	case SVM_EXIT_HLT:
		inst_retire(in, 1);
		if (in->vcpu->id == 0 && m->exec_mode) {
			machine_finish(m, EMU_EXIT_KIND_HLT, NULL);
		} else {
			irq_hlt(in);
		}
		return;
	case SVM_EXIT_PAUSE:
		inst_retire(in, 2);
		next_runnable(m);
		return;
	case SVM_EXIT_RDTSC:  /* RDTSC, RDTSCP: a deterministic clock */
	case SVM_EXIT_RDTSCP: /* (QEMU reports RDTSCP with RDTSC's exit code: decode it) */
		guest_insn(in, rreg(uc, UC_X86_REG_RIP), op, 3, &st);
		rdtsc(in, op[0] == 0x0F && op[1] == 0x01 && op[2] == 0xF9);
		return;
	case SVM_EXIT_IOIO:
		if (!io_allowed(in)) {
			x86_deliver(in, EMU_VEC_GP, true, 0, 0, false, 0);
			return;
		}
		inject_vc(in, code, 0);
		return;
	case SVM_EXIT_WBINVD: /* QEMU reports INVD (0F 08) with WBINVD's exit code */
		guest_insn(in, rreg(uc, UC_X86_REG_RIP), op, 2, &st);
		inject_vc(in, op[0] == 0x0F && op[1] == 0x08 ? SVM_EXIT_INVD : SVM_EXIT_WBINVD, 0);
		return;
	default: /* CPUID, MONITOR, MWAIT, DR7 read/write: #VC */
		inject_vc(in, code, 0);
		return;
	}
}

/* SYSCALL (AMD64 semantics): RCX = next RIP, R11 = RFLAGS, CS/SS from
 * STAR[47:32], RIP = LSTAR, RFLAGS &= ~SFMASK, CPL 0. */
static void x86_syscall(struct emu_inst *in)
{
	uc_engine *uc = in->uc;
	uint8_t vmsa[0x1000];
	uint64_t star, rflags = rreg(uc, UC_X86_REG_RFLAGS), rip = rreg(uc, UC_X86_REG_RIP);
	uint16_t cs, ss, cs_attr = 0x29B, ss_attr = 0xC93;

	if (!(m_efer(in) & EFER_SCE)) {
		wreg(uc, UC_X86_REG_RIP, rip - 2);
		if (in->m->cfg.count_insns && in->m->insns)
			in->m->insns--;
		x86_deliver(in, EMU_VEC_UD, false, 0, 0, false, 0);
		return;
	}
	star = inst_get_msr(in, MSR_STAR);
	cs = (star >> 32) & 0xFFFC;
	ss = cs + 8;
	memcpy(vmsa, in->shadow, sizeof(in->shadow));
	memset(vmsa + sizeof(in->shadow), 0, sizeof(vmsa) - sizeof(in->shadow));
	inst_save(in, vmsa);
	st64(vmsa + VMSA_RCX, rip);
	st64(vmsa + VMSA_R8 + 24, rflags & ~(1ULL << 16));
	st64(vmsa + VMSA_RFLAGS, (rflags & ~inst_get_msr(in, MSR_SFMASK) & ~(1ULL << 16)) | 2);
	st64(vmsa + VMSA_RIP, inst_get_msr(in, MSR_LSTAR));
	memcpy(vmsa + VMSA_CS, &cs, 2);
	memcpy(vmsa + VMSA_CS + 2, &cs_attr, 2);
	memcpy(vmsa + VMSA_SS, &ss, 2);
	memcpy(vmsa + VMSA_SS + 2, &ss_attr, 2);
	vmsa[VMSA_CPL] = 0;
	if (inst_load(in, vmsa))
		machine_finish(in->m, EMU_EXIT_KIND_ERROR, NULL);
}

/* ---- the loop --------------------------------------------------------- */

static void handle_stop(struct emu_inst *in, uc_err err)
{
	struct emu_machine *m = in->m;
	struct emu_stop *s = &in->stop;
	bool data_fault =
		(s->kind == STOP_FAULT_PF || s->kind == STOP_FAULT_VC || s->kind == STOP_NPF) &&
		s->code != 2;

	if (m->cfg.count_insns && m->insns &&
	    (data_fault || s->kind == STOP_INTERCEPT || s->kind == STOP_INVALID ||
	     s->kind == STOP_EXCEPTION || s->kind == STOP_SWINT))
		m->insns--; /* counted by the code hook, did not retire */
	if (s->kind == STOP_FAULT_PF || s->kind == STOP_FAULT_VC ||
	    (s->kind == STOP_NPF && !(s->exitinfo1 & EMU_NPF_PT))) {
		uint64_t va = fault_address(in, s->va, s->code == 2);

		s->cr2 = va;
		if (s->kind == STOP_NPF)
			s->exitinfo2 = (s->exitinfo2 & ~0xFFFULL) | (va & 0xFFF);
	}
	switch (s->kind) {
	case STOP_FAULT_PF:
		x86_deliver(in, EMU_VEC_PF, true, s->error_code, s->cr2, false, 0);
		break;
	case STOP_FAULT_VC:
		inject_vc(in, s->error_code, s->cr2);
		break;
	case STOP_NPF:
		hv_npf(in);
		break;
	case STOP_EXCEPTION:
		/* EFER.SVME is hidden from the guest, so VMMCALL-class opcodes #UD. */
		if (s->code == EMU_VEC_UD && snp_emulate_insn(in, rreg(in->uc, UC_X86_REG_RIP)))
			break;
		x86_deliver(in, s->code, has_error_code(s->code), 0, 0, false, 0);
		break;
	case STOP_SWINT:
		handle_swint(in);
		break;
	case STOP_INTERCEPT:
		x86_handle_intercept(in, s->code);
		break;
	case STOP_INVALID:
		if (!snp_emulate_insn(in, rreg(in->uc, UC_X86_REG_RIP)))
			x86_deliver(in, EMU_VEC_UD, false, 0, 0, false, 0);
		break;
	case STOP_SYSCALL:
		x86_syscall(in);
		break;
	case STOP_RETRY:
		break;
	case STOP_LIMIT:
		machine_finish(m, EMU_EXIT_KIND_LIMIT, NULL);
		break;
	default:
		snprintf(m->exit.message, sizeof(m->exit.message), "emulation stopped: %s",
			 err ? uc_strerror(err) : "no event");
		machine_finish(m, EMU_EXIT_KIND_ERROR, NULL);
		break;
	}
}

static void fill_exit(struct emu_machine *m)
{
	struct emu_vcpu *v = &m->vcpus[m->cur];
	struct emu_inst *in = v->inst[v->vmpl];
	struct emu_exit *x = &m->exit;

	x->vcpu = v->id;
	x->vmpl = v->vmpl;
	x->insns = m->insns;
	x->switches = m->switches;
	x->vmgexits = m->vmgexits;
	memcpy(x->insns_vmpl, m->insns_vmpl, sizeof(x->insns_vmpl));
	memcpy(x->vmgexits_vmpl, m->vmgexits_vmpl, sizeof(x->vmgexits_vmpl));
	if (!in)
		return;
	x->cpl = rreg(in->uc, UC_X86_REG_CS) & 3;
	x->rip = rreg(in->uc, UC_X86_REG_RIP);
	x->rax = rreg(in->uc, UC_X86_REG_RAX);
	x->rbx = rreg(in->uc, UC_X86_REG_RBX);
	x->rcx = rreg(in->uc, UC_X86_REG_RCX);
	x->rdx = rreg(in->uc, UC_X86_REG_RDX);
	x->rflags = rreg(in->uc, UC_X86_REG_RFLAGS);
}

void emu_run_loop(struct emu_machine *m)
{
	while (!m->done) {
		struct emu_vcpu *v;
		struct emu_inst *in;
		uc_err err;

		irq_before_run(m); /* may pick another vCPU, or deliver an interrupt */
		v = &m->vcpus[m->cur];
		in = v->inst[v->vmpl];

		if (v->state == VCPU_RUNNABLE && v->vmpl == 0 && m->native0) {
			m->native_enter(m, v);
			continue;
		}
		if (v->state != VCPU_RUNNABLE || !in) {
			machine_finish(m, EMU_EXIT_KIND_ERROR, "no runnable vCPU: all halted");
			break;
		}
		/* Deferred VMPL0 saves (vmsa_lazy.c) are due when another vCPU, a
		 * tracer or a debugger could read them. */
		if (m->lazy_mask)
			machine_sync_lazy(m, m->dbg || m->trace ? 0 : 1ULL << v->id);
		if (in->rmp_gen != m->rmp_gen) {
			uc_ctl_flush_tlb(in->uc);
			in->rmp_gen = m->rmp_gen;
		}
		smc_before_run(in); /* code other instances or the model wrote */
		in->stop.kind = STOP_NONE;
		slice_before_run(m);
		if (m->dbg)
			dbg_before_run(in);
		uint64_t insns = m->insns; /* all of it runs (and retires) at in->vmpl */
		err = uc_emu_start(in->uc, rreg(in->uc, UC_X86_REG_RIP), 0, 0, 0);
		if (m->dbg && dbg_after_run(in)) {
			m->insns_vmpl[in->vmpl] += m->insns - insns;
			continue;
		}
		if (!slice_expired(m, in))
			handle_stop(in, err);
		m->insns_vmpl[in->vmpl] += m->insns - insns;
	}
	machine_sync_lazy(m, 0); /* the VMSA pages are the run's result */
	fill_exit(m);
}
