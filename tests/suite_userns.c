/* Stage 8: a user namespace; root inside is the invoking user outside,
 * and an ordinary user can start the whole container. */

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "file.h"
#include "harness.h"
#include "suites.h"

static void test_root_inside_maps_to_invoker(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "uidmap");
	CU_ASSERT_EQUAL(r.status, 0);
	/* Run by root: container root is uid 0, one id, nothing more. */
	CU_ASSERT_STRING_EQUAL(r.out, "0 0 1\n");
	h_free(&r);
}

static void test_rootless_container_starts(void)
{
	static const struct {
		const char *question, *answer;
	} checks[] = {
		{"ids", "uid 0 gid 0\n"},
		{"uidmap", "0 65534 1\n"},
		{"hostname", "container\n"},
		{"pid", "1\n"},
		{"procs", "1\n"},
		{"fstype", "proc\n"},
	};
	if (!h_become_nobody())
		return;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct run_result r;
		RUN(r, NULL, "run", H.probe, checks[i].question, "/proc");
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_STRING_EQUAL(r.out, checks[i].answer);
		/* Without a delegated cgroup it says, once, that there is
		 * no limit: never silently, never pretending. */
		CU_ASSERT_TRUE(h_one_line(r.err));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "no pids limit"));
		h_free(&r);
	}
	h_back_to_root();
}

static void test_rootless_process_is_user_on_host(void)
{
	if (!h_become_nobody())
		return;
	struct container c;
	if (h_start_ready(&c) < 0) {
		h_back_to_root();
		return;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)h_child_of(c.pid));
	char *status = h_read_file(path);
	/* Root inside, nobody outside: real, effective, saved, fs uid. */
	CU_ASSERT_PTR_NOT_NULL(status && strstr(status, "\nUid:\t65534\t65534"
							"\t65534\t65534\n"));
	free(status);
	h_finish(&c, NULL, H_TIMEOUT_MS);
	CU_ASSERT_EQUAL(c.r.status, 0);
	h_free(&c.r);
	h_back_to_root();
}

static void test_file_made_by_root_inside_is_users(void)
{
	if (!h_become_nobody())
		return;
	/* A directory in the root filesystem that the user may write. */
	char host_dir[PATH_MAX], inside[64], host_file[PATH_MAX + 16];
	snprintf(inside, sizeof(inside), "/scratch-%d", (int)getpid());
	snprintf(host_dir, sizeof(host_dir), "%s%s", H.rootfs, inside);
	CU_ASSERT(mkdir(host_dir, 0700) == 0 &&
		  chown(host_dir, H_NOBODY, H_NOBODY) == 0);
	strcat(inside, "/made-by-root");
	snprintf(host_file, sizeof(host_file), "%s/made-by-root", host_dir);

	struct run_result r;
	RUN(r, NULL, "run", H.probe, "create", inside);
	CU_ASSERT_EQUAL(r.status, 0);
	h_free(&r);
	RUN(r, NULL, "run", H.probe, "owner", inside);
	/* Inside it belongs to root... */
	CU_ASSERT_STRING_EQUAL(r.out, "0\n");
	h_free(&r);
	/* ...on the host to the user who ran the container. */
	struct stat st;
	CU_ASSERT_EQUAL(stat(host_file, &st), 0);
	CU_ASSERT_EQUAL(st.st_uid, H_NOBODY);
	h_back_to_root();
}

/* Hand the cgroup v2 group dir to H_NOBODY as systemd delegates one to a
 * user: the group and its process files are the user's, pids is handed
 * down, and the user's processes sit in a leaf below. Returns the leaf's
 * cgroup.procs in procs, 0, or -1. */
static int delegate(const char *dir, char *procs, size_t len)
{
	static const char *const owned[] = {"", "/cgroup.procs",
					    "/cgroup.subtree_control",
					    "/cgroup.threads", "/leaf",
					    "/leaf/cgroup.procs",
					    "/leaf/cgroup.threads"};
	char path[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	if (write_file(path, "+pids") < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/leaf", dir);
	if (mkdir(path, 0755) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, owned[i]);
		if (chown(path, H_NOBODY, H_NOBODY) < 0)
			return -1;
	}
	snprintf(procs, len, "%s/leaf/cgroup.procs", dir);
	return 0;
}

static void test_rootless_limit_only_where_delegated(void)
{
	/* A hard cap of the test's own, for the case without a limit. */
	const char *cap = h_make_cap_group("deleg", 200);
	if (!cap)
		return;
	char dir[PATH_MAX + 64], procs[PATH_MAX + 96], leaf[PATH_MAX + 96];
	snprintf(dir, sizeof(dir), "%s", cap);
	snprintf(leaf, sizeof(leaf), "%s/leaf", dir);
	bool v2 = h_pids_version() == 2;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if (v2 && delegate(dir, procs, sizeof(procs)) < 0) {
		CU_FAIL("cannot delegate a cgroup to the user");
		goto out;
	}
	if (!h_become_nobody())
		goto out;
	struct container c;
	const char *args[] = {"run", "--pids-max", "5", H.probe, "bomb",
			      "300", NULL};
	int started = h_start(&c, procs, args);
	if (started == 0)
		h_finish(&c, NULL, H_TIMEOUT_MS);
	h_back_to_root();
	if (started < 0)
		goto out;
	long forked = -1, refused = -1;
	sscanf(c.r.out, "forked %ld refused %ld", &forked, &refused);
	CU_ASSERT_EQUAL(c.r.status, 0);
	if (v2) {
		/* Delegated: the limit holds without root, and silently. */
		CU_ASSERT_TRUE(forked >= 0 && forked <= 4 && refused > 0);
		CU_ASSERT_STRING_EQUAL(c.r.err, "");
	} else {
		/* cgroup v1 is never delegated: no limit, and it says so. */
		CU_ASSERT_TRUE(forked > 4);
		CU_ASSERT_TRUE(h_one_line(c.r.err));
		CU_ASSERT_PTR_NOT_NULL(strstr(c.r.err, "no pids limit"));
	}
	h_free(&c.r);
out:
	rmdir(leaf);
	cgroup_remove(dir, 5000);
}

/* Run the binary where user namespaces are used up: in a user namespace
 * of our own whose user.max_user_namespaces is 0. Sends the status and
 * stderr back over fd. */
static void run_where_userns_forbidden(int fd)
{
	char map[32];
	snprintf(map, sizeof(map), "0 %d 1", (int)getuid());
	if (unshare(CLONE_NEWUSER) < 0 ||
	    write_file("/proc/self/uid_map", map) < 0 ||
	    write_file("/proc/sys/user/max_user_namespaces", "0") < 0) {
		dprintf(fd, "setup failed");
		_exit(1);
	}
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "pid");
	dprintf(fd, "%d %s", r.status, r.err);
	_exit(0);
}

static void test_forbidden_userns_names_setting(void)
{
	int p[2];
	CU_ASSERT_FATAL(pipe(p) == 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		run_where_userns_forbidden(p[1]);
	}
	close(p[1]);
	char buf[1024] = "";
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(buf) - 1 &&
	       (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(p[0]);
	waitpid(pid, NULL, 0);
	int status = -1;
	sscanf(buf, "%d", &status);
	CU_ASSERT_EQUAL(status, 125);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "user.max_user_namespaces is 0"));
}

static const struct stage_test tests[] = {
	{"test_root_inside_maps_to_invoker", test_root_inside_maps_to_invoker,
	 true},
	{"test_rootless_container_starts", test_rootless_container_starts,
	 true},
	{"test_rootless_process_is_user_on_host",
	 test_rootless_process_is_user_on_host, true},
	{"test_file_made_by_root_inside_is_users",
	 test_file_made_by_root_inside_is_users, true},
	{"test_forbidden_userns_names_setting",
	 test_forbidden_userns_names_setting, true},
	{"test_rootless_limit_only_where_delegated",
	 test_rootless_limit_only_where_delegated, true},
	{NULL, NULL, false},
};

const struct stage_suite suite_userns = {8, "userns", true, tests};
