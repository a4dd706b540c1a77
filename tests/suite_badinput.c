/* Stage 6 on: bad input of every kind gets its exact status and one line
 * on stderr, and leaves nothing behind: no mount, no cgroup, no process. */

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "harness.h"
#include "suites.h"
#include "util.h"

#define MAX_ARGS 10 /* a case's arguments, with the NULL */
#define LONG_NAME "a123456789b123456789c123456789d123456789e123456789f1234"

/* The cases below are the ones no table could write: paths, commands,
 * the environment. Each option's own bad values (no value, empty, too
 * long, out of bounds, not a number) come from opt_table, in
 * test_options_bad_values, so a new option is covered by its row. */

/* Root filesystems that are wrong in one way each, made by init_dirs()
 * under one temporary directory; "@" in a case's argument stands for it.
 * The cases run from stage 6 on, where the probe is /bin/probe. */
static char base[64];

static const struct bad_case {
	const char *name;
	const char *args[MAX_ARGS];
	int status;
	const char *err; /* in the one line on stderr; NULL: stderr empty */
	const char *out; /* stdout, exactly; NULL: empty */
	const char *cgroup_root; /* MINIDOCKER_CGROUP_ROOT, when not NULL */
} cases[] = {
	{"no arguments", {NULL}, 125, "missing command 'run'", NULL, NULL},
	/* No stage's command (stage 16's OCI line has start). */
	{"unknown command", {"launch", "x", NULL}, 125, "unknown command",
	 NULL, NULL},
	{"unknown option", {"run", "--bogus", "/bin/probe", NULL}, 125,
	 "unknown option '--bogus'", NULL, NULL},
	{"newline in an unknown option", {"run", "--bo\ngus", "x", NULL}, 125,
	 "unknown option", NULL, NULL},
	{"no command", {"run", "--verbose", NULL}, 125, "missing the command",
	 NULL, NULL},
	{"empty command", {"run", "", NULL}, 125, "empty string", NULL, NULL},
	{"command not found", {"run", "/no/such/cmd", NULL}, 127,
	 "cannot run '/no/such/cmd'", NULL, NULL},
	{"newline in a command not found", {"run", "/no/such\ncmd", NULL}, 127,
	 "cannot run", NULL, NULL},
	{"command is a directory", {"run", "/bin", NULL}, 126,
	 "cannot run '/bin'", NULL, NULL},
	{"command not executable", {"run", "/etc/passwd", NULL}, 126,
	 "cannot run '/etc/passwd'", NULL, NULL},
	{"rootfs missing", {"run", "--rootfs", "@/missing", "/bin/probe", NULL},
	 125, "No such file or directory", NULL, NULL},
	{"newline in a missing rootfs",
	 {"run", "--rootfs", "@/miss\ning", "/bin/probe", NULL}, 125,
	 "No such file or directory", NULL, NULL},
	{"rootfs is a file", {"run", "--rootfs", "@/file", "/bin/probe", NULL},
	 125, "not a directory", NULL, NULL},
	{"rootfs empty", {"run", "--rootfs", "@/empty", "/bin/probe", NULL}, 125,
	 "it is empty", NULL, NULL},
	{"rootfs without /proc",
	 {"run", "--rootfs", "@/noproc", "/bin/probe", NULL}, 125,
	 "no /proc directory", NULL, NULL},
	{"hostname of 64 bytes",
	 {"run", "--hostname", LONG_NAME "012345678", "/bin/probe",
	  "hostname", NULL},
	 0, NULL, LONG_NAME "012345678\n", NULL},
	{"no pids cgroup hierarchy", {"run", "/bin/probe", "out", "x", NULL},
	 125, "no cgroup hierarchy with the pids controller", NULL,
	 "/nonexistent-cgroup-root"},
	{"arguments with spaces, newlines, tabs and unicode",
	 {"run", "/bin/probe", "args", " a  b ", "x\ny\r\n", "\t",
	  "\xe2\x82\xac\xf0\x9f\x90\xb3", "--rootfs", NULL},
	 0, NULL, "206120206220\n780a790d0a\n09\ne282acf09f90b3\n2d2d726f6f746673\n",
	 NULL},
};

static bool make_dir(const char *sub)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", base, sub);
	return mkdir(path, 0755) == 0;
}

/* Make the wrong root filesystems: a file, an empty directory, and one
 * with a /bin but no /proc. */
static int init_dirs(void)
{
	char path[PATH_MAX];
	snprintf(base, sizeof(base), "/tmp/minidocker-badinput-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(path, sizeof(path), "%s/file", base);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return make_dir("empty") && make_dir("noproc") &&
			       make_dir("noproc/bin")
		       ? 0
		       : -1;
}

static void remove_dirs(void)
{
	static const char *const subs[] = {"file", "empty", "noproc/bin",
					   "noproc"};
	char path[PATH_MAX];
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		snprintf(path, sizeof(path), "%s/%s", base, subs[i]);
		if (remove(path) < 0)
			CU_FAIL("cannot remove a test root filesystem");
	}
	rmdir(base);
}

/* Check that the run of the runtime with pid left nothing behind. */
static void check_nothing_left(pid_t pid, const char *name)
{
	const char *left = h_left_behind(pid, base);
	char what[256];
	snprintf(what, sizeof(what), "%s: left %s", name,
		 left ? left : "nothing");
	H_CHECK(left == NULL, what);
}

/* Run the runtime with args; check status, output and what it left. */
static void check_case(const char *name, const char *const *args, int status,
		       const char *err, const char *out)
{
	struct container c;
	if (h_start(&c, NULL, args) < 0)
		return;
	h_finish(&c, NULL, H_TIMEOUT_MS);
	H_CHECK(c.r.status == status, name);
	H_CHECK(!strcmp(c.r.out, out ? out : ""), name);
	if (err) {
		H_CHECK(h_one_line(c.r.err), name);
		H_CHECK(!strncmp(c.r.err, "stage-", 6), name);
		H_CHECK(strstr(c.r.err, err) != NULL, name);
	} else {
		H_CHECK(!strcmp(c.r.err, ""), name);
	}
	check_nothing_left(c.pid, name);
	h_free(&c.r);
}

static void test_bad_input_matrix(void)
{
	char arg_buf[MAX_ARGS][PATH_MAX];
	CU_ASSERT_FATAL(init_dirs() == 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct bad_case *k = &cases[i];
		const char *args[MAX_ARGS];
		for (size_t a = 0; a < MAX_ARGS; a++) {
			args[a] = k->args[a];
			if (!args[a])
				break;
			if (args[a][0] == '@') {
				snprintf(arg_buf[a], PATH_MAX, "%s%s", base,
					 args[a] + 1);
				args[a] = arg_buf[a];
			}
		}
		if (k->cgroup_root)
			setenv("MINIDOCKER_CGROUP_ROOT", k->cgroup_root, 1);
		check_case(k->name, args, k->status, k->err, k->out);
		unsetenv("MINIDOCKER_CGROUP_ROOT");
	}
	remove_dirs();
}

/* One option's bad values, from its row: each is 125 with one line
 * naming the option, and leaves nothing behind. */
static void check_option(const struct opt_spec *o)
{
	char name[96], value[128], joined[192];
	const char *missing[] = {"run", o->name, NULL};
	snprintf(name, sizeof(name), "%s without its value", o->name);
	check_case(name, missing, 125, "needs a value", NULL);
	const char *bad[6];
	size_t n = 0;
	if (o->kind == OPT_TEXT) {
		bad[n++] = "";
		if (o->max > 0 && o->max < (long)sizeof(value)) {
			memset(value, 'a', o->max + 1);
			value[o->max + 1] = '\0';
			bad[n++] = value;
		}
	} else if (o->kind != OPT_NUMBER) {
		/* A limit (OPT_BYTES, OPT_CPU_TIME): its top is the host's,
		 * so these are bad on any host. */
		bad[n++] = "0";
		bad[n++] = "-1";
		bad[n++] = "12q";
		bad[n++] = "5 ";
		bad[n++] = "18446744073709551617";
	} else {
		static char below[32], above[32];
		snprintf(below, sizeof(below), "%ld", o->min - 1);
		snprintf(above, sizeof(above), "%ld", o->max + 1);
		bad[n++] = below;
		bad[n++] = above;
		bad[n++] = "many";
		bad[n++] = "5 ";
		bad[n++] = "18446744073709551617";
	}
	for (size_t i = 0; i < n; i++) {
		char want[64];
		snprintf(want, sizeof(want), "bad %s", o->name);
		snprintf(name, sizeof(name), "%s '%.40s'", o->name, bad[i]);
		const char *args[] = {"run", o->name, bad[i], "/bin/probe",
				      NULL};
		check_case(name, args, 125, want, NULL);
		/* The same in the --name=value form. */
		snprintf(joined, sizeof(joined), "%s=%s", o->name, bad[i]);
		const char *args2[] = {"run", joined, "/bin/probe", NULL};
		check_case(name, args2, 125, want, NULL);
	}
}

static void test_options_bad_values(void)
{
	for (const struct opt_spec *o = opt_table; o->name; o++) {
		if (o->kind == OPT_FLAG)
			continue;
		if (o->stage <= H.stage) {
			check_option(o);
		} else {
			char name[96];
			snprintf(name, sizeof(name), "%s before stage %d",
				 o->name, o->stage);
			const char *args[] = {"run", o->name, "1", "/bin/probe",
					      NULL};
			check_case(name, args, 125, "unknown option", NULL);
		}
	}
}

static void test_not_root_is_125(void)
{
	const char *args[] = {"run", H.probe, "out", "must not run", NULL};
	if (!h_become_nobody())
		return;
	check_case("not root", args, 125, "needs root", NULL);
	h_back_to_root();
}

static void test_many_arguments_pass_exactly(void)
{
	enum { N = 2000 };
	static const char *args[N + 4];
	static char text[N][8];
	char *want = malloc(N * 16 + 1), *w = want;
	args[0] = "run";
	args[1] = H.probe;
	args[2] = "args";
	for (int i = 0; i < N; i++) {
		snprintf(text[i], sizeof(text[i]), "%d", i);
		args[3 + i] = text[i];
		for (const char *p = text[i]; *p; p++)
			w += sprintf(w, "%02x", (unsigned char)*p);
		*w++ = '\n';
	}
	*w = '\0';
	args[3 + N] = NULL;
	check_case("2000 arguments", args, 0, NULL, want);
	free(want);
}

static void test_huge_argument_passes_exactly(void)
{
	enum { SIZE = 100 * 1024 };
	char *arg = malloc(SIZE + 1), *want = malloc(2 * SIZE + 2);
	for (int i = 0; i < SIZE; i++) {
		/* Every printable byte, and UTF-8's lead and follow bytes. */
		arg[i] = (char)(0x20 + i % 0x5f);
		if (i % 7 == 0)
			arg[i] = (char)0xc3;
		sprintf(want + 2 * i, "%02x", (unsigned char)arg[i]);
	}
	arg[SIZE] = '\0';
	strcpy(want + 2 * SIZE, "\n");
	const char *args[] = {"run", H.probe, "args", arg, NULL};
	check_case("one argument of 100 KiB", args, 0, NULL, want);
	free(arg);
	free(want);
}

static const struct stage_test tests[] = {
	{"test_bad_input_matrix", test_bad_input_matrix, false},
	{"test_options_bad_values", test_options_bad_values, false},
	{"test_not_root_is_125", test_not_root_is_125, false},
	{"test_many_arguments_pass_exactly", test_many_arguments_pass_exactly,
	 false},
	{"test_huge_argument_passes_exactly", test_huge_argument_passes_exactly,
	 false},
	{NULL, NULL, false},
};

const struct stage_suite suite_badinput = {6, "badinput", true, tests};
