/* Image references as docker reads them: alpine, alpine:3.20,
 * library/alpine@sha256:..., HOST[:PORT]/NAME:TAG. */
#ifndef MINIDOCKER_IMAGEREF_H
#define MINIDOCKER_IMAGEREF_H

#include <stdbool.h>
#include <stddef.h>

/* Docker Hub: the registry of a reference that names none, and the host
 * its API answers on. */
#define IMAGEREF_HUB	  "docker.io"
#define IMAGEREF_HUB_API "registry-1.docker.io"

struct image_ref {
	char registry[256];   /* "docker.io", "127.0.0.1:5000" */
	char repository[256]; /* "library/alpine" */
	char tag[129];	      /* "latest" unless a digest alone was given */
	char digest[72];      /* "sha256:<64 hex>", or "" */
};

/* Parse text into ref. The first component is a registry when it holds
 * a '.' or a ':' or is "localhost" (docker's rule); otherwise the
 * registry is Docker Hub, where a one-component name gets "library/".
 * Returns 0, or -1 with why filled in. */
int parse_image_ref(const char *text, struct image_ref *ref, char *why,
		    size_t why_len);

/* The reference in full, as docker prints it: "docker.io/library/
 * alpine:3.20", with "@sha256:..." when it names a digest. */
void format_image_ref(const struct image_ref *ref, char *buf, size_t len);

/* The host the registry's API answers on ("registry-1.docker.io" for
 * Docker Hub, else the registry as given). */
const char *image_ref_api_host(const struct image_ref *ref);

/* Whether the registry is on the loopback (localhost, 127.0.0.0/8,
 * ::1), where plain http is allowed without asking. */
bool image_ref_is_loopback(const struct image_ref *ref);

/* Whether text is "sha256:" and 64 lower-case hex digits. */
bool is_sha256_digest(const char *text);

#endif
