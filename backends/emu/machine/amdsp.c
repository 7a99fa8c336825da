/* SPDX-License-Identifier: MIT */
/*
 * amdsp.c - the model's AMD Secure Processor (see amdsp.h): its keys,
 * reports and guest messages (its certificates: amdsp_cert.c). Cryptography is
 * OpenSSL's: AES-256-GCM for guest messages, ECDSA P-384 / SHA-384 for
 * reports, RSA-PSS for the ARK/ASK chain as AMD signs it.
 *
 * Keys: each is derived from the seed by SHA-512(seed || 0 || label). The RSA
 * primes of the ARK and ASK are the next primes after seeded numbers, so the
 * same seed gives the same chain on every run and machine.
 *
 * Model choices (56860 leaves them to the firmware, or real parts differ):
 * - A message that fails its checks (header, sequence number, tag) gets
 *   INVALID_PARAM and no response; the VMPCK's sequence number does not move
 *   and the key stays usable. Real firmware answers the same way (observed
 *   0x16 for a bad tag and a bad sequence number); disabling a VMPCK after a
 *   failure is the guest driver's job (Linux snp_disable_vmpck), and a
 *   firmware that did it would let any VMPL break VMPL0's key.
 * - Signatures are ECDSA with OpenSSL's random nonces, so two reports with
 *   equal fields differ in their signatures (as on hardware).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <veil/abi.h>

#include "amdsp.h"
#include "amdsp_priv.h"
#include "machine.h"

#define GCM_TAG_LEN 16
#define SIG_COMPONENT_LEN 72
#define CERT_BLOB_MAX (3 * 4096)

static void derive(const struct emu_amdsp *sp, const char *label, uint8_t out[64])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned len = 64;

	EVP_DigestInit_ex(c, EVP_sha512(), NULL);
	EVP_DigestUpdate(c, sp->seed, strlen(sp->seed) + 1);
	EVP_DigestUpdate(c, label, strlen(label));
	EVP_DigestFinal_ex(c, out, &len);
	EVP_MD_CTX_free(c);
}

/* ---- keys --------------------------------------------------------------------- */

static EVP_PKEY *ec_key_from_seed(const struct emu_amdsp *sp, const char *label)
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_secp384r1);
	BN_CTX *bctx = BN_CTX_new();
	BIGNUM *d = BN_new(), *order = BN_new();
	EC_POINT *pub = grp ? EC_POINT_new(grp) : NULL;
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *key = NULL;
	uint8_t h[64], pubbuf[97];
	size_t publen;

	derive(sp, label, h);
	if (!grp || !bctx || !d || !order || !pub || !b || !pc ||
	    !EC_GROUP_get_order(grp, order, bctx) || !BN_bin2bn(h, 64, d) ||
	    !BN_sub_word(order, 1) || !BN_mod(d, d, order, bctx) || !BN_add_word(d, 1) ||
	    !EC_POINT_mul(grp, pub, d, NULL, NULL, bctx))
		goto out;
	publen = EC_POINT_point2oct(grp, pub, POINT_CONVERSION_UNCOMPRESSED, pubbuf, sizeof(pubbuf),
				    bctx);
	if (!publen ||
	    !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pubbuf, publen) ||
	    !(params = OSSL_PARAM_BLD_to_param(b)) || EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, &key, EVP_PKEY_KEYPAIR, params) <= 0)
		key = NULL;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(pc);
	EC_POINT_free(pub);
	BN_free(order);
	BN_clear_free(d);
	BN_CTX_free(bctx);
	EC_GROUP_free(grp);
	return key;
}

/* The first prime (with gcd(p-1, 65537) = 1) at or after a seeded 2048-bit odd number. */
static BIGNUM *seeded_prime(const struct emu_amdsp *sp, const char *label, BN_CTX *bctx)
{
	uint8_t buf[256], h[64];
	char sub[64];
	BIGNUM *p = BN_new(), *r = BN_new();
	unsigned i;

	for (i = 0; i < 4; i++) {
		snprintf(sub, sizeof(sub), "%s/%u", label, i);
		derive(sp, sub, h);
		memcpy(buf + i * 64, h, 64);
	}
	buf[0] |= 0xC0; /* two top bits: the product has all 4096 bits */
	buf[255] |= 1;
	if (!p || !r || !BN_bin2bn(buf, sizeof(buf), p))
		goto fail;
	for (;;) {
		BN_ULONG m = BN_mod_word(p, 65537);

		if (m != 1 && BN_check_prime(p, bctx, NULL) == 1)
			break;
		if (!BN_add_word(p, 2))
			goto fail;
	}
	BN_free(r);
	return p;
fail:
	BN_free(p);
	BN_free(r);
	return NULL;
}

EVP_PKEY *rsa_key_from_seed(const struct emu_amdsp *sp, const char *label)
{
	BN_CTX *bctx = BN_CTX_new();
	char l1[64], l2[64];
	BIGNUM *p, *q, *n = BN_new(), *e = BN_new(), *d = BN_new(), *p1 = BN_new(), *q1 = BN_new(),
		       *phi = BN_new(), *dp = BN_new(), *dq = BN_new(), *qi = BN_new();
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;

	snprintf(l1, sizeof(l1), "%s/p", label);
	snprintf(l2, sizeof(l2), "%s/q", label);
	p = seeded_prime(sp, l1, bctx);
	q = seeded_prime(sp, l2, bctx);
	if (!p || !q || !n || !e || !d || !p1 || !q1 || !phi || !dp || !dq || !qi || !b || !pc ||
	    !BN_set_word(e, 65537) || !BN_mul(n, p, q, bctx) || !BN_sub(p1, p, BN_value_one()) ||
	    !BN_sub(q1, q, BN_value_one()) || !BN_mul(phi, p1, q1, bctx) ||
	    !BN_mod_inverse(d, e, phi, bctx) || !BN_mod(dp, d, p1, bctx) ||
	    !BN_mod(dq, d, q1, bctx) || !BN_mod_inverse(qi, q, p, bctx))
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi) ||
	    !(params = OSSL_PARAM_BLD_to_param(b)) || EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, &key, EVP_PKEY_KEYPAIR, params) <= 0)
		key = NULL;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(pc);
	BN_clear_free(p);
	BN_clear_free(q);
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(p1);
	BN_clear_free(q1);
	BN_clear_free(phi);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_clear_free(qi);
	BN_CTX_free(bctx);
	return key;
}

struct emu_amdsp *amdsp_create(const char *seed, char *err, size_t errlen)
{
	struct emu_amdsp *sp = calloc(1, sizeof(*sp));
	uint8_t h[64];
	char label[16];
	unsigned i;

	if (!seed)
		seed = AMDSP_DEFAULT_SEED;
	if (!sp || strlen(seed) >= sizeof(sp->seed)) {
		snprintf(err, errlen,
			 sp ? "the attestation seed is longer than %zu characters" :
			      "out of memory",
			 sizeof(sp->seed) - 1);
		free(sp);
		return NULL;
	}
	snprintf(sp->seed, sizeof(sp->seed), "%s", seed);
	for (i = 0; i < AMDSP_NR_VMPCKS; i++) {
		snprintf(label, sizeof(label), "vmpck%u", i);
		derive(sp, label, h);
		memcpy(sp->vmpck[i], h, 32);
	}
	derive(sp, "chip-id", sp->chip_id);
	derive(sp, "vcek-root", h);
	memcpy(sp->vcek_root, h, 32);
	derive(sp, "vmrk-root", h);
	memcpy(sp->vmrk_root, h, 32);
	sp->vcek = ec_key_from_seed(sp, "vcek");
	if (!sp->vcek) {
		snprintf(err, errlen, "cannot make the model VCEK (OpenSSL)");
		amdsp_destroy(sp);
		return NULL;
	}
	return sp;
}

void amdsp_destroy(struct emu_amdsp *sp)
{
	unsigned i;

	if (!sp)
		return;
	for (i = 0; i < 3; i++)
		X509_free(sp->cert[i]);
	EVP_PKEY_free(sp->vcek);
	EVP_PKEY_free(sp->ark);
	EVP_PKEY_free(sp->ask);
	OPENSSL_cleanse(sp, sizeof(*sp));
	free(sp);
}

void amdsp_fill_secrets(const struct emu_amdsp *sp, uint8_t page[4096])
{
	unsigned i;

	memset(page, 0, 4096);
	page[0] = 3; /* VERSION */
	for (i = 0; i < AMDSP_NR_VMPCKS; i++)
		memcpy(page + SNP_SECRETS_VMPCK(i), sp->vmpck[i], 32);
}

void amdsp_set_measurement(struct emu_amdsp *sp, const uint8_t digest[48])
{
	memcpy(sp->measurement, digest, 48);
}

const uint8_t *amdsp_measurement(const struct emu_amdsp *sp)
{
	return sp->measurement;
}

/* ---- reports and keys ------------------------------------------------------------ */

/* ECDSA r or s as the report holds it: little-endian in 72 bytes. */
static void put_le(uint8_t out[SIG_COMPONENT_LEN], const BIGNUM *v)
{
	memset(out, 0, SIG_COMPONENT_LEN);
	BN_bn2lebinpad(v, out, 48);
}

static int sign_report(struct emu_amdsp *sp, struct snp_report *r)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	uint8_t der[128];
	const uint8_t *p = der;
	size_t len = sizeof(der);
	ECDSA_SIG *sig = NULL;
	int rc = -1;

	if (mc && EVP_DigestSignInit(mc, NULL, EVP_sha384(), NULL, sp->vcek) > 0 &&
	    EVP_DigestSign(mc, der, &len, (const uint8_t *)r, SNP_REPORT_SIGNED_LEN) > 0 &&
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)len))) {
		put_le(r->sig_r, ECDSA_SIG_get0_r(sig));
		put_le(r->sig_s, ECDSA_SIG_get0_s(sig));
		rc = 0;
	}
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(mc);
	return rc;
}

static uint64_t platform_tcb(void)
{
	return SNP_TCB(AMDSP_TCB_BOOTLOADER, AMDSP_TCB_TEE, AMDSP_TCB_SNP, AMDSP_TCB_MICROCODE);
}

/* The guest policy the model launches with: SMT allowed, ABI 0.0, no debug. */
#define MODEL_POLICY (1ULL << 16 | 1ULL << 17)

static uint32_t report_req(struct emu_amdsp *sp, unsigned key_vmpl, const uint8_t *in, uint16_t len,
			   uint8_t *out, uint16_t *out_len)
{
	struct snp_report_req req;
	struct snp_report_resp *resp = (struct snp_report_resp *)out;
	struct snp_report *r = &resp->report;
	uint8_t h[64];

	if (len != sizeof(req))
		return SNP_FW_INVALID_PARAM;
	memcpy(&req, in, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	*out_len = sizeof(*resp);
	resp->report_size = SNP_REPORT_SIZE;
	/* A key may only vouch for its own VMPL or a less privileged one. */
	if (req.vmpl > 3 || req.vmpl < key_vmpl) {
		resp->status = SNP_FW_INVALID_PARAM;
		resp->report_size = 0;
		return SNP_FW_SUCCESS;
	}
	r->version = 2;
	r->policy = MODEL_POLICY;
	r->vmpl = req.vmpl;
	r->signature_algo = SNP_SIG_ALGO_ECDSA_P384_SHA384;
	r->current_tcb = r->reported_tcb = r->committed_tcb = r->launch_tcb = platform_tcb();
	r->platform_info = 1; /* SMT enabled */
	memcpy(r->report_data, req.report_data, 64);
	memcpy(r->measurement, sp->measurement, 48);
	memcpy(r->host_data, sp->host_data, 32);
	derive(sp, "report-id", h);
	memcpy(r->report_id, h, 32);
	memset(r->report_id_ma, 0xFF, 32); /* no migration agent */
	memcpy(r->chip_id, sp->chip_id, 64);
	r->current_major = r->committed_major = 1;
	r->current_minor = r->committed_minor = 55;
	r->current_build = r->committed_build = 21;
	return sign_report(sp, r) ? SNP_FW_INVALID_PARAM : SNP_FW_SUCCESS;
}

/* MSG_KEY_REQ: HMAC-SHA-256 of the chosen root over the selected guest fields. */
static uint32_t key_req(struct emu_amdsp *sp, unsigned key_vmpl, const uint8_t *in, uint16_t len,
			uint8_t *out, uint16_t *out_len)
{
	struct snp_key_req req;
	struct snp_key_resp *resp = (struct snp_key_resp *)out;
	uint8_t mix[128], *p = mix;
	uint64_t policy = MODEL_POLICY, tcb;
	unsigned dlen = 32;

	if (len != sizeof(req))
		return SNP_FW_INVALID_PARAM;
	memcpy(&req, in, sizeof(req));
	memset(resp, 0, sizeof(*resp));
	*out_len = sizeof(*resp);
	if (req.vmpl > 3 || req.vmpl < key_vmpl || (req.root_key_select & ~1u) ||
	    (req.guest_field_select >> 6) || req.tcb_version > platform_tcb()) {
		resp->status = SNP_FW_INVALID_PARAM;
		return SNP_FW_SUCCESS;
	}
	tcb = (req.guest_field_select & 32) ? req.tcb_version : 0;
	memcpy(p, &req.vmpl, 4), p += 4;
	memcpy(p, &req.guest_field_select, 8), p += 8;
	if (req.guest_field_select & 1)
		memcpy(p, &policy, 8), p += 8;
	if (req.guest_field_select & 8)
		memcpy(p, sp->measurement, 48), p += 48;
	if (req.guest_field_select & 16)
		memcpy(p, &req.guest_svn, 4), p += 4;
	memcpy(p, &tcb, 8), p += 8;
	HMAC(EVP_sha256(), req.root_key_select ? sp->vmrk_root : sp->vcek_root, 32, mix,
	     (size_t)(p - mix), resp->derived_key, &dlen);
	return SNP_FW_SUCCESS;
}

/* ---- guest messages ---------------------------------------------------------------- */

static int gcm(bool enc, const uint8_t key[32], const struct snp_msg_hdr *h, const uint8_t *in,
	       int len, uint8_t *out, uint8_t tag[GCM_TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t iv[12] = { 0 };
	int n, ok;

	memcpy(iv, &h->msg_seqno, 8);
	ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
	     EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) &&
	     EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)h + SNP_MSG_AAD_OFF, SNP_MSG_AAD_LEN) &&
	     (len == 0 || EVP_CipherUpdate(c, out, &n, in, len));
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tag);
	ok = ok && EVP_CipherFinal_ex(c, out + len, &n) > 0;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, tag);
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

static bool hdr_ok(const struct snp_msg_hdr *h)
{
	static const uint8_t zero[35];

	return h->algo == SNP_AEAD_AES_256_GCM && h->hdr_version == 1 &&
	       h->hdr_size == sizeof(*h) && h->msg_vmpck < AMDSP_NR_VMPCKS &&
	       h->msg_size <= SNP_MSG_MAX_PAYLOAD && !h->reserved2 &&
	       !memcmp(h->reserved1, zero, sizeof(h->reserved1)) &&
	       !memcmp(h->reserved3, zero, sizeof(h->reserved3)) &&
	       !memcmp(h->authtag + GCM_TAG_LEN, zero, 32 - GCM_TAG_LEN);
}

/* Decrypt, handle and answer one message; 0 or a firmware status. */
static uint32_t guest_message(struct emu_amdsp *sp, const uint8_t *reqp, uint8_t *respp)
{
	struct snp_msg_hdr h, rh;
	/* aligned: the handlers read and write them as structures */
	uint8_t in[SNP_MSG_MAX_PAYLOAD] __attribute__((aligned(8)));
	uint8_t out[SNP_MSG_MAX_PAYLOAD + 16] __attribute__((aligned(8)));
	uint16_t out_len = 0;
	uint32_t st;
	unsigned k;

	memcpy(&h, reqp, sizeof(h));
	if (!hdr_ok(&h))
		return SNP_FW_INVALID_PARAM;
	k = h.msg_vmpck;
	/* Replayed or reordered messages carry a stale sequence number. */
	if (sp->seqno[k] >= UINT64_MAX - 1 || h.msg_seqno != sp->seqno[k] + 1)
		return SNP_FW_INVALID_PARAM;
	if (gcm(false, sp->vmpck[k], &h, reqp + sizeof(h), h.msg_size, in, h.authtag))
		return SNP_FW_INVALID_PARAM;
	if (h.msg_type == SNP_MSG_REPORT_REQ && h.msg_version == 1)
		st = report_req(sp, k, in, h.msg_size, out, &out_len);
	else if (h.msg_type == SNP_MSG_KEY_REQ && h.msg_version == 1)
		st = key_req(sp, k, in, h.msg_size, out, &out_len);
	else
		st = SNP_FW_INVALID_PARAM;
	if (st)
		return st;
	memset(&rh, 0, sizeof(rh));
	rh.msg_seqno = h.msg_seqno + 1;
	rh.algo = SNP_AEAD_AES_256_GCM;
	rh.hdr_version = 1;
	rh.hdr_size = sizeof(rh);
	rh.msg_type = (uint8_t)(h.msg_type + 1);
	rh.msg_version = h.msg_version;
	rh.msg_size = out_len;
	rh.msg_vmpck = (uint8_t)k;
	if (gcm(true, sp->vmpck[k], &rh, out, out_len, respp + sizeof(rh), rh.authtag))
		return SNP_FW_INVALID_PARAM;
	memcpy(respp, &rh, sizeof(rh));
	sp->seqno[k] += 2;
	sp->messages++;
	return SNP_FW_SUCCESS;
}

/* The hypervisor's pages: shared (not in the RMP as guest-owned), page-aligned. */
static uint8_t *shared_page(struct emu_machine *m, uint64_t gpa)
{
	if ((gpa & 0xFFF) || !m_is_guest(m, gpa, 4096) || m->rmp[gpa >> 12].assigned)
		return NULL;
	return m_ptr(m, gpa, 4096);
}

uint64_t amdsp_guest_request(struct emu_amdsp *sp, struct emu_machine *m, bool ext, uint64_t req,
			     uint64_t resp, uint64_t rax, uint64_t *rbx)
{
	uint8_t *reqp = shared_page(m, req), *respp = shared_page(m, resp);
	uint8_t blob[CERT_BLOB_MAX];
	size_t blen = 0;
	uint64_t i;

	if (!sp || !reqp || !respp || req == resp)
		return SNP_FW_INVALID_PARAM;
	if (ext) {
		uint64_t pages = *rbx, need;

		blen = cert_blob(sp, blob, sizeof(blob));
		need = (blen + 4095) / 4096;
		if (!blen)
			return SNP_FW_INVALID_PARAM;
		if (pages < need) { /* the guest asks again with a larger buffer */
			*rbx = need;
			return SNP_GHCB_ERR_INVALID_LEN;
		}
		for (i = 0; i < need; i++)
			if (!shared_page(m, rax + i * 4096))
				return SNP_FW_INVALID_PARAM;
	}
	{
		uint32_t st = guest_message(sp, reqp, respp);

		if (st)
			return st;
	}
	if (ext)
		memcpy(m_ptr(m, rax, blen), blob, blen);
	return SNP_FW_SUCCESS;
}
