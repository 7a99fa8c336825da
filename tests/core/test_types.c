/* SPDX-License-Identifier: MIT */
/* Unit tests: the overflow-safe helpers of veil/types.h. */
#include <check.h>
#include <stdlib.h>

#include <veil/types.h>

#include "fixture.h"

#define U64_MAX_ ~0ULL

START_TEST(add_ok_edges)
{
	u64 r = 7;

	ck_assert(veil_add_ok(0, 0, &r));
	ck_assert_uint_eq(r, 0);
	ck_assert(veil_add_ok(U64_MAX_ - 1, 1, &r));
	ck_assert_uint_eq(r, U64_MAX_);
	ck_assert(veil_add_ok(U64_MAX_, 0, &r));
	ck_assert_uint_eq(r, U64_MAX_);
	ck_assert(!veil_add_ok(U64_MAX_, 1, &r));
	ck_assert(!veil_add_ok(1, U64_MAX_, &r));
	ck_assert(!veil_add_ok(1ULL << 63, 1ULL << 63, &r));
	ck_assert(!veil_add_ok(U64_MAX_, U64_MAX_, &r));
	ck_assert(!veil_add_ok(0xFFFFFFFFFFFFF000ULL, 0x1000, &r));
	ck_assert(veil_add_ok(0xFFFFFFFFFFFFF000ULL, 0xFFF, &r));
	ck_assert_uint_eq(r, U64_MAX_);
}
END_TEST

START_TEST(mul_ok_edges)
{
	u64 r = 7;

	ck_assert(veil_mul_ok(0, U64_MAX_, &r));
	ck_assert_uint_eq(r, 0);
	ck_assert(veil_mul_ok(U64_MAX_, 1, &r));
	ck_assert_uint_eq(r, U64_MAX_);
	ck_assert(veil_mul_ok(1ULL << 32, (1ULL << 32) - 1, &r));
	ck_assert_uint_eq(r, 0xFFFFFFFF00000000ULL);
	ck_assert(!veil_mul_ok(1ULL << 32, 1ULL << 32, &r));
	ck_assert(!veil_mul_ok(U64_MAX_, 2, &r));
	ck_assert(!veil_mul_ok(1ULL << 52, 4096, &r)); /* gfn 2^52 * page = 2^64 */
	ck_assert(veil_mul_ok((1ULL << 52) - 1, 4096, &r));
	ck_assert_uint_eq(r, 0xFFFFFFFFFFFFF000ULL);
	ck_assert(veil_mul_ok(3, 5, &r));
	ck_assert_uint_eq(r, 15);
}
END_TEST

START_TEST(range_within_edges)
{
	/* inside, touching both ends */
	ck_assert(veil_range_within(0x1000, 0x1000, 0x1000, 0x2000));
	ck_assert(veil_range_within(0, 0, 0, 0));
	/* len 0 at hi is inside; past hi is not */
	ck_assert(veil_range_within(0x2000, 0, 0x1000, 0x2000));
	ck_assert(!veil_range_within(0x2001, 0, 0x1000, 0x2000));
	/* below lo, past hi */
	ck_assert(!veil_range_within(0xFFF, 0x10, 0x1000, 0x2000));
	ck_assert(!veil_range_within(0x1000, 0x1001, 0x1000, 0x2000));
	/* wrapping: base + len overflows to a small value that is <= hi */
	ck_assert(!veil_range_within(U64_MAX_, 2, 0, U64_MAX_));
	ck_assert(!veil_range_within(0xFFFFFFFFFFFFF000ULL, 0x2000, 0, 0x10000));
	ck_assert(!veil_range_within(1, U64_MAX_, 0, U64_MAX_));
	/* the whole space except the last byte */
	ck_assert(veil_range_within(0, U64_MAX_, 0, U64_MAX_));
	ck_assert(veil_range_within(U64_MAX_ - 1, 1, 0, U64_MAX_));
}
END_TEST

START_TEST(aligned_edges)
{
	ck_assert(veil_aligned(0, 4096));
	ck_assert(veil_aligned(0x200000, VEIL_HUGE_SIZE));
	ck_assert(!veil_aligned(0x201000, VEIL_HUGE_SIZE));
	ck_assert(!veil_aligned(0xFFFFFFFFFFFFF001ULL, 4096));
	ck_assert(veil_aligned(0xFFFFFFFFFFFFF000ULL, 4096));
	ck_assert(!veil_aligned(4, 8));
	ck_assert(veil_aligned(5, 1));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("types");
	TCase *tc = tcase_create("types");

	tcase_add_test(tc, add_ok_edges);
	tcase_add_test(tc, mul_ok_edges);
	tcase_add_test(tc, range_within_edges);
	tcase_add_test(tc, aligned_edges);
	suite_add_tcase(s, tc);
	return fx_run_suite(s);
}
