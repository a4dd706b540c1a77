#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "net/lease.h"

/* The start time of process pid, in clock ticks since boot (field 22 of
 * /proc/PID/stat): with the pid, it names one process, never a later
 * one that was given the same pid. Returns 0 when pid is gone. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	/* The command name (field 2) may hold spaces and parentheses:
	 * count from the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	unsigned long long t = 0;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	return t;
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

/* Make run and run/leases when missing, and take the lock of the
 * leases. Returns the lock's fd, or -1 with errno. */
static int lock_leases(const char *run, char *dir, size_t len)
{
	char lock[PATH_MAX + 16];
	if (mkdir(run, 0700) < 0 && errno != EEXIST)
		return -1;
	snprintf(dir, len, "%s/" LEASE_DIR, run);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	snprintf(lock, sizeof(lock), "%s/lock", dir);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
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

int lease_reap_stale(const char *run, lease_reap_fn *reaped, void *arg)
{
	char dir[PATH_MAX];
	int lock = lock_leases(run, dir, sizeof(dir));
	if (lock < 0)
		return -1;
	int n = reap_locked(dir, reaped, arg);
	int saved = errno;
	close(lock);
	errno = saved;
	return n;
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
	int lock = lock_leases(run, dir, sizeof(dir));
	if (lock < 0) {
		snprintf(why, why_len, "cannot lock '%s/" LEASE_DIR "': %s",
			 run, strerror(errno));
		return -1;
	}
	/* .0 is the network, .1 the gateway, the last the broadcast. */
	uint32_t first = ntohl(net.s_addr) + 2;
	uint32_t last = ntohl(net.s_addr) + (1u << (32 - LEASE_PREFIX)) - 2;
	int rc = -1;
	for (uint32_t a = first; a <= last; a++) {
		char name[INET_ADDRSTRLEN], text[64];
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

int lease_release(struct lease *l)
{
	if (!l->path[0])
		return 0;
	int rc = unlink(l->path) < 0 && errno != ENOENT ? -1 : 0;
	l->path[0] = '\0';
	return rc;
}

int lease_count(const char *run)
{
	char dir[PATH_MAX + 16];
	struct in_addr addr;
	struct dirent *e;
	int n = 0;
	snprintf(dir, sizeof(dir), "%s/" LEASE_DIR, run);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)))
		n += inet_pton(AF_INET, e->d_name, &addr) == 1;
	closedir(d);
	return n;
}
