/*
 * Stage 11's lesson: walls. /proc/sys and the kernel's other knobs are
 * read-only, /proc's windows on kernel memory, keys and timers are
 * masked, /sys is read-only, /dev is a small tmpfs of its own (with a
 * devpts of its own), and a cgroup namespace keeps the host's group paths
 * out of sight.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "error.h"
#include "util.h"
#include "walls.h"

/* The /proc and /sys paths a container must not write or read: the
 * defaults of runc and crun (`runc spec`, `crun spec`), whose masked list
 * also has /proc/asound. A path this kernel lacks is skipped. */
const struct wall WALLS_DEFAULT[] = {
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
	{"/proc/asound", WALL_MASKED},   /* the host's sound cards */
	{"/proc/scsi", WALL_MASKED},     /* commands to the host's disks */
	{"/sys/firmware", WALL_MASKED},  /* firmware tables, EFI variables */
};
const size_t WALLS_DEFAULT_LEN = ARRAY_SIZE(WALLS_DEFAULT);

/* The device nodes a container gets, bind-mounted from the host: in a
 * user namespace mknod() is not allowed, and a tmpfs mounted there
 * ignores device nodes anyway (nodev). */
static const char *const devices[] = {"null", "zero", "full", "random",
				      "urandom", "tty"};

/* Enter a new cgroup namespace, now that we are in the container's
 * groups: it shows our groups as its root, so /proc/self/cgroup reads
 * "/" and the host's group paths stay out of sight. Made at clone time,
 * before join_cgroup(), its root would be the runtime's group instead. */
void enter_cgroup_ns(void)
{
	if (unshare(CLONE_NEWCGROUP) < 0)
		die_errno("cannot create a cgroup namespace");
}

/* Make rootfs/dev a small tmpfs holding only what programs expect: the
 * harmless devices, a devpts of its own for terminals, /dev/shm, and the
 * links to /proc/self/fd. Before pivot_to(), while the host's /dev is
 * there to bind from. */
void setup_dev(const char *rootfs)
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
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
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
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, links[i][1]);
		if (symlink(links[i][0], path) < 0)
			die_errno("cannot create the link '%s'", path);
	}
}

/* Bind the host's /sys, with every mount below it, on rootfs/sys, read
 * only. A fresh sysfs is refused to us: it would show the network
 * devices of a network namespace we do not own (the host's). */
void setup_sys(const char *rootfs)
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

/* Put up the walls of a table such as WALLS_DEFAULT, in our /proc and /sys: bind each
 * read-only path onto itself and remount it read-only; mount /dev/null
 * over each masked file, an empty read-only tmpfs over each directory. */
void setup_walls(const struct wall *walls, size_t n)
{
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		const char *path = walls[i].path;
		int r;
		if (stat(path, &st) < 0) {
			if (errno == ENOENT)
				continue; /* not on this kernel */
			die_errno("cannot look at '%s'", path);
		}
		if (walls[i].kind == WALL_READONLY)
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
