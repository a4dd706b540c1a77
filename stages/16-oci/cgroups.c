/*
 * Stage 16's cgroups, split off the spine: the OCI container's groups
 * made from config.json (linux.cgroupsPath, the pids, memory and CPU
 * limits, the device rules), and removed at delete. create_container()
 * in main.c calls setup_oci_cgroup(), the commands remove_oci_cgroups();
 * the limits are written through stage 9's lesson (limits.c).
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroups.h"
#include "commands.h"
#include "containers.h"
#include "devices_bpf.h"
#include "error.h"
#include "exec.h"
#include "file.h"
#include "limits.h"
#include "oci.h"
#include "oci/spec.h"
#include "util.h"

/*** oci: the container's groups ***/

/* Make the directories of path down to it (the parents of a cgroup).
 * Returns 0, or -1 with errno. */
int make_dirs(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char was = *p;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		if (!was)
			return 0;
		*p = was;
	}
}

/* v1: the group at cgroupsPath in the hierarchy of controller ctrl,
 * made, into dir. Returns 0, or -1 after saying why. */
static int make_v1_group(const char *ctrl, const char *path, char *dir,
			 size_t len)
{
	snprintf(dir, len, "/sys/fs/cgroup/%s%s", ctrl, path);
	if (make_dirs(dir) < 0) {
		report_errno("cannot create cgroup '%s'", dir);
		return -1;
	}
	return 0;
}

/* What the devices group allows after the spec's rules, as runc and
 * crun do: the default devices, a terminal's (/dev/ptmx and the ptys of
 * devpts), and making any node (mknod; opening it is another rule). */
static const struct dev_rule default_device_rules[] = {
    {true, 'c', 1, 3, "rwm"},	 {true, 'c', 1, 5, "rwm"},
    {true, 'c', 1, 7, "rwm"},	 {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 9, "rwm"},	 {true, 'c', 5, 0, "rwm"},
    {true, 'c', 5, 1, "rwm"},	 {true, 'c', 5, 2, "rwm"},
    {true, 'c', 136, -1, "rwm"}, {true, 'c', -1, -1, "m"},
    {true, 'b', -1, -1, "m"},
};

/* linux.resources.devices, in order, then default_device_rules, into
 * rules (malloc'd); NULL when out of memory. */
static struct dev_rule *device_rules(const struct oci_spec *s, size_t *n)
{
	*n = s->n_device_rules + ARRAY_SIZE(default_device_rules);
	struct dev_rule *rules = calloc(*n, sizeof(*rules));
	for (size_t i = 0; rules && i < s->n_device_rules; i++) {
		const struct oci_device_rule *r = &s->device_rules[i];
		rules[i] = (struct dev_rule){r->allow, r->type, r->major,
					     r->minor, r->access};
	}
	if (rules)
		memcpy(rules + s->n_device_rules, default_device_rules,
		       sizeof(default_device_rules));
	return rules;
}

/* rules (n) into the v1 devices group dir, each to devices.allow or
 * devices.deny. Returns 0, or -1 after saying why. */
static int limit_devices(const char *dir, const struct dev_rule *rules,
			 size_t n)
{
	char rule[64], path[PATH_MAX + 32], major[24], minor[24];
	for (size_t i = 0; i < n; i++) {
		const struct dev_rule *r = &rules[i];
		snprintf(major, sizeof(major), "%lld", r->major);
		snprintf(minor, sizeof(minor), "%lld", r->minor);
		if (r->type == 'a')
			snprintf(rule, sizeof(rule), "a");
		else
			snprintf(rule, sizeof(rule), "%c %s:%s %s", r->type,
				 r->major < 0 ? "*" : major,
				 r->minor < 0 ? "*" : minor, r->access);
		if (snprintf(path, sizeof(path), "%s/devices.%s", dir,
			     r->allow ? "allow" : "deny") >= (int)sizeof(path))
			return -1;
		if (write_file(path, rule) < 0) {
			report_errno("cannot write '%s' to '%s'", rule, path);
			return -1;
		}
	}
	return 0;
}

/* rules (n) as cgroup v2 has them: a BPF program (common/devices_bpf.c)
 * attached to the group dir. Returns 0, or -1 after saying why. */
static int attach_devices(const char *dir, const struct dev_rule *rules,
			  size_t n)
{
	char why[256] = "";
	struct bpf_insn *prog = calloc(DEVICES_BPF_LEN(n), sizeof(*prog));
	int rc = -1;
	if (prog)
		rc = devices_bpf_attach(dir, prog,
					devices_bpf_build(rules, n, prog), why,
					sizeof(why));
	if (rc < 0)
		report_errno("cannot attach the device rules to '%s'%s%s", dir,
			     why[0] ? ": " : "", why);
	free(prog);
	return rc;
}

/* The groups from h's root down to parent, made where missing, each
 * handing the pids controller down on v2 (cgroup_make_parent()): made
 * by mkdir alone, the container's group would have no pids.max. Returns
 * 0, or -1 with errno. */
static int make_parents(const struct cgroup_hierarchy *h, const char *parent)
{
	char dir[PATH_MAX];
	size_t root = strlen(h->root);
	snprintf(dir, sizeof(dir), "%s", parent);
	if (strlen(dir) <= root)
		return 0;
	for (char *p = dir + root + 1; (p = strchr(p, '/')); *p++ = '/') {
		*p = '\0';
		if (cgroup_make_parent(h, dir) < 0)
			return -1;
	}
	return cgroup_make_parent(h, dir);
}

/* Without root, where no group of ours can be made (no group delegated
 * to us there; errno says why): go on without one when the spec asks
 * for no limit, as runc and crun do (the device rules are left to the
 * user namespace, where no device node can be made); else say which
 * limit cannot be had. Returns 0, or -1 after saying why. */
static int without_cgroup(struct cgroup *cg, const struct oci_spec *s,
			  const struct oci_lessons *l, const char *where)
{
	const char *asks = s->pids_limit > 0	     ? "linux.resources.pids"
			   : l->limits.memory > 0    ? "linux.resources.memory"
			   : l->limits.cpu_quota > 0 ? "linux.resources.cpu"
						     : NULL;
	if (asks) {
		report_errno("cannot apply '%s' without root: no cgroup of "
			     "ours at '%s'",
			     asks, where);
		return -1;
	}
	cg->limited = false;
	verbose("no cgroup (not root, none delegated at '%s'): no limits",
		where);
	return 0;
}

/* The container's groups at linux.cgroupsPath (default minidocker/<id>),
 * with its pids limit, its memory and CPU through stage 9's lesson and
 * its device rules. On v1 a group in each of pids, memory, cpu and
 * devices; on v2 one. Returns 0, or -1 after saying why (what it made is
 * removed by remove_oci_cgroups()). */
int setup_oci_cgroup(struct cgroup *cg, const struct oci_spec *s,
		     const struct oci_lessons *l, const char *id)
{
	char why[256], path[PATH_MAX], file[PATH_MAX + 96], max[32];
	bool rootless = geteuid() != 0;
	memset(cg, 0, sizeof(*cg));
	cg->fd = -1;
	if (cgroup_find_pids(&cg->h, why, sizeof(why)) < 0) {
		if (rootless)
			return without_cgroup(cg, s, l, "/sys/fs/cgroup");
		report("cannot find the pids cgroup: %s", why);
		return -1;
	}
	if (s->cgroups_path)
		snprintf(path, sizeof(path), "%s%s",
			 s->cgroups_path[0] == '/' ? "" : "/", s->cgroups_path);
	else
		snprintf(path, sizeof(path), "/" CGROUP_PARENT "/%s", id);
	if (snprintf(cg->dir, sizeof(cg->dir), "%s%s", cg->h.root, path) >=
		(int)sizeof(cg->parent) ||
	    snprintf(cg->parent, sizeof(cg->parent), "%s", cg->dir) >=
		(int)sizeof(cg->parent)) {
		report("cannot use cgroup '%s': the path is too long", path);
		return -1;
	}
	*strrchr(cg->parent, '/') = '\0';
	if (make_parents(&cg->h, cg->parent) < 0 || mkdir(cg->dir, 0755) < 0) {
		if (rootless &&
		    (errno == EACCES || errno == EPERM || errno == EROFS))
			return without_cgroup(cg, s, l, cg->dir);
		report_errno("cannot create cgroup '%s'", cg->dir);
		return -1;
	}
	cg->limited = true;
	snprintf(file, sizeof(file), "%s/pids.max", cg->dir);
	if (s->pids_limit > 0)
		snprintf(max, sizeof(max), "%lld", s->pids_limit);
	else
		snprintf(max, sizeof(max), "max");
	if (write_file(file, max) < 0) {
		report_errno("cannot write %s to '%s'", max, file);
		return -1;
	}
	cg->lim.version = cg->h.version;
	if (cg->h.version == 2) {
		if (limits_make_groups(&cg->lim, &cg->h, cg->parent, cg->dir,
				       getpid(), why, sizeof(why)) < 0) {
			report_errno("%s", why);
			return -1;
		}
	} else {
		static const struct {
			enum limit_ctrl c;
			const char *name;
		} v1[] = {{LIMIT_MEMORY, "memory"}, {LIMIT_CPU, "cpu"}};
		for (size_t i = 0; i < ARRAY_SIZE(v1); i++) {
			if (make_v1_group(v1[i].name, path,
					  cg->lim.dir[v1[i].c],
					  sizeof(cg->lim.dir[v1[i].c])) < 0)
				return -1;
			cg->lim.have[v1[i].c] = cg->lim.made[v1[i].c] = true;
		}
		if (make_v1_group("devices", path, cg->devices,
				  sizeof(cg->devices)) < 0)
			return -1;
	}
	/* v2: with no rule the group allows every device, as v1's new
	 * group does, which takes its parent's (all on a host). */
	size_t n;
	struct dev_rule *rules = device_rules(s, &n);
	if (!rules) {
		report_errno("cannot list the device rules");
		return -1;
	}
	int rc = 0;
	if (cg->h.version == 1)
		rc = limit_devices(cg->devices, rules, n);
	else if (s->n_device_rules > 0)
		rc = attach_devices(cg->dir, rules, n);
	free(rules);
	if (rc < 0)
		return -1;
	if (l->limits.memory > 0 &&
	    limit_memory(&cg->lim, l->limits.memory) < 0)
		return -1;
	if (l->limits.cpu_quota > 0 &&
	    limit_cpu(&cg->lim, l->limits.cpu_quota) < 0)
		return -1;
	cg->fd = open(cg->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		report_errno("cannot open cgroup '%s'", cg->dir);
		return -1;
	}
	return 0;
}

/* Kill what is in the groups listed in dir/cgroups and remove them.
 * Returns 0, or -1 after saying why. */
int remove_oci_cgroups(const char *dir)
{
	char paths[EXEC_MAX_CGROUPS * PATH_MAX], path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/" CGROUPS_FILE, dir);
	if (read_small(path, paths, sizeof(paths)) < 0)
		return errno == ENOENT
			   ? 0
			   : (report_errno("cannot read '%s'", path), -1);
	int rc = 0;
	for (char *line = strtok(paths, "\n"); line; line = strtok(NULL, "\n"))
		if (cgroup_remove(line, 2000) < 0) {
			report_errno("cannot remove cgroup '%s'", line);
			rc = -1;
		}
	return rc;
}
