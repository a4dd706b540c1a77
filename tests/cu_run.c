#include <CUnit/Basic.h>
#include <stdio.h>

#include "cu_run.h"

int cu_run(const char *prog, CU_SuiteInfo *suites, const char *only,
	   bool verbose)
{
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "%s: %s\n", prog, CU_get_error_msg());
		return -1;
	}
	CU_basic_set_mode(verbose ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
	CU_pSuite suite = only ? CU_get_suite(only) : NULL;
	if (only && !suite) {
		fprintf(stderr, "%s: no suite '%s'\n", prog, only);
		CU_cleanup_registry();
		return -1;
	}
	if (suite)
		CU_basic_run_suite(suite);
	else
		CU_basic_run_tests();
	/* CU_get_error() says nothing of failed tests: count them. */
	int failed = (int)(CU_get_number_of_failures() +
			   CU_get_number_of_tests_failed() +
			   CU_get_number_of_suites_failed());
	CU_cleanup_registry();
	return failed;
}
