/* SPDX-License-Identifier: MIT */
/*
 * test_log.c - the secure log service over the fake backend: append-only,
 * full means refused and counted, and the monitor's own records (violations)
 * still fit when the OS has filled the log.
 */
#include <check.h>
#include <string.h>

#include "fixture.h"
#include "../../services/log/log.h"

#define LOG_SIZE 8192ULL

static void log_setup(void)
{
	fx_setup();
	fx.mon->launch.log_size = LOG_SIZE;
	ck_assert_int_eq(veil_log_service.init(fx.mon, &fx.mon->vcpus[0]), VEIL_OK);
}

static u64 append(const char *text)
{
	memcpy(fake_ptr(fx.m, FX_PAGE(0)), text, strlen(text));
	return fx_call(0, SVSM_CALL(VEIL_PROTOCOL_LOG, VEIL_LOG_APPEND), FX_PAGE(0), strlen(text),
		       0, NULL);
}

static struct veil_log_head head(void)
{
	struct veil_log_head h;

	ck_assert_uint_eq(fx_call(0, SVSM_CALL(VEIL_PROTOCOL_LOG, VEIL_LOG_HEAD), FX_PAGE(1), 0, 0,
				  NULL),
			  SVSM_SUCCESS);
	memcpy(&h, fake_ptr(fx.m, FX_PAGE(1)), sizeof(h));
	return h;
}

START_TEST(full_refuses_and_counts)
{
	struct veil_log_head h0, h1;
	u64 rc, n = 0;

	while ((rc = append("an OS record of a few bytes")) == SVSM_SUCCESS)
		n++;
	ck_assert_uint_eq(rc, VEIL_LOG_ERR_FULL);
	h0 = head();
	ck_assert_uint_eq(h0.count, n);
	ck_assert_uint_eq(h0.drops, 1);
	ck_assert_uint_eq(append("x"), VEIL_LOG_ERR_FULL);
	h1 = head();
	ck_assert_uint_eq(h1.count, n);
	ck_assert_uint_eq(h1.drops, 2);
	ck_assert_mem_eq(h1.head, h0.head, 32); /* nothing overwritten */
}
END_TEST

/* A compromised OS fills the log, then attacks: the violation is still kept. */
START_TEST(monitor_records_fit_when_full)
{
	static const char v[] = "violation: vcpu 0 rip 28e000 gpa 28e000 exitinfo1 1580000011";
	struct veil_log_head h0, h1;

	while (append("filler") == SVSM_SUCCESS)
		;
	h0 = head();
	veil_service_record(fx.mon, &fx.mon->vcpus[0], v, sizeof(v) - 1);
	h1 = head();
	ck_assert_uint_eq(h1.count, h0.count + 1);
	ck_assert_uint_eq(h1.drops, h0.drops);
	ck_assert_mem_ne(h1.head, h0.head, 32);
	ck_assert_uint_eq(append("filler"), VEIL_LOG_ERR_FULL); /* the OS still cannot */
}
END_TEST

/* The origin is the monitor's word, not the OS's: an OS record that reads
 * like a violation is stamped OS, the monitor's own record MONITOR. */
START_TEST(origin_set_by_monitor)
{
	static const char v[] = "violation: vcpu 0 rip 28e000 gpa 28e000 exitinfo1 1580000011";
	struct veil_log_record r0, r1;
	const u8 *out = fake_ptr(fx.m, FX_PAGE(2));

	ck_assert_uint_eq(append(v), SVSM_SUCCESS);
	veil_service_record(fx.mon, &fx.mon->vcpus[0], v, sizeof(v) - 1);
	ck_assert_uint_eq(fx_call(0, SVSM_CALL(VEIL_PROTOCOL_LOG, VEIL_LOG_READ), 0, FX_PAGE(2),
				  4096, NULL),
			  SVSM_SUCCESS);
	memcpy(&r0, out, sizeof(r0));
	memcpy(&r1, out + sizeof(r0) + ((r0.len + 7) & ~7u), sizeof(r1));
	ck_assert_uint_eq(r0.origin, VEIL_LOG_ORIGIN_OS);
	ck_assert_uint_eq(r1.origin, VEIL_LOG_ORIGIN_MONITOR);
	ck_assert_uint_eq(r0.reserved | r1.reserved, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, log_setup, fx_teardown);
	tcase_add_test(tc, full_refuses_and_counts);
	tcase_add_test(tc, monitor_records_fit_when_full);
	tcase_add_test(tc, origin_set_by_monitor);
	suite_add_tcase(s, tc);
	return fx_run_suite(s);
}
