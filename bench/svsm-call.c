/* SPDX-License-Identifier: MIT */
/*
 * svsm-call: the round trip of an SVSM QUERY_PROTOCOL call from the OS at
 * VMPL3 to the monitor at VMPL0 and back, in the emulator: median time per
 * call, guest instructions and VMPL switches per call. Boot cost is removed
 * by subtracting a run with zero calls.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu.h"
#include "emu_run.h"

#define RUNS 7

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One boot doing `calls` calls; returns seconds, fills the exit. */
static double run(uint64_t calls, bool count, struct emu_exit *x)
{
	FILE *devnull = fopen("/dev/null", "w"); /* the monitor's banner */
	struct emu_config cfg = {
		.mem_size = 64ULL << 20, .nr_vcpus = 1, .count_insns = count, .console = devnull
	};
	struct emu_run_params p = { 0 };
	char err[256];
	struct emu_machine *m = emu_create(&cfg, err, sizeof(err));
	double t0, t1;

	if (!m || emu_load_elf(m, BENCH_OS, &p, err, sizeof(err))) {
		fprintf(stderr, "svsm-call: %s\n", err);
		exit(1);
	}
	memcpy(emu_gpa_ptr(m, p.entry + 8, 8), &calls, 8);
	p.cmdline = "";
	t0 = now();
	if (emu_run(m, &p, x) || x->kind != EMU_EXIT_KIND_TERMINATE || x->reason_code) {
		fprintf(stderr, "svsm-call: the benchmark OS failed (%s)\n", x->message);
		exit(1);
	}
	t1 = now();
	emu_destroy(m);
	fclose(devnull);
	return t1 - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 && !strcmp(argv[1], "-q") ? 2000 : 50000;
	double per[RUNS];
	struct emu_exit x0, x1;
	int i;

	if (argc > 1 && strcmp(argv[1], "-q")) {
		fprintf(stderr, "usage: svsm-call [-q]\n  -q  quick run (fewer calls)\n");
		return 2;
	}
	for (i = 0; i < RUNS; i++) {
		double base = run(0, false, &x0), full = run(n, false, &x1);

		per[i] = (full - base) / n;
	}
	qsort(per, RUNS, sizeof(per[0]), cmp);
	run(0, true, &x0);
	run(n, true, &x1);
	printf("svsm-call: SVSM QUERY_PROTOCOL round trip, OS (VMPL3) -> monitor (VMPL0) -> OS\n");
	printf("  calls per run           %" PRIu64 " (%d runs, boot cost subtracted)\n", n, RUNS);
	printf("  median time per call    %.2f us   (min %.2f, max %.2f)\n", per[RUNS / 2] * 1e6,
	       per[0] * 1e6, per[RUNS - 1] * 1e6);
	printf("  guest insns per call    %.1f\n", (double)(x1.insns - x0.insns) / n);
	printf("  VMPL switches per call  %.2f\n", (double)(x1.switches - x0.switches) / n);
	printf("  VMGEXITs per call       %.2f\n", (double)(x1.vmgexits - x0.vmgexits) / n);
	printf("  target: < 5 us median\n");
	printf("RESULT svsm_call_us=%.3f\n", per[RUNS / 2] * 1e6);
	return 0;
}
