/*
 * The test runner: every stage's suite against its own binary and every
 * later one (cumulative), and each stage's new tests against the stage
 * before it, where they must fail.
 *
 *   runner [--bin DIR] [--rootfs DIR] [--stage N]... [--common] [--prove]
 *
 * With no --stage, every DIR/stage-N that exists. Exits non-zero when any
 * test failed, or when suites were skipped for want of root.
 */

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define MAX_STAGE 16

const struct stage_suite *const stage_suites[] = {
	&suite_exec, &suite_uts, &suite_pid, NULL,
};

/* Tests a later stage changes on purpose, kept out of its runs (the one
 * place DESIGN.md asks for). */
static const struct {
	const char *test;
	int from_stage;
	const char *why;
} superseded[] = {
	{"test_host_processes_visible", 4,
	 "stage 4 mounts the container's own /proc"},
	{"test_host_sees_proc_mount_while_running", 5,
	 "stage 5's mount namespace keeps the proc mount from the host"},
};

static char bin_dir[PATH_MAX] = "build";
static char rootfs_dir[PATH_MAX] = "build/test-rootfs";
static char host_probe[PATH_MAX];
static char binaries[MAX_STAGE + 1][PATH_MAX];
static int skipped_for_root;

static const char *superseded_why(const char *test, int stage)
{
	for (size_t i = 0; i < sizeof(superseded) / sizeof(superseded[0]); i++)
		if (!strcmp(superseded[i].test, test) &&
		    stage >= superseded[i].from_stage)
			return superseded[i].why;
	return NULL;
}

/* Point the harness at the binary of stage n. */
static void use_stage(int n)
{
	H.stage = n;
	H.binary = binaries[n];
	H.rootfs = rootfs_dir;
	H.host_probe = host_probe;
	/* From stage 4 on the command runs inside the root filesystem. */
	H.probe = n >= 4 ? "/bin/probe" : host_probe;
}

/* Suite names name the binary's stage: "stage-4 | 2-uts" runs suite 2
 * against stage 4, "proof: stage-3 | 4-chroot" suite 4 against stage 3. */
static int init_suite(void)
{
	int n;
	CU_pSuite s = CU_get_current_suite();
	const char *p = s ? strstr(s->pName, "stage-") : NULL;
	if (!p || sscanf(p, "stage-%d", &n) != 1 || n < 1 || n > MAX_STAGE)
		return 1;
	use_stage(n);
	return 0;
}

static const struct stage_suite *find_suite(int stage)
{
	for (int i = 0; stage_suites[i]; i++)
		if (stage_suites[i]->stage == stage)
			return stage_suites[i];
	return NULL;
}

/* Run one test in a child process against the stage before and expect it
 * to fail there. The test's name and stage come from the current test and
 * suite ("proof: stage-3 | 4-chroot"). */
static void run_proof(void)
{
	CU_pSuite s = CU_get_current_suite();
	CU_pTest t = CU_get_current_test();
	int before, stage;
	if (sscanf(s->pName, "proof: stage-%d | %d-", &before, &stage) != 2) {
		CU_FAIL("runner: bad proof suite name");
		return;
	}
	const struct stage_suite *suite = find_suite(stage);
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
		if (setjmp(jb) == 0)
			fn();
		_exit(CU_get_number_of_failures() > failures ? 1 : 0);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	char msg[256];
	snprintf(msg, sizeof(msg), "%s passed on stage-%d, where it must fail",
		 t->pName, before);
	CU_assertImplementation(WIFEXITED(status) && WEXITSTATUS(status) == 1,
				__LINE__, msg, __FILE__, "", CU_FALSE);
}

static void add_suite(const struct stage_suite *suite, int binary, bool proof)
{
	char name[128];
	if (proof)
		snprintf(name, sizeof(name), "proof: stage-%d | %d-%s",
			 binary, suite->stage, suite->name);
	else
		snprintf(name, sizeof(name), "stage-%d | %d-%s", binary,
			 suite->stage, suite->name);
	CU_pSuite s = CU_add_suite(name, init_suite, NULL);
	if (!s) {
		fprintf(stderr, "runner: cannot add suite %s\n", name);
		exit(2);
	}
	/* Every stage from 2 on makes namespaces, which needs root. */
	bool inactive = (suite->needs_root || binary >= 2) && !h_is_root();
	if (inactive) {
		printf("skipped: %s (needs root)\n", name);
		skipped_for_root++;
		CU_set_suite_active(s, CU_FALSE);
	}
	for (const struct stage_test *t = suite->tests; t->name; t++) {
		if (proof && !t->proves)
			continue;
		CU_pTest test = CU_add_test(s, t->name, proof ? run_proof : t->fn);
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
	CU_pSuite s = CU_add_suite("common", init_nothing, NULL);
	for (const struct stage_test *t = common_tests; t->name; t++)
		CU_add_test(s, t->name, t->fn);
}

static void absolute(char *path)
{
	char buf[PATH_MAX];
	if (path[0] != '/' && realpath(path, buf))
		strcpy(path, buf);
}

static void usage(void)
{
	fprintf(stderr, "usage: runner [--bin DIR] [--rootfs DIR] "
			"[--stage N]... [--common] [--prove]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	bool want[MAX_STAGE + 1] = {0}, any_stage = false, common = false;
	bool prove = false;

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
		if (want[n] && !have[n]) {
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
	for (int n = 1; n <= MAX_STAGE; n++) {
		if (!(any_stage ? want[n] : have[n]))
			continue;
		for (int i = 0; stage_suites[i]; i++)
			if (stage_suites[i]->stage <= n)
				add_suite(stage_suites[i], n, false);
		const struct stage_suite *own = find_suite(n);
		if (prove && own && n > 1 && have[n - 1])
			add_suite(own, n - 1, true);
	}

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failures = CU_get_number_of_failures();
	unsigned suite_failures = CU_get_run_summary()->nSuitesFailed;
	CU_cleanup_registry();
	printf("\n");
	if (skipped_for_root) {
		printf("runner: %d suites need root and were skipped: run "
		       "it with sudo (sudo make test)\n", skipped_for_root);
		return 1;
	}
	return failures || suite_failures ? 1 : 0;
}
