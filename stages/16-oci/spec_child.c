/*
 * Stage 16's steps of the container's processes, split off the spine:
 * what the first process (oci_child_main() in main.c, create's) and
 * exec's process (oci_exec_child()) do with the spec beyond the lessons
 * of stages 9-15: the wait for the runtime, the spec's mounts and
 * devices made inside the root, sysctls, a read-only root, the terminal,
 * rlimits, the user, the command checked and the spec's seccomp filter
 * (spec_child.h says what they need from the spine).
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroups.h"
#include "error.h"
#include "exec.h"
#include "file.h"
#include "oci.h"
#include "oci/spec.h"
#include "process.h"
#include "spec_child.h"
#include "util.h"

/*** the container's processes ***/

/* The devices every container gets (runtime-spec's "default devices"),
 * bound from the host's: in a user namespace mknod(2) is refused. */
static const char *const oci_default_devices[] = {"null",   "zero",    "full",
						  "random", "urandom", "tty"};

/* In a new user namespace, once its maps are written: become its root
 * (our ids are still the host's, which it may not map), after joining
 * the groups, whose files are the host root's. */
void become_ns_root(void)
{
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die_errno("cannot become root in the user namespace (are "
			  "uid and gid 0 mapped?)");
}

/* First in the container's process: non-dumpable, since it is a copy
 * of the runtime until its exec: no process of the container may open
 * /proc/<us>/exe or our memory (CVE-2019-5736), however long it waits
 * for start. Our files closed at exec, and the signals run blocks and
 * ignores as the command should find them. Dies on failure. (create's
 * process calls it once its id maps are written: a runtime without
 * root writes them through /proc/<pid>/, whose files are root's once a
 * process is non-dumpable; until then no process of the container
 * exists.) */
void prepare_oci_child(void)
{
	sigset_t none;
	sigemptyset(&none);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("cannot make the container's process non-dumpable");
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		die_errno("cannot close the runtime's files on exec");
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 ||
	    signal(SIGPIPE, SIG_DFL) == SIG_ERR)
		die_errno("cannot restore the signals");
}

/* Our pid as the host sees it (the state's), while the host's /proc is
 * in reach: its /proc/self, whatever our PID namespace; 0 if unknown. */
pid_t host_pid(void)
{
	char link[32];
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	return (pid_t)atoi(link);
}

/* A session keyring of the container's own (an anonymous one), so that
 * its keys are not its caller's: what --no-new-keyring leaves out. */
void new_session_keyring(void)
{
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
		die_errno("cannot make a session keyring");
}

/* linux.rootfsPropagation, once the root is ours (make_mounts_private()
 * cut it from the host's before). */
void set_root_propagation(const struct oci_spec *s)
{
	if (s->rootfs_propagation &&
	    mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
		die_errno("cannot set the root's propagation");
}

/* The root filesystem, bound on itself (bind_root()), opened: every
 * path the spec names in it is looked up from here, inside it. */
int open_root(const char *rootfs)
{
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		die_errno("cannot open the root '%s'", rootfs);
	return root;
}

/* dest (a spec's path) made inside root, as a directory or, when like is
 * a file, as an empty file to bind it on; returns it, opened O_PATH.
 * Never by the path rootfs + dest: a link in the root filesystem at
 * dest, absolute or a chain of "..", would lead the mount onto the
 * host's files (runc's CVE-2021-30465). Dies on failure. */
static int make_mount_point(int root, const char *dest, const char *like)
{
	struct stat st;
	bool file = like && stat(like, &st) == 0 && !S_ISDIR(st.st_mode);
	int fd = oci_make_in_root(root, dest, file);
	if (fd < 0)
		die_errno("cannot create '%s' in the root", dest);
	return fd;
}

/* fd as a path mount(2) takes: /proc/self/fd/N, the magic link to what
 * fd holds, however it was found (the host's /proc: before the pivot). */
static const char *fd_path(int fd, char path[32])
{
	snprintf(path, 32, "/proc/self/fd/%d", fd);
	return path;
}

/* Change the mount at dest inside root (its flags, its propagation):
 * looked up again, so that the fd is the new mount's root, not the
 * directory it covers. Returns mount(2)'s result. */
static int change_mount(int root, const char *dest, unsigned long flags,
			const char *data)
{
	char at[32];
	int fd = oci_open_in_root(root, dest, O_PATH);
	if (fd < 0)
		return -1;
	int rc = mount(NULL, fd_path(fd, at), NULL, flags, data);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* A mount of type "cgroup" on cgroup v1: a tmpfs with the container's own
 * group of each controller bound in it, so that it sees its limits and
 * no other group; on v2 the cgroup2 filesystem (of its cgroup namespace,
 * when it has one). At fd, m->destination inside root. */
static void mount_cgroups(int root, int fd, const struct oci_mount *m,
			  const struct cgroup *cg)
{
	char path[PATH_MAX + 64], from[PATH_MAX], at[32];
	const char *dest = m->destination;
	if (cg->h.version == 2) {
		if (mount("cgroup2", fd_path(fd, at), "cgroup2", m->flags,
			  NULL) < 0)
			die_errno("cannot mount cgroup2 on '%s'", dest);
		return;
	}
	if (mount("tmpfs", fd_path(fd, at), "tmpfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		die_errno("cannot mount a tmpfs on '%s'", dest);
	const char *groups[] = {
	    cg->limited ? cg->dir : NULL,
	    cg->lim.have[LIMIT_MEMORY] ? cg->lim.dir[LIMIT_MEMORY] : NULL,
	    cg->lim.have[LIMIT_CPU] ? cg->lim.dir[LIMIT_CPU] : NULL,
	    cg->devices[0] ? cg->devices : NULL};
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
		if (!groups[i])
			continue;
		/* <base>/<controller>/<cgroupsPath>: its controller's name
		 * is the hierarchy's directory (cpu,cpuacct: its target). */
		const char *rest = groups[i] + strlen("/sys/fs/cgroup/");
		snprintf(from, sizeof(from), "%.*s", (int)strcspn(rest, "/"),
			 rest);
		if (snprintf(path, sizeof(path), "%s/%s", dest, from) >=
		    (int)sizeof(path))
			die("cannot mount cgroups on '%s': the path is too "
			    "long",
			    dest);
		int to = make_mount_point(root, path, NULL);
		if (mount(groups[i], fd_path(to, at), NULL, MS_BIND, NULL) <
			0 ||
		    change_mount(root, path,
				 MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
				     MS_NODEV | MS_NOEXEC,
				 NULL) < 0)
			die_errno("cannot bind cgroup '%s' on '%s'", groups[i],
				  path);
		close(to);
	}
	if (m->flags & MS_RDONLY &&
	    change_mount(root, dest,
			 MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV |
			     MS_NOEXEC,
			 "mode=755") < 0)
		die_errno("cannot make '%s' read-only", dest);
}

/* The spec's mounts, in order, inside root (before the pivot, while
 * bind mounts' sources are in reach): each destination made and found
 * inside the root, mounted as mount(2) takes it, then its flags again on
 * a bind (a first bind ignores them), then its propagation. */
void setup_mounts(int root, const struct oci_spec *s, const struct cgroup *cg)
{
	char at[32];
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct oci_mount *m = &s->mounts[i];
		bool bind = m->flags & MS_BIND;
		int fd = make_mount_point(root, m->destination,
					  bind ? m->source : NULL);
		if (!strcmp(m->type, "cgroup")) {
			mount_cgroups(root, fd, m, cg);
			close(fd);
			continue;
		}
		unsigned long flags = m->flags & ~(MS_REMOUNT);
		if (mount(m->source, fd_path(fd, at), bind ? NULL : m->type,
			  flags, m->data) < 0)
			die_errno("cannot mount '%s' on '%s'",
				  m->source ? m->source : m->type,
				  m->destination);
		close(fd);
		unsigned long again = MS_RDONLY | MS_NOSUID | MS_NODEV |
				      MS_NOEXEC | MS_NOATIME | MS_NODIRATIME;
		if (bind && (flags & again) &&
		    change_mount(root, m->destination,
				 MS_REMOUNT | MS_BIND | (flags & again),
				 NULL) < 0)
			die_errno("cannot remount '%s'", m->destination);
		if (m->propagation && change_mount(root, m->destination,
						   m->propagation, NULL) < 0)
			die_errno("cannot set the propagation of '%s'",
				  m->destination);
	}
}

/* Whether the spec's linux.devices makes the node at path. */
static bool spec_device(const struct oci_spec *s, const char *path)
{
	for (size_t i = 0; i < s->n_devices; i++)
		if (!strcmp(s->devices[i].path, path))
			return true;
	return false;
}

/* The default devices, where the rootfs's /dev and the spec's
 * linux.devices lack them (the spec's node takes their place, as in
 * runc: a bound one could not be replaced), and the
 * spec's linux.devices, then the links programs expect in /dev; each
 * inside root, as the mounts. */
void setup_devices(int root, const struct oci_spec *s)
{
	char from[32], at[32], dir[PATH_MAX];
	static const char *const links[][2] = {
	    {"/proc/self/fd", "fd"},	   {"/proc/self/fd/0", "stdin"},
	    {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	    {"pts/ptmx", "ptmx"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(oci_default_devices); i++) {
		snprintf(from, sizeof(from), "/dev/%s", oci_default_devices[i]);
		int fd = oci_open_in_root(root, from, O_PATH);
		if (fd >= 0 || spec_device(s, from)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		fd = make_mount_point(root, from, from);
		if (mount(from, fd_path(fd, at), NULL, MS_BIND, NULL) < 0)
			die_errno("cannot bind '%s' on '%s'", from, from);
		close(fd);
	}
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct oci_device *d = &s->devices[i];
		static const mode_t kinds[] = {['c'] = S_IFCHR,
					       ['u'] = S_IFCHR,
					       ['b'] = S_IFBLK,
					       ['p'] = S_IFIFO};
		/* Its directory found inside root; the node made in it by
		 * name, a link there removed, never followed. */
		const char *name = strrchr(d->path, '/') + 1;
		snprintf(dir, sizeof(dir), "%.*s", (int)(name - d->path),
			 d->path);
		int at_dir = make_mount_point(root, dir, NULL);
		unlinkat(at_dir, name, 0);
		if (mknodat(at_dir, name,
			    kinds[(unsigned char)d->type] | d->file_mode,
			    makedev(d->major, d->minor)) < 0 ||
		    fchownat(at_dir, name, d->uid, d->gid,
			     AT_SYMLINK_NOFOLLOW) < 0)
			die_errno("cannot make device '%s'", d->path);
		close(at_dir);
	}
	int dev = make_mount_point(root, "/dev", NULL);
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 &&
		    errno != EEXIST)
			die_errno("cannot create the link '/dev/%s'",
				  links[i][1]);
	close(dev);
}

/* --no-pivot: move the root filesystem onto / and chroot into it (for a
 * root on a ramfs, where pivot_root(2) is refused); the host's root
 * stays below, which is why pivot_to() is the default. */
void move_root(const char *rootfs)
{
	if (chdir(rootfs) < 0 || mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0)
		die_errno("cannot move the root to '%s'", rootfs);
}

/* linux.sysctl: each key under our /proc/sys, of our namespaces (a net.
 * key is the network namespace's own), before the walls make it read
 * only. */
void set_sysctls(const struct oci_spec *s)
{
	char path[PATH_MAX];
	for (size_t i = 0; i < s->n_sysctl; i++) {
		int n = snprintf(path, sizeof(path), "/proc/sys/%s",
				 s->sysctl[i].key);
		for (char *p = path + strlen("/proc/sys/"); p < path + n; p++)
			if (*p == '.')
				*p = '/';
		if (write_file(path, s->sysctl[i].value) < 0)
			die_errno("cannot set sysctl '%s' to '%s'",
				  s->sysctl[i].key, s->sysctl[i].value);
	}
}

/* root.readonly: / read-only, the mounts on it as they are. */
void make_root_readonly(void)
{
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		die_errno("cannot make the root filesystem read-only");
}

/* process.rlimits, process.oomScoreAdj and process.umask: what the
 * command inherits from us. */
void set_process_limits(const struct oci_spec *s)
{
	char adj[16];
	for (size_t i = 0; i < s->n_rlimits; i++)
		if (setrlimit(s->rlimits[i].resource, &s->rlimits[i].value) < 0)
			die_errno("cannot set rlimit %d",
				  s->rlimits[i].resource);
	snprintf(adj, sizeof(adj), "%d", s->oom_score_adj);
	if (s->has_oom_score_adj &&
	    write_file("/proc/self/oom_score_adj", adj) < 0)
		die_errno("cannot set oomScoreAdj %d", s->oom_score_adj);
	if (s->umask >= 0)
		umask((mode_t)s->umask);
}

/* process.user: its groups, gid and uid, numbers as the spec gives them
 * (stage 13's set_user() reads names, and drops every extra group). */
void set_spec_user(const struct oci_spec *s)
{
	if (setgroups(s->n_additional_gids, s->additional_gids) < 0 &&
	    errno != EPERM)
		die_errno("cannot set the additional groups");
	if (setgid(s->gid) < 0)
		die_errno("cannot run as group %d", (int)s->gid);
	if (setuid(s->uid) < 0)
		die_errno("cannot run as user %d", (int)s->uid);
}

/* Fail now, while create can still say so, when the command cannot be
 * run: 127 or 126, in the words Docker and podman read as such ("no such
 * file or directory", "executable file not found", "permission
 * denied"). */
void check_command(const char *cmd)
{
	char path[PATH_MAX];
	const char *dirs = strchr(cmd, '/') ? "" : getenv("PATH");
	if (!dirs)
		dirs = "/usr/local/bin:/usr/bin:/bin";
	/* errno 0: the reason is in the message, in those words, and
	 * die_status() adds no strerror() after it. */
	for (const char *d = dirs;; d += strcspn(d, ":") + 1) {
		int n = strcspn(d, ":");
		snprintf(path, sizeof(path), "%.*s%s%s", n, d, n ? "/" : "",
			 cmd);
		if (access(path, X_OK) == 0)
			return;
		if (errno == EACCES && access(path, F_OK) == 0 && !(errno = 0))
			die_status(EXIT_CANNOT_RUN,
				   "cannot run '%s': permission denied", cmd);
		if (!d[n])
			break;
	}
	errno = 0;
	if (strchr(cmd, '/'))
		die_status(EXIT_NOT_FOUND,
			   "cannot run '%s': no such file or directory", cmd);
	die_status(EXIT_NOT_FOUND,
		   "cannot run '%s': executable file not found in $PATH", cmd);
}

/* linux.seccomp: the spec's filter (oci.c's lesson), where stage 10
 * loaded its own. Without no_new_privs the kernel loads one only for
 * CAP_SYS_ADMIN: then before the capabilities are dropped, and the
 * filter's rules must allow the rest of the set-up (runtimes' profiles
 * do); with it, last before exec. */
void load_spec_seccomp(const struct oci_spec *s)
{
	char why[PATH_MAX + 256];
	if (oci_load_seccomp(&s->seccomp, why, sizeof(why)) < 0)
		die("%s", why);
}

/* Tell create we are set up: it writes the state and the pid file, runs
 * the hooks and returns, and we wait at the fifo for start. */
void say_ready(int ready)
{
	if (write_all(ready, "1", 1) < 0)
		die_errno("cannot tell the runtime the container is created");
	close(ready);
}

/* process.terminal: a pty of our devpts, its master sent over the
 * console socket, the spec's size; returns its slave. It becomes our
 * terminal and stdio last (attach_terminal()), so that until then a
 * failing step's line goes to create's stderr, not to a pty nobody may
 * read yet. */
int open_spec_terminal(const struct oci_spec *s, int console)
{
	if (console < 0)
		die("cannot give the container a terminal: "
		    "'process.terminal' needs --console-socket");
	int tty = open_terminal(console);
	struct winsize ws = {.ws_row = (unsigned short)s->console_height,
			     .ws_col = (unsigned short)s->console_width};
	if (ws.ws_row && ioctl(tty, TIOCSWINSZ, &ws) < 0)
		die_errno("cannot set the terminal's size");
	return tty;
}

/* The same, attached at once (exec --process, which has no set-up
 * after it). */
void setup_spec_terminal(const struct oci_spec *s, int console)
{
	attach_terminal(open_spec_terminal(s, console));
}

/* The first process's terminal tty is the container's /dev/console too,
 * as the spec says (a bind of its pty, where the root has none). */
void bind_console(int tty)
{
	char name[64];
	if (ttyname_r(tty, name, sizeof(name)) != 0 ||
	    access("/dev/console", F_OK) == 0)
		return;
	int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || close(fd) < 0 ||
	    mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
		die_errno("cannot bind '%s' on /dev/console", name);
}

/* Wait for the runtime's byte on sync: our users mapped, or its hooks
 * run. End of file: it failed, and said why, or died. */
void await_runtime(int sync)
{
	char go;
	if (read(sync, &go, 1) != 1)
		_exit(EXIT_RUNTIME);
}

/* The container's namespaces exist and its mounts are made, before the
 * pivot: the point of the prestart and createRuntime hooks, which the
 * runtime runs in its own namespaces (they may look at ours through
 * /proc/<pid>/). Tell it, and wait until they have run. */
void await_runtime_hooks(int ready, int sync)
{
	if (write_all(ready, "m", 1) < 0)
		die_errno("cannot tell the runtime the mounts are made");
	await_runtime(sync);
}
