/* SPDX-License-Identifier: MIT */
/*
 * run_suite.c - fx_run_suite (fixture.h), every unit test's main. Apart from
 * fixture.c because the fuzz build links fixture.c without libcheck's runner
 * (tests/fuzz/fuzz_common.c provides only its assertion entry points).
 */
#include <check.h>
#include <stdlib.h>

#include "fixture.h"

int fx_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
