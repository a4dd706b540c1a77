/*
 * Stage 14's network, tested without a stage: common/net/ and the lesson
 * stages/14-net/net.c driven on plain processes, all inside network
 * namespaces this program makes (DESIGN.md, "Networks in tests"):
 *
 *   "host"      this program, moved at once into a network and mount
 *               namespace of its own: the bridge, the NAT table and the
 *               leases are made there;
 *   "outside"   a process in another one, joined to the host by a veth
 *               of the test's own (host 10.99.0.1, outside 10.99.0.2,
 *               and no route back to the containers: only NAT answers);
 *   containers  processes that each unshare a network namespace and
 *               wait, given their network by net_reserve()/net_setup().
 *
 * The machine's own interfaces and firewall are never touched (net.sh
 * compares them before and after). Needs root.
 *
 *   test_net [-v]
 */

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cu_run.h"
#include "error.h"
#include "file.h"
#include "net.h"
#include "net/lease.h"
#include "net/netlink.h"
#include "net/nft.h"
#include "netns.h"
#include "state.h"

#define HOST_ADDR    NETNS_HOST_ADDR
#define OUTSIDE_ADDR NETNS_OUTSIDE_ADDR

static char scratch[256]; /* a directory of our own */
static char run[300];	  /* the leases' run directory */
static bool verbose_on;

static struct box outside = {0, -1};

/* Write text to a new file at path. Returns 0, or -1 with errno. */
static int create_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The NAT table as nft lists it. */
static void table_text(char *out, size_t len)
{
	char why[256];
	if (nft_list_table(out, len, why, sizeof(why)) < 0)
		snprintf(out, len, "(cannot list: %s)", why);
}

/* A container: a box with lo up, then its network as the runtime would
 * give it (net_reserve before the child starts, net_setup after), its
 * namespace named by its pid or, by_fd, by an open file (as stage 16
 * names one). */
static int start_container(struct box *b, struct net *net, const char *name,
			   const char *ports, bool by_fd)
{
	char why[256];
	net_init(net, NET_MODE_BRIDGE);
	net->run = run;
	net->dir = scratch;
	net->hostname = name;
	for (const char *p = ports; p && *p;
	     p += strcspn(p, " ") + !!p[strcspn(p, " ")]) {
		char one[32];
		snprintf(one, sizeof(one), "%.*s", (int)strcspn(p, " "), p);
		if (net_parse_port(one, &net->ports[net->n_ports++], why,
				   sizeof(why)) < 0) {
			printf("\n    %s\n", why);
			return -1;
		}
	}
	if (net_reserve(net) < 0)
		return -1;
	if (box_spawn(b, false, setup_lo) < 0) {
		net_teardown(net);
		return -1;
	}
	net->pid = b->pid;
	if (by_fd) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)b->pid);
		net->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (net_setup(net) < 0) {
		net_teardown(net);
		box_end(b);
		return -1;
	}
	return 0;
}

/*** the bridge suite: container a publishes 8080:80, b nothing ***/

static struct box box_a = {0, -1}, box_b = {0, -1};
static struct net net_a, net_b;
static char addr_a[INET_ADDRSTRLEN], addr_b[INET_ADDRSTRLEN];

static int bridge_init(void)
{
	if (start_container(&box_a, &net_a, "a", "8080:80 8443:443", false) <
		0 ||
	    start_container(&box_b, &net_b, "b", NULL, true) < 0)
		return -1;
	inet_ntop(AF_INET, &net_a.lease.addr, addr_a, sizeof(addr_a));
	inet_ntop(AF_INET, &net_b.lease.addr, addr_b, sizeof(addr_b));
	return 0;
}

static int bridge_clean(void)
{
	if (box_a.pid) {
		net_teardown(&net_a);
		box_end(&box_a);
	}
	if (box_b.pid) {
		net_teardown(&net_b);
		box_end(&box_b);
	}
	return 0;
}

static void test_inside_only_lo_and_eth0(void)
{
	char out[4096];
	char *argv[] = {"ip", "-o", "link", "show", NULL};
	CU_ASSERT_EQUAL_FATAL(netns_run(box_a.pid, argv, out, sizeof(out)), 0);
	CU_ASSERT(netns_links_are(out, "lo eth0"));
	/* Both up (lo by setup_lo() in the child, eth0 by the runtime). */
	CU_ASSERT(strstr(out, "lo: <LOOPBACK,UP") != NULL);
	CU_ASSERT(strstr(out, "eth0@") && strstr(strstr(out, "eth0@"), ",UP"));
}

static void test_eth0_has_leased_address(void)
{
	char out[4096], want[64];
	char *argv[] = {"ip", "-o", "-4", "addr", "show", "dev", "eth0", NULL};
	CU_ASSERT_EQUAL_FATAL(netns_run(box_a.pid, argv, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "inet %s/%d ", addr_a, LEASE_PREFIX);
	if (!strstr(out, want))
		printf("\n    eth0: \"%s\", wanted \"%s\"\n", out, want);
	CU_ASSERT(strstr(out, want) != NULL);
	CU_ASSERT(strcmp(addr_a, addr_b) != 0);
}

static void test_namespace_by_fd_works_too(void)
{
	char out[4096], want[64];
	char *argv[] = {"ip", "-o", "-4", "addr", "show", "dev", "eth0", NULL};
	CU_ASSERT_FATAL(net_b.netns_fd >= 0);
	CU_ASSERT_EQUAL_FATAL(netns_run(box_b.pid, argv, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "inet %s/%d ", addr_b, LEASE_PREFIX);
	if (!strstr(out, want))
		printf("\n    eth0: \"%s\", wanted \"%s\"\n", out, want);
	CU_ASSERT(strstr(out, want) != NULL);
}

static void test_default_route_through_bridge(void)
{
	char out[4096];
	char *argv[] = {"ip", "route", "show", "default", NULL};
	CU_ASSERT_EQUAL_FATAL(netns_run(box_a.pid, argv, out, sizeof(out)), 0);
	const char *want = "default via " LEASE_GATEWAY " dev eth0 ";
	if (strncmp(out, want, strlen(want)))
		printf("\n    route: \"%s\", wanted \"%s...\"\n", out, want);
	CU_ASSERT(!strncmp(out, want, strlen(want)));
}

static void test_host_sees_bridge_and_veth(void)
{
	char out[4096], want[32];
	char *argv[] = {"ip", "-o", "link", "show", "master", NET_BRIDGE, NULL};
	CU_ASSERT_EQUAL_FATAL(netns_run(0, argv, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s %s", net_a.veth, net_b.veth);
	CU_ASSERT(netns_links_are(out, want));
}

static void test_reaches_gateway(void)
{
	char want[64];
	snprintf(want, sizeof(want), "from %s", addr_a);
	check_reaches(box_a.pid, LEASE_GATEWAY, 9001, 0, 9001, want,
		      "container to the host through the gateway");
}

static void test_reaches_outside_through_nat(void)
{
	/* The outside host has no route back to the containers' subnet:
	 * only masquerading (the host's address as the source) answers. */
	check_reaches(box_a.pid, OUTSIDE_ADDR, 9000, outside.pid, 9000,
		      "from " HOST_ADDR, "container to the outside host");
}

static void test_containers_reach_each_other(void)
{
	char want[64];
	snprintf(want, sizeof(want), "from %s", addr_a);
	check_reaches(box_a.pid, addr_b, 7000, box_b.pid, 7000, want,
		      "container a to container b over the bridge");
}

static void test_port_served_to_outside(void)
{
	check_reaches(outside.pid, HOST_ADDR, 8080, box_a.pid, 80,
		      "from " OUTSIDE_ADDR, "outside host to -p 8080:80");
	check_reaches(outside.pid, HOST_ADDR, 8443, box_a.pid, 443,
		      "from " OUTSIDE_ADDR, "outside host to -p 8443:443");
}

static void test_port_served_to_host_loopback(void)
{
	/* Masqueraded to the bridge's address: the container cannot
	 * answer 127.0.0.1, its own loopback. */
	check_reaches(0, "127.0.0.1", 8080, box_a.pid, 80,
		      "from " LEASE_GATEWAY, "host's 127.0.0.1 to -p 8080:80");
}

static void test_port_served_to_host_address(void)
{
	check_reaches(0, HOST_ADDR, 8080, box_a.pid, 80, "from " HOST_ADDR,
		      "host's own address to -p 8080:80");
}

static void test_unpublished_port_is_not_served(void)
{
	char got[256];
	pid_t s = netns_serve_once(box_a.pid, 81);
	CU_ASSERT_FATAL(s > 0);
	int rc = netns_ask(outside.pid, HOST_ADDR, 81, NULL, got, sizeof(got));
	kill(s, SIGKILL);
	waitpid(s, NULL, 0);
	if (rc == 0)
		printf("\n    port 81 answered \"%s\"\n", got);
	CU_ASSERT(rc < 0);
}

static void test_taken_port_is_refused(void)
{
	struct net n;
	char why[128];
	net_init(&n, NET_MODE_BRIDGE);
	n.run = run;
	n.n_ports = 1;
	CU_ASSERT_FATAL(
	    net_parse_port("8080:80", &n.ports[0], why, sizeof(why)) == 0);
	int before = lease_count(run);
	printf("\n    (a refusal is expected on the next line)\n");
	CU_ASSERT(net_reserve(&n) < 0);
	CU_ASSERT_EQUAL(lease_count(run), before); /* its lease went back */
}

static void test_bad_ports_refused(void)
{
	static const char *const bad[] = {"80",	 "0:80", "80:65536", ":80",
					  "80:", "a:80", "80:80x",   "-1:80"};
	struct port_map m;
	char why[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool refused = net_parse_port(bad[i], &m, why, sizeof(why)) < 0;
		if (!refused)
			printf("\n    '%s' was taken as %u:%u\n", bad[i],
			       m.host, m.container);
		CU_ASSERT(refused && !strchr(why, '\n'));
	}
	CU_ASSERT(net_parse_port("65535:1", &m, why, sizeof(why)) == 0 &&
		  m.host == 65535 && m.container == 1);
}

static void test_teardown_leaves_nothing(void)
{
	char out[8192];
	char *argv[] = {"ip", "-o", "link", "show", NULL};

	CU_ASSERT(net_teardown(&net_a) == 0);
	CU_ASSERT(net_teardown(&net_b) == 0);
	close(net_b.netns_fd);
	box_end(&box_a);
	box_end(&box_b);
	CU_ASSERT_EQUAL(lease_count(run), 0);
	/* The last one out took the bridge and the table along. */
	CU_ASSERT_EQUAL_FATAL(netns_run(0, argv, out, sizeof(out)), 0);
	CU_ASSERT(netns_links_are(out, "lo uplink"));
	table_text(out, sizeof(out));
	if (*out)
		printf("\n    table left: %s\n", out);
	CU_ASSERT(*out == '\0');
	/* A second teardown finds nothing to do. */
	CU_ASSERT(net_teardown(&net_a) == 0);
	/* The port is free again. */
	char got[128];
	CU_ASSERT(netns_ask(0, "127.0.0.1", 8080, NULL, got, sizeof(got)) < 0);
}

static CU_TestInfo bridge_tests[] = {
    {"test_inside_only_lo_and_eth0", test_inside_only_lo_and_eth0},
    {"test_eth0_has_leased_address", test_eth0_has_leased_address},
    {"test_namespace_by_fd_works_too", test_namespace_by_fd_works_too},
    {"test_default_route_through_bridge", test_default_route_through_bridge},
    {"test_host_sees_bridge_and_veth", test_host_sees_bridge_and_veth},
    {"test_reaches_gateway", test_reaches_gateway},
    {"test_reaches_outside_through_nat", test_reaches_outside_through_nat},
    {"test_containers_reach_each_other", test_containers_reach_each_other},
    {"test_port_served_to_outside", test_port_served_to_outside},
    {"test_port_served_to_host_loopback", test_port_served_to_host_loopback},
    {"test_port_served_to_host_address", test_port_served_to_host_address},
    {"test_unpublished_port_is_not_served",
     test_unpublished_port_is_not_served},
    {"test_taken_port_is_refused", test_taken_port_is_refused},
    {"test_bad_ports_refused", test_bad_ports_refused},
    {"test_teardown_leaves_nothing", test_teardown_leaves_nothing},
    CU_TEST_INFO_NULL,
};

/*** leases and what dead runtimes leave ***/

static void test_twenty_leases_in_parallel(void)
{
	enum { N = 20 };
	int out[2], hold[2];
	pid_t pids[N];
	CU_ASSERT_FATAL(pipe2(out, O_CLOEXEC) == 0 &&
			pipe2(hold, O_CLOEXEC) == 0);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct lease l;
			char why[256], line[32], c;
			close(hold[1]);
			if (lease_take(&l, run, getpid(), why, sizeof(why)) <
			    0) {
				snprintf(line, sizeof(line), "error\n");
				fprintf(stderr, "lease: %s\n", why);
			} else {
				snprintf(line, sizeof(line), "%-15s\n",
					 inet_ntoa(l.addr));
			}
			/* One write of 16 bytes: atomic on a pipe. */
			if (write(out[1], line, 16) != 16)
				_exit(1);
			while (read(hold[0], &c, 1) > 0)
				;
			_exit(0); /* without releasing: reaped below */
		}
	}
	close(out[1]);
	close(hold[0]);
	char all[N * 16 + 1];
	size_t got = 0;
	while (got < sizeof(all) - 1) {
		ssize_t n = read(out[0], all + got, sizeof(all) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	all[got] = '\0';
	close(out[0]);
	CU_ASSERT_EQUAL(got, (size_t)N * 16);
	int distinct = 0;
	for (int i = 0; i < N && (size_t)(i + 1) * 16 <= got; i++) {
		bool dup = strncmp(all + i * 16, "error", 5) == 0;
		for (int j = 0; j < i && !dup; j++)
			dup = !strncmp(all + i * 16, all + j * 16, 16);
		distinct += !dup;
	}
	if (distinct != N)
		printf("\n    %d distinct of %d:\n%s", distinct, N, all);
	CU_ASSERT_EQUAL(distinct, N);
	CU_ASSERT_EQUAL(lease_count(run), N);
	/* Their holders alive: nothing to reap. */
	CU_ASSERT_EQUAL(lease_reap_stale(run, NULL, NULL, NULL), 0);
	close(hold[1]);
	for (int i = 0; i < N; i++)
		waitpid(pids[i], NULL, 0);
	/* Their holders dead (and reaped by wait): every one goes. */
	CU_ASSERT_EQUAL(lease_reap_stale(run, NULL, NULL, NULL), N);
	CU_ASSERT_EQUAL(lease_count(run), 0);
}

static void test_lease_of_a_reused_pid_is_reaped(void)
{
	/* A lease file whose pid lives but started at another time: a
	 * later process given a dead holder's pid. */
	struct lease l;
	char why[256], path[PATH_MAX];
	CU_ASSERT_FATAL(lease_take(&l, run, getpid(), why, sizeof(why)) == 0);
	snprintf(path, sizeof(path), "%s", l.path);
	char text[64];
	snprintf(text, sizeof(text), "%d 1\n", (int)getpid());
	CU_ASSERT_FATAL(write_file(path, text) == 0);
	CU_ASSERT_EQUAL(lease_reap_stale(run, NULL, NULL, NULL), 1);
	CU_ASSERT_EQUAL(lease_count(run), 0);
	lease_release(&l, NULL, NULL);
}

/* An empty callback that counts its calls in *(int *)arg. */
static int count_calls(void *arg)
{
	++*(int *)arg;
	return 0;
}

static void test_last_lease_out_removes_the_directory(void)
{
	struct lease a, b;
	char why[256], dir[PATH_MAX];
	int calls = 0;
	snprintf(dir, sizeof(dir), "%s/" LEASE_DIR, run);
	CU_ASSERT_FATAL(lease_take(&a, run, getpid(), why, sizeof(why)) == 0);
	CU_ASSERT_FATAL(lease_take(&b, run, getpid(), why, sizeof(why)) == 0);
	CU_ASSERT(lease_release(&a, count_calls, &calls) == 0);
	CU_ASSERT_EQUAL(calls, 0); /* b still holds one */
	CU_ASSERT(access(dir, F_OK) == 0);
	CU_ASSERT(lease_release(&b, count_calls, &calls) == 0);
	CU_ASSERT_EQUAL(calls, 1);
	CU_ASSERT(access(dir, F_OK) < 0 && errno == ENOENT);
	/* With no leases the reaper makes nothing and calls nothing. */
	CU_ASSERT_EQUAL(lease_reap_stale(run, NULL, count_calls, &calls), 0);
	CU_ASSERT_EQUAL(calls, 1);
	CU_ASSERT(access(dir, F_OK) < 0 && errno == ENOENT);
}

static void test_takers_race_the_last_one_out(void)
{
	/* Each one out is the last one out now and then, and removes the
	 * directory and its lock while others wait for that lock: each
	 * take must still lock the directory that is there, and succeed. */
	enum { N = 8, ROUNDS = 100 };
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (int r = 0; r < ROUNDS; r++) {
				struct lease l;
				char why[256];
				if (lease_take(&l, run, getpid(), why,
					       sizeof(why)) < 0) {
					fprintf(stderr, "lease: %s\n", why);
					_exit(1);
				}
				if (lease_release(&l, NULL, NULL) < 0) {
					perror("release");
					_exit(2);
				}
			}
			_exit(0);
		}
	}
	int failed = 0;
	for (int i = 0; i < N; i++) {
		int status = 1;
		if (pids[i] > 0)
			waitpid(pids[i], &status, 0);
		failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	if (failed)
		printf("\n    %d of %d takers failed (above)\n", failed, N);
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(lease_count(run), 0);
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/" LEASE_DIR, run);
	CU_ASSERT(access(dir, F_OK) < 0 && errno == ENOENT);
}

/* Wait up to 5 s for the host to have no link called name. */
static bool link_gone(const char *name)
{
	struct nl nl;
	bool gone = false;
	if (nl_open(&nl, -1) < 0)
		return false;
	for (int i = 0; i < 100 && !gone; i++) {
		gone = nl_link_index(&nl, name) < 0 && errno == ENODEV;
		if (!gone)
			usleep(50000);
	}
	nl_close(&nl);
	return gone;
}

static void test_killed_runtime_is_reaped(void)
{
	int report_pipe[2];
	CU_ASSERT_FATAL(pipe2(report_pipe, O_CLOEXEC) == 0);
	/* A runtime that sets up a container with a published port and is
	 * killed: its lease, rules and veth stay behind it. */
	pid_t rt = fork();
	if (rt == 0) {
		struct box b;
		struct net n;
		close(report_pipe[0]);
		if (start_container(&b, &n, "doomed", "8081:80", false) < 0)
			_exit(1);
		if (write(report_pipe[1], &n, sizeof(n)) != sizeof(n))
			_exit(1);
		pause();
		_exit(0);
	}
	close(report_pipe[1]);
	struct net dead;
	ssize_t got = read(report_pipe[0], &dead, sizeof(dead));
	close(report_pipe[0]);
	CU_ASSERT_EQUAL_FATAL(got, (ssize_t)sizeof(dead));
	char table[8192];
	table_text(table, sizeof(table));
	CU_ASSERT(strstr(table, "dport 8081") != NULL);
	CU_ASSERT_EQUAL(lease_count(run), 1);
	kill(rt, SIGKILL);
	waitpid(rt, NULL, 0);

	/* The next container's net_reserve() reaps it all. */
	struct box b;
	struct net n;
	CU_ASSERT_FATAL(start_container(&b, &n, "next", NULL, false) == 0);
	CU_ASSERT_EQUAL(lease_count(run), 1);
	table_text(table, sizeof(table));
	if (strstr(table, "dport 8081"))
		printf("\n    left: %s\n", table);
	CU_ASSERT(strstr(table, "dport 8081") == NULL);
	/* Its veth dies with the container's namespace (the container died
	 * with its runtime), or by the reaper if it had not moved yet. */
	CU_ASSERT(strcmp(dead.veth, n.veth) == 0 || link_gone(dead.veth));
	CU_ASSERT(net_teardown(&n) == 0);
	box_end(&b);
	CU_ASSERT(link_gone(n.veth));
	CU_ASSERT_EQUAL(lease_count(run), 0);
}

static void test_setup_failure_leaves_nothing(void)
{
	/* The container is gone before its network is set up: the move
	 * fails half-way, with the pair made and the lease taken. */
	struct box b;
	struct net n;
	net_init(&n, NET_MODE_BRIDGE);
	n.run = run;
	n.n_ports = 1;
	n.ports[0] = (struct port_map){8082, 80};
	CU_ASSERT_FATAL(net_reserve(&n) == 0);
	CU_ASSERT_FATAL(box_spawn(&b, false, setup_lo) == 0);
	n.pid = b.pid;
	box_end(&b);
	printf("\n    (a failure is expected on the next line)\n");
	CU_ASSERT(net_setup(&n) < 0);
	CU_ASSERT(net_teardown(&n) == 0);
	char out[4096];
	char *argv[] = {"ip", "-o", "link", "show", NULL};
	CU_ASSERT_EQUAL_FATAL(netns_run(0, argv, out, sizeof(out)), 0);
	CU_ASSERT(netns_links_are(out, "lo uplink"));
	CU_ASSERT_EQUAL(lease_count(run), 0);
}

static CU_TestInfo lease_tests[] = {
    {"test_twenty_leases_in_parallel", test_twenty_leases_in_parallel},
    {"test_lease_of_a_reused_pid_is_reaped",
     test_lease_of_a_reused_pid_is_reaped},
    {"test_last_lease_out_removes_the_directory",
     test_last_lease_out_removes_the_directory},
    {"test_takers_race_the_last_one_out", test_takers_race_the_last_one_out},
    {"test_killed_runtime_is_reaped", test_killed_runtime_is_reaped},
    {"test_setup_failure_leaves_nothing", test_setup_failure_leaves_nothing},
    CU_TEST_INFO_NULL,
};

/*** --net none, and the /etc files ***/

static void test_none_has_only_lo_up(void)
{
	struct box b;
	struct net n;
	char out[4096];
	char *argv[] = {"ip", "-o", "link", "show", NULL};
	net_init(&n, NET_MODE_NONE);
	n.run = run;
	CU_ASSERT_FATAL(net_reserve(&n) == 0);
	CU_ASSERT_FATAL(box_spawn(&b, false, setup_lo) == 0);
	n.pid = b.pid;
	CU_ASSERT(net_setup(&n) == 0);
	CU_ASSERT_EQUAL(netns_run(b.pid, argv, out, sizeof(out)), 0);
	CU_ASSERT(netns_links_are(out, "lo"));
	CU_ASSERT(strstr(out, "<LOOPBACK,UP") != NULL);
	CU_ASSERT_EQUAL(lease_count(run), 0);
	CU_ASSERT(net_teardown(&n) == 0);
	box_end(&b);
}

/* In a child with a mount namespace of its own: a fake root merged
 * (its /etc/hosts a symbolic link to the host's /etc/passwd), the
 * host's resolver a stub at 127.0.0.53 with an upstream list behind it,
 * then setup_etc_files(), then what the container would read. */
static void test_etc_files_bound(void)
{
	char merged[512], dir[512], path[600], out[4096];
	snprintf(merged, sizeof(merged), "%s/merged", scratch);
	snprintf(dir, sizeof(dir), "%s/etcstate", scratch);
	CU_ASSERT_FATAL(mkdir(merged, 0755) == 0 && mkdir(dir, 0700) == 0);
	snprintf(path, sizeof(path), "%s/etc", merged);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/etc/hosts", merged);
	CU_ASSERT_FATAL(symlink("/etc/passwd", path) == 0);

	int p[2];
	CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
	pid_t c = fork();
	if (c == 0) {
		struct net n;
		char text[4096];
		close(p[0]);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
		    mkdir("/run/systemd", 0755) < 0 ||
		    mkdir("/run/systemd/resolve", 0755) < 0 ||
		    create_file(
			"/run/systemd/resolve/resolv.conf",
			"nameserver 192.0.2.53\nsearch example.test\n") < 0 ||
		    create_file("/run/stub", "nameserver 127.0.0.53\n"
					     "options edns0\n") < 0 ||
		    mount("/run/stub", "/etc/resolv.conf", NULL, MS_BIND,
			  NULL) < 0) {
			dprintf(p[1], "cannot fake the host: %s\n",
				strerror(errno));
			_exit(1);
		}
		net_init(&n, NET_MODE_BRIDGE);
		n.dir = dir;
		n.hostname = "box";
		inet_pton(AF_INET, "10.77.0.9", &n.lease.addr);
		setup_etc_files(&n, merged);
		static const char *const names[] = {"hostname", "hosts",
						    "resolv.conf"};
		for (int i = 0; i < 3; i++) {
			char f[700];
			snprintf(f, sizeof(f), "%s/etc/%s", merged, names[i]);
			if (read_small(f, text, sizeof(text)) < 0)
				snprintf(text, sizeof(text), "(unreadable: %s)",
					 strerror(errno));
			dprintf(p[1], "== %s\n%s", names[i], text);
		}
		_exit(0);
	}
	close(p[1]);
	netns_read_all(p[0], out, sizeof(out));
	close(p[0]);
	int status = -1;
	waitpid(c, &status, 0);
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		  strstr(out, "== hostname\nbox\n") &&
		  strstr(out, "10.77.0.9\tbox\n") &&
		  strstr(out, "127.0.0.1\tlocalhost\n") &&
		  strstr(out, "nameserver 192.0.2.53\n") &&
		  strstr(out, "search example.test\n") &&
		  !strstr(out, "127.0.0.53") && !strstr(out, "root:");
	if (!ok || verbose_on)
		printf("\n    status %d, the container reads:\n%s\n", status,
		       out);
	CU_ASSERT(ok);
	/* The link was replaced in merged, never followed. */
	struct stat st;
	CU_ASSERT(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
}

static CU_TestInfo other_tests[] = {
    {"test_none_has_only_lo_up", test_none_has_only_lo_up},
    {"test_etc_files_bound", test_etc_files_bound},
    CU_TEST_INFO_NULL,
};

/*** rootless: slirp4netns ***/

/* The runtime, unprivileged (uid 65534): a container in a user
 * namespace of its own and slirp4netns started for it, with port
 * forwarded to the container's 80, its state in scratch/name. Sets
 * tell to {the container's pid (0 when net_setup() failed), slirp4netns's
 * pid} and *hold to what keeps it running; returns its pid. */
static pid_t start_rootless(const char *name, uint16_t port, pid_t tell[2],
			    int *hold)
{
	char dir[300];
	int info[2], h[2];
	/* Short: the API socket's path must fit in a sockaddr_un. */
	snprintf(dir, sizeof(dir), "%s/%s", scratch, name);
	if (mkdir(dir, 0700) < 0 || chown(dir, 65534, 65534) < 0 ||
	    pipe2(info, O_CLOEXEC) < 0 || pipe2(h, O_CLOEXEC) < 0)
		return -1;
	pid_t rt = fork();
	if (rt == 0) {
		struct box b;
		struct net n;
		char c;
		close(info[0]);
		close(h[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setgroups(0, NULL) < 0 ||
		    setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(1);
		/* A changed uid makes us undumpable, which leaves our
		 * /proc/self files root's: the box could not write its
		 * own uid_map. */
		prctl(PR_SET_DUMPABLE, 1);
		if (box_spawn(&b, true, setup_lo) < 0)
			_exit(2);
		net_init(&n, NET_MODE_SLIRP);
		n.run = run;
		n.dir = dir;
		n.pid = b.pid;
		n.n_ports = 1;
		n.ports[0] = (struct port_map){port, 80};
		int rc = net_setup(&n);
		pid_t t[2] = {rc == 0 ? b.pid : 0, n.slirp_pid};
		if (write(info[1], t, sizeof(t)) != sizeof(t))
			_exit(3);
		while (read(h[0], &c, 1) > 0)
			;
		rc = net_teardown(&n);
		box_end(&b);
		_exit(rc == 0 ? 0 : 4);
	}
	close(info[1]);
	close(h[0]);
	tell[0] = tell[1] = 0;
	if (read(info[0], tell, 2 * sizeof(pid_t)) != 2 * sizeof(pid_t))
		tell[0] = tell[1] = 0;
	close(info[0]);
	*hold = h[1];
	return rt;
}

/* Let the rootless runtime tear down and end; checks it did, and that
 * slirp4netns (slirp) is gone with it. */
static void end_rootless(pid_t rt, int hold, pid_t slirp)
{
	int status = -1;
	close(hold);
	waitpid(rt, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("\n    the rootless runtime ended with status %d\n",
		       status);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT(slirp > 0 && kill(slirp, 0) < 0 && errno == ESRCH);
}

static void test_slirp_outbound_and_port(void)
{
	char got[256];
	pid_t tell[2];
	int hold;
	pid_t rt = start_rootless("s", 8083, tell, &hold);
	CU_ASSERT_FATAL(rt > 0);
	if (tell[0] > 0) {
		/* Outbound: slirp4netns's sockets are the host's, so the
		 * outside host sees the host's address. */
		check_reaches(tell[0], OUTSIDE_ADDR, 9000, outside.pid, 9000,
			      "from " HOST_ADDR,
			      "rootless container to outside");
		check_reaches(0, "127.0.0.1", 8083, tell[0], 80, NULL,
			      "host's 127.0.0.1 to rootless -p 8083:80");
	} else {
		printf("\n    the rootless set-up failed (see above)\n");
		CU_FAIL("slirp4netns set-up");
	}
	end_rootless(rt, hold, tell[1]);
	/* The port went with slirp4netns. */
	CU_ASSERT(netns_ask(0, "127.0.0.1", 8083, NULL, got, sizeof(got)) < 0);
}

static void test_slirp_taken_port_is_refused(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(8084)};
	pid_t tell[2];
	int hold;
	/* A server of the host's on 8084 already. */
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(s >= 0 &&
			bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			listen(s, 1) == 0);
	printf("\n    (a refusal is expected on the next line)\n");
	pid_t rt = start_rootless("t", 8084, tell, &hold);
	CU_ASSERT_FATAL(rt > 0);
	CU_ASSERT_EQUAL(tell[0], 0); /* net_setup() failed */
	end_rootless(rt, hold, tell[1]);
	close(s);
}

static CU_TestInfo slirp_tests[] = {
    {"test_slirp_outbound_and_port", test_slirp_outbound_and_port},
    {"test_slirp_taken_port_is_refused", test_slirp_taken_port_is_refused},
    CU_TEST_INFO_NULL,
};

/* slirp4netns opens /dev/net/tun as the unprivileged runtime; the
 * machine's node is 0600: a node of our own, in our mount namespace. */
static int slirp_init(void)
{
	if (!net_slirp_available()) {
		printf("\n    slirp4netns is not installed\n");
		return -1;
	}
	if (mount("tmpfs", "/dev/net", "tmpfs", 0, "mode=0755") < 0 ||
	    mknod("/dev/net/tun", S_IFCHR | 0666, makedev(10, 200)) < 0 ||
	    chmod("/dev/net/tun", 0666) < 0) {
		perror("test_net: /dev/net/tun");
		return -1;
	}
	return 0;
}

/*** the test's own world ***/

/* Our own network and mount namespaces (the "host"), lo up, and the
 * outside host joined to it by a veth of ours. */
static int make_world(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("test_net: cannot make the host's namespaces");
		return -1;
	}
	if (box_spawn(&outside, false, setup_lo) < 0 || netns_lo_up() < 0 ||
	    netns_link_outside(&outside) < 0) {
		perror("test_net: cannot connect the outside host");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	verbose_on = argc > 1 && !strcmp(argv[1], "-v");
	netns_verbose = verbose_on;
	set_prog_name("test_net");
	set_verbose(verbose_on);
	if (geteuid() != 0) {
		fprintf(stderr, "test_net: needs root (network namespaces, "
				"nftables): run sudo make test-net\n");
		return 1;
	}
	snprintf(scratch, sizeof(scratch), "/tmp/minidocker-net-test.XXXXXX");
	if (!mkdtemp(scratch) || chmod(scratch, 0755) < 0) {
		perror("test_net: mkdtemp");
		return 1;
	}
	snprintf(run, sizeof(run), "%s/run", scratch);
	if (make_world() < 0)
		return 1;
	CU_SuiteInfo suites[] = {
	    {"net-bridge", bridge_init, bridge_clean, NULL, NULL, bridge_tests},
	    {"net-leases", NULL, NULL, NULL, NULL, lease_tests},
	    {"net-other", NULL, NULL, NULL, NULL, other_tests},
	    {"net-slirp4netns", slirp_init, NULL, NULL, NULL, slirp_tests},
	    CU_SUITE_INFO_NULL,
	};
	int failed = cu_run("test_net", suites, NULL, verbose_on);
	box_end(&outside);
	remove_tree(scratch);
	return failed < 0 ? 2 : failed > 0;
}
