/* SPDX-License-Identifier: MIT */
/* igvm_dump.c - veil-igvm dump and measure, and the SNP ID block. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <veil/launch.h>
#include <veil/svsm.h>

#include "igvm_tool.h"
#include "measure.h"

/* ---- dump ------------------------------------------------------------------ */

static const char *page_type_name(unsigned t)
{
	static const char *const n[] = { "NORMAL", "SECRETS", "CPUID_DATA", "CPUID_XF" };

	return t < 4 ? n[t] : "?";
}

static void dump_param(const char *name, const uint8_t *d)
{
	struct igvm_parameter p;

	memcpy(&p, d, sizeof(p));
	printf("%s area=%u offset=%#x\n", name, p.parameter_area_index, p.byte_offset);
}

static void hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static void dump_id_block(const uint8_t *d)
{
	struct igvm_snp_id_block id;

	memcpy(&id, d, sizeof(id));
	printf("SNP_ID_BLOCK mask=%#x author_key=%u ld=", id.compatibility_mask,
	       id.author_key_enabled);
	hex(id.ld, 48);
	printf(" family_id=");
	hex(id.family_id, 16);
	printf(" image_id=");
	hex(id.image_id, 16);
	printf(" version=%u svn=%u id_key_algo=%u curve=%u\n", id.version, id.guest_svn,
	       id.id_key_algorithm, id.id_public_key.curve);
}

static void dump_one(const struct igvm_hdr *h)
{
	const uint8_t *d = h->data;
	union {
		struct igvm_supported_platform sp;
		struct igvm_guest_policy gp;
		struct igvm_parameter_area pa;
		struct igvm_page_data pd;
		struct igvm_parameter_insert pi;
		struct igvm_vp_context vp;
		struct igvm_required_memory rm;
	} u;

	printf("[%u] @%#x ", h->index, h->file_off - 8);
	memcpy(&u, d, h->length < sizeof(u) ? h->length : sizeof(u));
	switch (h->type) {
	case IGVM_VHT_SUPPORTED_PLATFORM:
		printf("SUPPORTED_PLATFORM mask=%#x platform=%u%s version=%u highest_vtl=%u "
		       "shared_gpa_boundary=%#" PRIx64 "\n",
		       u.sp.compatibility_mask, u.sp.platform_type,
		       u.sp.platform_type == IGVM_PLATFORM_SEV_SNP ? "(SEV-SNP)" : "",
		       u.sp.platform_version, u.sp.highest_vtl, u.sp.shared_gpa_boundary);
		break;
	case IGVM_VHT_GUEST_POLICY:
		printf("GUEST_POLICY mask=%#x policy=%#" PRIx64 " (abi %u.%u%s%s%s)\n",
		       u.gp.compatibility_mask, u.gp.policy, (unsigned)(u.gp.policy >> 8) & 0xFF,
		       (unsigned)u.gp.policy & 0xFF, u.gp.policy & (1 << 16) ? ", smt" : "",
		       u.gp.policy & (1 << 18) ? ", migrate-ma" : "",
		       u.gp.policy & (1 << 19) ? ", debug" : "");
		break;
	case IGVM_VHT_PARAMETER_AREA:
		printf("PARAMETER_AREA index=%u bytes=%#" PRIx64 " file_offset=%#x\n",
		       u.pa.parameter_area_index, u.pa.number_of_bytes, u.pa.file_offset);
		break;
	case IGVM_VHT_PAGE_DATA:
		printf("PAGE_DATA gpa=%#" PRIx64
		       " mask=%#x file_offset=%#x%s flags=%#x%s%s type=%s\n",
		       u.pd.gpa, u.pd.compatibility_mask, u.pd.file_offset,
		       u.pd.file_offset ? "" : "(zero)", u.pd.flags,
		       u.pd.flags & IGVM_PAGE_FLAG_UNMEASURED ? "(unmeasured)" : "",
		       u.pd.flags & IGVM_PAGE_FLAG_SHARED ? "(shared)" : "",
		       page_type_name(u.pd.data_type));
		break;
	case IGVM_VHT_PARAMETER_INSERT:
		printf("PARAMETER_INSERT gpa=%#" PRIx64 " mask=%#x area=%u\n", u.pi.gpa,
		       u.pi.compatibility_mask, u.pi.parameter_area_index);
		break;
	case IGVM_VHT_VP_CONTEXT:
		printf("VP_CONTEXT gpa=%#" PRIx64 " mask=%#x file_offset=%#x vp=%u\n", u.vp.gpa,
		       u.vp.compatibility_mask, u.vp.file_offset, u.vp.vp_index);
		break;
	case IGVM_VHT_REQUIRED_MEMORY:
		printf("REQUIRED_MEMORY gpa=%#" PRIx64 " mask=%#x bytes=%#x flags=%#x\n", u.rm.gpa,
		       u.rm.compatibility_mask, u.rm.number_of_bytes, u.rm.flags);
		break;
	case IGVM_VHT_SNP_ID_BLOCK:
		dump_id_block(d);
		break;
	case IGVM_VHT_VP_COUNT_PARAMETER:
	case IGVM_VHT_MEMORY_MAP:
	case IGVM_VHT_SRAT:
	case IGVM_VHT_MADT:
	case IGVM_VHT_MMIO_RANGES:
	case IGVM_VHT_COMMAND_LINE:
		dump_param(igvm_type_name(h->type), d);
		break;
	default:
		printf("%s type=%#x length=%u\n", igvm_type_name(h->type), h->type, h->length);
	}
}

static int open_file(const char *path, uint8_t **buf, struct igvm_file *f)
{
	char err[256];
	size_t len;

	if (igvm_read_file(path, buf, &len))
		return igvm_fail(1, "cannot read '%s': %s", path, strerror(errno));
	if (igvm_open(f, *buf, len, err, sizeof(err))) {
		free(*buf);
		*buf = NULL;
		return igvm_fail(1, "%s: %s", path, err);
	}
	return 0;
}

/* What a Veil file launches, from its measured launch information (the page
 * the VMSA's RDI names, guest/include/veil/launch.h); nothing for other files. */
static void dump_veil(const struct igvm_file *f)
{
	const uint8_t *vmsa = igvm_vmsa(f), *page;
	struct veil_launch_info in;
	uint64_t rdi = 0;

	if (vmsa)
		memcpy(&rdi, vmsa + VMSA_RDI, 8);
	if (!vmsa || !(page = igvm_page_data_at(f, rdi)))
		return;
	memcpy(&in, page, sizeof(in));
	if (in.magic != VEIL_LAUNCH_MAGIC || in.version != VEIL_LAUNCH_VERSION ||
	    in.size != sizeof(in))
		return;
	in.cmdline[sizeof(in.cmdline) - 1] = 0;
	printf("veil launch information at %#" PRIx64 " (the VMSA's RDI): %" PRIu64
	       " MiB, built for %u vCPU(s), C-bit %u, policy %#" PRIx64 "\n",
	       rdi, in.mem_size >> 20, in.nr_vcpus, in.cbit, in.policy);
	printf("veil monitor: region %#" PRIx64 "+%#" PRIx64 ", image and launch area %#" PRIx64
	       " bytes, entry %#" PRIx64 ", log size %" PRIu64 "%s\n",
	       in.mon_base, in.mon_size, in.mon_used, in.mon_entry, in.log_size,
	       in.log_size ? "" : " (the monitor's default)");
	printf("veil pages: parameters %#" PRIx64 ", memory map %#" PRIx64 ", CPUID %#" PRIx64
	       ", secrets %#" PRIx64 ", page tables %#" PRIx64 " (%u)\n",
	       in.params_gpa, in.memmap_gpa, in.cpuid_gpa, in.secrets_gpa, in.pt_gpa, in.pt_pages);
	for (unsigned i = 0; i < in.nr_images && i < VEIL_LAUNCH_MAX_IMAGES; i++)
		printf("veil os image %u%s: %#" PRIx64 "-%#" PRIx64 ", entry %#" PRIx64
		       ", %u segment(s)\n",
		       i, i ? " (placed, measured)" : " (boots)", in.images[i].start,
		       in.images[i].end, in.images[i].entry, in.images[i].nr_segs);
	printf("veil os command line: \"%s\"\n", in.cmdline);
}

int igvm_cmd_dump(int argc, char **argv)
{
	struct igvm_file f;
	struct igvm_hdr h = { 0 };
	uint8_t *buf = NULL;
	uint32_t pos = 0;

	if (argc != 1)
		return igvm_fail(2, "usage: veil-igvm dump FILE");
	if (open_file(argv[0], &buf, &f))
		return 1;
	printf("IGVM version 1, %zu bytes, variable headers at %#x..%#x, checksum ok\n", f.len,
	       f.hdr_off, f.hdr_end);
	while (igvm_next(&f, &pos, &h))
		dump_one(&h);
	dump_veil(&f);
	free(buf);
	return 0;
}

/* ---- measure ------------------------------------------------------------- */

static int measure_page(void *ctx, const struct igvm_launch_page *pg)
{
	snp_measure_page(ctx, pg->gpa, pg->snp_type, pg->data, false, 0, 0, 0);
	return 0;
}

int igvm_measure_file(const struct igvm_file *f, uint8_t digest[48], char *err, size_t errlen)
{
	struct snp_measure ms;

	snp_measure_init(&ms);
	if (igvm_walk_launch(f, measure_page, &ms, err, errlen))
		return -1;
	memcpy(digest, ms.digest, 48);
	return 0;
}

/* ---- SNP ID block (SNP firmware ABI 56860: "ID Block Structure",
 * "ID Authentication Information Structure", "ECDSA Signature" and
 * "ECDSA Public Key" formats: little-endian, zero-extended to 72 bytes) ---- */

#define ID_ALGO_ECDSA_P384_SHA384 1
#define ID_CURVE_P384 2
#define ID_BLOCK_SIZE 0x60
#define ID_AUTH_SIZE 0x1000
#define ID_AUTH_SIG 0x040
#define ID_AUTH_KEY 0x240
#define ID_KEY_SIZE 0x404

static int parse_hex16(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (strlen(s) != 32)
		return -1;
	for (unsigned i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int igvm_id_option(struct igvm_id_opts *o, const char *opt, const char *arg)
{
	char *end;

	if (!strcmp(opt, "--id-key")) {
		o->key_path = arg;
	} else if (!strcmp(opt, "--family-id")) {
		if (parse_hex16(arg, o->family_id))
			return igvm_fail(2, "--family-id takes 32 hex digits, got '%s'", arg);
	} else if (!strcmp(opt, "--image-id")) {
		if (parse_hex16(arg, o->image_id))
			return igvm_fail(2, "--image-id takes 32 hex digits, got '%s'", arg);
	} else if (!strcmp(opt, "--svn")) {
		unsigned long v = strtoul(arg, &end, 0);

		if (!*arg || *end || *arg == '-' || v > UINT32_MAX)
			return igvm_fail(2, "--svn takes a 32-bit number, got '%s'", arg);
		o->svn = (uint32_t)v;
	} else {
		return igvm_fail(2, "unknown option '%s' (see veil-igvm --help)", opt);
	}
	return 0;
}

/* The 0x60-byte ID block the firmware checks and the signature covers. */
static void id_block_bytes(const struct igvm_snp_id_block *id, uint64_t policy, uint8_t *out)
{
	uint32_t version = 1;

	memcpy(out, id->ld, 48);
	memcpy(out + 0x30, id->family_id, 16);
	memcpy(out + 0x40, id->image_id, 16);
	memcpy(out + 0x50, &version, 4);
	memcpy(out + 0x54, &id->guest_svn, 4);
	memcpy(out + 0x58, &policy, 8);
}

static EVP_PKEY *load_key(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	char group[32] = "";

	if (f)
		fclose(f);
	if (!k) {
		snprintf(err, errlen, "%s: cannot read a PEM private key", path);
		return NULL;
	}
	if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL) ||
	    strcmp(group, "secp384r1")) {
		snprintf(err, errlen, "%s: not an ECDSA P-384 key", path);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static int bn_le72(const BIGNUM *bn, uint8_t out[72])
{
	return BN_bn2lebinpad(bn, out, 72) == 72 ? 0 : -1;
}

static int sign_block(EVP_PKEY *k, const uint8_t *msg, struct igvm_snp_sig *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[160];
	size_t dlen = sizeof(der);
	const unsigned char *p = der;
	ECDSA_SIG *es = NULL;
	int rc = -1;

	if (md && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, k) == 1 &&
	    EVP_DigestSign(md, der, &dlen, msg, ID_BLOCK_SIZE) == 1 &&
	    (es = d2i_ECDSA_SIG(NULL, &p, (long)dlen)))
		rc = bn_le72(ECDSA_SIG_get0_r(es), sig->r) | bn_le72(ECDSA_SIG_get0_s(es), sig->s);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}

static int public_key(EVP_PKEY *k, struct igvm_snp_pubkey *pk)
{
	BIGNUM *x = NULL, *y = NULL;
	int rc = -1;

	pk->curve = ID_CURVE_P384;
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1)
		rc = bn_le72(x, pk->qx) | bn_le72(y, pk->qy);
	BN_free(x);
	BN_free(y);
	return rc;
}

int igvm_make_id_block(const struct igvm_id_opts *o, const uint8_t ld[48], uint64_t policy,
		       struct igvm_snp_id_block *out, char *err, size_t errlen)
{
	uint8_t msg[ID_BLOCK_SIZE];
	EVP_PKEY *k = load_key(o->key_path, err, errlen);
	int rc;

	if (!k)
		return -1;
	memset(out, 0, sizeof(*out));
	out->compatibility_mask = 1;
	memcpy(out->ld, ld, 48);
	memcpy(out->family_id, o->family_id, 16);
	memcpy(out->image_id, o->image_id, 16);
	out->version = 1;
	out->guest_svn = o->svn;
	out->id_key_algorithm = ID_ALGO_ECDSA_P384_SHA384;
	id_block_bytes(out, policy, msg);
	rc = sign_block(k, msg, &out->id_key_signature) | public_key(k, &out->id_public_key);
	EVP_PKEY_free(k);
	if (rc)
		snprintf(err, errlen, "%s: signing the ID block failed", o->key_path);
	return rc;
}

/* The ID_AUTH_INFO page QEMU builds from the IGVM ID block (QEMU
 * backends/igvm.c, qigvm_directive_snp_id_block). */
static void id_auth_bytes(const struct igvm_snp_id_block *id, uint8_t *auth)
{
	memset(auth, 0, ID_AUTH_SIZE);
	memcpy(auth, &id->id_key_algorithm, 4);
	memcpy(auth + ID_AUTH_SIG, &id->id_key_signature, sizeof(id->id_key_signature));
	memcpy(auth + ID_AUTH_KEY, &id->id_public_key.curve, 4);
	memcpy(auth + ID_AUTH_KEY + 4, id->id_public_key.qx, 72);
	memcpy(auth + ID_AUTH_KEY + 4 + 72, id->id_public_key.qy, 72);
}

static void print_b64(const char *label, const uint8_t *p, int n)
{
	unsigned char *b = malloc((size_t)(4 * ((n + 2) / 3) + 1));

	if (!b)
		return;
	EVP_EncodeBlock(b, p, n);
	printf("%s: %s\n", label, b);
	free(b);
}

static int print_id(const struct igvm_id_opts *o, const uint8_t ld[48], uint64_t policy)
{
	struct igvm_snp_id_block id;
	uint8_t blk[ID_BLOCK_SIZE], auth[ID_AUTH_SIZE], dig[48];
	char err[256];

	if (igvm_make_id_block(o, ld, policy, &id, err, sizeof(err)))
		return igvm_fail(1, "%s", err);
	id_block_bytes(&id, policy, blk);
	id_auth_bytes(&id, auth);
	print_b64("id-block", blk, sizeof(blk));
	print_b64("id-auth", auth, sizeof(auth));
	SHA384(auth + ID_AUTH_KEY, ID_KEY_SIZE, dig);
	printf("id-key-digest: ");
	hex(dig, 48);
	printf("\n");
	return 0;
}

int igvm_cmd_measure(int argc, char **argv)
{
	struct igvm_id_opts id = { 0 };
	struct igvm_file f;
	uint8_t *buf = NULL, ld[48];
	char err[256];
	int rc;

	if (argc < 1 || argv[0][0] == '-')
		return igvm_fail(2, "usage: veil-igvm measure FILE [--id-key PEM ...]");
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			return igvm_fail(2, "option '%s' needs a value", argv[i]);
		if ((rc = igvm_id_option(&id, argv[i], argv[i + 1])))
			return rc;
	}
	if (open_file(argv[0], &buf, &f))
		return 1;
	rc = igvm_measure_file(&f, ld, err, sizeof(err));
	if (rc) {
		rc = igvm_fail(1, "%s: %s", argv[0], err);
	} else {
		hex(ld, 48);
		printf("\n");
		if (id.key_path)
			rc = print_id(&id, ld, igvm_policy(&f));
	}
	free(buf);
	return rc;
}
