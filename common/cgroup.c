#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "clock.h"
#include "file.h"

#define CGROUP_SUPER_MAGIC 0x27e0eb   /* cgroup v1, from linux/magic.h */
#define CGROUP2_SUPER_MAGIC 0x63677270 /* cgroup v2 */

static bool is_fs(const char *path, long magic)
{
	struct statfs fs;
	return statfs(path, &fs) == 0 && (long)fs.f_type == magic;
}

int cgroup_find_pids(struct cgroup_hierarchy *h, char *why, size_t why_len)
{
	const char *base = getenv("MINIDOCKER_CGROUP_ROOT");
	char path[PATH_MAX], controllers[1024];

	if (!base || !*base)
		base = "/sys/fs/cgroup";
	if (is_fs(base, CGROUP2_SUPER_MAGIC)) {
		snprintf(path, sizeof(path), "%s/cgroup.controllers", base);
		if (read_small(path, controllers, sizeof(controllers)) == 0 &&
		    lists_word(controllers, "pids")) {
			h->version = 2;
			snprintf(h->root, sizeof(h->root), "%s", base);
			return 0;
		}
	}
	/* v1, alone or beside a v2 mount without pids (the hybrid layout). */
	snprintf(path, sizeof(path), "%s/pids", base);
	if (is_fs(path, CGROUP_SUPER_MAGIC)) {
		h->version = 1;
		snprintf(h->root, sizeof(h->root), "%s", path);
		return 0;
	}
	snprintf(why, why_len,
		 "no cgroup hierarchy with the pids controller under '%s'",
		 base);
	return -1;
}

int cgroup_find_delegated(const struct cgroup_hierarchy *h, char *dir,
			  size_t dir_len)
{
	char own[PATH_MAX], path[PATH_MAX + 32], list[1024];

	if (h->version != 2 || read_small("/proc/self/cgroup", own,
					  sizeof(own)) < 0)
		return -1;
	/* v2's line is "0::/path/of/our/group". */
	char *p = strstr(own, "0::/");
	if (!p)
		return -1;
	p += 3;
	p[strcspn(p, "\n")] = '\0';
	char *slash = strrchr(p, '/');
	*slash = '\0'; /* the group above ours ("" for the root) */
	if (snprintf(dir, dir_len, "%s%s", h->root, p) >= (int)dir_len)
		return -1;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	if (access(dir, W_OK) < 0 || access(path, W_OK) < 0 ||
	    read_small(path, list, sizeof(list)) < 0 ||
	    !lists_word(list, "pids"))
		return -1;
	return 0;
}

/* On v2, let the children of dir use the pids controller. */
static int enable_pids(const char *dir)
{
	char path[PATH_MAX], list[1024];
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	if (read_small(path, list, sizeof(list)) < 0)
		return -1;
	if (lists_word(list, "pids"))
		return 0;
	return write_file(path, "+pids");
}

int cgroup_make_parent(const struct cgroup_hierarchy *h, const char *dir)
{
	if (h->version == 2 && enable_pids(h->root) < 0)
		return -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	if (h->version == 2 && enable_pids(dir) < 0)
		return -1;
	return 0;
}

int cgroup_setup_parent(const struct cgroup_hierarchy *h, char *dir,
			size_t dir_len)
{
	struct stat st;

	if (geteuid() != 0 && cgroup_find_delegated(h, dir, dir_len) == 0)
		goto made;
	if (snprintf(dir, dir_len, "%s/" CGROUP_PARENT, h->root) >=
	    (int)dir_len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (geteuid() != 0) {
		errno = EACCES;
		return -1;
	}
	if (cgroup_make_parent(h, dir) < 0)
		return -1;
made:
	/* A cgroup directory's link count is 2 plus its subdirectories: one
	 * stat() says whether there is anything to sweep, so that a start
	 * on a clean machine does not read the directory at all. */
	if (stat(dir, &st) == 0 && st.st_nlink > 2)
		cgroup_reap_stale(dir);
	return 0;
}

/* SIGKILL every pid listed in dir/cgroup.procs; return how many. */
static int kill_listed(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int pid, n = 0;
	while (fscanf(f, "%d", &pid) == 1) {
		kill(pid, SIGKILL);
		n++;
	}
	fclose(f);
	return n;
}

int cgroup_remove(const char *dir, int timeout_ms)
{
	char kill_file[PATH_MAX];
	long end = now_ms() + timeout_ms;

	/* Mostly the group is empty already (its PID namespace died with
	 * its first process), and removing it is all there is to do. */
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	/* v2 (Linux 5.14+) kills the whole group at once; elsewhere kill
	 * what is listed until nothing is. */
	snprintf(kill_file, sizeof(kill_file), "%s/cgroup.kill", dir);
	write_file(kill_file, "1");
	for (;;) {
		kill_listed(dir);
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		/* EBUSY: processes are still leaving the group. */
		if (errno != EBUSY || now_ms() > end)
			return -1;
		usleep(1000);
	}
}

int cgroup_reap_stale(const char *parent)
{
	DIR *d = opendir(parent);
	if (!d)
		return 0;
	int removed = 0;
	struct dirent *e;
	size_t n = strlen(CGROUP_PREFIX);
	while ((e = readdir(d))) {
		char *end;
		if (strncmp(e->d_name, CGROUP_PREFIX, n) != 0)
			continue;
		long pid = strtol(e->d_name + n, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		/* Its runtime still runs (or the pid is another's now). */
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/%s", parent, e->d_name);
		if (cgroup_remove(dir, 1000) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
