#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imagestore.h"
#include "state.h"

int store_default_root(char *buf, size_t len, char *why, size_t why_len)
{
	const char *root = getenv("MINIDOCKER_ROOT");
	const char *data = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (root && *root)
		n = snprintf(buf, len, "%s", root);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/var/lib/minidocker");
	else if (data && *data == '/')
		n = snprintf(buf, len, "%s/minidocker", data);
	else if (home && *home == '/')
		n = snprintf(buf, len, "%s/.local/share/minidocker", home);
	else {
		snprintf(why, why_len, "no place for the image store: set "
				       "MINIDOCKER_ROOT or HOME");
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		snprintf(why, why_len, "the image store's path is too long");
		return -1;
	}
	return 0;
}

/* mkdir -p, 0700 for what we make: the store is ours alone. The whole
 * path first: every command after the first pull finds it there, and
 * each mkdir() of a directory that exists still locks its parent. */
static int make_dirs(const char *path)
{
	char p[PATH_MAX];
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	snprintf(p, sizeof(p), "%s", path);
	for (char *c = p + 1;; c++) {
		if (*c == '/' || *c == '\0') {
			char saved = *c;
			*c = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return -1;
			*c = saved;
			if (!saved)
				return 0;
		}
	}
}

/* Remove tmp/ entries whose pull is no longer running (their name starts
 * with its pid). Best effort: a failure here leaves only garbage. */
static void reap_temp(const struct image_store *s)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	snprintf(dir, sizeof(dir), "%s/tmp", s->root);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (end == e->d_name || *end != '.' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		remove_tree_mapped(path);
	}
	closedir(d);
}

int store_open(struct image_store *s, const char *root, bool exclusive,
	       char *why, size_t why_len)
{
	static const char *const dirs[] = {"blobs/sha256", "layers/sha256",
					   "images", "tmp"};
	char path[PATH_MAX];

	s->lock_fd = -1;
	if (snprintf(s->root, sizeof(s->root), "%s", root) >=
	    (int)sizeof(s->root)) {
		snprintf(why, why_len, "the image store's path is too long");
		return -1;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		if (make_dirs(path) < 0) {
			snprintf(why, why_len, "cannot create '%s': %s", path,
				 strerror(errno));
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s/lock", root);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0 ||
	    flock(s->lock_fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		snprintf(why, why_len, "cannot lock '%s': %s", path,
			 strerror(errno));
		store_close(s);
		return -1;
	}
	reap_temp(s);
	return 0;
}

void store_close(struct image_store *s)
{
	if (s->lock_fd >= 0) {
		int err = errno;
		close(s->lock_fd); /* releases the flock */
		errno = err;
	}
	s->lock_fd = -1;
}

/* "sha256:<hex>" -> "<root>/<kind>/sha256/<hex>" */
static void digest_path(const struct image_store *s, const char *kind,
			const char *digest, char *buf, size_t len)
{
	const char *colon = strchr(digest, ':');
	snprintf(buf, len, "%s/%s/sha256/%s", s->root, kind,
		 colon ? colon + 1 : digest);
}

void store_blob_path(const struct image_store *s, const char *digest,
		     char *buf, size_t len)
{
	digest_path(s, "blobs", digest, buf, len);
}

void store_layer_path(const struct image_store *s, const char *digest,
		      char *buf, size_t len)
{
	digest_path(s, "layers", digest, buf, len);
}

void store_temp_path(const struct image_store *s, char *buf, size_t len)
{
	uint64_t r = 0;
	/* GRND_NONBLOCK: a name, not a key; never wait for entropy. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) < 0)
		r = (uint64_t)rand();
	snprintf(buf, len, "%s/tmp/%d.%016llx", s->root, (int)getpid(),
		 (unsigned long long)r);
}

int store_commit(const char *tmp, const char *final)
{
	/* RENAME_NOREPLACE: a blob or layer already in place was verified
	 * by whoever put it there; ours is the same content. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	return remove_tree_mapped(tmp);
}

/* images/ holds one directory per reference: the reference with '/' and
 * '%' escaped, so that it is one file name. */
static int image_path(const struct image_store *s,
		      const struct image_ref *ref, char *buf, size_t len)
{
	char full[800], esc[1600];
	size_t o = 0;
	format_image_ref(ref, full, sizeof(full));
	for (const char *c = full; *c && o + 4 < sizeof(esc); c++) {
		if (*c == '/' || *c == '%')
			o += (size_t)sprintf(esc + o, "%%%02X", *c);
		else
			esc[o++] = *c;
	}
	esc[o] = '\0';
	int n = snprintf(buf, len, "%s/images/%s", s->root, esc);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Write len bytes to dir/name, and flush them to disk. */
static int write_in(const char *dir, const char *name, const char *data,
		    size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return close(fd);
}

int store_save_image(struct image_store *s, const struct image_ref *ref,
		     const char *manifest, size_t manifest_len,
		     const char *config, size_t config_len, char *why,
		     size_t why_len)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	store_temp_path(s, tmp, sizeof(tmp));
	if (image_path(s, ref, final, sizeof(final)) < 0) {
		snprintf(why, why_len, "the image's name is too long");
		return -1;
	}
	if (mkdir(tmp, 0700) < 0 ||
	    write_in(tmp, "manifest.json", manifest, manifest_len) < 0 ||
	    write_in(tmp, "config.json", config, config_len) < 0)
		goto fail;
	if (rename(tmp, final) == 0)
		return 0;
	/* An older pull of the same reference: swap the two in one step,
	 * then remove the old one (now at tmp). */
	if ((errno == EEXIST || errno == ENOTEMPTY) &&
	    renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) == 0) {
		remove_tree(tmp);
		return 0;
	}
fail:
	snprintf(why, why_len, "cannot store the image in '%s': %s", final,
		 strerror(errno));
	int err = errno;
	remove_tree(tmp);
	errno = err;
	return -1;
}

int read_whole(const char *path, size_t max, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0)
		goto fail;
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	char *b = malloc((size_t)st.st_size + 1);
	if (!b)
		goto fail;
	size_t done = 0;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, b + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* it shrank */
			free(b);
			goto fail;
		}
		done += (size_t)n;
	}
	b[done] = '\0';
	close(fd);
	*buf = b;
	*len = done;
	return 0;
fail:;
	int err = errno;
	close(fd);
	errno = err;
	return -1;
}

int store_load_image(const struct image_store *s, const struct image_ref *ref,
		     char **manifest, size_t *manifest_len, char **config,
		     size_t *config_len, char *why, size_t why_len)
{
	char dir[PATH_MAX], path[PATH_MAX + 20], name[800];
	format_image_ref(ref, name, sizeof(name));
	if (image_path(s, ref, dir, sizeof(dir)) < 0) {
		snprintf(why, why_len, "no image '%s': its name is too long",
			 name);
		return -1;
	}

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (read_whole(path, 4 << 20, manifest, manifest_len) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (read_whole(path, 4 << 20, config, config_len) < 0) {
		int err = errno;
		free(*manifest);
		errno = err;
		goto fail;
	}
	return 0;
fail:
	if (errno == ENOENT)
		snprintf(why, why_len, "no image '%s' in '%s': pull it first",
			 name, s->root);
	else
		snprintf(why, why_len, "cannot read '%s': %s", path,
			 strerror(errno));
	return -1;
}

int store_image_path(const struct image_store *s, const struct image_ref *ref,
		     char *buf, size_t len)
{
	return image_path(s, ref, buf, len);
}
