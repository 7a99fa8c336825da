/* SPDX-License-Identifier: MIT */
/*
 * Without services/ linked in, the monitor offers only the core protocol.
 * The weak default lives in a file of its own: a compiler that saw it next to
 * its use could fold the constant and ignore services/registry.c.
 */
#include <veil/service.h>

__attribute__((weak)) const struct veil_service *const veil_services[] = { NULL };
