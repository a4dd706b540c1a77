/* Stage 15's lesson: a terminal of the container's own, and exec.
 *
 * The terminal (-t): a pseudo-terminal pair from the container's devpts
 * (stage 11 mounts one with newinstance), the slave as the command's
 * controlling terminal and stdio, the runtime's own terminal in raw mode
 * (restored on every way out), bytes copied both ways, and window-size
 * changes passed on.
 *
 * exec: a new process in a container that already runs, with setns(2):
 * its cgroups, then its namespaces (user first, mount last), its root and
 * working directory, a fork into its PID namespace, and the same walls as
 * its first process (stage 10's lesson functions). The spine calls
 * spawn_in_container(), which does, in a child of the runtime that
 * shares its memory:
 *
 *     join_container(&handles, &target);   non-dumpable, cgroups, setns
 *     pid = fork_into_container(fn, arg);  the command's process, where
 *             fn runs the spine's body:
 *             attach_terminal(slave);      with -t
 *             enter_walls(&handles);       caps, no_new_privs, seccomp
 *             exec_command(argv);
 */
#ifndef MINIDOCKER_EXEC_H
#define MINIDOCKER_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>

/*** the terminal ***/

/* A pseudo-terminal pair: the runtime keeps master, the command gets
 * slave. */
struct pty {
	int master;
	int slave;
};

/* Open a pty pair from the devpts whose ptmx is at ptmx (the container's
 * <root>/dev/pts/ptmx; /dev/ptmx is the host's), of the size of the
 * terminal on size_of (-1: none), so that the command starts with it.
 * The slave is opened through the master (TIOCGPTPEER), never by a path
 * inside the container. Returns 0, or -1 with errno. */
int open_pty(const char *ptmx, int size_of, struct pty *pty);

/* In the command's process, before exec: a session of its own with
 * slave as its controlling terminal and as stdin, stdout and stderr.
 * Dies on failure. */
void attach_terminal(int slave);

/* A terminal's modes before raw mode, to put back. */
struct term_mode {
	int fd; /* -1: nothing to restore */
	struct termios saved;
};

/* Put the terminal on fd in raw mode, keeping its modes in *mode; they
 * are put back by restore_terminal(), or at exit() and die() in this
 * process (error.h's set_die_hook()) if that was not called. Nothing to do, and
 * 0, when fd is no terminal. Returns 0, or -1 with errno. */
int make_raw(int fd, struct term_mode *mode);

/* Put back the modes make_raw() kept. Safe to call twice. */
void restore_terminal(struct term_mode *mode);

/* The two ends copy_pty() joins. */
struct pty_io {
	int master;  /* the pty's master */
	int in;	     /* bytes for the command (the runtime's stdin, -i); -1 */
	int out;     /* where its output goes (the runtime's stdout); -1 */
	int log;     /* a copy of its output (the monitor's log); -1 */
	int winsize; /* the terminal whose size the pty follows; -1 */
	int pidfd;   /* the command: when it ends, the rest is read, then
			copy_pty() returns; -1: until the pty closes */
};

/* Copy in to the master and the master's output to out and log until
 * the command has ended (pidfd) or every slave is closed, passing the
 * size of winsize on at once and after each SIGWINCH. Returns 0, or -1
 * with errno. */
int copy_pty(const struct pty_io *io);

/*** exec ***/

/* The namespaces join_container() enters, in this order. */
enum exec_ns {
	EXEC_NS_USER, /* first: it gives the capabilities for the rest */
	EXEC_NS_IPC,
	EXEC_NS_UTS,
	EXEC_NS_NET,
	EXEC_NS_PID, /* only for children: fork_into_container() */
	EXEC_NS_CGROUP,
	EXEC_NS_MNT, /* last: it changes our root and the paths we see */
	EXEC_NS_COUNT,
};

#define EXEC_MAX_CGROUPS 8

/* The container to join, as its record keeps it. */
struct exec_target {
	pid_t pid;		      /* its first process */
	unsigned long long pid_start; /* its start time; 0: not checked */
	const char *cgroups[EXEC_MAX_CGROUPS]; /* its groups' directories */
	size_t n_cgroups;
};

/* What open_container() holds of it while the process still is the
 * container's: descriptors that keep naming the same namespaces and
 * root whatever becomes of the pid. */
struct exec_handles {
	int pidfd;	       /* the process itself, or -1 (Linux < 5.3) */
	int ns[EXEC_NS_COUNT]; /* -1: the same as ours, nothing to join */
	int root;	       /* its root directory */
	int cwd;	       /* its working directory */
	uint64_t caps;	       /* its bounding set (CapBnd) */
	bool no_new_privs;     /* NoNewPrivs: 1 */
	int seccomp;	       /* its Seccomp mode: 0, 1 strict, 2 filter */
};

/* In the runtime: open what join_container() needs of target's
 * process, and make sure it was that process all along (its pidfd still
 * live, its start time the record's), not one that got its pid later.
 * Returns 0, or -1 with errno and the reason in why (ESRCH: it is gone).
 */
int open_container(const struct exec_target *target, struct exec_handles *h,
		   char *why, size_t why_len);

/* Close what open_container() opened. */
void close_container(struct exec_handles *h);

/* In a child of the runtime: become non-dumpable, join the container's
 * cgroups and namespaces in enum exec_ns's order, become its root user
 * in its user namespace, and enter its root and working directory. Dies
 * on failure. */
void join_container(const struct exec_handles *h,
		    const struct exec_target *target);

/* After join_container(): start the process that runs the command, in
 * the container's PID namespace, as a child of the runtime (so that it
 * waits for it and signals it itself), where fn(arg) runs (and execs or
 * dies: it never returns). It runs in our memory, as vfork(2)'s child
 * does: this returns once it has exec'd or ended. Returns its pid, or
 * -1 with errno. */
pid_t fork_into_container(int (*fn)(void *arg), void *arg);

/* In the command's process: the same walls as the container's first
 * process, by stage 10's lesson functions: its bounding set, its
 * no_new_privs, the seccomp filter when it has one. Dies on failure. */
void enter_walls(const struct exec_handles *h);

/* In the runtime, after open_container(): the joining process, a child
 * in our memory that join_container()s t, fork_into_container()s the
 * command's process (where body(arg) runs, and execs or dies: it never
 * returns), and ends. env is the command's environment, whole (NULL: an
 * empty one): our environ while those two run, so that body finds it
 * there (execvp()'s PATH, getenv()) and execs with it, ours again after;
 * body must change nothing of ours, environ neither. h is closed here
 * once the joiner has its copy; name is the container's, for the
 * messages. Returns once the command has exec'd: its pid (our child;
 * the joiner is reaped), or -1 when none was started, with the status
 * to exit with in *status: the joiner's, which said why, or
 * EXIT_RUNTIME. Dies when it cannot clone. */
pid_t spawn_in_container(struct exec_handles *h, const struct exec_target *t,
			 const char *name, char **env, void (*body)(void *arg),
			 void *arg, int *status);

#endif
