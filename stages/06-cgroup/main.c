/*
 * Stage 6: the container runs in a cgroup of its own with a limit on how
 * many processes it may have, so a fork bomb inside cannot exhaust the
 * host's pids. cgroup v2 where it has the pids controller, else v1.
 *
 *     stage-6 run [--hostname NAME] [--rootfs DIR] [--pids-max N]
 *                 <cmd> [args...]
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
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cgroup.h"
#include "error.h"
#include "file.h"
#include "process.h"
#include "rootfs.h"

/*** config ***/

#define STAGE_NAME "stage-6"
#define STAGE_OPTS (OPT_HOSTNAME | OPT_ROOTFS | OPT_PIDS_MAX)

/* clone() runs the child on a stack we hand it; 1 MiB is plenty for the
 * little the child does before exec replaces it. */
#define STACK_SIZE (1024 * 1024)
static char child_stack[STACK_SIZE] __attribute__((aligned(16)));

/* What the child needs to know, passed through clone()'s argument. */
struct child_config {
	struct options *opts;
	char rootfs[PATH_MAX]; /* the root filesystem, as an absolute path */
	int sync[2]; /* the parent writes a byte once the child is in its
		      * cgroup; end of file means give up */
	sigset_t mask; /* the signal mask to restore before exec */
};

/*** child ***/

/* Wait until the parent has put us into the container's cgroup, so that
 * everything from here on counts against its limits. */
static void await_cgroup(int sync[2])
{
	char go;
	close(sync[1]);
	/* 0 bytes: the parent failed or died and closed its end. */
	if (read(sync[0], &go, 1) != 1)
		_exit(EXIT_RUNTIME);
	close(sync[0]);
}

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

	if (prepare_child(&cfg->mask) < 0)
		die_errno("cannot prepare the child process");
	await_cgroup(cfg->sync);
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
		die("cannot create namespaces: %s (needs root: run it with sudo)",
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
		    "./rootfs-fetch.sh)", dir, why);
	if (!realpath(dir, cfg->rootfs))
		die_errno("cannot resolve rootfs '%s'", dir);
}

/* The container's cgroup: a directory in the pids hierarchy. */
struct cgroup {
	struct cgroup_hierarchy h;
	char parent[PATH_MAX + 16]; /* where every container's group is */
	char dir[PATH_MAX + 64];
};

/* Make this container's cgroup, minidocker/minidocker-<our pid>, with at
 * most pids_max processes. Returns 0, or -1 after saying why. */
static int setup_cgroup(struct cgroup *cg, long pids_max)
{
	char why[256], path[PATH_MAX + 96], max[32];

	if (cgroup_find_pids(&cg->h, why, sizeof(why)) < 0) {
		report("cannot limit processes: %s", why);
		return -1;
	}
	snprintf(cg->parent, sizeof(cg->parent), "%s/" CGROUP_PARENT,
		 cg->h.root);
	if (cgroup_make_parent(&cg->h, cg->parent) < 0) {
		report_errno("cannot set up cgroup '%s'%s", cg->parent,
			     errno == EACCES ? " (needs root)" : "");
		return -1;
	}
	snprintf(cg->dir, sizeof(cg->dir), "%s/" CGROUP_PREFIX "%d",
		 cg->parent, (int)getpid());
	if (mkdir(cg->dir, 0755) < 0) {
		report_errno("cannot create cgroup '%s'", cg->dir);
		return -1;
	}
	/* The Go post also wrote notify_on_release: on v1 it only runs a
	 * release agent, which nobody installs, and v2 has no such file.
	 * Nothing removes a group but rmdir, which remove_cgroup() does. */
	snprintf(path, sizeof(path), "%s/pids.max", cg->dir);
	snprintf(max, sizeof(max), "%ld", pids_max);
	if (write_file(path, max) < 0) {
		report_errno("cannot write %s to '%s'", max, path);
		rmdir(cg->dir);
		return -1;
	}
	verbose("cgroup v%d '%s' allows %s processes", cg->h.version, cg->dir,
		max);
	return 0;
}

/* Move the child into the container's cgroup; its children are born in
 * it. Returns 0, or -1 after saying why. */
static int join_cgroup(struct cgroup *cg, pid_t pid)
{
	char path[PATH_MAX + 96], text[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dir);
	snprintf(text, sizeof(text), "%d", (int)pid);
	if (write_file(path, text) < 0) {
		report_errno("cannot move process %d into '%s'", (int)pid,
			     cg->dir);
		return -1;
	}
	return 0;
}

/* Kill what is left in the cgroup and remove it. Returns 0, or -1 after
 * saying why. */
static int remove_cgroup(struct cgroup *cg)
{
	/* Two seconds: the PID namespace is already emptied by now. */
	if (cgroup_remove(cg->dir, 2000) < 0) {
		report_errno("cannot remove cgroup '%s'", cg->dir);
		return -1;
	}
	verbose("removed cgroup '%s'", cg->dir);
	return 0;
}

/* Stop a child that has not been let go: it sees its pipe close. */
static void stop_child(struct child_config *cfg, pid_t pid)
{
	close(cfg->sync[1]);
	kill(pid, SIGKILL);
	wait_child(pid);
}

/* Run the command in a child; return its exit status. */
static int run_container(struct options *opts)
{
	struct child_config cfg = {.opts = opts};
	struct cgroup cg;

	find_rootfs(&cfg);
	if (pipe2(cfg.sync, O_CLOEXEC) < 0)
		die_errno("cannot make a pipe");

	/* Block the forwarded signals until the child's pid is known. */
	if (block_signals(&cfg.mask) < 0)
		die_errno("cannot block signals");
	pid_t pid = start_child(&cfg);
	close(cfg.sync[0]);

	if (setup_cgroup(&cg, opts->pids_max) < 0)
		goto err_child;
	if (join_cgroup(&cg, pid) < 0)
		goto err_cgroup;
	/* Let the child go on: from here it runs under the limit. */
	if (write_all(cfg.sync[1], "1", 1) < 0) {
		report_errno("cannot start the child process");
		goto err_cgroup;
	}
	close(cfg.sync[1]);
	if (forward_signals(pid, &cfg.mask) < 0)
		die_errno("cannot forward signals");
	/* While the container starts: remove the groups of runtimes that
	 * were killed before they could remove their own. */
	int stale = cgroup_reap_stale(cg.parent);
	if (stale > 0)
		verbose("removed %d stale cgroups", stale);

	int status = wait_child(pid);
	if (status < 0)
		die_errno("cannot wait for the child process");
	verbose("child %d ended with status %d", (int)pid, status);
	if (remove_cgroup(&cg) < 0)
		return EXIT_RUNTIME;
	return status;

err_cgroup:
	stop_child(&cfg, pid);
	remove_cgroup(&cg);
	return EXIT_RUNTIME;
err_child:
	stop_child(&cfg, pid);
	return EXIT_RUNTIME;
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
