/* SPDX-License-Identifier: MIT */
/*
 * hv.c - the hypervisor model behind VMGEXIT: the CPUID it reports, its
 * policy for nested page faults, the GHCB MSR protocol, and the VMGEXIT entry
 * that picks the MSR protocol or a full GHCB event (ghcb.c) (reference
 * sections 2, 3, 5.2 and 6).
 */
#include <string.h>

#include <veil/abi.h>

#include "hv.h"
#include "machine.h"

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
		if (sub == 0) {
			/* SMEP, SMAP; no SERIALIZE (EDX bit 14): Milan and Genoa
			 * lack it, and the model keeps code coherent (smc.c). */
			out[1] = (1U << 7) | (1U << 20);
		}
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
void hv_npf(struct emu_inst *in)
{
	struct emu_machine *m = in->m;
	struct emu_vcpu *v = in->vcpu;

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

void terminate(struct emu_machine *m, unsigned set, unsigned code)
{
	m->exit.reason_set = set;
	m->exit.reason_code = code;
	machine_finish(m, EMU_EXIT_KIND_TERMINATE, NULL);
}

/*
 * The hypervisor's RMPUPDATE for one page state change entry. A 4K change
 * inside a 2 MiB entry is preceded by PSMASH, as KVM does when RMPUPDATE
 * reports FAIL_OVERLAP; an in-use VMSA page cannot be updated (FAIL_INUSE,
 * APM vol 2, 15.36.12), and the change fails. `caller` is the vCPU in the
 * VMGEXIT (not running, so its VMSA is not in use).
 */
bool psc_one(struct emu_machine *m, uint64_t gfn, unsigned op, bool large,
	     const struct emu_vcpu *caller)
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
void ap_reset_hold(struct emu_machine *m, struct emu_vcpu *v)
{
	v->state = VCPU_HALTED;
	next_runnable(m);
}

static void msr_protocol(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, uint64_t req)
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

/* VMGEXIT: the GHCB MSR says whether this is an MSR-protocol request. */
void hv_vmgexit(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl)
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
