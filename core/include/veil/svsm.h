/* SPDX-License-Identifier: MIT */
/* veil/svsm.h - SVSM protocol dispatch (core protocol 0 and Veil protocols). */
#ifndef VEIL_SVSM_H
#define VEIL_SVSM_H

#include <veil/monitor.h>

/* The call registers, as read from (and written back to) the caller's VMSA. */
struct veil_call {
	u64 rax, rcx, rdx, r8, r9;
};

/* Handle one call from the OS on vCPU vc; results are left in *c. */
void veil_svsm_dispatch(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_call *c);

/* Offsets of the VMSA fields the monitor reads and writes (reference 5). */
#define VMSA_OFF_CS 0x010
#define VMSA_OFF_SS 0x020
#define VMSA_OFF_DS 0x030
#define VMSA_OFF_ES 0x000
#define VMSA_OFF_FS 0x040
#define VMSA_OFF_GDTR 0x060
#define VMSA_OFF_IDTR 0x080
#define VMSA_OFF_TR 0x090
#define VMSA_OFF_VMPL 0x0CA
#define VMSA_OFF_CPL 0x0CB
#define VMSA_OFF_EFER 0x0D0
#define VMSA_OFF_CR4 0x148
#define VMSA_OFF_CR3 0x150
#define VMSA_OFF_CR0 0x158
#define VMSA_OFF_DR7 0x160
#define VMSA_OFF_DR6 0x168
#define VMSA_OFF_RFLAGS 0x170
#define VMSA_OFF_RIP 0x178
#define VMSA_OFF_RSP 0x1D8
#define VMSA_OFF_RAX 0x1F8
#define VMSA_OFF_STAR 0x200
#define VMSA_OFF_LSTAR 0x208
#define VMSA_OFF_SFMASK 0x218
#define VMSA_OFF_PAT 0x268
#define VMSA_OFF_RCX 0x308
#define VMSA_OFF_RDX 0x310
#define VMSA_OFF_RSI 0x330
#define VMSA_OFF_RDI 0x338
#define VMSA_OFF_R8 0x340
#define VMSA_OFF_R9 0x348
#define VMSA_OFF_EXITINFO1 0x390
#define VMSA_OFF_EXITINFO2 0x398
#define VMSA_OFF_SEV_FEATURES 0x3B0
#define VMSA_OFF_EXIT_CODE 0x3C0
#define VMSA_OFF_MXCSR 0x408
#define VMSA_EFER_SVME (1ULL << 12)

#endif
