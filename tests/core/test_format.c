/* SPDX-License-Identifier: MIT */
/* Unit tests: veil_snprintf (core/lib/format.c) and veil_printf to the console. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <veil/lib.h>
#include <veil/monitor.h>

#include "fake_backend.h"
#include "fixture.h"

static char buf[128];
static const char *volatile null_str; /* NULL, hidden from -Wformat-overflow */

/* veil_snprintf into buf; checks the return value is the full length. */
#define CHECK_FMT(want, ...)                                             \
	do {                                                             \
		usize n_ = veil_snprintf(buf, sizeof(buf), __VA_ARGS__); \
		ck_assert_str_eq(buf, want);                             \
		ck_assert_uint_eq(n_, strlen(want));                     \
	} while (0)

START_TEST(conversions)
{
	CHECK_FMT("plain text", "plain text");
	CHECK_FMT("s=abc|", "s=%s|", "abc");
	CHECK_FMT("s=(null)", "s=%s", null_str);
	CHECK_FMT("", "%s", "");
	CHECK_FMT("c=Z", "c=%c", 'Z');
	CHECK_FMT("100%", "100%%");
	CHECK_FMT("d=0 -1 42", "d=%d %d %d", 0, -1, 42);
	CHECK_FMT("-2147483648 2147483647", "%d %d", INT_MIN, INT_MAX);
	CHECK_FMT("4294967295", "%u", UINT_MAX);
	CHECK_FMT("deadbeef", "%x", 0xDEADBEEFu);
	CHECK_FMT("0", "%x", 0u);
	CHECK_FMT("123456789abcdef0", "%lx", 0x123456789ABCDEF0UL);
	CHECK_FMT("ffffffffffffffff", "%llx", ~0ULL);
	CHECK_FMT("-9223372036854775808", "%lld", LLONG_MIN);
	CHECK_FMT("18446744073709551615", "%llu", ~0ULL);
	CHECK_FMT("-5", "%ld", -5L);
	CHECK_FMT("4096", "%zu", (size_t)4096);
	CHECK_FMT("0x1234", "%p", (void *)(uintptr_t)0x1234);
	CHECK_FMT("a1b2c", "a%db%uc", 1, 2u);
}
END_TEST

START_TEST(width_and_padding)
{
	CHECK_FMT("   42", "%5d", 42);
	CHECK_FMT("00042", "%05d", 42);
	CHECK_FMT("0000002a", "%08x", 42u);
	CHECK_FMT("00000000deadbeef", "%016lx", 0xDEADBEEFUL);
	CHECK_FMT("123456", "%3d", 123456); /* width is a minimum */
	CHECK_FMT("  -42", "%5d", -42);
}
END_TEST

/* printf puts the sign before zero padding: "%05d" of -42 is "-0042". */
START_TEST(zero_pad_negative)
{
	CHECK_FMT("-0042", "%05d", -42);
}
END_TEST

START_TEST(truncation)
{
	char small[8];
	usize n;

	memset(small, 'X', sizeof(small));
	n = veil_snprintf(small, sizeof(small), "%s-%d", "abcdef", 12345);
	ck_assert_uint_eq(n, 12);
	ck_assert_str_eq(small, "abcdef-");
	ck_assert_int_eq(small[7], 0);

	memset(small, 'X', sizeof(small));
	n = veil_snprintf(small, 1, "hello");
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(small[0], 0);
	ck_assert_int_eq(small[1], 'X'); /* nothing past size */

	/* size 0: nothing written at all, not even the NUL */
	memset(small, 'X', sizeof(small));
	n = veil_snprintf(small, 0, "hello %d", 7);
	ck_assert_uint_eq(n, 7);
	ck_assert_int_eq(small[0], 'X');
	ck_assert_uint_eq(veil_snprintf(NULL, 0, "%llx", ~0ULL), 16);

	/* exactly fitting */
	n = veil_snprintf(small, sizeof(small), "1234567");
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq(small, "1234567");
}
END_TEST

/* Deliberately malformed formats: what the monitor does with its own typos. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
START_TEST(unknown_and_dangling)
{
	/* an unknown conversion prints '?', consumes no argument, and the format goes on */
	CHECK_FMT("? 5", "%q %d", 5);
	/* a '%' at the very end does not read past the NUL */
	CHECK_FMT("ab?", "ab%");
	CHECK_FMT("ab?", "ab%l");
}
END_TEST
#pragma GCC diagnostic pop

START_TEST(printf_to_console)
{
	struct fake_machine *m = fake_create(2ULL << 20, 1);
	char longs[400];

	veil_printf(fake_be(m, 0), "vcpu %u: %s\n", 3u, "up");
	ck_assert_str_eq(m->console, "vcpu 3: up\n");
	/* veil_printf formats into 256 bytes: longer lines are cut at 255 */
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = 0;
	m->console_len = 0;
	veil_printf(fake_be(m, 0), "%s", longs);
	ck_assert_uint_eq(m->console_len, 255);
	ck_assert_uint_eq(strlen(m->console), 255);
	fake_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, conversions);
	tcase_add_test(tc, width_and_padding);
	tcase_add_test(tc, zero_pad_negative);
	tcase_add_test(tc, truncation);
	tcase_add_test(tc, unknown_and_dangling);
	tcase_add_test(tc, printf_to_console);
	suite_add_tcase(s, tc);
	return fx_run_suite(s);
}
