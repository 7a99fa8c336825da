/* SPDX-License-Identifier: MIT */
/*
 * hello.c - the main sample module. It has every kind of section the monitor
 * must place (text, rodata, data, bss) and every relocation the compiler
 * emits for kernel-linked code: PLT32 calls and PC32 data references to
 * kernel exports, 64-bit absolute pointers (data and rodata) to kernel and
 * module symbols, and 32-bit absolute addresses of its own objects.
 */
#include "module_api.h"

static const char greeting[] = "hello module: init, printing through an exported function\n";
static const char farewell[] = "hello module: exit\n";

/* Absolute pointers (R_X86_64_64) to module rodata; volatile so that the
 * compiler keeps the table (it lands in .data) instead of folding it. */
static const char *const volatile messages[] = { greeting, farewell };

/* data: a pointer to a kernel function (R_X86_64_64 against an export). */
static void (*volatile say)(const char *s) = console_puts;
static uint64_t init_calls = 0x100;

/* bss: where the greeting is assembled before printing. */
static char line[96];

static void emit(unsigned which)
{
	const char *m = messages[which];
	size_t n = strlen(m);

	memcpy(line, m, n + 1);
	say(line);
}

int veil_module_init(void)
{
	init_calls++;
	emit(0);
	module_counter += HELLO_INIT_DELTA;
	kprintf("hello module: init call %lu, counter now 0x%lx\n", init_calls - 0x100,
		module_counter);
	return 0;
}

void veil_module_exit(void)
{
	emit(1);
	memset(line, 0, sizeof(line));
	module_counter += HELLO_EXIT_DELTA;
}
