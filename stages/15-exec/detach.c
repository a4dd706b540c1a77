/*
 * Stage 15's plumbing of run -d, split off the spine (detach.h says what
 * each part does): the pipes of a detached container's stdio, and the
 * monitor's side of its record: running once its command runs, its
 * groups kept for exec, exited with its status at the end. The lesson it
 * wraps, start_monitor() and monitor_container(), is in monitor.c.
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "containers.h"
#include "ctr/record.h"
#include "detach.h"
#include "error.h"
#include "exec.h"
#include "monitor.h"
#include "process.h"
#include "util.h"

/*** the container's stdio ***/

int make_stdio(bool interactive, int stdio[3], int *execd,
	       struct monitor_ends *e)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1},
	    exec_pipe[2] = {-1, -1};
	if (interactive) {
		if (pipe2(in, O_CLOEXEC) < 0)
			in[0] = -1;
	} else
		in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in[0] < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0 || pipe2(exec_pipe, O_CLOEXEC) < 0) {
		report_errno("cannot make the container's stdio");
		int fds[] = {in[0],  in[1],  out[0],	   out[1],
			     err[0], err[1], exec_pipe[0], exec_pipe[1]};
		for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return -1;
	}
	stdio[0] = in[0];
	stdio[1] = out[1];
	stdio[2] = err[1];
	*execd = exec_pipe[1];
	*e = (struct monitor_ends){
	    .in = in[1], .out = out[0], .err = err[0], .execd = exec_pipe[0]};
	return 0;
}

/*** the monitor's side of the record ***/

int save_cgroups(const char *dir, const struct group_dirs *g)
{
	char path[PATH_MAX + 16], text[EXEC_MAX_CGROUPS * (PATH_MAX + 96)];
	size_t n = 0;
	text[0] = '\0';
	if (g->pids)
		n += snprintf(text + n, sizeof(text) - n, "%s\n", g->pids);
	for (int c = 0; c < LIMIT_NCTRL; c++)
		if (g->lim->have[c] && !strstr(text, g->lim->dir[c]))
			n += snprintf(text + n, sizeof(text) - n, "%s\n",
				      g->lim->dir[c]);
	if (g->devices && g->devices[0])
		n += snprintf(text + n, sizeof(text) - n, "%s\n", g->devices);
	snprintf(path, sizeof(path), "%s/" CGROUPS_FILE, dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, text, strlen(text));
	close(fd);
	return rc;
}

/* The monitor's cleanup callback: the container has ended, its output
 * is in the log; its record says how it ended. */
static void record_exit(int status, void *arg)
{
	const char *dir = arg;
	struct ctr_record r;
	char why[PATH_MAX + 64];
	if (ctr_record_read(dir, &r, why, sizeof(why)) < 0) {
		report("cannot record the container's end: %s", why);
		return;
	}
	r.status = CTR_EXITED;
	r.exit_status = status;
	r.finished = time(NULL);
	if (ctr_record_write(dir, &r) < 0)
		report_errno("cannot record the container's end in '%s'", dir);
	ctr_record_free(&r);
}

/* Wait until the child has exec'd its command, or died, either of which
 * closes its end of the pipe whose read end is fd. Returns 0, or -1 with
 * errno. */
static int await_exec(int fd)
{
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) != 0)
		if (n < 0 && errno != EINTR)
			return -1;
	close(fd);
	return 0;
}

int monitor_detached(struct detached *det, pid_t pid,
		     const struct group_dirs *g, int out, int err, int execd)
{
	struct ctr_record r;
	char why[PATH_MAX + 64];
	if (ctr_record_read(det->dir, &r, why, sizeof(why)) < 0) {
		report("cannot read the container's record: %s", why);
		goto fail;
	}
	/* Not before the command runs: until its exec the child is still
	 * setting up, without its walls (or not yet in its root), and an
	 * exec that joined it then would copy none. */
	if (await_exec(execd) < 0) {
		report_errno("cannot wait for the container's command");
		goto fail;
	}
	r.pid = pid;
	r.status = CTR_RUNNING;
	r.started = time(NULL);
	int rc = ctr_proc_start(pid, &r.pid_start) < 0 ||
			 ctr_record_write(det->dir, &r) < 0 ||
			 save_cgroups(det->dir, g) < 0
		     ? -1
		     : 0;
	ctr_record_free(&r);
	if (rc < 0) {
		report_errno("cannot write the container's record in '%s'",
			     det->dir);
		goto fail;
	}
	/* From here on our own errors go to the log too, and nothing of
	 * the caller's terminal stays open in the monitor. */
	if (write_all(det->started, "1", 1) < 0 ||
	    dup2(det->log, STDERR_FILENO) < 0)
		goto fail;
	close(det->started);
	struct monitor m = {.pid = pid,
			    .out = out,
			    .err = err,
			    .log = det->log,
			    .cleanup = record_exit,
			    .arg = det->dir};
	int status = monitor_container(&m);
	if (status < 0)
		report_errno("cannot monitor the container");
	return status;
fail:
	kill(pid, SIGKILL);
	wait_child(pid);
	return -1;
}
