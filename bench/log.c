/* SPDX-License-Identifier: MIT */
/*
 * log-bench: auditing every syscall through the secure log service against
 * logging into the OS's own memory, in the emulator, in one run.
 *
 * The test OS (test=bench-log, guest/kernel/audit.c) makes N syscalls from
 * ring 3; its audit hook turns each into one short text record. audit=service
 * appends it with VEIL_LOG_APPEND (an OS -> monitor -> OS round trip, a copy
 * and a SHA-256 chain step in the monitor); audit=ring copies it into a ring
 * buffer in OS memory (what a kernel without Veil does: the baseline);
 * audit=off logs nothing. A boot with N = 0 gives the boot cost.
 *
 * Times are medians over RUNS uncounted boots of each kind, taken in turn,
 * with min and max (ratios and overheads taken boot round by boot round);
 * guest instructions and VMPL switches come from one counted boot of each.
 * The monitor runs natively in the emulator, so its work is in the time but
 * not in the guest instruction counts.
 *
 * The log domain's cost: audit=service with the record keeping in its own
 * VMPL1 ring-3 domain (the default) against the same code in the monitor
 * (--log-domain off), per append, with the native monitor and with the VMPL0
 * image. With the native monitor the domain's SHA-256 is emulated and the
 * monitor's is not, so only the image-mode ratio (both emulated) is the cost
 * of the isolation itself.
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
#define LOG_SIZE (4ULL << 20) /* room for every record of a full run */
#define PAPER "1-19%"	      /* VEIL (ASPLOS'24): logging on vs off, real applications */

enum mode {
	BOOT, /* N = 0: boot only */
	OFF,
	RING,
	SERVICE,     /* the log in its domain (the default) */
	SERVICE_MON, /* the log in the monitor (--log-domain off) */
	IMG_OFF,     /* the same three with the VMPL0 image */
	IMG_SERVICE,
	IMG_SERVICE_MON,
	NR_MODES
};
static const struct {
	const char *audit;
	uint32_t log_domain; /* enum veil_log_domain: 0 on, 1 off */
	bool image;
} modes[NR_MODES] = {
	[BOOT] = { "off", 0, false },
	[OFF] = { "off", 0, false },
	[RING] = { "ring", 0, false },
	[SERVICE] = { "service", 0, false },
	[SERVICE_MON] = { "service", 1, false },
	[IMG_OFF] = { "off", 0, true },
	[IMG_SERVICE] = { "service", 0, true },
	[IMG_SERVICE_MON] = { "service", 1, true },
};

struct figures {
	double secs;
	uint64_t insns, switches;
};

/* One boot doing `n` audited syscalls in mode `md`. */
static struct figures run(enum mode md, uint64_t n, bool count)
{
	FILE *con = tmpfile();
	struct emu_config cfg = {
		.mem_size = 64ULL << 20, .nr_vcpus = 1, .count_insns = count, .console = con
	};
	struct emu_run_params p = { 0 };
	char err[256] = "no temporary file", cmdline[96];
	struct emu_machine *m = con ? emu_create(&cfg, err, sizeof(err)) : NULL;
	struct emu_exit x;
	struct figures f;
	double t0;

	if (!m || emu_load_elf(m, BENCH_TESTOS, &p, err, sizeof(err))) {
		fprintf(stderr, "log-bench: cannot boot %s: %s\n", BENCH_TESTOS, err);
		exit(1);
	}
	snprintf(cmdline, sizeof(cmdline), "test=bench-log audit=%s n=%" PRIu64, modes[md].audit,
		 md == BOOT ? 0 : n);
	p.cmdline = cmdline;
	p.log_size = LOG_SIZE;
	p.log_domain = modes[md].log_domain;
	t0 = bench_now();
	if ((modes[md].image ? emu_run_image(m, &p, BENCH_IMAGE, &x) : emu_run(m, &p, &x)) ||
	    x.kind != EMU_EXIT_KIND_TERMINATE || x.reason_set != 2 ||
	    x.reason_code != VEIL_TERM_OK || !bench_console_ok(con, "PASS bench-log"))
		bench_os_failed(con, "log-bench: the test OS failed with \"%s\": %s, code %u %s\n",
				cmdline, emu_exit_kind_name(x.kind), x.reason_code, x.message);
	f = (struct figures){ bench_now() - t0, x.insns, x.switches };
	emu_destroy(m);
	fclose(con);
	return f;
}

/* Boot times of every mode, RUNS rounds; the modes take turns so drift hits all alike. */
static void times(uint64_t n, double t[NR_MODES][RUNS])
{
	int i, k;

	for (i = 0; i < RUNS; i++)
		for (k = 0; k < NR_MODES; k++)
			t[k][i] = run(k, n, false).secs;
}

/* f(t[*][i]) for every round i, as a spread. */
static struct bench_spread per_round(double t[NR_MODES][RUNS], uint64_t n,
				     double (*f)(const double *t, uint64_t n))
{
	double v[RUNS], row[NR_MODES];
	int i, k;

	for (i = 0; i < RUNS; i++) {
		for (k = 0; k < NR_MODES; k++)
			row[k] = t[k][i];
		v[i] = f(row, n);
	}
	return bench_spread_of(v, RUNS);
}

static double work_ring_ms(const double *t, uint64_t n)
{
	(void)n;
	return (t[RING] - t[BOOT]) * 1e3;
}

static double work_svc_ms(const double *t, uint64_t n)
{
	(void)n;
	return (t[SERVICE] - t[BOOT]) * 1e3;
}

static double svc_vs_ring(const double *t, uint64_t n)
{
	(void)n;
	return (t[SERVICE] - t[BOOT]) / (t[RING] - t[BOOT]);
}

static double us_svc(const double *t, uint64_t n)
{
	return (t[SERVICE] - t[OFF]) / n * 1e6;
}

static double us_ring(const double *t, uint64_t n)
{
	return (t[RING] - t[OFF]) / n * 1e6;
}

static double svc_overhead(const double *t, uint64_t n)
{
	(void)n;
	return ((t[SERVICE] - t[BOOT]) / (t[OFF] - t[BOOT]) - 1) * 100;
}

static double ring_overhead(const double *t, uint64_t n)
{
	(void)n;
	return ((t[RING] - t[BOOT]) / (t[OFF] - t[BOOT]) - 1) * 100;
}

static double dom_us(const double *t, uint64_t n)
{
	return (t[SERVICE] - t[OFF]) / n * 1e6;
}

static double mon_us(const double *t, uint64_t n)
{
	return (t[SERVICE_MON] - t[OFF]) / n * 1e6;
}

static double img_dom_us(const double *t, uint64_t n)
{
	return (t[IMG_SERVICE] - t[IMG_OFF]) / n * 1e6;
}

static double img_mon_us(const double *t, uint64_t n)
{
	return (t[IMG_SERVICE_MON] - t[IMG_OFF]) / n * 1e6;
}

static double dom_vs_mon(const double *t, uint64_t n)
{
	return dom_us(t, n) / mon_us(t, n);
}

static double img_dom_vs_mon(const double *t, uint64_t n)
{
	return img_dom_us(t, n) / img_mon_us(t, n);
}

/* The log domain against the same record keeping in the monitor. */
static void report_domain(const struct bench *b, uint64_t n, double t[NR_MODES][RUNS],
			  const struct figures c[NR_MODES])
{
	struct bench_spread d = per_round(t, n, dom_us), m = per_round(t, n, mon_us),
			    r = per_round(t, n, dom_vs_mon), id = per_round(t, n, img_dom_us),
			    im = per_round(t, n, img_mon_us), ir = per_round(t, n, img_dom_vs_mon);
	double sw_d = bench_per_op(c[SERVICE].switches, c[OFF].switches, n),
	       sw_m = bench_per_op(c[SERVICE_MON].switches, c[OFF].switches, n),
	       ins_d = bench_per_op(c[IMG_SERVICE].insns, c[IMG_OFF].insns, n),
	       ins_m = bench_per_op(c[IMG_SERVICE_MON].insns, c[IMG_OFF].insns, n);

	printf("log-bench: the log's record keeping in its VMPL1 ring-3 domain vs in the monitor\n"
	       "(--log-domain off), per append (medians (min-max))\n");
	printf("                               in monitor     in domain      ratio\n");
	printf("  append, native monitor (us)  %10.3f     %10.3f     %6.2f (%.2f-%.2f)\n", m.median,
	       d.median, r.median, r.min, r.max);
	printf("  append, VMPL0 image (us)     %10.3f     %10.3f     %6.2f (%.2f-%.2f)\n",
	       im.median, id.median, ir.median, ir.min, ir.max);
	printf("  VMPL switches per append     %10.2f     %10.2f\n", sw_m, sw_d);
	printf("  guest insns per append, image %9.0f     %10.0f     %6.2f\n", ins_m, ins_d,
	       ins_d / ins_m);
	printf("  with the native monitor the domain's SHA-256 is emulated and the monitor's is\n"
	       "  not; with the image both are, so that ratio is the cost of the isolation\n");
	bench_result(b, "log_domain_append", "us", d);
	bench_result(b, "log_monitor_append", "us", m);
	bench_ratio(b, "log_domain_vs_monitor_ratio", r,
		    "append with the log in its domain / in the monitor, native monitor",
		    "the domain is slower (two more VMPL switches, a fresh VMSA state per entry, "
		    "and its SHA-256 emulated where the native monitor's is not)");
	bench_result(b, "log_domain_append_image", "us", id);
	bench_result(b, "log_monitor_append_image", "us", im);
	bench_ratio(
		b, "log_domain_vs_monitor_image_ratio", ir,
		"append with the log in its domain / in the monitor, VMPL0 image",
		"the domain is slower (two more VMPL switches and a fresh VMSA state per entry)");
	bench_value(b, "log_domain_switches_per_append", "switch", sw_d);
	bench_value(b, "log_monitor_switches_per_append", "switch", sw_m);
	bench_value(b, "log_domain_insns_per_append_image", "insn", ins_d);
	bench_value(b, "log_monitor_insns_per_append_image", "insn", ins_m);
}

static void report(const struct bench *b, uint64_t n, double t[NR_MODES][RUNS],
		   const struct figures c[NR_MODES])
{
	struct bench_spread wr = per_round(t, n, work_ring_ms), ws = per_round(t, n, work_svc_ms),
			    ratio = per_round(t, n, svc_vs_ring), ur = per_round(t, n, us_ring),
			    us = per_round(t, n, us_svc), os = per_round(t, n, svc_overhead),
			    orr = per_round(t, n, ring_overhead);
	double ins_ring = bench_per_op(c[RING].insns, c[OFF].insns, n),
	       ins_svc = bench_per_op(c[SERVICE].insns, c[OFF].insns, n);
	double sw_ring = bench_per_op(c[RING].switches, c[OFF].switches, n),
	       sw_svc = bench_per_op(c[SERVICE].switches, c[OFF].switches, n);
	double off_us = bench_spread_of(t[OFF], RUNS).median,
	       boot = bench_spread_of(t[BOOT], RUNS).median;

	printf("log-bench: %" PRIu64 " syscalls from ring 3, each audited as one record "
	       "(%d runs per mode, medians (min-max), boot cost subtracted)\n",
	       n, RUNS);
	printf("                               in-OS ring     log service    ratio\n");
	printf("  workload time (ms)           %10.2f     %10.2f     %6.2f (%.2f-%.2f)\n",
	       wr.median, ws.median, ratio.median, ratio.min, ratio.max);
	printf("  logging time per record (us) %10.3f     %10.3f\n", ur.median, us.median);
	printf("  guest insns per record       %10.1f     %10.1f     %6.2f\n", ins_ring, ins_svc,
	       ins_svc / ins_ring);
	printf("  VMPL switches per record     %10.2f     %10.2f\n", sw_ring, sw_svc);
	printf("  overhead vs no logging       %9.0f%%     %9.0f%%     (paper: %s)\n", orr.median,
	       os.median, PAPER);
	printf("  the workload is null syscalls only (%.2f us each unlogged), so the overhead is\n"
	       "  far above the paper's, measured on real applications on hardware; guest insns\n"
	       "  count the OS and the log domain (the native monitor's are not counted)\n",
	       (off_us - boot) / n * 1e6);
	bench_result(b, "log_ring_work", "ms", wr);
	bench_result(b, "log_service_work", "ms", ws);
	bench_ratio(b, "log_service_vs_ring_time_ratio", ratio,
		    "workload time auditing through the service / into the in-OS ring, same round",
		    "the service is slower (an OS -> monitor -> OS round trip and a SHA-256 "
		    "chain step per record)");
	bench_result(b, "log_service_per_record", "us", us);
	bench_result(b, "log_ring_per_record", "us", ur);
	bench_result(b, "log_service_overhead", "%", os);
	bench_result(b, "log_ring_overhead", "%", orr);
	bench_value(b, "log_service_insns_per_record", "insn", ins_svc);
	bench_value(b, "log_ring_insns_per_record", "insn", ins_ring);
	bench_value(b, "log_service_switches_per_record", "switch", sw_svc);
}

int main(int argc, char **argv)
{
	struct bench b;
	uint64_t n;
	struct figures c[NR_MODES];
	double t[NR_MODES][RUNS];
	int k;

	bench_init(&b, "log-bench",
		   "Auditing every syscall through the Veil secure log service against logging\n"
		   "into the OS's own memory (a ring buffer) and against no logging, in the\n"
		   "emulator.",
		   argc, argv);
	n = b.quick ? 2000 : 20000;
	times(n, t);
	for (k = 0; k < NR_MODES; k++)
		c[k] = run(k, n, true);
	report(&b, n, t, c);
	report_domain(&b, n, t, c);
	return bench_exit(&b);
}
