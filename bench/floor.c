/*
 * The physical floor of stage 6: the same isolation, nothing else.
 *
 *     floor [--parent-moves] ROOTFS <cmd> [args...]
 *
 * New UTS, PID and mount namespaces, a pids cgroup with a limit of 20, a
 * private mount tree, a hostname, chroot, a fresh /proc, exec. No option
 * parsing, no signal forwarding, no messages beyond a one-line error. What
 * stage 6 costs above this program is what its readability costs.
 *
 * By default the child starts in the cgroup as stage 6's does: on cgroup
 * v2 clone3() puts it there (CLONE_INTO_CGROUP), on v1 it moves itself,
 * writing "0" to the group's tasks file; the kernel skips the global
 * threadgroup lock when a thread moves only itself, and with it the RCU
 * grace period (milliseconds) that taking that lock costs when it has not
 * been taken for a while. With --parent-moves the parent writes the
 * child's pid to cgroup.procs while the child waits on a pipe, as the
 * stages did before: that pays the grace period after a pause.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define FLOOR_PIDS_MAX	     "20"
#define FLOOR_HOSTNAME	     "container"
#define FLOOR_EXIT_FAILED    125
#define FLOOR_EXIT_NOT_FOUND 127

struct child_args {
	const char *rootfs;
	char **argv;
	const char *self_join; /* the tasks file to join, or NULL */
	int sync_read; /* the parent writes one byte once the child is in */
	int sync_write;
};

/* Print "floor: <what>: <errno text>" and exit with status. */
static _Noreturn void fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static _Noreturn void fail(int status, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	fputs("floor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	exit(status);
}

/* Write the string text to the file path; 0, or -1 with errno. */
static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}

static int cgroup_v2;

/* The directory whose children are pids cgroups: cgroup v2 when
 * /sys/fs/cgroup is cgroup2 and offers pids, else the v1 hierarchy. */
static const char *pids_root(void)
{
	struct statfs st;
	char buf[256];

	if (statfs("/sys/fs/cgroup", &st) == 0 &&
	    st.f_type == CGROUP2_SUPER_MAGIC) {
		int fd = open("/sys/fs/cgroup/cgroup.controllers",
			      O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, "pids")) {
			cgroup_v2 = 1;
			return "/sys/fs/cgroup";
		}
	}
	return "/sys/fs/cgroup/pids";
}

/* In the new namespaces: wait for the cgroup, isolate, become argv. */
static _Noreturn void child_main(struct child_args *a)
{
	char byte;

	if (a->self_join) {
		/* "0" is the writer itself, whatever its pid namespace. */
		if (write_text(a->self_join, "0") < 0)
			fail(FLOOR_EXIT_FAILED, "cannot join '%s'",
			     a->self_join);
	} else if (a->sync_read >= 0) {
		/* Close our copy of the write end, so that a dead parent
		 * reads as end of file instead of blocking us for ever. */
		close(a->sync_write);
		if (read(a->sync_read, &byte, 1) != 1)
			fail(FLOOR_EXIT_FAILED,
			     "parent did not place us in a cgroup");
	}

	/* The new mount namespace still shares propagation with the host
	 * when / is shared; make it private before mounting anything. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail(FLOOR_EXIT_FAILED, "cannot make / private");
	if (sethostname(FLOOR_HOSTNAME, strlen(FLOOR_HOSTNAME)) < 0)
		fail(FLOOR_EXIT_FAILED, "cannot set the hostname");
	if (chroot(a->rootfs) < 0)
		fail(FLOOR_EXIT_FAILED, "cannot chroot to '%s'", a->rootfs);
	if (chdir("/") < 0)
		fail(FLOOR_EXIT_FAILED, "cannot change to /");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		fail(FLOOR_EXIT_FAILED, "cannot mount /proc");
	execvp(a->argv[0], a->argv);
	fail(errno == ENOENT ? FLOOR_EXIT_NOT_FOUND : FLOOR_EXIT_FAILED,
	     "cannot run '%s'", a->argv[0]);
}

/* Create the group with its limit; exit on failure. */
static void make_group(const char *group)
{
	char file[160];

	if (mkdir(group, 0755) < 0)
		fail(FLOOR_EXIT_FAILED, "cannot create '%s'", group);
	snprintf(file, sizeof(file), "%s/pids.max", group);
	if (write_text(file, FLOOR_PIDS_MAX) < 0) {
		rmdir(group);
		fail(FLOOR_EXIT_FAILED, "cannot write '%s'", file);
	}
}

int main(int argc, char **argv)
{
	char group[128], procs[160], tasks[160], pid_text[32];
	int sync[2] = {-1, -1}, status;
	int parent_moves = argc > 1 && strcmp(argv[1], "--parent-moves") == 0;
	int self_join = !parent_moves;

	argv += parent_moves;
	argc -= parent_moves;
	if (argc < 3) {
		fputs("floor: usage: floor [--parent-moves] ROOTFS <cmd> "
		      "[args...]\n",
		      stderr);
		return FLOOR_EXIT_FAILED;
	}
	if (parent_moves && pipe2(sync, O_CLOEXEC) < 0)
		fail(FLOOR_EXIT_FAILED, "cannot make a pipe");

	/* Named after our pid, so that floors can run side by side. Made
	 * before the child exists, so that it can join on its own. */
	snprintf(group, sizeof(group), "%s/floor-%d", pids_root(),
		 (int)getpid());
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", group);
	snprintf(tasks, sizeof(tasks), "%s/tasks", group);
	make_group(group);

	struct child_args args = {argv[1], argv + 2,
				  self_join && !cgroup_v2 ? tasks : NULL,
				  parent_moves ? sync[0] : -1,
				  parent_moves ? sync[1] : -1};
	struct clone_args ca = {
		.flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS,
		.exit_signal = SIGCHLD,
	};
	int group_fd = -1;
	if (self_join && cgroup_v2) {
		group_fd = open(group, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (group_fd < 0) {
			rmdir(group);
			fail(FLOOR_EXIT_FAILED, "cannot open '%s'", group);
		}
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = group_fd;
	}
	/* No stack: the child goes on from here, as after fork(). */
	pid_t pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		child_main(&args);
	if (pid < 0) {
		rmdir(group);
		fail(FLOOR_EXIT_FAILED, "cannot clone");
	}
	if (parent_moves)
		close(sync[0]);

	/* The child waits on the pipe until it is inside, so that its
	 * command's first instruction already runs under the limit. */
	if (!self_join) {
		snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
		if (write_text(procs, pid_text) < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			rmdir(group);
			fail(FLOOR_EXIT_FAILED, "cannot write '%s'", procs);
		}
		if (write(sync[1], "x", 1) != 1)
			fail(FLOOR_EXIT_FAILED, "cannot wake the child");
	}
	if (parent_moves)
		close(sync[1]);

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail(FLOOR_EXIT_FAILED, "cannot wait for the child");
	/* The group can go once its last process is gone; the child was
	 * PID 1 of its namespace, so its end took every descendant along. */
	if (rmdir(group) < 0)
		fail(FLOOR_EXIT_FAILED, "cannot remove '%s'", group);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
