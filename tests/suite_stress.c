/* Stage 6 on, with `runner --stress`: hundreds of containers one after the
 * other and twenty side by side leave no mount, cgroup or process behind,
 * and the runtime holds the same fds in the 500th run as in the first. */

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define N_SEQUENTIAL 500
#define N_PARALLEL 20

/* How many fds the process pid has open; -1 if it is gone. */
static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Whether the runtime pid (pointed to) sits in wait4(), waiting for its
 * container: past its setup, so its fds are the ones it keeps. */
static bool in_wait(void *pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/syscall", *(int *)pid);
	char *text = h_read_file(path);
	bool waiting = text && atoi(text) == SYS_wait4;
	free(text);
	return waiting;
}

/* Check what the runtime pid left: no group, no process, no mount. */
static void test_sequential_runs_leave_nothing(void)
{
	int first_fds = -1, bad_fds = 0, bad_status = 0, leftovers = 0;
	for (int i = 0; i < N_SEQUENTIAL; i++) {
		struct container c;
		if (h_start_ready(&c) < 0)
			break;
		/* The runtime's own fds while its container runs. */
		int pid = c.pid;
		bool waiting = h_poll(in_wait, &pid, 5000);
		int fds = count_fds(c.pid);
		if (first_fds < 0)
			first_fds = fds;
		bad_fds += fds != first_fds;
		h_finish(&c, NULL, H_TIMEOUT_MS);
		/* The first run that goes wrong is shown in full. */
		bool bad = !waiting || c.r.status != 0 || c.r.err[0] != '\0';
		if (bad && bad_status++ == 0) {
			H_RUN(c.r, waiting);
			H_STATUS(c.r, 0);
			H_RUN(c.r, c.r.err[0] == '\0');
		}
		const char *left = h_left_behind(c.pid, NULL);
		if (left && leftovers++ == 0) {
			char what[96];
			snprintf(what, sizeof(what), "run %d left %s", i + 1,
				 left);
			h_run_check(&c.r, false, -2, __LINE__, __FILE__, what);
		}
		h_free(&c.r);
	}
	printf("(runtime fds: %d) ", first_fds);
	char what[160];
	snprintf(what, sizeof(what), "of %d runs: %d with other fds than the "
		 "first's %d, %d went wrong, %d left something", N_SEQUENTIAL,
		 bad_fds, first_fds, bad_status, leftovers);
	H_CHECK(first_fds > 0 && bad_fds == 0, what);
	H_CHECK(bad_status == 0 && leftovers == 0, what);
}

static void test_parallel_runs_leave_nothing(void)
{
	struct container c[N_PARALLEL];
	int started = 0, groups = 0;
	for (; started < N_PARALLEL; started++)
		if (h_start_ready(&c[started]) < 0)
			break;
	/* All at once: a group each, none of them mixed up. */
	for (int i = 0; i < started; i++) {
		const char *group = h_group_of(c[i].pid);
		groups += group && access(group, F_OK) == 0;
	}
	char what[128];
	snprintf(what, sizeof(what), "%d of %d started, %d with a group",
		 started, N_PARALLEL, groups);
	H_CHECK(started == N_PARALLEL && groups == N_PARALLEL, what);
	int bad_status = 0, leftovers = 0;
	for (int i = 0; i < started; i++) {
		h_finish(&c[i], NULL, H_TIMEOUT_MS);
		if (c[i].r.status != 0 && bad_status++ == 0)
			H_STATUS(c[i].r, 0); /* the first, in full */
	}
	for (int i = 0; i < started; i++) {
		const char *left = h_left_behind(c[i].pid, NULL);
		if (left && leftovers++ == 0) {
			snprintf(what, sizeof(what), "a container left %s",
				 left);
			h_run_check(&c[i].r, false, -2, __LINE__, __FILE__,
				    what);
		}
		h_free(&c[i].r);
	}
	snprintf(what, sizeof(what), "of %d: %d went wrong, %d left something",
		 started, bad_status, leftovers);
	H_CHECK(bad_status == 0 && leftovers == 0, what);
}

static const struct stage_test tests[] = {
	{"test_sequential_runs_leave_nothing",
	 test_sequential_runs_leave_nothing, false},
	{"test_parallel_runs_leave_nothing", test_parallel_runs_leave_nothing,
	 false},
	{NULL, NULL, false},
};

const struct stage_suite suite_stress = {6, "stress", true, tests};
