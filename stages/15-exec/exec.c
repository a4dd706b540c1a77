/*
 * Stage 15's lesson: a terminal of the container's own, and exec.
 *
 * Until now the container shared the caller's terminal: it could change
 * its modes, read what the user typed after it ended, and (without
 * stage 10's filter) push keystrokes into it with TIOCSTI. With -t it
 * gets a pseudo-terminal of its own: the runtime holds the master end
 * and copies bytes between it and the real terminal, which it puts in
 * raw mode so that every key (^C too) reaches the container's line
 * discipline, not its own.
 *
 * exec starts a process in a container that already runs. Nothing is
 * cloned new: every namespace exists, and setns(2) joins them through
 * the descriptors /proc/PID/ns/ holds. The order matters: the user
 * namespace first, since it gives the capabilities the other joins need;
 * the PID namespace applies only to children, so the joining process
 * forks; the mount namespace last, since it resets our root and working
 * directory to its own. And until it execs, the joining process is the
 * runtime's program in the runtime's memory: dumpable, anyone in the
 * container could open its /proc/PID/exe, the runtime's binary on the
 * host, and write into it once it exits (CVE-2019-5736, against runc
 * exec). Neither the joining process nor the command's copies that
 * memory: each runs in it, as vfork(2)'s child does, while the one
 * that started it sleeps; a fork's copy is most of what an exec costs.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctr/record.h"
#include "error.h"
#include "exec.h"
#include "file.h"
#include "privs.h"
#include "process.h"

/*** the terminal ***/

/* Give the pty the size of the terminal from (rows and columns): the
 * kernel sends SIGWINCH to the pty's foreground process group when it
 * changes. */
static void pass_winsize(int from, int master)
{
	struct winsize ws;
	if (from >= 0 && ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

int open_pty(const char *ptmx, int size_of, struct pty *pty)
{
	int unlock = 0;

	pty->master = pty->slave = -1;
	/* O_NOCTTY: the pty must not become the runtime's own controlling
	 * terminal, should it have none. */
	pty->master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pty->master < 0)
		return -1;
	/* A new pty's slave is locked until its master says otherwise
	 * (unlockpt(3)); devpts sets its owner and mode from the mount's
	 * options, so grantpt(3) has nothing left to do. */
	if (ioctl(pty->master, TIOCSPTLCK, &unlock) < 0)
		goto err;
	/* TIOCGPTPEER (Linux 4.13) opens the slave of this master, in the
	 * devpts this master came from: no path is looked up, so none
	 * that the container has replaced by a link is followed. */
	pty->slave =
	    ioctl(pty->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pty->slave < 0)
		goto err;
	pass_winsize(size_of, pty->master);
	return 0;
err:;
	int saved = errno;
	close(pty->master);
	pty->master = -1;
	errno = saved;
	return -1;
}

void attach_terminal(int slave)
{
	/* A new session has no controlling terminal; TIOCSCTTY makes the
	 * slave its one (the session leader may ask, nobody else). Then
	 * ^C on the pty signals the command's process group. */
	if (setsid() < 0)
		die_errno("cannot start a session");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		die_errno("cannot make the pty the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			die_errno("cannot put the pty on fd %d", fd);
	if (slave > 2)
		close(slave);
}

/* The terminal make_raw() last changed, and the process that did: its
 * modes are put back at exit() and at die() (which calls _exit()) if
 * nobody did before, but never by a child of that process, which would
 * undo raw mode under the runtime still copying. */
static struct term_mode *raw_mode;
static pid_t raw_pid;

static void restore_at_exit(void)
{
	if (raw_mode && getpid() == raw_pid)
		restore_terminal(raw_mode);
}

int make_raw(int fd, struct term_mode *mode)
{
	static bool registered;
	struct termios raw;

	mode->fd = -1;
	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &mode->saved) < 0)
		return -1;
	raw = mode->saved;
	/* Input: no break to SIGINT (BRKINT), no CR to NL (ICRNL), no
	 * ^S/^Q flow control (IXON), no parity marks or stripping of the
	 * 8th bit (PARMRK, ISTRIP), no NL or CR rewriting (INLCR, IGNCR):
	 * the container's own line discipline does all of that. */
	raw.c_iflag &=
	    ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	/* Output: no NL to CRNL (OPOST); the container's pty adds it. */
	raw.c_oflag &= ~OPOST;
	/* No echo (the container's pty echoes), no line editing (ICANON),
	 * no ^C, ^Z, ^\ as signals to the runtime (ISIG): they are bytes
	 * for the container; no ^V (IEXTEN). */
	raw.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	/* Eight bits a byte, no parity. */
	raw.c_cflag &= ~(CSIZE | PARENB);
	raw.c_cflag |= CS8;
	/* read() returns as soon as one byte is there, and waits for it. */
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (!registered && atexit(restore_at_exit) != 0) {
		errno = ENOMEM;
		return -1;
	}
	registered = true;
	set_die_hook(restore_at_exit);
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -1;
	mode->fd = fd;
	raw_mode = mode;
	raw_pid = getpid();
	return 0;
}

void restore_terminal(struct term_mode *mode)
{
	if (mode->fd < 0)
		return;
	/* TCSANOW, not TCSADRAIN: a terminal nobody reads would keep us
	 * waiting for its output to drain. */
	if (tcsetattr(mode->fd, TCSANOW, &mode->saved) < 0)
		report_errno("cannot restore the terminal's modes");
	mode->fd = -1;
	if (raw_mode == mode) {
		raw_mode = NULL;
		set_die_hook(NULL);
	}
}

/* Write buf to the fd *fd points to; on a reader gone (EPIPE) or any
 * other failure, stop writing there (*fd = -1) and say so once. */
static void copy_out(int *fd, const char *buf, size_t len, const char *what)
{
	if (*fd < 0)
		return;
	if (write_all(*fd, buf, len) < 0) {
		if (errno != EPIPE)
			report_errno("cannot write the container's output to "
				     "the %s",
				     what);
		*fd = -1;
	}
}

/* Read what the master holds now, without waiting, into out and log.
 * Returns how many bytes, 0 at the end (every slave closed: EIO), or -1
 * when nothing is there yet. */
static ssize_t drain_master(int master, int *out, int *log)
{
	char buf[8192];
	ssize_t n = read(master, buf, sizeof(buf));
	if (n < 0 && errno == EIO)
		return 0; /* the last slave closed: Linux's end of a pty */
	if (n <= 0)
		return n == 0 ? 0 : -1;
	copy_out(out, buf, (size_t)n, "terminal");
	copy_out(log, buf, (size_t)n, "log");
	return n;
}

int copy_pty(const struct pty_io *io)
{
	sigset_t winch, old;
	int in = io->in, out = io->out, log = io->log, result = 0;
	char buf[8192];

	/* SIGWINCH, the terminal's "my size changed", read from a
	 * descriptor in the same poll as the bytes. */
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &winch, &old) < 0)
		return -1;
	int sfd = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		goto out;
	pass_winsize(io->winsize, io->master);
	/* Nonblocking, so that what is left after the command ended is
	 * read until there is no more, not waited for. */
	int flags = fcntl(io->master, F_GETFL);
	if (flags < 0 || fcntl(io->master, F_SETFL, flags | O_NONBLOCK) < 0)
		goto out;
	for (;;) {
		struct pollfd p[4] = {
		    {.fd = io->master, .events = POLLIN},
		    {.fd = in, .events = POLLIN},
		    {.fd = sfd, .events = POLLIN},
		    {.fd = io->pidfd, .events = POLLIN},
		};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue; /* a forwarded signal */
			goto out;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = drain_master(io->master, &out, &log);
			if (n == 0)
				break; /* every slave is closed */
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				goto out;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(in, buf, sizeof(buf));
			if (n > 0 &&
			    write_all(io->master, buf, (size_t)n) < 0 &&
			    errno != EIO)
				goto out;
			if (n == 0 || (n < 0 && errno != EINTR))
				in = -1; /* our stdin ended: stop reading it */
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			pass_winsize(io->winsize, io->master);
		}
		if (p[3].revents & POLLIN) {
			/* The command ended; a process it left may still
			 * hold the slave, so read what is there and stop. */
			while (drain_master(io->master, &out, &log) > 0)
				;
			break;
		}
	}
	goto done;
out:
	result = -1;
done:;
	int saved = errno;
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return result;
}

/*** exec ***/

/* Each namespace's file in /proc/PID/ns/ and its setns(2) flag, in the
 * order of enum exec_ns. */
static const struct {
	const char *name;
	int flag;
} namespaces[EXEC_NS_COUNT] = {
    [EXEC_NS_USER] = {"user", CLONE_NEWUSER},
    [EXEC_NS_IPC] = {"ipc", CLONE_NEWIPC},
    [EXEC_NS_UTS] = {"uts", CLONE_NEWUTS},
    [EXEC_NS_NET] = {"net", CLONE_NEWNET},
    [EXEC_NS_PID] = {"pid", CLONE_NEWPID},
    [EXEC_NS_CGROUP] = {"cgroup", CLONE_NEWCGROUP},
    [EXEC_NS_MNT] = {"mnt", CLONE_NEWNS},
};

/* Whether fd names the same namespace as /proc/self/ns/name: the same
 * inode on the same nsfs. */
static bool ours(int fd, const char *name)
{
	char path[64];
	struct stat a, b;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* Read the container's bounding set, no_new_privs and seccomp mode from
 * /proc/PID/status into h. Returns 0, or -1 with errno. */
static int read_walls(pid_t pid, struct exec_handles *h)
{
	char path[64], text[4096], *save = NULL;
	int found = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	/* In one read(): the kernel makes the whole file at the first one
	 * (~1.5 KiB, the three lines in its first half). */
	if (read_small(path, text, sizeof(text)) < 0)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long caps;
		int v;
		if (sscanf(line, "CapBnd: %llx", &caps) == 1) {
			h->caps = caps;
			found |= 1;
		} else if (sscanf(line, "NoNewPrivs: %d", &v) == 1) {
			h->no_new_privs = v == 1;
			found |= 2;
		} else if (sscanf(line, "Seccomp: %d", &v) == 1) {
			h->seccomp = v;
			found |= 4;
		}
	}
	/* Seccomp: is missing only without CONFIG_SECCOMP: mode 0. */
	if (!(found & 1) || !(found & 2)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Whether target's pid is still the process the record names. */
static bool same_process(const struct exec_target *t, int pidfd)
{
	unsigned long long start;
	/* A pidfd names one process for good: signal 0 through it fails
	 * with ESRCH once that one has ended, whoever has its pid now. */
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return false;
	if (ctr_proc_start(t->pid, &start) < 0)
		return false;
	return t->pid_start == 0 || start == t->pid_start;
}

int open_container(const struct exec_target *t, struct exec_handles *h,
		   char *why, size_t why_len)
{
	char path[64];

	h->pidfd = h->root = h->cwd = -1;
	for (int i = 0; i < EXEC_NS_COUNT; i++)
		h->ns[i] = -1;
	/* First the process itself: if the pid is reused from here on,
	 * the pidfd still names the one we checked. */
	h->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	if (h->pidfd < 0 && errno != ENOSYS)
		goto gone;
	if (!same_process(t, h->pidfd))
		goto gone;
	for (int i = 0; i < EXEC_NS_COUNT; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)t->pid,
			 namespaces[i].name);
		h->ns[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (h->ns[i] < 0 && errno == ENOENT) {
			/* A namespace this kernel has not got, or a process
			 * that has ended (a zombie has no namespaces). */
			snprintf(path, sizeof(path), "/proc/self/ns/%s",
				 namespaces[i].name);
			if (access(path, F_OK) == 0)
				goto gone;
			continue;
		}
		if (h->ns[i] < 0)
			goto fail;
		/* Ours already: nothing to join, and setns() refuses to
		 * join our own user namespace again. */
		if (ours(h->ns[i], namespaces[i].name)) {
			close(h->ns[i]);
			h->ns[i] = -1;
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/root", (int)t->pid);
	h->root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->root < 0)
		goto fail;
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)t->pid);
	h->cwd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->cwd < 0)
		goto fail;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)t->pid);
	if (read_walls(t->pid, h) < 0)
		goto fail;
	/* Still the same process after all the opens: they name its
	 * namespaces, root and walls, not those of a process that got its
	 * pid in between. */
	if (!same_process(t, h->pidfd))
		goto gone;
	return 0;
gone:
	snprintf(why, why_len, "the container's process %d is gone",
		 (int)t->pid);
	close_container(h);
	errno = ESRCH;
	return -1;
fail:;
	int saved = errno;
	snprintf(why, why_len, "cannot open '%s': %s", path, strerror(errno));
	close_container(h);
	errno = saved;
	return -1;
}

void close_container(struct exec_handles *h)
{
	int saved = errno;
	for (int i = 0; i < EXEC_NS_COUNT; i++) {
		if (h->ns[i] >= 0)
			close(h->ns[i]);
		h->ns[i] = -1;
	}
	if (h->pidfd >= 0)
		close(h->pidfd);
	if (h->root >= 0)
		close(h->root);
	if (h->cwd >= 0)
		close(h->cwd);
	h->pidfd = h->root = h->cwd = -1;
	errno = saved;
}

/* Enter the cgroup whose directory is dir: "0" in cgroup.procs moves
 * the writer. Before any setns(): from the container's user namespace
 * the host's cgroup files are out of our reach. */
static void join_group(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (write_file(path, "0") < 0)
		die_errno("cannot join the container's cgroup '%s'", dir);
}

void join_container(const struct exec_handles *h,
		    const struct exec_target *target)
{
	/* Not dumpable: /proc/PID/exe, mem, fd/ and the rest stay closed
	 * to the container's processes until the exec, which makes the
	 * command dumpable again. It is our memory's mark: the command's
	 * process, which runs in it, has it too (and so has the runtime). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die_errno("cannot make the process non-dumpable");
	for (size_t i = 0; i < target->n_cgroups; i++)
		join_group(target->cgroups[i]);
	for (int i = 0; i < EXEC_NS_COUNT; i++) {
		if (h->ns[i] < 0)
			continue;
		if (setns(h->ns[i], namespaces[i].flag) < 0)
			die_errno("cannot join the container's %s namespace",
				  namespaces[i].name);
		if (i != EXEC_NS_USER)
			continue;
		/* We joined as the uid we had outside; be the container's
		 * root, as its first process is (and as nsenter does).
		 * setgroups() is refused where the runtime had none to
		 * drop (rootless: "deny"). */
		if (setgroups(0, NULL) < 0 && errno != EPERM)
			die_errno("cannot drop the supplementary groups");
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			die_errno("cannot become root in the container's "
				  "user namespace");
	}
	/* The mount namespace's join left us at its root, not at the
	 * container's pivoted or chrooted one: that, and the working
	 * directory, come from the descriptors opened outside. */
	if (fchdir(h->root) < 0 || chroot(".") < 0)
		die_errno("cannot enter the container's root");
	if (fchdir(h->cwd) < 0)
		die_errno("cannot enter the container's working directory");
}

pid_t fork_into_container(int (*fn)(void *arg), void *arg)
{
	/* CLONE_PARENT: the runtime's child, not ours, so that the runtime
	 * waits for it and forwards signals to it as to run's container;
	 * the kernel gives it our death signal, SIGCHLD. clone_vfork(): it
	 * runs fn(arg) in our memory, on a stack of its own, and we sleep
	 * until its exec gives it memory of its own: nothing is copied. */
	return clone_vfork(fn, arg, CLONE_PARENT);
}

void enter_walls(const struct exec_handles *h)
{
	/* Stage 10's lesson, as the container's first process had it:
	 * exec must never be a way around the walls. */
	drop_capabilities(h->caps);
	if (h->no_new_privs)
		set_no_new_privs();
	if (h->seccomp == 2)
		install_seccomp();
	else if (h->seccomp != 0)
		die("cannot match the container's seccomp mode %d", h->seccomp);
}

/* What the joining process is given, and where it leaves the command's
 * pid: in the runtime's memory, which it shares. */
struct joiner {
	struct exec_handles *h;
	const struct exec_target *t;
	const char *name;
	void (*body)(void *arg);
	void *arg;
	pid_t pid; /* the command's; 0 until it runs */
};

/* The command's process (fork_into_container()'s fn). */
static int command_main(void *arg)
{
	const struct joiner *j = arg;
	j->body(j->arg);
	_exit(EXIT_RUNTIME); /* body() execs or dies */
}

/* The joining process (clone_vfork()'s fn): join, start the command's
 * process, which has exec'd once fork_into_container() returns, end. */
static int joiner_main(void *arg)
{
	struct joiner *j = arg;
	join_container(j->h, j->t);
	j->pid = fork_into_container(command_main, j);
	if (j->pid < 0)
		die_errno("cannot start a process in container '%s'", j->name);
	_exit(0);
}

pid_t spawn_in_container(struct exec_handles *h, const struct exec_target *t,
			 const char *name, char **env, void (*body)(void *arg),
			 void *arg, int *status)
{
	extern char **environ;
	char **ours = environ;
	static char *empty[] = {NULL};
	struct joiner j = {h, t, name, body, arg, 0};

	/* Lent, not set by the command's process: it runs in our memory,
	 * where what it wrote would stay ours after its exec. */
	environ = env ? env : empty;
	/* The joining process: non-dumpable in our memory until the
	 * command's exec (join_container()), which leaves us so too. */
	pid_t joiner = clone_vfork(joiner_main, &j, 0);
	environ = ours;
	if (joiner < 0)
		die_errno("cannot fork");
	close_container(h);
	int joined = wait_child(joiner);
	if (j.pid <= 0) {
		*status = joined > 0 ? joined : EXIT_RUNTIME; /* it said why */
		return -1;
	}
	return j.pid;
}
