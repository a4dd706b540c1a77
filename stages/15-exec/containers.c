/*
 * Stage 15's commands on containers, split off the spine: run -d and its
 * record, ps, logs, stop, rm, and exec (containers.h says what they need
 * from the spine). The lesson they use is in exec.c and monitor.c.
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "containers.h"
#include "ctr/record.h"
#include "error.h"
#include "exec.h"
#include "file.h"
#include "image.h"
#include "monitor.h"
#include "process.h"
#include "state.h"
#include "util.h"

/*** config ***/

/* exec's options: a row each of the same table. */
#define EXEC_OPTS (OPT_TTY | OPT_INTERACTIVE | OPT_ENV | OPT_WORKDIR | OPT_USER)

#define STOP_TIMEOUT 10	   /* stop's seconds before SIGKILL, as docker */
#define LOG_FILE     "log" /* a detached container's output */

/*** detached containers ***/

/* The directory every container's record is under (state.h), made when
 * missing, into run (RUN_MAX bytes). Dies when there is none. */
static void open_run_dir(char *run)
{
	char why[256];
	if (state_run_dir(run, RUN_MAX, why, sizeof(why)) < 0)
		die("cannot find the state directory: %s", why);
	if (mkdir(run, 0700) < 0 && errno != EEXIST)
		die_errno("cannot create '%s'", run);
}

/* Containers whose monitor was killed (SIGKILL: it could not clean up)
 * are recorded as dead, exit status -1, their first process killed if
 * it still runs. What they held (cgroup, layer, lease and rules) is
 * reaped by the next run, as a killed runtime's is. */
static void mark_dead(const char *run)
{
	struct ctr_record *recs;
	size_t n;
	char dir[PATH_MAX];
	if (ctr_list(run, &recs, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", run, recs[i].id);
		if (recs[i].status == CTR_EXITED || ctr_monitor_alive(dir))
			continue;
		if (recs[i].status == CTR_RUNNING && ctr_pid_alive(&recs[i]))
			kill(recs[i].pid, SIGKILL);
		recs[i].status = CTR_EXITED;
		recs[i].exit_status = -1;
		recs[i].finished = time(NULL);
		if (ctr_record_write(dir, &recs[i]) < 0)
			report_errno("cannot record container %.12s as dead",
				     recs[i].id);
	}
	ctr_list_free(recs, n);
}

/* A container found by key, a name or (the start of) an id. */
struct found {
	char run[RUN_MAX];
	char dir[PATH_MAX];
	struct ctr_record rec;
};

/* Find the container key names and read its record into f, after
 * marking the dead when mark_others (mark_dead() reads every record);
 * dies with one line when there is none. exec, which asks only whether
 * its own container runs (its record and monitor here, its process in
 * open_container()), leaves the others' records to the next command that
 * lists them. */
static void find_container(const char *key, struct found *f, bool mark_others)
{
	char id[CTR_ID_LEN + 1], why[PATH_MAX + 64];
	for (const char *p = key; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			die("no such container: the name or id holds a "
			    "control character");
	open_run_dir(f->run);
	if (mark_others)
		mark_dead(f->run);
	if (ctr_lookup(f->run, key, id, why, sizeof(why)) < 0)
		die("%s", why);
	snprintf(f->dir, sizeof(f->dir), "%s/%s", f->run, id);
	if (ctr_record_read(f->dir, &f->rec, why, sizeof(why)) < 0)
		die("cannot read container '%s': %s", key, why);
}

/* Whether the container's first process runs and its monitor lives. */
static bool is_running(const struct found *f)
{
	return f->rec.status == CTR_RUNNING && ctr_monitor_alive(f->dir) &&
	       ctr_pid_alive(&f->rec);
}

/* --rootfs's layers made absolute (each relative one prefixed by our
 * working directory), for the monitor, which works from /. */
static void absolute_rootfs(struct options *opts)
{
	static char abs[IMAGE_LOWERS_MAX];
	char cwd[PATH_MAX], *copy = strdup(opts->rootfs), *save = NULL;
	size_t n = 0;
	if (!copy || !getcwd(cwd, sizeof(cwd)))
		die_errno("cannot find the working directory");
	for (char *l = strtok_r(copy, ":", &save); l && n < sizeof(abs);
	     l = strtok_r(NULL, ":", &save))
		n +=
		    snprintf(abs + n, sizeof(abs) - n, "%s%s%s%s", n ? ":" : "",
			     l[0] == '/' ? "" : cwd, l[0] == '/' ? "" : "/", l);
	if (n >= sizeof(abs))
		die("cannot use rootfs '%.64s...': the path is too long",
		    opts->rootfs);
	free(copy);
	opts->rootfs = abs;
}

/* run -d: the container's record (its id, name, command), then its
 * monitor, which starts it as run does and stays its parent; print its
 * id once it runs. Returns 0, or the monitor's status when the start
 * failed (the monitor said why on our stderr), with nothing left. */
int run_detached(struct options *opts)
{
	char run[RUN_MAX], id[CTR_ID_LEN + 1];
	struct detached det;
	struct ctr_record r = {.exit_status = -1};

	if (opts->name && !ctr_name_valid(opts->name))
		die("bad --name: want letters, digits, '_', '.' and '-', "
		    "the first a letter or digit");
	const char *given = opts->rootfs; /* as the user wrote it, for ps */
	if (opts->given & OPT_ROOTFS)
		absolute_rootfs(opts);
	open_run_dir(run);
	mark_dead(run);
	if (ctr_new_id(id) < 0)
		die_errno("cannot make a container id");
	snprintf(det.dir, sizeof(det.dir), "%s/%s", run, id);
	if (mkdir(det.dir, 0700) < 0)
		die_errno("cannot create '%s'", det.dir);
	/* Locked before the record exists, then held by the monitor (its
	 * copy of the descriptor), so that nobody takes the new container
	 * for one whose monitor died. */
	int lock = state_lock_dir(det.dir, O_CREAT);
	if (lock < 0) {
		report_errno("cannot lock '%s'", det.dir);
		goto fail;
	}
	if (opts->name && ctr_claim_name(run, opts->name, id) < 0) {
		if (errno == EEXIST)
			report("the name '%s' is taken (rm that container, "
			       "or choose another)",
			       opts->name);
		else
			report_errno("cannot claim the name '%s'", opts->name);
		opts->name = NULL;
		goto fail;
	}
	bool image = !(opts->given & OPT_ROOTFS);
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.name, sizeof(r.name), "%s", opts->name ? opts->name : "");
	snprintf(r.image, sizeof(r.image), "%s", image ? opts->argv[0] : given);
	r.created = time(NULL);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/" LOG_FILE, det.dir);
	det.log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int started[2];
	if (ctr_record_set_argv(&r, opts->argv + image) < 0 ||
	    ctr_record_write(det.dir, &r) < 0 || det.log < 0 ||
	    pipe2(started, O_CLOEXEC) < 0) {
		report_errno("cannot write the record of container %.12s", id);
		goto fail;
	}
	ctr_record_free(&r);
	fflush(NULL);
	pid_t monitor = start_monitor(STDERR_FILENO);
	if (monitor == 0) {
		close(started[0]);
		det.started = started[1];
		exit(run_container(opts, &det));
	}
	close(started[1]);
	if (monitor < 0) {
		report_errno("cannot start the monitor");
		goto fail;
	}
	char byte;
	ssize_t n;
	while ((n = read(started[0], &byte, 1)) < 0 && errno == EINTR)
		;
	if (n == 1) {
		printf("%s\n", id);
		return 0;
	}
	/* The monitor failed before the container ran, and said why. */
	int status = wait_child(monitor);
	remove_tree(det.dir);
	if (opts->name)
		ctr_release_name(run, opts->name);
	return status > 0 ? status : EXIT_RUNTIME;
fail:
	ctr_record_free(&r);
	remove_tree(det.dir);
	if (opts->name)
		ctr_release_name(run, opts->name);
	return EXIT_RUNTIME;
}

/* "5 seconds", "3 minutes", "2 hours", "4 days": how long secs is. */
static void say_duration(long long secs, char *out, size_t len)
{
	static const struct {
		long long secs;
		const char *unit;
	} units[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}};
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (secs >= units[i].secs) {
			long long n = secs / units[i].secs;
			snprintf(out, len, "%lld %s%s", n, units[i].unit,
				 n == 1 ? "" : "s");
			return;
		}
	snprintf(out, len, "%lld second%s", secs, secs == 1 ? "" : "s");
}

/* ps [-a]: the running containers (with -a every one), newest first, in
 * docker's columns. */
static int list_containers(bool all)
{
	char run[RUN_MAX], age[32], status[64];
	struct ctr_record *recs;
	size_t n;
	open_run_dir(run);
	mark_dead(run);
	if (ctr_list(run, &recs, &n) < 0)
		die_errno("cannot list the containers in '%s'", run);
	printf("%-12s  %-16s  %-20s  %-24s  %s\n", "CONTAINER ID", "NAME",
	       "IMAGE", "COMMAND", "STATUS");
	long long now = time(NULL);
	for (size_t i = 0; i < n; i++) {
		const struct ctr_record *r = &recs[i];
		if (!all && r->status != CTR_RUNNING)
			continue;
		if (r->status == CTR_RUNNING) {
			say_duration(now - r->started, age, sizeof(age));
			snprintf(status, sizeof(status), "Up %s", age);
		} else if (r->status == CTR_CREATED) {
			snprintf(status, sizeof(status), "Created");
		} else if (r->exit_status < 0) {
			snprintf(status, sizeof(status),
				 "Dead (its monitor was killed)");
		} else {
			say_duration(now - r->finished, age, sizeof(age));
			snprintf(status, sizeof(status), "Exited (%d) %s ago",
				 r->exit_status, age);
		}
		char cmd[256] = "";
		size_t len = 0;
		for (char **a = r->argv; a && *a && len < sizeof(cmd); a++)
			len += snprintf(cmd + len, sizeof(cmd) - len, "%s%s",
					len ? " " : "", *a);
		printf("%.12s  %-16s  %-20.20s  \"%.22s\"%*s  %s\n", r->id,
		       r->name, r->image, cmd,
		       (int)(22 - (strlen(cmd) < 22 ? strlen(cmd) : 22)), "",
		       status);
	}
	ctr_list_free(recs, n);
	return 0;
}

/* Copy what fd holds from where it is to stdout. Returns 0, or -1. */
static int copy_to_stdout(int fd)
{
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
			return -1;
	return n < 0 ? -1 : 0;
}

/* logs [-f] ID: its output so far (stdout and stderr as they came, or
 * its terminal's); with -f, then what comes, until it has ended. */
static int show_logs(const char *key, bool follow)
{
	struct found f;
	char path[PATH_MAX + 16];
	find_container(key, &f, true);
	snprintf(path, sizeof(path), "%s/" LOG_FILE, f.dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_errno("cannot open the log of container '%s'", key);
	for (;;) {
		/* Whether it lived before the read: then what it wrote
		 * before it ended is read by this round or the next. */
		bool alive = follow && ctr_monitor_alive(f.dir);
		if (copy_to_stdout(fd) < 0)
			die_errno("cannot copy the log of container '%s'", key);
		if (!alive)
			break;
		poll(NULL, 0, 100);
	}
	close(fd);
	ctr_record_free(&f.rec);
	return 0;
}

/* Whether the process pidfd names ends within timeout_ms. */
static bool ends_within(int pidfd, int timeout_ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int n;
	while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return n == 1;
}

/* End the container f: SIGTERM to its first process, SIGKILL after
 * timeout seconds, then wait for its monitor to have cleaned up (it lets
 * go of its lock last). The signals go through a pidfd, opened while the
 * pid is still the container's (its start time), so a pid reused since
 * is never signalled. Returns 0, or -1 after saying why. */
static int end_container(const struct found *f, long timeout)
{
	int pidfd = (int)syscall(SYS_pidfd_open, f->rec.pid, 0);
	if (pidfd >= 0 && ctr_pid_alive(&f->rec)) {
		/* PID 1 of a namespace gets only the signals it handles,
		 * KILL aside: a shell without a trap ignores TERM. */
		syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0);
		if (!ends_within(pidfd, (int)timeout * 1000)) {
			verbose("container %.12s ignored SIGTERM for %lds: "
				"SIGKILL",
				f->rec.id, timeout);
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			ends_within(pidfd, 10000);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < 1000 && ctr_monitor_alive(f->dir); i++)
		poll(NULL, 0, 10);
	if (ctr_monitor_alive(f->dir)) {
		report("container %.12s ended, but its monitor has not "
		       "finished its cleanup within 10 s",
		       f->rec.id);
		return -1;
	}
	return 0;
}

/* stop [-t SECONDS] ID: end it, if it runs; say its name or id. */
static int stop_container(const char *key, long timeout)
{
	struct found f;
	find_container(key, &f, true);
	int rc = is_running(&f) || ctr_monitor_alive(f.dir)
		     ? end_container(&f, timeout)
		     : 0;
	ctr_record_free(&f.rec);
	if (rc < 0)
		return EXIT_RUNTIME;
	printf("%s\n", key);
	return 0;
}

/* rm [-f] ID: forget an ended container (its record, log and name);
 * with -f end it first. */
static int remove_container(const char *key, bool force)
{
	struct found f;
	find_container(key, &f, true);
	if (ctr_monitor_alive(f.dir)) {
		if (!force)
			die("cannot remove container '%s': it is running "
			    "(stop it first, or rm -f)",
			    key);
		if (end_container(&f, 0) < 0)
			return EXIT_RUNTIME;
	}
	if (remove_tree(f.dir) < 0)
		die_errno("cannot remove '%s'", f.dir);
	if (f.rec.name[0] && ctr_release_name(f.run, f.rec.name) < 0)
		die_errno("cannot let go of the name '%s'", f.rec.name);
	ctr_record_free(&f.rec);
	printf("%s\n", key);
	return 0;
}

/*** -t in the foreground ***/

/* -t in the foreground: the user's terminal raw (every key, ^C too, is
 * the container's), its bytes (with -i) to the pty and the pty's output
 * to ours until the command ends, then the terminal's modes back (at
 * exit() and die() too, should we not get here). */
void copy_terminal(int master, pid_t pid, bool interactive)
{
	struct term_mode mode;
	if (make_raw(STDIN_FILENO, &mode) < 0)
		report_errno("cannot put the terminal in raw mode");
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pty_io io = {.master = master,
			    .in = interactive ? STDIN_FILENO : -1,
			    .out = STDOUT_FILENO,
			    .log = -1,
			    .winsize = STDIN_FILENO,
			    .pidfd = pidfd};
	if (copy_pty(&io) < 0)
		report_errno("cannot copy the container's terminal");
	restore_terminal(&mode);
	if (pidfd >= 0)
		close(pidfd);
}

/*** exec ***/

/* The groups of the container in dir, from its cgroups file, into
 * t (whose cgroups point into paths). Dies when it cannot be read. */
void load_cgroups(const char *dir, char *paths, size_t len,
		  struct exec_target *t)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/" CGROUPS_FILE, dir);
	if (read_small(path, paths, len) < 0)
		die_errno("cannot read '%s'", path);
	t->n_cgroups = 0;
	for (char *line = strtok(paths, "\n");
	     line && t->n_cgroups < EXEC_MAX_CGROUPS; line = strtok(NULL, "\n"))
		t->cgroups[t->n_cgroups++] = line;
}

/* The environment of the container's first process (/proc/PID/environ)
 * with exec's -e on top, as a new NULL-ended array. It holds HOME: run
 * gave the first process one (stage 13's set_user()), and set_user()
 * must find it there for -u, or it would setenv() in the runtime's
 * memory; when that process has lost it, -u gets "/", docker's home for
 * a user without one. Dies on failure. */
static char **exec_environment(pid_t pid, const struct opt_list *extra,
			       bool user)
{
	static char buf[1 << 16];
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (len < 0)
		die_errno("cannot read '%s'", path);
	buf[len] = '\0';
	size_t n = 0, cap = extra->n + 2;
	for (ssize_t i = 0; i < len; i++)
		cap += buf[i] == '\0';
	char **env = calloc(cap + 1, sizeof(*env));
	if (!env)
		die_errno("cannot allocate the environment");
	for (char *v = buf; v < buf + len; v += strlen(v) + 1)
		if (*v)
			env[n++] = v;
	for (size_t i = 0; i < extra->n; i++) {
		const char *e = extra->v[i];
		size_t key = strcspn(e, "=") + 1, k;
		for (k = 0; k < n && strncmp(env[k], e, key); k++)
			;
		env[k] = (char *)e;
		n += k == n;
	}
	size_t k;
	for (k = 0; k < n && strncmp(env[k], "HOME=", 5); k++)
		;
	if (k == n && user)
		env[n++] = "HOME=/";
	return env;
}

/* What exec's command process is given. */
struct exec_child_arg {
	const struct options *o;
	const struct exec_handles *h;
	int slave; /* the pty's, or -1 */
	const sigset_t *mask;
	int *lifeline;
};

/* exec's command process (spawn_in_container()'s body), in the
 * container's namespaces and groups, its environment in environ: its
 * terminal and directory, then the container's walls, the user, the
 * command. */
static noreturn void exec_child(void *arg)
{
	const struct exec_child_arg *a = arg;
	if (prepare_child(a->mask, a->lifeline) < 0)
		die_errno("cannot prepare the exec process");
	if (a->slave >= 0)
		attach_terminal(a->slave);
	if (a->o->workdir)
		enter_workdir(a->o->workdir);
	enter_walls(a->h);
	if (a->o->user)
		set_user(a->o->user);
	exec_command(a->o->argv + 1);
}

/* exec [-t] [-i] [-e K=V] [-w DIR] [-u UID[:GID]] ID cmd [args...]: a
 * new process in the running container ID, through setns(2) into each of
 * its namespaces and its cgroups, under the walls of its first process.
 * Returns the command's status as run does. */
int exec_in_container(int argc, char **argv)
{
	struct options o;
	struct found f;
	struct exec_target t = {0};
	struct exec_handles h;
	struct pty pty = {-1, -1};
	char err[256], why[PATH_MAX + 64], paths[EXEC_MAX_CGROUPS * PATH_MAX];
	char ptmx[64];
	sigset_t mask;
	int lifeline[2], joined;

	/* exec's options are rows of the same table: parsed as a run's. */
	argv[1] = "run";
	if (parse_args(argc, argv, EXEC_OPTS, &o, err, sizeof(err)) !=
		ARGS_OK ||
	    !o.argv[1])
		die("%s (usage: %s exec [-t] [-i] [-e KEY=VALUE] [-w DIR] "
		    "[-u UID[:GID]] ID <cmd> [args...])",
		    o.argv && !o.argv[1] ? "missing the command to run" : err,
		    prog_name());
	set_verbose(o.verbose);
	find_container(o.argv[0], &f, false);
	/* Not is_running(): whether its process is still the record's,
	 * open_container() checks (its start time, then its pidfd), the
	 * same /proc/PID/stat read once less. */
	if (f.rec.status != CTR_RUNNING || !ctr_monitor_alive(f.dir))
		die("cannot exec in container '%s': it is not running",
		    o.argv[0]);
	t.pid = f.rec.pid;
	t.pid_start = f.rec.pid_start;
	load_cgroups(f.dir, paths, sizeof(paths), &t);
	if (open_container(&t, &h, why, sizeof(why)) < 0)
		die("cannot exec in container '%s': %s", o.argv[0], why);
	ctr_record_free(&f.rec); /* its pid and groups are in t now */
	char **env = exec_environment(t.pid, &o.env, o.user != NULL);
	/* -t: a pty of the container's own devpts, through its root. */
	snprintf(ptmx, sizeof(ptmx), "/proc/%d/root/dev/pts/ptmx", (int)t.pid);
	if (o.tty && open_pty(ptmx, STDIN_FILENO, &pty) < 0)
		die_errno("cannot open a pty from '%s'", ptmx);
	if (block_signals(&mask) < 0 || pipe2(lifeline, O_CLOEXEC) < 0)
		die_errno("cannot prepare the exec");
	struct exec_child_arg arg = {&o, &h, pty.slave, &mask, lifeline};
	pid_t pid = spawn_in_container(&h, &t, o.argv[0], env, exec_child, &arg,
				       &joined);
	free(env); /* the command has exec'd with it */
	if (pty.slave >= 0)
		close(pty.slave);
	if (pid < 0)
		return joined; /* the joiner said why */
	close(lifeline[0]);
	if (forward_signals(pid, &mask) < 0)
		die_errno("cannot forward signals");
	if (pty.master >= 0)
		copy_terminal(pty.master, pid, o.interactive);
	int status = wait_child(pid);
	if (status < 0)
		die_errno("cannot wait for the exec'd process");
	return status;
}

/* ps, logs, stop, rm: the commands on detached containers, beside run
 * and exec. Dies with the usage on a line that is none of theirs. */
int container_command(int argc, char **argv)
{
	const char *cmd = argv[1];
	bool flag = argc >= 3 && argv[2][0] == '-';
	const char *key = argv[argc - 1];

	if (!strcmp(cmd, "ps")) {
		if (argc > 3 || (argc == 3 && strcmp(argv[2], "-a")))
			die("usage: %s ps [-a]", prog_name());
		return list_containers(argc == 3);
	}
	if (!strcmp(cmd, "stop")) {
		long timeout = STOP_TIMEOUT;
		char *end;
		if (argc == 5 && !strcmp(argv[2], "-t")) {
			errno = 0;
			timeout = strtol(argv[3], &end, 10);
			if (errno || *end || end == argv[3] || timeout < 0 ||
			    timeout > 3600)
				die("bad stop -t '%.16s': want seconds from 0 "
				    "to 3600",
				    argv[3]);
		} else if (argc != 3 || flag) {
			die("usage: %s stop [-t SECONDS] ID", prog_name());
		}
		return stop_container(key, timeout);
	}
	/* logs -f follows, rm -f stops it first. */
	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[2], "-f")) ||
	    (argc == 3 && flag) || !*key)
		die("usage: %s %s [-f] ID", prog_name(), cmd);
	return !strcmp(cmd, "logs") ? show_logs(key, argc == 4)
				    : remove_container(key, argc == 4);
}
