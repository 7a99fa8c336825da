/* SPDX-License-Identifier: MIT */
/*
 * svsm-call: the round trip of an SVSM QUERY_PROTOCOL call from the OS at
 * VMPL3 to the monitor at VMPL0 and back, in the emulator: time per call
 * (median over RUNS runs, with min and max), guest instructions and VMPL
 * switches per call. Boot cost is removed by subtracting the median of RUNS
 * boots with zero calls.
 *
 * Both monitors are measured in the same run: the native one (host code) and
 * the VMPL0 image `veil-monitor` run by the model (image mode), with guest
 * instructions and VMGEXITs per call for each VMPL (the model counts them
 * by the VMPL that ran them); issue 11's target applies to image mode.
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

/* One boot doing `calls` calls (with the VMPL0 image if `image`); returns
 * seconds, fills the exit. */
static double run(uint64_t calls, bool count, bool image, struct emu_exit *x)
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
	if ((image ? emu_run_image(m, &p, BENCH_IMAGE, x) : emu_run(m, &p, x)) ||
	    x->kind != EMU_EXIT_KIND_TERMINATE || x->reason_code) {
		fprintf(stderr, "svsm-call: the benchmark OS failed (%s)\n", x->message);
		exit(1);
	}
	t1 = bench_now();
	emu_destroy(m);
	fclose(devnull);
	return t1 - t0;
}

#define TARGET_US 5.0	    /* the design goal for one SVSM call round trip */
#define TARGET_IMAGE_US 3.0 /* issue 11: in image mode */

/* Microseconds per call over RUNS runs of n calls, boot cost subtracted. */
static struct bench_spread per_call(uint64_t n, bool image)
{
	double per[RUNS], base[RUNS], b0;
	struct emu_exit x;
	int i;

	/* Boot cost: the median of RUNS boots without calls, subtracted from every
	 * run (one boot's noise would otherwise swamp a short run's calls). */
	for (i = 0; i < RUNS; i++) {
		base[i] = run(0, false, image, &x);
		per[i] = run(n, false, image, &x);
	}
	b0 = bench_spread_of(base, RUNS).median;
	for (i = 0; i < RUNS; i++)
		per[i] = (per[i] - b0) / n * 1e6;
	return bench_spread_of(per, RUNS);
}

int main(int argc, char **argv)
{
	struct bench b;
	uint64_t n;
	struct bench_spread s, si;
	struct emu_exit x0, x1, i0, i1;
	double insns[4], exits[4];
	int v;

	bench_init(&b, "svsm-call",
		   "The round trip of an SVSM QUERY_PROTOCOL call from an OS at VMPL3 to the\n"
		   "Veil monitor at VMPL0 and back, in the emulator (boot cost subtracted), with\n"
		   "the native monitor and with the VMPL0 image (image mode) in the same run.",
		   argc, argv);
	n = b.quick ? 2000 : 50000;
	s = per_call(n, false);
	si = per_call(n, true);
	run(0, true, false, &x0);
	run(n, true, false, &x1);
	run(0, true, true, &i0);
	run(n, true, true, &i1);
	printf("svsm-call: SVSM QUERY_PROTOCOL round trip, OS (VMPL3) -> monitor (VMPL0) -> OS\n");
	printf("  calls per run           %" PRIu64 " (%d runs, boot cost subtracted)\n", n, RUNS);
	printf("                          native monitor       VMPL0 image\n");
	printf("  time per call (us)      %-8.2f (%.2f-%.2f)  %.2f (%.2f-%.2f)\n", s.median, s.min,
	       s.max, si.median, si.min, si.max);
	printf("  guest insns per call    %-20.1f %.1f\n", bench_per_op(x1.insns, x0.insns, n),
	       bench_per_op(i1.insns, i0.insns, n));
	for (v = 3; v >= 0; v--)
		printf("    at VMPL%d              %-20.1f %.1f%s\n", v,
		       bench_per_op(x1.insns_vmpl[v], x0.insns_vmpl[v], n),
		       bench_per_op(i1.insns_vmpl[v], i0.insns_vmpl[v], n),
		       v ? "" : "   (native: host code, not counted)");
	printf("  VMGEXITs per call       %-20.2f %.2f\n",
	       bench_per_op(x1.vmgexits, x0.vmgexits, n),
	       bench_per_op(i1.vmgexits, i0.vmgexits, n));
	for (v = 3; v >= 0; v--)
		printf("    by VMPL%d              %-20.2f %.2f\n", v,
		       bench_per_op(x1.vmgexits_vmpl[v], x0.vmgexits_vmpl[v], n),
		       bench_per_op(i1.vmgexits_vmpl[v], i0.vmgexits_vmpl[v], n));
	printf("  VMPL switches per call  %-20.2f %.2f\n",
	       bench_per_op(x1.switches, x0.switches, n),
	       bench_per_op(i1.switches, i0.switches, n));
	printf("  image / native time     %.2f\n", si.median / s.median);
	printf("  (a min below 0: that run was faster than the median boot without calls)\n");
	bench_result(&b, "svsm_call", "us", s);
	bench_value(&b, "svsm_call_insns", "insn", bench_per_op(x1.insns, x0.insns, n));
	bench_value(&b, "svsm_call_switches", "switch", bench_per_op(x1.switches, x0.switches, n));
	bench_value(&b, "svsm_call_vmgexits", "vmgexit", bench_per_op(x1.vmgexits, x0.vmgexits, n));
	bench_result(&b, "svsm_call_image", "us", si);
	for (v = 0; v < 4; v++) {
		insns[v] = bench_per_op(i1.insns_vmpl[v], i0.insns_vmpl[v], n);
		exits[v] = bench_per_op(i1.vmgexits_vmpl[v], i0.vmgexits_vmpl[v], n);
	}
	bench_vmpl_values(&b, "svsm_call_image_", "", insns, "insn", exits, "vmgexit");
	bench_value(&b, "svsm_call_image_switches", "switch",
		    bench_per_op(i1.switches, i0.switches, n));
	bench_target(&b, "svsm_call", s.median, "us", BENCH_BELOW, TARGET_US);
	bench_target(&b, "svsm_call_image", si.median, "us", BENCH_BELOW, TARGET_IMAGE_US);
	return bench_exit(&b);
}
