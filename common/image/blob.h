/* Blobs checked against their sha256 digest: fetched from a registry
 * into the store while the digest is computed, renamed into place only
 * when it matches. */
#ifndef MINIDOCKER_BLOB_H
#define MINIDOCKER_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "imagestore.h"
#include "registry.h"

/* "sha256:" and 64 hex digits, and its NUL. */
#define DIGEST_LEN 72

/* The digest of len bytes at data, as "sha256:<hex>". Returns 0, or -1
 * (libcrypto failed). */
int sha256_digest(const void *data, size_t len, char out[DIGEST_LEN]);

/* Whether data's digest is digest: 0, or -1 with why filled in. */
int check_digest(const void *data, size_t len, const char *digest,
		 char *why, size_t why_len);

/* Fetch the blob digest of size bytes (-1: unknown) from r into the
 * store, unless it is there already. The bytes stream into a temporary
 * file while their digest is computed; a wrong digest or size, or any
 * failure, removes it and stores nothing. Returns 0, or -1 with why
 * filled in. */
int fetch_blob(struct image_store *s, struct registry *r, const char *digest,
	       int64_t size, char *why, size_t why_len);

#endif
