/* Why a user namespace may be refused to a user without root. */
#ifndef MINIDOCKER_USERNS_H
#define MINIDOCKER_USERNS_H

#include <stddef.h>

/* Name the host setting that forbids unprivileged user namespaces, read
 * under root (normally "/"): kernel.unprivileged_userns_clone = 0
 * (Debian's older kernels), kernel.apparmor_restrict_unprivileged_userns
 * = 1 (Ubuntu 23.10+), or user.max_user_namespaces = 0. Returns 1 with
 * the setting and its fix in why, or 0 when none is set. */
int userns_restriction(const char *root, char *why, size_t why_len);

#endif
