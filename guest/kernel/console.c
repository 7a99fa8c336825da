/* SPDX-License-Identifier: MIT */
/*
 * console.c - serial console on COM1 and a minimal printf.
 *
 * Every IN/OUT raises #VC on SNP; trap.c emulates it with the GHCB IOIO
 * event, and the hypervisor prints what is written to port 0x3F8. A vCPU
 * without a registered GHCB cannot do I/O, so its output is dropped.
 */
#include "kernel.h"

#define COM1 0x3F8
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20

static uint32_t console_owner; /* vCPU id + 1, 0 = free */

/* Whole lines from different vCPUs must not interleave; a vCPU that already
 * holds the lock (a fault while printing) prints on without it. */
static bool console_lock(void)
{
	uint32_t me = this_cpu()->id + 1, free = 0;

	if (__atomic_load_n(&console_owner, __ATOMIC_ACQUIRE) == me)
		return false;
	while (!__atomic_compare_exchange_n(&console_owner, &free, me, false, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		free = 0;
		cpu_pause();
	}
	return true;
}

static void console_unlock(bool taken)
{
	if (taken)
		__atomic_store_n(&console_owner, 0, __ATOMIC_RELEASE);
}

static void serial_putc(char ch)
{
	unsigned i;

	if (!this_cpu()->ghcb_ready)
		return;
	for (i = 0; i < 1000 && !(inb(COM1_LSR) & LSR_THRE); i++)
		cpu_pause();
	outb(COM1, (uint8_t)ch);
}

static void put_str(const char *s, int width)
{
	int n = (int)strlen(s);

	for (; width > n; width--)
		serial_putc(' ');
	while (*s)
		serial_putc(*s++);
}

static void put_num(uint64_t v, unsigned base, bool neg, int width, char pad)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[i++] = '-';
	for (; width > i; width--)
		serial_putc(pad);
	while (i)
		serial_putc(buf[--i]);
}

static uint64_t arg_unsigned(va_list *ap, int lng)
{
	return lng ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned int);
}

static int64_t arg_signed(va_list *ap, int lng)
{
	return lng ? va_arg(*ap, int64_t) : va_arg(*ap, int);
}

/* One conversion: %[0][width][l|ll]{d,u,x,p,s,c,%}. Returns the next char. */
static const char *format_one(const char *f, va_list *ap)
{
	char pad = ' ';
	int width = 0, lng = 0;
	int64_t s;

	if (*f == '0')
		pad = *f++;
	while (*f >= '0' && *f <= '9')
		width = width * 10 + (*f++ - '0');
	while (*f == 'l') {
		lng++;
		f++;
	}
	switch (*f) {
	case 'd':
		s = arg_signed(ap, lng);
		put_num(s < 0 ? -(uint64_t)s : (uint64_t)s, 10, s < 0, width, pad);
		break;
	case 'u':
		put_num(arg_unsigned(ap, lng), 10, false, width, pad);
		break;
	case 'x':
		put_num(arg_unsigned(ap, lng), 16, false, width, pad);
		break;
	case 'p':
		put_str("0x", 0);
		put_num((uint64_t)va_arg(*ap, void *), 16, false, width, pad);
		break;
	case 's':
		put_str(va_arg(*ap, const char *), width);
		break;
	case 'c':
		serial_putc((char)va_arg(*ap, int));
		break;
	case '%':
		serial_putc('%');
		break;
	default:
		return f;
	}
	return f + 1;
}

void kvprintf(const char *fmt, va_list ap)
{
	bool taken = console_lock();
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%')
			serial_putc(*fmt++);
		else
			fmt = format_one(fmt + 1, &aq);
	}
	va_end(aq);
	console_unlock(taken);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void console_puts(const char *s)
{
	kprintf("%s", s);
}
