/* SPDX-License-Identifier: MIT */
/*
 * trace-overhead - what --trace costs: emulator throughput with tracing off,
 * with event records only, and with every instruction recorded
 * (--trace-insns), on the emu-throughput workloads (alu, load, store at VMPL1
 * CPL0, bench/workloads), plus the event-heavy SVSM call workload of
 * svsm-call (an OS at VMPL3 calling the monitor at VMPL0: VMGEXITs, VMPL
 * switches, monitor call records). Figures are slowdowns against tracing
 * off, taken run by run (the modes take turns), as medians over RUNS runs with
 * min and max. Records go to a file in $TMPDIR (or /tmp), deleted afterwards,
 * so the cost includes writing them.
 *
 * Usage: trace-overhead [-q|--quick] [--no-fail]   (bench/common.h)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "emu.h"
#include "emu_run.h"
#include "trace.h"

#define MEM_SIZE (64ULL << 20)
#define LOAD_ADDR 0x10000ULL
#define PARAM_ADDR 0x8000ULL
#define RUNS 5

enum mode {
	OFF,
	EVENTS,
	INSNS,
	NR_MODES
};
static const char *const mode_names[] = { "off", "events", "insns" };

static char trace_path[512];

static void die(const char *what, const char *why)
{
	fprintf(stderr, "trace-overhead: %s: %s\n", what, why);
	exit(1);
}

static uint8_t *load_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die(path, strerror(errno));
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		die(path, "cannot read");
	fclose(f);
	*len = n;
	return buf;
}

/* Attach the recorder for `mode`; returns the trace size after closing. */
static void attach(struct emu_machine *m, enum mode mode, enum trace_mode tm)
{
	struct trace_setup s = { .mode = tm, .insns = mode == INSNS };
	char err[300];

	if (mode != OFF && emu_trace_open(m, trace_path, &s, err, sizeof(err)))
		die("emu_trace_open", err);
}

static uint64_t detach(struct emu_machine *m)
{
	struct stat st;
	char err[300];

	if (emu_trace_close(m, err, sizeof(err)))
		die("emu_trace_close", err);
	return stat(trace_path, &st) ? 0 : (uint64_t)st.st_size;
}

/* One exec run of a flat workload; returns seconds. */
static double run_exec(const uint8_t *code, size_t len, uint64_t iters, enum mode mode,
		       uint64_t *bytes)
{
	struct emu_config cfg = { .mem_size = MEM_SIZE, .nr_vcpus = 1 };
	struct emu_start st = { .rip = LOAD_ADDR, .vmpl = 1, .cpl = 0 };
	struct emu_exit x;
	char err[200];
	struct emu_machine *m = emu_create(&cfg, err, sizeof(err));
	uint8_t *p;
	double t0, t1;

	if (!m)
		die("emu_create", err);
	attach(m, mode, TRACE_MODE_EXEC);
	emu_rmp_assign(m, 0, MEM_SIZE, true);
	p = emu_gpa_ptr(m, 0, MEM_SIZE);
	memset(p + 0x100000, 0, 0x10000); /* the load/store buffer */
	memcpy(p + LOAD_ADDR, code, len);
	memcpy(p + PARAM_ADDR, &iters, 8);
	t0 = bench_now();
	if (emu_exec(m, &st, &x) || x.kind != EMU_EXIT_KIND_HLT)
		die("workload", x.message[0] ? x.message : emu_exit_kind_name(x.kind));
	t1 = bench_now();
	*bytes = mode == OFF ? 0 : detach(m);
	emu_destroy(m);
	return t1 - t0;
}

/* One boot of the SVSM call OS doing `calls` calls; returns seconds. */
static double run_calls(uint64_t calls, enum mode mode, uint64_t *bytes)
{
	FILE *devnull = fopen("/dev/null", "w");
	struct emu_config cfg = { .mem_size = MEM_SIZE, .nr_vcpus = 1, .console = devnull };
	struct emu_run_params p = { 0 };
	struct emu_exit x;
	char err[256];
	struct emu_machine *m = emu_create(&cfg, err, sizeof(err));
	double t0, t1;

	if (!m)
		die("emu_create", err);
	attach(m, mode, TRACE_MODE_RUN);
	if (emu_load_elf(m, BENCH_OS, &p, err, sizeof(err)))
		die("emu_load_elf", err);
	memcpy(emu_gpa_ptr(m, p.entry + 8, 8), &calls, 8);
	p.cmdline = "";
	t0 = bench_now();
	if (emu_run(m, &p, &x) || x.kind != EMU_EXIT_KIND_TERMINATE || x.reason_code)
		die("svsm call OS", x.message);
	t1 = bench_now();
	*bytes = mode == OFF ? 0 : detach(m);
	emu_destroy(m);
	fclose(devnull);
	return t1 - t0;
}

struct work {
	const char *name;
	uint64_t iters[NR_MODES]; /* the insns mode runs fewer: its records are 48 bytes each */
	uint64_t per_iter;	  /* guest instructions per iteration */
};

/* t[k][r]: seconds of run r in mode k for `per` units of work each. */
static void report(const struct bench *b, const char *name, const char *unit,
		   double t[NR_MODES][RUNS], const double per[NR_MODES], uint64_t insn_bytes)
{
	struct bench_spread sd[NR_MODES], off;
	double v[RUNS], insns_per_run = per[INSNS];
	char fig[96];
	unsigned k, r;

	for (k = EVENTS; k < NR_MODES; k++) {
		for (r = 0; r < RUNS; r++)
			v[r] = (t[k][r] / per[k]) / (t[OFF][r] / per[OFF]);
		sd[k] = bench_spread_of(v, RUNS);
	}
	for (r = 0; r < RUNS; r++)
		v[r] = per[OFF] / t[OFF][r];
	off = bench_spread_of(v, RUNS);
	printf("%-8s %14.3g %9.3f (%.3f-%.3f) %9.1f (%.1f-%.1f)   %8.1f\n", name, off.median,
	       sd[EVENTS].median, sd[EVENTS].min, sd[EVENTS].max, sd[INSNS].median, sd[INSNS].min,
	       sd[INSNS].max, insns_per_run ? insn_bytes / insns_per_run : 0.0);
	for (k = EVENTS; k < NR_MODES; k++) {
		snprintf(fig, sizeof(fig), "trace_overhead_%s_%s_slowdown", name, mode_names[k]);
		bench_ratio(b, fig, sd[k],
			    "time per unit of work with tracing / without, same round",
			    "tracing costs that factor (below 1: noise between the runs)");
	}
	snprintf(fig, sizeof(fig), "trace_overhead_%s_off", name);
	bench_result(b, fig, unit, off);
}

int main(int argc, char **argv)
{
	struct bench b;
	uint64_t q, calls[NR_MODES];
	struct work w[] = {
		{ "alu", { 60000000, 60000000, 250000 }, 8 },
		{ "load", { 25000000, 25000000, 250000 }, 8 },
		{ "store", { 25000000, 25000000, 250000 }, 8 },
	};
	const char *tmp = getenv("TMPDIR");
	double t[NR_MODES][RUNS], base[NR_MODES][RUNS], per[NR_MODES];
	uint64_t bytes[NR_MODES] = { 0 };
	unsigned i, k, r;

	bench_init(&b, "trace-overhead",
		   "What veil-emu --trace costs: emulator throughput with tracing off, with event\n"
		   "records only, and with every instruction recorded (--trace-insns).",
		   argc, argv);
	q = b.quick ? 10 : 1;
	snprintf(trace_path, sizeof(trace_path), "%s/trace-overhead-%d.trc",
		 tmp && *tmp ? tmp : "/tmp", (int)getpid());
	printf("trace-overhead: guest throughput with --trace off, events only, and every "
	       "instruction (--trace-insns); %d runs per mode, medians (min-max)\n\n",
	       RUNS);
	printf("%-8s %14s %25s %25s   %8s\n", "workload", "off (per s)", "x events", "x insns",
	       "B/insn");
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		char path[512];
		size_t len;
		uint8_t *code;

		snprintf(path, sizeof(path), "%s/%s.bin", BENCH_WORKLOAD_DIR, w[i].name);
		code = load_file(path, &len);
		/* Modes interleaved run by run, so that drift in machine load hits all alike. */
		for (r = 0; r < RUNS; r++)
			for (k = 0; k < NR_MODES; k++)
				t[k][r] = run_exec(code, len, w[i].iters[k] / q, k, &bytes[k]);
		for (k = 0; k < NR_MODES; k++)
			per[k] = (double)(w[i].iters[k] / q) * w[i].per_iter;
		free(code);
		report(&b, w[i].name, "insn/s", t, per, bytes[INSNS]);
	}
	for (k = 0; k < NR_MODES; k++) {
		calls[k] = 20000 / q;
		per[k] = calls[k];
	}
	/* Boot cost: the median of RUNS boots without calls, subtracted from every run
	 * (one boot's noise would otherwise swamp a short run's calls). */
	for (r = 0; r < RUNS; r++)
		for (k = 0; k < NR_MODES; k++) {
			base[k][r] = run_calls(0, k, &bytes[k]);
			t[k][r] = run_calls(calls[k], k, &bytes[k]);
		}
	for (k = 0; k < NR_MODES; k++) {
		double b0 = bench_spread_of(base[k], RUNS).median;

		for (r = 0; r < RUNS; r++)
			t[k][r] = t[k][r] - b0 > 1e-6 ? t[k][r] - b0 : 1e-6;
	}
	report(&b, "svsmcall", "calls/s", t, per, 0);
	printf("\n(off: instructions or calls per second; x = slowdown against tracing off; "
	       "B/insn = trace bytes per instruction with --trace-insns)\n");
	unlink(trace_path);
	return bench_exit(&b);
}
