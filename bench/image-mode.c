/* SPDX-License-Identifier: MIT */
/*
 * image-mode: the SVSM call round trip (QUERY_PROTOCOL, OS at VMPL3 ->
 * monitor at VMPL0 -> OS) with the native monitor and with the VMPL0 image
 * `veil-monitor` run by the model (image mode), measured in the same run:
 * time per call, guest instructions per call at each VMPL, VMGEXITs and VMPL
 * switches per call. The native monitor executes no guest instructions, so
 * its count is the OS's (VMPL3) and the image's extra count is VMPL0's: the
 * hardware-independent cost of the monitor's own code per call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu.h"
#include "emu_run.h"

#define RUNS 5

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One boot doing `calls` calls, natively (image NULL) or in image mode. */
static double run(const char *image, uint64_t calls, bool count, struct emu_exit *x)
{
	FILE *devnull = fopen("/dev/null", "w"); /* the monitor's banner */
	struct emu_config cfg = {
		.mem_size = 64ULL << 20, .nr_vcpus = 1, .count_insns = count, .console = devnull
	};
	struct emu_run_params p = { 0 };
	char err[256];
	struct emu_machine *m = emu_create(&cfg, err, sizeof(err));
	double t0, t1;
	int rc;

	if (!m || emu_load_elf(m, BENCH_OS, &p, err, sizeof(err))) {
		fprintf(stderr, "image-mode: %s\n", err);
		exit(1);
	}
	memcpy(emu_gpa_ptr(m, p.entry + 8, 8), &calls, 8);
	p.cmdline = "";
	t0 = now();
	rc = image ? emu_run_image(m, &p, image, x) : emu_run(m, &p, x);
	if (rc || x->kind != EMU_EXIT_KIND_TERMINATE || x->reason_code) {
		fprintf(stderr, "image-mode: the benchmark OS failed (%s)\n", x->message);
		exit(1);
	}
	t1 = now();
	emu_destroy(m);
	fclose(devnull);
	return t1 - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double us;			  /* median time per call */
	double insns, switches, vmgexits; /* per call */
};

static void measure(const char *image, uint64_t n, struct result *r)
{
	double per[RUNS];
	struct emu_exit x0, x1;
	int i;

	for (i = 0; i < RUNS; i++) {
		double base = run(image, 0, false, &x0), full = run(image, n, false, &x1);

		per[i] = (full - base) / n;
	}
	qsort(per, RUNS, sizeof(per[0]), cmp);
	run(image, 0, true, &x0);
	run(image, n, true, &x1);
	r->us = per[RUNS / 2] * 1e6;
	r->insns = (double)(x1.insns - x0.insns) / n;
	r->switches = (double)(x1.switches - x0.switches) / n;
	r->vmgexits = (double)(x1.vmgexits - x0.vmgexits) / n;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 && !strcmp(argv[1], "-q") ? 2000 : 20000;
	struct result nat, img;

	if (argc > 1 && strcmp(argv[1], "-q")) {
		fprintf(stderr, "usage: image-mode [-q]\n  -q  quick run (fewer calls)\n");
		return 2;
	}
	measure(NULL, n, &nat);
	measure(BENCH_IMAGE, n, &img);
	printf("image-mode: SVSM QUERY_PROTOCOL round trip, native monitor vs the VMPL0 image\n");
	printf("  calls per run              %" PRIu64 " (%d runs, boot cost subtracted)\n", n,
	       RUNS);
	printf("                             native     image\n");
	printf("  median time per call (us)  %-10.2f %.2f\n", nat.us, img.us);
	printf("  guest insns per call       %-10.1f %.1f\n", nat.insns, img.insns);
	printf("    at VMPL3 (the OS)        %-10.1f %.1f\n", nat.insns, nat.insns);
	printf("    at VMPL0 (the monitor)   %-10s %.1f\n", "native", img.insns - nat.insns);
	printf("  VMGEXITs per call          %-10.2f %.2f\n", nat.vmgexits, img.vmgexits);
	printf("  VMPL switches per call     %-10.2f %.2f\n", nat.switches, img.switches);
	printf("  image / native time        %.2f\n", img.us / nat.us);
	printf("  target: image-mode round trip < 3 us\n");
	printf("RESULT image_svsm_call_us=%.3f native_svsm_call_us=%.3f vmpl0_insns_per_call=%.1f\n",
	       img.us, nat.us, img.insns - nat.insns);
	return 0;
}
