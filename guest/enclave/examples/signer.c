/* SPDX-License-Identifier: MIT */
/*
 * signer.c - an enclave that keeps an ECDSA P-256 key and signs messages for
 * its host: the private key exists only in enclave memory (VMPL2 pages the
 * OS has no RMP access to), the host only ever sees the public key and
 * signatures. Crypto is Debian's BearSSL, linked into the enclave.
 *
 *   ENTER(SIGNER_KEYGEN): make the key once; the public key (65 bytes,
 *                         uncompressed) goes to the host as write(3, ...)
 *   ENTER(SIGNER_SIGN):   read(0, ...) the message from the host, sign
 *                         SHA-256(message); the signature (raw r || s,
 *                         64 bytes) goes to the host as write(4, ...);
 *                         returns the message length
 *
 * The key's seed mixes time stamp counter readings into an HMAC-DRBG. On
 * the deterministic emulator that is predictable by whoever replays the
 * run; a deployment would seed from a key the AMD secure processor derives
 * for the enclave's measurement (SNP firmware ABI 56860, MSG_KEY_REQ).
 */
#include <bearssl/bearssl.h>
#include <veil/enclave.h>

#define SIGNER_KEYGEN 0
#define SIGNER_SIGN 1
#define MAX_MESSAGE 1024

static br_ec_private_key sk;
static unsigned char sk_buf[BR_EC_KBUF_PRIV_MAX_SIZE];
static int have_key;

static uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t keygen(void)
{
	unsigned char seed[64], pub_buf[BR_EC_KBUF_PUB_MAX_SIZE];
	br_hmac_drbg_context rng;
	br_ec_public_key pk;
	size_t i;

	if (have_key)
		return 1;
	for (i = 0; i < sizeof(seed); i += 8) {
		uint64_t t = tsc() ^ (uint64_t)(uintptr_t)&rng;

		memcpy(seed + i, &t, 8);
	}
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	memset(seed, 0, sizeof(seed));
	if (!br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &sk, sk_buf, BR_EC_secp256r1) ||
	    !br_ec_compute_pub(&br_ec_p256_m31, &pk, pub_buf, &sk))
		return 2;
	have_key = 1;
	return write(3, pk.q, pk.qlen) == (long)pk.qlen ? 0 : 3;
}

static uint64_t sign(void)
{
	static unsigned char msg[MAX_MESSAGE];
	unsigned char hash[32], sig[64];
	br_sha256_context h;
	long n;

	if (!have_key)
		return ~0ULL;
	n = read(0, msg, sizeof(msg));
	if (n < 0)
		return ~1ULL;
	br_sha256_init(&h);
	br_sha256_update(&h, msg, (size_t)n);
	br_sha256_out(&h, hash);
	if (br_ecdsa_i31_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, hash, &sk, sig) != 64)
		return ~2ULL;
	return write(4, sig, sizeof(sig)) == sizeof(sig) ? (uint64_t)n : ~3ULL;
}

uint64_t enclave_main(uint64_t op)
{
	switch (op) {
	case SIGNER_KEYGEN:
		return keygen();
	case SIGNER_SIGN:
		return sign();
	default:
		return ~0ULL;
	}
}
