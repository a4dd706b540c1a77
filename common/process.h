/* The process model every stage shares: signals, exit status, fds. */
#ifndef MINIDOCKER_PROCESS_H
#define MINIDOCKER_PROCESS_H

#include <linux/sched.h>
#include <signal.h>
#include <sys/types.h>

/* Block the signals the runtime forwards (INT, TERM, HUP, QUIT, USR1,
 * USR2) and save the previous mask in old; call it before clone(), so
 * that none is lost before forward_signals(). Also ignores SIGPIPE, so
 * that a write to a pipe nobody reads fails with EPIPE rather than kill
 * the runtime (prepare_child() gives the child the default back).
 * Returns 0, or -1 with errno. */
int block_signals(sigset_t *old);

/* From now on forward the blocked signals to pid, then restore old.
 * Returns 0, or -1 with errno. */
int forward_signals(pid_t pid, const sigset_t *old);

/* In a freshly cloned child: die with the runtime (PR_SET_PDEATHSIG), or
 * exit with EXIT_RUNTIME if it died before that could take effect, which
 * lifeline tells: a pipe the runtime made before clone() and keeps open
 * (its write end) for as long as it lives. Closes both ends, restores
 * the signal mask old and SIGPIPE's default, and makes every fd above 2
 * close on exec.
 * Returns 0, or -1 with errno. */
int prepare_child(const sigset_t *old, int lifeline[2]);

/* clone3() as fork() does it: the child goes on from here on a copy of
 * our stack; returns 0 in the child, the child's pid in the parent, or
 * -1 with errno. args->stack must be 0. Where clone3() is missing (Linux
 * before 5.3, or under valgrind, which refuses it) and args asks for
 * nothing clone() has not got (CLONE_INTO_CGROUP), clone() does it. */
pid_t clone_fork(struct clone_args *args);

/* clone() as vfork(2) does it, without its traps: the child runs
 * fn(arg) in our memory (CLONE_VM), on a stack of its own, while we
 * sleep until it has exec'd or ended (CLONE_VFORK); flags adds to those
 * (CLONE_PARENT). Nothing is copied, which is most of what a fork costs;
 * what fn changes in memory, we find changed. Its stack is 256 KiB of a
 * mapping made once, a guard page below it: a child that overflows dies
 * of SIGSEGV. fn may call clone_vfork() once more (exec's joining
 * process does), not deeper: EAGAIN. Returns the child's pid, or -1
 * with errno. */
pid_t clone_vfork(int (*fn)(void *arg), void *arg, unsigned long flags);

/* Wait for pid; return its status as a shell reports it: N when it
 * exited with N, 128+S when signal S killed it; -1 with errno. */
int wait_child(pid_t pid);

/* Write the whole buffer to fd, retrying short writes and EINTR.
 * Returns 0, or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);

/* Send the descriptor fd over the Unix socket sock (SCM_RIGHTS): the
 * receiver gets its own descriptor of the same open file. Returns 0, or
 * -1 with errno. */
int send_fd(int sock, int fd);

/* Receive a descriptor send_fd() sent over sock, close-on-exec. Returns
 * it, or -1 with errno (EPIPE: the sender closed its end first). */
int recv_fd(int sock);

/* What /proc/PID/stat says of a process that the runtime and its tests
 * look at. */
struct proc_stat {
	char state;		  /* field 3: R, S, ..., Z (a zombie), X */
	pid_t ppid;		  /* field 4 */
	pid_t pgrp;		  /* field 5 */
	unsigned long long start; /* field 22, clock ticks since boot:
				     with the pid, it names one process,
				     never a later one given the same pid */
};

/* Read pid's /proc/PID/stat into *st. Returns 0, or -1 with errno
 * (ENOENT: no such process; EINVAL: a line it cannot read). */
int proc_stat(pid_t pid, struct proc_stat *st);

#endif
