/* SPDX-License-Identifier: MIT */
/*
 * image-mode: what the monitor's own code costs per operation, with the
 * native monitor and with the VMPL0 image `veil-monitor` run by the model
 * (image mode), measured in the same run: a VMPL round trip (the OS asks
 * for VMPL0 with no call pending), an SVSM call round trip
 * (QUERY_PROTOCOL), a module load/unload round (2 loads + 2 unloads through
 * the module service) and a secure-log append (an audited syscall).
 *
 * Per operation: median time, guest instructions, VMGEXITs and VMPL
 * switches, as (run doing N operations - baseline run) / N. The native
 * monitor executes no guest instructions, so its count is the OS's (VMPL3);
 * the image's extra count is VMPL0's, the hardware-independent cost of the
 * monitor's code. Switches are the same in both modes; the image makes one
 * more VMGEXIT per line the monitor prints (its console is the GHCB IOIO
 * event, the native monitor writes to the host directly).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "emu.h"
#include "emu_run.h"

#define RUNS 3

struct workload {
	const char *name;
	const char *key; /* the RESULT name prefix */
	const char *os;
	const char *base, *op; /* cmdline formats taking N */
	bool patch;	       /* a bench OS: N is patched in after its first jump */
	uint64_t n, n_quick;
};

static const struct workload workloads[] = {
	{ "VMPL round trip (run VMPL0 with no call pending, VMPL3 -> VMPL0 -> VMPL3)", "vmpl_rt",
	  BENCH_VMPL_OS, "", "", true, 20000, 2000 },
	{ "SVSM call round trip (QUERY_PROTOCOL, VMPL3 -> VMPL0 -> VMPL3)", "svsm_call", BENCH_OS,
	  "", "", true, 20000, 2000 },
	{ "module load/unload round (2 loads + 2 unloads, signed files)", "module_round",
	  BENCH_TESTOS, "test=bench-modules n=%" PRIu64 " path=none",
	  "test=bench-modules n=%" PRIu64 " path=veil", false, 10, 2 },
	{ "secure-log append (one audited syscall)", "log_append", BENCH_TESTOS,
	  "test=bench-log audit=off n=%" PRIu64, "test=bench-log audit=service n=%" PRIu64, false,
	  2000, 200 },
};

struct figures {
	double secs;
	uint64_t insns, switches, vmgexits;
};

/* One boot: the baseline (op false) or N operations, natively or in image mode. */
static struct figures run(const struct workload *w, const char *image, bool op, uint64_t n,
			  bool count)
{
	FILE *con = fopen("/dev/null", "w");
	struct emu_config cfg = {
		.mem_size = 64ULL << 20, .nr_vcpus = 1, .count_insns = count, .console = con
	};
	struct emu_run_params p = { 0 };
	uint64_t calls = op ? n : 0;
	char err[256] = "cannot open /dev/null", cmdline[96];
	struct emu_machine *m = con ? emu_create(&cfg, err, sizeof(err)) : NULL;
	struct emu_exit x;
	double t0;
	int rc;

	if (!m || emu_load_elf(m, w->os, &p, err, sizeof(err))) {
		fprintf(stderr, "image-mode: %s\n", err);
		exit(1);
	}
	if (w->patch)
		memcpy(emu_gpa_ptr(m, p.entry + 8, 8), &calls, 8);
	snprintf(cmdline, sizeof(cmdline), op ? w->op : w->base, n);
	p.cmdline = cmdline;
	t0 = bench_now();
	rc = image ? emu_run_image(m, &p, image, &x) : emu_run(m, &p, &x);
	if (rc || x.kind != EMU_EXIT_KIND_TERMINATE || x.reason_set != 2 || x.reason_code) {
		fprintf(stderr, "image-mode: the OS failed with \"%s\"%s: %s\n", cmdline,
			image ? " in image mode" : "", x.message);
		exit(1);
	}
	struct figures f = { bench_now() - t0, x.insns, x.switches, x.vmgexits };
	emu_destroy(m);
	fclose(con);
	return f;
}

struct per_op {
	struct bench_spread us;
	double insns, switches, vmgexits;
};

static void measure(const struct workload *w, const char *image, uint64_t n, struct per_op *r)
{
	double per[RUNS];
	struct figures b, o;
	int i;

	for (i = 0; i < RUNS; i++) {
		b = run(w, image, false, n, false);
		o = run(w, image, true, n, false);
		per[i] = (o.secs - b.secs) / n;
	}
	for (i = 0; i < RUNS; i++)
		per[i] *= 1e6;
	r->us = bench_spread_of(per, RUNS);
	b = run(w, image, false, n, true);
	o = run(w, image, true, n, true);
	r->insns = ((double)o.insns - (double)b.insns) / n;
	r->switches = ((double)o.switches - (double)b.switches) / n;
	r->vmgexits = ((double)o.vmgexits - (double)b.vmgexits) / n;
}

/* RESULT name for workload w: KEY_WHAT_MODE. */
static const char *fig(const struct workload *w, const char *what, const char *mode)
{
	static char name[96];

	snprintf(name, sizeof(name), "%s_%s_%s", w->key, what, mode);
	return name;
}

static void report(struct bench *b, const struct workload *w, uint64_t n)
{
	struct per_op nat, img;

	measure(w, NULL, n, &nat);
	measure(w, BENCH_IMAGE, n, &img);
	printf("%s\n", w->name);
	printf("  operations per run          %" PRIu64 " (%d runs, baseline subtracted)\n", n,
	       RUNS);
	printf("                              native       image\n");
	printf("  median time per op (us)     %-12.2f %.2f   (image/native %.2f)\n", nat.us.median,
	       img.us.median, img.us.median / nat.us.median);
	printf("  guest insns per op          %-12.1f %.1f\n", nat.insns, img.insns);
	printf("    at VMPL3 (the OS)         %-12.1f %.1f\n", nat.insns, nat.insns);
	printf("    at VMPL0 (the monitor)    %-12s %.1f\n", "(native)", img.insns - nat.insns);
	printf("  VMGEXITs per op             %-12.2f %.2f\n", nat.vmgexits, img.vmgexits);
	printf("  VMPL switches per op        %-12.2f %.2f\n", nat.switches, img.switches);
	bench_result(b, fig(w, "time", "native"), "us", nat.us);
	bench_result(b, fig(w, "time", "image"), "us", img.us);
	bench_value(b, fig(w, "insns_vmpl3", "image"), "insns", nat.insns);
	bench_value(b, fig(w, "insns_vmpl0", "image"), "insns", img.insns - nat.insns);
	bench_value(b, fig(w, "vmgexits", "image"), "count", img.vmgexits);
	bench_value(b, fig(w, "switches", "image"), "count", img.switches);
	/* Issue 11's targets on this machine, in image mode. */
	if (!strcmp(w->key, "svsm_call"))
		bench_target(b, "svsm_call_time_image", img.us.median, "us", BENCH_BELOW, 3.0);
	if (!strcmp(w->key, "vmpl_rt"))
		bench_target(b, "vmpl_rt_time_image", img.us.median, "us", BENCH_BELOW, 2.0);
}

int main(int argc, char **argv)
{
	struct bench b;
	unsigned i;

	bench_init(&b, "image-mode",
		   "the monitor's cost per operation (VMPL round trip, SVSM call, module\n"
		   "load/unload, log append) with the native monitor and with the VMPL0 image\n"
		   "run by the model, measured in the same run: time, guest instructions per\n"
		   "VMPL, VMGEXITs and VMPL switches per operation",
		   argc, argv);
	printf("image-mode: the monitor's cost per operation, native vs the VMPL0 image\n");
	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		report(&b, &workloads[i], b.quick ? workloads[i].n_quick : workloads[i].n);
	return bench_exit(&b);
}
