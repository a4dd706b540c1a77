/* Stage 2: a UTS namespace; the container has a hostname of its own. */

#include <CUnit/CUnit.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

static void test_hostname_inside_is_container(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "hostname");
	H_STATUS(r, 0);
	H_OUT(r, "container\n");
	h_free(&r);
}

static void test_hostname_option_sets_it(void)
{
	struct run_result r;
	RUN(r, NULL, "run", "--hostname", "box-1", H.probe, "hostname");
	H_STATUS(r, 0);
	H_OUT(r, "box-1\n");
	h_free(&r);
	RUN(r, NULL, "run", "--hostname=box-2", H.probe, "hostname");
	H_OUT(r, "box-2\n");
	h_free(&r);
}

/* The runner runs in a UTS namespace of its own (runner.c): "the host"
 * here is that namespace, so a stage without CLONE_NEWUTS fails this test
 * by renaming it, and never renames the machine. */
static void test_host_hostname_unchanged(void)
{
	char before[HOST_NAME_MAX + 1], during[HOST_NAME_MAX + 1],
		after[HOST_NAME_MAX + 1];
	CU_ASSERT_EQUAL_FATAL(gethostname(before, sizeof(before)), 0);
	struct container c;
	const char *args[] = {"run", "--hostname", "not-the-host", H.probe,
			      "ready", NULL};
	if (h_start(&c, NULL, args) < 0)
		return;
	bool up = h_wait_output(&c, "ready\n", H_TIMEOUT_MS);
	gethostname(during, sizeof(during));
	h_finish(&c, NULL, H_TIMEOUT_MS);
	gethostname(after, sizeof(after));
	H_RUN(c.r, up);
	H_STATUS(c.r, 0);
	H_RUN(c.r, !strcmp(during, before));
	H_RUN(c.r, !strcmp(after, before));
	/* Put it back for the tests after this one. */
	if (strcmp(after, before) != 0)
		sethostname(before, strlen(before));
	h_free(&c.r);
}

static void test_uts_namespace_differs(void)
{
	h_assert_ns_differs("uts");
}

static void test_hostname_too_long_is_125(void)
{
	char name[66];
	memset(name, 'a', 65);
	name[65] = '\0';
	struct run_result r;
	RUN(r, NULL, "run", "--hostname", name, H.probe, "hostname");
	H_STATUS(r, 125);
	H_OUT(r, "");
	H_RUN(r, h_one_line(r.err));
	H_RUN(r, strstr(r.err, "--hostname") != NULL);
	h_free(&r);
	/* 64 bytes is the most the kernel takes, and it takes it. */
	name[64] = '\0';
	RUN(r, NULL, "run", "--hostname", name, H.probe, "hostname");
	H_STATUS(r, 0);
	H_RUN(r, strlen(r.out) == 65);
	h_free(&r);
}

static void test_hostname_empty_is_125(void)
{
	struct run_result r;
	RUN(r, NULL, "run", "--hostname", "", H.probe, "hostname");
	H_STATUS(r, 125);
	H_RUN(r, h_one_line(r.err));
	h_free(&r);
	RUN(r, NULL, "run", H.probe, "hostname", "--hostname");
	H_STATUS(r, 0); /* after the command: its argument */
	h_free(&r);
	RUN(r, NULL, "run", "--hostname");
	H_STATUS(r, 125);
	H_RUN(r, h_one_line(r.err));
	h_free(&r);
}

static const struct stage_test tests[] = {
	{"test_hostname_inside_is_container", test_hostname_inside_is_container,
	 true},
	{"test_hostname_option_sets_it", test_hostname_option_sets_it, true},
	{"test_host_hostname_unchanged", test_host_hostname_unchanged, false},
	{"test_uts_namespace_differs", test_uts_namespace_differs, true},
	{"test_hostname_too_long_is_125", test_hostname_too_long_is_125, true},
	{"test_hostname_empty_is_125", test_hostname_empty_is_125, false},
	{NULL, NULL, false},
};

const struct stage_suite suite_uts = {2, "uts", true, tests};
