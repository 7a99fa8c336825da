/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * veil_svsm.h - SVSM calls from Linux to the Veil monitor (SVSM
 * specification 58019, "SVSM Calling Convention"): the only way the module
 * talks to the monitor. Include this, not Linux's <asm/sev.h>, from the other
 * files: they use the guest ABI (veil/abi.h), whose names overlap Linux's.
 */
#ifndef VEIL_LINUX_SVSM_H
#define VEIL_LINUX_SVSM_H

#include <linux/types.h>

/* Registers of one call: RCX, RDX, R8, R9 in, and as the monitor left them. */
struct veil_svsm_regs {
	u64 rcx, rdx, r8, r9;
};

/* Not an SVSM result: the call never reached the monitor, or the monitor did
 * not take it (call_pending still set, or the GHCB reported an error). */
#define VEIL_SVSM_ERR_CALL 0x4000000000000000ULL

/* Find Linux's SVSM call path (at module load); -errno if there is none. */
int veil_svsm_init(void);

/* One call: RAX = protocol << 32 | call. Returns the SVSM result code (RAX;
 * 0 = SVSM_SUCCESS) or VEIL_SVSM_ERR_CALL; r is updated with the outputs.
 * Any context (it disables interrupts around the call); buffers named in
 * the registers are guest physical addresses (__pa()/page_to_phys()). */
u64 veil_svsm_call(u32 protocol, u32 call, struct veil_svsm_regs *r);

/* The VMPL Linux runs at (the secrets page's svsm_guest_vmpl). */
unsigned int veil_svsm_vmpl(void);

/* -errno for an SVSM result code (0 for SVSM_SUCCESS). */
int veil_svsm_errno(u64 rc);

/* A kernel symbol's address through kallsyms (0 if unknown). */
unsigned long veil_lookup_name(const char *name);

#endif
