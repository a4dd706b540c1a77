/*
 * Stage 16's OCI runtime command line, split off the spine: the global
 * options (--root, --log, --log-format, --debug), then create, start,
 * state, kill, delete, run, ps, exec, spec and features, as containerd's
 * shim and conmon call runc and crun. Each reads and writes a container's
 * state in <root>/<id>/ through the lesson (oci.c); commands.h says what
 * they need from the spine.
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "containers.h"
#include "error.h"
#include "exec.h"
#include "file.h"
#include "oci.h"
#include "oci/spec.h"
#include "process.h"
#include "state.h"
#include "util.h"

/*** config ***/

/* Where the OCI commands keep each container's state: <root>/<id>/, with
 * its oci-state.json, exec.fifo, the copy of its config.json that start,
 * exec and delete read, and the cgroups file exec and delete use. */
static char oci_root[RUN_MAX];

/* --log: a copy of every error line (with --debug, of progress lines
 * too), as JSON lines when --log-format json: what containerd's shim and
 * conmon read a failed runtime's reason from. */
static int oci_log_fd = -1;
static bool oci_log_json, oci_debug;

/*** oci: create, start, state, kill, delete, ps, exec ***/

/* The state directory of container id into dir (PATH_MAX bytes); dies
 * on an id that cannot name one. */
static void oci_dir(const char *id, char *dir)
{
	if (!oci_id_valid(id))
		die("bad container id '%.64s': want letters, digits, '_', '.' "
		    "and '-', the first a letter or digit",
		    id);
	snprintf(dir, PATH_MAX, "%s/%s", oci_root, id);
}

/* Read container id's state into st, as it is now, and its directory
 * into dir; dies with one line when there is no such container. */
static void find_oci(const char *id, char *dir, struct oci_state *st)
{
	char why[PATH_MAX + 64];
	oci_dir(id, dir);
	if (oci_read_state(dir, st, why, sizeof(why)) < 0) {
		if (errno == ENOENT)
			die("container '%s' does not exist", id);
		die("%s", why);
	}
	oci_refresh_state(dir, st);
}

/* Parse a command's options with getopt_long(): "+" stops at the first
 * word that is none (the id). Dies with the usage on a bad one. */
static int next_option(int argc, char **argv, const char *shorts,
		       const struct option *longs, const char *usage)
{
	opterr = 0;
	int c = getopt_long(argc, argv, shorts, longs, NULL);
	if (c == '?' || c == ':')
		die("bad option '%s' (usage: %s %s)", argv[optind - 1],
		    prog_name(), usage);
	return c;
}

/* A command's one flag (--all, --force, or its first letter) before its
 * id: whether it was given. Dies on another option. */
static bool take_flag(int argc, char **argv, const char *name,
		      const char *usage)
{
	const struct option longs[] = {{name, no_argument, NULL, name[0]},
				       {NULL, 0, NULL, 0}};
	const char shorts[] = {'+', name[0], '\0'};
	bool given = false;
	while (next_option(argc, argv, shorts, longs, usage) != -1)
		given = true;
	return given;
}

/* The one id a command takes, after its options; dies when it is
 * missing, or more follow than max_more. */
static const char *the_id(int argc, char **argv, int max_more,
			  const char *usage)
{
	if (optind >= argc || argc - optind - 1 > max_more)
		die("%s (usage: %s %s)",
		    optind >= argc ? "missing the container id"
				   : "too many arguments",
		    prog_name(), usage);
	return argv[optind];
}

/* create's line (run's too, with --detach) into o. Dies on a bad one. */
static void parse_create(int argc, char **argv, bool run, struct oci_create *o)
{
	static const struct option longs[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"no-pivot", no_argument, NULL, 'P'},
	    {"no-new-keyring", no_argument, NULL, 'K'},
	    {"detach", no_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0}};
	const char *usage =
	    run ? "run --bundle DIR [--detach] [--pid-file FILE] "
		  "[--console-socket SOCK] [--no-pivot] ID"
		: "create [--bundle DIR] [--pid-file FILE] [--console-socket "
		  "SOCK] [--no-pivot] [--no-new-keyring] ID";
	const char *bundle = ".";
	int c;
	while ((c = next_option(argc, argv, run ? "+b:d" : "+b:", longs,
				usage)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'p')
			o->pid_file = optarg;
		else if (c == 'c')
			o->console_socket = optarg;
		else if (c == 'P')
			o->no_pivot = true;
		else if (c == 'K')
			o->no_new_keyring = true;
		else if (c == 'd' && run)
			o->detach = true;
		else if (c == 'd')
			die("bad option '--detach' (usage: %s %s)", prog_name(),
			    usage);
	}
	o->id = the_id(argc, argv, 0, usage);
	if (!realpath(bundle, o->bundle))
		die_errno("cannot use bundle '%s'", bundle);
}

/* Read o's bundle into s and l, and make the container's state
 * directory dir. Dies on failure, nothing left. */
static void prepare_create(const struct oci_create *o, char *dir,
			   struct oci_spec *s, struct oci_lessons *l)
{
	char why[PATH_MAX + 256];
	oci_dir(o->id, dir);
	if (oci_load_spec(o->bundle, s, why, sizeof(why)) < 0 ||
	    oci_map_spec(s, l, why, sizeof(why)) < 0)
		die("%s", why);
	if (s->hostname && !new_namespace(s, CLONE_NEWUTS))
		die("'hostname' needs a new uts namespace: without one it "
		    "would rename the host");
	if (s->terminal && !o->console_socket)
		die("'process.terminal' needs --console-socket");
	if (make_dirs(oci_root) < 0)
		die_errno("cannot create '%s'", oci_root);
	if (mkdir(dir, 0700) < 0 && errno == EEXIST)
		die("container '%s' exists already", o->id);
	else if (access(dir, F_OK) < 0)
		die_errno("cannot create the state of '%s'", o->id);
}

/* create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK]
 * [--no-pivot] [--no-new-keyring] ID */
static int oci_create_cmd(int argc, char **argv)
{
	struct oci_create o = {0};
	struct oci_spec s = {0};
	struct oci_lessons l = {0};
	char dir[PATH_MAX];
	parse_create(argc, argv, false, &o);
	prepare_create(&o, dir, &s, &l);
	int status = create_container(&o, dir, &s, &l);
	oci_free_lessons(&l);
	oci_free_spec(&s);
	return status;
}

/* The spec create kept in the state directory dir; dies on failure. */
static void load_kept_spec(const char *dir, struct oci_spec *s)
{
	char why[PATH_MAX + 256];
	if (oci_load_spec(dir, s, why, sizeof(why)) < 0)
		die("%s", why);
}

/* start ID: let the created container's process go on to its command,
 * then the poststart hooks. */
static int oci_start_cmd(int argc, char **argv)
{
	char dir[PATH_MAX], why[PATH_MAX + 64];
	struct oci_state st;
	struct oci_spec s = {0};
	next_option(argc, argv, "+", (struct option[]){{NULL, 0, NULL, 0}},
		    "start ID");
	const char *id = the_id(argc, argv, 0, "start ID");
	find_oci(id, dir, &st);
	if (st.status != OCI_CREATED)
		die("cannot start container '%s': it is %s", id,
		    oci_status_name(st.status));
	load_kept_spec(dir, &s);
	if (oci_start(dir, &st, 10000, why, sizeof(why)) < 0)
		die("%s", why);
	st.status = OCI_RUNNING;
	if (oci_write_state(dir, &st) < 0)
		die_errno("cannot write the state of container '%s'", id);
	run_hooks(&s, OCI_HOOK_POSTSTART, &st);
	oci_free_spec(&s);
	oci_free_state(&st);
	return 0;
}

/* state ID: its state as runtime-spec's state.md says. */
static int oci_state_cmd(int argc, char **argv)
{
	char dir[PATH_MAX];
	struct oci_state st;
	next_option(argc, argv, "+", (struct option[]){{NULL, 0, NULL, 0}},
		    "state ID");
	find_oci(the_id(argc, argv, 0, "state ID"), dir, &st);
	char *text = oci_state_json(&st);
	if (!text)
		die_errno("cannot print the state");
	printf("%s\n", text);
	free(text);
	oci_free_state(&st);
	return 0;
}

/* The pids in the container's pids group (the first of its cgroups
 * file), into pids (at most max); returns how many. Dies on failure. */
static size_t group_pids(const char *dir, pid_t *pids, size_t max)
{
	char paths[EXEC_MAX_CGROUPS * PATH_MAX], path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/" CGROUPS_FILE, dir);
	if (read_small(path, paths, sizeof(paths)) < 0)
		die_errno("cannot read '%s'", path);
	paths[strcspn(paths, "\n")] = '\0';
	if (snprintf(path, sizeof(path), "%s/cgroup.procs", paths) >=
	    (int)sizeof(path))
		die("cannot read cgroup '%s': the path is too long", paths);
	FILE *f = fopen(path, "re");
	if (!f)
		die_errno("cannot read '%s'", path);
	size_t n = 0;
	int pid;
	while (n < max && fscanf(f, "%d", &pid) == 1)
		pids[n++] = pid;
	fclose(f);
	return n;
}

#define OCI_MAX_PIDS 4096

/* kill [--all] ID [SIGNAL]: the signal (default TERM) to its first
 * process, or with --all to every process of its group. */
static int oci_kill_cmd(int argc, char **argv)
{
	static const char usage[] = "kill [--all] ID [SIGNAL]";
	char dir[PATH_MAX];
	struct oci_state st;
	bool all = take_flag(argc, argv, "all", usage);
	const char *id = the_id(argc, argv, 1, usage);
	const char *name = optind + 1 < argc ? argv[optind + 1] : "TERM";
	int sig = oci_signal_by_name(name);
	if (sig < 0)
		die("bad signal '%.32s': want a number or a name (KILL, "
		    "SIGTERM)",
		    name);
	find_oci(id, dir, &st);
	if (st.status == OCI_STOPPED) {
		errno = ESRCH;
		die_errno("cannot kill container '%s': it is stopped", id);
	}
	if (all) {
		static pid_t pids[OCI_MAX_PIDS];
		size_t n = group_pids(dir, pids, OCI_MAX_PIDS);
		for (size_t i = 0; i < n; i++)
			kill(pids[i], sig);
	} else if (oci_kill(&st, sig) < 0) {
		die_errno("cannot kill container '%s'", id);
	}
	oci_free_state(&st);
	return 0;
}

/* Whether st's process is gone (or a zombie) within timeout_ms. */
static bool oci_gone_within(const char *dir, struct oci_state *st,
			    int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (oci_refresh_state(dir, st) == OCI_STOPPED)
			return true;
		poll(NULL, 0, 10);
	}
	return oci_refresh_state(dir, st) == OCI_STOPPED;
}

/* Forget the stopped container in dir: its groups, then the poststop
 * hooks, then its state. Returns 0, or -1 after saying why. */
static int forget_container(const char *dir, struct oci_state *st)
{
	struct oci_spec s = {0};
	load_kept_spec(dir, &s);
	int rc = remove_oci_cgroups(dir);
	st->status = OCI_STOPPED;
	run_hooks(&s, OCI_HOOK_POSTSTOP, st);
	if (remove_tree(dir) < 0) {
		report_errno("cannot remove '%s'", dir);
		rc = -1;
	}
	oci_free_spec(&s);
	return rc;
}

/* delete [--force] ID: forget a stopped container (or a created one,
 * whose process is killed, as runc does): its groups, the poststop
 * hooks, its state. With --force a running one is killed first. */
static int oci_delete_cmd(int argc, char **argv)
{
	static const char usage[] = "delete [--force] ID";
	char dir[PATH_MAX];
	struct oci_state st;
	bool force = take_flag(argc, argv, "force", usage);
	const char *id = the_id(argc, argv, 0, usage);
	oci_dir(id, dir);
	/* --force on one that is gone already: nothing to do, as runc. */
	if (force && access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;
	find_oci(id, dir, &st);
	if (st.status == OCI_RUNNING && !force)
		die("cannot delete container '%s': it is running (kill it "
		    "first, or delete --force)",
		    id);
	if (st.status != OCI_STOPPED) {
		oci_kill(&st, SIGKILL);
		if (!oci_gone_within(dir, &st, 10000))
			die("cannot delete container '%s': its process %d "
			    "did not end within 10 s of SIGKILL",
			    id, (int)st.pid);
	}
	int rc = forget_container(dir, &st);
	oci_free_state(&st);
	return rc < 0 ? EXIT_RUNTIME : 0;
}

/* run --bundle DIR [--detach] ... ID: create, start, and (unless
 * --detach) wait for it and delete it, as runc run does; its status is
 * the command's. */
static int oci_run_cmd(int argc, char **argv)
{
	struct oci_create o = {0};
	struct oci_spec s = {0};
	struct oci_lessons l = {0};
	struct oci_state st;
	char dir[PATH_MAX], why[PATH_MAX + 64];
	sigset_t mask;

	parse_create(argc, argv, true, &o);
	prepare_create(&o, dir, &s, &l);
	/* Blocked until its pid is known, then forwarded to it. */
	if (block_signals(&mask) < 0)
		die_errno("cannot block signals");
	int status = create_container(&o, dir, &s, &l);
	oci_free_lessons(&l);
	oci_free_spec(&s);
	if (status != 0)
		return status;
	find_oci(o.id, dir, &st);
	if (oci_start(dir, &st, 10000, why, sizeof(why)) < 0) {
		report("%s", why);
		kill(o.pid, SIGKILL);
		wait_child(o.pid);
		forget_container(dir, &st);
		return EXIT_RUNTIME;
	}
	st.status = OCI_RUNNING;
	if (oci_write_state(dir, &st) < 0)
		report_errno("cannot write the state of container '%s'", o.id);
	load_kept_spec(dir, &s);
	run_hooks(&s, OCI_HOOK_POSTSTART, &st);
	oci_free_spec(&s);
	if (o.detach) {
		oci_free_state(&st);
		return 0;
	}
	if (forward_signals(o.pid, &mask) < 0)
		report_errno("cannot forward signals");
	status = wait_child(o.pid);
	if (status < 0) {
		report_errno("cannot wait for the container's process");
		status = EXIT_RUNTIME;
	}
	if (forget_container(dir, &st) < 0)
		status = EXIT_RUNTIME;
	oci_free_state(&st);
	return status;
}

/* ps [--format table|json] ID: the processes of its group, host pids
 * (json: what containerd's docker top reads). */
static int oci_ps_cmd(int argc, char **argv)
{
	static const char usage[] = "ps [--format table|json] ID";
	static const struct option longs[] = {
	    {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	static pid_t pids[OCI_MAX_PIDS];
	char dir[PATH_MAX];
	struct oci_state st;
	bool json = false;
	int c;
	while ((c = next_option(argc, argv, "+f:", longs, usage)) != -1) {
		if (strcmp(optarg, "json") && strcmp(optarg, "table"))
			die("bad --format '%.16s': want table or json", optarg);
		json = !strcmp(optarg, "json");
	}
	find_oci(the_id(argc, argv, 0, usage), dir, &st);
	size_t n = group_pids(dir, pids, OCI_MAX_PIDS);
	if (!json)
		printf("PID\n");
	for (size_t i = 0; i < n; i++)
		printf(json ? "%s%d" : "%s%d\n", json ? (i ? "," : "[") : "",
		       (int)pids[i]);
	if (json)
		printf("%s]\n", n ? "" : "[");
	oci_free_state(&st);
	return 0;
}

/* What exec was asked. */
struct oci_exec {
	const char *process, *pid_file, *console_socket, *cwd;
	bool detach, tty;
	json_t *env; /* --env, an array */
};

/* The process exec runs as a spec: the container's kept config with its
 * process replaced by --process's, or by the command line's (its args,
 * --cwd, --env, --tty over the container's own), read and checked as
 * create reads a config. Dies on failure. */
static void load_exec_spec(const char *dir, const struct oci_exec *o,
			   char **cmd, struct oci_spec *s)
{
	char path[PATH_MAX + 16], why[PATH_MAX + 256];
	json_error_t err;
	snprintf(path, sizeof(path), "%s/" OCI_CONFIG, dir);
	json_t *doc = json_load_file(path, 0, &err);
	json_t *proc = o->process
			   ? json_load_file(o->process, 0, &err)
			   : json_deep_copy(json_object_get(doc, "process"));
	if (!doc || !json_is_object(proc))
		die("cannot read '%s': %s", o->process ? o->process : path,
		    err.text);
	if (cmd[0]) {
		json_t *args = json_array();
		for (char **a = cmd; *a; a++)
			json_array_append_new(args, json_string(*a));
		json_object_set_new(proc, "args", args);
	}
	if (o->cwd)
		json_object_set_new(proc, "cwd", json_string(o->cwd));
	if (o->tty)
		json_object_set_new(proc, "terminal", json_true());
	if (json_array_size(o->env)) {
		json_t *env = json_object_get(proc, "env");
		if (!json_is_array(env))
			json_object_set_new(proc, "env", env = json_array());
		json_array_extend(env, o->env);
	}
	json_object_set_new(doc, "process", proc);
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text || oci_parse_spec(text, o->process ? o->process : "exec", s,
				    why, sizeof(why)) < 0)
		die("%s", text ? why : "cannot make the process's spec");
	free(text);
}

/* What exec's process is given. */
struct exec_process {
	const struct oci_spec *s;
	const struct oci_lessons *l;
	int console; /* -1: no terminal */
};

/* exec's process (spawn_in_container()'s body): oci_exec_child(). */
static noreturn void run_exec_process(void *arg)
{
	const struct exec_process *p = arg;
	oci_exec_child(p->s, p->l, p->console);
}

/* exec --process FILE [--detach] [--pid-file FILE] [--console-socket
 * SOCK] [--tty] [--cwd DIR] [--env K=V] ID [cmd...]: a new process in
 * the running container, through stage 15's setns(2) into its
 * namespaces and groups. With --detach it is left to our caller's
 * subreaper once its pid is written; else its status is ours. */
static int oci_exec_cmd(int argc, char **argv)
{
	static const char usage[] =
	    "exec [--process FILE] [--detach] [--pid-file FILE] "
	    "[--console-socket SOCK] [--tty] [--cwd DIR] [--env K=V] ID "
	    "[cmd...]";
	static const struct option longs[] = {
	    {"process", required_argument, NULL, 'p'},
	    {"detach", no_argument, NULL, 'd'},
	    {"pid-file", required_argument, NULL, 'P'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"tty", no_argument, NULL, 't'},
	    {"cwd", required_argument, NULL, 'w'},
	    {"env", required_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0}};
	struct oci_exec o = {.env = json_array()};
	struct oci_spec s = {0};
	struct oci_lessons l = {0};
	struct oci_state st;
	struct exec_target t = {0};
	struct exec_handles h;
	char dir[PATH_MAX], why[PATH_MAX + 256];
	char paths[EXEC_MAX_CGROUPS * PATH_MAX];
	sigset_t mask;
	int c, joined;

	while ((c = next_option(argc, argv, "+p:dtw:e:", longs, usage)) != -1) {
		if (c == 'p')
			o.process = optarg;
		else if (c == 'd')
			o.detach = true;
		else if (c == 'P')
			o.pid_file = optarg;
		else if (c == 'c')
			o.console_socket = optarg;
		else if (c == 't')
			o.tty = true;
		else if (c == 'w')
			o.cwd = optarg;
		else
			json_array_append_new(o.env, json_string(optarg));
	}
	const char *id = the_id(argc, argv, argc, usage);
	if (!o.process && optind + 1 >= argc)
		die("missing the command, or --process (usage: %s %s)",
		    prog_name(), usage);
	find_oci(id, dir, &st);
	if (st.status != OCI_RUNNING && st.status != OCI_CREATED)
		die("cannot exec in container '%s': it is %s", id,
		    oci_status_name(st.status));
	load_exec_spec(dir, &o, argv + optind + 1, &s);
	if (oci_map_spec(&s, &l, why, sizeof(why)) < 0)
		die("%s", why);
	if (s.terminal && !o.console_socket)
		die("'process.terminal' needs --console-socket");
	int console = s.terminal ? connect_console(o.console_socket) : -1;
	t.pid = st.pid;
	t.pid_start = st.pid_start;
	load_cgroups(dir, paths, sizeof(paths), &t);
	if (open_container(&t, &h, why, sizeof(why)) < 0)
		die("cannot exec in container '%s': %s", id, why);
	/* Without --detach: blocked until its pid is known, then forwarded
	 * to it, as stage 15's exec. */
	if (!o.detach && block_signals(&mask) < 0)
		die_errno("cannot prepare the exec");
	struct exec_process arg = {&s, &l, console};
	pid_t pid = spawn_in_container(&h, &t, id, (char **)s.env,
				       run_exec_process, &arg, &joined);
	if (console >= 0)
		close(console);
	if (pid < 0)
		return joined; /* the joiner said why */
	if (o.pid_file && write_pid_file(o.pid_file, pid) < 0) {
		report_errno("cannot write the pid file '%s'", o.pid_file);
		kill(pid, SIGKILL);
		wait_child(pid);
		return EXIT_RUNTIME;
	}
	oci_free_lessons(&l);
	oci_free_spec(&s);
	oci_free_state(&st);
	json_decref(o.env);
	if (o.detach)
		return 0;
	if (forward_signals(pid, &mask) < 0)
		report_errno("cannot forward signals");
	int status = wait_child(pid);
	if (status < 0)
		die_errno("cannot wait for the exec'd process");
	return status;
}

/* spec [--bundle DIR]: a default config.json, never over one. */
static int oci_spec_cmd(int argc, char **argv)
{
	static const char usage[] = "spec [--bundle DIR]";
	static const struct option longs[] = {
	    {"bundle", required_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
	const char *bundle = ".";
	int c;
	while ((c = next_option(argc, argv, "+b:", longs, usage)) != -1)
		bundle = optarg;
	if (optind < argc)
		die("too many arguments (usage: %s %s)", prog_name(), usage);
	if (oci_write_default_spec(bundle) < 0)
		die_errno("cannot write '%s/" OCI_CONFIG "'", bundle);
	return 0;
}

/* features: what this runtime supports, as runtime-spec's features.md
 * says, from the tables the config reader reads. */
static int oci_features_cmd(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		die("too many arguments (usage: %s features)", prog_name());
	char *text = oci_features();
	if (!text)
		die_errno("cannot list the features");
	printf("%s\n", text);
	free(text);
	return 0;
}

/*** the command line ***/

/* --log's copy of a line: JSON as runc and crun write it ({"level",
 * "msg", "time"}), or the text. */
static void log_line(bool error, const char *line, size_t len)
{
	char stamp[64];
	if (oci_log_fd < 0 || (!error && !oci_debug))
		return;
	if (!oci_log_json) {
		if (write_all(oci_log_fd, line, len) == 0)
			write_all(oci_log_fd, "\n", 1);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp),
		 ".%09ldZ", ts.tv_nsec);
	json_t *o =
	    json_pack("{s:s, s:s%, s:s}", "level", error ? "error" : "debug",
		      "msg", line, len, "time", stamp);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text && write_all(oci_log_fd, text, strlen(text)) == 0)
		write_all(oci_log_fd, "\n", 1);
	free(text);
	json_decref(o);
}

/* The OCI commands, after the global options. */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} oci_commands[] = {
    {"create", oci_create_cmd},	    {"start", oci_start_cmd},
    {"state", oci_state_cmd},	    {"kill", oci_kill_cmd},
    {"delete", oci_delete_cmd},	    {"ps", oci_ps_cmd},
    {"exec", oci_exec_cmd},	    {"spec", oci_spec_cmd},
    {"features", oci_features_cmd}, {"run", oci_run_cmd},
};

/* The state directory without --root: oci/ in the run directory of
 * stage 15's containers (DESIGN.md's "Where state lives"). Returns 0, or
 * -1 with the reason in why. */
static int oci_default_root(char *root, size_t len)
{
	char why[256];
	if (state_run_dir(root, len - 8, why, sizeof(why)) < 0)
		return -1;
	strcat(root, "/oci");
	return 0;
}

/* Whether argv[1] on is the OCI command line rather than stage 15's:
 * a global option first, a command only it has, `ps` with an id, or
 * `exec` with one of its long options (stage 15's are short). */
bool is_oci_line(int argc, char **argv)
{
	if (argc < 2)
		return false;
	const char *cmd = argv[1];
	if (!strncmp(cmd, "--", 2) && strcmp(cmd, "--help"))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(oci_commands); i++)
		if (!strcmp(cmd, oci_commands[i].name) && strcmp(cmd, "ps") &&
		    strcmp(cmd, "exec") && strcmp(cmd, "run"))
			return true;
	/* run --bundle DIR: runc's; any other run is stage 15's. */
	if (!strcmp(cmd, "run"))
		return argc > 2 && (!strcmp(argv[2], "--bundle") ||
				    !strncmp(argv[2], "--bundle=", 9) ||
				    !strcmp(argv[2], "-b"));
	if (!strcmp(cmd, "ps"))
		return argc > 3 || (argc == 3 && strcmp(argv[2], "-a"));
	if (strcmp(cmd, "exec") || argc < 3)
		return false;
	/* exec ID cmd: stage 15's, unless ID is a container of ours. */
	char dir[PATH_MAX];
	if (!strncmp(argv[2], "--", 2))
		return true;
	if (argv[2][0] == '-' || !oci_id_valid(argv[2]) ||
	    oci_default_root(oci_root, sizeof(oci_root)) < 0)
		return false;
	snprintf(dir, sizeof(dir), "%s/%s", oci_root, argv[2]);
	return access(dir, F_OK) == 0;
}

/* [--root DIR] [--log FILE] [--log-format json|text] [--debug]
 * [--systemd-cgroup] COMMAND ...: the OCI runtime command line, as
 * containerd's shim and conmon call runc and crun. */
int oci_main(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"log", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'd'},
	    {"systemd-cgroup", no_argument, NULL, 's'},
	    {"version", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0}};
	static const char usage[] =
	    "[--root DIR] [--log FILE] [--log-format json|text] [--debug] "
	    "create|start|state|kill|delete|ps|exec|spec|features ...";
	const char *root = NULL, *log = NULL;
	char why[256];
	int c;

	while ((c = next_option(argc, argv, "+v", longs, usage)) != -1) {
		if (c == 'r')
			root = optarg;
		else if (c == 'l')
			log = optarg;
		else if (c == 'f' && strcmp(optarg, "json") &&
			 strcmp(optarg, "text"))
			die("bad --log-format '%.16s': want json or text",
			    optarg);
		else if (c == 'f')
			oci_log_json = !strcmp(optarg, "json");
		else if (c == 'd')
			oci_debug = true;
		else if (c == 's')
			die("--systemd-cgroup is not supported by this "
			    "runtime: its groups are made in cgroupfs");
		else {
			printf("%s version 16\nspec: %s\n", prog_name(),
			       OCI_VERSION);
			return 0;
		}
	}
	if (log) {
		oci_log_fd =
		    open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (oci_log_fd < 0)
			die_errno("cannot open the log '%s'", log);
		set_line_hook(log_line);
	}
	set_verbose(oci_debug);
	if (root)
		snprintf(oci_root, sizeof(oci_root), "%s", root);
	else if (state_run_dir(oci_root, sizeof(oci_root) - 8, why,
			       sizeof(why)) < 0)
		die("cannot find the state directory: %s", why);
	else
		oci_default_root(oci_root, sizeof(oci_root));
	if (optind >= argc)
		die("missing the command (usage: %s %s)", prog_name(), usage);
	argc -= optind;
	argv += optind;
	for (size_t i = 0; i < ARRAY_SIZE(oci_commands); i++)
		if (!strcmp(argv[0], oci_commands[i].name)) {
			optind = 0; /* getopt_long() starts again */
			return oci_commands[i].run(argc, argv);
		}
	die("unknown command '%.32s' (usage: %s %s)", argv[0], prog_name(),
	    usage);
}
