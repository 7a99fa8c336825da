/* SPDX-License-Identifier: MIT */
/*
 * hv.h - internals shared by the hypervisor model's files: the SNP
 * instructions (snp.c), the VMGEXIT entry and GHCB MSR protocol (hv.c) and
 * the full GHCB events (ghcb.c). What the rest of the model calls is in
 * machine.h.
 */
#ifndef VEIL_EMU_HV_H
#define VEIL_EMU_HV_H

#include <stdbool.h>
#include <stdint.h>

struct emu_machine;
struct emu_vcpu;

/* SNP (0), AP creation (1), APIC ID list (4), multi-VMPL (5) (GHCB spec 56421). */
#define HV_FEATURES                                                                         \
	(GHCB_HV_FEATURE_SNP | GHCB_HV_FEATURE_AP_CREATION | GHCB_HV_FEATURE_APIC_ID_LIST | \
	 GHCB_HV_FEATURE_MULTI_VMPL)

/* snp.c: whether a VMSA page is some vCPU's running (in-use) VMSA */
bool vmsa_in_use(const struct emu_machine *m, uint64_t gpa, const struct emu_vcpu *except);
bool range_has_vmsa_in_use(const struct emu_machine *m, uint64_t gfn, uint64_t n,
			   const struct emu_vcpu *except);

/* hv.c */
void terminate(struct emu_machine *m, unsigned set, unsigned code);
bool psc_one(struct emu_machine *m, uint64_t gfn, unsigned op, bool large,
	     const struct emu_vcpu *caller);
void ap_reset_hold(struct emu_machine *m, struct emu_vcpu *v);

/* ghcb.c: a VMGEXIT whose GHCB MSR holds the GHCB's address */
void ghcb_event(struct emu_machine *m, struct emu_vcpu *v, unsigned vmpl, uint64_t gpa);

#endif
