/* SPDX-License-Identifier: MIT */
/*
 * module_api.h - what a test-OS module may link against: the kernel symbols
 * the test OS exports when it locks its code (guest/kernel/kci.c). Anything
 * else stays undefined and the monitor refuses the module (VEIL_MOD_ERR_SYMBOL).
 */
#ifndef VEIL_MODULE_API_H
#define VEIL_MODULE_API_H

#include <stddef.h>
#include <stdint.h>

void console_puts(const char *s);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
size_t strlen(const char *s);
extern uint64_t module_counter; /* a kernel variable modules update */

/* Entry points the loader looks for; init returns 0 on success. */
int veil_module_init(void);
void veil_module_exit(void);

/* What hello.ko adds to module_counter in init and exit (the test OS checks). */
#define HELLO_INIT_DELTA 0x11
#define HELLO_EXIT_DELTA 0x2200
#define COUNTER_INIT_DELTA 0x300
#define COUNTER_EXIT_DELTA 0x40000

#endif
