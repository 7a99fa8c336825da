/* SPDX-License-Identifier: MIT */
/*
 * test_enclave.c - enclave CREATE (services/enclave) over the fake backend
 * when building fails after the pool was taken from the OS: a refusal gives
 * every page back exactly as it was; a pool page the RMP refuses on the way
 * back (its state changed behind the monitor) is tampering, never a
 * half-built enclave left in its slot. The image is enclave-hello.elf
 * (ENCLAVE_HELLO, built by guest/enclave).
 */
#include <check.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "../../services/enclave/enclave.h"

#define PG VEIL_PAGE_SIZE
#define POOL 0x300000ULL /* in the fixture's not-validated OS range: validated here */
#define POOL_PAGES 64
#define FILE_GPA (POOL + POOL_PAGES * PG)
#define FILE_PAGES 32
#define ENC(call) SVSM_CALL(VEIL_PROTOCOL_ENCLAVE, call)

static u64 file_len;

/* OS pages [gpa, gpa + n pages) validated, as the OS would have them. */
static void validate(u64 gpa, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++, gpa += PG) {
		fake_set_validated(fx.m, gpa, true);
		fx_page(gpa)->validated = 1;
		ck_assert_int_eq(veil_mem_apply(&fx.mon->mem, fake_be(fx.m, 0), gpa), VEIL_OK);
	}
}

static void enc_setup(void)
{
	FILE *f;

	fx_setup();
	fx.mon->launch.log_size = 0;
	ck_assert_int_eq(veil_enclave_service.init(fx.mon, &fx.mon->vcpus[0]), VEIL_OK);
	validate(POOL, POOL_PAGES + FILE_PAGES);
	f = fopen(ENCLAVE_HELLO, "rb");
	ck_assert_msg(f, "cannot open %s", ENCLAVE_HELLO);
	file_len = fread(fake_ptr(fx.m, FILE_GPA), 1, FILE_PAGES * PG, f);
	fclose(f);
	ck_assert_uint_gt(file_len, 0);
	ck_assert_uint_lt(file_len, FILE_PAGES * PG);
	fake_log_clear(fx.m);
}

/* CREATE takes five registers (R9 = pool pages): fx_call has four. */
static u64 create(struct veil_call *o)
{
	struct veil_call c = { ENC(VEIL_ENC_CREATE), FILE_GPA, file_len, POOL, POOL_PAGES };

	veil_svsm_dispatch(fx.mon, &fx.mon->vcpus[0], &c);
	if (o)
		*o = c;
	return c.rax;
}

/* The RMPADJUST of page `gpa` at VMPL2 after the pool transfer's (skip 1)
 * fails `times` times: the first grant building the enclave makes. */
static void refuse_grant(u64 gpa, int times)
{
	fake_inject(fx.m, FAKE_OP_RMPADJUST, gpa, 2, RMP_FAIL_INPUT, 1, times);
}

START_TEST(create_works)
{
	struct veil_call o;

	ck_assert_uint_eq(create(&o), SVSM_SUCCESS);
	ck_assert_uint_ne(o.rcx, 0);
	ck_assert_int_eq(fx_page(POOL)->owner, VEIL_OWNER_ENCLAVE);
	fx_assert_rmp_follows_records();
}
END_TEST

/* Building fails once (a grant the RMP refuses once): every pool page goes
 * back to the OS as it was, and the slot is free (handle 0 finds nothing). */
START_TEST(create_refused_gives_everything_back)
{
	struct fx_snap s;
	struct veil_call o;

	fx_snap_take(&s);
	refuse_grant(POOL, 1);
	ck_assert_uint_eq(create(NULL), VEIL_ENC_ERR_SPACE);
	fake_clear_rules(fx.m);
	fx_assert_unchanged(&s);
	fx_snap_free(&s);
	ck_assert_uint_eq(fx_call(0, ENC(VEIL_ENC_MEASURE), 0, FX_PAGE(0), 0, NULL),
			  VEIL_ENC_ERR_NOT_FOUND);
	ck_assert_uint_eq(create(&o), SVSM_SUCCESS); /* the slot and the pages again */
}
END_TEST

/* The same page refused on the way back too: its state is not what the
 * monitor recorded. Tampering: the CVM stops, with the page's rights gone. */
START_TEST(create_refused_page_stuck_is_tamper)
{
	jmp_buf jb;

	refuse_grant(POOL, -1);
	fx.m->on_terminate = &jb;
	if (!setjmp(jb))
		ck_abort_msg("CREATE returned %#llx instead of stopping the CVM",
			     (unsigned long long)create(NULL));
	fx.m->on_terminate = NULL;
	ck_assert_uint_eq(fx.m->term_req, GHCB_MSR_TERM(VEIL_TERM_SET, VEIL_TERM_VIOLATION));
	ck_assert_msg(strstr(fx.m->console, "an enclave page's state changed behind the monitor"),
		      "console: %s", fx.m->console);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("enclave");
	TCase *tc = tcase_create("enclave");

	tcase_add_checked_fixture(tc, enc_setup, fx_teardown);
	tcase_add_test(tc, create_works);
	tcase_add_test(tc, create_refused_gives_everything_back);
	tcase_add_test(tc, create_refused_page_stuck_is_tamper);
	suite_add_tcase(s, tc);
	return fx_run_suite(s);
}
