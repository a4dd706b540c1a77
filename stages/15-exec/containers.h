/* Stage 15's commands on containers, beside run: run -d (a record, and a
 * monitor that starts the container as run does and stays its parent),
 * ps, logs, stop and rm, which find it again by its record (common/ctr/),
 * and exec, which joins it through the lesson's setns(2) (exec.h); and
 * copy_terminal(), -t in the foreground, for run and exec alike. The
 * spine's main() dispatches to them; stage 16 builds with them as they
 * are.
 *
 * They need two functions of the stage's spine (main.c), declared
 * below: run_container(), which run -d's monitor calls; exec_command(),
 * the last step of exec's process.
 */
#ifndef MINIDOCKER_CONTAINERS_H
#define MINIDOCKER_CONTAINERS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#include "args.h"
#include "exec.h"

#define CGROUPS_FILE "cgroups"	      /* its groups' directories, for exec */
#define RUN_MAX	     (PATH_MAX - 128) /* room for run/<id>/<file> */

/* What a detached container's monitor keeps (run -d). */
struct detached {
	char dir[PATH_MAX]; /* its record's directory, run/<id> */
	int log;	    /* dir/log, where its output goes */
	int started;	    /* a pipe to the runtime: a byte once it runs */
};

/* run -d: the container's record, then its monitor, which runs it; print
 * its id once it runs. Returns 0, or the status to exit with. */
int run_detached(struct options *opts);

/* ps, logs, stop, rm (argv[1]) with their arguments; dies with the
 * usage on a line that is none of theirs. Returns the exit status. */
int container_command(int argc, char **argv);

/* exec [-t] [-i] [-e K=V] [-w DIR] [-u UID[:GID]] ID cmd [args...]: a
 * new process in a running container. Returns the command's status. */
int exec_in_container(int argc, char **argv);

/* The groups of the container in dir, from its cgroups file, into t
 * (whose cgroups point into paths). Dies when it cannot be read. */
void load_cgroups(const char *dir, char *paths, size_t len,
		  struct exec_target *t);

/* -t in the foreground: the user's terminal raw, bytes copied to and
 * from the pty's master until pid ends, the terminal's modes back. */
void copy_terminal(int master, pid_t pid, bool interactive);

/*** the spine's (main.c), which these commands call ***/

/* Run the command in a child; return its exit status. det: detached, in
 * the monitor; NULL: in the foreground. */
int run_container(struct options *opts, struct detached *det);

/* Replace the process with the command; returns only by dying. */
noreturn void exec_command(char **argv);

#endif
