/*
 * Stage 13's lesson: images. `pull` speaks the registry's API (the OCI
 * distribution spec) through common/image/: it resolves the reference,
 * fetches the manifest (from an index, this host's entry), then the
 * config and every layer, each checked against its sha256 digest as it
 * streams, unpacks each layer once with its whiteouts made overlay
 * whiteouts, and only then records the image. `run IMAGE` stacks the
 * layers as stage 12's lower layers and applies the config as docker
 * does; `-v` binds host directories into the container's root, where
 * data outlives the disposable layer.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "image.h"
#include "image/blob.h"
#include "image/imageref.h"
#include "image/imagestore.h"
#include "image/layer.h"
#include "image/progress.h"
#include "image/registry.h"
#include "state.h"
#include "userns.h"

#define CONFIG_MAX (4 << 20) /* as the manifest's bound */

/* docker's PATH when the image sets none. */
#define DEFAULT_PATH                                                           \
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Open the store (made if missing) with its lock: shared for a pull
 * beside others, exclusive to remove. Returns 0, or -1 after saying why. */
static int open_store(struct image_store *s, bool exclusive)
{
	char root[PATH_MAX], why[PATH_MAX + 256];
	if (store_default_root(root, sizeof(root), why, sizeof(why)) < 0 ||
	    store_open(s, root, exclusive, why, sizeof(why)) < 0) {
		report("cannot open the image store: %s", why);
		return -1;
	}
	return 0;
}

/* GET the manifest wanted (a tag or a digest) and parse it; an index
 * (a manifest list) is followed once, to this host's platform's entry.
 * A manifest asked for by digest must be what the digest names. The
 * image manifest's bytes end in *body. Returns 0, or -1 with why. */
static int fetch_manifest(struct registry *r, const char *wanted,
			  struct manifest *m, char **body, size_t *len,
			  char *why, size_t why_len)
{
	struct platform p;
	char mt[128], picked[DIGEST_LEN];

	host_platform(&p);
	for (int hop = 0; hop < 2; hop++) {
		if (registry_get_manifest(r, wanted, body, len, mt, sizeof(mt),
					  why, why_len) < 0)
			return -1;
		if ((is_sha256_digest(wanted) &&
		     check_digest(*body, *len, wanted, why, why_len) < 0) ||
		    parse_manifest(*body, *len, mt, &p, m, why, why_len) < 0) {
			free(*body);
			return -1;
		}
		if (!m->is_index)
			return 0;
		verbose("index: %s/%s is %s", p.os, p.architecture,
			m->picked.digest);
		snprintf(picked, sizeof(picked), "%s", m->picked.digest);
		wanted = picked;
		free(*body);
		free_manifest(m);
	}
	snprintf(why, why_len, "an index inside an index");
	return -1;
}

/* Fetch every layer and the config, a few at once (each verified as it
 * streams), with the layers' progress on a terminal; each layer is
 * unpacked with its whiteouts while it streams, or after (from its
 * stored blob, with subordinate ids); all into the store under their
 * digests, each renamed into place only once whole and verified.
 * Returns 0, or -1 with why. */
static int fetch_layers(struct image_store *s, struct registry *r,
			const struct manifest *m, char *why, size_t why_len)
{
	struct progress bar;
	struct subid_map sub;
	char none[256];

	/* Without root and without subordinate ids, a user cannot give
	 * files away: say once that the image's owners are lost. */
	if (geteuid() != 0 && !subid_find("", &sub, none, sizeof(none)))
		report("%s: the layers' files are stored as uid %d's, the "
		       "image's own owners are not kept", none, (int)getuid());
	/* The config with the layers, after them: one request less to
	 * wait for at the end. */
	struct descriptor *all = calloc(m->n_layers + 1, sizeof(*all));
	if (!all) {
		snprintf(why, why_len, "%s", strerror(ENOMEM));
		return -1;
	}
	memcpy(all, m->layers, m->n_layers * sizeof(*all));
	all[m->n_layers] = m->config;
	/* Progress for a person; nothing for a pipe or a log. */
	progress_start(&bar, STDERR_FILENO, m->layers, m->n_layers);
	int rc = fetch_blobs(s, r, all, m->n_layers + 1, m->n_layers,
			     progress_update, &bar, why, why_len);
	progress_end(&bar);
	free(all);
	/* What did not unpack as it streamed: one at a time, as libarchive
	 * unpacks relative to the working directory, which this thread
	 * shares with the process. */
	for (size_t i = 0; rc == 0 && i < m->n_layers; i++)
		rc = unpack_layer(s, m->layers[i].digest, why, why_len);
	return rc;
}

/* stage-13 pull REF: the pull sequence, and the image recorded last, so
 * that a pull that fails anywhere leaves no image a run would trust. */
int pull_image(const char *text, bool insecure)
{
	struct image_ref ref;
	struct registry r;
	struct image_store s;
	struct manifest m = {0};
	char why[PATH_MAX + 512], path[PATH_MAX], name[800];
	char *body = NULL, *config = NULL;
	size_t len, config_len;
	int rc = -1;

	if (parse_image_ref(text, &ref, why, sizeof(why)) < 0) {
		report("cannot pull '%s': %s", text, why);
		return -1;
	}
	format_image_ref(&ref, name, sizeof(name));
	/* https, unless the registry is on the loopback or the user asked
	 * for plain http (--insecure), as docker does. */
	if (registry_open(&r, &ref, insecure, why, sizeof(why)) < 0) {
		report("cannot pull '%s': %s", name, why);
		return -1;
	}
	if (open_store(&s, false) < 0) {
		registry_close(&r);
		return -1;
	}
	if (fetch_manifest(&r, *ref.digest ? ref.digest : ref.tag, &m, &body,
			   &len, why, sizeof(why)) < 0)
		goto out;
	if (fetch_layers(&s, &r, &m, why, sizeof(why)) < 0)
		goto out;
	store_blob_path(&s, m.config.digest, path, sizeof(path));
	if (read_whole(path, CONFIG_MAX, &config, &config_len) < 0) {
		snprintf(why, sizeof(why), "cannot read '%s': %s", path,
			 strerror(errno));
		goto out;
	}
	rc = store_save_image(&s, &ref, body, len, config, config_len, why,
			      sizeof(why));
out:
	if (rc < 0)
		report("cannot pull '%s': %s", name, why);
	else
		printf("%s\n", name);
	free(body);
	free(config);
	free_manifest(&m);
	store_close(&s);
	registry_close(&r);
	return rc;
}

/* The stored manifest and config of the image in dir, parsed. Returns
 * 0, or -1 with why. */
static int load_dir(const char *dir, struct manifest *m, struct image_config *c,
		    char cfg_digest[DIGEST_LEN], char *why, size_t why_len)
{
	char path[PATH_MAX + 32], *man = NULL, *cfg = NULL;
	size_t ml, cl;
	struct platform p;
	int rc = -1;

	host_platform(&p);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (read_whole(path, REGISTRY_MANIFEST_MAX, &man, &ml) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (read_whole(path, CONFIG_MAX, &cfg, &cl) < 0)
		goto fail;
	if (parse_manifest(man, ml, "", &p, m, why, why_len) < 0)
		goto out;
	if (c && parse_image_config(cfg, cl, c, why, why_len) < 0) {
		free_manifest(m);
		goto out;
	}
	/* The image's id, as docker's: its config's digest. */
	if (cfg_digest && sha256_digest(cfg, cl, cfg_digest) < 0)
		snprintf(cfg_digest, DIGEST_LEN, "?");
	rc = 0;
	goto out;
fail:
	snprintf(why, why_len, "cannot read '%s': %s", path, strerror(errno));
out:
	free(man);
	free(cfg);
	return rc;
}

/* images/'s entry name back into the reference (%2F is '/', %25 '%'). */
static void unescape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (; *in && o + 1 < len; o++) {
		unsigned c;
		if (in[0] == '%' && sscanf(in + 1, "%2X", &c) == 1) {
			out[o] = (char)c;
			in += 3;
		} else {
			out[o] = *in++;
		}
	}
	out[o] = '\0';
}

/* stage-13 images: every stored image, its id and the size of its
 * layers as fetched. */
int list_images(FILE *out)
{
	struct image_store s;
	char dir[PATH_MAX], path[PATH_MAX + 300], why[PATH_MAX + 256];
	char name[800], id[DIGEST_LEN];

	if (open_store(&s, false) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/images", s.root);
	DIR *d = opendir(dir);
	if (!d) {
		report_errno("cannot list '%s'", dir);
		store_close(&s);
		return -1;
	}
	fprintf(out, "%-48s %-12s %s\n", "REFERENCE", "ID", "SIZE");
	struct dirent *e;
	while ((e = readdir(d))) {
		struct manifest m = {0};
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unescape(e->d_name, name, sizeof(name));
		if (load_dir(path, &m, NULL, id, why, sizeof(why)) < 0) {
			fprintf(out, "%-48s %-12s %s\n", name, "?", why);
			continue;
		}
		long long size = m.config.size;
		for (size_t i = 0; i < m.n_layers; i++)
			size += m.layers[i].size;
		fprintf(out, "%-48s %-12.12s %lld\n", name, id + 7, size);
		free_manifest(&m);
	}
	closedir(d);
	store_close(&s);
	return 0;
}

/* Whether any image stored in images/ (but skip) uses digest as its
 * config or as a layer. */
static bool digest_in_use(const struct image_store *s, const char *digest)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], why[PATH_MAX + 256];
	bool used = false;

	snprintf(dir, sizeof(dir), "%s/images", s->root);
	DIR *d = opendir(dir);
	if (!d)
		return true; /* when in doubt, keep it */
	struct dirent *e;
	while (!used && (e = readdir(d))) {
		struct manifest m = {0};
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (load_dir(path, &m, NULL, NULL, why, sizeof(why)) < 0) {
			used = true; /* unreadable: it may use it */
			continue;
		}
		used = !strcmp(m.config.digest, digest);
		for (size_t i = 0; !used && i < m.n_layers; i++)
			used = !strcmp(m.layers[i].digest, digest);
		free_manifest(&m);
	}
	closedir(d);
	return used;
}

/* Remove path by renaming it into tmp/ first, so that no half-removed
 * layer is ever left where a run would find it. */
static int remove_stored(const struct image_store *s, const char *path)
{
	char tmp[PATH_MAX];
	store_temp_path(s, tmp, sizeof(tmp));
	if (rename(path, tmp) < 0)
		return errno == ENOENT ? 0 : -1;
	return remove_tree_mapped(tmp);
}

/* stage-13 rmi REF: the image, then each of its blobs and layers that
 * no other image uses, under the store's exclusive lock. */
int remove_image(const char *text)
{
	struct image_ref ref;
	struct image_store s;
	struct manifest m = {0};
	char why[PATH_MAX + 256], dir[PATH_MAX], path[PATH_MAX], name[800];

	if (parse_image_ref(text, &ref, why, sizeof(why)) < 0) {
		report("cannot remove '%s': %s", text, why);
		return -1;
	}
	format_image_ref(&ref, name, sizeof(name));
	if (open_store(&s, true) < 0)
		return -1;
	if (store_image_path(&s, &ref, dir, sizeof(dir)) < 0 ||
	    access(dir, F_OK) < 0) {
		report("cannot remove '%s': no such image in '%s'", name,
		       s.root);
		goto fail;
	}
	if (load_dir(dir, &m, NULL, NULL, why, sizeof(why)) < 0) {
		report("cannot remove '%s': %s", name, why);
		goto fail;
	}
	if (remove_stored(&s, dir) < 0) {
		report_errno("cannot remove '%s'", dir);
		goto fail;
	}
	printf("untagged %s\n", name);
	for (size_t i = 0; i <= m.n_layers; i++) {
		const char *digest =
		    i < m.n_layers ? m.layers[i].digest : m.config.digest;
		if (digest_in_use(&s, digest))
			continue;
		store_layer_path(&s, digest, path, sizeof(path));
		if (remove_stored(&s, path) < 0) {
			report_errno("cannot remove '%s'", path);
			goto fail;
		}
		store_blob_path(&s, digest, path, sizeof(path));
		if (remove_stored(&s, path) < 0) {
			report_errno("cannot remove '%s'", path);
			goto fail;
		}
		printf("deleted %s\n", digest);
	}
	free_manifest(&m);
	store_close(&s);
	return 0;
fail:
	free_manifest(&m);
	store_close(&s);
	return -1;
}

int open_image(const char *text, struct image *img)
{
	struct image_ref ref;
	struct image_store s;
	struct manifest m = {0};
	char why[PATH_MAX + 256], dir[PATH_MAX], path[PATH_MAX], name[800];
	size_t used = 0;

	*img = (struct image){0};
	if (parse_image_ref(text, &ref, why, sizeof(why)) < 0) {
		report("cannot use image '%s': %s", text, why);
		return -1;
	}
	format_image_ref(&ref, name, sizeof(name));
	if (open_store(&s, false) < 0)
		return -1;
	if (store_image_path(&s, &ref, dir, sizeof(dir)) < 0 ||
	    access(dir, F_OK) < 0) {
		report("no image '%s' in '%s': pull it first (stage-13 pull "
		       "%s)",
		       name, s.root, text);
		goto fail;
	}
	if (load_dir(dir, &m, &img->config, NULL, why, sizeof(why)) < 0) {
		report("cannot use image '%s': %s", name, why);
		goto fail;
	}
	if (m.n_layers == 0) {
		report("cannot use image '%s': it has no layer", name);
		goto fail;
	}
	/* Stage 12's lowers are top first; a manifest lists its layers
	 * bottom first. */
	for (size_t i = m.n_layers; i-- > 0;) {
		store_layer_path(&s, m.layers[i].digest, path, sizeof(path));
		if (access(path, F_OK) < 0) {
			report("cannot use image '%s': layer %s is missing "
			       "(pull it again)",
			       name, m.layers[i].digest);
			goto fail;
		}
		int n = snprintf(img->lowers + used, sizeof(img->lowers) - used,
				 "%s%s", used ? ":" : "", path);
		if (n < 0 || (size_t)n >= sizeof(img->lowers) - used) {
			report("cannot use image '%s': too many layers", name);
			goto fail;
		}
		used += (size_t)n;
	}
	free_manifest(&m);
	store_close(&s);
	verbose("image '%s': layers %s", name, img->lowers);
	return 0;
fail:
	free_manifest(&m);
	free_image_config(&img->config);
	store_close(&s);
	return -1;
}

void free_image(struct image *img)
{
	free_image_config(&img->config);
}

/* Append the NULL-ended list add to the NULL-ended malloc'd list *l. */
static void append(char ***l, size_t *n, char *const *add)
{
	for (; add && *add; add++) {
		*l = realloc(*l, (*n + 2) * sizeof(**l));
		if (!*l)
			die("out of memory");
		(*l)[(*n)++] = *add;
		(*l)[*n] = NULL;
	}
}

/* Set KEY=VALUE in the list: replace the entry of the same KEY, or
 * append it. */
static void put_env(char ***l, size_t *n, char *kv)
{
	size_t k = strcspn(kv, "=");
	for (size_t i = 0; i < *n; i++)
		if (!strncmp((*l)[i], kv, k) && (*l)[i][k] == '=') {
			(*l)[i] = kv;
			return;
		}
	char *one[] = {kv, NULL};
	append(l, n, one);
}

int make_run_spec(const struct image_config *config,
		  const struct run_request *req, struct run_spec *spec)
{
	extern char **environ;
	static char path[] = DEFAULT_PATH;
	static char hostname[80];
	size_t na = 0, ne = 0;

	*spec = (struct run_spec){0};
	if (!config) {
		/* --rootfs: the line's command as it is, our environment. */
		append(&spec->argv, &na, req->cmd);
		append(&spec->env, &ne, environ);
	} else {
		/* The entrypoint, then the line's command, or else Cmd; a new
		 * entrypoint drops the image's Cmd too, as docker's does. */
		char *ep[] = {(char *)req->entrypoint, NULL};
		append(&spec->argv, &na,
		       req->entrypoint ? ep : config->entrypoint);
		if (req->cmd[0])
			append(&spec->argv, &na, req->cmd);
		else if (!req->entrypoint)
			append(&spec->argv, &na, config->cmd);
		snprintf(hostname, sizeof(hostname), "HOSTNAME=%s",
			 req->hostname);
		put_env(&spec->env, &ne, path);
		put_env(&spec->env, &ne, hostname);
		for (char **e = config->env; e && *e; e++)
			put_env(&spec->env, &ne, *e);
		spec->workdir = config->working_dir;
		if (config->user && *config->user)
			spec->user = config->user;
	}
	for (size_t i = 0; i < req->n_env; i++)
		put_env(&spec->env, &ne, (char *)req->env[i]);
	if (req->workdir)
		spec->workdir = req->workdir;
	if (!spec->workdir || !*spec->workdir)
		spec->workdir = "/";
	if (req->user)
		spec->user = req->user;
	if (!spec->argv || !spec->argv[0] || !spec->argv[0][0]) {
		report("no command to run: the image names none, and none "
		       "follows it on the line");
		return -1;
	}
	if (spec->workdir[0] != '/') {
		report("bad working directory '%s': want an absolute path",
		       spec->workdir);
		return -1;
	}
	return 0;
}

int parse_volume(const char *text, struct volume *v)
{
	char host[PATH_MAX];
	const char *colon = strchr(text, ':');
	const char *ro = colon ? strchr(colon + 1, ':') : NULL;
	struct stat st;

	/* args.c checked the shape: /HOST:/CTR or /HOST:/CTR:ro. */
	snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
	snprintf(v->ctr, sizeof(v->ctr), "%.*s",
		 (int)(ro ? (size_t)(ro - colon - 1) : strlen(colon + 1)),
		 colon + 1);
	v->ro = ro != NULL;
	if (!realpath(host, v->host) || stat(v->host, &st) < 0) {
		report_errno("bad volume '%s': cannot use '%s'", text, host);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		report("bad volume '%s': '%s' is not a directory", text, host);
		return -1;
	}
	return 0;
}

/* openat2() with RESOLVE_IN_ROOT: path looked up as if root were /, so
 * that neither ".." nor a symbolic link in the image (an absolute one,
 * say /etc) leads out of it onto the host's files. */
static int open_in_root(int root, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT};
	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

/* mkdir -p path inside root, each step resolved in it; returns the
 * directory opened O_PATH, or -1 with errno. */
static int make_dir_in_root(int root, const char *path)
{
	char part[PATH_MAX];
	for (const char *c = path + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		snprintf(part, sizeof(part), "%.*s", (int)(c - path), path);
		char *slash = strrchr(part, '/');
		*slash = '\0';
		int parent = open_in_root(root, *part ? part : "/",
					  O_PATH | O_DIRECTORY);
		if (parent < 0)
			return -1;
		if (slash[1] && mkdirat(parent, slash + 1, 0755) < 0 &&
		    errno != EEXIST) {
			close(parent);
			return -1;
		}
		close(parent);
		if (*c == '\0')
			return open_in_root(root, path, O_PATH | O_DIRECTORY);
	}
}

/* Bind v->host on v->ctr inside the root open at root: a copy of the
 * host directory's mounts (open_tree), made read-only for :ro on the
 * copy alone (mount_setattr, Linux 5.12), moved onto the directory as
 * found inside the root. */
static void bind_volume(int root, const struct volume *v)
{
	int target = make_dir_in_root(root, v->ctr);
	if (target < 0)
		die_errno("cannot make volume directory '%s'", v->ctr);
	int tree =
	    open_tree(AT_FDCWD, v->host,
		      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		die_errno("cannot bind volume '%s'", v->host);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	if (v->ro && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
				   &attr, sizeof(attr)) < 0)
		die_errno("cannot make volume '%s' read-only", v->host);
	if (move_mount(tree, "", target, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die_errno("cannot mount volume '%s' on '%s'", v->host, v->ctr);
	close(tree);
	close(target);
	verbose("volume '%s' on '%s'%s", v->host, v->ctr,
		v->ro ? ", read-only" : "");
}

void setup_volumes(const char *rootfs, const struct volume *v, size_t n)
{
	/* The mount points the runtime needs; docker makes them in a layer
	 * of its own, here they go into the container's. */
	static const char *const points[] = {"/proc", "/sys", "/dev"};
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		die_errno("cannot open '%s'", rootfs);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		int fd = make_dir_in_root(root, points[i]);
		if (fd < 0)
			die_errno("cannot make '%s' in '%s'", points[i],
				  rootfs);
		close(fd);
	}
	for (size_t i = 0; i < n; i++)
		bind_volume(root, &v[i]);
	close(root);
}

void enter_workdir(const char *dir)
{
	int fd = make_dir_in_root(AT_FDCWD, dir);
	if (fd < 0 || fchdir(fd) < 0)
		die_errno("cannot enter working directory '%s'", dir);
	close(fd);
}

void set_environment(char **env)
{
	extern char **environ;
	environ = env;
}

/* Find name (or a number) in the container's /etc/passwd or /etc/group
 * (field 3: the id; for passwd, field 4 the group and 6 the home).
 * Returns 0 with the fields wanted, -1 if absent. */
static int lookup(const char *file, const char *name, long *id, long *gid,
		  char *home, size_t home_len)
{
	char line[1024];
	FILE *f = fopen(file, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fields[7] = {0}, *rest = line;
		line[strcspn(line, "\n")] = '\0';
		for (int i = 0; i < 7 && rest; i++)
			fields[i] = strsep(&rest, ":");
		if (!fields[2] ||
		    (strcmp(fields[0], name) && strcmp(fields[2], name)))
			continue;
		*id = strtol(fields[2], NULL, 10);
		if (gid && fields[3])
			*gid = strtol(fields[3], NULL, 10);
		if (home && fields[5])
			snprintf(home, home_len, "%s", fields[5]);
		fclose(f);
		return 0;
	}
	fclose(f);
	return -1;
}

/* A whole number id, or -1. */
static long numeric_id(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return (*s && !*end && v >= 0) ? v : -1;
}

void set_user(const char *user)
{
	char u[256], home[PATH_MAX] = "/";
	long uid, gid = 0;

	if (!user) {
		if (!getenv("HOME"))
			setenv("HOME", "/root", 1);
		return;
	}
	snprintf(u, sizeof(u), "%s", user);
	char *group = strchr(u, ':');
	if (group)
		*group++ = '\0';
	/* Names as the image's own files say, never the host's. */
	if (lookup("/etc/passwd", u, &uid, &gid, home, sizeof(home)) < 0 &&
	    (uid = numeric_id(u)) < 0)
		die("cannot run as user '%s': no such user in the image's "
		    "/etc/passwd",
		    u);
	if (group && lookup("/etc/group", group, &gid, NULL, NULL, 0) < 0 &&
	    (gid = numeric_id(group)) < 0)
		die("cannot run as group '%s': no such group in the image's "
		    "/etc/group",
		    group);
	/* Drop root's supplementary groups; a user namespace whose
	 * setgroups is "deny" (rootless) has none of its own to drop. */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		die_errno("cannot drop the supplementary groups");
	if (setgid((gid_t)gid) < 0)
		die_errno("cannot run as group %ld (is it mapped in the user "
			  "namespace?)",
			  gid);
	if (setuid((uid_t)uid) < 0)
		die_errno("cannot run as user %ld (is it mapped in the user "
			  "namespace?)",
			  uid);
	if (!getenv("HOME"))
		setenv("HOME", home, 1);
	verbose("running as uid %ld, gid %ld", uid, gid);
}
