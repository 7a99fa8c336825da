/* SPDX-License-Identifier: MIT */
/*
 * veil-attest: check and print SEV-SNP attestation reports.
 *
 *   veil-attest verify REPORT --chain DIR [options]
 *   veil-attest show REPORT
 *
 * REPORT is a raw ATTESTATION_REPORT (0x4A0 bytes, SNP firmware ABI 56860,
 * as Linux's configfs-tsm or snpguest write it) or a Veil attestation bundle
 * (the report and the SVSM services manifest, struct veil_attest_bundle).
 * DIR holds ark.pem, ask.pem and vcek.pem: AMD's chain for the chip that
 * signed the report, or the model's from `veil-emu certs DIR`.
 *
 * The checks, in order: the chain (ARK self-signed, ASK by ARK, VCEK by
 * ASK), the VCEK is this chip's at this TCB (hwID and TCB extensions against
 * CHIP_ID and REPORTED_TCB), the ECDSA P-384 signature, the VMPL, the guest
 * policy, the measurement, the minimum TCB, and the nonce: REPORT_DATA =
 * SHA-512(nonce || manifest) when there is a manifest (SVSM spec 58019),
 * else the nonce itself. The first failing check is named on one line and the
 * exit status is 1; unusable input gives status 2.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <veil/abi.h>

#include "hostio.h"
#include "snp_verify.h"

static const char usage[] =
	"usage: veil-attest verify REPORT --chain DIR [--measurement HEX] [--nonce HEX]\n"
	"                          [--vmpl N] [--min-tcb BL.TEE.SNP.UCODE] [--allow-debug]\n"
	"       veil-attest show REPORT\n"
	"REPORT: a raw SEV-SNP attestation report (1184 bytes) or a Veil attestation bundle\n"
	"(report and SVSM services manifest, written by the test OS to COM2).\n"
	"  --chain DIR        ark.pem, ask.pem, vcek.pem (AMD's, or `veil-emu certs DIR`)\n"
	"  --measurement HEX  the expected launch measurement (48 bytes)\n"
	"  --nonce HEX        the caller's nonce: REPORT_DATA must be SHA-512(nonce ||\n"
	"                     manifest) for a bundle, the nonce itself for a raw report;\n"
	"                     required when the report has a manifest\n"
	"  --vmpl N           the VMPL the report must claim (default 0)\n"
	"  --min-tcb B.T.S.U  lowest acceptable SPLs: boot loader, TEE, SNP, microcode\n"
	"  --allow-debug      accept a guest policy that allows debugging\n"
	"Exit status: 0 verified, 1 a check failed (one line says which), 2 bad usage or input.\n"
	"--help/-h prints this text, --version the version.\n";

struct report_file {
	struct snp_report r;
	uint8_t *manifest;
	uint32_t manifest_size;
};

struct opts {
	const char *chain;
	uint8_t measurement[48], nonce[VEIL_ATTEST_MAX_NONCE];
	size_t nonce_len;
	bool has_measurement, has_nonce, allow_debug;
	unsigned vmpl;
	bool has_min_tcb;
	unsigned min_tcb[4];
};

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "veil-attest: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 2;
}

static int failed(const char *fmt, const char *arg)
{
	fprintf(stderr, "veil-attest: FAILED: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

/* ---- input --------------------------------------------------------------------- */

static int read_all(const char *path, uint8_t **buf, size_t *len)
{
	char err[256];

	if (hio_read(path, 0, buf, len, err, sizeof(err)))
		return bad("%s", err);
	return 0;
}

static int load_report(const char *path, struct report_file *rf)
{
	struct veil_attest_bundle b;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = read_all(path, &buf, &len);

	if (rc)
		return rc;
	memset(rf, 0, sizeof(*rf));
	if (len == SNP_REPORT_SIZE) {
		memcpy(&rf->r, buf, SNP_REPORT_SIZE);
		free(buf);
		return 0;
	}
	if (len < sizeof(b) + SNP_REPORT_SIZE) {
		free(buf);
		return bad("'%s' is neither a report (1184 bytes) nor an attestation bundle", path);
	}
	memcpy(&b, buf, sizeof(b));
	if (b.magic != VEIL_ATTEST_BUNDLE_MAGIC || b.report_size != SNP_REPORT_SIZE ||
	    len != sizeof(b) + SNP_REPORT_SIZE + (size_t)b.manifest_size) {
		free(buf);
		return bad("'%s' is not a well-formed attestation bundle", path);
	}
	memcpy(&rf->r, buf + sizeof(b), SNP_REPORT_SIZE);
	rf->manifest_size = b.manifest_size;
	if (b.manifest_size) {
		rf->manifest = malloc(b.manifest_size);
		if (!rf->manifest) {
			free(buf);
			return bad("%s", "out of memory");
		}
		memcpy(rf->manifest, buf + sizeof(b) + SNP_REPORT_SIZE, b.manifest_size);
	}
	free(buf);
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 :
				      -1;
}

/* Hex into out (at most cap bytes); the byte count, or -1. */
static long parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s), i;

	if (!n || n % 2 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static int parse_tcb(const char *s, unsigned v[4])
{
	char extra;

	if (sscanf(s, "%u.%u.%u.%u%c", &v[0], &v[1], &v[2], &v[3], &extra) != 4 || v[0] > 255 ||
	    v[1] > 255 || v[2] > 255 || v[3] > 255)
		return -1;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n;

		if (!strcmp(a, "--allow-debug")) {
			o->allow_debug = true;
			continue;
		}
		if (!v)
			return bad("unknown option or missing value: '%s' (see --help)", a);
		i++;
		if (!strcmp(a, "--chain")) {
			o->chain = v;
		} else if (!strcmp(a, "--measurement")) {
			if (parse_hex(v, o->measurement, 48) != 48)
				return bad("--measurement needs 96 hex digits, got '%s'", v);
			o->has_measurement = true;
		} else if (!strcmp(a, "--nonce")) {
			n = parse_hex(v, o->nonce, sizeof(o->nonce));
			if (n <= 0)
				return bad("--nonce needs 2 to 2048 hex digits, got '%s'", v);
			o->nonce_len = (size_t)n;
			o->has_nonce = true;
		} else if (!strcmp(a, "--vmpl")) {
			if (strlen(v) != 1 || v[0] < '0' || v[0] > '3')
				return bad("--vmpl must be 0 to 3, got '%s'", v);
			o->vmpl = (unsigned)(v[0] - '0');
		} else if (!strcmp(a, "--min-tcb")) {
			if (parse_tcb(v, o->min_tcb))
				return bad(
					"--min-tcb needs BL.TEE.SNP.UCODE (0-255 each), got '%s'",
					v);
			o->has_min_tcb = true;
		} else {
			return bad("unknown option '%s' (see --help)", a);
		}
	}
	if (!o->chain)
		return bad("%s", "verify needs --chain DIR");
	return 0;
}

/* ---- the report's contents ------------------------------------------------------------ */

static int check_fields(const struct snp_report *r, const struct report_file *rf,
			const struct opts *o)
{
	uint8_t expect[64];
	unsigned i, dlen = 64;
	static const unsigned shift[4] = { 0, 8, 48, 56 };

	if (r->vmpl != o->vmpl) {
		char s[64];

		snprintf(s, sizeof(s), "%u, expected %u", r->vmpl, o->vmpl);
		return failed("the report claims VMPL %s", s);
	}
	if ((r->policy & SNP_POLICY_DEBUG) && !o->allow_debug)
		return failed("%s", "the guest policy allows debugging (--allow-debug accepts it)");
	if (!(r->policy & (1ULL << 17)))
		return failed("%s", "the guest policy has reserved bit 17 clear");
	if (o->has_measurement && memcmp(r->measurement, o->measurement, 48))
		return failed("%s", "the measurement is not the expected one");
	for (i = 0; o->has_min_tcb && i < 4; i++)
		if (((r->reported_tcb >> shift[i]) & 0xFF) < o->min_tcb[i])
			return failed("%s", "the reported TCB is below --min-tcb");
	if (rf->manifest_size && !o->has_nonce)
		return failed("%s", "a manifest is bound through the nonce: give --nonce");
	if (!o->has_nonce)
		return 0;
	memset(expect, 0, sizeof(expect));
	if (rf->manifest_size) {
		EVP_MD_CTX *mc = EVP_MD_CTX_new();

		if (!mc || !EVP_DigestInit_ex(mc, EVP_sha512(), NULL) ||
		    !EVP_DigestUpdate(mc, o->nonce, o->nonce_len) ||
		    !EVP_DigestUpdate(mc, rf->manifest, rf->manifest_size) ||
		    !EVP_DigestFinal_ex(mc, expect, &dlen)) {
			EVP_MD_CTX_free(mc);
			return failed("%s", "SHA-512 failed");
		}
		EVP_MD_CTX_free(mc);
	} else if (o->nonce_len <= 64) {
		memcpy(expect, o->nonce, o->nonce_len);
	} else {
		return failed("%s", "a nonce longer than 64 bytes needs a manifest");
	}
	if (memcmp(expect, r->report_data, 64))
		return failed("%s",
			      rf->manifest_size ?
				      "REPORT_DATA is not SHA-512(nonce || manifest): another "
				      "nonce, or the manifest was changed" :
				      "REPORT_DATA is not the nonce");
	return 0;
}

/* ---- printing ----------------------------------------------------------------------- */

static void hex(const char *name, const uint8_t *p, size_t n)
{
	size_t i;

	printf("%-18s ", name);
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

static void tcb(const char *name, uint64_t t)
{
	printf("%-18s bootloader %u tee %u snp %u microcode %u (%#018" PRIx64 ")\n", name,
	       (unsigned)(t & 0xFF), (unsigned)((t >> 8) & 0xFF), (unsigned)((t >> 48) & 0xFF),
	       (unsigned)(t >> 56), t);
}

static void show_report(const struct snp_report *r)
{
	printf("%-18s %u\n", "version", r->version);
	printf("%-18s %u\n", "guest_svn", r->guest_svn);
	printf("%-18s %#" PRIx64 "%s\n", "policy", r->policy,
	       r->policy & SNP_POLICY_DEBUG ? " (debug allowed)" : "");
	hex("family_id", r->family_id, 16);
	hex("image_id", r->image_id, 16);
	printf("%-18s %u\n", "vmpl", r->vmpl);
	printf("%-18s %u%s\n", "signature_algo", r->signature_algo,
	       r->signature_algo == 1 ? " (ECDSA P-384 with SHA-384)" : "");
	tcb("current_tcb", r->current_tcb);
	printf("%-18s %#" PRIx64 "\n", "platform_info", r->platform_info);
	printf("%-18s %#x (author_key_en %u, mask_chip_key %u, signing_key %u)\n", "flags",
	       r->flags, r->flags & 1, (r->flags >> 1) & 1, (r->flags >> 2) & 7);
	hex("report_data", r->report_data, 64);
	hex("measurement", r->measurement, 48);
	hex("host_data", r->host_data, 32);
	hex("id_key_digest", r->id_key_digest, 48);
	hex("author_key_digest", r->author_key_digest, 48);
	hex("report_id", r->report_id, 32);
	hex("report_id_ma", r->report_id_ma, 32);
	tcb("reported_tcb", r->reported_tcb);
	hex("chip_id", r->chip_id, 64);
	tcb("committed_tcb", r->committed_tcb);
	printf("%-18s %u.%u build %u\n", "current_version", r->current_major, r->current_minor,
	       r->current_build);
	printf("%-18s %u.%u build %u\n", "committed_version", r->committed_major,
	       r->committed_minor, r->committed_build);
	tcb("launch_tcb", r->launch_tcb);
	hex("signature_r", r->sig_r, 72);
	hex("signature_s", r->sig_s, 72);
}

static void show_kci(const uint8_t *p, uint32_t n)
{
	struct veil_attest_kci k;
	uint32_t i;

	if (n < sizeof(k))
		return;
	memcpy(&k, p, sizeof(k));
	printf("  kernel code integrity: %s, %" PRIu64 " text pages, %u measured segments\n",
	       k.locked ? "locked" : "NOT locked", k.text_pages, k.nr_segs);
	for (i = 0; i < k.nr_segs && sizeof(k) + (i + 1) * sizeof(k.segs[0]) <= n; i++) {
		uint64_t s[2];
		uint32_t fl;

		memcpy(s, p + sizeof(k) + i * sizeof(k.segs[0]), 16);
		memcpy(&fl, p + sizeof(k) + i * sizeof(k.segs[0]) + 16, 4);
		printf("    %#" PRIx64 "-%#" PRIx64 " %c%c%c\n", s[0], s[0] + s[1],
		       fl & 4 ? 'r' : '-', fl & 2 ? 'w' : '-', fl & 1 ? 'x' : '-');
	}
}

static void show_log(const uint8_t *p, uint32_t n)
{
	struct veil_log_head h;

	if (n != sizeof(h))
		return;
	memcpy(&h, p, sizeof(h));
	printf("  secure log: %" PRIu64 " records, %" PRIu64 " dropped, %" PRIu64 " of %" PRIu64
	       " bytes used\n",
	       h.count, h.drops, h.used, h.capacity);
	hex("    head", h.head, 32);
}

static void show_modules(const uint8_t *p, uint32_t n)
{
	struct veil_attest_modules m;
	uint32_t i, esz = sizeof(m.mod[0]);

	if (n < sizeof(m))
		return;
	memcpy(&m, p, sizeof(m));
	printf("  modules: %u loaded\n", m.nr);
	for (i = 0; i < m.nr && sizeof(m) + (i + 1) * esz <= n; i++) {
		uint64_t f[3];

		memcpy(f, p + sizeof(m) + i * esz, 24);
		printf("    at %#" PRIx64 ", %" PRIu64 " pages, ", f[1], f[2]);
		hex("sha256", p + sizeof(m) + i * esz + 24, 32);
	}
}

static void show_manifest(const uint8_t *p, uint32_t n)
{
	static const uint8_t g_all[16] = SVSM_SERVICES_MANIFEST_GUID,
			     g_kci[16] = VEIL_ATTEST_GUID_KCI, g_log[16] = VEIL_ATTEST_GUID_LOG,
			     g_mod[16] = VEIL_ATTEST_GUID_MODULES;
	struct svsm_manifest_hdr h;
	uint32_t i;

	if (n < sizeof(h) || memcmp(p, g_all, 16)) {
		printf("manifest: %u bytes (a single service's)\n", n);
		return;
	}
	memcpy(&h, p, sizeof(h));
	printf("manifest: %u services\n", h.nr_entries);
	for (i = 0;
	     i < h.nr_entries && sizeof(h) + (i + 1) * sizeof(struct svsm_manifest_entry) <= n;
	     i++) {
		struct svsm_manifest_entry e;

		memcpy(&e, p + sizeof(h) + i * sizeof(e), sizeof(e));
		if (e.offset > n || e.size > n - e.offset) {
			printf("  entry %u lies outside the manifest\n", i);
			continue;
		}
		if (!memcmp(e.guid, g_kci, 16))
			show_kci(p + e.offset, e.size);
		else if (!memcmp(e.guid, g_log, 16))
			show_log(p + e.offset, e.size);
		else if (!memcmp(e.guid, g_mod, 16))
			show_modules(p + e.offset, e.size);
		else
			printf("  an unknown service (%u bytes)\n", e.size);
	}
}

/* ---- commands ----------------------------------------------------------------------- */

static int cmd_verify(const char *path, int argc, char **argv)
{
	struct opts o = { 0 };
	struct report_file rf;
	char err[256];
	int rc = parse_opts(argc, argv, &o);

	if (rc || (rc = load_report(path, &rf)))
		return rc;
	rc = snp_verify_report(&rf.r, o.chain, err, sizeof(err));
	if (rc == SNP_VERIFY_NO_CHAIN)
		rc = bad("%s", err);
	else if (rc)
		rc = failed("%s", err);
	if (!rc)
		rc = check_fields(&rf.r, &rf, &o);
	if (!rc) {
		printf("veil-attest: report verified: VMPL %u, signed by the VCEK of chip %02x%02x%02x%02x..., "
		       "chain %s\n",
		       rf.r.vmpl, rf.r.chip_id[0], rf.r.chip_id[1], rf.r.chip_id[2],
		       rf.r.chip_id[3], o.chain);
		hex("measurement", rf.r.measurement, 48);
		if (rf.manifest_size)
			show_manifest(rf.manifest, rf.manifest_size);
	}
	free(rf.manifest);
	return rc;
}

static int cmd_show(const char *path)
{
	struct report_file rf;
	int rc = load_report(path, &rf);

	if (rc)
		return rc;
	show_report(&rf.r);
	if (rf.manifest_size)
		show_manifest(rf.manifest, rf.manifest_size);
	free(rf.manifest);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (hio_is_help(argv[1]) || !strcmp(argv[1], "help"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		hio_print_version("veil-attest");
		return 0;
	}
	if (argc >= 2 && argv[1][0] == '-')
		return bad("unknown option '%s' (see veil-attest --help)", argv[1]);
	if (argc < 3)
		return bad("%s", argc < 2 ? "missing command (see veil-attest --help)" :
					    "missing REPORT (see veil-attest --help)");
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argv[2], argc - 3, argv + 3);
	if (!strcmp(argv[1], "show") && argc == 3)
		return cmd_show(argv[2]);
	return bad("unknown command or extra arguments: '%s' (see --help)", argv[1]);
}
