/* cgroup plumbing: find the pids controller, write its files, clean up. */
#ifndef MINIDOCKER_CGROUP_H
#define MINIDOCKER_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define CGROUP_PARENT "minidocker"  /* every container's group is below */
#define CGROUP_PREFIX "minidocker-" /* then minidocker-<runtime pid> */

/* The hierarchy that holds the pids controller. */
struct cgroup_hierarchy {
	int version;         /* 1 or 2 */
	char root[PATH_MAX]; /* /sys/fs/cgroup (v2) or /sys/fs/cgroup/pids */
};

/* Find the pids controller under $MINIDOCKER_CGROUP_ROOT, default
 * /sys/fs/cgroup: cgroup v2 when that is a cgroup2 mount listing pids in
 * cgroup.controllers, else v1 at <root>/pids. Returns 0, or -1 with the
 * reason in why. */
int cgroup_find_pids(struct cgroup_hierarchy *h, char *why, size_t why_len);

/* For a user without root: on cgroup v2, the group above our own when we
 * may write to it and it hands the pids controller down (a group that
 * systemd delegates to the user). Returns 0 with its path in dir, or -1
 * when there is none. */
int cgroup_find_delegated(const struct cgroup_hierarchy *h, char *dir,
			  size_t dir_len);

/* Make dir (mode 0755) unless it exists, and on cgroup v2 hand the pids
 * controller down to its children. Returns 0, or -1 with errno. */
int cgroup_make_parent(const struct cgroup_hierarchy *h, const char *dir);

/* The directory the containers' groups go below, ready for one more: for
 * root, <h->root>/minidocker, made when missing with cgroup_make_parent();
 * for a user without root, the group delegated to them (see
 * cgroup_find_delegated()). When other groups are there already, first
 * removes those whose runtime died without removing its own
 * (cgroup_reap_stale()). Returns 0 with the path in dir, or -1 with errno
 * (EACCES: not root and nothing delegated), dir then naming the directory
 * root would have used. */
int cgroup_setup_parent(const struct cgroup_hierarchy *h, char *dir,
			size_t dir_len);

/* Kill every process in the group at dir, wait up to timeout_ms for it to
 * empty, and remove it. Returns 0 (also when dir is already gone), or -1
 * with errno. */
int cgroup_remove(const char *dir, int timeout_ms);

/* Remove the groups minidocker-<pid> under parent whose runtime <pid> is
 * gone (killed before it could clean up). Returns how many it removed. */
int cgroup_reap_stale(const char *parent);

#endif
