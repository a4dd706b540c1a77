/*
 * Stage 10: privileges. Root in the container still held every
 * capability, so it could mount, open raw sockets and more. Now the
 * command keeps only a default set of capabilities (podman's eleven),
 * can never gain more (no_new_privs: a setuid file gives nothing), and a
 * seccomp filter refuses, with EPERM, the system calls no container needs
 * (modules, kexec, bpf, keyrings, file handles, new user namespaces...).
 *
 *     stage-10 run [--hostname NAME] [--rootfs DIR] [--pids-max N]
 *                  [--memory SIZE] [--cpus N] [--cap-add CAP]
 *                  [--cap-drop CAP] <cmd> [args...]
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
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
#include "limits.h"
#include "privs.h"
#include "process.h"
#include "rootfs.h"
#include "userns.h"

/*** config ***/

#define STAGE_NAME "stage-10"
#define STAGE_OPTS                                                             \
	(OPT_HOSTNAME | OPT_ROOTFS | OPT_PIDS_MAX | OPT_MEMORY | OPT_CPUS |    \
	 OPT_CAP_ADD | OPT_CAP_DROP)

/* The container's cgroup: a directory in the pids hierarchy. */
struct cgroup {
	struct cgroup_hierarchy h;
	char parent[PATH_MAX]; /* where every container's group is */
	char dir[PATH_MAX + 64];
	int fd;	      /* dir, open for clone3() to start the child in (v2) */
	bool limited; /* false: not root and no group delegated to us, so
		       * the container runs without a pids limit */
	struct limit_groups lim; /* its memory and cpu groups */
};

/* What the child needs to know. clone3() starts it on a copy of our
 * memory, as fork() does, so it reads the parent's copy as it was. */
struct child_config {
	struct options *opts;
	char rootfs[PATH_MAX];	 /* the root filesystem, as an absolute path */
	const struct cgroup *cg; /* the group to run in */
	int sync[2];	 /* the parent writes a byte once it has mapped the
			  * child's users; end of file means give up */
	sigset_t mask;	 /* the signal mask to restore before exec */
	int lifeline[2]; /* a pipe whose write end only the runtime keeps:
			  * its end of file tells the child the runtime died */
};

/*** child ***/

/* Wait until the parent has mapped our users: until then we have no uid
 * and no capability in our namespaces. */
static void await_parent(int sync[2])
{
	char go;
	close(sync[1]);
	/* 0 bytes: the parent failed or died and closed its end. */
	if (read(sync[0], &go, 1) != 1)
		_exit(EXIT_RUNTIME);
	close(sync[0]);
}

/* Be in the container's cgroup before anything else runs, so that the
 * command counts against its limit from its first instruction. On v2 we
 * were born in it (clone3()'s CLONE_INTO_CGROUP); on v1 we move
 * ourselves in by writing 0, "this thread", to its tasks file. */
static void join_cgroup(const struct cgroup *cg)
{
	char path[PATH_MAX + 96];

	if (!cg->limited || cg->h.version == 2)
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
	char proc[PATH_MAX + 8];

	/* From a user namespace the kernel allows a new procfs only while a
	 * whole one is visible in the mount namespace: the host's /proc,
	 * which pivot_to() detaches. So mount ours first, below the root
	 * filesystem; pivot_to()'s recursive bind carries it along. */
	snprintf(proc, sizeof(proc), "%s/proc", rootfs);
	/* nosuid, nodev, noexec: what every runtime passes for /proc. */
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		die_errno("cannot mount proc on '%s'", proc);
	pivot_to(rootfs);
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
	await_parent(cfg->sync);
	join_cgroup(cfg->cg);
	join_limits(&cfg->cg->lim);
	setup_uts(cfg->opts->hostname);
	make_mounts_private();
	setup_rootfs(cfg->rootfs);
	drop_capabilities(
	    container_caps(cfg->opts->cap_add, cfg->opts->cap_drop));
	set_no_new_privs();
	install_seccomp();
	exec_command(cfg->opts->argv);
}

/*** parent ***/

/* Die naming the host setting that forbids us a user namespace, if one
 * does. Checked before clone3(): Ubuntu's AppArmor lets it make the
 * namespace, then keeps every capability from it, and each later step
 * would fail with a bare EPERM. */
static void check_userns_allowed(void)
{
	char why[256];
	if (userns_restriction("", getuid(), why, sizeof(why)))
		die("cannot create a user namespace: %s", why);
}

/* Start the child in the container's cgroup; return its pid, or -1
 * after saying why. */
static pid_t start_child(struct child_config *cfg)
{
	/* CLONE_NEWUTS: a new UTS namespace (hostname and domain name).
	 * CLONE_NEWPID: a new PID namespace; the child is its PID 1, and
	 * when it exits the kernel kills every process left in it.
	 * CLONE_NEWNS: a new mount namespace, a copy of ours; it goes away,
	 * with every mount in it, when its last process exits.
	 * CLONE_NEWUSER: a new user namespace, created first by the kernel,
	 * which owns the others: the child has every capability in them,
	 * and none outside, even as "root". */
	int flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUSER;
	/* exit_signal SIGCHLD: tell us when it ends, as fork() would. */
	struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};

	/* cgroup v2 (Linux 5.7+): born in the container's group, where our
	 * moving it would make the kernel wait (see join_cgroup()). */
	if (cfg->cg->limited && cfg->cg->h.version == 2) {
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
	if (pid < 0)
		report_errno("cannot create the child process");
	return pid;
}

/* Map root (0) in the child's user namespace to our own uid and gid. Only
 * a process outside the namespace may write the maps, once each. */
static int setup_userns(pid_t pid)
{
	char path[64], map[64];

	/* Without root, gid_map stays closed until setgroups() is given up:
	 * else the child could drop a group that denies us access. */
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	if (write_file(path, "deny") < 0) {
		report_errno("cannot write '%s'", path);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %d 1", (int)getuid());
	if (write_file(path, map) < 0) {
		report_errno("cannot write '%s' to '%s'", map, path);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %d 1", (int)getgid());
	if (write_file(path, map) < 0) {
		report_errno("cannot write '%s' to '%s'", map, path);
		return -1;
	}
	verbose("root in the container is uid %d, gid %d", (int)getuid(),
		(int)getgid());
	return 0;
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
 * most pids_max processes, and open it; without root, in a group
 * delegated to us, and when there is none, none (cg->limited false).
 * Returns 0, or -1 after saying why. */
static int setup_cgroup(struct cgroup *cg, long pids_max)
{
	char why[256], path[PATH_MAX + 96], max[32];
	bool root = geteuid() == 0;

	cg->limited = false;
	if (cgroup_find_pids(&cg->h, why, sizeof(why)) < 0) {
		if (!root)
			return 0;
		report("cannot limit processes: %s", why);
		return -1;
	}
	/* The plumbing: make minidocker/ (root) or find the group systemd
	 * delegates to us (not root, v2), and sweep out the groups of dead
	 * runtimes (common/cgroup.c). */
	if (cgroup_setup_parent(&cg->h, cg->parent, sizeof(cg->parent)) < 0) {
		if (!root && errno == EACCES)
			return 0;
		report_errno("cannot set up cgroup '%s'", cg->parent);
		return -1;
	}
	snprintf(cg->dir, sizeof(cg->dir), "%s/" CGROUP_PREFIX "%d", cg->parent,
		 (int)getpid());
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
	cg->fd = open(cg->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		report_errno("cannot open cgroup '%s'", cg->dir);
		rmdir(cg->dir);
		return -1;
	}
	cg->limited = true;
	verbose("cgroup v%d '%s' allows %s processes", cg->h.version, cg->dir,
		max);
	return 0;
}

/* Kill what is left in the cgroup and remove it. Returns 0, or -1 after
 * saying why. */
static int remove_cgroup(struct cgroup *cg)
{
	if (!cg->limited)
		return 0;
	close(cg->fd);
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

/* Run the command in a child; return its exit status. The runtime owns
 * the cgroup from setup_cgroup() on and the limit groups from
 * setup_limits() on: every way out removes them. */
static int run_container(struct options *opts)
{
	struct cgroup cg;
	struct child_config cfg = {.opts = opts, .cg = &cg};
	struct limits limits = {opts->memory, opts->cpu_quota};
	int status = EXIT_RUNTIME;

	find_rootfs(&cfg);
	check_userns_allowed();
	if (pipe2(cfg.sync, O_CLOEXEC) < 0)
		die_errno("cannot make a pipe");

	/* Block the forwarded signals until the child's pid is known. */
	if (block_signals(&cfg.mask) < 0)
		die_errno("cannot block signals");
	if (pipe2(cfg.lifeline, O_CLOEXEC) < 0)
		die_errno("cannot make a pipe");
	/* The group comes first: the child is started in it. */
	if (setup_cgroup(&cg, opts->pids_max) < 0)
		return EXIT_RUNTIME;
	if (!cg.limited)
		report("no pids limit: not root, and no cgroup v2 group is "
		       "delegated to uid %d (run it with sudo for a limit)",
		       (int)getuid());
	if (setup_limits(&cg.lim, &cg.h, cg.parent, cg.limited ? cg.dir : NULL,
			 &limits) < 0)
		goto out_cgroup;

	pid_t pid = start_child(&cfg);
	if (pid < 0)
		goto out;
	close(cfg.sync[0]);
	if (setup_userns(pid) < 0) {
		stop_child(&cfg, pid);
		goto out;
	}
	/* Let the child go on. A child that died meanwhile has closed the
	 * pipe: the write fails with EPIPE (the runtime ignores SIGPIPE). */
	if (write_all(cfg.sync[1], "1", 1) < 0) {
		report_errno("cannot start the child process");
		stop_child(&cfg, pid);
		goto out;
	}
	close(cfg.sync[1]);
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
	report_oom(&cg.lim, &limits, status);
out:
	if (remove_limits(&cg.lim) < 0)
		status = EXIT_RUNTIME;
out_cgroup:
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
