/*
 * Stage 5: the child gets a mount namespace, and makes every mount in it
 * private before it mounts anything, so its mounts never reach the host
 * and vanish with it.
 *
 *     stage-5 run [--hostname NAME] [--rootfs DIR] <cmd> [args...]
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "args.h"
#include "error.h"
#include "process.h"
#include "rootfs.h"

/*** config ***/

#define STAGE_NAME "stage-5"
#define STAGE_OPTS (OPT_HOSTNAME | OPT_ROOTFS) /* beyond --verbose */

/* clone() runs the child on a stack we hand it; 1 MiB is plenty for the
 * little the child does before exec replaces it. */
#define STACK_SIZE (1024 * 1024)
static char child_stack[STACK_SIZE] __attribute__((aligned(16)));

/* What the child needs to know, passed through clone()'s argument. */
struct child_config {
	struct options *opts;
	char rootfs[PATH_MAX]; /* the root filesystem, as an absolute path */
	sigset_t mask;	       /* the signal mask to restore before exec */
	int lifeline[2];       /* a pipe whose write end only the runtime keeps:
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

/* Stop mount events from crossing between the host and the container.
 * A new mount namespace starts as a copy of the host's, and on systemd
 * hosts every mount in it is shared with its twin on the host: a mount
 * made here would appear there too. Recursively private cuts that link. */
static void make_mounts_private(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die_errno("cannot make the container's mounts private");
	verbose("mounts made private");
}

/* Make rootfs the child's / and mount a procfs there. procfs shows the
 * PID namespace of the process that mounts it: ours, so ps inside lists
 * the container's processes only. */
static void setup_rootfs(const char *rootfs)
{
	if (chroot(rootfs) < 0)
		die_errno("cannot chroot to '%s'", rootfs);
	/* chroot() leaves the working directory outside the new root. */
	if (chdir("/") < 0)
		die_errno("cannot change directory to / in '%s'", rootfs);
	/* nosuid, nodev, noexec: what every runtime passes for /proc. */
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		die_errno("cannot mount proc on '%s/proc'", rootfs);
	verbose("root is now '%s', proc mounted", rootfs);
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
	make_mounts_private();
	setup_rootfs(cfg->rootfs);
	exec_command(cfg->opts->argv);
}

/*** parent ***/

/* Start the child; return its pid. */
static pid_t start_child(struct child_config *cfg)
{
	/* SIGCHLD: tell us when it ends, as fork() would.
	 * CLONE_NEWUTS: a new UTS namespace (hostname and domain name).
	 * CLONE_NEWPID: a new PID namespace; the child is its PID 1, and
	 * when it exits the kernel kills every process left in it.
	 * CLONE_NEWNS: a new mount namespace, a copy of ours; it goes away,
	 * with every mount in it, when its last process exits. */
	int flags = SIGCHLD | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS;

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

/* Check the root filesystem and store its absolute path in cfg. */
static void find_rootfs(struct child_config *cfg)
{
	char why[256];
	const char *dir = cfg->opts->rootfs;

	if (check_rootfs(dir, why, sizeof(why)) < 0)
		die("cannot use rootfs '%s': %s (make one: sudo "
		    "./rootfs-fetch.sh)",
		    dir, why);
	if (!realpath(dir, cfg->rootfs))
		die_errno("cannot resolve rootfs '%s'", dir);
}

/* Run the command in a child; return its exit status. */
static int run_container(struct options *opts)
{
	struct child_config cfg = {.opts = opts};

	find_rootfs(&cfg);

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
