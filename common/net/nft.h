/* The firewall rules of stage 14, through libnftables (the library behind
 * the nft command), all in one table of the project's own, `ip
 * minidocker`: masquerading for the containers' subnet, and for each
 * container that publishes ports two chains of its own, named by its
 * address, that go with it. Nothing outside the table is touched. */
#ifndef MINIDOCKER_NFT_H
#define MINIDOCKER_NFT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define NFT_TABLE "minidocker" /* family ip */

/* A published port: connections to host on the host go to container on
 * the container's address (TCP). */
struct port_map {
	uint16_t host, container;
};

/* Make the table when missing, with its masquerading: what leaves subnet
 * (CIDR, "10.77.0.0/24") by any interface but bridge leaves with the
 * address of that interface, and what the host sends from its loopback
 * to a container (a published port reached through 127.0.0.1) leaves
 * with the bridge's. Nothing is done when the chain holds its two rules
 * already; else the rules are made anew in one transaction, so it is
 * safe to repeat and to run in parallel. Returns 0, or -1 with the
 * reason in why. */
int nft_setup_nat(const char *subnet, const char *bridge, char *why,
		  size_t why_len);

/* Publish ports for the container at addr: DNAT of the connections to
 * an address of the host (from outside: prerouting; from the host
 * itself, 127.0.0.1 included: output), in two chains of its own. Returns
 * 0, or -1 with the reason in why. */
int nft_publish(struct in_addr addr, const struct port_map *ports,
		size_t n_ports, char *why, size_t why_len);

/* Remove the chains of the container at addr; none there is fine.
 * Returns 0, or -1 with the reason in why. */
int nft_unpublish(struct in_addr addr, char *why, size_t why_len);

/* Remove the table with everything in it, once no container uses it;
 * none there is fine. Returns 0, or -1 with the reason in why. */
int nft_remove_table(char *why, size_t why_len);

/* The table as `nft list table` prints it into out ("" when there is no
 * table), for the tests and for --verbose. Returns 0, or -1 with why. */
int nft_list_table(char *out, size_t len, char *why, size_t why_len);

/* Write value to /proc/sys/key (key as a path: "net/ipv4/ip_forward"),
 * in the network namespace we run in. Returns 0, or -1 with errno. */
int sysctl_write(const char *key, const char *value);

#endif
