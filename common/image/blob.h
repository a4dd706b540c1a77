/* Blobs checked against their sha256 digest: fetched from a registry
 * into the store while the digest is computed, renamed into place only
 * when it matches. */
#ifndef MINIDOCKER_BLOB_H
#define MINIDOCKER_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "imagestore.h"
#include "manifest.h"
#include "registry.h"

/* "sha256:" and 64 hex digits, and its NUL. */
#define DIGEST_LEN 72

/* The digest of len bytes at data, as "sha256:<hex>". Returns 0, or -1
 * (libcrypto failed). */
int sha256_digest(const void *data, size_t len, char out[DIGEST_LEN]);

/* Whether data's digest is digest: 0, or -1 with why filled in. */
int check_digest(const void *data, size_t len, const char *digest, char *why,
		 size_t why_len);

/* Fetch the blob digest of size bytes (-1: unknown) from r into the
 * store, unless it is there already. The bytes stream into a temporary
 * file while their digest is computed; a wrong digest or size, or any
 * failure, removes it and stores nothing. Returns 0, or -1 with why
 * filled in. */
int fetch_blob(struct image_store *s, struct registry *r, const char *digest,
	       int64_t size, char *why, size_t why_len);

/* Blobs fetched at once by fetch_blobs(), at most. */
#define FETCH_PARALLEL 4

/* Told of each blob's bytes as they come: the index of the blob in the
 * list fetch_blobs() got, and how many of it have come so far (its size
 * once it is stored, also when it was there already). Called from the
 * fetching threads, one at a time. */
typedef void (*blob_progress)(void *ctx, size_t index, int64_t got);

/* Fetch the n blobs d, as fetch_blob() does each, up to FETCH_PARALLEL
 * at once over connections of their own to r's registry. The first
 * n_layers of them are layers: each is unpacked as it streams, by a
 * thread of its own (layer_stream_start()), and renamed into place
 * after its blob was verified and stored. The first failure stops the
 * others. Returns 0, or -1 with the first failure's why. */
int fetch_blobs(struct image_store *s, const struct registry *r,
		const struct descriptor *d, size_t n, size_t n_layers,
		blob_progress progress, void *ctx, char *why, size_t why_len);

#endif
