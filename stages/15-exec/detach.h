/* Stage 15's plumbing of run -d, split off the spine: what run_container()
 * does around the lesson's monitor (monitor.h) for a detached container.
 * Before the child starts, make_stdio() makes its stdio pipes; once it
 * runs, monitor_detached() waits for its exec, writes its record and its
 * groups (for exec), tells the runtime, and stays its parent through
 * monitor_container() until it ends and its record says how. Stage 16's
 * spine calls them as they are, and save_cgroups() for create.
 */
#ifndef MINIDOCKER_DETACH_H
#define MINIDOCKER_DETACH_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup_limits.h"
#include "containers.h"

/* The monitor's ends of a detached container's stdio. */
struct monitor_ends {
	int in;	      /* its stdin: /dev/null, or with -i a pipe's write
		       * end, held open and never written */
	int out, err; /* the read ends of its stdout and stderr */
	int execd;    /* the read end of the execd pipe (make_stdio()) */
};

/* Detached: the container's stdin (/dev/null, or with -i a pipe that
 * stays open, so a shell waits for input as it would under docker -di)
 * and pipes for its stdout and stderr, into stdio; a pipe whose write
 * end, into *execd, the child's exec closes (O_CLOEXEC); the monitor's
 * ends into e. Returns 0, or -1 after saying why. */
int make_stdio(bool interactive, int stdio[3], int *execd,
	       struct monitor_ends *e);

/* The directories of a container's cgroups, which exec joins. */
struct group_dirs {
	const char *pids;		/* its pids group; NULL: none */
	const struct limit_groups *lim; /* its memory and cpu groups */
	const char *devices; /* stage 16, v1: its devices group; NULL or
			      * "": none */
};

/* Keep g's directories in dir/cgroups (CGROUPS_FILE), one a line, each
 * once, for exec to join. Returns 0, or -1 with errno. */
int save_cgroups(const char *dir, const struct group_dirs *g);

/* run -d, in the monitor once the container (pid) is started: wait for
 * its exec (end of file on execd), record it running and keep its
 * groups g, tell the runtime (it prints the id and returns), then reap
 * it, log its output (out, err), forward signals to it and record how
 * it ended. Returns its status, or -1 after saying why (the container
 * killed). */
int monitor_detached(struct detached *det, pid_t pid,
		     const struct group_dirs *g, int out, int err, int execd);

#endif
