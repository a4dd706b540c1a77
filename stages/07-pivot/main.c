/*
 * Stage 7: pivot_root instead of chroot. The root filesystem becomes the
 * root of the container's mount namespace and the host's root is detached
 * from it, so there is no way back up: the chroot escape that works on
 * stage 6 finds nothing above /.
 *
 *     stage-7 run [--hostname NAME] [--rootfs DIR] [--pids-max N]
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
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"
#include "cgroup.h"
#include "error.h"
#include "file.h"
#include "process.h"
#include "rootfs.h"

/*** config ***/

#define STAGE_NAME "stage-7"
#define STAGE_OPTS (OPT_HOSTNAME | OPT_ROOTFS | OPT_PIDS_MAX)

/* The container's cgroup: a directory in the pids hierarchy. */
struct cgroup {
	struct cgroup_hierarchy h;
	char parent[PATH_MAX]; /* where every container's group is */
	char dir[PATH_MAX + 64];
	int fd; /* dir, open for clone3() to start the child in (v2) */
};

/* What the child needs to know. clone3() starts it on a copy of our
 * memory, as fork() does, so it reads the parent's copy as it was. */
struct child_config {
	struct options *opts;
	char rootfs[PATH_MAX];	 /* the root filesystem, as an absolute path */
	const struct cgroup *cg; /* the group to run in */
	sigset_t mask;		 /* the signal mask to restore before exec */
	int lifeline[2]; /* a pipe whose write end only the runtime keeps:
			  * its end of file tells the child the runtime died */
};

/*** child ***/

/* Be in the container's cgroup before anything else runs, so that the
 * command counts against its limit from its first instruction. On v2 we
 * were born in it (clone3()'s CLONE_INTO_CGROUP); on v1 we move
 * ourselves in by writing 0, "this thread", to its tasks file. */
static void join_cgroup(const struct cgroup *cg)
{
	char path[PATH_MAX + 96];

	if (cg->h.version == 2)
		return;
	snprintf(path, sizeof(path), "%s/tasks", cg->dir);
	if (write_file(path, "0") < 0)
		die_errno("cannot join cgroup '%s'", cg->dir);
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

/* Make rootfs the root of our mount namespace and detach the old one.
 * chroot() only changes where one process's path lookups start: the
 * host's root is still mounted above it, and a process allowed to chroot
 * can climb back out with "..". After pivot_root() and the detach below,
 * the host's root is no longer in this namespace at all. */
static void pivot_to(const char *rootfs)
{
	/* pivot_root() moves mounts, so the new root must be one: a bind
	 * mount of the directory onto itself makes it one. */
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		die_errno("cannot bind-mount '%s'", rootfs);
	if (chdir(rootfs) < 0)
		die_errno("cannot change directory to '%s'", rootfs);
	/* pivot_root(".", "."), as pivot_root(2) describes: the old root
	 * ends up mounted on top of the new one, at /, with no directory of
	 * its own to create (glibc has no wrapper, hence syscall()). */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_errno("cannot pivot_root to '%s'", rootfs);
	/* Detach the old root from on top; the new root is what remains. */
	if (umount2(".", MNT_DETACH) < 0)
		die_errno("cannot detach the host's root");
	if (chdir("/") < 0)
		die_errno("cannot change directory to / in '%s'", rootfs);
}

/* Make rootfs the child's / and mount a procfs there. procfs shows the
 * PID namespace of the process that mounts it: ours, so ps inside lists
 * the container's processes only. */
static void setup_rootfs(const char *rootfs)
{
	pivot_to(rootfs);
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
static noreturn void child_main(struct child_config *cfg)
{
	if (prepare_child(&cfg->mask, cfg->lifeline) < 0)
		die_errno("cannot prepare the child process");
	join_cgroup(cfg->cg);
	setup_uts(cfg->opts->hostname);
	make_mounts_private();
	setup_rootfs(cfg->rootfs);
	exec_command(cfg->opts->argv);
}

/*** parent ***/

/* Start the child in the container's cgroup; return its pid, or -1
 * after saying why. */
static pid_t start_child(struct child_config *cfg)
{
	/* CLONE_NEWUTS: a new UTS namespace (hostname and domain name).
	 * CLONE_NEWPID: a new PID namespace; the child is its PID 1, and
	 * when it exits the kernel kills every process left in it.
	 * CLONE_NEWNS: a new mount namespace, a copy of ours; it goes away,
	 * with every mount in it, when its last process exits. */
	int flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS;
	/* exit_signal SIGCHLD: tell us when it ends, as fork() would. */
	struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};

	/* cgroup v2 (Linux 5.7+): born in the container's group, where our
	 * moving it would make the kernel wait (see join_cgroup()). */
	if (cfg->cg->h.version == 2) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = cfg->cg->fd;
	}
	/* Said before clone3(): from then on the child may print too. */
	verbose("starting the child");
	/* With no stack of its own, the child goes on from here as after
	 * fork(), on a copy of ours, and never returns from child_main(). */
	pid_t pid = clone_fork(&args);
	if (pid == 0)
		child_main(cfg);
	if (pid < 0 && errno == EPERM)
		report("cannot create namespaces: %s (needs root: run it with "
		       "sudo)",
		       strerror(errno));
	else if (pid < 0)
		report_errno("cannot create the child process");
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

/* Make this container's cgroup, minidocker/minidocker-<our pid>, with at
 * most pids_max processes, and open it. Returns 0, or -1 after saying
 * why. */
static int setup_cgroup(struct cgroup *cg, long pids_max)
{
	char why[256], path[PATH_MAX + 96], max[32];

	if (cgroup_find_pids(&cg->h, why, sizeof(why)) < 0) {
		report("cannot limit processes: %s", why);
		return -1;
	}
	/* The plumbing: make minidocker/ and sweep out the groups of dead
	 * runtimes (common/cgroup.c). */
	if (cgroup_setup_parent(&cg->h, cg->parent, sizeof(cg->parent)) < 0) {
		report_errno("cannot set up cgroup '%s'%s", cg->parent,
			     errno == EACCES ? " (needs root)" : "");
		return -1;
	}
	snprintf(cg->dir, sizeof(cg->dir), "%s/" CGROUP_PREFIX "%d", cg->parent,
		 (int)getpid());
	if (mkdir(cg->dir, 0755) < 0) {
		report_errno("cannot create cgroup '%s'%s", cg->dir,
			     errno == EACCES ? " (needs root)" : "");
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
	cg->fd = open(cg->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		report_errno("cannot open cgroup '%s'", cg->dir);
		rmdir(cg->dir);
		return -1;
	}
	verbose("cgroup v%d '%s' allows %s processes", cg->h.version, cg->dir,
		max);
	return 0;
}

/* Kill what is left in the cgroup and remove it. Returns 0, or -1 after
 * saying why. */
static int remove_cgroup(struct cgroup *cg)
{
	close(cg->fd);
	/* Two seconds: the PID namespace is already emptied by now. */
	if (cgroup_remove(cg->dir, 2000) < 0) {
		report_errno("cannot remove cgroup '%s'", cg->dir);
		return -1;
	}
	verbose("removed cgroup '%s'", cg->dir);
	return 0;
}

/* Run the command in a child; return its exit status. The runtime owns
 * the cgroup from setup_cgroup() on: every way out removes it. */
static int run_container(struct options *opts)
{
	struct cgroup cg;
	struct child_config cfg = {.opts = opts, .cg = &cg};
	int status = EXIT_RUNTIME;

	find_rootfs(&cfg);

	/* Block the forwarded signals until the child's pid is known. */
	if (block_signals(&cfg.mask) < 0)
		die_errno("cannot block signals");
	if (pipe2(cfg.lifeline, O_CLOEXEC) < 0)
		die_errno("cannot make a pipe");
	/* The group comes first: the child is started in it. */
	if (setup_cgroup(&cg, opts->pids_max) < 0)
		return EXIT_RUNTIME;

	pid_t pid = start_child(&cfg);
	if (pid < 0)
		goto out;
	if (forward_signals(pid, &cfg.mask) < 0) {
		report_errno("cannot forward signals");
		kill(pid, SIGKILL);
		wait_child(pid);
		goto out;
	}

	status = wait_child(pid);
	if (status < 0) {
		report_errno("cannot wait for the child process");
		status = EXIT_RUNTIME;
		goto out;
	}
	verbose("child %d ended with status %d", (int)pid, status);
out:
	if (remove_cgroup(&cg) < 0)
		status = EXIT_RUNTIME;
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
