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

#include "emu.h"
#include "emu_run.h"

#define RUNS 3

struct workload {
	const char *name;
	const char *os;
	const char *base, *op; /* cmdline formats taking N */
	bool patch;	       /* a bench OS: N is patched in after its first jump */
	uint64_t n, n_quick;
};

static const struct workload workloads[] = {
	{ "VMPL round trip (run VMPL0 with no call pending, VMPL3 -> VMPL0 -> VMPL3)",
	  BENCH_VMPL_OS, "", "", true, 20000, 2000 },
	{ "SVSM call round trip (QUERY_PROTOCOL, VMPL3 -> VMPL0 -> VMPL3)", BENCH_OS, "", "", true,
	  20000, 2000 },
	{ "module load/unload round (2 loads + 2 unloads, signed files)", BENCH_TESTOS,
	  "test=bench-modules n=%" PRIu64 " path=none",
	  "test=bench-modules n=%" PRIu64 " path=veil", false, 10, 2 },
	{ "secure-log append (one audited syscall)", BENCH_TESTOS,
	  "test=bench-log audit=off n=%" PRIu64, "test=bench-log audit=service n=%" PRIu64, false,
	  2000, 200 },
};

struct figures {
	double secs;
	uint64_t insns, switches, vmgexits;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

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
	t0 = now();
	rc = image ? emu_run_image(m, &p, image, &x) : emu_run(m, &p, &x);
	if (rc || x.kind != EMU_EXIT_KIND_TERMINATE || x.reason_set != 2 || x.reason_code) {
		fprintf(stderr, "image-mode: the OS failed with \"%s\"%s: %s\n", cmdline,
			image ? " in image mode" : "", x.message);
		exit(1);
	}
	struct figures f = { now() - t0, x.insns, x.switches, x.vmgexits };
	emu_destroy(m);
	fclose(con);
	return f;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct per_op {
	double us, insns, switches, vmgexits;
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
	qsort(per, RUNS, sizeof(per[0]), cmp);
	b = run(w, image, false, n, true);
	o = run(w, image, true, n, true);
	r->us = per[RUNS / 2] * 1e6;
	r->insns = ((double)o.insns - (double)b.insns) / n;
	r->switches = ((double)o.switches - (double)b.switches) / n;
	r->vmgexits = ((double)o.vmgexits - (double)b.vmgexits) / n;
}

static void report(const struct workload *w, uint64_t n)
{
	struct per_op nat, img;

	measure(w, NULL, n, &nat);
	measure(w, BENCH_IMAGE, n, &img);
	printf("%s\n", w->name);
	printf("  operations per run          %" PRIu64 " (%d runs, baseline subtracted)\n", n,
	       RUNS);
	printf("                              native       image\n");
	printf("  median time per op (us)     %-12.2f %.2f   (image/native %.2f)\n", nat.us, img.us,
	       img.us / nat.us);
	printf("  guest insns per op          %-12.1f %.1f\n", nat.insns, img.insns);
	printf("    at VMPL3 (the OS)         %-12.1f %.1f\n", nat.insns, nat.insns);
	printf("    at VMPL0 (the monitor)    %-12s %.1f\n", "(native)", img.insns - nat.insns);
	printf("  VMGEXITs per op             %-12.2f %.2f\n", nat.vmgexits, img.vmgexits);
	printf("  VMPL switches per op        %-12.2f %.2f\n", nat.switches, img.switches);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "-q");
	unsigned i;

	if (argc > 2 || (argc > 1 && !quick)) {
		fprintf(stderr, "usage: image-mode [-q]\n  -q  quick run (fewer operations)\n");
		return 2;
	}
	printf("image-mode: the monitor's cost per operation, native vs the VMPL0 image\n");
	for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		report(&workloads[i], quick ? workloads[i].n_quick : workloads[i].n);
	printf("targets in image mode: SVSM call round trip < 3 us, VMPL round trip < 2 us\n");
	return 0;
}
