/*
 * Stage 15's lesson, tested without a stage: stages/15-exec/exec.c and
 * monitor.c, and their plumbing common/ctr/, driven on plain processes
 * in namespaces this program makes, with this program as the spine:
 *
 *   record    the state file round-trips, a half-written one is never
 *             read, ids, names, lookup by unique prefix, the start time
 *             that tells a reused pid;
 *   terminal  a "runtime" on a terminal the test makes (openpty), which
 *             gives its command a pty from a devpts instance of the
 *             test's own: the command sees a terminal of its own and its
 *             size, and the runtime's terminal gets its modes back;
 *   exec      a "container" (new user, PID, mount, UTS, IPC, network and
 *             cgroup namespaces, a root of its own, in a cgroup the test
 *             makes, under stage 10's walls), joined by exec;
 *   monitor   a detached monitor that outlives its runtime.
 *
 * Everything it mounts is in a mount namespace of its own; its cgroup
 * and processes are gone when it returns (exec.sh checks). Needs root.
 *
 *   test_exec [-v] [SUITE]     (SUITE: exec-record, exec-terminal,
 *                               exec-join or exec-monitor; all by default)
 */

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "ctr/record.h"
#include "cu_run.h"
#include "error.h"
#include "exec.h"
#include "file.h"
#include "monitor.h"
#include "privs.h"
#include "process.h"
#include "state.h"

#define TIMEOUT_MS 10000
#define HOSTNAME   "exec-target"
#define MARKER	   "written by the container"

static char scratch[128]; /* a tmpfs of our own, in our mount ns */
static char ptmx[192];	  /* its devpts instance's ptmx */
static bool verbose_on;

/*** helpers ***/

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait up to ms for pid; its status (N, 128+S), or -1 after killing
 * and reaping it when it did not end in time. */
static int wait_bounded(pid_t pid, int ms)
{
	long long end = now_ms() + ms;
	int ws;
	for (;;) {
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid)
			return WIFSIGNALED(ws) ? 128 + WTERMSIG(ws)
					       : WEXITSTATUS(ws);
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() > end) {
			fprintf(stderr,
				"test_exec: process %d did not end in "
				"%d ms: killed\n",
				(int)pid, ms);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		usleep(2000);
	}
}

/* Read from fd into buf (NUL-terminated) until the end, or until want
 * is in it (want NULL: the end only), or ms pass. Returns the length. */
static size_t read_until(int fd, char *buf, size_t len, const char *want,
			 int ms)
{
	size_t got = 0;
	long long end = now_ms() + ms;
	buf[0] = '\0';
	while (got + 1 < len && (!want || !strstr(buf, want))) {
		long long left = end - now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
	}
	return got;
}

/* Close every fd above 2 but the three kept (-1: none): a copy of
 * another test's pipe here would keep it from ever seeing its end. */
static void close_others(int keep1, int keep2, int keep3)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep1 && fd != keep2 && fd != keep3)
			close(fd);
}

/* Write text to a new file at path. Returns 0, or -1 with errno. */
static int create_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, text, strlen(text));
	close(fd);
	return rc;
}

/* snprintf() into a path buffer; a path too long for it is a bug of
 * the test's, which stops it. */
__attribute__((format(printf, 3, 4))) static void
set_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "test_exec: path too long: %s\n", buf);
		abort();
	}
}

/*** record ***/

static char run_dir[192]; /* scratch/run */

/* A container's directory under run_dir for id; returns its path. */
static const char *make_ctr_dir(const char *id)
{
	static char dir[300];
	set_path(dir, sizeof(dir), "%s/%s", run_dir, id);
	mkdir(run_dir, 0700);
	mkdir(dir, 0700);
	return dir;
}

static void fill_record(struct ctr_record *r, const char *id)
{
	char *argv[] = {"sh", "-c", "echo \"a b\" 'c'; printf é", NULL};
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->name, sizeof(r->name), "web-1");
	r->pid = getpid();
	CU_ASSERT_EQUAL(ctr_proc_start(r->pid, &r->pid_start), 0);
	r->status = CTR_RUNNING;
	r->exit_status = -1;
	r->created = 1700000000;
	r->started = 1700000001;
	snprintf(r->image, sizeof(r->image), "alpine:3.20");
	CU_ASSERT_EQUAL(ctr_record_set_argv(r, argv), 0);
}

static void test_record_round_trips(void)
{
	struct ctr_record w, r;
	char id[CTR_ID_LEN + 1], why[512];
	CU_ASSERT_EQUAL_FATAL(ctr_new_id(id), 0);
	const char *dir = make_ctr_dir(id);
	fill_record(&w, id);
	CU_ASSERT_EQUAL_FATAL(ctr_record_write(dir, &w), 0);
	int rc = ctr_record_read(dir, &r, why, sizeof(why));
	if (rc < 0)
		fprintf(stderr, "\n  %s\n", why);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(r.id, w.id);
	CU_ASSERT_STRING_EQUAL(r.name, w.name);
	CU_ASSERT_EQUAL(r.pid, w.pid);
	CU_ASSERT_EQUAL(r.pid_start, w.pid_start);
	CU_ASSERT_EQUAL(r.status, CTR_RUNNING);
	CU_ASSERT_EQUAL(r.exit_status, -1);
	CU_ASSERT_EQUAL(r.created, w.created);
	CU_ASSERT_EQUAL(r.started, w.started);
	CU_ASSERT_EQUAL(r.finished, 0);
	CU_ASSERT_STRING_EQUAL(r.image, w.image);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(r.argv[i], w.argv[i]);
	CU_ASSERT_PTR_NULL(r.argv[3]);
	CU_ASSERT_TRUE(ctr_pid_alive(&r));
	/* Exited, then read back: the status changes and stays. */
	w.status = CTR_EXITED;
	w.exit_status = 137;
	w.finished = 1700000009;
	ctr_record_free(&r);
	CU_ASSERT_EQUAL(ctr_record_write(dir, &w), 0);
	CU_ASSERT_EQUAL_FATAL(ctr_record_read(dir, &r, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(r.status, CTR_EXITED);
	CU_ASSERT_EQUAL(r.exit_status, 137);
	CU_ASSERT_EQUAL(r.finished, 1700000009);
	ctr_record_free(&r);
	ctr_record_free(&w);
	remove_tree(dir);
}

/* Whether dir holds exactly the entries named (and "." and ".."). */
static int count_entries(const char *dir)
{
	char cmd[400], out[32];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	if (!p || !fgets(out, sizeof(out), p))
		return -1;
	pclose(p);
	return atoi(out);
}

static void test_half_written_record_is_never_read(void)
{
	struct ctr_record w, r;
	char id[CTR_ID_LEN + 1], why[512], tmp[400], *half;
	CU_ASSERT_EQUAL_FATAL(ctr_new_id(id), 0);
	const char *dir = make_ctr_dir(id);
	/* A writer killed before its rename leaves its temporary file,
	 * half a record, and no state.json: nothing to read, nothing to
	 * list. */
	snprintf(tmp, sizeof(tmp), "%s/." CTR_STATE ".Ab12Cd", dir);
	half = "{\n  \"command\": [\"sh\"],\n  \"created\": 17000";
	CU_ASSERT_EQUAL(create_file(tmp, half), 0);
	CU_ASSERT_EQUAL(ctr_record_read(dir, &r, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	struct ctr_record *list;
	size_t n;
	CU_ASSERT_EQUAL(ctr_list(run_dir, &list, &n), 0);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_STRING_NOT_EQUAL(list[i].id, id);
	ctr_list_free(list, n);
	/* A whole record written after it is read; the leftover is not. */
	fill_record(&w, id);
	CU_ASSERT_EQUAL_FATAL(ctr_record_write(dir, &w), 0);
	CU_ASSERT_EQUAL(ctr_record_read(dir, &r, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(r.id, id);
	ctr_record_free(&r);
	/* A write leaves no temporary file of its own: state.json and the
	 * old leftover only. */
	CU_ASSERT_EQUAL(count_entries(dir), 2);
	/* A state.json that is not a whole record (written by hand, or by
	 * something else) is refused, not half taken. */
	char path[400];
	snprintf(path, sizeof(path), "%s/" CTR_STATE, dir);
	CU_ASSERT_EQUAL(create_file(path, half), 0);
	CU_ASSERT_EQUAL(ctr_record_read(dir, &r, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	ctr_record_free(&w);
	remove_tree(dir);
}

static void test_readers_never_see_half_a_record(void)
{
	struct ctr_record w, r;
	char id[CTR_ID_LEN + 1], why[512];
	CU_ASSERT_EQUAL_FATAL(ctr_new_id(id), 0);
	const char *dir = make_ctr_dir(id);
	fill_record(&w, id);
	CU_ASSERT_EQUAL_FATAL(ctr_record_write(dir, &w), 0);
	/* A writer rewriting it as fast as it can: a reader at any moment
	 * gets a whole record, the old or the new. */
	pid_t writer = fork();
	if (writer == 0) {
		for (int i = 0; i < 2000; i++) {
			w.exit_status = i % 256;
			if (ctr_record_write(dir, &w) < 0)
				_exit(1);
		}
		_exit(0);
	}
	int bad = 0, reads = 0;
	while (waitpid(writer, NULL, WNOHANG) == 0 && reads < 100000) {
		reads++;
		if (ctr_record_read(dir, &r, why, sizeof(why)) < 0)
			bad++;
		else
			ctr_record_free(&r);
	}
	if (bad)
		fprintf(stderr, "\n  %d of %d reads failed: %s\n", bad, reads,
			why);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(reads > 10);
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
	ctr_record_free(&w);
	remove_tree(dir);
}

static void test_ids_are_random_hex(void)
{
	char a[CTR_ID_LEN + 1], b[CTR_ID_LEN + 1];
	CU_ASSERT_EQUAL(ctr_new_id(a), 0);
	CU_ASSERT_EQUAL(ctr_new_id(b), 0);
	CU_ASSERT_EQUAL(strlen(a), CTR_ID_LEN);
	CU_ASSERT_EQUAL(strspn(a, "0123456789abcdef"), CTR_ID_LEN);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static void test_lookup_by_prefix_and_name(void)
{
	const char *ids[] = {
	    "abc1000000000000000000000000000000000000000000000000000000000001",
	    "abc2000000000000000000000000000000000000000000000000000000000002",
	    "def3000000000000000000000000000000000000000000000000000000000003",
	};
	char id[CTR_ID_LEN + 1], why[256], base[256];
	snprintf(base, sizeof(base), "%s", run_dir);
	set_path(run_dir, sizeof(run_dir), "%s/lookup", base);
	for (size_t i = 0; i < 3; i++)
		make_ctr_dir(ids[i]);
	/* Unique: a prefix, a whole id. */
	CU_ASSERT_EQUAL(ctr_lookup(run_dir, "abc1", id, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(id, ids[0]);
	CU_ASSERT_EQUAL(ctr_lookup(run_dir, "d", id, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(id, ids[2]);
	CU_ASSERT_EQUAL(ctr_lookup(run_dir, ids[1], id, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(id, ids[1]);
	/* Ambiguous: an error, never the first one found. */
	CU_ASSERT_EQUAL(ctr_lookup(run_dir, "abc", id, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "2 containers"));
	/* Missing: no id starts so, no such name, nothing at all. */
	CU_ASSERT_EQUAL(ctr_lookup(run_dir, "abc3", id, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_EQUAL(ctr_lookup(run_dir, "ABC1", id, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_EQUAL(ctr_lookup(run_dir, "", id, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	/* A name, even one that is also the start of an id. */
	CU_ASSERT_EQUAL(ctr_claim_name(run_dir, "abc", ids[2]), 0);
	CU_ASSERT_EQUAL(ctr_lookup(run_dir, "abc", id, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(id, ids[2]);
	remove_tree(run_dir);
	set_path(run_dir, sizeof(run_dir), "%s", base);
}

static void test_names_are_unique(void)
{
	char a[CTR_ID_LEN + 1], b[CTR_ID_LEN + 1];
	CU_ASSERT_EQUAL(ctr_new_id(a), 0);
	CU_ASSERT_EQUAL(ctr_new_id(b), 0);
	mkdir(run_dir, 0700);
	CU_ASSERT_EQUAL(ctr_claim_name(run_dir, "db", a), 0);
	CU_ASSERT_EQUAL(ctr_claim_name(run_dir, "db", b), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	CU_ASSERT_EQUAL(ctr_release_name(run_dir, "db"), 0);
	CU_ASSERT_EQUAL(ctr_claim_name(run_dir, "db", b), 0);
	CU_ASSERT_EQUAL(ctr_release_name(run_dir, "db"), 0);
	CU_ASSERT_EQUAL(ctr_claim_name(run_dir, "-db", a), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(ctr_claim_name(run_dir, "a/b", a), -1);
	CU_ASSERT_EQUAL(ctr_claim_name(run_dir, "..", a), -1);
}

static void test_reused_pid_is_not_the_container(void)
{
	struct ctr_record r = {0};
	r.pid = getpid();
	CU_ASSERT_EQUAL_FATAL(ctr_proc_start(r.pid, &r.pid_start), 0);
	CU_ASSERT_TRUE(ctr_pid_alive(&r));
	/* The same pid, started at another time: another process. */
	r.pid_start++;
	CU_ASSERT_FALSE(ctr_pid_alive(&r));
	/* A process that has ended. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	CU_ASSERT_EQUAL(ctr_proc_start(pid, &r.pid_start), 0);
	waitpid(pid, NULL, 0);
	r.pid = pid;
	CU_ASSERT_FALSE(ctr_pid_alive(&r));
}

static void test_list_newest_first(void)
{
	char base[256];
	snprintf(base, sizeof(base), "%s", run_dir);
	set_path(run_dir, sizeof(run_dir), "%s/list", base);
	char ids[3][CTR_ID_LEN + 1];
	for (int i = 0; i < 3; i++) {
		struct ctr_record w;
		CU_ASSERT_EQUAL_FATAL(ctr_new_id(ids[i]), 0);
		fill_record(&w, ids[i]);
		w.created = 1000 + i;
		CU_ASSERT_EQUAL(ctr_record_write(make_ctr_dir(ids[i]), &w), 0);
		ctr_record_free(&w);
	}
	make_ctr_dir("not-an-id");
	/* One whose writer was killed: a temporary file, no record. */
	char half[CTR_ID_LEN + 1], tmp[512];
	CU_ASSERT_EQUAL_FATAL(ctr_new_id(half), 0);
	set_path(tmp, sizeof(tmp), "%s/." CTR_STATE ".x1y2z3",
		 make_ctr_dir(half));
	CU_ASSERT_EQUAL(create_file(tmp, "{\"id\": \""), 0);
	struct ctr_record *list;
	size_t n;
	CU_ASSERT_EQUAL_FATAL(ctr_list(run_dir, &list, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(list[i].id, ids[2 - i]);
	ctr_list_free(list, n);
	remove_tree(run_dir);
	set_path(run_dir, sizeof(run_dir), "%s", base);
}

static CU_TestInfo record_tests[] = {
    {"test_record_round_trips", test_record_round_trips},
    {"test_half_written_record_is_never_read",
     test_half_written_record_is_never_read},
    {"test_readers_never_see_half_a_record",
     test_readers_never_see_half_a_record},
    {"test_ids_are_random_hex", test_ids_are_random_hex},
    {"test_lookup_by_prefix_and_name", test_lookup_by_prefix_and_name},
    {"test_names_are_unique", test_names_are_unique},
    {"test_reused_pid_is_not_the_container",
     test_reused_pid_is_not_the_container},
    {"test_list_newest_first", test_list_newest_first},
    CU_TEST_INFO_NULL,
};

/*** terminal ***/

enum ending { END_NORMAL, END_KILLED, END_RUNTIME_DIES };

/* The command on the pty: say what it sees, echo a line, then end as
 * told (normal: after the next window-size change). */
static noreturn void pty_command(enum ending how)
{
	struct winsize ws = {0};
	sigset_t winch;
	char line[64] = "", out[256];

	/* Never longer than the test waits: SIGALRM ends it. */
	alarm(2 * TIMEOUT_MS / 1000);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	sigprocmask(SIG_BLOCK, &winch, NULL);
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	ioctl(0, TIOCGWINSZ, &ws);
	snprintf(out, sizeof(out),
		 "tty=%d%d%d ctty=%d leader=%d fg=%d size=%dx%d\n", isatty(0),
		 isatty(1), isatty(2), tty >= 0, getsid(0) == getpid(),
		 tcgetpgrp(0) == getpgrp(), ws.ws_row, ws.ws_col);
	write_all(1, out, strlen(out));
	if (how == END_KILLED)
		raise(SIGKILL);
	if (!fgets(line, sizeof(line), stdin))
		_exit(2);
	line[strcspn(line, "\n")] = '\0';
	snprintf(out, sizeof(out), "got=%s\n", line);
	write_all(1, out, strlen(out));
	int sig;
	sigwait(&winch, &sig);
	ioctl(0, TIOCGWINSZ, &ws);
	snprintf(out, sizeof(out), "resized=%dx%d\n", ws.ws_row, ws.ws_col);
	write_all(1, out, strlen(out));
	_exit(3);
}

/* The runtime of a -t run, on the terminal tty: raw mode, a pty from
 * the test's devpts, the command on it, the copy, the modes back. */
static noreturn void pty_runtime(int tty, enum ending how)
{
	struct term_mode mode;
	struct pty pty;

	/* A session whose terminal is tty, as a shell gives one: its size
	 * changes then signal us (SIGWINCH). */
	if (setsid() < 0 || ioctl(tty, TIOCSCTTY, 0) < 0 || dup2(tty, 0) < 0 ||
	    dup2(tty, 1) < 0)
		_exit(120);
	close_others(-1, -1, -1);
	if (make_raw(0, &mode) < 0)
		die_errno("cannot make the terminal raw");
	if (how == END_RUNTIME_DIES)
		die("a failure after raw mode, as the test wants");
	if (open_pty(ptmx, 0, &pty) < 0)
		die_errno("cannot open a pty from '%s'", ptmx);
	pid_t pid = fork();
	if (pid == 0) {
		close(pty.master);
		attach_terminal(pty.slave);
		pty_command(how);
	}
	close(pty.slave);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pty_io io = {.master = pty.master,
			    .in = 0,
			    .out = 1,
			    .log = -1,
			    .winsize = 0,
			    .pidfd = pidfd};
	if (copy_pty(&io) < 0)
		report_errno("cannot copy the pty");
	restore_terminal(&mode);
	exit(wait_child(pid));
}

/* Run a -t session ending as how on a terminal of the test's own, typing
 * and resizing as it goes; its output into out. Returns the runtime's
 * status; *restored tells whether the terminal's modes are as before. */
static int pty_session(enum ending how, char *out, size_t len, bool *restored)
{
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	struct termios before, after;
	int master, tty;

	*restored = false;
	out[0] = '\0';
	if (openpty(&master, &tty, NULL, NULL, &ws) < 0)
		return -1;
	tcgetattr(tty, &before);
	pid_t pid = fork();
	if (pid == 0) {
		close(master);
		pty_runtime(tty, how);
	}
	size_t got = 0;
	if (how != END_RUNTIME_DIES)
		got = read_until(master, out, len, "size=24x80", TIMEOUT_MS);
	if (how == END_NORMAL && strstr(out, "size=24x80")) {
		/* Typed: CR, as a terminal sends Enter; raw mode passes it
		 * on and the container's pty turns it into a newline. */
		if (write(master, "hello\r", 6) != 6)
			perror("test_exec: write");
		got += read_until(master, out + got, len - got, "got=hello",
				  TIMEOUT_MS);
		ws.ws_row = 30;
		ws.ws_col = 100;
		ioctl(master, TIOCSWINSZ, &ws);
		got +=
		    read_until(master, out + got, len - got, "resized=", 3000);
		/* Told of no resize in 3 s (it takes microseconds): it
		 * never will be. The runtime goes, its pty's hangup ends
		 * the command. */
		if (!strstr(out, "resized="))
			kill(pid, SIGKILL);
	}
	int status = wait_bounded(pid, TIMEOUT_MS);
	read_until(master, out + got, len - got, NULL, 200);
	tcgetattr(tty, &after);
	*restored = before.c_iflag == after.c_iflag &&
		    before.c_oflag == after.c_oflag &&
		    before.c_lflag == after.c_lflag &&
		    before.c_cflag == after.c_cflag &&
		    !memcmp(before.c_cc, after.c_cc, sizeof(before.c_cc));
	if (verbose_on)
		fprintf(stderr, "\n  pty session (%d) said: %s\n", how, out);
	close(master);
	close(tty);
	return status;
}

static void test_command_sees_a_terminal_of_its_own(void)
{
	char out[4096];
	bool restored;
	int status = pty_session(END_NORMAL, out, sizeof(out), &restored);
	CU_ASSERT_EQUAL(status, 3);
	/* stdin, stdout, stderr a terminal; /dev/tty opens (it has a
	 * controlling terminal), it leads its session and is in the
	 * foreground; the size is the runtime's terminal's. */
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(out, "tty=111 ctty=1 leader=1 fg=1 size=24x80"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "got=hello"));
	/* The runtime's terminal changed size: so did the command's, and
	 * it was told (SIGWINCH). */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "resized=30x100"));
	CU_ASSERT_TRUE(restored);
}

static void test_terminal_restored_when_command_killed(void)
{
	char out[4096];
	bool restored;
	int status = pty_session(END_KILLED, out, sizeof(out), &restored);
	CU_ASSERT_EQUAL(status, 128 + SIGKILL);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "tty=111"));
	CU_ASSERT_TRUE(restored);
}

static void test_terminal_restored_when_runtime_dies(void)
{
	char out[4096];
	bool restored;
	int status = pty_session(END_RUNTIME_DIES, out, sizeof(out), &restored);
	CU_ASSERT_EQUAL(status, EXIT_RUNTIME);
	CU_ASSERT_TRUE(restored);
}

static CU_TestInfo terminal_tests[] = {
    {"test_command_sees_a_terminal_of_its_own",
     test_command_sees_a_terminal_of_its_own},
    {"test_terminal_restored_when_command_killed",
     test_terminal_restored_when_command_killed},
    {"test_terminal_restored_when_runtime_dies",
     test_terminal_restored_when_runtime_dies},
    CU_TEST_INFO_NULL,
};

/*** exec ***/

/* The container: its first process, its group, the pipe that holds it. */
static struct {
	pid_t pid;
	unsigned long long start;
	int hold;
	char cgroup[PATH_MAX];
	char root[256];
} ctr = {.hold = -1};

static const char *const ns_names[] = {"user", "pid", "mnt",   "uts",
				       "ipc",  "net", "cgroup"};

/* Bind or link /name of the host into root, so that its programs run
 * there: /usr bound, /bin and the like as the links they are. */
static int share_host_dir(const char *root, const char *name)
{
	char path[512], link[64];
	snprintf(path, sizeof(path), "/%s", name);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (n > 0) {
		link[n] = '\0';
		return symlink(link, path);
	}
	char from[64];
	snprintf(from, sizeof(from), "/%s", name);
	if (access(from, F_OK) < 0)
		return 0;
	if (mkdir(path, 0755) < 0)
		return -1;
	return mount(from, path, NULL, MS_BIND | MS_REC, NULL);
}

/* The container's first process, PID 1 of its namespace: hostname, a
 * root of its own with a file it writes and a /proc, the walls of stage
 * 10; then it waits until hold closes. */
static noreturn void container_main(int sync, int ready, int hold)
{
	char c, path[512];
	const char *root = ctr.root;

	if (read(sync, &c, 1) != 1) /* the maps and the cgroup are set */
		_exit(1);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die_errno("container: cannot become root");
	if (unshare(CLONE_NEWCGROUP) < 0)
		die_errno("container: cannot unshare the cgroup namespace");
	if (sethostname(HOSTNAME, strlen(HOSTNAME)) < 0)
		die_errno("container: cannot set the hostname");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", root, "tmpfs", 0, "mode=0755") < 0)
		die_errno("container: cannot mount its root");
	if (share_host_dir(root, "usr") < 0 ||
	    share_host_dir(root, "bin") < 0 ||
	    share_host_dir(root, "sbin") < 0 ||
	    share_host_dir(root, "lib") < 0 ||
	    share_host_dir(root, "lib64") < 0)
		die_errno("container: cannot share the host's programs");
	snprintf(path, sizeof(path), "%s/proc", root);
	if (mkdir(path, 0555) < 0 ||
	    mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		die_errno("container: cannot mount its /proc");
	snprintf(path, sizeof(path), "%s/work", root);
	if (mkdir(path, 0755) < 0 || chroot(root) < 0 || chdir("/work") < 0)
		die_errno("container: cannot enter its root");
	if (create_file("/marker", MARKER) < 0)
		die_errno("container: cannot write its marker");
	drop_capabilities(CAPS_DEFAULT);
	set_no_new_privs();
	install_seccomp();
	if (write(ready, "r", 1) != 1)
		_exit(1);
	while (read(hold, &c, 1) > 0)
		;
	_exit(0);
}

static int exec_clean(void);

static int exec_init(void)
{
	struct cgroup_hierarchy h;
	char why[512], path[PATH_MAX + 32], map[64];
	int sync[2], ready[2], hold[2];

	if (cgroup_find_pids(&h, why, sizeof(why)) < 0) {
		fprintf(stderr, "test_exec: no pids cgroup: %s\n", why);
		return -1;
	}
	set_path(ctr.cgroup, sizeof(ctr.cgroup), "%s/minidocker-test-exec-%d",
		 h.root, (int)getpid());
	if (mkdir(ctr.cgroup, 0755) < 0) {
		perror("test_exec: cannot make a cgroup");
		return -1;
	}
	snprintf(ctr.root, sizeof(ctr.root), "%s/root", scratch);
	if (mkdir(ctr.root, 0755) < 0 || pipe2(sync, O_CLOEXEC) < 0 ||
	    pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
		return -1;
	struct clone_args args = {.flags = CLONE_NEWUSER | CLONE_NEWPID |
					   CLONE_NEWNS | CLONE_NEWUTS |
					   CLONE_NEWIPC | CLONE_NEWNET,
				  .exit_signal = SIGCHLD};
	ctr.pid = clone_fork(&args);
	if (ctr.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close_others(sync[0], ready[1], hold[0]);
		container_main(sync[0], ready[1], hold[0]);
	}
	close(sync[0]);
	close(ready[1]);
	close(hold[0]);
	ctr.hold = hold[1];
	if (ctr.pid < 0)
		return -1;
	/* Root inside is root outside, as stage 13 maps it under sudo. */
	snprintf(map, sizeof(map), "0 0 65536");
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)ctr.pid);
	int ok = write_file(path, map) == 0;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)ctr.pid);
	ok = ok && write_file(path, map) == 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", ctr.cgroup);
	snprintf(map, sizeof(map), "%d", (int)ctr.pid);
	ok = ok && write_file(path, map) == 0;
	char c = 's';
	ok = ok && write(sync[1], &c, 1) == 1;
	close(sync[1]);
	ok = ok && read_until(ready[0], why, 2, "r", TIMEOUT_MS) == 1;
	close(ready[0]);
	ok = ok && ctr_proc_start(ctr.pid, &ctr.start) == 0;
	if (ok)
		return 0;
	/* CUnit runs no cleanup after a failed init. */
	fprintf(stderr, "test_exec: the container did not start\n");
	exec_clean();
	return -1;
}

static int exec_clean(void)
{
	if (ctr.hold >= 0)
		close(ctr.hold);
	ctr.hold = -1;
	if (ctr.pid > 0)
		wait_bounded(ctr.pid, TIMEOUT_MS);
	ctr.pid = 0;
	/* Its group empties once the kernel has reaped the whole PID
	 * namespace: cgroup_remove() waits for that, with a bound. */
	if (ctr.cgroup[0] && cgroup_remove(ctr.cgroup, TIMEOUT_MS) < 0)
		perror("test_exec: cannot remove the test's cgroup");
	return 0;
}

/* A step the test makes between the walls and the exec. */
struct pause {
	int report; /* our pid in the container's PID namespace goes here */
	int go;	    /* then we wait until this closes */
};

/* What exec_in()'s command process is given. */
struct command {
	const struct exec_handles *h;
	char *const *argv;
	const struct pause *pause;
	int out; /* its stdout and stderr */
};

/* exec_in()'s command process (fork_into_container()'s fn). */
static int command_main(void *arg)
{
	const struct command *c = arg;
	if (dup2(c->out, 1) < 0 || dup2(c->out, 2) < 0)
		_exit(125);
	/* Its output is what the tests compare: none of the walls'
	 * progress lines in it. */
	set_verbose(false);
	enter_walls(c->h);
	if (c->pause) {
		pid_t me = getpid();
		char b;
		if (write(c->pause->report, &me, sizeof(me)) < 0)
			_exit(125);
		while (read(c->pause->go, &b, 1) > 0)
			;
	}
	execv(c->argv[0], c->argv);
	_exit(127);
}

/* exec argv in the container as the spine will: open it, a child that
 * joins, the command's process forked into it. Its output (stdout and
 * stderr) into out; its pid in ours into *cmd_pid. Returns its status,
 * or -1 when open_container() refused (errno, why). */
static int exec_in(pid_t pid, unsigned long long start, char *const argv[],
		   const struct pause *pause, char *out, size_t len)
{
	struct exec_target t = {.pid = pid,
				.pid_start = start,
				.cgroups = {ctr.cgroup},
				.n_cgroups = 1};
	struct exec_handles h;
	char why[512];
	int outp[2], pidp[2];

	out[0] = '\0';
	if (open_container(&t, &h, why, sizeof(why)) < 0) {
		snprintf(out, len, "%s", why);
		return -1;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(pidp, O_CLOEXEC) < 0)
		return -1;
	pid_t joiner = fork();
	if (joiner == 0) {
		struct command c = {&h, argv, pause, outp[1]};
		join_container(&h, &t);
		pid_t cmd = fork_into_container(command_main, &c);
		if (cmd < 0)
			die_errno("cannot fork into the container");
		_exit(write(pidp[1], &cmd, sizeof(cmd)) == sizeof(cmd) ? 0 : 1);
	}
	close(outp[1]);
	close(pidp[1]);
	close_container(&h);
	pid_t cmd = -1;
	int joined = wait_bounded(joiner, TIMEOUT_MS);
	if (read(pidp[0], &cmd, sizeof(cmd)) != sizeof(cmd))
		cmd = -1;
	close(pidp[0]);
	read_until(outp[0], out, len, NULL, TIMEOUT_MS);
	close(outp[0]);
	/* The command is our child, not the joiner's (CLONE_PARENT). */
	int status = cmd > 0 ? wait_bounded(cmd, TIMEOUT_MS) : -1;
	if (joined != 0 || status < 0)
		fprintf(stderr, "\n  exec: joiner %d, command %d: %s\n", joined,
			status, out);
	if (verbose_on)
		fprintf(stderr, "\n  exec %s said: %s\n",
			argv[1] ? argv[2] : argv[0], out);
	return status;
}

/* The line of /proc/PID/status starting with key ("CapBnd:"). */
static void status_line(pid_t pid, const char *key, char *line, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	line[0] = '\0';
	FILE *f = fopen(path, "re");
	while (f && fgets(line, (int)len, f))
		if (!strncmp(line, key, strlen(key)))
			break;
		else
			line[0] = '\0';
	if (f)
		fclose(f);
}

static void test_exec_joins_every_namespace(void)
{
	char *argv[] = {"/bin/sh", "-c",
			"for n in user pid mnt uts ipc net cgroup; do "
			"readlink /proc/self/ns/$n; done",
			NULL};
	char out[2048], want[1024] = "", path[64], link[64];
	for (size_t i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)ctr.pid,
			 ns_names[i]);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		CU_ASSERT_FATAL(n > 0);
		link[n] = '\0';
		strcat(want, link);
		strcat(want, "\n");
		/* Each is the container's own, not ours. */
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_names[i]);
		char self[64];
		n = readlink(path, self, sizeof(self) - 1);
		CU_ASSERT_FATAL(n > 0);
		self[n] = '\0';
		CU_ASSERT_STRING_NOT_EQUAL(self, link);
	}
	CU_ASSERT_EQUAL(
	    exec_in(ctr.pid, ctr.start, argv, NULL, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_exec_sees_the_containers_world(void)
{
	char *argv[] = {"/bin/sh", "-c",
			"cat /proc/sys/kernel/hostname; cat /marker; echo; "
			"echo pid=$$; cat /proc/1/comm; pwd; "
			"grep :pids: /proc/self/cgroup; exit 7",
			NULL};
	char out[2048], want[512];
	int status = exec_in(ctr.pid, ctr.start, argv, NULL, out, sizeof(out));
	CU_ASSERT_EQUAL(status, 7);
	/* Its hostname, the file its first process wrote in its root, its
	 * PID 1 (this program, as the container's first process) and a
	 * small pid of its own, its working directory, and its cgroup,
	 * which its cgroup namespace shows as "/". */
	snprintf(want, sizeof(want), "%s\n%s\n", HOSTNAME, MARKER);
	CU_ASSERT_NSTRING_EQUAL(out, want, strlen(want));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\ntest_exec\n/work\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ":pids:/\n"));
	char *p = strstr(out, "pid=");
	CU_ASSERT_FATAL(p != NULL);
	int pid = atoi(p + 4);
	CU_ASSERT(pid > 1 && pid < 100);
}

static void test_exec_has_the_containers_walls(void)
{
	char *argv[] = {"/bin/sh", "-c",
			"grep -E '^(CapBnd|NoNewPrivs|Seccomp):' "
			"/proc/self/status",
			NULL};
	char out[2048], want[512] = "", line[128], ours[128];
	const char *keys[] = {"CapBnd:", "NoNewPrivs:", "Seccomp:"};
	for (int i = 0; i < 3; i++) {
		status_line(ctr.pid, keys[i], line, sizeof(line));
		strcat(want, line);
		/* The container's differ from ours: the check means
		 * something. */
		status_line(getpid(), keys[i], ours, sizeof(ours));
		CU_ASSERT_STRING_NOT_EQUAL(line, ours);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(want, "Seccomp:\t2\n"));
	CU_ASSERT_EQUAL(
	    exec_in(ctr.pid, ctr.start, argv, NULL, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_exec_is_not_dumpable_until_exec(void)
{
	int report[2], go[2];
	char buf[2048];
	if (pipe2(report, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		CU_FAIL_FATAL("pipe");
	/* One exec stops between its walls and its exec: the window of
	 * CVE-2019-5736, a copy of the runtime inside the container. */
	pid_t first = fork();
	if (first == 0) {
		char *argv[] = {"/bin/true", NULL};
		struct pause p = {.report = report[1], .go = go[0]};
		close(report[0]);
		close(go[1]);
		_exit(exec_in(ctr.pid, ctr.start, argv, &p, buf, sizeof(buf)));
	}
	close(report[1]);
	close(go[0]);
	pid_t inner = 0;
	CU_ASSERT_FATAL(read(report[0], &inner, sizeof(inner)) ==
			sizeof(inner));
	close(report[0]);
	/* Another process of the container, root there with the same
	 * capabilities, reaches for that copy's binary. */
	char script[256];
	snprintf(script, sizeof(script),
		 "readlink /proc/%d/exe || echo refused; "
		 "head -c 4 /proc/%d/exe 2>/work/err | grep -q ELF && "
		 "echo opened || echo refused",
		 (int)inner, (int)inner);
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	int status = exec_in(ctr.pid, ctr.start, argv, NULL, buf, sizeof(buf));
	close(go[1]);
	CU_ASSERT_EQUAL(wait_bounded(first, TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(status, 0);
	CU_ASSERT_PTR_NULL(strstr(buf, "/test_exec"));
	CU_ASSERT_PTR_NULL(strstr(buf, "opened"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "refused\nrefused\n"));
}

static void test_exec_refuses_a_process_not_the_container(void)
{
	char *argv[] = {"/bin/true", NULL};
	char out[512];
	/* The right pid with another start time: the pid was reused. */
	CU_ASSERT_EQUAL(
	    exec_in(ctr.pid, ctr.start + 1, argv, NULL, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(errno, ESRCH);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "is gone"));
	/* A container that has ended, not yet reaped by its monitor (a
	 * zombie: its pid and start time still there, its namespaces
	 * gone), then reaped. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	siginfo_t si;
	waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	unsigned long long start = 0;
	CU_ASSERT_EQUAL(ctr_proc_start(pid, &start), 0);
	CU_ASSERT_EQUAL(exec_in(pid, start, argv, NULL, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(errno, ESRCH);
	waitpid(pid, NULL, 0);
	CU_ASSERT_EQUAL(exec_in(pid, 0, argv, NULL, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(errno, ESRCH);
}

static CU_TestInfo exec_tests[] = {
    {"test_exec_joins_every_namespace", test_exec_joins_every_namespace},
    {"test_exec_sees_the_containers_world",
     test_exec_sees_the_containers_world},
    {"test_exec_has_the_containers_walls", test_exec_has_the_containers_walls},
    {"test_exec_is_not_dumpable_until_exec",
     test_exec_is_not_dumpable_until_exec},
    {"test_exec_refuses_a_process_not_the_container",
     test_exec_refuses_a_process_not_the_container},
    CU_TEST_INFO_NULL,
};

/*** monitor ***/

/* What the monitor's cleanup does: record the end, remove a resource. */
struct after {
	const char *dir;      /* the container's directory */
	const char *resource; /* stands for its cgroup, layer, network */
};

static void record_end(int status, void *arg)
{
	const struct after *a = arg;
	struct ctr_record r;
	char why[512];
	if (ctr_record_read(a->dir, &r, why, sizeof(why)) < 0) {
		report("%s", why);
		return;
	}
	r.status = CTR_EXITED;
	r.exit_status = status;
	r.finished = time(NULL);
	if (ctr_record_write(a->dir, &r) < 0)
		report_errno("cannot write the record");
	ctr_record_free(&r);
	remove_tree(a->resource);
}

/* The runtime of run -d: a monitor, which starts the container (a
 * process that writes on both outputs, waits for go to close, and ends
 * with 7), records it, and says so; then the runtime returns at once,
 * telling told the monitor's pid (where run -d prints the id). */
static noreturn void detached_runtime(const char *dir, const char *resource,
				      int go, int told)
{
	char path[400];
	sigset_t old;
	int started[2];
	snprintf(path, sizeof(path), "%s/log", dir);
	int log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log < 0 || pipe2(started, O_CLOEXEC) < 0)
		_exit(120);
	pid_t monitor = start_monitor(log);
	if (monitor != 0) {
		pid_t said = 0;
		close(started[1]);
		if (monitor < 0 ||
		    read(started[0], &said, sizeof(said)) != sizeof(said) ||
		    write(told, &said, sizeof(said)) != sizeof(said))
			_exit(1);
		_exit(0);
	}
	close(started[0]);
	/* Blocked before the container starts, as run does: a signal
	 * that comes before monitor_container() is forwarded too. */
	int lock = state_lock_dir(dir, O_CREAT), out[2], err[2];
	if (lock < 0 || block_signals(&old) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0)
		die_errno("monitor: cannot set up");
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(120);
		/* What its exec would close: the monitor's lock above all. */
		close_others(go, -1, -1);
		write_all(1, "to stdout\n", 10);
		write_all(2, "to stderr\n", 10);
		while (read(go, &c, 1) > 0)
			;
		_exit(7);
	}
	close(out[1]);
	close(err[1]);
	close(go);
	close(told);
	struct ctr_record r = {0};
	char *argv[] = {"probe", NULL};
	snprintf(r.id, sizeof(r.id), "%s", strrchr(dir, '/') + 1);
	r.pid = pid;
	r.status = CTR_RUNNING;
	r.exit_status = -1;
	r.created = r.started = time(NULL);
	if (ctr_proc_start(pid, &r.pid_start) < 0 ||
	    ctr_record_set_argv(&r, argv) < 0 || ctr_record_write(dir, &r) < 0)
		die_errno("monitor: cannot write the record");
	ctr_record_free(&r);
	struct after a = {.dir = dir, .resource = resource};
	struct monitor m = {.pid = pid,
			    .out = out[0],
			    .err = err[0],
			    .log = log,
			    .cleanup = record_end,
			    .arg = &a};
	/* Now the runtime may go. */
	pid_t me = getpid();
	if (write(started[1], &me, sizeof(me)) != sizeof(me))
		_exit(1);
	close(started[1]);
	_exit(monitor_container(&m) < 0 ? 1 : 0);
}

/* Start a detached container under a new id; its directory in dir, the
 * monitor's pid in *monitor, the pipe that ends it in *go. Returns the
 * runtime's status. */
static int run_detached(char *dir, size_t len, char *resource, pid_t *monitor,
			int *go)
{
	char id[CTR_ID_LEN + 1];
	int gop[2], told[2];
	if (ctr_new_id(id) < 0 || pipe2(gop, O_CLOEXEC) < 0 ||
	    pipe2(told, O_CLOEXEC) < 0)
		return -1;
	snprintf(dir, len, "%s", make_ctr_dir(id));
	snprintf(resource, len, "%s/resource", dir);
	mkdir(resource, 0700);
	pid_t runtime = fork();
	if (runtime == 0) {
		close_others(gop[0], told[1], -1);
		detached_runtime(dir, resource, gop[0], told[1]);
	}
	close(gop[0]);
	close(told[1]);
	*go = gop[1];
	/* The runtime says the monitor's pid once the container runs. */
	*monitor = 0;
	if (read(told[0], monitor, sizeof(*monitor)) != sizeof(*monitor))
		*monitor = 0;
	close(told[0]);
	int status = wait_bounded(runtime, TIMEOUT_MS);
	return *monitor > 0 ? status : -1;
}

/* Wait for the monitor, our child now that its parent is gone (we are
 * the subreaper). */
static int wait_monitor(pid_t monitor)
{
	return wait_bounded(monitor, TIMEOUT_MS);
}

static void test_monitor_outlives_runtime_and_keeps_status(void)
{
	char dir[400], resource[400], path[450], log[256], why[512];
	pid_t monitor;
	int go;
	struct ctr_record r;

	CU_ASSERT_EQUAL_FATAL(
	    run_detached(dir, sizeof(dir), resource, &monitor, &go), 0);
	/* The runtime has returned; the monitor lives, in a session of its
	 * own, away from the terminal, holding the container's lock. */
	CU_ASSERT_EQUAL(kill(monitor, 0), 0);
	CU_ASSERT_EQUAL(getsid(monitor), monitor);
	snprintf(path, sizeof(path), "/proc/%d/fd/0", (int)monitor);
	ssize_t n = readlink(path, log, sizeof(log) - 1);
	CU_ASSERT(n > 0 && (log[n] = '\0', !strcmp(log, "/dev/null")));
	CU_ASSERT_TRUE(ctr_monitor_alive(dir));
	CU_ASSERT_EQUAL_FATAL(ctr_record_read(dir, &r, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(r.status, CTR_RUNNING);
	CU_ASSERT_TRUE(ctr_pid_alive(&r));
	ctr_record_free(&r);
	/* The container ends: the monitor reaps it, keeps its status,
	 * has its output in the log, cleans up, and goes. */
	close(go);
	CU_ASSERT_EQUAL(wait_monitor(monitor), 0);
	CU_ASSERT_EQUAL_FATAL(ctr_record_read(dir, &r, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(r.status, CTR_EXITED);
	CU_ASSERT_EQUAL(r.exit_status, 7);
	CU_ASSERT(r.finished >= r.started);
	CU_ASSERT_FALSE(ctr_pid_alive(&r));
	ctr_record_free(&r);
	snprintf(path, sizeof(path), "%s/log", dir);
	CU_ASSERT_EQUAL(read_small(path, log, sizeof(log)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "to stdout\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "to stderr\n"));
	CU_ASSERT_EQUAL(access(resource, F_OK), -1);
	CU_ASSERT_FALSE(ctr_monitor_alive(dir));
	remove_tree(dir);
}

static void test_monitor_forwards_signals(void)
{
	char dir[400], resource[400], why[512];
	pid_t monitor;
	int go;
	struct ctr_record r;

	CU_ASSERT_EQUAL_FATAL(
	    run_detached(dir, sizeof(dir), resource, &monitor, &go), 0);
	/* SIGTERM to the monitor (as a host's shutdown sends it) reaches
	 * the container, which dies of it: 128 + 15. */
	CU_ASSERT_EQUAL(kill(monitor, SIGTERM), 0);
	CU_ASSERT_EQUAL(wait_bounded(monitor, 3000), 0);
	close(go);
	CU_ASSERT_EQUAL_FATAL(ctr_record_read(dir, &r, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(r.exit_status, 128 + SIGTERM);
	ctr_record_free(&r);
	CU_ASSERT_EQUAL(access(resource, F_OK), -1);
	remove_tree(dir);
}

static void test_killed_monitor_shows(void)
{
	char dir[400], resource[400], why[512];
	pid_t monitor;
	int go;
	struct ctr_record r;

	CU_ASSERT_EQUAL_FATAL(
	    run_detached(dir, sizeof(dir), resource, &monitor, &go), 0);
	CU_ASSERT_TRUE(ctr_monitor_alive(dir));
	/* Once its output is in the log, the container has closed what it
	 * had of the monitor's (its exec would): the lock is the
	 * monitor's alone. */
	char path[450], log[256] = "";
	long long end = now_ms() + TIMEOUT_MS;
	snprintf(path, sizeof(path), "%s/log", dir);
	while (!strstr(log, "to stdout") && now_ms() < end &&
	       (read_small(path, log, sizeof(log)) == 0 || errno == ENOENT))
		usleep(2000);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "to stdout"));
	CU_ASSERT_EQUAL(kill(monitor, SIGKILL), 0);
	CU_ASSERT_EQUAL(wait_monitor(monitor), 128 + SIGKILL);
	/* Its lock went with it: ps can say so, the next command reap. */
	CU_ASSERT_FALSE(ctr_monitor_alive(dir));
	CU_ASSERT_EQUAL_FATAL(ctr_record_read(dir, &r, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(r.status, CTR_RUNNING); /* nobody recorded an end */
	/* The container, reparented to us, still runs; end it. */
	close(go);
	CU_ASSERT_EQUAL(wait_bounded(r.pid, TIMEOUT_MS), 7);
	ctr_record_free(&r);
	remove_tree(dir);
}

static CU_TestInfo monitor_tests[] = {
    {"test_monitor_outlives_runtime_and_keeps_status",
     test_monitor_outlives_runtime_and_keeps_status},
    {"test_monitor_forwards_signals", test_monitor_forwards_signals},
    {"test_killed_monitor_shows", test_killed_monitor_shows},
    CU_TEST_INFO_NULL,
};

/*** main ***/

/* Kill and reap every child we still have: as the subreaper, the
 * orphans of a failed test (a command whose runtime was killed) come to
 * us, and must not outlive the tests. */
static void end_orphans(void)
{
	for (int round = 0; round < 3; round++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		int found = 0;
		while (d && (e = readdir(d))) {
			char path[300], stat[512];
			int pid = atoi(e->d_name), ppid;
			snprintf(path, sizeof(path), "/proc/%s/stat",
				 e->d_name);
			if (pid <= 0 ||
			    read_small(path, stat, sizeof(stat)) < 0)
				continue;
			char *p = strrchr(stat, ')');
			if (p && sscanf(p + 1, " %*c %d", &ppid) == 1 &&
			    ppid == getpid() && kill(pid, SIGKILL) == 0)
				found++;
		}
		if (d)
			closedir(d);
		while (waitpid(-1, NULL, found ? 0 : WNOHANG) > 0)
			;
		if (!found)
			return;
	}
}

/* A mount namespace of our own with a tmpfs scratch and a devpts
 * instance in it: nothing we mount reaches the host's table. */
static int make_scratch(void)
{
	char pts[192];
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("test_exec: cannot make a mount namespace");
		return -1;
	}
	snprintf(scratch, sizeof(scratch), "/tmp/minidocker-exec-test.XXXXXX");
	if (!mkdtemp(scratch) ||
	    mount("tmpfs", scratch, "tmpfs", 0, "mode=0755") < 0) {
		perror("test_exec: cannot make a scratch directory");
		return -1;
	}
	snprintf(run_dir, sizeof(run_dir), "%s/run", scratch);
	snprintf(pts, sizeof(pts), "%s/pts", scratch);
	/* newinstance: ptys of its own, as stage 11 gives a container. */
	if (mkdir(pts, 0755) < 0 ||
	    mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0) {
		perror("test_exec: cannot mount a devpts");
		return -1;
	}
	set_path(ptmx, sizeof(ptmx), "%s/ptmx", pts);
	return 0;
}

int main(int argc, char **argv)
{
	int arg = 1;
	verbose_on = argc > arg && !strcmp(argv[arg], "-v");
	arg += verbose_on;
	const char *only = argc > arg ? argv[arg] : NULL;
	set_prog_name("test_exec");
	set_verbose(verbose_on);
	if (geteuid() != 0) {
		fprintf(stderr, "test_exec: needs root (namespaces, cgroups, "
				"mounts): run sudo make test-exec\n");
		return 1;
	}
	/* Orphans of ours (a monitor whose runtime returned) come back to
	 * us to reap, not to init: nothing outlives the tests. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || make_scratch() < 0)
		return 1;
	CU_SuiteInfo suites[] = {
	    {"exec-record", NULL, NULL, NULL, NULL, record_tests},
	    {"exec-terminal", NULL, NULL, NULL, NULL, terminal_tests},
	    {"exec-join", exec_init, exec_clean, NULL, NULL, exec_tests},
	    {"exec-monitor", NULL, NULL, NULL, NULL, monitor_tests},
	    CU_SUITE_INFO_NULL,
	};
	int failed = cu_run("test_exec", suites, only, verbose_on);
	end_orphans();
	/* Our mount namespace goes with us; the directory under it too. */
	umount2(scratch, MNT_DETACH);
	rmdir(scratch);
	return failed < 0 ? 2 : failed > 0;
}
