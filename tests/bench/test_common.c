/* SPDX-License-Identifier: MIT */
/*
 * test_common.c - bench/common.c: the spread of runs, the RESULT and TARGET
 * lines, the exit status when a target is missed (with and without
 * --no-fail), figures per operation and per VMPL, run-by-run ratios, and a
 * test OS run's verdict and failure report. Output is captured through a
 * temporary file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

START_TEST(per_op_subtracts_the_baseline)
{
	ck_assert(bench_per_op(1300, 100, 400) == 3.0);
	/* A run below its baseline (noise in a count) is negative, not a wrapped
	 * 64-bit difference. */
	ck_assert(bench_per_op(90, 100, 4) == -2.5);
}
END_TEST

START_TEST(ratio_run_by_run)
{
	double num[] = { 3, 8, 2 }, den[] = { 1, 2, 2 };
	struct bench_spread s = bench_ratio_of(num, den, 3);

	/* 3, 4, 1: not the ratio of the medians (3 / 2). */
	ck_assert(s.min == 1 && s.median == 3 && s.max == 4 && s.runs == 3);
	ck_assert(num[0] == 3 && den[0] == 1); /* the inputs are left alone */
}
END_TEST

static void emit_vmpl(struct bench *b)
{
	double insns[] = { 10, 0, 2.5, 300 }, exits[] = { 1, 0, 0, 2 };

	bench_vmpl_values(b, "op_", "_image", insns, "insn", exits, "vmgexit");
}

START_TEST(vmpl_values_lines)
{
	struct bench b;
	char *argv[] = { "x", NULL };

	init(&b, 1, argv);
	capture(emit_vmpl, &b);
	ck_assert_str_eq(
		out,
		"RESULT bench=test-bench name=op_insns_vmpl0_image value=10 unit=insn runs=1\n"
		"RESULT bench=test-bench name=op_vmgexits_vmpl0_image value=1 unit=vmgexit runs=1\n"
		"RESULT bench=test-bench name=op_insns_vmpl1_image value=0 unit=insn runs=1\n"
		"RESULT bench=test-bench name=op_vmgexits_vmpl1_image value=0 unit=vmgexit runs=1\n"
		"RESULT bench=test-bench name=op_insns_vmpl2_image value=2.5 unit=insn runs=1\n"
		"RESULT bench=test-bench name=op_vmgexits_vmpl2_image value=0 unit=vmgexit runs=1\n"
		"RESULT bench=test-bench name=op_insns_vmpl3_image value=300 unit=insn runs=1\n"
		"RESULT bench=test-bench name=op_vmgexits_vmpl3_image value=2 unit=vmgexit runs=1\n");
}
END_TEST

static FILE *console(const char *text)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	return f;
}

START_TEST(console_verdict)
{
	FILE *ok = console("boot\nPASS bench-log\n"), *bad = console("PASS bench-log\nFAIL x\n"),
	     *none = console("boot\n");

	ck_assert(bench_console_ok(ok, "PASS bench-log"));
	ck_assert(!bench_console_ok(ok, "PASS bench-enclave"));
	ck_assert(!bench_console_ok(bad, "PASS bench-log"));
	ck_assert(!bench_console_ok(none, "PASS bench-log"));
	/* No PASS line needed: only no FAIL. */
	ck_assert(bench_console_ok(none, NULL));
	ck_assert(!bench_console_ok(bad, NULL));
	fclose(ok);
	fclose(bad);
	fclose(none);
}
END_TEST

START_TEST(os_failed_reports_and_exits)
{
	FILE *con = console("line 1\nFAIL line 2\n");
	char text[256];
	int fd[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(fd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		dup2(fd[1], STDERR_FILENO);
		bench_os_failed(con, "prog: the OS failed with \"%s\": code %u\n", "n=3", 7u);
	}
	close(fd[1]);
	while ((n = read(fd[0], text + got, sizeof(text) - 1 - got)) > 0)
		got += n;
	text[got] = 0;
	close(fd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	ck_assert_str_eq(text, "prog: the OS failed with \"n=3\": code 7\nline 1\nFAIL line 2\n");
	fclose(con);
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
	tcase_add_test(tc, per_op_subtracts_the_baseline);
	tcase_add_test(tc, ratio_run_by_run);
	tcase_add_test(tc, vmpl_values_lines);
	tcase_add_test(tc, console_verdict);
	tcase_add_test(tc, os_failed_reports_and_exits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
