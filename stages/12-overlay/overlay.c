/*
 * Stage 12's lesson: a copy-on-write root. The root filesystem directory
 * is no longer written: it is the read-only lower layer of an overlay (or
 * several, top first), and each container writes into a layer of its own
 * in its state directory (common/state.c keeps the directory and its
 * lock), removed when it ends. What a container writes or deletes never
 * reaches the image, nor another container started from it.
 */

#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "error.h"
#include "overlay.h"

/* Make the container's state directory (common/state.c: it also
 * removes what killed runtimes left) with an empty upper and work
 * directory and the mount point merged. Returns 0, or -1 after saying
 * why, having removed what it made. */
int setup_layer(struct layer *layer)
{
	char why[PATH_MAX + 256];

	if (state_create(&layer->st, why, sizeof(why)) < 0) {
		report("cannot make the container's state directory: %s", why);
		return -1;
	}
	/* The kernel refuses an upper layer on an overlay with a bare
	 * EINVAL, its reason only in the kernel log: say it here. */
	if (state_check_layer_fs(layer->st.run, why, sizeof(why)) < 0) {
		report("cannot keep the container's layer: %s", why);
		goto err;
	}
	snprintf(layer->upper, sizeof(layer->upper), "%s/upper", layer->st.dir);
	snprintf(layer->work, sizeof(layer->work), "%s/work", layer->st.dir);
	snprintf(layer->merged, sizeof(layer->merged), "%s/merged",
		 layer->st.dir);
	const char *dirs[] = {layer->upper, layer->work, layer->merged};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		/* 0755: upper becomes the container's /. */
		if (mkdir(dirs[i], 0755) < 0) {
			report_errno("cannot create '%s'", dirs[i]);
			goto err;
		}
	}
	verbose("container %s keeps its writes in '%s'", layer->st.id,
		layer->upper);
	return 0;
err:
	state_remove(&layer->st);
	return -1;
}

/* Mount the root filesystem read-only below the container's own layer:
 * an overlay whose lower layers are the image, never written, and whose
 * upper layer takes every change. A deleted image file becomes a
 * whiteout in upper, a 0/0 character device; a directory made anew over
 * one of the image's is marked opaque with an xattr. */
void setup_overlay(const char *lowers, const struct layer *layer)
{
	char options[3 * PATH_MAX + 256];

	/* userxattr: we are root in a user namespace only, so overlayfs
	 * keeps its marks in user.overlay.* xattrs: trusted.* ones need
	 * root in the host's. */
	snprintf(options, sizeof(options),
		 "lowerdir=%s,upperdir=%s,workdir=%s,userxattr", lowers,
		 layer->upper, layer->work);
	if (mount("overlay", layer->merged, "overlay", 0, options) < 0) {
		if (errno == EPERM)
			die_errno("cannot mount overlay on '%s' (overlayfs "
				  "in a user namespace needs Linux 5.11 or "
				  "later)", layer->merged);
		die_errno("cannot mount overlay on '%s'", layer->merged);
	}
	verbose("overlay of '%s' mounted on '%s'", lowers, layer->merged);
}

/* Remove the container's layer, everything it wrote, once it has ended.
 * Returns 0, or -1 after saying why. */
int remove_layer(struct layer *layer)
{
	if (state_remove(&layer->st) < 0) {
		report_errno("cannot remove the container's layer");
		return -1;
	}
	return 0;
}
