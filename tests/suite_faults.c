/* Every stage, under faults: the signals a user sends the runtime reach the
 * command, and a runtime killed outright takes its container with it. */

#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "suites.h"
#include "util.h"

/* Start the probe waiting for a forwarded signal; 0 once it is ready. */
static int start_trap(struct container *c)
{
	const char *args[] = {"run", H.probe, "trap", NULL};
	return h_start_until(c, args, "ready\n");
}

static void test_signals_reach_the_command(void)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"SIGINT", SIGINT},   {"SIGTERM", SIGTERM},
		    {"SIGHUP", SIGHUP},   {"SIGQUIT", SIGQUIT},
		    {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		struct container c;
		char want[64];
		if (start_trap(&c) < 0)
			continue;
		kill(c.pid, sigs[i].sig);
		h_finish(&c, NULL, H_TIMEOUT_MS);
		snprintf(want, sizeof(want), "ready\nsignal %d\n", sigs[i].sig);
		/* The probe saw the signal and exited 128+S; the runtime
		 * passes that status on. */
		H_CHECK(!strcmp(c.r.out, want), sigs[i].name);
		H_CHECK(c.r.status == 128 + sigs[i].sig, sigs[i].name);
		H_CHECK(!strcmp(c.r.err, ""), sigs[i].name);
		H_CHECK(h_pgroup_gone(c.pid, 5000), sigs[i].name);
		h_free(&c.r);
	}
}

static void test_killed_runtime_kills_container(void)
{
	struct container c;
	/* A mount namespace of the test's own: stage 4 mounts /proc in the
	 * host's, and a runtime killed outright cannot unmount it (that is
	 * stage 5's lesson); this one goes away with what it holds. Without
	 * root only stage 1 runs, which mounts nothing. */
	bool fenced = h_is_root();
	if (fenced && h_enter_shared_host() < 0)
		return;
	if (start_trap(&c) < 0)
		goto out;
	/* SIGKILL cannot be caught or forwarded: only PR_SET_PDEATHSIG
	 * ends the container. The trap probe ignores its stdin closing, so
	 * nothing else would. */
	kill(c.pid, SIGKILL);
	h_finish(&c, NULL, H_TIMEOUT_MS);
	H_STATUS(c.r, 128 + SIGKILL);
	H_OUT(c.r, "ready\n");
	H_RUN(c.r, h_pgroup_gone(c.pid, 5000));
	/* Clean up after a runtime that failed the test. */
	kill(-c.pid, SIGKILL);
	h_free(&c.r);
out:
	if (fenced)
		h_leave_shared_host();
}

static const struct stage_test tests[] = {
	{"test_signals_reach_the_command", test_signals_reach_the_command,
	 false},
	{"test_killed_runtime_kills_container",
	 test_killed_runtime_kills_container, false},
	{NULL, NULL, false},
};

const struct stage_suite suite_faults = {1, "faults", false, tests};
