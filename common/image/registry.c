#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry.h"

/* What one GET gathered: the response's headers we need, and where the
 * body went. */
struct response {
	long status;
	char content_type[128];
	char challenge[1024]; /* WWW-Authenticate: Bearer ... */
	/* A 2xx body goes to sink; any other to err (the registry's JSON
	 * error, for the message). */
	registry_sink sink;
	void *ctx;
	bool sink_failed;
	char err[1024];
	size_t err_len;
};

int registry_open(struct registry *r, const struct image_ref *ref,
		  bool insecure, char *why, size_t why_len)
{
	memset(r, 0, sizeof(*r));
	/* Thread-safe from curl 7.84 on; a no-op after the first call. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		snprintf(why, why_len, "cannot initialise libcurl");
		return -1;
	}
	r->curl = curl_easy_init();
	if (!r->curl) {
		snprintf(why, why_len, "cannot initialise libcurl");
		return -1;
	}
	bool plain = insecure || image_ref_is_loopback(ref);
	r->plain_realm_ok = plain;
	snprintf(r->base, sizeof(r->base), "%s://%s",
		 plain ? "http" : "https", image_ref_api_host(ref));
	snprintf(r->repository, sizeof(r->repository), "%s",
		 ref->repository);
	return 0;
}

int registry_clone(struct registry *dst, const struct registry *src,
		   char *why, size_t why_len)
{
	*dst = *src;
	dst->token = NULL;
	dst->curl = curl_easy_init();
	if (!dst->curl || (src->token && !(dst->token = strdup(src->token)))) {
		snprintf(why, why_len, "cannot initialise libcurl");
		registry_close(dst);
		return -1;
	}
	return 0;
}

void registry_close(struct registry *r)
{
	if (r->curl)
		curl_easy_cleanup(r->curl);
	free(r->token);
	r->curl = NULL;
	r->token = NULL;
}

/* Copy a header's value (after "Name:"), trimmed, into out. */
static void header_value(const char *line, size_t n, size_t name_len,
			 char *out, size_t out_len)
{
	const char *v = line + name_len;
	const char *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
			   end[-1] == ' '))
		end--;
	size_t len = (size_t)(end - v);
	if (len >= out_len)
		len = out_len - 1;
	memcpy(out, v, len);
	out[len] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nitems, void *p)
{
	struct response *res = p;
	size_t n = size * nitems;
	/* A new response (after a redirect): forget the last one's. */
	if (n >= 5 && !strncmp(line, "HTTP/", 5)) {
		res->content_type[0] = '\0';
		res->challenge[0] = '\0';
	} else if (n > 13 && !strncasecmp(line, "Content-Type:", 13)) {
		header_value(line, n, 13, res->content_type,
			     sizeof(res->content_type));
	} else if (n > 17 && !strncasecmp(line, "WWW-Authenticate:", 17)) {
		header_value(line, n, 17, res->challenge,
			     sizeof(res->challenge));
	}
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *p)
{
	struct response *res = p;
	size_t n = size * nmemb;
	/* res->status is the status line of the response this body
	 * belongs to (on_header_status() keeps it). */
	if (res->status >= 200 && res->status < 300) {
		if (res->sink(res->ctx, data, n) < 0) {
			res->sink_failed = true;
			return 0; /* curl stops with CURLE_WRITE_ERROR */
		}
		return n;
	}
	size_t room = sizeof(res->err) - 1 - res->err_len;
	size_t take = n < room ? n : room;
	memcpy(res->err + res->err_len, data, take);
	res->err_len += take;
	res->err[res->err_len] = '\0';
	return n;
}

/* The status line arrives before the body: keep it for on_body(). */
static size_t on_header_status(char *line, size_t size, size_t nitems,
			       void *p)
{
	struct response *res = p;
	size_t n = size * nitems;
	int code;
	if (n >= 5 && !strncmp(line, "HTTP/", 5) &&
	    sscanf(line, "HTTP/%*s %d", &code) == 1)
		res->status = code;
	return on_header(line, size, nitems, p);
}

/* One GET of url with the given Accept header (or none) and our token
 * (if any). Returns 0 once a response came (res->status says which), or
 * -1 with why filled in when none did or the sink stopped it. */
static int get_once(struct registry *r, const char *url, const char *accept,
		    const char *token, struct response *res, char *why,
		    size_t why_len)
{
	CURL *c = r->curl;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	char *auth = NULL;

	if (accept) {
		char line[512];
		snprintf(line, sizeof(line), "Accept: %s", accept);
		headers = curl_slist_append(headers, line);
	}
	if (token) {
		if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
			curl_slist_free_all(headers);
			snprintf(why, why_len, "%s", strerror(ENOMEM));
			return -1;
		}
		headers = curl_slist_append(headers, auth);
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "minidocker");
	/* Blobs are often a redirect to a storage host: follow it, over
	 * http(s) only. curl sends our Authorization header to the
	 * original host alone, never to the one redirected to. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
			 r->plain_realm_ok ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A registry that stops sending mid-blob: under 1 byte/s for 30 s
	 * ends the transfer rather than hanging the pull. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header_status);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, res);
	/* No signals: a timeout must not longjmp through our code. */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);

	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	curl_slist_free_all(headers);
	free(auth);
	if (res->sink_failed)
		return -1; /* the sink said why */
	if (rc != CURLE_OK) {
		snprintf(why, why_len, "cannot get '%s': %s", url,
			 *errbuf ? errbuf : curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* Copy the value of key="value" (or key=value) from a Bearer challenge
 * into out; "" when it has none. */
static void challenge_param(const char *challenge, const char *key, char *out,
			    size_t out_len)
{
	size_t klen = strlen(key);
	const char *p = challenge;
	out[0] = '\0';
	while ((p = strstr(p, key))) {
		/* The key must start a parameter: after the scheme's space
		 * or a comma. */
		bool starts = p > challenge && strchr(" ,\t", p[-1]);
		if (starts && p[klen] == '=') {
			p += klen + 1;
			bool quoted = *p == '"';
			p += quoted;
			size_t n = strcspn(p, quoted ? "\"" : ", ");
			if (n >= out_len)
				n = out_len - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return;
		}
		p += klen;
	}
}

static int token_sink(void *ctx, const void *data, size_t len)
{
	struct { char buf[65536]; size_t n; } *t = ctx;
	if (t->n + len >= sizeof(t->buf))
		return -1;
	memcpy(t->buf + t->n, data, len);
	t->n += len;
	t->buf[t->n] = '\0';
	return 0;
}

/* Answer a 401's challenge: fetch an anonymous token from its realm for
 * its service and scope. Returns 0 with r->token set, or -1 with why. */
static int fetch_token(struct registry *r, const char *challenge, char *why,
		       size_t why_len)
{
	char realm[512], service[256], scope[512], *url = NULL;
	struct { char buf[65536]; size_t n; } body = {.n = 0};

	if (strncasecmp(challenge, "Bearer ", 7)) {
		snprintf(why, why_len,
			 "the registry refused access (401) and named no "
			 "token service to ask%s%s",
			 *challenge ? ": " : "", challenge);
		return -1;
	}
	challenge_param(challenge, "realm", realm, sizeof(realm));
	challenge_param(challenge, "service", service, sizeof(service));
	challenge_param(challenge, "scope", scope, sizeof(scope));
	if (!*realm) {
		snprintf(why, why_len, "the registry's 401 names no token "
				       "realm");
		return -1;
	}
	if (strncmp(realm, "https://", 8) &&
	    !(r->plain_realm_ok && !strncmp(realm, "http://", 7))) {
		snprintf(why, why_len,
			 "the registry's token realm '%s' is not https", realm);
		return -1;
	}
	/* Without a scope in the challenge (a /v2/ ping), ask to pull. */
	if (!*scope)
		snprintf(scope, sizeof(scope), "repository:%s:pull",
			 r->repository);
	char *esc_service = curl_easy_escape(r->curl, service, 0);
	char *esc_scope = curl_easy_escape(r->curl, scope, 0);
	int n = asprintf(&url, "%s%cservice=%s&scope=%s", realm,
			 strchr(realm, '?') ? '&' : '?',
			 esc_service ? esc_service : "",
			 esc_scope ? esc_scope : "");
	curl_free(esc_service);
	curl_free(esc_scope);
	if (n < 0) {
		snprintf(why, why_len, "%s", strerror(ENOMEM));
		return -1;
	}

	struct response res = {.sink = token_sink, .ctx = &body};
	int rc = get_once(r, url, "application/json", NULL, &res, why,
			  why_len);
	if (rc == 0 && res.status != 200) {
		snprintf(why, why_len, "cannot get a token from '%s': HTTP %ld",
			 realm, res.status);
		rc = -1;
	} else if (rc < 0 && res.sink_failed) {
		snprintf(why, why_len, "the token from '%s' is too long", realm);
	}
	free(url);
	if (rc < 0)
		return -1;

	json_error_t jerr;
	json_t *root = json_loads(body.buf, 0, &jerr);
	/* Docker Hub gives both; the spec says token, OAuth2 says
	 * access_token. */
	const char *tok = NULL;
	if (root) {
		tok = json_string_value(json_object_get(root, "token"));
		if (!tok)
			tok = json_string_value(
				json_object_get(root, "access_token"));
	}
	if (!tok || !*tok) {
		snprintf(why, why_len, "the answer of '%s' holds no token",
			 realm);
		json_decref(root);
		return -1;
	}
	free(r->token);
	r->token = strdup(tok);
	json_decref(root);
	if (!r->token) {
		snprintf(why, why_len, "%s", strerror(ENOMEM));
		return -1;
	}
	return 0;
}

/* The registry's own words for a failed request: the first error's
 * message from its JSON body ({"errors":[{"code":...,"message":...}]}),
 * or "" . */
static void registry_error(const struct response *res, char *out,
			   size_t out_len)
{
	json_error_t jerr;
	json_t *root = json_loads(res->err, 0, &jerr);
	json_t *first = json_array_get(json_object_get(root, "errors"), 0);
	const char *msg = json_string_value(json_object_get(first, "message"));
	snprintf(out, out_len, "%s%s", msg ? ": " : "", msg ? msg : "");
	json_decref(root);
}

/* GET base + path; on a 401 with a Bearer challenge, get a token and
 * try once more. Returns 0 when a 2xx response's body went to sink, or
 * -1 with why filled in (what = "manifest 'latest'", for the message). */
static int get(struct registry *r, const char *path, const char *accept,
	       const char *what, struct response *res, char *why,
	       size_t why_len)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s%s", r->base, path);
	registry_sink sink = res->sink;
	void *ctx = res->ctx;

	for (int attempt = 0;; attempt++) {
		*res = (struct response){.sink = sink, .ctx = ctx};
		if (get_once(r, url, accept, r->token, res, why, why_len) < 0)
			return -1;
		if (res->status != 401 || attempt > 0)
			break;
		if (fetch_token(r, res->challenge, why, why_len) < 0)
			return -1;
	}
	if (res->status >= 200 && res->status < 300)
		return 0;

	char detail[256];
	registry_error(res, detail, sizeof(detail));
	if (res->status == 401)
		snprintf(why, why_len,
			 "the registry refused our token for %s (401)%s",
			 r->repository, detail);
	else if (res->status == 404)
		snprintf(why, why_len, "%s not found in %s%s", what,
			 r->repository, detail);
	else
		snprintf(why, why_len, "cannot get %s of %s: HTTP %ld%s", what,
			 r->repository, res->status, detail);
	return -1;
}

struct membuf {
	char *data;
	size_t len;
	char *why;
	size_t why_len;
};

static int memory_sink(void *ctx, const void *data, size_t len)
{
	struct membuf *m = ctx;
	if (m->len + len > REGISTRY_MANIFEST_MAX) {
		snprintf(m->why, m->why_len, "the manifest is larger than %d "
					     "bytes", REGISTRY_MANIFEST_MAX);
		return -1;
	}
	char *p = realloc(m->data, m->len + len + 1);
	if (!p) {
		snprintf(m->why, m->why_len, "%s", strerror(ENOMEM));
		return -1;
	}
	memcpy(p + m->len, data, len);
	m->data = p;
	m->len += len;
	m->data[m->len] = '\0';
	return 0;
}

int registry_get_manifest(struct registry *r, const char *reference,
			  char **body, size_t *len, char *media_type,
			  size_t media_len, char *why, size_t why_len)
{
	char path[600], what[200];
	struct membuf m = {.why = why, .why_len = why_len};
	struct response res = {.sink = memory_sink, .ctx = &m};

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", r->repository,
		 reference);
	snprintf(what, sizeof(what), "manifest '%s'", reference);
	if (get(r, path, MEDIA_OCI_INDEX ", " MEDIA_DOCKER_LIST ", "
			 MEDIA_OCI_MANIFEST ", " MEDIA_DOCKER_MANIFEST,
		what, &res, why, why_len) < 0) {
		free(m.data);
		return -1;
	}
	if (!m.data && memory_sink(&m, "", 0) < 0)
		return -1;
	/* "type; charset=..." -> "type" */
	res.content_type[strcspn(res.content_type, "; ")] = '\0';
	snprintf(media_type, media_len, "%s", res.content_type);
	*body = m.data;
	*len = m.len;
	return 0;
}

int registry_get_blob(struct registry *r, const char *digest,
		      registry_sink sink, void *ctx, char *why, size_t why_len)
{
	char path[600], what[200];
	struct response res = {.sink = sink, .ctx = ctx};

	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", r->repository, digest);
	snprintf(what, sizeof(what), "blob %s", digest);
	return get(r, path, NULL, what, &res, why, why_len);
}
