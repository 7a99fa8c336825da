/* SPDX-License-Identifier: MIT */
/*
 * linux-modules: loading and unloading a small module in Linux at VMPL3
 * (Debian's kernel in `veil-emu run --linux`), without Veil and with veil.ko
 * loaded and the kernel locked, in one boot.
 *
 * The module is tests/linux/kci's veil_attack.ko in its harmless mode (load,
 * print a line, unload). The workload is `veilctl bench-insmod KO N`: N
 * finit_module + delete_module pairs, each syscall timed in the guest
 * (CLOCK_MONOTONIC, the model's KVM clock). Modes, in this order:
 *   base  no veil.ko: Linux loads the module on its own;
 *   veil  veil.ko loaded, the kernel's text locked by the monitor: every
 *         load hands the module's text to the monitor (ADD_TEXT, checked and
 *         made executable at VMPL3, recorded in the secure log) and every
 *         unload takes it back (DROP_TEXT).
 * The console log level is lowered (dmesg -n 1), so that the modules'
 * printk lines (and KCI's) do not go out through the model's UART, one #VC
 * per character; a second's sleep before veil.ko's load lets the polled
 * console send the lines before it, which the monitor's own line about the
 * lock would otherwise split. Each mode runs ROUNDS times; figures are medians with min
 * and max. Beside the guest's own figures (its virtual clock: blocks run,
 * clock reads, idle jumps to the next timer deadline; not host time), the
 * host time per round, from when each round's line arrives from veil-emu
 * (line-buffered through stdbuf), gives the overhead set beside VEIL's 4-6%.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define ROUNDS 5
#define MODES 2

static const char *const mode_name[MODES] = { "base", "veil" };

static void write_script(const char *path, unsigned n, unsigned rounds)
{
	FILE *f = fopen(path, "w");
	unsigned m, r;

	if (!f) {
		perror(path);
		exit(2);
	}
	fprintf(f, "set -e\ndmesg -n 1\n");
	for (m = 0; m < MODES; m++) {
		if (m == 1)
			fprintf(f,
				"sleep 1\ninsmod /veil.ko\n"
				"veilctl status | grep -q 'kci locked' && echo 'bench-kci locked'\n");
		fprintf(f, "echo 'mark %s'\n", mode_name[m]);
		for (r = 0; r < rounds; r++)
			fprintf(f, "echo \"bench %s $(veilctl bench-insmod /veil_attack.ko %u)\"\n",
				mode_name[m], n);
	}
	fclose(f);
}

/* The four figures of a `veilctl bench-insmod` line, in its order (ns). */
#define FIGS 4
static const char *const fig_name[FIGS] = { "insmod", "rmmod", "insmod_cpu", "rmmod_cpu" };
#define HOST FIGS /* then host time per load+unload, from when the lines arrive */

/* The guest's "bench MODE LOAD UNLOAD LOAD_CPU UNLOAD_CPU" lines (copied to
 * `out`), and that veil.ko locked the kernel before the veil rounds. A round's
 * host time runs from the line before its own ("mark MODE" or the previous
 * round's) to its line, as they arrive from veil-emu. */
static int parse(FILE *con, FILE *out, double v[FIGS + 1][MODES][ROUNDS], unsigned rounds,
		 unsigned n)
{
	unsigned cnt[MODES] = { 0 }, m, k;
	char line[512], name[16];
	double x[FIGS], last = 0, now;
	int locked = 0;

	while (fgets(line, sizeof(line), con)) {
		now = bench_now();
		fputs(line, out);
		locked |= strstr(line, "bench-kci locked") != NULL;
		if (!strncmp(line, "mark ", 5))
			last = now;
		if (sscanf(line, "bench %15s %lf %lf %lf %lf", name, &x[0], &x[1], &x[2], &x[3]) !=
		    1 + FIGS)
			continue;
		for (m = 0; m < MODES; m++)
			if (!strcmp(name, mode_name[m]) && cnt[m] < rounds && last) {
				for (k = 0; k < FIGS; k++)
					v[k][m][cnt[m]] = x[k] / 1000.0;
				v[HOST][m][cnt[m]++] = (now - last) * 1e6 / n;
			}
		last = now;
	}
	if (!locked)
		fprintf(stderr, "linux-modules: veil.ko did not lock the kernel\n");
	for (m = 0; m < MODES; m++)
		if (cnt[m] != rounds)
			return 0;
	return locked;
}

/* Host time per load+unload pair in each mode, and the overhead in %. */
static void report_host(struct bench *b, double v[FIGS + 1][MODES][ROUNDS], unsigned rounds)
{
	double c[ROUNDS];
	unsigned m, i;

	for (m = 0; m < MODES; m++) {
		memcpy(c, v[HOST][m], sizeof(c));
		bench_result(b, m ? "linux_insmod_rmmod_host_veil" : "linux_insmod_rmmod_host_base",
			     "us", bench_spread_of(c, rounds));
	}
	for (i = 0; i < rounds; i++)
		c[i] = (v[HOST][1][i] / v[HOST][0][i] - 1) * 100;
	bench_result(b, "linux_modules_overhead", "%", bench_spread_of(c, rounds));
	printf("  linux_modules_overhead: load+unload with Veil against without, host time, in "
	       "%% (VEIL's paper: 4-6%%)\n");
}

/* Medians per mode, the veil/base ratio, and the overhead of load+unload in
 * % for the figures from `k` (wall: 0, CPU: 2). */
static void report(struct bench *b, double v[FIGS + 1][MODES][ROUNDS], unsigned rounds, unsigned k,
		   const char *what)
{
	double c[ROUNDS];
	char name[64];
	unsigned m, i, j;

	for (j = k; j < k + 2; j++) {
		for (m = 0; m < MODES; m++) {
			memcpy(c, v[j][m], sizeof(c));
			snprintf(name, sizeof(name), "linux_%s_%s", fig_name[j], mode_name[m]);
			bench_result(b, name, "us", bench_spread_of(c, rounds));
		}
		snprintf(name, sizeof(name), "linux_%s_veil_vs_base", fig_name[j]);
		bench_ratio(b, name, bench_ratio_of(v[j][1], v[j][0], rounds), "veil/base",
			    "Veil's KCI makes that syscall that factor costlier");
	}
	for (i = 0; i < rounds; i++)
		c[i] = ((v[k][1][i] + v[k + 1][1][i]) / (v[k][0][i] + v[k + 1][0][i]) - 1) * 100;
	snprintf(name, sizeof(name), "linux_modules_overhead_%s", k ? "guest_cpu" : "guest");
	bench_result(b, name, "%", bench_spread_of(c, rounds));
	printf("  %s: load+unload with Veil against without, %s, in %% (VEIL's paper: 4-6%%)\n",
	       name, what);
}

int main(int argc, char **argv)
{
	struct bench b;
	char dir[] = "/tmp/linux-modules-XXXXXX", script[64], cmd[1024], con[64];
	double v[FIGS + 1][MODES][ROUNDS];
	unsigned n, rounds;
	FILE *f, *out;
	int ok;

	bench_init(&b, "linux-modules",
		   "Module load/unload (insmod/rmmod) in Linux at VMPL3 without Veil vs with "
		   "veil.ko locking the kernel (module text through the monitor), in one veil-emu "
		   "--linux boot.",
		   argc, argv);
	n = b.quick ? 3 : 50;
	rounds = b.quick ? 2 : ROUNDS;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(script, sizeof(script), "%s/bench.sh", dir);
	snprintf(con, sizeof(con), "%s/console", dir);
	write_script(script, n, rounds);
	snprintf(cmd, sizeof(cmd),
		 "stdbuf -oL '%s' run --linux --initrd '%s' --init-script '%s' 2>&1", BENCH_EMU,
		 BENCH_INITRD, script);
	f = popen(cmd, "r");
	out = fopen(con, "w");
	if (!f || !out) {
		perror("linux-modules: veil-emu");
		return 2;
	}
	ok = parse(f, out, v, rounds, n);
	fclose(out);
	if (pclose(f) != 0)
		fprintf(stderr, "linux-modules: veil-emu did not end with status 0 (see %s)\n",
			con);
	if (!ok) {
		fprintf(stderr, "linux-modules: no complete figures in %s\n", con);
		return 1;
	}
	printf("%u loads and unloads per round, %u rounds per mode. Host time: from when each "
	       "round's line arrives. Guest time is the model's virtual clock (blocks run, clock "
	       "reads, idle jumps to the next timer deadline), not host time.\n",
	       n, rounds);
	report_host(&b, v, rounds);
	report(&b, v, rounds, 0, "guest wall time");
	report(&b, v, rounds, 2, "the loading thread's guest CPU time");
	unlink(script);
	unlink(con);
	rmdir(dir);
	return bench_exit(&b);
}
