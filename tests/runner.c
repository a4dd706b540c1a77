/*
 * The test runner: every stage's suite against its own binary and every
 * later one (cumulative), and each stage's new tests against the stage
 * before it, where they must fail.
 *
 *   runner [--bin DIR] [--rootfs DIR] [--stage N]... [--common] [--prove]
 *          [--json FILE] [--list] [--stress] [--only NAME]... [--times]
 *          [--own] [-v]
 *
 * With no --stage, every DIR/stage-N that exists. Exits non-zero when any
 * test failed, or when suites were skipped for want of root. --json also
 * writes the results to FILE as JSON (what tools/grade.sh shows: each
 * test's result and failed checks); --list prints the tests a run would
 * run and runs none, so it needs no binary. Each stage's run starts with
 * the smoke suite (tests/suite_smoke.c). The closing lines give the run's
 * wall time, and with --times its five slowest suites (not by default:
 * the stage READMEs' sessions grep the output for suite names).
 * --stress runs the stress suite (hundreds of containers) instead of the
 * stage suites. --own runs every suite against the last stage only, and
 * against each earlier one its own suite and the hardening suites but
 * the escape catalogue (what make test-asan needs: every program's own
 * code, in a third of the time). The catalogue's runs are plain runs of
 * the probe, with options the stage's own suite gives too; what it
 * proves, each stage's verdict, is make test-host's.
 * --only runs one suite (any whose name holds NAME, as "2-uts") or one
 * test (its exact name); given again, that one too (make test-vm picks
 * the cgroup suites for the dynamically linked stage so). An --only that
 * picks no test is a usage error (status 2), not an empty pass. -v
 * prints every run of a stage binary (command, status, stdout, stderr)
 * and, for a proof, the failed checks that made it fail on the stage
 * before.
 *
 * As root the runner first takes a UTS namespace of its own: a stage that
 * forgets CLONE_NEWUTS then renames the runner's namespace, where the
 * hostname tests see it, and never the machine. Mounts that a suite's
 * runs leave under the test root filesystem are removed after the suite
 * and make it fail (CUnit's "suite cleanup failed"), so the next suite
 * starts clean.
 */

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "clock.h"
#include "harness.h"
#include "suites.h"
#include "util.h"

#define MAX_STAGE 16

const struct stage_suite *const stage_suites[] = {
	&suite_exec, &suite_uts, &suite_pid, &suite_chroot, &suite_mount,
	&suite_cgroup, &suite_pivot, &suite_userns, &suite_limits, &suite_privs,
	&suite_walls, &suite_overlay, &suite_image,
#ifndef RUNNER_NO_NET /* the VM's static runner (tests/tests.mk) */
	&suite_net, &suite_detach,
#endif
	&suite_oci,
	/* Hardening, after the stage suites (find_suite() takes the first). */
	&suite_faults, &suite_hostfs, &suite_badinput, &suite_escapes, NULL,
};

/* Whether stage_suites[i] is a hardening suite (from suite_faults on). */
static bool hardening(int i)
{
	for (int k = 0; k <= i; k++)
		if (stage_suites[k] == &suite_faults)
			return true;
	return false;
}

/* Tests a later stage changes on purpose, kept out of its runs (the one
 * place docs/DESIGN.md asks for). */
static const struct {
	const char *test;
	int from_stage;
	const char *why;
} superseded[] = {
	{"test_host_processes_visible", 4,
	 "stage 4 mounts the container's own /proc"},
	{"test_host_sees_proc_mount_while_running", 5,
	 "stage 5's mount namespace keeps the proc mount from the host"},
	{"test_not_root_is_125", 8,
	 "stage 8's user namespace lets an ordinary user run it"},
	{"test_file_made_by_root_inside_is_users", 12,
	 "stage 12 keeps the container's files in its own layer, gone "
	 "after it ends (suite 12 checks the rootless layer)"},
};

/* Test fixtures: a stage with its lesson taken out, built by tests.mk
 * (each from the stage's own source by a sed that fails the build when
 * it stops matching), against which the named tests must fail too. */
static const struct {
	const char *binary; /* in the bin directory */
	int stage;
	const char *tests[4];
} fixtures[] = {
	/* The Go post's "Nothing changed!": CLONE_NEWNS alone, on a host
	 * whose / is shared, lets every mount through. */
	{"fixture-no-private",
	 5,
	 {"test_no_mount_reaches_shared_host",
	  "test_container_mounts_not_shared", NULL}},
	/* Stage 6 that never reaps a killed runtime's group. */
	{"fixture-no-reap", 6, {"test_killed_runtime_group_reaped_next_run",
				NULL}},
	/* Stage 7 that pivots but keeps the old root mounted. */
	{"fixture-no-umount", 7, {"test_old_root_not_mounted", NULL}},
	/* Stage 8 that tries the user namespace without first asking which
	 * host setting forbids it. */
	{"fixture-no-userns-check", 8,
	 {"test_forbidden_userns_names_setting", NULL}},
	/* Stage 8 whose child does not ask to die with the runtime: the
	 * rootless "nothing left behind" check must see its container. */
	{"fixture-no-prepare-child", 8,
	 {"test_rootless_killed_runtime_leaves_nothing", NULL}},
	/* Stage 10 whose deny-list lacks two rows (bpf, keyctl): a filter
	 * is loaded and refuses the rest, but not those. */
	{"fixture-short-denylist", 10, {"test_seccomp_denies_every_row", NULL}},
	/* Stage 13 that stores a blob without checking its digest: the
	 * corrupt layer goes into the store (and fails only later, if at
	 * all, in the unpacking). */
	{"fixture-no-digest-check", 13, {"test_corrupt_blob_fails_cleanly",
					 NULL}},
	/* Stage 15 whose exec skips one join (one setns, or the cgroups),
	 * or the walls: the test of that join must fail. */
	{"fixture-no-join-uts", 15, {"test_exec_joins_uts", NULL}},
	{"fixture-no-join-pid", 15, {"test_exec_joins_pid", NULL}},
	{"fixture-no-join-mnt", 15, {"test_exec_joins_mnt", NULL}},
	{"fixture-no-join-ipc", 15, {"test_exec_joins_ipc", NULL}},
	{"fixture-no-join-user", 15, {"test_exec_joins_user", NULL}},
	{"fixture-no-join-cgroupns", 15, {"test_exec_joins_cgroup_ns", NULL}},
	{"fixture-no-join-net", 15, {"test_exec_joins_net", NULL}},
	{"fixture-no-join-cgroups", 15,
	 {"test_exec_counts_against_pids_max", NULL}},
	{"fixture-no-join-walls", 15,
	 {"test_exec_has_the_containers_walls", NULL}},
	/* Stage 15 whose exec's joining process stays dumpable until
	 * its exec: a process of the container opens the runtime's binary
	 * through it (CVE-2019-5736). */
	{"fixture-dumpable-exec", 15,
	 {"test_catalogue_exec_copy_exe_refused", NULL}},
	/* Stage 16 that looks the spec's paths up in the root without
	 * RESOLVE_IN_ROOT: links in the root lead its mounts out. */
	{"fixture-no-root-resolve", 16,
	 {"test_mount_destinations_stay_in_root", NULL}},
};

/* Stage 14 has no exec: there every exec test fails on "unknown
 * command", which proves nothing. */
#define NO_EXEC "stage 14 has no exec"

/* Proofs that cannot be made honest against the stage before by leaving
 * out the options it does not know: there they would fail for another
 * reason than the missing mechanism. They are not run against the stage
 * before; the fixture named in fixtures[] proves them instead.
 *
 * Every other proof runs against stage N-1 with the options N-1 does not
 * know left out (struct harness's proof flag), and fails there because
 * the wall or limit is missing. The rootless proofs of stage 8 run stage
 * 7 setuid root, the only way it starts for an ordinary user, and fail
 * because the container's root is then the host's (suite_userns.c). */
static const struct {
	const char *test;
	const char *why; /* why the stage before proves nothing */
} not_on_stage_before[] = {
	{"test_killed_runtime_group_reaped_next_run",
	 "stage 5 makes no group, so there is none to reap"},
	{"test_old_root_not_mounted",
	 "stage 6 chroots: the old root's mounts are hidden, not gone"},
	{"test_forbidden_userns_names_setting",
	 "stage 7 makes no user namespace; in the test's own user namespace "
	 "it fails for want of cgroup rights"},
	{"test_exec_joins_uts", NO_EXEC},
	{"test_exec_joins_pid", NO_EXEC},
	{"test_exec_joins_mnt", NO_EXEC},
	{"test_exec_joins_ipc", NO_EXEC},
	{"test_exec_joins_user", NO_EXEC},
	{"test_exec_joins_cgroup_ns", NO_EXEC},
	{"test_exec_joins_net", NO_EXEC},
	{"test_exec_counts_against_pids_max", NO_EXEC},
	{"test_exec_has_the_containers_walls", NO_EXEC},
	{"test_catalogue_exec_copy_exe_refused", NO_EXEC},
};

/* What each registered suite runs against, found by its CU_pSuite. */
static struct target {
	CU_pSuite suite;
	char binary[PATH_MAX];
	int stage;       /* the binary's stage */
	int suite_stage; /* the stage whose tests the suite holds */
	char name[128];  /* the suite's, which outlives CUnit's registry */
	long started_ms, wall_ms; /* when it started, how long it took */
} targets[256];
static int n_targets;

static char bin_dir[PATH_MAX] = "build";
static char rootfs_dir[PATH_MAX] = "build/test-rootfs";
static char host_probe[PATH_MAX];
static char binaries[MAX_STAGE + 1][PATH_MAX];
static int skipped_for_root;
static const char *only[16]; /* each --only NAME */
static bool only_matched[ARRAY_SIZE(only)]; /* whether each picked one */
static int n_only;
static bool times;         /* --times */

/* Whether --only picks the whole suite (or the common suite) `name`:
 * with no --only every one does. */
static bool only_suite(const char *name)
{
	if (n_only == 0)
		return true;
	for (int i = 0; i < n_only; i++)
		if (strstr(name, only[i]))
			return true;
	return false;
}

/* Whether an --only names test t exactly. */
static bool only_test(const char *t)
{
	for (int i = 0; i < n_only; i++)
		if (!strcmp(t, only[i]))
			return true;
	return false;
}

/* Note which --only picked test t of the suite named suite. */
static void note_only_match(const char *suite, const char *t)
{
	for (int i = 0; i < n_only; i++)
		if (strstr(suite, only[i]) || !strcmp(t, only[i]))
			only_matched[i] = true;
}

static const char *not_on_stage_before_why(const char *test)
{
	for (size_t i = 0; i < ARRAY_SIZE(not_on_stage_before); i++)
		if (!strcmp(not_on_stage_before[i].test, test))
			return not_on_stage_before[i].why;
	return NULL;
}

static const char *superseded_why(const char *test, int stage)
{
	for (size_t i = 0; i < ARRAY_SIZE(superseded); i++)
		if (!strcmp(superseded[i].test, test) &&
		    stage >= superseded[i].from_stage)
			return superseded[i].why;
	return NULL;
}

static struct target *current_target(void)
{
	CU_pSuite s = CU_get_current_suite();
	for (int i = 0; i < n_targets; i++)
		if (targets[i].suite == s)
			return &targets[i];
	return NULL;
}

/* Point the harness at the suite's binary. */
static int init_suite(void)
{
	struct target *t = current_target();
	if (!t)
		return 1;
	H.stage = t->stage;
	H.suite_stage = t->suite_stage;
	H.proof = false;
	H.binary = t->binary;
	H.rootfs = rootfs_dir;
	H.host_probe = host_probe;
	/* From stage 4 on the command runs inside the root filesystem. */
	H.probe = t->stage >= 4 ? "/bin/probe" : host_probe;
	t->started_ms = now_ms();
	return 0;
}

/* Remove what a suite's runs left mounted under the test root
 * filesystem, and fail the suite that left it. */
static int clean_suite(void)
{
	struct target *t = current_target();
	if (t)
		t->wall_ms = now_ms() - t->started_ms;
	int left = h_unmount_under(rootfs_dir);
	if (left == 0)
		return 0;
	printf("\nrunner: %s left %d mount%s under %s: removed\n",
	       CU_get_current_suite()->pName, left, left == 1 ? "" : "s",
	       rootfs_dir);
	return 1;
}

static const struct stage_suite *find_suite(int stage)
{
	for (int i = 0; stage_suites[i]; i++)
		if (stage_suites[i]->stage == stage)
			return stage_suites[i];
	return NULL;
}

/* With -v, in a proof's child: the checks that failed there, which are
 * why the proof holds. */
static void show_failures_after(unsigned skip)
{
	unsigned n = 0;
	for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext)
		if (n++ >= skip)
			printf("\n      failed as it must: %s:%u: %s",
			       f->strFileName, f->uiLineNumber,
			       f->strCondition);
	if (n <= skip)
		printf("\n      no check failed");
	printf("\n    ");
	fflush(stdout);
}

/* Run one test in a child process against an earlier binary (the stage
 * before, or a fixture) and expect it to fail there. */
static void run_proof(void)
{
	struct target *target = current_target();
	CU_pTest t = CU_get_current_test();
	const struct stage_suite *suite = find_suite(target->suite_stage);
	CU_TestFunc fn = NULL;
	for (const struct stage_test *x = suite->tests; x->name; x++)
		if (!strcmp(x->name, t->pName))
			fn = x->fn;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* A failed FATAL assertion jumps here, not into the run. */
		jmp_buf jb;
		t->pJumpBuf = &jb;
		unsigned failures = CU_get_number_of_failures();
		/* Against the stage before (not a fixture of this stage): run
		 * the same commands without the options it does not know. */
		H.proof = target->stage < target->suite_stage;
		if (setjmp(jb) == 0)
			fn();
		if (H.verbose)
			show_failures_after(failures);
		_exit(CU_get_number_of_failures() > failures ? 1 : 0);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	char msg[512];
	snprintf(msg, sizeof(msg), "%s passed on %s, where it must fail "
		 "(runner --prove -v --only %s shows its runs)",
		 t->pName, strrchr(target->binary, '/') + 1, t->pName);
	CU_assertImplementation(WIFEXITED(status) && WEXITSTATUS(status) == 1,
				__LINE__, msg, __FILE__, "", CU_FALSE);
}

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

/* Whether a suite registers test t: in a proof suite only the tests in
 * only_in (a fixture's), or else the proving tests that the stage before
 * can prove; and, with --only, t itself or its whole suite. */
static bool wants(const struct stage_test *t, bool proof, bool before,
		  const char *const *only_in, bool whole)
{
	if (proof && !only_in && !t->proves)
		return false;
	if (only_in && !in_list(t->name, only_in))
		return false;
	if (proof && before && not_on_stage_before_why(t->name))
		return false;
	return whole || only_test(t->name);
}

/* Register suite against the binary of stage `binary` (or the fixture
 * `fixture`, when not NULL); a proof suite holds only the tests named in
 * only_in, or else the suite's proving tests, each expected to fail. */
static void add_suite(const struct stage_suite *suite, int binary, bool proof,
		      const char *fixture, const char *const *only_in)
{
	char name[128], bin[32];
	if (fixture)
		snprintf(bin, sizeof(bin), "%s", fixture);
	else
		snprintf(bin, sizeof(bin), "stage-%d", binary);
	snprintf(name, sizeof(name), "%s%s | %d-%s", proof ? "proof: " : "",
		 bin, suite->stage, suite->name);
	bool whole = only_suite(name);
	int wanted = 0;
	for (const struct stage_test *t = suite->tests; t->name; t++)
		wanted += wants(t, proof, binary < suite->stage, only_in,
				whole);
	if (wanted == 0)
		return;
	CU_pSuite s = CU_add_suite(name, init_suite, clean_suite);
	if (!s || n_targets == (int)(ARRAY_SIZE(targets))) {
		fprintf(stderr, "runner: cannot add suite %s\n", name);
		exit(2);
	}
	struct target *tg = &targets[n_targets++];
	tg->suite = s;
	tg->stage = binary;
	tg->suite_stage = suite->stage;
	snprintf(tg->name, sizeof(tg->name), "%s", name);
	if (snprintf(tg->binary, PATH_MAX, "%s/%s", bin_dir, bin) >= PATH_MAX)
		exit(2);
	/* Every stage from 2 on makes namespaces, which needs root. */
	bool inactive = (suite->needs_root || binary >= 2) && !h_is_root();
	if (inactive) {
		printf("skipped: %s (needs root)\n", name);
		skipped_for_root++;
		CU_set_suite_active(s, CU_FALSE);
	}
	for (const struct stage_test *t = suite->tests; t->name; t++) {
		if (!wants(t, proof, binary < suite->stage, only_in, whole)) {
			const char *why = not_on_stage_before_why(t->name);
			if (proof && binary < suite->stage && t->proves && why &&
			    whole)
				printf("not proved on %s: %s (%s; a fixture "
				       "proves it)\n", bin, t->name, why);
			continue;
		}
		CU_pTest test = CU_add_test(s, t->name, proof ? run_proof : t->fn);
		note_only_match(name, t->name);
		const char *why = proof ? NULL : superseded_why(t->name, binary);
		if (why) {
			printf("not run: %s in %s (%s)\n", t->name, name, why);
			CU_set_test_active(test, CU_FALSE);
		}
	}
}

static int init_nothing(void)
{
	return 0;
}

static void add_common_suite(void)
{
	bool whole = only_suite("common");
	CU_pSuite s = NULL;
	for (const struct stage_test *t = common_tests; t->name; t++) {
		if (!whole && !only_test(t->name))
			continue;
		if (!s)
			s = CU_add_suite("common", init_nothing, NULL);
		CU_add_test(s, t->name, t->fn);
		note_only_match("common", t->name);
	}
}

static void absolute(char *path)
{
	char buf[PATH_MAX];
	if (path[0] != '/' && realpath(path, buf))
		strcpy(path, buf);
}

/* The first failure recorded for test t of suite s (a suite whose
 * initialisation failed fails every test in it); NULL when it passed. */
static CU_pFailureRecord failure_of(CU_pSuite s, CU_pTest t)
{
	for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext)
		if (f->pSuite == s &&
		    (f->pTest == t ||
		     (!f->pTest && f->type == CUF_SuiteInitFailed)))
			return f;
	return NULL;
}

/* Whether suite s left mounts behind (clean_suite() failed). */
static bool cleanup_failed(CU_pSuite s)
{
	for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext)
		if (f->pSuite == s && f->type == CUF_SuiteCleanupFailed)
			return true;
	return false;
}

/* Set when jansson could not allocate: the JSON file is then not
 * written (jansson returns NULL from a constructor that failed, and a
 * pack or append given NULL fails in turn). */
static bool json_short;

/* Append value to array (jansson takes the reference); NULL, or a
 * failed append, marks the results as incomplete. */
static void append(json_t *array, json_t *value)
{
	if (json_array_append_new(array, value) < 0)
		json_short = true;
}

/* Append to array a JSON string made by printf from fmt. */
static void append_text(json_t *array, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void append_text(json_t *array, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	json_t *value = text ? json_string(text) : NULL;
	/* A stage's stderr, quoted in a failure, need not be UTF-8, which
	 * JSON strings must be: show its other bytes as '?'. */
	if (text && !value) {
		for (char *p = text; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		value = json_string(text);
	}
	append(array, value);
	free(text);
}

/* Test t of suite s as JSON: its name, "passed", "failed" or "inactive"
 * (not run: superseded, or the suite skipped), and its failed assertions
 * (5 at most, "file:line: condition"). */
static json_t *test_json(CU_pSuite s, CU_pTest t, const char **result)
{
	json_t *failures = json_array();
	*result = "passed";
	if (!s->fActive || !t->fActive)
		*result = "inactive";
	else if (failure_of(s, t))
		*result = "failed";
	int n = 0;
	for (CU_pFailureRecord fr = CU_get_failure_list(); fr && n < 5;
	     fr = fr->pNext) {
		if (fr->pSuite != s ||
		    (fr->pTest != t &&
		     !(!fr->pTest && fr->type == CUF_SuiteInitFailed)))
			continue;
		n++;
		append_text(failures, "%s:%u: %s",
			    fr->strFileName ? fr->strFileName : "",
			    fr->uiLineNumber,
			    fr->strCondition ? fr->strCondition : "");
	}
	return json_pack("{s:s, s:s, s:o}", "name", t->pName, "result",
			 *result, "failures", failures);
}

/* Write the run's results to path as JSON, what tools/grade.sh presents:
 * per suite its binary's stage, the stage whose tests it holds and
 * whether it is a proof; per test as test_json() says, and a failed test
 * "nothing_left_behind" for a suite whose runs left mounts; the counts.
 * Call before CU_cleanup_registry(). Returns 0, or -1 after saying why. */
static int write_json(const char *path)
{
	unsigned passed = 0, failed = 0, inactive = 0;
	json_t *suites = json_array();
	for (CU_pSuite s = CU_get_registry()->pSuite; s; s = s->pNext) {
		int stage = 0, suite_stage = 0;
		for (int i = 0; i < n_targets; i++)
			if (targets[i].suite == s) {
				stage = targets[i].stage;
				suite_stage = targets[i].suite_stage;
			}
		json_t *tests = json_array();
		for (CU_pTest t = s->pTest; t; t = t->pNext) {
			const char *result;
			append(tests, test_json(s, t, &result));
			if (!strcmp(result, "passed"))
				passed++;
			else if (!strcmp(result, "failed"))
				failed++;
			else
				inactive++;
		}
		if (cleanup_failed(s)) {
			json_t *why = json_array();
			append_text(why, "the suite's runs left mounts under "
					 "the test root filesystem (removed "
					 "after it)");
			append(tests, json_pack("{s:s, s:s, s:o}", "name",
						 "nothing_left_behind",
						 "result", "failed",
						 "failures", why));
			failed++;
		}
		append(suites, json_pack("{s:s, s:i, s:i, s:b, s:o}", "name",
				  s->pName, "stage", stage, "suite_stage",
				  suite_stage, "proof",
				  !strncmp(s->pName, "proof: ", 7), "tests",
				  tests));
	}
	json_t *all = json_pack("{s:o, s:i, s:i, s:i}", "suites", suites,
				"passed", passed, "failed", failed,
				"inactive", inactive);
	if (!all || json_short) {
		json_decref(all);
		fprintf(stderr, "runner: cannot write '%s': out of memory\n",
			path);
		return -1;
	}
	errno = 0;
	int rc = json_dump_file(all, path, JSON_INDENT(2));
	json_decref(all);
	if (rc < 0) {
		fprintf(stderr, "runner: cannot write '%s': %s\n", path,
			errno ? strerror(errno) : "jansson failed");
		return -1;
	}
	return 0;
}

static int by_wall_time(const void *a, const void *b)
{
	long x = ((const struct target *)a)->wall_ms;
	long y = ((const struct target *)b)->wall_ms;
	return (x < y) - (x > y);
}

/* The suites that took longest, where the time of a run goes. Call after
 * the run, last: it sorts targets[]. */
static void print_slowest(int most)
{
	qsort(targets, n_targets, sizeof(targets[0]), by_wall_time);
	int shown = 0;
	for (int i = 0; i < n_targets && i < most; i++) {
		if (targets[i].wall_ms <= 0)
			continue;
		printf("%s '%s' %ld.%ld s", shown++ ? "," : "runner: slowest "
		       "suites:", targets[i].name, targets[i].wall_ms / 1000,
		       targets[i].wall_ms % 1000 / 100);
	}
	if (shown)
		printf("\n");
}

/* As root, a UTS namespace of the runner's own (see the top), and no
 * mount left under the test root filesystem by an earlier run. */
static void fence_host(void)
{
	if (!h_is_root())
		return;
	if (unshare(CLONE_NEWUTS) < 0) {
		fprintf(stderr, "runner: cannot make a UTS namespace: %s\n",
			strerror(errno));
		exit(2);
	}
	int left = h_unmount_under(rootfs_dir);
	if (left > 0)
		printf("runner: an earlier run left %d mount%s under %s: "
		       "removed\n", left, left == 1 ? "" : "s", rootfs_dir);
}

/* Print "suite<TAB>test" for each test a run would run. */
static void list_tests(void)
{
	for (CU_pSuite s = CU_get_registry()->pSuite; s; s = s->pNext)
		for (CU_pTest t = s->pTest; t; t = t->pNext)
			if (t->fActive)
				printf("%s\t%s\n", s->pName, t->pName);
}

/* The words before the command of a plain container of stage n, one a
 * line: run, the test root filesystem from the stage that takes one, and
 * from the stage that has networks none of them, since root's default
 * network is a bridge on the machine's own (DESIGN.md, "Networks in
 * tests"). The option table says which stage brings which, so scripts
 * that run a stage by hand (the grade, valgrind) ask here. */
static void print_plain_run(int n)
{
	printf("run\n");
	for (const struct opt_spec *o = opt_table; o->name; o++) {
		if (o->stage > n)
			continue;
		if (o->bit == OPT_ROOTFS)
			printf("%s\n%s\n", o->name, rootfs_dir);
		else if (o->bit == OPT_NET)
			printf("%s\nnone\n", o->name);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: runner [--bin DIR] [--rootfs DIR] "
			"[--stage N]... [--common] [--prove] "
			"[--json FILE] [--list] [--stress] "
			"[--only NAME]... [--times] [--own] [-v]\n"
			"       runner [--rootfs DIR] --plain-run N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	bool want[MAX_STAGE + 1] = {0}, any_stage = false, common = false;
	bool prove = false, list = false, stress = false, own_only = false;
	const char *json = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bin") && i + 1 < argc)
			snprintf(bin_dir, sizeof(bin_dir), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--rootfs") && i + 1 < argc)
			snprintf(rootfs_dir, sizeof(rootfs_dir), "%s",
				 argv[++i]);
		else if (!strcmp(argv[i], "--stage") && i + 1 < argc) {
			int n = atoi(argv[++i]);
			if (n < 1 || n > MAX_STAGE)
				usage();
			want[n] = any_stage = true;
		} else if (!strcmp(argv[i], "--common"))
			common = true;
		else if (!strcmp(argv[i], "--prove"))
			prove = true;
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else if (!strcmp(argv[i], "--list"))
			list = true;
		else if (!strcmp(argv[i], "--stress"))
			stress = true;
		else if (!strcmp(argv[i], "--escapes-table") && i + 1 < argc) {
			int n = atoi(argv[++i]);
			if (n < 1 || n > MAX_STAGE)
				usage();
			print_escapes_table(stdout, n);
			return 0;
		} else if (!strcmp(argv[i], "--plain-run") && i + 1 < argc) {
			int n = atoi(argv[++i]);
			if (n < 1 || n > MAX_STAGE)
				usage();
			absolute(rootfs_dir);
			print_plain_run(n);
			return 0;
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			if (n_only == (int)ARRAY_SIZE(only))
				usage();
			only[n_only++] = argv[++i];
		}
		else if (!strcmp(argv[i], "--times"))
			times = true;
		else if (!strcmp(argv[i], "--own"))
			own_only = true;
		else if (!strcmp(argv[i], "-v"))
			H.verbose = true;
		else
			usage();
	}
	absolute(bin_dir);
	absolute(rootfs_dir);
	/* The probe sits beside the runner. */
	if (!realpath("/proc/self/exe", host_probe))
		return 2;
	strcpy(strrchr(host_probe, '/') + 1, "probe");

	bool have[MAX_STAGE + 1] = {0};
	for (int n = 1; n <= MAX_STAGE; n++) {
		if (snprintf(binaries[n], PATH_MAX, "%s/stage-%d", bin_dir,
			     n) >= PATH_MAX)
			usage();
		have[n] = access(binaries[n], X_OK) == 0;
		if (want[n] && !have[n] && !list) {
			fprintf(stderr, "runner: no binary %s: build it with "
					"'make stage-%d'\n", binaries[n], n);
			return 2;
		}
	}

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_set_fail_on_inactive(CU_FALSE);
	if (common)
		add_common_suite();
	int last = 0;
	for (int n = 1; n <= MAX_STAGE; n++)
		if (any_stage ? want[n] : have[n])
			last = n;
	for (int n = 1; n <= MAX_STAGE; n++) {
		if (!(any_stage ? want[n] : have[n]))
			continue;
		if (stress) {
			if (suite_stress.stage <= n)
				add_suite(&suite_stress, n, false, NULL, NULL);
			continue;
		}
		/* First, so that a stage that cannot even fork says so
		 * before the failures that follow from it. */
		add_suite(&suite_smoke, n, false, NULL, NULL);
		/* --own: the last stage runs every suite; an earlier one
		 * its own suite and the hardening suites but the escape
		 * catalogue (see the top). */
		for (int i = 0; stage_suites[i]; i++)
			if (stage_suites[i]->stage <= n &&
			    (!own_only || n == last ||
			     stage_suites[i]->stage == n ||
			     (hardening(i) &&
			      stage_suites[i] != &suite_escapes)))
				add_suite(stage_suites[i], n, false, NULL,
					  NULL);
		const struct stage_suite *own = find_suite(n);
		if (!prove || !own)
			continue;
		if (n > 1 && !have[n - 1] && !list) {
			fprintf(stderr, "runner: no binary %s to prove stage "
					"%d's tests against: build it with "
					"'make stage-%d'\n",
				binaries[n - 1], n, n - 1);
			return 2;
		}
		if (n > 1)
			add_suite(own, n - 1, true, NULL, NULL);
		for (size_t f = 0; f < ARRAY_SIZE(fixtures);
		     f++) {
			char path[PATH_MAX + 64];
			snprintf(path, sizeof(path), "%s/%s", bin_dir,
				 fixtures[f].binary);
			if (fixtures[f].stage != n)
				continue;
			if (access(path, X_OK) < 0) {
				fprintf(stderr, "runner: no fixture %s: "
						"build it with 'make fixtures'\n",
					path);
				return 2;
			}
			add_suite(own, n, true, fixtures[f].binary,
				  fixtures[f].tests);
		}
	}

	/* Each --only must pick something: a misspelt one among others
	 * would run nothing of its own and pass. */
	for (int i = 0; i < n_only; i++) {
		if (only_matched[i])
			continue;
		fprintf(stderr, "runner: no suite or test matches --only '%s' "
				"(see --list)\n", only[i]);
		CU_cleanup_registry();
		return 2;
	}
	if (list) {
		list_tests();
		CU_cleanup_registry();
		return 0;
	}
	/* Containers keep their state (stage 12 on) in a directory of the
	 * runner's, never in the machine's /run/minidocker; sticky and open
	 * to all, as /tmp, for the rootless runs. Made once nothing is left
	 * to refuse, so that a refused run leaves none. */
	char state_dir[] = "/tmp/minidocker-run-XXXXXX";
	bool own_state = !getenv("MINIDOCKER_RUN");
	if (own_state) {
		if (!mkdtemp(state_dir) || chmod(state_dir, 01777) < 0) {
			perror("runner: cannot make a state directory");
			CU_cleanup_registry();
			return 2;
		}
		setenv("MINIDOCKER_RUN", state_dir, 1);
	}
	fence_host();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	long start = now_ms();
	CU_basic_run_tests();
	long wall = now_ms() - start;
	unsigned failures = CU_get_number_of_failures();
	unsigned suite_failures = CU_get_run_summary()->nSuitesFailed;
	if (json && write_json(json) < 0)
		failures++;
	CU_cleanup_registry();
	if (own_state) {
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
		if (system(cmd) != 0)
			failures++;
	}
	/* CUnit's "Elapsed time" is clock(3): the runner's own CPU time,
	 * without the stage binaries' or the waits. */
	printf("\nrunner: wall time %ld.%ld s (CUnit's \"Elapsed time\" "
	       "above counts the runner's CPU time only)\n", wall / 1000,
	       wall % 1000 / 100);
	if (times)
		print_slowest(5);
	if (skipped_for_root) {
		printf("runner: %d suites need root and were skipped: run "
		       "it with sudo (sudo make test)\n", skipped_for_root);
		return 1;
	}
	return failures || suite_failures ? 1 : 0;
}
