#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "process.h"
#include "util.h"

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
				SIGUSR2};
#define N_FORWARDED ARRAY_SIZE(forwarded)

static volatile pid_t forward_to;

/* The runtime's pid, noted before clone() for the child to check. */
static pid_t runtime_pid;

static void forward(int sig)
{
	int err = errno;
	if (forward_to > 0)
		kill(forward_to, sig);
	errno = err;
}

int block_signals(sigset_t *old)
{
	runtime_pid = getpid();
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(&set, forwarded[i]);
	return sigprocmask(SIG_BLOCK, &set, old);
}

int forward_signals(pid_t pid, const sigset_t *old)
{
	struct sigaction sa = {.sa_handler = forward};
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART: the runtime's waitpid() goes on after forwarding. */
	sa.sa_flags = SA_RESTART;
	forward_to = pid;
	for (size_t i = 0; i < N_FORWARDED; i++)
		if (sigaction(forwarded[i], &sa, NULL) < 0)
			return -1;
	/* Signals that arrived while blocked are delivered here, to pid. */
	return sigprocmask(SIG_SETMASK, old, NULL);
}

/* Mark every fd from first on close-on-exec, one by one (for kernels
 * older than 5.11, which lack CLOSE_RANGE_CLOEXEC). */
static int cloexec_each(int first)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (fd >= first && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}

/* The pid of our parent as the host's /proc numbers it (getppid() says 0
 * in a new PID namespace); 0 when /proc cannot tell. */
static pid_t host_ppid(void)
{
	char buf[1024];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strstr(buf, "\nPPid:");
	return p ? (pid_t)atoi(p + 6) : 0;
}

int prepare_child(const sigset_t *old)
{
	/* SIGKILL when the runtime dies, so a container never outlives it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -1;
	/* The runtime may have died before that took effect: then we have
	 * a new parent already, and no one would ever kill us. */
	pid_t ppid = host_ppid();
	if (runtime_pid && ppid && ppid != runtime_pid)
		_exit(EXIT_RUNTIME);
	if (sigprocmask(SIG_SETMASK, old, NULL) < 0)
		return -1;
	/* Close-on-exec rather than close: setup may still use its fds. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return cloexec_each(3);
	return 0;
}

int wait_child(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	/* Its pid is free now and may soon name another process: a signal
	 * that arrives while the runtime cleans up must not go there. */
	if (pid == forward_to)
		forward_to = 0;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}
