/* SPDX-License-Identifier: MIT */
/*
 * amdsp_cert.c - the certificates of the model's AMD-SP: the ARK, ASK and
 * VCEK as AMD structures them (RSA-PSS ARK and ASK, an ECDSA P-384 VCEK with
 * AMD's TCB extensions), written as PEM (`veil-emu certs`) or as the
 * certificate blob of an extended guest request (GHCB spec 56421, SNP
 * Extended Guest Request). They are not AMD's: their subjects say so.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <veil/abi.h>

#include "amdsp.h"
#include "amdsp_priv.h"

/* ---- certificates ------------------------------------------------------------ */

static int add_ext_der(X509 *x, const char *oid, const uint8_t *der, int len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok = obj && os && ASN1_OCTET_STRING_set(os, der, len) &&
		 (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) && X509_add_ext(x, ext, -1);

	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok ? 0 : -1;
}

/* An AMD TCB extension: its value is a DER INTEGER. */
static int add_ext_int(X509 *x, const char *oid, long v)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	uint8_t *der = NULL;
	int len, rc = -1;

	if (i && ASN1_INTEGER_set(i, v) && (len = i2d_ASN1_INTEGER(i, &der)) > 0)
		rc = add_ext_der(x, oid, der, len);
	OPENSSL_free(der);
	ASN1_INTEGER_free(i);
	return rc;
}

static int add_ext_ia5(X509 *x, const char *oid, const char *s)
{
	ASN1_IA5STRING *str = ASN1_IA5STRING_new();
	uint8_t *der = NULL;
	int len, rc = -1;

	if (str && ASN1_STRING_set(str, s, (int)strlen(s)) &&
	    (len = i2d_ASN1_IA5STRING(str, &der)) > 0)
		rc = add_ext_der(x, oid, der, len);
	OPENSSL_free(der);
	ASN1_IA5STRING_free(str);
	return rc;
}

static X509_NAME *model_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n &&
	    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const uint8_t *)"US", -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
				       (const uint8_t *)"NOT AMD - Veil SNP machine model", -1, -1,
				       0) &&
	    X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const uint8_t *)"Engineering", -1,
				       -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const uint8_t *)cn, -1, -1, 0))
		return n;
	X509_NAME_free(n);
	return NULL;
}

/* Signed as AMD signs ARK, ASK and VCEK: RSASSA-PSS, SHA-384, salt 48. */
static int sign_pss(X509 *x, EVP_PKEY *key)
{
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	int ok = mc && EVP_DigestSignInit(mc, &pc, EVP_sha384(), NULL, key) > 0 &&
		 EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0 &&
		 EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48) > 0 &&
		 EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()) > 0 && X509_sign_ctx(x, mc) > 0;

	EVP_MD_CTX_free(mc);
	return ok ? 0 : -1;
}

static int add_ext_v3(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = ext && X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static X509 *make_cert(const char *cn, long serial, EVP_PKEY *pub, X509 *issuer)
{
	X509 *x = X509_new();
	X509_NAME *n = model_name(cn);

	/* Fixed validity, so certificates of one seed stay comparable. */
	if (!x || !n || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    !ASN1_TIME_set_string(X509_getm_notBefore(x), "20240101000000Z") ||
	    !ASN1_TIME_set_string(X509_getm_notAfter(x), "20490101000000Z") ||
	    !X509_set_subject_name(x, n) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n) ||
	    !X509_set_pubkey(x, pub)) {
		X509_free(x);
		x = NULL;
	}
	X509_NAME_free(n);
	return x;
}

static X509 *make_ca(const char *cn, long serial, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer)
{
	X509 *x = make_cert(cn, serial, key, issuer);

	if (!x || add_ext_v3(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext_v3(x, issuer ? issuer : x, NID_key_usage,
		       "critical,digitalSignature,keyCertSign,cRLSign") ||
	    add_ext_v3(x, issuer ? issuer : x, NID_subject_key_identifier, "hash") ||
	    sign_pss(x, signer)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The VCEK with AMD's extensions (OIDs 1.3.6.1.4.1.3704.1.*): structure
 * version, product name, the SPL of each TCB component and the chip ID. */
static X509 *make_vcek(struct emu_amdsp *sp)
{
	X509 *x = make_cert("SEV-VCEK (NOT AMD: Veil model)", 3, sp->vcek, sp->cert[1]);

	if (!x || add_ext_int(x, "1.3.6.1.4.1.3704.1.1", 1) ||
	    add_ext_ia5(x, "1.3.6.1.4.1.3704.1.2", "Milan-B0") ||
	    add_ext_int(x, "1.3.6.1.4.1.3704.1.3.1", AMDSP_TCB_BOOTLOADER) ||
	    add_ext_int(x, "1.3.6.1.4.1.3704.1.3.2", AMDSP_TCB_TEE) ||
	    add_ext_int(x, "1.3.6.1.4.1.3704.1.3.3", AMDSP_TCB_SNP) ||
	    add_ext_int(x, "1.3.6.1.4.1.3704.1.3.4", 0) ||
	    add_ext_int(x, "1.3.6.1.4.1.3704.1.3.5", 0) ||
	    add_ext_int(x, "1.3.6.1.4.1.3704.1.3.6", 0) ||
	    add_ext_int(x, "1.3.6.1.4.1.3704.1.3.7", 0) ||
	    add_ext_int(x, "1.3.6.1.4.1.3704.1.3.8", AMDSP_TCB_MICROCODE) ||
	    add_ext_der(x, "1.3.6.1.4.1.3704.1.4", sp->chip_id, 64) || sign_pss(x, sp->ask)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int make_chain(struct emu_amdsp *sp)
{
	if (sp->cert[2])
		return 0;
	if (!sp->ark)
		sp->ark = rsa_key_from_seed(sp, "ark");
	if (!sp->ask)
		sp->ask = rsa_key_from_seed(sp, "ask");
	if (!sp->ark || !sp->ask)
		return -1;
	if (!sp->cert[0])
		sp->cert[0] = make_ca("ARK-Milan (NOT AMD: Veil model)", 1, sp->ark, NULL, sp->ark);
	if (sp->cert[0] && !sp->cert[1])
		sp->cert[1] = make_ca("SEV-Milan (NOT AMD: Veil model)", 2, sp->ask, sp->cert[0],
				      sp->ark);
	if (sp->cert[1])
		sp->cert[2] = make_vcek(sp);
	return sp->cert[2] ? 0 : -1;
}

static int write_pem(const char *dir, const char *name, X509 *const *certs, unsigned n, char *err,
		     size_t errlen)
{
	char path[4096];
	FILE *f;
	unsigned i;
	int ok = 1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++)
		ok &= PEM_write_X509(f, certs[i]);
	if (fclose(f) || !ok) {
		snprintf(err, errlen, "writing %s failed", path);
		return -1;
	}
	return 0;
}

int amdsp_write_certs(struct emu_amdsp *sp, const char *dir, char *err, size_t errlen)
{
	X509 *chain[2];

	if (make_chain(sp)) {
		snprintf(err, errlen, "cannot make the model certificates (OpenSSL)");
		return -1;
	}
	chain[0] = sp->cert[1];
	chain[1] = sp->cert[0];
	if (write_pem(dir, "ark.pem", &sp->cert[0], 1, err, errlen) ||
	    write_pem(dir, "ask.pem", &sp->cert[1], 1, err, errlen) ||
	    write_pem(dir, "vcek.pem", &sp->cert[2], 1, err, errlen) ||
	    write_pem(dir, "cert_chain.pem", chain, 2, err, errlen))
		return -1;
	return 0;
}

/* The certificate blob of the extended request: GUID table, then DER certificates. */
size_t cert_blob(struct emu_amdsp *sp, uint8_t *out, size_t room)
{
	static const uint8_t guids[3][16] = {
		/* c0b406a4-a803-4952-9743-3fb6014cd0ae: ARK */
		{ 0xa4, 0x06, 0xb4, 0xc0, 0x03, 0xa8, 0x52, 0x49, 0x97, 0x43, 0x3f, 0xb6, 0x01,
		  0x4c, 0xd0, 0xae },
		/* 4ab7b379-bbac-4fe4-a02f-05aef327c782: ASK */
		{ 0x79, 0xb3, 0xb7, 0x4a, 0xac, 0xbb, 0xe4, 0x4f, 0xa0, 0x2f, 0x05, 0xae, 0xf3,
		  0x27, 0xc7, 0x82 },
		/* 63da758d-e664-4564-adc5-f4b93be8accd: VCEK */
		{ 0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45, 0xad, 0xc5, 0xf4, 0xb9, 0x3b,
		  0xe8, 0xac, 0xcd },
	};
	struct snp_cert_entry e[4];
	size_t off = sizeof(e);
	unsigned i;

	if (make_chain(sp) || room < off)
		return 0;
	memset(e, 0, sizeof(e));
	for (i = 0; i < 3; i++) {
		int len = i2d_X509(sp->cert[i], NULL);
		uint8_t *p = out + off;

		if (len <= 0 || off + (size_t)len > room)
			return 0;
		i2d_X509(sp->cert[i], &p);
		memcpy(e[i].guid, guids[i], 16);
		e[i].offset = (uint32_t)off;
		e[i].length = (uint32_t)len;
		off += (size_t)len;
	}
	memcpy(out, e, sizeof(e));
	return off;
}
