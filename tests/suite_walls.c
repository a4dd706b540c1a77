/* Stage 11: walls. /dev is exactly the minimal set and its devices and
 * ptys work; /proc's knobs and /sys are mounted read-only and its
 * windows on the host masked; IPC and cgroup namespaces are the
 * container's own, and /proc/self/cgroup reads "/". The catalogue's acts
 * of stage 11 (a host sysctl, host SysV shm, host cgroup paths,
 * /proc/timer_list) are stopped. */

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define WALLS_STAGE 11

/* Run `run args...` and check it exits 0 with stdout want. */
static void check_out(const char *const *args, const char *want,
		      const char *what)
{
	struct run_result r;
	char name[512];
	h_run(&r, NULL, args);
	snprintf(name, sizeof(name), "%s: want status 0 and:\n%s\ngot status "
		 "%d and:\n%.300s(stderr: %.100s)", what, want, r.status, r.out,
		 r.err);
	H_CHECK(r.status == 0 && !strcmp(r.out, want), name);
	h_free(&r);
}

static void test_dev_is_the_minimal_set(void)
{
	const char *args[] = {"run", "/bin/ls", "-A", "/dev", NULL};
	check_out(args,
		  "fd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\n"
		  "stdout\ntty\nurandom\nzero\n",
		  "ls -A /dev");
}

/* The nodes are the host's devices, not empty files. */
static void test_dev_nodes_work(void)
{
	const char *args[] = {
		"run", "/bin/sh", "-c",
		"echo x > /dev/null && head -c 4 /dev/zero | tr '\\0' z && "
		"head -c 4 /dev/urandom | wc -c && "
		"readlink /dev/stdout && readlink /dev/ptmx && "
		"echo > /dev/shm/x && "
		"stat -c %F /dev/null",
		NULL};
	check_out(args,
		  "zzzz4\n/proc/self/fd/1\npts/ptmx\ncharacter special file\n",
		  "the devices");
}

static void test_pty_opens_inside(void)
{
	const char *args[] = {"run", H.probe, "try", "pty", NULL};
	check_out(args, "ok\n", "a pseudo-terminal pair");
}

static void test_proc_self_cgroup_is_root(void)
{
	/* Every line's path is "/": nothing left after the filter. */
	const char *args[] = {"run", "/bin/sh", "-c",
			      "grep -c . /proc/self/cgroup >/dev/null && "
			      "grep -v ':/$' /proc/self/cgroup; true", NULL};
	check_out(args, "", "/proc/self/cgroup, paths other than /");
}

/* The mount options of the mount at path in mountinfo text, or NULL. */
static const char *options_of(const char *info, const char *path,
			      char *out, size_t len)
{
	const char *found = NULL;
	char mnt[256], opts[256];
	for (const char *line = info; line && *line;) {
		/* id parent major:minor root mount-point options ... */
		if (sscanf(line, "%*s %*s %*s %*s %255s %255s", mnt, opts) == 2 &&
		    !strcmp(mnt, path)) {
			snprintf(out, len, "%s", opts);
			found = out; /* the last one is on top */
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return found;
}

static void test_knobs_are_read_only(void)
{
	static const char *const paths[] = {"/proc/sys", "/proc/sysrq-trigger",
					    "/proc/irq", "/proc/bus",
					    "/proc/fs", "/sys"};
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "mountinfo");
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char opts[256], name[320];
		if (access(paths[i], F_OK) != 0)
			continue; /* not on this kernel */
		const char *o = options_of(r.out, paths[i], opts, sizeof(opts));
		snprintf(name, sizeof(name), "%s: want a read-only mount, got "
			 "%s", paths[i], o ? o : "no mount");
		H_CHECK(o && !strncmp(o, "ro", 2) && (o[2] == ',' || !o[2]),
			name);
	}
	h_free(&r);
}

static void test_windows_are_masked(void)
{
	/* Each reads as empty: /dev/null, or an empty directory. */
	const char *args[] = {
		"run", "/bin/sh", "-c",
		"for p in /proc/kcore /proc/keys /proc/timer_list "
		"/proc/sched_debug /proc/acpi /proc/scsi /sys/firmware; do "
		"[ -e $p ] || continue; "
		"if [ -d $p ]; then [ -z \"$(ls -A $p)\" ] || echo $p; "
		"else [ -z \"$(head -c 1 $p)\" ] || echo $p; fi; done",
		NULL};
	check_out(args, "", "masked paths that still show something");
}

static void test_ipc_namespace_is_own(void)
{
	char want[128], path[] = "/proc/self/ns/ipc";
	ssize_t n = readlink(path, want, sizeof(want) - 1);
	want[n < 0 ? 0 : n] = '\0';
	struct run_result r;
	RUN(r, NULL, "run", H.probe, "ns", "ipc");
	char name[256];
	snprintf(name, sizeof(name), "ipc namespace: host %s, inside %.60s",
		 want, r.out);
	H_CHECK(r.status == 0 && r.out_len > 0 && strncmp(r.out, want,
							    strlen(want)),
		name);
	h_free(&r);
}

/* The catalogue's acts that stage 11 stops (tests/suite_escapes.c). */
static void test_catalogue_host_walls_stopped(void)
{
	escapes_check_stage(WALLS_STAGE);
}

static const struct stage_test tests[] = {
	{"test_catalogue_host_walls_stopped",
	 test_catalogue_host_walls_stopped, true},
	{"test_dev_is_the_minimal_set", test_dev_is_the_minimal_set, true},
	{"test_dev_nodes_work", test_dev_nodes_work, true},
	{"test_pty_opens_inside", test_pty_opens_inside, true},
	{"test_proc_self_cgroup_is_root", test_proc_self_cgroup_is_root,
	 true},
	{"test_knobs_are_read_only", test_knobs_are_read_only, true},
	{"test_windows_are_masked", test_windows_are_masked, true},
	{"test_ipc_namespace_is_own", test_ipc_namespace_is_own, true},
	{NULL, NULL, false},
};

const struct stage_suite suite_walls = {WALLS_STAGE, "walls", true, tests};
