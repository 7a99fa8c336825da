/* SPDX-License-Identifier: MIT */
/* counter.c - a second, smaller module: updates the kernel counter only. */
#include "module_api.h"

static uint64_t loads;

int veil_module_init(void)
{
	loads++;
	module_counter += COUNTER_INIT_DELTA;
	console_puts("counter module: init\n");
	return 0;
}

void veil_module_exit(void)
{
	module_counter += COUNTER_EXIT_DELTA;
	console_puts("counter module: exit\n");
}
