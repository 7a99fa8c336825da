/* SPDX-License-Identifier: MIT */
/*
 * enclave-bench: the same work inside an enclave and natively in the test
 * OS, with the monitor running as the VMPL0 image (image mode, as deployed),
 * so that both sides are code the model executes, in one run.
 *
 * The test OS (test=bench-enclave, guest/kernel/enclave.c) runs N rounds of
 * one workload either in the probe enclave (ENTER, ocalls served by the host
 * library) or natively in the kernel. One call each of the VEIL prototype's
 * syscall set: getpid, open (+ close), read, write, printf, mmap (+ munmap),
 * socket (+ close): in the enclave each is one or two ocalls, an enclave ->
 * monitor -> OS -> monitor -> enclave round trip with copies; "proto" is the
 * whole set in one round (10 ocalls), "compute" a xorshift loop (no exits).
 * The native calls are plain calls of the same handlers in the kernel (no
 * ring change), a lower bound for a native process, so the syscall ratios
 * overstate the enclave's cost. Both sides must compute the same result.
 *
 * Each per-operation figure subtracts a boot with N = 0 on the same side
 * (for the enclave that includes CREATE and DESTROY) and divides by N; for
 * the syscalls the native side runs 10 to 1000 times the rounds of the
 * enclave side so that its work stands out of the boot's spread. Times are the emulating
 * thread's CPU time, medians over RUNS rounds (min and max beside them);
 * guest instructions per VMPL (0 the monitor image, 2 the enclave, 3 the
 * OS) and VMPL switches come from one counted boot, and their ratio (all
 * guest instructions per operation, enclave / native) is the figure that
 * does not depend on the host.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <veil/abi.h>

#include "common.h"
#include "emu.h"
#include "emu_run.h"

#define RUNS 5
#define MEM_MIB 16	      /* the smallest guest: the boot is what gets subtracted */
#define PAPER "5-69%"	      /* VEIL (ASPLOS'24): enclave programs vs native */
#define NOT_FOUND (~0ULL - 1) /* no result line */

enum side {
	NATIVE,
	ENCLAVE
};
static const char *const side_names[] = { "native", "enclave" };

struct figures {
	double secs;
	uint64_t result, insns[4], switches;
};

/* CPU seconds of this thread (the model runs in it): unlike wall time, not
 * stretched by other processes sharing the machine, and the boot that gets
 * subtracted costs the same CPU time every run. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The result the test OS printed ("bench-enclave: where ... result 0x..."). */
static uint64_t result_of(FILE *con)
{
	char line[512];
	unsigned long long v = NOT_FOUND;
	const char *r;

	rewind(con);
	while (fgets(line, sizeof(line), con))
		if (!strncmp(line, "bench-enclave: where", 20) && (r = strstr(line, " result 0x")))
			v = strtoull(r + 10, NULL, 16);
	return v;
}

/* One image-mode boot running `n` rounds of `work` on side `s`. */
static struct figures run(enum side s, const char *work, uint64_t n, bool count)
{
	FILE *con = tmpfile();
	struct emu_config cfg = { .mem_size = (uint64_t)MEM_MIB << 20,
				  .nr_vcpus = 1,
				  .count_insns = count,
				  .console = con };
	struct emu_run_params p = { 0 };
	char err[256] = "no temporary file", cmdline[128];
	struct emu_machine *m = con ? emu_create(&cfg, err, sizeof(err)) : NULL;
	struct emu_exit x;
	struct figures f;
	double t0;

	if (!m || emu_load_elf(m, BENCH_TESTOS, &p, err, sizeof(err))) {
		fprintf(stderr, "enclave-bench: cannot boot %s: %s\n", BENCH_TESTOS, err);
		exit(1);
	}
	snprintf(cmdline, sizeof(cmdline), "test=bench-enclave where=%s work=%s n=%" PRIu64,
		 side_names[s], work, n);
	p.cmdline = cmdline;
	t0 = cpu_now();
	if (emu_run_image(m, &p, BENCH_IMAGE, &x) || x.kind != EMU_EXIT_KIND_TERMINATE ||
	    x.reason_set != 2 || x.reason_code != VEIL_TERM_OK ||
	    !bench_console_ok(con, "PASS bench-enclave"))
		bench_os_failed(
			con,
			"enclave-bench: the test OS failed with \"%s\" in image mode: %s, code %u %s\n",
			cmdline, emu_exit_kind_name(x.kind), x.reason_code, x.message);
	f = (struct figures){ .secs = cpu_now() - t0,
			      .result = result_of(con),
			      .switches = x.switches };
	memcpy(f.insns, x.insns_vmpl, sizeof(f.insns));
	emu_destroy(m);
	fclose(con);
	return f;
}

struct counted {
	double insns[4], switches;
};

/* One counted pair of boots per side: guest instructions per VMPL and
 * switches per operation; both sides must agree on the result. */
static void count(const char *work, uint64_t n, uint64_t factor, struct counted c[2])
{
	for (int s = NATIVE; s <= ENCLAVE; s++) {
		uint64_t k = s == NATIVE ? n * factor : n;
		struct figures f0 = run((enum side)s, work, 0, true),
			       f = run((enum side)s, work, k, true);

		for (unsigned v = 0; v < 4; v++)
			c[s].insns[v] = bench_per_op(f.insns[v], f0.insns[v], k);
		c[s].switches = bench_per_op(f.switches, f0.switches, k);
	}
	if (run(NATIVE, work, n, false).result != run(ENCLAVE, work, n, false).result) {
		fprintf(stderr, "enclave-bench: %s: the enclave and the native side disagree\n",
			work);
		exit(1);
	}
}

static void report(const struct bench *b, const char *work, const struct bench_spread sn,
		   const struct bench_spread se, const struct bench_spread r,
		   const struct counted c[2])
{
	double in = c[NATIVE].insns[0] + c[NATIVE].insns[2] + c[NATIVE].insns[3];
	double ie = c[ENCLAVE].insns[0] + c[ENCLAVE].insns[2] + c[ENCLAVE].insns[3];
	char name[64];

	printf("  %-8s %8.3f %9.3f %6.2f (%5.2f-%6.2f) %6.0f %5.0f | %6.0f %5.0f %5.0f %7.2f | %4.1f %4.1f\n",
	       work, sn.median, se.median, r.median, r.min, r.max, c[NATIVE].insns[0],
	       c[NATIVE].insns[3], c[ENCLAVE].insns[0], c[ENCLAVE].insns[2], c[ENCLAVE].insns[3],
	       ie / in, c[NATIVE].switches, c[ENCLAVE].switches);
	snprintf(name, sizeof(name), "enclave_%s_vs_native_insn_ratio", work);
	bench_value(b, name, "ratio", ie / in);
	snprintf(name, sizeof(name), "enclave_%s_native_per_op", work);
	bench_result(b, name, "us", sn);
	snprintf(name, sizeof(name), "enclave_%s_enclave_per_op", work);
	bench_result(b, name, "us", se);
	snprintf(name, sizeof(name), "enclave_%s_vs_native_time_ratio", work);
	bench_ratio(b, name, r, "time per operation inside the enclave / natively, same round",
		    "the enclave is slower");
	for (unsigned v = 0; v < 4; v++) {
		if (v == 1)
			continue; /* nothing runs at VMPL1 here (the log is not used) */
		snprintf(name, sizeof(name), "enclave_%s_enclave_insns_vmpl%u_per_op", work, v);
		bench_value(b, name, "insn", c[ENCLAVE].insns[v]);
		snprintf(name, sizeof(name), "enclave_%s_native_insns_vmpl%u_per_op", work, v);
		bench_value(b, name, "insn", c[NATIVE].insns[v]);
	}
	snprintf(name, sizeof(name), "enclave_%s_enclave_switches_per_op", work);
	bench_value(b, name, "switch", c[ENCLAVE].switches);
}

/* One workload: n enclave rounds, n * factor native ones. */
static void measure(const struct bench *b, const char *work, uint64_t n, uint64_t factor)
{
	double ratio[RUNS], tn[RUNS], te[RUNS];
	uint64_t nn = n * factor;
	struct counted c[2];

	for (int i = 0; i < RUNS; i++) {
		double n0 = run(NATIVE, work, 0, false).secs,
		       n1 = run(NATIVE, work, nn, false).secs;
		double e0 = run(ENCLAVE, work, 0, false).secs,
		       e1 = run(ENCLAVE, work, n, false).secs;

		tn[i] = (n1 - n0) / (double)nn * 1e6;
		te[i] = (e1 - e0) / (double)n * 1e6;
		ratio[i] = te[i] / tn[i];
	}
	count(work, n, factor, c);
	struct bench_spread sn = bench_spread_of(tn, RUNS), se = bench_spread_of(te, RUNS),
			    r = bench_spread_of(ratio, RUNS);
	report(b, work, sn, se, r, c);
}

int main(int argc, char **argv)
{
	/* mmap's round has its munmap (the host keeps 16 maps), open's and
	 * socket's their close: each of those rows is the pair. A native call
	 * is 12 (getpid) to 4000 (mmap) guest instructions: the cheap ones need
	 * many more native rounds to stand out of the boot's spread. */
	static const struct {
		const char *work;
		uint64_t rounds, factor; /* enclave rounds (full run), native per enclave */
	} works[] = { { "getpid", 5000, 1000 }, { "open", 5000, 10 },	 { "read", 5000, 100 },
		      { "write", 5000, 1000 },	{ "printf", 5000, 100 }, { "mmap", 5000, 10 },
		      { "socket", 5000, 10 },	{ "proto", 1000, 10 } };
	struct bench b;

	bench_init(&b, "enclave-bench",
		   "The same work inside a Veil enclave (VMPL2, CPL3) and natively in the test\n"
		   "OS, with the monitor as the VMPL0 image (both sides emulated): each call of\n"
		   "the VEIL prototype's syscall set (open, getpid, mmap, read, write, printf,\n"
		   "munmap, socket) as ocalls, the whole set in one round, and a compute loop.",
		   argc, argv);
	printf("enclave-bench: image mode, %d runs per side, medians (min-max), boot subtracted;\n"
	       "  per operation: time (us), guest instructions per VMPL (0 monitor image, 2 enclave,\n"
	       "  3 OS) and VMPL switches\n",
	       RUNS);
	printf("  %-8s %8s %9s %6s %14s %6s %5s | %6s %5s %5s %7s | %4s %4s\n", "op", "native",
	       "enclave", "time", "ratio (min-max)", "nat V0", "V3", "enc V0", "V2", "V3", "insns",
	       "sw n", "sw e");
	for (size_t i = 0; i < sizeof(works) / sizeof(works[0]); i++)
		measure(&b, works[i].work, b.quick ? works[i].rounds / 50 : works[i].rounds,
			works[i].factor);
	measure(&b, "compute", b.quick ? 2000000 : 200000000, 1);
	printf("  open, mmap and socket rows include the close/munmap that frees what they made (2\n"
	       "  ocalls: mmap is mmap + munmap); proto is the whole set, 10 ocalls a round. The paper measured %s overhead\n"
	       "  for whole programs on SNP hardware, where most time is computation.\n",
	       PAPER);
	return bench_exit(&b);
}
