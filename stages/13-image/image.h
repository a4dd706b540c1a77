/* Stage 13's lesson: images. Pull one from a registry into the store
 * (resolve the reference, fetch the manifest or the index and pick this
 * host's platform, fetch and verify the config and the layers, unpack
 * them with their whiteouts, record the image), and run it as docker
 * does: its layers are stage 12's lower layers, its config says the
 * command, the environment, the directory and the user, and the command
 * line overrides each. Volumes bind host directories into its root. */
#ifndef MINIDOCKER_IMAGE_H
#define MINIDOCKER_IMAGE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "image/manifest.h"

#define IMAGE_LOWERS_MAX 4096 /* a mount's options fit in one page */

/* A stored image, ready to run. */
struct image {
	char lowers[IMAGE_LOWERS_MAX]; /* its layers' directories, absolute,
					* top first, joined by ':' */
	struct image_config config;    /* what its config says */
};

/* What the command line says about the container, over the image. */
struct run_request {
	char **cmd;		/* the command on the line, or an empty list */
	const char *entrypoint; /* --entrypoint, or NULL */
	const char *const *env; /* -e KEY=VALUE, n_env of them */
	size_t n_env;
	const char *workdir;  /* -w, or NULL */
	const char *user;     /* -u, or NULL */
	const char *hostname; /* the container's, for $HOSTNAME */
};

/* What the container runs: lists NULL-ended and malloc'd. */
struct run_spec {
	char **argv;
	char **env;
	const char *workdir; /* "/" unless the image or -w says */
	const char *user;    /* NULL: root */
};

/* A host directory bound into the container (-v HOST:CTR[:ro]). */
struct volume {
	char host[PATH_MAX]; /* absolute, resolved */
	char ctr[PATH_MAX];  /* absolute, inside the container */
	bool ro;
};

/* stage-13 pull [--insecure] REF, images, rmi REF: 0, or -1 after
 * saying why. insecure: plain http to a registry off the loopback. */
int pull_image(const char *text, bool insecure);
int list_images(FILE *out);
int remove_image(const char *text);

/* Find the image text names in the store. Returns 0, or -1 after saying
 * why (not pulled, a layer missing). */
int open_image(const char *text, struct image *img);
void free_image(struct image *img);

/* Docker's rules: Entrypoint, then the line's command or else Cmd; Env
 * over a default PATH, then -e; -w over WorkingDir; -u over User.
 * config is NULL for --rootfs (then the environment is ours, and the
 * line's command is the command). Returns 0, or -1 after saying why. */
int make_run_spec(const struct image_config *config,
		  const struct run_request *req, struct run_spec *spec);

/* Check -v's HOST:CTR[:ro] (HOST an existing directory) into v.
 * Returns 0, or -1 after saying why. */
int parse_volume(const char *text, struct volume *v);

/* In the child, before the pivot: make /proc, /sys and /dev in rootfs
 * (an image need not have them), then bind each volume on its place
 * inside rootfs. Dies on failure. */
void setup_volumes(const char *rootfs, const struct volume *v, size_t n);

/* In the child, after the pivot: enter the working directory (made if
 * missing, as docker does), take env as the environment, and become
 * user (NULL: stay root). Dies on failure. */
void enter_workdir(const char *dir);
void set_environment(char **env);
void set_user(const char *user);

#endif
