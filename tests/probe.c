/*
 * The probe: a tiny static program put into the root filesystem that answers,
 * from inside a container, the questions the tests ask.
 *
 *   probe exit N          exit with status N
 *   probe out TEXT        write TEXT to stdout exactly (no newline added)
 *   probe err TEXT        write TEXT to stderr exactly
 *   probe cat             copy stdin to stdout
 *   probe args ARG...     print each argument on a line of its own, as hex
 *   probe pid             print getpid()
 *   probe spawn           fork a child that execs the probe again (as
 *                         "exit 7") and wait for it; print "ok", or the
 *                         step that failed and its error: "fork: EPERM",
 *                         "exec: ENOENT", "child: status N"
 *   probe hostname        print the hostname (uname's nodename)
 *   probe ns NAME         print the target of /proc/self/ns/NAME
 *   probe procs           print the pids listed in /proc, one a line
 *   probe fds             print the open fds, one a line
 *   probe exists PATH     print "yes" or "no"
 *   probe links PATH...   print where each symbolic link points, a line each
 *   probe fstype PATH     print "proc" for procfs, else the magic in hex
 *   probe mountinfo       print /proc/self/mountinfo
 *   probe crash SIG       die of a synchronous SEGV, ILL, FPE or TRAP
 *   probe ready           print "ready", then wait for stdin to close
 *   probe trap            print "ready", then print each forwarded
 *                         signal's number as it arrives and exit 128+S
 *   probe bomb MS [R]     fork as fast as possible for MS milliseconds
 *                         (or until R forks were refused), holding every
 *                         child; print "forked N refused M"
 *   probe breakout PATH   try the classic chroot escape, then print
 *                         "escaped" if PATH is visible, else "contained"
 *   probe ids             print "uid U gid G"
 *   probe uidmap          print /proc/self/uid_map, blanks squeezed
 *   probe create PATH     create the file PATH
 *   probe owner PATH      print the uid that owns PATH
 *   probe hog MIB         allocate and touch MIB MiB (at most 256), a MiB
 *                         at a time, printing "hog N" every 8; then "done"
 *   probe spin MS [N]     burn CPU in N processes (1 to 4, default 1)
 *                         for MS milliseconds of wall time (at most
 *                         30000), after printing "spinning"
 *   probe caps            print the Cap*, NoNewPrivs and Seccomp lines of
 *                         /proc/self/status, "Name value" a line each
 *   probe try ACT         try a privileged act, undo it, and print "ok",
 *                         or the error name it met (EPERM, ...): add_key,
 *                         userns (unshare a user namespace), mount (a
 *                         tmpfs on /mnt), rawsock (an AF_PACKET socket),
 *                         clone3 (a bare clone3() call's errno),
 *                         handle (open / again by its file handle, the
 *                         "shocker" escape), shm KEY (find the SysV
 *                         shared memory segment KEY), setuid PATH (as
 *                         uid 65534, run the setuid-root copy PATH of
 *                         the probe: "ok" when it runs with euid 0),
 *                         euid ("ok" when the euid is 0), pty (open a
 *                         pseudo-terminal pair), mkdir [DIR] (make
 *                         DIR, default /tmp/probe-mkdir, and remove
 *                         it), getcwd (the bare call); mount DIR
 *                         mounts on DIR instead of /mnt
 *   probe deny [NAME]     make each call of stage 10's deny-list (or
 *                         NAME's) with arguments the kernel rejects;
 *                         print "name errno" a line each (the filter
 *                         answers EPERM); ioctl twice: TIOCSTI, and
 *                         TIOCSTI with bit 32 set as "ioctl+high"
 *   probe allowed         print "fork", "unshare" (CLONE_NEWUTS),
 *                         "fionread" and "tiocgwinsz" (on a pipe), each
 *                         with "ok" or the errno it met
 *   probe watch-exe MS [N] print "watching", then for MS milliseconds
 *                         (at most 30000) open the /proc/PID/exe of
 *                         every other process in sight, O_PATH (nothing
 *                         is read or written through it), until one is
 *                         not the file its path names in this root (the
 *                         binary of a runtime's copy that joins by exec,
 *                         CVE-2019-5736): print "opened PID PATH dev D
 *                         ino I" at once. Else, after MS or once N
 *                         processes were refused while they had the
 *                         probe's uids and capabilities, print "none: S
 *                         seen, R refused, E of them with our uids and
 *                         capabilities"
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_MAGIC 0x9fa0

static int usage(void)
{
	fprintf(stderr, "probe: unknown question (see tests/probe.c)\n");
	return 2;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Print the numeric entries of dir, sorted, one a line; skip_own leaves
 * out the fd this listing itself holds open. */
static int list_numbers(const char *dir, int skip_own)
{
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		return 1;
	}
	int n = 0, cap = 64, *v = malloc(cap * sizeof(int));
	int skip = skip_own ? dirfd(d) : -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int x = atoi(e->d_name);
		if (x == skip)
			continue;
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(int));
		v[n++] = x;
	}
	closedir(d);
	qsort(v, n, sizeof(int), cmp_int);
	for (int i = 0; i < n; i++)
		printf("%d\n", v[i]);
	free(v);
	return 0;
}

static int copy(int from, int to)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(from, buf, sizeof(buf))) > 0)
		if (write(to, buf, n) != n)
			return 1;
	return n < 0;
}

/* common/clock.c's now_ms(), copied: the probe runs inside the root
 * filesystem and links nothing of common/. */
static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

#define BOMB_MAX 65536 /* children held at most */

/* Fork until ms have passed; children wait to be killed. */
static int bomb(long ms, long stop_refused)
{
	static pid_t kids[BOMB_MAX];
	long end = now_ms() + ms;
	long forked = 0, refused = 0;
	pid_t me = getpid();
	while (now_ms() < end && forked < BOMB_MAX &&
	       (stop_refused <= 0 || refused < stop_refused)) {
		pid_t pid = fork();
		if (pid == 0) {
			/* Die with the bomb even where it is not PID 1. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != me)
				_exit(0);
			pause();
			_exit(0);
		}
		if (pid > 0)
			kids[forked++] = pid;
		else if (errno == EAGAIN)
			refused++;
		else
			break;
	}
	printf("forked %ld refused %ld\n", forked, refused);
	fflush(stdout);
	for (long i = 0; i < forked; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

/* The chroot escape: chroot into a subdirectory while the working
 * directory stays above it, climb with "..", which stops only at the
 * process's root (now below us) or the namespace's, and chroot there. */
static int breakout(const char *marker)
{
	if (mkdir("/tmp/breakout", 0755) < 0 && errno != EEXIST) {
		perror("/tmp/breakout");
		return 2;
	}
	if (chroot("/tmp/breakout") < 0) {
		perror("chroot");
		return 2;
	}
	for (int i = 0; i < 256; i++)
		if (chdir("..") < 0)
			break;
	if (chroot(".") < 0) {
		perror("chroot .");
		return 2;
	}
	return printf("%s\n", access(marker, F_OK) == 0 ? "escaped"
						      : "contained") < 0;
}

static volatile sig_atomic_t got;

static void on_signal(int sig)
{
	got = sig;
}

static int trap_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP,
				   SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!got)
		pause();
	printf("signal %d\n", (int)got);
	fflush(stdout);
	return 128 + got;
}

static int crash(const char *name)
{
	signal(SIGSEGV, SIG_DFL);
	if (!strcmp(name, "SEGV")) {
		volatile int *p = NULL;
		return *p;
	}
	if (!strcmp(name, "ILL"))
		__asm__ volatile("ud2");
	if (!strcmp(name, "TRAP"))
		__asm__ volatile("int3");
	if (!strcmp(name, "FPE")) {
		/* Not 1 / zero: compilers turn that into a comparison. */
		volatile int seven = 7, zero = 0;
		return seven / zero;
	}
	return usage();
}

/* Touch a page of every 4 KiB of mib MiB, kept, so that it all counts
 * against the memory limit; bounded so that a failing test is safe. */
static int hog(long mib)
{
	if (mib < 1 || mib > 256)
		return usage();
	for (long i = 1; i <= mib; i++) {
		char *p = malloc(1 << 20);
		if (!p) {
			printf("refused at %ld\n", i);
			return 1;
		}
		for (int off = 0; off < 1 << 20; off += 4096)
			p[off] = 1;
		/* Unbuffered: what was printed stays when the OOM killer
		 * strikes. */
		if (i % 8 == 0)
			dprintf(1, "hog %ld\n", i);
	}
	dprintf(1, "done\n");
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spin in procs processes for ms milliseconds of wall time, whatever CPU
 * time that gets. */
static int spin(long ms, long procs)
{
	if (ms < 1 || ms > 30000 || procs < 1 || procs > 4)
		return usage();
	double end = now_s() + ms / 1000.0;
	for (long i = 1; i < procs; i++)
		if (fork() == 0)
			procs = 0; /* a spinner: no more forks, no wait */
	if (procs)
		dprintf(1, "spinning\n");
	volatile unsigned long n = 0;
	while (now_s() < end)
		for (int i = 0; i < 100000; i++)
			n++;
	if (!procs)
		_exit(0);
	while (wait(NULL) > 0)
		;
	dprintf(1, "spun\n");
	return 0;
}

/* Print the capability, no_new_privs and seccomp lines of our status. */
static int caps(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256], key[64], value[128];
	if (!f) {
		perror("/proc/self/status");
		return 1;
	}
	while (fgets(line, sizeof(line), f))
		if ((!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) ||
		     !strncmp(line, "Seccomp:", 8)) &&
		    sscanf(line, "%63[^:]: %127s", key, value) == 2)
			printf("%s %s\n", key, value);
	return fclose(f) != 0;
}

/* The name of errno e, for the errors the acts meet. */
static const char *err_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EROFS: return "EROFS";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	default: return strerrorname_np(e) ? strerrorname_np(e) : strerror(e);
	}
}

#define PIPE_FD -100 /* in a deny row: the probe's pipe, made at run time */
#define HIGH_BIT (1UL << 32)

/* Stage 10's deny-list (stages/10-privs/privs.c), each call with
 * arguments the kernel rejects before it acts, so that nothing happens
 * where no filter refuses it, even as the host's root: bad flags, a bad
 * pointer, a bad fd, an unknown command. The comment says what the
 * kernel (6.18) answers without the filter to root in a user namespace
 * of its own with every capability there (a container of stage 9).
 * "EPERM first" marks the calls that check a capability in the host's
 * user namespace before their arguments: there the errno cannot tell
 * the filter from the kernel, and only the check of the probe's names
 * against privs.c's (suite_privs.c) sees the row go; in brackets, what
 * the host's root gets (measured, but for modules and kexec, read from
 * the kernel's order of checks: a kernel built without them, as 6.18
 * here was, answers ENOSYS). */
static const struct deny_row {
	const char *name;
	long nr;
	long arg[6];
} deny_rows[] = {
	/* EPERM first (the host's root: ENOEXEC, a module too short) */
	{"init_module", SYS_init_module, {0, 0, 0}},
	/* EPERM first (the host's root: EBADF) */
	{"finit_module", SYS_finit_module, {-1, 0, 0}},
	/* EPERM first (the host's root: EFAULT) */
	{"delete_module", SYS_delete_module, {0, 0}},
	/* EPERM first (the host's root: EINVAL, an unknown flag; 0
	 * segments and no flag would unload the loaded kernel) */
	{"kexec_load", SYS_kexec_load, {0, 0, 0, 0x8000}},
	/* EPERM first (the host's root: EINVAL, an unknown flag; flag 1
	 * would unload) */
	{"kexec_file_load", SYS_kexec_file_load, {-1, -1, 0, 0, 0x80000000L}},
	/* EINVAL: no such command */
	{"bpf", SYS_bpf, {9999, 0, 0}},
	/* EINVAL: unknown flags */
	{"perf_event_open", SYS_perf_event_open, {0, 0, -1, -1, ~0L}},
	/* EINVAL: UFFD_USER_MODE_ONLY, allowed to anyone, and a bad flag */
	{"userfaultfd", SYS_userfaultfd, {1 | 0x10}},
	/* EINVAL: a payload over 1 MiB */
	{"add_key", SYS_add_key, {0, 0, 0, -1, 0}},
	/* EFAULT: no type */
	{"request_key", SYS_request_key, {0, 0, 0, 0}},
	/* EOPNOTSUPP: no such operation */
	{"keyctl", SYS_keyctl, {-1}},
	/* EFAULT: no handle (kernels before 6.10: EPERM first) */
	{"open_by_handle_at", SYS_open_by_handle_at, {-1, 0, 0}},
	/* EINVAL: an unknown flag */
	{"name_to_handle_at", SYS_name_to_handle_at, {-1, 0, 0, 0, 0x40000000}},
	/* EINVAL: CLONE_VFORK is no flag of unshare's */
	{"unshare", SYS_unshare, {CLONE_NEWUSER | CLONE_VFORK}},
	/* EINVAL: a new user namespace cannot share the filesystem root */
	{"clone", SYS_clone, {CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0}},
	/* EBADF */
	{"setns", SYS_setns, {-1, 0}},
	/* EINVAL: an unknown flag, checked before the capability */
	{"swapon", SYS_swapon, {0, 0x40000000}},
	/* EPERM first (the host's root: EFAULT) */
	{"swapoff", SYS_swapoff, {1}},
	/* EINVAL: no magic (the container's own PID namespace: CAP_SYS_BOOT
	 * of its user namespace is enough to get there) */
	{"reboot", SYS_reboot, {0, 0, 0, 0}},
	/* EPERM first (the host's root: EFAULT; NULL would turn accounting
	 * off) */
	{"acct", SYS_acct, {1}},
	/* EFAULT: the time is read before the capability is checked */
	{"settimeofday", SYS_settimeofday, {1, 0}},
	/* EINVAL: the monotonic clock cannot be set */
	{"clock_settime", SYS_clock_settime, {CLOCK_MONOTONIC, 0}},
	/* EFAULT */
	{"clock_adjtime", SYS_clock_adjtime, {CLOCK_REALTIME, 0}},
	/* EFAULT */
	{"adjtimex", SYS_adjtimex, {0}},
	/* EINVAL: no such quota type */
	{"quotactl", SYS_quotactl, {0xff, 0, 0, 0}},
	/* ENOSYS: gone from the kernel since 5.11, still in the filter */
	{"lookup_dcookie", SYS_lookup_dcookie, {0, 0, 0}},
	/* ENOTTY: a pipe is no terminal; and the same command with a high
	 * bit set, which the kernel reads as the same TIOCSTI */
	{"ioctl", SYS_ioctl, {PIPE_FD, TIOCSTI, 0}},
	{"ioctl", SYS_ioctl, {PIPE_FD, TIOCSTI | HIGH_BIT, 0}},
};

/* Make each call of deny_rows (only name's, when not NULL) and print
 * "name errno" a line each ("name ok" if one ran): the filter makes it
 * EPERM. Returns 0, or 2 for a name the table lacks. */
static int deny(const char *name)
{
	int fds[2], found = 0;
	if (pipe(fds) < 0) {
		perror("pipe");
		return 1;
	}
	for (size_t i = 0; i < sizeof(deny_rows) / sizeof(deny_rows[0]); i++) {
		const struct deny_row *d = &deny_rows[i];
		long a[6];
		if (name && strcmp(name, d->name))
			continue;
		found = 1;
		for (int j = 0; j < 6; j++)
			a[j] = d->arg[j] == PIPE_FD ? fds[0] : d->arg[j];
		errno = 0;
		long r = syscall(d->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		printf("%s%s %s\n", d->name,
		       d->nr == SYS_ioctl && (a[1] & HIGH_BIT) ? "+high" : "",
		       r < 0 ? err_name(errno) : "ok");
	}
	close(fds[0]);
	close(fds[1]);
	if (!found)
		return usage();
	return 0;
}

/* What the filter must let through: fork (clone without
 * CLONE_NEWUSER), unshare(CLONE_NEWUTS) (with CAP_SYS_ADMIN), and
 * ordinary ioctls: FIONREAD and TIOCGWINSZ on a pipe, "name answer" a
 * line each. */
static int allowed(void)
{
	int fds[2], n = -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWUTS) < 0 ? errno : 0);
	int st = 0;
	printf("fork %s\n", pid < 0 ? err_name(errno) : "ok");
	if (pid > 0 && waitpid(pid, &st, 0) == pid)
		printf("unshare %s\n", WEXITSTATUS(st) ? err_name(WEXITSTATUS(st))
						       : "ok");
	if (pipe(fds) < 0 || write(fds[1], "abc", 3) != 3) {
		perror("pipe");
		return 1;
	}
	printf("fionread %s\n", ioctl(fds[0], FIONREAD, &n) < 0 ? err_name(errno)
				: n == 3 ? "ok" : "wrong");
	struct winsize ws;
	printf("tiocgwinsz %s\n", ioctl(fds[0], TIOCGWINSZ, &ws) < 0
					 ? err_name(errno) : "ok");
	close(fds[0]);
	close(fds[1]);
	return 0;
}

/* Try act; undo what it did; print "ok" or why it failed. */
static int try_act(const char *act, const char *arg)
{
	long r;
	if (!strcmp(act, "add_key")) {
		/* A key in our own session keyring, unlinked at once. */
		r = syscall(SYS_add_key, "user", "minidocker-probe", "x", 1,
			    -3 /* KEY_SPEC_SESSION_KEYRING */);
		if (r >= 0)
			syscall(SYS_keyctl, 21 /* KEYCTL_INVALIDATE */, r);
	} else if (!strcmp(act, "userns")) {
		/* In a child, so that we keep our own namespace. */
		pid_t pid = fork();
		if (pid == 0)
			_exit(unshare(CLONE_NEWUSER) < 0 ? errno : 0);
		int st = 0;
		if (pid < 0 || waitpid(pid, &st, 0) < 0)
			return 1;
		r = WEXITSTATUS(st) ? -1 : 0;
		errno = WEXITSTATUS(st);
	} else if (!strcmp(act, "mount")) {
		const char *dir = *arg ? arg : "/mnt";
		r = mount("probe", dir, "tmpfs", 0, "size=16k");
		if (r == 0)
			umount2(dir, MNT_DETACH);
	} else if (!strcmp(act, "rawsock")) {
		r = socket(AF_PACKET, SOCK_RAW, 0);
		if (r >= 0)
			close((int)r);
	} else if (!strcmp(act, "handle")) {
		/* Where the filesystem has no handles, say so: not a wall. */
		struct {
			struct file_handle h;
			unsigned char bytes[MAX_HANDLE_SZ];
		} fh = {.h.handle_bytes = MAX_HANDLE_SZ};
		int mount_id;
		r = name_to_handle_at(AT_FDCWD, "/", &fh.h, &mount_id, 0);
		if (r < 0 && errno == EOPNOTSUPP) {
			printf("nohandles\n");
			return 0;
		}
		if (r == 0) {
			int root = open("/", O_RDONLY | O_DIRECTORY);
			r = open_by_handle_at(root, &fh.h, O_RDONLY);
			if (r >= 0)
				close((int)r);
		}
	} else if (!strcmp(act, "pty")) {
		int master = posix_openpt(O_RDWR | O_NOCTTY);
		r = master;
		if (master >= 0) {
			const char *name = NULL;
			if (grantpt(master) < 0 || unlockpt(master) < 0 ||
			    !(name = ptsname(master)))
				r = -1;
			int slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
			if (slave < 0)
				r = -1;
			else
				close(slave);
			close(master);
		}
	} else if (!strcmp(act, "euid")) {
		r = geteuid() == 0 ? 0 : -1;
		errno = EACCES;
	} else if (!strcmp(act, "setuid")) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0) {
				printf("%s\n", err_name(errno));
				_exit(0);
			}
			execl(arg, arg, "try", "euid", (char *)NULL);
			printf("%s\n", err_name(errno));
			_exit(0);
		}
		int st;
		return pid < 0 || waitpid(pid, &st, 0) < 0;
	} else if (!strcmp(act, "shm")) {
		r = shmget((key_t)strtol(arg, NULL, 0), 0, 0);
	} else if (!strcmp(act, "mkdir")) {
		const char *dir = *arg ? arg : "/tmp/probe-mkdir";
		r = mkdir(dir, 0755);
		if (r == 0)
			rmdir(dir);
	} else if (!strcmp(act, "getcwd")) {
		/* The call itself: libc might answer from elsewhere. */
		char cwd[PATH_MAX];
		r = syscall(SYS_getcwd, cwd, sizeof(cwd));
	} else if (!strcmp(act, "clone3")) {
		/* A NULL argument: EFAULT if the call is there at all. */
		r = syscall(SYS_clone3, NULL, 0);
	} else {
		return usage();
	}
	printf("%s\n", r < 0 ? err_name(errno) : "ok");
	return 0;
}

#define WATCH_PIDS (1 << 22) /* PID_MAX_LIMIT: every pid is below it */

/* Bitmaps of pids: seen once, refused once, refused with our uids and
 * capabilities, done with. */
static unsigned char w_seen[WATCH_PIDS / 8], w_refused[WATCH_PIDS / 8];
static unsigned char w_equal[WATCH_PIDS / 8], w_done[WATCH_PIDS / 8];

/* Set bit pid of map; return whether it was set already. */
static int mark(unsigned char *map, int pid)
{
	int was = map[pid / 8] >> (pid % 8) & 1;
	map[pid / 8] |= (unsigned char)(1 << (pid % 8));
	return was;
}

enum exe { EXE_REFUSED, EXE_GONE, EXE_OURS, EXE_FOREIGN };

/* Open pid's /proc/PID/exe and say whose file it is; EXE_FOREIGN is
 * printed. A process the kernel refuses now may let us in later: one
 * just forked with more capabilities than ours drops them, an exec makes
 * a non-dumpable process dumpable again. */
static enum exe open_exe(int pid)
{
	char path[64], fdpath[64], target[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? EXE_REFUSED
							 : EXE_GONE;
	/* Which file, by the descriptor: the process may have exec'd since
	 * the open, its link moved on. */
	struct stat got = {0}, here;
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(fdpath, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	int ours = fstat(fd, &got) == 0 && n > 0 && stat(target, &here) == 0 &&
		   got.st_dev == here.st_dev && got.st_ino == here.st_ino;
	close(fd);
	if (ours)
		return EXE_OURS;
	printf("opened %d %s dev %u:%u ino %llu\n", pid, target,
	       major(got.st_dev), minor(got.st_dev),
	       (unsigned long long)got.st_ino);
	return EXE_FOREIGN;
}

/* The lines of /proc/PID/status (pid 0: ours) that the kernel's check
 * on an open of /proc/PID/exe compares, besides dumpability: the uids,
 * the gids and the capabilities (its permitted against our effective:
 * both are the same set in a container's root), in out; 0, or -1 when
 * it is gone. */
static int creds_of(int pid, char *out, size_t len)
{
	char path[64], line[256];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = 0;
	out[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) ||
		    !strncmp(line, "CapPrm:", 7) ||
		    !strncmp(line, "CapEff:", 7))
			n += snprintf(out + n, n < len ? len - n : 0, "%s",
				      line);
	fclose(f);
	return n > 0 ? 0 : -1;
}

/* The watcher of CVE-2019-5736: every process in our /proc but us, its
 * exe opened as soon as the kernel lets us, until one is not a file of
 * this root, ms have passed, or most were refused while they had our
 * uids and capabilities (then only dumpability stood in the way: a
 * copy of the runtime between the drop of its capabilities and its
 * exec). */
static int watch_exe(long ms, long most)
{
	DIR *d = opendir("/proc");
	if (!d) {
		perror("/proc");
		return 1;
	}
	char ours[512], theirs[512];
	if (creds_of(0, ours, sizeof(ours)) < 0) {
		perror("/proc/self/status");
		return 1;
	}
	long end = now_ms() + (ms > 30000 ? 30000 : ms);
	long seen = 0, refused = 0, as_equal = 0;
	int self = getpid();
	printf("watching\n");
	fflush(stdout);
	while (now_ms() < end && (most <= 0 || as_equal < most)) {
		rewinddir(d);
		struct dirent *e;
		while ((e = readdir(d))) {
			int pid = atoi(e->d_name);
			if (pid <= 0 || pid >= WATCH_PIDS || pid == self ||
			    w_done[pid / 8] >> (pid % 8) & 1)
				continue;
			seen += !mark(w_seen, pid);
			enum exe x = open_exe(pid);
			/* Refused: again, if it has our credentials now
			 * (they only shrink until its exec), to see whether
			 * the kernel still refuses then. */
			if (x == EXE_REFUSED &&
			    !(w_equal[pid / 8] >> (pid % 8) & 1) &&
			    creds_of(pid, theirs, sizeof(theirs)) == 0 &&
			    !strcmp(ours, theirs)) {
				x = open_exe(pid);
				if (x == EXE_REFUSED)
					as_equal += !mark(w_equal, pid);
			}
			if (x == EXE_FOREIGN) {
				closedir(d);
				return 0;
			}
			if (x == EXE_REFUSED)
				refused += !mark(w_refused, pid);
			else
				mark(w_done, pid);
		}
	}
	closedir(d);
	printf("none: %ld seen, %ld refused, %ld of them with our uids and "
	       "capabilities\n",
	       seen, refused, as_equal);
	return 0;
}

/* The smoke test's question: can this container fork and exec? self is
 * the probe's own path (argv[0]). Exits 0 only when both worked. */
static int spawn(const char *self)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: %s\n", err_name(errno));
		return 1;
	}
	if (pid == 0) {
		execl(self, self, "exit", "7", (char *)NULL);
		printf("exec: %s\n", err_name(errno));
		fflush(stdout);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0) {
		printf("wait: %s\n", err_name(errno));
		return 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 7) {
		printf("ok\n");
		return 0;
	}
	/* An exec that failed has said so already. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 127) {
		if (WIFSIGNALED(status))
			printf("child: killed by signal %d\n",
			       WTERMSIG(status));
		else
			printf("child: status %d\n", WEXITSTATUS(status));
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *q = argv[1], *a = argc > 2 ? argv[2] : "";
	/* A setuid copy (the catalogue's setuid act) answers one question. */
	if (geteuid() != getuid() && (strcmp(q, "try") || strcmp(a, "euid")))
		return usage();

	if (!strcmp(q, "exit"))
		return atoi(a);
	if (!strcmp(q, "out"))
		return write(1, a, strlen(a)) != (ssize_t)strlen(a);
	if (!strcmp(q, "err"))
		return write(2, a, strlen(a)) != (ssize_t)strlen(a);
	if (!strcmp(q, "cat"))
		return copy(0, 1);
	if (!strcmp(q, "args")) {
		for (int i = 2; i < argc; i++) {
			for (const char *p = argv[i]; *p; p++)
				printf("%02x", (unsigned char)*p);
			printf("\n");
		}
		return 0;
	}
	if (!strcmp(q, "spawn"))
		return spawn(argv[0]);
	if (!strcmp(q, "pid"))
		return printf("%d\n", (int)getpid()) < 0;
	if (!strcmp(q, "hostname")) {
		struct utsname u;
		uname(&u);
		return printf("%s\n", u.nodename) < 0;
	}
	if (!strcmp(q, "ns")) {
		char path[64], target[256];
		snprintf(path, sizeof(path), "/proc/self/ns/%s", a);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0) {
			perror(path);
			return 1;
		}
		target[n] = '\0';
		return printf("%s\n", target) < 0;
	}
	if (!strcmp(q, "procs"))
		return list_numbers("/proc", 0);
	if (!strcmp(q, "fds"))
		return list_numbers("/proc/self/fd", 1);
	if (!strcmp(q, "exists")) {
		struct stat st;
		return printf("%s\n", lstat(a, &st) == 0 ? "yes" : "no") < 0;
	}
	if (!strcmp(q, "links")) {
		for (int i = 2; i < argc; i++) {
			char target[PATH_MAX];
			ssize_t n = readlink(argv[i], target, sizeof(target) - 1);
			if (n < 0) {
				perror(argv[i]);
				return 1;
			}
			printf("%.*s\n", (int)n, target);
		}
		return 0;
	}
	if (!strcmp(q, "fstype")) {
		struct statfs fs;
		if (statfs(a, &fs) < 0) {
			perror(a);
			return 1;
		}
		if (fs.f_type == PROC_MAGIC)
			return printf("proc\n") < 0;
		return printf("%lx\n", (unsigned long)fs.f_type) < 0;
	}
	if (!strcmp(q, "mountinfo")) {
		int fd = open("/proc/self/mountinfo", O_RDONLY);
		return fd < 0 || copy(fd, 1);
	}
	if (!strcmp(q, "crash"))
		return crash(a);
	if (!strcmp(q, "ready")) {
		printf("ready\n");
		fflush(stdout);
		char buf[256];
		while (read(0, buf, sizeof(buf)) > 0)
			;
		return 0;
	}
	if (!strcmp(q, "trap"))
		return trap_signals();
	if (!strcmp(q, "ids"))
		return printf("uid %d gid %d\n", (int)getuid(), (int)getgid()) <
		       0;
	if (!strcmp(q, "uidmap")) {
		FILE *f = fopen("/proc/self/uid_map", "r");
		long in, out, count;
		while (f && fscanf(f, "%ld %ld %ld", &in, &out, &count) == 3)
			printf("%ld %ld %ld\n", in, out, count);
		return !f;
	}
	if (!strcmp(q, "create")) {
		int fd = open(a, O_CREAT | O_WRONLY | O_EXCL, 0644);
		if (fd < 0) {
			perror(a);
			return 1;
		}
		return close(fd) != 0;
	}
	if (!strcmp(q, "owner")) {
		struct stat st;
		if (stat(a, &st) < 0) {
			perror(a);
			return 1;
		}
		return printf("%d\n", (int)st.st_uid) < 0;
	}
	if (!strcmp(q, "breakout"))
		return breakout(a);
	if (!strcmp(q, "bomb"))
		return bomb(atol(a), argc > 3 ? atol(argv[3]) : 0);
	if (!strcmp(q, "hog"))
		return hog(atol(a));
	if (!strcmp(q, "spin"))
		return spin(atol(a), argc > 3 ? atol(argv[3]) : 1);
	if (!strcmp(q, "caps"))
		return caps();
	if (!strcmp(q, "try"))
		return try_act(a, argc > 3 ? argv[3] : "");
	if (!strcmp(q, "deny"))
		return deny(argc > 2 ? a : NULL);
	if (!strcmp(q, "allowed"))
		return allowed();
	if (!strcmp(q, "watch-exe"))
		return watch_exe(atol(a), argc > 3 ? atol(argv[3]) : 0);
	return usage();
}
