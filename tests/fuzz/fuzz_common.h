/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.h - shared by the libFuzzer targets: a monitor built by the
 * unit-test fixture (tests/core/fixture.c) with every service initialised as
 * at boot, an input reader, and the invariants checked after every call.
 */
#ifndef VEIL_TESTS_FUZZ_COMMON_H
#define VEIL_TESTS_FUZZ_COMMON_H

#include <stddef.h>

#include "../core/fixture.h"

/* Launch layout the fuzzers add to the fixture: measured kernel segments. */
#define FZ_TEXT FX_KERNEL_START		      /* 64 KiB R+X */
#define FZ_RODATA (FX_KERNEL_START + 0x10000) /* 64 KiB R */
#define FZ_DATA (FX_KERNEL_START + 0x20000)   /* the rest of the image, R+W */
#define FZ_DECL (FX_KERNEL_END - 0x3000)      /* where fz_lock_kci writes its decl */
#define FZ_EXPORTS (FX_KERNEL_END - 0x2000)   /* ... and its export table */

/* The input, consumed from the front; past its end every read gives zeros. */
struct fz_in {
	const u8 *p;
	size_t n;
};
u8 fz_u8(struct fz_in *in);
u16 fz_u16(struct fz_in *in);
u32 fz_u32(struct fz_in *in);
u64 fz_u64(struct fz_in *in);

/* Fixture + kernel segments + every service's init; aborts on failure. */
void fz_boot(void);
void fz_shutdown(void);

/* Write a KCI declaration of the image (text + rodata) and the exports
 * modules use at FZ_DECL/FZ_EXPORTS; returns the decl's GPA. */
u64 fz_write_decl(void);
/* LOCK with fz_write_decl's declaration; aborts if refused. */
void fz_lock_kci(void);

/* Can the OS (VMPL3) write this page right now (validated, RMP W)? */
bool fz_os_writable(u64 gpa);

/*
 * The invariants, after every call; abort() (with a message) on violation:
 *  - the RMP follows the records (fx_assert_rmp_follows_records): VMPL1-3
 *    masks = veil_mem_perms, VMSA bit iff owner VMSA, validated bits agree;
 *  - the fake backend saw no VMSA page writable by a lower VMPL, no VMSA bit
 *    set over a stale TLB entry, no RMPADJUST/PVALIDATE beyond memory;
 *  - monitor-region records are exactly as after boot (owner MONITOR,
 *    SERVICE or the boot VMSA);
 *  - `rax` is SVSM_SUCCESS, a generic SVSM error or a code abi.h defines
 *    for protocol `proto`.
 */
void fz_check(u32 proto, u32 call, u64 rax);
void fz_check_state(void);

#define FZ_FAIL(...) fz_fail(__FILE__, __LINE__, __VA_ARGS__)
void fz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

#endif
