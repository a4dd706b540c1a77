#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/nlmsg.h"

/* Close fd keeping errno. */
static void close_keep(int fd)
{
	int saved = errno;
	close(fd);
	errno = saved;
}

int nl_open(struct nl *nl, int netns_fd)
{
	nl->sock.fd = -1;
	if (netns_fd < 0)
		return nlsock_open(&nl->sock, NETLINK_ROUTE);
	/* A socket belongs to the namespace it was made in: step into the
	 * target, make it, step back. Only this thread moves. */
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -1;
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		close_keep(home);
		return -1;
	}
	int rc = nlsock_open(&nl->sock, NETLINK_ROUTE);
	int saved = errno;
	if (setns(home, CLONE_NEWNET) < 0) {
		/* Stuck in the other namespace: nothing after this may
		 * run as if at home. */
		saved = errno;
		nl_close(nl);
		rc = -1;
	}
	close(home);
	errno = saved;
	return rc;
}

int nl_open_pid(struct nl *nl, pid_t pid)
{
	char path[64];
	if (pid == 0)
		return nl_open(nl, -1);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = nl_open(nl, fd);
	close_keep(fd);
	return rc;
}

void nl_close(struct nl *nl)
{
	nlsock_close(&nl->sock);
}

/* Start a link request of type with flags, for the link name (or for
 * none when name is NULL); the kernel is asked to acknowledge it. */
static void link_request(struct nlreq *r, int type, int flags, const char *name)
{
	nlreq_init(r, type, NLM_F_ACK | flags);
	nlreq_put(r, sizeof(struct ifinfomsg)); /* zeroes: AF_UNSPEC */
	if (name)
		nlreq_attr_str(r, IFLA_IFNAME, name);
}

/* Names longer than the kernel takes: refused here, not cut there. */
static int check_name(const char *name)
{
	if (strlen(name) >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The index in the reply to RTM_GETLINK. */
static void take_index(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	if (nlh->nlmsg_type == RTM_NEWLINK &&
	    nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifi)))
		*(int *)data = ifi->ifi_index;
}

int nl_link_index(struct nl *nl, const char *name)
{
	struct nlreq r;
	int index = 0;

	if (check_name(name) < 0)
		return -1;
	link_request(&r, RTM_GETLINK, 0, name);
	if (nlsock_talk(&nl->sock, &r, take_index, &index) < 0)
		return -1;
	if (index <= 0) {
		errno = ENODEV;
		return -1;
	}
	return index;
}

int nl_bridge_add(struct nl *nl, const char *name)
{
	struct nlreq r;

	if (check_name(name) < 0)
		return -1;
	/* NLM_F_EXCL: a bridge made at the same time by another container
	 * answers EEXIST, not a half-made second one. */
	link_request(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
	size_t info = nlreq_nest(&r, IFLA_LINKINFO);
	nlreq_attr_str(&r, IFLA_INFO_KIND, "bridge");
	nlreq_nest_end(&r, info);
	if (nlsock_talk(&nl->sock, &r, NULL, NULL) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Put the namespace a new link is made in: the file netns_fd, else the
 * one of process pid, else (-1 and 0) none, ours. */
static void put_netns(struct nlreq *r, int netns_fd, pid_t pid)
{
	if (netns_fd >= 0)
		nlreq_attr_u32(r, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	else if (pid > 0)
		nlreq_attr_u32(r, IFLA_NET_NS_PID, (uint32_t)pid);
}

/* One transmit and one receive queue: a veth is given one per CPU at
 * first and cut down to one once registered, and each cut waits for an
 * RCU grace period (synchronize_net()). */
static void put_one_queue(struct nlreq *r)
{
	nlreq_attr_u32(r, IFLA_NUM_TX_QUEUES, 1);
	nlreq_attr_u32(r, IFLA_NUM_RX_QUEUES, 1);
}

int nl_veth_add(struct nl *nl, const char *name, const char *peer, int netns_fd,
		pid_t pid)
{
	struct nlreq r;

	if (check_name(name) < 0 || check_name(peer) < 0)
		return -1;
	link_request(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
	put_one_queue(&r);
	size_t info = nlreq_nest(&r, IFLA_LINKINFO);
	nlreq_attr_str(&r, IFLA_INFO_KIND, "veth");
	size_t data = nlreq_nest(&r, IFLA_INFO_DATA);
	/* The peer is described by a link message of its own, nested: its
	 * header (zeroes: family AF_UNSPEC), its name, its queues, and the
	 * namespace it is born in. */
	size_t p = nlreq_nest(&r, VETH_INFO_PEER);
	nlreq_put(&r, sizeof(struct ifinfomsg));
	nlreq_attr_str(&r, IFLA_IFNAME, peer);
	put_one_queue(&r);
	put_netns(&r, netns_fd, pid);
	nlreq_nest_end(&r, p);
	nlreq_nest_end(&r, data);
	nlreq_nest_end(&r, info);
	return nlsock_talk(&nl->sock, &r, NULL, NULL);
}

int nl_link_set_master(struct nl *nl, const char *name, const char *master)
{
	struct nlreq r;

	int index = nl_link_index(nl, master);
	if (index < 0)
		return -1;
	link_request(&r, RTM_NEWLINK, 0, name);
	nlreq_attr_u32(&r, IFLA_MASTER, (uint32_t)index);
	return nlsock_talk(&nl->sock, &r, NULL, NULL);
}

int nl_link_up(struct nl *nl, const char *name)
{
	struct nlreq r;

	if (check_name(name) < 0)
		return -1;
	link_request(&r, RTM_NEWLINK, 0, name);
	struct ifinfomsg *ifi = NLMSG_DATA(&r.buf.nlh);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP; /* only this flag changes */
	return nlsock_talk(&nl->sock, &r, NULL, NULL);
}

int nl_addr_add(struct nl *nl, const char *name, struct in_addr addr,
		int prefix)
{
	struct nlreq r;

	int index = nl_link_index(nl, name);
	if (index < 0)
		return -1;
	nlreq_init(&r, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = nlreq_put(&r, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)index;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer's on a
	 * point-to-point link, the same on any other. */
	nlreq_attr(&r, IFA_LOCAL, &addr, sizeof(addr));
	nlreq_attr(&r, IFA_ADDRESS, &addr, sizeof(addr));
	if (nlsock_talk(&nl->sock, &r, NULL, NULL) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int nl_route_default(struct nl *nl, struct in_addr gw)
{
	struct nlreq r;

	nlreq_init(&r, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rtm = nlreq_put(&r, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0; /* 0.0.0.0/0: the default */
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT; /* as `ip route add` marks it */
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	nlreq_attr(&r, RTA_GATEWAY, &gw, sizeof(gw));
	return nlsock_talk(&nl->sock, &r, NULL, NULL);
}

int nl_link_del(struct nl *nl, const char *name)
{
	struct nlreq r;

	if (check_name(name) < 0)
		return -1;
	link_request(&r, RTM_DELLINK, 0, name);
	if (nlsock_talk(&nl->sock, &r, NULL, NULL) < 0 && errno != ENODEV)
		return -1;
	return 0;
}
