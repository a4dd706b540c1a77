#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "net/netlink.h"
#include "netns.h"
#include "process.h"

bool netns_verbose;

int box_spawn(struct box *b, bool userns, void (*in_box)(void))
{
	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
		return -1;
	b->pid = fork();
	if (b->pid == 0) {
		char c = 'x';
		/* Only its own two ends: a copy of another box's hold
		 * pipe here would keep that box from ever seeing EOF. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != ready[1] && fd != hold[0])
				close(fd);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (userns &&
		    (unshare(CLONE_NEWUSER) < 0 ||
		     write_file("/proc/self/setgroups", "deny") < 0 ||
		     write_file("/proc/self/uid_map", "0 65534 1") < 0 ||
		     write_file("/proc/self/gid_map", "0 65534 1") < 0)) {
			perror("box: user namespace");
			_exit(1);
		}
		if (unshare(CLONE_NEWNET) < 0) {
			perror("box: unshare");
			_exit(1);
		}
		if (in_box)
			in_box();
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	char c;
	int ok = b->pid > 0 && read(ready[0], &c, 1) == 1;
	close(ready[0]);
	b->hold = hold[1];
	if (!ok) {
		close(b->hold);
		if (b->pid > 0)
			waitpid(b->pid, NULL, 0);
		b->pid = 0;
		return -1;
	}
	return 0;
}

void box_end(struct box *b)
{
	if (b->hold >= 0)
		close(b->hold);
	b->hold = -1;
	if (b->pid > 0)
		waitpid(b->pid, NULL, 0);
	b->pid = 0;
}

int netns_lo_up(void)
{
	struct nl nl;
	if (nl_open(&nl, -1) < 0)
		return -1;
	int rc = nl_link_up(&nl, "lo");
	nl_close(&nl);
	return rc;
}

int netns_link_outside(const struct box *outside)
{
	struct nl host, out;
	struct in_addr a;
	int rc = -1;

	if (nl_open(&host, -1) < 0)
		return -1;
	if (nl_veth_add(&host, "uplink", "eth0", -1, outside->pid) < 0 ||
	    inet_pton(AF_INET, NETNS_HOST_ADDR, &a) != 1 ||
	    nl_addr_add(&host, "uplink", a, 24) < 0 ||
	    nl_link_up(&host, "uplink") < 0)
		goto out;
	if (nl_open_pid(&out, outside->pid) < 0)
		goto out;
	inet_pton(AF_INET, NETNS_OUTSIDE_ADDR, &a);
	if (nl_addr_add(&out, "eth0", a, 24) == 0 &&
	    nl_link_up(&out, "eth0") == 0)
		rc = 0;
	nl_close(&out);
out:
	nl_close(&host);
	return rc;
}

/* In a forked child: enter the network namespace of pid (0: stay). */
static void enter_net(pid_t pid)
{
	char path[64];
	if (pid == 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		perror("enter_net");
		_exit(126);
	}
	close(fd);
}

void netns_read_all(int fd, char *out, size_t len)
{
	size_t got = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (got < len - 1 && poll(&p, 1, 15000) > 0) {
		ssize_t n = read(fd, out + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
}

int netns_run(pid_t pid, char *const argv[], char *out, size_t len)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t c = fork();
	if (c == 0) {
		enter_net(pid);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	netns_read_all(p[0], out, len);
	close(p[0]);
	int status;
	if (c < 0 || waitpid(c, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

pid_t netns_serve_once(pid_t ns, uint16_t port)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	pid_t c = fork();
	if (c == 0) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(port)};
		int one = 1;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		enter_net(ns);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(s, 4) < 0) {
			perror("serve_once");
			_exit(1);
		}
		if (write(ready[1], "1", 1) != 1)
			_exit(1);
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, 15000) <= 0)
			_exit(2);
		socklen_t sl = sizeof(sa);
		int a = accept(s, (struct sockaddr *)&sa, &sl);
		if (a < 0)
			_exit(3);
		dprintf(a, "from %s", inet_ntoa(sa.sin_addr));
		close(a);
		_exit(0);
	}
	close(ready[1]);
	char ch;
	int ok = c > 0 && read(ready[0], &ch, 1) == 1;
	close(ready[0]);
	if (!ok) {
		if (c > 0)
			waitpid(c, NULL, 0);
		return -1;
	}
	return c;
}

int netns_ask(pid_t ns, const char *addr, uint16_t port, const char *request,
	      char *out, size_t len)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t c = fork();
	if (c == 0) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(port)};
		struct timeval tv = {5, 0};
		char buf[4096];
		size_t got = 0;
		enter_net(ns);
		inet_pton(AF_INET, addr, &sa.sin_addr);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		/* connect() honours the send timeout. */
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			dprintf(p[1], "error: connect: %s",
				errno == EINPROGRESS ? "no answer in 5 s"
						     : strerror(errno));
			_exit(1);
		}
		if (request && write_all(s, request, strlen(request)) < 0) {
			dprintf(p[1], "error: write: %s", strerror(errno));
			_exit(1);
		}
		ssize_t n;
		errno = 0;
		while (got < sizeof(buf) &&
		       (n = read(s, buf + got, sizeof(buf) - got)) > 0)
			got += (size_t)n;
		if (got == 0) {
			dprintf(p[1], "error: read: %s",
				errno ? strerror(errno) : "end of stream");
			_exit(1);
		}
		if (write(p[1], buf, got) != (ssize_t)got)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	netns_read_all(p[0], out, len);
	close(p[0]);
	int status = 1;
	if (c > 0)
		waitpid(c, &status, 0);
	return c > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

void check_reaches(pid_t ns, const char *addr, uint16_t port, pid_t server_ns,
		   uint16_t server_port, const char *want, const char *what)
{
	char got[256];
	pid_t s = netns_serve_once(server_ns, server_port);
	CU_ASSERT_FATAL(s > 0);
	int rc = netns_ask(ns, addr, port, NULL, got, sizeof(got));
	kill(s, SIGKILL);
	waitpid(s, NULL, 0);
	bool ok = rc == 0 && (!want || !strcmp(got, want));
	if (!ok || netns_verbose)
		printf("\n    %s: %s:%u answered \"%s\"%s%s%s\n", what, addr,
		       port, got, want ? ", wanted \"" : "", want ? want : "",
		       want ? "\"" : "");
	CU_ASSERT(ok);
}

bool netns_links_are(const char *out, const char *want)
{
	char names[512] = "";
	for (const char *l = out; *l;) {
		const char *colon = strchr(l, ':');
		if (!colon)
			break;
		size_t n = strcspn(colon + 2, ":@");
		snprintf(names + strlen(names), sizeof(names) - strlen(names),
			 "%s%.*s", *names ? " " : "", (int)n, colon + 2);
		l = strchr(l, '\n');
		if (!l)
			break;
		l++;
	}
	if (strcmp(names, want)) {
		printf("\n    links: \"%s\", wanted \"%s\"\n", names, want);
		return false;
	}
	return true;
}
