/* SPDX-License-Identifier: MIT */
/*
 * veil/mem.h - page ownership. Every guest page has exactly one owner, and
 * the RMP permissions of VMPL1-3 are derived from it (veil_mem_perms), so
 * the monitor cannot grant what ownership forbids.
 */
#ifndef VEIL_MEM_H
#define VEIL_MEM_H

#include <veil/backend.h>

enum veil_owner {
	VEIL_OWNER_NONE = 0, /* not given to anyone (not validated) */
	VEIL_OWNER_MONITOR,  /* monitor code and data */
	VEIL_OWNER_OS,	     /* the untrusted OS (VMPL3) */
	VEIL_OWNER_SHARED,   /* shared with the hypervisor (not private) */
	VEIL_OWNER_VMSA,     /* a VMSA page of some domain */
	VEIL_OWNER_SERVICE,  /* a protected service (id = service) */
	VEIL_OWNER_ENCLAVE,  /* an enclave (id = enclave) */
	VEIL_OWNER_MODULE,   /* a loaded kernel module: VMPL3 gets os_perms, but the OS
			     * cannot donate, validate or rescind its pages */
	VEIL_OWNER_OS_VMSA,  /* a VMPL3 VMSA the OS handed over with CREATE_VCPU: a
			     * VMSA page VMPL3 may read (its own vCPU state), never
			     * write or execute */
};

/* A page whose RMP VMSA bit is set (either VMSA owner). */
static inline bool veil_owner_is_vmsa(enum veil_owner o)
{
	return o == VEIL_OWNER_VMSA || o == VEIL_OWNER_OS_VMSA;
}

/* Per-page record, 4 bytes. */
struct veil_page {
	u8 owner;     /* enum veil_owner */
	u8 os_perms;  /* VMPL3 mask when owner is OS (services may restrict it);
		       * VMPL2 mask when owner is an enclave domain,
		       * VMPL1 mask when owner is a service domain */
	u8 validated; /* mirror of the RMP Validated bit */
	u8 id;	      /* service or enclave id */
};

struct veil_mem {
	u64 nr_pages;
	u8 os_default;		 /* VMPL3 mask for pages given (back) to the OS */
	struct veil_page *pages; /* lives in monitor memory */
};

/* The RMP mask VMPL `vmpl` (1-3) gets for a page, from its owner alone. */
u8 veil_mem_perms(const struct veil_page *p, unsigned vmpl);

/* Valid, page-aligned, non-wrapping range inside guest memory? */
bool veil_mem_range_ok(const struct veil_mem *mem, u64 gpa, u64 len);

/* Owner of the page holding gpa; VEIL_OWNER_NONE when out of range. */
enum veil_owner veil_mem_owner(const struct veil_mem *mem, u64 gpa);

/* Every page of [gpa, gpa+len) has `owner`? (false for a bad range) */
bool veil_mem_owned_by(const struct veil_mem *mem, u64 gpa, u64 len, enum veil_owner owner);

/*
 * May the OS itself read (write = false) or write (write = true) every byte of
 * [gpa, gpa+len)? Each page must be OS-owned and validated, with R (or W) in
 * its VMPL3 mask; a write also needs the page not locked (its mask is still
 * the default: a service has not restricted it). len may be any size; a
 * wrapping or out-of-range span is refused. This is the only test of "the
 * monitor may read/write this OS buffer on the OS's behalf": the monitor must
 * never do with an OS buffer what the OS could not do itself.
 */
bool veil_mem_os_may(const struct veil_mem *mem, u64 gpa, u64 len, bool write);

/*
 * May the monitor take [gpa, gpa+len) (page-aligned) away from the OS (for a
 * VMSA, module pages)? Only plain OS data: OS-owned, validated, default
 * permissions. Taking a locked or restricted page would hand it back later
 * with other permissions than it had.
 */
bool veil_mem_os_takeable(const struct veil_mem *mem, u64 gpa, u64 len);

/* Re-derive and write the RMP masks of VMPL1-3 for one page. */
int veil_mem_apply(struct veil_mem *mem, struct veil_backend *be, u64 gpa);

/* Write the RMP masks of VMPL1-3 for page gpa as record *p derives them,
 * without touching the page's own record: a service tries the state a page
 * will have, and keeps the record (to put the RMP back) until every page of
 * its request took it. */
int veil_mem_apply_as(struct veil_backend *be, u64 gpa, const struct veil_page *p);

/* Set one page's os_perms and its RMP. All or nothing: when the RMP refuses,
 * the record is unchanged and the masks are put back as it derives them. */
int veil_mem_set_perms(struct veil_mem *mem, struct veil_backend *be, u64 gpa, u8 perms);

/*
 * The hardware's answer, not the record's: is the 4 KiB page gpa validated?
 * The OS can have the hypervisor make a page shared and private again behind
 * the monitor (GHCB page state change), which leaves it assigned but not
 * validated while the record still says validated. Asked with PVALIDATE
 * (validate): unchanged (CF = 1) means it was validated; a page it did
 * validate is rescinded again, so the page is left as found either way.
 * For a decision that grants something on a page (execute, a VMSA).
 */
bool veil_mem_hw_validated(struct veil_backend *be, u64 gpa);

/*
 * Move [gpa, gpa+len) from owner `from` to `to` (id for services/enclaves)
 * and apply the RMP. All-or-nothing: when the RMP refuses a page, every page
 * already moved goes back to its old record and RMP state. A page given to
 * the OS gets the current default mask. Permissions are reduced before any
 * are granted.
 */
int veil_mem_transfer(struct veil_mem *mem, struct veil_backend *be, u64 gpa, u64 len,
		      enum veil_owner from, enum veil_owner to, u8 id);

#endif
