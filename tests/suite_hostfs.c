/* Stage 4 on: nothing inside the container leads back to a host directory,
 * not its working directory, its root, or an open file descriptor. */

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define MARKER "minidocker-host-cwd-marker"

static void test_host_cwd_unreachable(void)
{
	char dir[] = "/tmp/minidocker-cwd-XXXXXX", marker[64], back[PATH_MAX];
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(marker, sizeof(marker), "%s/" MARKER, dir);
	int fd = open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_FATAL(getcwd(back, sizeof(back)) != NULL);

	/* The runtime starts in a host directory of its own... */
	struct run_result links, exists;
	CU_ASSERT_FATAL(chdir(dir) == 0);
	RUN(links, NULL, "run", H.probe, "links", "/proc/1/cwd", "/proc/1/root",
	    "/proc/self/cwd", "/proc/self/root");
	RUN(exists, NULL, "run", H.probe, "exists", "/proc/1/cwd/" MARKER);
	CU_ASSERT_FATAL(chdir(back) == 0);

	/* ...which the command, as PID 1 or not, cannot see. */
	H_STATUS(links, 0);
	H_OUT(links, "/\n/\n/\n/\n");
	H_STATUS(exists, 0);
	H_OUT(exists, "no\n");
	h_free(&links);
	h_free(&exists);
	unlink(marker);
	rmdir(dir);
}

static void test_open_fds_are_only_pipes(void)
{
	struct run_result r;
	/* The harness gives the runtime pipes for 0-2 and fd H_LEAKED_FD:
	 * the command has the pipes and nothing that names a host path. */
	RUN(r, NULL, "run", H.probe, "links", "/proc/1/fd/0", "/proc/1/fd/1",
	    "/proc/1/fd/2");
	H_STATUS(r, 0);
	int pipes = 0;
	for (const char *p = r.out; (p = strstr(p, "pipe:[")); p++)
		pipes++;
	H_RUN(r, pipes == 3);
	H_RUN(r, strchr(r.out, '/') == NULL);
	h_free(&r);
	RUN(r, NULL, "run", H.probe, "exists", "/proc/1/fd/3");
	H_OUT(r, "no\n");
	h_free(&r);
}

static const struct stage_test tests[] = {
	{"test_host_cwd_unreachable", test_host_cwd_unreachable, false},
	{"test_open_fds_are_only_pipes", test_open_fds_are_only_pipes, false},
	{NULL, NULL, false},
};

const struct stage_suite suite_hostfs = {4, "hostfs", true, tests};
