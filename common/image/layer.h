/* Layer tarballs unpacked with libarchive into the store, whiteouts made
 * as overlayfs reads them.
 *
 * .wh.NAME     NAME is deleted: a character device 0/0 named NAME,
 *              overlayfs's whiteout. Linux 5.8 and later let anyone make
 *              one (mknod of 0/0 needs no CAP_MKNOD), so rootless too.
 * .wh..wh..opq the directory hides the layers below: the xattr
 *              user.overlay.opaque=y, which overlayfs reads when mounted
 *              with userxattr (stage 12 always mounts so), and as root
 *              trusted.overlay.opaque=y too, for a mount without it.
 *
 * Newer kernels (6.7 on, as far as we could find) also read a whiteout
 * kept as a zero-size regular file with the overlay.whiteout xattr, in a
 * directory marked overlay.opaque=x (Documentation/filesystems/
 * overlayfs.rst); not needed here, since anyone may make a 0/0 device
 * on 5.8 and later, and Debian 12's 6.1 would not read it. Ubuntu
 * 24.04 (6.8) and Debian 12 (6.1) both mount overlayfs in a user
 * namespace with userxattr (5.11 on) and read the marks made here.
 */
#ifndef MINIDOCKER_LAYER_H
#define MINIDOCKER_LAYER_H

#include <stdbool.h>
#include <stddef.h>

#include "imagestore.h"

#define XATTR_OPAQUE_USER    "user.overlay.opaque"
#define XATTR_OPAQUE_TRUSTED "trusted.overlay.opaque"

/* Unpack the stored blob digest (tar, gzip or zstd) into the store's
 * layer directory of that digest, unless it is there already; made in a
 * temporary directory and renamed into place. Entries that would land
 * outside it (absolute, "..", through a symbolic link) fail the whole
 * layer. Without root, owners are not kept and device nodes other than
 * whiteouts are left out. Returns 0, or -1 with why filled in. */
int unpack_layer(struct image_store *s, const char *digest, char *why,
		 size_t why_len);

/* Unpack the tarball at tar into the directory dir (which exists), as
 * unpack_layer() does. Returns 0, or -1 with why filled in. */
int unpack_tar(const char *tar, const char *dir, char *why, size_t why_len);

/* A layer unpacked while its blob streams (layer_stream_start()). */
struct layer_stream;

/* Start unpacking the layer digest, in a thread of its own, from the
 * bytes layer_stream_feed() hands it, into a temporary directory. *l is
 * NULL when there is nothing to start: the layer is stored already, or
 * it is to be unpacked with subordinate ids (unpack_layer(), from the
 * stored blob). Returns 0, or -1 with why filled in. */
int layer_stream_start(struct image_store *s, const char *digest,
		       struct layer_stream **l, char *why, size_t why_len);

/* The next len bytes of the blob. Returns 0, or -1 with why. */
int layer_stream_feed(struct layer_stream *l, const void *data, size_t len,
		      char *why, size_t why_len);

/* The blob's end: wait for the unpacking, then rename the layer into
 * place if the blob was verified (its digest and size checked, and it
 * is stored) and it unpacked whole; otherwise remove it. Frees l.
 * Returns 0 when the layer is stored, or -1 (with why filled in when
 * verified: else the fetch's why says what failed). */
int layer_stream_end(struct layer_stream *l, bool verified, char *why,
		     size_t why_len);

#endif
