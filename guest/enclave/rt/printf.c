/* SPDX-License-Identifier: MIT */
/*
 * printf.c - formatted printing inside the enclave: %s %c %d %i %u %x %p and
 * %% with the l and ll length modifiers; output through the write ocall.
 */
#include <stdarg.h>
#include <veil/enclave.h>

struct out {
	char *buf;
	size_t cap, n;
};

static void put(struct out *o, char c)
{
	if (o->n + 1 < o->cap)
		o->buf[o->n] = c;
	o->n++;
}

static void put_num(struct out *o, uint64_t v, unsigned base, bool neg)
{
	char tmp[24];
	int i = 0;

	if (neg)
		put(o, '-');
	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		put(o, tmp[--i]);
}

#define ARG_U(ap, longs) ((longs) ? va_arg(ap, uint64_t) : va_arg(ap, unsigned))

int vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };
	const char *s;
	int longs;
	int64_t d;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		for (longs = 0; fmt[1] == 'l'; fmt++)
			longs++;
		switch (*++fmt) {
		case 's':
			for (s = va_arg(ap, const char *); s && *s; s++)
				put(&o, *s);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 'd':
		case 'i':
			d = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&o, d < 0 ? (uint64_t)-d : (uint64_t)d, 10, d < 0);
			break;
		case 'u':
			put_num(&o, ARG_U(ap, longs), 10, false);
			break;
		case 'x':
			put_num(&o, ARG_U(ap, longs), 16, false);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uint64_t)va_arg(ap, void *), 16, false);
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			return -1;
		}
	}
	if (cap)
		buf[o.n < cap ? o.n : cap - 1] = 0;
	return (int)o.n;
}

int snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return n;
	return (int)write(1, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
