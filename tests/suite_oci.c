/*
 * Suite 16: the OCI runtime command line, driven as containerd's shim
 * and conmon drive it: a bundle (config.json and a root filesystem), then
 * `create`, `state`, `start`, `kill`, `delete`, `ps`, `exec --process`
 * and `spec`, each a separate run of the binary with a --root of the
 * test's own. What the container's process writes goes to a directory of
 * the test's bound into it, since create's stdio passes through to its
 * process, which outlives the run. Docker and podman driving it, and the
 * comparison with crun on the same bundles, are parts of their own
 * (tests/drivers, tests/bundles). Stage 15 has no OCI command line: every
 * test here fails on it.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "process.h"
#include "suites.h"
#include "util.h"

#define HOSTNAME "oci-box"

/* One test's bundle and the directory its container writes into. */
struct bundle {
	char dir[1200];	 /* the bundle: config.json */
	char out[1300];	 /* bound at /tmp in the container */
	char root[1200]; /* the runtime's --root */
};

/* The state directory of every test's runtime, under the runner's. */
static const char *state_base(void)
{
	static char base[1024];
	snprintf(base, sizeof(base), "%s/oci", getenv("MINIDOCKER_RUN"));
	return base;
}

/* config.json's text for a container that runs sh -c script as root in
 * new pid, mount, ipc, uts and network namespaces, on the test root
 * filesystem read-only, with /proc, b->out at /tmp, a /dev of its own
 * and a devpts in it, as Docker's configs have them; extra (a JSON object,
 * taken) is merged over it when not NULL. Returns it (malloc'd), or NULL. */
static char *config_text(const struct bundle *b, const char *script,
			 json_t *extra)
{
	json_t *c = json_pack(
	    "{s:s, s:{s:b, s:{s:i, s:i}, s:[s, s, s], s:[s], s:s},"
	    " s:{s:s, s:b}, s:s,"
	    " s:[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:[s, s]},"
	    " {s:s, s:s, s:s, s:[s, s, s]}, {s:s, s:s, s:s, s:[s, s, s, s]}],"
	    " s:{s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}]}}",
	    "ociVersion", "1.0.2", "process", "terminal", 0, "user", "uid", 0,
	    "gid", 0, "args", "/bin/sh", "-c", script, "env", "PATH=/bin:/sbin",
	    "cwd", "/", "root", "path", H.rootfs, "readonly", 1, "hostname",
	    HOSTNAME, "mounts", "destination", "/proc", "type", "proc",
	    "source", "proc", "destination", "/tmp", "type", "bind", "source",
	    b->out, "options", "rbind", "rw", "destination", "/dev", "type",
	    "tmpfs", "source", "tmpfs", "options", "nosuid", "mode=755",
	    "size=1m", "destination", "/dev/pts", "type", "devpts", "source",
	    "devpts", "options", "nosuid", "noexec", "newinstance",
	    "ptmxmode=0666", "linux", "namespaces", "type", "pid", "type",
	    "mount", "type", "ipc", "type", "uts", "type", "network");
	if (!c)
		return NULL;
	if (extra)
		json_object_update_recursive(c, extra);
	json_decref(extra);
	char *text = json_dumps(c, JSON_INDENT(2));
	json_decref(c);
	return text;
}

/* Write text as path; false with a failure recorded. */
static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(text, f) >= 0;
	ok = f && fclose(f) == 0 && ok;
	H_CHECK(ok, path);
	return ok;
}

/* A fresh bundle named name for script (extra as config_text()'s), or
 * false with a failure recorded. */
static bool make_bundle(struct bundle *b, const char *name, const char *script,
			json_t *extra)
{
	char path[PATH_MAX + 16];
	snprintf(b->dir, sizeof(b->dir), "%s/bundle-%s", state_base(), name);
	snprintf(b->out, sizeof(b->out), "%s/out", b->dir);
	snprintf(b->root, sizeof(b->root), "%s/root-%s", state_base(), name);
	bool ok = (mkdir(state_base(), 0700) == 0 || errno == EEXIST) &&
		  (mkdir(b->dir, 0700) == 0 || errno == EEXIST) &&
		  (mkdir(b->out, 0777) == 0 || errno == EEXIST);
	H_CHECK(ok, "make the bundle's directories");
	if (!ok)
		return false;
	char *text = config_text(b, script, extra);
	H_CHECK(text != NULL, "config.json made by jansson");
	if (!text)
		return false;
	snprintf(path, sizeof(path), "%s/config.json", b->dir);
	ok = write_file(path, text);
	free(text);
	return ok;
}

/* Run the binary with --root b->root and args (NULL-ended). */
#define OCI(r, b, ...) RUN(r, NULL, "--root", (b)->root, __VA_ARGS__)

/* `create --bundle b->dir id`, with what it and the container's process
 * write to stdout and stderr in b->out/create.log (the process keeps
 * them: a pipe would stay open after create returns). Returns create's
 * status (N, 128+S, or -1 when it did not end within the harness's
 * timeout, then killed); anything but 0 is a failure, which shows the
 * log. */
static int create_container(const struct bundle *b, const char *id,
			    const char *const *more)
{
	char log[PATH_MAX + 16];
	snprintf(log, sizeof(log), "%s/create.log", b->out);
	const char *argv[16] = {H.binary, "--root",   b->root,
				"create", "--bundle", b->dir};
	size_t n = 6;
	for (; more && *more && n < ARRAY_SIZE(argv) - 2; more++)
		argv[n++] = *more;
	argv[n++] = id;
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);
		if (fd < 0 || null < 0 || dup2(null, 0) < 0 ||
		    dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		setpgid(0, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status = -1;
	for (int waited = 0; pid > 0 && waited < H_TIMEOUT_MS; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		status = -1;
		usleep(10000);
	}
	int rc = -1;
	if (pid > 0 && status == -1) { /* timed out */
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	} else if (pid > 0)
		rc = WIFEXITED(status) ? WEXITSTATUS(status)
				       : 128 + WTERMSIG(status);
	if (rc != 0) {
		char *text = h_read_file(log), msg[600];
		snprintf(msg, sizeof(msg),
			 "create %s: status %d, output: %.400s", id, rc,
			 text ? text : "(none)");
		H_CHECK(false, msg);
		free(text);
	}
	return rc;
}

/* What `state id` says: status into status (len bytes; "" when it
 * failed) and the pid (0 when none). */
static pid_t container_state(const struct bundle *b, const char *id,
			     char *status, size_t len)
{
	struct run_result r;
	OCI(r, b, "state", id);
	json_t *st = r.status == 0 ? json_loads(r.out, 0, NULL) : NULL;
	const char *s = json_string_value(json_object_get(st, "status"));
	snprintf(status, len, "%s", s ? s : "");
	pid_t pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
	H_RUN(r, st != NULL);
	json_decref(st);
	h_free(&r);
	return pid;
}

struct state_want {
	const struct bundle *b;
	const char *id, *status;
};

static bool state_is(void *arg)
{
	const struct state_want *w = arg;
	char status[32];
	container_state(w->b, w->id, status, sizeof(status));
	return strcmp(status, w->status) == 0;
}

/* Poll until `state id` says status; the failure names what it said. */
static void wait_state(const struct bundle *b, const char *id, const char *want)
{
	struct state_want w = {b, id, want};
	char status[32], msg[128];
	bool ok = h_poll(state_is, &w, 5000);
	container_state(b, id, status, sizeof(status));
	snprintf(msg, sizeof(msg), "state of %s: \"%s\", want \"%s\"", id,
		 status, want);
	H_CHECK(ok, msg);
}

/* The text of b->out/name once it holds want (or after 5 s); malloc'd. */
struct file_want {
	char path[PATH_MAX + 16];
	const char *want;
};

static bool file_has(void *arg)
{
	const struct file_want *w = arg;
	char *text = h_read_file(w->path);
	bool has = text && strstr(text, w->want);
	free(text);
	return has;
}

static char *wait_file(const struct bundle *b, const char *name,
		       const char *want, int timeout_ms)
{
	struct file_want w = {.want = want};
	snprintf(w.path, sizeof(w.path), "%s/%s", b->out, name);
	h_poll(file_has, &w, timeout_ms);
	char *text = h_read_file(w.path);
	return text ? text : strdup("");
}

/* Whether b->root holds nothing (no container's state is left): no
 * entry but . and .., or no directory at all; false when it cannot be
 * read. */
static bool root_empty(const struct bundle *b)
{
	DIR *d = opendir(b->root);
	if (!d)
		return errno == ENOENT;
	bool empty = true;
	struct dirent *e;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

static bool gone(void *arg)
{
	pid_t pid = *(pid_t *)arg;
	struct proc_stat st;
	return proc_stat(pid, &st) < 0 || st.state == 'Z';
}

/* Whether pid ends (or is a zombie, which init reaps) within 5 s. */
static bool ends(pid_t pid)
{
	return pid > 0 && h_poll(gone, &pid, 5000);
}

/* start id, wait until it is stopped, delete it. */
static void start_to_the_end(const struct bundle *b, const char *id)
{
	struct run_result r;
	OCI(r, b, "start", id);
	H_STATUS(r, 0);
	h_free(&r);
	wait_state(b, id, "stopped");
	OCI(r, b, "delete", id);
	H_STATUS(r, 0);
	h_free(&r);
}

/*** the tests ***/

/* create sets it up and holds the process until start: it waits in the
 * container's namespaces (its pid namespace is not ours, its hostname is
 * the config's), runs nothing of the config's process, and start makes
 * it exec; state follows it to stopped, delete forgets it. */
static void test_create_holds_the_process_until_start(void)
{
	struct bundle b;
	struct run_result r;
	char status[32], path[64];
	if (!make_bundle(&b, "hold", "echo ran; hostname; echo $$", NULL))
		return;
	if (create_container(&b, "hold", NULL) != 0)
		return;
	pid_t pid = container_state(&b, "hold", status, sizeof(status));
	H_CHECK(strcmp(status, "created") == 0, "state after create");
	H_CHECK(pid > 0 && kill(pid, 0) == 0, "the created process lives");
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	char ours[64] = "", its[64] = "";
	readlink("/proc/self/ns/pid", ours, sizeof(ours) - 1);
	readlink(path, its, sizeof(its) - 1);
	H_CHECK(*its && strcmp(ours, its) != 0,
		"the created process is in a pid namespace of its own");
	usleep(200 * 1000);
	char *text = wait_file(&b, "create.log", "ran", 0);
	H_CHECK(!strstr(text, "ran"),
		"nothing of the process ran before start");
	free(text);

	OCI(r, &b, "start", "hold");
	H_STATUS(r, 0);
	h_free(&r);
	text = wait_file(&b, "create.log", "\n1\n", 5000);
	H_CHECK(strstr(text, "ran\n" HOSTNAME "\n1\n") != NULL,
		"after start the process ran as PID 1, the config's hostname");
	free(text);
	wait_state(&b, "hold", "stopped");

	OCI(r, &b, "delete", "hold");
	H_STATUS(r, 0);
	h_free(&r);
	OCI(r, &b, "state", "hold");
	H_RUN(r, r.status != 0 && h_one_line(r.err));
	h_free(&r);
	H_CHECK(root_empty(&b), "nothing left under --root after delete");
}

/* A second start, a delete of a running container without --force and
 * a kill of a stopped one fail in one line each and change nothing; kill
 * takes signal names and numbers; delete --force ends a running one. */
static void test_lifecycle_refusals(void)
{
	struct bundle b;
	struct run_result r;
	char status[32];
	if (!make_bundle(&b, "life",
			 "trap 'echo term >> /tmp/sig' TERM; "
			 "trap 'echo usr1 >> /tmp/sig' USR1; "
			 "while true; do sleep 0.05; done",
			 NULL))
		return;
	if (create_container(&b, "life", NULL) != 0)
		return;
	pid_t pid = container_state(&b, "life", status, sizeof(status));
	OCI(r, &b, "start", "life");
	H_STATUS(r, 0);
	h_free(&r);
	wait_state(&b, "life", "running");

	OCI(r, &b, "start", "life");
	H_STATUS(r, 125);
	H_RUN(r, h_one_line(r.err));
	h_free(&r);
	OCI(r, &b, "delete", "life");
	H_STATUS(r, 125);
	H_RUN(r, h_one_line(r.err));
	h_free(&r);
	wait_state(&b, "life", "running");

	/* By name with and without SIG, and by number; the shell's traps
	 * say it got each. */
	const char *sigs[] = {"USR1", "SIGTERM", "10"};
	const char *seen[] = {"usr1\n", "usr1\nterm\n", "usr1\nterm\nusr1\n"};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		OCI(r, &b, "kill", "life", sigs[i]);
		H_STATUS(r, 0);
		h_free(&r);
		char *text = wait_file(&b, "sig", seen[i], 5000);
		char msg[160];
		snprintf(msg, sizeof(msg), "kill %s: the traps saw \"%.80s\"",
			 sigs[i], text);
		H_CHECK(strcmp(text, seen[i]) == 0, msg);
		free(text);
	}
	OCI(r, &b, "kill", "life", "NOSUCHSIGNAL");
	H_STATUS(r, 125);
	H_RUN(r, h_one_line(r.err));
	h_free(&r);

	OCI(r, &b, "delete", "--force", "life");
	H_STATUS(r, 0);
	h_free(&r);
	H_CHECK(ends(pid), "delete --force ended the running process");
	H_CHECK(root_empty(&b), "nothing left under --root");

	/* A stopped one: kill fails, delete works. */
	if (!make_bundle(&b, "stopped", "exit 3", NULL) ||
	    create_container(&b, "stopped", NULL) != 0)
		return;
	OCI(r, &b, "start", "stopped");
	H_STATUS(r, 0);
	h_free(&r);
	wait_state(&b, "stopped", "stopped");
	OCI(r, &b, "kill", "stopped", "KILL");
	H_STATUS(r, 125);
	H_RUN(r, h_one_line(r.err));
	h_free(&r);
	OCI(r, &b, "delete", "stopped");
	H_STATUS(r, 0);
	h_free(&r);
	H_CHECK(root_empty(&b), "nothing left under --root");
}

/* kill --all reaches every process of the container, not only its
 * first; ps lists them (what `docker top` asks for). */
static void test_kill_all_and_ps(void)
{
	struct bundle b;
	struct run_result r;
	char status[32];
	/* PID 1 ignores TERM; its child does not. */
	if (!make_bundle(&b, "all",
			 "trap '' TERM; sleep 1000 & echo $! > /tmp/child; "
			 "while true; do sleep 0.05; done",
			 NULL) ||
	    create_container(&b, "all", NULL) != 0)
		return;
	pid_t pid = container_state(&b, "all", status, sizeof(status));
	OCI(r, &b, "start", "all");
	H_STATUS(r, 0);
	h_free(&r);
	free(wait_file(&b, "child", "\n", 5000));

	OCI(r, &b, "ps", "--format", "json", "all");
	H_STATUS(r, 0);
	json_t *pids = json_loads(r.out, 0, NULL);
	bool listed = false;
	for (size_t i = 0; i < json_array_size(pids); i++)
		listed |= json_integer_value(json_array_get(pids, i)) == pid;
	H_RUN(r, json_is_array(pids) && json_array_size(pids) >= 2 && listed);
	json_decref(pids);
	h_free(&r);

	OCI(r, &b, "kill", "--all", "all", "KILL");
	H_STATUS(r, 0);
	h_free(&r);
	H_CHECK(ends(pid), "kill --all KILL ended the first process");
	wait_state(&b, "all", "stopped");
	OCI(r, &b, "delete", "all");
	H_STATUS(r, 0);
	h_free(&r);
	H_CHECK(root_empty(&b), "nothing left under --root");
}

/* exec --process runs a process.json's process in the running
 * container: its hostname, its pid namespace (not PID 1), its status. */
static void test_exec_process_joins_the_container(void)
{
	struct bundle b;
	struct run_result r;
	char path[PATH_MAX + 32], status[32];
	if (!make_bundle(&b, "exec", "while true; do sleep 0.05; done", NULL) ||
	    create_container(&b, "exec", NULL) != 0)
		return;
	pid_t pid = container_state(&b, "exec", status, sizeof(status));
	OCI(r, &b, "start", "exec");
	H_STATUS(r, 0);
	h_free(&r);
	json_t *p =
	    json_pack("{s:b, s:{s:i, s:i}, s:[s, s, s], s:[s], s:s}",
		      "terminal", 0, "user", "uid", 0, "gid", 0, "args",
		      "/bin/sh", "-c", "hostname; echo $$; ls /tmp; exit 4",
		      "env", "PATH=/bin", "cwd", "/tmp");
	char *text = json_dumps(p, 0);
	json_decref(p);
	snprintf(path, sizeof(path), "%s/process.json", b.dir);
	bool ok = text && write_file(path, text);
	free(text);
	if (ok) {
		OCI(r, &b, "exec", "--process", path, "exec");
		H_STATUS(r, 4);
		H_RUN(r, strncmp(r.out, HOSTNAME "\n", strlen(HOSTNAME) + 1) ==
				 0 &&
			     atoi(r.out + strlen(HOSTNAME) + 1) > 1);
		H_RUN(r, strstr(r.out, "create.log") != NULL);
		h_free(&r);
	}
	OCI(r, &b, "delete", "--force", "exec");
	H_STATUS(r, 0);
	h_free(&r);
	H_CHECK(ends(pid), "delete --force ended it");
}

/* With process.terminal, the pty's master comes back over the
 * --console-socket (SCM_RIGHTS), and the process's stdio is its slave. */
static void test_console_socket_gets_the_terminal(void)
{
	struct bundle b;
	struct run_result r;
	char sock_path[64], status[32];
	json_t *extra = json_pack("{s:{s:b}}", "process", "terminal", 1);
	if (!make_bundle(&b, "tty",
			 "test -t 0 && test -t 1 && echo tty-ok; sleep 0.2",
			 extra))
		return;
	/* sun_path holds 108 bytes: a short name of its own. */
	snprintf(sock_path, sizeof(sock_path), "/tmp/minidocker-console-%d",
		 (int)getpid());
	unlink(sock_path);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = ls >= 0 &&
		  bind(ls, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
		  listen(ls, 1) == 0;
	H_CHECK(ok, "a console socket");
	const char *more[] = {"--console-socket", sock_path, NULL};
	int rc = ok ? create_container(&b, "tty", more) : -1;
	int master = -1;
	if (rc == 0) {
		int conn =
		    accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		H_CHECK(conn >= 0, "create connected to the console socket");
		if (conn >= 0) {
			int flags = fcntl(conn, F_GETFL);
			fcntl(conn, F_SETFL, flags & ~O_NONBLOCK);
			master = recv_fd(conn);
			close(conn);
		}
		H_CHECK(master >= 0 && isatty(master),
			"a terminal's master came over the socket");
	}
	if (ls >= 0)
		close(ls);
	unlink(sock_path);
	if (rc != 0)
		return;
	pid_t pid = container_state(&b, "tty", status, sizeof(status));
	OCI(r, &b, "start", "tty");
	H_STATUS(r, 0);
	h_free(&r);
	char out[256] = "";
	size_t got = 0;
	for (int i = 0; master >= 0 && i < 500 && !strstr(out, "tty-ok"); i++) {
		ssize_t n = read(master, out + got, sizeof(out) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		out[got] = '\0';
	}
	char msg[320];
	snprintf(msg, sizeof(msg),
		 "the process's stdio is the terminal: "
		 "\"%.200s\"",
		 out);
	H_CHECK(strstr(out, "tty-ok") != NULL, msg);
	if (master >= 0)
		close(master);
	H_CHECK(ends(pid), "the process ended");
	OCI(r, &b, "delete", "--force", "tty");
	H_STATUS(r, 0);
	h_free(&r);
}

/* With process.terminal, a step of the set-up that fails says so on
 * create's stderr, in one line, with its status (a working directory
 * that cannot be: 125; a command not found: 127), not on the pty, which
 * nobody reads before create has returned; nothing is left. */
static void test_terminal_setup_errors_reach_create(void)
{
	static const struct {
		const char *id, *cwd, *cmd, *says;
		int status;
	} cases[] = {
	    {"tty-cwd", "/bin/sh/sub", "/bin/true", "working directory", 125},
	    {"tty-cmd", "/", "nosuchcommand", "nosuchcommand", 127},
	};
	char sock_path[64];
	snprintf(sock_path, sizeof(sock_path), "/tmp/minidocker-console-%d",
		 (int)getpid());
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct bundle b;
		struct run_result r;
		json_t *extra =
		    json_pack("{s:{s:b, s:s, s:[s]}}", "process", "terminal", 1,
			      "cwd", cases[i].cwd, "args", cases[i].cmd);
		if (!make_bundle(&b, cases[i].id, "", extra))
			return;
		unlink(sock_path);
		struct sockaddr_un addr = {.sun_family = AF_UNIX};
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
		int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool ok =
		    ls >= 0 &&
		    bind(ls, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
		    listen(ls, 1) == 0;
		H_CHECK(ok, "a console socket");
		if (ok) {
			OCI(r, &b, "create", "--bundle", b.dir,
			    "--console-socket", sock_path, cases[i].id);
			H_STATUS(r, cases[i].status);
			H_RUN(r, h_one_line(r.err) &&
				     strstr(r.err, cases[i].says) != NULL);
			h_free(&r);
			H_CHECK(root_empty(&b), "nothing left under --root");
		}
		if (ls >= 0)
			close(ls);
		unlink(sock_path);
	}
}

/* Without root and without a cgroup delegated, as runc and crun: a
 * container whose spec asks for no limit runs, in a user namespace that
 * maps its root to the caller, without a group; one that asks for a
 * pids limit is refused in one line, 125, nothing left. As suite 8, from
 * copies of the binary and the root filesystem, run as nobody. */
static void test_rootless_create_without_cgroup(void)
{
	struct bundle b;
	struct run_result r;
	char path[PATH_MAX + 16], base[1024];
	if (!h_become_nobody())
		return;
	/* Beside the copies, in a directory every user can search. */
	snprintf(base, sizeof(base), "%.*s/oci",
		 (int)(strrchr(H.rootfs, '/') - H.rootfs), H.rootfs);
	snprintf(b.dir, sizeof(b.dir), "%s/bundle", base);
	snprintf(b.out, sizeof(b.out), "%s/out", base);
	snprintf(b.root, sizeof(b.root), "%s/root", base);
	bool ok = mkdir(base, 0755) == 0 && mkdir(b.dir, 0755) == 0 &&
		  mkdir(b.out, 0777) == 0 &&
		  chown(base, H_NOBODY, H_NOBODY) == 0;
	H_CHECK(ok, "directories for the rootless bundle");
	for (int limited = 0; ok && limited < 2; limited++) {
		/* config_text()'s namespaces, a user one first, without
		 * the network one; its root writable (a remount read-only
		 * of a copy whose mount is nosuid or nodev is refused in a
		 * user namespace). */
		json_t *extra = json_pack(
		    "{s:{s:s, s:b}, s:{s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}],"
		    " s:[{s:i, s:i, s:i}], s:[{s:i, s:i, s:i}]}}",
		    "root", "path", H.rootfs, "readonly", 0, "linux",
		    "namespaces", "type", "user", "type", "pid", "type",
		    "mount", "type", "ipc", "type", "uts", "uidMappings",
		    "containerID", 0, "hostID", H_NOBODY, "size", 1,
		    "gidMappings", "containerID", 0, "hostID", H_NOBODY, "size",
		    1);
		if (limited)
			json_object_set_new(
			    json_object_get(extra, "linux"), "resources",
			    json_pack("{s:{s:i}}", "pids", "limit", 10));
		char *text = config_text(&b, "echo rootless $(id -u)", extra);
		snprintf(path, sizeof(path), "%s/config.json", b.dir);
		if (!text || !write_file(path, text)) {
			free(text);
			break;
		}
		free(text);
		RUN(r, NULL, "--root", b.root, "run", "--bundle", b.dir,
		    "rootless");
		if (!limited) {
			H_STATUS(r, 0);
			H_OUT(r, "rootless 0\n");
		} else {
			H_STATUS(r, 125);
			H_RUN(r, h_one_line(r.err) &&
				     strstr(r.err, "linux.resources.pids"));
		}
		H_RUN(r, h_left_behind(r.pid, H.rootfs) == NULL);
		h_free(&r);
		H_CHECK(root_empty(&b), "nothing left under --root");
	}
	h_back_to_root();
}

/* A hook that appends its name to log, "ok" when the state on its
 * stdin names the container "hooks", and how many mounts at
 * rootfs/proc the mount table of mounts lists ("self": its own, else
 * the container's process's, by the state's pid): one while the
 * container's mounts are made and its root not yet pivoted, none before
 * and after. {"path": "/bin/sh", "args": ...} */
static json_t *hook(const char *name, const char *log, const char *mounts)
{
	char script[PATH_MAX * 2 + 400];
	snprintf(script, sizeof(script),
		 "st=$(tr -d ' \\n'); "
		 "if echo \"$st\" | grep -q '\"id\":\"hooks\"'; then s=ok; "
		 "else s=nostate; fi; "
		 "pid=$(echo \"$st\" | sed 's/.*\"pid\":\\([0-9]*\\).*/\\1/'); "
		 "[ %s = self ] && pid=self; "
		 "n=$(grep -c ' %s/proc ' /proc/$pid/mountinfo); "
		 "echo %s $s mounted $n >> '%s'",
		 mounts, H.rootfs, name, log);
	return json_pack("[{s:s, s:[s, s, s]}]", "path", "/bin/sh", "args",
			 "sh", "-c", script);
}

/* Each hook at its point of the life, in order, with the state on its
 * stdin: prestart and createRuntime in create, in the runtime's
 * namespaces, once the container's mounts are made and before its
 * pivot (they see its rootfs/proc in its mount table, through
 * /proc/<pid>/), createContainer after them, in the container's mount
 * namespace, before the pivot too (its own table has rootfs/proc);
 * nothing of the process before start; poststart after start;
 * poststop at delete. */
static void test_hooks_run_at_their_points(void)
{
	struct bundle b;
	char log[1400];
	snprintf(log, sizeof(log), "%s/bundle-hooks/out/hooks", state_base());
	json_t *extra =
	    json_pack("{s:{s:o, s:o, s:o, s:o, s:o}}", "hooks", "prestart",
		      hook("prestart", log, "pid"), "createRuntime",
		      hook("createRuntime", log, "pid"), "createContainer",
		      hook("createContainer", log, "self"), "poststart",
		      hook("poststart", log, "pid"), "poststop",
		      hook("poststop", log, "pid"));
	if (!make_bundle(&b, "hooks", "echo ran >> /tmp/hooks", extra))
		return;
	unlink(log);
	if (create_container(&b, "hooks", NULL) != 0)
		return;
	char *text = wait_file(&b, "hooks", "", 0);
	/* Nothing else: not the process ("ran"), no post hook. */
	bool created = !strcmp(text, "prestart ok mounted 1\n"
				     "createRuntime ok mounted 1\n"
				     "createContainer ok mounted 1\n");
	char msg[400];
	snprintf(msg, sizeof(msg),
		 "after create, want prestart, createRuntime and "
		 "createContainer, each \"ok mounted 1\": \"%.300s\"",
		 text);
	H_CHECK(created, msg);
	free(text);
	start_to_the_end(&b, "hooks");
	text = wait_file(&b, "hooks", "poststop", 5000);
	const char *ran = strstr(text, "ran\n");
	const char *poststart = strstr(text, "poststart ok");
	const char *poststop = strstr(text, "poststop ok");
	snprintf(msg, sizeof(msg), "after delete: \"%.300s\"", text);
	H_CHECK(ran && poststart && poststop && poststop > ran &&
		    poststop > poststart,
		msg);
	free(text);
}

/* linux.resources.devices is enforced, on v1 by the devices group and on
 * v2 by the BPF program attached to the container's group: with all
 * denied but c 1:3, /dev/null (linux.devices makes it) reads, and a node
 * of linux.devices that no rule allows fails to open with EPERM. That
 * node is c 1:250, a minor of the mem driver that has no device: where
 * a rule lets it through, the open fails with ENXIO instead, and nothing
 * is read. Not /dev/zero: after the spec's rules come the default
 * devices' (as runc adds them), which allow it. */
static void test_device_rules_deny_what_they_do_not_allow(void)
{
	struct bundle b;
	struct run_result r;
	json_t *extra = json_pack(
	    "{s:{s:[{s:s, s:s, s:i, s:i, s:i}, {s:s, s:s, s:i, s:i, s:i}],"
	    " s:{s:[{s:b, s:s}, {s:b, s:s, s:i, s:i, s:s}]}}}",
	    "linux", "devices", "path", "/dev/null", "type", "c", "major", 1,
	    "minor", 3, "fileMode", 0666, "path", "/dev/nodriver", "type", "c",
	    "major", 1, "minor", 250, "fileMode", 0666, "resources", "devices",
	    "allow", 0, "access", "rwm", "allow", 1, "type", "c", "major", 1,
	    "minor", 3, "access", "rwm");
	if (!make_bundle(&b, "devices",
			 "cat /dev/null && echo null read >> /tmp/devices;"
			 " head -c 1 /dev/nodriver 2>> /tmp/devices;"
			 " echo done >> /tmp/devices",
			 extra))
		return;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/devices", b.out);
	unlink(path);
	if (create_container(&b, "devices", NULL) != 0)
		return;
	OCI(r, &b, "start", "devices");
	H_STATUS(r, 0);
	h_free(&r);
	char *text = wait_file(&b, "devices", "done", 5000), msg[400];
	snprintf(msg, sizeof(msg),
		 "want /dev/null read and /dev/nodriver refused (EPERM): "
		 "\"%.300s\"",
		 text);
	H_CHECK(strstr(text, "null read\n") &&
		    strstr(text, "Operation not permitted") &&
		    strstr(text, "done\n"),
		msg);
	free(text);
	wait_state(&b, "devices", "stopped");
	OCI(r, &b, "delete", "devices");
	H_STATUS(r, 0);
	h_free(&r);
	H_CHECK(root_empty(&b), "no state left after delete");
}

/* A bundle without config.json, with malformed JSON, or with a field
 * the runtime cannot apply: one line, 125, and nothing left (no state,
 * no process). An id that is no directory name is refused too. */
static void test_bad_bundles_one_line_nothing_left(void)
{
	struct bundle b;
	struct run_result r;
	char path[PATH_MAX + 16];
	const char *cases[] = {"missing", "malformed", "unsupported", "id"};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *extra =
		    i == 2 ? json_pack("{s:{s:{s:s}}}", "linux", "intelRdt",
				       "closID", "minidocker")
			   : NULL;
		if (!make_bundle(&b, cases[i], "echo ran", extra))
			return;
		snprintf(path, sizeof(path), "%s/config.json", b.dir);
		if (i == 0)
			unlink(path);
		if (i == 1 && !write_file(path, "{\"ociVersion\": \"1.0.2\","))
			return;
		RUN(r, NULL, "--root", b.root, "create", "--bundle", b.dir,
		    i == 3 ? "../escape" : cases[i]);
		H_STATUS(r, 125);
		H_RUN(r, h_one_line(r.err) && !strstr(r.out, "ran"));
		if (i == 2)
			H_RUN(r, strstr(r.err, "intelRdt") != NULL);
		H_RUN(r, h_left_behind(r.pid, NULL) == NULL);
		if (r.status == 0) { /* taken: it must not stay waiting */
			struct run_result d;
			RUN(d, NULL, "--root", b.root, "delete", "--force",
			    cases[i]);
			h_free(&d);
		}
		h_free(&r);
		char *text = wait_file(&b, "create.log", "ran", 0);
		H_CHECK(!strstr(text, "ran"), cases[i]);
		free(text);
		H_CHECK(root_empty(&b), cases[i]);
		if (i == 3)
			continue;
		/* Nothing of the refused one stands in the way of a good
		 * config under the same id. */
		if (!make_bundle(&b, cases[i], "true", NULL) ||
		    create_container(&b, cases[i], NULL) != 0)
			continue;
		OCI(r, &b, "delete", "--force", cases[i]);
		H_STATUS(r, 0);
		h_free(&r);
	}
	OCI(r, &b, "state", "nosuch");
	H_STATUS(r, 125);
	H_RUN(r, h_one_line(r.err));
	h_free(&r);
}

/* A link in the root filesystem at a spec's path (a mount's destination,
 * a device's), absolute or a chain of "..", is followed inside the
 * root, as if the root were /: the mounts, and the files and nodes made
 * for them, land there, and the directory the links name on the host,
 * the test's own and empty, stays empty (runc's CVE-2021-30465 went the
 * other way). The root filesystem is a copy, with the links in it. */
static void test_mount_destinations_stay_in_root(void)
{
	struct bundle b;
	char host[1400], rootfs[1400], path[1500], cmd[16384], up[64] = "";
	if (!make_bundle(&b, "links", "", NULL))
		return;
	snprintf(host, sizeof(host), "%s/outside", b.dir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", b.dir);
	for (int i = 0; i < 16; i++)
		strcat(up, "../");
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s' '%s' && mkdir '%s' && cp -a '%s' '%s' && "
		 "echo marker > '%s/marker' && "
		 "ln -s '%s' '%s/mnt/abs' && ln -s '%s%s' '%s/mnt/up' && "
		 "ln -s '%s/file' '%s/mnt/file'",
		 host, rootfs, host, H.rootfs, rootfs, b.dir, host, rootfs, up,
		 host + 1, rootfs, host, rootfs);
	H_CHECK(system(cmd) == 0, "a copy of the root with the links in it");
	snprintf(cmd, sizeof(cmd),
		 "cat /proc/self/mounts > /tmp/mounts; cat /mnt/file > "
		 "/tmp/file; stat -c %%F '%s/null' > /tmp/null",
		 host);
	json_t *extra = json_pack(
	    "{s:{s:s, s:b}, s:[s, s, s], s:{s:[{s:s, s:s, s:i, s:i, s:i}]}}",
	    "root", "path", rootfs, "readonly", 0, "args", "/bin/sh", "-c", cmd,
	    "linux", "devices", "path", "/mnt/abs/null", "type", "c", "major",
	    1, "minor", 3, "fileMode", 0666);
	char *text = config_text(&b, cmd, extra);
	json_t *c = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	snprintf(path, sizeof(path), "%s/marker", b.dir);
	json_t *more = json_pack(
	    "[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s, s:[s, s]}]",
	    "destination", "/mnt/abs/made", "type", "tmpfs", "source", "tmpfs",
	    "destination", "/mnt/up/deep/er", "type", "tmpfs", "source",
	    "tmpfs", "destination", "/mnt/file", "type", "bind", "source", path,
	    "options", "bind", "ro");
	json_array_extend(json_object_get(c, "mounts"), more);
	json_decref(more);
	snprintf(path, sizeof(path), "%s/config.json", b.dir);
	bool ok = c && json_dump_file(c, path, JSON_INDENT(2)) == 0;
	json_decref(c);
	H_CHECK(ok, "config.json with the mounts at the links");
	if (!ok || create_container(&b, "links", NULL) != 0)
		goto out;
	start_to_the_end(&b, "links");

	/* The host's directory: nothing made in it, nothing on it. */
	snprintf(cmd, sizeof(cmd), "ls -A '%s'", host);
	FILE *ls = popen(cmd, "r");
	char left[256] = "", msg[1600];
	size_t n = ls ? fread(left, 1, sizeof(left) - 1, ls) : 0;
	left[n] = '\0';
	for (char *p = left; (p = strchr(p, '\n'));)
		*p = ' ';
	H_CHECK(ls && pclose(ls) == 0, cmd);
	snprintf(msg, sizeof(msg), "'%s' on the host stays empty: has \"%s\"",
		 host, left);
	H_CHECK(n == 0, msg);
	H_CHECK(!h_mounted_under(host), "nothing mounted on it on the host");
	/* Inside: each mount where the link leads, in the root. */
	char *mounts = wait_file(&b, "mounts", "", 0);
	char *file = wait_file(&b, "file", "", 0);
	char *null = wait_file(&b, "null", "", 0);
	const char *want[] = {"/made tmpfs ", "/deep/er tmpfs ", "/file "};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		snprintf(path, sizeof(path), " %s%s", host, want[i]);
		snprintf(msg, sizeof(msg), "inside, a mount at '%.1200s'",
			 path);
		H_CHECK(strstr(mounts, path) != NULL, msg);
	}
	H_CHECK(!strcmp(file, "marker\n"), "the file bound at the link");
	snprintf(msg, sizeof(msg), "the device made at the link: \"%.64s\"",
		 null);
	H_CHECK(!strcmp(null, "character special file\n"), msg);
	free(mounts);
	free(file);
	free(null);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", host, rootfs);
	H_CHECK(system(cmd) == 0, cmd);
}

/* spec writes a config.json, will not overwrite one, and create takes
 * it (pointed at the test root filesystem, without a terminal). */
static void test_spec_writes_a_default_config(void)
{
	struct bundle b;
	struct run_result r;
	char path[PATH_MAX + 16];
	if (!make_bundle(&b, "spec", "true", NULL))
		return;
	snprintf(path, sizeof(path), "%s/config.json", b.dir);
	unlink(path);
	RUN(r, NULL, "spec", "--bundle", b.dir);
	H_STATUS(r, 0);
	h_free(&r);
	json_t *c = json_load_file(path, 0, NULL);
	json_t *process = json_object_get(c, "process");
	H_CHECK(json_is_string(json_object_get(c, "ociVersion")) &&
		    json_is_array(json_object_get(process, "args")),
		"spec wrote config.json with ociVersion and process.args");
	RUN(r, NULL, "spec", "--bundle", b.dir);
	H_RUN(r, r.status != 0 && h_one_line(r.err));
	h_free(&r);
	/* What create takes: on the test root filesystem, no terminal
	 * (there is no console socket), a command that ends. */
	json_object_set_new(process, "terminal", json_false());
	json_object_set_new(
	    process, "args",
	    json_pack("[s, s, s]", "/bin/sh", "-c", "echo spec-ran"));
	json_object_set_new(json_object_get(c, "root"), "path",
			    json_string(H.rootfs));
	bool ok = json_is_object(process) &&
		  json_dump_file(c, path, JSON_INDENT(2)) == 0;
	json_decref(c);
	H_CHECK(ok, "config.json written back");
	if (!ok || create_container(&b, "spec", NULL) != 0)
		return;
	OCI(r, &b, "start", "spec");
	H_STATUS(r, 0);
	h_free(&r);
	char *text = wait_file(&b, "create.log", "spec-ran", 5000);
	H_CHECK(strstr(text, "spec-ran") != NULL,
		"the default config's container ran");
	free(text);
	wait_state(&b, "spec", "stopped");
	OCI(r, &b, "delete", "spec");
	H_STATUS(r, 0);
	h_free(&r);
	H_CHECK(root_empty(&b), "nothing left under --root");
}

static const struct stage_test tests[] = {
    {"test_create_holds_the_process_until_start",
     test_create_holds_the_process_until_start, true},
    {"test_lifecycle_refusals", test_lifecycle_refusals, true},
    {"test_kill_all_and_ps", test_kill_all_and_ps, true},
    {"test_exec_process_joins_the_container",
     test_exec_process_joins_the_container, true},
    {"test_console_socket_gets_the_terminal",
     test_console_socket_gets_the_terminal, true},
    {"test_terminal_setup_errors_reach_create",
     test_terminal_setup_errors_reach_create, true},
    {"test_rootless_create_without_cgroup", test_rootless_create_without_cgroup,
     true},
    {"test_hooks_run_at_their_points", test_hooks_run_at_their_points, true},
    {"test_device_rules_deny_what_they_do_not_allow",
     test_device_rules_deny_what_they_do_not_allow, true},
    {"test_bad_bundles_one_line_nothing_left",
     test_bad_bundles_one_line_nothing_left, true},
    {"test_spec_writes_a_default_config", test_spec_writes_a_default_config,
     true},
    {"test_mount_destinations_stay_in_root",
     test_mount_destinations_stay_in_root, true},
    {NULL, NULL, false},
};

const struct stage_suite suite_oci = {16, "oci", true, tests};
