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

#include "cgroup.h"
#include "file.h"
#include "harness.h"
#include "process.h"

struct harness H;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
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
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && cp -a '%s' '%s'",
		 H.binary, nobody_binary, H.rootfs, nobody_rootfs);
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
	const char **argv = calloc(n + 2, sizeof(*argv));
	argv[0] = H.binary;
	memcpy(argv + 1, args, n * sizeof(*argv));

	pid_t pid = fork();
	if (pid < 0) {
		CU_FAIL("harness: cannot fork");
		free(argv);
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

int h_start_until(struct container *c, const char *const *args,
		  const char *needle)
{
	if (h_start(c, NULL, args) < 0)
		return -1;
	if (h_wait_output(c, needle, H_TIMEOUT_MS))
		return 0;
	CU_FAIL("harness: the container never printed what was awaited");
	h_finish(c, NULL, 0);
	h_free(&c->r);
	return -1;
}

int h_start_ready(struct container *c)
{
	const char *args[] = {"run", H.probe, "ready", NULL};
	return h_start_until(c, args, "ready\n");
}

void h_assert_ns_differs(const char *ns)
{
	char link[64], host[256] = "";
	snprintf(link, sizeof(link), "/proc/self/ns/%s", ns);
	ssize_t n = readlink(link, host, sizeof(host) - 2);
	CU_ASSERT_FATAL(n > 0);
	host[n] = '\n';
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "ns", ns);
	CU_ASSERT_EQUAL(r.status, 0);
	/* "uts:[4026531838]": a namespace, and another than ours. */
	CU_ASSERT_TRUE(strncmp(r.out, ns, strlen(ns)) == 0 &&
		       r.out[strlen(ns)] == ':');
	CU_ASSERT_STRING_NOT_EQUAL(r.out, host);
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
}

void h_run(struct run_result *r, const char *input, const char *const *args)
{
	struct container c;
	if (h_start(&c, NULL, args) < 0) {
		*r = (struct run_result){.status = -1};
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
	r->out = r->err = NULL;
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

bool h_mounted_under(const char *dir)
{
	char *info = h_read_file("/proc/self/mountinfo");
	bool found = false;
	size_t n = strlen(dir);
	for (char *save, *line = strtok_r(info, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char point[PATH_MAX];
		/* id parent major:minor root mount-point ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		unescape(point);
		found = !strncmp(point, dir, n) &&
			(point[n] == '\0' || point[n] == '/');
	}
	free(info);
	return found;
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

int h_enter_shared_host(void)
{
	saved_mnt_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	saved_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (saved_mnt_ns < 0 || saved_cwd < 0 || unshare(CLONE_NEWNS) < 0) {
		CU_FAIL("harness: cannot make a mount namespace of our own");
		return -1;
	}
	/* What systemd does at boot: every mount a shared peer. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0) {
		CU_FAIL("harness: cannot make / shared");
		h_leave_shared_host();
		return -1;
	}
	return 0;
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

bool h_one_line(const char *s)
{
	size_t n = strlen(s);
	return n > 1 && s[n - 1] == '\n' && !memchr(s, '\n', n - 1);
}

static bool pgroup_empty(void *pgid)
{
	return kill(-*(pid_t *)pgid, 0) < 0 && errno == ESRCH;
}

bool h_pgroup_gone(pid_t pgid, int timeout_ms)
{
	return h_poll(pgroup_empty, &pgid, timeout_ms);
}

const char *h_left_behind(pid_t pid, const char *also)
{
	const char *group = h_group_of(pid), *left = NULL;
	if (group && access(group, F_OK) == 0)
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
