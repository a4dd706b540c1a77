/* Stage 3: a PID namespace; the command is PID 1 in it. */

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

static void test_pid_is_one_inside(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "pid");
	H_STATUS(r, 0);
	H_OUT(r, "1\n");
	h_free(&r);
}

static void test_pid_namespace_differs(void)
{
	h_assert_ns_differs("pid");
}

/* The Go post's surprise: ps reads /proc, and /proc is still the host's. */
static void test_host_processes_visible(void)
{
	char me[32];
	snprintf(me, sizeof(me), "\n%d\n", (int)getpid());
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "procs");
	H_STATUS(r, 0);
	/* Our own pid, a host pid, is listed by the container's /proc. */
	char *padded = malloc(strlen(r.out) + 2);
	sprintf(padded, "\n%s", r.out);
	H_RUN(r, strstr(padded, me) != NULL);
	free(padded);
	h_free(&r);
}

static const struct stage_test tests[] = {
	{"test_pid_is_one_inside", test_pid_is_one_inside, true},
	{"test_pid_namespace_differs", test_pid_namespace_differs, true},
	{"test_host_processes_visible", test_host_processes_visible, false},
	{NULL, NULL, false},
};

const struct stage_suite suite_pid = {3, "pid", true, tests};
