/* SPDX-License-Identifier: MIT */
/*
 * kci-modules: loading and unloading kernel modules through the Veil module
 * service (signature check, placement, relocation and RMP changes in the
 * monitor) against the test OS's own unprotected in-OS loader, on the same
 * signed files (hello.ko and counter.ko), in the emulator.
 *
 * One bench run boots the test OS (test=bench-modules) several times:
 * path=none (boot, memory validation and the KCI lock only: the baseline),
 * path=native (N rounds with the in-OS loader, before the lock) and
 * path=veil (N rounds through the service, after it). A round is 2 loads +
 * 2 unloads. Figures per round are (run - baseline) / N; time is the median
 * over RUNS uncounted runs, guest instructions and VMPL switches come from
 * one counted run of each kind. The monitor runs natively in the emulator,
 * so its own work is in the time but not in the guest instruction counts.
 */
#include <bearssl/bearssl_ec.h>
#include <bearssl/bearssl_hash.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <veil/abi.h>

#include "emu.h"
#include "emu_run.h"

#define RUNS 5
#define PAPER_LOW 1.04 /* VEIL (ASPLOS'24): module load/unload +4-6% */
#define PAPER_HIGH 1.06

enum path {
	PATH_NONE,
	PATH_NATIVE,
	PATH_VEIL
};
static const char *const path_names[] = { "none", "native", "veil" };

struct figures {
	double secs;
	uint64_t insns, switches;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The guest's own verdict: its PASS line for this path, and no FAIL. */
static bool console_ok(FILE *con, enum path p)
{
	char line[512], want[64];
	bool pass = p == PATH_NONE, fail = false;

	snprintf(want, sizeof(want), "PASS bench-modules-%s", path_names[p]);
	rewind(con);
	while (fgets(line, sizeof(line), con)) {
		pass |= !strncmp(line, want, strlen(want));
		fail |= !strncmp(line, "FAIL", 4);
	}
	return pass && !fail;
}

/* One boot of the test OS doing `rounds` rounds on path `p`. */
static struct figures run(enum path p, uint64_t rounds, bool count)
{
	FILE *con = tmpfile();
	struct emu_config cfg = {
		.mem_size = 64ULL << 20, .nr_vcpus = 1, .count_insns = count, .console = con
	};
	struct emu_run_params params = { 0 };
	struct emu_exit x;
	struct figures f;
	char err[256], cmdline[128];
	struct emu_machine *m = con ? emu_create(&cfg, err, sizeof(err)) : NULL;
	double t0;

	if (!m || emu_load_elf(m, BENCH_TESTOS, &params, err, sizeof(err))) {
		fprintf(stderr, "kci-modules: %s\n", con ? err : "no temporary file");
		exit(1);
	}
	snprintf(cmdline, sizeof(cmdline), "test=bench-modules n=%" PRIu64 " path=%s", rounds,
		 path_names[p]);
	params.cmdline = cmdline;
	t0 = now();
	if (emu_run(m, &params, &x) || x.kind != EMU_EXIT_KIND_TERMINATE || x.reason_set != 2 ||
	    x.reason_code != VEIL_TERM_OK || !console_ok(con, p)) {
		fprintf(stderr, "kci-modules: the test OS failed with %s: %s, code %u %s\n",
			cmdline, emu_exit_kind_name(x.kind), x.reason_code, x.message);
		rewind(con);
		while (fgets(err, sizeof(err), con))
			fputs(err, stderr);
		exit(1);
	}
	f = (struct figures){ now() - t0, x.insns, x.switches };
	emu_destroy(m);
	fclose(con);
	return f;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median seconds per round of path `p` over RUNS runs, baseline subtracted. */
static double per_round(enum path p, uint64_t rounds)
{
	double per[RUNS];
	int i;

	for (i = 0; i < RUNS; i++)
		per[i] = (run(p, rounds, false).secs - run(PATH_NONE, rounds, false).secs) / rounds;
	qsort(per, RUNS, sizeof(per[0]), cmp);
	return per[RUNS / 2];
}

static size_t slurp(const char *path, unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, cap, f) : 0;

	if (f)
		fclose(f);
	return n;
}

/* What the monitor's signature check of one signed module costs natively
 * (SHA-256 of the file, ECDSA P-256 verify with the trusted key, as in
 * services/module), per check; 0 if the files are not there or do not verify. */
static double sigcheck_secs(const char *module)
{
	static unsigned char buf[1 << 18], key[9 + 65];
	const struct veil_sig_trailer *t;
	br_ec_public_key pk = { BR_EC_secp256r1, key + 9, 65 };
	unsigned char hash[32];
	size_t n = slurp(module, buf, sizeof(buf));
	br_sha256_context ctx;
	double t0;
	int i, ok = 1, k = 100;

	if (n <= sizeof(*t) || slurp(BENCH_MODULE_PUBKEY, key, sizeof(key)) != sizeof(key))
		return 0;
	t = (const void *)(buf + n - sizeof(*t));
	t0 = now();
	for (i = 0; i < k; i++) {
		br_sha256_init(&ctx);
		br_sha256_update(&ctx, buf, n - sizeof(*t));
		br_sha256_out(&ctx, hash);
		ok &= br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, hash, 32, &pk, t->sig, 64) == 1;
	}
	return ok ? (now() - t0) / k : 0;
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "-q");
	uint64_t n = quick ? 20 : 200;
	struct figures b, nat, veil;
	double t_nat, t_veil, sig, ins_nat, ins_veil;

	if (argc > 1 && !quick) {
		fprintf(stderr, "usage: kci-modules [-q]\n  -q  quick run (fewer rounds)\n");
		return 2;
	}
	t_nat = per_round(PATH_NATIVE, n);
	t_veil = per_round(PATH_VEIL, n);
	b = run(PATH_NONE, n, true);
	nat = run(PATH_NATIVE, n, true);
	veil = run(PATH_VEIL, n, true);
	ins_nat = (double)(nat.insns - b.insns) / n;
	ins_veil = (double)(veil.insns - b.insns) / n;
	sig = sigcheck_secs(BENCH_MODULE_DIR "/hello.ko") +
	      sigcheck_secs(BENCH_MODULE_DIR "/counter.ko");

	printf("kci-modules: load + unload of hello.ko and counter.ko (one round = 2 loads + 2 "
	       "unloads)\n");
	printf("  %" PRIu64 " rounds per run, %d runs, boot cost subtracted\n", n, RUNS);
	printf("                             in-OS loader     module service    ratio\n");
	printf("  time per round (us)        %10.1f       %10.1f       %6.2f\n", t_nat * 1e6,
	       t_veil * 1e6, t_veil / t_nat);
	printf("  guest insns per round      %10.0f       %10.0f       %6.3f\n", ins_nat, ins_veil,
	       ins_veil / ins_nat);
	printf("  VMPL switches per round    %10.1f       %10.1f\n",
	       (double)(nat.switches - b.switches) / n, (double)(veil.switches - b.switches) / n);
	printf("  VMPL switches per load + unload: %.1f\n",
	       (double)(veil.switches - b.switches) / n / 2);
	printf("  of the service's time: signature checks (SHA-256 + ECDSA P-256, host-native) "
	       "%.1f us per round\n",
	       sig * 1e6);
	printf("  time ratio without the signature checks: %.2f\n", (t_veil - sig) / t_nat);
	printf("  the in-OS loader checks no signature; guest insns count VMPL3 only (the monitor "
	       "runs natively)\n");
	printf("  paper (VEIL, ASPLOS'24, Linux on SNP hardware): module load/unload +4-6%% "
	       "(ratio %.2f-%.2f)\n",
	       PAPER_LOW, PAPER_HIGH);
	printf("RESULT kci_modules_native_us_per_round=%.2f\n", t_nat * 1e6);
	printf("RESULT kci_modules_veil_us_per_round=%.2f\n", t_veil * 1e6);
	printf("RESULT kci_modules_time_ratio=%.3f\n", t_veil / t_nat);
	printf("RESULT kci_modules_insn_ratio=%.4f\n", ins_veil / ins_nat);
	printf("RESULT kci_modules_switches_per_load_unload=%.2f\n",
	       (double)(veil.switches - b.switches) / n / 2);
	printf("RESULT kci_modules_sigcheck_us_per_round=%.2f\n", sig * 1e6);
	printf("RESULT kci_modules_time_ratio_nosig=%.3f\n", (t_veil - sig) / t_nat);
	printf("RESULT kci_modules_paper_ratio=%.2f-%.2f\n", PAPER_LOW, PAPER_HIGH);
	return 0;
}
