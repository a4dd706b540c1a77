/* Every stage, first: a plain container forks and execs. When it cannot,
 * nearly every later test fails for the same reason (a seccomp filter
 * that refuses clone outright, a pids limit of 1, a filter loaded in the
 * wrong order), and the first of those failures often points elsewhere
 * (a fork bomb "exited 0" reads as a pids limit): this test names the
 * step that failed and its errno, and says that the failures after it
 * probably share its cause. */

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "suites.h"

/* Check run r: status 0 and "ok\n" out; else say what failed, and that
 * the later failures of this stage probably come from it. */
static void expect_ok(const struct run_result *r, const char *what,
		      int line)
{
	bool ok = r->status == 0 && !strcmp(r->out, "ok\n");
	char msg[512], said[128] = "";
	if (r->out && *r->out)
		snprintf(said, sizeof(said), " (it said \"%.*s\")",
			 (int)strcspn(r->out, "\n"), r->out);
	snprintf(msg, sizeof(msg), "smoke test: %s%s; the later failures of "
		 "stage-%d probably share this cause", what, said, H.stage);
	h_run_check(r, ok, 0, line, __FILE__, ok ? what : msg);
}

/* The probe forks, its child execs the probe again: the refused step's
 * errno is in the probe's answer ("fork: EPERM"). */
static void test_container_forks_and_execs(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "spawn");
	expect_ok(&r, "the container's probe could not fork and exec",
		  __LINE__);
	h_free(&r);
}

/* A shell, as a user's first command: it forks and execs /bin/true
 * (the host's before stage 4, the root filesystem's busybox after). */
static void test_shell_runs_a_command(void)
{
	struct run_result r;
	RUN(r, NULL, "run", "/bin/sh", "-c", "/bin/true && echo ok");
	expect_ok(&r, "the container's shell could not run /bin/true",
		  __LINE__);
	h_free(&r);
}

static const struct stage_test tests[] = {
	{"test_container_forks_and_execs", test_container_forks_and_execs,
	 false},
	{"test_shell_runs_a_command", test_shell_runs_a_command, false},
	{NULL, NULL, false},
};

/* Stage 0: no stage teaches it, and every stage's run starts with it
 * (the runner registers it before the stage suites; it is not in
 * stage_suites[], which --prove walks by stage). */
const struct stage_suite suite_smoke = {0, "smoke", false, tests};
