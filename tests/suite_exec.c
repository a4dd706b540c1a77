/* Stage 1: run a command; stdio and exit status pass through unchanged. */

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "harness.h"
#include "suites.h"
#include "util.h"

static void test_stdout_passes_exactly(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "out", "hello\n  world\tno newline");
	H_STATUS(r, 0);
	H_OUT(r, "hello\n  world\tno newline");
	H_RUN(r, !strcmp(r.err, ""));
	h_free(&r);
}

static void test_stderr_passes_exactly(void)
{
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "err", "oops\nsecond line");
	H_STATUS(r, 0);
	H_OUT(r, "");
	H_RUN(r, !strcmp(r.err, "oops\nsecond line"));
	h_free(&r);
}

static void test_stdin_passes_through(void)
{
	struct run_result r;
	const char *input = "first\nsecond\n\nlast without newline";
	RUN(r, input, "run", H.probe, "cat");
	H_STATUS(r, 0);
	H_OUT(r, input);
	h_free(&r);
}

static void test_arguments_pass_exactly(void)
{
	struct run_result r;
	/* Spaces, an empty argument, a newline, UTF-8, a leading dash. */
	RUN(r, NULL, "run", H.probe, "args", "a b", "", "line\nbreak",
	    "\xc3\xa9t\xc3\xa9", "-v");
	H_STATUS(r, 0);
	H_OUT(r, "612062\n\n6c696e650a627265616b\n"
				      "c3a974c3a9\n2d76\n");
	h_free(&r);
}

static void test_exit_status_passes_on(void)
{
	static const char *codes[] = {"0", "1", "2", "42", "124", "200", "255"};
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		struct run_result r;
		RUN(r, NULL, "run", H.probe, "exit", codes[i]);
		H_STATUS(r, atoi(codes[i]));
		H_RUN(r, !strcmp(r.err, ""));
		h_free(&r);
	}
}

static void test_killed_by_signal_is_128_plus(void)
{
	static const struct {
		const char *name;
		int status;
	} crashes[] = {{"SEGV", 128 + 11}, {"ILL", 128 + 4},
		       {"FPE", 128 + 8},   {"TRAP", 128 + 5}};
	for (size_t i = 0; i < ARRAY_SIZE(crashes); i++) {
		struct run_result r;
		RUN(r, NULL, "run", H.probe, "crash", crashes[i].name);
		H_STATUS(r, crashes[i].status);
		h_free(&r);
	}
}

static void test_missing_command_is_127(void)
{
	struct run_result r;
	RUN(r, NULL, "run", "/no/such/command", "x");
	H_STATUS(r, 127);
	H_OUT(r, "");
	H_RUN(r, h_one_line(r.err));
	H_RUN(r, strstr(r.err, "'/no/such/command'") != NULL);
	h_free(&r);
	RUN(r, NULL, "run", "no-such-command-in-path");
	H_STATUS(r, 127);
	H_RUN(r, h_one_line(r.err));
	h_free(&r);
}

static void test_not_executable_is_126(void)
{
	struct run_result r;
	/* /etc/passwd is there on the host and in the root filesystem. */
	RUN(r, NULL, "run", "/etc/passwd");
	H_STATUS(r, 126);
	H_RUN(r, h_one_line(r.err));
	H_RUN(r, strstr(r.err, "'/etc/passwd'") != NULL);
	h_free(&r);
}

static void test_directory_is_126(void)
{
	struct run_result r;
	RUN(r, NULL, "run", "/etc");
	H_STATUS(r, 126);
	H_RUN(r, h_one_line(r.err));
	h_free(&r);
}

static void test_bad_arguments_are_125(void)
{
	static const char *const cases[][4] = {
		{NULL},
		/* No stage's command (stage 16's OCI line has start). */
		{"launch", "x", NULL},
		{"run", NULL},
		{"run", "--no-such-option", "x", NULL},
		{"run", "--verbose", NULL},
		{"run", "", NULL},
		/* --verbose was -v, which stage 13 gives to volumes. */
		{"run", "-v", "x", NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run_result r;
		h_run(&r, NULL, cases[i]);
		H_STATUS(r, 125);
		H_OUT(r, "");
		H_RUN(r, h_one_line(r.err));
		H_RUN(r, strstr(r.err, "usage: stage-") != NULL);
		h_free(&r);
	}
}

static void test_help_goes_to_stdout(void)
{
	struct run_result r;
	RUN(r, NULL, "--help");
	H_STATUS(r, 0);
	H_RUN(r, strstr(r.out, "usage: stage-") != NULL);
	H_RUN(r, !strcmp(r.err, ""));
	h_free(&r);
	RUN(r, NULL, "run", "--help");
	H_STATUS(r, 0);
	H_RUN(r, strstr(r.out, "usage: stage-") != NULL);
	h_free(&r);
}

static void test_verbose_goes_to_stderr_only(void)
{
	struct run_result r;
	RUN(r, NULL, "run", "--verbose", H.probe, "out", "just this");
	H_STATUS(r, 0);
	H_OUT(r, "just this");
	H_RUN(r, strstr(r.err, "stage-") != NULL);
	h_free(&r);
}

static void test_only_fds_0_1_2_inherited(void)
{
	struct run_result r;
	/* The harness starts every runtime with fd H_LEAKED_FD open. */
	RUN(r, NULL, "run", H.probe, "fds");
	H_STATUS(r, 0);
	H_OUT(r, "0\n1\n2\n");
	h_free(&r);
}

/* The stage accepts exactly the options opt_table says it has introduced
 * (its STAGE_OPTS agrees with the table's stage column), as its usage
 * and its parser tell: the harness relies on that column to leave out,
 * in a proof, the options the stage before does not know. */
static void test_options_are_the_tables(void)
{
	struct run_result r;
	RUN(r, NULL, "--help");
	H_STATUS(r, 0);
	for (const struct opt_spec *o = opt_table; o->name; o++) {
		bool known = o->stage <= H.stage;
		char in_usage[64], what[128];
		snprintf(in_usage, sizeof(in_usage), " %s%s", o->name,
			 o->arg ? " " : "");
		snprintf(what, sizeof(what), "%s (stage %d) %s the usage",
			 o->name, o->stage, known ? "in" : "not in");
		h_run_check(&r, (strstr(r.out, in_usage) != NULL) == known, -2,
			    __LINE__, __FILE__, what);
	}
	h_free(&r);
	for (const struct opt_spec *o = opt_table; o->name; o++) {
		if (o->stage <= H.stage || o->kind == OPT_FLAG)
			continue;
		/* Not yet introduced: an unknown option, whatever the value. */
		RUN(r, NULL, "run", o->name, "1", H.probe, "pid");
		H_STATUS(r, 125);
		H_RUN(r, strstr(r.err, "unknown option") != NULL);
		h_free(&r);
	}
}

static const struct stage_test tests[] = {
	{"test_stdout_passes_exactly", test_stdout_passes_exactly, false},
	{"test_stderr_passes_exactly", test_stderr_passes_exactly, false},
	{"test_stdin_passes_through", test_stdin_passes_through, false},
	{"test_arguments_pass_exactly", test_arguments_pass_exactly, false},
	{"test_exit_status_passes_on", test_exit_status_passes_on, false},
	{"test_killed_by_signal_is_128_plus", test_killed_by_signal_is_128_plus,
	 false},
	{"test_missing_command_is_127", test_missing_command_is_127, false},
	{"test_not_executable_is_126", test_not_executable_is_126, false},
	{"test_directory_is_126", test_directory_is_126, false},
	{"test_bad_arguments_are_125", test_bad_arguments_are_125, false},
	{"test_help_goes_to_stdout", test_help_goes_to_stdout, false},
	{"test_verbose_goes_to_stderr_only", test_verbose_goes_to_stderr_only,
	 false},
	{"test_only_fds_0_1_2_inherited", test_only_fds_0_1_2_inherited, false},
	{"test_options_are_the_tables", test_options_are_the_tables, false},
	{NULL, NULL, false},
};

const struct stage_suite suite_exec = {1, "exec", false, tests};
