/*
 * check_main.c: runs every suite and prints Check's summary line
 * ("100%: Checks: N, Failures: 0, Errors: 0").  Exits 0 only when every
 * test passed.  CK_FORK=no runs the tests in this process (for
 * valgrind); CK_RUN_SUITE and CK_RUN_CASE select tests; the CSTOW
 * environment variable names the cstow binary the cli suite runs.
 */
#include <stdlib.h>

#include "sandbox.h"

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(path_suite());
	srunner_add_suite(sr, pattern_suite());
	srunner_add_suite(sr, rc_suite());
	srunner_add_suite(sr, plan_suite());
	srunner_add_suite(sr, apply_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, conf_suite());

	sandbox_runner_begin(sr);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	sandbox_runner_end(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
