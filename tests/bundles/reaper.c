/*
 * reaper STATUSFILE CMD [ARG...]: run CMD as a child subreaper and write
 * down how each orphan it inherits ends.
 *
 * An OCI runtime's `create` leaves the container's process behind and
 * exits: the process is then the orphan of whoever made itself a
 * subreaper (containerd's shim and conmon do, with prctl). A shell
 * cannot, so bundles.sh runs under this program: every container process
 * whose `create` has returned becomes our child, and when it ends we
 * append "PID STATUS" to STATUSFILE (STATUS as a shell says it: N, or
 * 128+S for a signal), which the script polls for the pid its --pid-file
 * gave. Exits with CMD's own status once CMD has ended; orphans still
 * alive then are the script's cleanup's.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The status as a shell says it. */
static int shell_status(int st)
{
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: reaper STATUSFILE CMD [ARG...]\n");
		return 2;
	}
	int log =
	    open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log < 0) {
		fprintf(stderr, "reaper: cannot open '%s': %s\n", argv[1],
			strerror(errno));
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		fprintf(stderr, "reaper: cannot become a subreaper: %s\n",
			strerror(errno));
		return 2;
	}
	pid_t cmd = fork();
	if (cmd < 0) {
		fprintf(stderr, "reaper: cannot fork: %s\n", strerror(errno));
		return 2;
	}
	if (cmd == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "reaper: cannot run '%s': %s\n", argv[2],
			strerror(errno));
		_exit(127);
	}
	for (;;) {
		int st;
		pid_t pid = wait(&st);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return 2; /* ECHILD: cmd is always reaped first */
		if (pid == cmd)
			return shell_status(st);
		/* One write a line (O_APPEND): a reader never sees half. */
		dprintf(log, "%d %d\n", (int)pid, shell_status(st));
	}
}
