/* SPDX-License-Identifier: MIT */
/*
 * The four functions a C compiler may call on its own (struct copies and
 * initialisers). Linked only into freestanding images: hosted builds use
 * the C library's.
 */
#include <veil/lib.h>

void *memcpy(void *dst, const void *src, usize n);
void *memset(void *dst, int c, usize n);
void *memmove(void *dst, const void *src, usize n);
int memcmp(const void *a, const void *b, usize n);

void *memcpy(void *dst, const void *src, usize n)
{
	return veil_memcpy(dst, src, n);
}

void *memset(void *dst, int c, usize n)
{
	return veil_memset(dst, c, n);
}

void *memmove(void *dst, const void *src, usize n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (d < s)
		return veil_memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, usize n)
{
	return veil_memcmp(a, b, n);
}

/* Entry points of _FORTIFY_SOURCE and the stack protector, which Debian's
 * BearSSL objects call. A violated bound stops the monitor. */
void *__memcpy_chk(void *dst, const void *src, usize n, usize dstlen);
void *__memset_chk(void *dst, int c, usize n, usize dstlen);
void *__memmove_chk(void *dst, const void *src, usize n, usize dstlen);
void __stack_chk_fail(void) __attribute__((noreturn));

void *__memcpy_chk(void *dst, const void *src, usize n, usize dstlen)
{
	if (n > dstlen)
		__builtin_trap();
	return veil_memcpy(dst, src, n);
}

void *__memset_chk(void *dst, int c, usize n, usize dstlen)
{
	if (n > dstlen)
		__builtin_trap();
	return veil_memset(dst, c, n);
}

void *__memmove_chk(void *dst, const void *src, usize n, usize dstlen)
{
	if (n > dstlen)
		__builtin_trap();
	return memmove(dst, src, n);
}

void __stack_chk_fail(void)
{
	__builtin_trap();
}
