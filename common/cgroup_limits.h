/* cgroup plumbing for memory and CPU limits: where the memory, cpu and
 * cpuacct controllers are, the container's group in each, what the kernel
 * counted in them. Writing the limits is the stage's lesson, not this. */
#ifndef MINIDOCKER_CGROUP_LIMITS_H
#define MINIDOCKER_CGROUP_LIMITS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup.h"

enum limit_ctrl {
	LIMIT_MEMORY,  /* memory.max (v2), memory.limit_in_bytes (v1) */
	LIMIT_CPU,     /* cpu.max (v2), cpu.cfs_quota_us (v1) */
	LIMIT_CPUACCT, /* v1 only: cpuacct.usage, the group's CPU time */
	LIMIT_NCTRL,
};

/* The container's group for each controller. On cgroup v2 one group
 * carries them all: the pids group. On v1 each controller is a hierarchy
 * of its own, and the container has a group in each (cpu and cpuacct may
 * be mounted together: then it is one group). */
struct limit_groups {
	int version;                          /* of the pids hierarchy */
	bool have[LIMIT_NCTRL];               /* the controller is ours */
	bool made[LIMIT_NCTRL];               /* v1: we made dir[c] */
	char dir[LIMIT_NCTRL][PATH_MAX + 80]; /* the group carrying it */
	char parent[LIMIT_NCTRL][PATH_MAX + 48];  /* v1: minidocker/ above it */
};

/* The controller's name as the kernel spells it ("memory", ...). */
const char *limits_name(enum limit_ctrl c);

/* Find memory, cpu and cpuacct for the container whose pids group is
 * pids_dir, below parent, in the hierarchy h. On v2: pids_dir itself,
 * after handing the controllers down to it from h->root through parent.
 * On v1 (as root only): make <base>/<ctrl>/minidocker/minidocker-<pid>
 * in each hierarchy found, <base> being where h->root's pids is, after
 * removing the groups there whose runtime is dead (as the pids group's
 * parent does). A controller that is not there is left out of have[].
 * Returns 0, or -1 with errno and what failed in why (nothing made is
 * left). */
int limits_make_groups(struct limit_groups *g, const struct cgroup_hierarchy *h,
		       const char *parent, const char *pids_dir, pid_t pid,
		       char *why, size_t why_len);

/* Say in why why controller c is missing, and how to get it. */
void limits_why_missing(const struct limit_groups *g, enum limit_ctrl c,
			char *why, size_t why_len);

/* v1: move the calling process into each group made (write 0 to its
 * tasks), so it runs under them from its next instruction.
 * Returns 0, or -1 with errno. */
int limits_join_self(const struct limit_groups *g);

/* Remove the v1 groups made (killing what is left in them). Returns 0,
 * or -1 with errno. */
int limits_remove_groups(struct limit_groups *g);

/* How many processes the kernel's OOM killer killed in the container's
 * memory group (memory.events on v2, memory.oom_control on v1), or -1
 * when it cannot tell. */
long limits_oom_kills(const struct limit_groups *g);

/* The CPU time the container's group used, in microseconds (cpu.stat
 * usage_usec on v2, cpuacct.usage on v1), or -1. */
long long limits_cpu_usage_us(const struct limit_groups *g);

#endif
