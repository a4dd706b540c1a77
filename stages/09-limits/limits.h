/* Stage 9's lesson: hold a container to a memory limit and a CPU quota,
 * written into its cgroups (which common/cgroup_limits.c finds or makes),
 * and say so when the kernel's OOM killer ends it at its limit. */
#ifndef MINIDOCKER_LIMITS_H
#define MINIDOCKER_LIMITS_H

#include "cgroup.h"
#include "cgroup_limits.h"

/* What a container may use; 0: no limit. */
struct limits {
	long memory;    /* bytes */
	long cpu_quota; /* microseconds of CPU time per CPU_PERIOD */
};

/* Put the container's pids group at pids_dir (below parent, in the
 * hierarchy h; NULL: it has none) under the memory and cpu controllers
 * too, into lim, and write the limits in want. Without root and a group
 * of our own, say once that they are not applied. Returns 0, or -1 after
 * saying why, having removed what it made. */
int setup_limits(struct limit_groups *lim, const struct cgroup_hierarchy *h,
		 const char *parent, const char *pids_dir,
		 const struct limits *want);

/* Write bytes as the memory limit of lim's group. Returns 0, or -1 after
 * saying why. */
int limit_memory(const struct limit_groups *lim, long bytes);

/* Write quota as the CPU time lim's group may use per CPU_PERIOD.
 * Returns 0, or -1 after saying why. */
int limit_cpu(const struct limit_groups *lim, long quota);

/* In the child: join the v1 memory and cpu groups; dies on failure. */
void join_limits(const struct limit_groups *lim);

/* Say in one line when the OOM killer ended the container (status 137)
 * at its memory limit. */
void report_oom(const struct limit_groups *lim, const struct limits *want,
		int status);

/* Remove the v1 memory and cpu groups. Returns 0, or -1 after saying
 * why. */
int remove_limits(struct limit_groups *lim);

#endif
