/* The end of every CUnit program's main() that drives a lesson on its
 * own (test_exec, test_net, test_oci): register the suites, run them
 * all or the one named, and count every kind of failure. */
#ifndef MINIDOCKER_CU_RUN_H
#define MINIDOCKER_CU_RUN_H

#include <CUnit/CUnit.h>
#include <stdbool.h>

/* Run suites (CU_SUITE_INFO_NULL-ended) of the program prog: all of
 * them, or only the suite named only (NULL: all), verbose or not.
 * Returns the number of failed assertions, tests and suites (0: all
 * passed), or -1 after saying why on stderr (CUnit failed, no such
 * suite). */
int cu_run(const char *prog, CU_SuiteInfo *suites, const char *only,
	   bool verbose);

#endif
