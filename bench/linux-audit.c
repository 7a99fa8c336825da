/* SPDX-License-Identifier: MIT */
/*
 * linux-audit: an audit-heavy syscall workload in Linux at VMPL3 (Debian's
 * kernel in `veil-emu run --linux`), its audit records going to a local file
 * only, or also into the Veil monitor's secure log through veil.ko
 * (guest/linux), against the same workload unaudited, in one boot.
 *
 * The workload is `veilctl bench-open N`: N openat+close pairs, timed in the
 * guest (CLOCK_MONOTONIC, the model's KVM clock). Modes, in this order:
 *   base  auditing on, no rule: the syscalls are not audited;
 *   file  a rule audits openat; a minimal audit daemon (`veilctl auditd`)
 *         appends each record to a file in the initramfs (the usual setup);
 *   veil  the same, with veil.ko loaded: every record is also appended to
 *         the secure log (five records per openat: SYSCALL, CWD, PATH,
 *         PROCTITLE, EOE), synchronously, before the syscall returns.
 * Each mode runs ROUNDS times; figures are medians with min and max. Guest
 * time in the model follows host time, so the ratios, not the microseconds,
 * are the result (VEIL's paper reports 1-19% for logging on real
 * applications, which make far fewer audited syscalls than this loop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define ROUNDS 5
#define MODES 3

static const char *const mode_name[MODES] = { "base", "file", "veil" };

static void write_script(const char *path, unsigned n)
{
	FILE *f = fopen(path, "w");
	unsigned m, r;

	if (!f) {
		perror(path);
		exit(2);
	}
	fprintf(f, "veilctl audit-enable\n"
		   "veilctl auditd /audit.log </dev/null >/dev/null 2>&1 &\n"
		   "sleep 1\n");
	for (m = 0; m < MODES; m++) {
		if (m == 1)
			fprintf(f, "veilctl audit-rule 257\n");
		if (m == 2)
			fprintf(f, "insmod /veil.ko\n");
		for (r = 0; r < ROUNDS; r++)
			fprintf(f, "echo \"bench %s $(veilctl bench-open %u)\"\n", mode_name[m], n);
	}
	fprintf(f, "veilctl status\nkill %%1\n");
	fclose(f);
}

/* The guest's "bench MODE NS" lines: ns per openat+close pair. */
static unsigned parse(FILE *con, double v[MODES][ROUNDS])
{
	unsigned cnt[MODES] = { 0 }, m, total = 0;
	char line[512], name[16];
	double ns;

	while (fgets(line, sizeof(line), con)) {
		if (sscanf(line, "bench %15s %lf", name, &ns) != 2)
			continue;
		for (m = 0; m < MODES; m++)
			if (!strcmp(name, mode_name[m]) && cnt[m] < ROUNDS) {
				v[m][cnt[m]++] = ns / 1000.0;
				total++;
			}
	}
	for (m = 0; m < MODES; m++)
		if (cnt[m] != ROUNDS)
			return 0;
	return total;
}

int main(int argc, char **argv)
{
	struct bench b;
	char dir[] = "/tmp/linux-audit-XXXXXX", script[64], cmd[1024], con[64];
	double v[MODES][ROUNDS];
	struct bench_spread s[MODES];
	unsigned m, n;
	FILE *f;

	bench_init(&b, "linux-audit",
		   "Audited openat in Linux at VMPL3: records to a local file vs also to the Veil "
		   "log (veil.ko), vs unaudited, in one veil-emu --linux boot.",
		   argc, argv);
	n = b.quick ? 10 : 30;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(script, sizeof(script), "%s/bench.sh", dir);
	snprintf(con, sizeof(con), "%s/console", dir);
	write_script(script, n);
	snprintf(cmd, sizeof(cmd), "'%s' run --linux --initrd '%s' --init-script '%s' >'%s' 2>&1",
		 BENCH_EMU, BENCH_INITRD, script, con);
	if (system(cmd) != 0)
		fprintf(stderr, "linux-audit: veil-emu did not end with status 0 (see %s)\n", con);
	f = fopen(con, "r");
	if (!f || !parse(f, v)) {
		fprintf(stderr, "linux-audit: no complete figures in %s\n", con);
		return 1;
	}
	fclose(f);
	for (m = 0; m < MODES; m++) {
		double c[ROUNDS];

		memcpy(c, v[m], sizeof(c));
		s[m] = bench_spread_of(c, ROUNDS);
	}
	printf("%u openat+close pairs per round, %u rounds per mode\n", n, ROUNDS);
	bench_result(&b, "linux_openat_unaudited", "us", s[0]);
	bench_result(&b, "linux_openat_audit_file", "us", s[1]);
	bench_result(&b, "linux_openat_audit_file_veil", "us", s[2]);
	bench_ratio(&b, "linux_audit_file_vs_unaudited", bench_ratio_of(v[1], v[0], ROUNDS),
		    "file/unaudited", "auditing to a file costs that factor");
	bench_ratio(&b, "linux_audit_veil_vs_file", bench_ratio_of(v[2], v[1], ROUNDS),
		    "file+veil/file", "the Veil log adds that factor to audited syscalls");
	unlink(script);
	unlink(con);
	rmdir(dir);
	return bench_exit(&b);
}
