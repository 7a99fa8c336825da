/* SPDX-License-Identifier: MIT */
/*
 * test_common.c - bench/common.c: the spread of runs, the RESULT and TARGET
 * lines, and the exit status when a target is missed (with and without
 * --no-fail). Output is captured through a temporary file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static char out[4096];

/* Run fn with stdout going to a temporary file; its text into out. */
static void capture(void (*fn)(struct bench *), struct bench *b)
{
	char path[] = "/tmp/bench-common-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	FILE *f;
	size_t n;

	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	fn(b);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	unlink(path);
}

static void init(struct bench *b, int argc, char **argv)
{
	bench_init(b, "test-bench", "A test.", argc, argv);
}

START_TEST(spread_odd_even)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 };
	struct bench_spread s = bench_spread_of(odd, 3);

	ck_assert(s.min == 1 && s.median == 3 && s.max == 5 && s.runs == 3);
	s = bench_spread_of(even, 4);
	ck_assert(s.min == 1 && s.median == 2.5 && s.max == 4 && s.runs == 4);
}
END_TEST

static void emit_results(struct bench *b)
{
	double v[] = { 2.5, 1.5, 3.5 };

	bench_result(b, "lat", "us", bench_spread_of(v, 3));
	bench_value(b, "insns", "insn", 14);
}

START_TEST(result_lines)
{
	struct bench b;
	char *argv[] = { "x", NULL };

	init(&b, 1, argv);
	capture(emit_results, &b);
	ck_assert_str_eq(out, "RESULT bench=test-bench name=lat value=2.5 unit=us min=1.5 "
			      "median=2.5 max=3.5 runs=3\n"
			      "RESULT bench=test-bench name=insns value=14 unit=insn runs=1\n");
}
END_TEST

static void miss_target(struct bench *b)
{
	bench_target(b, "lat", 7.25, "us", BENCH_BELOW, 5);
	bench_target(b, "ratio", 0.95, "ratio", BENCH_AT_LEAST, 0.9);
}

START_TEST(missed_target_fails)
{
	struct bench b;
	char *argv[] = { "x", "--quick", NULL };

	init(&b, 2, argv);
	ck_assert(b.quick && !b.no_fail);
	capture(miss_target, &b);
	ck_assert_str_eq(out, "TARGET bench=test-bench name=lat value=7.25 unit=us want=<5 "
			      "result=fail\n"
			      "TARGET bench=test-bench name=ratio value=0.95 unit=ratio want=>=0.9 "
			      "result=pass\n");
	ck_assert_uint_eq(b.missed, 1);
	ck_assert_int_eq(bench_exit(&b), 1);
}
END_TEST

START_TEST(no_fail_explores)
{
	struct bench b;
	char *argv[] = { "x", "--no-fail", NULL };

	init(&b, 2, argv);
	capture(miss_target, &b);
	ck_assert_uint_eq(b.missed, 1);
	ck_assert_int_eq(bench_exit(&b), 0);
}
END_TEST

static void target_met(struct bench *b)
{
	bench_target(b, "lat", 4.999, "us", BENCH_BELOW, 5);
}

START_TEST(met_target_passes)
{
	struct bench b;
	char *argv[] = { "x", NULL };

	init(&b, 1, argv);
	capture(target_met, &b);
	ck_assert_ptr_nonnull(strstr(out, "result=pass"));
	ck_assert_int_eq(bench_exit(&b), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bench_common");
	TCase *tc = tcase_create("common");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, spread_odd_even);
	tcase_add_test(tc, result_lines);
	tcase_add_test(tc, missed_target_fails);
	tcase_add_test(tc, no_fail_explores);
	tcase_add_test(tc, met_target_passes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
