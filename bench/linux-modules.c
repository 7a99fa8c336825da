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
 * per character. Each mode runs ROUNDS times; figures are medians with min
 * and max. Time in the model follows host time, so the ratio, not the
 * microseconds, is the result (VEIL's paper reports 4-6% for module loading
 * on SNP hardware).
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
				"insmod /veil.ko\n"
				"veilctl status | grep -q 'kci locked' && echo 'bench-kci locked'\n");
		for (r = 0; r < rounds; r++)
			fprintf(f, "echo \"bench %s $(veilctl bench-insmod /veil_attack.ko %u)\"\n",
				mode_name[m], n);
	}
	fclose(f);
}

/* The guest's "bench MODE LOAD_NS UNLOAD_NS" lines, and that veil.ko locked
 * the kernel before the veil rounds. */
static int parse(FILE *con, double load[MODES][ROUNDS], double unload[MODES][ROUNDS],
		 unsigned rounds)
{
	unsigned cnt[MODES] = { 0 }, m;
	char line[512], name[16];
	double l, u;
	int locked = 0;

	while (fgets(line, sizeof(line), con)) {
		locked |= strstr(line, "bench-kci locked") != NULL;
		if (sscanf(line, "bench %15s %lf %lf", name, &l, &u) != 3)
			continue;
		for (m = 0; m < MODES; m++)
			if (!strcmp(name, mode_name[m]) && cnt[m] < rounds) {
				load[m][cnt[m]] = l / 1000.0;
				unload[m][cnt[m]++] = u / 1000.0;
			}
	}
	if (!locked)
		fprintf(stderr, "linux-modules: veil.ko did not lock the kernel\n");
	for (m = 0; m < MODES; m++)
		if (cnt[m] != rounds)
			return 0;
	return locked;
}

static void ratio(struct bench *b, const char *name, double v[MODES][ROUNDS], unsigned rounds,
		  const char *above1)
{
	double r[ROUNDS];
	unsigned i;

	for (i = 0; i < rounds; i++)
		r[i] = v[1][i] / v[0][i];
	bench_ratio(b, name, bench_spread_of(r, rounds), "veil/base", above1);
}

int main(int argc, char **argv)
{
	struct bench b;
	char dir[] = "/tmp/linux-modules-XXXXXX", script[64], cmd[1024], con[64];
	double load[MODES][ROUNDS], unload[MODES][ROUNDS], c[ROUNDS], both[MODES][ROUNDS];
	unsigned m, i, n, rounds;
	FILE *f;

	bench_init(&b, "linux-modules",
		   "Module load/unload (insmod/rmmod) in Linux at VMPL3 without Veil vs with "
		   "veil.ko locking the kernel (module text through the monitor), in one veil-emu "
		   "--linux boot.",
		   argc, argv);
	n = b.quick ? 3 : 20;
	rounds = b.quick ? 2 : ROUNDS;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(script, sizeof(script), "%s/bench.sh", dir);
	snprintf(con, sizeof(con), "%s/console", dir);
	write_script(script, n, rounds);
	snprintf(cmd, sizeof(cmd), "'%s' run --linux --initrd '%s' --init-script '%s' >'%s' 2>&1",
		 BENCH_EMU, BENCH_INITRD, script, con);
	if (system(cmd) != 0)
		fprintf(stderr, "linux-modules: veil-emu did not end with status 0 (see %s)\n",
			con);
	f = fopen(con, "r");
	if (!f || !parse(f, load, unload, rounds)) {
		fprintf(stderr, "linux-modules: no complete figures in %s\n", con);
		return 1;
	}
	fclose(f);
	for (m = 0; m < MODES; m++)
		for (i = 0; i < rounds; i++)
			both[m][i] = load[m][i] + unload[m][i];
	printf("%u loads and unloads per round, %u rounds per mode; time in the model is host "
	       "time\n",
	       n, rounds);
	for (m = 0; m < MODES; m++) {
		char name[64];

		memcpy(c, load[m], sizeof(c));
		snprintf(name, sizeof(name), "linux_insmod_%s", mode_name[m]);
		bench_result(&b, name, "us", bench_spread_of(c, rounds));
		memcpy(c, unload[m], sizeof(c));
		snprintf(name, sizeof(name), "linux_rmmod_%s", mode_name[m]);
		bench_result(&b, name, "us", bench_spread_of(c, rounds));
	}
	ratio(&b, "linux_insmod_veil_vs_base", load, rounds,
	      "Veil's KCI makes a module load that factor slower");
	ratio(&b, "linux_rmmod_veil_vs_base", unload, rounds,
	      "Veil's KCI makes a module unload that factor slower");
	for (i = 0; i < rounds; i++)
		c[i] = (both[1][i] / both[0][i] - 1) * 100;
	bench_result(&b, "linux_modules_overhead", "%", bench_spread_of(c, rounds));
	printf("  linux_modules_overhead: load+unload with Veil against without, in %% "
	       "(VEIL's paper: 4-6%%)\n");
	unlink(script);
	unlink(con);
	rmdir(dir);
	return bench_exit(&b);
}
