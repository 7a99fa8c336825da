/* SPDX-License-Identifier: MIT */
/*
 * veil-sign: keys and signatures for kernel modules (ECDSA P-256, SHA-256).
 *
 *   veil-sign keygen [--force] PRIVATE PUBLIC     make a key pair
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
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <veil/abi.h>

#include "hostio.h"

#define KEY_MAGIC "VEILKEY1"

static const char usage[] =
	"usage: veil-sign keygen [--force] PRIVATE PUBLIC\n"
	"       veil-sign sign [--any-file] PRIVATE IN OUT\n"
	"       veil-sign verify PUBLIC FILE\n"
	"Keys and signatures for Veil kernel modules (ECDSA P-256 over SHA-256).\n"
	"\n"
	"Commands:\n"
	"  keygen   make a key pair; PRIVATE is created with mode 0600, PUBLIC 0644\n"
	"           (less the umask); an existing file is never replaced unless\n"
	"           --force is given\n"
	"  sign     write IN plus a signature trailer to OUT; IN must be an ELF64\n"
	"           relocatable object (a kernel module, ET_REL), OUT a different file\n"
	"  verify   check FILE's trailer against PUBLIC; prints 'good signature'\n"
	"           (exit 0) or 'BAD signature' (exit 1)\n"
	"\n"
	"Options:\n"
	"  --force      keygen: replace existing key files\n"
	"  --any-file   sign: accept any non-empty IN, not only an ELF64 relocatable\n"
	"               object (to build hostile inputs for tests of the module loader)\n"
	"  -h, --help   print this text and exit\n"
	"  --version    print the version and exit\n"
	"\n"
	"Outputs are written to a temporary file beside the target and renamed over\n"
	"it only when complete, so a failed write never leaves a partial file.\n" HIO_HELP_EXIT;

static int fail(const char *msg)
{
	fprintf(stderr, "veil-sign: %s\n", msg);
	return VEIL_EXIT_FAIL;
}

static int read_input(const char *path, unsigned char **buf, size_t *len)
{
	char err[512];

	if (hio_read(path, 0, buf, len, err, sizeof(err)))
		return fail(err);
	return 0;
}

/* Write a + b to path through a temporary file (hostio.h). */
static int write_output(const char *path, mode_t mode, unsigned flags, const void *a, size_t alen,
			const void *b, size_t blen)
{
	struct hio_out o;
	char err[512];

	if (hio_out_open(&o, path, mode, flags, err, sizeof(err)))
		return fail(err);
	hio_out_write(&o, a, alen);
	hio_out_write(&o, b, blen);
	if (hio_out_close(&o, flags, err, sizeof(err)))
		return fail(err);
	return 0;
}

/* Load a key file of `type` with `len` key bytes into out. */
static int load_key(const char *path, int type, unsigned char *out, size_t len)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	int ok;
	char msg[512];

	if (read_input(path, &buf, &n))
		return VEIL_EXIT_FAIL;
	ok = n == 9 + len && !memcmp(buf, KEY_MAGIC, 8) && buf[8] == type;
	if (ok)
		memcpy(out, buf + 9, len);
	free(buf);
	if (ok)
		return 0;
	snprintf(msg, sizeof(msg), "'%s' is not a %s key file (see veil-sign --help)", path,
		 type == 1 ? "private" : "public");
	return fail(msg);
}

static void hash_of(const unsigned char *p, size_t len, unsigned char h[32])
{
	br_sha256_context ctx;

	br_sha256_init(&ctx);
	br_sha256_update(&ctx, p, len);
	br_sha256_out(&ctx, h);
}

static int keygen(const char *priv, const char *pub, bool force)
{
	unsigned char seed[48], kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char hdr[9];
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	br_ec_public_key pk;
	unsigned flags = force ? 0 : HIO_EXCL;
	FILE *r;
	char msg[600];

	if (hio_same_file(priv, pub))
		return fail("PRIVATE and PUBLIC name the same file");
	/* Check both before writing either: never leave half a new pair. */
	for (const char *p = priv; !force && p; p = p == priv ? pub : NULL) {
		if (!access(p, F_OK)) {
			snprintf(msg, sizeof(msg),
				 "'%s' already exists (use --force to replace the key pair)", p);
			return fail(msg);
		}
	}
	r = fopen("/dev/urandom", "rb");
	if (!r || fread(seed, 1, sizeof(seed), r) != sizeof(seed)) {
		if (r)
			fclose(r);
		return fail("cannot read /dev/urandom");
	}
	fclose(r);
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	if (br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &sk, kbuf, BR_EC_secp256r1) != 32 ||
	    br_ec_compute_pub(&br_ec_p256_m31, &pk, pbuf, &sk) != 65)
		return fail("key generation failed");
	memcpy(hdr, KEY_MAGIC, 8);
	hdr[8] = 1;
	if (write_output(priv, 0600, flags, hdr, 9, sk.x, 32))
		return VEIL_EXIT_FAIL;
	hdr[8] = 2;
	if (write_output(pub, 0644, flags, hdr, 9, pk.q, 65)) {
		unlink(priv); /* not half a pair */
		return VEIL_EXIT_FAIL;
	}
	return 0;
}

/* What the module loader accepts: an x86-64 ELF64 relocatable object. */
static const char *not_module(const unsigned char *buf, size_t n)
{
	Elf64_Ehdr e;

	if (n < sizeof(e) || memcmp(buf, ELFMAG, SELFMAG))
		return "is not an ELF file";
	memcpy(&e, buf, sizeof(e));
	if (e.e_ident[EI_CLASS] != ELFCLASS64 || e.e_ident[EI_DATA] != ELFDATA2LSB)
		return "is not a little-endian ELF64 file";
	if (e.e_type != ET_REL)
		return "is not a relocatable object (ET_REL): a module is built with -c, not linked";
	if (e.e_machine != EM_X86_64)
		return "is not an x86-64 object";
	return NULL;
}

static int sign(const char *priv, const char *in, const char *out, bool any)
{
	unsigned char x[32], h[32], *buf = NULL;
	br_ec_private_key sk = { BR_EC_secp256r1, x, 32 };
	struct veil_sig_trailer t;
	size_t n = 0;
	const char *why;
	char msg[600];
	int rc;

	if (hio_same_file(in, out) || hio_same_file(priv, out))
		return fail("OUT must be a different file from IN and PRIVATE");
	if (load_key(priv, 1, x, 32) || read_input(in, &buf, &n))
		return VEIL_EXIT_FAIL;
	why = any ? NULL : not_module(buf, n);
	if (why) {
		free(buf);
		snprintf(msg, sizeof(msg), "'%s' %s", in, why);
		return fail(msg);
	}
	hash_of(buf, n, h);
	memcpy(t.magic, VEIL_SIG_MAGIC, 8);
	t.signed_len = n;
	if (br_ecdsa_i31_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, h, &sk, t.sig) != 64) {
		free(buf);
		return fail("signing failed");
	}
	rc = write_output(out, 0644, 0, buf, n, &t, sizeof(t));
	free(buf);
	return rc;
}

static int verify(const char *pub, const char *path)
{
	unsigned char q[65], h[32], *buf = NULL;
	br_ec_public_key pk = { BR_EC_secp256r1, q, 65 };
	struct veil_sig_trailer t;
	size_t n = 0;
	bool ok;

	if (load_key(pub, 2, q, 65) || read_input(path, &buf, &n))
		return VEIL_EXIT_FAIL;
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

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "veil-sign: ");
	fprintf(stderr, msg, arg);
	fprintf(stderr, " (see veil-sign --help)\n");
	return VEIL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *pos[4];
	int n = 0;
	bool force = false, any = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (hio_info_option(a, "veil-sign", usage))
			return 0;
		if (!strcmp(a, "--force"))
			force = true;
		else if (!strcmp(a, "--any-file"))
			any = true;
		else if (a[0] == '-' && a[1])
			return usage_error("unknown option '%s'", a);
		else if (n == 4)
			return usage_error("too many arguments ('%s')", a);
		else
			pos[n++] = a;
	}
	if (!n)
		return usage_error("%s", "missing command");
	if (force && strcmp(pos[0], "keygen"))
		return usage_error("%s", "--force only applies to keygen");
	if (any && strcmp(pos[0], "sign"))
		return usage_error("%s", "--any-file only applies to sign");
	if (n == 3 && !strcmp(pos[0], "keygen"))
		return keygen(pos[1], pos[2], force);
	if (n == 4 && !strcmp(pos[0], "sign"))
		return sign(pos[1], pos[2], pos[3], any);
	if (n == 3 && !strcmp(pos[0], "verify"))
		return verify(pos[1], pos[2]);
	if (strcmp(pos[0], "keygen") && strcmp(pos[0], "sign") && strcmp(pos[0], "verify"))
		return usage_error("unknown command '%s'", pos[0]);
	return usage_error("wrong number of arguments for '%s'", pos[0]);
}
