/* Stage 14: a network of the container's own. Every test runs the
 * runtime inside a world it makes (DESIGN.md, "Networks in tests"): the
 * runner moves into a network namespace and a mount namespace of its
 * own, where the runtime makes its bridge minidocker0 and its nft table,
 * and the "outside" is a box in another network namespace, joined to
 * that host by a veth of the test's (tests/netns.c). The machine's own
 * interfaces and firewall are never touched, and nothing is sent to an
 * address the test did not make.
 *
 * The proofs run the same commands on stage 13 without -p and --net
 * (the harness drops them): there the container shares the world's
 * network, so it lists the host's links, has no eth0 and no leased
 * address, and a server in it listens on the host's own ports. */

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "net/lease.h"
#include "net/nft.h"
#include "netns.h"
#include "state.h"
#include "suites.h"
#include "util.h"

#define N_PARALLEL	  20		/* containers started at once */
#define SHARED_BRIDGE	  "minidocker0" /* stage 14's net.h: NET_BRIDGE */
#define HTTP_GET_HOSTNAME "GET /hostname HTTP/1.0\r\n\r\n"
/* busybox httpd serving the container's /etc on port 80 until SIGTERM:
 * the shell stays PID 1 with a handler, since the kernel drops a signal
 * to a namespace's PID 1 that has none (httpd's default). It prints "up"
 * once the port listens (a LISTEN socket on local port 80, 0x0050, in
 * /proc/net/tcp or tcp6) or httpd has died (on stage 13 it may not bind
 * the host's port 80), 5 s at most: a request after "up" need not wait
 * for httpd, and one to a port that is not the container's fails at
 * once. */
#define HTTPD_UP                                                               \
	"trap 'exit 0' TERM; httpd -f -p 80 -h /etc & p=$! i=0; "              \
	"until grep -Eqs ':0050 [0-9A-F]+:0000 0A' /proc/net/tcp "             \
	"/proc/net/tcp6 || ! kill -0 $p || [ $i -ge 500 ]; do usleep 10000; "  \
	"i=$((i+1)); done; echo up; wait"

static struct box outside = {0, -1};
static int saved_net = -1; /* the runner's network namespace */

static void lo_up_or_die(void)
{
	if (netns_lo_up() < 0) {
		perror("box: lo");
		_exit(1);
	}
}

/* Leave the machine's network for a world of the test's own: a network
 * and a mount namespace (the runtimes the test starts inherit both),
 * lo up, and the outside host linked. Returns 0, or -1 with a failure
 * recorded (and the world left). */
static int enter_world(void)
{
	saved_net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved_net < 0 || h_enter_own_mounts() < 0) {
		CU_FAIL("cannot keep the runner's network namespace");
		return -1;
	}
	if (unshare(CLONE_NEWNET) < 0 || netns_lo_up() < 0 ||
	    box_spawn(&outside, false, lo_up_or_die) < 0 ||
	    netns_link_outside(&outside) < 0) {
		printf("\n    cannot make the test's network: %s\n",
		       strerror(errno));
		CU_FAIL("cannot make the test's network");
		box_end(&outside);
		if (setns(saved_net, CLONE_NEWNET) < 0)
			CU_FAIL_FATAL("cannot return to the runner's network");
		close(saved_net);
		h_leave_own_mounts();
		return -1;
	}
	return 0;
}

/* Back to the machine's network; the world's namespaces, and whatever
 * the runtimes made in them (bridge, table, sysctls), go with their last
 * process. */
static void leave_world(void)
{
	box_end(&outside);
	if (setns(saved_net, CLONE_NEWNET) < 0)
		CU_FAIL_FATAL("cannot return to the runner's network");
	close(saved_net);
	saved_net = -1;
	h_leave_own_mounts();
}

/* What the world's host lists: its links (ip -o link) into out. */
static void host_links(char *out, size_t len)
{
	char *argv[] = {"ip", "-o", "link", "show", NULL};
	if (netns_run(0, argv, out, len) != 0)
		snprintf(out, len, "(ip -o link failed)");
}

/* The world's links, as host_links() gives them, once no host's end of
 * a container's pair (mdv<N>) is among them, or after 5 s: the pair of an
 * ended container goes with its namespace, which the kernel destroys in
 * a worker of its own a little after the runtime is done. */
struct links {
	char *out;
	size_t len;
};

static bool no_pair_left(void *arg)
{
	struct links *l = arg;
	host_links(l->out, l->len);
	return !strstr(l->out, " mdv");
}

static void host_links_settled(char *out, size_t len)
{
	struct links l = {out, len};
	h_poll(no_pair_left, &l, 5000);
}

/* The world's nft table, as nft lists it ("" when there is none). */
static void host_table(char *out, size_t len)
{
	char why[256];
	if (nft_list_table(out, len, why, sizeof(why)) < 0)
		snprintf(out, len, "(cannot list: %s)", why);
}

/* What of the network the containers share is in the world, named
 * ("the bridge, the table, the leases"), or NULL when none of it is:
 * the last container out takes all three with it. */
static const char *shared_left(void)
{
	static char left[128];
	char links[4096], table[8192], leases[PATH_MAX];
	host_links(links, sizeof(links));
	host_table(table, sizeof(table));
	const char *run = getenv("MINIDOCKER_RUN");
	snprintf(leases, sizeof(leases), "%s/" LEASE_DIR, run ? run : "");
	bool bridge = strstr(links, ": " SHARED_BRIDGE ":") != NULL;
	bool dir = !run || access(leases, F_OK) == 0;
	snprintf(left, sizeof(left), "%s%s%s",
		 bridge ? "the bridge " SHARED_BRIDGE ", " : "",
		 table[0] ? "the table ip " NFT_TABLE ", " : "",
		 dir ? "the leases" : "");
	return left[0] ? left : NULL;
}

/* After r, the last container (or the run that reaped it): nothing of
 * the shared network is left; a failure says what is, and r's status
 * and stderr. */
#define CHECK_SHARED_GONE(r, what)                                             \
	do {                                                                   \
		const char *left_ = shared_left();                             \
		char name_[256];                                               \
		snprintf(name_, sizeof(name_),                                 \
			 "%s: no bridge, table or leases left (left: %s)",     \
			 (what), left_ ? left_ : "none");                      \
		h_run_check(&(r), !left_, -2, __LINE__, __FILE__, name_);      \
	} while (0)

/* Whether what a container made on the host is all gone, once it was
 * the last: no veth (the host's ends are mdv<N>), no lease, no chain of
 * a container (pre_ and out_), nothing shared (the bridge, the table,
 * the leases), and what h_left_behind() checks of the runtime pid. Says
 * what is left. */
static void check_nothing_left(pid_t pid, const char *what)
{
	char links[4096], table[8192], name[512];
	host_links_settled(links, sizeof(links));
	host_table(table, sizeof(table));
	const char *run = getenv("MINIDOCKER_RUN");
	int leases = run ? lease_count(run) : -1;
	const char *left = h_left_behind(pid, NULL);
	snprintf(name, sizeof(name),
		 "%s: nothing left (links: %.300s; "
		 "leases: %d; %s)",
		 what, links, leases, left ? left : "no process or mount");
	H_CHECK(!strstr(links, " mdv") && leases == 0 && !left, name);
	snprintf(name, sizeof(name),
		 "%s: no container's chain left in "
		 "the table: %.400s",
		 what, table);
	H_CHECK(!strstr(table, "chain pre_") && !strstr(table, "chain out_"),
		name);
	const char *shared = shared_left();
	snprintf(name, sizeof(name), "%s: nothing shared left (left: %s)", what,
		 shared ? shared : "none");
	H_CHECK(!shared, name);
}

/* The container's address as `ip -o -4 addr show dev eth0` printed it
 * in out ("... inet 10.77.0.2/24 ..."), into addr; false if none. */
static bool address_in(const char *out, char *addr, size_t len)
{
	const char *at = out ? strstr(out, "inet ") : NULL;
	if (!at)
		return false;
	at += 5;
	size_t n = strcspn(at, "/ \n");
	if (n == 0 || n >= len)
		return false;
	snprintf(addr, len, "%.*s", (int)n, at);
	return true;
}

/* Ask addr:port from ns for /hostname over HTTP; its body into out.
 * Returns 0 when it answered 200. The server said "up" once it listened
 * (HTTPD_UP), so a few tries over 0.5 s are only for a slow NAT path,
 * and a port that is not the container's fails in half a second. */
static int http_hostname(pid_t ns, const char *addr, uint16_t port, char *out,
			 size_t len)
{
	char got[4096] = "";
	for (int i = 0; i < 5; i++) {
		if (netns_ask(ns, addr, port, HTTP_GET_HOSTNAME, got,
			      sizeof(got)) == 0 &&
		    strstr(got, " 200 ")) {
			const char *body = strstr(got, "\r\n\r\n");
			snprintf(out, len, "%s", body ? body + 4 : "");
			return 0;
		}
		usleep(100 * 1000);
	}
	snprintf(out, len, "%s", got);
	return -1;
}

/* The end of a container serving forever: SIGTERM to the runtime,
 * which forwards it to the container's first process. */
static void stop_server(struct container *c)
{
	kill(c->pid, SIGTERM);
	h_finish(c, NULL, H_TIMEOUT_MS);
}

static void test_inside_only_lo_and_eth0(void)
{
	if (enter_world() < 0)
		return;
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "/sbin/ip", "-o", "link",
	    "show");
	H_STATUS(r, 0);
	H_RUN(r, netns_links_are(r.out, "lo eth0"));
	/* Both up: lo by the child, eth0 by the runtime. */
	H_RUN(r, strstr(r.out, "lo: <LOOPBACK,UP") != NULL);
	H_RUN(r, strstr(r.out, "eth0@") && strstr(r.out, ",UP"));
	check_nothing_left(r.pid, "after one container");
	h_free(&r);
	leave_world();
}

static void test_none_has_only_lo(void)
{
	if (enter_world() < 0)
		return;
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "--net", "none", "/sbin/ip",
	    "-o", "link", "show");
	H_STATUS(r, 0);
	H_RUN(r, netns_links_are(r.out, "lo"));
	h_free(&r);
	/* --net host: the host's, as every stage before. */
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "--net", "host", "/sbin/ip",
	    "-o", "link", "show");
	H_STATUS(r, 0);
	H_RUN(r, netns_links_are(r.out, "lo uplink"));
	h_free(&r);
	leave_world();
}

static void test_eth0_has_lease_and_default_route(void)
{
	if (enter_world() < 0)
		return;
	struct run_result r;
	char addr[32] = "";
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "/bin/sh", "-c",
	    "ip -o -4 addr show dev eth0 && ip route");
	H_STATUS(r, 0);
	H_RUN(r, address_in(r.out, addr, sizeof(addr)) &&
		     !strncmp(addr, "10.77.0.", 8) &&
		     strcmp(addr, LEASE_GATEWAY));
	H_RUN(r, strstr(r.out, "/24 ") != NULL);
	H_RUN(r, strstr(r.out, "default via " LEASE_GATEWAY " dev eth0"));
	h_free(&r);
	leave_world();
}

static void test_etc_files_are_its_own(void)
{
	if (enter_world() < 0)
		return;
	char image_hosts[PATH_MAX], addr[32] = "", want[96];
	snprintf(image_hosts, sizeof(image_hosts), "%s/etc/hosts", H.rootfs);
	char *before = h_read_file(image_hosts);
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "--hostname", "web",
	    "/bin/sh", "-c",
	    "ip -o -4 addr show dev eth0; echo ==; cat /etc/hostname; "
	    "echo ==; cat /etc/hosts; echo ==; cat /etc/resolv.conf");
	H_STATUS(r, 0);
	H_RUN(r, address_in(r.out, addr, sizeof(addr)));
	snprintf(want, sizeof(want), "\n%s\tweb\n", addr);
	H_RUN(r, strstr(r.out, "==\nweb\n==\n") != NULL);
	H_RUN(r, strstr(r.out, want) != NULL);
	H_RUN(r, strstr(r.out, "127.0.0.1\tlocalhost\n") != NULL);
	/* The host's resolver, never a stub on the host's loopback. */
	H_RUN(r, strstr(r.out, "# the host's ") != NULL);
	H_RUN(r, !strstr(r.out, "nameserver 127."));
	h_free(&r);
	char *after = h_read_file(image_hosts);
	H_CHECK(before && after && !strcmp(before, after),
		"the image's /etc/hosts is unchanged");
	free(before);
	free(after);
	leave_world();
}

static void test_reaches_gateway_and_outside_through_nat(void)
{
	if (enter_world() < 0)
		return;
	/* One server on the host (the gateway's side), one outside. */
	pid_t gw = netns_serve_once(0, 9001);
	pid_t out = netns_serve_once(outside.pid, 9000);
	/* Not a FATAL check: it would leave the runner in the world. */
	if (gw <= 0 || out <= 0) {
		CU_FAIL("cannot start the test's servers");
		leave_world();
		return;
	}
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "/bin/sh", "-c",
	    "ip -o -4 addr show dev eth0; nc -w 5 " LEASE_GATEWAY
	    " 9001; echo; nc -w 5 " NETNS_OUTSIDE_ADDR " 9000; echo");
	char addr[32] = "", want[64];
	H_RUN(r, address_in(r.out, addr, sizeof(addr)));
	/* The gateway sees the container's own address... */
	snprintf(want, sizeof(want), "\nfrom %s\n", addr);
	H_RUN(r, addr[0] && strstr(r.out, want));
	/* ...the outside host the host's: masqueraded. */
	H_RUN(r, strstr(r.out, "\nfrom " NETNS_HOST_ADDR "\n") != NULL);
	h_free(&r);
	kill(gw, SIGKILL);
	kill(out, SIGKILL);
	waitpid(gw, NULL, 0);
	waitpid(out, NULL, 0);
	leave_world();
}

/* A container that prints its address and serves its /etc over HTTP on
 * port 80 (busybox httpd), published as ports when not NULL. Its
 * address into addr, when not NULL. Returns 0, or -1 with a failure
 * recorded. */
static int start_server(struct container *c, const char *name,
			const char *ports, char *addr, size_t len)
{
	const char *args[] = {
	    "run",    "--rootfs",
	    H.rootfs, "--hostname",
	    name,     "-p",
	    ports,    "/bin/sh",
	    "-c",     "ip -o -4 addr show dev eth0; " HTTPD_UP,
	    NULL};
	if (!ports) /* no -p */
		memmove(&args[5], &args[7], 4 * sizeof(args[0]));
	if (h_start_until(c, args, "up\n") < 0)
		return -1;
	if (addr && !address_in(c->r.out, addr, len)) {
		H_RUN(c->r, !"the server printed its address");
		stop_server(c);
		h_free(&c->r);
		return -1;
	}
	return 0;
}

static void test_two_containers_reach_each_other(void)
{
	if (enter_world() < 0)
		return;
	struct container a;
	char addr[32], cmd[256];
	if (start_server(&a, "a", NULL, addr, sizeof(addr)) < 0) {
		leave_world();
		return;
	}
	/* b asks a over the bridge, until a's httpd listens. */
	snprintf(cmd, sizeof(cmd),
		 "for i in $(seq 50); do wget -q -O - http://%s/hostname && "
		 "exit 0; sleep 0.1; done; exit 1",
		 addr);
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "--hostname", "b", "/bin/sh",
	    "-c", cmd);
	H_STATUS(r, 0);
	H_OUT(r, "a\n");
	h_free(&r);
	stop_server(&a);
	h_free(&a.r);
	leave_world();
}

static void test_port_served_to_outside_and_host_loopback(void)
{
	if (enter_world() < 0)
		return;
	/* No address asked for: on stage 13 this fails where the port is
	 * the host's, not for want of eth0. */
	struct container c;
	char got[512];
	if (start_server(&c, "pub", "8080:80", NULL, 0) < 0) {
		leave_world();
		return;
	}
	/* From the outside host, through the host's address. */
	int rc =
	    http_hostname(outside.pid, NETNS_HOST_ADDR, 8080, got, sizeof(got));
	if (rc < 0 || strcmp(got, "pub\n"))
		printf("\n    outside to %s:8080 got \"%.200s\"\n",
		       NETNS_HOST_ADDR, got);
	H_CHECK(
	    rc == 0 && !strcmp(got, "pub\n"),
	    "-p 8080:80 serves the outside host through the host's address");
	/* From the host itself, through its loopback. */
	rc = http_hostname(0, "127.0.0.1", 8080, got, sizeof(got));
	if (rc < 0 || strcmp(got, "pub\n"))
		printf("\n    host to 127.0.0.1:8080 got \"%.200s\"\n", got);
	H_CHECK(rc == 0 && !strcmp(got, "pub\n"),
		"-p 8080:80 serves the host through 127.0.0.1");
	stop_server(&c);
	check_nothing_left(c.pid, "after -p 8080:80");
	h_free(&c.r);
	/* The port went with the container. */
	H_CHECK(netns_ask(0, "127.0.0.1", 8080, HTTP_GET_HOSTNAME, got,
			  sizeof(got)) < 0,
		"127.0.0.1:8080 answers nothing once the container ended");
	leave_world();
}

static void test_taken_port_is_125_and_leaves_nothing(void)
{
	if (enter_world() < 0)
		return;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(8081)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, 1) < 0) {
		CU_FAIL("cannot take port 8081 in the test's host");
		leave_world();
		return;
	}
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "-p", "8081:80", "-p",
	    "8082:80", H.probe, "out", "must not run");
	H_STATUS(r, 125);
	H_OUT(r, "");
	H_RUN(r, h_one_line(r.err) && strstr(r.err, "port 8081"));
	check_nothing_left(r.pid, "after a taken port");
	h_free(&r);
	close(s);
	leave_world();
}

/* Bad -p and --net, and what cannot be: each one line, 125, and
 * nothing left behind. */
static void test_bad_net_input_is_125(void)
{
	static const struct {
		const char *args[8];
		const char *err;
	} cases[] = {
	    {{"run", "-p", "0:80", "/bin/true", NULL}, "bad --publish '0:80'"},
	    {{"run", "-p", "80", "/bin/true", NULL}, "bad --publish '80'"},
	    {{"run", "-p", "8080:80x", "/bin/true", NULL}, "bad --publish"},
	    {{"run", "--net", "nat", "/bin/true", NULL}, "bad --net 'nat'"},
	    {{"run", "--net", "none", "-p", "8080:80", "/bin/true", NULL},
	     "--net none"},
	    {{"run", "--net", "host", "-p", "8080:80", "/bin/true", NULL},
	     "--net host"},
	};
	if (enter_world() < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *args[10] = {"run", "--rootfs", H.rootfs};
		for (size_t k = 1; cases[i].args[k - 1]; k++)
			args[k + 2] = cases[i].args[k];
		struct run_result r;
		h_run(&r, NULL, args);
		H_STATUS(r, 125);
		H_OUT(r, "");
		H_RUN(r, h_one_line(r.err) && strstr(r.err, cases[i].err));
		check_nothing_left(r.pid, cases[i].args[2]);
		h_free(&r);
	}
	/* A bridge needs root; without it, one line. */
	if (h_become_nobody()) {
		struct run_result r;
		RUN(r, NULL, "run", "--rootfs", H.rootfs, "--net", "bridge",
		    "/bin/true");
		H_STATUS(r, 125);
		H_RUN(r, h_one_line(r.err) && strstr(r.err, "needs root"));
		h_free(&r);
		h_back_to_root();
	}
	leave_world();
}

static void test_twenty_in_parallel_get_distinct_addresses(void)
{
	if (enter_world() < 0)
		return;
	static struct container c[N_PARALLEL];
	char addr[N_PARALLEL][32];
	int started = 0;
	const char *args[] = {"run",
			      "--rootfs",
			      H.rootfs,
			      "/bin/sh",
			      "-c",
			      "ip -o -4 addr show dev eth0; echo up; read x; "
			      "exit 0",
			      NULL};
	/* All started before any waits: their set-ups overlap. */
	for (; started < N_PARALLEL; started++)
		if (h_start(&c[started], NULL, args) < 0)
			break;
	int distinct = 0;
	for (int i = 0; i < started; i++) {
		addr[i][0] = '\0';
		if (!h_wait_output(&c[i], "up\n", 20000) ||
		    !address_in(c[i].r.out, addr[i], sizeof(addr[i]))) {
			H_RUN(c[i].r, !"the container printed its address");
			continue;
		}
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen |= !strcmp(addr[i], addr[j]);
		distinct += !seen;
	}
	char name[64];
	snprintf(name, sizeof(name), "%d distinct addresses of %d", distinct,
		 N_PARALLEL);
	H_CHECK(distinct == N_PARALLEL, name);
	for (int i = 0; i < started; i++)
		h_finish(&c[i], "", H_TIMEOUT_MS);
	for (int i = 0; i < started; i++) {
		H_STATUS(c[i].r, 0);
		if (i == started - 1)
			check_nothing_left(c[i].pid, "after twenty");
		h_free(&c[i].r);
	}
	leave_world();
}

/* Start a container publishing ports (its runtime waiting on stdin)
 * and SIGKILL its runtime once it runs: what it held (its lease, its
 * chains, the bridge and the table) stays for a later run to reap.
 * Returns 0, or -1 with a failure recorded. */
static int kill_a_runtime(const char *ports)
{
	struct container c;
	const char *args[] = {"run", "--rootfs", H.rootfs, "-p",
			      ports, "/bin/sh",	 "-c",	   "echo up; read x",
			      NULL};
	if (h_start_until(&c, args, "up\n") < 0)
		return -1;
	kill(c.pid, SIGKILL);
	h_finish(&c, NULL, H_TIMEOUT_MS);
	h_free(&c.r);
	return 0;
}

static void test_killed_runtime_reaped_next_run(void)
{
	if (enter_world() < 0)
		return;
	if (kill_a_runtime("8083:80") < 0) {
		leave_world();
		return;
	}
	/* What it held is left: its lease and its chains. */
	char table[8192];
	host_table(table, sizeof(table));
	const char *run = getenv("MINIDOCKER_RUN");
	H_CHECK(run && lease_count(run) == 1 && strstr(table, "chain pre_"),
		"a SIGKILLed runtime leaves its lease and its chains (else "
		"this test checks nothing)");
	/* The next run reaps them, and the port is free again. */
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "-p", "8083:80", "/bin/true");
	H_STATUS(r, 0);
	check_nothing_left(r.pid, "after the next run");
	h_free(&r);
	leave_world();
}

static void test_last_container_removes_bridge_and_table(void)
{
	if (enter_world() < 0)
		return;
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "-p", "8086:80", "/sbin/ip",
	    "-o", "link", "show");
	H_STATUS(r, 0);
	H_RUN(r, strstr(r.out, " eth0@") != NULL); /* it had the bridge */
	CHECK_SHARED_GONE(r, "after the last container");
	h_free(&r);
	leave_world();
}

static void test_bridge_stays_until_last_container_ends(void)
{
	if (enter_world() < 0)
		return;
	struct container a;
	char addr[32], got[512];
	if (start_server(&a, "a", NULL, addr, sizeof(addr)) < 0) {
		leave_world();
		return;
	}
	/* b comes and goes while a serves. */
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "--hostname", "b",
	    "/bin/true");
	H_STATUS(r, 0);
	const char *left = shared_left();
	char name[256];
	snprintf(name, sizeof(name),
		 "while a runs, b's end leaves the bridge, table and leases "
		 "(left: %s)",
		 left ? left : "none");
	h_run_check(&r,
		    left && strstr(left, "bridge") && strstr(left, "table") &&
			strstr(left, "leases"),
		    -2, __LINE__, __FILE__, name);
	/* ...and a is still reached over the bridge. */
	int rc = http_hostname(0, addr, 80, got, sizeof(got));
	if (rc < 0 || strcmp(got, "a\n"))
		printf("\n    host to %s:80 got \"%.200s\"\n", addr, got);
	H_CHECK(rc == 0 && !strcmp(got, "a\n"),
		"a still serves over the bridge once b has ended");
	h_free(&r);
	stop_server(&a);
	H_STATUS(a.r, 0);
	CHECK_SHARED_GONE(a.r, "after the second container");
	h_free(&a.r);
	leave_world();
}

static void test_killed_runtime_network_reaped_by_any_run(void)
{
	if (enter_world() < 0)
		return;
	if (kill_a_runtime("8087:80") < 0) {
		leave_world();
		return;
	}
	/* What it held is left, shared network and all. */
	const char *left = shared_left();
	const char *run = getenv("MINIDOCKER_RUN");
	H_CHECK(run && lease_count(run) == 1 && left &&
		    strstr(left, "bridge") && strstr(left, "table"),
		"a SIGKILLed runtime leaves its lease, the bridge and the "
		"table (else this test checks nothing)");
	/* The next run reaps them, whatever its network. */
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "--net", "none", "/bin/true");
	H_STATUS(r, 0);
	CHECK_SHARED_GONE(r, "after the next run, --net none");
	H_RUN(r, run && lease_count(run) == 0);
	h_free(&r);
	leave_world();
}

/* Leases taken in one network namespace (a world that is gone now) and
 * a run in another, whose own bridge serves a container of a second
 * state directory: had that run reaped them, it would have removed the
 * bridge and the table of its own namespace, as the last lease out
 * does, under the live container. */
static void test_other_namespace_leases_left_alone(void)
{
	char r1[] = "/tmp/minidocker-net-r1-XXXXXX";
	char r2[] = "/tmp/minidocker-net-r2-XXXXXX";
	char *saved = strdup(getenv("MINIDOCKER_RUN"));
	if (!mkdtemp(r1) || !mkdtemp(r2)) {
		CU_FAIL("cannot make two state directories");
		free(saved);
		return;
	}
	setenv("MINIDOCKER_RUN", r1, 1);
	if (enter_world() < 0)
		goto out;
	if (kill_a_runtime("8088:80") < 0) {
		leave_world();
		goto out;
	}
	leave_world();
	H_CHECK(lease_count(r1) == 1,
		"a SIGKILLed runtime leaves its lease (else this test checks "
		"nothing)");

	if (enter_world() < 0)
		goto out;
	struct container a;
	char addr[32], got[512];
	setenv("MINIDOCKER_RUN", r2, 1);
	if (start_server(&a, "a", NULL, addr, sizeof(addr)) < 0) {
		leave_world();
		goto out;
	}
	setenv("MINIDOCKER_RUN", r1, 1);
	struct run_result r;
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "--net", "none", "/bin/true");
	H_STATUS(r, 0);
	H_RUN(r, lease_count(r1) == 1); /* not this namespace's to reap */
	int rc = http_hostname(0, addr, 80, got, sizeof(got));
	if (rc < 0 || strcmp(got, "a\n"))
		printf("\n    host to %s:80 got \"%.200s\"\n", addr, got);
	h_run_check(&r, rc == 0 && !strcmp(got, "a\n"), -2, __LINE__, __FILE__,
		    "the container of the other state directory still "
		    "serves over its bridge");
	h_free(&r);
	setenv("MINIDOCKER_RUN", r2, 1);
	stop_server(&a);
	check_nothing_left(a.pid, "after the second state directory's");
	h_free(&a.r);
	/* A bridge run here takes the dead namespace's leases over, and
	 * its end leaves nothing. */
	setenv("MINIDOCKER_RUN", r1, 1);
	RUN(r, NULL, "run", "--rootfs", H.rootfs, "/bin/true");
	H_STATUS(r, 0);
	CHECK_SHARED_GONE(r, "after a run that took the dead leases over");
	h_free(&r);
	leave_world();
out:
	setenv("MINIDOCKER_RUN", saved, 1);
	free(saved);
	remove_tree(r1);
	remove_tree(r2);
}

/* Without root: slirp4netns, which opens /dev/net/tun as the user. The
 * machine's node may be 0600: one of our own, in the world's mounts. */
static void test_rootless_slirp_outbound_and_port(void)
{
	if (enter_world() < 0)
		return;
	if (mount("tmpfs", "/dev/net", "tmpfs", 0, "mode=0755") < 0 ||
	    mknod("/dev/net/tun", S_IFCHR | 0666, makedev(10, 200)) < 0 ||
	    chmod("/dev/net/tun", 0666) < 0) {
		printf("\n    cannot make a /dev/net/tun: %s\n",
		       strerror(errno));
		CU_FAIL("cannot make a /dev/net/tun of the test's own");
		leave_world();
		return;
	}
	pid_t out = netns_serve_once(outside.pid, 9000);
	if (out <= 0 || !h_become_nobody()) {
		CU_FAIL("cannot start the outside server, or become nobody");
		if (out > 0) {
			kill(out, SIGKILL);
			waitpid(out, NULL, 0);
		}
		leave_world();
		return;
	}
	struct container c;
	const char *args[] = {
	    "run",     "--rootfs",
	    H.rootfs,  "--hostname",
	    "rl",      "-p",
	    "8085:80", "/bin/sh",
	    "-c",      "nc -w 5 " NETNS_OUTSIDE_ADDR " 9000; echo; " HTTPD_UP,
	    NULL};
	if (h_start_until(&c, args, "up\n") == 0) {
		/* Outbound: slirp4netns's sockets are the host's. */
		H_RUN(c.r, strstr(c.r.out, "from " NETNS_HOST_ADDR "\n"));
		char got[512];
		int rc = http_hostname(0, "127.0.0.1", 8085, got, sizeof(got));
		if (rc < 0 || strcmp(got, "rl\n"))
			printf("\n    host to 127.0.0.1:8085 got \"%.200s\"\n",
			       got);
		H_CHECK(rc == 0 && !strcmp(got, "rl\n"),
			"rootless -p 8085:80 serves the host's 127.0.0.1");
		stop_server(&c);
		/* slirp4netns was the runtime's child, in its group. */
		H_CHECK(h_pgroup_gone(c.pid, 5000),
			"no process left of the rootless runtime's group "
			"(slirp4netns)");
		H_CHECK(!h_left_behind(c.pid, NULL),
			"the rootless runtime left nothing");
		h_free(&c.r);
	}
	h_back_to_root();
	kill(out, SIGKILL);
	waitpid(out, NULL, 0);
	leave_world();
}

/* Without root, where slirp4netns cannot open /dev/net/tun (here: no
 * node at all, in the world's mounts), the default is --net none, said
 * in one line; the container still runs. */
static void test_rootless_without_tun_has_only_lo(void)
{
	if (enter_world() < 0)
		return;
	if (mount("tmpfs", "/dev/net", "tmpfs", 0, "mode=0755") < 0) {
		CU_FAIL("cannot hide /dev/net/tun");
		leave_world();
		return;
	}
	if (h_become_nobody()) {
		struct run_result r;
		RUN(r, NULL, "run", "--rootfs", H.rootfs, "/sbin/ip", "-o",
		    "link", "show");
		H_STATUS(r, 0);
		H_RUN(r, netns_links_are(r.out, "lo"));
		H_RUN(r, strstr(r.err, "no network: ") &&
			     strstr(r.err, "so --net none\n"));
		h_free(&r);
		h_back_to_root();
	}
	leave_world();
}

/* The catalogue's entries first stopped here ("bind a port the host
 * sees"), run by the default network, in the world. */
static void test_escapes_stopped_here(void)
{
	if (enter_world() < 0)
		return;
	escapes_check_stage(14);
	leave_world();
}

static const struct stage_test tests[] = {
    {"test_inside_only_lo_and_eth0", test_inside_only_lo_and_eth0, true},
    {"test_none_has_only_lo", test_none_has_only_lo, true},
    {"test_eth0_has_lease_and_default_route",
     test_eth0_has_lease_and_default_route, true},
    {"test_etc_files_are_its_own", test_etc_files_are_its_own, true},
    {"test_reaches_gateway_and_outside_through_nat",
     test_reaches_gateway_and_outside_through_nat, true},
    {"test_two_containers_reach_each_other",
     test_two_containers_reach_each_other, true},
    {"test_port_served_to_outside_and_host_loopback",
     test_port_served_to_outside_and_host_loopback, true},
    {"test_taken_port_is_125_and_leaves_nothing",
     test_taken_port_is_125_and_leaves_nothing, false},
    {"test_bad_net_input_is_125", test_bad_net_input_is_125, false},
    {"test_twenty_in_parallel_get_distinct_addresses",
     test_twenty_in_parallel_get_distinct_addresses, true},
    {"test_killed_runtime_reaped_next_run", test_killed_runtime_reaped_next_run,
     true},
    {"test_last_container_removes_bridge_and_table",
     test_last_container_removes_bridge_and_table, false},
    {"test_bridge_stays_until_last_container_ends",
     test_bridge_stays_until_last_container_ends, false},
    {"test_killed_runtime_network_reaped_by_any_run",
     test_killed_runtime_network_reaped_by_any_run, false},
    {"test_other_namespace_leases_left_alone",
     test_other_namespace_leases_left_alone, false},
    {"test_rootless_slirp_outbound_and_port",
     test_rootless_slirp_outbound_and_port, true},
    {"test_rootless_without_tun_has_only_lo",
     test_rootless_without_tun_has_only_lo, true},
    {"test_escapes_stopped_here", test_escapes_stopped_here, true},
    {NULL, NULL, false},
};

const struct stage_suite suite_net = {14, "net", true, tests};
