/* vmcheck: the test VM's smoke check, run by its /init before the suites.
 *
 * Proves that the VM offers what stage 6 is tested against: /sys/fs/cgroup
 * is a cgroup2 mount, it lists the pids controller (and memory and cpu,
 * for stage 9), and the pids controller really stops a fork past pids.max. Exits 0 when all of that holds, 1 with
 * one line on stderr per failed check otherwise. Built static: the VM has
 * no C library.
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"

/*** config ***/

/* From linux/magic.h; spelled out so the check needs no kernel headers. */
#define VMCHECK_CGROUP2_MAGIC 0x63677270

#define VMCHECK_ROOT "/sys/fs/cgroup"
#define VMCHECK_GROUP VMCHECK_ROOT "/vmcheck"
/* The child counts itself, so a limit of 2 leaves room for one fork. */
#define VMCHECK_PIDS_MAX "2"
#define VMCHECK_FORKS 4

/*** helpers ***/

/* Print "vmcheck: MSG" to stderr and return -1, for `return fail(...)`. */
static int fail(const char *what, const char *subject)
{
	if (errno)
		fprintf(stderr, "vmcheck: %s '%s': %s\n", what, subject,
			strerror(errno));
	else
		fprintf(stderr, "vmcheck: %s '%s'\n", what, subject);
	return -1;
}

/* Read the file PATH into BUF (NUL-terminated); 0 on success, -1 with errno. */
static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	int saved = errno;
	close(fd);
	errno = saved;
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Return 1 when WORD is one of the space-separated words of LIST. */
static int has_word(const char *list, const char *word)
{
	size_t len = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += len) {
		int starts = p == list || p[-1] == ' ';
		int ends = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';
		if (starts && ends)
			return 1;
	}
	return 0;
}

/*** checks ***/

/* 0 when /sys/fs/cgroup is cgroup2 and lists pids, memory and cpu; -1
 * otherwise. */
static int check_hierarchy(void)
{
	struct statfs fs;
	char controllers[512];

	errno = 0;
	if (statfs(VMCHECK_ROOT, &fs) < 0)
		return fail("cannot statfs", VMCHECK_ROOT);
	if (fs.f_type != VMCHECK_CGROUP2_MAGIC) {
		errno = 0;
		return fail("not a cgroup2 mount:", VMCHECK_ROOT);
	}
	if (read_file(VMCHECK_ROOT "/cgroup.controllers", controllers,
		      sizeof(controllers)) < 0)
		return fail("cannot read", VMCHECK_ROOT "/cgroup.controllers");
	printf("vmcheck: cgroup2 controllers: %s", controllers);
	/* pids for stage 6 on, memory and cpu for stage 9's limits. */
	static const char *const needed[] = {"pids", "memory", "cpu"};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (has_word(controllers, needed[i]))
			continue;
		char what[64];
		snprintf(what, sizeof(what), "no %s controller in", needed[i]);
		errno = 0;
		return fail(what, VMCHECK_ROOT "/cgroup.controllers");
	}
	return 0;
}

/* In the child: join the group, then count how many of VMCHECK_FORKS
 * forks the kernel allows. The exit status is that count. */
static void count_forks(void)
{
	char pid[32];
	int forked = 0;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (write_file(VMCHECK_GROUP "/cgroup.procs", pid) < 0) {
		fail("cannot join", VMCHECK_GROUP);
		_exit(100);
	}
	for (int i = 0; i < VMCHECK_FORKS; i++) {
		pid_t p = fork();
		if (p == 0) {
			/* Stay alive so every fork counts against the limit. */
			pause();
			_exit(0);
		}
		if (p > 0)
			forked++;
	}
	/* The grandchildren die with the group when the parent kills it. */
	_exit(forked);
}

/* 0 when a group with pids.max=2 lets its first process fork once and no
 * more; -1 otherwise. Removes the group in every case. */
static int check_limit(void)
{
	int rc = -1;

	errno = 0;
	/* A controller works in a child group only once the parent enables
	 * it for its children (cgroup v2's "no internal process" rule does
	 * not apply to the root). */
	if (write_file(VMCHECK_ROOT "/cgroup.subtree_control", "+pids") < 0)
		return fail("cannot enable pids in",
			    VMCHECK_ROOT "/cgroup.subtree_control");
	if (mkdir(VMCHECK_GROUP, 0755) < 0 && errno != EEXIST)
		return fail("cannot create", VMCHECK_GROUP);
	if (write_file(VMCHECK_GROUP "/pids.max", VMCHECK_PIDS_MAX) < 0) {
		fail("cannot write", VMCHECK_GROUP "/pids.max");
		goto out_rmdir;
	}

	pid_t child = fork();
	if (child < 0) {
		fail("cannot fork", "vmcheck");
		goto out_rmdir;
	}
	if (child == 0)
		count_forks();

	int status;
	if (waitpid(child, &status, 0) < 0) {
		fail("cannot wait for", "vmcheck child");
		goto out_kill;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 100) {
		errno = 0;
		fail("child failed in", VMCHECK_GROUP);
		goto out_kill;
	}
	printf("vmcheck: pids.max=%s allowed %d of %d forks\n",
	       VMCHECK_PIDS_MAX, WEXITSTATUS(status), VMCHECK_FORKS);
	if (WEXITSTATUS(status) != 1) {
		errno = 0;
		fail("pids.max was not enforced in", VMCHECK_GROUP);
		goto out_kill;
	}
	rc = 0;

out_kill:
	/* cgroup.kill (5.14+) ends the paused grandchildren at once. */
	if (write_file(VMCHECK_GROUP "/cgroup.kill", "1") < 0)
		fail("cannot kill the processes of", VMCHECK_GROUP);
	/* rmdir fails with EBUSY until the killed processes have exited;
	 * they were reparented to us (the subreaper): reap them and poll,
	 * bounded to 10 s. */
	for (int i = 0; i < 1000; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (rmdir(VMCHECK_GROUP) == 0 || errno != EBUSY)
			return rc;
		usleep(10 * 1000);
	}
	fail("cannot remove", VMCHECK_GROUP);
	return -1;

out_rmdir:
	rmdir(VMCHECK_GROUP);
	return rc;
}

/*** main ***/

int main(void)
{
	/* The grandchildren outlive their parent; as subreaper we get them,
	 * not PID 1, so we can reap them before removing the group. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		fail("cannot become subreaper", "vmcheck");
		return 1;
	}
	/* The limit is only worth checking on a hierarchy that has pids. */
	int bad = check_hierarchy() < 0;
	if (!bad)
		bad = check_limit() < 0;
	printf("vmcheck: %s\n", bad ? "FAIL" : "ok");
	return bad ? 1 : 0;
}
