/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* veil_kci.h - kernel code integrity for Linux (veil_kci.c). */
#ifndef VEIL_LINUX_KCI_H
#define VEIL_LINUX_KCI_H

/* Add this module's code, lock the kernel's text and read-only data, and
 * watch module loads. Called last in the module's init, once everything that
 * patches kernel text at load (the audit kprobe) has; a refusal is reported
 * and leaves the kernel unlocked (VEIL_IOC_STATUS says so), the log working. */
void veil_kci_init(void);

#endif
