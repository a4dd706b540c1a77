/* common/, tested in-process by linking it. */

#include <CUnit/CUnit.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "caps.h"
#include "harness.h"
#include "error.h"
#include "file.h"
#include "process.h"
#include "rootfs.h"
#include "state.h"
#include "suites.h"
#include "userns.h"
#include "util.h"

#define ALL (OPT_HOSTNAME | OPT_ROOTFS | OPT_PIDS_MAX)
#define STAGE_9 (ALL | OPT_MEMORY | OPT_CPUS)
#define STAGE_10 (STAGE_9 | OPT_CAP_ADD | OPT_CAP_DROP)

/* Parse a NULL-ended list (without argv[0]) for a stage accepting
 * opts_mask. */
static enum args_result parse(unsigned opts_mask, struct options *o,
			      char *err, const char *const *list)
{
	static char *argv[32] = {"stage-x"}; /* o->argv points into it */
	int argc = 1;
	while (list[argc - 1] && argc < 31) {
		argv[argc] = (char *)list[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	return parse_args(argc, argv, opts_mask, o, err, 256);
}

static void test_args_defaults(void)
{
	struct options o;
	char err[256];
	unsetenv("MINIDOCKER_ROOTFS");
	const char *a[] = {"run", "sh", "-c", "x", NULL};
	CU_ASSERT_EQUAL(parse(ALL, &o, err, a), ARGS_OK);
	CU_ASSERT_STRING_EQUAL(o.hostname, "container");
	CU_ASSERT_STRING_EQUAL(o.rootfs, "rootfs");
	CU_ASSERT_EQUAL(o.pids_max, 20);
	CU_ASSERT_FALSE(o.verbose);
	CU_ASSERT_STRING_EQUAL(o.argv[0], "sh");
	CU_ASSERT_STRING_EQUAL(o.argv[1], "-c");
	CU_ASSERT_PTR_NULL(o.argv[3]);
	setenv("MINIDOCKER_ROOTFS", "/srv/fs", 1);
	CU_ASSERT_EQUAL(parse(ALL, &o, err, a), ARGS_OK);
	CU_ASSERT_STRING_EQUAL(o.rootfs, "/srv/fs");
	unsetenv("MINIDOCKER_ROOTFS");
}

static void test_args_options(void)
{
	struct options o;
	char err[256];
	const char *a[] = {"run", "--verbose", "--hostname", "h", "--rootfs=/r",
			   "--pids-max", "7", "--", "-x", NULL};
	CU_ASSERT_EQUAL(parse(ALL, &o, err, a), ARGS_OK);
	CU_ASSERT_TRUE(o.verbose);
	CU_ASSERT_STRING_EQUAL(o.hostname, "h");
	CU_ASSERT_STRING_EQUAL(o.rootfs, "/r");
	CU_ASSERT_EQUAL(o.pids_max, 7);
	CU_ASSERT_STRING_EQUAL(o.argv[0], "-x");
}

static void test_args_stage_opts_limit_options(void)
{
	struct options o;
	char err[256];
	const char *a[] = {"run", "--rootfs", "/r", "sh", NULL};
	CU_ASSERT_EQUAL(parse(OPT_HOSTNAME, &o, err, a), ARGS_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown option '--rootfs'"));
	const char *b[] = {"run", "--hostname", "h", "sh", NULL};
	CU_ASSERT_EQUAL(parse(0, &o, err, b), ARGS_ERROR);
	CU_ASSERT_EQUAL(parse(OPT_HOSTNAME, &o, err, b), ARGS_OK);
}

static void test_args_errors(void)
{
	static const char *const bad[][5] = {
		{NULL},
		{"go", "sh", NULL},
		{"run", NULL},
		{"run", "--", NULL},
		{"run", "", NULL},
		{"run", "--hostname", NULL},
		{"run", "--hostname", "", "sh", NULL},
		{"run", "--rootfs", "", "sh", NULL},
		{"run", "--pids-max", "0", "sh", NULL},
		{"run", "--pids-max", "-1", "sh", NULL},
		{"run", "--pids-max", "ten", "sh", NULL},
		{"run", "--pids-max", "5x", "sh", NULL},
		{"run", "--pids-max", "99999999999999999999", "sh", NULL},
		{"run", "--pids-max", "4194305", "sh", NULL},
		{"run", "--pids-max=", "sh", NULL},
		{"run", "--hostnamex", "sh", NULL},
		{"run", "-x", "sh", NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct options o;
		char err[256] = "";
		CU_ASSERT_EQUAL(parse(ALL, &o, err, bad[i]), ARGS_ERROR);
		CU_ASSERT_TRUE(err[0] != '\0' && !strchr(err, '\n'));
	}
	struct options o;
	char err[256];
	char longname[70];
	memset(longname, 'x', 65);
	longname[65] = '\0';
	const char *a[] = {"run", "--hostname", longname, "sh", NULL};
	CU_ASSERT_EQUAL(parse(ALL, &o, err, a), ARGS_ERROR);
	longname[64] = '\0';
	CU_ASSERT_EQUAL(parse(ALL, &o, err, a), ARGS_OK);
}

static void test_args_help(void)
{
	struct options o;
	char err[256];
	const char *a[] = {"--help", NULL};
	CU_ASSERT_EQUAL(parse(ALL, &o, err, a), ARGS_HELP);
	const char *b[] = {"run", "-h", NULL};
	CU_ASSERT_EQUAL(parse(ALL, &o, err, b), ARGS_HELP);
	const char *c[] = {"run", "sh", "--help", NULL};
	CU_ASSERT_EQUAL(parse(ALL, &o, err, c), ARGS_OK);
}

/* Parse list for a stage accepting opts_mask, wanting bad input whose
 * reason holds want. */
static void check_refused(unsigned opts_mask, const char *const *list,
			  const char *want)
{
	struct options o;
	char err[256] = "";
	char what[320];
	enum args_result r = parse(opts_mask, &o, err, list);
	snprintf(what, sizeof(what), "%s %s: got %d '%s', want '%s'", list[0],
		 list[1] ? list[1] : "", (int)r, err, want);
	H_CHECK(r == ARGS_ERROR && strstr(err, want) != NULL, what);
}

/* Every kind of value in opt_table, as "--name value" and as
 * "--name=value", parses to the same. */
static void test_args_every_kind_both_forms(void)
{
	struct options o;
	char err[256];
	const char *a[] = {"run", "--memory", "64m", "--cpus", "0.5",
			   "--cap-add", "NET_RAW", "--cap-drop", "ALL",
			   "--pids-max", "7", "--hostname", "h", "sh", NULL};
	const char *b[] = {"run", "--memory=65536k", "--cpus=.5",
			   "--cap-add=cap_net_raw", "--cap-drop=all",
			   "--pids-max=7", "--hostname=h", "sh", NULL};
	const char *const *forms[] = {a, b};
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		CU_ASSERT_EQUAL_FATAL(parse(STAGE_10, &o, err, forms[i]),
				      ARGS_OK);
		CU_ASSERT_EQUAL(o.memory, 64L << 20);
		CU_ASSERT_EQUAL(o.cpu_quota, CPU_PERIOD / 2);
		CU_ASSERT_EQUAL(o.cap_add, UINT64_C(1) << cap_by_name("NET_RAW"));
		CU_ASSERT_EQUAL(o.cap_drop, CAPS_ALL);
		CU_ASSERT_EQUAL(o.pids_max, 7);
		CU_ASSERT_STRING_EQUAL(o.hostname, "h");
		CU_ASSERT_STRING_EQUAL(o.argv[0], "sh");
	}
	/* Repeated: a list adds up, a value's last one counts. Values any
	 * machine takes: the VM has one CPU and less than 1g. */
	const char *c[] = {"run", "--cap-add", "CHOWN", "--cap-add=KILL",
			   "--cpus", "0.5", "--cpus=0.25", "--memory=16m", "sh",
			   NULL};
	CU_ASSERT_EQUAL_FATAL(parse(STAGE_10, &o, err, c), ARGS_OK);
	CU_ASSERT_EQUAL(o.cap_add, (UINT64_C(1) << cap_by_name("CHOWN")) |
					   (UINT64_C(1) << cap_by_name("KILL")));
	CU_ASSERT_EQUAL(o.cpu_quota, CPU_PERIOD / 4);
	CU_ASSERT_EQUAL(o.memory, 16L << 20);
}

/* Stage 14's -p (a list of HOSTPORT:CTRPORT) and --net (one of the
 * words its row lists); stage 13 refuses both as unknown. */
static void test_args_publish_and_net(void)
{
	struct options o;
	char err[256];
	unsigned stage_14 = STAGE_10 | OPT_PUBLISH | OPT_NET;
	const char *a[] = {"run", "-p", "8080:80", "--publish=1:65535",
			   "--net", "slirp4netns", "sh", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(stage_14, &o, err, a), ARGS_OK);
	CU_ASSERT_EQUAL(o.ports.n, 2);
	CU_ASSERT_STRING_EQUAL(o.ports.v[0], "8080:80");
	CU_ASSERT_STRING_EQUAL(o.ports.v[1], "1:65535");
	CU_ASSERT_STRING_EQUAL(o.net, "slirp4netns");
	const char *none[] = {"run", "sh", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(stage_14, &o, err, none), ARGS_OK);
	CU_ASSERT_PTR_NULL(o.net); /* the stage picks by who runs it */
	const char *const bad[][5] = {
	    {"run", "-p", "0:80", "sh", NULL},
	    {"run", "-p", "80:65536", "sh", NULL},
	    {"run", "-p", "80", "sh", NULL},
	    {"run", "-p", "80:80:80", "sh", NULL},
	    {"run", "-p", "+80:80", "sh", NULL},
	    {"run", "--net", "slirp", "sh", NULL},
	    {"run", "--net", "", "sh", NULL},
	    {"run", "--net=bridge|none", "sh", NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		check_refused(stage_14, bad[i], i < 5 ? "bad --publish '"
						      : "bad --net '");
	const char *early[] = {"run", "--net", "none", "sh", NULL};
	check_refused(STAGE_10, early, "unknown option '--net'");
	const char *early_p[] = {"run", "-p", "80:80", "sh", NULL};
	check_refused(STAGE_10, early_p, "unknown option '-p'");
}

/* getopt_long would take "--host" for --hostname; the stages take an
 * option by its full name only (common/args.c says why). */
static void test_args_no_abbreviations(void)
{
	const char *a[] = {"run", "--host", "h", "sh", NULL};
	check_refused(ALL, a, "unknown option '--host'");
	const char *b[] = {"run", "--host", NULL};
	check_refused(ALL, b, "unknown option '--host'");
	const char *c[] = {"run", "--host=h", "sh", NULL};
	check_refused(ALL, c, "unknown option '--host=h'");
	const char *d[] = {"run", "--verb", "sh", NULL};
	check_refused(ALL, d, "unknown option '--verb'");
	/* Unambiguous in stage 9, ambiguous from 10: refused in both. */
	const char *e[] = {"run", "--c", "1", "sh", NULL};
	check_refused(STAGE_9, e, "unknown option '--c'");
	check_refused(STAGE_10, e, "unknown option '--c'");
	const char *f[] = {"run", "--cap=ALL", "sh", NULL};
	check_refused(STAGE_10, f, "unknown option '--cap=ALL'");
	const char *g[] = {"run", "--=x", "sh", NULL};
	check_refused(ALL, g, "unknown option '--=x'");
}

/* The one-line reasons getopt's cases get. */
static void test_args_reasons(void)
{
	const char *a[] = {"run", "--verbose=1", "sh", NULL};
	check_refused(ALL, a, "option '--verbose' takes no value");
	const char *b[] = {"run", "--help=", "sh", NULL};
	check_refused(ALL, b, "option '--help' takes no value");
	const char *c[] = {"run", "--hostname", NULL};
	check_refused(ALL, c, "option '--hostname' needs a value");
	/* -v was the progress option; stage 13 gives it to volumes. */
	const char *d[] = {"run", "-v", "sh", NULL};
	check_refused(0, d, "unknown option '-v'");
	check_refused(STAGE_10, d, "unknown option '-v'");
	const char *e[] = {"run", "-xh", "sh", NULL};
	check_refused(ALL, e, "unknown option '-x'");
	const char *f[] = {"run", "-\xc3\xa9", "sh", NULL};
	check_refused(ALL, f, "unknown option '-?'");
	const char *g[] = {"run", "--memory", "1", "sh", NULL};
	check_refused(ALL, g, "unknown option '--memory'");
}

/* getopt keeps its place between calls (optind, and where it is inside
 * a word of short options); parse_args starts it afresh each time. */
static void test_args_calls_in_a_row(void)
{
	struct options o;
	char err[256];
	/* Stopped at 'x' in "-xh": a stale getopt would go on to 'h' in
	 * the next call, and answer --help. */
	const char *a[] = {"run", "-xh", "sh", NULL};
	check_refused(ALL, a, "unknown option '-x'");
	const char *b[] = {"run", "sh", NULL};
	CU_ASSERT_EQUAL(parse(ALL, &o, err, b), ARGS_OK);
	CU_ASSERT_STRING_EQUAL(o.argv[0], "sh");
	/* Stopped at the fourth word: a stale optind would start past the
	 * end of the next argv, and find no command there. */
	const char *c[] = {"run", "--hostname", "h", "--bogus", NULL};
	check_refused(ALL, c, "unknown option '--bogus'");
	const char *d[] = {"run", "-x", "sh", NULL};
	check_refused(ALL, d, "unknown option '-x'");
}

/* The command is the first word that is not an option: what follows is
 * its own, options or not; "-" alone is a word, as getopt has it. */
static void test_args_stop_at_the_command(void)
{
	struct options o;
	char err[256];
	const char *a[] = {"run", "sh", "--hostname", "x", "-v", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(ALL, &o, err, a), ARGS_OK);
	CU_ASSERT_STRING_EQUAL(o.hostname, "container");
	CU_ASSERT_STRING_EQUAL(o.argv[1], "--hostname");
	CU_ASSERT_STRING_EQUAL(o.argv[3], "-v");
	/* Even with POSIXLY_CORRECT unset, nothing is reordered. */
	unsetenv("POSIXLY_CORRECT");
	const char *b[] = {"run", "--hostname", "h", "sh", "--rootfs", "/r",
			   NULL};
	CU_ASSERT_EQUAL_FATAL(parse(ALL, &o, err, b), ARGS_OK);
	CU_ASSERT_STRING_EQUAL(o.rootfs, "rootfs");
	CU_ASSERT_STRING_EQUAL(o.argv[0], "sh");
	CU_ASSERT_STRING_EQUAL(o.argv[1], "--rootfs");
	const char *c[] = {"run", "-", "x", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(ALL, &o, err, c), ARGS_OK);
	CU_ASSERT_STRING_EQUAL(o.argv[0], "-");
	/* A value may start with a dash: it is the option's. */
	const char *d[] = {"run", "--hostname", "--rootfs", "sh", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(ALL, &o, err, d), ARGS_OK);
	CU_ASSERT_STRING_EQUAL(o.hostname, "--rootfs");
	CU_ASSERT_STRING_EQUAL(o.argv[0], "sh");
}

static void test_wait_child_statuses(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(42);
	CU_ASSERT_EQUAL(wait_child(pid), 42);
	pid = fork();
	if (pid == 0) {
		raise(SIGKILL);
		_exit(0);
	}
	CU_ASSERT_EQUAL(wait_child(pid), 128 + SIGKILL);
	CU_ASSERT_EQUAL(wait_child(getpid()), -1);
}

/* A child whose runtime died before prepare_child() (the race between
 * clone() and PR_SET_PDEATHSIG) must exit, not live on unwatched. */
static void test_prepare_child_sees_runtime_gone(void)
{
	/* Orphans come to us, so we can wait for the grandchild. */
	CU_ASSERT_EQUAL_FATAL(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	pid_t runtime = fork();
	if (runtime == 0) {
		sigset_t old;
		int lifeline[2];
		pid_t me = getpid();
		block_signals(&old);
		if (pipe2(lifeline, O_CLOEXEC) < 0)
			_exit(2);
		pid_t child = fork();
		if (child == 0) {
			/* Wait until the "runtime" is gone, then prepare. */
			close(p[0]);
			close(p[1]);
			while (getppid() == me)
				usleep(1000);
			prepare_child(&old, lifeline);
			_exit(0); /* prepare_child() returned: the bug */
		}
		/* Tell the test the grandchild's pid, and die. */
		if (write(p[1], &child, sizeof(child)) != sizeof(child))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	pid_t child = 0;
	CU_ASSERT_EQUAL(read(p[0], &child, sizeof(child)), sizeof(child));
	close(p[0]);
	CU_ASSERT_EQUAL(wait_child(runtime), 0);
	CU_ASSERT_EQUAL(wait_child(child), 125);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* While the runtime lives, prepare_child() lets the child go on, with
 * SIGPIPE back at its default for the command. */
static void test_prepare_child_goes_on_while_runtime_lives(void)
{
	sigset_t old;
	int lifeline[2];
	CU_ASSERT_EQUAL_FATAL(pipe2(lifeline, O_CLOEXEC), 0);
	pid_t child = fork();
	if (child == 0) {
		if (block_signals(&old) < 0 || prepare_child(&old, lifeline) < 0)
			_exit(2);
		/* Not ignored any more: this kills the child. */
		raise(SIGPIPE);
		_exit(0);
	}
	CU_ASSERT_EQUAL(wait_child(child), 128 + SIGPIPE);
	close(lifeline[0]);
	close(lifeline[1]);
}

static void test_write_all_writes_everything(void)
{
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT_EQUAL(write_all(p[1], "abcdef", 6), 0);
	char buf[8] = "";
	CU_ASSERT_EQUAL(read(p[0], buf, sizeof(buf)), 6);
	CU_ASSERT_STRING_EQUAL(buf, "abcdef");
	close(p[0]);
	close(p[1]);
	CU_ASSERT_EQUAL(write_all(p[1], "x", 1), -1);
}

/* A fake machine's /proc/sys under dir, with the three user namespace
 * settings at the given values. */
static void fake_sysctls(const char *dir, const char *clone,
			 const char *apparmor, const char *max)
{
	static const char *const files[] = {
		"/proc/sys/kernel/unprivileged_userns_clone",
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
		"/proc/sys/user/max_user_namespaces",
	};
	const char *values[] = {clone, apparmor, max};
	char path[256];
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "mkdir -p $(dirname %s%s)", dir,
			 files[i]);
		CU_ASSERT_EQUAL_FATAL(system(path), 0);
		snprintf(path, sizeof(path), "%s%s", dir, files[i]);
		FILE *f = fopen(path, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fprintf(f, "%s\n", values[i]);
		fclose(f);
	}
}

static void test_userns_restriction_names_setting(void)
{
	char dir[] = "/tmp/minidocker-sysctl-XXXXXX", why[256];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	static const struct {
		const char *clone, *apparmor, *max;
		uid_t uid;
		const char *named; /* NULL: nothing forbids it */
	} cases[] = {
		{"1", "0", "15000", 1000, NULL},
		{"0", "0", "15000", 1000, "kernel.unprivileged_userns_clone is 0"},
		{"0", "0", "15000", 0, NULL}, /* root is not held by it */
		{"1", "1", "15000", 1000,
		 "kernel.apparmor_restrict_unprivileged_userns is 1"},
		{"1", "1", "15000", 0, NULL},
		{"1", "0", "0", 1000, "user.max_user_namespaces is 0"},
		{"1", "0", "0", 0, "user.max_user_namespaces is 0"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fake_sysctls(dir, cases[i].clone, cases[i].apparmor,
			     cases[i].max);
		why[0] = '\0';
		int r = userns_restriction(dir, cases[i].uid, why, sizeof(why));
		CU_ASSERT_EQUAL(r, cases[i].named != NULL);
		if (cases[i].named)
			CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].named));
	}
	/* A machine without these files (older kernels) forbids nothing. */
	CU_ASSERT_EQUAL(userns_restriction("/nonexistent", 1000, why,
					   sizeof(why)), 0);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_check_rootfs_reasons(void)
{
	char dir[] = "/tmp/minidocker-rootfs-XXXXXX", why[256], path[64];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_EQUAL(check_rootfs(dir, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "it is empty");
	snprintf(path, sizeof(path), "%s/etc", dir);
	CU_ASSERT_EQUAL(mkdir(path, 0755), 0);
	CU_ASSERT_EQUAL(check_rootfs(dir, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "it has no /proc directory");
	snprintf(path, sizeof(path), "%s/proc", dir);
	CU_ASSERT_EQUAL(mkdir(path, 0555), 0);
	CU_ASSERT_EQUAL(check_rootfs(dir, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(check_rootfs("/etc/passwd", why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "not a directory");
	CU_ASSERT_EQUAL(check_rootfs("/nonexistent", why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "No such file or directory");
	rmdir(path);
	snprintf(path, sizeof(path), "%s/etc", dir);
	rmdir(path);
	rmdir(dir);
}

/* rootfs_join_layers() joins absolute paths and names the layer that is
 * wrong: a missing one by its error, not as "not a directory". */
static void test_join_layers_names_the_layer(void)
{
	char dir[] = "/tmp/minidocker-layers-XXXXXX", why[512];
	char image[64], upper[64], list[256], out[4096], want[256];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(image, sizeof(image), "%s/image", dir);
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(list, sizeof(list), "%s/proc", image);
	CU_ASSERT_EQUAL(mkdir(image, 0755), 0);
	CU_ASSERT_EQUAL(mkdir(list, 0555), 0);
	CU_ASSERT_EQUAL(mkdir(upper, 0755), 0);

	snprintf(list, sizeof(list), "%s:%s", upper, image);
	CU_ASSERT_EQUAL(rootfs_join_layers(list, out, sizeof(out), why,
					   sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(out, list);
	snprintf(list, sizeof(list), "%s/missing:%s", dir, image);
	CU_ASSERT_EQUAL(rootfs_join_layers(list, out, sizeof(out), why,
					   sizeof(why)), -1);
	snprintf(want, sizeof(want), "layer '%s/missing': No such file or "
		 "directory", dir);
	CU_ASSERT_STRING_EQUAL(why, want);
	snprintf(list, sizeof(list), "/etc/passwd:%s", image);
	CU_ASSERT_EQUAL(rootfs_join_layers(list, out, sizeof(out), why,
					   sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "layer '/etc/passwd': not a directory");
	snprintf(list, sizeof(list), "%s::%s", upper, image);
	CU_ASSERT_EQUAL(rootfs_join_layers(list, out, sizeof(out), why,
					   sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "a layer in the list is empty");
	snprintf(list, sizeof(list), "%s:%s", image, upper);
	CU_ASSERT_EQUAL(rootfs_join_layers(list, out, sizeof(out), why,
					   sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "image layer"));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "it is empty"));
	/* Too long together: said as such, not as "too many layers". */
	CU_ASSERT_EQUAL(rootfs_join_layers(list, out, 16, why, sizeof(why)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "more than 15 bytes"));

	snprintf(list, sizeof(list), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(list), 0);
}

/* Every row of opt_table is one a stage can use: a name of its own that
 * getopt_long can take, a
 * bit of its own (or none, for what every stage has), a stage, a help
 * line, and a default within its own bounds; opt_find() finds it by
 * each of its spellings. A Part II row that breaks one fails here. */
static void test_opt_table_rows(void)
{
	unsigned bits = 0;
	for (const struct opt_spec *o = opt_table; o->name; o++) {
		char what[128];
		snprintf(what, sizeof(what), "row %s", o->name);
		/* What getopt_long is given: a long name, and a short one
		 * of a letter or digit (not ':', '?', '+' or '-'). */
		H_CHECK(!strncmp(o->name, "--", 2) && o->name[2] != '\0' &&
				o->name[2] != '-' && !strchr(o->name, '='),
			what);
		H_CHECK(!o->alias ||
				(o->alias[0] == '-' && isalnum(o->alias[1]) &&
				 o->alias[2] == '\0'),
			what);
		H_CHECK(o->help && o->help[0], what);
		H_CHECK(o->stage >= 1 && o->stage <= 16, what);
		H_CHECK((o->bit & bits) == 0, what);
		H_CHECK(o->bit == 0 || (o->bit & (o->bit - 1)) == 0, what);
		H_CHECK((o->bit == 0) == (o->stage == 1), what);
		bits |= o->bit;
		H_CHECK((o->kind == OPT_FLAG) == (o->arg == NULL), what);
		if (o->kind == OPT_NUMBER) {
			long def = o->def ? strtol(o->def, NULL, 10) : o->min;
			H_CHECK(o->min <= def && def <= o->max, what);
		}
		if (o->kind == OPT_TEXT && o->def)
			H_CHECK(o->def[0] && (o->max == 0 ||
					      strlen(o->def) <= (size_t)o->max),
				what);
		const char *value;
		H_CHECK(opt_find(o->name, &value) == o && !value, what);
		if (o->alias)
			H_CHECK(opt_find(o->alias, &value) == o, what);
		if (o->kind != OPT_FLAG) {
			char joined[64];
			snprintf(joined, sizeof(joined), "%s=x", o->name);
			H_CHECK(opt_find(joined, &value) == o &&
					!strcmp(value, "x"),
				what);
		}
	}
	const char *value;
	CU_ASSERT_PTR_NULL(opt_find("--no-such-option", &value));
	CU_ASSERT_PTR_NULL(opt_find("--verbose=1", &value));
}

/* Make path/name as a directory (mode) and return its path in out. */
static void make_dir_in(char *out, size_t len, const char *path,
			const char *name, mode_t mode)
{
	int n = snprintf(out, len, "%s/%s", path, name);
	CU_ASSERT_FATAL(n > 0 && (size_t)n < len);
	CU_ASSERT_EQUAL(mkdir(out, mode), 0);
}

/* MINIDOCKER_RUN as the runner set it, kept across the tests below that
 * change it: every later run must still use the runner's directory. */
static char *saved_run;

static void save_run(void)
{
	const char *run = getenv("MINIDOCKER_RUN");
	free(saved_run);
	saved_run = run ? strdup(run) : NULL;
}

static void restore_run(void)
{
	if (saved_run)
		setenv("MINIDOCKER_RUN", saved_run, 1);
	else
		unsetenv("MINIDOCKER_RUN");
}

static void test_state_dir_reaps_only_the_dead(void)
{
	save_run();
	char run[] = "/tmp/minidocker-state-XXXXXX", why[256];
	char dead[128], live[128], other[128], work[192], path[256];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(run));
	setenv("MINIDOCKER_RUN", run, 1);
	struct state st;
	CU_ASSERT_EQUAL(state_run_dir(st.run, sizeof(st.run), why,
				      sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(st.run, run);

	/* A dead runtime's directory: its lock file is there, nobody
	 * holds it, and overlayfs left an unreadable work/work in it. */
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	char name[32];
	snprintf(name, sizeof(name), "%d", (int)gone);
	make_dir_in(dead, sizeof(dead), run, name, 0700);
	make_dir_in(work, sizeof(work), dead, "work", 0700);
	make_dir_in(path, sizeof(path), work, "work", 0);
	snprintf(path, sizeof(path), "%s/" STATE_LOCK, dead);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	/* A live one: we hold its lock. */
	make_dir_in(live, sizeof(live), run, "1", 0700);
	snprintf(path, sizeof(path), "%s/" STATE_LOCK, live);
	int held = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	CU_ASSERT(held >= 0 && flock(held, LOCK_EX) == 0);
	/* Not a container's: never touched. */
	make_dir_in(other, sizeof(other), run, "notes", 0700);
	/* Being made (".<pid>"): by a live runtime (pid 1 lives), kept;
	 * by a dead one, removed. */
	char making_live[128], making_dead[128];
	make_dir_in(making_live, sizeof(making_live), run, ".1", 0700);
	snprintf(name, sizeof(name), ".%d", (int)gone);
	make_dir_in(making_dead, sizeof(making_dead), run, name, 0700);

	if (state_create(&st, why, sizeof(why)) < 0) {
		CU_FAIL("state_create() failed");
		restore_run();
		return;
	}
	CU_ASSERT_EQUAL(access(dead, F_OK), -1);
	CU_ASSERT_EQUAL(access(live, F_OK), 0);
	CU_ASSERT_EQUAL(access(other, F_OK), 0);
	CU_ASSERT_EQUAL(access(making_live, F_OK), 0);
	CU_ASSERT_EQUAL(access(making_dead, F_OK), -1);
	snprintf(path, sizeof(path), "%s/.%d", run, (int)getpid());
	CU_ASSERT_EQUAL(access(path, F_OK), -1); /* renamed into place */
	snprintf(path, sizeof(path), "%s/%d", run, (int)getpid());
	CU_ASSERT_STRING_EQUAL(st.dir, path);
	CU_ASSERT_EQUAL(access(st.dir, F_OK), 0);
	/* Ours is held too: another run leaves it alone. */
	CU_ASSERT_EQUAL(state_reap_stale(run), 0);
	CU_ASSERT_EQUAL(access(st.dir, F_OK), 0);
	make_dir_in(path, sizeof(path), st.dir, "upper", 0755);
	CU_ASSERT_EQUAL(state_remove(&st), 0);
	snprintf(path, sizeof(path), "%s/%d", run, (int)getpid());
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(st.lock_fd, -1);

	close(held);
	CU_ASSERT_EQUAL(state_reap_stale(run), 1);
	CU_ASSERT_EQUAL(access(live, F_OK), -1);
	CU_ASSERT_EQUAL(remove_tree(run), 0);
	CU_ASSERT_EQUAL(access(run, F_OK), -1);
	restore_run();
}

static void test_state_dir_defaults(void)
{
	char run[PATH_MAX], why[256];
	save_run();
	unsetenv("MINIDOCKER_RUN");
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(state_run_dir(run, sizeof(run), why,
					      sizeof(why)), 0);
		CU_ASSERT_STRING_EQUAL(run, "/run/minidocker");
	}
	CU_ASSERT_EQUAL(state_check_layer_fs("/nonexistent", why,
					     sizeof(why)), -1);
	restore_run();
}

/* What report_errno() writes to stderr for msg, with errno set to err;
 * errno must be err again afterwards. */
static char *reported(const char *msg, int err, size_t *len)
{
	static char out[4096];
	FILE *f = tmpfile();
	int saved = dup(2);
	if (!f || saved < 0 || dup2(fileno(f), 2) < 0) {
		CU_FAIL("cannot catch stderr");
		*len = 0;
		return out;
	}
	errno = err;
	report_errno("%s", msg);
	CU_ASSERT_EQUAL(errno, err);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	*len = fread(out, 1, sizeof(out) - 1, f);
	out[*len] = '\0';
	fclose(f);
	return out;
}

static void test_error_line_is_one_line_cut_to_fit(void)
{
	size_t len;
	set_prog_name("stage-x");
	char *out = reported("cannot open 'a\nb'", ENOENT, &len);
	CU_ASSERT_STRING_EQUAL(out,
			       "stage-x: cannot open 'a?b': No such file or directory\n");
	/* Longer than the line's buffer (1024): cut, still one line. */
	static char msg[3000];
	memset(msg, 'm', sizeof(msg) - 1);
	out = reported(msg, EACCES, &len);
	CU_ASSERT_EQUAL(len, 1023);
	CU_ASSERT_EQUAL(strncmp(out, "stage-x: mmm", 12), 0);
	CU_ASSERT_EQUAL(strchr(out, '\n'), out + len - 1);
	/* A message that ends just before the cut keeps the errno text as
	 * far as it fits. */
	msg[1000] = '\0';
	out = reported(msg, EACCES, &len);
	CU_ASSERT_EQUAL(len, 1023);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "m: Permiss"));
	CU_ASSERT_EQUAL(strchr(out, '\n'), out + len - 1);
}

/* read_key(): the number after a key, the first number with none, -1
 * for a missing key or file; a file longer than a page (/proc/vmstat
 * is near 4 KiB) is read to its end. */
static void test_read_key_finds_numbers(void)
{
	char dir[] = "/tmp/minidocker-keys-XXXXXX", path[64];
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/stat", dir);
	FILE *f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fprintf(f, "12 first\noom 1\n");
	for (int i = 0; i < 1000; i++)
		fprintf(f, "filler_%d %d\n", i, i);
	fprintf(f, "oom_kill 42\n");
	CU_ASSERT_FATAL(fclose(f) == 0);
	CU_ASSERT_EQUAL(read_key(dir, "stat", "oom_kill"), 42);
	CU_ASSERT_EQUAL(read_key(dir, "stat", "oom"), 1);
	CU_ASSERT_EQUAL(read_key(dir, "stat", NULL), 12);
	CU_ASSERT_EQUAL(read_key(dir, "stat", "oom_kil"), -1);
	CU_ASSERT_EQUAL(read_key(dir, "missing", "oom_kill"), -1);
	unlink(path);
	rmdir(dir);
}

const struct stage_test common_tests[] = {
	{"test_opt_table_rows", test_opt_table_rows, false},
	{"test_args_defaults", test_args_defaults, false},
	{"test_args_options", test_args_options, false},
	{"test_args_stage_opts_limit_options",
	 test_args_stage_opts_limit_options, false},
	{"test_args_errors", test_args_errors, false},
	{"test_args_help", test_args_help, false},
	{"test_args_every_kind_both_forms", test_args_every_kind_both_forms,
	 false},
	{"test_args_no_abbreviations", test_args_no_abbreviations, false},
	{"test_args_publish_and_net", test_args_publish_and_net, false},
	{"test_args_reasons", test_args_reasons, false},
	{"test_args_calls_in_a_row", test_args_calls_in_a_row, false},
	{"test_args_stop_at_the_command", test_args_stop_at_the_command,
	 false},
	{"test_wait_child_statuses", test_wait_child_statuses, false},
	{"test_write_all_writes_everything", test_write_all_writes_everything,
	 false},
	{"test_prepare_child_sees_runtime_gone",
	 test_prepare_child_sees_runtime_gone, false},
	{"test_prepare_child_goes_on_while_runtime_lives",
	 test_prepare_child_goes_on_while_runtime_lives, false},
	{"test_userns_restriction_names_setting",
	 test_userns_restriction_names_setting, false},
	{"test_check_rootfs_reasons", test_check_rootfs_reasons, false},
	{"test_join_layers_names_the_layer", test_join_layers_names_the_layer,
	 false},
	{"test_state_dir_reaps_only_the_dead",
	 test_state_dir_reaps_only_the_dead, false},
	{"test_state_dir_defaults", test_state_dir_defaults, false},
	{"test_error_line_is_one_line_cut_to_fit",
	 test_error_line_is_one_line_cut_to_fit, false},
	{"test_read_key_finds_numbers", test_read_key_finds_numbers, false},
	{NULL, NULL, false},
};
