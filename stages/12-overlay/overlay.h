/* Stage 12's lesson: a copy-on-write root. The image's directories are
 * the read-only lower layers of an overlay, and each container writes
 * into a layer of its own, in its state directory, removed when it
 * ends. */
#ifndef MINIDOCKER_OVERLAY_H
#define MINIDOCKER_OVERLAY_H

#include <limits.h>

#include "state.h"

/* The container's own writable layer, in its state directory: upper
 * takes every write, work is overlayfs's scratch space (same filesystem
 * as upper), merged is where the child mounts the overlay and enters. */
struct layer {
	struct state st; /* the directory, held while the runtime lives */
	char upper[PATH_MAX], work[PATH_MAX], merged[PATH_MAX];
};

/* In the runtime: make the container's state directory with an empty
 * upper and work directory and the mount point merged. Returns 0, or -1
 * after saying why, having removed what it made. */
int setup_layer(struct layer *layer);

/* In the child: mount the overlay of lowers (absolute, colon-separated,
 * top first) and layer's upper on layer->merged; dies on failure. */
void setup_overlay(const char *lowers, const struct layer *layer);

/* Remove the layer, everything the container wrote, once it has ended.
 * Returns 0, or -1 after saying why. */
int remove_layer(struct layer *layer);

#endif
