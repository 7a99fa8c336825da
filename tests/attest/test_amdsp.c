/* SPDX-License-Identifier: MIT */
/*
 * test_amdsp.c - Check unit tests of the model's AMD-SP (backends/emu/machine/amdsp.c)
 * through its hypervisor entry point, with this test as the guest: messages
 * built and encrypted here with OpenSSL (AES-256-GCM per SNP firmware ABI
 * 56860), for every VMPCK and every VMPL, so VMPL1 and VMPL2 (which no
 * scenario of the test OS can use) are covered too.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <veil/abi.h>

#include "amdsp.h"
#include "emu.h"
#include "machine.h"

#define REQ 0x800000ULL
#define RESP 0x801000ULL
#define CERTS 0x802000ULL

static struct emu_machine *m;
static struct emu_amdsp *sp;
static uint8_t secrets[4096];
static uint64_t seq[4];

static void setup(void)
{
	struct emu_config cfg = { .mem_size = 16 << 20, .nr_vcpus = 1 };
	char err[256];

	m = emu_create(&cfg, err, sizeof(err));
	ck_assert_msg(m, "%s", err);
	sp = amdsp_create("unit test seed", err, sizeof(err));
	ck_assert_msg(sp, "%s", err);
	amdsp_fill_secrets(sp, secrets);
	memset(seq, 0, sizeof(seq));
	/* The hypervisor's pages, made shared (what a page state change does). */
	for (uint64_t g = REQ; g <= CERTS + 2 * 4096; g += 4096)
		m->rmp[g >> 12].assigned = 0;
}

static void teardown(void)
{
	amdsp_destroy(sp);
	emu_destroy(m);
}

static int gcm(int enc, const uint8_t *key, struct snp_msg_hdr *h, uint8_t *data, int len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t iv[12] = { 0 };
	int n, ok;

	memcpy(iv, &h->msg_seqno, 8);
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv, enc) &&
	     EVP_CipherUpdate(c, NULL, &n, (uint8_t *)h + 0x30, 0x30) &&
	     EVP_CipherUpdate(c, data, &n, data, len);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, h->authtag);
	ok = ok && EVP_CipherFinal_ex(c, data + len, &n) > 0;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, h->authtag);
	EVP_CIPHER_CTX_free(c);
	return ok;
}

/* Send one message with header slot `slot`, encrypted under `key`; the
 * firmware status, and the decrypted payload in out (when it answered). */
static uint64_t send_with(unsigned slot, const uint8_t *key, uint64_t seqno, uint8_t type,
			  const void *payload, uint16_t len, void *out, uint16_t out_len)
{
	uint8_t *rq = emu_gpa_ptr(m, REQ, 4096), *rs = emu_gpa_ptr(m, RESP, 4096);
	struct snp_msg_hdr *h = (struct snp_msg_hdr *)rq, *rh = (struct snp_msg_hdr *)rs;
	uint64_t st, rbx = 0;

	memset(rq, 0, 4096);
	memset(rs, 0, 4096);
	h->msg_seqno = seqno;
	h->algo = 1;
	h->hdr_version = 1;
	h->hdr_size = sizeof(*h);
	h->msg_type = type;
	h->msg_version = 1;
	h->msg_size = len;
	h->msg_vmpck = (uint8_t)slot;
	memcpy(rq + sizeof(*h), payload, len);
	ck_assert(gcm(1, key, h, rq + sizeof(*h), len));
	st = amdsp_guest_request(sp, m, false, REQ, RESP, 0, &rbx);
	if (st)
		return st;
	ck_assert_uint_eq(rh->msg_seqno, seqno + 1);
	ck_assert_uint_eq(rh->msg_type, type + 1);
	ck_assert_uint_eq(rh->msg_size, out_len);
	ck_assert_msg(gcm(0, key, rh, rs + sizeof(*rh), out_len), "the response does not decrypt");
	memcpy(out, rs + sizeof(*rh), out_len);
	return 0;
}

static uint64_t send(unsigned k, uint8_t type, const void *payload, uint16_t len, void *out,
		     uint16_t out_len)
{
	uint64_t st = send_with(k, secrets + SNP_SECRETS_VMPCK(k), seq[k] + 1, type, payload, len,
				out, out_len);

	if (!st)
		seq[k] += 2;
	return st;
}

static EVP_PKEY *vcek_pub(void)
{
	char dir[] = "/tmp/veil-amdsp-XXXXXX", path[64], err[256];
	EVP_PKEY *k;
	X509 *x;
	FILE *f;

	ck_assert(mkdtemp(dir));
	ck_assert_msg(!amdsp_write_certs(sp, dir, err, sizeof(err)), "%s", err);
	snprintf(path, sizeof(path), "%s/vcek.pem", dir);
	f = fopen(path, "r");
	ck_assert(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert(x);
	k = X509_get_pubkey(x);
	X509_free(x);
	for (const char *n = "ark.pem\0ask.pem\0vcek.pem\0cert_chain.pem\0"; *n;
	     n += strlen(n) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		unlink(path);
	}
	rmdir(dir);
	return k;
}

static int signature_ok(EVP_PKEY *pub, const struct snp_report *r)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	uint8_t *der = NULL;
	int len, ok;

	ECDSA_SIG_set0(sig, BN_lebin2bn(r->sig_r, 72, NULL), BN_lebin2bn(r->sig_s, 72, NULL));
	len = i2d_ECDSA_SIG(sig, &der);
	ok = EVP_DigestVerifyInit(mc, NULL, EVP_sha384(), NULL, pub) == 1 &&
	     EVP_DigestVerify(mc, der, (size_t)len, (const uint8_t *)r, SNP_REPORT_SIGNED_LEN) == 1;
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(mc);
	return ok;
}

/* Every VMPCK asks for every VMPL: granted exactly when VMPL >= the key's. */
START_TEST(every_key_every_vmpl)
{
	EVP_PKEY *pub = vcek_pub();
	unsigned k, v;

	for (k = 0; k < 4; k++) {
		for (v = 0; v < 4; v++) {
			struct snp_report_req req = { .vmpl = v };
			struct snp_report_resp resp;

			req.report_data[0] = (uint8_t)(k * 4 + v);
			ck_assert_uint_eq(send(k, SNP_MSG_REPORT_REQ, &req, sizeof(req), &resp,
					       sizeof(resp)),
					  0);
			if (v < k) {
				ck_assert_uint_eq(resp.status, SNP_FW_INVALID_PARAM);
				ck_assert_uint_eq(resp.report_size, 0);
				continue;
			}
			ck_assert_uint_eq(resp.status, 0);
			ck_assert_uint_eq(resp.report.vmpl, v);
			ck_assert_uint_eq(resp.report.report_data[0], k * 4 + v);
			ck_assert_int_eq(memcmp(resp.report.measurement, amdsp_measurement(sp), 48),
					 0);
			ck_assert_msg(signature_ok(pub, &resp.report),
				      "report of VMPCK%u VMPL%u: bad signature", k, v);
			resp.report.vmpl ^= 1;
			ck_assert(!signature_ok(pub, &resp.report));
		}
	}
	EVP_PKEY_free(pub);
}
END_TEST

/* Each key has its own sequence; a failure leaves it where it was. */
START_TEST(sequences_per_key)
{
	struct snp_report_req req = { .vmpl = 3 };
	struct snp_report_resp resp;

	ck_assert_uint_eq(send(1, SNP_MSG_REPORT_REQ, &req, sizeof(req), &resp, sizeof(resp)), 0);
	ck_assert_uint_eq(send(1, SNP_MSG_REPORT_REQ, &req, sizeof(req), &resp, sizeof(resp)), 0);
	ck_assert_uint_eq(send(2, SNP_MSG_REPORT_REQ, &req, sizeof(req), &resp, sizeof(resp)), 0);
	/* replay of VMPCK1's first message number */
	ck_assert_uint_eq(send_with(1, secrets + SNP_SECRETS_VMPCK(1), 1, SNP_MSG_REPORT_REQ, &req,
				    sizeof(req), &resp, sizeof(resp)),
			  SNP_FW_INVALID_PARAM);
	/* VMPCK2's key in VMPCK1's slot: fails authentication */
	ck_assert_uint_eq(send_with(1, secrets + SNP_SECRETS_VMPCK(2), seq[1] + 1,
				    SNP_MSG_REPORT_REQ, &req, sizeof(req), &resp, sizeof(resp)),
			  SNP_FW_INVALID_PARAM);
	/* and VMPCK1 goes on from where it was */
	ck_assert_uint_eq(send(1, SNP_MSG_REPORT_REQ, &req, sizeof(req), &resp, sizeof(resp)), 0);
	ck_assert_uint_eq(resp.report.vmpl, 3);
}
END_TEST

/* Derived keys: stable, bound to the VMPL, never for a more privileged one. */
START_TEST(derived_keys)
{
	struct snp_key_req kr = { .guest_field_select = 8, .vmpl = 1 };
	struct snp_key_resp a, b, c;

	ck_assert_uint_eq(send(1, SNP_MSG_KEY_REQ, &kr, sizeof(kr), &a, sizeof(a)), 0);
	ck_assert_uint_eq(send(1, SNP_MSG_KEY_REQ, &kr, sizeof(kr), &b, sizeof(b)), 0);
	ck_assert_int_eq(memcmp(a.derived_key, b.derived_key, 32), 0);
	kr.vmpl = 2;
	ck_assert_uint_eq(send(1, SNP_MSG_KEY_REQ, &kr, sizeof(kr), &c, sizeof(c)), 0);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_int_ne(memcmp(a.derived_key, c.derived_key, 32), 0);
	kr.vmpl = 1;
	ck_assert_uint_eq(send(2, SNP_MSG_KEY_REQ, &kr, sizeof(kr), &c, sizeof(c)), 0);
	ck_assert_uint_eq(c.status, SNP_FW_INVALID_PARAM);
}
END_TEST

/* The hypervisor's pages must be shared ones. */
START_TEST(private_pages_refused)
{
	struct snp_report_req req = { .vmpl = 3 };
	struct snp_report_resp resp;
	uint64_t rbx = 0;

	ck_assert_int_eq(emu_rmp_assign(m, RESP, 4096, true), 0);
	ck_assert_uint_eq(send(3, SNP_MSG_REPORT_REQ, &req, sizeof(req), &resp, sizeof(resp)),
			  SNP_FW_INVALID_PARAM);
	ck_assert_uint_eq(amdsp_guest_request(sp, m, false, REQ, REQ, 0, &rbx),
			  SNP_FW_INVALID_PARAM);
}
END_TEST

START_TEST(extended_request_sizes)
{
	struct snp_report_req req = { .vmpl = 3 };
	uint64_t pages = 0, st;

	/* Build a valid message by sending once through the plain path's encoder. */
	struct snp_report_resp resp;
	ck_assert_uint_eq(send(3, SNP_MSG_REPORT_REQ, &req, sizeof(req), &resp, sizeof(resp)), 0);
	st = amdsp_guest_request(sp, m, true, REQ, RESP, CERTS, &pages);
	ck_assert_uint_eq(st, SNP_GHCB_ERR_INVALID_LEN);
	ck_assert(pages >= 1 && pages <= 3);
	/* The message was a replay anyway: with room it reaches the AMD-SP and fails there. */
	st = amdsp_guest_request(sp, m, true, REQ, RESP, CERTS, &pages);
	ck_assert_uint_eq(st, SNP_FW_INVALID_PARAM);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("amdsp");
	TCase *tc = tcase_create("amdsp");
	SRunner *r;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_key_every_vmpl);
	tcase_add_test(tc, sequences_per_key);
	tcase_add_test(tc, derived_keys);
	tcase_add_test(tc, private_pages_refused);
	tcase_add_test(tc, extended_request_sizes);
	suite_add_tcase(s, tc);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
