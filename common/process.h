/* The process model every stage shares: signals, exit status, fds. */
#ifndef MINIDOCKER_PROCESS_H
#define MINIDOCKER_PROCESS_H

#include <signal.h>
#include <sys/types.h>

/* Block the signals the runtime forwards (INT, TERM, HUP, QUIT, USR1,
 * USR2) and save the previous mask in old; call it before clone(), which
 * also lets prepare_child() know the runtime's pid. Returns 0, or -1
 * with errno. */
int block_signals(sigset_t *old);

/* From now on forward the blocked signals to pid, then restore old.
 * Returns 0, or -1 with errno. */
int forward_signals(pid_t pid, const sigset_t *old);

/* In a freshly cloned child: die with the runtime (PR_SET_PDEATHSIG), or
 * exit at once if it died before that could take effect; restore the
 * signal mask old, and make every fd above 2 close on exec. Returns 0,
 * or -1 with errno. */
int prepare_child(const sigset_t *old);

/* Wait for pid; return its status as a shell reports it: N when it
 * exited with N, 128+S when signal S killed it; -1 with errno. */
int wait_child(pid_t pid);

/* Write the whole buffer to fd, retrying short writes and EINTR.
 * Returns 0, or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);

#endif
