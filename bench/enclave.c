/* SPDX-License-Identifier: MIT */
/*
 * enclave-bench: the same work inside an enclave and natively in the test
 * OS, in the emulator, in one run.
 *
 * The test OS (test=bench-enclave, guest/kernel/enclave.c) runs N rounds of
 * one workload either in the probe enclave (ENTER, ocalls served by the host
 * library) or natively in the kernel: "syscalls" is the set the enclave SDK
 * forwards (getpid, write, read, clock_gettime: 4 ocalls a round, each an
 * enclave -> monitor -> OS -> monitor -> enclave round trip with copies),
 * "proto" the VEIL prototype's syscall set (open, getpid, mmap, read, write,
 * printf, munmap, socket, and the two closes: 10 ocalls a round), "compute"
 * a xorshift loop (no exits at all). The native syscalls are
 * plain calls of the same handlers in the kernel (no ring change), a lower
 * bound for a native process, so the syscall ratio overstates the enclave's
 * cost. Each figure subtracts a boot with N = 0 on the same side (which for
 * the enclave side includes CREATE and DESTROY); times are medians over RUNS
 * rounds with min and max, guest instructions and VMPL switches come from
 * one counted boot. The monitor runs natively in the emulator: its work is
 * in the time, not in the guest instruction counts.
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
#define PAPER "5-69%" /* VEIL (ASPLOS'24): enclave programs vs native */

enum side {
	NATIVE,
	ENCLAVE
};
static const char *const side_names[] = { "native", "enclave" };

struct figures {
	double secs;
	uint64_t insns, switches;
};

static void failed(FILE *con, const char *cmdline, const struct emu_exit *x)
{
	char line[512];

	fprintf(stderr, "enclave-bench: the test OS failed with \"%s\": %s, code %u %s\n", cmdline,
		emu_exit_kind_name(x->kind), x->reason_code, x->message);
	rewind(con);
	while (fgets(line, sizeof(line), con))
		fputs(line, stderr);
	exit(1);
}

/* One boot running `n` rounds of `work` on side `s`. */
static struct figures run(enum side s, const char *work, uint64_t n, bool count)
{
	FILE *con = tmpfile();
	struct emu_config cfg = {
		.mem_size = 64ULL << 20, .nr_vcpus = 1, .count_insns = count, .console = con
	};
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
	t0 = bench_now();
	if (emu_run(m, &p, &x) || x.kind != EMU_EXIT_KIND_TERMINATE || x.reason_set != 2 ||
	    x.reason_code != VEIL_TERM_OK || !bench_console_ok(con, "PASS bench-enclave"))
		failed(con, cmdline, &x);
	f = (struct figures){ bench_now() - t0, x.insns, x.switches };
	emu_destroy(m);
	fclose(con);
	return f;
}

/* One workload: per-round work times (boot subtracted) of both sides. */
static void measure(const struct bench *b, const char *work, uint64_t n, const char *unit_name)
{
	double ratio[RUNS], tn[RUNS], te[RUNS];
	struct figures cn0, cn, ce0, ce;
	struct bench_spread r, sn, se;
	char name[64];
	int i;

	for (i = 0; i < RUNS; i++) {
		double n0 = run(NATIVE, work, 0, false).secs, n1 = run(NATIVE, work, n, false).secs;
		double e0 = run(ENCLAVE, work, 0, false).secs,
		       e1 = run(ENCLAVE, work, n, false).secs;

		tn[i] = (n1 - n0) / n * 1e6;
		te[i] = (e1 - e0) / n * 1e6;
		ratio[i] = (e1 - e0) / (n1 - n0);
	}
	cn0 = run(NATIVE, work, 0, true);
	cn = run(NATIVE, work, n, true);
	ce0 = run(ENCLAVE, work, 0, true);
	ce = run(ENCLAVE, work, n, true);
	sn = bench_spread_of(tn, RUNS);
	se = bench_spread_of(te, RUNS);
	r = bench_spread_of(ratio, RUNS);
	printf("  %-9s %8" PRIu64 " %-7s native %8.3f us  enclave %8.3f us  ratio %6.2f "
	       "(%.2f-%.2f)  insns %.1f / %.1f  switches %.2f / %.2f\n",
	       work, n, unit_name, sn.median, se.median, r.median, r.min, r.max,
	       (double)(cn.insns - cn0.insns) / n, (double)(ce.insns - ce0.insns) / n,
	       (double)(cn.switches - cn0.switches) / n, (double)(ce.switches - ce0.switches) / n);
	snprintf(name, sizeof(name), "enclave_%s_native_per_%s", work, unit_name);
	bench_result(b, name, "us", sn);
	snprintf(name, sizeof(name), "enclave_%s_enclave_per_%s", work, unit_name);
	bench_result(b, name, "us", se);
	snprintf(name, sizeof(name), "enclave_%s_vs_native_time_ratio", work);
	bench_ratio(b, name, r, "work time inside the enclave / the same work natively, same round",
		    "the enclave is slower");
	snprintf(name, sizeof(name), "enclave_%s_insns_per_%s", work, unit_name);
	bench_value(b, name, "insn", (double)(ce.insns - ce0.insns) / n);
	snprintf(name, sizeof(name), "enclave_%s_switches_per_%s", work, unit_name);
	bench_value(b, name, "switch", (double)(ce.switches - ce0.switches) / n);
}

int main(int argc, char **argv)
{
	struct bench b;

	bench_init(&b, "enclave-bench",
		   "The same work inside a Veil enclave (VMPL2, CPL3) and natively in the test\n"
		   "OS, in the emulator: the SDK's forwarded syscall set (getpid, write, read,\n"
		   "clock_gettime as ocalls), the VEIL prototype's set (open, getpid, mmap, read,\n"
		   "write, printf, munmap, socket, close) and a compute-bound loop.",
		   argc, argv);
	printf("enclave-bench: %d runs per side, medians (min-max), boot cost subtracted; "
	       "insns and switches are guest (VMPL2/3) figures per round, native / enclave\n",
	       RUNS);
	measure(&b, "syscalls", b.quick ? 200 : 2000, "round");
	measure(&b, "proto", b.quick ? 100 : 1000, "round");
	measure(&b, "compute", b.quick ? 200000 : 2000000, "round");
	printf("  a syscall round is 4 ocalls, a proto round 10; the paper measured %s overhead for whole\n"
	       "  programs on hardware, where most time is computation\n",
	       PAPER);
	return bench_exit(&b);
}
