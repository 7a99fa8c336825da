/* SPDX-License-Identifier: MIT */
/* Byte helpers of the core: no libc, so the same code links freestanding. */
#include <veil/lib.h>

void *veil_memcpy(void *dst, const void *src, usize n)
{
	u8 *d = dst;
	const u8 *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *veil_memset(void *dst, int c, usize n)
{
	u8 *d = dst;

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
