/*
 * Stage 2: the child gets a UTS namespace, so it can have a hostname of its
 * own without changing the host's.
 *
 *     stage-2 run [--hostname NAME] <cmd> [args...]
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "error.h"
#include "process.h"

/*** config ***/

#define STAGE_NAME "stage-2"
#define STAGE_OPTS (OPT_HOSTNAME) /* options beyond --verbose it accepts */

/* clone() runs the child on a stack we hand it; 1 MiB is plenty for the
 * little the child does before exec replaces it. */
#define STACK_SIZE (1024 * 1024)
static char child_stack[STACK_SIZE] __attribute__((aligned(16)));

/* What the child needs to know, passed through clone()'s argument. */
struct child_config {
	struct options *opts;
	sigset_t mask;	 /* the signal mask to restore before exec */
	int lifeline[2]; /* a pipe whose write end only the runtime keeps:
			  * its end of file tells the child the runtime died */
};

/*** child ***/

/* Give the container its own hostname. In a new UTS namespace this
 * changes the child's copy only; the host keeps its name. */
static void setup_uts(const char *hostname)
{
	if (sethostname(hostname, strlen(hostname)) < 0)
		die_errno("cannot set hostname '%s'", hostname);
	verbose("hostname set to '%s'", hostname);
}

/* Replace the child with the command; returns only by dying. */
static noreturn void exec_command(char **argv)
{
	execvp(argv[0], argv);
	/* Like a shell and docker: 127 when there is no such command,
	 * 126 when it exists but cannot be executed. */
	int status = (errno == ENOENT || errno == ENOTDIR) ? EXIT_NOT_FOUND
							   : EXIT_CANNOT_RUN;
	die_status(status, "cannot run '%s'", argv[0]);
}

/* Runs in the new process: set it up, then become the command. */
static int child_main(void *arg)
{
	struct child_config *cfg = arg;

	if (prepare_child(&cfg->mask, cfg->lifeline) < 0)
		die_errno("cannot prepare the child process");
	setup_uts(cfg->opts->hostname);
	exec_command(cfg->opts->argv);
}

/*** parent ***/

/* Start the child; return its pid. */
static pid_t start_child(struct child_config *cfg)
{
	/* SIGCHLD: tell us when it ends, as fork() would.
	 * CLONE_NEWUTS: a new UTS namespace (hostname and domain name). */
	int flags = SIGCHLD | CLONE_NEWUTS;

	/* Said before clone(): from then on the child may print too. */
	verbose("starting the child");
	pid_t pid = clone(child_main, child_stack + STACK_SIZE, flags, cfg);
	if (pid < 0 && errno == EPERM)
		die("cannot create namespaces: %s (needs root: run it with "
		    "sudo)",
		    strerror(errno));
	if (pid < 0)
		die_errno("cannot create the child process");
	return pid;
}

/* Run the command in a child; return its exit status. */
static int run_container(struct options *opts)
{
	struct child_config cfg = {.opts = opts};

	/* Block the forwarded signals until the child's pid is known. */
	if (block_signals(&cfg.mask) < 0)
		die_errno("cannot block signals");
	if (pipe2(cfg.lifeline, O_CLOEXEC) < 0)
		die_errno("cannot make a pipe");
	pid_t pid = start_child(&cfg);
	if (forward_signals(pid, &cfg.mask) < 0)
		die_errno("cannot forward signals");

	int status = wait_child(pid);
	if (status < 0)
		die_errno("cannot wait for the child process");
	verbose("child %d ended with status %d", (int)pid, status);
	return status;
}

/*** main ***/

int main(int argc, char **argv)
{
	struct options opts;
	char err[256];

	set_prog_name(STAGE_NAME);
	switch (parse_args(argc, argv, STAGE_OPTS, &opts, err, sizeof(err))) {
	case ARGS_HELP:
		print_usage(stdout, STAGE_NAME, STAGE_OPTS);
		return 0;
	case ARGS_ERROR:
		die("%s (usage: %s run [options] <cmd> [args...])", err,
		    STAGE_NAME);
	case ARGS_OK:
		break;
	}
	set_verbose(opts.verbose);
	return run_container(&opts);
}
