/* Why a user namespace may be refused to a user without root. */
#ifndef MINIDOCKER_USERNS_H
#define MINIDOCKER_USERNS_H

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

#endif
