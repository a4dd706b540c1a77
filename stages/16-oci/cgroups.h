/* Stage 16's cgroups, split off the spine: the container's group, as
 * stage 15's spine holds it (struct cgroup, which the spine's
 * setup_cgroup() fills for run), and the OCI container's groups made
 * from config.json: at linux.cgroupsPath, with its pids, memory and CPU
 * limits and its device rules (the devices controller on v1, a BPF
 * program on v2), and removed again at delete. create_container() in
 * main.c calls setup_oci_cgroup(); the commands' remove_oci_cgroups()
 * and make_dirs() are declared in commands.h, with what else they need.
 */
#ifndef MINIDOCKER_CGROUPS_H
#define MINIDOCKER_CGROUPS_H

#include <limits.h>
#include <stdbool.h>

#include "cgroup.h"
#include "cgroup_limits.h"
#include "oci.h"
#include "oci/spec.h"

/* The container's cgroup: a directory in the pids hierarchy. */
struct cgroup {
	struct cgroup_hierarchy h;
	char parent[PATH_MAX]; /* where every container's group is */
	char dir[PATH_MAX + 64];
	int fd;	      /* dir, open for clone3() to start the child in (v2) */
	bool limited; /* false: not root and no group delegated to us, so
		       * the container runs without a pids limit */
	struct limit_groups lim;     /* its memory and cpu groups */
	char devices[PATH_MAX + 64]; /* v1: its devices group (OCI's
				      * device rules); "": none */
};

/* The container's groups at linux.cgroupsPath (default minidocker/<id>)
 * with the spec's limits and device rules, into cg. Returns 0, or -1
 * after saying why (what it made is removed by remove_oci_cgroups()). */
int setup_oci_cgroup(struct cgroup *cg, const struct oci_spec *s,
		     const struct oci_lessons *l, const char *id);

#endif
