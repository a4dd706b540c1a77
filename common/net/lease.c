#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "net/lease.h"
#include "process.h"

/* The start time of process pid (proc_stat()): with the pid, it names
 * one process, never a later one that was given the same pid. Returns 0
 * when pid is gone. */
static unsigned long long start_time(pid_t pid)
{
	struct proc_stat st;
	return proc_stat(pid, &st) == 0 ? st.start : 0;
}

/* How many leases dir holds (files named by an address). Returns it, or
 * -1 with errno. */
static int count_in(const char *dir)
{
	struct in_addr addr;
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += inet_pton(AF_INET, e->d_name, &addr) == 1;
	closedir(d);
	return n;
}

/* Whether the holder written in the lease file path is gone; its pid is
 * put in *owner. A file that cannot be read or parsed counts as gone
 * (only a taker that died half-way writes one). */
static int holder_gone(const char *path, pid_t *owner)
{
	char buf[64];
	long pid = 0;
	unsigned long long t = 0;
	*owner = 0;
	if (read_small(path, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%ld %llu", &pid, &t) != 2 || pid <= 0)
		return 1;
	*owner = (pid_t)pid;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return 1;
	return start_time((pid_t)pid) != t;
}

/* The network namespace we run in, as "dev:ino" of /proc/self/ns/net,
 * into buf ("" when it cannot be told). */
static void our_netns(char *buf, size_t len)
{
	struct stat st;
	if (stat("/proc/self/ns/net", &st) < 0)
		*buf = '\0';
	else
		snprintf(buf, len, "%lu:%lu", (unsigned long)st.st_dev,
			 (unsigned long)st.st_ino);
}

/* Whether the leases in dir were taken in the network namespace we run
 * in: their bridge, table and veths are there, and only there may they
 * be removed. A directory that names none (made before it did) is
 * taken for ours. */
static bool netns_is_ours(const char *dir)
{
	char path[PATH_MAX + 16], theirs[64], ours[64];
	snprintf(path, sizeof(path), "%s/" LEASE_NETNS, dir);
	if (read_small(path, theirs, sizeof(theirs)) < 0)
		return errno == ENOENT;
	theirs[strcspn(theirs, "\n")] = '\0';
	our_netns(ours, sizeof(ours));
	return *ours && !strcmp(theirs, ours);
}

/* Take the lock of the leases, run/leases/lock, into dir; with make,
 * make run, the directory and the lock when missing. The last lease's
 * holder removes all three (lease_release()): a lock taken on a file
 * that was unlinked meanwhile locks nothing, so take it again on the
 * file that is there now. Returns the lock's fd, or -1 with errno
 * (ENOENT without make: there are no leases). */
static int lock_leases(const char *run, char *dir, size_t len, bool make)
{
	char lock[PATH_MAX + 16];
	snprintf(dir, len, "%s/" LEASE_DIR, run);
	snprintf(lock, sizeof(lock), "%s/lock", dir);
	for (int tries = 0; tries < 100; tries++) {
		if (make && ((mkdir(run, 0700) < 0 && errno != EEXIST) ||
			     (mkdir(dir, 0700) < 0 && errno != EEXIST)))
			return -1;
		int fd =
		    open(lock, O_RDWR | O_CLOEXEC | (make ? O_CREAT : 0), 0600);
		if (fd < 0 && errno == ENOENT && make)
			continue; /* removed between mkdir and open */
		if (fd < 0)
			return -1;
		struct stat held, now;
		if (flock(fd, LOCK_EX) < 0 || fstat(fd, &held) < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (stat(lock, &now) == 0 && held.st_ino == now.st_ino &&
		    held.st_dev == now.st_dev)
			return fd;
		close(fd); /* removed while we waited: the one there now */
	}
	errno = EAGAIN;
	return -1;
}

/* Under the lock, in dir: when no lease is left, remove what the
 * holders shared (empty, when not NULL) and then the directory, the
 * lock last but for the directory itself. Returns 0, or -1 with errno
 * when empty failed (the directory stays: a later run tries again). */
static int remove_if_empty(const char *dir, lease_empty_fn *empty, void *arg)
{
	char path[PATH_MAX + 16];
	if (count_in(dir) != 0)
		return 0;
	if (empty && empty(arg) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/" LEASE_NETNS, dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" LEASE_GIVEN, dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock", dir);
	unlink(path);
	rmdir(dir); /* not ours to empty further if something else is in it */
	return 0;
}

/* Reap under the lock already held, in dir. */
static int reap_locked(const char *dir, lease_reap_fn *reaped, void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		struct in_addr addr;
		char path[PATH_MAX + 300];
		pid_t owner;
		if (inet_pton(AF_INET, e->d_name, &addr) != 1)
			continue; /* the lock, or not ours */
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!holder_gone(path, &owner))
			continue;
		if (reaped)
			reaped(owner, addr, arg);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int lease_reap_stale(const char *run, lease_reap_fn *reaped,
		     lease_empty_fn *empty, void *arg)
{
	char dir[PATH_MAX];
	int lock = lock_leases(run, dir, sizeof(dir), false);
	if (lock < 0)
		return errno == ENOENT ? 0 : -1;
	int n = 0;
	/* Another namespace's: what its dead holders left is out of our
	 * reach, and a run there reaps them. */
	if (netns_is_ours(dir)) {
		n = reap_locked(dir, reaped, arg);
		if (n >= 0 && remove_if_empty(dir, empty, arg) < 0)
			n = -1;
	}
	int saved = errno;
	close(lock);
	errno = saved;
	return n;
}

/* The directory is ours to lease from: made here just now (it names no
 * namespace yet), made in ours, or left by another namespace's holders
 * who are all dead (what they made there is out of our reach; their
 * files go). Names ours in it. Returns 0, or -1 with errno and why
 * (EBUSY: another namespace's holders live). */
static int claim_dir(const char *dir, char *why, size_t why_len)
{
	char path[PATH_MAX + 16], theirs[64], ours[64];
	snprintf(path, sizeof(path), "%s/" LEASE_NETNS, dir);
	our_netns(ours, sizeof(ours));
	if (read_small(path, theirs, sizeof(theirs)) == 0) {
		theirs[strcspn(theirs, "\n")] = '\0';
		if (!strcmp(theirs, ours))
			return 0;
		int held = count_in(dir);
		if (held < 0 || reap_locked(dir, NULL, NULL) != held) {
			snprintf(why, why_len,
				 "'%s' holds the leases of containers in "
				 "another network namespace (set "
				 "MINIDOCKER_RUN to a directory of its own)",
				 dir);
			errno = EBUSY;
			return -1;
		}
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = fd < 0 ? -1 : write_all(fd, ours, strlen(ours));
	int saved = errno;
	if (fd >= 0 && close(fd) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc < 0) {
		snprintf(why, why_len, "cannot write '%s': %s", path,
			 strerror(saved));
		errno = saved;
	}
	return rc;
}

/* Where to look for a free address, first to last: after the one given
 * last (named in dir/LEASE_GIVEN), so that an address just let go is the
 * last to be given again. The pair of a container that ended goes with
 * its namespace a little later, and the host's neighbour table keeps its
 * MAC address for a while: a new container with the same address at once
 * would meet both. */
static uint32_t after_given(const char *dir, uint32_t first, uint32_t last)
{
	char path[PATH_MAX + 16], text[INET_ADDRSTRLEN];
	struct in_addr given;
	snprintf(path, sizeof(path), "%s/" LEASE_GIVEN, dir);
	if (read_small(path, text, sizeof(text)) < 0 ||
	    inet_pton(AF_INET, text, &given) != 1 ||
	    ntohl(given.s_addr) < first || ntohl(given.s_addr) >= last)
		return first;
	return ntohl(given.s_addr) + 1;
}

/* Name addr (text) in dir/LEASE_GIVEN. Only a hint: without it, the
 * next taker looks from the first address. */
static void note_given(const char *dir, const char *addr)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/" LEASE_GIVEN, dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	/* A failed or short write leaves no address there: read as none. */
	(void)write_all(fd, addr, strlen(addr));
	close(fd);
}

int lease_take(struct lease *l, const char *run, pid_t owner, char *why,
	       size_t why_len)
{
	char dir[PATH_MAX - 32]; /* room for /<address> */
	struct in_addr net;

	memset(l, 0, sizeof(*l));
	inet_pton(AF_INET, LEASE_SUBNET, &net);
	inet_pton(AF_INET, LEASE_GATEWAY, &l->gateway);
	l->prefix = LEASE_PREFIX;
	unsigned long long t = start_time(owner);
	if (!t) {
		snprintf(why, why_len, "no process %d to hold it", (int)owner);
		errno = ESRCH;
		return -1;
	}
	int lock = lock_leases(run, dir, sizeof(dir), true);
	if (lock < 0) {
		snprintf(why, why_len, "cannot lock '%s/" LEASE_DIR "': %s",
			 run, strerror(errno));
		return -1;
	}
	int rc = -1;
	if (claim_dir(dir, why, why_len) < 0)
		goto out;
	/* .0 is the network, .1 the gateway, the last the broadcast. */
	uint32_t first = ntohl(net.s_addr) + 2;
	uint32_t last = ntohl(net.s_addr) + (1u << (32 - LEASE_PREFIX)) - 2;
	uint32_t count = last - first + 1;
	uint32_t start = after_given(dir, first, last);
	for (uint32_t i = 0; i < count; i++) {
		char name[INET_ADDRSTRLEN], text[64];
		uint32_t a = first + (start - first + i) % count;
		l->addr.s_addr = htonl(a);
		inet_ntop(AF_INET, &l->addr, name, sizeof(name));
		snprintf(l->path, sizeof(l->path), "%s/%s", dir, name);
		int fd = open(l->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0) {
			snprintf(why, why_len, "cannot create '%s': %s",
				 l->path, strerror(errno));
			goto out;
		}
		int n =
		    snprintf(text, sizeof(text), "%d %llu\n", (int)owner, t);
		if (write(fd, text, (size_t)n) != n || close(fd) < 0) {
			int saved = errno;
			unlink(l->path);
			snprintf(why, why_len, "cannot write '%s': %s", l->path,
				 strerror(saved ? saved : EIO));
			errno = saved ? saved : EIO;
			goto out;
		}
		l->owner = owner;
		note_given(dir, name);
		rc = 0;
		goto out;
	}
	snprintf(why, why_len,
		 "every address of " LEASE_SUBNET "/%d is "
		 "held (see '%s')",
		 LEASE_PREFIX, dir);
	errno = EADDRNOTAVAIL;
out:;
	int saved = errno;
	if (rc < 0)
		l->path[0] = '\0';
	close(lock);
	errno = saved;
	return rc;
}

int lease_release(struct lease *l, lease_empty_fn *empty, void *arg)
{
	char run[PATH_MAX], dir[PATH_MAX];
	if (!l->path[0])
		return 0;
	/* l->path is run/leases/<address>. */
	snprintf(run, sizeof(run), "%s", l->path);
	for (int i = 0; i < 2; i++)
		*strrchr(run, '/') = '\0';
	int lock = lock_leases(run, dir, sizeof(dir), false);
	int rc = unlink(l->path) < 0 && errno != ENOENT ? -1 : 0;
	l->path[0] = '\0';
	if (lock < 0)
		return rc;
	/* Under the lock: no container takes a lease, and so makes the
	 * bridge anew, until what they share is gone. When empty fails,
	 * it has said why; the directory stays for a later run. */
	if (rc == 0 && netns_is_ours(dir))
		remove_if_empty(dir, empty, arg);
	int saved = errno;
	close(lock);
	errno = saved;
	return rc;
}

int lease_count(const char *run)
{
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/" LEASE_DIR, run);
	int n = count_in(dir);
	return n < 0 && errno == ENOENT ? 0 : n;
}
