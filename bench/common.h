/* SPDX-License-Identifier: MIT */
/*
 * common.h - what every benchmark program shares: its command line (-h/--help,
 * --version, -q/--quick, --no-fail, "unknown option"), the spread of repeated
 * measurements, and the one machine-readable output format (README
 * "Benchmarks"):
 *
 *   RESULT bench=B name=N value=V unit=U [min=A median=V max=Z] runs=R
 *   TARGET bench=B name=N value=V unit=U want=OPBOUND result=pass|fail
 *
 * one line per figure, fields separated by single spaces, no spaces inside a
 * value. A figure measured over several runs is their median, with min and
 * max beside it; a figure measured once (instruction counts) has runs=1 and
 * no spread. Everything else a benchmark prints is for people.
 */
#ifndef VEIL_BENCH_COMMON_H
#define VEIL_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bench {
	const char *name; /* program name, the bench= field */
	bool quick;	  /* -q/--quick: shorter runs, for a smoke test */
	bool no_fail;	  /* --no-fail: a missed target does not change the exit status */
	unsigned missed;  /* targets missed so far */
};

struct bench_spread {
	double min, median, max;
	unsigned runs;
};

/*
 * Parse the command line. `what` is the program's one-paragraph description
 * for --help (the first line of the usage). -h/--help and --version print to
 * stdout and exit 0; anything else unknown prints one line and exits 2.
 */
void bench_init(struct bench *b, const char *name, const char *what, int argc, char **argv);

/* Median, min and max of v[0..n-1] (sorts v). */
struct bench_spread bench_spread_of(double *v, unsigned n);

/* A median over runs, with its spread. */
void bench_result(const struct bench *b, const char *name, const char *unit, struct bench_spread s);
/* A figure measured once. */
void bench_value(const struct bench *b, const char *name, const char *unit, double v);
/*
 * A ratio num/den (median over runs, with spread); `defn` says what is
 * divided by what and `above1` what a ratio above 1 means, printed beside it
 * for people.
 */
void bench_ratio(const struct bench *b, const char *name, struct bench_spread s, const char *defn,
		 const char *above1);

/*
 * Per operation: (a run doing n operations - the baseline run) / n, for a
 * count taken from both runs (instructions, switches, VMGEXITs).
 */
double bench_per_op(uint64_t run, uint64_t base, uint64_t n);

/* The run-by-run ratios num[i] / den[i] of n runs, as a spread. */
struct bench_spread bench_ratio_of(const double *num, const double *den, unsigned n);

/*
 * Figures measured once for each VMPL (0..3), per operation: guest
 * instructions as PREFIX "insns_vmpl" V SUFFIX in `insn_unit`, and VMGEXITs
 * as PREFIX "vmgexits_vmpl" V SUFFIX in `exit_unit`.
 */
void bench_vmpl_values(const struct bench *b, const char *prefix, const char *suffix,
		       const double insns[4], const char *insn_unit, const double vmgexits[4],
		       const char *exit_unit);

enum bench_op {
	BENCH_BELOW,
	BENCH_AT_LEAST
};
/* Check a stated target: a TARGET line, and a missed target counts. */
void bench_target(struct bench *b, const char *name, double value, const char *unit,
		  enum bench_op op, double bound);

/* Seconds on the monotonic clock. */
/* The whole file at `path` (malloc'd; *len its size), or a line naming
 * `prog` and the path on stderr and exit status 2. */
uint8_t *bench_read_file(const char *prog, const char *path, size_t *len);

double bench_now(void);

/* A test OS run's own verdict on its console (a file): a line starting with
 * `pass` (e.g. "PASS bench-log"; NULL: none needed) and no line starting
 * with "FAIL". */
bool bench_console_ok(FILE *con, const char *pass);

/* A test OS run failed: the printf-style message, then its console (a
 * file), on stderr; exit status 1. */
void bench_os_failed(FILE *con, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* The exit status: 0, or 1 when a target was missed (unless --no-fail). */
int bench_exit(const struct bench *b);

#endif
