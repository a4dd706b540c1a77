/* The registry's JSON, read with jansson: image manifests (Docker v2
 * schema 2 and OCI), manifest lists and OCI indexes (one image per
 * platform), and the image config. */
#ifndef MINIDOCKER_MANIFEST_H
#define MINIDOCKER_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct descriptor {
	char media_type[128];
	char digest[72];
	int64_t size;
};

struct manifest {
	/* A manifest list or OCI index: picked is the entry for this
	 * host's platform, the rest is empty. */
	bool is_index;
	struct descriptor picked;
	/* An image manifest: its config and its layers, bottom first. */
	struct descriptor config;
	struct descriptor *layers; /* malloc'd */
	size_t n_layers;
};

/* The platform images are picked for, in the registry's words: os
 * "linux", architecture from uname(2) as Go names it ("amd64", "arm64",
 * "arm", "386", ...), variant where the architecture has them ("v8",
 * "v7", "v6") or "". */
struct platform {
	char os[16];
	char architecture[65]; /* as long as uname's machine */
	char variant[16];
};
void host_platform(struct platform *p);

/* Parse a manifest, an index or list (is_index, picked for platform p),
 * of the given media type (the Content-Type; "" to go by its own
 * mediaType). Returns 0, or -1 with why filled in (an index without an
 * entry for p says which platforms it has). */
int parse_manifest(const char *body, size_t len, const char *media_type,
		   const struct platform *p, struct manifest *m, char *why,
		   size_t why_len);

/* Release what parse_manifest() allocated. */
void free_manifest(struct manifest *m);

/* What an image config says about how to run it (each NULL when it
 * says nothing; lists NULL-ended, all malloc'd). */
struct image_config {
	char **env;	   /* "KEY=VALUE" */
	char **entrypoint;
	char **cmd;
	char *working_dir;
	char *user;	   /* "uid[:gid]", or names */
	char architecture[32];
	char os[16];
};

/* Parse an image config. Returns 0, or -1 with why filled in. */
int parse_image_config(const char *body, size_t len, struct image_config *c,
		       char *why, size_t why_len);

/* Release what parse_image_config() allocated. */
void free_image_config(struct image_config *c);

#endif
