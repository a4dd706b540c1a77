#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "layer.h"
#include "process.h"

static void to_digest(const unsigned char *md, char out[DIGEST_LEN])
{
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

int sha256_digest(const void *data, size_t len, char out[DIGEST_LEN])
{
	/* The functions a streaming blob's digest uses, not EVP_Digest():
	 * fetch_blobs() calls this to look them up before its threads. */
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(ctx, data, len) &&
		 EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	to_digest(md, out);
	return 0;
}

int check_digest(const void *data, size_t len, const char *digest, char *why,
		 size_t why_len)
{
	char got[DIGEST_LEN];
	if (sha256_digest(data, len, got) < 0) {
		snprintf(why, why_len, "cannot compute a sha256 digest");
		return -1;
	}
	if (strcmp(got, digest)) {
		snprintf(why, why_len, "%s does not match its content (%s)",
			 digest, got);
		return -1;
	}
	return 0;
}

/* A blob on its way to the store. */
struct blob_fetch {
	int fd;
	EVP_MD_CTX *md;
	int64_t want; /* its size, or -1 */
	int64_t got;
	const char *digest;
	char *why;
	size_t why_len;
	blob_progress progress; /* NULL: none */
	void *ctx;
	size_t index;
	atomic_bool *stop; /* set: another blob failed; NULL: none */
	bool unpack;	   /* a layer: unpack it as it streams */
	char *hold;	   /* not NULL: leave the verified blob at its temporary
			    * name, copied here (PATH_MAX), for fetch_blobs() */
	struct layer_stream *layer; /* the unpacking, if one runs */
};

static int blob_sink(void *ctx, const void *data, size_t len)
{
	struct blob_fetch *b = ctx;
	if (b->stop && atomic_load(b->stop)) {
		snprintf(b->why, b->why_len, "stopped: another blob failed");
		return -1;
	}
	/* More than the manifest said: a registry (or a man in the middle)
	 * must not fill the disk with it. */
	if (b->want >= 0 && b->got + (int64_t)len > b->want) {
		snprintf(b->why, b->why_len,
			 "blob %s is larger than its %" PRId64 " bytes",
			 b->digest, b->want);
		return -1;
	}
	if (!EVP_DigestUpdate(b->md, data, len)) {
		snprintf(b->why, b->why_len, "cannot compute a sha256 digest");
		return -1;
	}
	if (write_all(b->fd, data, len) < 0) {
		snprintf(b->why, b->why_len, "cannot write blob %s: %s",
			 b->digest, strerror(errno));
		return -1;
	}
	b->got += (int64_t)len;
	if (b->layer &&
	    layer_stream_feed(b->layer, data, len, b->why, b->why_len) < 0)
		return -1;
	if (b->progress)
		b->progress(b->ctx, b->index, b->got);
	return 0;
}

/* Check what came against the digest and size. */
static int finish_fetch(struct blob_fetch *b)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;
	char got[DIGEST_LEN];

	if (!EVP_DigestFinal_ex(b->md, md, &n)) {
		snprintf(b->why, b->why_len, "cannot compute a sha256 digest");
		return -1;
	}
	to_digest(md, got);
	if (strcmp(got, b->digest)) {
		snprintf(b->why, b->why_len,
			 "blob %s does not match its digest (got %s): "
			 "nothing stored",
			 b->digest, got);
		return -1;
	}
	if (b->want >= 0 && b->got != b->want) {
		snprintf(b->why, b->why_len,
			 "blob %s is %" PRId64 " bytes, not %" PRId64,
			 b->digest, b->got, b->want);
		return -1;
	}
	/* On disk before the rename makes it trusted. */
	if (fsync(b->fd) < 0) {
		snprintf(b->why, b->why_len, "cannot write blob %s: %s",
			 b->digest, strerror(errno));
		return -1;
	}
	return 0;
}

/* fetch_blob(), telling b's progress of the bytes (b: all but the
 * digest, the size and why). */
static int fetch_one(struct image_store *s, struct registry *r,
		     const char *digest, int64_t size, struct blob_fetch b,
		     char *why, size_t why_len)
{
	char final[PATH_MAX], tmp[PATH_MAX];
	struct stat st;

	if (!is_sha256_digest(digest)) {
		snprintf(why, why_len, "'%s' is not a sha256 digest", digest);
		return -1;
	}
	store_blob_path(s, digest, final, sizeof(final));
	/* Only a verified blob ever gets this name. */
	if (stat(final, &st) == 0) {
		if (b.progress)
			b.progress(b.ctx, b.index, st.st_size);
		return 0;
	}
	store_temp_path(s, tmp, sizeof(tmp));
	b.want = size;
	b.digest = digest;
	b.why = why;
	b.why_len = why_len;
	b.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (b.fd < 0) {
		snprintf(why, why_len, "cannot create '%s': %s", tmp,
			 strerror(errno));
		return -1;
	}
	b.md = EVP_MD_CTX_new();
	int rc = -1;
	if (!b.md || !EVP_DigestInit_ex(b.md, EVP_sha256(), NULL))
		snprintf(why, why_len, "cannot compute a sha256 digest");
	else if (b.unpack &&
		 layer_stream_start(s, digest, &b.layer, why, why_len) < 0)
		; /* it said why */
	else if (registry_get_blob(r, digest, blob_sink, &b, why, why_len) < 0)
		; /* it said why */
	else if (finish_fetch(&b) == 0)
		rc = 0;
	EVP_MD_CTX_free(b.md);
	if (close(b.fd) < 0 && rc == 0) {
		snprintf(why, why_len, "cannot write blob %s: %s", digest,
			 strerror(errno));
		rc = -1;
	}
	if (rc == 0 && b.hold)
		snprintf(b.hold, PATH_MAX, "%s", tmp);
	else if (rc == 0 && store_commit(tmp, final) < 0) {
		snprintf(why, why_len, "cannot store blob %s: %s", digest,
			 strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		unlink(tmp);
	/* The layer goes into place after its blob: verified, on disk and
	 * renamed. */
	if (b.layer && layer_stream_end(b.layer, rc == 0, why, why_len) < 0)
		rc = -1;
	return rc;
}

int fetch_blob(struct image_store *s, struct registry *r, const char *digest,
	       int64_t size, char *why, size_t why_len)
{
	return fetch_one(s, r, digest, size, (struct blob_fetch){0}, why,
			 why_len);
}

/* What the fetching threads share. */
struct fetch_pool {
	struct image_store *s;
	const struct registry *r;
	const struct descriptor *d;
	size_t n, n_layers;
	atomic_size_t next;	/* the next blob to take */
	atomic_bool stop;	/* a blob failed: take no more, stop the rest */
	char (*held)[PATH_MAX]; /* the verified blobs after the layers */
	blob_progress progress;
	void *ctx;
	pthread_mutex_t lock; /* over why and progress */
	char *why;
	size_t why_len;
};

/* Tell the progress, one thread at a time. */
static void pool_progress(void *ctx, size_t index, int64_t got)
{
	struct fetch_pool *p = ctx;
	pthread_mutex_lock(&p->lock);
	p->progress(p->ctx, index, got);
	pthread_mutex_unlock(&p->lock);
}

/* A fetching thread: blob after blob, on a connection of its own, until
 * none is left or one failed. */
static void *fetch_worker(void *arg)
{
	struct fetch_pool *p = arg;
	struct registry r;
	char why[1024];

	if (registry_clone(&r, p->r, why, sizeof(why)) < 0)
		goto fail;
	for (size_t i; !atomic_load(&p->stop) &&
		       (i = atomic_fetch_add(&p->next, 1)) < p->n;) {
		struct blob_fetch b = {
		    .progress = p->progress ? pool_progress : NULL,
		    .ctx = p,
		    .index = i,
		    .stop = &p->stop,
		    .unpack = i < p->n_layers,
		    .hold = i < p->n_layers ? NULL : p->held[i - p->n_layers]};
		if (fetch_one(p->s, &r, p->d[i].digest, p->d[i].size, b, why,
			      sizeof(why)) < 0) {
			registry_close(&r);
			goto fail;
		}
	}
	registry_close(&r);
	return NULL;
fail:
	pthread_mutex_lock(&p->lock);
	/* The first failure says why; the others were stopped by it. */
	if (!atomic_exchange(&p->stop, true))
		snprintf(p->why, p->why_len, "%s", why);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int fetch_blobs(struct image_store *s, const struct registry *r,
		const struct descriptor *d, size_t n, size_t n_layers,
		blob_progress progress, void *ctx, char *why, size_t why_len)
{
	struct fetch_pool p = {.s = s,
			       .r = r,
			       .d = d,
			       .n = n,
			       .n_layers = n_layers,
			       .progress = progress,
			       .ctx = ctx,
			       .why = why,
			       .why_len = why_len};
	pthread_t t[FETCH_PARALLEL];
	size_t started = 0;
	char none[DIGEST_LEN];

	/* libcrypto's functions looked up now, before the threads: one
	 * looking a function up while another loads libarchive would wait
	 * for it (the loader has one lock for both). */
	if (sha256_digest("", 0, none) < 0) {
		snprintf(why, why_len, "cannot compute a sha256 digest");
		return -1;
	}
	p.held = calloc(n - n_layers + 1, sizeof(*p.held));
	if (!p.held) {
		snprintf(why, why_len, "%s", strerror(ENOMEM));
		return -1;
	}

	atomic_init(&p.next, 0);
	atomic_init(&p.stop, false);
	pthread_mutex_init(&p.lock, NULL);
	for (; started < FETCH_PARALLEL && started < n; started++) {
		int err = pthread_create(&t[started], NULL, fetch_worker, &p);
		if (err) {
			pthread_mutex_lock(&p.lock);
			if (!atomic_exchange(&p.stop, true))
				snprintf(why, why_len,
					 "cannot start a thread: %s",
					 strerror(err));
			pthread_mutex_unlock(&p.lock);
			break;
		}
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&p.lock);
	/* The blobs after the layers (the config) go into place once every
	 * layer is stored: a pull that fails stores none of them. */
	bool failed = atomic_load(&p.stop);
	for (size_t i = 0; i < n - n_layers; i++) {
		char final[PATH_MAX];
		if (!*p.held[i])
			continue;
		store_blob_path(s, d[n_layers + i].digest, final,
				sizeof(final));
		if (!failed && store_commit(p.held[i], final) < 0) {
			snprintf(why, why_len, "cannot store blob %s: %s",
				 d[n_layers + i].digest, strerror(errno));
			failed = true;
		}
		if (failed)
			unlink(p.held[i]);
	}
	free(p.held);
	return failed ? -1 : 0;
}
