#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer.h"
#include "process.h"
#include "state.h"
#include "userns.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

/* Refuse a path that could leave the layer: absolute, or with a ".."
 * component. (Symbolic links on the way: no_link_on_way(), and
 * open_parent() for whiteouts; libarchive's SECURE_* flags check again.) */
static bool path_stays_inside(const char *path)
{
	if (*path == '/')
		return false;
	for (const char *c = path; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && !strncmp(c, "..", 2))
			return false;
		c += n;
		c += *c == '/';
	}
	return true;
}

/* Open the directory dir (relative to root_fd) for a whiteout in it,
 * making missing components 0755, following no symbolic link. Returns a
 * descriptor, or -1 with errno (ELOOP: a link on the way). */
static int open_parent(int root_fd, const char *dir)
{
	char part[PATH_MAX];
	int fd = dup(root_fd);
	const char *c = dir;
	while (fd >= 0 && *c) {
		size_t n = strcspn(c, "/");
		if (n >= sizeof(part)) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(part, c, n);
		part[n] = '\0';
		c += n;
		c += *c == '/';
		if (n == 0 || !strcmp(part, "."))
			continue;
		if (mkdirat(fd, part, 0755) < 0 && errno != EEXIST) {
			close(fd);
			return -1;
		}
		int next = openat(
		    fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(fd);
		errno = err;
		fd = next;
	}
	return fd;
}

/* Whether the directories on the way to path (relative to root_fd) are
 * real directories or missing, no symbolic link among them: an entry (or
 * a hard link's target) must not lead out of the layer through one. */
static bool no_link_on_way(int root_fd, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		return true;
	if ((size_t)(slash - path) >= sizeof(dir))
		return false;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	int fd = root_fd, ok = true;
	for (char *c = dir, *next; ok && *c; c = next) {
		next = c + strcspn(c, "/");
		if (*next)
			*next++ = '\0';
		if (!*c || !strcmp(c, "."))
			continue;
		int sub = openat(fd, c,
				 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* Not there yet: it will be made a directory, and nothing
		 * below it exists to be a link. */
		bool missing = sub < 0 && errno == ENOENT;
		if (fd != root_fd)
			close(fd);
		fd = sub;
		if (missing)
			break;
		ok = fd >= 0;
	}
	if (fd >= 0 && fd != root_fd)
		close(fd);
	return ok;
}

/* Turn the whiteout entry path (dir/.wh.NAME or dir/.wh..wh..opq) into
 * overlayfs's mark, under root_fd. Returns 0, or -1 with why. */
static int make_whiteout(int root_fd, const char *path, char *why,
			 size_t why_len)
{
	char dir[PATH_MAX];
	const char *base = strrchr(path, '/');
	size_t dlen = base ? (size_t)(base - path) : 0;
	base = base ? base + 1 : path;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';

	int fd = open_parent(root_fd, dir);
	if (fd < 0) {
		snprintf(why, why_len, "cannot open '%s' for whiteout '%s': %s",
			 *dir ? dir : ".", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	if (!strcmp(base, WHITEOUT_OPAQUE)) {
		if (fsetxattr(fd, XATTR_OPAQUE_USER, "y", 1, 0) < 0)
			rc = -1;
		/* trusted.* needs CAP_SYS_ADMIN in the host's namespace. */
		if (rc == 0 && geteuid() == 0 && in_initial_userns() &&
		    fsetxattr(fd, XATTR_OPAQUE_TRUSTED, "y", 1, 0) < 0)
			rc = -1;
	} else {
		const char *name = base + strlen(WHITEOUT_PREFIX);
		/* A whiteout replaces what the same layer may have put
		 * there (it should not have). */
		if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
			errno = EINVAL;
			rc = -1;
		} else if ((unlinkat(fd, name, 0) < 0 && errno != ENOENT &&
			    errno != EISDIR) ||
			   mknodat(fd, name, S_IFCHR | 0, makedev(0, 0)) < 0) {
			rc = -1;
		}
	}
	/* overlayfs under userxattr reads user.* marks: a filesystem
	 * without them (tmpfs before Linux 6.6) cannot hold an image. */
	if (rc < 0 && errno == EOPNOTSUPP)
		snprintf(why, why_len,
			 "cannot make whiteout '%s': %s (the image store's "
			 "filesystem has no user.* extended attributes: put "
			 "it on ext4, xfs or btrfs)",
			 path, strerror(errno));
	else if (rc < 0)
		snprintf(why, why_len, "cannot make whiteout '%s': %s", path,
			 strerror(errno));
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

/* Copy the data of the entry just read from in to out. */
static int copy_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(in, &buf, &len, &off)) ==
	       ARCHIVE_OK)
		if (archive_write_data_block(out, buf, len, off) < ARCHIVE_OK)
			return ARCHIVE_FAILED;
	return r == ARCHIVE_EOF ? ARCHIVE_OK : r;
}

/* Unpack the tar read from fd (a file or a pipe; tar names it in
 * messages) into the current directory (libarchive writes relative to
 * it), root_fd being that directory. */
static int unpack_here(int fd, const char *tar, int root_fd, char *why,
		       size_t why_len)
{
	/* Root in a user namespace (a rootless pull with subordinate ids,
	 * unpack_layer()) may give files to the ids mapped there, but make
	 * no device node. */
	bool owner = geteuid() == 0;
	bool root = owner && in_initial_userns();
	/* SECURE_*: refuse "..", absolute paths and writing through a
	 * symbolic link, so a layer cannot reach outside its directory.
	 * UNLINK: an entry replaces what is there. OWNER only as root (a
	 * user cannot give files away); XATTR keeps capabilities and
	 * the like. */
	int flags =
	    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK |
	    ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR;
	if (owner)
		flags |= ARCHIVE_EXTRACT_OWNER;

	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	struct archive_entry *e;
	int rc = -1, r;

	if (!in || !out) {
		snprintf(why, why_len, "cannot initialise libarchive");
		goto out;
	}
	archive_read_support_format_tar(in);
	archive_read_support_filter_gzip(in);
	archive_read_support_filter_zstd(in); /* ARCHIVE_WARN if external */
	archive_write_disk_set_options(out, flags);
	if (archive_read_open_fd(in, fd, 1 << 16) != ARCHIVE_OK) {
		snprintf(why, why_len, "cannot read layer '%s': %s", tar,
			 archive_error_string(in));
		goto out;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		const char *link = archive_entry_hardlink(e);
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;

		/* libarchive would replace a link on the way by a
		 * directory (SECURE_SYMLINKS with UNLINK): refuse the layer
		 * instead, as it is built to reach out. */
		if (!path_stays_inside(path) ||
		    !no_link_on_way(root_fd, path) ||
		    (link && (!path_stays_inside(link) ||
			      !no_link_on_way(root_fd, link)))) {
			snprintf(why, why_len,
				 "layer entry '%s' points outside the layer",
				 path);
			goto out;
		}
		if (!strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX))) {
			if (make_whiteout(root_fd, path, why, why_len) < 0)
				goto out;
			continue;
		}
		/* A user may make no device node but a whiteout. */
		if (!root && (archive_entry_filetype(e) == AE_IFCHR ||
			      archive_entry_filetype(e) == AE_IFBLK))
			continue;
		if (archive_write_header(out, e) < ARCHIVE_OK ||
		    (archive_entry_size(e) > 0 &&
		     copy_data(in, out) < ARCHIVE_OK) ||
		    archive_write_finish_entry(out) < ARCHIVE_OK) {
			snprintf(why, why_len, "cannot unpack '%s': %s", path,
				 archive_error_string(out));
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		snprintf(why, why_len, "cannot read layer '%s': %s", tar,
			 archive_error_string(in));
		goto out;
	}
	/* Directory times and modes are set at close. */
	if (archive_write_close(out) != ARCHIVE_OK) {
		snprintf(why, why_len, "cannot unpack layer '%s': %s", tar,
			 archive_error_string(out));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(in);
	archive_write_free(out);
	return rc;
}

/* unpack_tar() of the tar read from fd. */
static int unpack_fd(int fd, const char *tar, const char *dir, char *why,
		     size_t why_len)
{
	/* libarchive's secure checks are made against the working
	 * directory's tree: work from dir, and come back. */
	int back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = -1;
	if (back < 0 || root_fd < 0 || fchdir(root_fd) < 0) {
		snprintf(why, why_len, "cannot enter '%s': %s", dir,
			 strerror(errno));
	} else {
		rc = unpack_here(fd, tar, root_fd, why, why_len);
		if (fchdir(back) < 0 && rc == 0) {
			snprintf(why, why_len, "cannot go back from '%s': %s",
				 dir, strerror(errno));
			rc = -1;
		}
	}
	if (back >= 0)
		close(back);
	if (root_fd >= 0)
		close(root_fd);
	return rc;
}

int unpack_tar(const char *tar, const char *dir, char *why, size_t why_len)
{
	int fd = open(tar, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, why_len, "cannot read layer '%s': %s", tar,
			 strerror(errno));
		return -1;
	}
	int rc = unpack_fd(fd, tar, dir, why, why_len);
	close(fd);
	return rc;
}

/* What unpack_mapped() hands the child: why is shared with the parent. */
struct unpack_job {
	const char *blob, *dir;
	char *why;
	size_t why_len;
};

static int unpack_job(void *arg)
{
	struct unpack_job *j = arg;
	if (unpack_tar(j->blob, j->dir, j->why, j->why_len) == 0)
		return 0;
	remove_tree(j->dir); /* what it made belongs to the mapped ids */
	return -1;
}

/* Unpack as root of a user namespace mapping the user's subordinate ids,
 * as rootless podman does: the files keep the owners the layer gives
 * them (101 stays 101 inside, subuid start + 100 on the host). Returns
 * 0, or -1 with why (the tree is removed). */
static int unpack_mapped(const struct subid_map *m, const char *blob,
			 const char *dir, char *why, size_t why_len)
{
	/* The child's why, seen by the parent: shared memory. */
	char *shared = mmap(NULL, why_len, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		snprintf(why, why_len, "cannot map memory: %s",
			 strerror(errno));
		return -1;
	}
	*shared = '\0';
	struct unpack_job j = {blob, dir, shared, why_len};
	int rc = subid_run_mapped(m, unpack_job, &j);
	if (rc < 0)
		snprintf(why, why_len, "%s",
			 *shared ? shared
				 : "cannot unpack in a user namespace with the "
				   "subordinate ids (newuidmap said why)");
	munmap(shared, why_len);
	return rc;
}

/* Mark the store's tmp/, where layers are made, as the top of directory
 * hierarchies (ext4's FS_TOPDIR_FL, chattr +T), which each layer made in
 * it is: ext4 then places each in a block group of its own choosing (its
 * Orlov allocator), not in tmp/'s. Without the mark, a layer unpacked
 * soon after another was removed (rmi then pull, or a store emptied
 * between two pulls, as the bench does) gets its inodes from among
 * those just freed, which ext4 does not reuse for a while and steps over
 * one by one (recently_deleted()): such pulls of test/b took a third
 * less time with the mark. Best effort: other filesystems refuse or
 * ignore it. */
static void mark_layers_top(const struct image_store *s)
{
	char path[PATH_MAX];
	int flags;
	snprintf(path, sizeof(path), "%s/tmp", s->root);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
	    !(flags & FS_TOPDIR_FL)) {
		flags |= FS_TOPDIR_FL;
		(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
}

int unpack_layer(struct image_store *s, const char *digest, char *why,
		 size_t why_len)
{
	char blob[PATH_MAX], final[PATH_MAX], tmp[PATH_MAX], none[256];
	struct subid_map m;
	struct stat st;

	store_layer_path(s, digest, final, sizeof(final));
	if (stat(final, &st) == 0)
		return 0; /* only a whole layer ever gets this name */
	store_blob_path(s, digest, blob, sizeof(blob));
	mark_layers_top(s);
	store_temp_path(s, tmp, sizeof(tmp));
	/* 0755: the layer's root is the container's /, whatever it says. */
	if (mkdir(tmp, 0755) < 0) {
		snprintf(why, why_len, "cannot create '%s': %s", tmp,
			 strerror(errno));
		return -1;
	}
	if (geteuid() != 0 && subid_find("", &m, none, sizeof(none))) {
		if (unpack_mapped(&m, blob, tmp, why, why_len) < 0) {
			remove_tree_mapped(tmp);
			return -1;
		}
	} else if (unpack_tar(blob, tmp, why, why_len) < 0) {
		remove_tree(tmp);
		return -1;
	}
	if (store_commit(tmp, final) < 0) {
		snprintf(why, why_len, "cannot store layer %s: %s", digest,
			 strerror(errno));
		remove_tree_mapped(tmp);
		return -1;
	}
	return 0;
}

/* A layer unpacked while its blob streams in: a thread of its own reads
 * the blob's bytes from a pipe that the fetch writes them into, beside
 * the blob's file. */
struct layer_stream {
	char tmp[PATH_MAX], final[PATH_MAX], digest[80];
	int in, out; /* the pipe's ends: the thread reads in, feeds write out */
	pthread_t thread;
	int rc; /* the thread's: 0, or -1 with why */
	char why[1024];
};

/* The unpacking thread. */
static void *stream_unpack(void *arg)
{
	struct layer_stream *l = arg;
	/* A working directory of this thread's own (and umask: libarchive
	 * reads it by setting it): libarchive unpacks relative to it, and
	 * other layers unpack beside this one. */
	if (unshare(CLONE_FS) < 0) {
		snprintf(l->why, sizeof(l->why), "cannot unpack layer %s: %s",
			 l->digest, strerror(errno));
		l->rc = -1;
	} else {
		l->rc =
		    unpack_fd(l->in, l->digest, l->tmp, l->why, sizeof(l->why));
	}
	/* Read what is left (a tar's padding, or all of a blob that failed
	 * to unpack): the fetch must never meet a closed pipe, and the
	 * digest's check at the end says whether the blob was to blame. */
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(l->in, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	return NULL;
}

int layer_stream_start(struct image_store *s, const char *digest,
		       struct layer_stream **out, char *why, size_t why_len)
{
	struct subid_map m;
	struct stat st;
	char none[256];
	int p[2];

	*out = NULL;
	/* With subordinate ids the layer is unpacked in a user namespace,
	 * by a child process (unpack_layer()), from the stored blob. */
	if (geteuid() != 0 && subid_find("", &m, none, sizeof(none)))
		return 0;
	struct layer_stream *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(why, why_len, "%s", strerror(ENOMEM));
		return -1;
	}
	store_layer_path(s, digest, l->final, sizeof(l->final));
	if (stat(l->final, &st) == 0) {
		free(l);
		return 0; /* only a whole layer ever gets this name */
	}
	snprintf(l->digest, sizeof(l->digest), "%s", digest);
	mark_layers_top(s);
	store_temp_path(s, l->tmp, sizeof(l->tmp));
	if (mkdir(l->tmp, 0755) < 0) {
		snprintf(why, why_len, "cannot create '%s': %s", l->tmp,
			 strerror(errno));
		free(l);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(why, why_len, "cannot make a pipe: %s",
			 strerror(errno));
		goto fail;
	}
	l->in = p[0];
	l->out = p[1];
	/* Room for a whole small layer: the download need not wait while
	 * the thread loads libarchive. Best effort. */
	(void)fcntl(l->out, F_SETPIPE_SZ, 1 << 20);
	int err = pthread_create(&l->thread, NULL, stream_unpack, l);
	if (err) {
		snprintf(why, why_len, "cannot start a thread: %s",
			 strerror(err));
		close(l->in);
		close(l->out);
		goto fail;
	}
	*out = l;
	return 0;
fail:
	remove_tree(l->tmp);
	free(l);
	return -1;
}

int layer_stream_feed(struct layer_stream *l, const void *data, size_t len,
		      char *why, size_t why_len)
{
	if (write_all(l->out, data, len) < 0) {
		snprintf(why, why_len, "cannot unpack layer %s: %s", l->digest,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int layer_stream_end(struct layer_stream *l, bool verified, char *why,
		     size_t why_len)
{
	int rc = 0;
	close(l->out); /* the end of the blob: the thread finishes */
	pthread_join(l->thread, NULL);
	close(l->in);
	if (verified && l->rc < 0) {
		snprintf(why, why_len, "%s", l->why);
		rc = -1;
	} else if (verified && store_commit(l->tmp, l->final) < 0) {
		snprintf(why, why_len, "cannot store layer %s: %s", l->digest,
			 strerror(errno));
		rc = -1;
	}
	/* Not verified (the fetch said why) or not stored: gone. */
	if (!verified || rc < 0)
		remove_tree(l->tmp);
	free(l);
	return verified ? rc : -1;
}
