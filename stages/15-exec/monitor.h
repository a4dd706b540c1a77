/* Stage 15's lesson, its second half: the monitor of a detached
 * container (run -d). The runtime returns at once; a small process of
 * its own, in a session of its own and away from the terminal, stays the
 * container's parent: it reaps it, keeps its exit status, forwards the
 * signals it gets, writes its output to a log, and cleans up after it.
 * The spine calls, in the runtime:
 *
 *     pid = start_monitor(log_fd);   0 in the monitor, which goes on:
 *         start the container as its child, write its record, tell
 *         the runtime its id, then
 *         status = monitor_container(&m);
 */
#ifndef MINIDOCKER_MONITOR_H
#define MINIDOCKER_MONITOR_H

#include <sys/types.h>

/* Fork the monitor: returns its pid in the caller, 0 in the monitor,
 * which has a session of its own (no controlling terminal, so no SIGHUP
 * when the user's terminal closes), its stdin and stdout on /dev/null,
 * its stderr on err (the log: where its own errors are read; -1 for
 * /dev/null), and / as its working directory (it pins no mount).
 * Returns -1 with errno when fork() fails. */
pid_t start_monitor(int err);

/* What the monitor watches. */
struct monitor {
	pid_t pid; /* the container's first process, the monitor's child */
	int out;   /* the read end of its stdout, or the pty's master; -1 */
	int err;   /* the read end of its stderr; -1 */
	int log;   /* where their bytes go, in the order they come */
	/* Called once the container has ended and all its output is in
	 * the log, with its status (N, 128+S): record it, remove its
	 * cgroup, layer and network. */
	void (*cleanup)(int status, void *arg);
	void *arg;
};

/* In the monitor: copy the container's output to the log, forward
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it, reap it,
 * then call m->cleanup. Returns its status (N, 128+S), or -1 with errno
 * if it could not wait for it (cleanup is not called then). */
int monitor_container(const struct monitor *m);

#endif
