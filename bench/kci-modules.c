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
 * 2 unloads. Figures per round are (run - baseline) / N; times are medians
 * over RUNS uncounted runs with min and max (ratios taken run by run), guest
 * instructions and VMPL switches come from one counted run of each kind.
 * Everything is measured twice in the same run: with the native monitor
 * (host code: its work is in the time but not in the guest instruction
 * counts) and with the VMPL0 image `veil-monitor` run by the model (image
 * mode: guest instructions and VMGEXITs per round for each VMPL).
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

#include "common.h"
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
	uint64_t insns_vmpl[4], vmgexits_vmpl[4]; /* per VMPL */
};

/* One boot of the test OS doing `rounds` rounds on path `p` (with the VMPL0
 * image if `image`). */
static struct figures run(enum path p, uint64_t rounds, bool count, bool image)
{
	FILE *con = tmpfile();
	struct emu_config cfg = {
		.mem_size = 64ULL << 20, .nr_vcpus = 1, .count_insns = count, .console = con
	};
	struct emu_run_params params = { 0 };
	struct emu_exit x;
	struct figures f;
	char err[256], cmdline[128], pass[64];
	struct emu_machine *m = con ? emu_create(&cfg, err, sizeof(err)) : NULL;
	double t0;

	if (!m || emu_load_elf(m, BENCH_TESTOS, &params, err, sizeof(err))) {
		fprintf(stderr, "kci-modules: %s\n", con ? err : "no temporary file");
		exit(1);
	}
	snprintf(cmdline, sizeof(cmdline), "test=bench-modules n=%" PRIu64 " path=%s", rounds,
		 path_names[p]);
	params.cmdline = cmdline;
	/* The guest's own verdict: its PASS line for this path (none for the
	 * baseline), and no FAIL. */
	snprintf(pass, sizeof(pass), "PASS bench-modules-%s", path_names[p]);
	t0 = bench_now();
	if ((image ? emu_run_image(m, &params, BENCH_IMAGE, &x) : emu_run(m, &params, &x)) ||
	    x.kind != EMU_EXIT_KIND_TERMINATE || x.reason_set != 2 ||
	    x.reason_code != VEIL_TERM_OK || !bench_console_ok(con, p == PATH_NONE ? NULL : pass))
		bench_os_failed(con, "kci-modules: the test OS failed with %s: %s, code %u %s\n",
				cmdline, emu_exit_kind_name(x.kind), x.reason_code, x.message);
	f = (struct figures){ bench_now() - t0, x.insns, x.switches, { 0 }, { 0 } };
	memcpy(f.insns_vmpl, x.insns_vmpl, sizeof(f.insns_vmpl));
	memcpy(f.vmgexits_vmpl, x.vmgexits_vmpl, sizeof(f.vmgexits_vmpl));
	emu_destroy(m);
	fclose(con);
	return f;
}

/* Seconds per round of path `p` in each of RUNS runs, baseline subtracted. */
static void per_round(enum path p, uint64_t rounds, bool image, double per[RUNS])
{
	int i;

	for (i = 0; i < RUNS; i++)
		per[i] = (run(p, rounds, false, image).secs -
			  run(PATH_NONE, rounds, false, image).secs) /
			 rounds;
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
	t0 = bench_now();
	for (i = 0; i < k; i++) {
		br_sha256_init(&ctx);
		br_sha256_update(&ctx, buf, n - sizeof(*t));
		br_sha256_out(&ctx, hash);
		ok &= br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, hash, 32, &pk, t->sig, 64) == 1;
	}
	return ok ? (bench_now() - t0) / k : 0;
}

static struct bench_spread scaled(double *v, double k)
{
	double u[RUNS];
	int i;

	for (i = 0; i < RUNS; i++)
		u[i] = v[i] * k;
	return bench_spread_of(u, RUNS);
}

/* The same rounds with the VMPL0 image: the service's work is guest code too. */
static void image_mode(struct bench *b, uint64_t n)
{
	double t_nat[RUNS], t_veil[RUNS], insns[4], exits[4];
	struct figures c0 = run(PATH_NONE, n, true, true), veil = run(PATH_VEIL, n, true, true);
	struct bench_spread sn, sv, sr;
	int v;

	per_round(PATH_NATIVE, n, true, t_nat);
	per_round(PATH_VEIL, n, true, t_veil);
	sn = scaled(t_nat, 1e6);
	sv = scaled(t_veil, 1e6);
	sr = bench_ratio_of(t_veil, t_nat, RUNS);
	printf("with the VMPL0 image (image mode):\n");
	printf("  time per round (us)        %10.1f       %10.1f       %6.2f (%.2f-%.2f)\n",
	       sn.median, sv.median, sr.median, sr.min, sr.max);
	printf("  module service, per round: guest insns and VMGEXITs by VMPL\n");
	for (v = 0; v < 4; v++) {
		insns[v] = bench_per_op(veil.insns_vmpl[v], c0.insns_vmpl[v], n);
		exits[v] = bench_per_op(veil.vmgexits_vmpl[v], c0.vmgexits_vmpl[v], n);
	}
	for (v = 3; v >= 0; v--)
		printf("    VMPL%d                    %12.0f insns  %8.2f VMGEXITs\n", v, insns[v],
		       exits[v]);
	printf("  VMPL switches per round    %10.1f\n",
	       bench_per_op(veil.switches, c0.switches, n));
	bench_result(b, "kci_modules_native_per_round_image", "us", sn);
	bench_result(b, "kci_modules_veil_per_round_image", "us", sv);
	bench_ratio(b, "kci_modules_time_ratio_image", sr,
		    "service time / in-OS loader time per round with the VMPL0 image, same run",
		    "loading through the service is slower (its signature checks and the VMPL "
		    "switches)");
	bench_vmpl_values(b, "kci_modules_image_", "", insns, "insn", exits, "vmgexit");
}

int main(int argc, char **argv)
{
	struct bench b;
	uint64_t n;
	struct figures c0, nat, veil;
	double t_nat[RUNS], t_veil[RUNS], ratio[RUNS], nosig[RUNS], over[RUNS], sig, ins_nat,
		ins_veil;
	struct bench_spread sn, sv, sr, so;
	int i;

	bench_init(&b, "kci-modules",
		   "Kernel module load and unload through the Veil module service (signature\n"
		   "check, placement, relocation, RMP changes in the monitor) against the test\n"
		   "OS's own in-OS loader, on the same signed files, in the emulator.",
		   argc, argv);
	n = b.quick ? 20 : 200;
	per_round(PATH_NATIVE, n, false, t_nat);
	per_round(PATH_VEIL, n, false, t_veil);
	c0 = run(PATH_NONE, n, true, false);
	nat = run(PATH_NATIVE, n, true, false);
	veil = run(PATH_VEIL, n, true, false);
	ins_nat = bench_per_op(nat.insns, c0.insns, n);
	ins_veil = bench_per_op(veil.insns, c0.insns, n);
	sig = sigcheck_secs(BENCH_MODULE_DIR "/hello.ko") +
	      sigcheck_secs(BENCH_MODULE_DIR "/counter.ko");
	for (i = 0; i < RUNS; i++) {
		ratio[i] = t_veil[i] / t_nat[i];
		nosig[i] = (t_veil[i] - sig) / t_nat[i];
		over[i] = (ratio[i] - 1) * 100;
	}
	sn = scaled(t_nat, 1e6);
	sv = scaled(t_veil, 1e6);
	sr = bench_spread_of(ratio, RUNS);
	so = bench_spread_of(over, RUNS);

	printf("kci-modules: load + unload of hello.ko and counter.ko (one round = 2 loads + 2 "
	       "unloads)\n");
	printf("  %" PRIu64 " rounds per run, %d runs (medians, min-max), boot cost subtracted\n",
	       n, RUNS);
	printf("                             in-OS loader     module service    ratio\n");
	printf("  time per round (us)        %10.1f       %10.1f       %6.2f (%.2f-%.2f)\n",
	       sn.median, sv.median, sr.median, sr.min, sr.max);
	printf("  guest insns per round      %10.0f       %10.0f       %6.3f\n", ins_nat, ins_veil,
	       ins_veil / ins_nat);
	printf("  VMPL switches per round    %10.1f       %10.1f\n",
	       bench_per_op(nat.switches, c0.switches, n),
	       bench_per_op(veil.switches, c0.switches, n));
	printf("  of the service's time: signature checks (SHA-256 + ECDSA P-256, host-native) "
	       "%.1f us per round\n",
	       sig * 1e6);
	printf("  the in-OS loader checks no signature; guest insns count VMPL3 only (the monitor "
	       "runs natively)\n");
	printf("  paper (VEIL, ASPLOS'24, Linux on SNP hardware): module load/unload +4-6%% "
	       "(ratio %.2f-%.2f); here the in-OS loader runs as emulated guest code and the\n"
	       "  service natively, so the ratio compares different things: no target\n",
	       PAPER_LOW, PAPER_HIGH);
	bench_result(&b, "kci_modules_native_per_round", "us", sn);
	bench_result(&b, "kci_modules_veil_per_round", "us", sv);
	bench_ratio(&b, "kci_modules_time_ratio", sr,
		    "service time / in-OS loader time per round, same run",
		    "loading through the service is slower (the signature checks, which the "
		    "in-OS loader does not do, and the VMPL switches)");
	bench_ratio(&b, "kci_modules_time_ratio_nosig", bench_spread_of(nosig, RUNS),
		    "(service time - signature checks) / in-OS loader time",
		    "the service is slower even without its signature checks");
	bench_result(&b, "kci_modules_overhead", "%", so);
	bench_value(&b, "kci_modules_insn_ratio", "ratio", ins_veil / ins_nat);
	bench_value(&b, "kci_modules_switches_per_load_unload", "switch",
		    bench_per_op(veil.switches, c0.switches, n) / 2);
	bench_value(&b, "kci_modules_sigcheck_per_round", "us", sig * 1e6);
	image_mode(&b, n);
	return bench_exit(&b);
}
