#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "file.h"
#include "net/nft.h"
#include "net/nlmsg.h"

/* The room the longest transaction here needs: two chains and two
 * rules for each of a container's ports. */
#define NFT_CMD_MAX 65536

/* Run the commands in cmd as one transaction (all or nothing); with out,
 * copy what nft prints there. Returns 0, or -1 with the first line of
 * nft's complaint in why and errno EINVAL (ENOENT when it names a missing
 * object). */
static int nft_run(const char *cmd, char *out, size_t out_len, char *why,
		   size_t why_len)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		snprintf(why, why_len, "cannot start libnftables");
		errno = ENOMEM;
		return -1;
	}
	/* Keep what it prints: nothing reaches our stdout or stderr. */
	if (nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0) {
		nft_ctx_free(ctx);
		snprintf(why, why_len, "cannot start libnftables");
		errno = ENOMEM;
		return -1;
	}
	int rc = nft_run_cmd_from_buffer(ctx, cmd) == 0 ? 0 : -1;
	if (rc == 0 && out)
		snprintf(out, out_len, "%s", nft_ctx_get_output_buffer(ctx));
	if (rc < 0) {
		const char *err = nft_ctx_get_error_buffer(ctx);
		const char *p = err && *err ? err : "nft refused it\n";
		/* "Error: Could not process rule: ...\n<command>\n^^^". */
		if (!strncmp(p, "Error: ", 7))
			p += 7;
		size_t n = strcspn(p, "\n");
		snprintf(why, why_len, "%.*s", (int)n, p);
		errno = strstr(p, "No such file") ? ENOENT : EINVAL;
	}
	int saved = errno;
	nft_ctx_free(ctx);
	errno = saved;
	return rc;
}

/* Append to buf (of size NFT_CMD_MAX) at *len. Returns 0, or -1 when it
 * does not fit. */
__attribute__((format(printf, 3, 4))) static int add(char *buf, size_t *len,
						     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, NFT_CMD_MAX - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= NFT_CMD_MAX - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

static void count_rule(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(int *)data;
}

/* How many rules the chain of table ip NFT_TABLE holds: one dump of the
 * chain's rules, asked of the kernel over nfnetlink (nlmsg.h), 0 when the
 * table or the chain is missing. Returns it, or -1 with errno. */
static int count_rules(const char *chain)
{
	struct nlsock s;
	struct nlreq r;
	int n = 0;

	if (nlsock_open(&s, NETLINK_NETFILTER) < 0)
		return -1;
	nlreq_init(&r, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETRULE, NLM_F_DUMP);
	struct nfgenmsg *nfg = nlreq_put(&r, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_IPV4;
	nfg->version = NFNETLINK_V0;
	/* The kernel dumps only the rules of this table and chain. */
	nlreq_attr_str(&r, NFTA_RULE_TABLE, NFT_TABLE);
	nlreq_attr_str(&r, NFTA_RULE_CHAIN, chain);
	int rc = nlsock_talk(&s, &r, count_rule, &n);
	nlsock_close(&s);
	return rc < 0 ? -1 : n;
}

int nft_setup_nat(const char *subnet, const char *bridge, char *why,
		  size_t why_len)
{
	static char cmd[NFT_CMD_MAX];
	size_t len = 0;

	/* Done already, by the container that made the table (the usual
	 * case): the chain gets its two rules in the transaction that makes
	 * it, below. One look costs a netlink round trip; going through
	 * libnftables costs loading it, listing the ruleset into its cache,
	 * parsing, and a commit whose flush makes closing its socket wait
	 * for an RCU grace period: 10-20 ms. */
	if (count_rules("postrouting") == 2)
		return 0;
	/* add is a no-op on what exists; flush then add in the same
	 * transaction leaves exactly these rules, however many containers
	 * start at once. Priority 100 is srcnat's. */
	if (add(cmd, &len,
		"add table ip " NFT_TABLE "\n"
		"add chain ip " NFT_TABLE " postrouting { type nat hook "
		"postrouting priority 100; policy accept; }\n"
		"flush chain ip " NFT_TABLE " postrouting\n"
		"add rule ip " NFT_TABLE " postrouting ip saddr %s "
		"oifname != \"%s\" masquerade\n"
		/* The host reaching a published port through 127.0.0.1:
		 * the container would answer 127.0.0.1, its own loopback;
		 * it answers the bridge's address instead. */
		"add rule ip " NFT_TABLE " postrouting ip saddr 127.0.0.0/8 "
		"oifname \"%s\" masquerade\n",
		subnet, bridge, bridge) < 0) {
		snprintf(why, why_len, "the rules are too long");
		errno = E2BIG;
		return -1;
	}
	return nft_run(cmd, NULL, 0, why, why_len);
}

/* The names of the container's chains: by its address, which no live
 * container shares ("pre_10_77_0_2", "out_10_77_0_2"). */
static void chain_suffix(struct in_addr addr, char *buf, size_t len)
{
	inet_ntop(AF_INET, &addr, buf, (socklen_t)len);
	for (char *p = buf; *p; p++)
		if (*p == '.')
			*p = '_';
}

/* The container's two chains made (when missing) and emptied: prerouting
 * for what comes from outside, output for what the host itself sends.
 * Priority -100 is dstnat's. */
static int empty_chains(char *cmd, size_t *len, const char *sfx)
{
	static const char *const hooks[][2] = {{"pre", "prerouting"},
					       {"out", "output"}};
	if (add(cmd, len, "add table ip " NFT_TABLE "\n") < 0)
		return -1;
	for (size_t i = 0; i < 2; i++)
		if (add(cmd, len,
			"add chain ip " NFT_TABLE " %s_%s { type nat hook %s "
			"priority -100; policy accept; }\n"
			"flush chain ip " NFT_TABLE " %s_%s\n",
			hooks[i][0], sfx, hooks[i][1], hooks[i][0], sfx) < 0)
			return -1;
	return 0;
}

int nft_publish(struct in_addr addr, const struct port_map *ports,
		size_t n_ports, char *why, size_t why_len)
{
	static char cmd[NFT_CMD_MAX];
	char sfx[INET_ADDRSTRLEN], to[INET_ADDRSTRLEN];
	size_t len = 0;

	chain_suffix(addr, sfx, sizeof(sfx));
	inet_ntop(AF_INET, &addr, to, sizeof(to));
	int rc = empty_chains(cmd, &len, sfx);
	for (size_t i = 0; rc == 0 && i < n_ports; i++)
		/* fib daddr type local: to any address of this host, and
		 * only to those (not what a container sends elsewhere). */
		rc =
		    add(cmd, &len,
			"add rule ip " NFT_TABLE " pre_%s fib daddr type local "
			"tcp dport %u dnat to %s:%u\n"
			"add rule ip " NFT_TABLE " out_%s fib daddr type local "
			"tcp dport %u dnat to %s:%u\n",
			sfx, ports[i].host, to, ports[i].container, sfx,
			ports[i].host, to, ports[i].container);
	if (rc < 0) {
		snprintf(why, why_len, "too many ports to publish");
		errno = E2BIG;
		return -1;
	}
	return nft_run(cmd, NULL, 0, why, why_len);
}

int nft_unpublish(struct in_addr addr, char *why, size_t why_len)
{
	static char cmd[NFT_CMD_MAX];
	char sfx[INET_ADDRSTRLEN];
	size_t len = 0;

	chain_suffix(addr, sfx, sizeof(sfx));
	/* nft 1.0.6 has no `destroy`: make them (empty) if missing, then
	 * delete them, in one transaction. */
	if (empty_chains(cmd, &len, sfx) < 0 ||
	    add(cmd, &len,
		"delete chain ip " NFT_TABLE " pre_%s\n"
		"delete chain ip " NFT_TABLE " out_%s\n",
		sfx, sfx) < 0) {
		snprintf(why, why_len, "the rules are too long");
		errno = E2BIG;
		return -1;
	}
	return nft_run(cmd, NULL, 0, why, why_len);
}

int nft_remove_table(char *why, size_t why_len)
{
	/* As in nft_unpublish(): make it if missing, then delete it, in one
	 * transaction; its chains and rules go with it. */
	return nft_run("add table ip " NFT_TABLE "\n"
		       "delete table ip " NFT_TABLE "\n",
		       NULL, 0, why, why_len);
}

int nft_list_table(char *out, size_t len, char *why, size_t why_len)
{
	if (nft_run("list table ip " NFT_TABLE "\n", out, len, why, why_len) ==
	    0)
		return 0;
	if (errno == ENOENT) {
		*out = '\0';
		return 0;
	}
	return -1;
}

int sysctl_write(const char *key, const char *value)
{
	char path[512];
	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	return write_file(path, value);
}
