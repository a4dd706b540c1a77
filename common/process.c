#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "process.h"
#include "util.h"

static const int forwarded[] = {SIGINT,	 SIGTERM, SIGHUP,
				SIGQUIT, SIGUSR1, SIGUSR2};
#define N_FORWARDED ARRAY_SIZE(forwarded)

static volatile pid_t forward_to;

static void forward(int sig)
{
	int err = errno;
	if (forward_to > 0)
		kill(forward_to, sig);
	errno = err;
}

int block_signals(sigset_t *old)
{
	/* A write to a pipe nobody reads (a child that died before the
	 * handshake, a closed stderr) then fails with EPIPE, which the
	 * runtime reports, instead of killing it without a word. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(&set, forwarded[i]);
	return sigprocmask(SIG_BLOCK, &set, old);
}

int forward_signals(pid_t pid, const sigset_t *old)
{
	struct sigaction sa = {.sa_handler = forward};
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART: the runtime's waitpid() goes on after forwarding. */
	sa.sa_flags = SA_RESTART;
	forward_to = pid;
	for (size_t i = 0; i < N_FORWARDED; i++)
		if (sigaction(forwarded[i], &sa, NULL) < 0)
			return -1;
	/* Signals that arrived while blocked are delivered here, to pid. */
	return sigprocmask(SIG_SETMASK, old, NULL);
}

/* Mark every fd from first on close-on-exec, one by one (for kernels
 * older than 5.11, which lack CLOSE_RANGE_CLOEXEC). */
static int cloexec_each(int first)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (fd >= first && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}

int prepare_child(const sigset_t *old, int lifeline[2])
{
	/* SIGKILL when the runtime dies, so a container never outlives it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -1;
	/* The runtime may have died before that took effect, and then no
	 * one would ever kill us. A dying process closes its files before
	 * the kernel hands its children to a new parent (and reads their
	 * death signal), so once our copy of the write end is closed, end
	 * of file on the lifeline means the runtime is gone or going, and
	 * no signal comes. */
	close(lifeline[1]);
	struct pollfd pfd = {.fd = lifeline[0], .events = POLLIN};
	if (poll(&pfd, 1, 0) > 0)
		_exit(EXIT_RUNTIME);
	close(lifeline[0]);
	/* An ignored signal stays ignored across execve(): give the
	 * command SIGPIPE's default back. */
	if (signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
	    sigprocmask(SIG_SETMASK, old, NULL) < 0)
		return -1;
	/* Close-on-exec rather than close: setup may still use its fds. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return cloexec_each(3);
	return 0;
}

pid_t clone_fork(struct clone_args *args)
{
	long pid = syscall(SYS_clone3, args, sizeof(*args));
	if (pid >= 0 || errno != ENOSYS || args->flags > 0xffffffffUL ||
	    args->stack)
		return (pid_t)pid;
	/* clone()'s first two arguments are the flags, with the signal in
	 * the low byte, and the stack: the same on every architecture. With
	 * no stack, the child runs on a copy of ours, as after fork(). */
	return (pid_t)syscall(SYS_clone, args->flags | args->exit_signal, 0);
}

/* The children's stacks: one mapping, made at the first call and ours
 * until we exec or exit, of VFORK_DEPTH slots, each VFORK_STACK bytes
 * above one page that no access may touch (PROT_NONE). A child that calls
 * clone_vfork() in turn (exec's joining process) takes the next slot;
 * what each does before its exec (libc, libseccomp, the messages) takes
 * a few pages of its slot, and one that ran past its end would fault on
 * the guard page and die of SIGSEGV, never write into a stack below.
 * Only the pages touched ever get memory; none is unmapped, which would
 * cost a TLB flush on every CPU the children ran on. */
#define VFORK_STACK (256 * 1024)
#define VFORK_DEPTH 2

/* ASan keeps the bounds of the stack it thinks we run on, to check and
 * clean it at each noreturn call (_exit(), die()); it must be told when
 * the child starts on another and when we are back on ours, or it warns
 * that it ignores the call (google/sanitizers issue 189). The child is
 * a fiber to it: it shares our memory, so our thread's record too. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#define ASAN_FIBERS 1
#endif

/* What clone() hands the child: what to run, and where it writes the
 * bounds of our stack (for ASan) before it runs it. */
struct vfork_start {
	int (*fn)(void *arg);
	void *arg;
	const void *our_bottom;
	size_t our_size;
};

static int vfork_child(void *p)
{
	struct vfork_start *start = p;
#ifdef ASAN_FIBERS
	__sanitizer_finish_switch_fiber(NULL, &start->our_bottom,
					&start->our_size);
#endif
	return start->fn(start->arg);
}

/* The bottom of slot depth's stack, mapping the slots at the first call;
 * NULL with errno. */
static char *vfork_stack(int depth)
{
	/* volatile, as depth below: a child reads them, which the
	 * compiler cannot know of a static that never leaves this file. */
	static char *volatile slots;
	static volatile size_t guard;
	if (!slots) {
		guard = (size_t)sysconf(_SC_PAGESIZE);
		size_t len = VFORK_DEPTH * (guard + VFORK_STACK);
		char *map =
		    mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (map == MAP_FAILED)
			return NULL;
		for (int i = 0; i < VFORK_DEPTH; i++)
			if (mprotect(map + i * (guard + VFORK_STACK), guard,
				     PROT_NONE) < 0) {
				int saved = errno;
				munmap(map, len);
				errno = saved;
				return NULL;
			}
		slots = map;
	}
	return slots + depth * (guard + VFORK_STACK) + guard;
}

pid_t clone_vfork(int (*fn)(void *arg), void *arg, unsigned long flags)
{
	/* Shared with the children, which run one at a time while their
	 * parents sleep: the number of them running now. */
	static volatile int depth;
	if (depth == VFORK_DEPTH) {
		errno = EAGAIN;
		return -1;
	}
	char *stack = vfork_stack(depth);
	if (!stack)
		return -1;
	struct vfork_start start = {fn, arg, NULL, 0};
#ifdef ASAN_FIBERS
	void *fake_stack;
	__sanitizer_start_switch_fiber(&fake_stack, stack, VFORK_STACK);
	/* What the child allocates lands in our heap, and a child killed
	 * before its exec (its container ending under it) never frees it:
	 * not ours to free, as a fork's child's memory would not be. The
	 * leak check must not count it: LeakSanitizer ignores what is
	 * allocated while it is disabled, which its flag, in the thread's
	 * memory that the child shares, says for the child too. */
	__lsan_disable();
#endif
	depth++;
	/* It grows down, from the slot's end. SIGCHLD: its death signal
	 * (CLONE_PARENT gives it ours instead). */
	pid_t pid =
	    clone(vfork_child, stack + VFORK_STACK,
		  (int)(CLONE_VM | CLONE_VFORK | flags) | SIGCHLD, &start);
	depth--;
#ifdef ASAN_FIBERS
	/* The child has exec'd or ended (or never ran: then the switch
	 * is ended here): back on our stack. */
	int saved = errno;
	__lsan_enable();
	if (pid < 0)
		__sanitizer_finish_switch_fiber(NULL, &start.our_bottom,
						&start.our_size);
	__sanitizer_start_switch_fiber(NULL, start.our_bottom, start.our_size);
	__sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
	errno = saved;
#endif
	return pid;
}

int wait_child(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	/* Its pid is free now and may soon name another process: a signal
	 * that arrives while the runtime cleans up must not go there. */
	if (pid == forward_to)
		forward_to = 0;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int send_fd(int sock, int fd)
{
	char byte = 'f';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl = {0};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

int recv_fd(int sock)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 &&
	       errno == EINTR)
		;
	if (n < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (n == 0 || !c || c->cmsg_type != SCM_RIGHTS) {
		errno = EPIPE;
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

int proc_stat(pid_t pid, struct proc_stat *st)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	/* Field 2, the command's name in parentheses, may hold spaces and
	 * ")": the fields after it start after the last ")". */
	const char *p = strrchr(buf, ')');
	int ppid, pgrp;
	/* Fields 6 to 21 are skipped as words. */
	if (!p || sscanf(p + 1,
			 " %c %d %d %*s %*s %*s %*s %*s %*s %*s %*s %*s"
			 " %*s %*s %*s %*s %*s %*s %*s %llu",
			 &st->state, &ppid, &pgrp, &st->start) != 4) {
		errno = EINVAL;
		return -1;
	}
	st->ppid = ppid;
	st->pgrp = pgrp;
	return 0;
}
