#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "imageref.h"
#include "manifest.h"
#include "registry.h"

void host_platform(struct platform *p)
{
	/* uname's machine names, as the registries' (Go's) names. */
	static const struct {
		const char *machine, *arch, *variant;
	} names[] = {
		{"x86_64", "amd64", ""},   {"aarch64", "arm64", "v8"},
		{"armv7l", "arm", "v7"},   {"armv6l", "arm", "v6"},
		{"i686", "386", ""},	   {"i386", "386", ""},
		{"ppc64le", "ppc64le", ""}, {"s390x", "s390x", ""},
		{"riscv64", "riscv64", ""}, {"mips64", "mips64", ""},
	};
	struct utsname u;
	memset(p, 0, sizeof(*p));
	strcpy(p->os, "linux");
	if (uname(&u) < 0)
		u.machine[0] = '\0';
	snprintf(p->architecture, sizeof(p->architecture), "%s", u.machine);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(u.machine, names[i].machine)) {
			strcpy(p->architecture, names[i].arch);
			strcpy(p->variant, names[i].variant);
		}
}

/* Fill d from a descriptor object; -1 with why when it is not one. */
static int read_descriptor(json_t *o, struct descriptor *d, const char *what,
			   char *why, size_t why_len)
{
	const char *mt = json_string_value(json_object_get(o, "mediaType"));
	const char *digest = json_string_value(json_object_get(o, "digest"));
	json_t *size = json_object_get(o, "size");

	memset(d, 0, sizeof(*d));
	if (!digest || !is_sha256_digest(digest)) {
		snprintf(why, why_len, "the manifest's %s has no sha256 "
				       "digest", what);
		return -1;
	}
	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		snprintf(why, why_len, "the manifest's %s has no size", what);
		return -1;
	}
	snprintf(d->media_type, sizeof(d->media_type), "%s", mt ? mt : "");
	strcpy(d->digest, digest);
	d->size = json_integer_value(size);
	return 0;
}

/* Whether a layer's media type is a tar we can unpack (plain, gzip or
 * zstd; Docker's and OCI's names, and the non-distributable ones). */
static bool is_layer_type(const char *mt)
{
	return strstr(mt, ".tar") != NULL &&
	       (!strncmp(mt, "application/vnd.oci.image.layer.", 32) ||
		!strncmp(mt, "application/vnd.docker.image.rootfs.", 36));
}

static int pick_platform(json_t *root, const struct platform *p,
			 struct manifest *m, char *why, size_t why_len)
{
	json_t *list = json_object_get(root, "manifests");
	json_t *entry, *fallback = NULL;
	size_t i;
	char seen[256] = "";

	if (!json_is_array(list)) {
		snprintf(why, why_len, "the index has no manifests list");
		return -1;
	}
	json_array_foreach(list, i, entry) {
		json_t *pl = json_object_get(entry, "platform");
		const char *os = json_string_value(json_object_get(pl, "os"));
		const char *arch =
			json_string_value(json_object_get(pl, "architecture"));
		const char *var =
			json_string_value(json_object_get(pl, "variant"));
		if (!os || !arch)
			continue;
		size_t n = strlen(seen);
		snprintf(seen + n, sizeof(seen) - n, "%s%s/%s%s%s",
			 n ? ", " : "", os, arch, var ? "/" : "",
			 var ? var : "");
		if (strcmp(os, p->os) || strcmp(arch, p->architecture))
			continue;
		/* An exact variant wins; an entry without one will do (arm64
		 * images mostly name none). */
		if (var && *p->variant && !strcmp(var, p->variant))
			return read_descriptor(entry, &m->picked, "entry",
					       why, why_len);
		if (!var && !fallback)
			fallback = entry;
	}
	if (fallback)
		return read_descriptor(fallback, &m->picked, "entry", why,
				       why_len);
	snprintf(why, why_len, "no image for %s/%s%s%s in the index (it has %s)",
		 p->os, p->architecture, *p->variant ? "/" : "", p->variant,
		 *seen ? seen : "none");
	return -1;
}

int parse_manifest(const char *body, size_t len, const char *media_type,
		   const struct platform *p, struct manifest *m, char *why,
		   size_t why_len)
{
	json_error_t jerr;
	memset(m, 0, sizeof(*m));
	json_t *root = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(root)) {
		snprintf(why, why_len, "the manifest is not JSON: %s",
			 root ? "not an object" : jerr.text);
		json_decref(root);
		return -1;
	}
	const char *mt = json_string_value(json_object_get(root, "mediaType"));
	if (!media_type || !*media_type ||
	    !strcmp(media_type, "application/json"))
		media_type = mt ? mt : "";
	/* An OCI index may leave out its mediaType: "manifests" says it. */
	if (!*media_type && json_object_get(root, "manifests"))
		media_type = MEDIA_OCI_INDEX;
	if (!*media_type && json_object_get(root, "layers"))
		media_type = MEDIA_OCI_MANIFEST;

	int rc = -1;
	if (!strcmp(media_type, MEDIA_OCI_INDEX) ||
	    !strcmp(media_type, MEDIA_DOCKER_LIST)) {
		m->is_index = true;
		rc = pick_platform(root, p, m, why, why_len);
	} else if (!strcmp(media_type, MEDIA_OCI_MANIFEST) ||
		   !strcmp(media_type, MEDIA_DOCKER_MANIFEST)) {
		json_t *layers = json_object_get(root, "layers");
		json_t *l;
		size_t i;
		if (read_descriptor(json_object_get(root, "config"),
				    &m->config, "config", why, why_len) < 0)
			goto out;
		if (!json_is_array(layers)) {
			snprintf(why, why_len, "the manifest has no layers");
			goto out;
		}
		m->n_layers = json_array_size(layers);
		m->layers = calloc(m->n_layers ? m->n_layers : 1,
				   sizeof(*m->layers));
		if (!m->layers) {
			snprintf(why, why_len, "%s", strerror(ENOMEM));
			goto out;
		}
		json_array_foreach(layers, i, l) {
			if (read_descriptor(l, &m->layers[i], "layer", why,
					    why_len) < 0)
				goto out;
			if (!is_layer_type(m->layers[i].media_type)) {
				snprintf(why, why_len,
					 "layer %s is '%s', not a tar",
					 m->layers[i].digest,
					 m->layers[i].media_type);
				goto out;
			}
		}
		rc = 0;
	} else {
		/* Schema 1 (signed, long deprecated) among others. */
		snprintf(why, why_len, "unsupported manifest type '%s'",
			 media_type);
	}
out:
	json_decref(root);
	if (rc < 0)
		free_manifest(m);
	return rc;
}

void free_manifest(struct manifest *m)
{
	free(m->layers);
	m->layers = NULL;
	m->n_layers = 0;
}

/* A JSON array of strings as a malloc'd NULL-ended list; NULL for
 * null or absent; -1 when it is something else. */
static int string_list(json_t *a, char ***out)
{
	json_t *v;
	size_t i;
	*out = NULL;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return -1;
	char **list = calloc(json_array_size(a) + 1, sizeof(*list));
	if (!list)
		return -1;
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);
		if (!s || !(list[i] = strdup(s))) {
			for (size_t j = 0; j < i; j++)
				free(list[j]);
			free(list);
			return -1;
		}
	}
	*out = list;
	return 0;
}

static void free_list(char **list)
{
	for (char **p = list; p && *p; p++)
		free(*p);
	free(list);
}

int parse_image_config(const char *body, size_t len, struct image_config *c,
		       char *why, size_t why_len)
{
	json_error_t jerr;
	memset(c, 0, sizeof(*c));
	json_t *root = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(root)) {
		snprintf(why, why_len, "the image config is not JSON: %s",
			 root ? "not an object" : jerr.text);
		json_decref(root);
		return -1;
	}
	const char *arch =
		json_string_value(json_object_get(root, "architecture"));
	const char *os = json_string_value(json_object_get(root, "os"));
	snprintf(c->architecture, sizeof(c->architecture), "%s",
		 arch ? arch : "");
	snprintf(c->os, sizeof(c->os), "%s", os ? os : "");

	/* What matters for running it is under "config" (may be absent). */
	json_t *cfg = json_object_get(root, "config");
	const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
	const char *user = json_string_value(json_object_get(cfg, "User"));
	int rc = -1;
	if (string_list(json_object_get(cfg, "Env"), &c->env) < 0 ||
	    string_list(json_object_get(cfg, "Entrypoint"), &c->entrypoint) <
		    0 ||
	    string_list(json_object_get(cfg, "Cmd"), &c->cmd) < 0) {
		snprintf(why, why_len, "the image config's Env, Entrypoint "
				       "or Cmd is not a list of strings");
		goto out;
	}
	if ((wd && *wd && !(c->working_dir = strdup(wd))) ||
	    (user && *user && !(c->user = strdup(user)))) {
		snprintf(why, why_len, "%s", strerror(ENOMEM));
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		free_image_config(c);
	return rc;
}

void free_image_config(struct image_config *c)
{
	free_list(c->env);
	free_list(c->entrypoint);
	free_list(c->cmd);
	free(c->working_dir);
	free(c->user);
	memset(c, 0, sizeof(*c));
}
