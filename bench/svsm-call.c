/* SPDX-License-Identifier: MIT */
/*
 * svsm-call: the round trip of an SVSM QUERY_PROTOCOL call from the OS at
 * VMPL3 to the monitor at VMPL0 and back, in the emulator: time per call
 * (median over RUNS runs, with min and max), guest instructions and VMPL
 * switches per call. Boot cost is removed by subtracting the median of RUNS
 * boots with zero calls.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "emu.h"
#include "emu_run.h"

#define RUNS 7

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
	t0 = bench_now();
	if (emu_run(m, &p, x) || x->kind != EMU_EXIT_KIND_TERMINATE || x->reason_code) {
		fprintf(stderr, "svsm-call: the benchmark OS failed (%s)\n", x->message);
		exit(1);
	}
	t1 = bench_now();
	emu_destroy(m);
	fclose(devnull);
	return t1 - t0;
}

#define TARGET_US 5.0 /* the design goal for one SVSM call round trip */

int main(int argc, char **argv)
{
	struct bench b;
	uint64_t n;
	double per[RUNS], base[RUNS], b0;
	struct bench_spread s;
	struct emu_exit x0, x1;
	int i;

	bench_init(&b, "svsm-call",
		   "The round trip of an SVSM QUERY_PROTOCOL call from an OS at VMPL3 to the\n"
		   "Veil monitor at VMPL0 and back, in the emulator (boot cost subtracted).",
		   argc, argv);
	n = b.quick ? 2000 : 50000;
	/* Boot cost: the median of RUNS boots without calls, subtracted from every
	 * run (one boot's noise would otherwise swamp a short run's calls). */
	for (i = 0; i < RUNS; i++) {
		base[i] = run(0, false, &x0);
		per[i] = run(n, false, &x1);
	}
	b0 = bench_spread_of(base, RUNS).median;
	for (i = 0; i < RUNS; i++)
		per[i] = (per[i] - b0) / n * 1e6;
	s = bench_spread_of(per, RUNS);
	run(0, true, &x0);
	run(n, true, &x1);
	printf("svsm-call: SVSM QUERY_PROTOCOL round trip, OS (VMPL3) -> monitor (VMPL0) -> OS\n");
	printf("  calls per run           %" PRIu64 " (%d runs, boot cost subtracted)\n", n, RUNS);
	printf("  time per call           median %.2f us   (min %.2f, max %.2f)\n", s.median, s.min,
	       s.max);
	printf("  guest insns per call    %.1f\n", (double)(x1.insns - x0.insns) / n);
	printf("  VMPL switches per call  %.2f\n", (double)(x1.switches - x0.switches) / n);
	printf("  VMGEXITs per call       %.2f\n", (double)(x1.vmgexits - x0.vmgexits) / n);
	printf("  (a min below 0: that run was faster than the median boot without calls)\n");
	bench_result(&b, "svsm_call", "us", s);
	bench_value(&b, "svsm_call_insns", "insn", (double)(x1.insns - x0.insns) / n);
	bench_value(&b, "svsm_call_switches", "switch", (double)(x1.switches - x0.switches) / n);
	bench_value(&b, "svsm_call_vmgexits", "vmgexit", (double)(x1.vmgexits - x0.vmgexits) / n);
	bench_target(&b, "svsm_call", s.median, "us", BENCH_BELOW, TARGET_US);
	return bench_exit(&b);
}
