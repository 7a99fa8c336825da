/* SPDX-License-Identifier: MIT */
/*
 * switch-profile: one image-mode boot of the VMPL round-trip OS (or, with
 * `svsm`, the SVSM-call OS) doing N operations, for profiling the model's
 * world-switch path. Not a benchmark (no RESULT lines, no baseline): run it
 * with N = 0 and with N > 0 under a deterministic profiler and divide the
 * difference, e.g. host instructions per VMPL round trip:
 *
 *   valgrind --tool=callgrind build/bench/switch-profile 0
 *   valgrind --tool=callgrind build/bench/switch-profile 10000
 *   (Ir of the second - Ir of the first) / 10000
 *
 * It prints the process's CPU time for the run (less disturbed than wall
 * time by other jobs on a shared machine), for the same subtraction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu.h"
#include "emu_run.h"

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	FILE *con = fopen("/dev/null", "w");
	struct emu_config cfg = { .mem_size = 64ULL << 20, .nr_vcpus = 1, .console = con };
	struct emu_run_params p = { .cmdline = "" };
	char err[256] = "cannot open /dev/null", *end;
	struct emu_machine *m;
	struct emu_exit x;
	uint64_t n;
	const char *os = BENCH_VMPL_OS;
	double t0;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "svsm"))) {
		fprintf(stderr, "usage: %s N [svsm]\n", argv[0]);
		return 2;
	}
	n = strtoull(argv[1], &end, 0);
	if (!*argv[1] || *end || argv[1][0] == '-') {
		fprintf(stderr, "switch-profile: N must be a number, got \"%s\"\n", argv[1]);
		return 2;
	}
	if (argc == 3)
		os = BENCH_OS;
	m = con ? emu_create(&cfg, err, sizeof(err)) : NULL;
	if (!m || emu_load_elf(m, os, &p, err, sizeof(err))) {
		fprintf(stderr, "switch-profile: %s\n", err);
		return 1;
	}
	memcpy(emu_gpa_ptr(m, p.entry + 8, 8), &n, 8); /* the count after the OS's first jump */
	t0 = cpu_now();
	if (emu_run_image(m, &p, BENCH_IMAGE, &x) || x.kind != EMU_EXIT_KIND_TERMINATE ||
	    x.reason_set != 2 || x.reason_code) {
		fprintf(stderr, "switch-profile: the OS failed: %s\n", x.message);
		return 1;
	}
	printf("%" PRIu64 " %s in image mode: %.6f s CPU time, %" PRIu64 " VMPL switches\n", n,
	       argc == 3 ? "SVSM calls" : "VMPL round trips", cpu_now() - t0, x.switches);
	emu_destroy(m);
	fclose(con);
	return 0;
}
