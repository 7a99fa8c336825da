/* SPDX-License-Identifier: MIT */
/*
 * veil-sign: keys and signatures for kernel modules (ECDSA P-256, SHA-256).
 *
 *   veil-sign keygen PRIVATE PUBLIC     make a key pair
 *   veil-sign sign PRIVATE IN OUT       append a signature trailer to IN
 *   veil-sign verify PUBLIC FILE        check a signed file
 *
 * Key files: "VEILKEY1", one type byte (1 = private, 2 = public), then the
 * key: 32 bytes of scalar, or the 65-byte uncompressed public point. The
 * monitor image embeds the public key it trusts (services/module), so the key
 * is part of the launch measurement.
 */
#include <bearssl/bearssl_ec.h>
#include <bearssl/bearssl_hash.h>
#include <bearssl/bearssl_rand.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veil/abi.h>

#define KEY_MAGIC "VEILKEY1"

static const char usage[] =
	"usage: veil-sign keygen PRIVATE PUBLIC   make an ECDSA P-256 key pair\n"
	"       veil-sign sign PRIVATE IN OUT     write IN plus a signature trailer to OUT\n"
	"       veil-sign verify PUBLIC FILE      check FILE's trailer (exit 0 good, 1 bad)\n";

static int die(const char *what, const char *path)
{
	fprintf(stderr, "veil-sign: %s '%s'%s%s\n", what, path, errno ? ": " : "",
		errno ? strerror(errno) : "");
	return 1;
}

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	errno = 0;
	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(*buf = malloc(n ? (size_t)n : 1)) || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -1;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

static int write_file(const char *path, const void *a, size_t alen, const void *b, size_t blen)
{
	FILE *f = fopen(path, "wb");

	errno = 0;
	if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen)) {
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Load a key file of `type` with `len` key bytes into out. */
static int load_key(const char *path, int type, unsigned char *out, size_t len)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	int ok;

	if (read_file(path, &buf, &n))
		return die("cannot read key", path);
	ok = n == 9 + len && !memcmp(buf, KEY_MAGIC, 8) && buf[8] == type;
	if (ok)
		memcpy(out, buf + 9, len);
	free(buf);
	errno = 0;
	return ok ? 0 : die(type == 1 ? "not a private key file:" : "not a public key file:", path);
}

static void hash_of(const unsigned char *p, size_t len, unsigned char h[32])
{
	br_sha256_context ctx;

	br_sha256_init(&ctx);
	br_sha256_update(&ctx, p, len);
	br_sha256_out(&ctx, h);
}

static int keygen(const char *priv, const char *pub)
{
	unsigned char seed[48], kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char hdr[9];
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	br_ec_public_key pk;
	FILE *r = fopen("/dev/urandom", "rb");

	if (!r || fread(seed, 1, sizeof(seed), r) != sizeof(seed))
		return die("cannot read", "/dev/urandom");
	fclose(r);
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	if (br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &sk, kbuf, BR_EC_secp256r1) != 32 ||
	    br_ec_compute_pub(&br_ec_p256_m31, &pk, pbuf, &sk) != 65) {
		fprintf(stderr, "veil-sign: key generation failed\n");
		return 1;
	}
	memcpy(hdr, KEY_MAGIC, 8);
	hdr[8] = 1;
	if (write_file(priv, hdr, 9, sk.x, 32))
		return die("cannot write", priv);
	hdr[8] = 2;
	if (write_file(pub, hdr, 9, pk.q, 65))
		return die("cannot write", pub);
	return 0;
}

static int sign(const char *priv, const char *in, const char *out)
{
	unsigned char x[32], h[32], *buf = NULL;
	br_ec_private_key sk = { BR_EC_secp256r1, x, 32 };
	struct veil_sig_trailer t;
	size_t n = 0;

	if (load_key(priv, 1, x, 32))
		return 1;
	if (read_file(in, &buf, &n))
		return die("cannot read", in);
	hash_of(buf, n, h);
	memcpy(t.magic, VEIL_SIG_MAGIC, 8);
	t.signed_len = n;
	if (br_ecdsa_i31_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, h, &sk, t.sig) != 64) {
		free(buf);
		fprintf(stderr, "veil-sign: signing failed\n");
		return 1;
	}
	if (write_file(out, buf, n, &t, sizeof(t))) {
		free(buf);
		return die("cannot write", out);
	}
	free(buf);
	return 0;
}

static int verify(const char *pub, const char *path)
{
	unsigned char q[65], h[32], *buf = NULL;
	br_ec_public_key pk = { BR_EC_secp256r1, q, 65 };
	struct veil_sig_trailer t;
	size_t n = 0;
	bool ok;

	if (load_key(pub, 2, q, 65))
		return 1;
	if (read_file(path, &buf, &n))
		return die("cannot read", path);
	ok = n > sizeof(t);
	if (ok) {
		memcpy(&t, buf + n - sizeof(t), sizeof(t));
		ok = !memcmp(t.magic, VEIL_SIG_MAGIC, 8) && t.signed_len == n - sizeof(t);
	}
	if (ok) {
		hash_of(buf, t.signed_len, h);
		ok = br_ecdsa_i31_vrfy_raw(&br_ec_p256_m31, h, 32, &pk, t.sig, 64) == 1;
	}
	free(buf);
	printf("%s: %s\n", path, ok ? "good signature" : "BAD signature");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "keygen"))
		return keygen(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "sign"))
		return sign(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "verify"))
		return verify(argv[2], argv[3]);
	fputs(usage, stderr);
	return 2;
}
