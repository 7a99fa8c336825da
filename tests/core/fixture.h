/* SPDX-License-Identifier: MIT */
/*
 * fixture.h - a struct veil_monitor built directly (no boot) over the fake
 * backend, and assertions over its state.
 *
 * Layout of the 16 MiB guest:
 *   [0, 0x10000)              OS, not validated
 *   [VEIL_BOOT_INFO, VEIL_BOOT_AREA_END) OS, validated (CAA of vCPU n at FX_CAA(n))
 *   [FX_KERNEL_START, FX_KERNEL_END)     OS, validated (the kernel image)
 *   [FX_SCRATCH, +16 pages)   OS, validated; FX_SCRATCH is 2 MiB aligned
 *   FX_REQ                    OS, validated: where tests build PVALIDATE requests
 *   FX_UNVAL.. FX_MON_BASE    OS, not validated
 *     FX_HUGE_2M              a 2 MiB RMP entry
 *     FX_SMALL_2M             2 MiB aligned, 4 KiB RMP entries
 *   [FX_MON_BASE, FX_MEM_SIZE) monitor, validated; FX_BOOT_VMSA = vCPU 0's OS VMSA
 */
#ifndef VEIL_TESTS_FIXTURE_H
#define VEIL_TESTS_FIXTURE_H

#include <check.h>

#include <veil/abi.h>
#include <veil/boot.h>
#include <veil/monitor.h>
#include <veil/svsm.h>

#include "fake_backend.h"

#define FX_MEM_SIZE (16ULL << 20)
#define FX_MON_BASE (12ULL << 20)
#define FX_MON_SIZE (4ULL << 20)
#define FX_NR_VCPUS 4
#define FX_KERNEL_START 0x100000ULL
#define FX_KERNEL_END 0x200000ULL
#define FX_SCRATCH 0x200000ULL
#define FX_SCRATCH_PAGES 16
#define FX_PAGE(n) (FX_SCRATCH + (u64)(n)*VEIL_PAGE_SIZE) /* scratch page n */
#define FX_REQ FX_PAGE(15)
#define FX_UNVAL 0x300000ULL
#define FX_HUGE_2M 0x400000ULL
#define FX_SMALL_2M 0x600000ULL
#define FX_BOOT_VMSA (FX_MON_BASE + 0x1000)
#define FX_SEV_FEATURES 1ULL
#define FX_CAA(n) (VEIL_BOOT_CAA + (u64)(n)*VEIL_PAGE_SIZE)
#define FX_EFER_OS 0x1D01ULL /* SCE, LME, LMA, NXE, SVME */
#define FX_RWX RMP_PERM_ALL

struct fx {
	struct fake_machine *m;
	struct veil_monitor *mon;
};

/* The fixture of the running test (set up by fx_setup, a checked fixture). */
extern struct fx fx;
void fx_setup(void);
void fx_teardown(void);

/* Issue one call on vCPU `vcpu`; returns RAX, the outputs land in *out (may be NULL). */
u64 fx_call(u32 vcpu, u64 rax, u64 rcx, u64 rdx, u64 r8, struct veil_call *out);

/* Write a VMSA page the way an OS would (zeroed, then the fields checked). */
void fx_write_vmsa(u64 gpa, u8 vmpl, u64 efer, u64 sev_features);

/* PVALIDATE request at gpa: header {n, next, 0} and the entries that fit in the page. */
void fx_pval_req(u64 gpa, u16 next, const u64 *entries, u16 n);
u16 fx_pval_next(u64 gpa);
/* One-entry request at FX_REQ; returns RAX. */
u64 fx_pval1(u64 entry);

/* The page record of gpa. */
struct veil_page *fx_page(u64 gpa);

/* Full copies of the ownership table, the fake RMP and the vCPUs. */
struct fx_snap {
	struct veil_page *pages;
	struct fake_rmp *rmp;
	struct veil_vcpu vcpus[VEIL_MAX_VCPUS];
};
void fx_snap_take(struct fx_snap *s);
void fx_snap_free(struct fx_snap *s);
/* ck_assert that nothing changed since the snapshot (names the first difference). */
void fx_assert_unchanged(const struct fx_snap *s);

/*
 * The RMP follows the records: every validated page has exactly the VMPL1-3
 * masks veil_mem_perms derives and the VMSA bit iff it is a VMSA owner;
 * validated bits agree; no page's RMP grants more than its record allows.
 */
void fx_assert_rmp_follows_records(void);

/* Run suite s (CK_RUN_CASE picks one case) and free it: the exit status for
 * main, 0 when every test passed. */
int fx_run_suite(Suite *s);

#endif
