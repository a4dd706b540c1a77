/* The registry's HTTP API (OCI distribution, Docker Registry v2) over
 * libcurl, with Docker Hub's anonymous bearer tokens. */
#ifndef MINIDOCKER_REGISTRY_H
#define MINIDOCKER_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "imageref.h"

/* What a manifest GET accepts: an OCI index or Docker manifest list, an
 * OCI or Docker schema 2 image manifest. */
#define MEDIA_OCI_INDEX	   "application/vnd.oci.image.index.v1+json"
#define MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_DOCKER_LIST \
	"application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_DOCKER_MANIFEST \
	"application/vnd.docker.distribution.manifest.v2+json"

/* Manifests larger than this are refused (the spec suggests 4 MiB). */
#define REGISTRY_MANIFEST_MAX (4 << 20)

struct registry {
	void *curl;	     /* CURL *, kept for its connections */
	char base[300];	     /* "https://host[:port]" */
	char repository[256];
	bool plain_realm_ok; /* an http:// token realm is acceptable */
	char *token;	     /* the bearer token once we have one */
};

/* Get ready to talk to ref's registry: https, or plain http when the
 * registry is on the loopback or insecure is set (docker's rule).
 * Returns 0, or -1 with why filled in. */
int registry_open(struct registry *r, const struct image_ref *ref,
		  bool insecure, char *why, size_t why_len);

/* Another handle on src's registry, with its token but a connection of
 * its own (a libcurl handle serves one thread). Returns 0, or -1 with
 * why filled in. */
int registry_clone(struct registry *dst, const struct registry *src,
		   char *why, size_t why_len);

/* Release what registry_open() took. */
void registry_close(struct registry *r);

/* GET the manifest named by reference (a tag or a digest) into a
 * malloc'd buffer (*body, *len, NUL-terminated), and its Content-Type
 * into media_type. Returns 0, or -1 with why filled in. */
int registry_get_manifest(struct registry *r, const char *reference,
			  char **body, size_t *len, char *media_type,
			  size_t media_len, char *why, size_t why_len);

/* Where registry_get_blob() puts the bytes: returns 0 to go on, -1 to
 * stop the transfer (after filling the why it was given). */
typedef int (*registry_sink)(void *ctx, const void *data, size_t len);

/* GET the blob named by digest, handing each piece to sink as it
 * arrives. Returns 0, or -1 with why filled in. */
int registry_get_blob(struct registry *r, const char *digest,
		      registry_sink sink, void *ctx, char *why,
		      size_t why_len);

#endif
