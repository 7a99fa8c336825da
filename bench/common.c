/* SPDX-License-Identifier: MIT */
/* common.c - the benchmarks' shared command line and output (common.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

/* Laid out for people and for help2man (the man pages are made from it). */
static void usage(const char *name, const char *what, FILE *f)
{
	fprintf(f,
		"usage: %s [-q|--quick] [--no-fail]\n"
		"%s\n"
		"\n"
		"Options:\n"
		"  -q, --quick   shorter runs (a smoke test; figures are noisier)\n"
		"  --no-fail     exit 0 even when a stated target is missed (for exploring)\n"
		"  -h, --help    this help\n"
		"  --version     the Veil version\n"
		"\n"
		"Output: lines for people, and one line per figure:\n"
		"\n"
		"  RESULT bench=NAME name=FIGURE value=V unit=U [min=A median=V max=Z] runs=N\n"
		"\n"
		"  TARGET bench=NAME name=FIGURE value=V unit=U want=<BOUND|>=BOUND "
		"result=pass|fail\n"
		"\n"
		"A figure over several runs is their median, with min and max beside it.\n"
		"\n"
		"Exit status: 0 ok, 1 a run failed or a target was missed, 2 usage error.\n",
		name, what);
}

void bench_init(struct bench *b, const char *name, const char *what, int argc, char **argv)
{
	int i;

	memset(b, 0, sizeof(*b));
	b->name = name;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(name, what, stdout);
			exit(0);
		} else if (!strcmp(a, "--version")) {
			printf("%s (Veil) %s\n", name, BENCH_VERSION);
			exit(0);
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quick")) {
			b->quick = true;
		} else if (!strcmp(a, "--no-fail")) {
			b->no_fail = true;
		} else {
			fprintf(stderr, "%s: unknown option '%s' (try --help)\n", name, a);
			exit(2);
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct bench_spread bench_spread_of(double *v, unsigned n)
{
	struct bench_spread s = { 0, 0, 0, n };

	if (!n)
		return s;
	qsort(v, n, sizeof(v[0]), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

void bench_result(const struct bench *b, const char *name, const char *unit, struct bench_spread s)
{
	printf("RESULT bench=%s name=%s value=%.6g unit=%s min=%.6g median=%.6g max=%.6g runs=%u\n",
	       b->name, name, s.median, unit, s.min, s.median, s.max, s.runs);
}

void bench_value(const struct bench *b, const char *name, const char *unit, double v)
{
	printf("RESULT bench=%s name=%s value=%.6g unit=%s runs=1\n", b->name, name, v, unit);
}

void bench_ratio(const struct bench *b, const char *name, struct bench_spread s, const char *defn,
		 const char *above1)
{
	printf("  %s = %s; above 1: %s\n", name, defn, above1);
	bench_result(b, name, "ratio", s);
}

void bench_target(struct bench *b, const char *name, double value, const char *unit,
		  enum bench_op op, double bound)
{
	bool pass = op == BENCH_BELOW ? value < bound : value >= bound;

	printf("TARGET bench=%s name=%s value=%.6g unit=%s want=%s%.6g result=%s\n", b->name, name,
	       value, unit, op == BENCH_BELOW ? "<" : ">=", bound, pass ? "pass" : "fail");
	if (!pass)
		b->missed++;
}

int bench_exit(const struct bench *b)
{
	fflush(stdout);
	if (b->missed && !b->no_fail) {
		fprintf(stderr, "%s: %u target(s) missed (--no-fail to explore without failing)\n",
			b->name, b->missed);
		return 1;
	}
	return 0;
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

bool bench_console_ok(FILE *con, const char *pass)
{
	char line[512];
	bool passed = !pass, failed = false;

	rewind(con);
	while (fgets(line, sizeof(line), con)) {
		passed |= pass && !strncmp(line, pass, strlen(pass));
		failed |= !strncmp(line, "FAIL", 4);
	}
	return passed && !failed;
}

void bench_os_failed(FILE *con, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	rewind(con);
	while (fgets(line, sizeof(line), con))
		fputs(line, stderr);
	exit(1);
}

double bench_per_op(uint64_t run, uint64_t base, uint64_t n)
{
	return ((double)run - (double)base) / (double)n;
}

struct bench_spread bench_ratio_of(const double *num, const double *den, unsigned n)
{
	double *r = malloc((n ? n : 1) * sizeof(*r));
	struct bench_spread s;
	unsigned i;

	if (!r) {
		fprintf(stderr, "bench: out of memory\n");
		exit(2);
	}
	for (i = 0; i < n; i++)
		r[i] = num[i] / den[i];
	s = bench_spread_of(r, n);
	free(r);
	return s;
}

void bench_vmpl_values(const struct bench *b, const char *prefix, const char *suffix,
		       const double insns[4], const char *insn_unit, const double vmgexits[4],
		       const char *exit_unit)
{
	char name[96];
	int v;

	for (v = 0; v < 4; v++) {
		snprintf(name, sizeof(name), "%sinsns_vmpl%d%s", prefix, v, suffix);
		bench_value(b, name, insn_unit, insns[v]);
		snprintf(name, sizeof(name), "%svmgexits_vmpl%d%s", prefix, v, suffix);
		bench_value(b, name, exit_unit, vmgexits[v]);
	}
}

uint8_t *bench_read_file(const char *prog, const char *path, size_t *len)
{
	FILE *f = (errno = 0, fopen(path, "rb"));
	uint8_t *buf = NULL;
	long n = -1;

	if (f && !fseek(f, 0, SEEK_END))
		n = ftell(f);
	if (n >= 0 && !fseek(f, 0, SEEK_SET))
		buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read %s: %s\n", prog, path,
			errno ? strerror(errno) : "short read");
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}
