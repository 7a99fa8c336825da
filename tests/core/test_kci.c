/* SPDX-License-Identifier: MIT */
/*
 * test_kci.c - kernel code integrity (services/kci) over the fake backend:
 * ADD_TEXT, DROP_TEXT and LOCK are all or nothing. A refusal leaves every
 * page's record, mark and RMP masks exactly as they were, wherever in the
 * list the RMP says no; and the hardware's word on whether a page is
 * validated decides, not the monitor's record.
 */
#include <check.h>
#include <setjmp.h>
#include <string.h>

#include "fixture.h"
#include "../../services/kci/kci.h"
#include "../../services/log/log.h"

#define PG VEIL_PAGE_SIZE
#define NTEXT 4
#define LIST FX_PAGE(14)	 /* the struct veil_kci_text */
#define TEXT(i) FX_PAGE(4 + (i)) /* the pages handed over */
#define KCI(call) SVSM_CALL(VEIL_PROTOCOL_KCI, call)
#define ERR_HW (SVSM_ERR_PROTOCOL_BASE + 0xF)
/* The image: text, then rodata, as two measured PT_LOAD segments. */
#define K_TEXT_LEN 0x80000ULL
#define K_RO (FX_KERNEL_START + K_TEXT_LEN)
#define K_RO_LEN (FX_KERNEL_END - K_RO)

static struct veil_kci *kci(void)
{
	return fx.mon->svc[VEIL_SVC_KCI];
}

static void kci_setup(void)
{
	struct veil_launch *l;

	fx_setup();
	l = &fx.mon->launch;
	l->log_size = 8192;
	l->nr_ksegs = 2;
	l->ksegs[0] =
		(struct veil_kseg){ FX_KERNEL_START, K_TEXT_LEN, VEIL_KSEG_R | VEIL_KSEG_X, 0 };
	l->ksegs[1] = (struct veil_kseg){ K_RO, K_RO_LEN, VEIL_KSEG_R, 0 };
	ck_assert_int_eq(veil_log_service.init(fx.mon, &fx.mon->vcpus[0]), VEIL_OK);
	ck_assert_int_eq(veil_kci_service.init(fx.mon, &fx.mon->vcpus[0]), VEIL_OK);
	fake_log_clear(fx.m);
}

static u64 log_count(void)
{
	struct veil_log_head h;

	ck_assert(veil_log_head_get(fx.mon, &h));
	return h.count;
}

/* The declaration the fixture's image matches, at FX_REQ, with one export
 * (its table in FX_PAGE(13)). */
static u64 lock(void)
{
	struct veil_kci_decl d = { .nr_ranges = 2, .nr_exports = 1, .exports_gpa = FX_PAGE(13) };
	struct veil_kci_export e = { "kprintf", FX_KERNEL_START + 0x40, 0 };

	d.ranges[0] = (struct veil_kci_range){ FX_KERNEL_START, K_TEXT_LEN, VEIL_KCI_TEXT, 0 };
	d.ranges[1] = (struct veil_kci_range){ K_RO, K_RO_LEN, VEIL_KCI_RODATA, 0 };
	memcpy(fake_ptr(fx.m, FX_REQ), &d, sizeof(d));
	memcpy(fake_ptr(fx.m, FX_PAGE(13)), &e, sizeof(e));
	return fx_call(0, KCI(VEIL_KCI_LOCK), FX_REQ, 0, 0, NULL);
}

/* STATUS: RCX = locked, R8 = exports. */
static void assert_status(u64 locked, u64 exports)
{
	struct veil_call o;

	ck_assert_uint_eq(fx_call(0, KCI(VEIL_KCI_STATUS), 0, 0, 0, &o), SVSM_SUCCESS);
	ck_assert_uint_eq(o.rcx, locked);
	ck_assert_uint_eq(o.r8, exports);
}

/* ADD_TEXT (add) or DROP_TEXT of pages TEXT(first) .. TEXT(first + n - 1). */
static u64 text_call(bool add, u32 first, u32 n)
{
	struct veil_kci_text *t = fake_ptr(fx.m, LIST);
	u32 i;

	memset(t, 0, sizeof(*t));
	strcpy(t->name, "victim");
	t->nr_pages = n;
	for (i = 0; i < n; i++)
		t->pages[i] = TEXT(first + i);
	return fx_call(0, KCI(add ? VEIL_KCI_ADD_TEXT : VEIL_KCI_DROP_TEXT), LIST, 0, 0, NULL);
}

/* Marks and counters of the service, besides the snapshot of pages and RMP. */
struct kci_state {
	bool added[NTEXT];
	u64 added_pages, log_count;
	u8 os_default;
};

static struct kci_state kci_state(void)
{
	struct kci_state s = { .added_pages = kci()->added_pages,
			       .log_count = log_count(),
			       .os_default = fx.mon->mem.os_default };
	u32 i;

	for (i = 0; i < NTEXT; i++)
		s.added[i] = veil_kci_added(kci(), TEXT(i) / PG);
	return s;
}

static void assert_kci_state(const struct kci_state *want)
{
	struct kci_state got = kci_state();
	u32 i;

	for (i = 0; i < NTEXT; i++)
		ck_assert_msg(got.added[i] == want->added[i], "page %u: mark %d, was %d", i,
			      got.added[i], want->added[i]);
	ck_assert_uint_eq(got.added_pages, want->added_pages);
	ck_assert_uint_eq(got.log_count, want->log_count); /* no record of a refusal */
	ck_assert_uint_eq(got.os_default, want->os_default);
}

/* The call fails with rc and changes nothing: records, RMP, marks, log. */
static void assert_refused_unchanged(bool add, u64 want_rc)
{
	struct kci_state k = kci_state();
	struct fx_snap s;

	fx_snap_take(&s);
	ck_assert_uint_eq(text_call(add, 0, NTEXT), want_rc);
	fx_assert_unchanged(&s);
	assert_kci_state(&k);
	fx_snap_free(&s);
}

START_TEST(add_then_drop)
{
	u32 i;

	ck_assert_uint_eq(lock(), SVSM_SUCCESS);
	ck_assert_uint_eq(text_call(true, 0, NTEXT), SVSM_SUCCESS);
	for (i = 0; i < NTEXT; i++) {
		ck_assert_uint_eq(fx_page(TEXT(i))->os_perms, VEIL_KCI_PERM_TEXT);
		ck_assert_uint_eq(fake_rmp(fx.m, TEXT(i))->perms[3], VEIL_KCI_PERM_TEXT);
		ck_assert(veil_kci_added(kci(), TEXT(i) / PG));
	}
	ck_assert_uint_eq(kci()->added_pages, NTEXT);
	fx_assert_rmp_follows_records();
	ck_assert_uint_eq(text_call(false, 0, NTEXT), SVSM_SUCCESS);
	for (i = 0; i < NTEXT; i++) {
		ck_assert_uint_eq(fake_rmp(fx.m, TEXT(i))->perms[3], VEIL_KCI_PERM_DATA);
		ck_assert(!veil_kci_added(kci(), TEXT(i) / PG));
	}
	ck_assert_uint_eq(kci()->added_pages, 0);
	fx_assert_rmp_follows_records();
}
END_TEST

/* RMPADJUST refuses page i (any i) of an ADD_TEXT list: every page before it
 * is back to exactly its mask, record and mark; the call says so. Before and
 * after the lock (other default masks). */
START_TEST(add_rmp_refuses_page_i)
{
	u32 i;

	if (_i)
		ck_assert_uint_eq(lock(), SVSM_SUCCESS);
	for (i = 0; i < NTEXT; i++) {
		fake_inject(fx.m, FAKE_OP_RMPADJUST, TEXT(i), 3, RMP_FAIL_INPUT, 0, 1);
		assert_refused_unchanged(true, ERR_HW);
		fake_clear_rules(fx.m);
	}
	/* and the same list goes through once the RMP agrees */
	ck_assert_uint_eq(text_call(true, 0, NTEXT), SVSM_SUCCESS);
	fx_assert_rmp_follows_records();
}
END_TEST

/* The same for DROP_TEXT: the added pages stay text, marked, counted. */
START_TEST(drop_rmp_refuses_page_i)
{
	u32 i;

	ck_assert_uint_eq(lock(), SVSM_SUCCESS);
	ck_assert_uint_eq(text_call(true, 0, NTEXT), SVSM_SUCCESS);
	for (i = 0; i < NTEXT; i++) {
		fake_inject(fx.m, FAKE_OP_RMPADJUST, TEXT(i), 3, RMP_FAIL_INPUT, 0, 1);
		assert_refused_unchanged(false, ERR_HW);
		fake_clear_rules(fx.m);
	}
	for (i = 0; i < NTEXT; i++)
		ck_assert_uint_eq(fake_rmp(fx.m, TEXT(i))->perms[3], VEIL_KCI_PERM_TEXT);
	ck_assert_uint_eq(text_call(false, 0, NTEXT), SVSM_SUCCESS);
	fx_assert_rmp_follows_records();
}
END_TEST

/* Page 2 made shared and private again behind the monitor (the hypervisor's
 * RMPUPDATE clears Validated; the record still says validated): the
 * hardware's answer decides, the call is refused and nothing changes, page
 * 2 included (found not validated, left not validated). */
START_TEST(add_page_unvalidated_behind_monitor)
{
	ck_assert_uint_eq(lock(), SVSM_SUCCESS);
	fake_set_validated(fx.m, TEXT(2), false);
	assert_refused_unchanged(true, VEIL_KCI_ERR_PAGE);
	ck_assert_uint_eq(fake_rmp(fx.m, TEXT(2))->validated, 0);
	ck_assert_uint_eq(fake_rmp(fx.m, TEXT(0))->perms[3], VEIL_KCI_PERM_DATA);
}
END_TEST

/* The RMP takes page 2 in the first pass and refuses it in the second: its
 * state changed behind the monitor during the call. Tampering: the CVM
 * stops, and no page was left executable meanwhile. */
START_TEST(add_rmp_refuses_grant_is_tamper)
{
	jmp_buf jb;
	u32 i;

	ck_assert_uint_eq(lock(), SVSM_SUCCESS);
	fake_inject(fx.m, FAKE_OP_RMPADJUST, TEXT(2), 3, RMP_FAIL_INPUT, 1, 1);
	fx.m->on_terminate = &jb;
	if (!setjmp(jb))
		ck_abort_msg("ADD_TEXT returned %#llx instead of stopping the CVM",
			     (unsigned long long)text_call(true, 0, NTEXT));
	fx.m->on_terminate = NULL;
	ck_assert_uint_eq(fx.m->term_req, GHCB_MSR_TERM(VEIL_TERM_SET, VEIL_TERM_VIOLATION));
	ck_assert_msg(strstr(fx.m->console, "tampering: vcpu 0 gpa"), "console: %s", fx.m->console);
	for (i = 0; i < NTEXT; i++)
		ck_assert_uint_eq(fake_rmp(fx.m, TEXT(i))->perms[3] & RMP_PERM_XS, 0);
}
END_TEST

/* LOCK: RMPADJUST refuses one page of the walk (after many were done): not
 * locked, the default mask, every record and RMP mask as before. */
START_TEST(lock_rmp_refuses_page)
{
	static const u64 at[] = { FX_KERNEL_START + 3 * PG, K_RO + PG, FX_PAGE(9) };
	struct kci_state k = kci_state();
	struct fx_snap s;
	u32 i;

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		fx_snap_take(&s);
		fake_inject(fx.m, FAKE_OP_RMPADJUST, at[i], 3, RMP_FAIL_INPUT, 0, 1);
		ck_assert_uint_eq(lock(), ERR_HW);
		fake_clear_rules(fx.m);
		fx_assert_unchanged(&s);
		assert_kci_state(&k);
		assert_status(0, 0);
		ck_assert_ptr_null(veil_kci_lookup(fx.mon, "kprintf", 7));
		fx_snap_free(&s);
	}
	ck_assert_uint_eq(lock(), SVSM_SUCCESS);
	assert_status(1, 1);
	ck_assert_ptr_nonnull(veil_kci_lookup(fx.mon, "kprintf", 7));
	fx_assert_rmp_follows_records();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kci");
	TCase *tc = tcase_create("kci");

	tcase_add_checked_fixture(tc, kci_setup, fx_teardown);
	tcase_add_test(tc, add_then_drop);
	tcase_add_loop_test(tc, add_rmp_refuses_page_i, 0, 2);
	tcase_add_test(tc, drop_rmp_refuses_page_i);
	tcase_add_test(tc, add_page_unvalidated_behind_monitor);
	tcase_add_test(tc, add_rmp_refuses_grant_is_tamper);
	tcase_add_test(tc, lock_rmp_refuses_page);
	suite_add_tcase(s, tc);
	return fx_run_suite(s);
}
