/* SPDX-License-Identifier: MIT */
/* kci.h - kernel code integrity and the kernel's export table. */
#ifndef VEIL_SERVICES_KCI_H
#define VEIL_SERVICES_KCI_H

#include <veil/abi.h>
#include <veil/service.h>

struct veil_kci {
	bool locked;
	u32 nr_exports;
	u64 text_pages;
	struct veil_kci_export exports[VEIL_KCI_MAX_EXPORTS]; /* copied at lock time */
};

extern const struct veil_service veil_kci_service;

bool veil_kci_locked(const struct veil_monitor *mon);
/* The export named name[0..len), or NULL (also before the lock). */
const struct veil_kci_export *veil_kci_lookup(const struct veil_monitor *mon, const char *name,
					      usize len);

#endif
