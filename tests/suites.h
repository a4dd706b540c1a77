/* The stage suites, as tables the runner registers. */
#ifndef MINIDOCKER_SUITES_H
#define MINIDOCKER_SUITES_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdio.h>

struct stage_test {
	const char *name;
	CU_TestFunc fn;
	/* It checks what this stage adds: run against the stage before,
	 * it must fail (the proof that the test can fail). */
	bool proves;
};

struct stage_suite {
	int stage;       /* the stage that introduces these tests */
	const char *name;
	bool needs_root; /* namespaces, mounts and cgroups need root */
	const struct stage_test *tests; /* ended by a {NULL} entry */
};

extern const struct stage_suite suite_exec, suite_uts, suite_pid,
	suite_chroot, suite_mount, suite_cgroup, suite_pivot, suite_userns,
	suite_limits, suite_privs, suite_walls, suite_overlay,
	suite_image, suite_net, suite_detach, suite_oci;

/* Hardening: faults (stage 1), host paths (4), bad input (6); stress (6)
 * runs only with `runner --stress`. */
extern const struct stage_suite suite_faults, suite_hostfs, suite_badinput,
	suite_stress;

/* Every stage's first suite: a plain container forks and execs
 * (tests/suite_smoke.c); stage 0, as no stage teaches it. */
extern const struct stage_suite suite_smoke;

/* The escape catalogue (tests/suite_escapes.c): every entry against
 * every stage; at stage 1 so that every stage runs it. */
extern const struct stage_suite suite_escapes;

/* Check that the catalogue's entries first stopped at stage are stopped
 * by the binary under test: a stage's proof of its walls. */
void escapes_check_stage(int stage);

/* The catalogue as a markdown table, entries by stages 1..last_stage. */
void print_escapes_table(FILE *out, int last_stage);

/* From the userns suite, for the rootless tests of later stages: hand
 * the cgroup v2 group dir to H_NOBODY as systemd delegates one (0, with
 * the leaf's cgroup.procs in procs, or -1). */
int delegate(const char *dir, char *procs, size_t len);

/* Every stage suite, in stage order. */
extern const struct stage_suite *const stage_suites[];

/* The suite for common/, linked in-process. */
extern const struct stage_test common_tests[];

#endif
