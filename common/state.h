/* Where a running container keeps its state: one directory per container,
 * <run>/<id>, with run /run/minidocker as root, $XDG_RUNTIME_DIR/minidocker
 * without root, and $MINIDOCKER_RUN instead of either (the tests set it).
 * A runtime holds a lock on its directory while it lives; the next run
 * removes the directories whose lock nobody holds. */
#ifndef MINIDOCKER_STATE_H
#define MINIDOCKER_STATE_H

#include <limits.h>
#include <stddef.h>

#define STATE_LOCK "lock" /* the file in each container's directory */

/* A container's state directory, held by the runtime that made it. */
struct state {
	char run[PATH_MAX - 64]; /* where every container's directory is */
	char id[32];             /* this container's id: the runtime's pid */
	char dir[PATH_MAX - 16]; /* run/id, short enough for run/id/name */
	int lock_fd;             /* dir/lock, flock()ed; -1 when not held */
};

/* The directory every container's state goes below, as above, in run.
 * Returns 0, or -1 with the reason in why (one line, no full stop). */
int state_run_dir(char *run, size_t len, char *why, size_t why_len);

/* Open dir/lock (flags: O_CREAT to make it) and lock it without
 * waiting; the lock lasts as long as the returned fd (close on exec)
 * stays open. Returns the fd, or -1 with errno (EWOULDBLOCK: a live
 * process holds it). */
int state_lock_dir(const char *dir, int flags);

/* Remove the directories below run whose runtime died without removing
 * its own (SIGKILL): those whose lock nobody holds, as state_remove()
 * would. Returns how many it removed. */
int state_reap_stale(const char *run);

/* Make run (mode 0700) when missing, reap what dead runtimes left there,
 * then make this container's directory run/<our pid> and lock it.
 * Returns 0, or -1 with errno and the reason in why. */
int state_create(struct state *st, char *why, size_t why_len);

/* Remove the container's directory with everything in it, never crossing
 * into another mount (remove_tree_mapped(): what the image's users made
 * too), and let go of its lock. Returns 0 (also when st holds nothing),
 * or -1 with errno. */
int state_remove(struct state *st);

/* Remove path and everything below it that is on the same filesystem;
 * a directory its owner may not read or write (mode 0, as overlayfs
 * leaves its work directory; 0555 in an image's layer) is opened to them
 * first. Returns 0 (also when path is
 * gone), or -1 with errno. */
int remove_tree(const char *path);

/* remove_tree(path); without root, when that is refused, again in a
 * user namespace that maps the user's subordinate ids (common/userns.h),
 * to whom the files an image's own users made there belong. Returns 0,
 * or -1 with errno. */
int remove_tree_mapped(const char *path);

/* Whether dir can hold an overlay's upper and work directories: not on
 * an overlay itself, which the kernel refuses as an upper layer. Returns
 * 0, or -1 with the reason and the fix in why. */
int state_check_layer_fs(const char *dir, char *why, size_t why_len);

#endif
