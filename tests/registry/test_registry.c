/*
 * common/image/ tested against a real registry (tests/registry/
 * registry.sh starts it and runs this program), and offline where no
 * registry is needed.
 *
 *   test_registry [-v]
 *
 * The registry suite runs when REGISTRY_HOST is set (registry.sh sets it
 * with REGISTRY_DATA, its storage); without it that suite is reported as
 * skipped and the status is 1. Exits non-zero when any test failed.
 */

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "error.h"
#include "image.h"
#include "image/blob.h"
#include "image/imageref.h"
#include "image/imagestore.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/registry.h"
#include "serve.h"
#include "state.h"

static const char *registry_host; /* REGISTRY_HOST */
static const char *registry_data; /* REGISTRY_DATA */
static char scratch[512];	  /* a directory of our own */
static int n_stores;
static bool show_reasons; /* -v: print every reason checked */

/* A fresh, empty store directory under scratch. */
static void new_store(char *root, size_t len)
{
	snprintf(root, len, "%s/store%d", scratch, ++n_stores);
}

/* Whether why is one line that holds want; says what it was if not. */
static int one_line_with(const char *why, const char *want)
{
	if (show_reasons)
		printf("\n    reason: \"%s\"", why);
	if (strchr(why, '\n') || !strstr(why, want)) {
		printf("\n    reason: \"%s\"\n    wanted one line with \"%s\"\n",
		       why, want);
		return 0;
	}
	return 1;
}

/* Pull text into the store at root with stage 13's lesson, pull_image()
 * (the plumbing's own tests need images in a store; the sequence is the
 * learner's to write, so the test holds no copy of it). The last line it
 * says on stderr, if it fails, becomes why; its stdout is dropped.
 * Returns 0, or -1 with why. */
static int pull(const char *text, const char *root, char *why, size_t wl)
{
	FILE *err = tmpfile();
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (!err || saved_out < 0 || saved_err < 0 || null < 0) {
		snprintf(why, wl, "cannot capture the pull's output: %s",
			 strerror(errno));
		return -1;
	}
	setenv("MINIDOCKER_ROOT", root, 1);
	fflush(stdout);
	fflush(stderr);
	dup2(null, STDOUT_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	int rc = pull_image(text, false);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	close(null);
	rewind(err);
	size_t n = fread(why, 1, wl - 1, err);
	fclose(err);
	why[n] = '\0';
	/* The failure is the last line (without root and subordinate ids,
	 * a notice comes first); its newline is not part of it. */
	if (n && why[n - 1] == '\n')
		why[--n] = '\0';
	char *last = strrchr(why, '\n');
	if (last)
		memmove(why, last + 1, strlen(last + 1) + 1);
	if (rc == 0)
		*why = '\0';
	return rc;
}

/* "HOST/NAME" for the test registry. */
static const char *at_registry(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", registry_host, name);
	return buf[i];
}

/* The manifest of ref as stored, parsed (and its config). */
static int load(const char *root, const char *text, struct manifest *m,
		struct image_config *c)
{
	struct image_ref ref;
	struct image_store s;
	struct platform p;
	char why[512], *man, *cfg;
	size_t ml, cl;
	int rc = -1;

	host_platform(&p);
	if (parse_image_ref(text, &ref, why, sizeof(why)) < 0 ||
	    store_open(&s, root, false, why, sizeof(why)) < 0)
		goto fail;
	if (store_load_image(&s, &ref, &man, &ml, &cfg, &cl, why,
			     sizeof(why)) == 0) {
		if (parse_manifest(man, ml, "", &p, m, why, sizeof(why)) == 0 &&
		    parse_image_config(cfg, cl, c, why, sizeof(why)) == 0)
			rc = 0;
		free(man);
		free(cfg);
	}
	store_close(&s);
	if (rc == 0)
		return 0;
fail:
	printf("\n    cannot load '%s': %s\n", text, why);
	return -1;
}

/* Number of entries in dir (without . and ..); -1 if unreadable. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static bool is_whiteout(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == makedev(0, 0);
}

static bool has_xattr(const char *path, const char *name, const char *value)
{
	char buf[16];
	ssize_t n = lgetxattr(path, name, buf, sizeof(buf) - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return !strcmp(buf, value);
}

/* A mount namespace of our own; without root, inside a user namespace
 * where we are root (overlayfs there needs Linux 5.11). */
static int enter_mount_namespace(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (uid == 0)
		return unshare(CLONE_NEWNS);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -1;
	int fd = open("/proc/self/setgroups", O_WRONLY);
	if (fd < 0 || write(fd, "deny", 4) != 4)
		return -1;
	close(fd);
	snprintf(map, sizeof(map), "0 %d 1", (int)uid);
	if ((fd = open("/proc/self/uid_map", O_WRONLY)) < 0 ||
	    write(fd, map, strlen(map)) < 0)
		return -1;
	close(fd);
	snprintf(map, sizeof(map), "0 %d 1", (int)gid);
	if ((fd = open("/proc/self/gid_map", O_WRONLY)) < 0 ||
	    write(fd, map, strlen(map)) < 0)
		return -1;
	close(fd);
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/*** offline ***/

static void test_imageref_forms(void)
{
	struct image_ref r;
	char why[256], full[800];
	const char *hex = "sha256:0123456789abcdef0123456789abcdef"
			  "0123456789abcdef0123456789abcdef";
	char with_digest[200];

	CU_ASSERT_EQUAL(parse_image_ref("alpine", &r, why, sizeof(why)), 0);
	format_image_ref(&r, full, sizeof(full));
	CU_ASSERT_STRING_EQUAL(full, "docker.io/library/alpine:latest");
	CU_ASSERT_STRING_EQUAL(image_ref_api_host(&r), "registry-1.docker.io");
	CU_ASSERT_FALSE(image_ref_is_loopback(&r));

	CU_ASSERT_EQUAL(parse_image_ref("alpine:3.20", &r, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(r.tag, "3.20");
	CU_ASSERT_STRING_EQUAL(r.repository, "library/alpine");

	snprintf(with_digest, sizeof(with_digest), "library/alpine@%s", hex);
	CU_ASSERT_EQUAL(parse_image_ref(with_digest, &r, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(r.digest, hex);
	CU_ASSERT_STRING_EQUAL(r.tag, "");
	CU_ASSERT_STRING_EQUAL(r.registry, "docker.io");

	CU_ASSERT_EQUAL(parse_image_ref("user/app", &r, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(r.repository, "user/app");

	CU_ASSERT_EQUAL(parse_image_ref("127.0.0.1:5000/test/b:v1", &r, why,
					sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(r.registry, "127.0.0.1:5000");
	CU_ASSERT_STRING_EQUAL(r.repository, "test/b");
	CU_ASSERT_STRING_EQUAL(r.tag, "v1");
	CU_ASSERT_TRUE(image_ref_is_loopback(&r));
	CU_ASSERT_STRING_EQUAL(image_ref_api_host(&r), "127.0.0.1:5000");

	CU_ASSERT_EQUAL(parse_image_ref("localhost/x", &r, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(r.registry, "localhost");
	CU_ASSERT_TRUE(image_ref_is_loopback(&r));
	CU_ASSERT_EQUAL(parse_image_ref("ghcr.io/o/p:t", &r, why, sizeof(why)),
			0);
	CU_ASSERT_STRING_EQUAL(r.registry, "ghcr.io");
	CU_ASSERT_STRING_EQUAL(r.repository, "o/p");

	/* Refused, each with one line naming the reference. */
	const char *bad[] = {"Alpine", "alpine@sha256:abc", "alpine:",
			     "a//b", "alpine:-x", "-a", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(parse_image_ref(bad[i], &r, why, sizeof(why)),
				-1);
		CU_ASSERT_TRUE(one_line_with(why, "is not an image reference"));
	}
}

static const char index_json[] =
	"{\"schemaVersion\":2,\"mediaType\":"
	"\"application/vnd.docker.distribution.manifest.list.v2+json\","
	"\"manifests\":["
	"{\"digest\":\"sha256:1111111111111111111111111111111111111111111111111111111111111111\","
	"\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
	"{\"digest\":\"sha256:2222222222222222222222222222222222222222222222222222222222222222\","
	"\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
	"{\"digest\":\"sha256:3333333333333333333333333333333333333333333333333333333333333333\","
	"\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
	"{\"digest\":\"sha256:4444444444444444444444444444444444444444444444444444444444444444\","
	"\"size\":10,\"platform\":{\"os\":\"windows\",\"architecture\":\"arm64\"}}]}";

static void test_index_picks_platform(void)
{
	struct manifest m;
	struct platform p = {"linux", "arm", "v7"};
	char why[512];

	CU_ASSERT_EQUAL_FATAL(parse_manifest(index_json, strlen(index_json),
					     "", &p, &m, why, sizeof(why)), 0);
	CU_ASSERT_TRUE(m.is_index);
	CU_ASSERT_EQUAL(m.picked.digest[7], '2');
	strcpy(p.architecture, "amd64");
	strcpy(p.variant, "");
	CU_ASSERT_EQUAL(parse_manifest(index_json, strlen(index_json), "", &p,
				       &m, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(m.picked.digest[7], '3');
	/* linux/arm64 is not there (only windows/arm64): say what is. */
	strcpy(p.architecture, "arm64");
	CU_ASSERT_EQUAL(parse_manifest(index_json, strlen(index_json), "", &p,
				       &m, why, sizeof(why)), -1);
	CU_ASSERT_TRUE(one_line_with(why, "no image for linux/arm64"));
	CU_ASSERT_TRUE(one_line_with(why, "linux/arm/v7"));
}

static void test_config_fields(void)
{
	static const char json[] =
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
		"\"Env\":[\"PATH=/bin\",\"A=b c\"],\"Entrypoint\":[\"/e\"],"
		"\"Cmd\":[\"x\",\"y\"],\"WorkingDir\":\"/w\",\"User\":\"1:2\"}}";
	static const char bad[] = "{\"config\":{\"Cmd\":\"not a list\"}}";
	struct image_config c;
	char why[256];

	CU_ASSERT_EQUAL_FATAL(parse_image_config(json, strlen(json), &c, why,
						 sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(c.env[1], "A=b c");
	CU_ASSERT_PTR_NULL(c.env[2]);
	CU_ASSERT_STRING_EQUAL(c.entrypoint[0], "/e");
	CU_ASSERT_STRING_EQUAL(c.cmd[1], "y");
	CU_ASSERT_STRING_EQUAL(c.working_dir, "/w");
	CU_ASSERT_STRING_EQUAL(c.user, "1:2");
	free_image_config(&c);
	CU_ASSERT_EQUAL(parse_image_config(bad, strlen(bad), &c, why,
					   sizeof(why)), -1);
	CU_ASSERT_TRUE(one_line_with(why, "not a list of strings"));
}

/* Write a tar at path of the entries given as {path, type, target}:
 * type 'f' a file holding its path, 'd' a directory, 'l' a symbolic
 * link to target, 'h' a hard link to target. */
struct tar_entry {
	const char *path;
	char type;
	const char *target;
};

static int write_tar(const char *path, const struct tar_entry *list)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		return -1;
	for (; list->path; list++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, list->path);
		archive_entry_set_perm(e, list->type == 'd' ? 0755 : 0644);
		switch (list->type) {
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, list->target);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, list->target);
			break;
		default:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)strlen(list->path));
		}
		archive_write_header(a, e);
		if (list->type == 'f')
			archive_write_data(a, list->path, strlen(list->path));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return 0;
}

static void test_unpack_makes_whiteouts(void)
{
	static const struct tar_entry entries[] = {
		{"./etc/", 'd', NULL},
		{"./etc/.wh.passwd", 'f', NULL},
		{"./etc/kept", 'f', NULL},
		{"./d/.wh..wh..opq", 'f', NULL},
		{"./d/new", 'f', NULL},
		/* A whiteout in a directory the tar does not list. */
		{"./deep/er/.wh.x", 'f', NULL},
		{NULL, 0, NULL},
	};
	char tar[PATH_MAX], dir[PATH_MAX], p[PATH_MAX + 32], why[512];

	snprintf(tar, sizeof(tar), "%s/wh.tar", scratch);
	snprintf(dir, sizeof(dir), "%s/wh", scratch);
	CU_ASSERT_EQUAL_FATAL(write_tar(tar, entries), 0);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
	if (unpack_tar(tar, dir, why, sizeof(why)) < 0) {
		printf("\n    unpack_tar: %s\n", why);
		CU_FAIL("unpack_tar failed");
		return;
	}
	snprintf(p, sizeof(p), "%s/etc/passwd", dir);
	CU_ASSERT_TRUE(is_whiteout(p));
	snprintf(p, sizeof(p), "%s/etc/.wh.passwd", dir);
	CU_ASSERT_FALSE(exists(p));
	snprintf(p, sizeof(p), "%s/etc/kept", dir);
	CU_ASSERT_TRUE(exists(p));
	snprintf(p, sizeof(p), "%s/d", dir);
	CU_ASSERT_TRUE(has_xattr(p, XATTR_OPAQUE_USER, "y"));
	if (geteuid() == 0)
		CU_ASSERT_TRUE(has_xattr(p, XATTR_OPAQUE_TRUSTED, "y"));
	snprintf(p, sizeof(p), "%s/d/.wh..wh..opq", dir);
	CU_ASSERT_FALSE(exists(p));
	snprintf(p, sizeof(p), "%s/deep/er/x", dir);
	CU_ASSERT_TRUE(is_whiteout(p));
}

/* A layer reaching out of its directory fails whole, and nothing lands
 * outside it. */
static void test_unpack_refuses_escapes(void)
{
	static const struct tar_entry dotdot[] = {
		{"ok", 'f', NULL}, {"../escaped", 'f', NULL}, {NULL, 0, NULL}};
	static const struct tar_entry absolute[] = {
		{"/escaped", 'f', NULL}, {NULL, 0, NULL}};
	static const struct tar_entry hardlink[] = {
		{"h", 'h', "../outside"}, {NULL, 0, NULL}};
	char outside_link[PATH_MAX];
	struct tar_entry through_link[] = {
		{"link", 'l', outside_link},
		{"link/escaped", 'f', NULL},
		{NULL, 0, NULL}};
	struct tar_entry whiteout_through_link[] = {
		{"link", 'l', outside_link},
		{"link/.wh.victim", 'f', NULL},
		{NULL, 0, NULL}};
	const struct tar_entry *cases[] = {dotdot, absolute, hardlink,
					   through_link, whiteout_through_link};
	char tar[PATH_MAX], dir[PATH_MAX + 8], outside[PATH_MAX], why[512];
	char p[PATH_MAX + 32];

	/* outside: a directory beside the layer, with a file to lose. */
	snprintf(outside, sizeof(outside), "%s/outside", scratch);
	snprintf(outside_link, sizeof(outside_link), "%s", outside);
	mkdir(outside, 0755);
	snprintf(p, sizeof(p), "%s/victim", outside);
	close(open(p, O_CREAT | O_WRONLY, 0644));

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(tar, sizeof(tar), "%s/esc%zu.tar", scratch, i);
		snprintf(dir, sizeof(dir), "%s/esc%zu", scratch, i);
		CU_ASSERT_EQUAL_FATAL(write_tar(tar, cases[i]), 0);
		CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
		int rc = unpack_tar(tar, dir, why, sizeof(why));
		CU_ASSERT_EQUAL(rc, -1);
		if (rc == 0)
			printf("\n    case %zu unpacked\n", i);
		else
			CU_ASSERT_FALSE(strchr(why, '\n') != NULL);
		snprintf(p, sizeof(p), "%s/escaped", scratch);
		CU_ASSERT_FALSE(exists(p));
		snprintf(p, sizeof(p), "%s/escaped", outside);
		CU_ASSERT_FALSE(exists(p));
		snprintf(p, sizeof(p), "%s/victim", outside);
		CU_ASSERT_FALSE(is_whiteout(p));
		CU_ASSERT_TRUE(exists(p));
	}
	CU_ASSERT_FALSE(exists("/escaped"));
}

/*** against the registry ***/

static void test_pull_b_layers_and_whiteouts(void)
{
	char root[1024], why[512], p[PATH_MAX + 300], l1[PATH_MAX],
		l2[PATH_MAX];
	struct manifest m;
	struct image_config c;
	struct image_store s = {.lock_fd = -1};

	new_store(root, sizeof(root));
	if (pull(at_registry("test/b"), root, why, sizeof(why)) < 0) {
		printf("\n    pull: %s\n", why);
		CU_FAIL_FATAL("cannot pull test/b");
	}
	CU_ASSERT_EQUAL_FATAL(load(root, at_registry("test/b"), &m, &c), 0);
	CU_ASSERT_EQUAL_FATAL(m.n_layers, 2);
	snprintf(s.root, sizeof(s.root), "%s", root);

	/* Every stored blob is what its name says. */
	for (size_t i = 0; i < m.n_layers + 1; i++) {
		const char *d = i < m.n_layers ? m.layers[i].digest
					       : m.config.digest;
		char *data;
		size_t len;
		store_blob_path(&s, d, p, sizeof(p));
		CU_ASSERT_EQUAL_FATAL(read_whole(p, 64 << 20, &data, &len), 0);
		CU_ASSERT_EQUAL(check_digest(data, len, d, why, sizeof(why)),
				0);
		free(data);
	}
	store_layer_path(&s, m.layers[0].digest, l1, sizeof(l1));
	store_layer_path(&s, m.layers[1].digest, l2, sizeof(l2));
	snprintf(p, sizeof(p), "%s/data/gone", l1);
	CU_ASSERT_TRUE(exists(p) && !is_whiteout(p));
	snprintf(p, sizeof(p), "%s/bin/busybox", l1);
	CU_ASSERT_TRUE(exists(p));
	snprintf(p, sizeof(p), "%s/data/gone", l2);
	CU_ASSERT_TRUE(is_whiteout(p));
	snprintf(p, sizeof(p), "%s/data/added", l2);
	CU_ASSERT_TRUE(exists(p));
	snprintf(p, sizeof(p), "%s/data/opaque", l2);
	CU_ASSERT_TRUE(has_xattr(p, XATTR_OPAQUE_USER, "y"));
	snprintf(p, sizeof(p), "%s/data/opaque/new", l2);
	CU_ASSERT_TRUE(exists(p));
	snprintf(p, sizeof(p), "%s/data/opaque/.wh..wh..opq", l2);
	CU_ASSERT_FALSE(exists(p));

	/* The config, as umoci set it. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.env);
	CU_ASSERT_STRING_EQUAL(c.env[0], "GREETING=hello");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.entrypoint);
	CU_ASSERT_STRING_EQUAL(c.entrypoint[0], "/bin/echo");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.cmd);
	CU_ASSERT_STRING_EQUAL(c.cmd[0], "hi");
	CU_ASSERT_STRING_EQUAL(c.working_dir, "/data");
	CU_ASSERT_STRING_EQUAL(c.user, "1000:1000");

	/* Nothing left in tmp/. */
	snprintf(p, sizeof(p), "%s/tmp", root);
	CU_ASSERT_EQUAL(count_entries(p), 0);

	/* The marks are what overlayfs reads: mount the two layers as
	 * stage 12 does (userxattr), in a mount namespace of a child's. */
	{
		char merged[PATH_MAX];
		snprintf(merged, sizeof(merged), "%s/merged", root);
		mkdir(merged, 0755);
		pid_t pid = fork();
		if (pid == 0) {
			char opts[3 * PATH_MAX], f[PATH_MAX + 40];
			int bad = 0;
			snprintf(opts, sizeof(opts),
				 "lowerdir=%s:%s,userxattr", l2, l1);
			if (enter_mount_namespace() < 0 ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) <
				    0 ||
			    mount("overlay", merged, "overlay", MS_RDONLY,
				  opts) < 0)
				_exit(100);
			const char *absent[] = {"data/gone", "data/opaque/old"};
			const char *present[] = {"data/added", "data/opaque/new",
						 "data/keep/file", "bin/busybox"};
			for (int i = 0; i < 2; i++) {
				snprintf(f, sizeof(f), "%s/%s", merged, absent[i]);
				bad |= exists(f) << i;
			}
			for (int i = 0; i < 4; i++) {
				snprintf(f, sizeof(f), "%s/%s", merged, present[i]);
				bad |= !exists(f) << (2 + i);
			}
			_exit(bad);
		}
		int st = -1;
		waitpid(pid, &st, 0);
		if (st != 0)
			printf("\n    overlay check: status %d (100: no mount; "
			       "bits: gone, old present; added, new, keep, "
			       "busybox absent)\n",
			       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		CU_ASSERT_EQUAL(st, 0);
	}
	free_manifest(&m);
	free_image_config(&c);
}

static void test_token_flow_followed(void)
{
	struct image_ref ref;
	struct registry r;
	char why[512], mt[128], *body = NULL;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(parse_image_ref(at_registry("test/a"), &ref, why,
					      sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(registry_open(&r, &ref, false, why, sizeof(why)),
			      0);
	CU_ASSERT_PTR_NULL(r.token);
	int rc = registry_get_manifest(&r, "latest", &body, &len, mt,
				       sizeof(mt), why, sizeof(why));
	if (rc < 0)
		printf("\n    %s\n", why);
	CU_ASSERT_EQUAL(rc, 0);
	/* The registry answered 401 first: we hold the token it sent us
	 * to fetch. */
	CU_ASSERT_PTR_NOT_NULL(r.token);
	CU_ASSERT_STRING_EQUAL(mt, MEDIA_OCI_MANIFEST);
	free(body);
	registry_close(&r);
}

/* The digest of the manifest of name:tag as the registry serves it. */
static int manifest_digest(const char *name, const char *tag, char *out)
{
	struct image_ref ref;
	struct registry r;
	char why[512], mt[128], *body;
	size_t len;
	int rc = -1;
	if (parse_image_ref(at_registry(name), &ref, why, sizeof(why)) < 0 ||
	    registry_open(&r, &ref, false, why, sizeof(why)) < 0)
		return -1;
	if (registry_get_manifest(&r, tag, &body, &len, mt, sizeof(mt), why,
				  sizeof(why)) == 0) {
		rc = sha256_digest(body, len, out);
		free(body);
	}
	registry_close(&r);
	return rc;
}

static void test_index_pull_gets_host_image(void)
{
	char root[1024], why[512], want[DIGEST_LEN], got[DIGEST_LEN];
	char *man, *cfg;
	size_t ml, cl;
	struct image_ref ref;
	struct image_store s;

	new_store(root, sizeof(root));
	CU_ASSERT_EQUAL_FATAL(manifest_digest("test/multi", "a", want), 0);
	if (pull(at_registry("test/multi"), root, why, sizeof(why)) < 0) {
		printf("\n    pull: %s\n", why);
		CU_FAIL_FATAL("cannot pull test/multi");
	}
	CU_ASSERT_EQUAL_FATAL(parse_image_ref(at_registry("test/multi"), &ref,
					      why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(&s, root, false, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(store_load_image(&s, &ref, &man, &ml, &cfg, &cl,
					       why, sizeof(why)), 0);
	store_close(&s);
	/* test/a is the host's entry; test/b is listed for another. */
	sha256_digest(man, ml, got);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(man);
	free(cfg);
}

static void test_pull_by_digest(void)
{
	char root[1024], why[512], d[DIGEST_LEN], text[600];

	new_store(root, sizeof(root));
	CU_ASSERT_EQUAL_FATAL(manifest_digest("test/a", "latest", d), 0);
	snprintf(text, sizeof(text), "%s@%s", at_registry("test/a"), d);
	int rc = pull(text, root, why, sizeof(why));
	if (rc < 0)
		printf("\n    pull: %s\n", why);
	CU_ASSERT_EQUAL(rc, 0);
	/* A digest the registry does not have. */
	snprintf(text, sizeof(text), "%s@sha256:%064d", at_registry("test/a"),
		 0);
	CU_ASSERT_EQUAL(pull(text, root, why, sizeof(why)), -1);
	CU_ASSERT_TRUE(one_line_with(why, "not found in test/a"));
}

static void test_missing_tag_fails_cleanly(void)
{
	char root[1024], why[512], p[PATH_MAX + 20];

	new_store(root, sizeof(root));
	CU_ASSERT_EQUAL(pull(at_registry("test/a:nope"), root, why,
			     sizeof(why)), -1);
	CU_ASSERT_TRUE(one_line_with(why, "manifest 'nope' not found in "
					  "test/a"));
	snprintf(p, sizeof(p), "%s/images", root);
	CU_ASSERT_EQUAL(count_entries(p), 0);
}

static void test_corrupt_blob_stores_nothing(void)
{
	char root[1024], why[512], p[PATH_MAX + 300], d[DIGEST_LEN];
	char *body, mt[128];
	size_t len;
	struct image_ref ref;
	struct registry r;
	struct manifest m;
	struct platform pl;
	struct image_store s = {.lock_fd = -1};

	/* The layer of test/corrupt, which no other image shares. */
	host_platform(&pl);
	CU_ASSERT_EQUAL_FATAL(parse_image_ref(at_registry("test/corrupt"), &ref,
					      why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(registry_open(&r, &ref, false, why, sizeof(why)),
			      0);
	CU_ASSERT_EQUAL_FATAL(registry_get_manifest(&r, "latest", &body, &len,
						    mt, sizeof(mt), why,
						    sizeof(why)), 0);
	registry_close(&r);
	CU_ASSERT_EQUAL_FATAL(parse_manifest(body, len, mt, &pl, &m, why,
					     sizeof(why)), 0);
	free(body);
	CU_ASSERT_EQUAL_FATAL(m.n_layers, 1);
	strcpy(d, m.layers[0].digest);
	free_manifest(&m);

	/* Overwrite 16 bytes of the registry's copy, size unchanged (the
	 * same bytes each time: the rootless pass corrupts it again). */
	snprintf(p, sizeof(p), "%s/docker/registry/v2/blobs/sha256/%.2s/%s/data",
		 registry_data, d + 7, d + 7);
	int fd = open(p, O_WRONLY);
	if (fd < 0)
		printf("\n    cannot open the registry's blob '%s': %s\n", p,
		       strerror(errno));
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(pwrite(fd, "minidocker-test!", 16, 100), 16);
	close(fd);

	new_store(root, sizeof(root));
	CU_ASSERT_EQUAL(pull(at_registry("test/corrupt"), root, why,
			     sizeof(why)), -1);
	CU_ASSERT_TRUE(one_line_with(why, "does not match its digest"));
	snprintf(s.root, sizeof(s.root), "%s", root);
	store_blob_path(&s, d, p, sizeof(p));
	CU_ASSERT_FALSE(exists(p));
	store_layer_path(&s, d, p, sizeof(p));
	CU_ASSERT_FALSE(exists(p));
	snprintf(p, sizeof(p), "%s/tmp", root);
	CU_ASSERT_EQUAL(count_entries(p), 0);
	snprintf(p, sizeof(p), "%s/images", root);
	CU_ASSERT_EQUAL(count_entries(p), 0);
	snprintf(p, sizeof(p), "%s/layers/sha256", root);
	CU_ASSERT_EQUAL(count_entries(p), 0);
}

static void test_401_without_token_service_fails_cleanly(void)
{
	static const struct {
		const char *answer, *want;
	} cases[] = {
		{"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
		 "Connection: close\r\n\r\n",
		 "named no token service"},
		/* A realm where nothing listens (port 1). */
		{"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
		 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:1/token\","
		 "service=\"x\"\r\nConnection: close\r\n\r\n",
		 "cannot get 'http://127.0.0.1:1/token"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char root[1024], why[512], text[200], p[PATH_MAX + 20];
		int port = 0;
		pid_t pid = serve_answer(cases[i].answer, &port);
		CU_ASSERT_FATAL(pid > 0);
		snprintf(text, sizeof(text), "127.0.0.1:%d/test/a", port);
		new_store(root, sizeof(root));
		CU_ASSERT_EQUAL(pull(text, root, why, sizeof(why)), -1);
		CU_ASSERT_TRUE(one_line_with(why, cases[i].want));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		snprintf(p, sizeof(p), "%s/images", root);
		CU_ASSERT_EQUAL(count_entries(p), 0);
	}
}

/* A registry that dies mid-blob: the transfer fails in one line and the
 * store keeps nothing of it. */
static void test_truncated_blob_stores_nothing(void)
{
	static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000"
				     "\r\nConnection: close\r\n\r\nonly this";
	const char *digest = "sha256:1111111111111111111111111111111111111111"
			     "111111111111111111111111";
	char root[1024], why[512], text[200], p[PATH_MAX + 20];
	struct image_ref ref;
	struct registry r;
	struct image_store s;
	int port = 0;

	pid_t pid = serve_answer(answer, &port);
	CU_ASSERT_FATAL(pid > 0);
	snprintf(text, sizeof(text), "127.0.0.1:%d/test/x", port);
	new_store(root, sizeof(root));
	CU_ASSERT_EQUAL_FATAL(parse_image_ref(text, &ref, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(registry_open(&r, &ref, false, why, sizeof(why)),
			      0);
	CU_ASSERT_EQUAL_FATAL(store_open(&s, root, false, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(fetch_blob(&s, &r, digest, 1000, why, sizeof(why)), -1);
	CU_ASSERT_TRUE(one_line_with(why, "cannot get"));
	store_close(&s);
	registry_close(&r);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	snprintf(p, sizeof(p), "%s/blobs/sha256", root);
	CU_ASSERT_EQUAL(count_entries(p), 0);
	snprintf(p, sizeof(p), "%s/tmp", root);
	CU_ASSERT_EQUAL(count_entries(p), 0);
}

/* What a killed pull left in tmp/ goes when the store is next opened;
 * a live pull's work stays. */
static void test_dead_pulls_work_reaped(void)
{
	char root[1024], why[512], dead[PATH_MAX], live[PATH_MAX];
	struct image_store s;

	new_store(root, sizeof(root));
	CU_ASSERT_EQUAL_FATAL(store_open(&s, root, false, why, sizeof(why)), 0);
	store_close(&s);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0); /* a pid nobody has now */
	snprintf(dead, sizeof(dead), "%s/tmp/%d.0123456789abcdef", root,
		 (int)pid);
	snprintf(live, sizeof(live), "%s/tmp/%d.0123456789abcdef", root,
		 (int)getpid());
	CU_ASSERT_EQUAL_FATAL(mkdir(dead, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(mkdir(live, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(&s, root, false, why, sizeof(why)), 0);
	store_close(&s);
	CU_ASSERT_FALSE(exists(dead));
	CU_ASSERT_TRUE(exists(live));
}

static void test_shared_layer_stored_once(void)
{
	char root[1024], why[512], p[PATH_MAX + 300];
	struct manifest ma, mb;
	struct image_config c;
	struct stat before, after;
	struct image_store s = {.lock_fd = -1};

	new_store(root, sizeof(root));
	CU_ASSERT_EQUAL_FATAL(pull(at_registry("test/a"), root, why,
				   sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(load(root, at_registry("test/a"), &ma, &c), 0);
	free_image_config(&c);
	snprintf(s.root, sizeof(s.root), "%s", root);
	store_layer_path(&s, ma.layers[0].digest, p, sizeof(p));
	CU_ASSERT_EQUAL_FATAL(lstat(p, &before), 0);

	/* test/b shares test/a's layer; pulled twice, at once. */
	pid_t kids[2];
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			int rc = pull(at_registry("test/b"), root, why,
				      sizeof(why));
			if (rc < 0)
				printf("\n    pull %d: %s\n", i, why);
			_exit(rc < 0);
		}
	}
	for (int i = 0; i < 2; i++) {
		int st = -1;
		waitpid(kids[i], &st, 0);
		CU_ASSERT_EQUAL(st, 0);
	}
	CU_ASSERT_EQUAL_FATAL(load(root, at_registry("test/b"), &mb, &c), 0);
	free_image_config(&c);
	CU_ASSERT_STRING_EQUAL(mb.layers[0].digest, ma.layers[0].digest);
	/* The same directory, not unpacked again. */
	CU_ASSERT_EQUAL(lstat(p, &after), 0);
	CU_ASSERT_EQUAL(before.st_ino, after.st_ino);
	snprintf(p, sizeof(p), "%s/layers/sha256", root);
	CU_ASSERT_EQUAL(count_entries(p), 2);
	snprintf(p, sizeof(p), "%s/tmp", root);
	CU_ASSERT_EQUAL(count_entries(p), 0);
	store_layer_path(&s, mb.layers[1].digest, p, sizeof(p));
	strcat(p, "/data/gone");
	CU_ASSERT_TRUE(is_whiteout(p));
	free_manifest(&ma);
	free_manifest(&mb);
}

static CU_TestInfo offline_tests[] = {
	{"test_imageref_forms", test_imageref_forms},
	{"test_index_picks_platform", test_index_picks_platform},
	{"test_config_fields", test_config_fields},
	{"test_unpack_makes_whiteouts", test_unpack_makes_whiteouts},
	{"test_unpack_refuses_escapes", test_unpack_refuses_escapes},
	{"test_truncated_blob_stores_nothing",
	 test_truncated_blob_stores_nothing},
	{"test_dead_pulls_work_reaped", test_dead_pulls_work_reaped},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo registry_tests[] = {
	{"test_token_flow_followed", test_token_flow_followed},
	{"test_pull_b_layers_and_whiteouts", test_pull_b_layers_and_whiteouts},
	{"test_index_pull_gets_host_image", test_index_pull_gets_host_image},
	{"test_pull_by_digest", test_pull_by_digest},
	{"test_missing_tag_fails_cleanly", test_missing_tag_fails_cleanly},
	{"test_401_without_token_service_fails_cleanly",
	 test_401_without_token_service_fails_cleanly},
	{"test_shared_layer_stored_once", test_shared_layer_stored_once},
	/* Last: it corrupts the registry's copy of test/corrupt. */
	{"test_corrupt_blob_stores_nothing", test_corrupt_blob_stores_nothing},
	CU_TEST_INFO_NULL,
};

int main(int argc, char **argv)
{
	show_reasons = argc > 1 && !strcmp(argv[1], "-v");
	set_prog_name("test_registry");
	const char *tmp = getenv("TMPDIR");

	registry_host = getenv("REGISTRY_HOST");
	registry_data = getenv("REGISTRY_DATA");
	snprintf(scratch, sizeof(scratch), "%s/minidocker-image-test.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		perror("test_registry: mkdtemp");
		return 1;
	}
	CU_SuiteInfo suites[] = {
		{"image-offline", NULL, NULL, NULL, NULL, offline_tests},
		{"image-registry", NULL, NULL, NULL, NULL, registry_tests},
		CU_SUITE_INFO_NULL,
	};
	if (!registry_host || !registry_data)
		suites[1] = (CU_SuiteInfo)CU_SUITE_INFO_NULL;
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "test_registry: %s\n", CU_get_error_msg());
		return 1;
	}
	CU_basic_set_mode(show_reasons ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() +
			  CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	remove_tree(scratch);
	if (!registry_host || !registry_data) {
		printf("test_registry: no REGISTRY_HOST: the registry suite "
		       "was skipped (run it through tests/registry/"
		       "registry.sh, or make test-registry)\n");
		return 1;
	}
	return failed ? 1 : 0;
}
