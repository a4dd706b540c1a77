/*
 * Stage 12: a copy-on-write root. The root filesystem directory is no
 * longer written: it is the read-only lower layer of an overlay (or
 * several, colon-separated, top first), and each container writes into
 * a layer of its own in its state directory, removed when it ends. What
 * a container writes or deletes never reaches the image, nor another
 * container started from it.
 *
 *     stage-12 run [--hostname NAME] [--rootfs DIR[:DIR...]] [--pids-max N]
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
#include <linux/capability.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"
#include "caps.h"
#include "cgroup.h"
#include "cgroup_limits.h"
#include "error.h"
#include "file.h"
#include "process.h"
#include "rootfs.h"
#include "state.h"
#include "userns.h"

/*** config ***/

#define STAGE_NAME "stage-12"
#define STAGE_OPTS                                                      \
	(OPT_HOSTNAME | OPT_ROOTFS | OPT_PIDS_MAX | OPT_MEMORY | OPT_CPUS |   \
	 OPT_CAP_ADD | OPT_CAP_DROP)

/* The capabilities a container keeps: podman's default eleven. Docker's
 * fourteen add AUDIT_WRITE, MKNOD and NET_RAW; raw sockets let a
 * container forge packets on the host's network, so they are left out. */
#define CAP_BIT(c) (UINT64_C(1) << (c))
#define CAPS_DEFAULT                                                    \
	(CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) |                  \
	 CAP_BIT(CAP_FOWNER) | CAP_BIT(CAP_FSETID) | CAP_BIT(CAP_KILL) |   \
	 CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_SETFCAP) |            \
	 CAP_BIT(CAP_SETGID) | CAP_BIT(CAP_SETPCAP) | CAP_BIT(CAP_SETUID) | \
	 CAP_BIT(CAP_SYS_CHROOT))

/* The /proc and /sys paths a container must not write or read, in one
 * table: runc's defaults. A path this kernel lacks is skipped. */
enum wall { WALL_READONLY, WALL_MASKED };
static const struct {
	const char *path;
	enum wall wall;
} walls[] = {
	/* Read-only: readable, as programs expect, but not writable. */
	{"/proc/sys", WALL_READONLY},    /* the host's sysctls */
	{"/proc/sysrq-trigger", WALL_READONLY}, /* reboot, crash the host */
	{"/proc/irq", WALL_READONLY},    /* interrupt routing */
	{"/proc/bus", WALL_READONLY},    /* PCI and USB config space */
	{"/proc/fs", WALL_READONLY},     /* filesystem driver knobs */
	/* Masked: /dev/null over a file, an empty tmpfs over a directory. */
	{"/proc/kcore", WALL_MASKED},    /* the host's physical memory */
	{"/proc/keys", WALL_MASKED},     /* keys of every user on the host */
	{"/proc/timer_list", WALL_MASKED}, /* host timers, with addresses */
	{"/proc/timer_stats", WALL_MASKED}, /* the same, older kernels */
	{"/proc/latency_stats", WALL_MASKED}, /* host processes' stalls */
	{"/proc/sched_debug", WALL_MASKED}, /* every host task by name */
	{"/proc/acpi", WALL_MASKED},     /* firmware tables and knobs */
	{"/proc/scsi", WALL_MASKED},     /* commands to the host's disks */
	{"/sys/firmware", WALL_MASKED},  /* firmware tables, EFI variables */
};

/* The device nodes a container gets, bind-mounted from the host: in a
 * user namespace mknod() is not allowed, and a tmpfs mounted there
 * ignores device nodes anyway (nodev). */
static const char *const devices[] = {"null", "zero", "full", "random",
				      "urandom", "tty"};

/* One system call the seccomp filter refuses with EPERM, and why. With
 * nargs 1, only when its argument arg.arg matches arg. */
struct denied_call {
	const char *name;
	unsigned nargs;
	struct scmp_arg_cmp arg;
	const char *why;
};

/* A flag set in argument n: (arg & flag) == flag. */
#define ARG_HAS(n, flag)                                                \
	1, {.arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = (flag),       \
	    .datum_b = (flag)}
/* Argument n equal to value. */
#define ARG_IS(n, value) 1, {.arg = (n), .op = SCMP_CMP_EQ, .datum_a = (value)}

/* The deny-list, as contained.c keeps one: everything else is allowed. */
static const struct denied_call denied_calls[] = {
	{"init_module", 0, {0}, "load code into the host's kernel"},
	{"finit_module", 0, {0}, "the same, from a file"},
	{"delete_module", 0, {0}, "unload the host's drivers"},
	{"kexec_load", 0, {0}, "boot another kernel in place of the host's"},
	{"kexec_file_load", 0, {0}, "the same, from a file"},
	{"bpf", 0, {0}, "programs run in the kernel; a trove of exploits"},
	{"perf_event_open", 0, {0}, "reads the host's kernel and processes"},
	{"userfaultfd", 0, {0}, "lets an exploit pause the kernel at will"},
	{"add_key", 0, {0}, "the keyrings are not namespaced"},
	{"request_key", 0, {0}, "the same"},
	{"keyctl", 0, {0}, "the same"},
	{"open_by_handle_at", 0, {0}, "opens any host file by handle "
				      "(the 2014 shocker escape)"},
	{"name_to_handle_at", 0, {0}, "finds those handles"},
	{"unshare", ARG_HAS(0, CLONE_NEWUSER),
	 "a new user namespace gives back every capability"},
	{"clone", ARG_HAS(0, CLONE_NEWUSER), "the same, at clone time"},
	{"setns", 0, {0}, "joins another namespace"},
	{"swapon", 0, {0}, "the host's swap"},
	{"swapoff", 0, {0}, "the same"},
	{"reboot", 0, {0}, "reboots the host, outside a PID namespace"},
	{"acct", 0, {0}, "process accounting is not namespaced"},
	{"settimeofday", 0, {0}, "the clock is not namespaced"},
	{"clock_settime", 0, {0}, "the same"},
	{"clock_adjtime", 0, {0}, "the same"},
	{"adjtimex", 0, {0}, "the same"},
	{"quotactl", 0, {0}, "the host's disk quotas"},
	{"lookup_dcookie", 0, {0}, "reads host paths for profilers"},
	{"ioctl", ARG_IS(1, TIOCSTI),
	 "types into the terminal the container shares with its caller"},
};

/* The container's cgroup: a directory in the pids hierarchy. */
struct cgroup {
	struct cgroup_hierarchy h;
	char parent[PATH_MAX]; /* where every container's group is */
	char dir[PATH_MAX + 64];
	int fd; /* dir, open for clone3() to start the child in (v2) */
	bool limited; /* false: not root and no group delegated to us, so
		       * the container runs without a pids limit */
	struct limit_groups lim; /* its memory and cpu groups */
};

/* The container's own writable layer, in its state directory: upper
 * takes every write, work is overlayfs's scratch space (same filesystem
 * as upper), merged is where the child mounts the overlay and enters. */
struct layer {
	struct state st; /* the directory, held while the runtime lives */
	char upper[PATH_MAX], work[PATH_MAX], merged[PATH_MAX];
};

/* What the child needs to know. clone3() starts it on a copy of our
 * memory, as fork() does, so it reads the parent's copy as it was. */
struct child_config {
	struct options *opts;
	char rootfs[PATH_MAX]; /* the root filesystem's layers, absolute,
				* top first, joined by ':' */
	const struct layer *layer; /* the container's writable layer */
	const struct cgroup *cg; /* the group to run in */
	int sync[2]; /* the parent writes a byte once it has mapped the
		      * child's users; end of file means give up */
	sigset_t mask; /* the signal mask to restore before exec */
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

/* On v1, join the container's memory and cpu groups too, as
 * join_cgroup() joins its pids group; on v2 that group carries them. */
static void join_limits(const struct cgroup *cg)
{
	if (limits_join_self(&cg->lim) < 0)
		die_errno("cannot join the container's memory and cpu cgroups");
}

/* Enter a new cgroup namespace, now that we are in the container's
 * groups: it shows our groups as its root, so /proc/self/cgroup reads
 * "/" and the host's group paths stay out of sight. Made at clone time,
 * before join_cgroup(), its root would be the runtime's group instead. */
static void enter_cgroup_ns(void)
{
	if (unshare(CLONE_NEWCGROUP) < 0)
		die_errno("cannot create a cgroup namespace");
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

/* Mount the root filesystem read-only below the container's own layer:
 * an overlay whose lower layers are the image, never written, and whose
 * upper layer takes every change. A deleted image file becomes a
 * whiteout in upper, a 0/0 character device; a directory made anew over
 * one of the image's is marked opaque with an xattr. */
static void setup_overlay(const char *lowers, const struct layer *layer)
{
	char options[3 * PATH_MAX + 256];

	/* userxattr: we are root in a user namespace only, so overlayfs
	 * keeps its marks in user.overlay.* xattrs: trusted.* ones need
	 * root in the host's. */
	snprintf(options, sizeof(options),
		 "lowerdir=%s,upperdir=%s,workdir=%s,userxattr", lowers,
		 layer->upper, layer->work);
	if (mount("overlay", layer->merged, "overlay", 0, options) < 0) {
		if (errno == EPERM)
			die_errno("cannot mount overlay on '%s' (overlayfs "
				  "in a user namespace needs Linux 5.11 or "
				  "later)", layer->merged);
		die_errno("cannot mount overlay on '%s'", layer->merged);
	}
	verbose("overlay of '%s' mounted on '%s'", lowers, layer->merged);
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

/* Make rootfs/dev a small tmpfs holding only what programs expect: the
 * harmless devices, a devpts of its own for terminals, /dev/shm, and the
 * links to /proc/self/fd. Before pivot_to(), while the host's /dev is
 * there to bind from. */
static void setup_dev(const char *rootfs)
{
	char dev[PATH_MAX + 8], path[PATH_MAX + 32], from[32];
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"},	{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
		{"pts/ptmx", "ptmx"},
	};

	snprintf(dev, sizeof(dev), "%s/dev", rootfs);
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME,
		  "mode=755,size=64k") < 0)
		die_errno("cannot mount a tmpfs on '%s'", dev);
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, devices[i]);
		snprintf(from, sizeof(from), "/dev/%s", devices[i]);
		/* A bind mount needs something to mount on: an empty file. */
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0 || close(fd) < 0)
			die_errno("cannot create '%s'", path);
		if (mount(from, path, NULL, MS_BIND, NULL) < 0)
			die_errno("cannot bind-mount '%s' on '%s'", from, path);
	}
	/* newinstance: its own set of ptys, not the host's; ptmxmode: its
	 * ptmx opens for everyone, as /dev/ptmx on a host does. */
	snprintf(path, sizeof(path), "%s/pts", dev);
	if (mkdir(path, 0755) < 0 ||
	    mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		die_errno("cannot mount a devpts on '%s'", path);
	snprintf(path, sizeof(path), "%s/shm", dev);
	if (mkdir(path, 01777) < 0 ||
	    mount("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=1777,size=64m") < 0)
		die_errno("cannot mount a tmpfs on '%s'", path);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, links[i][1]);
		if (symlink(links[i][0], path) < 0)
			die_errno("cannot create the link '%s'", path);
	}
}

/* Bind the host's /sys, with every mount below it, on rootfs/sys, read
 * only. A fresh sysfs is refused to us: it would show the network
 * devices of a network namespace we do not own (the host's). */
static void setup_sys(const char *rootfs)
{
	char sys[PATH_MAX + 8];
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

	snprintf(sys, sizeof(sys), "%s/sys", rootfs);
	if (mount("/sys", sys, NULL, MS_BIND | MS_REC, NULL) < 0)
		die_errno("cannot bind-mount /sys on '%s'", sys);
	/* Read-only, mounts below included, in one call (Linux 5.12). */
	if (mount_setattr(AT_FDCWD, sys, AT_RECURSIVE, &attr,
			  sizeof(attr)) < 0)
		die_errno("cannot make '%s' read-only", sys);
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
	setup_dev(rootfs);
	setup_sys(rootfs);
	pivot_to(rootfs);
	verbose("root is now '%s', proc mounted", rootfs);
}

/* Remount the bind mount at path read-only. Its other flags must stay:
 * in a user namespace the kernel refuses to drop the nosuid, nodev,
 * noexec and atime flags a mount was given outside (they are locked). */
static int remount_readonly(const char *path)
{
	struct statvfs st;
	static const struct {
		unsigned long st, ms;
	} keep[] = {{ST_NOSUID, MS_NOSUID},	  {ST_NODEV, MS_NODEV},
		    {ST_NOEXEC, MS_NOEXEC},	  {ST_NOATIME, MS_NOATIME},
		    {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}};
	unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;

	if (statvfs(path, &st) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (st.f_flag & keep[i].st)
			flags |= keep[i].ms;
	return mount(NULL, path, NULL, flags, NULL);
}

/* Put up the walls of the table above, in our /proc and /sys: bind each
 * read-only path onto itself and remount it read-only; mount /dev/null
 * over each masked file, an empty read-only tmpfs over each directory. */
static void setup_walls(void)
{
	struct stat st;

	for (size_t i = 0; i < sizeof(walls) / sizeof(walls[0]); i++) {
		const char *path = walls[i].path;
		int r;
		if (stat(path, &st) < 0) {
			if (errno == ENOENT)
				continue; /* not on this kernel */
			die_errno("cannot look at '%s'", path);
		}
		if (walls[i].wall == WALL_READONLY)
			r = mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0
				    ? -1
				    : remount_readonly(path);
		else if (S_ISDIR(st.st_mode))
			r = mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID |
					  MS_NODEV | MS_NOEXEC, "size=0");
		else
			r = mount("/dev/null", path, NULL, MS_BIND, NULL);
		if (r < 0)
			die_errno("cannot wall off '%s'", path);
	}
	verbose("/proc and /sys walled off");
}

/* Keep only the capabilities in caps, in every set: bounding (what any
 * later exec can have), ambient and inheritable (what an exec passes on:
 * none), permitted and effective (what we have now). */
static void drop_capabilities(uint64_t caps)
{
	struct __user_cap_header_struct head = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};

	/* The bounding set, capability by capability up to the last this
	 * kernel knows (PR_CAPBSET_READ fails past it). */
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (caps & CAP_BIT(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			die_errno("cannot drop %s from the bounding set",
				  cap_name(cap));
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die_errno("cannot clear the ambient capabilities");
	/* capset() takes 64 bits as two 32-bit words; inheritable stays 0. */
	for (int i = 0; i < 2; i++)
		data[i].permitted = data[i].effective =
			(uint32_t)(caps >> (32 * i));
	if (syscall(SYS_capset, &head, data) < 0)
		die_errno("cannot set the capabilities");
	verbose("capabilities cut to %#llx", (unsigned long long)caps);
}

/* The capabilities the container keeps: the default set, less what
 * --cap-drop names, plus what --cap-add names, less any this kernel
 * does not know (capset() would refuse them). */
static uint64_t container_caps(const struct options *opts)
{
	uint64_t known = 0;
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		known |= CAP_BIT(cap);
	return ((CAPS_DEFAULT & ~opts->cap_drop) | opts->cap_add) & known;
}

/* Let no exec give the command more privilege than it has now: a setuid
 * file runs with the caller's ids, file capabilities are not added. An
 * unprivileged process may then load a seccomp filter, too. */
static void set_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno("cannot set no_new_privs");
}

/* Load the seccomp filter: every call in denied_calls fails with EPERM,
 * the rest run. Last before exec, since it binds us too. */
static void install_seccomp(void)
{
	/* Calls of another architecture (32-bit int 0x80 on x86-64) would
	 * pass under other numbers: libseccomp kills those by default. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		die("cannot create a seccomp filter");
	/* no_new_privs is set_no_new_privs()' lesson, not libseccomp's. */
	int err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t i = 0; !err && i < sizeof(denied_calls) /
					       sizeof(denied_calls[0]); i++) {
		const struct denied_call *d = &denied_calls[i];
		int nr = seccomp_syscall_resolve_name(d->name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a call on this architecture */
		err = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr,
					     d->nargs, &d->arg);
	}
	/* clone3() passes its flags in memory, where a filter cannot look:
	 * ENOSYS, as docker does, makes libc fall back to clone(). */
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				       SCMP_SYS(clone3), 0);
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	if (err) {
		errno = -err;
		die_errno("cannot load the seccomp filter");
	}
	verbose("seccomp filter loaded");
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
	join_limits(cfg->cg);
	enter_cgroup_ns();
	setup_uts(cfg->opts->hostname);
	make_mounts_private();
	setup_overlay(cfg->rootfs, cfg->layer);
	setup_rootfs(cfg->layer->merged);
	setup_walls();
	drop_capabilities(container_caps(cfg->opts));
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
	 * and none outside, even as "root".
	 * CLONE_NEWIPC: its own SysV message queues, semaphores and shared
	 * memory, and POSIX message queues; the host's are out of reach. */
	int flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS |
		    CLONE_NEWUSER | CLONE_NEWIPC;
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

/* Check the root filesystem's layers (colon-separated, top first; the
 * last is the image, with its /proc) and store their absolute paths,
 * joined the same way, in cfg. */
static void find_rootfs(struct child_config *cfg)
{
	char why[256], list[PATH_MAX], path[PATH_MAX];
	size_t used = 0;

	snprintf(list, sizeof(list), "%s", cfg->opts->rootfs);
	for (char *rest = list, *dir; (dir = strsep(&rest, ":"));) {
		struct stat st;
		if (!rest && check_rootfs(dir, why, sizeof(why)) < 0)
			die("cannot use rootfs '%s': %s (make one: sudo "
			    "./rootfs-fetch.sh)", dir, why);
		if (rest && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
			die("cannot use layer '%s' of rootfs '%s': %s", dir,
			    cfg->opts->rootfs, *dir ? "not a directory"
						    : "it is empty");
		if (!realpath(dir, path))
			die_errno("cannot resolve rootfs '%s'", dir);
		/* overlayfs splits its options at ',' and layers at ':'. */
		if (strpbrk(path, ",:"))
			die("cannot use rootfs '%s': overlayfs cannot take a "
			    "path with ',' or ':'", path);
		int n = snprintf(cfg->rootfs + used, sizeof(cfg->rootfs) - used,
				 "%s%s", used ? ":" : "", path);
		if (n < 0 || (size_t)n >= sizeof(cfg->rootfs) - used)
			die("cannot use rootfs '%s': too many layers",
			    cfg->opts->rootfs);
		used += n;
	}
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
	snprintf(cg->dir, sizeof(cg->dir), "%s/" CGROUP_PREFIX "%d",
		 cg->parent, (int)getpid());
	if (mkdir(cg->dir, 0755) < 0) {
		report_errno("cannot create cgroup '%s'", cg->dir);
		return -1;
	}
	/* The seed also wrote notify_on_release: on v1 it only runs a
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

/* Write value to the limit file dir/file. Returns 0, or -1 after saying
 * why. */
static int write_limit(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (write_file(path, value) < 0) {
		report_errno("cannot write %s to '%s'", value, path);
		return -1;
	}
	return 0;
}

/* Hold the group to bytes of memory. Past it the kernel reclaims what it
 * can, then its OOM killer kills a process of this group, never one
 * outside. Returns 0, or -1 after saying why. */
static int limit_memory(const struct limit_groups *lim, long bytes)
{
	const char *dir = lim->dir[LIMIT_MEMORY];
	char value[32], swap[PATH_MAX + 128];

	snprintf(value, sizeof(value), "%ld", bytes);
	if (lim->version == 2) {
		if (write_limit(dir, "memory.max", value) < 0)
			return -1;
		/* Else the group may go on in swap past memory.max: the
		 * limit would be on RAM only. No swap file, no swap. */
		snprintf(swap, sizeof(swap), "%s/memory.swap.max", dir);
		if (access(swap, F_OK) == 0 &&
		    write_limit(dir, "memory.swap.max", "0") < 0)
			return -1;
	} else {
		if (write_limit(dir, "memory.limit_in_bytes", value) < 0)
			return -1;
		/* v1 counts memory plus swap apart, and only where swap is
		 * accounted; it must not be below the limit above. */
		snprintf(swap, sizeof(swap), "%s/memory.memsw.limit_in_bytes",
			 dir);
		if (access(swap, F_OK) == 0 &&
		    write_limit(dir, "memory.memsw.limit_in_bytes", value) < 0)
			return -1;
	}
	return 0;
}

/* Hold the group to quota microseconds of CPU time in every period of
 * CPU_PERIOD: "--cpus 0.5" runs half of each 100 ms, then waits for
 * the next period (throttled), on however many CPUs. Returns 0, or -1
 * after saying why. */
static int limit_cpu(const struct limit_groups *lim, long quota)
{
	const char *dir = lim->dir[LIMIT_CPU];
	char value[64];

	if (lim->version == 2) {
		snprintf(value, sizeof(value), "%ld %ld", quota,
			 CPU_PERIOD);
		return write_limit(dir, "cpu.max", value);
	}
	snprintf(value, sizeof(value), "%ld", CPU_PERIOD);
	if (write_limit(dir, "cpu.cfs_period_us", value) < 0)
		return -1;
	snprintf(value, sizeof(value), "%ld", quota);
	return write_limit(dir, "cpu.cfs_quota_us", value);
}

/* Put the container's group under the memory and cpu controllers too (on
 * v1, a group in each of their hierarchies, made here) and write the
 * limits asked for. Without root and a group of our own, say once that
 * they are not applied. Returns 0, or -1 after saying why. */
static int setup_limits(struct cgroup *cg, const struct options *opts)
{
	char why[PATH_MAX + 256];
	bool asked = opts->memory > 0 || opts->cpu_quota > 0;
	const struct {
		bool asked;
		enum limit_ctrl ctrl;
	} need[] = {{opts->memory > 0, LIMIT_MEMORY},
		    {opts->cpu_quota > 0, LIMIT_CPU}};

	memset(&cg->lim, 0, sizeof(cg->lim));
	if (!cg->limited) {
		if (asked)
			report("limits not applied: not root, and no cgroup "
			       "v2 group is delegated to uid %d (run it with "
			       "sudo)", (int)getuid());
		return 0;
	}
	if (limits_make_groups(&cg->lim, &cg->h, cg->parent, cg->dir,
			       getpid(), why, sizeof(why)) < 0) {
		report_errno("%s", why);
		return -1;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!need[i].asked || cg->lim.have[need[i].ctrl])
			continue;
		limits_why_missing(&cg->lim, need[i].ctrl, why, sizeof(why));
		if (geteuid() == 0) {
			report("cannot limit %s: %s",
			       limits_name(need[i].ctrl), why);
			goto err;
		}
		/* Without root, run as stage 8 would, and say so once. */
		report("limits not applied: %s", why);
		break;
	}
	if (opts->memory > 0 && cg->lim.have[LIMIT_MEMORY] &&
	    limit_memory(&cg->lim, opts->memory) < 0)
		goto err;
	if (opts->cpu_quota > 0 && cg->lim.have[LIMIT_CPU] &&
	    limit_cpu(&cg->lim, opts->cpu_quota) < 0)
		goto err;
	verbose("memory limit %ld bytes, cpu quota %ld us per %ld us "
		"(0: none)", opts->memory, opts->cpu_quota, CPU_PERIOD);
	return 0;
err:
	limits_remove_groups(&cg->lim);
	return -1;
}

/* Say so when the kernel's OOM killer ended the container at its memory
 * limit: the one line the runtime prints of its own, since a bare 137
 * looks like any other SIGKILL. */
static void report_oom(struct cgroup *cg, const struct options *opts,
		       int status)
{
	long mib = opts->memory >> 20;
	if (opts->memory <= 0 || status != 128 + SIGKILL ||
	    limits_oom_kills(&cg->lim) <= 0)
		return;
	if (mib << 20 == opts->memory)
		report("container killed: out of memory at its limit "
		       "(--memory %ldm)", mib);
	else
		report("container killed: out of memory at its limit "
		       "(--memory %ld)", opts->memory);
}

/* Remove the container's v1 memory and cpu groups. Returns 0, or -1
 * after saying why. */
static int remove_limits(struct cgroup *cg)
{
	if (limits_remove_groups(&cg->lim) < 0) {
		report_errno("cannot remove the container's memory and cpu "
			     "cgroups");
		return -1;
	}
	return 0;
}

/* Make the container's state directory (common/state.c: it also
 * removes what killed runtimes left) with an empty upper and work
 * directory and the mount point merged. Returns 0, or -1 after saying
 * why, having removed what it made. */
static int setup_layer(struct layer *layer)
{
	char why[PATH_MAX + 256];

	if (state_create(&layer->st, why, sizeof(why)) < 0) {
		report("cannot make the container's state directory: %s", why);
		return -1;
	}
	/* The kernel refuses an upper layer on an overlay with a bare
	 * EINVAL, its reason only in the kernel log: say it here. */
	if (state_check_layer_fs(layer->st.run, why, sizeof(why)) < 0) {
		report("cannot keep the container's layer: %s", why);
		goto err;
	}
	snprintf(layer->upper, sizeof(layer->upper), "%s/upper", layer->st.dir);
	snprintf(layer->work, sizeof(layer->work), "%s/work", layer->st.dir);
	snprintf(layer->merged, sizeof(layer->merged), "%s/merged",
		 layer->st.dir);
	const char *dirs[] = {layer->upper, layer->work, layer->merged};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		/* 0755: upper becomes the container's /. */
		if (mkdir(dirs[i], 0755) < 0) {
			report_errno("cannot create '%s'", dirs[i]);
			goto err;
		}
	}
	verbose("container %s keeps its writes in '%s'", layer->st.id,
		layer->upper);
	return 0;
err:
	state_remove(&layer->st);
	return -1;
}

/* Remove the container's layer, everything it wrote, once it has ended.
 * Returns 0, or -1 after saying why. */
static int remove_layer(struct layer *layer)
{
	if (state_remove(&layer->st) < 0) {
		report_errno("cannot remove the container's layer");
		return -1;
	}
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
 * the cgroup from setup_cgroup() on: every way out removes it. */
static int run_container(struct options *opts)
{
	struct cgroup cg;
	struct layer layer = {.st.lock_fd = -1};
	struct child_config cfg = {.opts = opts, .cg = &cg, .layer = &layer};
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
	if (setup_limits(&cg, opts) < 0)
		goto out_cgroup;
	if (setup_layer(&layer) < 0)
		goto out;

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
	report_oom(&cg, opts, status);
out:
	if (remove_layer(&layer) < 0)
		status = EXIT_RUNTIME;
	if (remove_limits(&cg) < 0)
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
