/* SPDX-License-Identifier: MIT */
/* snp_verify.c - SEV-SNP report signatures and the AMD chain (snp_verify.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "snp_verify.h"

static int fail(char *e, size_t el, const char *fmt, const char *arg)
{
	snprintf(e, el, fmt, arg);
	return SNP_VERIFY_FAILED;
}

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

static int verify_chain(X509 *ark, X509 *ask, X509 *vcek, char *e, size_t el)
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
		return fail(e, el, "certificate chain: %s", X509_verify_cert_error_string(err));
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
static int vcek_matches(X509 *vcek, const struct snp_report *r, char *e, size_t el)
{
	static const char *const spl_oid[4] = { "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2",
						"1.3.6.1.4.1.3704.1.3.3",
						"1.3.6.1.4.1.3704.1.3.8" };
	const unsigned shift[4] = { 0, 8, 48, 56 };
	const ASN1_OCTET_STRING *hw = ext_value(vcek, "1.3.6.1.4.1.3704.1.4");
	unsigned i;

	if (!hw || ASN1_STRING_length(hw) != 64 ||
	    memcmp(ASN1_STRING_get0_data(hw), r->chip_id, 64))
		return fail(e, el, "%s", "the VCEK is not this chip's (hwID differs from CHIP_ID)");
	for (i = 0; i < 4; i++)
		if (ext_int(vcek, spl_oid[i]) != (long)((r->reported_tcb >> shift[i]) & 0xFF))
			return fail(e, el,
				    "the VCEK is for another TCB (%s differs from REPORTED_TCB)",
				    spl_oid[i]);
	return 0;
}

static int verify_signature(X509 *vcek, const struct snp_report *r, char *e, size_t el)
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
		return fail(e, el, "%s", "unknown signature algorithm");
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
	return ok ? 0 : fail(e, el, "%s", "the report's signature does not verify with the VCEK");
}

int snp_verify_report(const struct snp_report *r, const char *dir, char *err, size_t errlen)
{
	X509 *ark = load_cert(dir, "ark.pem"), *ask = load_cert(dir, "ask.pem"),
	     *vcek = load_cert(dir, "vcek.pem");
	int rc;

	if (!ark || !ask || !vcek) {
		snprintf(err, errlen, "cannot read ark.pem, ask.pem and vcek.pem (PEM) in '%s'",
			 dir);
		rc = SNP_VERIFY_NO_CHAIN;
	} else {
		rc = verify_chain(ark, ask, vcek, err, errlen);
		if (!rc)
			rc = vcek_matches(vcek, r, err, errlen);
		if (!rc)
			rc = verify_signature(vcek, r, err, errlen);
	}
	X509_free(ark);
	X509_free(ask);
	X509_free(vcek);
	return rc;
}
