/* SPDX-License-Identifier: MIT */
/*
 * fuzz_module - VEIL_MOD_LOAD of arbitrary module files, then UNLOAD.
 *
 * Input: one flags byte, one byte naming the first donated scratch page, one
 * byte for their count, then the module file. With flag bit 0 the file is
 * signed here, with the test-only key (tests/keys/test-only-module.key), so
 * that mutated files get past the signature check into the ELF parser and
 * relocator; without it the file goes in as it is (trailer included).
 * KCI is locked first with the exports the guest modules use.
 *
 * Invariants: those of fz_check after each call, and after a refused LOAD or
 * an UNLOAD every donated page is OS-owned again, with the OS default VMPL3
 * permissions in the record and in the RMP, and all zeros. The monitor's copy
 * of the file is followed by a canary: a loaded module never holds it (bytes
 * from outside the file would be monitor memory leaked to VMPL3). Seeds:
 * corpus/module, e.g. null-alloc-signed (an allocated SHT_NULL section whose
 * bytes lie past the end of the file).
 */
#define _GNU_SOURCE /* memmem */
#include <bearssl/bearssl_ec.h>
#include <bearssl/bearssl_hash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veil/lib.h>

#include "../../services/module/module.h"
#include "fuzz_common.h"

#define FILE_GPA 0x140000ULL /* kernel data pages, OS-writable before and after LOCK */
#define MAX_FILE (256u << 10)

static unsigned char key[32];

static void load_key(void)
{
	FILE *f = fopen(VEIL_FUZZ_KEY, "rb");
	unsigned char buf[41];

	/* "VEILKEY1", type 1 (private), 32 bytes of scalar (tools/veil-sign.c) */
	if (!f || fread(buf, 1, sizeof(buf), f) != sizeof(buf) || memcmp(buf, "VEILKEY1", 8) ||
	    buf[8] != 1)
		FZ_FAIL("cannot read the test key %s", VEIL_FUZZ_KEY);
	fclose(f);
	memcpy(key, buf + 9, 32);
}

static void sign(u8 *file, u64 len)
{
	struct veil_sig_trailer t;
	br_ec_private_key sk = { BR_EC_secp256r1, key, 32 };
	br_sha256_context ctx;
	u8 h[32];

	memset(&t, 0, sizeof(t));
	memcpy(t.magic, VEIL_SIG_MAGIC, 8);
	t.signed_len = len;
	br_sha256_init(&ctx);
	br_sha256_update(&ctx, file, len);
	br_sha256_out(&ctx, h);
	if (br_ecdsa_i31_sign_raw(&br_ec_p256_m31, &br_sha256_vtable, h, &sk, t.sig) != 64)
		FZ_FAIL("signing failed");
	memcpy(file + len, &t, sizeof(t));
}

static const u8 canary[8] = { 'V', 'E', 'I', 'L', 'C', 'N', 'R', 'Y' };

/* Fill the monitor's scratch copy of the file past len with the canary. */
static void canary_fill(u64 len)
{
	const struct veil_modules *ms = fx.mon->svc[VEIL_SVC_MODULE];
	u64 off;

	for (off = len; off + sizeof(canary) <= MAX_FILE; off += sizeof(canary))
		memcpy(ms->scratch + off, canary, sizeof(canary));
}

/* No loaded page holds the canary: nothing from outside the file. */
static void check_no_canary(u64 base, u64 pages)
{
	const u8 *p = fake_ptr(fx.m, base);

	if (memmem(p, pages * VEIL_PAGE_SIZE, canary, sizeof(canary)))
		FZ_FAIL("LOAD copied bytes from outside the module file into module pages");
}

/* Every donated page is the OS's again: default perms, RMP in step, zeroed. */
static void check_given_back(u64 base, u64 pages, const char *when)
{
	static const u8 zero[VEIL_PAGE_SIZE];
	u64 i;

	for (i = 0; i < pages; i++) {
		u64 gpa = base + i * VEIL_PAGE_SIZE;
		const struct veil_page *p = fx_page(gpa);
		const struct fake_rmp *e = fake_rmp(fx.m, gpa);

		if (p->owner != VEIL_OWNER_OS || p->os_perms != fx.mon->mem.os_default ||
		    !p->validated || e->perms[3] != fx.mon->mem.os_default)
			FZ_FAIL("%s: donated page %#llx: owner %u, os_perms %#x, validated %u, RMP "
				"VMPL3 %#x (want OS, %#x)",
				when, (unsigned long long)gpa, p->owner, p->os_perms, p->validated,
				e->perms[3], fx.mon->mem.os_default);
		if (memcmp(fake_ptr(fx.m, gpa), zero, sizeof(zero)))
			FZ_FAIL("%s: donated page %#llx not zeroed", when, (unsigned long long)gpa);
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct veil_call c, u;
	u8 flags, first, count, *file;
	u64 len, base, pages;

	if (size < 3)
		return 0;
	if (!key[0] && !key[1])
		load_key();
	flags = data[0];
	first = data[1] % FX_SCRATCH_PAGES;
	count = data[2];
	data += 3;
	size -= 3;
	len = size; /* any length: the service copies the trailer out */
	if (flags & 1) {
		if (len > MAX_FILE - sizeof(struct veil_sig_trailer))
			return 0;
	} else if (len > MAX_FILE || !len) {
		return 0;
	}

	fz_boot();
	fz_lock_kci();
	file = fake_ptr(fx.m, FILE_GPA);
	memcpy(file, data, len);
	if (flags & 1) {
		sign(file, len);
		len += sizeof(struct veil_sig_trailer);
	}
	base = FX_PAGE(first);
	/* Mostly donate pages of the scratch area, sometimes too many or too few. */
	pages = flags & 2 ? count : 1 + count % (FX_SCRATCH_PAGES - first);

	canary_fill(len);
	c = (struct veil_call){ SVSM_CALL(VEIL_PROTOCOL_MODULE, VEIL_MOD_LOAD), FILE_GPA, len, base,
				pages };
	veil_svsm_dispatch(fx.mon, &fx.mon->vcpus[0], &c);
	fz_check(VEIL_PROTOCOL_MODULE, VEIL_MOD_LOAD, c.rax);
	if (pages > FX_SCRATCH_PAGES - first)
		pages = FX_SCRATCH_PAGES - first; /* what can be checked within the scratch area */
	if (c.rax != SVSM_SUCCESS) {
		check_given_back(base, pages, "refused LOAD");
	} else {
		if (!c.rdx || c.rdx < base || c.rdx >= base + pages * VEIL_PAGE_SIZE)
			FZ_FAIL("LOAD: init entry %#llx outside the donated pages",
				(unsigned long long)c.rdx);
		check_no_canary(base, pages);
		u = (struct veil_call){ SVSM_CALL(VEIL_PROTOCOL_MODULE, VEIL_MOD_UNLOAD), c.rcx, 0,
					0, 0 };
		veil_svsm_dispatch(fx.mon, &fx.mon->vcpus[0], &u);
		fz_check(VEIL_PROTOCOL_MODULE, VEIL_MOD_UNLOAD, u.rax);
		if (u.rax != SVSM_SUCCESS)
			FZ_FAIL("UNLOAD of a loaded module: %#llx", (unsigned long long)u.rax);
		check_given_back(base, pages, "UNLOAD");
	}
	fz_shutdown();
	return 0;
}
