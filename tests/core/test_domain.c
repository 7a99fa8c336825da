/* SPDX-License-Identifier: MIT */
/* Unit tests: domains at VMPL2 (core/domain.c) against the in-memory backend. */
#include <check.h>
#include <stdlib.h>

#include <veil/domain.h>

#include "fixture.h"

#define PG VEIL_PAGE_SIZE
#define ID 5

static struct veil_backend *be0(void)
{
	return fake_be(fx.m, 0);
}

static struct veil_domain dom(void)
{
	struct veil_domain d = { .vmpl = 2, .owner = VEIL_OWNER_ENCLAVE, .id = ID };

	return d;
}

/* Pages 0-3 of the scratch area given to domain ID. */
static void give(void)
{
	ck_assert_int_eq(veil_mem_transfer(&fx.mon->mem, be0(), FX_PAGE(0), 4 * PG, VEIL_OWNER_OS,
					   VEIL_OWNER_ENCLAVE, ID),
			 VEIL_OK);
}

START_TEST(grant_sets_vmpl2_only)
{
	struct veil_domain d = dom();

	give();
	/* taken from the OS: nobody below VMPL0 has access until a grant */
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[2], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[3], 0);
	ck_assert_int_eq(veil_domain_grant(fx.mon, be0(), &d, FX_PAGE(1), RMP_PERM_R | RMP_PERM_XU),
			 VEIL_OK);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[2], RMP_PERM_R | RMP_PERM_XU);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[1], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[3], 0);
	fx_assert_rmp_follows_records();
}
END_TEST

/* The RMP refuses the grant on VMPL3, after VMPL1 and VMPL2 took theirs:
 * the record and every mask are as they were (VMPL2 put back). */
START_TEST(grant_refused_by_rmp_changes_nothing)
{
	struct veil_domain d = dom();
	struct fx_snap s;

	give();
	ck_assert_int_eq(veil_domain_grant(fx.mon, be0(), &d, FX_PAGE(1), RMP_PERM_R | RMP_PERM_XU),
			 VEIL_OK);
	fx_snap_take(&s);
	fake_inject(fx.m, FAKE_OP_RMPADJUST, FX_PAGE(1), 3, RMP_FAIL_INPUT, 0, 1);
	ck_assert_int_eq(veil_domain_grant(fx.mon, be0(), &d, FX_PAGE(1), RMP_PERM_ALL), VEIL_EHW);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(1))->perms[2], RMP_PERM_R | RMP_PERM_XU);
	fx_assert_rmp_follows_records();
}
END_TEST

START_TEST(grant_refuses_pages_not_the_domains)
{
	struct veil_domain d = dom(), other = dom();

	give();
	other.id = ID + 1;
	/* an OS page, a monitor page, another domain's page: nothing granted */
	ck_assert_int_eq(veil_domain_grant(fx.mon, be0(), &d, FX_PAGE(8), RMP_PERM_ALL),
			 VEIL_EPERM);
	ck_assert_int_eq(veil_domain_grant(fx.mon, be0(), &d, FX_MON_BASE, RMP_PERM_ALL),
			 VEIL_EPERM);
	ck_assert_int_eq(veil_domain_grant(fx.mon, be0(), &other, FX_PAGE(0), RMP_PERM_ALL),
			 VEIL_EPERM);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(0))->perms[2], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_MON_BASE)->perms[2], 0);
	fx_assert_rmp_follows_records();
}
END_TEST

START_TEST(vmsa_is_the_monitors_and_goes_back_scrubbed)
{
	struct veil_domain d = dom();
	struct veil_vcpu *vc = &fx.mon->vcpus[0];
	u8 *p;

	give();
	ck_assert_int_eq(veil_domain_add_vmsa(fx.mon, vc, &d, FX_PAGE(2)), VEIL_OK);
	ck_assert_uint_eq(d.vmsa[0], FX_PAGE(2));
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(2))->vmsa, 1);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(2))->perms[2], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(2))->perms[3], 0);
	/* one per vCPU: a second VMSA for vCPU 0 is refused */
	ck_assert_int_eq(veil_domain_add_vmsa(fx.mon, vc, &d, FX_PAGE(3)), VEIL_EINVAL);
	p = veil_map(be0(), FX_PAGE(2), PG);
	p[VMSA_RIP] = 0x42; /* state the monitor wrote */
	ck_assert_int_eq(veil_domain_drop_vmsas(fx.mon, be0(), &d), VEIL_OK);
	ck_assert_uint_eq(d.vmsa[0], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(2))->vmsa, 0);
	ck_assert_uint_eq(veil_mem_owner(&fx.mon->mem, FX_PAGE(2)), VEIL_OWNER_ENCLAVE);
	ck_assert_uint_eq(p[VMSA_RIP], 0);
	fx_assert_rmp_follows_records();
}
END_TEST

START_TEST(vmsa_refuses_2m_aligned_and_foreign_pages)
{
	struct veil_domain d = dom();
	struct veil_vcpu *vc = &fx.mon->vcpus[0];

	give();
	ck_assert_int_ne(veil_domain_add_vmsa(fx.mon, vc, &d, FX_SMALL_2M), VEIL_OK);
	ck_assert_int_ne(veil_domain_add_vmsa(fx.mon, vc, &d, FX_PAGE(8)), VEIL_OK); /* the OS's */
	ck_assert_uint_eq(d.vmsa[0], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_PAGE(8))->vmsa, 0);
	fx_assert_rmp_follows_records();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("domain");
	TCase *t = tcase_create("domain");

	tcase_add_checked_fixture(t, fx_setup, fx_teardown);
	tcase_add_test(t, grant_sets_vmpl2_only);
	tcase_add_test(t, grant_refuses_pages_not_the_domains);
	tcase_add_test(t, grant_refused_by_rmp_changes_nothing);
	tcase_add_test(t, vmsa_is_the_monitors_and_goes_back_scrubbed);
	tcase_add_test(t, vmsa_refuses_2m_aligned_and_foreign_pages);
	suite_add_tcase(s, t);
	return fx_run_suite(s);
}
