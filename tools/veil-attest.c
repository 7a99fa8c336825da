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

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <veil/abi.h>

#include "hostio.h"

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

/* ---- the certificate chain ----------------------------------------------------------- */

static X509 *load_cert(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static int verify_chain(X509 *ark, X509 *ask, X509 *vcek)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok = st && ctx && untrusted && X509_STORE_add_cert(st, ark) &&
		 sk_X509_push(untrusted, ask) && X509_STORE_CTX_init(ctx, st, vcek, untrusted) &&
		 X509_verify_cert(ctx) == 1;
	int err = ctx ? X509_STORE_CTX_get_error(ctx) : 0;

	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	if (!ok)
		return failed("certificate chain: %s", X509_verify_cert_error_string(err));
	return 0;
}

/* The extension's value, or NULL. */
static const ASN1_OCTET_STRING *ext_value(X509 *x, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int i = obj ? X509_get_ext_by_OBJ(x, obj, -1) : -1;

	ASN1_OBJECT_free(obj);
	return i < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(x, i));
}

static long ext_int(X509 *x, const char *oid)
{
	const ASN1_OCTET_STRING *v = ext_value(x, oid);
	const unsigned char *p;
	ASN1_INTEGER *i;
	long r = -1;

	if (!v)
		return -1;
	p = ASN1_STRING_get0_data(v);
	i = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(v));
	if (i)
		r = ASN1_INTEGER_get(i);
	ASN1_INTEGER_free(i);
	return r;
}

/* AMD issues one VCEK per chip and TCB: its extensions must match the report. */
static int vcek_matches(X509 *vcek, const struct snp_report *r)
{
	static const char *const spl_oid[4] = { "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2",
						"1.3.6.1.4.1.3704.1.3.3",
						"1.3.6.1.4.1.3704.1.3.8" };
	const unsigned shift[4] = { 0, 8, 48, 56 };
	const ASN1_OCTET_STRING *hw = ext_value(vcek, "1.3.6.1.4.1.3704.1.4");
	unsigned i;

	if (!hw || ASN1_STRING_length(hw) != 64 ||
	    memcmp(ASN1_STRING_get0_data(hw), r->chip_id, 64))
		return failed("%s", "the VCEK is not this chip's (hwID differs from CHIP_ID)");
	for (i = 0; i < 4; i++)
		if (ext_int(vcek, spl_oid[i]) != (long)((r->reported_tcb >> shift[i]) & 0xFF))
			return failed("the VCEK is for another TCB (%s differs from REPORTED_TCB)",
				      spl_oid[i]);
	return 0;
}

static int verify_signature(X509 *vcek, const struct snp_report *r)
{
	EVP_PKEY *key = X509_get0_pubkey(vcek);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_lebin2bn(r->sig_r, 72, NULL), *bs = BN_lebin2bn(r->sig_s, 72, NULL);
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	uint8_t *der = NULL;
	int len, ok = 0;

	if (r->signature_algo != SNP_SIG_ALGO_ECDSA_P384_SHA384) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(sig);
		EVP_MD_CTX_free(mc);
		return failed("%s", "unknown signature algorithm");
	}
	if (sig && br && bs && ECDSA_SIG_set0(sig, br, bs)) {
		br = bs = NULL;
		len = i2d_ECDSA_SIG(sig, &der);
		ok = len > 0 && key && mc &&
		     EVP_DigestVerifyInit(mc, NULL, EVP_sha384(), NULL, key) == 1 &&
		     EVP_DigestVerify(mc, der, (size_t)len, (const uint8_t *)r,
				      SNP_REPORT_SIGNED_LEN) == 1;
	}
	OPENSSL_free(der);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(mc);
	return ok ? 0 : failed("%s", "the report's signature does not verify with the VCEK");
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
	X509 *ark = NULL, *ask = NULL, *vcek = NULL;
	int rc = parse_opts(argc, argv, &o);

	if (rc || (rc = load_report(path, &rf)))
		return rc;
	ark = load_cert(o.chain, "ark.pem");
	ask = load_cert(o.chain, "ask.pem");
	vcek = load_cert(o.chain, "vcek.pem");
	if (!ark || !ask || !vcek)
		rc = bad("cannot read ark.pem, ask.pem and vcek.pem (PEM) in '%s'", o.chain);
	if (!rc)
		rc = verify_chain(ark, ask, vcek);
	if (!rc)
		rc = vcek_matches(vcek, &rf.r);
	if (!rc)
		rc = verify_signature(vcek, &rf.r);
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
	X509_free(ark);
	X509_free(ask);
	X509_free(vcek);
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
	if (argc < 3) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argv[2], argc - 3, argv + 3);
	if (!strcmp(argv[1], "show") && argc == 3)
		return cmd_show(argv[2]);
	return bad("unknown command or extra arguments: '%s' (see --help)", argv[1]);
}
