/* Route netlink (man 7 rtnetlink), spoken through nlmsg.h: the links,
 * addresses and routes stage 14 sets up, each one request to the kernel
 * and its answer. A socket works on the network namespace it was opened
 * in, whichever namespace the process moves to afterwards, so one socket
 * per namespace does all of a namespace's work. */
#ifndef MINIDOCKER_NETLINK_H
#define MINIDOCKER_NETLINK_H

#include <netinet/in.h>
#include <sys/types.h>

#include "net/nlmsg.h"

/* An open route netlink socket. */
struct nl {
	struct nlsock sock;
};

/* Open a socket in the network namespace netns_fd (a /proc/PID/ns/net
 * or a bind mount of one), or in ours when netns_fd is -1. Returns 0, or
 * -1 with errno. */
int nl_open(struct nl *nl, int netns_fd);

/* The same, in the network namespace of process pid (0: ours). */
int nl_open_pid(struct nl *nl, pid_t pid);

/* Close the socket (nothing when it is not open). */
void nl_close(struct nl *nl);

/* The index of the link name. Returns it, or -1 with errno (ENODEV when
 * there is no such link). */
int nl_link_index(struct nl *nl, const char *name);

/* Create a bridge called name; one already there is fine. Returns 0, or
 * -1 with errno. */
int nl_bridge_add(struct nl *nl, const char *name);

/* Create a veth pair: name here, and its peer in the network namespace
 * of the file netns_fd or, when it is -1, of process pid (here too when
 * that is 0). Made there, the peer is never moved: a move makes the
 * kernel wait for RCU grace periods, tens of milliseconds on a busy
 * host. Returns 0, or -1 with errno (EEXIST: one of the names is
 * taken). */
int nl_veth_add(struct nl *nl, const char *name, const char *peer, int netns_fd,
		pid_t pid);

/* Attach the link name to the bridge master. Returns 0, or -1 with errno. */
int nl_link_set_master(struct nl *nl, const char *name, const char *master);

/* Bring the link name up. Returns 0, or -1 with errno. */
int nl_link_up(struct nl *nl, const char *name);

/* Give the link name the IPv4 address addr/prefix; one it already has
 * is fine. Returns 0, or -1 with errno. */
int nl_addr_add(struct nl *nl, const char *name, struct in_addr addr,
		int prefix);

/* Add the default route through gateway gw (IPv4). Returns 0, or -1
 * with errno. */
int nl_route_default(struct nl *nl, struct in_addr gw);

/* Delete the link name (a veth takes its peer with it); one already gone
 * is fine. Returns 0, or -1 with errno. */
int nl_link_del(struct nl *nl, const char *name);

#endif
