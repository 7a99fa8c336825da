/* SPDX-License-Identifier: MIT */
/*
 * image-mode: what the monitor's own code costs per operation, with the
 * native monitor and with the VMPL0 image `veil-monitor` run by the model
 * (image mode), measured in the same run: a VMPL round trip (the OS asks
 * for VMPL0 with no call pending), an SVSM call round trip
 * (QUERY_PROTOCOL), a module load/unload round (2 loads + 2 unloads through
 * the module service) and a secure-log append (an audited syscall).
 *
 * Per operation: median time, guest instructions and VMGEXITs per VMPL (the
 * model counts them by the VMPL that ran them) and VMPL switches, as (run
 * doing N operations - baseline run) / N. The native monitor executes no
 * guest instructions; the image's VMPL0 count is the hardware-independent
 * cost of the monitor's code. Switches are the same in both modes; the
 * image makes one more VMGEXIT per line the monitor prints (its console is
 * the GHCB IOIO event, the native monitor writes to the host directly).
 * From the image's counts, the cycle model (docs/cycle-model.md) predicts
 * the time per operation on EPYC.
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
	uint64_t insns[4], switches, vmgexits[4]; /* per VMPL */
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
	struct figures f = { .secs = bench_now() - t0, .switches = x.switches };

	memcpy(f.insns, x.insns_vmpl, sizeof(f.insns));
	memcpy(f.vmgexits, x.vmgexits_vmpl, sizeof(f.vmgexits));
	emu_destroy(m);
	fclose(con);
	return f;
}

struct per_op {
	struct bench_spread us;
	double insns[4], switches, vmgexits[4]; /* per VMPL */
	double all_insns, all_vmgexits;
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
	r->switches = bench_per_op(o.switches, b.switches, n);
	r->all_insns = r->all_vmgexits = 0;
	for (i = 0; i < 4; i++) {
		r->insns[i] = bench_per_op(o.insns[i], b.insns[i], n);
		r->vmgexits[i] = bench_per_op(o.vmgexits[i], b.vmgexits[i], n);
		r->all_insns += r->insns[i];
		r->all_vmgexits += r->vmgexits[i];
	}
}

/* RESULT name for workload w: KEY_WHAT_MODE. */
static const char *fig(const struct workload *w, const char *what, const char *mode)
{
	static char name[96];

	snprintf(name, sizeof(name), "%s_%s_%s", w->key, what, mode);
	return name;
}

/*
 * The cycle model (docs/cycle-model.md): on EPYC, an operation costs its
 * guest instructions at CYCLES_PER_INSN plus, per VMGEXIT, one SNP world
 * switch out to the hypervisor and back (CYCLES_PER_VMGEXIT, which covers a
 * VMPL switch: KVM runs the other VMPL's VMSA instead of the same one).
 * Printed for the image's counts, with the low and high ends of the
 * published range, at the clock of VEIL's EPYC 7443P (Milan).
 */
#define CYCLES_PER_INSN 1.0
#define CYCLES_PER_VMGEXIT_LOW 2000.0
#define CYCLES_PER_VMGEXIT 3500.0
#define CYCLES_PER_VMGEXIT_HIGH 6000.0
#define EPYC_GHZ 2.85

static void predict(struct bench *b, const struct workload *w, const struct per_op *img)
{
	double insn = img->all_insns * CYCLES_PER_INSN;
	double mid = (insn + img->all_vmgexits * CYCLES_PER_VMGEXIT) / (EPYC_GHZ * 1e3);
	double lo = (insn + img->all_vmgexits * CYCLES_PER_VMGEXIT_LOW) / (EPYC_GHZ * 1e3);
	double hi = (insn + img->all_vmgexits * CYCLES_PER_VMGEXIT_HIGH) / (EPYC_GHZ * 1e3);

	printf("  predicted on EPYC 7443P     %.2f us (%.2f-%.2f; docs/cycle-model.md)\n", mid, lo,
	       hi);
	printf("    of which world switches   %.0f%%\n",
	       100.0 * img->all_vmgexits * CYCLES_PER_VMGEXIT /
		       (insn + img->all_vmgexits * CYCLES_PER_VMGEXIT));
	bench_value(b, fig(w, "predicted_epyc", "us"), "us", mid);
}

static void report(struct bench *b, const struct workload *w, uint64_t n)
{
	struct per_op nat, img;
	char key[32];

	measure(w, NULL, n, &nat);
	measure(w, BENCH_IMAGE, n, &img);
	printf("%s\n", w->name);
	printf("  operations per run          %" PRIu64 " (%d runs, baseline subtracted)\n", n,
	       RUNS);
	printf("                              native       image\n");
	printf("  median time per op (us)     %-12.2f %.2f   (image/native %.2f)\n", nat.us.median,
	       img.us.median, img.us.median / nat.us.median);
	printf("  guest insns per op          %-12.1f %.1f\n", nat.all_insns, img.all_insns);
	for (int v = 3; v >= 0; v--)
		if (v == 0)
			printf("    at VMPL0 (the monitor)    %-12s %.1f\n", "(host code)",
			       img.insns[0]);
		else
			printf("    at VMPL%d                  %-12.1f %.1f\n", v, nat.insns[v],
			       img.insns[v]);
	printf("  VMGEXITs per op             %-12.2f %.2f\n", nat.all_vmgexits, img.all_vmgexits);
	for (int v = 3; v >= 0; v--)
		printf("    by VMPL%d                  %-12.2f %.2f\n", v, nat.vmgexits[v],
		       img.vmgexits[v]);
	printf("  VMPL switches per op        %-12.2f %.2f\n", nat.switches, img.switches);
	predict(b, w, &img);
	bench_result(b, fig(w, "time", "native"), "us", nat.us);
	bench_result(b, fig(w, "time", "image"), "us", img.us);
	snprintf(key, sizeof(key), "%s_", w->key);
	bench_vmpl_values(b, key, "_image", img.insns, "insns", img.vmgexits, "count");
	bench_value(b, fig(w, "vmgexits", "image"), "count", img.all_vmgexits);
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
