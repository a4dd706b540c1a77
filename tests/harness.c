#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cgroup.h"
#include "clock.h"
#include "file.h"
#include "harness.h"
#include "process.h"

struct harness H;

/* Append s to buf (of size len, holding *at bytes) with control
 * characters shown as '?', stopping short of the end. */
static void put_text(char *buf, size_t len, size_t *at, const char *s,
		     size_t most)
{
	for (size_t k = 0; s[k] && k < most && *at + 1 < len; k++)
		buf[(*at)++] = (unsigned char)s[k] < ' ' ? '?' : s[k];
	buf[*at] = '\0';
}

/* The command line as a user would type it, shortened: the binary's
 * name, then the arguments. A malloc'd string. */
static char *describe(const char *const *argv)
{
	char buf[256];
	size_t at = 0;
	const char *slash = strrchr(argv[0], '/');
	put_text(buf, sizeof(buf), &at, slash ? slash + 1 : argv[0], 64);
	for (size_t i = 1; argv[i]; i++) {
		if (at + 8 >= sizeof(buf)) {
			put_text(buf, sizeof(buf), &at, " ...", 4);
			break;
		}
		put_text(buf, sizeof(buf), &at, " ", 1);
		if (!argv[i][0] || strpbrk(argv[i], " \t\n")) {
			put_text(buf, sizeof(buf), &at, "'", 1);
			put_text(buf, sizeof(buf), &at, argv[i], 40);
			put_text(buf, sizeof(buf), &at, "'", 1);
		} else {
			put_text(buf, sizeof(buf), &at, argv[i], 40);
		}
	}
	return strdup(buf);
}

/* The first `lines` lines of text, joined by " | ", into buf. */
static void first_lines(char *buf, size_t len, const char *text, int lines)
{
	size_t at = 0;
	buf[0] = '\0';
	for (int l = 0; text && *text && l < lines; l++) {
		size_t n = strcspn(text, "\n");
		if (l > 0)
			put_text(buf, len, &at, " | ", 3);
		put_text(buf, len, &at, text, n < 160 ? n : 160);
		text += n + (text[n] == '\n');
	}
	if (text && *text)
		put_text(buf, len, &at, " | ...", 6);
}

/* With the runner's -v (not the runtime's --verbose): what the run gave,
 * indented under the test's name. */
static void show_run(const struct run_result *r)
{
	if (!H.verbose)
		return;
	printf("\n      $ %s\n      status %d%s\n", r->cmd ? r->cmd : "?",
	       r->status, r->timed_out ? " (timed out)" : "");
	const char *names[] = {"stdout", "stderr"};
	const char *texts[] = {r->out, r->err};
	for (int k = 0; k < 2; k++) {
		const char *t = texts[k];
		for (int l = 0; t && *t && l < 12; l++) {
			size_t n = strcspn(t, "\n");
			printf("      %s| %.*s\n", names[k], (int)(n < 200 ? n : 200), t);
			t += n + (t[n] == '\n');
		}
		if (t && *t)
			printf("      %s| ...\n", names[k]);
	}
	printf("    "); /* CUnit's verdict follows, indented */
	fflush(stdout);
}

void h_run_check(const struct run_result *r, bool ok, int want_status,
		 int line, const char *file, const char *what)
{
	char msg[1024], err[400], want[48] = "";
	if (!ok) {
		first_lines(err, sizeof(err), r->err, 3);
		if (want_status != -2)
			snprintf(want, sizeof(want), ", expected %d",
				 want_status);
		char status[64];
		if (r->status == -1 && !r->timed_out)
			snprintf(status, sizeof(status), "is still running");
		else
			snprintf(status, sizeof(status), "exited %d", r->status);
		snprintf(msg, sizeof(msg), "%s: `%s` %s%s%s; stderr: %s", what,
			 r->cmd ? r->cmd : "?", status, want,
			 r->timed_out ? " (timed out, killed)" : "",
			 err[0] ? err : "(empty)");
	}
	CU_assertImplementation(ok, line, ok ? what : msg, file, "", CU_FALSE);
}

void h_out_check(const struct run_result *r, const char *want, int line,
		 const char *file)
{
	bool ok = r->out && !strcmp(r->out, want);
	char what[512], got[200], exp[200];
	if (!ok) {
		first_lines(got, sizeof(got), r->out, 2);
		first_lines(exp, sizeof(exp), want, 2);
		snprintf(what, sizeof(what), "stdout \"%s\", expected \"%s\"",
			 got, exp);
	}
	h_run_check(r, ok, -2, line, file, ok ? "stdout" : what);
}

bool h_is_root(void)
{
	return geteuid() == 0;
}

/* Where h_become_nobody() put its copies, and what they replaced. */
static char nobody_dir[64], nobody_binary[96], nobody_rootfs[96];
static const char *saved_binary, *saved_rootfs;

bool h_become_nobody(void)
{
	char cmd[PATH_MAX * 2 + 256];
	snprintf(nobody_dir, sizeof(nobody_dir),
		 "/tmp/minidocker-nobody-XXXXXX");
	if (!mkdtemp(nobody_dir) || chmod(nobody_dir, 0755) < 0) {
		CU_FAIL("cannot make a directory for the rootless run");
		return false;
	}
	snprintf(nobody_binary, sizeof(nobody_binary), "%s/runtime",
		 nobody_dir);
	snprintf(nobody_rootfs, sizeof(nobody_rootfs), "%s/rootfs", nobody_dir);
	/* And the runtime's dynamically linked twin, where it has one
	 * (stage 13's, which runs its image commands: the Makefile's
	 * STAGE_TWIN_N), under the copy's name. */
	snprintf(cmd, sizeof(cmd),
		 "cp '%s' '%s' && { [ ! -e '%s-dynamic' ] || "
		 "cp '%s-dynamic' '%s-dynamic'; } && cp -a '%s' '%s'",
		 H.binary, nobody_binary, H.binary, H.binary, nobody_binary,
		 H.rootfs, nobody_rootfs);
	if (system(cmd) != 0) {
		CU_FAIL("cannot copy the runtime and its root filesystem");
		return false;
	}
	saved_binary = H.binary;
	saved_rootfs = H.rootfs;
	H.binary = nobody_binary;
	H.rootfs = nobody_rootfs;
	H.run_as = H_NOBODY;
	return true;
}

void h_back_to_root(void)
{
	char cmd[PATH_MAX * 2 + 256];
	const char *keep = getenv("MINIDOCKER_TEST_KEEP");
	H.binary = saved_binary;
	H.rootfs = saved_rootfs;
	H.run_as = 0;
	/* The copy's KEEP, if any, becomes KEEP/minidocker-nobody-XXXXXX. */
	if (keep && keep[0] == '/') {
		snprintf(cmd, sizeof(cmd),
			 "[ ! -d '%s%s' ] || cp -a '%s%s' '%s/%s'",
			 nobody_rootfs, keep, nobody_rootfs, keep, keep,
			 strrchr(nobody_dir, '/') + 1);
		if (system(cmd) != 0)
			CU_FAIL("cannot keep what the rootless run left");
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", nobody_dir);
	if (system(cmd) != 0)
		CU_FAIL("cannot remove the rootless run's directory");
}

/* Whether the options at the start of args (up to the command) hold the
 * option whose bit is bit. */
static bool has_option(const char *const *args, unsigned bit)
{
	for (size_t i = 0; args[i] && args[i][0] == '-' &&
			   strcmp(args[i], "--") != 0; i++) {
		const char *value;
		const struct opt_spec *o = opt_find(args[i], &value);
		if (o && o->bit == bit)
			return true;
		if (o && o->kind != OPT_FLAG && !value && args[i + 1])
			i++;
	}
	return false;
}

int h_start(struct container *c, const char *in_cgroup,
	    const char *const *args)
{
	int in[2], out[2], err[2];
	memset(c, 0, sizeof(*c));
	c->r.status = -1;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0) {
		CU_FAIL("harness: cannot make pipes");
		return -1;
	}
	size_t n = 0;
	while (args[n])
		n++;
	const char **argv = calloc(n + 6, sizeof(*argv));
	argv[0] = H.binary;
	size_t argc = 1, i = 0;
	if (n > 0)
		argv[argc++] = args[i++]; /* "run" */
	/* From stage 13 the first word of run is an image unless --rootfs
	 * is given: an earlier suite's run, which means the test root
	 * filesystem, gets it. */
	if (n > 0 && !strcmp(args[0], "run") && H.rootfs &&
	    H.stage >= H_IMAGE_STAGE && H.suite_stage < H_IMAGE_STAGE &&
	    !has_option(args + 1, OPT_ROOTFS)) {
		argv[argc++] = "--rootfs";
		argv[argc++] = H.rootfs;
	}
	/* From stage 14 a container run by root gets a bridge on the host,
	 * which no test may make there (DESIGN.md, "Networks in tests"),
	 * and one run by a user slirp4netns: an earlier suite's run gets a
	 * network namespace with only lo, the isolation stage 14 adds
	 * without a way out. Its own suite makes its runs' host. */
	if (n > 0 && !strcmp(args[0], "run") && H.stage >= H_NET_STAGE &&
	    H.suite_stage < H_NET_STAGE && !has_option(args + 1, OPT_NET)) {
		argv[argc++] = "--net";
		argv[argc++] = "none";
	}
	/* The options, up to the command. A proof drops those its binary's
	 * stage has not introduced, with their values. */
	while (i < n && args[i][0] == '-' && strcmp(args[i], "--") != 0) {
		const char *value;
		const struct opt_spec *o = opt_find(args[i], &value);
		bool with_next = o && o->kind != OPT_FLAG && !value && i + 1 < n;
		if (!(H.proof && o && o->stage > H.stage)) {
			argv[argc++] = args[i];
			if (with_next)
				argv[argc++] = args[i + 1];
		}
		i += with_next ? 2 : 1;
	}
	while (i < n)
		argv[argc++] = args[i++];
	argv[argc] = NULL;
	c->r.cmd = describe(argv);

	pid_t pid = fork();
	if (pid < 0) {
		CU_FAIL("harness: cannot fork");
		free(argv);
		free(c->r.cmd);
		return -1;
	}
	if (pid == 0) {
		/* Its own process group, so a timeout kills all it started. */
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (in_cgroup) {
			char buf[32];
			int fd = open(in_cgroup, O_WRONLY | O_CLOEXEC);
			int len = snprintf(buf, sizeof(buf), "%d", (int)getpid());
			if (fd < 0 || write(fd, buf, len) != len) {
				dprintf(2, "harness: cannot join %s: %s\n",
					in_cgroup, strerror(errno));
				_exit(99);
			}
			close(fd);
		}
		/* An fd the runtime inherits without close-on-exec: the
		 * container must not get it (docs/DESIGN.md, processes). */
		int extra = open("/dev/null", O_RDONLY);
		if (extra >= 0 && extra != H_LEAKED_FD) {
			dup2(extra, H_LEAKED_FD);
			close(extra);
		}
		if (H.run_as && (setgroups(0, NULL) < 0 ||
				 setgid(H.run_as) < 0 || setuid(H.run_as) < 0)) {
			dprintf(2, "harness: cannot become uid %d: %s\n",
				(int)H.run_as, strerror(errno));
			_exit(99);
		}
		/* A PATH of standard directories, the same on every host. */
		setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
			       "/usr/bin:/sbin:/bin", 1);
		if (H.rootfs)
			setenv("MINIDOCKER_ROOTFS", H.rootfs, 1);
		execv(H.binary, (char **)argv);
		dprintf(2, "harness: cannot run %s: %s\n", H.binary,
			strerror(errno));
		_exit(99);
	}
	free(argv);
	c->r.pid = pid;
	close(in[0]);
	close(out[1]);
	close(err[1]);
	c->pid = pid;
	c->in = in[1];
	c->out = out[0];
	c->err = err[0];
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	fcntl(c->err, F_SETFL, O_NONBLOCK);
	/* A closed stdin must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Append what fd has to *buf; returns false at end of file. */
static bool drain(int fd, char **buf, size_t *len, size_t *cap)
{
	for (;;) {
		if (*cap - *len < 4097) {
			*cap = *cap ? *cap * 2 : 8192;
			*buf = realloc(*buf, *cap);
			(*buf)[*len] = '\0';
		}
		ssize_t n = read(fd, *buf + *len, *cap - *len - 1);
		if (n > 0) {
			*len += n;
			(*buf)[*len] = '\0';
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		return false;
	}
}

/* Wait up to ms for output on the container's stdout and stderr. */
static void pump(struct container *c, int ms)
{
	struct pollfd p[2] = {{.fd = c->out, .events = POLLIN},
			      {.fd = c->err, .events = POLLIN}};
	if (poll(p, 2, ms) <= 0)
		return;
	if (c->out >= 0 && p[0].revents &&
	    !drain(c->out, &c->r.out, &c->r.out_len, &c->out_cap)) {
		close(c->out);
		c->out = -1;
	}
	if (c->err >= 0 && p[1].revents &&
	    !drain(c->err, &c->r.err, &c->r.err_len, &c->err_cap)) {
		close(c->err);
		c->err = -1;
	}
}

bool h_wait_output(struct container *c, const char *needle, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	while (!(c->r.out && strstr(c->r.out, needle))) {
		long left = end - now_ms();
		if (left <= 0 || c->out < 0)
			return false;
		pump(c, left > 50 ? 50 : (int)left);
	}
	return true;
}

int h_start_until_at(struct container *c, const char *const *args,
		     const char *needle, int line, const char *file)
{
	if (h_start(c, NULL, args) < 0)
		return -1;
	if (h_wait_output(c, needle, H_TIMEOUT_MS))
		return 0;
	h_finish(c, NULL, 0);
	char what[128];
	snprintf(what, sizeof(what), "the container never printed \"%.40s\"",
		 needle);
	h_run_check(&c->r, false, -2, line, file, what);
	h_free(&c->r);
	return -1;
}

int h_start_ready_at(struct container *c, int line, const char *file)
{
	const char *args[] = {"run", H.probe, "ready", NULL};
	return h_start_until_at(c, args, "ready\n", line, file);
}

void h_assert_ns_differs_at(const char *ns, int line, const char *file)
{
	char link[64], host[256] = "";
	snprintf(link, sizeof(link), "/proc/self/ns/%s", ns);
	ssize_t n = readlink(link, host, sizeof(host) - 2);
	CU_assertImplementation(n > 0, line, "harness: cannot read our own "
				"namespace", file, "", CU_TRUE);
	host[n] = '\n';
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "ns", ns);
	h_run_check(&r, r.status == 0, 0, line, file, "exit status 0");
	/* "uts:[4026531838]": a namespace, and another than ours. */
	h_run_check(&r, strncmp(r.out, ns, strlen(ns)) == 0 &&
			    r.out[strlen(ns)] == ':',
		    -2, line, file, "it names a namespace");
	char what[300];
	snprintf(what, sizeof(what), "another namespace than the host's %.*s",
		 (int)n, host);
	h_run_check(&r, strcmp(r.out, host) != 0, -2, line, file, what);
	h_free(&r);
}

int h_make_marker(char *path, size_t len, const char *what)
{
	snprintf(path, len, "/tmp/minidocker-%s-%d", what, (int)getpid());
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		CU_FAIL("harness: cannot create a marker file");
		return -1;
	}
	close(fd);
	return 0;
}

void h_finish(struct container *c, const char *input, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	if (c->in >= 0) {
		if (input)
			write_all(c->in, input, strlen(input));
		close(c->in);
		c->in = -1;
	}
	int status;
	bool reaped = false;
	long grace_end = 0;
	for (;;) {
		if (!reaped && waitpid(c->pid, &status, WNOHANG) == c->pid) {
			reaped = true;
			/* Whatever it left behind may hold the pipes: give
			 * them a second, then stop reading. */
			grace_end = now_ms() + 1000;
		}
		if (c->out < 0 && c->err < 0 && reaped)
			break;
		long t = now_ms();
		if (reaped && t > grace_end)
			break;
		if (!reaped && t > end) {
			kill(-c->pid, SIGKILL);
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &status, 0);
			c->r.timed_out = true;
			reaped = true;
			grace_end = now_ms() + 200;
			continue;
		}
		if (c->out < 0 && c->err < 0)
			usleep(5000);
		else
			pump(c, 20);
	}
	if (c->out >= 0)
		close(c->out);
	if (c->err >= 0)
		close(c->err);
	c->out = c->err = -1;
	if (!c->r.out)
		c->r.out = calloc(1, 1);
	if (!c->r.err)
		c->r.err = calloc(1, 1);
	if (c->r.timed_out)
		c->r.status = -1;
	else if (WIFSIGNALED(status))
		c->r.status = 128 + WTERMSIG(status);
	else
		c->r.status = WEXITSTATUS(status);
	show_run(&c->r);
}

void h_run(struct run_result *r, const char *input, const char *const *args)
{
	struct container c;
	if (h_start(&c, NULL, args) < 0) {
		*r = (struct run_result){.status = -1};
		r->cmd = strdup("(not started)");
		r->out = calloc(1, 1);
		r->err = calloc(1, 1);
		return;
	}
	h_finish(&c, input, H_TIMEOUT_MS);
	*r = c.r;
}

void h_runv(struct run_result *r, const char *input, ...)
{
	const char *args[64];
	size_t n = 0;
	va_list ap;
	va_start(ap, input);
	while (n < 63 && (args[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	args[n] = NULL;
	h_run(r, input, args);
}

void h_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	free(r->cmd);
	r->out = r->err = r->cmd = NULL;
}

char *h_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	for (;;) {
		if (cap - len < 4097) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *d = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/* The last mount in the host's mountinfo at or below dir, into point;
 * false when there is none. */
static bool last_mount_under(const char *dir, char *point, size_t len)
{
	char *info = h_read_file("/proc/self/mountinfo");
	bool found = false;
	size_t n = strlen(dir);
	for (char *save, *line = strtok_r(info, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char p[PATH_MAX];
		/* id parent major:minor root mount-point ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", p) != 1)
			continue;
		unescape(p);
		if (!strncmp(p, dir, n) && (p[n] == '\0' || p[n] == '/')) {
			snprintf(point, len, "%s", p);
			found = true;
		}
	}
	free(info);
	return found;
}

bool h_mounted_under(const char *dir)
{
	char point[PATH_MAX];
	return last_mount_under(dir, point, sizeof(point));
}

int h_unmount_under(const char *dir)
{
	char point[PATH_MAX];
	int removed = 0;
	while (removed < 10000 && last_mount_under(dir, point, sizeof(point))) {
		if (umount2(point, MNT_DETACH) < 0)
			break;
		removed++;
	}
	return removed;
}

int h_count_procs_of(const char *path)
{
	DIR *d = opendir("/proc");
	int count = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char link[300], exe[PATH_MAX];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%s/exe", e->d_name);
		ssize_t n = readlink(link, exe, sizeof(exe) - 1);
		if (n <= 0)
			continue;
		exe[n] = '\0';
		if (!strcmp(exe, path))
			count++;
	}
	if (d)
		closedir(d);
	return count;
}

int h_in_child(void (*fn)(int fd), char *buf, size_t len)
{
	int p[2];
	buf[0] = '\0';
	/* Close-on-exec: a runtime the child starts, or what it leaves
	 * running, must not hold the pipe open and keep the read waiting. */
	if (pipe2(p, O_CLOEXEC) < 0) {
		CU_FAIL("cannot make a pipe for the child's verdict");
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		CU_FAIL("cannot fork the child that runs the test");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	size_t got = 0;
	ssize_t n;
	while (got < len - 1 &&
	       (n = read(p[0], buf + got, len - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(p[0]);
	waitpid(pid, NULL, 0);
	return 0;
}

bool h_poll(bool (*pred)(void *), void *arg, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	while (!pred(arg)) {
		if (now_ms() > end)
			return false;
		usleep(10000);
	}
	return true;
}

static int saved_mnt_ns = -1, saved_cwd = -1;

/* A mount namespace of our own whose mounts all get propagation. */
static int enter_own_mounts(unsigned long propagation)
{
	saved_mnt_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	saved_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (saved_mnt_ns < 0 || saved_cwd < 0 || unshare(CLONE_NEWNS) < 0) {
		CU_FAIL("harness: cannot make a mount namespace of our own");
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | propagation, NULL) < 0) {
		CU_FAIL("harness: cannot change the propagation of /");
		h_leave_shared_host();
		return -1;
	}
	return 0;
}

int h_enter_shared_host(void)
{
	/* What systemd does at boot: every mount a shared peer. */
	return enter_own_mounts(MS_SHARED);
}

int h_enter_own_mounts(void)
{
	return enter_own_mounts(MS_PRIVATE);
}

void h_leave_own_mounts(void)
{
	h_leave_shared_host();
}

void h_leave_shared_host(void)
{
	if (saved_mnt_ns >= 0 && setns(saved_mnt_ns, CLONE_NEWNS) < 0)
		CU_FAIL_FATAL("harness: cannot return to the host's mounts");
	if (saved_cwd >= 0 && fchdir(saved_cwd) < 0)
		CU_FAIL("harness: cannot return to the working directory");
	if (saved_mnt_ns >= 0)
		close(saved_mnt_ns);
	if (saved_cwd >= 0)
		close(saved_cwd);
	saved_mnt_ns = saved_cwd = -1;
}

static char own_base[64], own_group[PATH_MAX + 64], own_root[96];

const char *h_enter_own_cgroup_root(void)
{
	const char *cap = h_make_cap_group("root", 1000);
	if (!cap)
		return NULL;
	snprintf(own_group, sizeof(own_group), "%s", cap);
	snprintf(own_base, sizeof(own_base), "/tmp/minidocker-cgroot-XXXXXX");
	if (!mkdtemp(own_base)) {
		CU_FAIL("harness: cannot make a directory for a cgroup root");
		cgroup_remove(own_group, 1000);
		return NULL;
	}
	/* v1 looks for the hierarchy at ROOT/pids, v2 at ROOT itself. */
	bool v1 = h_pids_version() == 1;
	snprintf(own_root, sizeof(own_root), "%s%s", own_base,
		 v1 ? "/pids" : "");
	/* Private: the bind mount never shows in the host's mount table. */
	if ((v1 && mkdir(own_root, 0755) < 0) ||
	    enter_own_mounts(MS_PRIVATE) < 0) {
		CU_FAIL("harness: cannot make a cgroup root of our own");
		h_leave_own_cgroup_root();
		return NULL;
	}
	if (mount(own_group, own_root, NULL, MS_BIND, NULL) < 0) {
		CU_FAIL("harness: cannot bind-mount a group as a cgroup root");
		h_leave_own_cgroup_root();
		return NULL;
	}
	setenv("MINIDOCKER_CGROUP_ROOT", own_base, 1);
	return own_root;
}

void h_leave_own_cgroup_root(void)
{
	char path[PATH_MAX + 96];
	unsetenv("MINIDOCKER_CGROUP_ROOT");
	if (saved_mnt_ns >= 0)
		h_leave_shared_host();
	/* The runtimes' parent group inside ours, then ours. */
	snprintf(path, sizeof(path), "%s/" CGROUP_PARENT, own_group);
	rmdir(path);
	if (own_group[0])
		cgroup_remove(own_group, 1000);
	if (strcmp(own_root, own_base) != 0)
		rmdir(own_root);
	if (own_base[0])
		rmdir(own_base);
	own_group[0] = own_base[0] = own_root[0] = '\0';
}

bool h_one_line(const char *s)
{
	size_t n = strlen(s);
	return n > 1 && s[n - 1] == '\n' && !memchr(s, '\n', n - 1);
}

/* Whether process group pgid has no process left but zombies: a
 * zombie has ended and holds nothing but its pid, and one whose parent
 * is init waits for init to reap it, which some inits (this sandbox's)
 * take a second or two to do. */
static bool pgroup_empty(void *pgid)
{
	pid_t group = *(pid_t *)pgid;
	if (kill(-group, 0) < 0 && errno == ESRCH)
		return true;
	DIR *proc = opendir("/proc");
	if (!proc)
		return false;
	bool live = false;
	struct dirent *e;
	while (!live && (e = readdir(proc))) {
		struct proc_stat st;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if (proc_stat((pid_t)atoi(e->d_name), &st) == 0)
			live = st.pgrp == group && st.state != 'Z';
	}
	closedir(proc);
	return !live;
}

bool h_pgroup_gone(pid_t pgid, int timeout_ms)
{
	return h_poll(pgroup_empty, &pgid, timeout_ms);
}

/* Whether the runtime with pid left a group in a v1 hierarchy other than
 * pids (stage 9 on makes one in memory, cpu and cpuacct too). */
static bool left_v1_group(pid_t pid)
{
	static const char *const ctrls[] = {"memory", "cpu", "cpuacct"};
	const char *base = getenv("MINIDOCKER_CGROUP_ROOT");
	char dir[PATH_MAX + 64];
	if (h_pids_version() != 1)
		return false;
	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		snprintf(dir, sizeof(dir),
			 "%s/%s/" CGROUP_PARENT "/" CGROUP_PREFIX "%d",
			 base && *base ? base : "/sys/fs/cgroup", ctrls[i],
			 (int)pid);
		if (access(dir, F_OK) == 0)
			return true;
	}
	return false;
}

const char *h_left_behind(pid_t pid, const char *also)
{
	const char *group = h_group_of(pid), *left = NULL;
	if ((group && access(group, F_OK) == 0) || left_v1_group(pid))
		left = "its cgroup";
	else if (!h_pgroup_gone(pid, 5000))
		left = "a process";
	else if (h_mounted_under(H.rootfs) || (also && h_mounted_under(also)))
		left = "a mount";
	kill(-pid, SIGKILL);
	return left;
}

void h_check(bool ok, int line, const char *file, const char *name,
	     const char *expr)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "%s: %s", name, expr);
	CU_assertImplementation(ok, line, msg, file, "", CU_FALSE);
}

/* The pids hierarchy, found once. */
static const struct cgroup_hierarchy *pids_hierarchy(void)
{
	static struct cgroup_hierarchy h;
	static int found = -1;
	char why[256];
	if (found < 0)
		found = cgroup_find_pids(&h, why, sizeof(why)) == 0;
	return found ? &h : NULL;
}

const char *h_group_of(pid_t pid)
{
	static char dir[PATH_MAX + 64];
	const struct cgroup_hierarchy *h = pids_hierarchy();
	if (!h)
		return NULL;
	snprintf(dir, sizeof(dir), "%s/" CGROUP_PARENT "/" CGROUP_PREFIX "%d",
		 h->root, (int)pid);
	return dir;
}

int h_pids_version(void)
{
	const struct cgroup_hierarchy *h = pids_hierarchy();
	return h ? h->version : 0;
}

const char *h_make_cap_group(const char *name, int max)
{
	static char dir[PATH_MAX + 64];
	char path[PATH_MAX + 96], text[32];
	const struct cgroup_hierarchy *h = pids_hierarchy();
	if (!h) {
		CU_FAIL("harness: no pids cgroup hierarchy for a cap");
		return NULL;
	}
	snprintf(dir, sizeof(dir), "%s/minidocker-test-%s-%d", h->root, name,
		 (int)getpid());
	snprintf(path, sizeof(path), "%s/" CGROUP_PARENT, h->root);
	/* Making the runtime's parent group on v2 also hands pids down from
	 * the root, which our group needs too. */
	if (cgroup_make_parent(h, path) < 0 ||
	    (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
		CU_FAIL("harness: cannot make a capped cgroup");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/pids.max", dir);
	snprintf(text, sizeof(text), "%d", max);
	if (write_file(path, text) < 0) {
		CU_FAIL("harness: cannot make a capped cgroup");
		rmdir(dir);
		return NULL;
	}
	return dir;
}

pid_t h_child_of(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	char *text = h_read_file(path);
	pid_t child = text ? (pid_t)atoi(text) : 0;
	free(text);
	return child;
}
