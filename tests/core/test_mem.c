/* SPDX-License-Identifier: MIT */
/* Unit tests: page ownership and the RMP state derived from it (core/mem.c). */
#include <check.h>
#include <stdlib.h>

#include "fixture.h"

#define PG VEIL_PAGE_SIZE

static struct veil_backend *be0(void)
{
	return fake_be(fx.m, 0);
}

/* ---- veil_mem_perms ---------------------------------------------------------- */

START_TEST(perms_os)
{
	struct veil_page p = { .owner = VEIL_OWNER_OS, .os_perms = RMP_PERM_ALL };

	ck_assert_uint_eq(veil_mem_perms(&p, 3), RMP_PERM_ALL);
	ck_assert_uint_eq(veil_mem_perms(&p, 1), 0);
	ck_assert_uint_eq(veil_mem_perms(&p, 2), 0);
	/* a service may restrict the OS (kernel text: R + Xs) */
	p.os_perms = RMP_PERM_R | RMP_PERM_XS;
	ck_assert_uint_eq(veil_mem_perms(&p, 3), RMP_PERM_R | RMP_PERM_XS);
	ck_assert_uint_eq(veil_mem_perms(&p, 1), 0);
	ck_assert_uint_eq(veil_mem_perms(&p, 2), 0);
}
END_TEST

/* A loaded kernel module: VMPL3 gets the (restricted) os_perms, nobody else anything. */
START_TEST(perms_module)
{
	struct veil_page p = { .owner = VEIL_OWNER_MODULE, .os_perms = RMP_PERM_R | RMP_PERM_XS };

	ck_assert_uint_eq(veil_mem_perms(&p, 3), RMP_PERM_R | RMP_PERM_XS);
	ck_assert_uint_eq(veil_mem_perms(&p, 1), 0);
	ck_assert_uint_eq(veil_mem_perms(&p, 2), 0);
}
END_TEST

/* An enclave domain's page: its mask at VMPL2 only, never VMPL1 or the OS. */
START_TEST(perms_enclave)
{
	struct veil_page p = { .owner = VEIL_OWNER_ENCLAVE,
			       .os_perms = RMP_PERM_R | RMP_PERM_XU,
			       .id = 3 };

	ck_assert_uint_eq(veil_mem_perms(&p, 1), 0);
	ck_assert_uint_eq(veil_mem_perms(&p, 2), RMP_PERM_R | RMP_PERM_XU);
	ck_assert_uint_eq(veil_mem_perms(&p, 3), 0);
}
END_TEST

/* A service domain's page (the log): its mask at VMPL1 only, never VMPL2 or
 * the OS. */
START_TEST(perms_service)
{
	struct veil_page p = { .owner = VEIL_OWNER_SERVICE,
			       .os_perms = RMP_PERM_R | RMP_PERM_W,
			       .id = 0 };

	ck_assert_uint_eq(veil_mem_perms(&p, 1), RMP_PERM_R | RMP_PERM_W);
	ck_assert_uint_eq(veil_mem_perms(&p, 2), 0);
	ck_assert_uint_eq(veil_mem_perms(&p, 3), 0);
}
END_TEST

START_TEST(perms_not_os)
{
	static const u8 owners[] = { VEIL_OWNER_NONE, VEIL_OWNER_MONITOR, VEIL_OWNER_SHARED,
				     VEIL_OWNER_VMSA };
	unsigned i, vmpl;

	for (i = 0; i < sizeof(owners); i++) {
		/* os_perms left over from an earlier OS owner must not leak through */
		struct veil_page p = { .owner = owners[i], .os_perms = RMP_PERM_ALL, .id = 3 };

		for (vmpl = 1; vmpl <= 3; vmpl++)
			ck_assert_msg(veil_mem_perms(&p, vmpl) == 0, "owner %u vmpl %u: %#x",
				      owners[i], vmpl, veil_mem_perms(&p, vmpl));
	}
}
END_TEST

/* A VMSA the OS handed over: R at VMPL3 only, whatever os_perms it carried. */
START_TEST(perms_os_vmsa_read_only)
{
	struct veil_page p = { .owner = VEIL_OWNER_OS_VMSA, .os_perms = RMP_PERM_ALL };

	ck_assert_uint_eq(veil_mem_perms(&p, 3), RMP_PERM_R);
	ck_assert_uint_eq(veil_mem_perms(&p, 2), 0);
	ck_assert_uint_eq(veil_mem_perms(&p, 1), 0);
}
END_TEST

/* ---- ranges ------------------------------------------------------------------- */

START_TEST(range_ok_cases)
{
	struct veil_mem mem = { .nr_pages = 16 }; /* 64 KiB */

	ck_assert(veil_mem_range_ok(&mem, 0, PG));
	ck_assert(veil_mem_range_ok(&mem, 0, 16 * PG));
	ck_assert(veil_mem_range_ok(&mem, 15 * PG, PG));
	/* zero length */
	ck_assert(!veil_mem_range_ok(&mem, 0, 0));
	ck_assert(!veil_mem_range_ok(&mem, PG, 0));
	/* misaligned base or length */
	ck_assert(!veil_mem_range_ok(&mem, 1, PG));
	ck_assert(!veil_mem_range_ok(&mem, 0x800, PG));
	ck_assert(!veil_mem_range_ok(&mem, 0, PG + 1));
	ck_assert(!veil_mem_range_ok(&mem, 0, 8));
	/* out of range */
	ck_assert(!veil_mem_range_ok(&mem, 16 * PG, PG));
	ck_assert(!veil_mem_range_ok(&mem, 15 * PG, 2 * PG));
	ck_assert(!veil_mem_range_ok(&mem, 0, 17 * PG));
	ck_assert(!veil_mem_range_ok(&mem, 1ULL << 40, PG));
	/* wrapping: the end wraps to a small address that would be "in range" */
	ck_assert(!veil_mem_range_ok(&mem, 0xFFFFFFFFFFFFF000ULL, 2 * PG));
	ck_assert(!veil_mem_range_ok(&mem, PG, 0xFFFFFFFFFFFFF000ULL));
}
END_TEST

START_TEST(range_ok_wraps_in_a_huge_space)
{
	/* 2^63 bytes of memory: a wrapping range ends below the limit */
	struct veil_mem mem = { .nr_pages = 1ULL << 51 };

	ck_assert(veil_mem_range_ok(&mem, (1ULL << 63) - PG, PG));
	ck_assert(!veil_mem_range_ok(&mem, 1ULL << 63, PG));
	ck_assert(!veil_mem_range_ok(&mem, 0xFFFFFFFFFFFFF000ULL, 2 * PG));
	ck_assert(!veil_mem_range_ok(&mem, 0xFFFFFFFFFFFFF000ULL, 0x10000 * PG));
}
END_TEST

START_TEST(owner_lookup)
{
	struct veil_mem *mem = &fx.mon->mem;

	ck_assert_int_eq(veil_mem_owner(mem, 0), VEIL_OWNER_OS);
	ck_assert_int_eq(veil_mem_owner(mem, FX_MON_BASE + 123), VEIL_OWNER_MONITOR);
	ck_assert_int_eq(veil_mem_owner(mem, FX_BOOT_VMSA), VEIL_OWNER_VMSA);
	ck_assert_int_eq(veil_mem_owner(mem, FX_MEM_SIZE), VEIL_OWNER_NONE);
	ck_assert_int_eq(veil_mem_owner(mem, ~0ULL), VEIL_OWNER_NONE);

	ck_assert(veil_mem_owned_by(mem, FX_SCRATCH, 4 * PG, VEIL_OWNER_OS));
	ck_assert(veil_mem_owned_by(mem, FX_MON_BASE + 2 * PG, 4 * PG, VEIL_OWNER_MONITOR));
	ck_assert(!veil_mem_owned_by(mem, FX_MON_BASE, 2 * PG, VEIL_OWNER_MONITOR)); /* VMSA */
	ck_assert(!veil_mem_owned_by(mem, FX_MON_BASE - PG, 2 * PG, VEIL_OWNER_OS));
	ck_assert(!veil_mem_owned_by(mem, FX_MON_BASE - PG, 2 * PG, VEIL_OWNER_MONITOR));
	ck_assert(!veil_mem_owned_by(mem, FX_SCRATCH, 0, VEIL_OWNER_OS));
	ck_assert(!veil_mem_owned_by(mem, FX_SCRATCH + 1, PG, VEIL_OWNER_OS));
	ck_assert(!veil_mem_owned_by(mem, FX_MEM_SIZE - PG, 2 * PG, VEIL_OWNER_MONITOR));
}
END_TEST

/* ---- veil_mem_apply --------------------------------------------------------------- */

START_TEST(apply_writes_derived_masks)
{
	struct veil_page *p = fx_page(FX_PAGE(1));

	p->os_perms = RMP_PERM_R | RMP_PERM_XS;
	ck_assert_int_eq(veil_mem_apply(&fx.mon->mem, be0(), FX_PAGE(1)), VEIL_OK);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[3], RMP_PERM_R | RMP_PERM_XS);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[1], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[2], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->vmsa, 0);
	fx_assert_rmp_follows_records();
}
END_TEST

START_TEST(apply_reports_rmpadjust_failure)
{
	fake_inject(fx.m, FAKE_OP_RMPADJUST, FX_PAGE(1), 2, RMP_FAIL_INPUT, 0, 1);
	ck_assert_int_eq(veil_mem_apply(&fx.mon->mem, be0(), FX_PAGE(1)), VEIL_EHW);
}
END_TEST

/* ---- veil_mem_transfer -------------------------------------------------------------- */

START_TEST(transfer_bad_range_changes_nothing)
{
	struct veil_mem *mem = &fx.mon->mem;
	struct fx_snap s;

	fx_snap_take(&s);
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_SCRATCH + 8, PG, VEIL_OWNER_OS,
					   VEIL_OWNER_MONITOR, 0),
			 VEIL_ERANGE);
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_SCRATCH, 0, VEIL_OWNER_OS,
					   VEIL_OWNER_MONITOR, 0),
			 VEIL_ERANGE);
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_MEM_SIZE - PG, 2 * PG, VEIL_OWNER_MONITOR,
					   VEIL_OWNER_OS, 0),
			 VEIL_ERANGE);
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), 0xFFFFFFFFFFFFF000ULL, 2 * PG, VEIL_OWNER_OS,
					   VEIL_OWNER_MONITOR, 0),
			 VEIL_ERANGE);
	fx_assert_unchanged(&s);
	ck_assert_uint_eq(fake_log_count(fx.m, FAKE_OP_RMPADJUST), 0);
	fx_snap_free(&s);
}
END_TEST

START_TEST(transfer_is_all_or_nothing)
{
	struct veil_mem *mem = &fx.mon->mem;
	struct fx_snap s;

	/* scratch pages 0..3, with page 2 owned by a service */
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_PAGE(2), PG, VEIL_OWNER_OS,
					   VEIL_OWNER_SERVICE, 5),
			 VEIL_OK);
	fake_log_clear(fx.m);
	fx_snap_take(&s);
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_PAGE(0), 4 * PG, VEIL_OWNER_OS,
					   VEIL_OWNER_MONITOR, 0),
			 VEIL_EPERM);
	/* every page's owner and every RMP entry are as before */
	fx_assert_unchanged(&s);
	ck_assert_uint_eq(fake_log_count(fx.m, FAKE_OP_RMPADJUST), 0);
	ck_assert_int_eq(fx_page(FX_PAGE(0))->owner, VEIL_OWNER_OS);
	ck_assert_int_eq(fx_page(FX_PAGE(2))->owner, VEIL_OWNER_SERVICE);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(0))->perms[3], FX_RWX);
	fx_snap_free(&s);
}
END_TEST

START_TEST(transfer_applies_rmp_and_flushes)
{
	struct veil_mem *mem = &fx.mon->mem;
	u64 flushes = fx.m->tlb_flushes;
	long last;
	int i;

	/* OS -> monitor: VMPL3 loses everything, no VMSA bit */
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_PAGE(0), 2 * PG, VEIL_OWNER_OS,
					   VEIL_OWNER_MONITOR, 0),
			 VEIL_OK);
	for (i = 0; i < 2; i++) {
		const struct fake_rmp *e = fake_rmp(fx.m, FX_PAGE(i));

		ck_assert_int_eq(fx_page(FX_PAGE(i))->owner, VEIL_OWNER_MONITOR);
		ck_assert_uint_eq(e->perms[1] | e->perms[2] | e->perms[3], 0);
		ck_assert_uint_eq(e->vmsa, 0);
	}
	ck_assert_uint_gt(fx.m->tlb_flushes, flushes);
	/* the flush comes after the last permission change */
	last = fake_log_find(fx.m, 0, FAKE_OP_RMPADJUST, FX_PAGE(1), 3, -1);
	ck_assert_int_ge(last, 0);
	ck_assert_int_gt(fake_log_find(fx.m, (usize)last, FAKE_OP_TLB_FLUSH, FAKE_ANY, 0, -1),
			 last);

	/* monitor -> OS: R|W|Xu|Xs for VMPL3 only */
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_PAGE(0), 2 * PG, VEIL_OWNER_MONITOR,
					   VEIL_OWNER_OS, 0),
			 VEIL_OK);
	for (i = 0; i < 2; i++) {
		const struct fake_rmp *e = fake_rmp(fx.m, FX_PAGE(i));

		ck_assert_uint_eq(e->perms[3], FX_RWX);
		ck_assert_uint_eq(e->perms[1] | e->perms[2], 0);
		ck_assert_uint_eq(e->vmsa, 0);
	}

	/* OS -> VMSA: no access and the VMSA bit */
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_PAGE(1), PG, VEIL_OWNER_OS,
					   VEIL_OWNER_VMSA, 0),
			 VEIL_OK);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[3], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->vmsa, 1);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(0))->vmsa, 0);

	/* VMSA -> OS: the bit goes, access comes back */
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_PAGE(1), PG, VEIL_OWNER_VMSA,
					   VEIL_OWNER_OS, 0),
			 VEIL_OK);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[3], FX_RWX);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->vmsa, 0);

	/* services and enclaves: no lower access, id recorded */
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_PAGE(3), PG, VEIL_OWNER_OS,
					   VEIL_OWNER_ENCLAVE, 9),
			 VEIL_OK);
	ck_assert_uint_eq(fx_page(FX_PAGE(3))->id, 9);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(3))->perms[3], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(3))->perms[2], 0); /* until the domain grants */
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(3))->vmsa, 0);
	fx_assert_rmp_follows_records();
	ck_assert_uint_eq(fx.m->faults, 0);
}
END_TEST

START_TEST(transfer_back_to_os_restores_full_perms)
{
	struct veil_mem *mem = &fx.mon->mem;

	fx_page(FX_PAGE(4))->os_perms = RMP_PERM_R;
	ck_assert_int_eq(veil_mem_apply(mem, be0(), FX_PAGE(4)), VEIL_OK);
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_PAGE(4), PG, VEIL_OWNER_OS,
					   VEIL_OWNER_SERVICE, 1),
			 VEIL_OK);
	ck_assert_int_eq(veil_mem_transfer(mem, be0(), FX_PAGE(4), PG, VEIL_OWNER_SERVICE,
					   VEIL_OWNER_OS, 0),
			 VEIL_OK);
	ck_assert_uint_eq(fx_page(FX_PAGE(4))->os_perms, RMP_PERM_ALL);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(4))->perms[3], FX_RWX);
}
END_TEST

/*
 * The VMSA bit must not be set while a lower VMPL can still write the page
 * (in the RMP, or through a TLB entry not yet flushed): between the two, a
 * hypervisor colluding with the OS can VMRUN a VMSA whose contents the OS
 * chose, e.g. VMPL = 0.
 */
START_TEST(transfer_to_vmsa_sets_bit_only_after_write_revoked)
{
	ck_assert_int_eq(veil_mem_transfer(&fx.mon->mem, be0(), FX_PAGE(5), PG, VEIL_OWNER_OS,
					   VEIL_OWNER_VMSA, 0),
			 VEIL_OK);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(5))->vmsa, 1);
	ck_assert_msg(fx.m->vmsa_writable == 0,
		      "%llu RMPADJUST(s) left a VMSA page writable by VMPL1-3",
		      (unsigned long long)fx.m->vmsa_writable);
	ck_assert_msg(fx.m->vmsa_stale_tlb == 0,
		      "VMSA bit set before the TLB flush that removes the OS's write access");
}
END_TEST

/*
 * An RMPADJUST failing in the middle of a transfer must not leave a page
 * whose record denies an access the RMP still grants.
 */
START_TEST(transfer_rmp_failure_never_leaves_rmp_above_records)
{
	u64 flushes = fx.m->tlb_flushes;
	int rc;

	fake_inject(fx.m, FAKE_OP_RMPADJUST, FX_PAGE(7), 0, RMP_FAIL_INPUT, 0, -1);
	rc = veil_mem_transfer(&fx.mon->mem, be0(), FX_PAGE(6), 3 * PG, VEIL_OWNER_OS,
			       VEIL_OWNER_MONITOR, 0);
	ck_assert_int_eq(rc, VEIL_EHW);
	ck_assert_uint_gt(fx.m->tlb_flushes, flushes);
	fx_assert_rmp_follows_records();
}
END_TEST

/*
 * The RMP refuses the third page of a four-page transfer: every page, the two
 * already moved included, keeps exactly its record and its RMP state (a
 * restricted mask is not widened to the default on the way back).
 */
START_TEST(transfer_failure_restores_every_page_exactly)
{
	struct fx_snap snap;
	u64 i;

	for (i = 0; i < 4; i++) /* distinct masks, as services leave them */
		fx_page(FX_PAGE(8 + i))->os_perms = (u8)(RMP_PERM_R | (i << 1));
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(veil_mem_apply(&fx.mon->mem, be0(), FX_PAGE(8 + i)), VEIL_OK);
	fx_snap_take(&snap);
	fake_inject(fx.m, FAKE_OP_RMPADJUST, FX_PAGE(10), 0, RMP_FAIL_INPUT, 0, 1);
	ck_assert_int_eq(veil_mem_transfer(&fx.mon->mem, be0(), FX_PAGE(8), 4 * PG, VEIL_OWNER_OS,
					   VEIL_OWNER_MODULE, 0),
			 VEIL_EHW);
	fx_assert_unchanged(&snap);
	fx_snap_free(&snap);
}
END_TEST

/* ---- veil_mem_os_may / veil_mem_os_takeable ---------------------------------------- */

START_TEST(os_may_follows_the_os_own_rights)
{
	struct veil_mem *mem = &fx.mon->mem;

	ck_assert(veil_mem_os_may(mem, FX_PAGE(0), 2 * PG, true));
	ck_assert(veil_mem_os_may(mem, FX_PAGE(0) + 5, 1, false));
	/* locked text: readable, not writable */
	fx_page(FX_PAGE(1))->os_perms = RMP_PERM_R | RMP_PERM_XS;
	ck_assert(veil_mem_os_may(mem, FX_PAGE(1), PG, false));
	ck_assert(!veil_mem_os_may(mem, FX_PAGE(1), PG, true));
	ck_assert(!veil_mem_os_may(mem, FX_PAGE(0) + PG - 1, 2, true)); /* one byte on it */
	/* W in the mask but restricted by a service (not the default): no write */
	fx_page(FX_PAGE(2))->os_perms = RMP_PERM_R | RMP_PERM_W;
	ck_assert(!veil_mem_os_may(mem, FX_PAGE(2), PG, true));
	/* no R: no read */
	fx_page(FX_PAGE(3))->os_perms = RMP_PERM_XS;
	ck_assert(!veil_mem_os_may(mem, FX_PAGE(3), 8, false));
	/* not validated, not the OS's, out of range, empty, wrapping */
	ck_assert(!veil_mem_os_may(mem, FX_UNVAL, 8, false));
	ck_assert(!veil_mem_os_may(mem, FX_MON_BASE, 8, false));
	ck_assert(!veil_mem_os_may(mem, FX_BOOT_VMSA, 8, false));
	ck_assert(!veil_mem_os_may(mem, FX_MEM_SIZE - 4, 8, false));
	ck_assert(!veil_mem_os_may(mem, FX_PAGE(0), 0, false));
	ck_assert(!veil_mem_os_may(mem, ~0ULL - 2, 8, false));
}
END_TEST

START_TEST(takeable_only_plain_os_data)
{
	struct veil_mem *mem = &fx.mon->mem;

	ck_assert(veil_mem_os_takeable(mem, FX_PAGE(0), 2 * PG));
	fx_page(FX_PAGE(1))->os_perms = RMP_PERM_R; /* locked rodata */
	ck_assert(!veil_mem_os_takeable(mem, FX_PAGE(0), 2 * PG));
	ck_assert(!veil_mem_os_takeable(mem, FX_UNVAL, PG));
	ck_assert(!veil_mem_os_takeable(mem, FX_MON_BASE, PG));
	ck_assert(!veil_mem_os_takeable(mem, FX_PAGE(0) + 8, PG));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mem");
	TCase *perms = tcase_create("perms"), *range = tcase_create("range");
	TCase *transfer = tcase_create("transfer");

	tcase_add_test(perms, perms_os);
	tcase_add_test(perms, perms_module);
	tcase_add_test(perms, perms_not_os);
	tcase_add_test(perms, perms_os_vmsa_read_only);
	tcase_add_test(perms, perms_enclave);
	tcase_add_test(perms, perms_service);
	tcase_add_test(range, range_ok_cases);
	tcase_add_test(range, range_ok_wraps_in_a_huge_space);
	tcase_add_checked_fixture(transfer, fx_setup, fx_teardown);
	tcase_add_test(transfer, owner_lookup);
	tcase_add_test(transfer, apply_writes_derived_masks);
	tcase_add_test(transfer, apply_reports_rmpadjust_failure);
	tcase_add_test(transfer, transfer_bad_range_changes_nothing);
	tcase_add_test(transfer, transfer_is_all_or_nothing);
	tcase_add_test(transfer, transfer_applies_rmp_and_flushes);
	tcase_add_test(transfer, transfer_back_to_os_restores_full_perms);
	tcase_add_test(transfer, transfer_to_vmsa_sets_bit_only_after_write_revoked);
	tcase_add_test(transfer, transfer_rmp_failure_never_leaves_rmp_above_records);
	tcase_add_test(transfer, transfer_failure_restores_every_page_exactly);
	tcase_add_test(transfer, os_may_follows_the_os_own_rights);
	tcase_add_test(transfer, takeable_only_plain_os_data);
	suite_add_tcase(s, perms);
	suite_add_tcase(s, range);
	suite_add_tcase(s, transfer);
	return fx_run_suite(s);
}
