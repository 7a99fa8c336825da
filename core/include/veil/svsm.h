/* SPDX-License-Identifier: MIT */
/* veil/svsm.h - SVSM protocol dispatch (core protocol 0 and Veil protocols). */
#ifndef VEIL_SVSM_H
#define VEIL_SVSM_H

#include <snp/arch.h>
#include <veil/monitor.h>

/* The call registers, as read from (and written back to) the caller's VMSA. */
struct veil_call {
	u64 rax, rcx, rdx, r8, r9;
};

/* Handle one call from the OS on vCPU vc; results are left in *c. */
void veil_svsm_dispatch(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c);

/*
 * The VMSA vCPU vc runs from now on: if CREATE_VCPU registered a replacement
 * for it, the vCPU switches to it (the OS's AP creation already made the
 * hypervisor run it). Called by the vCPU itself at each exit to the monitor,
 * under the monitor lock; returns the VMSA to read the exit from.
 */
u64 veil_vcpu_current_vmsa(struct veil_vcpu *vc);

#endif
