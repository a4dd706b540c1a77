#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "state.h"
#include "userns.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630 /* linux/magic.h */
#endif

int state_run_dir(char *run, size_t len, char *why, size_t why_len)
{
	const char *env = getenv("MINIDOCKER_RUN");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = snprintf(run, len, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(run, len, "/run/minidocker");
	else if (xdg && *xdg)
		n = snprintf(run, len, "%s/minidocker", xdg);
	else {
		snprintf(why, why_len, "not root and XDG_RUNTIME_DIR is not "
				       "set (set MINIDOCKER_RUN to a directory "
				       "of yours)");
		errno = ENOENT;
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		snprintf(why, why_len, "the path is too long");
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Remove the entry name in the directory dirfd, and below it everything
 * on the device dev. */
static int remove_at(int dirfd, const char *name, dev_t dev)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	/* Another filesystem mounted here: never delete through it (it may
	 * be the image itself). Its mount point stays, and rmdir fails. */
	if (st.st_dev != dev) {
		errno = EBUSY;
		return -1;
	}
	/* Ours but not open to us: overlayfs makes work/work mode 0, and an
	 * image's layer may hold a 0555 directory, whose entries its owner
	 * cannot remove without root. */
	if ((st.st_mode & 0700) != 0700 &&
	    fchmodat(dirfd, name, (st.st_mode & 07777) | 0700, 0) < 0 &&
	    errno != EPERM)
		return -1;
	int fd = openat(dirfd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	int result = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (remove_at(fd, e->d_name, dev) < 0)
			result = -1;
	}
	int saved = errno;
	closedir(d);
	errno = saved;
	if (result < 0)
		return -1;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1
									 : 0;
}

int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return remove_at(AT_FDCWD, path, st.st_dev);
}

static int remove_tree_job(void *path)
{
	return remove_tree(path);
}

int remove_tree_mapped(const char *path)
{
	struct subid_map m;
	char none[256];
	if (remove_tree(path) == 0)
		return 0;
	int err = errno;
	/* Without root, files that an image's own users made (in a rootless
	 * container's layer, or a layer a rootless pull unpacked) belong to
	 * the user's subordinate ids: only a namespace mapping them may
	 * remove those. */
	if (geteuid() == 0 || (err != EACCES && err != EPERM) ||
	    !subid_find("", &m, none, sizeof(none))) {
		errno = err;
		return -1;
	}
	return subid_run_mapped(&m, remove_tree_job, (void *)path);
}

int state_lock_dir(const char *dir, int flags)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/" STATE_LOCK, dir);
	int fd = open(path, O_RDWR | O_CLOEXEC | flags, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int state_reap_stale(const char *run)
{
	DIR *d = opendir(run);
	struct dirent *e;
	int reaped = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char dir[PATH_MAX + 300], *end;
		/* ".<pid>": one being made (see state_create()). */
		bool making = e->d_name[0] == '.';
		long pid = strtol(e->d_name + making, &end, 10);
		if (*end || pid <= 0)
			continue; /* not a container's: leave it alone */
		snprintf(dir, sizeof(dir), "%s/%s", run, e->d_name);
		int fd = -1;
		if (making) {
			/* Its runtime may be making it now: only its pid
			 * tells whether that one is gone. */
			if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
				continue;
		} else if ((fd = state_lock_dir(dir, 0)) < 0) {
			continue; /* held: its runtime lives */
		}
		if (remove_tree_mapped(dir) == 0)
			reaped++;
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	return reaped;
}

int state_create(struct state *st, char *why, size_t why_len)
{
	st->lock_fd = -1;
	st->dir[0] = '\0';
	if (state_run_dir(st->run, sizeof(st->run), why, why_len) < 0)
		return -1;
	if (mkdir(st->run, 0700) < 0 && errno != EEXIST) {
		snprintf(why, why_len, "cannot create '%s': %s", st->run,
			 strerror(errno));
		return -1;
	}
	state_reap_stale(st->run);
	snprintf(st->id, sizeof(st->id), "%d", (int)getpid());
	/* Made as .<id> and locked there, then renamed into place: another
	 * run's reaper never sees <id> without its lock held. */
	snprintf(st->dir, sizeof(st->dir), "%s/.%s", st->run, st->id);
	if (remove_tree(st->dir) < 0 || mkdir(st->dir, 0700) < 0) {
		snprintf(why, why_len, "cannot create '%s': %s", st->dir,
			 strerror(errno));
		goto err;
	}
	st->lock_fd = state_lock_dir(st->dir, O_CREAT);
	if (st->lock_fd < 0) {
		snprintf(why, why_len, "cannot lock '%s': %s", st->dir,
			 strerror(errno));
		goto err;
	}
	char made[sizeof(st->dir)];
	snprintf(made, sizeof(made), "%s", st->dir);
	snprintf(st->dir, sizeof(st->dir), "%s/%s", st->run, st->id);
	/* One left by a dead runtime that had our pid before us goes. */
	if (remove_tree(st->dir) < 0 || rename(made, st->dir) < 0) {
		snprintf(why, why_len, "cannot create '%s': %s", st->dir,
			 strerror(errno));
		snprintf(st->dir, sizeof(st->dir), "%s", made);
		goto err;
	}
	return 0;
err:;
	int saved = errno;
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = -1;
	remove_tree(st->dir);
	st->dir[0] = '\0';
	errno = saved;
	return -1;
}

int state_remove(struct state *st)
{
	int result = 0;
	if (st->dir[0] && remove_tree_mapped(st->dir) < 0)
		result = -1;
	int saved = errno;
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = -1;
	st->dir[0] = '\0';
	errno = saved;
	return result;
}

int state_check_layer_fs(const char *dir, char *why, size_t why_len)
{
	struct statfs fs;
	if (statfs(dir, &fs) < 0) {
		snprintf(why, why_len, "cannot inspect '%s': %s", dir,
			 strerror(errno));
		return -1;
	}
	if (fs.f_type == OVERLAYFS_SUPER_MAGIC) {
		snprintf(why, why_len, "'%s' is on an overlay, which cannot "
				       "hold another overlay's upper layer "
				       "(set MINIDOCKER_RUN to a directory on "
				       "another filesystem)", dir);
		errno = EINVAL;
		return -1;
	}
	return 0;
}
