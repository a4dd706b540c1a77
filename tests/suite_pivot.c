/* Stage 7: pivot_root; the host's root is gone from the container's
 * mount namespace, so the chroot escape finds nothing. */

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

static void test_chroot_escape_fails(void)
{
	char marker[64];
	if (h_make_marker(marker, sizeof(marker), "breakout") < 0)
		return;
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "breakout", marker);
	H_STATUS(r, 0);
	H_OUT(r, "contained\n");
	h_free(&r);
	unlink(marker);
}

static void test_old_root_not_mounted(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "mountinfo");
	H_STATUS(r, 0);
	/* Exactly two mounts: the root filesystem as / and its /proc;
	 * any other (stage 11's /dev, /sys and walls) only below /dev,
	 * /proc or /sys, where the host's would be seen at the same place,
	 * or one of the files stage 14 binds in /etc: none of them is the
	 * old root. */
	int lines = 0, roots = 0, procs = 0;
	for (char *save, *line = strtok_r(r.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char point[256] = "";
		sscanf(line, "%*s %*s %*s %*s %255s", point);
		lines += strncmp(point, "/dev/", 5) && strcmp(point, "/dev") &&
			 strncmp(point, "/proc/", 6) &&
			 strncmp(point, "/sys/", 5) && strcmp(point, "/sys") &&
			 strcmp(point, "/etc/hostname") &&
			 strcmp(point, "/etc/hosts") &&
			 strcmp(point, "/etc/resolv.conf");
		roots += !strcmp(point, "/");
		procs += !strcmp(point, "/proc");
	}
	H_RUN(r, roots == 1);
	H_RUN(r, procs == 1);
	H_RUN(r, lines == 2);
	h_free(&r);
}

static const struct stage_test tests[] = {
	{"test_chroot_escape_fails", test_chroot_escape_fails, true},
	{"test_old_root_not_mounted", test_old_root_not_mounted, true},
	{NULL, NULL, false},
};

const struct stage_suite suite_pivot = {7, "pivot", true, tests};
