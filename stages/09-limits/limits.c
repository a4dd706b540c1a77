/*
 * Stage 9's lesson: memory and CPU limits. The container's cgroup carries
 * the memory and cpu controllers too (on cgroup v1, a group in each of
 * their hierarchies): past its memory limit the kernel's OOM killer kills
 * inside the container, never outside, and its CPU time is held to a
 * quota per period. Finding and making the groups is common/'s
 * (cgroup_limits.c); writing the limits is the lesson.
 */

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "error.h"
#include "file.h"
#include "limits.h"

/* Put the container's group under the memory and cpu controllers too (on
 * v1, a group in each of their hierarchies, made here) and write the
 * limits asked for. Without root and a group of our own, say once that
 * they are not applied. Returns 0, or -1 after saying why. */
int setup_limits(struct limit_groups *lim, const struct cgroup_hierarchy *h,
		 const char *parent, const char *pids_dir,
		 const struct limits *want)
{
	char why[PATH_MAX + 256];
	bool asked = want->memory > 0 || want->cpu_quota > 0;
	const struct {
		bool asked;
		enum limit_ctrl ctrl;
	} need[] = {{want->memory > 0, LIMIT_MEMORY},
		    {want->cpu_quota > 0, LIMIT_CPU}};

	memset(lim, 0, sizeof(*lim));
	if (!pids_dir) {
		if (asked)
			report("limits not applied: not root, and no cgroup "
			       "v2 group is delegated to uid %d (run it with "
			       "sudo)", (int)getuid());
		return 0;
	}
	if (limits_make_groups(lim, h, parent, pids_dir, getpid(), why,
			       sizeof(why)) < 0) {
		report_errno("%s", why);
		return -1;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!need[i].asked || lim->have[need[i].ctrl])
			continue;
		limits_why_missing(lim, need[i].ctrl, why, sizeof(why));
		if (geteuid() == 0) {
			report("cannot limit %s: %s",
			       limits_name(need[i].ctrl), why);
			goto err;
		}
		/* Without root, run as stage 8 would, and say so once. */
		report("limits not applied: %s", why);
		break;
	}
	if (want->memory > 0 && lim->have[LIMIT_MEMORY] &&
	    limit_memory(lim, want->memory) < 0)
		goto err;
	if (want->cpu_quota > 0 && lim->have[LIMIT_CPU] &&
	    limit_cpu(lim, want->cpu_quota) < 0)
		goto err;
	verbose("memory limit %ld bytes, cpu quota %ld us per %ld us "
		"(0: none)", want->memory, want->cpu_quota, CPU_PERIOD);
	return 0;
err:
	limits_remove_groups(lim);
	return -1;
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
int limit_memory(const struct limit_groups *lim, long bytes)
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
int limit_cpu(const struct limit_groups *lim, long quota)
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

/* On v1, join the container's memory and cpu groups too, as
 * join_cgroup() joins its pids group; on v2 that group carries them. */
void join_limits(const struct limit_groups *lim)
{
	if (limits_join_self(lim) < 0)
		die_errno("cannot join the container's memory and cpu cgroups");
}

/* Say so when the kernel's OOM killer ended the container at its memory
 * limit: a bare 137 looks like any other SIGKILL. One line, printed
 * without --verbose, as errors are. */
void report_oom(const struct limit_groups *lim, const struct limits *want,
		int status)
{
	long mib = want->memory >> 20;
	if (want->memory <= 0 || status != 128 + SIGKILL ||
	    limits_oom_kills(lim) <= 0)
		return;
	if (mib << 20 == want->memory)
		report("container killed: out of memory at its limit "
		       "(--memory %ldm)", mib);
	else
		report("container killed: out of memory at its limit "
		       "(--memory %ld)", want->memory);
}

/* Remove the container's v1 memory and cpu groups. Returns 0, or -1
 * after saying why. */
int remove_limits(struct limit_groups *lim)
{
	if (limits_remove_groups(lim) < 0) {
		report_errno("cannot remove the container's memory and cpu "
			     "cgroups");
		return -1;
	}
	return 0;
}
