#include <stdio.h>
#include <string.h>

#include "imageref.h"

bool is_sha256_digest(const char *text)
{
	if (strncmp(text, "sha256:", 7))
		return false;
	text += 7;
	if (strlen(text) != 64)
		return false;
	return strspn(text, "0123456789abcdef") == 64;
}

/* A repository path as the distribution spec allows it: components of
 * [a-z0-9] joined by '.', '_', '__' or runs of '-', separated by '/'. */
static bool valid_repository(const char *name)
{
	const char *c = name;
	while (*c) {
		const char *start = c;
		while (*c && *c != '/') {
			if (!((*c >= 'a' && *c <= 'z') ||
			      (*c >= '0' && *c <= '9') || *c == '.' ||
			      *c == '_' || *c == '-'))
				return false;
			c++;
		}
		/* A component starts and ends alphanumeric. */
		if (c == start || strchr("._-", *start) || strchr("._-", c[-1]))
			return false;
		if (*c == '/')
			c++;
		if (*c == '\0' && c[-1] == '/')
			return false;
	}
	return *name != '\0';
}

/* A tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
static bool valid_tag(const char *tag)
{
	size_t n = strlen(tag);
	if (n == 0 || n > 128 || *tag == '.' || *tag == '-')
		return false;
	return strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789._-") == n;
}

static int fail(char *why, size_t why_len, const char *text, const char *what)
{
	snprintf(why, why_len, "'%s' is not an image reference: %s", text,
		 what);
	return -1;
}

int parse_image_ref(const char *text, struct image_ref *ref, char *why,
		    size_t why_len)
{
	char name[512];
	memset(ref, 0, sizeof(*ref));
	if (strlen(text) >= sizeof(name))
		return fail(why, why_len, text, "too long");
	strcpy(name, text);

	/* NAME@sha256:HEX: the digest pins the content, a tag beside it
	 * is only a label. */
	char *at = strchr(name, '@');
	if (at) {
		*at = '\0';
		if (!is_sha256_digest(at + 1))
			return fail(why, why_len, text,
				    "a digest is sha256: and 64 hex digits");
		strcpy(ref->digest, at + 1);
	}
	/* A tag follows the last ':' after the last '/', so that the
	 * port of HOST:PORT/NAME is not taken for one. */
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		*colon = '\0';
		if (!valid_tag(colon + 1))
			return fail(why, why_len, text,
				    "a tag is up to 128 letters, digits, "
				    "'.', '_' and '-'");
		strcpy(ref->tag, colon + 1);
	} else if (!at) {
		strcpy(ref->tag, "latest");
	}

	/* docker's rule: the first component names a registry when it
	 * has a '.' or a ':', or is localhost. */
	char *path = name;
	char *first = strchr(name, '/');
	if (first && (memchr(name, '.', first - name) ||
		      memchr(name, ':', first - name) ||
		      !strncmp(name, "localhost/", 10))) {
		*first = '\0';
		if (strlen(name) >= sizeof(ref->registry))
			return fail(why, why_len, text, "registry too long");
		strcpy(ref->registry, name);
		path = first + 1;
	} else {
		strcpy(ref->registry, IMAGEREF_HUB);
	}
	/* Docker Hub's official images live under library/. */
	bool hub = !strcmp(ref->registry, IMAGEREF_HUB) ||
		   !strcmp(ref->registry, "index.docker.io");
	if (hub)
		strcpy(ref->registry, IMAGEREF_HUB);
	int n = snprintf(ref->repository, sizeof(ref->repository), "%s%s",
			 hub && !strchr(path, '/') ? "library/" : "", path);
	if (n < 0 || (size_t)n >= sizeof(ref->repository))
		return fail(why, why_len, text, "name too long");
	if (!valid_repository(ref->repository))
		return fail(why, why_len, text,
			    "a name is lower-case letters, digits and "
			    "separators");
	return 0;
}

void format_image_ref(const struct image_ref *ref, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%s%s%s%s", ref->registry, ref->repository,
		 *ref->tag ? ":" : "", ref->tag, *ref->digest ? "@" : "",
		 ref->digest);
}

const char *image_ref_api_host(const struct image_ref *ref)
{
	return strcmp(ref->registry, IMAGEREF_HUB) ? ref->registry
						   : IMAGEREF_HUB_API;
}

bool image_ref_is_loopback(const struct image_ref *ref)
{
	const char *h = ref->registry;
	size_t n = strcspn(h, ":");
	if (*h == '[') /* [::1]:5000 */
		return !strncmp(h, "[::1]", 5);
	return (n == 9 && !strncmp(h, "localhost", 9)) ||
	       !strncmp(h, "127.", 4);
}
