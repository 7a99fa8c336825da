/* SPDX-License-Identifier: MIT */
/*
 * veil/service.h - how protected services plug into the monitor: one
 * protocol each, discoverable with QUERY_PROTOCOL. The table of services is
 * defined by services/ (services/registry.c); core/ only walks it.
 */
#ifndef VEIL_SERVICE_H
#define VEIL_SERVICE_H

#include <veil/svsm.h>

enum veil_service_id {
	VEIL_SVC_LOG,
	VEIL_SVC_KCI,
	VEIL_SVC_MODULE,
	VEIL_SVC_ENCLAVE,
	VEIL_SVC_ATTEST
};

struct veil_service {
	const char *name;
	u32 protocol, min_version, max_version;
	/* At boot, on the boot vCPU; may take monitor memory. */
	int (*init)(struct veil_monitor *mon, struct veil_vcpu *vc);
	/* One call of the protocol; returns the SVSM result code (RAX). */
	u64 (*call)(struct veil_monitor *mon, struct veil_vcpu *vc, u32 call, struct veil_call *c);
	/* Optional: keep an event the monitor itself reports (the secure log). */
	void (*record)(struct veil_monitor *mon, struct veil_vcpu *vc, const void *data, u32 len);
};

/* Hand an event to every service that records events. */
void veil_service_record(struct veil_monitor *mon, struct veil_vcpu *vc, const void *data, u32 len);

/* NULL-terminated. */
extern const struct veil_service *const veil_services[];

const struct veil_service *veil_service_find(u32 protocol);

#endif
