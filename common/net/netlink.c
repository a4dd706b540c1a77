#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/netlink.h"

/* Close fd keeping errno. */
static void close_keep(int fd)
{
	int saved = errno;
	close(fd);
	errno = saved;
}

/* Open and bind a route netlink socket in our namespace. */
static int open_here(struct nl *nl)
{
	nl->sock = mnl_socket_open(NETLINK_ROUTE);
	if (!nl->sock)
		return -1;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int saved = errno;
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		errno = saved;
		return -1;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	return 0;
}

int nl_open(struct nl *nl, int netns_fd)
{
	nl->sock = NULL;
	if (netns_fd < 0)
		return open_here(nl);
	/* A socket belongs to the namespace it was made in: step into the
	 * target, make it, step back. Only this thread moves. */
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -1;
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		close_keep(home);
		return -1;
	}
	int rc = open_here(nl);
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
	if (nl->sock) {
		int saved = errno;
		mnl_socket_close(nl->sock);
		errno = saved;
	}
	nl->sock = NULL;
}

/* Send the request nlh (asking for an acknowledgement) and read answers
 * until the kernel acknowledges it or refuses it; cb, when not NULL,
 * sees each answer that carries data. Returns 0, or -1 with the
 * kernel's errno. */
static int talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return -1;
		/* MNL_CB_STOP on the acknowledgement, MNL_CB_ERROR with
		 * errno set from a refusal. */
		int rc =
		    mnl_cb_run(buf, (size_t)n, nl->seq, nl->portid, cb, data);
		if (rc <= MNL_CB_STOP)
			return rc == MNL_CB_ERROR ? -1 : 0;
	}
}

/* A link request of type with flags, for the link name (or for none
 * when name is NULL). */
static struct nlmsghdr *link_request(char *buf, int type, int flags,
				     const char *name)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (unsigned short)type;
	nlh->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
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

static int index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	*(int *)data = ifi->ifi_index;
	return MNL_CB_OK;
}

int nl_link_index(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int index = 0;

	if (check_name(name) < 0)
		return -1;
	struct nlmsghdr *nlh = link_request(buf, RTM_GETLINK, 0, name);
	if (talk(nl, nlh, index_cb, &index) < 0)
		return -1;
	if (index <= 0) {
		errno = ENODEV;
		return -1;
	}
	return index;
}

int nl_bridge_add(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	if (check_name(name) < 0)
		return -1;
	/* NLM_F_EXCL: a bridge made at the same time by another container
	 * answers EEXIST, not a half-made second one. */
	struct nlmsghdr *nlh =
	    link_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	if (talk(nl, nlh, NULL, NULL) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Put the namespace a new link is made in: the file netns_fd, else the
 * one of process pid, else (-1 and 0) none, ours. */
static void put_netns(struct nlmsghdr *nlh, int netns_fd, pid_t pid)
{
	if (netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	else if (pid > 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)pid);
}

/* One transmit and one receive queue: a veth is given one per CPU at
 * first and cut down to one once registered, and each cut waits for an
 * RCU grace period (synchronize_net()). */
static void put_one_queue(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
}

int nl_veth_add(struct nl *nl, const char *name, const char *peer, int netns_fd,
		pid_t pid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	if (check_name(name) < 0 || check_name(peer) < 0)
		return -1;
	struct nlmsghdr *nlh =
	    link_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
	put_one_queue(nlh);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The peer is described by a link message of its own, nested: its
	 * name, its queues, and the namespace it is born in. */
	struct nlattr *p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	put_one_queue(nlh);
	put_netns(nlh, netns_fd, pid);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return talk(nl, nlh, NULL, NULL);
}

int nl_link_set_master(struct nl *nl, const char *name, const char *master)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	int index = nl_link_index(nl, master);
	if (index < 0)
		return -1;
	struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, 0, name);
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)index);
	return talk(nl, nlh, NULL, NULL);
}

int nl_link_up(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	if (check_name(name) < 0)
		return -1;
	struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, 0, name);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP; /* only this flag changes */
	return talk(nl, nlh, NULL, NULL);
}

int nl_addr_add(struct nl *nl, const char *name, struct in_addr addr,
		int prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	int index = nl_link_index(nl, name);
	if (index < 0)
		return -1;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)index;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer's on a
	 * point-to-point link, the same on any other. */
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	if (talk(nl, nlh, NULL, NULL) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int nl_route_default(struct nl *nl, struct in_addr gw)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0; /* 0.0.0.0/0: the default */
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT; /* as `ip route add` marks it */
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
	return talk(nl, nlh, NULL, NULL);
}

int nl_link_del(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	if (check_name(name) < 0)
		return -1;
	struct nlmsghdr *nlh = link_request(buf, RTM_DELLINK, 0, name);
	if (talk(nl, nlh, NULL, NULL) < 0 && errno != ENODEV)
		return -1;
	return 0;
}
