/* The escape catalogue: acts a container might try against its host,
 * each run against every stage, each with the first stage that stops it.
 * The suite fails when a stage stops an act earlier or later than
 * declared. Every act is harmless when it succeeds: it reads a marker,
 * writes a value back to what it was, signals a test-owned process with
 * SIGCONT, works under a test-owned cap, or opens a file O_PATH, which
 * reads and writes nothing; what it makes, it removes.
 * `runner --escapes-table` prints the declared table for TUTORIAL.md and
 * the README; this suite is what keeps that table true. */

#include <CUnit/CUnit.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "cgroup.h"
#include "clock.h"
#include "harness.h"
#include "suites.h"

#define MAX_ARGS 12

enum outcome { ESCAPED, STOPPED, NOT_HERE };

/* One entry: what it tries, the first stage that stops it (as measured,
 * where the kernel says otherwise than the plan: see why), the act. */
struct escape {
	const char *name;
	int stopped_at;
	enum outcome (*act)(char *what, size_t len);
	const char *why; /* what stops it, for the table */
	/* Stages before stopped_at that stop it too, by a side effect that
	 * a later stage undoes (0, 0: none), and why. */
	int also_from, also_to;
	const char *also_why;
	/* Run by a user without root (stage 8 on: the rootless stages), the
	 * first stage that stops it; ROOTLESS_NEVER when none does yet. */
	int rootless_at;
	/* The first stage that has what it acts through (exec: 15), or 0:
	 * every stage. Before it the act is not tried. */
	int from;
};

#define ROOTLESS_FROM 8    /* the first stage a user without root can run */
#define ROOTLESS_NEVER 99  /* no stage stops it yet */

/* Whether entry e is stopped by stage n. */
static bool stopped_by(const struct escape *e, int n)
{
	return n >= e->stopped_at || (n >= e->also_from && n <= e->also_to);
}

/* Why the last act's runtime itself failed (status 125), or "": then
 * the act was neither stopped nor let through, and the check fails. */
static char runtime_failed[256];

/* Options (name, value, ..., NULL) that relax an earlier wall for the
 * next runs, or NULL: an entry that gives a capability back shows that
 * a later wall holds without it. */
static const char *const *relax;

#define EXEC_STAGE 15 /* the first stage with exec */

/* Stage 15 on, when set: each act runs by exec in a detached container
 * started with the same options, not as its first process: exec must be
 * no way around a wall (exec_in()). */
static bool via_exec;

/* What a detached container runs when exec is what acts in it. */
static const char *const sleeper[] = {
    "/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done", NULL};

/* Start `run -d --net none` with the options in opts (NULL-ended) and
 * the command cmd, in the cgroup in_cgroup (or none), and put its id in
 * id: 0; or -1 with the run's result in r, for run_in to say why. */
static int start_detached(struct run_result *r, const char *in_cgroup,
			  const char *const *opts, const char *const *cmd,
			  char *id, size_t len)
{
	const char *argv[MAX_ARGS + 12] = {"run", "-d", "--net", "none"};
	size_t n = 4;
	for (size_t i = 0; opts[i] && n < MAX_ARGS + 6; i++)
		argv[n++] = opts[i];
	for (size_t i = 0; cmd[i] && n < MAX_ARGS + 11; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	struct container c;
	if (h_start(&c, in_cgroup, argv) < 0)
		return -1;
	h_finish(&c, NULL, H_TIMEOUT_MS);
	snprintf(id, len, "%.64s", c.r.out ? c.r.out : "");
	id[strcspn(id, "\n")] = '\0';
	if (c.r.status != 0) {
		*r = c.r; /* the runtime failed: run_in says so */
		return -1;
	}
	h_free(&c.r);
	return 0;
}

/* rm -f the detached container id; a failure fails the test. */
static void remove_detached(const char *id)
{
	struct run_result rm;
	h_runv(&rm, NULL, "rm", "-f", id, (const char *)NULL);
	if (rm.status != 0)
		CU_FAIL("cannot remove the container exec ran in");
	h_free(&rm);
}

/* Start `run -d` with the options in run (NULL-ended, from "run"), a
 * shell that waits, in the cgroup in_cgroup (or none); exec args in it,
 * with run's -u if it has one, into r; then rm -f it. */
static void exec_in(struct run_result *r, const char *in_cgroup,
		    const char *const *run, const char *const *args)
{
	const char *argv[MAX_ARGS + 12];
	const char *user = NULL;
	char id[80];
	for (size_t i = 1; run[i]; i++)
		if (!strcmp(run[i], "-u") && run[i + 1])
			user = run[i + 1];
	if (start_detached(r, in_cgroup, run + 1, sleeper, id, sizeof(id)) < 0)
		return;
	size_t n = 0;
	argv[n++] = "exec";
	if (user) {
		argv[n++] = "-u";
		argv[n++] = user;
	}
	argv[n++] = id;
	for (size_t i = 0; args[i] && n < MAX_ARGS + 10; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	struct container c;
	if (h_start(&c, NULL, argv) == 0) {
		h_finish(&c, NULL, H_TIMEOUT_MS);
		*r = c.r;
	}
	remove_detached(id);
}

/* Run args (NULL-ended, without "run") in a container of the stage under
 * test, with the relaxing options this stage knows (a stage before the
 * one that introduces an option runs without it: opt_table says which),
 * in the cgroup whose procs file is in_cgroup (or none); keep its
 * output in r. */
static void run_in(struct run_result *r, const char *in_cgroup,
		   const char *const *args)
{
	const char *argv[MAX_ARGS + 2] = {"run"};
	size_t n = 1;
	/* The test root filesystem, named: from stage 13 a run takes an
	 * image otherwise, and the harness names it only for the suites
	 * before 13 (stage 14's checks its entries too). */
	const char *inline_value;
	if (opt_find("--rootfs", &inline_value)->stage <= H.stage) {
		argv[n++] = "--rootfs";
		argv[n++] = H.rootfs;
	}
	for (const char *const *o = relax; o && o[0] && o[1]; o += 2) {
		const char *inline_value;
		const struct opt_spec *spec = opt_find(o[0], &inline_value);
		if (spec && spec->stage <= H.stage && n + 2 <= MAX_ARGS) {
			argv[n++] = o[0];
			argv[n++] = o[1];
		}
	}
	size_t opts_end = n;
	for (size_t i = 0; args[i] && n <= MAX_ARGS; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	struct container c;
	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (via_exec) {
		argv[opts_end] = NULL;
		exec_in(r, in_cgroup, argv, args);
	} else if (h_start(&c, in_cgroup, argv) == 0) {
		h_finish(&c, NULL, H_TIMEOUT_MS);
		*r = c.r;
	}
	if (r->status < 0 && !r->timed_out && !r->cmd)
		return;
	if (r->status == 125 || r->timed_out)
		snprintf(runtime_failed, sizeof(runtime_failed),
			 "status %d, stderr '%.160s'", r->status,
			 r->err ? r->err : "");
}

/* ESCAPED when the run's stdout is exactly want, else STOPPED; what says
 * what happened. */
static enum outcome out_is(const char *const *args, const char *want,
			   char *what, size_t len)
{
	struct run_result r;
	run_in(&r, NULL, args);
	snprintf(what, len, "status %d, out '%.60s', err '%.80s'", r.status,
		 r.out ? r.out : "", r.err ? r.err : "");
	bool escaped = r.status == 0 && r.out && !strcmp(r.out, want);
	h_free(&r);
	return escaped ? ESCAPED : STOPPED;
}

/* ESCAPED when the run exits 0. */
static enum outcome status_ok(const char *const *args, char *what, size_t len)
{
	struct run_result r;
	run_in(&r, NULL, args);
	snprintf(what, len, "status %d, err '%.80s'", r.status,
		 r.err ? r.err : "");
	bool escaped = r.status == 0;
	h_free(&r);
	return escaped ? ESCAPED : STOPPED;
}

/* The host's namespace link for ns, as the test sees it. */
static void host_ns(const char *ns, char *out, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	ssize_t n = readlink(path, out, len - 2);
	n = n < 0 ? 0 : n;
	out[n] = '\n';
	out[n + 1] = '\0';
}

/* Set the hostname to what it is: a write that changes nothing, but
 * lands on the host's name when the UTS namespace is the host's. */
static enum outcome act_hostname(char *what, size_t len)
{
	char want[128];
	host_ns("uts", want, sizeof(want));
	const char *args[] = {"/bin/sh", "-c",
			      "hostname \"$(hostname)\" && "
			      "readlink /proc/self/ns/uts", NULL};
	return out_is(args, want, what, len);
}

/* SIGCONT to a sleeping child of the test: harmless, and it reaches the
 * child only where the host's pids are there to name. */
static enum outcome act_signal(char *what, size_t len)
{
	pid_t kid = fork();
	if (kid == 0) {
		pause();
		_exit(0);
	}
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "kill -CONT %d", (int)kid);
	const char *args[] = {"/bin/sh", "-c", cmd, NULL};
	enum outcome o = status_ok(args, what, len);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	return o;
}

/* A marker file the host made, read by its path. */
static enum outcome act_read_marker(char *what, size_t len)
{
	char marker[128];
	if (h_make_marker(marker, sizeof(marker), "escape") < 0)
		return STOPPED;
	const char *args[] = {H.probe, "exists", marker, NULL};
	enum outcome o = out_is(args, "yes\n", what, len);
	unlink(marker);
	return o;
}

/* The classic chroot escape (chroot into a subdirectory, climb "..") to
 * the same kind of marker. */
static enum outcome act_chroot_escape(char *what, size_t len)
{
	char marker[128];
	if (h_make_marker(marker, sizeof(marker), "breakout") < 0)
		return STOPPED;
	const char *args[] = {H.probe, "breakout", marker, NULL};
	enum outcome o = out_is(args, "escaped\n", what, len);
	unlink(marker);
	return o;
}

/* A null device made with mknod, written, and removed. */
static enum outcome act_mknod(char *what, size_t len)
{
	const char *args[] = {"/bin/sh", "-c",
			      "d=/tmp/minidocker-escape-null-$$; "
			      "mknod $d c 1 3 && echo x > $d; r=$?; "
			      "rm -f $d; exit $r", NULL};
	return status_ok(args, what, len);
}

/* open_by_handle_at() of / by its handle (the 2014 "shocker" escape
 * read host files this way), where the filesystem has handles. */
static enum outcome act_open_by_handle(char *what, size_t len)
{
	const char *args[] = {H.probe, "try", "handle", NULL};
	struct run_result r;
	run_in(&r, NULL, args);
	snprintf(what, len, "status %d, out '%.60s'", r.status,
		 r.out ? r.out : "");
	enum outcome o = r.out && !strcmp(r.out, "nohandles\n") ? NOT_HERE
			 : r.out && !strcmp(r.out, "ok\n")      ? ESCAPED
								: STOPPED;
	h_free(&r);
	return o;
}

/* The same with CAP_DAC_READ_SEARCH given back (--cap-add, stage 10 on),
 * the capability the 2014 shocker escape had from docker: the user
 * namespace still stops it, since the kernel asks for the capability in
 * the host's user namespace, not the container's (measured on 6.18, and
 * with CAP_SYS_ADMIN too: no capability given inside opens it). */
static enum outcome act_open_by_handle_with_cap(char *what, size_t len)
{
	static const char *const options[] = {"--cap-add", "DAC_READ_SEARCH",
					      NULL};
	relax = options;
	enum outcome o = act_open_by_handle(what, len);
	relax = NULL;
	return o;
}

/* A fork bomb inside a test-owned cap of 100 processes: escaped when it
 * gets more than the runtime's own default limit of 20. */
static enum outcome act_fork_bomb(char *what, size_t len)
{
	const char *cap = h_make_cap_group("escape", 100);
	if (!cap)
		return STOPPED;
	char dir[PATH_MAX + 64], procs[PATH_MAX + 96];
	snprintf(dir, sizeof(dir), "%s", cap);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	const char *args[] = {H.probe, "bomb", "300", NULL};
	struct run_result r;
	run_in(&r, procs, args);
	long forked = -1, refused = -1;
	if (r.out)
		sscanf(r.out, "forked %ld refused %ld", &forked, &refused);
	snprintf(what, len, "status %d, out '%.60s'", r.status,
		 r.out ? r.out : "");
	h_free(&r);
	if (cgroup_remove(dir, 2000) < 0)
		CU_FAIL("cannot remove the fork bomb's cap group");
	return forked > 20 ? ESCAPED : STOPPED;
}

/* `probe try act [arg]` says "ok". */
static enum outcome try_ok(const char *act, const char *arg, char *what,
			   size_t len)
{
	const char *args[] = {H.probe, "try", act, arg, NULL};
	return out_is(args, "ok\n", what, len);
}

/* A tmpfs mounted and unmounted at once; before the container has a
 * root of its own (stages 1-3), on the test rootfs's /mnt, not the
 * host's. */
static enum outcome act_mount(char *what, size_t len)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/mnt", H.rootfs);
	return try_ok("mount", H.stage < 4 ? dir : NULL, what, len);
}

static enum outcome act_raw_socket(char *what, size_t len)
{
	return try_ok("rawsock", NULL, what, len);
}

static enum outcome act_add_key(char *what, size_t len)
{
	return try_ok("add_key", NULL, what, len);
}

static enum outcome act_nested_userns(char *what, size_t len)
{
	return try_ok("userns", NULL, what, len);
}

/* Where stages 1-3, which have no root filesystem of their own, find the
 * setuid copy: a new directory in a world-searchable place whose
 * filesystem honours setuid (a checkout under a 0750 home is out of the
 * non-root user's reach, which would stop the act for the wrong reason).
 * Returns 0 with the directory in dir, or -1 (then use the rootfs). */
static int setuid_dir(char *dir, size_t len)
{
	static const char *const places[] = {"/var/tmp", "/tmp"};
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		struct statvfs fs;
		if (statvfs(places[i], &fs) < 0 || (fs.f_flag & ST_NOSUID))
			continue;
		snprintf(dir, len, "%s/minidocker-setuid-XXXXXX", places[i]);
		if (mkdtemp(dir) && chmod(dir, 0755) == 0)
			return 0;
	}
	return -1;
}

/* A non-root user inside runs a setuid-root file: a test-owned copy of
 * the probe that, set-uid, answers only whether its euid is 0. */
static enum outcome act_setuid(char *what, size_t len)
{
	char dir[PATH_MAX] = "", host[PATH_MAX + 32], inside[PATH_MAX + 32];
	char cmd[PATH_MAX * 3 + 64];
	if (H.stage < 4 && setuid_dir(dir, sizeof(dir)) == 0)
		snprintf(host, sizeof(host), "%s/probe-setuid", dir);
	else
		snprintf(host, sizeof(host), "%s/bin/probe-setuid", H.rootfs);
	snprintf(inside, sizeof(inside), "%s",
		 H.stage < 4 ? host : "/bin/probe-setuid");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 4755 '%s'",
		 H.host_probe, host, host);
	enum outcome o = STOPPED;
	if (system(cmd) != 0) {
		CU_FAIL("cannot make the setuid copy of the probe");
	} else {
		o = try_ok("setuid", inside, what, len);
	}
	unlink(host);
	if (dir[0])
		rmdir(dir);
	return o;
}

/* The same with the container's users mapped: stage 13 maps 65536 ids
 * for -u (as for an image, whose own users must exist), so the probe's
 * setuid(65534) works and only no_new_privs (stage 10) keeps the setuid
 * file from giving root back. Before stage 13 there is no -u: the run
 * is the one above. */
static enum outcome act_setuid_users_mapped(char *what, size_t len)
{
	static const char *const options[] = {"-u", "0", NULL};
	relax = options;
	enum outcome o = act_setuid(what, len);
	relax = NULL;
	return o;
}

/* Write vm.swappiness back to its own value. */
static enum outcome act_sysctl(char *what, size_t len)
{
	const char *args[] = {"/bin/sh", "-c",
			      "v=$(cat /proc/sys/vm/swappiness) && "
			      "echo $v > /proc/sys/vm/swappiness", NULL};
	return status_ok(args, what, len);
}

/* A SysV shared memory segment the test made, found by its key. */
static enum outcome act_host_shm(char *what, size_t len)
{
	key_t key = (key_t)(0x6d640000 | (getpid() & 0xffff));
	/* 0666: a user without root must be able to find it too, so that
	 * what hides it is the namespace, not its mode. */
	int id = shmget(key, 4096, IPC_CREAT | 0666);
	if (id < 0) {
		CU_FAIL("cannot make a SysV shared memory segment");
		return STOPPED;
	}
	char arg[32];
	snprintf(arg, sizeof(arg), "%d", (int)key);
	enum outcome o = try_ok("shm", arg, what, len);
	shmctl(id, IPC_RMID, NULL);
	return o;
}

/* /proc/self/cgroup shows a path other than / (the container runs in a
 * test-owned group, so that even before stage 6 there is one to see). */
static enum outcome act_cgroup_path(char *what, size_t len)
{
	const char *cap = h_make_cap_group("escape-path", 100);
	if (!cap)
		return STOPPED;
	char dir[PATH_MAX + 64], procs[PATH_MAX + 96];
	snprintf(dir, sizeof(dir), "%s", cap);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	const char *args[] = {"/bin/sh", "-c",
			      "grep -v ':/$' /proc/self/cgroup", NULL};
	struct run_result r;
	run_in(&r, procs, args);
	snprintf(what, len, "status %d, out '%.80s'", r.status,
		 r.out ? r.out : "");
	bool escaped = r.status == 0;
	h_free(&r);
	if (cgroup_remove(dir, 2000) < 0)
		CU_FAIL("cannot remove the test's cgroup");
	return escaped ? ESCAPED : STOPPED;
}

static enum outcome act_timer_list(char *what, size_t len)
{
	const char *args[] = {"/bin/sh", "-c",
			      "head -n 1 /proc/timer_list | grep -q Timer",
			      NULL};
	return status_ok(args, what, len);
}

/* A file written at the container's / lands in the image directory,
 * for every later container to find (before stage 4 the container has
 * no root of its own: it writes there by the image's host path). */
static enum outcome act_write_image(char *what, size_t len)
{
	char name[64], host[PATH_MAX + 64], cmd[PATH_MAX + 128];
	snprintf(name, sizeof(name), "/minidocker-escape-image-%d",
		 (int)getpid());
	snprintf(host, sizeof(host), "%s%s", H.rootfs, name);
	snprintf(cmd, sizeof(cmd), "echo x > '%s'",
		 H.stage < 4 ? host : name);
	const char *args[] = {"/bin/sh", "-c", cmd, NULL};
	struct run_result r;
	run_in(&r, NULL, args);
	bool landed = access(host, F_OK) == 0;
	snprintf(what, len, "status %d, err '%.80s', %s in the image",
		 r.status, r.err ? r.err : "", landed ? "found" : "not");
	h_free(&r);
	unlink(host);
	return landed ? ESCAPED : STOPPED;
}

/* The container's network namespace is the host's: a port it binds,
 * the host sees. */
static enum outcome act_host_network(char *what, size_t len)
{
	char want[128];
	host_ns("net", want, sizeof(want));
	const char *args[] = {H.probe, "ns", "net", NULL};
	return out_is(args, want, what, len);
}

#define WATCH_MS 4000 /* at most, the watcher's time and the exec loop's */
/* Copies of exec the watcher must be refused on while they have its
 * uids and capabilities: then it has seen enough. */
#define WATCH_COPIES "10"

/* A detached container whose logs the watcher writes to. */
struct watched {
	const char *id;
	const char *want; /* what the logs must hold after "watching\n" */
	struct run_result logs;
};

/* Whether the container's logs hold "watching\n" and then want. */
static bool logs_say(void *arg)
{
	struct watched *w = arg;
	h_free(&w->logs);
	h_runv(&w->logs, NULL, "logs", w->id, (const char *)NULL);
	const char *at = w->logs.out ? strstr(w->logs.out, "watching\n") : NULL;
	return at && strstr(at + strlen("watching\n"), w->want);
}

/* Whether the process pid has ended (not reaped: h_finish reaps it). */
static bool ended(pid_t pid)
{
	siginfo_t si = {0};
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
		   0 &&
	       si.si_pid == pid;
}

/* CVE-2019-5736: until it execs the command, the process that joins a
 * container for exec runs the runtime's code (in the runtime's memory,
 * or in a fork's copy of it), and its /proc/PID/exe, seen from inside,
 * is the runtime's binary on the host, which a process of the container
 * could open and, once the runtime is gone, write. The watcher (the
 * probe: the container's first process, or with via_exec one started by
 * exec) opens every new process's exe, O_PATH, as soon as the kernel
 * lets it, and says when one is no file of its root, while `exec ID
 * true` runs again and again. The kernel asks a process that opens
 * another's exe for the same uid and no capability the other lacks, or
 * else CAP_SYS_PTRACE over it; exec's processes first have every
 * capability of the container's user namespace, then drop to the
 * container's, the watcher's own: from there to the exec only
 * dumpability tells the two outcomes apart, since a non-dumpable
 * process's memory (whose user namespace is the host's) asks
 * CAP_SYS_PTRACE in the host's namespace. The watcher counts the
 * processes the kernel refused while they had its uids and
 * capabilities: without one, the act proves nothing. Harmless: nothing
 * is read or written through what it opens, and the binary is the
 * test's build. */
static enum outcome act_exec_copy_exe(char *what, size_t len)
{
	char ms[16], id[80];
	snprintf(ms, sizeof(ms), "%d", WATCH_MS);
	const char *watch[] = {H.probe, "watch-exe", ms, WATCH_COPIES, NULL};
	const char *opts[] = {"--rootfs", H.rootfs, NULL};
	struct run_result r;
	memset(&r, 0, sizeof(r));
	if (start_detached(&r, NULL, opts, via_exec ? sleeper : watch, id,
			   sizeof(id)) < 0) {
		snprintf(runtime_failed, sizeof(runtime_failed),
			 "run -d: status %d, stderr '%.160s'", r.status,
			 r.err ? r.err : "");
		h_free(&r);
		return STOPPED;
	}
	/* The watcher at work before the first exec. */
	struct container w = {.pid = -1};
	struct watched logs = {.id = id, .want = ""};
	const char *exec_watch[] = {"exec", id,		  H.probe, "watch-exe",
				    ms,	    WATCH_COPIES, NULL};
	bool watching;
	if (!via_exec)
		watching = h_poll(logs_say, &logs, H_TIMEOUT_MS);
	else if (!(watching = h_start_until(&w, exec_watch, "watching\n") == 0))
		w.pid = -1; /* finished and freed, the failure said */
	/* exec true, until the watcher ends: as the container's first
	 * process, it takes the container with it. */
	int execs = 0;
	long end = now_ms() + WATCH_MS;
	while (watching && now_ms() < end) {
		h_free(&r);
		h_runv(&r, NULL, "exec", id, "true", (const char *)NULL);
		if (r.status != 0 || (via_exec && ended(w.pid)))
			break;
		execs++;
	}
	/* What it saw: its last line. */
	const char *out = NULL;
	if (via_exec && w.pid > 0) {
		h_finish(&w, NULL, WATCH_MS + H_TIMEOUT_MS);
		out = w.r.out;
	} else if (watching) {
		logs.want = "\n";
		h_poll(logs_say, &logs, WATCH_MS + H_TIMEOUT_MS);
		out = logs.logs.out;
	}
	const char *said = out ? strstr(out, "watching\n") : NULL;
	said = said ? said + strlen("watching\n") : "";
	long seen = 0, refused = 0, as_equal = 0;
	enum outcome o = STOPPED;
	if (!strncmp(said, "opened ", 7)) {
		o = ESCAPED;
		snprintf(what, len, "after %d execs, the watcher %.*s", execs,
			 (int)strcspn(said, "\n"), said);
	} else if (sscanf(said, "none: %ld seen, %ld refused, %ld of them",
			  &seen, &refused, &as_equal) == 3 &&
		   as_equal > 0) {
		snprintf(what, len, "%d execs, the watcher %.*s", execs,
			 (int)strcspn(said, "\n"), said);
	} else {
		/* It never met a copy where only dumpability could stop
		 * it: no verdict. */
		snprintf(runtime_failed, sizeof(runtime_failed),
			 "the watcher met no copy of exec's with its own uids "
			 "and capabilities (it said '%.60s'); %d execs, the "
			 "last: status %d, stderr '%.80s'",
			 said, execs, r.status, r.err ? r.err : "");
	}
	h_free(&r);
	h_free(&logs.logs);
	if (via_exec && w.pid > 0)
		h_free(&w.r);
	remove_detached(id);
	return o;
}

/* The catalogue, in the order of the stages that stop its entries. */
static const struct escape escapes[] = {
	{"change the host's hostname", 2, act_hostname, "UTS namespace", 0, 0, NULL, 8, 0},
	{"signal a host process", 3, act_signal, "PID namespace", 0, 0, NULL, 8, 0},
	{"read a host marker file", 4, act_read_marker, "chroot", 0, 0, NULL, 8, 0},
	{"fork bomb (under a test cap)", 6, act_fork_bomb, "pids cgroup", 0, 0, NULL, ROOTLESS_NEVER, 0},
	{"chroot escape to a host marker", 7, act_chroot_escape,
	 "pivot_root", 0, 0, NULL, 8, 0},
	{"mknod a device and write it", 8, act_mknod, "user namespace", 0, 0, NULL, 8, 0},
	{"open a file by handle (shocker)", 8, act_open_by_handle,
	 "user namespace", 0, 0, NULL, 8, 0},
	{"open a file by handle, CAP_DAC_READ_SEARCH given (--cap-add, 10 on)",
	 8, act_open_by_handle_with_cap,
	 "user namespace (the capability counts in the host's only)", 0, 0,
	 NULL, 8, 0},
	{"raw packet socket", 8, act_raw_socket,
	 "user namespace (the host's network is not its own)", 0, 0, NULL, 8, 0},
	{"mount a tmpfs", 10, act_mount, "capabilities", 0, 0, NULL, 10, 0},
	{"add_key", 10, act_add_key, "seccomp", 0, 0, NULL, 10, 0},
	{"a nested user namespace", 10, act_nested_userns, "seccomp", 4, 6,
	 "unshare(2) refuses a new user namespace to a chrooted process "
	 "(stage 7's pivot_root undoes that)", 10, 0},
	{"setuid-root file run by a non-root user", 8, act_setuid,
	 "user namespace (no user but root is mapped)", 0, 0, NULL, 8, 0},
	{"setuid-root file run by a non-root user, the users mapped (-u, 13 on)",
	 8, act_setuid_users_mapped,
	 "user namespace; from 13, where its users are mapped, no_new_privs "
	 "(10)", 0, 0, NULL, 8, 0},
	{"write a host sysctl back", 11, act_sysctl, "read-only /proc/sys", 0, 0, NULL, 8, 0},
	{"see a host SysV shm segment", 11, act_host_shm, "IPC namespace", 0, 0, NULL, 11, 0},
	{"host cgroup path in /proc/self/cgroup", 11, act_cgroup_path,
	 "cgroup namespace", 0, 0, NULL, 11, 0},
	{"read /proc/timer_list", 11, act_timer_list, "masked /proc paths", 0, 0, NULL,
	 8 /* 0400 root, and root is not mapped */, 0},
	{"write into the image for later containers", 12, act_write_image,
	 "copy-on-write root (overlayfs)", 0, 0, NULL,
	 8 /* the image is root's, and root is not mapped */, 0},
	{"bind a port the host sees", 14, act_host_network,
	 "network namespace", 0, 0, NULL, 14, 0},
	{"open the runtime's binary as /proc/PID/exe of exec's joining "
	 "process (CVE-2019-5736)", 15, act_exec_copy_exe,
	 "exec's joining process non-dumpable until its exec", 0, 0, NULL,
	 15, EXEC_STAGE},
};
#define N_ESCAPES (sizeof(escapes) / sizeof(escapes[0]))

/* The first stage that stops e, run by root or by a user without it. */
static int first_stop(const struct escape *e, bool rootless)
{
	return rootless ? e->rootless_at : e->stopped_at;
}

/* Whether stage n stops e, run by root or by a user without it. */
static bool stops(const struct escape *e, int n, bool rootless)
{
	return rootless ? n >= e->rootless_at : stopped_by(e, n);
}

/* Run each entry (only those first stopped at only_stage, when not 0)
 * and check it is stopped exactly from its declared stage on. */
static void check_escapes(int only_stage, bool rootless)
{
	for (size_t i = 0; i < N_ESCAPES; i++) {
		const struct escape *e = &escapes[i];
		if (only_stage && first_stop(e, rootless) != only_stage)
			continue;
		if (H.stage < e->from)
			continue; /* nothing to act through yet */
		char what[256] = "", name[512];
		runtime_failed[0] = '\0';
		enum outcome o = e->act(what, sizeof(what));
		snprintf(name, sizeof(name), "'%s' on stage %d: the runtime "
			 "failed, so the act proves nothing: %s", e->name,
			 H.stage, runtime_failed);
		H_CHECK(!runtime_failed[0], name);
		if (runtime_failed[0])
			continue;
		if (o == NOT_HERE)
			continue;
		/* A proof runs stage N's entries on stage N-1: want them
		 * stopped there too, so that the proof fails. */
		bool want_stopped = only_stage || stops(e, H.stage, rootless);
		char from[48];
		if (first_stop(e, rootless) == ROOTLESS_NEVER)
			snprintf(from, sizeof(from), "stopped by no stage yet");
		else
			snprintf(from, sizeof(from), "stopped from stage %d on",
				 first_stop(e, rootless));
		snprintf(name, sizeof(name), "'%s' on stage %d%s: want it %s "
			 "(%s), it was %s: %s", e->name, H.stage,
			 rootless ? ", without root" : via_exec ? ", by exec" : "",
			 want_stopped ? "stopped" : "to get through", from,
			 o == STOPPED ? "stopped" : "not", what);
		H_CHECK((o == STOPPED) == want_stopped, name);
	}
}

static void test_each_escape_stopped_where_declared(void)
{
	check_escapes(0, false);
}

/* The same run by a user without root, on the stages that allow it. */
static void test_each_escape_stopped_where_declared_rootless(void)
{
	if (H.stage < ROOTLESS_FROM || !h_become_nobody())
		return;
	check_escapes(0, true);
	h_back_to_root();
}

/* The same by exec into a running container (stage 15 on): exec is
 * never a way around a wall its first process has. */
static void test_each_escape_stopped_where_declared_by_exec(void)
{
	if (H.stage < EXEC_STAGE)
		return;
	via_exec = true;
	check_escapes(0, false);
	via_exec = false;
}

void escapes_check_stage(int stage)
{
	check_escapes(stage, false);
}

void print_escapes_table(FILE *out, int last_stage)
{
	fprintf(out, "| act | stopped by |");
	for (int n = 1; n <= last_stage; n++)
		fprintf(out, " %d |", n);
	for (int n = ROOTLESS_FROM; n <= last_stage; n++)
		fprintf(out, " %du |", n);
	bool exec = last_stage >= EXEC_STAGE;
	if (exec)
		fprintf(out, " %d exec |", last_stage);
	fprintf(out, "\n|---|---|");
	for (int n = 1; n <= last_stage; n++)
		fprintf(out, "---|");
	for (int n = ROOTLESS_FROM; n <= last_stage; n++)
		fprintf(out, "---|");
	fprintf(out, exec ? "---|\n" : "\n");
	for (size_t i = 0; i < N_ESCAPES; i++) {
		const struct escape *e = &escapes[i];
		fprintf(out, "| %s | %s (%d) |", e->name, e->why, e->stopped_at);
		for (int pass = 0; pass < 2; pass++)
			for (int n = pass ? ROOTLESS_FROM : 1; n <= last_stage;
			     n++)
				fprintf(out, " %s |",
					n < e->from		   ? "-"
					: n == first_stop(e, pass) ? "**stop**"
					: stops(e, n, pass)	   ? "."
								   : "x");
		if (exec)
			fprintf(out, " %s |",
				stops(e, last_stage, false) ? "." : "x");
		fprintf(out, "\n");
	}
	fprintf(out,
		"\nx: gets through; **stop**: the first stage that "
		"stops it; .: stopped. Nu: stage N run by a user without "
		"root (rootless); -: not tried, the stage lacks what "
		"the act goes through (exec, from stage %d). An entry "
		"stopped after stage %d names the planned stage that "
		"will stop it.\n",
		EXEC_STAGE, last_stage);
	if (exec)
		fprintf(out, "\n%d exec: the act run by `exec` in a running "
			     "container of stage %d, which must be stopped as "
			     "by its first process.\n",
			last_stage, last_stage);
	for (size_t i = 0; i < N_ESCAPES; i++)
		if (escapes[i].also_why)
			fprintf(out, "\n%s, at stages %d-%d: stopped too, "
				"since %s.\n", escapes[i].name,
				escapes[i].also_from, escapes[i].also_to,
				escapes[i].also_why);
}

static const struct stage_test tests[] = {
	{"test_each_escape_stopped_where_declared",
	 test_each_escape_stopped_where_declared, false},
	{"test_each_escape_stopped_where_declared_rootless",
	 test_each_escape_stopped_where_declared_rootless, false},
	{"test_each_escape_stopped_where_declared_by_exec",
	 test_each_escape_stopped_where_declared_by_exec, false},
	{NULL, NULL, false},
};

const struct stage_suite suite_escapes = {1, "escapes", true, tests};
