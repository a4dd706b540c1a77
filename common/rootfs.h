/* Checks on a root filesystem before a container starts in it. */
#ifndef MINIDOCKER_ROOTFS_H
#define MINIDOCKER_ROOTFS_H

#include <stddef.h>

/* Whether dir can serve as a root filesystem: a directory, not empty,
 * with a /proc directory to mount procfs on. Returns 0, or -1 with the
 * reason in why (one line, no full stop). */
int check_rootfs(const char *dir, char *why, size_t why_len);

/* Check a list of layers, colon-separated, top first, the last being the
 * image (check_rootfs()), the others directories; put their absolute
 * paths, joined the same way, in out, as overlayfs's lowerdir= takes
 * them. Returns 0, or -1 with the reason in why (one line, naming the
 * layer when there are several). */
int rootfs_join_layers(const char *list, char *out, size_t out_len,
		       char *why, size_t why_len);

#endif
