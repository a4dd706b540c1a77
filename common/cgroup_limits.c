#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "file.h"
#include "cgroup_limits.h"

#define CGROUP_SUPER_MAGIC 0x27e0eb /* cgroup v1, from linux/magic.h */

static const char *const names[LIMIT_NCTRL] = {"memory", "cpu", "cpuacct"};

/* A file each v1 controller's groups have, to tell it is really there. */
static const char *const v1_marks[LIMIT_NCTRL] = {
	"memory.limit_in_bytes", "cpu.cfs_quota_us", "cpuacct.usage"};

const char *limits_name(enum limit_ctrl c)
{
	return names[c];
}

/* On v2, hand controller name down to the children of dir unless it is
 * already. Returns whether dir's children have it. */
static bool hand_down(const char *dir, const char *name)
{
	char path[PATH_MAX + 32], list[1024], plus[32];
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	if (read_small(path, list, sizeof(list)) == 0 && lists_word(list, name))
		return true;
	snprintf(plus, sizeof(plus), "+%s", name);
	return write_file(path, plus) == 0;
}

static int make_v2(struct limit_groups *g, const struct cgroup_hierarchy *h,
		   const char *parent, const char *pids_dir)
{
	char path[PATH_MAX + 32], list[1024];
	snprintf(path, sizeof(path), "%s/cgroup.controllers", parent);
	for (int c = LIMIT_MEMORY; c <= LIMIT_CPU; c++) {
		/* As root, from the root down; without root the delegated
		 * parent hands down what it was given, or nothing. */
		if (geteuid() == 0 && !hand_down(h->root, names[c]))
			continue;
		if (read_small(path, list, sizeof(list)) < 0 ||
		    !lists_word(list, names[c]) || !hand_down(parent, names[c]))
			continue;
		g->have[c] = true;
		snprintf(g->dir[c], sizeof(g->dir[c]), "%s", pids_dir);
	}
	return 0;
}

/* Make parent unless it exists, sweep out the groups of dead runtimes
 * in it, and make dir in it. Returns 0, or -1 with errno. */
static int make_group(const char *parent, const char *dir)
{
	struct stat st;
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return -1;
	/* A link for each group in it: only then is there any to sweep. */
	if (stat(parent, &st) == 0 && st.st_nlink > 2)
		cgroup_reap_stale(parent);
	return mkdir(dir, 0755);
}

static int make_v1(struct limit_groups *g, const char *base, pid_t pid,
		   char *why, size_t why_len)
{
	char real[LIMIT_NCTRL][PATH_MAX];
	for (int c = 0; c < LIMIT_NCTRL; c++) {
		char mount[PATH_MAX + 32], mark[PATH_MAX + 64];
		struct statfs fs;
		real[c][0] = '\0';
		snprintf(mount, sizeof(mount), "%s/%s", base, names[c]);
		snprintf(mark, sizeof(mark), "%s/%s", mount, v1_marks[c]);
		if (statfs(mount, &fs) < 0 || fs.f_type != CGROUP_SUPER_MAGIC ||
		    access(mark, F_OK) < 0 || !realpath(mount, real[c]))
			continue;
		g->have[c] = true;
		/* cpu and cpuacct mounted together ("cpu,cpuacct", with two
		 * symbolic links to it): the group is the same one. */
		int same = -1;
		for (int d = 0; d < c; d++)
			if (g->have[d] && !strcmp(real[d], real[c]))
				same = d;
		if (same >= 0) {
			strcpy(g->dir[c], g->dir[same]);
			strcpy(g->parent[c], g->parent[same]);
			continue;
		}
		snprintf(g->parent[c], sizeof(g->parent[c]), "%s/" CGROUP_PARENT,
			 mount);
		snprintf(g->dir[c], sizeof(g->dir[c]),
			 "%s/" CGROUP_PARENT "/" CGROUP_PREFIX "%d", mount,
			 (int)pid);
		if (make_group(g->parent[c], g->dir[c]) < 0) {
			int err = errno;
			snprintf(why, why_len, "cannot create cgroup '%s'",
				 g->dir[c]);
			limits_remove_groups(g);
			errno = err;
			return -1;
		}
		g->made[c] = true;
	}
	return 0;
}

int limits_make_groups(struct limit_groups *g, const struct cgroup_hierarchy *h,
		       const char *parent, const char *pids_dir, pid_t pid,
		       char *why, size_t why_len)
{
	memset(g, 0, sizeof(*g));
	g->version = h->version;
	if (h->version == 2)
		return make_v2(g, h, parent, pids_dir);
	if (geteuid() != 0)
		return 0;
	/* h->root is <base>/pids; the other controllers are beside it. */
	char base[PATH_MAX];
	snprintf(base, sizeof(base), "%s", h->root);
	char *slash = strrchr(base, '/');
	if (slash)
		*slash = '\0';
	return make_v1(g, base, pid, why, why_len);
}

void limits_why_missing(const struct limit_groups *g, enum limit_ctrl c,
			char *why, size_t why_len)
{
	const char *base = getenv("MINIDOCKER_CGROUP_ROOT");
	if (!base || !*base)
		base = "/sys/fs/cgroup";
	if (g->version == 2 && geteuid() != 0)
		snprintf(why, why_len,
			 "the %s controller is not delegated to uid %d "
			 "(ask systemd for it: Delegate=%s, or run it with "
			 "sudo)",
			 names[c], (int)getuid(), names[c]);
	else if (g->version == 2)
		snprintf(why, why_len,
			 "the %s controller is not available in '%s' (enable "
			 "it: echo +%s > %s/cgroup.subtree_control, after "
			 "unmounting any cgroup v1 hierarchy holding it)",
			 names[c], base, names[c], base);
	else if (geteuid() != 0)
		snprintf(why, why_len,
			 "not root, and cgroup v1 delegates nothing (run it "
			 "with sudo)");
	else
		snprintf(why, why_len,
			 "no cgroup v1 hierarchy with the %s controller at "
			 "'%s/%s' (mount one: mount -t cgroup -o %s cgroup "
			 "%s/%s)",
			 names[c], base, names[c], names[c], base, names[c]);
}

int limits_join_self(const struct limit_groups *g)
{
	char path[PATH_MAX + 96];
	for (int c = 0; c < LIMIT_NCTRL; c++) {
		if (!g->made[c])
			continue;
		/* tasks, not cgroup.procs: a thread moving itself skips the
		 * lock that waits for an RCU grace period (see stage 6).
		 * "0": the writer itself, whatever its pid is seen as. */
		snprintf(path, sizeof(path), "%s/tasks", g->dir[c]);
		if (write_file(path, "0") < 0)
			return -1;
	}
	return 0;
}

int limits_remove_groups(struct limit_groups *g)
{
	int ret = 0, err = 0;
	for (int c = 0; c < LIMIT_NCTRL; c++) {
		if (!g->made[c])
			continue;
		/* Two seconds, as for the pids group. */
		if (cgroup_remove(g->dir[c], 2000) < 0) {
			err = errno;
			ret = -1;
			continue;
		}
		g->made[c] = false;
	}
	errno = err;
	return ret;
}

long limits_oom_kills(const struct limit_groups *g)
{
	if (!g->have[LIMIT_MEMORY])
		return -1;
	/* v1 has counted kills in memory.oom_control since Linux 4.13. */
	return (long)read_key(g->dir[LIMIT_MEMORY],
			      g->version == 2 ? "memory.events"
					      : "memory.oom_control",
			      "oom_kill");
}

long long limits_cpu_usage_us(const struct limit_groups *g)
{
	if (g->version == 2)
		return g->have[LIMIT_CPU]
			       ? read_key(g->dir[LIMIT_CPU], "cpu.stat",
					  "usage_usec")
			       : -1;
	if (!g->have[LIMIT_CPUACCT])
		return -1;
	long long ns = read_key(g->dir[LIMIT_CPUACCT], "cpuacct.usage", NULL);
	return ns < 0 ? -1 : ns / 1000;
}
