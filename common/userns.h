/* Why a user namespace may be refused to a user without root. */
#ifndef MINIDOCKER_USERNS_H
#define MINIDOCKER_USERNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Name the host setting that forbids user uid a user namespace, read from
 * the files under root ("" for this machine): user.max_user_namespaces =
 * 0 (everyone), and for users other than root
 * kernel.unprivileged_userns_clone = 0 (Debian's older kernels) or
 * kernel.apparmor_restrict_unprivileged_userns = 1 (Ubuntu 23.10+).
 * Returns 1 with the setting and its fix in why, or 0 when none is set. */
int userns_restriction(const char *root, uid_t uid, char *why,
		       size_t why_len);

/* A user's subordinate ids, from /etc/subuid and /etc/subgid
 * ("name:start:count", by name or by number): the host ids a user may
 * map into a user namespace beside its own, through the setuid helpers
 * newuidmap and newgidmap (Debian's uidmap package). */
struct subid_map {
	uid_t uid; /* mapped to 0 */
	gid_t gid;
	unsigned long uid_start, uid_count; /* mapped to 1..count */
	unsigned long gid_start, gid_count;
};

/* Find the caller's ranges in root/etc/subuid and root/etc/subgid ("" for
 * this machine). Returns 1 with them in m when both files give one and
 * newuidmap and newgidmap are installed, 0 when not (why says which).
 * The files are read once per run (for one root and uid): later calls
 * give the same answer without reading them again. */
int subid_find(const char *root, struct subid_map *m, char *why,
	       size_t why_len);

/* Write pid's uid_map and gid_map through newuidmap and newgidmap: 0 is
 * the caller, 1 to count its subordinate ids. Returns 0, or -1 after
 * the helper said why on stderr (errno EPERM) or with errno. */
int subid_write_maps(pid_t pid, const struct subid_map *m);

/* Run fn(arg) in a child process in a new user namespace mapped as
 * subid_write_maps() maps it: root there, with the caller's ids and its
 * subordinate ones, so that it may give files to an image's users or
 * remove theirs. Returns fn's result (0 or -1), with errno EPERM when
 * the child failed otherwise. */
int subid_run_mapped(const struct subid_map *m, int (*fn)(void *), void *arg);

/* Whether the process is in the host's user namespace (its uid_map maps
 * every id to itself). */
bool in_initial_userns(void);

#endif
