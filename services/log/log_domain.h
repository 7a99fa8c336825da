/* SPDX-License-Identifier: MIT */
/*
 * log_domain.h - the monitor's side of the log domain (logdom.h): it builds
 * the domain from the image embedded in the monitor, gives each vCPU a VMSA
 * for it on demand, and runs one operation at a time through the mailbox.
 */
#ifndef VEIL_SERVICES_LOG_DOMAIN_H
#define VEIL_SERVICES_LOG_DOMAIN_H

#include <veil/domain.h>

#include "logdom.h"

struct veil_logdom {
	struct veil_domain dom;
	u64 pt;			/* GPA of the page table of the first 2 MiB */
	struct logd_mail *mail; /* the monitor's view of the mailbox */
	u64 first, npages;	/* the pages built at boot (VMSAs come later) */
	u64 store;		/* GPA of the store */
	u64 trap_stack;		/* GPA of the trap stack (the trap frame of a fault) */
	bool dead;		/* faulted: the log is closed */
};

/* Build the domain with `capacity` bytes of store (it first runs at the log's
 * first operation). */
int veil_logdom_build(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_logdom *ld,
		      u64 capacity);

/*
 * Run operation `op` (enum logd_op) on vc with the mailbox as filled: the
 * domain's result, VEIL_LOG_ERR_CLOSED once it has faulted (the fault is
 * recorded in the monitor's fault table and on the console), or
 * SVSM_ERR_INVALID_REQUEST if it cannot run. Called with the monitor lock
 * held: the log domain never pauses, so no other vCPU waits on it for long.
 */
u64 veil_logdom_call(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_logdom *ld,
		     u32 op);

/* TEST-ONLY (VEIL_LOG_DOMAIN_FAULT_TEST): map gpa writable at
 * LOGD_TRAPDOOR_VA, as a bug in the table builder would, without granting it
 * in the RMP. */
void veil_logdom_trapdoor(struct veil_backend *be, struct veil_logdom *ld, u64 gpa);

#endif
