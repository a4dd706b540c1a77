#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "userns.h"
#include "util.h"

/* Read the number in root/path; -1 when there is no such file. */
static long read_setting(const char *root, const char *path)
{
	char full[4096];
	snprintf(full, sizeof(full), "%s%s", root, path);
	FILE *f = fopen(full, "re");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int userns_restriction(const char *root, uid_t uid, char *why,
		       size_t why_len)
{
	static const struct {
		const char *path, *name;
		long forbids;
		int root_too; /* whether it holds for root as well */
		const char *fix;
	} settings[] = {
		{"/proc/sys/user/max_user_namespaces",
		 "user.max_user_namespaces", 0, 1,
		 "sudo sysctl user.max_user_namespaces=10000"},
		{"/proc/sys/kernel/unprivileged_userns_clone",
		 "kernel.unprivileged_userns_clone", 0, 0,
		 "sudo sysctl kernel.unprivileged_userns_clone=1"},
		{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
		 "kernel.apparmor_restrict_unprivileged_userns", 1, 0,
		 "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		if (uid == 0 && !settings[i].root_too)
			continue;
		if (read_setting(root, settings[i].path) != settings[i].forbids)
			continue;
		snprintf(why, why_len, "%s is %ld (allow it: %s)",
			 settings[i].name, settings[i].forbids, settings[i].fix);
		return 1;
	}
	return 0;
}

/* The name of uid in root/etc/passwd, or "" (getpwuid() would warn in
 * the stages that link statically). */
static void user_name(const char *root, uid_t uid, char *name, size_t len)
{
	char path[4096], line[1024];
	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	*name = '\0';
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *rest = line, *n = strsep(&rest, ":");
		strsep(&rest, ":");
		char *id = strsep(&rest, ":");
		if (id && strtoul(id, NULL, 10) == uid && *id) {
			snprintf(name, len, "%s", n);
			break;
		}
	}
	fclose(f);
}

/* The first range of the user (by name or number) in root/file: 1 with
 * it, 0 when none. */
static int find_range(const char *root, const char *file, const char *name,
		      uid_t uid, unsigned long *start, unsigned long *count)
{
	char path[4096], line[1024], num[32];
	snprintf(path, sizeof(path), "%s%s", root, file);
	snprintf(num, sizeof(num), "%u", (unsigned)uid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char who[256];
		if (sscanf(line, "%255[^:]:%lu:%lu", who, start, count) == 3 &&
		    *count > 0 && (!strcmp(who, num) || (*name && !strcmp(who, name))))
			found = 1;
	}
	fclose(f);
	return found;
}

/* Whether prog is an executable file in one of $PATH's directories. */
static int in_path(const char *prog)
{
	const char *p = getenv("PATH");
	char dir[4096];
	if (!p || !*p)
		p = "/usr/bin:/bin";
	while (*p) {
		size_t n = strcspn(p, ":");
		snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, p, prog);
		if (n && access(dir, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* subid_find()'s answer, kept for the rest of the run: a pull asks once
 * per layer, and the files do not change under a run. */
static struct {
	bool done;
	char root[256];
	uid_t uid;
	int found;
	struct subid_map map;
	char why[256];
} subid_cache;

/* What subid_find() answers, read from the files. */
static int read_subids(const char *root, struct subid_map *m, char *why,
		       size_t why_len)
{
	char name[256];
	m->uid = getuid();
	m->gid = getgid();
	user_name(root, m->uid, name, sizeof(name));
	if (!find_range(root, "/etc/subuid", name, m->uid, &m->uid_start,
			&m->uid_count) ||
	    !find_range(root, "/etc/subgid", name, m->uid, &m->gid_start,
			&m->gid_count)) {
		snprintf(why, why_len,
			 "no range for uid %d in /etc/subuid and /etc/subgid",
			 (int)m->uid);
		return 0;
	}
	if (!in_path("newuidmap") || !in_path("newgidmap")) {
		snprintf(why, why_len,
			 "newuidmap and newgidmap are missing "
			 "(sudo apt-get install uidmap)");
		return 0;
	}
	return 1;
}

int subid_find(const char *root, struct subid_map *m, char *why, size_t why_len)
{
	if (!subid_cache.done || subid_cache.uid != getuid() ||
	    strcmp(subid_cache.root, root)) {
		subid_cache.found =
		    read_subids(root, &subid_cache.map, subid_cache.why,
				sizeof(subid_cache.why));
		snprintf(subid_cache.root, sizeof(subid_cache.root), "%s",
			 root);
		subid_cache.uid = getuid();
		subid_cache.done = strlen(root) < sizeof(subid_cache.root);
	}
	*m = subid_cache.map;
	snprintf(why, why_len, "%s", subid_cache.found ? "" : subid_cache.why);
	return subid_cache.found;
}

/* Run helper PID 0 ID 1 1 START COUNT and wait for it. */
static int run_helper(const char *helper, pid_t pid, unsigned long id,
		      unsigned long start, unsigned long count)
{
	char a[5][32];
	snprintf(a[0], sizeof(a[0]), "%d", (int)pid);
	snprintf(a[1], sizeof(a[1]), "%lu", id);
	snprintf(a[2], sizeof(a[2]), "%lu", start);
	snprintf(a[3], sizeof(a[3]), "%lu", count);
	pid_t h = fork();
	if (h < 0)
		return -1;
	if (h == 0) {
		execlp(helper, helper, a[0], "0", a[1], "1", "1", a[2], a[3],
		       (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(h, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = EPERM; /* the helper said why on stderr */
		return -1;
	}
	return 0;
}

int subid_write_maps(pid_t pid, const struct subid_map *m)
{
	if (run_helper("newuidmap", pid, m->uid, m->uid_start, m->uid_count) < 0)
		return -1;
	return run_helper("newgidmap", pid, m->gid, m->gid_start, m->gid_count);
}

int subid_run_mapped(const struct subid_map *m, int (*fn)(void *), void *arg)
{
	int go[2], ready[2];
	char b = 0;
	if (pipe2(go, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(go[0]);
		close(go[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		/* Unshared by the child itself: only a process outside the
		 * namespace (the parent, through the helpers) may map it. */
		if (unshare(CLONE_NEWUSER) < 0 || write(ready[1], "1", 1) != 1 ||
		    read(go[0], &b, 1) != 1)
			_exit(2);
		_exit(fn(arg) == 0 ? 0 : 1);
	}
	close(go[0]);
	close(ready[1]);
	int rc = -1, saved = 0;
	if (pid > 0 && read(ready[0], &b, 1) == 1) {
		if (subid_write_maps(pid, m) == 0 && write(go[1], "1", 1) == 1)
			rc = 0;
		else
			saved = errno;
	}
	close(go[1]);
	close(ready[0]);
	if (pid < 0)
		return -1;
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	errno = saved ? saved : EPERM;
	return -1;
}

bool in_initial_userns(void)
{
	char map[128];
	unsigned long inside, outside, count;
	FILE *f = fopen("/proc/self/uid_map", "re");
	if (!f)
		return true; /* no user namespaces at all */
	bool initial = fgets(map, sizeof(map), f) &&
		       sscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3 &&
		       inside == 0 && outside == 0 && count == 4294967295UL;
	fclose(f);
	return initial;
}
