/* SPDX-License-Identifier: MIT */
/*
 * unknown.c - a correctly signed module that calls a function the kernel
 * does not export: the monitor must refuse it (VEIL_MOD_ERR_SYMBOL).
 */
#include "module_api.h"

void kernel_secret_backdoor(void);

int veil_module_init(void)
{
	kernel_secret_backdoor();
	return 0;
}
