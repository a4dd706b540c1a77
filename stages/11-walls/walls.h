/* Stage 11's lesson: walls. What the container still shared with the
 * host, it no longer reaches: read-only and masked /proc and /sys paths,
 * a /dev of its own, and a cgroup namespace (its IPC namespace is a clone
 * flag in the spine). Each function runs in the child and dies on
 * failure. */
#ifndef MINIDOCKER_WALLS_H
#define MINIDOCKER_WALLS_H

#include <stddef.h>

enum wall_kind { WALL_READONLY, WALL_MASKED };

/* One path to wall off, and how. */
struct wall {
	const char *path;
	enum wall_kind kind;
};

/* The walls every container gets (walls.c says which and why). */
extern const struct wall WALLS_DEFAULT[];
extern const size_t WALLS_DEFAULT_LEN;

/* Enter a new cgroup namespace; call it once in the container's groups. */
void enter_cgroup_ns(void);

/* Mount a small /dev of the container's own on rootfs/dev, before the
 * pivot, while the host's /dev is there to bind from. */
void setup_dev(const char *rootfs);

/* Bind the host's /sys on rootfs/sys, read-only (Linux 5.12). */
void setup_sys(const char *rootfs);

/* After the pivot: wall off the n paths of walls in our /proc and /sys. */
void setup_walls(const struct wall *walls, size_t n);

#endif
