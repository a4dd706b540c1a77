/* Container addresses, leased from one subnet under the run state
 * directory (common/state.h): <run>/leases/<address> names the process
 * that holds it (its pid and start time, so a later process given the
 * same pid is not taken for it), <run>/leases/lock serialises the takers,
 * <run>/leases/netns names the network namespace they were taken in,
 * <run>/leases/given the address given last, and
 * a lease whose holder has died is reaped by the next run, as
 * state_reap_stale reaps dead runtimes' directories. The last lease to go
 * takes the directory with it. */
#ifndef MINIDOCKER_LEASE_H
#define MINIDOCKER_LEASE_H

#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/types.h>

/* The containers' subnet: 10.77.0.0/24, the gateway (the bridge) .1,
 * containers .2 to .254. Neither docker's 172.17.0.0/16 nor podman's
 * 10.88.0.0/16, so all three can run on one host. */
#define LEASE_SUBNET  "10.77.0.0"
#define LEASE_PREFIX  24
#define LEASE_GATEWAY "10.77.0.1"
#define LEASE_DIR     "leases" /* in the run directory */
#define LEASE_NETNS   "netns"  /* in LEASE_DIR: "dev:ino" of its namespace */
#define LEASE_GIVEN   "given"  /* in LEASE_DIR: the address given last */

/* One address held for a container. */
struct lease {
	struct in_addr addr;	/* the container's */
	struct in_addr gateway; /* the bridge's: LEASE_GATEWAY */
	int prefix;		/* LEASE_PREFIX */
	pid_t owner;		/* who holds it */
	char path[PATH_MAX];	/* its file; empty when nothing is held */
};

/* Take a free address for owner (a live process: the runtime), the
 * first after the one given last, round the subnet.
 * Dead holders' leases are not reaped here: lease_reap_stale() first,
 * with what must go with them (but those of another network namespace,
 * whose holders are all dead, are forgotten). Returns 0, or -1 with
 * errno and the reason in why (EADDRNOTAVAIL: every address is held;
 * EBUSY: live holders in another network namespace use the directory). */
int lease_take(struct lease *l, const char *run, pid_t owner, char *why,
	       size_t why_len);

/* What the holders of leases share besides them (the bridge and the
 * firewall table): called under the lock when the last lease goes, so
 * that no one takes a lease, and makes them anew, meanwhile. Returns 0,
 * or -1 (the directory then stays, and a later run tries again). */
typedef int lease_empty_fn(void *arg);

/* Let go of the lease (nothing when none is held); when it was the last
 * one, call empty (when not NULL) and remove the leases' directory
 * (kept when empty fails, which is empty's to report). Returns 0, or -1
 * with errno when the lease could not be let go. */
int lease_release(struct lease *l, lease_empty_fn *empty, void *arg);

/* Called for each lease reaped, with its dead holder and its address,
 * before its file goes: what else the holder left (firewall rules) can
 * go with it. */
typedef void lease_reap_fn(pid_t owner, struct in_addr addr, void *arg);

/* Remove the leases under run whose holder has died, calling reaped (when
 * not NULL) for each; when none is left then, call empty and remove the
 * directory, as lease_release() does. Leases taken in another network
 * namespace than ours are left alone: what their holders made is there.
 * Makes nothing: without leases, returns 0 at once. Returns how many it
 * reaped, or -1 with errno. */
int lease_reap_stale(const char *run, lease_reap_fn *reaped,
		     lease_empty_fn *empty, void *arg);

/* How many leases are held under run (for the tests). */
int lease_count(const char *run);

#endif
