/* Stage 4: chroot into a root filesystem with a /proc of its own. */

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"
#include "util.h"

static void test_host_files_invisible(void)
{
	char marker[64];
	if (h_make_marker(marker, sizeof(marker), "marker") < 0)
		return;
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "exists", marker);
	H_STATUS(r, 0);
	H_OUT(r, "no\n");
	h_free(&r);
	/* The runner itself, on the host, is out of sight too. */
	RUN(r, NULL, "run", H.probe, "exists", H.host_probe);
	H_OUT(r, "no\n");
	h_free(&r);
	unlink(marker);
}

static void test_only_container_processes_listed(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "procs");
	H_STATUS(r, 0);
	H_OUT(r, "1\n");
	h_free(&r);
}

static void test_proc_is_procfs(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "fstype", "/proc");
	H_STATUS(r, 0);
	H_OUT(r, "proc\n");
	h_free(&r);
}

static char proc_dir[PATH_MAX];

static void test_host_sees_proc_mount_while_running(void)
{
	snprintf(proc_dir, sizeof(proc_dir), "%s/proc", H.rootfs);
	struct container c;
	if (h_start_ready(&c) < 0)
		return;
	/* The lesson for stage 5: the host's mount table has it. */
	H_RUN(c.r, h_mounted_under(proc_dir));
	h_finish(&c, NULL, H_TIMEOUT_MS);
	H_STATUS(c.r, 0);
	H_RUN(c.r, !h_mounted_under(proc_dir));
	h_free(&c.r);
}

static void test_no_mount_left_after_exit(void)
{
	/* Whichever way the container ends, the host keeps no mount. */
	static const char *const cases[][4] = {
		{"exit", "0", NULL},
		{"exit", "3", NULL},
		{"crash", "SEGV", NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run_result r;
		RUN(r, NULL, "run", H.probe, cases[i][0], cases[i][1]);
		H_RUN(r, !h_mounted_under(H.rootfs));
		h_free(&r);
	}
	struct run_result r;
	RUN(r, NULL, "run", "/no/such/command");
	H_STATUS(r, 127);
	H_RUN(r, !h_mounted_under(H.rootfs));
	h_free(&r);
}

static void test_missing_rootfs_is_125(void)
{
	static const char *const bad[] = {"/no/such/rootfs", "/etc/passwd",
					  "/var/empty-minidocker-test"};
	mkdir(bad[2], 0755);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct run_result r;
		RUN(r, NULL, "run", "--rootfs", bad[i], H.probe, "pid");
		H_STATUS(r, 125);
		H_OUT(r, "");
		H_RUN(r, h_one_line(r.err));
		H_RUN(r, strstr(r.err, bad[i]) != NULL);
		H_RUN(r, strstr(r.err, "rootfs-fetch.sh") != NULL);
		h_free(&r);
	}
	rmdir(bad[2]);
}

static const struct stage_test tests[] = {
	{"test_host_files_invisible", test_host_files_invisible, true},
	{"test_only_container_processes_listed",
	 test_only_container_processes_listed, true},
	{"test_proc_is_procfs", test_proc_is_procfs, false},
	{"test_host_sees_proc_mount_while_running",
	 test_host_sees_proc_mount_while_running, true},
	{"test_no_mount_left_after_exit", test_no_mount_left_after_exit, false},
	{"test_missing_rootfs_is_125", test_missing_rootfs_is_125, true},
	{NULL, NULL, false},
};

const struct stage_suite suite_chroot = {4, "chroot", true, tests};
