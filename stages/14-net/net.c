/*
 * Stage 14's lesson: a network of the container's own. The child is
 * born in a new network namespace, which holds nothing but a loopback
 * device that is down. As root, the runtime then gives it a way out: a
 * veth pair (two devices joined like the ends of a cable), one end made
 * in the container as eth0 with an address leased from 10.77.0.0/24,
 * the other on the bridge minidocker0, the gateway. The host forwards
 * and masquerades what the containers send out, and DNATs its published
 * ports to them. Without root no device may be made on the host, so
 * slirp4netns, a user-space network stack, serves the container through
 * a TAP device instead. The netlink and nftables encodings are in
 * common/net/.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "net.h"
#include "net/netlink.h"
#include "process.h"

#define STR(x)	#x
#define XSTR(x) STR(x)

void net_init(struct net *net, enum net_mode mode)
{
	memset(net, 0, sizeof(*net));
	net->mode = mode;
	net->netns_fd = -1;
	net->slirp_exit_fd = -1;
	for (size_t i = 0; i < NET_MAX_PORTS; i++)
		net->port_fds[i] = -1;
}

bool net_slirp_available(void)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX + 32];
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(dir, sizeof(dir), "%.*s/slirp4netns", (int)n, p);
		if (access(dir, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* One port number, 1 to 65535, the whole of text. */
static int parse_one_port(const char *text, size_t len, uint16_t *port)
{
	char buf[8], *end;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	long v = strtol(buf, &end, 10);
	if (*end || buf[0] < '0' || buf[0] > '9' || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int net_parse_port(const char *text, struct port_map *map, char *why,
		   size_t why_len)
{
	const char *colon = strchr(text, ':');
	if (!colon ||
	    parse_one_port(text, (size_t)(colon - text), &map->host) < 0 ||
	    parse_one_port(colon + 1, strlen(colon + 1), &map->container) < 0) {
		snprintf(why, why_len,
			 "'%s' is not HOSTPORT:CONTAINERPORT "
			 "(TCP ports, 1 to 65535)",
			 text);
		return -1;
	}
	return 0;
}

/* The host's end of the veth pair of the container at addr, leased by
 * owner: by the host part of the address and the holder's pid
 * ("mdv2-4242"), which no two live containers share, nor a live one and
 * the pair of an ended one, which its namespace takes along a little
 * later. */
static void veth_name(struct in_addr addr, pid_t owner, char *host)
{
	unsigned int n = ntohl(addr.s_addr) & ((1u << (32 - LEASE_PREFIX)) - 1);
	snprintf(host, IFNAMSIZ, "mdv%u-%d", n, (int)owner);
}

/* What a runtime killed by SIGKILL left with its lease: its chains, and
 * its veth pair if the container's namespace outlived it (the pair dies
 * with that namespace). */
static void forget_container(pid_t owner, struct in_addr addr, void *arg)
{
	char why[256], host[IFNAMSIZ], text[INET_ADDRSTRLEN];
	struct nl nl;
	(void)arg;
	inet_ntop(AF_INET, &addr, text, sizeof(text));
	verbose("reaping %s, leased by runtime %d, which is gone", text,
		(int)owner);
	if (nft_unpublish(addr, why, sizeof(why)) < 0)
		verbose("cannot remove the rules of %s: %s", text, why);
	veth_name(addr, owner, host);
	if (nl_open(&nl, -1) == 0) {
		nl_link_del(&nl, host);
		nl_close(&nl);
	}
}

/* What the containers share, once none is left: the bridge and the
 * table. Called under the leases' lock (by the last container out, or
 * the run that reaped the last lease), so no container is being set up
 * meanwhile. Returns 0, or -1 after saying why, with -1 in *(int *)arg
 * too when arg is not NULL (net_teardown()'s result). */
static int remove_shared(void *arg)
{
	char why[512];
	struct nl nl;
	int *failed = arg;
	/* Deleting the bridge takes its address and route_localnet. */
	if (nl_open(&nl, -1) < 0 || nl_link_del(&nl, NET_BRIDGE) < 0) {
		report_errno("cannot delete bridge '" NET_BRIDGE "'");
		nl_close(&nl);
		goto fail;
	}
	nl_close(&nl);
	if (nft_remove_table(why, sizeof(why)) < 0) {
		report("cannot remove table 'ip " NFT_TABLE "': %s", why);
		goto fail;
	}
	verbose("removed bridge '" NET_BRIDGE "' and table 'ip " NFT_TABLE
		"': no container uses them");
	return 0;
fail:
	if (failed)
		*failed = -1;
	return -1;
}

/* Hold the host's TCP port: bound, not listening, so no other program
 * can take it while the container publishes it (DNAT sends the
 * connections past this socket to the container). Returns the socket,
 * or -1 with errno. */
static int hold_port(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* No SO_REUSEADDR: without it on our side, every later bind of the
	 * port fails, whatever options the other side sets. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int net_reserve(struct net *net)
{
	char why[PATH_MAX + 256];

	/* Leases of runtimes that were killed, with what they left, and
	 * with the last of them the bridge and the table: in every mode, as
	 * stale cgroups are reaped by every run. */
	lease_reap_stale(net->run, forget_container, remove_shared, NULL);
	if (net->mode != NET_MODE_BRIDGE)
		return 0;
	if (lease_take(&net->lease, net->run, getpid(), why, sizeof(why)) < 0) {
		report("cannot lease an address: %s", why);
		return -1;
	}
	for (size_t i = 0; i < net->n_ports; i++) {
		net->port_fds[i] = hold_port(net->ports[i].host);
		if (net->port_fds[i] < 0) {
			if (errno == EADDRINUSE)
				report("cannot publish port %u: it is taken on "
				       "the host",
				       net->ports[i].host);
			else
				report_errno("cannot publish port %u",
					     net->ports[i].host);
			net_teardown(net);
			return -1;
		}
	}
	char text[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &net->lease.addr, text, sizeof(text));
	verbose("leased %s", text);
	return 0;
}

/* The bridge, made by the first container (the last removes it): the
 * containers' gateway, with the subnet's first address, up. IPv4
 * forwarding on, and the NAT table. Every step is a no-op when done
 * already. Returns 0, or -1 after saying why. */
static int setup_bridge(struct nl *host, const struct lease *lease)
{
	char why[512];

	if (nl_bridge_add(host, NET_BRIDGE) < 0) {
		report_errno("cannot create bridge '" NET_BRIDGE "'");
		return -1;
	}
	if (nl_addr_add(host, NET_BRIDGE, lease->gateway, lease->prefix) < 0 ||
	    nl_link_up(host, NET_BRIDGE) < 0) {
		report_errno("cannot bring bridge '" NET_BRIDGE "' up");
		return -1;
	}
	/* Forward between interfaces: off by default, in each network
	 * namespace. route_localnet: let a packet from 127.0.0.1 (the host
	 * reaching a published port through its loopback, DNATed) be
	 * routed to the bridge, where the kernel would drop it as martian;
	 * masquerading then gives it the bridge's address. */
	if (sysctl_write("net/ipv4/ip_forward", "1") < 0 ||
	    sysctl_write("net/ipv4/conf/" NET_BRIDGE "/route_localnet", "1") <
		0) {
		report_errno("cannot turn IPv4 forwarding on");
		return -1;
	}
	if (nft_setup_nat(LEASE_SUBNET "/" XSTR(LEASE_PREFIX), NET_BRIDGE, why,
			  sizeof(why)) < 0) {
		report("cannot set up NAT: %s", why);
		return -1;
	}
	return 0;
}

/* The veth pair: one end made in the container's namespace as eth0,
 * the other here, attached to the bridge and up. Returns 0, or -1 after
 * saying why. */
static int setup_veth(struct nl *host, struct net *net)
{
	veth_name(net->lease.addr, net->lease.owner, net->veth);
	/* One a runtime of the same pid left, killed half-way through. */
	nl_link_del(host, net->veth);
	/* Made there, not moved there: moving a device out of a namespace
	 * makes the kernel wait until every CPU has left what it was doing
	 * with it (RCU grace periods), tens of milliseconds on a busy host. */
	if (nl_veth_add(host, net->veth, "eth0", net->netns_fd, net->pid) < 0) {
		report_errno("cannot create veth pair '%s' into the container",
			     net->veth);
		net->veth[0] = '\0'; /* not ours to delete */
		return -1;
	}
	if (nl_link_set_master(host, net->veth, NET_BRIDGE) < 0 ||
	    nl_link_up(host, net->veth) < 0) {
		report_errno("cannot attach '%s' to '" NET_BRIDGE "'",
			     net->veth);
		return -1;
	}
	return 0;
}

/* Inside the container's namespace, through a socket opened there:
 * eth0 gets the leased address, goes up, and the bridge becomes the
 * default route. Returns 0, or -1 after saying why. */
static int setup_eth0(const struct net *net)
{
	struct nl ctr;
	int rc = -1;

	if ((net->netns_fd >= 0 ? nl_open(&ctr, net->netns_fd)
				: nl_open_pid(&ctr, net->pid)) < 0)
		goto fail;
	if (nl_addr_add(&ctr, "eth0", net->lease.addr, net->lease.prefix) < 0)
		report_errno("cannot give eth0 its address");
	else if (nl_link_up(&ctr, "eth0") < 0)
		report_errno("cannot bring eth0 up");
	else if (nl_route_default(&ctr, net->lease.gateway) < 0)
		report_errno("cannot add the default route");
	else
		rc = 0;
	nl_close(&ctr);
	return rc;
fail:
	report_errno("cannot enter the container's network namespace");
	return -1;
}

/* Bridge mode, in order: the bridge and NAT, the veth pair, eth0 inside,
 * the published ports. */
static int setup_bridge_net(struct net *net)
{
	char why[512];
	struct nl host;

	if (nl_open(&host, -1) < 0) {
		report_errno("cannot open a netlink socket");
		return -1;
	}
	int rc = -1;
	if (setup_bridge(&host, &net->lease) < 0 ||
	    setup_veth(&host, net) < 0 || setup_eth0(net) < 0)
		goto out;
	if (net->n_ports) {
		net->published = true; /* half made, still to remove */
		if (nft_publish(net->lease.addr, net->ports, net->n_ports, why,
				sizeof(why)) < 0) {
			report("cannot publish the ports: %s", why);
			goto out;
		}
	}
	verbose("eth0 up in the container, '%s' on '" NET_BRIDGE "'",
		net->veth);
	rc = 0;
out:
	nl_close(&host);
	return rc;
}

/* Wait up to ms for fd to be readable. Returns 1, 0 on timeout, -1. */
static int wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;
	while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	return n;
}

/* Ask slirp4netns, over its API socket, to forward the host's port to
 * the container's. Returns 0, or -1 with its answer in why. */
static int add_hostfwd(const char *api, const struct port_map *map, char *why,
		       size_t why_len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char req[256], reply[512];
	size_t got = 0;

	memcpy(sa.sun_path, api, strlen(api) + 1); /* checked: it fits */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, why_len, "cannot reach '%s': %s", api,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* One request a connection, in one write; it answers and closes. */
	int n = snprintf(req, sizeof(req),
			 "{\"execute\": \"add_hostfwd\", \"arguments\": "
			 "{\"proto\": \"tcp\", \"host_addr\": \"0.0.0.0\", "
			 "\"host_port\": %u, \"guest_port\": %u}}",
			 map->host, map->container);
	if (write_all(fd, req, (size_t)n) < 0) {
		snprintf(why, why_len, "cannot write to '%s': %s", api,
			 strerror(errno));
		close(fd);
		return -1;
	}
	while (got < sizeof(reply) - 1 && wait_readable(fd, 5000) > 0) {
		ssize_t r = read(fd, reply + got, sizeof(reply) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	reply[got] = '\0';
	/* {"return": {"id": 1}} or {"error": {"desc": "..."}} */
	if (strstr(reply, "\"return\""))
		return 0;
	const char *desc = strstr(reply, "\"desc\"");
	if (desc && (desc = strchr(desc + 6, '"')))
		snprintf(why, why_len, "slirp4netns: %.*s",
			 (int)strcspn(desc + 1, "\""), desc + 1);
	else
		snprintf(why, why_len, "slirp4netns answered '%.200s'", reply);
	return -1;
}

/* The first line of the file at path into buf ("" if none). */
static void first_line(const char *path, char *buf, size_t len)
{
	if (read_small(path, buf, len) < 0)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Start slirp4netns for the container: it enters the container's user
 * and network namespaces, makes tap0 there (--configure: 10.0.2.100/24,
 * up, the default route through 10.0.2.2, DNS at 10.0.2.3) and carries
 * its packets through ordinary sockets of ours: outbound NAT for free,
 * no privilege needed. Then the published ports, through its API.
 * Returns 0, or -1 after saying why. */
static int setup_slirp(struct net *net)
{
	char api[PATH_MAX], log[PATH_MAX], pid[16], exit_fd[16], ready_fd[16];
	int ready[2], stop[2];

	snprintf(api, sizeof(api), "%s/slirp4netns.sock", net->dir);
	snprintf(log, sizeof(log), "%s/slirp4netns.log", net->dir);
	if (strlen(api) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		report("cannot start slirp4netns: its socket '%s' would have "
		       "a path too long for a socket (set MINIDOCKER_RUN to a "
		       "shorter one)",
		       api);
		return -1;
	}
	if (pipe2(ready, O_CLOEXEC) < 0)
		goto fail_pipe;
	if (pipe2(stop, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		goto fail_pipe;
	}
	snprintf(pid, sizeof(pid), "%d", (int)net->pid);
	snprintf(exit_fd, sizeof(exit_fd), "%d", stop[0]);
	snprintf(ready_fd, sizeof(ready_fd), "%d", ready[1]);
	pid_t slirp = fork();
	if (slirp == 0) {
		sigset_t none;
		sigemptyset(&none);
		/* The runtime blocks the signals it forwards; exec keeps the
		 * mask. stdin and stdout are the container's: not its. */
		sigprocmask(SIG_SETMASK, &none, NULL);
		int null = open("/dev/null", O_RDWR);
		int err = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (null < 0 || err < 0 || dup2(null, 0) < 0 ||
		    dup2(null, 1) < 0 || dup2(err, 2) < 0)
			_exit(EXIT_RUNTIME);
		/* The two ends it keeps, open across exec. */
		fcntl(stop[0], F_SETFD, 0);
		fcntl(ready[1], F_SETFD, 0);
		/* --exit-fd: it exits when we close the other end, or die.
		 * --disable-host-loopback: 10.0.2.2 does not reach the
		 * host's 127.0.0.1. --mtu=65520: fewer, larger packets
		 * through user space. */
		execlp("slirp4netns", "slirp4netns", "--configure",
		       "--mtu=65520", "--disable-host-loopback", "--api-socket",
		       api, "--exit-fd", exit_fd, "--ready-fd", ready_fd, pid,
		       "tap0", (char *)NULL);
		dprintf(2, "cannot run slirp4netns: %s\n", strerror(errno));
		_exit(EXIT_NOT_FOUND);
	}
	int saved = errno;
	close(ready[1]);
	close(stop[0]);
	if (slirp < 0) {
		close(ready[0]);
		close(stop[1]);
		errno = saved;
		report_errno("cannot start slirp4netns");
		return -1;
	}
	net->slirp_pid = slirp;
	net->slirp_exit_fd = stop[1];
	/* It writes "1" once tap0 is configured; EOF means it died. */
	char c = 0;
	int n = wait_readable(ready[0], 10000);
	if (n <= 0 || read(ready[0], &c, 1) != 1 || c != '1') {
		char line[256];
		close(ready[0]);
		first_line(log, line, sizeof(line));
		report("cannot start slirp4netns: %s",
		       n == 0  ? "it did not get ready in 10 s"
		       : *line ? line
			       : "it exited");
		return -1;
	}
	close(ready[0]);
	for (size_t i = 0; i < net->n_ports; i++) {
		char why[PATH_MAX + 256];
		if (add_hostfwd(api, &net->ports[i], why, sizeof(why)) < 0) {
			/* Its answer does not say why: a port taken is
			 * the usual reason, and one bind tells. */
			int fd = hold_port(net->ports[i].host);
			if (fd < 0 && errno == EADDRINUSE)
				snprintf(why, sizeof(why),
					 "it is taken on the host");
			if (fd >= 0)
				close(fd);
			report("cannot publish port %u: %s", net->ports[i].host,
			       why);
			return -1;
		}
	}
	verbose("slirp4netns %d serves the container's tap0", (int)slirp);
	return 0;
fail_pipe:
	report_errno("cannot make a pipe");
	return -1;
}

int net_setup(struct net *net)
{
	switch (net->mode) {
	case NET_MODE_BRIDGE:
		return setup_bridge_net(net);
	case NET_MODE_SLIRP:
		return setup_slirp(net);
	case NET_MODE_NONE:
	case NET_MODE_HOST:
		break;
	}
	return 0;
}

void setup_lo(void)
{
	struct nl nl;
	/* A new network namespace has lo, down: 127.0.0.1 answers nothing
	 * until it is up. */
	if (nl_open(&nl, -1) < 0 || nl_link_up(&nl, "lo") < 0)
		die_errno("cannot bring lo up");
	nl_close(&nl);
}

/* Whether the nameserver line line points at this host's loopback,
 * where a stub resolver (systemd-resolved's 127.0.0.53) listens, out of
 * the container's reach. */
static bool is_loopback_nameserver(const char *line)
{
	char addr[64];
	if (sscanf(line, "nameserver %63s", addr) != 1)
		return false;
	return !strncmp(addr, "127.", 4) || !strcmp(addr, "::1");
}

/* The host's resolver configuration for the container, into buf: as in
 * /etc/resolv.conf, but where that names a local stub, the upstream
 * servers behind it (systemd-resolved lists them in its own file, as
 * docker reads them), and never a loopback server. */
static void host_resolv_conf(char *buf, size_t len)
{
	static const char *const files[] = {"/etc/resolv.conf",
					    "/run/systemd/resolve/resolv.conf"};
	char text[8192];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t f = 0; f < 2; f++) {
		if (read_small(files[f], text, sizeof(text)) < 0)
			continue;
		bool stub = false;
		for (char *l = text; *l;
		     l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0))
			stub |= is_loopback_nameserver(l);
		if (stub && f == 0)
			continue; /* try the stub's upstream list first */
		used =
		    (size_t)snprintf(buf, len, "# the host's %s\n", files[f]);
		for (char *l = text; *l && used < len;) {
			size_t n = strcspn(l, "\n");
			if (!is_loopback_nameserver(l))
				used += (size_t)snprintf(buf + used, len - used,
							 "%.*s\n", (int)n, l);
			l += n + (l[n] == '\n');
		}
		return;
	}
}

/* Write text to a new file at path (mode 0644, replacing one there).
 * Returns 0, or -1 with errno. */
static int create_file(const char *path, const char *text)
{
	int fd = open(
	    path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, text, strlen(text)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/* Bind the file src over merged/etc/name, made there first as an empty
 * file when missing. An image's symbolic link there is replaced, not
 * followed: it could point anywhere on the host. Dies on failure. */
static void bind_etc_file(const char *src, const char *merged, const char *name)
{
	char etc[PATH_MAX], target[PATH_MAX + 32];
	struct stat st;

	snprintf(etc, sizeof(etc), "%s/etc", merged);
	if (lstat(etc, &st) < 0) {
		if (errno != ENOENT || mkdir(etc, 0755) < 0)
			die_errno("cannot create '%s'", etc);
	} else if (!S_ISDIR(st.st_mode)) {
		die("cannot bind '%s' in the image: its /etc is not a "
		    "directory",
		    name);
	}
	snprintf(target, sizeof(target), "%s/%s", etc, name);
	/* Into the container's own layer: the image never sees this. A
	 * file there already is bound over as it is: without root its
	 * owner may be a user the container does not map, who alone could
	 * open it for writing. */
	bool found = lstat(target, &st) == 0;
	bool is_file = found && S_ISREG(st.st_mode);
	if (found && !is_file && unlink(target) < 0)
		die_errno("cannot replace '%s'", target);
	int fd = is_file
		     ? -1
		     : open(target, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			    0644);
	if (!is_file && fd < 0 && (errno == EACCES || errno == EPERM)) {
		/* Without root, an image's /etc that root owns. */
		verbose("no /etc/%s: the image's /etc is not the container's "
			"to write",
			name);
		return;
	}
	if (!is_file && fd < 0)
		die_errno("cannot create '%s'", target);
	if (fd >= 0)
		close(fd);
	if (mount(src, target, NULL, MS_BIND, NULL) < 0)
		die_errno("cannot bind '%s' on '%s'", src, target);
}

void setup_etc_files(const struct net *net, const char *merged)
{
	char addr[INET_ADDRSTRLEN] = "127.0.1.1", path[PATH_MAX];
	static char text[16384];

	if (net->mode == NET_MODE_BRIDGE)
		inet_ntop(AF_INET, &net->lease.addr, addr, sizeof(addr));
	else if (net->mode == NET_MODE_SLIRP)
		snprintf(addr, sizeof(addr), NET_SLIRP_ADDR);

	static const char *const names[] = {"hostname", "hosts", "resolv.conf"};
	for (size_t i = 0; i < 3; i++) {
		switch (i) {
		case 0:
			snprintf(text, sizeof(text), "%s\n", net->hostname);
			break;
		case 1:
			snprintf(text, sizeof(text),
				 "127.0.0.1\tlocalhost\n"
				 "::1\tlocalhost ip6-localhost ip6-loopback\n"
				 "%s\t%s\n",
				 addr, net->hostname);
			break;
		case 2:
			/* slirp4netns answers DNS itself, and may reach a
			 * host's stub resolver, which the container may not. */
			if (net->mode == NET_MODE_SLIRP)
				snprintf(text, sizeof(text),
					 "nameserver " NET_SLIRP_DNS "\n");
			else
				host_resolv_conf(text, sizeof(text));
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", net->dir, names[i]);
		if (create_file(path, text) < 0)
			die_errno("cannot write '%s'", path);
		bind_etc_file(path, merged, names[i]);
	}
	verbose(
	    "/etc/hostname, /etc/hosts and /etc/resolv.conf bound from '%s'",
	    net->dir);
}

/* The container's veth pair, to go. A container that ended took its own
 * namespace along, and the kernel removes the devices in it, and the
 * pairs they belong to, in a worker soon after: nothing to do, where
 * deleting the pair here, or waiting for the worker, would wait for RCU
 * grace periods (10-30 ms). The pair of a container still running, or
 * in a namespace given by file, is deleted (one end takes the other
 * along). Returns 0, or -1 with errno. */
static int remove_veth(const struct net *net)
{
	struct nl nl;
	/* Its first process reaped: every process of it is gone. */
	if (net->netns_fd < 0 && net->pid > 0 && kill(net->pid, 0) < 0 &&
	    errno == ESRCH)
		return 0;
	if (nl_open(&nl, -1) < 0)
		return -1;
	int rc = nl_link_del(&nl, net->veth);
	nl_close(&nl);
	return rc;
}

int net_teardown(struct net *net)
{
	char why[512];
	int rc = 0;

	/* slirp4netns sees its exit fd close and ends. */
	if (net->slirp_exit_fd >= 0)
		close(net->slirp_exit_fd);
	net->slirp_exit_fd = -1;
	if (net->slirp_pid > 0) {
		int status;
		kill(net->slirp_pid, SIGTERM);
		while (waitpid(net->slirp_pid, &status, 0) < 0 &&
		       errno == EINTR)
			;
		net->slirp_pid = 0;
	}
	if (net->veth[0] && remove_veth(net) < 0) {
		report_errno("cannot delete '%s'", net->veth);
		rc = -1;
	}
	net->veth[0] = '\0';
	/* The rules before the lease: the address is not given again while
	 * a rule still points at it. */
	if (net->published &&
	    nft_unpublish(net->lease.addr, why, sizeof(why)) < 0) {
		report("cannot remove the published ports: %s", why);
		rc = -1;
	}
	net->published = false;
	/* The last container out takes the bridge and the table along
	 * (remove_shared() says why it cannot, and sets rc). */
	if (lease_release(&net->lease, remove_shared, &rc) < 0) {
		report_errno("cannot release the address");
		rc = -1;
	}
	for (size_t i = 0; i < NET_MAX_PORTS; i++) {
		if (net->port_fds[i] >= 0)
			close(net->port_fds[i]);
		net->port_fds[i] = -1;
	}
	return rc;
}
