/* Stage 14's lesson: a network of the container's own. In bridge mode
 * (root) a veth pair joins the container's network namespace to a bridge
 * on the host, with an address leased from the containers' subnet, a
 * default route through the bridge, masquerading NAT on the way out and
 * DNAT for published ports on the way in. Without root, slirp4netns
 * gives the container a TAP device and a user-space network stack. The
 * message encoding lives in common/net/ (netlink, libnftables). */
#ifndef MINIDOCKER_NET_H
#define MINIDOCKER_NET_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "net/lease.h"
#include "net/nft.h"

#define NET_BRIDGE    "minidocker0" /* made by the first, gone with the last */
#define NET_MAX_PORTS 16	    /* -p options a container may have */
/* What slirp4netns --configure gives the container, and its DNS. */
#define NET_SLIRP_ADDR "10.0.2.100"
#define NET_SLIRP_DNS  "10.0.2.3"

enum net_mode {
	NET_MODE_BRIDGE, /* a veth to the bridge, NAT, ports (root) */
	NET_MODE_NONE,	 /* a network namespace with only lo */
	NET_MODE_HOST,	 /* the host's network namespace, as before */
	NET_MODE_SLIRP,	 /* slirp4netns: a TAP device, user-space NAT */
};

/* The container's network: what it should get (filled by the caller),
 * then what net_reserve() and net_setup() made, which net_teardown()
 * removes. */
struct net {
	enum net_mode mode;
	pid_t pid;	      /* the container's first process */
	int netns_fd;	      /* its network namespace; -1: the pid's */
	const char *run;      /* the run state directory (the leases) */
	const char *dir;      /* the container's own state directory */
	const char *hostname; /* for /etc/hostname and /etc/hosts */
	struct port_map ports[NET_MAX_PORTS];
	size_t n_ports;

	/* Made here; net_init() empties them. */
	struct lease lease;	     /* its address (bridge mode) */
	char veth[IFNAMSIZ];	     /* the host's end of the pair */
	bool published;		     /* its chains are in the table */
	int port_fds[NET_MAX_PORTS]; /* the host ports, held while it runs */
	pid_t slirp_pid;	     /* slirp4netns, or 0 */
	int slirp_exit_fd;	     /* closing it stops slirp4netns */
};

/* An empty net for mode: nothing made yet, no descriptors held. */
void net_init(struct net *net, enum net_mode mode);

/* Whether slirp4netns is installed (the rootless default, else none). */
bool net_slirp_available(void);

/* Parse "HOST:CTR" (TCP ports, 1 to 65535) into *map. Returns 0, or -1
 * with the reason in why. */
int net_parse_port(const char *text, struct port_map *map, char *why,
		   size_t why_len);

/* In the runtime, before the child starts: reap what dead runtimes left
 * (leases, their rules, and with the last lease the bridge and the
 * table), in every mode; then in bridge mode lease an address and hold
 * every published host port, so that a port taken already fails here.
 * Returns 0, or -1 after saying why, having released what it took. */
int net_reserve(struct net *net);

/* In the runtime, once the child exists (net->pid): give it its network
 * as net->mode says. Bridge: the bridge and NAT, the veth pair, its end
 * moved in as eth0 with the leased address, up, the default route, the
 * published ports. slirp4netns: started for the child, ports forwarded.
 * Returns 0, or -1 after saying why; net_teardown() then removes what it
 * made. */
int net_setup(struct net *net);

/* In the child, in its new network namespace: bring lo up. Dies on
 * failure. */
void setup_lo(void);

/* In the child, before it enters its root merged: write the container's
 * /etc/hostname, /etc/hosts and /etc/resolv.conf in net->dir and bind
 * them over merged's, so the image stays untouched. Dies on failure. */
void setup_etc_files(const struct net *net, const char *merged);

/* In the runtime, once the container has ended (or set-up failed half
 * way): remove the veth, the rules, the lease (the last container's
 * takes the bridge and the table), stop slirp4netns, let go of the
 * ports. Returns 0, or -1 after saying why (it still removes
 * what it can). */
int net_teardown(struct net *net);

#endif
