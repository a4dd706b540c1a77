/* Stage 8: a user namespace; root inside is the invoking user outside,
 * and an ordinary user can start the whole container. */

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "file.h"
#include "harness.h"
#include "suites.h"
#include "util.h"

/* Run the binary under test as H_NOBODY from here on (h_become_nobody).
 *
 * As the proof against stage 7, which has no user namespace, the copy is
 * setuid root: the only way stage 7 starts for an ordinary user. Each
 * rootless test then fails at the property it names, because the
 * container's root is the host's root (not for want of privilege). */
static bool become_nobody(void)
{
	if (!h_become_nobody())
		return false;
	if (H.stage < 8 && chmod(H.binary, 04755) < 0) {
		CU_FAIL("cannot make the stage before setuid root");
		return false;
	}
	return true;
}

/* The finished rootless run r left no process, no mount under the copied
 * root filesystem, no group: neither where root's would be nor, when
 * delegated is not NULL, in the group delegated to the user. */
#define LEFT_NOTHING(r) left_nothing(&(r), NULL, __LINE__)
#define LEFT_NOTHING_IN(r, delegated) left_nothing(&(r), (delegated), __LINE__)
static void left_nothing(const struct run_result *r, const char *delegated,
			 int line)
{
	const char *left = h_left_behind(r->pid, H.rootfs);
	char group[PATH_MAX + 64];
	if (!left && delegated) {
		snprintf(group, sizeof(group), "%s/" CGROUP_PREFIX "%d",
			 delegated, (int)r->pid);
		if (access(group, F_OK) == 0)
			left = "its cgroup in the delegated group";
	}
	char what[128];
	snprintf(what, sizeof(what), "left %s behind", left ? left : "nothing");
	h_run_check(r, left == NULL, -2, line, __FILE__, what);
}

static void test_root_inside_maps_to_invoker(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "uidmap");
	H_STATUS(r, 0);
	/* Run by root: container root is uid 0, one id, nothing more. */
	H_OUT(r, "0 0 1\n");
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
	if (!become_nobody())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		struct run_result r;
		RUN(r, NULL, "run", H.probe, checks[i].question, "/proc");
		H_STATUS(r, 0);
		H_OUT(r, checks[i].answer);
		/* Without a delegated cgroup it says, once, that there is
		 * no limit: never silently, never pretending. */
		H_RUN(r, h_one_line(r.err));
		H_RUN(r, strstr(r.err, "no pids limit") != NULL);
		LEFT_NOTHING(r);
		h_free(&r);
	}
	h_back_to_root();
}

static void test_rootless_process_is_user_on_host(void)
{
	if (!become_nobody())
		return;
	struct container c;
	if (h_start_ready(&c) < 0) {
		h_back_to_root();
		return;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)h_child_of(c.pid));
	char *status = h_read_file(path), uids[64] = "?";
	const char *line = status ? strstr(status, "\nUid:") : NULL;
	if (line)
		snprintf(uids, sizeof(uids), "%.*s", (int)strcspn(line + 1, "\n"),
			 line + 1);
	/* Root inside, nobody outside: real, effective, saved, fs uid. */
	char what[128];
	snprintf(what, sizeof(what), "on the host '%s', want 65534 four times",
		 uids);
	H_CHECK(!strcmp(uids, "Uid:\t65534\t65534\t65534\t65534"), what);
	free(status);
	h_finish(&c, NULL, H_TIMEOUT_MS);
	H_STATUS(c.r, 0);
	LEFT_NOTHING(c.r);
	h_free(&c.r);
	h_back_to_root();
}

/* A runtime killed without warning takes its container with it, also
 * without root; tests.mk's no-prepare-child fixture (the child does not
 * ask to die with the runtime) shows this check fail. */
static void test_rootless_killed_runtime_leaves_nothing(void)
{
	if (!become_nobody())
		return;
	/* The trap probe outlives its stdin: only dying with the runtime
	 * ends it. */
	const char *args[] = {"run", H.probe, "trap", NULL};
	struct container c;
	if (h_start_until(&c, args, "ready\n") == 0) {
		kill(c.pid, SIGKILL);
		h_finish(&c, NULL, H_TIMEOUT_MS);
		H_STATUS(c.r, 128 + SIGKILL);
		LEFT_NOTHING(c.r);
		h_free(&c.r);
	}
	h_back_to_root();
}

static void test_file_made_by_root_inside_is_users(void)
{
	if (!become_nobody())
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
	H_STATUS(r, 0);
	LEFT_NOTHING(r);
	h_free(&r);
	RUN(r, NULL, "run", H.probe, "owner", inside);
	/* Inside it belongs to root... */
	H_OUT(r, "0\n");
	LEFT_NOTHING(r);
	h_free(&r);
	/* ...on the host to the user who ran the container. */
	struct stat st;
	H_CHECK(stat(host_file, &st) == 0, "the file made inside");
	char what[64];
	snprintf(what, sizeof(what), "owned by uid %d on the host",
		 (int)st.st_uid);
	H_CHECK(st.st_uid == H_NOBODY, what);
	h_back_to_root();
}

/* Hand the cgroup v2 group dir to H_NOBODY as systemd delegates one to a
 * user: the group and its process files are the user's, pids is handed
 * down, and the user's processes sit in a leaf below. Returns the leaf's
 * cgroup.procs in procs, 0, or -1. */
int delegate(const char *dir, char *procs, size_t len)
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
	for (size_t i = 0; i < ARRAY_SIZE(owned); i++) {
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
	if (!become_nobody())
		goto out;
	struct container c;
	const char *args[] = {"run", "--pids-max", "5", H.probe, "bomb",
			      "300", NULL};
	int started = h_start(&c, procs, args);
	bool in_delegated = false; /* its group seen inside dir */
	if (started == 0) {
		char mine[PATH_MAX + 128];
		snprintf(mine, sizeof(mine), "%s/" CGROUP_PREFIX "%d", dir,
			 (int)c.pid);
		while (!h_wait_output(&c, "forked", 5) && c.out >= 0)
			in_delegated = in_delegated || access(mine, F_OK) == 0;
		h_finish(&c, NULL, H_TIMEOUT_MS);
		LEFT_NOTHING_IN(c.r, dir);
	}
	h_back_to_root();
	if (started < 0)
		goto out;
	long forked = -1, refused = -1;
	sscanf(c.r.out, "forked %ld refused %ld", &forked, &refused);
	H_STATUS(c.r, 0);
	if (v2) {
		/* Delegated: the limit holds without root, and silently, in
		 * a group inside the one delegated (root's runtime, as the
		 * setuid stage 7 of the proof, makes it elsewhere). */
		H_RUN(c.r, in_delegated);
		H_RUN(c.r, forked >= 0 && forked <= 4 && refused > 0);
		H_RUN(c.r, !strcmp(c.r.err, ""));
	} else {
		/* cgroup v1 is never delegated: no limit, and it says so. */
		H_RUN(c.r, forked > 4);
		H_RUN(c.r, h_one_line(c.r.err));
		H_RUN(c.r, strstr(c.r.err, "no pids limit") != NULL);
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
	char buf[1024];
	if (h_in_child(run_where_userns_forbidden, buf, sizeof(buf)) < 0)
		return;
	int status = -1;
	sscanf(buf, "%d", &status);
	char what[1100];
	snprintf(what, sizeof(what), "where user namespaces are forbidden, "
		 "status and stderr: %s", buf);
	H_CHECK(status == 125, what);
	H_CHECK(strstr(buf, "user.max_user_namespaces is 0") != NULL, what);
}

/* A child that dies before it reads the start byte (the fixture
 * fixture-no-start, stage 8 changed so by tests.mk): the runtime's write
 * meets a pipe nobody reads. It must say so in one line and exit 125,
 * leaving no group, not die of SIGPIPE (141) without a word. */
static void test_broken_handshake_is_one_line_125(void)
{
	char fixture[PATH_MAX];
	snprintf(fixture, sizeof(fixture), "%s", H.binary);
	char *slash = strrchr(fixture, '/');
	if (!slash || (size_t)(slash - fixture) + 32 > sizeof(fixture)) {
		CU_FAIL("cannot name the fixture beside the stage binary");
		return;
	}
	strcpy(slash + 1, "fixture-no-start");
	if (access(fixture, X_OK) < 0) {
		CU_FAIL("no fixture-no-start beside the stage: make tests builds it");
		return;
	}
	/* The fixture is a stage 8: the harness gives it only the options
	 * stage 8 has (later stages' --rootfs and --net it would refuse). */
	const char *stage = H.binary;
	int stage_n = H.stage;
	H.binary = fixture;
	H.stage = 8;
	struct container c;
	const char *args[] = {"run", H.probe, "out", "must not run", NULL};
	int started = h_start(&c, NULL, args);
	H.binary = stage;
	H.stage = stage_n;
	if (started < 0)
		return;
	h_finish(&c, NULL, H_TIMEOUT_MS);
	CU_ASSERT_EQUAL(c.r.status, 125);
	CU_ASSERT_STRING_EQUAL(c.r.out, "");
	CU_ASSERT_TRUE(h_one_line(c.r.err));
	CU_ASSERT_PTR_NOT_NULL(strstr(c.r.err, "cannot start the child process"));
	const char *group = h_group_of(c.pid);
	if (group)
		CU_ASSERT_NOT_EQUAL(access(group, F_OK), 0);
	h_free(&c.r);
}

static const struct stage_test tests[] = {
	{"test_root_inside_maps_to_invoker", test_root_inside_maps_to_invoker,
	 true},
	{"test_rootless_container_starts", test_rootless_container_starts,
	 true},
	{"test_rootless_process_is_user_on_host",
	 test_rootless_process_is_user_on_host, true},
	{"test_rootless_killed_runtime_leaves_nothing",
	 test_rootless_killed_runtime_leaves_nothing, false},
	{"test_file_made_by_root_inside_is_users",
	 test_file_made_by_root_inside_is_users, true},
	{"test_forbidden_userns_names_setting",
	 test_forbidden_userns_names_setting, true},
	{"test_rootless_limit_only_where_delegated",
	 test_rootless_limit_only_where_delegated, true},
	{"test_broken_handshake_is_one_line_125",
	 test_broken_handshake_is_one_line_125, false},
	{NULL, NULL, false},
};

const struct stage_suite suite_userns = {8, "userns", true, tests};
