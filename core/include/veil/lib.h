/* SPDX-License-Identifier: MIT */
/* veil/lib.h - the little libc the core provides for itself. */
#ifndef VEIL_LIB_H
#define VEIL_LIB_H

#include <stdarg.h>
#include <veil/types.h>

void *veil_memcpy(void *dst, const void *src, usize n);
void *veil_memset(void *dst, int c, usize n);
int veil_memcmp(const void *a, const void *b, usize n);

/* Formats %s %c %d %u %x %p with l/ll and z modifiers and a 0-padded width;
 * always NUL-terminates; returns the length written. */
usize veil_vsnprintf(char *buf, usize size, const char *fmt, va_list ap);
usize veil_snprintf(char *buf, usize size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Unaligned 64-bit loads and stores. __builtin_memcpy of a constant 8 bytes
 * is one move even with -ffreestanding (no call is emitted): the monitor's
 * VMSA and GHCB accesses cost a third of the instructions they did through
 * veil_memcpy's byte loop (bench/image-mode). */
static inline u64 veil_ld64(const void *p)
{
	u64 v;

	__builtin_memcpy(&v, p, 8);
	return v;
}

static inline void veil_st64(void *p, u64 v)
{
	__builtin_memcpy(p, &v, 8);
}

#endif
