/* Stage 12: a copy-on-write root. The image directory is the read-only
 * lower layer of an overlay and each container writes into a layer of its
 * own, in its state directory: nothing a container writes or deletes
 * reaches the image or another container, and the layer is gone when the
 * container is, however it ended.
 *
 * Every test works on a copy of the test root filesystem in a directory
 * of its own (the proofs on stage 11 write into that image) and points
 * MINIDOCKER_RUN at a state directory of its own. */

#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define NOBODY 65534 /* the unprivileged user of the rootless test */

/* The test's own directory: image (a copy of the test rootfs) and run
 * (MINIDOCKER_RUN) in it. */
static char base[64], image[128], run[128];
static char *saved_run; /* MINIDOCKER_RUN as the runner set it */

/* Make the test's directory and copy the image into it; false (with a
 * failure recorded) when it cannot. */
static bool make_world(void)
{
	char cmd[PATH_MAX + 256];
	snprintf(base, sizeof(base), "/tmp/minidocker-overlay-XXXXXX");
	if (!mkdtemp(base) || chmod(base, 0755) < 0) {
		CU_FAIL("cannot make a directory for the test");
		return false;
	}
	snprintf(image, sizeof(image), "%s/image", base);
	snprintf(run, sizeof(run), "%s/run", base);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", H.rootfs, image);
	if (system(cmd) != 0 || mkdir(run, 0700) < 0) {
		CU_FAIL("cannot copy the test root filesystem");
		return false;
	}
	free(saved_run);
	saved_run = getenv("MINIDOCKER_RUN") ? strdup(getenv("MINIDOCKER_RUN"))
					       : NULL;
	setenv("MINIDOCKER_RUN", run, 1);
	return true;
}

/* Remove the test's directory, and any mount a test left in it. */
static void end_world(void)
{
	char cmd[256];
	if (saved_run)
		setenv("MINIDOCKER_RUN", saved_run, 1);
	else
		unsetenv("MINIDOCKER_RUN");
	snprintf(cmd, sizeof(cmd),
		 "grep -o ' %s[^ ]*' /proc/self/mountinfo | sort -r | "
		 "xargs -r -n1 umount -l; rm -rf '%s'", base, base);
	if (system(cmd) != 0)
		CU_FAIL("cannot remove the test's directory");
}

/* The sorted list of every entry below a directory: path, type and mode,
 * owner, size, device number, and a hash of the contents or the link
 * target. Built by nftw(), hence the globals. */
static char **sum_lines;
static size_t sum_n, sum_cap, sum_skip;

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static int sum_entry(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	uint64_t h = 14695981039346656037ULL;
	char buf[8192];
	if (S_ISREG(st->st_mode)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n;
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			h = fnv1a(h, buf, (size_t)n);
		if (fd >= 0)
			close(fd);
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(path, buf, sizeof(buf));
		if (n > 0)
			h = fnv1a(h, buf, (size_t)n);
	}
	if (sum_n == sum_cap) {
		sum_cap = sum_cap ? 2 * sum_cap : 256;
		sum_lines = realloc(sum_lines, sum_cap * sizeof(*sum_lines));
	}
	if (asprintf(&sum_lines[sum_n], "%s %o %u:%u %lld %u:%u %016llx",
		     path + sum_skip, st->st_mode, st->st_uid, st->st_gid,
		     (long long)st->st_size, major(st->st_rdev),
		     minor(st->st_rdev), (unsigned long long)h) > 0)
		sum_n++;
	return 0;
}

static int by_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The checksum list of everything below dir, one malloc'd string. */
static char *image_sums(const char *dir)
{
	sum_n = 0;
	sum_skip = strlen(dir);
	nftw(dir, sum_entry, 32, FTW_PHYS);
	qsort(sum_lines, sum_n, sizeof(*sum_lines), by_line);
	size_t len = 1;
	for (size_t i = 0; i < sum_n; i++)
		len += strlen(sum_lines[i]) + 1;
	char *all = malloc(len), *p = all;
	for (size_t i = 0; i < sum_n; i++) {
		p = stpcpy(p, sum_lines[i]);
		*p++ = '\n';
		free(sum_lines[i]);
	}
	*p = '\0';
	return all;
}

/* Assert that dir's checksum list is still before (image_sums(dir) of
 * earlier, freed here); else show the first line that differs. */
static void assert_unchanged(const char *dir, char *before, const char *what)
{
	char *after = image_sums(dir);
	if (!strcmp(before, after)) {
		CU_PASS(what);
		free(before);
		free(after);
		return;
	}
	const char *a = before, *b = after;
	while (*a && *a == *b) {
		const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
		if (!na || !nb || na - a != nb - b || strncmp(a, b, na - a))
			break;
		a = na + 1;
		b = nb + 1;
	}
	printf("\n    %s changed: before '%.*s', after '%.*s'\n", what,
	       (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
	H_CHECK(false, what);
	free(before);
	free(after);
}

/* Check a finished run's status; on a mismatch, show the command's
 * result and the first line of the runtime's stderr. */
static void expect_status(const struct run_result *r, int want,
			  const char *what)
{
	if (r->status != want)
		printf("\n    %s: status %d, want %d; stdout '%.60s', stderr "
		       "'%.*s'\n", what, r->status, want, r->out,
		       (int)strcspn(r->err, "\n"), r->err);
	H_CHECK(r->status == want, what);
}

/* Run `sh -c script` in a container on rootfs to the end. */
static void run_sh(struct run_result *r, const char *rootfs,
		   const char *script)
{
	RUN(*r, NULL, "run", "--rootfs", rootfs, "sh", "-c", script);
}

/* Whether dir holds no entry at all. */
static bool is_empty_dir(const char *dir)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "[ -z \"$(ls -A '%s')\" ]", dir);
	return system(cmd) == 0;
}

/* The state directory the runtime with pid keeps its container in. */
static const char *layer_of(pid_t pid, const char *name)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%d%s%s", run, (int)pid,
		 name ? "/" : "", name ? name : "");
	return path;
}

static void test_image_unchanged_by_writes(void)
{
	if (!make_world())
		return;
	char *before = image_sums(image);
	struct run_result r;
	/* A new file, a changed one, a deleted one, a deleted directory. */
	run_sh(&r, image, "echo made > /made && echo more >> /etc/passwd && "
			  "rm /etc/group && rm -r /home && cat /made");
	expect_status(&r, 0, "writes inside succeed");
	CU_ASSERT_STRING_EQUAL(r.out, "made\n");
	h_free(&r);
	assert_unchanged(image, before, "the image directory");
	end_world();
}

static void test_deletion_is_whiteout_in_upper(void)
{
	if (!make_world())
		return;
	struct container c;
	const char *args[] = {"run", "--rootfs", image, "sh", "-c",
			      "rm /etc/group; echo deleted; read x; exit 0", NULL};
	if (h_start_until(&c, args, "deleted\n") < 0) {
		end_world();
		return;
	}
	/* overlayfs marks the deletion in the upper layer with a character
	 * device 0/0, so that the lower file stays and stays hidden. */
	struct stat st;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/etc/group", layer_of(c.pid, "upper"));
	bool found = lstat(path, &st) == 0;
	H_CHECK(found, "the container's upper layer holds etc/group");
	H_CHECK(found && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
		"the deletion is a 0/0 character device");
	snprintf(path, sizeof(path), "%s/etc/group", image);
	H_CHECK(access(path, F_OK) == 0, "the image keeps etc/group");
	h_finish(&c, NULL, H_TIMEOUT_MS);
	expect_status(&c.r, 0, "the container ends well");
	h_free(&c.r);
	end_world();
}

static void test_directory_made_anew_is_opaque(void)
{
	if (!make_world())
		return;
	/* A directory deleted and made again must not show the image's old
	 * contents: overlayfs marks it opaque with an xattr, which needs a
	 * filesystem that keeps user xattrs under the state directory (tmpfs
	 * before Linux 6.6 keeps none). */
	if (setxattr(run, "user.minidocker-test", "y", 1, 0) < 0) {
		printf("\n    not checked: '%s' keeps no user xattrs (%s)\n", run,
		       strerror(errno));
		end_world();
		return;
	}
	/* Not /etc: from stage 14 files are bound in there (hostname,
	 * hosts, resolv.conf), and a mount point cannot be removed. */
	struct container c;
	const char *args[] = {"run", "--rootfs", image, "sh", "-c",
			      "rm -r /usr/sbin && mkdir /usr/sbin && "
			      "ls /usr/sbin && echo remade; read x; exit 0",
			      NULL};
	if (h_start_until(&c, args, "remade\n") < 0) {
		end_world();
		return;
	}
	char path[PATH_MAX], value[8] = "";
	snprintf(path, sizeof(path), "%s/usr/sbin", layer_of(c.pid, "upper"));
	ssize_t n = getxattr(path, "user.overlay.opaque", value, sizeof(value));
	H_CHECK(n == 1 && value[0] == 'y',
		"upper/usr/sbin carries user.overlay.opaque=y");
	h_finish(&c, NULL, H_TIMEOUT_MS);
	expect_status(&c.r, 0, "the container ends well");
	/* ls of the new /usr/sbin printed nothing before "remade". */
	CU_ASSERT_STRING_EQUAL(c.r.out, "remade\n");
	h_free(&c.r);
	end_world();
}

static void test_containers_see_own_writes_only(void)
{
	if (!make_world())
		return;
	struct container a, b;
	const char *args_a[] = {"run", "--rootfs", image, "sh", "-c",
				"cat /owner 2>/dev/null; echo A > /owner; "
				"echo ready; read x; cat /owner", NULL};
	const char *args_b[] = {"run", "--rootfs", image, "sh", "-c",
				"cat /owner 2>/dev/null; echo B > /owner; "
				"echo ready; read x; cat /owner", NULL};
	if (h_start_until(&a, args_a, "ready\n") < 0) {
		end_world();
		return;
	}
	if (h_start_until(&b, args_b, "ready\n") < 0) {
		h_finish(&a, NULL, H_TIMEOUT_MS);
		h_free(&a.r);
		end_world();
		return;
	}
	/* Both run now, from the same image: each sees its /owner only. */
	h_finish(&a, NULL, H_TIMEOUT_MS);
	h_finish(&b, NULL, H_TIMEOUT_MS);
	CU_ASSERT_STRING_EQUAL(a.r.out, "ready\nA\n");
	CU_ASSERT_STRING_EQUAL(b.r.out, "ready\nB\n");
	expect_status(&a.r, 0, "container A ends well");
	expect_status(&b.r, 0, "container B ends well");
	h_free(&a.r);
	h_free(&b.r);
	end_world();
}

static void test_readonly_image_still_writable(void)
{
	if (!make_world())
		return;
	char ro[192];
	snprintf(ro, sizeof(ro), "%s/readonly", base);
	/* A read-only view of the image: a bind mount, made read-only by a
	 * remount (a bind mount takes no flags of its own). */
	bool mounted = mkdir(ro, 0755) == 0 &&
		       mount(image, ro, NULL, MS_BIND, NULL) == 0 &&
		       mount(NULL, ro, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY,
			     NULL) == 0;
	if (!mounted) {
		CU_FAIL("cannot make a read-only bind mount of the image");
		umount2(ro, MNT_DETACH);
		end_world();
		return;
	}
	struct run_result r;
	run_sh(&r, ro, "echo written > /written && cat /written");
	expect_status(&r, 0, "writing inside a read-only image");
	CU_ASSERT_STRING_EQUAL(r.out, "written\n");
	h_free(&r);
	umount2(ro, MNT_DETACH);
	end_world();
}

static void test_nothing_left_after_exit(void)
{
	if (!make_world())
		return;
	struct container c;
	const char *args[] = {"run", "--rootfs", image, "sh", "-c",
			      "echo x > /x; echo up; read x; exit 0", NULL};
	if (h_start_until(&c, args, "up\n") < 0) {
		end_world();
		return;
	}
	H_CHECK(access(layer_of(c.pid, "upper/x"), F_OK) == 0,
		"the container writes into its own layer");
	h_finish(&c, NULL, H_TIMEOUT_MS);
	expect_status(&c.r, 0, "the container ends well");
	H_CHECK(is_empty_dir(run), "nothing left in the state directory");
	const char *left = h_left_behind(c.pid, base);
	H_CHECK(!left, left ? left : "nothing left");
	h_free(&c.r);
	end_world();
}

static void test_killed_runtime_reaped_by_next_run(void)
{
	if (!make_world())
		return;
	struct container c;
	const char *args[] = {"run", "--rootfs", image, "sh", "-c",
			      "echo x > /x; echo up; read x; exit 0", NULL};
	if (h_start_until(&c, args, "up\n") < 0) {
		end_world();
		return;
	}
	H_CHECK(access(layer_of(c.pid, "upper/x"), F_OK) == 0,
		"the container writes into its own layer");
	/* No chance to clean up: the container dies with the runtime
	 * (PR_SET_PDEATHSIG), its layer stays for the next run. */
	kill(c.pid, SIGKILL);
	h_finish(&c, NULL, H_TIMEOUT_MS);
	H_CHECK(h_pgroup_gone(c.pid, 5000), "the container died too");
	struct run_result r;
	run_sh(&r, image, "true");
	expect_status(&r, 0, "the next run");
	h_free(&r);
	H_CHECK(is_empty_dir(run), "the next run reaped the killed one's layer");
	H_CHECK(!h_mounted_under(base), "no mount left");
	h_free(&c.r);
	end_world();
}

static void test_failed_setup_leaves_nothing(void)
{
	if (!make_world())
		return;
	char top[192], path[256];
	/* A top layer whose /proc is a file: the overlay mounts, then the
	 * proc mount on it fails, after the layer was made. */
	snprintf(top, sizeof(top), "%s/top", base);
	snprintf(path, sizeof(path), "%s/proc", top);
	CU_ASSERT_FATAL(mkdir(top, 0755) == 0);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	CU_ASSERT(fd >= 0);
	close(fd);
	const struct {
		const char *rootfs, *what;
	} bad[] = {
		{"/nonexistent", "a missing rootfs"},
		{image, "a rootfs whose /proc is a file"},
	};
	char spec[512];
	snprintf(spec, sizeof(spec), "%s:%s", top, image);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *rootfs = i == 1 ? spec : bad[i].rootfs;
		struct run_result r;
		run_sh(&r, rootfs, "true");
		expect_status(&r, 125, bad[i].what);
		H_CHECK(h_one_line(r.err), bad[i].what);
		H_CHECK(is_empty_dir(run), "nothing left in the state directory");
		H_CHECK(!h_mounted_under(base), "no mount left");
		h_free(&r);
	}
	end_world();
}

static void test_state_on_overlay_said_in_one_line(void)
{
	if (!make_world())
		return;
	/* An overlay of the test's own, as a container's root or a
	 * development container's /run would be, to keep the state in. */
	char dirs[4][192], opts[800], state[256];
	const char *names[] = {"l", "u", "w", "o"};
	for (int i = 0; i < 4; i++) {
		snprintf(dirs[i], sizeof(dirs[i]), "%s/%s", base, names[i]);
		CU_ASSERT_FATAL(mkdir(dirs[i], 0755) == 0);
	}
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 dirs[0], dirs[1], dirs[2]);
	CU_ASSERT_FATAL(mount("overlay", dirs[3], "overlay", 0, opts) == 0);
	snprintf(state, sizeof(state), "%s/run", dirs[3]);
	setenv("MINIDOCKER_RUN", state, 1);
	struct run_result r;
	run_sh(&r, image, "true");
	expect_status(&r, 125, "a state directory on an overlay");
	H_CHECK(h_one_line(r.err) && strstr(r.err, "overlay"),
		"one line that names the overlay");
	h_free(&r);
	umount2(dirs[3], MNT_DETACH);
	end_world();
}

/* Make layer dir/name holding layer/name with text, and layer/<file>
 * for each of the NULL-ended files. */
static void make_layer(char *dir, size_t len, const char *name,
		       const char *text, const char *const *files)
{
	char path[512];
	snprintf(dir, len, "%s/layers/%s", base, name);
	snprintf(path, sizeof(path), "mkdir -p '%s/layer' && echo %s > "
		 "'%s/layer/name'", dir, text, dir);
	CU_ASSERT(system(path) == 0);
	for (; files && *files; files++) {
		snprintf(path, sizeof(path), "echo %s > '%s/layer/%s'", name,
			 dir, *files);
		CU_ASSERT(system(path) == 0);
	}
}

static void test_stacked_layers_top_wins(void)
{
	if (!make_world())
		return;
	char top[192], mid[192], bot[192], path[256], spec[1024];
	const char *bottom_files[] = {"hidden", "only-bottom", NULL};
	make_layer(top, sizeof(top), "top", "top", NULL);
	make_layer(mid, sizeof(mid), "middle", "middle", NULL);
	make_layer(bot, sizeof(bot), "bottom", "bottom", bottom_files);
	/* The middle layer deletes the bottom one's file: a whiteout. */
	snprintf(path, sizeof(path), "%s/layer/hidden", mid);
	CU_ASSERT_FATAL(mknod(path, S_IFCHR | 0, makedev(0, 0)) == 0);
	snprintf(spec, sizeof(spec), "%s:%s:%s:%s", top, mid, bot, image);
	char layers[128];
	snprintf(layers, sizeof(layers), "%s/layers", base);
	char *before = image_sums(layers), *image_before = image_sums(image);
	struct run_result r;
	run_sh(&r, spec, "cat /layer/name /layer/only-bottom; "
			 "[ -e /layer/hidden ] && echo visible || echo hidden; "
			 "echo changed > /layer/name");
	expect_status(&r, 0, "three layers over the image");
	CU_ASSERT_STRING_EQUAL(r.out, "top\nbottom\nhidden\n");
	h_free(&r);
	assert_unchanged(layers, before, "the three layers");
	assert_unchanged(image, image_before, "the image");
	end_world();
}

static void test_rootless_writes_stay_in_layer(void)
{
	if (!make_world())
		return;
	/* The user's own copies: a runtime it may run, an image it owns (a
	 * copy-up keeps each file's owner, which must be mapped inside),
	 * a state directory of its own. */
	char binary[192], cmd[512];
	const char *saved = H.binary;
	snprintf(binary, sizeof(binary), "%s/runtime", base);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chown -R %d:%d '%s' '%s'",
		 H.binary, binary, NOBODY, NOBODY, image, run);
	CU_ASSERT_FATAL(system(cmd) == 0);
	char *before = image_sums(image);
	H.binary = binary;
	H.run_as = NOBODY;
	struct run_result r;
	run_sh(&r, image, "echo more >> /etc/passwd && rm /etc/group && "
			  "echo made > /made && cat /made");
	H.run_as = 0;
	H.binary = saved;
	expect_status(&r, 0, "writes inside, rootless");
	CU_ASSERT_STRING_EQUAL(r.out, "made\n");
	h_free(&r);
	assert_unchanged(image, before, "the user's image");
	H_CHECK(is_empty_dir(run), "nothing left in the state directory");
	end_world();
}

/* The escape catalogue's entries first stopped here. */
static void test_escapes_stopped_here(void)
{
	escapes_check_stage(12);
}

static const struct stage_test tests[] = {
	{"test_image_unchanged_by_writes", test_image_unchanged_by_writes,
	 true},
	{"test_deletion_is_whiteout_in_upper",
	 test_deletion_is_whiteout_in_upper, true},
	{"test_directory_made_anew_is_opaque",
	 test_directory_made_anew_is_opaque, false},
	{"test_containers_see_own_writes_only",
	 test_containers_see_own_writes_only, true},
	{"test_readonly_image_still_writable",
	 test_readonly_image_still_writable, true},
	{"test_nothing_left_after_exit", test_nothing_left_after_exit, true},
	{"test_killed_runtime_reaped_by_next_run",
	 test_killed_runtime_reaped_by_next_run, true},
	{"test_failed_setup_leaves_nothing", test_failed_setup_leaves_nothing,
	 false},
	{"test_state_on_overlay_said_in_one_line",
	 test_state_on_overlay_said_in_one_line, true},
	{"test_stacked_layers_top_wins", test_stacked_layers_top_wins, true},
	{"test_rootless_writes_stay_in_layer",
	 test_rootless_writes_stay_in_layer, true},
	{"test_escapes_stopped_here", test_escapes_stopped_here, true},
	{NULL, NULL, false},
};

const struct stage_suite suite_overlay = {12, "overlay", true, tests};
