/* SPDX-License-Identifier: MIT */
/*
 * snp.c - the SNP instructions a guest executes (RMPADJUST, PVALIDATE) and the
 * hypervisor model behind VMGEXIT: the GHCB MSR protocol and GHCB events
 * (reference sections 2, 3, 5.2 and 6).
 */
#include <string.h>

#include <veil/abi.h>

#include "amdsp.h"
#include "machine.h"

#define RFLAGS_CF 1ULL

/* ---- RMPADJUST / PVALIDATE ------------------------------------------- */

static void npf_exit(struct inst *in, uint64_t info1, uint64_t gpa)
{
	in->stop.exitinfo1 = info1;
	in->stop.exitinfo2 = gpa;
	hv_npf(in);
}

/* Translate the operand VA as the instruction's implicit read. */
/* Translate the operand VA through the guest's page tables (whose pages are
 * RMP-checked as any walk); the target page's own RMP state is the
 * instruction's business. Faults of the walk are delivered. */
static bool insn_gpa(struct inst *in, uint64_t va, uint64_t *gpa)
{
	struct walk w;

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

static void set_rax_code(struct inst *in, uint64_t code, int cf)
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
static bool vmsa_in_use(const struct emu_machine *m, uint64_t gpa, const struct vcpu *except)
{
	for (unsigned i = 0; i < m->cfg.nr_vcpus; i++) {
		const struct vcpu *v = &m->vcpus[i];

		if (v != except && v->state == VCPU_RUNNABLE &&
		    v->vmsa_gpa[v->vmpl] == (gpa & ~0xFFFULL) && !(m->native0 && v->vmpl == 0))
			return true;
	}
	return false;
}

static bool range_has_vmsa_in_use(const struct emu_machine *m, uint64_t gfn, uint64_t n,
				  const struct vcpu *except)
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
static void do_rmp_insn(struct inst *in, bool adjust)
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

static bool snp_emulate_op(struct inst *in, const uint8_t *op);

/* Returns false if the invalid opcode is not an SNP instruction the guest may use. */
bool snp_emulate_insn(struct inst *in, uint64_t rip)
{
	uint8_t op[5];
	struct stop st;

	/* One fetch for all the decoders (5 bytes: the longest RDRAND form). */
	if (guest_insn(in, rip, op, 5, &st))
		return guest_insn(in, rip, op, 4, &st) ? false : snp_emulate_op(in, op);
	return x86_emulate_rdrand(in, op) || snp_emulate_op(in, op);
}

/* The SNP and SVM opcodes, whose first 4 bytes are `op`. */
static bool snp_emulate_op(struct inst *in, const uint8_t *op)
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
		inst_retire(in, 4);
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

static void save_exit(struct inst *cur, uint8_t *from, uint64_t exit_code)
{
	inst_save(cur, from);
	st64(from + VMSA_EXIT_CODE, exit_code);
	if (exit_code == SVM_EXIT_NPF) {
		st64(from + VMSA_EXITINFO1, cur->stop.exitinfo1);
		st64(from + VMSA_EXITINFO2, cur->stop.exitinfo2);
	}
}

/* Save the running VMSA of `v`, then load and run `vmpl` (Run VMPL). */
int vcpu_switch(struct emu_machine *m, struct vcpu *v, unsigned vmpl, uint64_t exit_code)
{
	struct inst *cur = v->inst[v->vmpl], *next;
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

/* ---- the hypervisor model --------------------------------------------- */

/*
 * The CPUID the hypervisor model reports: only what the model implements.
 * Leaf 7 names SMEP and SMAP (enforced by walk.c); leaf 0xD describes the
 * legacy x87/SSE save area only (XSAVE is not advertised in leaf 1), with
 * EBX sized for the guest's XCR0 as the GHCB CPUID event supplies it.
 */
void hv_cpuid(uint32_t fn, uint32_t sub, uint64_t xcr0, uint32_t out[4])
{
	memset(out, 0, 16);
	switch (fn) {
	case 0:
		out[0] = 0xD;
		out[1] = 0x68747541; /* "AuthenticAMD" */
		out[3] = 0x69746E65;
		out[2] = 0x444D4163;
		break;
	case 1:
		out[0] = 0x00A00F11; /* family 19h model 01h (Milan) */
		out[3] = 0x078BFBFF;
		/* RDRAND (rdrand.c), hypervisor (31), x2APIC (21) and the
		 * TSC-deadline timer (24) of the hypervisor's APIC (apic.c) */
		out[2] = 0xC0802001 | (1U << 21) | (1U << 24);
		break;
	case 6:
		out[0] = 1U << 2; /* ARAT: the APIC timer runs in every C-state */
		break;
	case 7:
		if (sub == 0)
			out[1] = (1U << 7) | (1U << 20); /* SMEP, SMAP */
		break;
	case 0xD:
		if (sub == 0) {
			out[0] = 0x3;		       /* XCR0 bits: x87, SSE */
			out[1] = xcr0 & 0x3 ? 576 : 0; /* legacy area + XSAVE header */
			out[2] = 576;
		} else if (sub == 1) {
			/* XSAVEOPT, XSAVEC, XGETBV1: Linux's snp_cpuid refuses 0xD:1
			 * without XSAVEC or XSAVES, which SNP hardware always has; no
			 * XSAVES (no IA32_XSS), and no XSAVE in leaf 1. */
			out[0] = 0x7;
		}
		break;
	case 0x40000000: /* the hypervisor's leaves: KVM's signature "KVMKVMKVM" */
		out[0] = 0x40000001;
		out[1] = 0x4B4D564B;
		out[2] = 0x564B4D56;
		out[3] = 0x0000004D;
		break;
	case 0x40000001: /* KVM features: CLOCKSOURCE2 (3), CLOCKSOURCE_STABLE_BIT (24) */
		out[0] = (1U << 3) | (1U << 24);
		break;
	case 0x80000000:
		out[0] = 0x8000001F;
		break;
	case 0x80000001:
		out[3] = 0x2C100800;
		out[2] = 0x00000001;
		break;
	case 0x80000008:
		out[0] = 0x3030; /* 48 physical (walk.c reserved bits), 48 linear */
		break;
	case 0x8000001F:
		out[0] = 0x0101FD3F; /* reference 10: Milan */
		out[1] = 0x00004173;
		out[2] = 0x1FD;
		break;
	}
}

/* Hypervisor policy for an RMP violation (the Veil hypervisor contract). */
static bool psc_one(struct emu_machine *m, uint64_t gfn, unsigned op, bool large,
		    const struct vcpu *caller);

void hv_npf(struct inst *in)
{
	struct emu_machine *m = in->m;
	struct vcpu *v = in->vcpu;

	/* A 4K RMPADJUST/PVALIDATE on a 2 MiB RMP entry: like KVM
	 * (arch/x86/kvm/svm/sev.c, sev_handle_rmp_fault), PSMASH and let the
	 * guest retry the instruction (APM vol 3, PVALIDATE: SIZEM). */
	if ((in->stop.exitinfo1 & EMU_NPF_SIZEM) && rmp_psmash(m, in->stop.exitinfo2 >> 12))
		return;
	/* A private (C=1) access at VMPL0, RMPADJUST and PVALIDATE included, to
	 * a guest page the hypervisor made shared: like KVM with QEMU (the fault
	 * exits with KVM_EXIT_MEMORY_FAULT, QEMU's kvm_convert_memory makes the
	 * page private), the page becomes private again, not validated, and the
	 * instruction is retried: the monitor then meets a page that is not in
	 * the state it recorded (FIDELITY.md). */
	if (!m->exec_mode && in->vmpl == 0 &&
	    (in->stop.exitinfo1 & (EMU_NPF_RMP | EMU_NPF_ENC)) == (EMU_NPF_RMP | EMU_NPF_ENC) &&
	    in->stop.exitinfo2 < m->mem_size && !m->rmp[in->stop.exitinfo2 >> 12].assigned &&
	    psc_one(m, in->stop.exitinfo2 >> 12, 1, false, v))
		return;

	if (TRACE_ON(m))
		trace_npf(in, !m->exec_mode && in->vmpl > 0 && (v->vmsa_gpa[0] || m->native0));
	if (!m->exec_mode && in->vmpl > 0 && (v->vmsa_gpa[0] || m->native0) &&
	    !vcpu_switch(m, v, 0, SVM_EXIT_NPF))
		return;
	m->exit.exitinfo1 = in->stop.exitinfo1;
	m->exit.exitinfo2 = in->stop.exitinfo2;
	machine_finish(m, EMU_EXIT_KIND_NPF, NULL);
}

static void terminate(struct emu_machine *m, unsigned set, unsigned code)
{
	m->exit.reason_set = set;
	m->exit.reason_code = code;
	machine_finish(m, EMU_EXIT_KIND_TERMINATE, NULL);
}

/* SNP (0), AP creation (1), APIC ID list (4), multi-VMPL (5) (GHCB spec 56421). */
#define HV_FEATURES                                                                         \
	(GHCB_HV_FEATURE_SNP | GHCB_HV_FEATURE_AP_CREATION | GHCB_HV_FEATURE_APIC_ID_LIST | \
	 GHCB_HV_FEATURE_MULTI_VMPL)

/*
 * The hypervisor's RMPUPDATE for one page state change entry. A 4K change
 * inside a 2 MiB entry is preceded by PSMASH, as KVM does when RMPUPDATE
 * reports FAIL_OVERLAP; an in-use VMSA page cannot be updated (FAIL_INUSE,
 * APM vol 2, 15.36.12), and the change fails. `caller` is the vCPU in the
 * VMGEXIT (not running, so its VMSA is not in use).
 */
static bool psc_one(struct emu_machine *m, uint64_t gfn, unsigned op, bool large,
		    const struct vcpu *caller)
{
	uint64_t n = large ? 512 : 1, i;
	unsigned v;
	struct emu_rmp_entry before;

	if (range_has_vmsa_in_use(m, gfn, n, caller))
		return false;
	if (!large)
		rmp_psmash(m, gfn);
	before = m->rmp[gfn];

	for (i = 0; i < n; i++) {
		struct emu_rmp_entry *e = &m->rmp[gfn + i];

		/* A validated page no lower VMPL may touch is VMPL0's (monitor,
		 * service, VMSA). Taking it away is allowed to the hypervisor, but
		 * the native monitor would fault on its next access: remember. */
		if (m->native0 && e->validated && !e->perms[1] && !e->perms[2] && !e->perms[3] &&
		    !m->vmpl0_lost)
			m->vmpl0_lost = ((gfn + i) << 12) | 1;
		memset(e, 0, sizeof(*e));
		e->assigned = op == 1;
		e->page_size = large && op == 1;
		for (v = 0; v < EMU_NR_VMPLS; v++)
			e->perms[v] = (v == 0 && op == 1) ? RMP_PERM_ALL : 0;
	}
	machine_rmp_changed(m);
	if (TRACE_ON(m))
		trace_rmp(m, TRACE_RMP_PSC, gfn << 12, n, TRACE_RMPF_FLAGS | 0xF0, &before);
	return true;
}

/*
 * AP Reset Hold (GHCB spec 56421: MSR request 0x006, NAE 0x8000_0004): the
 * vCPU stops until it is started again; the model has no INIT/SIPI, so an AP
 * creation (CREATE) for it is what restarts it, with its new VMSA. Should the
 * held state ever resume, the response says "released" (non-zero).
 */
static void ap_reset_hold(struct emu_machine *m, struct vcpu *v)
{
	v->state = VCPU_HALTED;
	next_runnable(m);
}

static void msr_protocol(struct emu_machine *m, struct vcpu *v, unsigned vmpl, uint64_t req)
{
	uint64_t *msr = &v->ghcb_msr[vmpl], info = GHCB_MSR_INFO(req), data = GHCB_MSR_DATA(req);
	uint32_t out[4];

	switch (info) {
	case GHCB_MSR_SEV_INFO_REQ:
		*msr = GHCB_MSR_SEV_INFO_RESP | (2ULL << 48) | (1ULL << 32) | (51ULL << 24);
		break;
	case GHCB_MSR_CPUID_REQ: {
		unsigned reg = (req >> GHCB_MSR_CPUID_REG_SHIFT) & 3;

		hv_cpuid(req >> 32, 0, 1, out); /* no XCR0 on this path: x87 only */
		*msr = GHCB_MSR_CPUID_RESP | ((uint64_t)reg << GHCB_MSR_CPUID_REG_SHIFT) |
		       ((uint64_t)out[reg] << 32);
		break;
	}
	case GHCB_MSR_AP_RESET_HOLD_REQ:
		*msr = GHCB_MSR_AP_RESET_HOLD_RESP | (1ULL << 12);
		ap_reset_hold(m, v);
		break;
	case GHCB_MSR_PREF_GPA_REQ:
		*msr = GHCB_MSR_PREF_GPA_RESP | (0xFFFFFFFFFFFFFULL << 12);
		break;
	case GHCB_MSR_REGISTER_REQ:
		if ((data << 12) < m->mem_size) {
			v->ghcb_gpa[vmpl] = data << 12;
			*msr = GHCB_MSR_REGISTER_RESP | (data << 12);
		} else {
			*msr = GHCB_MSR_REGISTER_RESP | (0xFFFFFFFFFFFFFULL << 12);
		}
		break;
	case GHCB_MSR_PSC_REQ: {
		uint64_t gfn = (req >> 12) & 0xFFFFFFFFFFULL;
		unsigned op = (req >> GHCB_MSR_PSC_OP_SHIFT) & 0xF;

		/* Errors as KVM answers them: GHCB_MSR_PSC_RESP_ERROR, bit 63
		 * (Linux arch/x86/include/asm/sev-common.h). */
		if ((req >> 56) || (op != GHCB_MSR_PSC_PRIVATE && op != GHCB_MSR_PSC_SHARED) ||
		    (gfn << 12) >= m->mem_size || !psc_one(m, gfn, op, false, v)) {
			*msr = GHCB_MSR_PSC_RESP | (1ULL << 63);
			break;
		}
		*msr = GHCB_MSR_PSC_RESP;
		break;
	}
	case GHCB_MSR_RUN_VMPL_REQ: {
		unsigned target = (req >> 32) & 0xFF;

		if ((req & 0xFFFFF000ULL) || (req >> 40) || target > 3) {
			*msr = GHCB_MSR_RUN_VMPL_RESP | (1ULL << 32);
			break;
		}
		*msr = GHCB_MSR_RUN_VMPL_RESP;
		if (target != vmpl && vcpu_switch(m, v, target, SVM_EXIT_VMGEXIT))
			*msr = GHCB_MSR_RUN_VMPL_RESP | (2ULL << 32);
		break;
	}
	case GHCB_MSR_HV_FEATURES_REQ:
		*msr = GHCB_MSR_HV_FEATURES_RESP | (HV_FEATURES << 12);
		break;
	case GHCB_MSR_TERM_REQ:
		terminate(m, (req >> GHCB_MSR_TERM_SET_SHIFT) & 0xF,
			  (req >> GHCB_MSR_TERM_CODE_SHIFT) & 0xFF);
		break;
	default:
		/* Unknown request: the value is left as it is (FIDELITY.md). */
		break;
	}
}

/* ---- full GHCB events -------------------------------------------------- */

struct ghcb_call {
	struct emu_machine *m;
	struct vcpu *v;
	unsigned vmpl;
	uint8_t *g; /* host view of the GHCB page */
	uint64_t code, info1, info2;
};

static bool valid(const uint8_t *g, unsigned off)
{
	unsigned bit = off / 8;

	return (g[GHCB_BITMAP + bit / 8] >> (bit % 8)) & 1;
}

static void set_valid(uint8_t *g, unsigned off, uint64_t val)
{
	unsigned bit = off / 8;

	st64(g + off, val);
	g[GHCB_BITMAP + bit / 8] |= 1 << (bit % 8);
}

static void ghcb_result(uint8_t *g, uint64_t r1, uint64_t r2)
{
	st64(g + GHCB_EXITINFO1, r1);
	st64(g + GHCB_EXITINFO2, r2);
}

#define BAD_INPUT(g, reason) ghcb_result((g), GHCB_RESULT_BAD_INPUT, (reason))

/* Port output: COM1 data (0x3F8) is the console, COM2 data (0x2F8) the data
 * channel to a host file (--com2); other ports are ignored. */
static void port_out(struct emu_machine *m, unsigned port, const uint8_t *p, uint64_t n)
{
	FILE *f = port == 0x3F8 ? (m->cfg.console ? m->cfg.console : stdout) :
		  port == 0x2F8 ? m->cfg.com2 :
				  NULL;

	if (port == EMU_ACPI_SLEEP_PORT && n == 1) {
		/* Soft off (ACPI 6.5, 4.8.3.7 Sleep Control Register): the guest
		 * powered off; the run ends as a termination with the status the
		 * guest latched at EMU_EXIT_STATUS_PORT (0 unless it wrote one). */
		if (p[0] & EMU_ACPI_SLP_EN)
			terminate(m, 2, m->exit_status);
		return;
	}
	if (port == EMU_EXIT_STATUS_PORT && n == 1) {
		m->exit_status = p[0]; /* the model-only exit-status latch */
		return;
	}
	if (n == 1 && !uart_out(m, port, p[0]))
		return; /* a UART register, not a character */
	if (TRACE_ON(m) && port == 0x3F8)
		trace_console(m, &m->vcpus[m->cur], m->vcpus[m->cur].vmpl, TRACE_CONSOLE_IOIO,
			      (const char *)p, n);
	if (f)
		fwrite(p, 1, n, f);
}

static void ev_ioio(struct ghcb_call *c)
{
	uint8_t *g = c->g;
	unsigned port = c->info1 >> 16, in = c->info1 & 1;
	unsigned bytes = (c->info1 >> 4) & 7;
	struct emu_machine *m = c->m;

	if (bytes != 1 && bytes != 2 && bytes != 4) {
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	if (c->info1 & 4) { /* string I/O: data in the GHCB shared buffer */
		uint64_t scratch = ld64(g + GHCB_SCRATCH), base = c->v->ghcb_gpa[c->vmpl];
		uint64_t n = c->info2 * bytes;

		if (in || !valid(g, GHCB_SCRATCH)) {
			BAD_INPUT(g, in ? 5 : 4);
			return;
		}
		if (c->info2 > GHCB_BUFFER_SIZE || scratch < base + GHCB_BUFFER ||
		    scratch - (base + GHCB_BUFFER) + n > GHCB_BUFFER_SIZE) {
			BAD_INPUT(g, GHCB_ERR_INVALID_SCRATCH_AREA);
			return;
		}
		port_out(m, port, g + (scratch - base), n);
		ghcb_result(g, 0, 0);
		return;
	}
	if (!in) {
		uint8_t v[4];
		uint64_t rax = ld64(g + GHCB_RAX);

		if (!valid(g, GHCB_RAX)) {
			BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
			return;
		}
		memcpy(v, &rax, 4);
		port_out(m, port, v, bytes);
	} else {
		uint64_t val = uart_in(m, port);

		set_valid(g, GHCB_RAX,
			  val & (bytes == 4 ? 0xFFFFFFFFULL : (1ULL << (8 * bytes)) - 1));
	}
	ghcb_result(g, 0, 0);
}

static void ev_cpuid(struct ghcb_call *c)
{
	uint8_t *g = c->g;
	uint32_t out[4];

	/* Leaf 0xD needs the guest's XCR0 (GHCB spec 56421, CPUID NAE; KVM
	 * sev_es_validate_vmgexit): without it, missing input. */
	if (!valid(g, GHCB_RAX) || !valid(g, GHCB_RCX) ||
	    ((uint32_t)ld64(g + GHCB_RAX) == 0xD && !valid(g, GHCB_XCR0))) {
		BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
		return;
	}
	hv_cpuid(ld64(g + GHCB_RAX), ld64(g + GHCB_RCX), ld64(g + GHCB_XCR0), out);
	if ((uint32_t)ld64(g + GHCB_RAX) == 1) /* initial APIC ID of the asking vCPU */
		out[1] |= c->v->id << 24;
	memset(g + GHCB_BITMAP, 0, 16);
	set_valid(g, GHCB_RAX, out[0]);
	set_valid(g, GHCB_RBX, out[1]);
	set_valid(g, GHCB_RCX, out[2]);
	set_valid(g, GHCB_RDX, out[3]);
	ghcb_result(g, 0, 0);
}

/*
 * MSR reads the hypervisor emulates, the ones a kernel reads early (as KVM's
 * kvm_get_msr_common answers them): the TSC (the model's clock), APIC_BASE
 * (enabled, in x2APIC mode, BSP on vCPU 0: apic.c, which also serves the
 * x2APIC range 0x800-0x8FF, TSC_DEADLINE and the KVM clock), and the
 * machine-check, MTRR and microcode MSRs a guest probes (0: none).
 */
static bool msr_read(struct ghcb_call *c, uint32_t msr, uint64_t *val)
{
	struct emu_machine *m = c->m;

	switch (msr) {
	case 0x10: /* TSC */
		*val = emu_tsc_read(m);
		return true;
	case 0x1B: /* APIC_BASE: EN (11), EXTD (10: x2APIC), BSP (8); APM vol 2, 16.11.1 */
		*val = 0xFEE00000ULL | (1ULL << 11) | (1ULL << 10) |
		       (c->v->id == 0 ? 1ULL << 8 : 0);
		return true;
	case 0x8B:  /* PATCH_LEVEL */
	case 0xFE:  /* MTRRcap */
	case 0x179: /* MCG_CAP */
	case 0x17A: /* MCG_STATUS */
	case 0x2FF: /* MTRRdefType */
		*val = 0;
		return true;
	default:
		return apic_msr_owned(msr) && apic_msr_read(m, c->v, msr, val);
	}
}

/* A refused MSR access: inject #GP (result 1, EXITINFO2 = the event: valid,
 * exception, error code valid; GHCB spec 56421). */
#define MSR_GP_EVENT ((1ULL << 31) | (3 << 8) | (1 << 11) | EMU_VEC_GP)

static void ev_msr(struct ghcb_call *c)
{
	uint8_t *g = c->g;
	uint32_t msr;

	if (c->info1 > 1 || !valid(g, GHCB_RCX) ||
	    (c->info1 == 1 && (!valid(g, GHCB_RAX) || !valid(g, GHCB_RDX)))) {
		BAD_INPUT(g, c->info1 > 1 ? 5 : 4);
		return;
	}
	if (c->info1 == 0) {
		uint64_t val;

		if (!msr_read(c, ld64(g + GHCB_RCX) & 0xFFFFFFFFULL, &val)) {
			ghcb_result(g, 1, MSR_GP_EVENT);
			return;
		}
		set_valid(g, GHCB_RAX, val & 0xFFFFFFFFULL);
		set_valid(g, GHCB_RDX, val >> 32);
		ghcb_result(g, 0, 0);
		return;
	}
	msr = ld64(g + GHCB_RCX) & 0xFFFFFFFFULL;
	if (apic_msr_owned(msr) &&
	    !apic_msr_write(c->m, c->v, msr,
			    (ld64(g + GHCB_RAX) & 0xFFFFFFFFULL) | (ld64(g + GHCB_RDX) << 32))) {
		ghcb_result(g, 1, MSR_GP_EVENT);
		return;
	}
	ghcb_result(g, 0, 0); /* other writes are dropped */
}

/* Page State Change results in SW_EXITINFO2 (Linux arch/x86/include/asm/sev-common.h,
 * as KVM's snp_begin_psc returns them; SW_EXITINFO1 stays 0). */
#define PSC_MAX_COUNT 253
#define PSC_ERROR_GENERIC (0x100ULL << 32)
#define PSC_ERROR_INVALID_HDR ((1ULL << 32) | 1)
#define PSC_ERROR_INVALID_ENTRY ((1ULL << 32) | 2)

/*
 * One entry (GHCB spec 56421, Page State Change): cur_page[11:0], gfn[51:12],
 * operation[55:52], page size[56]. Pages from cur_page on are changed; a
 * partly done 2 MiB entry continues in 4K steps (KVM). Returns 0 or the error.
 */
static uint64_t psc_entry(struct ghcb_call *c, uint8_t *slot)
{
	struct emu_machine *m = c->m;
	uint64_t e = ld64(slot), gfn = (e >> 12) & 0xFFFFFFFFFFULL, cur = e & 0xFFF;
	unsigned op = (e >> 52) & 0xF;
	bool large = (e >> 56) & 1;
	uint64_t n = large ? 512 : 1;

	if (cur > n || (gfn & (n - 1)) || (op != 1 && op != 2 && op != 3 && op != 4))
		return PSC_ERROR_INVALID_ENTRY;
	if (op <= 2) {
		if (((gfn + n) << 12) > m->mem_size)
			return PSC_ERROR_GENERIC;
		if (cur == 0 && large) {
			if (!psc_one(m, gfn, op, true, c->v))
				return PSC_ERROR_GENERIC;
		} else {
			for (; cur < n; cur++) {
				if (!psc_one(m, gfn + cur, op, false, c->v)) {
					st64(slot, (e & ~0xFFFULL) | cur);
					return PSC_ERROR_GENERIC;
				}
			}
		}
	} /* ops 3 and 4 (PSMASH/UNSMASH hints) are completed without action, as KVM */
	st64(slot, (e & ~0xFFFULL) | n);
	return 0;
}

static void ev_psc(struct ghcb_call *c)
{
	uint8_t *g = c->g;
	uint64_t scratch = ld64(g + GHCB_SCRATCH), ghcb = c->v->ghcb_gpa[c->vmpl], rc = 0;
	uint8_t *buf;
	uint16_t cur, end;

	if (!valid(g, GHCB_SCRATCH)) {
		BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
		return;
	}
	/* The buffer must lie in the GHCB's shared buffer. */
	if (scratch < ghcb + GHCB_BUFFER || scratch + 8 > ghcb + GHCB_BUFFER + GHCB_BUFFER_SIZE) {
		BAD_INPUT(g, GHCB_ERR_INVALID_SCRATCH_AREA);
		return;
	}
	buf = g + (scratch - ghcb);
	memcpy(&cur, buf, 2);
	memcpy(&end, buf + 2, 2);
	if (end >= PSC_MAX_COUNT ||
	    scratch + 8 + (uint64_t)(end + 1) * 8 > ghcb + GHCB_BUFFER + GHCB_BUFFER_SIZE) {
		ghcb_result(g, 0, PSC_ERROR_INVALID_HDR);
		return;
	}
	for (; cur <= end && !rc; cur++) {
		rc = psc_entry(c, buf + 8 + cur * 8);
		if (rc)
			break;
	}
	memcpy(buf, &cur, 2);
	ghcb_result(g, 0, rc);
}

static void ev_ap_create(struct ghcb_call *c)
{
	struct emu_machine *m = c->m;
	uint8_t *g = c->g;
	unsigned req = c->info1 & 0xFFFF, vmpl = (c->info1 >> 16) & 0xF;
	uint64_t apic = c->info1 >> 32, gpa = c->info2;
	struct vcpu *t;
	uint8_t *vmsa;

	if (apic >= m->cfg.nr_vcpus || vmpl > 3 || req > 2 || (vmpl == 0 && c->vmpl != 0)) {
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	t = &m->vcpus[apic];
	if (req == 2) {
		t->vmsa_gpa[vmpl] = 0;
		if (t->vmpl == vmpl && t != c->v)
			t->state = VCPU_OFF;
		ghcb_result(g, 0, 0);
		return;
	}
	if (t == c->v && vmpl == c->vmpl) { /* may not replace its own VMSA */
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	machine_sync_lazy(m, 0); /* the page may be a deferred VMPL0 save */
	vmsa = m_is_guest(m, gpa, 0x1000) && !(gpa & 0xFFF) ? m_ptr(m, gpa, 0x1000) : NULL;
	/* The VMSA's VMPL field must name the VMPL it is created for: VMRUN of a
	 * VMSA at another VMPL fails (SNP firmware ABI 56860, 8.18; as vcpu_switch). */
	if (!vmsa || !m->rmp[gpa >> 12].vmsa || !m->rmp[gpa >> 12].assigned ||
	    vmsa[VMSA_VMPL] != vmpl || !valid(g, GHCB_RAX) ||
	    ld64(g + GHCB_RAX) != ld64(vmsa + VMSA_SEV_FEATURES)) {
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	/* "Create and run" is a VMRUN, which fails on EFER.SVME = 0 (APM vol 2,
	 * 15.5.1: VMEXIT_INVALID), as vcpu_switch checks. */
	if (req == 1 && t != c->v && !(ld64(vmsa + VMSA_EFER) & EFER_SVME)) {
		BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		return;
	}
	if (vmsa_in_use(m, gpa, c->v) && !(t->vmsa_gpa[vmpl] == gpa && t->vmpl == vmpl)) {
		BAD_INPUT(
			g,
			GHCB_ERR_INVALID_INPUT); /* running elsewhere: VMRUN would fail (APM vol 2, 15.36.12) */
		return;
	}
	t->vmsa_gpa[vmpl] = gpa;
	if (req == 1 && t != c->v) { /* the caller's own vCPU keeps running */
		struct inst *ti = inst_get(m, t, vmpl);
		uint8_t cur[0x1000];

		/* The instance may have run since its last load: bring its shadow
		 * up to date, so the load writes every field that differs. */
		if (ti && ti->loaded)
			inst_save(ti, cur);
		if (!ti || inst_load(ti, vmsa)) {
			BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
			return;
		}
		t->vmpl = vmpl;
		t->state = VCPU_RUNNABLE;
	}
	ghcb_result(g, 0, 0);
}

/*
 * Get APIC IDs (GHCB spec 56421, NAE 0x8000_0017): RAX = pages of a shared,
 * page-aligned buffer at SW_SCRATCH; the hypervisor writes {u32 count; u32
 * ids[count]} there, or, if RAX pages are too few, answers the pages needed
 * in RAX and writes nothing. The model's APIC IDs are the vCPU numbers.
 */
static void ev_apic_ids(struct ghcb_call *c)
{
	struct emu_machine *m = c->m;
	uint8_t *g = c->g, *buf;
	uint64_t scratch = ld64(g + GHCB_SCRATCH), pages = ld64(g + GHCB_RAX), i;
	uint64_t need = (4 + 4ULL * m->cfg.nr_vcpus + 0xFFF) >> 12;
	uint32_t n = m->cfg.nr_vcpus;

	if (!valid(g, GHCB_RAX)) {
		BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
		return;
	}
	if (pages < need) {
		set_valid(g, GHCB_RAX, need);
		ghcb_result(g, 0, 0);
		return;
	}
	if (!valid(g, GHCB_SCRATCH) || (scratch & 0xFFF) || pages > m->mem_size >> 12 ||
	    !m_is_guest(m, scratch, pages << 12)) {
		BAD_INPUT(g, GHCB_ERR_INVALID_SCRATCH_AREA);
		return;
	}
	for (i = 0; i < pages; i++) /* the hypervisor writes only shared pages */
		if (m->rmp[(scratch >> 12) + i].assigned) {
			BAD_INPUT(g, GHCB_ERR_INVALID_SCRATCH_AREA);
			return;
		}
	buf = m_ptr(m, scratch, pages << 12);
	memcpy(buf, &n, 4);
	for (i = 0; i < n; i++)
		memcpy(buf + 4 + 4 * i, &(uint32_t){ (uint32_t)i }, 4);
	ghcb_result(g, 0, 0);
}

static void ghcb_event(struct emu_machine *m, struct vcpu *v, unsigned vmpl, uint64_t gpa)
{
	struct ghcb_call c = { .m = m, .v = v, .vmpl = vmpl };
	uint8_t *g;
	uint16_t ver;
	uint32_t usage;

	if (gpa != v->ghcb_gpa[vmpl] || !m_is_guest(m, gpa, 0x1000) || m->rmp[gpa >> 12].assigned) {
		/* Not a registered, shared GHCB: the hypervisor cannot talk to it. */
		terminate(m, 0, 0);
		snprintf(m->exit.message, sizeof(m->exit.message),
			 "VMGEXIT with an unregistered or private GHCB at %#llx",
			 (unsigned long long)gpa);
		return;
	}
	g = m_ptr(m, gpa, 0x1000);
	memcpy(&ver, g + GHCB_VERSION, 2);
	memcpy(&usage, g + GHCB_USAGE, 4);
	c.g = g;
	if (usage != 0) {
		BAD_INPUT(g, GHCB_ERR_INVALID_USAGE);
		return;
	}
	if (!valid(g, GHCB_EXITCODE) || !valid(g, GHCB_EXITINFO1) || !valid(g, GHCB_EXITINFO2)) {
		BAD_INPUT(g, GHCB_ERR_MISSING_INPUT);
		return;
	}
	(void)ver;
	c.code = ld64(g + GHCB_EXITCODE);
	c.info1 = ld64(g + GHCB_EXITINFO1);
	c.info2 = ld64(g + GHCB_EXITINFO2);
	switch (c.code) {
	case SVM_EXIT_IOIO:
		ev_ioio(&c);
		break;
	case SVM_EXIT_CPUID:
		ev_cpuid(&c);
		break;
	case SVM_EXIT_MSR:
		ev_msr(&c);
		break;
	case SVM_VMGEXIT_PSC:
		ev_psc(&c);
		break;
	case SVM_VMGEXIT_AP_CREATION:
		ev_ap_create(&c);
		break;
	case SVM_EXIT_WRITE_DR7: /* DR7 write (value in RAX): the model has no debug registers */
		if (!valid(g, GHCB_RAX))
			BAD_INPUT(g, 4);
		else
			ghcb_result(g, 0, 0);
		break;
	case SVM_EXIT_WBINVD:  /* WBINVD: the model has no caches to write back */
	case SVM_EXIT_MONITOR: /* MONITOR and MWAIT: done as no-ops (MWAIT may wake at any time) */
	case SVM_EXIT_MWAIT:
		ghcb_result(g, 0, 0);
		break;
	case SVM_VMGEXIT_GET_APIC_IDS:
		ev_apic_ids(&c);
		break;
	case SVM_VMGEXIT_AP_HLT_LOOP:
		ghcb_result(g, 0, 1); /* SW_EXITINFO2 non-zero: released */
		ap_reset_hold(m, v);
		break;
	case SVM_VMGEXIT_GUEST_REQUEST:
	case SVM_VMGEXIT_EXT_GUEST_REQUEST: { /* to the AMD-SP (amdsp.c) */
		bool ext = c.code == SVM_VMGEXIT_EXT_GUEST_REQUEST;
		uint64_t rbx = valid(g, GHCB_RBX) ? ld64(g + GHCB_RBX) : 0;
		uint64_t rax = valid(g, GHCB_RAX) ? ld64(g + GHCB_RAX) : 0;

		ghcb_result(g, 0, amdsp_guest_request(m->sp, m, ext, c.info1, c.info2, rax, &rbx));
		if (ext)
			set_valid(g, GHCB_RBX, rbx);
		break;
	}
	case SVM_VMGEXIT_RUN_VMPL: {
		unsigned target = c.info1 & 0xFF;

		if ((c.info1 & 0xFFFFFFFFULL) > 3) {
			BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
			break;
		}
		ghcb_result(g, 0, 0);
		if (target != vmpl && vcpu_switch(m, v, target, SVM_EXIT_VMGEXIT))
			BAD_INPUT(g, GHCB_ERR_INVALID_INPUT);
		break;
	}
	case SVM_VMGEXIT_HV_FEATURES:
		ghcb_result(g, 0, HV_FEATURES);
		break;
	case SVM_VMGEXIT_TERM_REQUEST:
		terminate(m, c.info1 & 0xF, (c.info1 >> 4) & 0xFF);
		break;
	default:
		BAD_INPUT(g, GHCB_ERR_INVALID_EVENT);
		break;
	}
}

/* VMGEXIT: the GHCB MSR says whether this is an MSR-protocol request. */
void hv_vmgexit(struct emu_machine *m, struct vcpu *v, unsigned vmpl)
{
	uint64_t msr = v->ghcb_msr[vmpl];

	m->vmgexits++;
	m->vmgexits_vmpl[vmpl & 3]++;
	if (TRACE_ON(m))
		trace_vmgexit(m, v, vmpl, false);
	if (msr & 0xFFF)
		msr_protocol(m, v, vmpl, msr);
	else
		ghcb_event(m, v, vmpl, msr);
	if (TRACE_ON(m))
		trace_vmgexit(m, v, vmpl, true);
}
