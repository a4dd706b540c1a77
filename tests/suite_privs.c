/* Stage 10: privileges. Inside, every capability set is exactly the
 * default (podman's eleven) or that set changed by one --cap-add or
 * --cap-drop bit; no_new_privs is on; the seccomp filter refuses every
 * call of its deny-list with EPERM and the caller lives on; fork,
 * unshare without a user namespace, ordinary ioctls and busybox still
 * work. */

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "harness.h"
#include "suites.h"

#define PRIVS_STAGE 10
#define MAX_ARGS 12

/* podman's default set, as stage 10 keeps it: CHOWN, DAC_OVERRIDE,
 * FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE,
 * SYS_CHROOT, SETFCAP. */
#define DEFAULT_CAPS UINT64_C(0x800405fb)

/* Run `run [option value] <probe> question [arg]`; a stage before
 * PRIVS_STAGE gets it without the option, so that its proof fails for
 * want of the wall, not for an unknown option. */
static void run_probe(struct run_result *r, const char *option,
		      const char *value, const char *question, const char *arg)
{
	const char *argv[MAX_ARGS];
	size_t n = 0;
	argv[n++] = "run";
	if (option && H.stage >= PRIVS_STAGE) {
		argv[n++] = option;
		argv[n++] = value;
	}
	argv[n++] = H.probe;
	argv[n++] = question;
	if (arg)
		argv[n++] = arg;
	argv[n] = NULL;
	h_run(r, NULL, argv);
}

/* The hex value after "key " in the probe's caps output, or -1. */
static long long cap_line(const char *out, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = out; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 16);
	}
	return -1;
}

/* Check every set against want: bounding, permitted and effective are
 * want, inheritable and ambient empty. */
static void check_caps(const char *option, const char *value, uint64_t want)
{
	struct run_result r;
	char name[256];
	run_probe(&r, option, value, "caps", NULL);
	snprintf(name, sizeof(name), "%s %s: status %d, want 0x%llx, got:\n%s",
		 option ? option : "(default)", value ? value : "", r.status,
		 (unsigned long long)want, r.out);
	H_CHECK(r.status == 0, name);
	H_CHECK(cap_line(r.out, "CapBnd") == (long long)want, name);
	H_CHECK(cap_line(r.out, "CapPrm") == (long long)want, name);
	H_CHECK(cap_line(r.out, "CapEff") == (long long)want, name);
	H_CHECK(cap_line(r.out, "CapInh") == 0, name);
	H_CHECK(cap_line(r.out, "CapAmb") == 0, name);
	h_free(&r);
}

static void test_caps_are_the_default(void)
{
	check_caps(NULL, NULL, DEFAULT_CAPS);
}

static void test_cap_add_sets_one_bit(void)
{
	check_caps("--cap-add", "NET_RAW",
		   DEFAULT_CAPS | UINT64_C(1) << cap_by_name("NET_RAW"));
	check_caps("--cap-add", "cap_sys_admin",
		   DEFAULT_CAPS | UINT64_C(1) << cap_by_name("SYS_ADMIN"));
}

static void test_cap_drop_clears_one_bit(void)
{
	check_caps("--cap-drop", "CAP_CHOWN",
		   DEFAULT_CAPS & ~(UINT64_C(1) << cap_by_name("CHOWN")));
	check_caps("--cap-drop", "setfcap",
		   DEFAULT_CAPS & ~(UINT64_C(1) << cap_by_name("SETFCAP")));
}

static void test_cap_drop_all_leaves_none(void)
{
	check_caps("--cap-drop", "ALL", 0);
}

/* The value of key in the probe's caps output, as a decimal. */
static void check_status_line(const char *key, const char *want)
{
	struct run_result r;
	char name[256], line[64];
	run_probe(&r, NULL, NULL, "caps", NULL);
	snprintf(line, sizeof(line), "%s %s\n", key, want);
	snprintf(name, sizeof(name), "want '%s %s' inside, got:\n%s", key,
		 want, r.out);
	H_CHECK(r.status == 0 && strstr(r.out, line), name);
	h_free(&r);
}

static void test_no_new_privs_is_set(void)
{
	check_status_line("NoNewPrivs", "1");
}

static void test_seccomp_filter_is_loaded(void)
{
	check_status_line("Seccomp", "2"); /* SECCOMP_MODE_FILTER */
}

/* `probe try act` prints want, and the probe lives to print it: a
 * denied call fails with EPERM, it does not kill. */
static void check_act(const char *act, const char *option, const char *value,
		      const char *want)
{
	struct run_result r;
	char name[256], line[64];
	run_probe(&r, option, value, "try", act);
	snprintf(line, sizeof(line), "%s\n", want);
	snprintf(name, sizeof(name), "%s%s%s: want status 0 and '%s', got "
		 "status %d and '%.40s' (stderr: %.100s)", act,
		 option ? " with " : "", option ? option : "", want, r.status,
		 r.out, r.err);
	H_CHECK(r.status == 0 && !strcmp(r.out, line), name);
	h_free(&r);
}

/* add_key needs no capability: only the filter refuses it. */
static void test_seccomp_denies_add_key_with_eperm(void)
{
	check_act("add_key", NULL, NULL, "EPERM");
}

/* Nor does a user namespace of one's own: the filter again. */
static void test_seccomp_denies_nested_userns(void)
{
	check_act("userns", NULL, NULL, "EPERM");
}

/* The names of stage 10's deny-list, as stages/10-privs/privs.c has
 * them: tests.mk reads them out of its denied_calls[] rows. */
static const char *const privs_rows[] = {
#include "denied_calls.h"
	NULL,
};

/* Whether name is in list (NULL-ended). */
static bool listed(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

/* ioctl(TIOCSTI) on a pipe, and the same with bit 32 of the command
 * set, which the kernel reads as the same TIOCSTI: the filter answers
 * EPERM to both, where the kernel would answer ENOTTY. A filter that
 * compares all 64 bits lets the second through. */
static void test_seccomp_denies_tiocsti_both_forms(void)
{
	struct run_result r;
	run_probe(&r, NULL, NULL, "deny", "ioctl");
	char name[384];
	snprintf(name, sizeof(name), "ioctl(TIOCSTI) and ioctl(TIOCSTI | 1 "
		 "<< 32): want 'ioctl EPERM' and 'ioctl+high EPERM', got "
		 "status %d, '%.80s' (stderr: %.100s)", r.status, r.out,
		 r.err);
	H_CHECK(r.status == 0 &&
			!strcmp(r.out, "ioctl EPERM\nioctl+high EPERM\n"),
		name);
	h_free(&r);
}

/* Every row of the deny-list, called with arguments the kernel itself
 * rejects (EINVAL, EFAULT, EBADF, ENOTTY: tests/probe.c's deny_rows),
 * by a container with every capability: the filter, not a missing
 * capability, answers EPERM. The probe's rows and privs.c's must name
 * the same calls, so that a row dropped from either is seen. */
static void test_seccomp_denies_every_row(void)
{
	struct run_result r;
	char name[512];
	run_probe(&r, "--cap-add", "ALL", "deny", NULL);
	snprintf(name, sizeof(name), "probe deny: status %d (stderr: %.100s)",
		 r.status, r.err);
	H_CHECK(r.status == 0 && r.out[0], name);
	if (r.status != 0 || !r.out[0]) {
		h_free(&r);
		return;
	}
	const char *probed[64] = {NULL};
	size_t n = 0;
	for (char *line = strtok(r.out, "\n"); line && n < 63;
	     line = strtok(NULL, "\n")) {
		char *answer = strchr(line, ' ');
		if (!answer)
			continue;
		*answer++ = '\0';
		snprintf(name, sizeof(name), "%s: want EPERM from the filter, "
			 "got %s: the call reached the kernel", line, answer);
		H_CHECK(!strcmp(answer, "EPERM"), name);
		char *high = strstr(line, "+high");
		if (high)
			*high = '\0'; /* ioctl's second form, the same row */
		probed[n++] = line;
		snprintf(name, sizeof(name), "the probe calls %s, which "
			 "stages/10-privs/privs.c's denied_calls[] does not "
			 "name", line);
		H_CHECK(listed(line, privs_rows), name);
	}
	for (const char *const *row = privs_rows; *row; row++) {
		snprintf(name, sizeof(name), "privs.c denies %s, which "
			 "tests/probe.c's deny_rows[] never calls: give it a "
			 "row with arguments the kernel rejects", *row);
		H_CHECK(listed(*row, probed), name);
	}
	h_free(&r);
}

/* What the filter leaves alone: fork (clone without CLONE_NEWUSER),
 * unshare(CLONE_NEWUTS) with CAP_SYS_ADMIN given back, FIONREAD, and
 * TIOCGWINSZ answered by the kernel (a pipe is no terminal). */
static void test_seccomp_allows_fork_unshare_ioctls(void)
{
	struct run_result r;
	static const char want[] =
		"fork ok\nunshare ok\nfionread ok\ntiocgwinsz ENOTTY\n";
	run_probe(&r, "--cap-add", "SYS_ADMIN", "allowed", NULL);
	char name[384];
	snprintf(name, sizeof(name), "want '%s', got status %d, '%.80s' "
		 "(stderr: %.100s)", want, r.status, r.out, r.err);
	H_CHECK(r.status == 0 && !strcmp(r.out, want), name);
	h_free(&r);
}

/* clone3() cannot be filtered by flags: ENOSYS, and libc falls back. */
static void test_clone3_says_enosys(void)
{
	check_act("clone3", NULL, NULL, "ENOSYS");
}

/* A tmpfs needs CAP_SYS_ADMIN, gone from the default set... */
static void test_mount_refused(void)
{
	check_act("mount", NULL, NULL, "EPERM");
}

/* ...and given back by --cap-add: the wall is the capability. */
static void test_cap_add_sys_admin_allows_mount(void)
{
	check_act("mount", "--cap-add", "SYS_ADMIN", "ok");
}

/* The filter and the cut sets leave busybox its everyday work. */
static void test_busybox_still_works(void)
{
	struct run_result r;
	RUN(r, NULL, "run", "/bin/sh", "-c",
	    "echo a b | tr ' ' '\\n' | sort -r | head -n 1; "
	    "ps >/dev/null && date >/dev/null && id -u && "
	    "touch /tmp/x && chown 0:0 /tmp/x && chmod 600 /tmp/x && rm /tmp/x && "
	    "(sleep 0; echo sub) & wait");
	char name[256];
	snprintf(name, sizeof(name), "busybox: status %d, out '%.60s', err "
		 "'%.100s'", r.status, r.out, r.err);
	H_CHECK(r.status == 0 && !strcmp(r.out, "b\n0\nsub\n"), name);
	h_free(&r);
}

static void test_bad_caps_are_125(void)
{
	static const char *const bad[][2] = {
		{"--cap-add", "NOPE"},     {"--cap-add", ""},
		{"--cap-add", "CAP_"},     {"--cap-drop", "SYS ADMIN"},
		{"--cap-drop", "CAP_ALL"}, {"--cap-drop", "41"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct container c;
		const char *args[] = {"run", bad[i][0], bad[i][1], H.probe,
				      "out", "must not run", NULL};
		char name[64];
		if (h_start(&c, NULL, args) < 0)
			return;
		h_finish(&c, NULL, H_TIMEOUT_MS);
		snprintf(name, sizeof(name), "%s '%s'", bad[i][0], bad[i][1]);
		H_CHECK(c.r.status == 125, name);
		H_CHECK(strcmp(c.r.out, "") == 0, name);
		H_CHECK(h_one_line(c.r.err) && strstr(c.r.err, bad[i][0]),
			name);
		H_CHECK(h_left_behind(c.pid, NULL) == NULL, name);
		h_free(&c.r);
	}
	/* The option last, its value missing. */
	struct run_result r;
	RUN(r, NULL, "run", "--cap-drop");
	H_CHECK(r.status == 125 && h_one_line(r.err) &&
			strstr(r.err, "'--cap-drop' needs a value"),
		"--cap-drop without its value");
	h_free(&r);
}

/* The catalogue's acts that stage 10 stops (tests/suite_escapes.c). */
static void test_catalogue_privileged_acts_stopped(void)
{
	escapes_check_stage(PRIVS_STAGE);
}

static const struct stage_test tests[] = {
	{"test_catalogue_privileged_acts_stopped",
	 test_catalogue_privileged_acts_stopped, true},
	{"test_caps_are_the_default", test_caps_are_the_default, true},
	{"test_cap_add_sets_one_bit", test_cap_add_sets_one_bit, true},
	{"test_cap_drop_clears_one_bit", test_cap_drop_clears_one_bit, true},
	{"test_cap_drop_all_leaves_none", test_cap_drop_all_leaves_none,
	 true},
	{"test_no_new_privs_is_set", test_no_new_privs_is_set, true},
	{"test_seccomp_filter_is_loaded", test_seccomp_filter_is_loaded, true},
	{"test_seccomp_denies_add_key_with_eperm",
	 test_seccomp_denies_add_key_with_eperm, true},
	{"test_seccomp_denies_nested_userns", test_seccomp_denies_nested_userns,
	 true},
	{"test_seccomp_denies_tiocsti_both_forms",
	 test_seccomp_denies_tiocsti_both_forms, true},
	{"test_seccomp_denies_every_row", test_seccomp_denies_every_row, true},
	{"test_seccomp_allows_fork_unshare_ioctls",
	 test_seccomp_allows_fork_unshare_ioctls, false},
	{"test_clone3_says_enosys", test_clone3_says_enosys, true},
	{"test_mount_refused", test_mount_refused, true},
	{"test_cap_add_sys_admin_allows_mount",
	 test_cap_add_sys_admin_allows_mount, false},
	{"test_busybox_still_works", test_busybox_still_works, false},
	{"test_bad_caps_are_125", test_bad_caps_are_125, false},
	{NULL, NULL, false},
};

const struct stage_suite suite_privs = {PRIVS_STAGE, "privs", true, tests};
