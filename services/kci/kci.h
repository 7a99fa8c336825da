/* SPDX-License-Identifier: MIT */
/* kci.h - kernel code integrity and the kernel's export table. */
#ifndef VEIL_SERVICES_KCI_H
#define VEIL_SERVICES_KCI_H

#include <veil/abi.h>
#include <veil/service.h>

/* What the measured Linux boot parameters say about where the decompressed
 * kernel may lie (VEIL_OS_BOOT_LINUX only; kci_linux.c). */
struct veil_kci_linux {
	bool on;
	bool kaslr;	 /* no "nokaslr" on the command line */
	u64 load;	 /* where the loader put the protected-mode kernel */
	u64 pref, align; /* setup header: pref_address, kernel_alignment */
	u64 init_size;	 /* setup header: bytes the kernel needs from its start */
	u64 text_base;	 /* after the lock: the kernel's first text page */
};

struct veil_kci {
	bool locked;
	u32 nr_exports;
	u64 text_pages;
	u64 added_pages; /* VEIL_KCI_ADD_TEXT pages now in force */
	u8 *added;	 /* one bit per guest page: added by VEIL_KCI_ADD_TEXT */
	struct veil_kci_linux linux;
	struct veil_kci_export exports[VEIL_KCI_MAX_EXPORTS]; /* copied at lock time */
};

extern const struct veil_service veil_kci_service;

bool veil_kci_locked(const struct veil_monitor *mon);
/* The export named name[0..len), or NULL (also before the lock). */
const struct veil_kci_export *veil_kci_lookup(const struct veil_monitor *mon, const char *name,
					      usize len);

/* kci_linux.c: Linux's side of the lock. */
void veil_kci_linux_init(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_kci *k);
u64 veil_kci_linux_check(struct veil_monitor *mon, struct veil_kci *k,
			 const struct veil_kci_decl *d);
/* kci_text.c: code pages added after the lock. */
u64 veil_kci_add_text(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_kci *k,
		      struct veil_call *c);
bool veil_kci_added(const struct veil_kci *k, u64 pfn);
u64 veil_kci_drop_text(struct veil_monitor *mon, struct veil_vcpu *vc, struct veil_kci *k,
		       struct veil_call *c);

#define VEIL_KCI_PERM_TEXT (RMP_PERM_R | RMP_PERM_XS)
#define VEIL_KCI_PERM_RODATA RMP_PERM_R
#define VEIL_KCI_PERM_DATA (RMP_PERM_R | RMP_PERM_W | RMP_PERM_XU)

#endif
