/* SPDX-License-Identifier: MIT */
/* Unit tests: SVSM protocol dispatch and the core protocol (core/svsm.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <veil/lib.h>

#include "fixture.h"

#define PG VEIL_PAGE_SIZE
#define CORE(call) SVSM_CALL(SVSM_CORE_PROTOCOL, call)
#define GFN(gpa) ((gpa) >> 12)
#define VAL4K(gpa) SVSM_PVAL_ENTRY(GFN(gpa), SVSM_PVAL_SIZE_4K, 1, 0)
#define RESCIND4K(gpa) SVSM_PVAL_ENTRY(GFN(gpa), SVSM_PVAL_SIZE_4K, 0, 0)

/* ==== dispatch ================================================================= */

START_TEST(unknown_protocol)
{
	static const u64 protos[] = { 0x1234, 0x56450000, 0xFFFFFFFE, 0xFFFFFFFF };
	unsigned i;

	for (i = 0; i < VEIL_ARRAY_SIZE(protos); i++)
		ck_assert_uint_eq(fx_call(0, SVSM_CALL(protos[i], 0), 0, 0, 0, NULL),
				  SVSM_ERR_UNSUPPORTED_PROTOCOL);
}
END_TEST

START_TEST(unsupported_core_calls)
{
	static const u32 calls[] = { SVSM_CORE_DEPOSIT_MEM,
				     SVSM_CORE_WITHDRAW_MEM,
				     SVSM_CORE_CONFIGURE_VTOM,
				     8,
				     0x100,
				     0xFFFFFFFF };
	unsigned i;

	for (i = 0; i < VEIL_ARRAY_SIZE(calls); i++)
		ck_assert_msg(fx_call(0, CORE(calls[i]), FX_PAGE(1), 0, 0, NULL) ==
				      SVSM_ERR_UNSUPPORTED_CALL,
			      "core call %u", calls[i]);
}
END_TEST

START_TEST(query_protocol)
{
	struct veil_call c;

	ck_assert_uint_eq(fx_call(0, CORE(SVSM_CORE_QUERY_PROTOCOL), SVSM_CALL(0, 1), 0, 0, &c),
			  SVSM_SUCCESS);
	ck_assert_uint_eq(c.rcx, (1ULL << 32) | 1);
	/* core version 2 and 0: not supported, still SUCCESS with RCX = 0 */
	ck_assert_uint_eq(fx_call(0, CORE(SVSM_CORE_QUERY_PROTOCOL), SVSM_CALL(0, 2), 0, 0, &c),
			  SVSM_SUCCESS);
	ck_assert_uint_eq(c.rcx, 0);
	ck_assert_uint_eq(fx_call(0, CORE(SVSM_CORE_QUERY_PROTOCOL), SVSM_CALL(0, 0), 0, 0, &c),
			  SVSM_SUCCESS);
	ck_assert_uint_eq(c.rcx, 0);
	/* an unknown protocol */
	ck_assert_uint_eq(fx_call(0, CORE(SVSM_CORE_QUERY_PROTOCOL), SVSM_CALL(0x1234, 1), 0, 0,
				  &c),
			  SVSM_SUCCESS);
	ck_assert_uint_eq(c.rcx, 0);
	/* the test protocol, version 1 */
	ck_assert_uint_eq(fx_call(0, CORE(SVSM_CORE_QUERY_PROTOCOL),
				  SVSM_CALL(VEIL_PROTOCOL_TEST, 1), 0, 0, &c),
			  SVSM_SUCCESS);
	ck_assert_uint_eq(c.rcx, (1ULL << 32) | 1);
}
END_TEST

START_TEST(test_protocol_echo)
{
	struct veil_call c;

	ck_assert_uint_eq(fx_call(0, SVSM_CALL(VEIL_PROTOCOL_TEST, 0), 41, 7, 8, &c), SVSM_SUCCESS);
	ck_assert_uint_eq(c.rcx, 42);
	ck_assert_uint_eq(c.rdx, 7);
	ck_assert_uint_eq(c.r8, 8);
	ck_assert_uint_eq(fx_call(0, SVSM_CALL(VEIL_PROTOCOL_TEST, 1), 41, 0, 0, &c),
			  SVSM_ERR_UNSUPPORTED_CALL);
}
END_TEST

/* ==== REMAP_CA ================================================================== */

static void remap_fails(u64 gpa, u64 want)
{
	struct fx_snap s;

	fx_snap_take(&s);
	ck_assert_msg(fx_call(1, CORE(SVSM_CORE_REMAP_CA), gpa, 0, 0, NULL) == want,
		      "REMAP_CA %#llx", (unsigned long long)gpa);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}

START_TEST(remap_ca_misaligned)
{
	remap_fails(FX_PAGE(1) + 8, SVSM_ERR_INVALID_PARAMETER);
	remap_fails(FX_PAGE(1) + 0x800, SVSM_ERR_INVALID_PARAMETER);
	remap_fails(~0ULL, SVSM_ERR_INVALID_PARAMETER);
}
END_TEST

START_TEST(remap_ca_bad_address)
{
	remap_fails(FX_MON_BASE + 2 * PG, SVSM_ERR_INVALID_ADDRESS); /* monitor */
	remap_fails(FX_BOOT_VMSA, SVSM_ERR_INVALID_ADDRESS);	     /* a VMSA */
	remap_fails(FX_MEM_SIZE, SVSM_ERR_INVALID_ADDRESS);	     /* out of range */
	remap_fails(0xFFFFFFFFFFFFF000ULL, SVSM_ERR_INVALID_ADDRESS);
	remap_fails(FX_UNVAL, SVSM_ERR_INVALID_ADDRESS); /* OS, not validated */
}
END_TEST

START_TEST(remap_ca_success)
{
	ck_assert_uint_eq(fx_call(1, CORE(SVSM_CORE_REMAP_CA), FX_PAGE(3), 0, 0, NULL),
			  SVSM_SUCCESS);
	ck_assert_uint_eq(fx.mon->vcpus[1].caa, FX_PAGE(3));
	ck_assert_uint_eq(fx.mon->vcpus[0].caa, FX_CAA(0));
	ck_assert_uint_eq(fx.mon->vcpus[2].caa, FX_CAA(2));
}
END_TEST

/* ==== PVALIDATE ================================================================== */

START_TEST(pvalidate_validate_4k)
{
	const struct fake_rmp *e = fake_rmp(fx.m, FX_UNVAL);

	ck_assert_uint_eq(e->validated, 0);
	ck_assert_uint_eq(fx_pval1(VAL4K(FX_UNVAL)), SVSM_SUCCESS);
	ck_assert_uint_eq(e->validated, 1);
	ck_assert_uint_eq(e->perms[3], FX_RWX);
	ck_assert_uint_eq(e->perms[1] | e->perms[2], 0);
	ck_assert_uint_eq(e->vmsa, 0);
	ck_assert_uint_eq(fx_page(FX_UNVAL)->validated, 1);
	ck_assert_int_eq(fx_page(FX_UNVAL)->owner, VEIL_OWNER_OS);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 1);
	/* the page is now usable by the OS: and by REMAP_CA */
	ck_assert_uint_eq(fx_call(1, CORE(SVSM_CORE_REMAP_CA), FX_UNVAL, 0, 0, NULL), SVSM_SUCCESS);
	fx_assert_rmp_follows_records();
}
END_TEST

START_TEST(pvalidate_rescind_revokes_first)
{
	const u64 gpa = FX_PAGE(3);
	long r, f, p;

	ck_assert_uint_eq(fx_pval1(RESCIND4K(gpa)), SVSM_SUCCESS);
	r = fake_log_find(fx.m, 0, FAKE_OP_RMPADJUST, gpa, 3, 0);
	p = fake_log_find(fx.m, 0, FAKE_OP_PVALIDATE, gpa, 0, 0);
	ck_assert_int_ge(r, 0);
	ck_assert_int_ge(p, 0);
	ck_assert_msg(r < p, "VMPL3 access revoked (log %ld) after PVALIDATE (log %ld)", r, p);
	ck_assert_uint_eq(fx.m->log[p].before.perms[3], 0);
	ck_assert_uint_eq(fx.m->log[p].rc, 0);
	/* and flushed from the TLBs before the rescind */
	f = fake_log_find(fx.m, (usize)r, FAKE_OP_TLB_FLUSH, FAKE_ANY, 0, -1);
	ck_assert_msg(f > r && f < p, "no TLB flush between the revocation and PVALIDATE");
	ck_assert_uint_eq(fake_rmp(fx.m, gpa)->validated, 0);
	ck_assert_uint_eq(fake_rmp(fx.m, gpa)->perms[3], 0);
	ck_assert_uint_eq(fx_page(gpa)->validated, 0);
	ck_assert_int_eq(fx_page(gpa)->owner, VEIL_OWNER_OS);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 1);
	fx_assert_rmp_follows_records();
	/* a rescinded page is no longer a valid CAA */
	ck_assert_uint_eq(fx_call(1, CORE(SVSM_CORE_REMAP_CA), gpa, 0, 0, NULL),
			  SVSM_ERR_INVALID_ADDRESS);
}
END_TEST

START_TEST(pvalidate_unchanged)
{
	const u64 gpa = FX_PAGE(3);

	/* already validated: CF=1 -> 0x8000_1010, and `next` stays on the entry */
	ck_assert_uint_eq(fx_pval1(VAL4K(gpa)), SVSM_ERR_PVALIDATE_FAIL_UNCHANGED);
	ck_assert_uint_eq(SVSM_ERR_PVALIDATE_FAIL_UNCHANGED, 0x80001010ULL);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 0);
	/* ... unless ignore_cf */
	ck_assert_uint_eq(fx_pval1(SVSM_PVAL_ENTRY(GFN(gpa), 0, 1, 1)), SVSM_SUCCESS);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 1);
	ck_assert_uint_eq(fake_rmp(fx.m, gpa)->validated, 1);
	ck_assert_uint_eq(fake_rmp(fx.m, gpa)->perms[3], FX_RWX);
	/* rescinding a page that is not validated: also unchanged */
	ck_assert_uint_eq(fx_pval1(RESCIND4K(FX_UNVAL)), SVSM_ERR_PVALIDATE_FAIL_UNCHANGED);
	ck_assert_uint_eq(fx_pval1(SVSM_PVAL_ENTRY(GFN(FX_UNVAL), 0, 0, 1)), SVSM_SUCCESS);
	fx_assert_rmp_follows_records();
}
END_TEST

/* The entry is refused with `want`, and nothing at all changed. */
static void pval_refused(u64 entry, u64 want)
{
	struct fx_snap s;
	u64 rc;

	fx_snap_take(&s);
	fake_log_clear(fx.m);
	rc = fx_pval1(entry);
	ck_assert_msg(rc == want, "entry %#llx: %#llx, want %#llx", (unsigned long long)entry,
		      (unsigned long long)rc, (unsigned long long)want);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 0);
	fx_assert_unchanged(&s);
	ck_assert_uint_eq(fake_log_count(fx.m, FAKE_OP_RMPADJUST), 0);
	fx_snap_free(&s);
}

START_TEST(pvalidate_bad_entry_format)
{
	unsigned bit;

	for (bit = 4; bit < 12; bit++) { /* reserved [11:4] */
		pval_refused(VAL4K(FX_UNVAL) | (1ULL << bit), SVSM_ERR_INVALID_PARAMETER);
		pval_refused(RESCIND4K(FX_PAGE(3)) | (1ULL << bit), SVSM_ERR_INVALID_PARAMETER);
	}
	pval_refused(SVSM_PVAL_ENTRY(GFN(FX_UNVAL), 2, 1, 0), SVSM_ERR_INVALID_PARAMETER);
	pval_refused(SVSM_PVAL_ENTRY(GFN(FX_UNVAL), 3, 1, 0), SVSM_ERR_INVALID_PARAMETER);
	pval_refused(SVSM_PVAL_ENTRY(GFN(FX_PAGE(3)), 3, 0, 0), SVSM_ERR_INVALID_PARAMETER);
	/* 2M entry whose GFN is not 2 MiB aligned */
	pval_refused(SVSM_PVAL_ENTRY(GFN(FX_HUGE_2M + PG), SVSM_PVAL_SIZE_2M, 1, 0),
		     SVSM_ERR_INVALID_PARAMETER);
	pval_refused(SVSM_PVAL_ENTRY(GFN(FX_SCRATCH + PG), SVSM_PVAL_SIZE_2M, 0, 0),
		     SVSM_ERR_INVALID_PARAMETER);
}
END_TEST

START_TEST(pvalidate_bad_address)
{
	static const u64 gpas[] = { FX_MON_BASE + 2 * PG, FX_BOOT_VMSA, FX_MEM_SIZE,
				    FX_MEM_SIZE + 0x200000, 1ULL << 40 };
	const u64 gfn_max = (1ULL << 52) - 1;
	unsigned i, act;

	for (i = 0; i < VEIL_ARRAY_SIZE(gpas); i++)
		for (act = 0; act < 2; act++)
			pval_refused(SVSM_PVAL_ENTRY(GFN(gpas[i]), 0, act, 0),
				     SVSM_ERR_INVALID_ADDRESS);
	/* the largest GFN (its GPA is 2^64 - 4 KiB) and the 2M variants */
	for (act = 0; act < 2; act++) {
		pval_refused(SVSM_PVAL_ENTRY(gfn_max, 0, act, 0), SVSM_ERR_INVALID_ADDRESS);
		pval_refused(SVSM_PVAL_ENTRY(gfn_max & ~511ULL, 1, act, 0),
			     SVSM_ERR_INVALID_ADDRESS);
		pval_refused(SVSM_PVAL_ENTRY(GFN(FX_MON_BASE), 1, act, 0),
			     SVSM_ERR_INVALID_ADDRESS);
		/* the last 2 MiB of memory is the monitor's; the next is past the end */
		pval_refused(SVSM_PVAL_ENTRY(GFN(FX_MEM_SIZE - 0x200000), 1, act, 0),
			     SVSM_ERR_INVALID_ADDRESS);
		pval_refused(SVSM_PVAL_ENTRY(GFN(FX_MEM_SIZE), 1, act, 0),
			     SVSM_ERR_INVALID_ADDRESS);
	}
}
END_TEST

/* Module pages are mapped for the OS but are not the OS's to validate or rescind. */
START_TEST(pvalidate_module_page)
{
	ck_assert_int_eq(veil_mem_transfer(&fx.mon->mem, fake_be(fx.m, 0), FX_PAGE(6), PG,
					   VEIL_OWNER_OS, VEIL_OWNER_MODULE, 1),
			 VEIL_OK);
	pval_refused(RESCIND4K(FX_PAGE(6)), SVSM_ERR_INVALID_ADDRESS);
	pval_refused(SVSM_PVAL_ENTRY(GFN(FX_PAGE(6)), 0, 1, 1), SVSM_ERR_INVALID_ADDRESS);
	/* nor a CAA, a VMSA or the place of a request */
	remap_fails(FX_PAGE(6), SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(fx_call(0, CORE(SVSM_CORE_CREATE_VCPU), FX_PAGE(6), FX_PAGE(2), 1, NULL),
			  SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(fx_call(0, CORE(SVSM_CORE_PVALIDATE), FX_PAGE(6), 0, 0, NULL),
			  SVSM_ERR_INVALID_ADDRESS);
	ck_assert_int_eq(fx_page(FX_PAGE(6))->owner, VEIL_OWNER_MODULE);
}
END_TEST

START_TEST(pvalidate_2m_with_one_foreign_page)
{
	/* one page of the 2 MiB range belongs to a service: the whole entry is refused */
	ck_assert_int_eq(veil_mem_transfer(&fx.mon->mem, fake_be(fx.m, 0), FX_SMALL_2M + 17 * PG,
					   PG, VEIL_OWNER_OS, VEIL_OWNER_SERVICE, 1),
			 VEIL_OK);
	pval_refused(SVSM_PVAL_ENTRY(GFN(FX_SMALL_2M), 1, 1, 0), SVSM_ERR_INVALID_ADDRESS);
}
END_TEST

START_TEST(pvalidate_2m_on_4k_rmp)
{
	struct fx_snap s;

	fx_snap_take(&s);
	ck_assert_uint_eq(fx_pval1(SVSM_PVAL_ENTRY(GFN(FX_SMALL_2M), 1, 1, 0)),
			  SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH);
	ck_assert_uint_eq(SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH, 0x80001006ULL);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 0);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

START_TEST(pvalidate_2m_success)
{
	u64 i;

	ck_assert_uint_eq(fx_pval1(SVSM_PVAL_ENTRY(GFN(FX_HUGE_2M), 1, 1, 0)), SVSM_SUCCESS);
	for (i = 0; i < 512; i++) {
		const struct fake_rmp *e = fake_rmp(fx.m, FX_HUGE_2M + i * PG);

		ck_assert_uint_eq(e->validated, 1);
		ck_assert_uint_eq(e->perms[3], FX_RWX);
		ck_assert_uint_eq(fx_page(FX_HUGE_2M + i * PG)->validated, 1);
	}
	ck_assert_uint_eq(fake_rmp(fx.m, FX_HUGE_2M + 512 * PG)->validated, 0);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 1);
	fx_assert_rmp_follows_records();
	ck_assert_uint_eq(fx.m->faults, 0);
}
END_TEST

static u64 pval_at(u64 req)
{
	return fx_call(0, CORE(SVSM_CORE_PVALIDATE), req, 0, 0, NULL);
}

START_TEST(pvalidate_bad_request)
{
	u64 e = VAL4K(FX_UNVAL);
	struct fx_snap s;

	fx_pval_req(FX_REQ, 0, &e, 1);
	fx_snap_take(&s);
	/* not 8-byte aligned */
	ck_assert_uint_eq(pval_at(FX_REQ + 4), SVSM_ERR_INVALID_PARAMETER);
	ck_assert_uint_eq(pval_at(FX_REQ + 1), SVSM_ERR_INVALID_PARAMETER);
	/* not in a validated OS page */
	ck_assert_uint_eq(pval_at(FX_MON_BASE + 2 * PG), SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(pval_at(FX_BOOT_VMSA + 0x100), SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(pval_at(FX_UNVAL + 0x10), SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(pval_at(FX_MEM_SIZE), SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(pval_at(0xFFFFFFFFFFFFFFF8ULL), SVSM_ERR_INVALID_ADDRESS);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

START_TEST(pvalidate_entries_past_page_end)
{
	u64 entries[SVSM_PVAL_MAX_ENTRIES + 1];
	struct svsm_pvalidate_hdr h = { 0, 0, 0 };
	u8 *p = fake_ptr(fx.m, FX_REQ);
	struct fx_snap s;
	unsigned i;

	for (i = 0; i < VEIL_ARRAY_SIZE(entries); i++)
		entries[i] = VAL4K(FX_UNVAL + i * PG);
	fx_snap_take(&s);
	/* at offset 0 a page holds 511 entries */
	fx_pval_req(FX_REQ, 0, entries, 512);
	ck_assert_uint_eq(pval_at(FX_REQ), SVSM_ERR_INVALID_PARAMETER);
	h.num_entries = 0xFFFF;
	memcpy(p, &h, sizeof(h));
	ck_assert_uint_eq(pval_at(FX_REQ), SVSM_ERR_INVALID_PARAMETER);
	/* at offset 0xF00, (0x100 - 8) / 8 = 31 */
	fx_pval_req(FX_REQ + 0xF00, 0, entries, 32);
	ck_assert_uint_eq(pval_at(FX_REQ + 0xF00), SVSM_ERR_INVALID_PARAMETER);
	/* the header in the last 8 bytes, no room for an entry */
	fx_pval_req(FX_REQ + 0xFF8, 0, entries, 1);
	ck_assert_uint_eq(pval_at(FX_REQ + 0xFF8), SVSM_ERR_INVALID_PARAMETER);
	fx_assert_unchanged(&s);
	/* exactly full at 0xF00 is accepted (here: nothing left to do) */
	fx_pval_req(FX_REQ + 0xF00, 31, entries, 31);
	ck_assert_uint_eq(pval_at(FX_REQ + 0xF00), SVSM_SUCCESS);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

START_TEST(pvalidate_next_beyond_num_entries)
{
	u64 e[2] = { VAL4K(FX_UNVAL), VAL4K(FX_UNVAL + PG) };
	struct fx_snap s;

	fx_snap_take(&s);
	fx_pval_req(FX_REQ, 3, e, 2);
	ck_assert_uint_eq(pval_at(FX_REQ), SVSM_ERR_INVALID_PARAMETER);
	fx_pval_req(FX_REQ, 0xFFFF, e, 2);
	ck_assert_uint_eq(pval_at(FX_REQ), SVSM_ERR_INVALID_PARAMETER);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

START_TEST(pvalidate_partial_progress_and_restart)
{
	u64 e[3] = { VAL4K(FX_UNVAL), VAL4K(FX_UNVAL + PG), VAL4K(FX_MON_BASE + 2 * PG) };
	long first;

	fx_pval_req(FX_REQ, 0, e, 3);
	ck_assert_uint_eq(pval_at(FX_REQ), SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 2);
	ck_assert_uint_eq(fx_page(FX_UNVAL)->validated, 1);
	ck_assert_uint_eq(fx_page(FX_UNVAL + PG)->validated, 1);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_UNVAL + PG)->perms[3], FX_RWX);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_MON_BASE + 2 * PG)->perms[3], 0);

	/* the OS fixes the entry and calls again: processing restarts at `next` */
	e[2] = VAL4K(FX_UNVAL + 2 * PG);
	memcpy((u8 *)fake_ptr(fx.m, FX_REQ) + 8 + 16, &e[2], 8);
	fake_log_clear(fx.m);
	ck_assert_uint_eq(pval_at(FX_REQ), SVSM_SUCCESS);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 3);
	ck_assert_uint_eq(fx_page(FX_UNVAL + 2 * PG)->validated, 1);
	first = fake_log_find(fx.m, 0, FAKE_OP_PVALIDATE, FAKE_ANY, 0, -1);
	ck_assert_int_ge(first, 0);
	ck_assert_uint_eq(fx.m->log[first].gpa, FX_UNVAL + 2 * PG);
	ck_assert_uint_eq(fake_log_count(fx.m, FAKE_OP_PVALIDATE), 1);
	fx_assert_rmp_follows_records();
}
END_TEST

START_TEST(pvalidate_starts_at_next)
{
	/* entry 0 would be refused, but `next` = 1 skips it */
	u64 e[2] = { VAL4K(FX_MON_BASE + 2 * PG), VAL4K(FX_UNVAL) };

	fx_pval_req(FX_REQ + 0x40, 1, e, 2);
	ck_assert_uint_eq(pval_at(FX_REQ + 0x40), SVSM_SUCCESS);
	ck_assert_uint_eq(fx_pval_next(FX_REQ + 0x40), 2);
	ck_assert_uint_eq(fx_page(FX_UNVAL)->validated, 1);
}
END_TEST

START_TEST(pvalidate_rmpadjust_failure)
{
	/* the RMP cannot follow: the call fails and the OS gets no access */
	fake_inject(fx.m, FAKE_OP_RMPADJUST, FX_UNVAL, 3, RMP_FAIL_INPUT, 0, -1);
	ck_assert_uint_eq(fx_pval1(VAL4K(FX_UNVAL)), SVSM_ERR_PVALIDATE_FAIL_INPUT);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_UNVAL)->perms[3], 0);
	ck_assert_uint_eq(fx_pval_next(FX_REQ), 0);
	/* and no trace: not validated, as before the call */
	ck_assert_uint_eq(fake_rmp(fx.m, FX_UNVAL)->validated, 0);
	ck_assert_uint_eq(fx_page(FX_UNVAL)->validated, 0);
	fx_assert_rmp_follows_records();
}
END_TEST

/* The same on page 5 of a 2 MiB validation: pages 0-4 had their access
 * already; every page of the 2 MiB is back to not validated, no access. */
START_TEST(pvalidate_2m_rmpadjust_failure_leaves_no_trace)
{
	u64 i;

	fake_inject(fx.m, FAKE_OP_RMPADJUST, FX_HUGE_2M + 5 * PG, 3, RMP_FAIL_INPUT, 0, -1);
	ck_assert_uint_eq(fx_pval1(SVSM_PVAL_ENTRY(GFN(FX_HUGE_2M), SVSM_PVAL_SIZE_2M, 1, 0)),
			  SVSM_ERR_PVALIDATE_FAIL_INPUT);
	for (i = 0; i < 512; i++) {
		ck_assert_uint_eq(fake_rmp(fx.m, FX_HUGE_2M + i * PG)->validated, 0);
		ck_assert_uint_eq(fake_rmp(fx.m, FX_HUGE_2M + i * PG)->perms[3], 0);
		ck_assert_uint_eq(fx_page(FX_HUGE_2M + i * PG)->validated, 0);
	}
	fx_assert_rmp_follows_records();
}
END_TEST

/*
 * A rescind that PVALIDATE refuses (here a 2M rescind over 4 KiB RMP entries:
 * the boot area and the kernel in [0, 2M) are validated) must leave the RMP
 * as the records say: the pages are still validated and the OS's.
 */
START_TEST(pvalidate_failed_rescind_keeps_rmp_consistent)
{
	ck_assert_uint_eq(fx_pval1(SVSM_PVAL_ENTRY(0, SVSM_PVAL_SIZE_2M, 0, 0)),
			  SVSM_ERR_PVALIDATE_FAIL_SIZEMISMATCH);
	ck_assert_uint_eq(fx_page(FX_KERNEL_START)->validated, 1);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_KERNEL_START)->validated, 1);
	fx_assert_rmp_follows_records();
}
END_TEST

/*
 * Rescinding the page that holds the request itself: on hardware any later
 * monitor access to that page (reading the next entry, writing `next`) is a
 * #VC 0x404 inside the monitor. The fake traps it (SIGSEGV).
 */
START_TEST(pvalidate_rescind_own_request_page)
{
	u64 e[2] = { RESCIND4K(FX_REQ), VAL4K(FX_UNVAL) };

	fx_pval_req(FX_REQ, 0, e, 2);
	(void)pval_at(FX_REQ); /* must not touch the page after the rescind */
	fx_assert_rmp_follows_records();
}
END_TEST

/* ==== CREATE_VCPU ================================================================= */

#define NEW_VMSA FX_PAGE(1)
#define NEW_CAA FX_PAGE(2)

static u64 create(u32 caller, u64 vmsa, u64 caa, u64 apic)
{
	return fx_call(caller, CORE(SVSM_CORE_CREATE_VCPU), vmsa, caa, apic, NULL);
}

static void good_vmsa(u64 gpa)
{
	fx_write_vmsa(gpa, VEIL_OS_VMPL, FX_EFER_OS, FX_SEV_FEATURES);
}

/* The VMSA page made shared and private again behind the monitor (record:
 * validated; RMP: not): refused before anything changes, the page left as
 * found (not validated). */
START_TEST(create_vcpu_vmsa_unvalidated_behind_monitor)
{
	struct fx_snap s;

	good_vmsa(NEW_VMSA);
	fake_set_validated(fx.m, NEW_VMSA, false);
	fx_snap_take(&s);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_ERR_INVALID_ADDRESS);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
	ck_assert_uint_eq(fx.mon->vcpus[1].os_vmsa, 0);
}
END_TEST

/* A VMSA found unacceptable whose page the RMP refuses to hand back (its
 * state changed behind the monitor during the call): tampering, not a
 * refusal that keeps the OS's page as a VMSA. */
START_TEST(create_vcpu_give_back_refused_is_tamper)
{
	jmp_buf jb;

	fx_write_vmsa(NEW_VMSA, 2, FX_EFER_OS, FX_SEV_FEATURES); /* not VMPL3: refused */
	/* the four RMPADJUSTs of the take go through, every later one fails */
	fake_inject(fx.m, FAKE_OP_RMPADJUST, NEW_VMSA, 0, RMP_FAIL_INPUT, 4, -1);
	fx.m->on_terminate = &jb;
	if (!setjmp(jb))
		ck_abort_msg("CREATE_VCPU returned %#llx instead of stopping the CVM",
			     (unsigned long long)create(0, NEW_VMSA, NEW_CAA, 1));
	fx.m->on_terminate = NULL;
	ck_assert_uint_eq(fx.m->term_req, GHCB_MSR_TERM(VEIL_TERM_SET, VEIL_TERM_VIOLATION));
	ck_assert_msg(strstr(fx.m->console, "tampering: vcpu 0 gpa"), "console: %s", fx.m->console);
}
END_TEST

START_TEST(create_vcpu_success)
{
	const struct fake_rmp *e = fake_rmp(fx.m, NEW_VMSA);
	struct veil_vcpu *t = &fx.mon->vcpus[1];

	good_vmsa(NEW_VMSA);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_SUCCESS);
	ck_assert_int_eq(fx_page(NEW_VMSA)->owner, VEIL_OWNER_OS_VMSA);
	/* VMPL3 may read back its own vCPU state (Linux reads SEV_FEATURES
	 * from it for its AP creation), nothing more */
	ck_assert_uint_eq(e->perms[3], RMP_PERM_R);
	ck_assert_uint_eq(e->perms[1] | e->perms[2], 0);
	ck_assert_uint_eq(e->vmsa, 1);
	ck_assert_uint_eq(t->os_vmsa, NEW_VMSA);
	ck_assert_uint_eq(t->caa, NEW_CAA);
	ck_assert_int_eq(t->state, VEIL_VCPU_CREATED);
	/* the CAA stays the OS's */
	ck_assert_int_eq(fx_page(NEW_CAA)->owner, VEIL_OWNER_OS);
	ck_assert_uint_eq(fake_rmp(fx.m, NEW_CAA)->perms[3], FX_RWX);
	ck_assert_uint_gt(fx.m->tlb_flushes, 0);
	fx_assert_rmp_follows_records();
}
END_TEST

/*
 * The OS must not keep write (or execute) access to a page that became a
 * VMSA: it keeps only R. The monitor's and the domains' VMSAs stay closed.
 */
START_TEST(create_vcpu_os_loses_write_access)
{
	good_vmsa(NEW_VMSA);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 2), SVSM_SUCCESS);
	ck_assert_uint_eq(fake_rmp(fx.m, NEW_VMSA)->perms[3], RMP_PERM_R);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_BOOT_VMSA)->perms[3], 0);
	ck_assert_uint_eq(
		fake_rmp(fx.m, FX_BOOT_VMSA)->perms[2] | fake_rmp(fx.m, FX_BOOT_VMSA)->perms[1], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, NEW_VMSA)->perms[2], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, NEW_VMSA)->perms[1], 0);
	/* and not even for a moment while the VMSA bit is already set */
	ck_assert_msg(fx.m->vmsa_writable == 0,
		      "the VMSA bit was set while VMPL3 could still write the page (%llu times)",
		      (unsigned long long)fx.m->vmsa_writable);
	ck_assert_msg(fx.m->vmsa_stale_tlb == 0,
		      "the VMSA bit was set before the TLB flush that ends the OS's write access");
}
END_TEST

static void create_refused(u32 caller, u64 vmsa, u64 caa, u64 apic, u64 want)
{
	struct fx_snap s;
	u64 rc;

	fx_snap_take(&s);
	rc = create(caller, vmsa, caa, apic);
	ck_assert_msg(rc == want, "CREATE_VCPU(%#llx, %#llx, %llu): %#llx, want %#llx",
		      (unsigned long long)vmsa, (unsigned long long)caa, (unsigned long long)apic,
		      (unsigned long long)rc, (unsigned long long)want);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}

START_TEST(create_vcpu_bad_addresses)
{
	good_vmsa(NEW_VMSA);
	good_vmsa(FX_SCRATCH);
	/* 2 MiB aligned VMSA (erratum) */
	create_refused(0, FX_SCRATCH, NEW_CAA, 1, SVSM_ERR_INVALID_PARAMETER);
	create_refused(0, 0, NEW_CAA, 1, SVSM_ERR_INVALID_PARAMETER);
	/* misaligned */
	create_refused(0, NEW_VMSA + 8, NEW_CAA, 1, SVSM_ERR_INVALID_PARAMETER);
	create_refused(0, NEW_VMSA, NEW_CAA + 8, 1, SVSM_ERR_INVALID_PARAMETER);
	/* VMSA == CAA */
	create_refused(0, NEW_VMSA, NEW_VMSA, 1, SVSM_ERR_INVALID_PARAMETER);
	/* not OS memory, or not validated */
	create_refused(0, FX_MON_BASE + 2 * PG, NEW_CAA, 1, SVSM_ERR_INVALID_ADDRESS);
	create_refused(0, FX_BOOT_VMSA, NEW_CAA, 1, SVSM_ERR_INVALID_ADDRESS);
	create_refused(0, FX_UNVAL, NEW_CAA, 1, SVSM_ERR_INVALID_ADDRESS);
	create_refused(0, FX_MEM_SIZE + PG, NEW_CAA, 1, SVSM_ERR_INVALID_ADDRESS);
	create_refused(0, NEW_VMSA, FX_MON_BASE + 2 * PG, 1, SVSM_ERR_INVALID_ADDRESS);
	create_refused(0, NEW_VMSA, FX_UNVAL, 1, SVSM_ERR_INVALID_ADDRESS);
	create_refused(0, NEW_VMSA, FX_BOOT_VMSA, 1, SVSM_ERR_INVALID_ADDRESS);
}
END_TEST

START_TEST(create_vcpu_bad_apic)
{
	good_vmsa(NEW_VMSA);
	create_refused(0, NEW_VMSA, NEW_CAA, FX_NR_VCPUS, SVSM_ERR_INVALID_PARAMETER);
	create_refused(0, NEW_VMSA, NEW_CAA, VEIL_MAX_VCPUS, SVSM_ERR_INVALID_PARAMETER);
	create_refused(0, NEW_VMSA, NEW_CAA, (1ULL << 32) | 1, SVSM_ERR_INVALID_PARAMETER);
	create_refused(0, NEW_VMSA, NEW_CAA, ~0ULL, SVSM_ERR_INVALID_PARAMETER);
}
END_TEST

/* A refused VMSA goes back to the OS with full access and no VMSA bit. */
static void bad_vmsa(u8 vmpl, u64 efer, u64 sev_features)
{
	const struct fake_rmp *e = fake_rmp(fx.m, NEW_VMSA);

	fx_write_vmsa(NEW_VMSA, vmpl, efer, sev_features);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_ERR_INVALID_PARAMETER);
	ck_assert_int_eq(fx_page(NEW_VMSA)->owner, VEIL_OWNER_OS);
	ck_assert_uint_eq(fx_page(NEW_VMSA)->os_perms, RMP_PERM_ALL);
	ck_assert_uint_eq(e->perms[3], FX_RWX);
	ck_assert_uint_eq(e->vmsa, 0);
	ck_assert_uint_eq(fx.mon->vcpus[1].os_vmsa, 0);
	ck_assert_int_eq(fx.mon->vcpus[1].state, VEIL_VCPU_OFF);
	fx_assert_rmp_follows_records();
}

START_TEST(create_vcpu_bad_vmsa_contents)
{
	bad_vmsa(0, FX_EFER_OS, FX_SEV_FEATURES); /* a VMPL0 vCPU for the OS */
	bad_vmsa(1, FX_EFER_OS, FX_SEV_FEATURES);
	bad_vmsa(2, FX_EFER_OS, FX_SEV_FEATURES);
	bad_vmsa(3, FX_EFER_OS & ~VMSA_EFER_SVME, FX_SEV_FEATURES);
	bad_vmsa(3, FX_EFER_OS, FX_SEV_FEATURES | 4);
	bad_vmsa(3, FX_EFER_OS, 0);
	/* and a good one is still accepted afterwards */
	good_vmsa(NEW_VMSA);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_SUCCESS);
}
END_TEST

/*
 * A second CREATE_VCPU for an APIC ID that has a VMSA registers a replacement
 * (SVSM spec 58019, CREATE_VCPU): the old page stays a VMSA, the vCPU still
 * reads its exits from the old one until it switches.
 */
START_TEST(create_vcpu_twice)
{
	struct veil_vcpu *t = &fx.mon->vcpus[1];

	good_vmsa(NEW_VMSA);
	good_vmsa(FX_PAGE(3));
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_SUCCESS);
	ck_assert_uint_eq(create(0, FX_PAGE(3), FX_PAGE(5), 1), SVSM_SUCCESS);
	ck_assert_int_eq(fx_page(FX_PAGE(3))->owner, VEIL_OWNER_OS_VMSA);
	ck_assert_int_eq(fx_page(NEW_VMSA)->owner, VEIL_OWNER_OS_VMSA);
	ck_assert_uint_eq(t->os_vmsa, NEW_VMSA);
	ck_assert_uint_eq(t->caa, NEW_CAA);
	ck_assert_uint_eq(t->next_vmsa, FX_PAGE(3));
	ck_assert_uint_eq(t->next_caa, FX_PAGE(5));
	fx_assert_rmp_follows_records();
	/* the caller's own VMSA is never replaced (vCPU 0 runs its boot VMSA) */
	good_vmsa(FX_PAGE(4));
	create_refused(0, FX_PAGE(4), NEW_CAA, 0, SVSM_ERR_INVALID_REQUEST);
	create_refused(1, FX_PAGE(4), NEW_CAA, 1, SVSM_ERR_INVALID_REQUEST);
	/* the same page cannot become a second VMSA, for another vCPU or its own */
	create_refused(0, NEW_VMSA, FX_PAGE(4), 2, SVSM_ERR_INVALID_ADDRESS);
	create_refused(0, NEW_VMSA, NEW_CAA, 1, SVSM_ERR_INVALID_ADDRESS);
	create_refused(0, FX_PAGE(3), FX_PAGE(5), 1, SVSM_ERR_INVALID_ADDRESS);
}
END_TEST

START_TEST(create_vcpu_map_failure)
{
	good_vmsa(NEW_VMSA);
	fake_inject(fx.m, FAKE_OP_MAP, NEW_VMSA, 0, 1, 0, -1);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_ERR_INVALID_PARAMETER);
	ck_assert_int_eq(fx_page(NEW_VMSA)->owner, VEIL_OWNER_OS);
	ck_assert_uint_eq(fake_rmp(fx.m, NEW_VMSA)->vmsa, 0);
	ck_assert_uint_eq(fake_rmp(fx.m, NEW_VMSA)->perms[3], FX_RWX);
	ck_assert_uint_eq(fx.mon->vcpus[1].os_vmsa, 0);
}
END_TEST

/*
 * The RMP refuses the VMPL3 revocation: the vCPU is not created, and the page
 * is neither a VMSA the OS can write nor lost to the OS.
 */
START_TEST(create_vcpu_rmpadjust_failure)
{
	const struct fake_rmp *e = fake_rmp(fx.m, NEW_VMSA);

	good_vmsa(NEW_VMSA);
	fake_inject(fx.m, FAKE_OP_RMPADJUST, NEW_VMSA, 3, RMP_FAIL_INPUT, 0, 1);
	ck_assert_uint_ne(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_SUCCESS);
	ck_assert_uint_eq(fx.mon->vcpus[1].os_vmsa, 0);
	ck_assert_msg(!(e->vmsa && (e->perms[3] & RMP_PERM_W)),
		      "left a VMSA-bit page writable by VMPL3");
	ck_assert_msg(fx_page(NEW_VMSA)->owner == VEIL_OWNER_OS,
		      "page leaked: owner %u, no vCPU uses it", fx_page(NEW_VMSA)->owner);
	fx_assert_rmp_follows_records();
}
END_TEST

/* ==== DELETE_VCPU ================================================================= */

static u64 delete (u32 caller, u64 vmsa)
{
	return fx_call(caller, CORE(SVSM_CORE_DELETE_VCPU), vmsa, 0, 0, NULL);
}

START_TEST(delete_vcpu_unknown)
{
	struct fx_snap s;

	fx_snap_take(&s);
	ck_assert_uint_eq(delete (0, FX_PAGE(5)), SVSM_ERR_INVALID_PARAMETER);
	ck_assert_uint_eq(delete (0, 0), SVSM_ERR_INVALID_PARAMETER);
	ck_assert_uint_eq(delete (0, FX_MON_BASE + 2 * PG), SVSM_ERR_INVALID_PARAMETER);
	ck_assert_uint_eq(delete (0, ~0ULL), SVSM_ERR_INVALID_PARAMETER);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

START_TEST(delete_vcpu_own)
{
	struct fx_snap s;

	good_vmsa(NEW_VMSA);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_SUCCESS);
	fx_snap_take(&s);
	ck_assert_uint_eq(delete (0, FX_BOOT_VMSA), SVSM_ERR_INVALID_REQUEST);
	ck_assert_uint_eq(delete (1, NEW_VMSA), SVSM_ERR_INVALID_REQUEST);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

START_TEST(delete_vcpu_success)
{
	const struct fake_rmp *e = fake_rmp(fx.m, NEW_VMSA);

	good_vmsa(NEW_VMSA);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_SUCCESS);
	ck_assert_uint_eq(delete (0, NEW_VMSA), SVSM_SUCCESS);
	ck_assert_int_eq(fx_page(NEW_VMSA)->owner, VEIL_OWNER_OS);
	ck_assert_uint_eq(e->perms[3], FX_RWX);
	ck_assert_uint_eq(e->perms[1] | e->perms[2], 0);
	ck_assert_uint_eq(e->vmsa, 0);
	ck_assert_uint_eq(fx.mon->vcpus[1].os_vmsa, 0);
	ck_assert_int_eq(fx.mon->vcpus[1].state, VEIL_VCPU_OFF);
	fx_assert_rmp_follows_records();
	/* deleted once: unknown now; and the APIC ID can be created again */
	ck_assert_uint_eq(delete (0, NEW_VMSA), SVSM_ERR_INVALID_PARAMETER);
	good_vmsa(FX_PAGE(3));
	ck_assert_uint_eq(create(0, FX_PAGE(3), NEW_CAA, 1), SVSM_SUCCESS);
}
END_TEST

/*
 * vCPU 0's VMSA was allocated by the monitor in its own region. Deleting it
 * (from another vCPU) must not hand a monitor-region page to the OS.
 */
START_TEST(delete_vcpu_boot_vmsa_stays_out_of_os_reach)
{
	good_vmsa(NEW_VMSA);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_SUCCESS);
	(void)delete (1, FX_BOOT_VMSA);
	ck_assert_msg(fx_page(FX_BOOT_VMSA)->owner != VEIL_OWNER_OS,
		      "a page of the monitor region now belongs to the OS");
	ck_assert_uint_eq(fake_rmp(fx.m, FX_BOOT_VMSA)->perms[3], 0);
}
END_TEST

/* ==== issue 9: monitor writes, state changed behind the monitor, takes ========== */

#define LOCKED_TEXT (RMP_PERM_R | RMP_PERM_XS)
#define LOCKED_RO RMP_PERM_R

/* Give a page a restricted VMPL3 mask, as KCI's lock does, RMP included. */
static void lock_page(u64 gpa, u8 perms)
{
	fx_page(gpa)->os_perms = perms;
	ck_assert_int_eq(veil_mem_apply(&fx.mon->mem, fake_be(fx.m, 0), gpa), VEIL_OK);
}

/* Run one call that must end the CVM with the Veil violation code. */
static void call_terminates(u64 rax, u64 rcx, u64 rdx, u64 r8)
{
	jmp_buf jb;

	fx.m->on_terminate = &jb;
	if (!setjmp(jb)) {
		u64 rc = fx_call(0, rax, rcx, rdx, r8, NULL);

		ck_abort_msg("the call returned %#llx instead of stopping the CVM",
			     (unsigned long long)rc);
	}
	fx.m->on_terminate = NULL;
	ck_assert_uint_eq(fx.m->term_req, GHCB_MSR_TERM(VEIL_TERM_SET, VEIL_TERM_VIOLATION));
	ck_assert_msg(strstr(fx.m->console, "tampering: vcpu 0 gpa"), "console: %s", fx.m->console);
}

/* A locked text page made shared and private behind the monitor: validating
 * it would give new bytes R+Xs. Refused before PVALIDATE runs. */
START_TEST(pvalidate_locked_page_never_validated)
{
	u64 page = FX_KERNEL_START + 4 * PG;
	struct fx_snap s;

	lock_page(page, LOCKED_TEXT);
	fake_set_validated(fx.m, page, false); /* the hypervisor's RMPUPDATE */
	fx_snap_take(&s);
	fake_log_clear(fx.m);
	ck_assert_uint_eq(fx_pval1(VAL4K(page)), SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(fake_log_count(fx.m, FAKE_OP_PVALIDATE), 0);
	ck_assert_uint_eq(fake_rmp(fx.m, page)->validated, 0);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

START_TEST(pvalidate_tamper_validate)
{
	fake_set_validated(fx.m, FX_PAGE(3), false); /* record: validated */
	fx_pval_req(FX_REQ, 0, (u64[]){ VAL4K(FX_PAGE(3)) }, 1);
	call_terminates(CORE(SVSM_CORE_PVALIDATE), FX_REQ, 0, 0);
}
END_TEST

START_TEST(pvalidate_tamper_rescind)
{
	fake_set_validated(fx.m, FX_PAGE(3), false);
	fx_pval_req(FX_REQ, 0, (u64[]){ RESCIND4K(FX_PAGE(3)) }, 1);
	call_terminates(CORE(SVSM_CORE_PVALIDATE), FX_REQ, 0, 0);
}
END_TEST

/* A 2 MiB page validated through the monitor (its 4 KiB RMPADJUSTs split the
 * entry), then made shared and private again as one 2 MiB page behind it. */
START_TEST(pvalidate_tamper_2m)
{
	u64 i;

	ck_assert_uint_eq(fx_pval1(SVSM_PVAL_ENTRY(GFN(FX_HUGE_2M), 1, 1, 0)), SVSM_SUCCESS);
	fake_set_huge(fx.m, FX_HUGE_2M, true); /* RMPUPDATE of a 2 MiB page */
	for (i = 0; i < 512; i++)
		fake_set_validated(fx.m, FX_HUGE_2M + i * PG, false);
	fx_pval_req(FX_REQ, 0, (u64[]){ SVSM_PVAL_ENTRY(GFN(FX_HUGE_2M), 1, 1, 0) }, 1);
	call_terminates(CORE(SVSM_CORE_PVALIDATE), FX_REQ, 0, 0);
}
END_TEST

/* The request in a page the OS cannot write: `next` is never written there. */
START_TEST(pvalidate_request_in_locked_page)
{
	struct fx_snap s;

	fx_pval_req(FX_PAGE(4), 0, (u64[]){ SVSM_PVAL_ENTRY(GFN(FX_PAGE(3)), 0, 1, 1) }, 1);
	lock_page(FX_PAGE(4), LOCKED_RO);
	fx_snap_take(&s);
	ck_assert_uint_eq(pval_at(FX_PAGE(4)), SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(fx_pval_next(FX_PAGE(4)), 0);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

START_TEST(remap_ca_locked_page)
{
	lock_page(FX_PAGE(3), LOCKED_TEXT);
	remap_fails(FX_PAGE(3), SVSM_ERR_INVALID_ADDRESS);
	lock_page(FX_PAGE(4), RMP_PERM_R | RMP_PERM_W); /* restricted, not default */
	remap_fails(FX_PAGE(4), SVSM_ERR_INVALID_ADDRESS);
}
END_TEST

/* A locked rodata page named as a VMSA, valid contents or not: not taken, so
 * nothing to hand back with other permissions. */
START_TEST(create_vcpu_locked_vmsa_page)
{
	struct fx_snap s;

	good_vmsa(NEW_VMSA);
	lock_page(NEW_VMSA, LOCKED_RO);
	fx_snap_take(&s);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_ERR_INVALID_ADDRESS);
	fx_assert_unchanged(&s);
	memset(fake_ptr(fx.m, NEW_VMSA), 0, PG); /* not a VMSA at all */
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_ERR_INVALID_ADDRESS);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

START_TEST(create_vcpu_locked_caa)
{
	struct fx_snap s;

	good_vmsa(NEW_VMSA);
	lock_page(NEW_CAA, LOCKED_TEXT);
	fx_snap_take(&s);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_ERR_INVALID_ADDRESS);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

/* A VMSA its vCPU runs right now is in use: DELETE_VCPU refuses, changes nothing. */
START_TEST(delete_vcpu_running)
{
	struct fx_snap s;

	good_vmsa(NEW_VMSA);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_SUCCESS);
	fx.mon->vcpus[1].in_os = 1;
	fx_snap_take(&s);
	ck_assert_uint_eq(delete (0, NEW_VMSA), SVSM_ERR_BUSY);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
	fx.mon->vcpus[1].in_os = 0;
	ck_assert_uint_eq(delete (0, NEW_VMSA), SVSM_SUCCESS);
}
END_TEST

/* Hardware refuses to clear the VMSA bit of a VMSA a CPU runs (FAIL_INUSE = 3):
 * BUSY, and the page is still the VMSA it was. */
START_TEST(delete_vcpu_in_use_by_hardware)
{
	struct fx_snap s;

	good_vmsa(NEW_VMSA);
	ck_assert_uint_eq(create(0, NEW_VMSA, NEW_CAA, 1), SVSM_SUCCESS);
	fx_snap_take(&s);
	fake_inject(fx.m, FAKE_OP_RMPADJUST, NEW_VMSA, 0, 3, 0, -1);
	ck_assert_uint_eq(delete (0, NEW_VMSA), SVSM_ERR_BUSY);
	fake_clear_rules(fx.m);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
}
END_TEST

/* ==== hotplug: a vCPU's VMSA replaced, then the old one deleted ==================== */

#define OLD_VMSA FX_PAGE(6)
#define HP_VMSA FX_PAGE(7)

/* vCPU 2 up and running its OS VMSA OLD_VMSA (as after Linux's boot). */
static struct veil_vcpu *running_ap(void)
{
	struct veil_vcpu *t = &fx.mon->vcpus[2];

	good_vmsa(OLD_VMSA);
	good_vmsa(HP_VMSA);
	ck_assert_uint_eq(create(0, OLD_VMSA, FX_CAA(2), 2), SVSM_SUCCESS);
	t->state = VEIL_VCPU_RUNNING;
	t->in_os = 1;
	return t;
}

static void assert_back_to_os(u64 gpa)
{
	const struct fake_rmp *e = fake_rmp(fx.m, gpa);

	ck_assert_int_eq(fx_page(gpa)->owner, VEIL_OWNER_OS);
	ck_assert_uint_eq(fx_page(gpa)->os_perms, RMP_PERM_ALL);
	ck_assert_uint_eq(fx_page(gpa)->validated, 1);
	ck_assert_uint_eq(e->perms[3], FX_RWX);
	ck_assert_uint_eq(e->perms[1] | e->perms[2], 0);
	ck_assert_uint_eq(e->vmsa, 0);
}

/* Linux's online sequence: CREATE the new VMSA, (AP creation), DELETE the
 * old one; the old page goes back to the OS exactly as it was, and the vCPU
 * runs the new one with the new CAA. */
START_TEST(hotplug_replace_then_delete_old)
{
	struct veil_vcpu *t = running_ap();

	ck_assert_uint_eq(create(0, HP_VMSA, FX_PAGE(8), 2), SVSM_SUCCESS);
	ck_assert_uint_eq(t->os_vmsa, OLD_VMSA);
	ck_assert_uint_eq(delete (0, OLD_VMSA), SVSM_SUCCESS);
	assert_back_to_os(OLD_VMSA);
	ck_assert_uint_eq(t->os_vmsa, HP_VMSA);
	ck_assert_uint_eq(t->caa, FX_PAGE(8));
	ck_assert_uint_eq(t->next_vmsa, 0);
	ck_assert_int_eq(t->state, VEIL_VCPU_RUNNING);
	ck_assert_int_eq(fx_page(HP_VMSA)->owner, VEIL_OWNER_OS_VMSA);
	fx_assert_rmp_follows_records();
	/* the new one is now the running vCPU's own: not deletable */
	ck_assert_uint_eq(delete (0, HP_VMSA), SVSM_ERR_BUSY);
	ck_assert_uint_eq(delete (0, OLD_VMSA), SVSM_ERR_INVALID_PARAMETER);
}
END_TEST

/* Attack: delete the VMSA that another vCPU runs. Without a replacement it
 * is refused outright; with one, the hardware still runs the old VMSA (no AP
 * creation yet: FAIL_INUSE) and it stays a VMSA, nothing changed. */
START_TEST(hotplug_delete_running_vmsa)
{
	struct veil_vcpu *t = running_ap();
	struct fx_snap s;

	fx_snap_take(&s);
	ck_assert_uint_eq(delete (0, OLD_VMSA), SVSM_ERR_BUSY);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
	ck_assert_uint_eq(create(0, HP_VMSA, FX_PAGE(8), 2), SVSM_SUCCESS);
	fx_snap_take(&s);
	fake_inject(fx.m, FAKE_OP_RMPADJUST, OLD_VMSA, 0, RMP_FAIL_INUSE, 0, -1);
	ck_assert_uint_eq(delete (0, OLD_VMSA), SVSM_ERR_BUSY);
	fake_clear_rules(fx.m);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
	ck_assert_uint_eq(t->os_vmsa, OLD_VMSA);
	/* while its vCPU handles an exit of the old one, the monitor reads it */
	t->in_os = 0;
	ck_assert_uint_eq(delete (0, OLD_VMSA), SVSM_ERR_BUSY);
	ck_assert_int_eq(fx_page(OLD_VMSA)->owner, VEIL_OWNER_OS_VMSA);
}
END_TEST

/* Attack: DELETE_VCPU of the monitor's and a domain's VMSAs, also once the
 * vCPU they belong to has a replacement registered. */
START_TEST(hotplug_delete_monitor_vmsas)
{
	u64 dom = FX_MON_BASE + 8 * PG;
	struct fx_snap s;

	ck_assert_int_eq(veil_mem_transfer(&fx.mon->mem, fx.mon->vcpus[0].be, dom, PG,
					   VEIL_OWNER_MONITOR, VEIL_OWNER_VMSA, 0),
			 0);
	good_vmsa(HP_VMSA);
	ck_assert_uint_eq(create(1, HP_VMSA, FX_PAGE(8), 0), SVSM_SUCCESS);
	fx_snap_take(&s);
	ck_assert_uint_ne(delete (1, FX_BOOT_VMSA), SVSM_SUCCESS);
	ck_assert_uint_ne(delete (0, FX_BOOT_VMSA), SVSM_SUCCESS);
	ck_assert_uint_eq(delete (1, dom), SVSM_ERR_INVALID_PARAMETER);
	ck_assert_uint_eq(delete (0, dom), SVSM_ERR_INVALID_PARAMETER);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
	ck_assert_uint_eq(fake_rmp(fx.m, FX_BOOT_VMSA)->perms[3], 0);
	ck_assert_uint_eq(fake_rmp(fx.m, dom)->perms[3], 0);
}
END_TEST

/* A replacement never switched to can be deleted (not while hardware runs
 * it); the vCPU keeps its current VMSA. */
START_TEST(hotplug_delete_pending)
{
	struct veil_vcpu *t = running_ap();

	ck_assert_uint_eq(create(0, HP_VMSA, FX_PAGE(8), 2), SVSM_SUCCESS);
	fake_inject(fx.m, FAKE_OP_RMPADJUST, HP_VMSA, 0, RMP_FAIL_INUSE, 0, -1);
	ck_assert_uint_eq(delete (0, HP_VMSA), SVSM_ERR_BUSY);
	fake_clear_rules(fx.m);
	ck_assert_uint_eq(t->next_vmsa, HP_VMSA);
	ck_assert_uint_eq(delete (0, HP_VMSA), SVSM_SUCCESS);
	assert_back_to_os(HP_VMSA);
	ck_assert_uint_eq(t->next_vmsa, 0);
	ck_assert_uint_eq(t->os_vmsa, OLD_VMSA);
	ck_assert_uint_eq(t->caa, FX_CAA(2));
	fx_assert_rmp_follows_records();
}
END_TEST

/* The vCPU switches itself at its next exit; the replaced VMSA, held by no
 * vCPU, is found by its GPA and deleted (once). */
START_TEST(hotplug_switch_at_exit)
{
	struct veil_vcpu *t = running_ap();

	ck_assert_uint_eq(create(0, HP_VMSA, FX_PAGE(8), 2), SVSM_SUCCESS);
	ck_assert_uint_eq(veil_vcpu_current_vmsa(t), HP_VMSA);
	ck_assert_uint_eq(t->caa, FX_PAGE(8));
	ck_assert_uint_eq(veil_vcpu_current_vmsa(t), HP_VMSA);
	ck_assert_uint_eq(delete (0, OLD_VMSA), SVSM_SUCCESS);
	assert_back_to_os(OLD_VMSA);
	ck_assert_uint_eq(t->os_vmsa, HP_VMSA);
	ck_assert_uint_eq(delete (0, OLD_VMSA), SVSM_ERR_INVALID_PARAMETER);
	/* CREATE again on the deleted page works; on the running one it does not */
	good_vmsa(OLD_VMSA);
	create_refused(0, HP_VMSA, FX_PAGE(9), 2, SVSM_ERR_INVALID_ADDRESS);
	ck_assert_uint_eq(create(0, OLD_VMSA, FX_PAGE(9), 2), SVSM_SUCCESS);
	fx_assert_rmp_follows_records();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("svsm");
	TCase *dispatch = tcase_create("dispatch"), *remap = tcase_create("remap_ca");
	TCase *pval = tcase_create("pvalidate"), *cr = tcase_create("create_vcpu");
	TCase *del = tcase_create("delete_vcpu"), *hard = tcase_create("hardening");

	tcase_add_checked_fixture(dispatch, fx_setup, fx_teardown);
	tcase_add_test(dispatch, unknown_protocol);
	tcase_add_test(dispatch, unsupported_core_calls);
	tcase_add_test(dispatch, query_protocol);
	tcase_add_test(dispatch, test_protocol_echo);

	tcase_add_checked_fixture(remap, fx_setup, fx_teardown);
	tcase_add_test(remap, remap_ca_misaligned);
	tcase_add_test(remap, remap_ca_bad_address);
	tcase_add_test(remap, remap_ca_success);

	tcase_add_checked_fixture(pval, fx_setup, fx_teardown);
	tcase_add_test(pval, pvalidate_validate_4k);
	tcase_add_test(pval, pvalidate_rescind_revokes_first);
	tcase_add_test(pval, pvalidate_unchanged);
	tcase_add_test(pval, pvalidate_bad_entry_format);
	tcase_add_test(pval, pvalidate_bad_address);
	tcase_add_test(pval, pvalidate_module_page);
	tcase_add_test(pval, pvalidate_2m_with_one_foreign_page);
	tcase_add_test(pval, pvalidate_2m_on_4k_rmp);
	tcase_add_test(pval, pvalidate_2m_success);
	tcase_add_test(pval, pvalidate_bad_request);
	tcase_add_test(pval, pvalidate_entries_past_page_end);
	tcase_add_test(pval, pvalidate_next_beyond_num_entries);
	tcase_add_test(pval, pvalidate_partial_progress_and_restart);
	tcase_add_test(pval, pvalidate_starts_at_next);
	tcase_add_test(pval, pvalidate_rmpadjust_failure);
	tcase_add_test(pval, pvalidate_2m_rmpadjust_failure_leaves_no_trace);
	tcase_add_test(pval, pvalidate_failed_rescind_keeps_rmp_consistent);
	tcase_add_test(pval, pvalidate_rescind_own_request_page);

	tcase_add_checked_fixture(cr, fx_setup, fx_teardown);
	tcase_add_test(cr, create_vcpu_success);
	tcase_add_test(cr, create_vcpu_os_loses_write_access);
	tcase_add_test(cr, create_vcpu_bad_addresses);
	tcase_add_test(cr, create_vcpu_bad_apic);
	tcase_add_test(cr, create_vcpu_bad_vmsa_contents);
	tcase_add_test(cr, create_vcpu_twice);
	tcase_add_test(cr, create_vcpu_map_failure);
	tcase_add_test(cr, create_vcpu_rmpadjust_failure);
	tcase_add_test(cr, create_vcpu_vmsa_unvalidated_behind_monitor);
	tcase_add_test(cr, create_vcpu_give_back_refused_is_tamper);

	tcase_add_checked_fixture(del, fx_setup, fx_teardown);
	tcase_add_test(del, delete_vcpu_unknown);
	tcase_add_test(del, delete_vcpu_own);
	tcase_add_test(del, delete_vcpu_success);
	tcase_add_test(del, delete_vcpu_boot_vmsa_stays_out_of_os_reach);

	tcase_add_checked_fixture(hard, fx_setup, fx_teardown);
	tcase_add_test(hard, pvalidate_locked_page_never_validated);
	tcase_add_test(hard, pvalidate_tamper_validate);
	tcase_add_test(hard, pvalidate_tamper_rescind);
	tcase_add_test(hard, pvalidate_tamper_2m);
	tcase_add_test(hard, pvalidate_request_in_locked_page);
	tcase_add_test(hard, remap_ca_locked_page);
	tcase_add_test(hard, create_vcpu_locked_vmsa_page);
	tcase_add_test(hard, create_vcpu_locked_caa);
	tcase_add_test(hard, delete_vcpu_running);
	tcase_add_test(hard, delete_vcpu_in_use_by_hardware);
	tcase_add_test(hard, hotplug_replace_then_delete_old);
	tcase_add_test(hard, hotplug_delete_running_vmsa);
	tcase_add_test(hard, hotplug_delete_monitor_vmsas);
	tcase_add_test(hard, hotplug_delete_pending);
	tcase_add_test(hard, hotplug_switch_at_exit);

	suite_add_tcase(s, dispatch);
	suite_add_tcase(s, remap);
	suite_add_tcase(s, pval);
	suite_add_tcase(s, cr);
	suite_add_tcase(s, del);
	suite_add_tcase(s, hard);
	return fx_run_suite(s);
}
