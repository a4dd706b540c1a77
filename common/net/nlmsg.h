/* Netlink by hand, from the kernel's uapi headers (man 7 netlink): a
 * socket, a request built in a buffer (its header, the family's header,
 * attributes, nested ones), and the exchange: send it, then read the
 * kernel's answers to it until it acknowledges, refuses, or ends its
 * dump. What route netlink (netlink.c) and nfnetlink (nft.c) need of it
 * and no more. */
#ifndef MINIDOCKER_NLMSG_H
#define MINIDOCKER_NLMSG_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

/* An open netlink socket: its port id, which the kernel's answers are
 * addressed to, and the sequence number of its last request. */
struct nlsock {
	int fd; /* -1 when closed */
	unsigned int portid, seq;
};

/* Open and bind a netlink socket of protocol (NETLINK_ROUTE, ...) in the
 * calling thread's network namespace. Returns 0, or -1 with errno (and
 * fd -1). */
int nlsock_open(struct nlsock *s, int protocol);

/* Close the socket (nothing when it is not open), keeping errno. */
void nlsock_close(struct nlsock *s);

/* The largest request: stage 14's biggest, a veth pair, takes under 200
 * bytes. */
#define NLREQ_MAX 1024

/* A request being built: one netlink message. full says something did
 * not fit, and nlsock_talk() then refuses to send it. */
struct nlreq {
	union {
		struct nlmsghdr nlh;
		char bytes[NLREQ_MAX];
	} buf;
	int full;
};

/* Start the request: a message of type with flags (NLM_F_REQUEST is
 * added), nothing after its header yet. */
void nlreq_init(struct nlreq *r, int type, int flags);

/* Room for len bytes at the end of the message, zeroed and aligned: a
 * family's header (struct ifinfomsg, ...). Returns it, or NULL when it
 * does not fit (never the first put after nlreq_init()). */
void *nlreq_put(struct nlreq *r, size_t len);

/* Append the attribute type holding len bytes of data. */
void nlreq_attr(struct nlreq *r, int type, const void *data, size_t len);

/* The same for a string (its NUL included) and a 32-bit number. */
void nlreq_attr_str(struct nlreq *r, int type, const char *s);
void nlreq_attr_u32(struct nlreq *r, int type, uint32_t v);

/* Open a nested attribute of type: what is appended until
 * nlreq_nest_end() with what this returns lies inside it. */
size_t nlreq_nest(struct nlreq *r, int type);
void nlreq_nest_end(struct nlreq *r, size_t nest);

/* Called with each answer that carries data (a dump's entries, a get's
 * reply). */
typedef void nl_answer_fn(const struct nlmsghdr *nlh, void *data);

/* Send the request r and read the answers to it, giving those with data
 * to cb (when not NULL), until the kernel acknowledges it (r asked so,
 * NLM_F_ACK), refuses it, or ends its dump (NLM_F_DUMP). r must ask for
 * one or the other: the kernel answers a success with silence otherwise,
 * and this would wait for ever. (It cannot tell from the flags: a new
 * object's NLM_F_EXCL is a get's NLM_F_MATCH, half of NLM_F_DUMP.)
 * Returns 0, or -1 with errno: the kernel's refusal, or the socket's. */
int nlsock_talk(struct nlsock *s, struct nlreq *r, nl_answer_fn *cb,
		void *data);

#endif
