/* The image store: blobs by digest, layers unpacked by digest, images by
 * reference. Everything is made under a temporary name in tmp/ and
 * renamed into place, so that a killed pull leaves nothing that a later
 * run would trust.
 *
 *   ROOT/blobs/sha256/<hex>       verified blobs (layers, configs)
 *   ROOT/layers/sha256/<hex>/     a layer blob unpacked, whiteouts made
 *   ROOT/images/<escaped ref>/    manifest.json and config.json
 *   ROOT/tmp/<pid>.<random>       work in progress
 *   ROOT/lock                     flock: shared to pull, exclusive to remove
 */
#ifndef MINIDOCKER_IMAGESTORE_H
#define MINIDOCKER_IMAGESTORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "imageref.h"

struct image_store {
	char root[PATH_MAX - 200]; /* room for what goes below it */
	int lock_fd;
};

/* Where the store lives (DESIGN.md, "Where state lives"):
 * $MINIDOCKER_ROOT, else /var/lib/minidocker for root, else
 * $XDG_DATA_HOME/minidocker ($HOME/.local/share/minidocker). Returns 0,
 * or -1 with why filled in. */
int store_default_root(char *buf, size_t len, char *why, size_t why_len);

/* Make the store's directories under root if missing, take its lock
 * (exclusive or shared; waits for it), and remove what dead pulls left in
 * tmp/. Returns 0, or -1 with why filled in. */
int store_open(struct image_store *s, const char *root, bool exclusive,
	       char *why, size_t why_len);

/* Drop the lock. */
void store_close(struct image_store *s);

/* The path of the blob, or of the unpacked layer, of digest. */
void store_blob_path(const struct image_store *s, const char *digest,
		     char *buf, size_t len);
void store_layer_path(const struct image_store *s, const char *digest,
		      char *buf, size_t len);

/* A new temporary name in tmp/ (nothing is made there yet), on the same
 * file system as the store so that rename() can move it into place. */
void store_temp_path(const struct image_store *s, char *buf, size_t len);

/* Rename the finished temporary tmp to final, unless final already
 * exists (a pull beside ours made the same content): then remove tmp.
 * Returns 0, or -1 with errno. */
int store_commit(const char *tmp, const char *final);

/* Store the manifest and config of ref as the image ref names, replacing
 * an older one in one rename. Returns 0, or -1 with why filled in. */
int store_save_image(struct image_store *s, const struct image_ref *ref,
		     const char *manifest, size_t manifest_len,
		     const char *config, size_t config_len, char *why,
		     size_t why_len);

/* Read what store_save_image() stored for ref: malloc'd, NUL-terminated.
 * Returns 0, -1 with why filled in (errno ENOENT: no such image). */
int store_load_image(const struct image_store *s, const struct image_ref *ref,
		     char **manifest, size_t *manifest_len, char **config,
		     size_t *config_len, char *why, size_t why_len);

/* The directory store_save_image() keeps ref's image in: images/ and
 * the full reference with '/' and '%' as %2F and %25. Returns 0, or -1
 * with errno (ENAMETOOLONG). */
int store_image_path(const struct image_store *s, const struct image_ref *ref,
		     char *buf, size_t len);

/* Read a whole file of at most max bytes into a malloc'd, NUL-terminated
 * buffer. Returns 0, or -1 with errno (EFBIG when larger than max). */
int read_whole(const char *path, size_t max, char **buf, size_t *len);

#endif
