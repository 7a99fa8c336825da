/* SPDX-License-Identifier: MIT */
/*
 * amdsp_priv.h - internals shared by the files of the model's AMD-SP: its
 * state (amdsp.c: keys, reports, guest messages; amdsp_cert.c: certificates).
 */
#ifndef VEIL_EMU_AMDSP_PRIV_H
#define VEIL_EMU_AMDSP_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "amdsp.h"

struct emu_amdsp {
	char seed[128];
	uint8_t vmpck[AMDSP_NR_VMPCKS][32];
	uint64_t seqno[AMDSP_NR_VMPCKS]; /* last sequence number used with each key */
	uint8_t chip_id[64];
	uint8_t vcek_root[32], vmrk_root[32]; /* roots of MSG_KEY_REQ derivation */
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint64_t messages; /* answered guest messages */
	EVP_PKEY *vcek;	   /* ECDSA P-384 */
	EVP_PKEY *ark;	   /* RSA-4096, made when first needed */
	EVP_PKEY *ask;	   /* RSA-4096 */
	X509 *cert[3];	   /* ARK, ASK, VCEK */
};

/* amdsp.c: an RSA-4096 key whose primes follow seeded numbers. */
EVP_PKEY *rsa_key_from_seed(const struct emu_amdsp *sp, const char *label);

/* amdsp_cert.c: the extended request's certificate blob (GUID table, then
 * DER certificates); its length, 0 when the chain cannot be made or does not
 * fit in `room`. */
size_t cert_blob(struct emu_amdsp *sp, uint8_t *out, size_t room);

#endif
