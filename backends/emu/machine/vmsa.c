/* SPDX-License-Identifier: MIT */
/*
 * vmsa.c - one Unicorn CPU per (vCPU, VMPL) (struct emu_inst): its creation, MSR
 * access by the model, and the load and save of a VMSA into and out of it
 * (the light state on every switch, the full state through VMRUN/VMLOAD of
 * the stub page, hooks.c).
 */
#include <stdlib.h>
#include <string.h>

#include "machine.h"

#define MiB (1ULL << 20)

static void save_batch_init(struct emu_inst *in);

/* Intercept bits (bit n = exit code 0x60 + n). */
#define ICPT(code) (1ULL << ((code)-0x60))

/*
 * MSR access by the model itself. QEMU checks the MSR permission map of the
 * current VMCB even for API accesses (an intercept there would longjmp out of
 * Unicorn), so point the VMCB at an all-open map for the duration.
 */
static uint64_t msr_io(struct emu_inst *in, uint32_t rid, uint64_t v, bool write)
{
	uc_x86_msr msr = { .rid = rid, .value = v };
	uint8_t *vmcb = m_ptr(in->m, in->vmcb_pa, 0x1000);

	st64(vmcb + 0x48, in->m->priv_base + PRIV_MSRPM_OPEN);
	if (write)
		uc_reg_write(in->uc, UC_X86_REG_MSR, &msr);
	else
		uc_reg_read(in->uc, UC_X86_REG_MSR, &msr);
	st64(vmcb + 0x48, in->m->priv_base + PRIV_MSRPM);
	return msr.value;
}

uint64_t inst_get_msr(struct emu_inst *in, uint32_t rid)
{
	return msr_io(in, rid, 0, false);
}

void inst_set_msr(struct emu_inst *in, uint32_t rid, uint64_t v)
{
	msr_io(in, rid, v, true);
	if (rid == MSR_STAR || rid == MSR_LSTAR || rid == MSR_SFMASK)
		in->sysc.msr_ok = false;
}

/* EFER as the CPU holds it (SVME hidden). Cached: only VMRUN loads and the
 * model's own WRMSR emulation change it. */
uint64_t m_efer(struct emu_inst *in)
{
	return in->efer;
}

/* The instruction at RIP completed (emulated by the model). */
void inst_retire(struct emu_inst *in, uint64_t len)
{
	inst_retire_at(in, rreg(in->uc, UC_X86_REG_RIP), len);
}

/* inst_retire for a caller that already read RIP (`rip`). */
void inst_retire_at(struct emu_inst *in, uint64_t rip, uint64_t len)
{
	wreg(in->uc, UC_X86_REG_RIP, rip + len);
	if (in->m->cfg.count_insns)
		in->m->insns++;
}

/* ---- instances ------------------------------------------------------ */

static void vmcb_init(struct emu_machine *m, struct emu_inst *in)
{
	uint8_t *c = m_ptr(m, in->vmcb_pa, 0x1000);
	uint64_t icpt = ICPT(SVM_EXIT_RDTSC) | ICPT(SVM_EXIT_CPUID) | ICPT(SVM_EXIT_SWINT) |
			ICPT(SVM_EXIT_INVD) | ICPT(SVM_EXIT_PAUSE) | ICPT(SVM_EXIT_HLT) |
			ICPT(SVM_EXIT_IOIO) | ICPT(SVM_EXIT_MSR) | ICPT(SVM_EXIT_VMMCALL) |
			ICPT(SVM_EXIT_RDTSCP) | ICPT(SVM_EXIT_WBINVD) | ICPT(SVM_EXIT_MONITOR) |
			ICPT(SVM_EXIT_MWAIT);

	memset(c, 0, 0x400);
	/* DR7 reads and writes are NAE events (#VC 0x27 / 0x37) for an SNP
	 * guest without DebugSwap (GHCB spec 56421, NAE events). */
	c[0x04] = 0x80;
	c[0x06] = 0x80;
	memcpy(c + 0x0C, &icpt, 8);
	st64(c + 0x40, m->priv_base + PRIV_IOPM);
	st64(c + 0x48, m->priv_base + PRIV_MSRPM);
	c[0x5C] = 1; /* flush this CPU's TLB on the load */
}

struct emu_inst *inst_get(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl)
{
	struct emu_inst *in = v->inst[vmpl];
	uc_hook h;
	uc_err e;

	if (in)
		return in;
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->m = m;
	in->vcpu = v;
	in->vmpl = vmpl;
	in->idx = v->id * EMU_NR_VMPLS + vmpl;
	in->vmcb_pa = m->priv_base + PRIV_VMCB + (uint64_t)in->idx * 0x1000;
	save_batch_init(in);
	e = uc_open(UC_ARCH_X86, UC_MODE_64, &in->uc);
	if (e != UC_ERR_OK) {
		free(in);
		return NULL;
	}
	/* An AMD CPU model (EPYC): SMEP, SMAP, STAC/CLAC, RDTSCP and MONITOR/MWAIT
	 * exist, as on the hardware SNP runs on (Unicorn's default qemu64 lacks them). */
	uc_ctl_set_cpu_model(in->uc, UC_CPU_X86_EPYC);
	uc_ctl_set_tcg_buffer_size(in->uc, 128 * MiB);
	uc_ctl_tlb_mode(in->uc, UC_TLB_VIRTUAL);
	uc_ctl_exits_enable(in->uc); /* no "until" address: no retranslation */
	uc_mem_map_ptr(in->uc, 0, m->mem_size + m->priv_size, UC_PROT_ALL, m->mem);
	uc_hook_add(in->uc, &h, UC_HOOK_TLB_FILL, (void *)uc_tlb_hook, in, 1, 0);
	uc_hook_add(in->uc, &h, UC_HOOK_INTR, (void *)hook_intr, in, 1, 0);
	uc_hook_add(in->uc, &h, UC_HOOK_INSN_INVALID, (void *)hook_invalid, in, 1, 0);
	uc_hook_add(in->uc, &h, UC_HOOK_INSN, (void *)hook_syscall, in, 1, 0, UC_X86_INS_SYSCALL);
	uc_hook_add(in->uc, &h, UC_HOOK_EDGE_GENERATED, (void *)hook_edge, in, 1, 0);
	slice_inst_init(in);
	/* Unicorn calls every code hook's helper on every instruction once one
	 * covers it: counting alone takes one hook that also serves the stub
	 * page, in the same order as the separate hooks below. */
	if (m->cfg.count_insns && !m->trace && !m->dbg) {
		uc_hook_add(in->uc, &h, UC_HOOK_CODE, (void *)hook_code_stub, in, 1, 0);
	} else {
		if (m->cfg.count_insns)
			uc_hook_add(in->uc, &h, UC_HOOK_CODE, (void *)hook_code, in, 1, 0);
		if (m->trace) /* after hook_code: the instruction count is final when it runs */
			trace_inst_init(in);
		if (m->dbg)
			dbg_inst_init(in);
		/* Last: the hooks above skip the landing (in_switch) before this one clears it. */
		uc_hook_add(in->uc, &h, UC_HOOK_CODE, (void *)hook_stub_page, in,
			    m->priv_base + PRIV_STUB, m->priv_base + PRIV_STUB + 0xFFF);
	}
	inst_set_msr(in, MSR_VM_HSAVE, m->priv_base + PRIV_HSAVE);
	vmcb_init(m, in);
	in->rmp_gen = m->rmp_gen;
	v->inst[vmpl] = in;
	return in;
}

void inst_free(struct emu_inst *in)
{
	if (!in)
		return;
	uc_close(in->uc);
	free(in);
}

/*
 * Unicorn 2.1 bug: writing CR2 runs the CR3 update with the CR2 value. Write
 * CR2 only when it changes, and put CR3 back after it.
 */
void inst_set_cr2(struct emu_inst *in, uint64_t cr2)
{
	uint64_t cr3 = rreg(in->uc, UC_X86_REG_CR3);

	if (rreg(in->uc, UC_X86_REG_CR2) == cr2)
		return;
	wreg(in->uc, UC_X86_REG_CR2, cr2);
	wreg(in->uc, UC_X86_REG_CR3, cr3);
}

/* Registers moved on every switch (the "light" state). */
static const int gpr_ids[] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX,	   UC_X86_REG_RBX, UC_X86_REG_RSP,
	UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,	   UC_X86_REG_R8,  UC_X86_REG_R9,
	UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12,	   UC_X86_REG_R13, UC_X86_REG_R14,
	UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_RFLAGS,
};
static const uint16_t gpr_off[] = {
	VMSA_RAX,     VMSA_RCX,	    VMSA_RDX,	  VMSA_RBX,	VMSA_RSP,     VMSA_RBP,
	VMSA_RSI,     VMSA_RDI,	    VMSA_R8,	  VMSA_R8 + 8,	VMSA_R8 + 16, VMSA_R8 + 24,
	VMSA_R8 + 32, VMSA_R8 + 40, VMSA_R8 + 48, VMSA_R8 + 56, VMSA_RIP,     VMSA_RFLAGS,
};
#define NR_GPR (sizeof(gpr_ids) / sizeof(gpr_ids[0]))

/*
 * Write the light state into the CPU. A switched-out instance still holds
 * what was last saved (the shadow), so only fields someone changed in the
 * VMSA since then need writing, unless a full load just ran (`all`).
 */
static void light_load(struct emu_inst *in, const uint8_t *vmsa, bool all)
{
	uint64_t vals[NR_GPR];
	void *ptrs[NR_GPR];
	int ids[NR_GPR];
	uint8_t xmm[16][16];
	unsigned i, n = 0;

	for (i = 0; i < NR_GPR; i++) {
		if (!all && !memcmp(vmsa + gpr_off[i], in->shadow + gpr_off[i], 8))
			continue;
		ids[n] = gpr_ids[i];
		vals[n] = ld64(vmsa + gpr_off[i]);
		ptrs[n] = &vals[n];
		n++;
	}
	if (n)
		uc_reg_write_batch(in->uc, ids, (void *const *)ptrs, n);
	if (all || ld64(vmsa + VMSA_CR2) != ld64(in->shadow + VMSA_CR2))
		inst_set_cr2(in, ld64(vmsa + VMSA_CR2));
	if (all || memcmp(vmsa + VMSA_XMM, in->shadow + VMSA_XMM, sizeof(xmm))) {
		memcpy(xmm, vmsa + VMSA_XMM, sizeof(xmm));
		for (i = 0; i < 16; i++)
			uc_reg_write(in->uc, UC_X86_REG_XMM0 + i, xmm[i]);
	}
}

/*
 * Hidden segment state cannot be read back through Unicorn. A segment whose
 * selector is unchanged keeps what was last loaded (the shadow); a changed
 * selector (IRET, SYSRET, MOV Sreg) gets the descriptor the CPU loaded from
 * the GDT, or flat attributes for a NULL or unreadable one (FIDELITY.md).
 */
static void seg_save(struct emu_inst *in, uint16_t sel, unsigned off, uint8_t *vmsa, bool code)
{
	uint16_t osel, attr;
	uint32_t limit = 0xFFFFFFFF;
	uc_x86_mmr gdtr;
	uint8_t desc[8];
	struct emu_stop st;

	memcpy(&osel, in->shadow + off, 2);
	memcpy(vmsa + off, in->shadow + off, 16);
	if (sel == osel && in->loaded)
		return;
	attr = (code ? 0x29B : 0xC93) | (sel & 3) << 5;
	uc_reg_read(in->uc, UC_X86_REG_GDTR, &gdtr);
	if ((sel & ~3) && (sel | 7) <= gdtr.limit &&
	    !guest_copy(in, gdtr.base + (sel & ~7), desc, 8, false, &st)) {
		attr = desc[5] | ((desc[6] & 0xF0) << 4);
		limit = desc[0] | desc[1] << 8 | (desc[6] & 0xF) << 16;
		if (desc[6] & 0x80)
			limit = limit << 12 | 0xFFF;
	}
	memcpy(vmsa + off, &sel, 2);
	memcpy(vmsa + off + 2, &attr, 2);
	memcpy(vmsa + off + 4, &limit, 4);
	st64(vmsa + off + 8, 0);
}

static void sys_seg_save(const uc_x86_mmr *mmr, uint8_t *p)
{
	uint16_t attr = ((mmr->flags >> 8) & 0xFF) | ((mmr->flags >> 12) & 0xF00);

	memcpy(p, &mmr->selector, 2);
	memcpy(p + 2, &attr, 2);
	memcpy(p + 4, &mmr->limit, 4);
	st64(p + 8, mmr->base);
}

/* Everything a save reads, in one batch: the API's per-call cost dominates.
 * The GPRs in gpr_ids order, then the system registers, the MMRs, XMM0-15. */
enum {
	NR_SYS = 12,
	NR_MMR = 4,
	NR_SAVE = NR_GPR + NR_SYS + NR_MMR + 16
};
static int save_ids[NR_SAVE] /* not const: Unicorn 2.1 takes int * */ = {
	UC_X86_REG_RAX,	  UC_X86_REG_RCX,    UC_X86_REG_RDX,	 UC_X86_REG_RBX,
	UC_X86_REG_RSP,	  UC_X86_REG_RBP,    UC_X86_REG_RSI,	 UC_X86_REG_RDI,
	UC_X86_REG_R8,	  UC_X86_REG_R9,     UC_X86_REG_R10,	 UC_X86_REG_R11,
	UC_X86_REG_R12,	  UC_X86_REG_R13,    UC_X86_REG_R14,	 UC_X86_REG_R15,
	UC_X86_REG_RIP,	  UC_X86_REG_RFLAGS, UC_X86_REG_CR2,	 UC_X86_REG_CR0,
	UC_X86_REG_CR3,	  UC_X86_REG_CR4,    UC_X86_REG_FS_BASE, UC_X86_REG_GS_BASE,
	UC_X86_REG_ES,	  UC_X86_REG_CS,     UC_X86_REG_SS,	 UC_X86_REG_DS,
	UC_X86_REG_FS,	  UC_X86_REG_GS,     UC_X86_REG_TR,	 UC_X86_REG_LDTR,
	UC_X86_REG_GDTR,  UC_X86_REG_IDTR,   UC_X86_REG_XMM0,	 UC_X86_REG_XMM1,
	UC_X86_REG_XMM2,  UC_X86_REG_XMM3,   UC_X86_REG_XMM4,	 UC_X86_REG_XMM5,
	UC_X86_REG_XMM6,  UC_X86_REG_XMM7,   UC_X86_REG_XMM8,	 UC_X86_REG_XMM9,
	UC_X86_REG_XMM10, UC_X86_REG_XMM11,  UC_X86_REG_XMM12,	 UC_X86_REG_XMM13,
	UC_X86_REG_XMM14, UC_X86_REG_XMM15,
};
_Static_assert(sizeof(((struct emu_inst *)0)->save.v) / 8 == NR_GPR + NR_SYS &&
		       sizeof(((struct emu_inst *)0)->save.ptrs) / sizeof(void *) == NR_SAVE,
	       "inst_save's batch and struct emu_inst.save disagree");

/* The batch's pointers into the instance's own buffer, set once: building
 * them on every save cost as much as a few register reads. */
static void save_batch_init(struct emu_inst *in)
{
	unsigned i, n = 0;

	for (i = 0; i < NR_GPR + NR_SYS; i++)
		in->save.ptrs[n++] = &in->save.v[i];
	for (i = 0; i < NR_MMR; i++)
		in->save.ptrs[n++] = &in->save.mmr[i];
	for (i = 0; i < 16; i++)
		in->save.ptrs[n++] = in->save.xmm[i];
}

/* Copy the instance's state into a VMSA page. */
void inst_save(struct emu_inst *in, uint8_t *vmsa)
{
	const uint64_t *v = in->save.v, *sys = v + NR_GPR;
	const uc_x86_mmr *mmr = in->save.mmr;
	unsigned i;

	uc_reg_read_batch(in->uc, save_ids, in->save.ptrs, NR_SAVE);
	for (i = 0; i < NR_GPR; i++)
		st64(vmsa + gpr_off[i], v[i]);
	memcpy(vmsa + VMSA_XMM, in->save.xmm, sizeof(in->save.xmm));
	st64(vmsa + VMSA_CR2, sys[0]);
	st64(vmsa + VMSA_CR0, sys[1]);
	st64(vmsa + VMSA_CR3, sys[2]);
	st64(vmsa + VMSA_CR4, sys[3]);
	seg_save(in, (uint16_t)sys[6], VMSA_ES, vmsa, false);
	seg_save(in, (uint16_t)sys[7], VMSA_CS, vmsa, true);
	seg_save(in, (uint16_t)sys[8], VMSA_SS, vmsa, false);
	seg_save(in, (uint16_t)sys[9], VMSA_DS, vmsa, false);
	seg_save(in, (uint16_t)sys[10], VMSA_FS, vmsa, false);
	seg_save(in, (uint16_t)sys[11], VMSA_GS, vmsa, false);
	st64(vmsa + VMSA_FS + 8, sys[4]);
	st64(vmsa + VMSA_GS + 8, sys[5]);
	sys_seg_save(&mmr[0], vmsa + VMSA_TR);
	sys_seg_save(&mmr[1], vmsa + VMSA_LDTR);
	st64(vmsa + VMSA_GDTR + 8, mmr[2].base);
	memcpy(vmsa + VMSA_GDTR + 4, &mmr[2].limit, 4);
	st64(vmsa + VMSA_IDTR + 8, mmr[3].base);
	memcpy(vmsa + VMSA_IDTR + 4, &mmr[3].limit, 4);
	vmsa[VMSA_CPL] = sys[7] & 3; /* CPL = CS.RPL in long mode */
	st64(vmsa + VMSA_EFER, m_efer(in) | EFER_SVME);
	if (in->msrs_dirty || !in->loaded) {
		st64(vmsa + VMSA_STAR, inst_get_msr(in, MSR_STAR));
		st64(vmsa + VMSA_LSTAR, inst_get_msr(in, MSR_LSTAR));
		st64(vmsa + VMSA_CSTAR, inst_get_msr(in, MSR_CSTAR));
		st64(vmsa + VMSA_SFMASK, inst_get_msr(in, MSR_SFMASK));
		in->msrs_dirty = false;
	} else { /* writes are intercepted: unchanged since the last sync */
		memcpy(vmsa + VMSA_STAR, in->shadow + VMSA_STAR, 0x20);
	}
	/* SWAPGS exchanges GS.base and KernelGSbase without a WRMSR: always read. */
	st64(vmsa + VMSA_KGSBASE, inst_get_msr(in, MSR_KGSBASE));
	memcpy(in->shadow, vmsa, sizeof(in->shadow));
}

/* Fields whose change needs a full (VMRUN) load; all others are "light". */
static bool heavy_equal(const uint8_t *a, const uint8_t *b)
{
	return !memcmp(a, b, 0xA0) && a[VMSA_CPL] == b[VMSA_CPL] &&
	       !memcmp(a + VMSA_EFER, b + VMSA_EFER, 8) &&
	       !memcmp(a + VMSA_CR4, b + VMSA_CR4, 0x28) &&
	       !memcmp(a + VMSA_STAR, b + VMSA_STAR, 0x40);
}

/* Full load: VMLOAD + VMRUN from the private stub (see file comment). */
static int inst_full_load(struct emu_inst *in, const uint8_t *vmsa)
{
	struct emu_machine *m = in->m;
	uc_engine *uc = in->uc;
	uint8_t *vmcb = m_ptr(m, in->vmcb_pa, 0x1000);
	uint8_t *save = vmcb + 0x400;
	uint64_t stub = m->priv_base + PRIV_STUB, efer, rcx, r11, insns = m->insns;
	unsigned cpl = vmsa[VMSA_CPL] & 3;
	bool real = !(ld64(vmsa + VMSA_CR0) & 1); /* CR0.PE */
	uint16_t attr;
	uc_err err;

	if (!vmcb)
		return -1;
	memcpy(save, vmsa, 0x300);
	memcpy(&attr, save + VMSA_SS + 2, 2);
	attr = (attr & ~0x60) | (cpl << 5); /* CPL comes from SS.DPL in the CPU model */
	memcpy(save + VMSA_SS + 2, &attr, 2);
	efer = ld64(vmsa + VMSA_EFER) & ~EFER_SVME; /* guests must not run SVM insns */
	st64(save + VMSA_EFER, efer);
	/* A real-mode VMSA (an AP's INIT state: Linux's AP creation) fetches
	 * from CS.base + RIP: the load keeps CS as VMRUN loads it (Unicorn's
	 * register interface cannot set a segment base) and reaches the stub's
	 * end with RIP relative to that base. */
	in->stub_end = stub + 0x20 - (real ? ld64(vmsa + VMSA_CS + 8) : 0);
	st64(save + VMSA_RIP, in->stub_end);
	save[VMSA_CPL] = cpl;
	vmcb[0x5C] = 1;

	rcx = ld64(vmsa + VMSA_RCX);
	r11 = ld64(vmsa + VMSA_R8 + 24);
	in->in_switch = true;
	in->stop.kind = STOP_NONE;
	inst_set_msr(in, MSR_EFER, inst_get_msr(in, MSR_EFER) | EFER_SVME);
	/* VMRUN loads CR0 before CR4: PAE must already be on to enable paging. */
	wreg(uc, UC_X86_REG_CR4, rreg(uc, UC_X86_REG_CR4) | 0x20);
	wreg(uc, UC_X86_REG_RAX, in->vmcb_pa);
	if ((rreg(uc, UC_X86_REG_CS) & 3) != 0) {
		uc_x86_mmr gdt = { .base = stub + STUB_GDT, .limit = 0x27 };
		uc_x86_mmr tss = { .base = stub + STUB_TSS, .limit = 0x67, .flags = 0x8B00 };

		uc_reg_write(uc, UC_X86_REG_GDTR, &gdt);
		uc_reg_write(uc, UC_X86_REG_TR, &tss);
		err = uc_emu_start(uc, stub, 0, 0, 0);
	} else {
		err = uc_emu_start(uc, stub + 0x10, 0, 0, 0);
	}
	in->in_switch = false;
	m->insns = insns;
	if (in->stop.kind != STOP_SWITCH_DONE) {
		snprintf(m->exit.message, sizeof(m->exit.message),
			 "VMSA load failed (uc %d, stop %d, rip %#llx)", err, in->stop.kind,
			 (unsigned long long)rreg(uc, UC_X86_REG_RIP));
		return -1;
	}
	in->efer = inst_get_msr(in, MSR_EFER);
	in->sysc.msr_ok = false; /* VMRUN loaded the syscall MSRs */
	uc_ctl_flush_tlb(uc);	 /* drop the stub page */
	in->rmp_gen = m->rmp_gen;
	wreg(uc, UC_X86_REG_RCX, rcx);
	wreg(uc, UC_X86_REG_R11, r11);
	/* Order matters for QEMU's checks: CR4 (PAE), CR3, then CR0 (PG). */
	if (rreg(uc, UC_X86_REG_CR4) != ld64(vmsa + VMSA_CR4))
		wreg(uc, UC_X86_REG_CR4, ld64(vmsa + VMSA_CR4));
	if (rreg(uc, UC_X86_REG_CR3) != ld64(vmsa + VMSA_CR3))
		wreg(uc, UC_X86_REG_CR3, ld64(vmsa + VMSA_CR3));
	if (rreg(uc, UC_X86_REG_CR0) != ld64(vmsa + VMSA_CR0))
		wreg(uc, UC_X86_REG_CR0, ld64(vmsa + VMSA_CR0));
	return 0;
}

/* Make the instance's CPU hold the state in `vmsa`. */
int inst_load(struct emu_inst *in, const uint8_t *vmsa)
{
	bool full;

	if (in->lazy && !inst_load_lazy(in, vmsa))
		return 0; /* its CPU still holds the state */
	full = !in->loaded || !heavy_equal(vmsa, in->shadow);
	if (full) {
		if (inst_full_load(in, vmsa))
			return -1;
		in->loaded = true;
	}
	light_load(in, vmsa, full);
	memcpy(in->shadow, vmsa, sizeof(in->shadow));
	return 0;
}
