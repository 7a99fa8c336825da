/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* The guest ABI headers are freestanding C (<stdint.h>); the kernel has no
 * C library, but <linux/types.h> defines the same fixed-width types. */
#ifndef VEIL_SHIM_STDINT_H
#define VEIL_SHIM_STDINT_H
#include <linux/types.h>
#endif
