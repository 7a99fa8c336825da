/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* offsetof and size_t for the guest ABI headers, from the kernel's own. */
#ifndef VEIL_SHIM_STDDEF_H
#define VEIL_SHIM_STDDEF_H
#include <linux/stddef.h>
#include <linux/types.h>
#endif
