/* Run a stage binary as a user would, with a timeout, and look at the host. */
#ifndef MINIDOCKER_HARNESS_H
#define MINIDOCKER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define H_TIMEOUT_MS 10000 /* default bound on one container run */
#define H_IMAGE_STAGE 13   /* the stage whose run takes an image, not
			    * $MINIDOCKER_ROOTFS, when --rootfs is absent */
#define H_NET_STAGE 14     /* the stage that gives a container a network
			    * of its own, bridged on the host as root */
#define H_LEAKED_FD 7      /* an fd every runtime starts with, not cloexec */

/* What the runner sets before each suite. */
struct harness {
	const char *binary; /* absolute path of the stage binary under test */
	int stage;          /* its number */
	int suite_stage;    /* the stage whose tests run: from stage
			     * H_IMAGE_STAGE, h_start gives the runs of
			     * earlier suites the --rootfs they assume */
	const char *rootfs; /* absolute path of the test root filesystem */
	const char *probe;  /* the probe's path as the container sees it */
	const char *host_probe; /* the probe's path on the host */
	uid_t run_as; /* when not 0, the uid and gid h_start runs it as */
	/* A proof against the stage before: h_start drops the options that
	 * stage has not introduced (opt_table says which), so the test
	 * fails for want of the mechanism, not on "unknown option". */
	bool proof;
	bool verbose; /* print each run: command, status, stdout, stderr */
};
extern struct harness H;

/* Everything one run gave back. */
struct run_result {
	char *cmd;       /* the command line as run, for failure messages */
	pid_t pid;       /* the runtime's pid (and process group) */
	int status;      /* exit status, or -1 when it timed out */
	bool timed_out;  /* it ran past its timeout and was killed */
	char *out, *err; /* stdout and stderr, NUL-terminated */
	size_t out_len, err_len;
};

/* A container started in the background, to look at the host meanwhile. */
struct container {
	pid_t pid;          /* the runtime's pid */
	int in, out, err;   /* its stdin, stdout, stderr (ours to use) */
	struct run_result r;
	size_t out_cap, err_cap;
};

/* Start H.binary with args (a NULL-ended list, without argv[0]); in_cgroup,
 * when not NULL, is a cgroup.procs file the runtime joins before exec.
 * Returns 0, or -1 (with a CUnit failure recorded). */
int h_start(struct container *c, const char *in_cgroup,
	    const char *const *args);

/* Read the container's stdout until it holds needle; false on timeout,
 * on end of output, or when the container ended first. */
bool h_wait_output(struct container *c, const char *needle, int timeout_ms);

/* h_start, then h_wait_output for needle: 0 once the container printed
 * it; else -1 with a failure recorded (at the caller's line, with the
 * command, its status and stderr) and the run finished and freed. */
#define h_start_until(c, args, needle) \
	h_start_until_at((c), (args), (needle), __LINE__, __FILE__)
int h_start_until_at(struct container *c, const char *const *args,
		     const char *needle, int line, const char *file);

/* Start `run <probe> ready`, the container that waits for its stdin to
 * close, and wait until it is up; as h_start_until. */
#define h_start_ready(c) h_start_ready_at((c), __LINE__, __FILE__)
int h_start_ready_at(struct container *c, int line, const char *file);

/* Assert that the container's namespace ns ("uts", "pid", "mnt", ...)
 * is not the host's, as /proc/<pid>/ns/<ns> tells. */
#define h_assert_ns_differs(ns) h_assert_ns_differs_at((ns), __LINE__, __FILE__)
void h_assert_ns_differs_at(const char *ns, int line, const char *file);

/* Create an empty marker file /tmp/minidocker-<what>-<our pid> on the
 * host and put its path in path; 0, or -1 with a failure recorded. */
int h_make_marker(char *path, size_t len, const char *what);

/* Close stdin (after writing input, if any), collect everything until the
 * runtime exits or timeout_ms passes (then SIGKILL it), reap it. */
void h_finish(struct container *c, const char *input, int timeout_ms);

/* Run H.binary with args to the end: h_start then h_finish. */
void h_run(struct run_result *r, const char *input, const char *const *args);

/* Release what a run_result holds. */
void h_free(struct run_result *r);

/* The same with a NULL-ended variadic list: h_runv(&r, NULL, "run", ...). */
void h_runv(struct run_result *r, const char *input, ...)
	__attribute__((sentinel));

/* Whether we are root (namespaces, mounts and cgroups need it). */
bool h_is_root(void);

#define H_NOBODY 65534 /* the unprivileged user rootless runs are made as */

/* Run the binary under test as H_NOBODY from here on, from copies of it
 * and of the root filesystem in a new directory under /tmp that every
 * user can search: the checkout may sit in a home directory of mode 0750.
 * False, with a failure recorded, when the copies cannot be made. */
bool h_become_nobody(void);

/* Back to root and the binary under test; the copies go. What the runs
 * left inside the copied root filesystem in the directory named by
 * $MINIDOCKER_TEST_KEEP (an absolute path, the same inside and on the
 * host: tests/hardening/asan.sh's sanitizer logs) is kept first, in
 * $MINIDOCKER_TEST_KEEP/minidocker-nobody-XXXXXX on the host. */
void h_back_to_root(void);

/* Read a whole small file into a NUL-terminated malloc'd string. */
char *h_read_file(const char *path);

/* Whether any line of the host's /proc/self/mountinfo has a mount point at
 * or below dir. */
bool h_mounted_under(const char *dir);

/* Unmount everything mounted at or below dir (the last mounted first);
 * the number of mounts removed. */
int h_unmount_under(const char *dir);

/* Count of processes whose /proc/<pid>/exe resolves to path. */
int h_count_procs_of(const char *path);

/* Fork; in the child, run fn(fd), which writes its verdict to fd (the
 * pipe's write end) and may _exit (the child ends with 0 when fn
 * returns); in the parent, read what it wrote into buf (up to len - 1
 * bytes, NUL-terminated) and reap it. For a test that changes its own
 * namespaces or environment, which the runner must not keep. Returns 0,
 * or -1 with a failure recorded (no pipe, no fork). */
int h_in_child(void (*fn)(int fd), char *buf, size_t len);

/* Poll every 10 ms until pred(arg) is true or timeout_ms passes. */
bool h_poll(bool (*pred)(void *), void *arg, int timeout_ms);

/* Enter a private copy of the host's mount namespace whose / is made
 * shared, as systemd does; h_leave_shared_host() returns to the real one.
 * Returns 0, or -1 with a CUnit failure recorded. */
int h_enter_shared_host(void);
void h_leave_shared_host(void);

/* Enter a private copy of the host's mount namespace: what a test
 * mounts there (a /dev/net/tun of its own) never shows on the host;
 * h_leave_own_mounts() returns. Returns 0, or -1 with a failure
 * recorded. */
int h_enter_own_mounts(void);
void h_leave_own_mounts(void);

/* Point the runtimes a test starts at a cgroup hierarchy of the test's
 * own: a group of ours, bind-mounted in a private mount namespace where
 * MINIDOCKER_CGROUP_ROOT tells the runtime to look. Runtimes elsewhere on
 * the machine (each reaps the stale groups it finds) never see the groups
 * made there. Returns the hierarchy's root as the runtime sees it, or
 * NULL with a failure recorded; h_leave_own_cgroup_root() undoes it all. */
const char *h_enter_own_cgroup_root(void);
void h_leave_own_cgroup_root(void);

/* The directory of the cgroup the runtime with pid makes for its
 * container (it need not exist); NULL when no pids hierarchy is found. */
const char *h_group_of(pid_t pid);

/* The cgroup version (1 or 2) that holds the pids controller, 0 if none. */
int h_pids_version(void);

/* Make a cgroup of the test's own, named name, that holds at most max
 * processes: a hard cap for tests that may fail by forking without end.
 * Returns its directory, or NULL with a CUnit failure recorded. */
const char *h_make_cap_group(const char *name, int max);

/* The first child of pid (the runtime's container process), or 0. */
pid_t h_child_of(pid_t pid);

/* RUN(r, input, "run", H.probe, "pid"): run the binary under test. */
#define RUN(r, input, ...) h_runv(&(r), (input), __VA_ARGS__, (const char *)NULL)

/* Whether s is exactly one non-empty line ending in a newline. */
bool h_one_line(const char *s);

/* Poll until no process is left in process group pgid (h_start makes the
 * runtime a group leader, and its container inherits the group); false
 * after timeout_ms. */
bool h_pgroup_gone(pid_t pgid, int timeout_ms);

/* What the finished runtime with pid left behind: "its cgroup", "a
 * process", "a mount" (under the test rootfs, or under also when not
 * NULL), or NULL for nothing. Kills what is left of its process group. */
const char *h_left_behind(pid_t pid, const char *also);

/* A CUnit assertion whose failure message names the case it checks:
 * H_CHECK(r.status == 125, "rootfs missing"). */
#define H_CHECK(cond, name) \
	h_check((cond), __LINE__, __FILE__, (name), #cond)
void h_check(bool ok, int line, const char *file, const char *name,
	     const char *expr);

/* Checks about a finished run r (a struct run_result). A failure names
 * the command, the status it got (and the one expected), the start of
 * its stdout and the first lines of its stderr, at the suite's line:
 *   H_STATUS(r, 0)           the exit status is 0
 *   H_OUT(r, "container\n")  stdout is exactly this
 *   H_RUN(r, cond)           any other condition about the run */
#define H_STATUS(r, want) \
	h_run_check(&(r), (r).status == (want), (want), __LINE__, __FILE__, \
		    "exit status " #want)
#define H_OUT(r, want) \
	h_out_check(&(r), (want), __LINE__, __FILE__)
#define H_RUN(r, cond) \
	h_run_check(&(r), (cond), -2, __LINE__, __FILE__, #cond)
void h_run_check(const struct run_result *r, bool ok, int want_status,
		 int line, const char *file, const char *what);
void h_out_check(const struct run_result *r, const char *want, int line,
		 const char *file);

#endif
