/* SPDX-License-Identifier: MIT */
/* module.h - signed kernel modules (protocol VEIL_PROTOCOL_MODULE). */
#ifndef VEIL_SERVICES_MODULE_H
#define VEIL_SERVICES_MODULE_H

#include <veil/service.h>

#define VEIL_MAX_MODULES 16

struct veil_module {
	bool loaded;
	u64 handle; /* generation << 8 | slot: stale handles never match */
	u64 base, pages, text_pages;
	u8 hash[32]; /* SHA-256 of the signed file: refuses double loads */
};

struct veil_modules {
	u32 generation;
	u8 *scratch; /* monitor copy of the file being loaded */
	struct veil_module mod[VEIL_MAX_MODULES];
};

extern const struct veil_service veil_module_service;

#endif
