/* SPDX-License-Identifier: MIT */
/*
 * veil/types.h - freestanding base types, error codes and overflow-safe
 * helpers for core/ and services/. Only compiler-provided headers.
 */
#ifndef VEIL_TYPES_H
#define VEIL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef size_t usize;

/* Monitor error codes: negative, OpenSBI style. */
#define VEIL_OK 0
#define VEIL_EINVAL (-1)   /* malformed argument */
#define VEIL_ERANGE (-2)   /* address or length out of range, or wraps */
#define VEIL_EPERM (-3)	   /* the caller does not own what it names */
#define VEIL_EBUSY (-4)	   /* in use (a VMSA, a running vCPU) */
#define VEIL_ENOMEM (-5)   /* monitor memory exhausted */
#define VEIL_EALIGN (-6)   /* misaligned */
#define VEIL_EEXIST (-7)   /* already done (double load, double create) */
#define VEIL_ENOENT (-8)   /* no such object */
#define VEIL_EHW (-9)	   /* the hardware (backend) refused */
#define VEIL_ENOTSUP (-10) /* not supported */
#define VEIL_EFULL (-11)   /* a store is full */

#define VEIL_PAGE_SIZE 4096ULL
#define VEIL_HUGE_SIZE (2ULL << 20)
#define VEIL_PAGE_MASK (~(VEIL_PAGE_SIZE - 1))

#define VEIL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* a + b without wrapping; false if it would wrap. */
static inline bool veil_add_ok(u64 a, u64 b, u64 *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

/* a * b without wrapping. */
static inline bool veil_mul_ok(u64 a, u64 b, u64 *prod)
{
	return !__builtin_mul_overflow(a, b, prod);
}

/* [base, base+len) lies inside [lo, hi) and does not wrap; len may be 0. */
static inline bool veil_range_within(u64 base, u64 len, u64 lo, u64 hi)
{
	u64 end;

	return veil_add_ok(base, len, &end) && base >= lo && end <= hi;
}

static inline bool veil_aligned(u64 v, u64 align)
{
	return (v & (align - 1)) == 0;
}

#endif
