/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * veil.h - the Veil module's parts: /dev/veil (veil_main.c), the secure log
 * client (veil_log.c) and the audit hook (veil_audit.c).
 */
#ifndef VEIL_LINUX_H
#define VEIL_LINUX_H

#include <linux/types.h>

#include <veil/abi.h>

#include "veil_svsm.h"
#include "veil_uapi.h"

/* ---- veil_log.c: VEIL_PROTOCOL_LOG --------------------------------------- */
int veil_log_init(void);
void veil_log_exit(void);
/* Append a record from kernel memory; any context. */
int veil_log_append_kernel(const void *data, u32 len, u64 *seq);
long veil_log_ioctl(unsigned int cmd, void __user *arg);
ssize_t veil_log_write(const char __user *buf, size_t len);

/* ---- veil_audit.c: audit records into the log ----------------------------- */
int veil_audit_init(void);
void veil_audit_exit(void);
void veil_audit_counts(u64 *records, u64 *failed);

#endif
