/* SPDX-License-Identifier: MIT */
/*
 * linux-boot: a boot of Linux at VMPL3 (Debian's kernel in `veil-emu run
 * --linux`) to a BusyBox shell and on to power-off, under the VMPL0 image
 * monitor (backends/snp, run by the model at VMPL0) against the native
 * monitor (core/ compiled into veil-emu, --native), in the same run.
 *
 * Each boot runs a one-line init script that prints a marker from BusyBox
 * and exits 0; the figure is the whole veil-emu process, from exec to the
 * guest's power-off: wall time and CPU time (user + system, the veil-emu
 * process and its children, from getrusage). 1 vCPU, and 4 vCPUs in a full
 * run. Boots alternate between the two monitors, ROUNDS times each; figures
 * are medians with min and max. The model gives no instruction count for a
 * plain run (only --max-insns counts exactly, which slows the run down), so
 * none is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common.h"

#define ROUNDS 3
#define MARK "linux-boot: busybox up"

struct boot {
	double wall, cpu;
};

static double cpu_children(void)
{
	struct rusage u;

	getrusage(RUSAGE_CHILDREN, &u);
	return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
	       u.ru_stime.tv_usec / 1e6;
}

/* The console has the marker the init script printed from BusyBox. */
static int reached_busybox(const char *con)
{
	FILE *f = fopen(con, "r");
	char line[512];
	int ok = 0;

	if (!f)
		return 0;
	while (!ok && fgets(line, sizeof(line), f))
		ok = strstr(line, MARK) != NULL;
	fclose(f);
	return ok;
}

/* One boot to power-off; 0 and its times, or -1 (said on stderr). */
static int boot_once(const char *script, const char *con, int native, unsigned vcpus,
		     struct boot *out)
{
	char cmd[1024];
	double t0, c0;
	int rc;

	snprintf(cmd, sizeof(cmd), "'%s' run --linux%s --vcpus %u --init-script '%s' >'%s' 2>&1",
		 BENCH_EMU, native ? " --native" : "", vcpus, script, con);
	c0 = cpu_children();
	t0 = bench_now();
	rc = system(cmd);
	out->wall = bench_now() - t0;
	out->cpu = cpu_children() - c0;
	if (rc != 0 || !reached_busybox(con)) {
		fprintf(stderr,
			"linux-boot: %s boot on %u vCPU(s) did not reach BusyBox and end "
			"with status 0 (see %s)\n",
			native ? "native" : "image", vcpus, con);
		return -1;
	}
	return 0;
}

static void report(struct bench *b, unsigned vcpus, struct boot v[2][ROUNDS], unsigned rounds)
{
	static const char *const mode[2] = { "image", "native" };
	double x[ROUNDS], r[ROUNDS];
	char name[64];
	unsigned m, i;

	for (m = 0; m < 2; m++) {
		for (i = 0; i < rounds; i++)
			x[i] = v[m][i].wall;
		snprintf(name, sizeof(name), "linux_boot_%s_%ucpu_wall", mode[m], vcpus);
		bench_result(b, name, "s", bench_spread_of(x, rounds));
		for (i = 0; i < rounds; i++)
			x[i] = v[m][i].cpu;
		snprintf(name, sizeof(name), "linux_boot_%s_%ucpu_cpu", mode[m], vcpus);
		bench_result(b, name, "s", bench_spread_of(x, rounds));
	}
	for (i = 0; i < rounds; i++)
		r[i] = v[0][i].wall / v[1][i].wall;
	snprintf(name, sizeof(name), "linux_boot_image_vs_native_%ucpu", vcpus);
	bench_ratio(b, name, bench_spread_of(r, rounds), "image/native (wall)",
		    "a boot under the VMPL0 image takes that factor longer");
	for (i = 0; i < rounds; i++)
		r[i] = v[0][i].cpu / v[1][i].cpu;
	snprintf(name, sizeof(name), "linux_boot_image_vs_native_%ucpu_cpu", vcpus);
	bench_ratio(b, name, bench_spread_of(r, rounds), "image/native (CPU)",
		    "a boot under the VMPL0 image takes that factor more CPU time");
}

int main(int argc, char **argv)
{
	struct bench b;
	char dir[] = "/tmp/linux-boot-XXXXXX", script[64], con[64];
	struct boot v[2][ROUNDS];
	unsigned rounds, vcpus, i, m;
	FILE *f;
	int bad = 0;

	bench_init(&b, "linux-boot",
		   "Linux boot to a BusyBox shell and power-off in veil-emu --linux: wall and CPU "
		   "time under the VMPL0 image monitor vs the native monitor, same run.",
		   argc, argv);
	rounds = b.quick ? 2 : ROUNDS; /* a spread needs two */
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(script, sizeof(script), "%s/boot.sh", dir);
	snprintf(con, sizeof(con), "%s/console", dir);
	f = fopen(script, "w");
	if (!f) {
		perror(script);
		return 2;
	}
	fprintf(f, "echo '" MARK "'\n");
	fclose(f);
	printf("boot to BusyBox and power-off, %u round(s) per monitor; times are the host's "
	       "(veil-emu's wall and CPU time)\n",
	       rounds);
	for (vcpus = 1; vcpus <= 4 && !bad; vcpus += 3) {
		if (vcpus == 4 && b.quick)
			break;
		for (i = 0; i < rounds && !bad; i++)
			for (m = 0; m < 2 && !bad; m++)
				bad = boot_once(script, con, m == 1, vcpus, &v[m][i]);
		if (!bad)
			report(&b, vcpus, v, rounds);
	}
	if (!bad)
		unlink(con);
	unlink(script);
	rmdir(dir);
	return bad ? 1 : bench_exit(&b);
}
