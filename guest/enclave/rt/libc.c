/* SPDX-License-Identifier: MIT */
/* libc.c - the enclave runtime's small libc subset (memory and strings). */
#include <veil/enclave.h>

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	if (p < q || p >= q + n)
		return memcpy(d, s, n);
	while (n--)
		p[n] = q[n];
	return d;
}

/* What Debian's libbearssl.a (built with _FORTIFY_SOURCE and the stack
 * protector) calls: a detected overflow ends the enclave with #UD. */
void __stack_chk_fail(void);
void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memset_chk(void *d, int c, size_t n, size_t dlen);

void __stack_chk_fail(void)
{
	__builtin_trap();
}

void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen)
		__builtin_trap();
	return memcpy(d, s, n);
}

void *__memset_chk(void *d, int c, size_t n, size_t dlen)
{
	if (n > dlen)
		__builtin_trap();
	return memset(d, c, n);
}

/* ---- the heap: pages VEIL_ENC_ADD placed right after the image ------------ */

uint64_t enclave_heap_pages; /* set by crt0 at every entry */
static uintptr_t heap_used;  /* bytes handed out; kept across entries */

size_t enclave_heap_size(void)
{
	return (size_t)enclave_heap_pages * 4096;
}

/* A bump allocator: 16-byte aligned blocks, never reused (free is a no-op). */
void *malloc(size_t n)
{
	extern char _end[];
	uintptr_t base = ((uintptr_t)_end + 4095) & ~(uintptr_t)4095, need = (n + 15) & ~15UL;

	if (!n || need < n || need > enclave_heap_size() - heap_used)
		return 0;
	heap_used += need;
	return (void *)(base + heap_used - need);
}

void free(void *p)
{
	(void)p;
}
