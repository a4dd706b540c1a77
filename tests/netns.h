/* The network a test makes for itself (DESIGN.md, "Networks in tests"):
 * processes waiting in network namespaces of their own ("boxes"), an
 * "outside" host joined to ours by a veth of the test's, and TCP
 * servers and clients run in any of those namespaces. Shared by suite 14
 * (tests/suite_net.c) and stage 14's plumbing test (tests/net/). */
#ifndef MINIDOCKER_NETNS_H
#define MINIDOCKER_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Our side of the link to the outside host, and the outside host's
 * address; no route leads back from there to the containers, so only
 * NAT answers them. */
#define NETNS_HOST_ADDR	   "10.99.0.1"
#define NETNS_OUTSIDE_ADDR "10.99.0.2"

/* A process waiting in namespaces of its own until hold is closed. */
struct box {
	pid_t pid;
	int hold;
};

/* With -v: each check_reaches() says what it got. */
extern bool netns_verbose;

/* A box: a child that leaves our network namespace (and, with userns,
 * our user namespace first, mapping root to 65534 as an unprivileged
 * runtime would), runs in_box (when not NULL; lo up, say), and waits.
 * Returns 0, or -1. */
int box_spawn(struct box *b, bool userns, void (*in_box)(void));

/* Let the box end, and reap it. */
void box_end(struct box *b);

/* Bring lo up in the namespace we are in. Returns 0, or -1 with errno. */
int netns_lo_up(void);

/* Join our network namespace to the outside box's by a veth of the
 * test's own (uplink here, eth0 there), NETNS_HOST_ADDR and
 * NETNS_OUTSIDE_ADDR, both up. Returns 0, or -1 with errno. */
int netns_link_outside(const struct box *outside);

/* Run argv in pid's network namespace (0: ours), its stdout and stderr
 * into out. Returns its exit status, or -1. */
int netns_run(pid_t pid, char *const argv[], char *out, size_t len);

/* Read what fd gives until EOF or 15 s, into out (NUL-terminated). */
void netns_read_all(int fd, char *out, size_t len);

/* A TCP server in pid's namespace (0: ours) on port: it answers one
 * connection within 15 s with "from <the peer's address>" and ends.
 * Returns its pid once it listens, or -1. */
pid_t netns_serve_once(pid_t ns, uint16_t port);

/* Connect from pid's namespace (0: ours) to addr:port within 5 s, send
 * request (when not NULL), and read the answer to its end into out, or
 * the error ("error: ...") when there is none. Returns 0 when it got an
 * answer. */
int netns_ask(pid_t ns, const char *addr, uint16_t port, const char *request,
	      char *out, size_t len);

/* Ask addr:port from ns while a server in server_ns on server_port
 * answers; checks the answer is want (or, with want NULL, any answer),
 * saying what it got otherwise. */
void check_reaches(pid_t ns, const char *addr, uint16_t port, pid_t server_ns,
		   uint16_t server_port, const char *want, const char *what);

/* Whether out lists exactly the links named in want (space-separated),
 * as `ip -o link` prints them ("2: eth0@if5: <...>"); says which it
 * lists when not. */
bool netns_links_are(const char *out, const char *want);

#endif
