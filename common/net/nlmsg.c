#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/nlmsg.h"

int nlsock_open(struct nlsock *s, int protocol)
{
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK};
	socklen_t len = sizeof(addr);

	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
	if (s->fd < 0)
		return -1;
	/* Port id 0: the kernel picks a free one, which getsockname()
	 * tells, and addresses its answers to. */
	if (bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&addr, &len) < 0) {
		nlsock_close(s);
		return -1;
	}
	s->portid = addr.nl_pid;
	s->seq = (unsigned int)time(NULL);
	return 0;
}

void nlsock_close(struct nlsock *s)
{
	if (s->fd >= 0) {
		int saved = errno;
		close(s->fd);
		errno = saved;
	}
	s->fd = -1;
}

void nlreq_init(struct nlreq *r, int type, int flags)
{
	memset(&r->buf.nlh, 0, sizeof(r->buf.nlh));
	r->buf.nlh.nlmsg_len = NLMSG_HDRLEN;
	r->buf.nlh.nlmsg_type = (uint16_t)type;
	r->buf.nlh.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	r->full = 0;
}

void *nlreq_put(struct nlreq *r, size_t len)
{
	size_t at = r->buf.nlh.nlmsg_len; /* aligned, as each put leaves it */

	/* Headers and attributes start on 4-byte boundaries (NLMSG_ALIGN,
	 * NLA_ALIGN: the same); the padding is zeroes. */
	if (r->full || len > NLREQ_MAX || NLMSG_ALIGN(len) > NLREQ_MAX - at) {
		r->full = 1;
		return NULL;
	}
	memset(r->buf.bytes + at, 0, NLMSG_ALIGN(len));
	r->buf.nlh.nlmsg_len = (uint32_t)(at + NLMSG_ALIGN(len));
	return r->buf.bytes + at;
}

void nlreq_attr(struct nlreq *r, int type, const void *data, size_t len)
{
	/* An attribute: its length (header and data, no padding), its
	 * type, its data. */
	struct nlattr *nla = nlreq_put(r, NLA_HDRLEN + len);
	if (!nla)
		return;
	nla->nla_len = (uint16_t)(NLA_HDRLEN + len);
	nla->nla_type = (uint16_t)type;
	memcpy((char *)nla + NLA_HDRLEN, data, len);
}

void nlreq_attr_str(struct nlreq *r, int type, const char *s)
{
	nlreq_attr(r, type, s, strlen(s) + 1);
}

void nlreq_attr_u32(struct nlreq *r, int type, uint32_t v)
{
	nlreq_attr(r, type, &v, sizeof(v));
}

size_t nlreq_nest(struct nlreq *r, int type)
{
	size_t at = r->buf.nlh.nlmsg_len;
	struct nlattr *nla = nlreq_put(r, NLA_HDRLEN);
	/* NLA_F_NESTED: the kernel's strict parsers want it said. */
	if (nla)
		nla->nla_type = (uint16_t)(NLA_F_NESTED | type);
	return at;
}

void nlreq_nest_end(struct nlreq *r, size_t nest)
{
	/* A nest is an attribute whose data is the attributes after its
	 * header: its length is known only now. */
	if (r->full)
		return;
	struct nlattr *nla = (struct nlattr *)(r->buf.bytes + nest);
	nla->nla_len = (uint16_t)(r->buf.nlh.nlmsg_len - nest);
}

/* Take one message of the kernel's answer. Returns 1 to read on, 0 at
 * the end (the acknowledgement, a dump's end), -1 with errno on a
 * refusal. */
static int take(const struct nlsock *s, const struct nlmsghdr *nlh,
		nl_answer_fn *cb, void *data)
{
	const int *error = NLMSG_DATA(nlh); /* first in struct nlmsgerr */
	int has_error = nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*error));

	/* An answer to another request (an earlier one given up on) or
	 * for another socket: not ours. */
	if (nlh->nlmsg_seq != s->seq || nlh->nlmsg_pid != s->portid)
		return 1;
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		/* Error 0 is the acknowledgement; else minus an errno. */
		if (!has_error) {
			errno = EPROTO;
			return -1;
		}
		if (*error == 0)
			return 0;
		errno = -*error;
		return -1;
	case NLMSG_DONE:
		/* A dump's end, with how it ended when the kernel says. */
		if (has_error && *error < 0) {
			errno = -*error;
			return -1;
		}
		return 0;
	}
	if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && cb)
		cb(nlh, data);
	return 1;
}

int nlsock_talk(struct nlsock *s, struct nlreq *r, nl_answer_fn *cb, void *data)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK}; /* port 0 */
	/* 8192 bytes, as man 7 netlink's example reads with: what the
	 * kernel sends fits, and MSG_TRUNC below tells if it did not. */
	union {
		struct nlmsghdr nlh;
		char bytes[8192];
	} buf;

	if (r->full) {
		errno = EMSGSIZE;
		return -1;
	}
	r->buf.nlh.nlmsg_seq = ++s->seq;
	if (sendto(s->fd, &r->buf, r->buf.nlh.nlmsg_len, 0,
		   (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -1;
	for (;;) {
		struct sockaddr_nl from;
		socklen_t from_len = sizeof(from);
		/* MSG_TRUNC: the length of the datagram, even if longer than
		 * buf, rather than silently what fit. */
		ssize_t n =
		    recvfrom(s->fd, buf.bytes, sizeof(buf.bytes), MSG_TRUNC,
			     (struct sockaddr *)&from, &from_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if ((size_t)n > sizeof(buf.bytes)) {
			errno = EMSGSIZE;
			return -1;
		}
		if (from.nl_pid != 0) /* not the kernel */
			continue;
		/* A datagram holds one or more messages, each aligned. */
		size_t at = 0;
		while (at + NLMSG_HDRLEN <= (size_t)n) {
			const struct nlmsghdr *nlh =
			    (const struct nlmsghdr *)(buf.bytes + at);
			if (nlh->nlmsg_len < NLMSG_HDRLEN ||
			    nlh->nlmsg_len > (size_t)n - at) {
				errno = EPROTO;
				return -1;
			}
			int rc = take(s, nlh, cb, data);
			if (rc <= 0)
				return rc;
			at += NLMSG_ALIGN(nlh->nlmsg_len);
		}
	}
}
