/* SPDX-License-Identifier: MIT */
/*
 * snp.c - the SNP instructions a guest executes (RMPADJUST, PVALIDATE) and
 * the switch between a vCPU's VMSAs (Run VMPL) (reference sections 2, 3 and
 * 5.2). The hypervisor model behind VMGEXIT is hv.c and ghcb.c.
 */
#include <string.h>

#include <veil/abi.h>

#include "hv.h"
#include "machine.h"

#define RFLAGS_CF 1ULL

/* ---- RMPADJUST / PVALIDATE ------------------------------------------- */

static void npf_exit(struct emu_inst *in, uint64_t info1, uint64_t gpa)
{
	in->stop.exitinfo1 = info1;
	in->stop.exitinfo2 = gpa;
	hv_npf(in);
}

/* Translate the operand VA as the instruction's implicit read. */
/* Translate the operand VA through the guest's page tables (whose pages are
 * RMP-checked as any walk); the target page's own RMP state is the
 * instruction's business. Faults of the walk are delivered. */
static bool insn_gpa(struct emu_inst *in, uint64_t va, uint64_t *gpa)
{
	struct emu_walk w;

	walk_translate(in, va, 0, rreg(in->uc, UC_X86_REG_CS) & 3, false, &w);
	switch (w.res) {
	case WALK_OK:
		*gpa = w.pa;
		return true;
	case WALK_PF:
		x86_deliver(in, EMU_VEC_PF, true, w.error_code, va, false, 0);
		return false;
	case WALK_VC:
		inst_set_cr2(in, va);
		x86_deliver(in, EMU_VEC_VC, true, SVM_EXIT_NOT_VALIDATED, va, false, 0);
		return false;
	default:
		npf_exit(in, w.exitinfo1, w.exitinfo2);
		return false;
	}
}

static void set_rax_code(struct emu_inst *in, uint64_t code, int cf)
{
	uint64_t fl = rreg(in->uc, UC_X86_REG_RFLAGS);

	wreg(in->uc, UC_X86_REG_RAX, code);
	if (cf >= 0)
		wreg(in->uc, UC_X86_REG_RFLAGS, cf ? fl | RFLAGS_CF : fl & ~RFLAGS_CF);
}

/* A 2 MiB RMP entry: all 512 entries of the aligned range are 2 MiB and in
 * the same state (the model keeps a 2 MiB entry as 512 copies). */
static bool rmp_2m_whole(const struct emu_machine *m, uint64_t gfn)
{
	const struct emu_rmp_entry *head = &m->rmp[gfn & ~511ULL];

	for (unsigned i = 0; i < 512; i++) {
		const struct emu_rmp_entry *e = head + i;

		if (!e->page_size || e->assigned != head->assigned ||
		    e->validated != head->validated || e->immutable != head->immutable ||
		    memcmp(e->perms, head->perms, sizeof(e->perms)))
			return false;
	}
	return true;
}

/* The RMP entry an RMPADJUST or PVALIDATE of `size` at gpa acts on: it must
 * belong to the guest (else #NPF) and match in page size (4K on a 2M entry:
 * #NPF with SIZEM; 2M on anything but a whole 2M entry: FAIL_SIZEMISMATCH). */
static int rmp_target(struct emu_machine *m, uint64_t gpa, uint64_t size,
		      struct emu_rmp_entry **out, uint64_t *npf)
{
	struct emu_rmp_entry *e;

	if (gpa >= m->mem_size || !m->rmp[gpa >> 12].assigned || m->rmp[gpa >> 12].immutable) {
		*npf = EMU_NPF_P | EMU_NPF_RMP | EMU_NPF_ENC | EMU_NPF_W;
		return -1;
	}
	e = &m->rmp[gpa >> 12];
	if (size == 0 && e->page_size) {
		*npf = EMU_NPF_P | EMU_NPF_RMP | EMU_NPF_ENC | EMU_NPF_SIZEM;
		return -1;
	}
	if (size == 1 && !rmp_2m_whole(m, gpa >> 12))
		return RMP_FAIL_SIZEMISMATCH;
	*out = e;
	return RMP_SUCCESS;
}

/* ---- VMSA in-use state ------------------------------------------------- */

/*
 * VMRUN marks a VMSA page in use until #VMEXIT (APM vol 2, 15.36.12); while
 * in use, RMPUPDATE on it fails with FAIL_INUSE and it cannot be run by a
 * second vCPU. In the model a VMSA is in use while a runnable vCPU is at its
 * VMPL; `except` (a vCPU in a VMGEXIT, hence exited) is not counted.
 */
bool vmsa_in_use(const struct emu_machine *m, uint64_t gpa, const struct emu_vcpu *except)
{
	for (unsigned i = 0; i < m->cfg.nr_vcpus; i++) {
		const struct emu_vcpu *v = &m->vcpus[i];

		if (v != except && v->state == VCPU_RUNNABLE &&
		    v->vmsa_gpa[v->vmpl] == (gpa & ~0xFFFULL) && !(m->native0 && v->vmpl == 0))
			return true;
	}
	return false;
}

bool range_has_vmsa_in_use(const struct emu_machine *m, uint64_t gfn, uint64_t n,
			   const struct emu_vcpu *except)
{
	for (uint64_t i = 0; i < n; i++)
		if (m->rmp[gfn + i].vmsa && vmsa_in_use(m, (gfn + i) << 12, except))
			return true;
	return false;
}

/*
 * RMPADJUST on a GPA by code running at `vmpl`: the architectural code, or
 * -1 for an #NPF with *npf = EXITINFO1 (reference 2).
 */
int snp_rmpadjust(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size, uint64_t rdx,
		  uint64_t *npf)
{
	unsigned target = rdx & 0xFF, perms = (rdx >> 8) & 0xFF, vmsa = (rdx >> 16) & 1;
	struct emu_rmp_entry *e;
	bool reduced = false;
	uint64_t n, i;
	int rc;

	if (TRACE_ON(m))
		return trace_call_rmpadjust(m, vmpl, gpa, size, rdx, npf);

	if (size > 1 || (rdx >> 17) || target > 3 || (perms & 0xE0) ||
	    (size == 1 && (gpa & 0x1FFFFF)))
		return RMP_FAIL_INPUT;
	if (target <= vmpl)
		return RMP_FAIL_PERMISSION;
	rc = rmp_target(m, gpa, size, &e, npf);
	if (rc)
		return rc;
	if (!e->validated) /* [UNSURE] model choice, FIDELITY.md */
		return RMP_FAIL_INPUT;
	if (vmpl && (perms & ~e->perms[vmpl] & 0x1F))
		return RMP_FAIL_PERMISSION;
	/* A VMSA that is running cannot stop being one ([UNSURE], FIDELITY.md). */
	if (vmpl == 0 && e->vmsa && !vmsa && vmsa_in_use(m, gpa, NULL))
		return RMP_FAIL_INUSE;
	n = size ? 512 : 1;
	for (i = 0; i < n; i++) {
		e = &m->rmp[(gpa >> 12) + i];
		reduced |= (e->perms[target] & ~perms) || (vmpl == 0 && e->vmsa != vmsa);
		e->perms[target] = perms;
		if (vmpl == 0) /* VMPL>0: VMSA input ignored ([MSdoc]) */
			e->vmsa = vmsa;
	}
	/* Only a reduction can leave a stale translation (a TLB holds only what
	 * passed the RMP check); the image's boot adjusts every page several
	 * times, mostly to the mask it has. */
	if (reduced)
		machine_rmp_changed(m);
	return RMP_SUCCESS;
}

/* PVALIDATE on a GPA at `vmpl`: code, *cf, or -1 for an #NPF (reference 3.1). */
int snp_pvalidate(struct emu_machine *m, unsigned vmpl, uint64_t gpa, uint64_t size, uint64_t rdx,
		  bool *cf, uint64_t *npf)
{
	struct emu_rmp_entry *e;
	uint64_t n, i;
	int rc;

	if (TRACE_ON(m))
		return trace_call_pvalidate(m, vmpl, gpa, size, rdx, cf, npf);
	*cf = false;
	if (vmpl) /* only VMPL0 may validate; [UNSURE] result code */
		return RMP_FAIL_PERMISSION;
	if (size > 1 || rdx > 1 || (gpa & (size ? 0x1FFFFF : 0xFFF)))
		return RMP_FAIL_INPUT;
	rc = rmp_target(m, gpa, size, &e, npf);
	if (rc)
		return rc;
	if (e->validated == rdx) {
		*cf = true; /* unchanged */
		return RMP_SUCCESS;
	}
	n = size ? 512 : 1;
	for (i = 0; i < n; i++)
		m->rmp[(gpa >> 12) + i].validated = rdx;
	/* Validating only adds access: the TLBs hold only translations that
	 * passed the RMP check, so none is stale. (Image mode validates all OS
	 * memory one PVALIDATE at a time: no flush of every TLB per page.) */
	if (!rdx)
		machine_rmp_changed(m);
	return RMP_SUCCESS;
}

/* The guest instructions: operands from registers, the address through the
 * guest's page tables (a #PF there is delivered first). */
static void do_rmp_insn(struct emu_inst *in, bool adjust)
{
	uc_engine *uc = in->uc;
	uint64_t va = rreg(uc, UC_X86_REG_RAX), size = rreg(uc, UC_X86_REG_RCX);
	uint64_t rdx = rreg(uc, UC_X86_REG_RDX), gpa = 0, npf = 0;
	bool cf = false;
	int rc;

	if (!adjust && in->vmpl)
		rc = RMP_FAIL_PERMISSION;
	else if (size > 1 || (size == 1 && (va & 0x1FFFFF)) || (!adjust && (va & 0xFFF)))
		rc = RMP_FAIL_INPUT;
	else if (!insn_gpa(in, va, &gpa))
		return;
	else
		rc = adjust ? snp_rmpadjust(in->m, in->vmpl, gpa, size, rdx, &npf) :
			      snp_pvalidate(in->m, in->vmpl, gpa, size, rdx, &cf, &npf);
	if (rc < 0) {
		npf_exit(in, npf, gpa);
		return;
	}
	set_rax_code(in, rc, adjust ? -1 : cf);
	inst_retire(in, 4);
}

static bool snp_emulate_op(struct emu_inst *in, uint64_t rip, const uint8_t *op);

/* Returns false if the invalid opcode is not an SNP instruction the guest may use. */
bool snp_emulate_insn(struct emu_inst *in, uint64_t rip)
{
	uint8_t op[5];
	struct emu_stop st;

	/* One fetch for all the decoders (5 bytes: the longest RDRAND form). */
	if (guest_insn(in, rip, op, 5, &st))
		return guest_insn(in, rip, op, 4, &st) ? false : snp_emulate_op(in, rip, op);
	return x86_emulate_rdrand(in, op) || snp_emulate_op(in, rip, op);
}

/* The SNP and SVM opcodes, whose first 4 bytes are `op`. */
static bool snp_emulate_op(struct emu_inst *in, uint64_t rip, const uint8_t *op)
{
	if (op[0] == 0x0F && op[1] == 0x01 && op[2] == 0xD9) { /* VMMCALL: NAE */
		x86_deliver(in, EMU_VEC_VC, true, SVM_EXIT_VMMCALL, 0, false, 0);
		return true;
	}
	if (op[0] == 0x0F && op[1] == 0x01 && (op[2] == 0xFE || op[2] == 0xFF)) {
		/* INVLPGB, TLBSYNC (APM vol. 3): CPL0 only; flush every vCPU's
		 * translations (a superset of any INVLPGB), and TLBSYNC has
		 * nothing left to wait for. */
		if (rreg(in->uc, UC_X86_REG_CS) & 3) {
			x86_deliver(in, EMU_VEC_GP, true, 0, 0, false, 0);
			return true;
		}
		if (op[2] == 0xFE)
			machine_rmp_changed(in->m);
		inst_retire(in, 3);
		return true;
	}
	if (op[1] != 0x0F || op[2] != 0x01)
		return false;
	if (op[0] == 0xF3 && op[3] == 0xD9) { /* VMGEXIT: trap-like */
		inst_retire_at(in, rip, 4);
		hv_vmgexit(in->m, in->vcpu, in->vmpl);
		return true;
	}
	if ((op[0] == 0xF3 && op[3] == 0xFE) || (op[0] == 0xF2 && op[3] == 0xFF)) {
		if (rreg(in->uc, UC_X86_REG_CS) & 3) {
			x86_deliver(in, EMU_VEC_GP, true, 0, 0, false, 0);
			return true;
		}
		do_rmp_insn(in, op[0] == 0xF3);
		return true;
	}
	return false; /* RMPUPDATE, PSMASH, RMPREAD and the rest: #UD */
}

/* ---- vCPU switching --------------------------------------------------- */

static void save_exit(struct emu_inst *cur, uint8_t *from, uint64_t exit_code)
{
	inst_save(cur, from);
	st64(from + VMSA_EXIT_CODE, exit_code);
	if (exit_code == SVM_EXIT_NPF) {
		st64(from + VMSA_EXITINFO1, cur->stop.exitinfo1);
		st64(from + VMSA_EXITINFO2, cur->stop.exitinfo2);
	}
}

/* Save the running VMSA of `v`, then load and run `vmpl` (Run VMPL). */
int vcpu_switch(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, uint64_t exit_code)
{
	struct emu_inst *cur = v->inst[v->vmpl], *next;
	uint8_t *from = vmsa_ptr(m, v, v->vmpl);
	/* A deferred save of the target is settled by its load (inst_load). */
	uint8_t *to = v->vmsa_gpa[vmpl] ? m_ptr(m, v->vmsa_gpa[vmpl], 0x1000) : NULL;

	if (TRACE_ON(m))
		return trace_call_switch(m, v, vmpl, exit_code);
	m->switches++;
	if (vmpl == 0 && m->native0) { /* the monitor is native code */
		if (cur && from)
			save_exit(cur, from, exit_code);
		v->vmpl = 0;
		return 0;
	}
	if (!to || !(ld64(to + VMSA_EFER) & EFER_SVME) || to[VMSA_VMPL] != vmpl)
		return -1; /* VMRUN would fail with VMEXIT_INVALID */
	if (v->vmsa_gpa[vmpl] < m->mem_size && !m->rmp[v->vmsa_gpa[vmpl] >> 12].vmsa)
		return -1;
	if (cur && from && !(v->vmpl == 0 && m->native0) &&
	    (exit_code == SVM_EXIT_NPF || !inst_defer_save(cur, from, exit_code)))
		save_exit(cur, from, exit_code);
	next = inst_get(m, v, vmpl);
	if (!next || inst_load(next, to))
		return -1;
	v->vmpl = vmpl;
	return 0;
}
