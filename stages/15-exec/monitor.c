/*
 * Stage 15's lesson, its second half: the monitor. In the foreground the
 * runtime is the container's parent, and the container dies with it
 * (PR_SET_PDEATHSIG). Detached, someone must still be its parent: only a
 * parent can wait(2) for a process, and so learn its exit status and let
 * the kernel forget it; and only a process that is still there can write
 * its output somewhere and remove its cgroup when it ends. docker has
 * containerd-shim for this, podman conmon: here it is a fork of the
 * runtime, in a session of its own, with nothing of the terminal.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "monitor.h"
#include "process.h"

/* The signals the monitor forwards to the container, as the runtime does
 * in the foreground (DESIGN.md, "Process model"). */
static const int forwarded[] = {SIGINT,	 SIGTERM, SIGHUP,
				SIGQUIT, SIGUSR1, SIGUSR2};

pid_t start_monitor(int err)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* A session of its own: no controlling terminal, so closing the
	 * user's terminal sends it no SIGHUP, and ^C there reaches only
	 * the foreground process group, never it. */
	if (setsid() < 0)
		die_errno("cannot start the monitor's session");
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		die_errno("cannot open '/dev/null'");
	/* Nothing of the terminal stays open: a terminal that stays open
	 * in a process keeps ssh sessions and shells waiting for it. */
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(err >= 0 ? err : null, 2) < 0)
		die_errno("cannot detach the monitor from the terminal");
	close(null);
	/* Its working directory would keep a mount busy. */
	if (chdir("/") < 0)
		die_errno("cannot change directory to '/'");
	return 0;
}

/* Copy what fd holds now to log. Returns the bytes read, 0 at the end
 * (every writer gone), or -1 with errno (EAGAIN: nothing yet). */
static ssize_t copy_to_log(int fd, int log)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && errno == EIO)
		return 0; /* a pty's master once its slaves are gone */
	if (n > 0 && write_all(log, buf, (size_t)n) < 0)
		report_errno("cannot write the container's log");
	return n;
}

/* 1 when pid has ended, with its status (N, 128+S) in *status; 0 while
 * it runs; -1 with errno when it is no child of ours. */
static int reaped(pid_t pid, int *status)
{
	int ws;
	pid_t r;
	while ((r = waitpid(pid, &ws, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return r;
	*status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
	return 1;
}

int monitor_container(const struct monitor *m)
{
	int fds[2] = {m->out, m->err}, status = -1;
	sigset_t set, old;

	/* Every signal it cares about, SIGCHLD too, read from one
	 * descriptor in the poll with the output: blocked first, so that
	 * none is lost in between. */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return -1;
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return -1;
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			fcntl(fds[i], F_SETFL,
			      fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	/* It may have ended before SIGCHLD was blocked. */
	int done = reaped(m->pid, &status);
	while (done == 0) {
		struct pollfd p[3] = {{.fd = sfd, .events = POLLIN},
				      {.fd = fds[0], .events = POLLIN},
				      {.fd = fds[1], .events = POLLIN}};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		for (int i = 0; i < 2; i++)
			if ((p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    copy_to_log(fds[i], m->log) == 0)
				fds[i] = -1; /* ended; the other may not be */
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
			if (si.ssi_signo != SIGCHLD)
				kill(m->pid, (int)si.ssi_signo);
		done = reaped(m->pid, &status);
	}
	if (done < 0)
		goto fail;
	/* It has ended, and so has its PID namespace: what it wrote is in
	 * the pipes, to read to the end or until nothing more is there. */
	for (int i = 0; i < 2; i++)
		while (fds[i] >= 0 && copy_to_log(fds[i], m->log) > 0)
			;
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (m->cleanup)
		m->cleanup(status, m->arg);
	return status;
fail:;
	int saved = errno;
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return -1;
}
