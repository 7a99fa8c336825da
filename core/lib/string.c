/* SPDX-License-Identifier: MIT */
/* Byte helpers of the core: no libc, so the same code links freestanding. */
#include <veil/lib.h>

/* Eight bytes at a time where both ends allow it: the VMPL0 image runs these
 * on every VMSA and GHCB page it clears (a page is 512 stores, not 4096). */
typedef u64 __attribute__((may_alias, aligned(1))) u64_any;

void *veil_memcpy(void *dst, const void *src, usize n)
{
	u8 *d = dst;
	const u8 *s = src;

	for (; n >= 8; n -= 8, d += 8, s += 8)
		*(u64_any *)d = *(const u64_any *)s;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *veil_memset(void *dst, int c, usize n)
{
	u64 v = 0x0101010101010101ULL * (u8)c;
	u8 *d = dst;

	for (; n >= 8; n -= 8, d += 8)
		*(u64_any *)d = v;
	while (n--)
		*d++ = (u8)c;
	return dst;
}

int veil_memcmp(const void *a, const void *b, usize n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}
