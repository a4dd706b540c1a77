/* Stage 9: memory and CPU limits. A memory hog is OOM-killed at its limit
 * and the runtime says so; a CPU hog gets its quota, read from the group's
 * own accounting; every group is gone afterwards, in every controller.
 * Every hog is bounded by the probe (at most 256 MiB, at most 30 s), so a
 * stage without limits fails these tests without hurting the machine. */

#include <CUnit/CUnit.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "file.h"
#include "harness.h"
#include "suites.h"

#define LIMITS_STAGE 9
#define MAX_ARGS 16

/* Build "run [limit options] <probe> <question> [arg]". Against stage 8
 * (the proofs) the harness drops the options that stage does not have
 * (opt_table), so it runs the same command without the limits and fails
 * because they are missing, not because an option is unknown. */
struct cmd {
	const char *argv[MAX_ARGS];
	size_t n;
};

static void cmd_start(struct cmd *c)
{
	c->n = 0;
	c->argv[c->n++] = "run";
}

static void cmd_limit(struct cmd *c, const char *option, const char *value)
{
	c->argv[c->n++] = option;
	c->argv[c->n++] = value;
}

static const char *const *cmd_probe(struct cmd *c, const char *question,
				    const char *arg)
{
	c->argv[c->n++] = H.probe;
	c->argv[c->n++] = question;
	if (arg)
		c->argv[c->n++] = arg;
	c->argv[c->n] = NULL;
	return c->argv;
}

/* The cgroup of controller ctrl ("memory", "cpu", "cpuacct") the runtime
 * with pid makes for its container: on v2 its one group, on v1 one in
 * each controller's hierarchy. */
static const char *group_in(const char *ctrl, pid_t pid)
{
	static char dir[PATH_MAX + 128];
	const char *base = getenv("MINIDOCKER_CGROUP_ROOT");
	if (h_pids_version() == 2)
		return h_group_of(pid);
	if (!base || !*base)
		base = "/sys/fs/cgroup";
	snprintf(dir, sizeof(dir), "%s/%s/" CGROUP_PARENT "/" CGROUP_PREFIX
		 "%d", base, ctrl, (int)pid);
	return dir;
}

/* OOM kills the kernel has counted on the whole machine (v1 counts a
 * group's own only in the group, gone with the container). */
static long long oom_kills_counted(void)
{
	return read_key("/proc", "vmstat", "oom_kill");
}

/* The CPU time, in microseconds, of process pid and its children, as the
 * scheduler counts it (schedstat), or -1. */
static long long tree_cpu_us(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	long long ns = read_key(path, "schedstat", NULL);
	if (ns < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	char *kids = h_read_file(path);
	for (char *p = kids, *end; p && *p; p = end) {
		long kid = strtol(p, &end, 10);
		if (end == p)
			break;
		long long us = tree_cpu_us((pid_t)kid);
		ns += us > 0 ? us * 1000 : 0;
	}
	free(kids);
	return ns / 1000;
}

/* The CPU time, in microseconds, the container of runtime pid has used:
 * from its group's accounting (cpu.stat on v2, cpuacct.usage on v1); for
 * a stage without such a group, its processes' own (schedstat), so that
 * the proof measures the same thing. */
static long long cpu_used_us(pid_t runtime, pid_t child)
{
	long long us;
	if (h_pids_version() == 2)
		us = read_key(group_in("cpu", runtime), "cpu.stat",
			      "usage_usec");
	else if ((us = read_key(group_in("cpuacct", runtime), "cpuacct.usage",
				NULL)) >= 0)
		us /= 1000;
	if (us >= 0 || H.stage >= LIMITS_STAGE)
		return us;
	return tree_cpu_us(child);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spin in a container with --cpus cpus (NULL: none) and return the CPU
 * seconds its group got per second of a 2 s window, or -1; and in
 * throttled, how many periods the scheduler throttled the group in, by
 * the group's cpu.stat (-1 when it has none). */
/* The machine's idle time so far, in clock ticks (/proc/stat's cpu line:
 * idle and iowait). */
static long long idle_ticks(void)
{
	char *text = h_read_file("/proc/stat");
	long long v[5] = {0};
	if (text)
		sscanf(text, "cpu %lld %lld %lld %lld %lld", &v[0], &v[1],
		       &v[2], &v[3], &v[4]);
	free(text);
	return v[3] + v[4];
}

/* CPUs' worth of time the machine left idle between the idle_ticks()
 * reading i0 at t0 and now (t1). */
static double idle_cpus(long long i0, double t0, double t1)
{
	return (idle_ticks() - i0) / (double)sysconf(_SC_CLK_TCK) / (t1 - t0);
}

/* The machine's idle CPUs during the last cpu_share() window. */
static double last_idle;

static double cpu_share(const char *cpus, long long *throttled)
{
	struct cmd cmd;
	struct container c;
	cmd_start(&cmd);
	if (cpus)
		cmd_limit(&cmd, "--cpus", cpus);
	/* Two spinners: unlimited they take what two CPUs give, far from
	 * the quota even on a busy machine. */
	cmd_probe(&cmd, "spin", "4000");
	cmd.argv[cmd.n++] = "2";
	cmd.argv[cmd.n] = NULL;
	if (h_start_until(&c, cmd.argv, "spinning") < 0)
		return -1;
	pid_t child = h_child_of(c.pid);
	/* Past the start, into the steady state of whole periods. */
	usleep(200 * 1000);
	double t0 = now_s();
	long long i0 = idle_ticks();
	long long u0 = cpu_used_us(c.pid, child);
	/* A measuring window, not a wait for something to happen. */
	usleep(2000 * 1000);
	long long u1 = cpu_used_us(c.pid, child);
	double t1 = now_s();
	last_idle = idle_cpus(i0, t0, t1);
	*throttled = read_key(group_in("cpu", c.pid), "cpu.stat",
			      "nr_throttled");
	/* Measured: the spinners' last 1.8 s would only be waited out.
	 * SIGKILL to the container's first process, its PID 1, ends
	 * them all (the kernel kills the rest of its PID namespace); the
	 * runtime passes the status on, 137. */
	if (child > 0)
		kill(child, SIGKILL);
	h_finish(&c, NULL, H_TIMEOUT_MS);
	CU_ASSERT_EQUAL(c.r.status, child > 0 ? 128 + SIGKILL : 0);
	h_free(&c.r);
	if (u0 < 0 || u1 < 0) {
		CU_FAIL("no CPU accounting for the container's group");
		return -1;
	}
	double share = (u1 - u0) / 1e6 / (t1 - t0);
	printf("\n    cpu share with --cpus %s: %.3f (machine idle: %.2f "
	       "CPUs) ", cpus ? cpus : "(none)", share, last_idle);
	return share;
}

static void test_memory_hog_killed_at_limit(void)
{
	long long before = oom_kills_counted();
	struct cmd cmd;
	struct run_result r;
	cmd_start(&cmd);
	cmd_limit(&cmd, "--memory", "32m");
	/* 64 MiB: twice the limit, a quarter of the probe's bound. */
	h_run(&r, NULL, cmd_probe(&cmd, "hog", "64"));
	long long after = oom_kills_counted();
	H_CHECK(r.status == 128 + SIGKILL, "hog of 64m under --memory 32m");
	H_CHECK(strstr(r.out, "done") == NULL, "the hog never finished");
	H_CHECK(h_one_line(r.err), "exactly one line on stderr");
	H_CHECK(strstr(r.err, "out of memory") &&
			strstr(r.err, "limit"),
		"that line says: out of memory at its limit");
	/* The kernel's own count. */
	H_CHECK(after > before && before >= 0, "oom_kill counted");
	if (r.status != 128 + SIGKILL || !h_one_line(r.err))
		printf("\n    status %d, stderr: %.200s ", r.status, r.err);
	h_free(&r);
}

static void test_memory_hog_completes_unlimited(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "hog", "64");
	H_CHECK(r.status == 0, "hog of 64m with no limit");
	H_CHECK(strstr(r.out, "done") != NULL, "the hog finished");
	H_CHECK(strcmp(r.err, "") == 0, "nothing on stderr");
	h_free(&r);
}

static void test_memory_limit_in_group(void)
{
	struct cmd cmd;
	struct container c;
	cmd_start(&cmd);
	cmd_limit(&cmd, "--memory", "64m");
	if (h_start_until(&c, cmd_probe(&cmd, "ready", NULL), "ready") < 0)
		return;
	const char *dir = group_in("memory", c.pid);
	bool v2 = h_pids_version() == 2;
	long long limit = read_key(dir, v2 ? "memory.max"
					   : "memory.limit_in_bytes", NULL);
	H_CHECK(limit == 64LL << 20, "the group's memory limit is 64m");
	/* Where swap is accounted, it is held to the limit as well. */
	long long swap = read_key(dir, v2 ? "memory.swap.max"
					  : "memory.memsw.limit_in_bytes",
				  NULL);
	char path[PATH_MAX + 192];
	snprintf(path, sizeof(path), "%s/%s", dir,
		 v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
	if (access(path, F_OK) == 0)
		H_CHECK(swap == (v2 ? 0 : 64LL << 20), "no swap past it");
	h_finish(&c, NULL, H_TIMEOUT_MS);
	CU_ASSERT_EQUAL(c.r.status, 0);
	h_free(&c.r);
}

/* Up to this many runs of a CPU test: the machine's other work may take
 * what the container would get, never give it more. */
#define CPU_TRIES 5

static void test_cpu_hog_gets_its_quota(void)
{
	double share = -1;
	long long throttled = -1;
	/* The quota is a ceiling, load or not: one run above it fails.
	 * Below the floor may be the machine's load: run it again. */
	for (int i = 0; i < CPU_TRIES; i++) {
		share = cpu_share("0.5", &throttled);
		if (share < 0 || share > 0.6 || share >= 0.4)
			break;
	}
	/* What the quota does: the scheduler stops the group for the rest
	 * of a period. Unless the machine was starved (no CPU idle) and the
	 * group got less than its quota: then it never reached the quota
	 * in a period, and was never throttled (seen under make test with
	 * other builds running: 0.38 CPU, nr_throttled 0). */
	bool starved = share >= 0 && share < 0.45 && last_idle < 0.1;
	H_CHECK(throttled > 0 || starved, "the group was throttled "
		"(cpu.stat nr_throttled), or the machine was starved");
	H_CHECK(share <= 0.6, "--cpus 0.5 gives at most 0.6 CPU seconds a "
			      "second");
	/* Or the machine had nothing left to give: it was starved, not
	 * limited (the ceiling and the throttling say the limit holds). */
	H_CHECK(share >= 0.4 || (share >= 0 && last_idle < 0.1),
		"--cpus 0.5 gives at least 0.4 CPU seconds a second, or "
		"every CPU the machine had free");
}

static void test_cpu_hog_unlimited_gets_a_cpu(void)
{
	/* Two spinners on an idle machine get up to two CPUs; judged
	 * leniently, above what --cpus 0.5 could ever give, and again when
	 * the machine was busy. */
	double share = -1;
	long long throttled;
	for (int i = 0; i < CPU_TRIES && share <= 0.7; i++)
		share = cpu_share(NULL, &throttled);
	/* Or, on a machine too busy for that, it took all there was: an
	 * unlimited container leaves no CPU idle while it spins. */
	H_CHECK(share > 0.6 || (share > 0 && last_idle < 0.1),
		"no --cpus: more than --cpus 0.5's ceiling, or every CPU "
		"the machine had free");
	H_CHECK(throttled <= 0, "no --cpus: never throttled");
}

/* Whether the container group of runtime pid exists in any controller
 * (1), in none (0); the list names those that do. */
static bool groups_exist(pid_t pid, bool all, char *which, size_t len)
{
	static const char *const ctrls[] = {"pids", "memory", "cpu",
					    "cpuacct"};
	size_t n = 0, found = 0;
	which[0] = '\0';
	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		const char *dir = !strcmp(ctrls[i], "pids")
					  ? h_group_of(pid)
					  : group_in(ctrls[i], pid);
		if (h_pids_version() == 2 && !strcmp(ctrls[i], "cpuacct"))
			continue;
		n++;
		if (access(dir, F_OK) == 0) {
			found++;
			snprintf(which + strlen(which), len - strlen(which),
				 " %s", ctrls[i]);
		}
	}
	return all ? found == n : found > 0;
}

/* Whether the groups of runtime pid hold --memory 64m --cpus 1: on v2
 * the group may have the controllers without limits (another runtime
 * handed them down to every group), so the limits are what tells. */
static bool limits_held(pid_t pid)
{
	bool v2 = h_pids_version() == 2;
	long long mem = read_key(group_in("memory", pid),
				 v2 ? "memory.max" : "memory.limit_in_bytes",
				 NULL);
	long long quota = read_key(group_in("cpu", pid),
				   v2 ? "cpu.max" : "cpu.cfs_quota_us", NULL);
	return mem == 64LL << 20 && quota == 100000;
}

static void test_groups_in_every_controller_removed(void)
{
	struct cmd cmd;
	struct container c;
	char which[128];
	cmd_start(&cmd);
	cmd_limit(&cmd, "--memory", "64m");
	cmd_limit(&cmd, "--cpus", "1");
	if (h_start_until(&c, cmd_probe(&cmd, "ready", NULL), "ready") < 0)
		return;
	H_CHECK(groups_exist(c.pid, true, which, sizeof(which)),
		"a group in pids, memory and cpu while it runs");
	H_CHECK(limits_held(c.pid), "holding 64m and 1 CPU");
	if (h_pids_version() == 2) {
		char *ctl = NULL;
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/cgroup.controllers",
			 h_group_of(c.pid));
		ctl = h_read_file(path);
		H_CHECK(ctl && strstr(ctl, "memory") && strstr(ctl, "cpu"),
			"v2: the group has the memory and cpu controllers");
		free(ctl);
	}
	h_finish(&c, NULL, H_TIMEOUT_MS);
	CU_ASSERT_EQUAL(c.r.status, 0);
	bool left = groups_exist(c.pid, false, which, sizeof(which));
	H_CHECK(!left, "no group left after exit");
	if (left)
		printf("\n    left:%s ", which);
	h_free(&c.r);
}

static void test_killed_runtime_groups_reaped(void)
{
	struct cmd cmd;
	struct container c;
	char which[128];
	cmd_start(&cmd);
	cmd_limit(&cmd, "--memory", "64m");
	cmd_limit(&cmd, "--cpus", "1");
	if (h_start_until(&c, cmd_probe(&cmd, "ready", NULL), "ready") < 0)
		return;
	/* SIGKILL the runtime alone: no chance to clean up. Until
	 * h_finish() reaps it, its pid counts as alive and no other
	 * runtime reaps its groups. */
	kill(c.pid, SIGKILL);
	H_CHECK(groups_exist(c.pid, true, which, sizeof(which)) &&
			limits_held(c.pid),
		"every group, with its limits, stays behind a killed runtime");
	h_finish(&c, NULL, H_TIMEOUT_MS);
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "exit", "0");
	CU_ASSERT_EQUAL(r.status, 0);
	bool left = groups_exist(c.pid, false, which, sizeof(which));
	H_CHECK(!left, "the next run removed them all");
	if (left)
		printf("\n    left:%s ", which);
	h_free(&r);
	h_free(&c.r);
}

static void test_bad_limits_are_125(void)
{
	static const char *const bad[][2] = {
		{"--memory", "0"},      {"--memory", "-1"},
		{"--memory", "12q"},    {"--memory", ""},
		{"--memory", "1.5g"},   {"--memory", "99999999999999g"},
		{"--memory", "5m"},     {"--memory", "1000000g"},
		{"--cpus", "0"},        {"--cpus", "-1"},
		{"--cpus", "1000"},     {"--cpus", "0.001"},
		{"--cpus", "1e3"},      {"--cpus", "."},
		{"--cpus", ""},         {"--cpus", "nan"},
	};
	char which[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct container c;
		const char *args[] = {"run", bad[i][0], bad[i][1], H.probe,
				      "out", "must not run", NULL};
		if (h_start(&c, NULL, args) < 0)
			return;
		h_finish(&c, NULL, H_TIMEOUT_MS);
		char name[64];
		snprintf(name, sizeof(name), "%s '%s'", bad[i][0], bad[i][1]);
		H_CHECK(c.r.status == 125, name);
		H_CHECK(strcmp(c.r.out, "") == 0, name);
		H_CHECK(h_one_line(c.r.err) && strstr(c.r.err, bad[i][0]),
			name);
		H_CHECK(!groups_exist(c.pid, false, which, sizeof(which)),
			name);
		H_CHECK(h_left_behind(c.pid, NULL) == NULL, name);
		h_free(&c.r);
	}
}

static void test_rootless_limits_where_delegated(void)
{
	/* A pids cap of the test's own, handed to the user on v2. */
	const char *cap = h_make_cap_group("limits-deleg", 200);
	if (!cap)
		return;
	char dir[PATH_MAX + 64], root[PATH_MAX + 64], procs[PATH_MAX + 96];
	char path[PATH_MAX + 128];
	snprintf(dir, sizeof(dir), "%s", cap);
	snprintf(root, sizeof(root), "%s", cap);
	*strrchr(root, '/') = '\0';
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	bool v2 = h_pids_version() == 2;
	/* The root offers memory and cpu to the group; handing them on
	 * to the container is the runtime's to do, as the user. */
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	if (v2 && (write_file(path, "+memory") < 0 ||
		   write_file(path, "+cpu") < 0 ||
		   delegate(dir, procs, sizeof(procs)) < 0)) {
		CU_FAIL("cannot delegate a cgroup to the user");
		goto out;
	}
	if (!h_become_nobody())
		goto out;
	struct container c;
	const char *args[] = {"run", "--memory", "32m", H.probe, "hog", "64",
			      NULL};
	int started = h_start(&c, procs, args);
	if (started == 0)
		h_finish(&c, NULL, H_TIMEOUT_MS);
	h_back_to_root();
	if (started < 0)
		goto out;
	if (v2) {
		/* Delegated: killed at the limit, without root. */
		H_CHECK(c.r.status == 128 + SIGKILL, "rootless, delegated: "
						     "killed at 32m");
		H_CHECK(h_one_line(c.r.err) &&
				strstr(c.r.err, "out of memory"),
			"rootless, delegated: the one line");
	} else {
		/* cgroup v1 is never delegated: no limit, said once. */
		const char *said = strstr(c.r.err, "limits not applied");
		H_CHECK(c.r.status == 0 && strstr(c.r.out, "done"),
			"rootless on v1: the hog finishes");
		H_CHECK(said && !strstr(said + 1, "limits not applied"),
			"rootless on v1: 'limits not applied' said once");
	}
	h_free(&c.r);
out:
	snprintf(path, sizeof(path), "%s/leaf", dir);
	rmdir(path);
	cgroup_remove(dir, 5000);
}

/* In a mount namespace of its own, mount the pids hierarchy alone under
 * a directory of its own, point the runtime there (the test hook
 * MINIDOCKER_CGROUP_ROOT), so that it finds no memory controller beside
 * pids, and ask for --memory. Sends "status pid stderr" over fd. */
static void run_without_memory_controller(int fd)
{
	char base[] = "/tmp/minidocker-nomem-XXXXXX", pids[64];
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    !mkdtemp(base)) {
		dprintf(fd, "setup failed");
		_exit(1);
	}
	snprintf(pids, sizeof(pids), "%s/pids", base);
	if (mkdir(pids, 0755) < 0 ||
	    mount("cgroup", pids, "cgroup", 0, "pids") < 0) {
		dprintf(fd, "setup failed: cannot mount pids at %s", pids);
		rmdir(pids);
		rmdir(base);
		_exit(1);
	}
	setenv("MINIDOCKER_CGROUP_ROOT", base, 1);
	struct container c;
	const char *args[] = {"run", "--memory", "32m", H.probe, "out",
			      "must not run", NULL};
	if (h_start(&c, NULL, args) == 0) {
		h_finish(&c, NULL, H_TIMEOUT_MS);
		dprintf(fd, "%d %d %s", c.r.status, (int)c.pid, c.r.err);
	}
	umount2(pids, MNT_DETACH);
	rmdir(pids);
	rmdir(base);
	_exit(0);
}

static void test_missing_controller_named_with_fix(void)
{
	if (h_pids_version() != 1) {
		/* On v2 a controller the root has is handed down by the
		 * runtime itself; only a kernel without it lacks it. */
		CU_PASS("v2: one hierarchy holds every controller");
		return;
	}
	char buf[1024];
	if (h_in_child(run_without_memory_controller, buf, sizeof(buf)) < 0)
		return;
	int status = -1, runtime = 0, at = 0;
	sscanf(buf, "%d %d %n", &status, &runtime, &at);
	const char *err = buf + at;
	H_CHECK(status == 125, "--memory without a memory hierarchy");
	H_CHECK(h_one_line(err) && strstr(err, "memory") &&
			strstr(err, "mount -t cgroup -o memory"),
		"one line naming memory and how to mount it");
	if (status != 125)
		printf("\n    got: %.200s ", buf);
	char which[128];
	H_CHECK(runtime > 0 && !groups_exist(runtime, false, which,
					     sizeof(which)),
		"no group left");
}

static const struct stage_test tests[] = {
	{"test_memory_hog_killed_at_limit", test_memory_hog_killed_at_limit,
	 true},
	{"test_memory_hog_completes_unlimited",
	 test_memory_hog_completes_unlimited, false},
	{"test_memory_limit_in_group", test_memory_limit_in_group, true},
	{"test_cpu_hog_gets_its_quota", test_cpu_hog_gets_its_quota, true},
	{"test_cpu_hog_unlimited_gets_a_cpu",
	 test_cpu_hog_unlimited_gets_a_cpu, false},
	{"test_groups_in_every_controller_removed",
	 test_groups_in_every_controller_removed, true},
	{"test_killed_runtime_groups_reaped", test_killed_runtime_groups_reaped,
	 true},
	{"test_bad_limits_are_125", test_bad_limits_are_125, false},
	{"test_rootless_limits_where_delegated",
	 test_rootless_limits_where_delegated, false},
	{"test_missing_controller_named_with_fix",
	 test_missing_controller_named_with_fix, false},
	{NULL, NULL, false},
};

const struct stage_suite suite_limits = {LIMITS_STAGE, "limits", true, tests};
