/*
 * Stage 15: a terminal of its own, detached containers, and exec. Until
 * now the container shared the caller's terminal, lived only as long as
 * the command that started it, and nothing could join it. With -t the
 * command gets a pty from the container's own devpts; with -d a monitor
 * (a fork of the runtime, in a session of its own) stays its parent,
 * logs its output and cleans up after it, and ps, logs, stop and rm find
 * it again by its record; exec joins its namespaces and cgroups with
 * setns(2), under the same walls. The lesson is in exec.c and monitor.c;
 * the commands on containers (run -d, ps, logs, stop, rm, exec), which
 * main() dispatches to, in containers.c; the monitor's side of run -d,
 * which run_container() calls, in detach.c.
 *
 *     stage-15 pull [--insecure] REF | images | rmi REF
 *     stage-15 run [options] IMAGE [cmd [args...]]
 *     stage-15 run [options] --rootfs DIR[:DIR...] <cmd> [args...]
 *       options: --hostname NAME, --pids-max N, --memory SIZE, --cpus N,
 *       --cap-add CAP, --cap-drop CAP, -e KEY=VALUE, -w DIR,
 *       -u UID[:GID], -v HOSTDIR:CTRDIR[:ro], --entrypoint CMD,
 *       -p HOSTPORT:CTRPORT, --net bridge|none|host|slirp4netns,
 *       -t, -i, -d, --name NAME
 *     stage-15 ps [-a] | logs [-f] ID | stop [-t SECONDS] ID | rm [-f] ID
 *     stage-15 exec [-t] [-i] [-e KEY=VALUE] [-w DIR] [-u UID[:GID]] ID
 *       <cmd> [args...]
 */

/*** includes ***/

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"
#include "cgroup.h"
#include "containers.h"
#include "detach.h"
#include "error.h"
#include "exec.h"
#include "file.h"
#include "image.h"
#include "image/imagestore.h"
#include "image/libs.h"
#include "limits.h"
#include "monitor.h"
#include "net.h"
#include "overlay.h"
#include "privs.h"
#include "process.h"
#include "rootfs.h"
#include "userns.h"
#include "util.h"
#include "walls.h"

/*** config ***/

#define STAGE_NAME "stage-15"
#define STAGE_OPTS                                                             \
	(OPT_HOSTNAME | OPT_ROOTFS | OPT_PIDS_MAX | OPT_MEMORY | OPT_CPUS |    \
	 OPT_CAP_ADD | OPT_CAP_DROP | OPT_ENV | OPT_WORKDIR | OPT_USER |       \
	 OPT_VOLUME | OPT_ENTRYPOINT | OPT_PUBLISH | OPT_NET | OPT_TTY |       \
	 OPT_INTERACTIVE | OPT_DETACH | OPT_NAME)

/* Ids mapped into the container's user namespace when root runs an
 * image or a user: an image's own users (nginx's 101) are real users. */
#define IDS_MAPPED 65536

/* The container's cgroup: a directory in the pids hierarchy. */
struct cgroup {
	struct cgroup_hierarchy h;
	char parent[PATH_MAX]; /* where every container's group is */
	char dir[PATH_MAX + 64];
	int fd;	      /* dir, open for clone3() to start the child in (v2) */
	bool limited; /* false: not root and no group delegated to us, so
		       * the container runs without a pids limit */
	struct limit_groups lim; /* its memory and cpu groups */
};

/* What the child needs to know. clone3() starts it on a copy of our
 * memory, as fork() does, so it reads the parent's copy as it was. */
struct child_config {
	struct options *opts;
	char rootfs[IMAGE_LOWERS_MAX]; /* the root filesystem's layers,
					* absolute, top first, joined by ':' */
	struct run_spec spec;	/* the command, its environment, directory
				 * and user: the image's, or the line's */
	struct volume *volumes; /* -v, n_volumes of them: each is two paths
				 * (8 KiB), so only as many as asked for */
	size_t n_volumes;
	const struct layer *layer; /* the container's writable layer */
	const struct cgroup *cg;   /* the group to run in */
	const struct net *net;	   /* its network: the mode, its /etc files */
	int sync[2];	 /* the parent writes a byte once it has mapped the
			  * child's users; end of file means give up */
	sigset_t mask;	 /* the signal mask to restore before exec */
	int lifeline[2]; /* a pipe whose write end only the runtime keeps:
			  * its end of file tells the child the runtime died */
	int stdio[3];	 /* detached: the command's stdin, stdout and stderr
			  * (the monitor's pipes); -1: the runtime's own */
	int console[2];	 /* -t: a socket pair; the child sends the master of
			  * its pty to the runtime over console[1] */
	int execd;	 /* -d: a pipe's write end, closed by the child's exec
			  * (O_CLOEXEC): end of file says the command runs */
};

/*** child ***/

/* Detached: take the monitor's pipes as stdin, stdout and stderr before
 * anything else, so that even a failing set-up's message is logged. */
static void attach_stdio(const int stdio[3])
{
	for (int fd = 0; fd < 3; fd++)
		if (stdio[fd] >= 0 && dup2(stdio[fd], fd) < 0)
			die_errno("cannot attach the container's fd %d", fd);
}

/* Wait until the parent has mapped our users: until then we have no uid
 * and no capability in our namespaces. */
static void await_parent(int sync[2])
{
	char go;
	close(sync[1]);
	/* 0 bytes: the parent failed or died and closed its end. */
	if (read(sync[0], &go, 1) != 1)
		_exit(EXIT_RUNTIME);
	close(sync[0]);
}

/* Be in the container's cgroup before anything else runs, so that the
 * command counts against its limit from its first instruction. On v2 we
 * were born in it (clone3()'s CLONE_INTO_CGROUP); on v1 we move
 * ourselves in by writing 0, "this thread", to its tasks file. */
static void join_cgroup(const struct cgroup *cg)
{
	char path[PATH_MAX + 96];

	if (!cg->limited || cg->h.version == 2)
		return;
	snprintf(path, sizeof(path), "%s/tasks", cg->dir);
	if (write_file(path, "0") < 0)
		die_errno("cannot join cgroup '%s'", cg->dir);
}

/* Give the container its own hostname. In a new UTS namespace this
 * changes the child's copy only; the host keeps its name. */
static void setup_uts(const char *hostname)
{
	if (sethostname(hostname, strlen(hostname)) < 0)
		die_errno("cannot set hostname '%s'", hostname);
	verbose("hostname set to '%s'", hostname);
}

/* Stop mount events from crossing between the host and the container.
 * A new mount namespace starts as a copy of the host's, and on systemd
 * hosts every mount in it is shared with its twin on the host: a mount
 * made here would appear there too. Recursively private cuts that link. */
static void make_mounts_private(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die_errno("cannot make the container's mounts private");
	verbose("mounts made private");
}

/* Make rootfs the root of our mount namespace and detach the old one.
 * chroot() only changes where one process's path lookups start: the
 * host's root is still mounted above it, and a process allowed to chroot
 * can climb back out with "..". After pivot_root() and the detach below,
 * the host's root is no longer in this namespace at all. */
static void pivot_to(const char *rootfs)
{
	/* pivot_root() moves mounts, so the new root must be one: a bind
	 * mount of the directory onto itself makes it one. */
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		die_errno("cannot bind-mount '%s'", rootfs);
	if (chdir(rootfs) < 0)
		die_errno("cannot change directory to '%s'", rootfs);
	/* pivot_root(".", "."), as pivot_root(2) describes: the old root
	 * ends up mounted on top of the new one, at /, with no directory of
	 * its own to create (glibc has no wrapper, hence syscall()). */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_errno("cannot pivot_root to '%s'", rootfs);
	/* Detach the old root from on top; the new root is what remains. */
	if (umount2(".", MNT_DETACH) < 0)
		die_errno("cannot detach the host's root");
	if (chdir("/") < 0)
		die_errno("cannot change directory to / in '%s'", rootfs);
}

/* Make rootfs the child's / and mount a procfs there. procfs shows the
 * PID namespace of the process that mounts it: ours, so ps inside lists
 * the container's processes only. */
static void setup_rootfs(const char *rootfs)
{
	char proc[PATH_MAX + 8];

	/* From a user namespace the kernel allows a new procfs only while a
	 * whole one is visible in the mount namespace: the host's /proc,
	 * which pivot_to() detaches. So mount ours first, below the root
	 * filesystem; pivot_to()'s recursive bind carries it along. */
	snprintf(proc, sizeof(proc), "%s/proc", rootfs);
	/* nosuid, nodev, noexec: what every runtime passes for /proc. */
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		die_errno("cannot mount proc on '%s'", proc);
	pivot_to(rootfs);
	verbose("root is now '%s', proc mounted", rootfs);
}

/* -t: a pty from the container's own devpts (stage 11 mounted it; the
 * host's /dev/ptmx would make a host pty), its master sent to the
 * runtime, which copies between it and the user, its slave the
 * command's controlling terminal and stdio. */
static void setup_terminal(int console)
{
	struct pty pty;
	if (open_pty("/dev/pts/ptmx", STDIN_FILENO, &pty) < 0)
		die_errno("cannot open a pty from '/dev/pts/ptmx'");
	if (send_fd(console, pty.master) < 0)
		die_errno("cannot pass the pty to the runtime");
	close(pty.master);
	close(console);
	attach_terminal(pty.slave);
}

/* Replace the child with the command; returns only by dying. */
noreturn void exec_command(char **argv)
{
	execvp(argv[0], argv);
	/* Like a shell and docker: 127 when there is no such command,
	 * 126 when it exists but cannot be executed. */
	int status = (errno == ENOENT || errno == ENOTDIR) ? EXIT_NOT_FOUND
							   : EXIT_CANNOT_RUN;
	die_status(status, "cannot run '%s'", argv[0]);
}

/* Runs in the new process: set it up, then become the command. */
static noreturn void child_main(struct child_config *cfg)
{
	if (prepare_child(&cfg->mask, cfg->lifeline) < 0)
		die_errno("cannot prepare the child process");
	attach_stdio(cfg->stdio);
	await_parent(cfg->sync);
	join_cgroup(cfg->cg);
	join_limits(&cfg->cg->lim);
	enter_cgroup_ns();
	setup_uts(cfg->opts->hostname);
	if (cfg->net->mode != NET_MODE_HOST)
		setup_lo();
	make_mounts_private();
	setup_overlay(cfg->rootfs, cfg->layer);
	setup_etc_files(cfg->net, cfg->layer->merged);
	setup_volumes(cfg->layer->merged, cfg->volumes, cfg->n_volumes);
	setup_dev(cfg->layer->merged);
	setup_sys(cfg->layer->merged);
	setup_rootfs(cfg->layer->merged);
	setup_walls(WALLS_DEFAULT, WALLS_DEFAULT_LEN);
	if (cfg->opts->tty)
		setup_terminal(cfg->console[1]);
	enter_workdir(cfg->spec.workdir);
	set_environment(cfg->spec.env);
	drop_capabilities(
	    container_caps(cfg->opts->cap_add, cfg->opts->cap_drop));
	set_user(cfg->spec.user);
	set_no_new_privs();
	install_seccomp();
	exec_command(cfg->spec.argv);
}

/*** parent ***/

/* Die naming the host setting that forbids us a user namespace, if one
 * does. Checked before clone3(): Ubuntu's AppArmor lets it make the
 * namespace, then keeps every capability from it, and each later step
 * would fail with a bare EPERM. */
static void check_userns_allowed(void)
{
	char why[256];
	if (userns_restriction("", getuid(), why, sizeof(why)))
		die("cannot create a user namespace: %s", why);
}

/* Start the child in the container's cgroup; return its pid, or -1
 * after saying why. */
static pid_t start_child(struct child_config *cfg)
{
	/* CLONE_NEWUTS: a new UTS namespace (hostname and domain name).
	 * CLONE_NEWPID: a new PID namespace; the child is its PID 1, and
	 * when it exits the kernel kills every process left in it.
	 * CLONE_NEWNS: a new mount namespace, a copy of ours; it goes away,
	 * with every mount in it, when its last process exits.
	 * CLONE_NEWUSER: a new user namespace, created first by the kernel,
	 * which owns the others: the child has every capability in them,
	 * and none outside, even as "root".
	 * CLONE_NEWIPC: its own SysV message queues, semaphores and shared
	 * memory, and POSIX message queues; the host's are out of reach.
	 * CLONE_NEWNET: a network namespace of its own, with nothing in it
	 * but lo, down; the runtime gives it the rest (net_setup()). */
	int flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUSER |
		    CLONE_NEWIPC;
	if (cfg->net->mode != NET_MODE_HOST)
		flags |= CLONE_NEWNET;
	/* exit_signal SIGCHLD: tell us when it ends, as fork() would. */
	struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};

	/* cgroup v2 (Linux 5.7+): born in the container's group, where our
	 * moving it would make the kernel wait (see join_cgroup()). */
	if (cfg->cg->limited && cfg->cg->h.version == 2) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = cfg->cg->fd;
	}
	/* Said before clone3(): from then on the child may print too. */
	verbose("starting the child");
	/* With no stack of its own, the child goes on from here as after
	 * fork(), on a copy of ours, and never returns from child_main(). */
	pid_t pid = clone_fork(&args);
	if (pid == 0)
		child_main(cfg);
	if (pid < 0)
		report_errno("cannot create the child process");
	return pid;
}

/* Without root, map root (0) in the child's user namespace to our own
 * uid and gid, and 1 and up to the user's subordinate ids (sub), as
 * rootless podman does, so that an image's own users stay apart from
 * root. Only the setuid helpers newuidmap and newgidmap may write those,
 * having checked /etc/subuid and /etc/subgid. Returns 0, or -1 after
 * saying why. */
static int setup_subids(pid_t pid, const struct subid_map *sub)
{
	if (subid_write_maps(pid, sub) < 0) {
		report_errno("cannot map the subordinate ids of uid %d with "
			     "newuidmap and newgidmap",
			     (int)getuid());
		return -1;
	}
	verbose("root in the container is uid %d, its users 1-%lu uids %lu "
		"and up",
		(int)getuid(), sub->uid_count, sub->uid_start);
	return 0;
}

/* Map root (0) in the child's user namespace to our own uid and gid, and
 * as root the ids up to ids too, each to itself. Only a process outside
 * the namespace may write the maps, once each. */
static int setup_userns(pid_t pid, int ids)
{
	char path[64], map[64];

	/* Without root, gid_map stays closed until setgroups() is given up:
	 * else the child could drop a group that denies us access. Root
	 * keeps it, for set_user() to drop root's groups. */
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	if (geteuid() != 0 && write_file(path, "deny") < 0) {
		report_errno("cannot write '%s'", path);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %d %d", (int)getuid(), ids);
	if (write_file(path, map) < 0) {
		report_errno("cannot write '%s' to '%s'", map, path);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	snprintf(map, sizeof(map), "0 %d %d", (int)getgid(), ids);
	if (write_file(path, map) < 0) {
		report_errno("cannot write '%s' to '%s'", map, path);
		return -1;
	}
	verbose("root in the container is uid %d, gid %d", (int)getuid(),
		(int)getgid());
	return 0;
}

/* Without root: the user's subordinate ids, if /etc/subuid and
 * /etc/subgid give a range; else, for an image, say once that every
 * file of it belongs to the one user mapped. Returns whether there is a
 * range. */
static bool find_subids(struct subid_map *m, bool image)
{
	char why[256];
	if (subid_find("", m, why, sizeof(why)))
		return true;
	if (image)
		report("%s: every file of the image belongs to the one user "
		       "mapped, root inside (an image's own users need a "
		       "range: sudo usermod --add-subuids 100000-165535 "
		       "--add-subgids 100000-165535 USER)",
		       why);
	return false;
}

/* Check the root filesystem's layers (colon-separated, top first; the
 * last is the image, with its /proc) and store their absolute paths,
 * joined the same way, in cfg. */
static void find_rootfs(struct child_config *cfg)
{
	char why[PATH_MAX + 256];

	if (rootfs_join_layers(cfg->opts->rootfs, cfg->rootfs,
			       sizeof(cfg->rootfs), why, sizeof(why)) < 0)
		die("cannot use rootfs '%s': %s", cfg->opts->rootfs, why);
}

/* What to run: with --rootfs, its layers and the line's command; else
 * the first word is an image, whose layers and config it is (with the
 * line's overrides). Then the volumes. Dies after saying why; returns
 * whether the container runs an image. */
static bool find_image(struct child_config *cfg, struct image *img)
{
	struct options *o = cfg->opts;
	struct run_request req = {.cmd = o->argv,
				  .entrypoint = o->entrypoint,
				  .env = o->env.v,
				  .n_env = o->env.n,
				  .workdir = o->workdir,
				  .user = o->user,
				  .hostname = o->hostname};
	bool image = !(o->given & OPT_ROOTFS);

	if (image) {
		if (open_image(o->argv[0], img) < 0)
			exit(EXIT_RUNTIME);
		snprintf(cfg->rootfs, sizeof(cfg->rootfs), "%s", img->lowers);
		req.cmd = o->argv + 1;
	} else {
		find_rootfs(cfg);
	}
	if (make_run_spec(image ? &img->config : NULL, &req, &cfg->spec) < 0)
		exit(EXIT_RUNTIME);
	cfg->volumes =
	    calloc(o->volumes.n ? o->volumes.n : 1, sizeof(*cfg->volumes));
	if (!cfg->volumes)
		die_errno("cannot allocate the volumes");
	for (size_t i = 0; i < o->volumes.n; i++)
		if (parse_volume(o->volumes.v[i], &cfg->volumes[i]) < 0)
			exit(EXIT_RUNTIME);
	cfg->n_volumes = o->volumes.n;
	return image;
}

/* The container's network from --net and -p into net: as root bridge,
 * else slirp4netns when it can run (installed, and /dev/net/tun open to
 * us), else none (said, as the missing pids limit is). Dies on what
 * cannot be: bridge without root, ports with no network of its own to
 * publish them from. */
static void choose_net(const struct options *o, struct net *net)
{
	static const char *const modes[] = {[NET_MODE_BRIDGE] = "bridge",
					    [NET_MODE_NONE] = "none",
					    [NET_MODE_HOST] = "host",
					    [NET_MODE_SLIRP] = "slirp4netns"};
	enum net_mode mode = NET_MODE_NONE;
	bool root = geteuid() == 0;
	char why[256];

	if (!o->net && root)
		mode = NET_MODE_BRIDGE;
	else if (!o->net && !net_slirp_available())
		report("no network: not root, and slirp4netns is not installed "
		       "(apt-get install slirp4netns), so --net none");
	else if (!o->net && access("/dev/net/tun", R_OK | W_OK) < 0)
		report("no network: not root, and /dev/net/tun is not open to "
		       "uid %d, which slirp4netns needs, so --net none",
		       (int)getuid());
	else if (!o->net)
		mode = NET_MODE_SLIRP;
	for (size_t m = 0; o->net && m < ARRAY_SIZE(modes); m++)
		if (!strcmp(o->net, modes[m]))
			mode = (enum net_mode)m;
	net_init(net, mode);
	if (mode == NET_MODE_BRIDGE && !root)
		die("cannot use --net bridge: it makes interfaces on the host, "
		    "which needs root (--net slirp4netns does without)");
	if (mode == NET_MODE_SLIRP && !net_slirp_available())
		die("cannot use --net slirp4netns: it is not installed "
		    "(apt-get install slirp4netns)");
	if (o->ports.n && (mode == NET_MODE_NONE || mode == NET_MODE_HOST))
		die("cannot publish ports with --net %s: %s", modes[mode],
		    mode == NET_MODE_NONE ? "the container has no network"
					  : "its ports are the host's already");
	if (o->ports.n > NET_MAX_PORTS)
		die("bad -p: more than %d ports", NET_MAX_PORTS);
	for (size_t i = 0; i < o->ports.n; i++)
		if (net_parse_port(o->ports.v[i], &net->ports[i], why,
				   sizeof(why)) < 0)
			die("bad -p %s", why);
	net->n_ports = o->ports.n;
	net->hostname = o->hostname;
}

/* Make this container's cgroup, minidocker/minidocker-<our pid>, with at
 * most pids_max processes, and open it; without root, in a group
 * delegated to us, and when there is none, none (cg->limited false).
 * Returns 0, or -1 after saying why. */
static int setup_cgroup(struct cgroup *cg, long pids_max)
{
	char why[256], path[PATH_MAX + 96], max[32];
	bool root = geteuid() == 0;

	cg->limited = false;
	if (cgroup_find_pids(&cg->h, why, sizeof(why)) < 0) {
		if (!root)
			return 0;
		report("cannot limit processes: %s", why);
		return -1;
	}
	/* The plumbing: make minidocker/ (root) or find the group systemd
	 * delegates to us (not root, v2), and sweep out the groups of dead
	 * runtimes (common/cgroup.c). */
	if (cgroup_setup_parent(&cg->h, cg->parent, sizeof(cg->parent)) < 0) {
		if (!root && errno == EACCES)
			return 0;
		report_errno("cannot set up cgroup '%s'", cg->parent);
		return -1;
	}
	snprintf(cg->dir, sizeof(cg->dir), "%s/" CGROUP_PREFIX "%d", cg->parent,
		 (int)getpid());
	if (mkdir(cg->dir, 0755) < 0) {
		report_errno("cannot create cgroup '%s'", cg->dir);
		return -1;
	}
	/* The Go post also wrote notify_on_release: on v1 it only runs a
	 * release agent, which nobody installs, and v2 has no such file.
	 * Nothing removes a group but rmdir, which remove_cgroup() does. */
	snprintf(path, sizeof(path), "%s/pids.max", cg->dir);
	snprintf(max, sizeof(max), "%ld", pids_max);
	if (write_file(path, max) < 0) {
		report_errno("cannot write %s to '%s'", max, path);
		rmdir(cg->dir);
		return -1;
	}
	cg->fd = open(cg->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		report_errno("cannot open cgroup '%s'", cg->dir);
		rmdir(cg->dir);
		return -1;
	}
	cg->limited = true;
	verbose("cgroup v%d '%s' allows %s processes", cg->h.version, cg->dir,
		max);
	return 0;
}

/* Kill what is left in the cgroup and remove it. Returns 0, or -1 after
 * saying why. */
static int remove_cgroup(struct cgroup *cg)
{
	if (!cg->limited)
		return 0;
	close(cg->fd);
	/* Two seconds: the PID namespace is already emptied by now. */
	if (cgroup_remove(cg->dir, 2000) < 0) {
		report_errno("cannot remove cgroup '%s'", cg->dir);
		return -1;
	}
	verbose("removed cgroup '%s'", cg->dir);
	return 0;
}

/* Stop a child that has not been let go: it sees its pipe close. */
static void stop_child(struct child_config *cfg, pid_t pid)
{
	close(cfg->sync[1]);
	kill(pid, SIGKILL);
	wait_child(pid);
}

/* Close the ends of the stdio pipes and of the console socket that are
 * the child's, once it has them. */
static void close_child_ends(struct child_config *cfg)
{
	for (int fd = 0; fd < 3; fd++)
		if (cfg->stdio[fd] >= 0)
			close(cfg->stdio[fd]);
	if (cfg->console[1] >= 0)
		close(cfg->console[1]);
	if (cfg->execd >= 0)
		close(cfg->execd);
	cfg->stdio[0] = cfg->stdio[1] = cfg->stdio[2] = cfg->console[1] = -1;
	cfg->execd = -1;
}

/* Run the command in a child; return its exit status. The runtime owns
 * the cgroup from setup_cgroup() on, the limit groups from
 * setup_limits() on, the layer from setup_layer() on and the network
 * from net_reserve() on: every way out removes them. */
int run_container(struct options *opts, struct detached *det)
{
	struct cgroup cg;
	struct layer layer = {.st.lock_fd = -1};
	struct net net;
	struct child_config cfg = {.opts = opts,
				   .cg = &cg,
				   .layer = &layer,
				   .net = &net,
				   .stdio = {-1, -1, -1},
				   .console = {-1, -1},
				   .execd = -1};
	struct monitor_ends ends = {
	    .in = -1, .out = -1, .err = -1, .execd = -1};
	struct limits limits = {opts->memory, opts->cpu_quota};
	struct image img;
	int status = EXIT_RUNTIME;

	choose_net(opts, &net);
	bool image = find_image(&cfg, &img);
	int ids = geteuid() == 0 && (image || cfg.spec.user) ? IDS_MAPPED : 1;
	struct subid_map subids;
	bool sub = geteuid() != 0 && (image || cfg.spec.user) &&
		   find_subids(&subids, image);
	check_userns_allowed();
	if (pipe2(cfg.sync, O_CLOEXEC) < 0)
		die_errno("cannot make a pipe");

	/* Block the forwarded signals until the child's pid is known. */
	if (block_signals(&cfg.mask) < 0)
		die_errno("cannot block signals");
	if (pipe2(cfg.lifeline, O_CLOEXEC) < 0)
		die_errno("cannot make a pipe");
	/* The group comes first: the child is started in it. */
	if (setup_cgroup(&cg, opts->pids_max) < 0)
		goto out_spec;
	if (!cg.limited)
		report("no pids limit: not root, and no cgroup v2 group is "
		       "delegated to uid %d (run it with sudo for a limit)",
		       (int)getuid());
	if (setup_limits(&cg.lim, &cg.h, cg.parent, cg.limited ? cg.dir : NULL,
			 &limits) < 0)
		goto out_cgroup;
	if (setup_layer(&layer) < 0)
		goto out;
	/* The address and the host's ports, before the child: a port taken
	 * fails here, with nothing started. */
	net.run = layer.st.run;
	net.dir = layer.st.dir;
	if (net_reserve(&net) < 0)
		goto out;
	/* -t: the socket the child sends its pty's master over. -d: the
	 * pipes the monitor reads the container's output from. */
	if (opts->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    cfg.console) < 0) {
		report_errno("cannot make a socket pair");
		goto out;
	}
	if (det &&
	    make_stdio(opts->interactive, cfg.stdio, &cfg.execd, &ends) < 0)
		goto out;

	pid_t pid = start_child(&cfg);
	close_child_ends(&cfg);
	if (pid < 0)
		goto out;
	close(cfg.sync[0]);
	if ((sub ? setup_subids(pid, &subids) : setup_userns(pid, ids)) < 0) {
		stop_child(&cfg, pid);
		goto out;
	}
	/* After the maps (slirp4netns enters the child's user namespace,
	 * where it needs them), before the child goes on: its eth0 is up
	 * before the command's first instruction. */
	net.pid = pid;
	if (net_setup(&net) < 0) {
		stop_child(&cfg, pid);
		goto out;
	}
	/* Let the child go on. A child that died meanwhile has closed the
	 * pipe: the write fails with EPIPE (the runtime ignores SIGPIPE). */
	if (write_all(cfg.sync[1], "1", 1) < 0) {
		report_errno("cannot start the child process");
		stop_child(&cfg, pid);
		goto out;
	}
	close(cfg.sync[1]);
	/* -t: the pty's master, sent once the child has its devpts; none
	 * when it died first (having said why). */
	int master = opts->tty ? recv_fd(cfg.console[0]) : -1;
	if (det) {
		struct group_dirs groups = {cg.limited ? cg.dir : NULL, &cg.lim,
					    NULL};
		status = monitor_detached(det, pid, &groups,
					  master >= 0 ? master : ends.out,
					  ends.err, ends.execd);
		if (status < 0) {
			status = EXIT_RUNTIME;
			goto out;
		}
	} else {
		if (forward_signals(pid, &cfg.mask) < 0) {
			report_errno("cannot forward signals");
			kill(pid, SIGKILL);
			wait_child(pid);
			goto out;
		}
		if (master >= 0)
			copy_terminal(master, pid, opts->interactive);
		status = wait_child(pid);
		if (status < 0) {
			report_errno("cannot wait for the child process");
			status = EXIT_RUNTIME;
			goto out;
		}
	}
	verbose("child %d ended with status %d", (int)pid, status);
	report_oom(&cg.lim, &limits, status);
out:
	/* Before the layer: the network's files are in its directory. */
	if (net_teardown(&net) < 0)
		status = EXIT_RUNTIME;
	if (remove_layer(&layer) < 0)
		status = EXIT_RUNTIME;
	if (remove_limits(&cg.lim) < 0)
		status = EXIT_RUNTIME;
out_cgroup:
	if (remove_cgroup(&cg) < 0)
		status = EXIT_RUNTIME;
out_spec:
	free(cfg.spec.argv);
	free(cfg.spec.env);
	if (image)
		free_image(&img);
	free(cfg.volumes);
	return status;
}

/*** main ***/

/* pull [--insecure] REF, images, rmi REF: the image commands, beside
 * run. */
static int image_command(int argc, char **argv)
{
	const char *cmd = argv[1];
	bool pull = !strcmp(cmd, "pull"), one_ref = strcmp(cmd, "images") != 0;
	bool insecure = pull && argc == 4 && !strcmp(argv[2], "--insecure");
	const char *ref = argv[insecure ? 3 : 2];

	if (argc != (one_ref ? 3 : 2) + insecure ||
	    (one_ref && (!*ref || *ref == '-')))
		die("usage: %s %s%s", STAGE_NAME, cmd,
		    pull      ? " [--insecure] REF"
		    : one_ref ? " REF"
			      : "");
	/* Their libraries load only into a dynamically linked program: a
	 * static build runs them in its twin (image/libs.h). */
	exec_dynamic_twin(argv);
	int rc = pull			  ? pull_image(ref, insecure)
		 : !strcmp(cmd, "images") ? list_images(stdout)
					  : remove_image(ref);
	return rc < 0 ? EXIT_RUNTIME : 0;
}

int main(int argc, char **argv)
{
	struct options opts;
	char err[256];

	set_prog_name(STAGE_NAME);
	if (argc >= 2 &&
	    (!strcmp(argv[1], "pull") || !strcmp(argv[1], "images") ||
	     !strcmp(argv[1], "rmi")))
		return image_command(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "exec"))
		return exec_in_container(argc, argv);
	if (argc >= 2 && (!strcmp(argv[1], "ps") || !strcmp(argv[1], "logs") ||
			  !strcmp(argv[1], "stop") || !strcmp(argv[1], "rm")))
		return container_command(argc, argv);
	switch (parse_args(argc, argv, STAGE_OPTS, &opts, err, sizeof(err))) {
	case ARGS_HELP:
		print_usage(stdout, STAGE_NAME, STAGE_OPTS);
		printf("\nrun IMAGE [cmd...] runs an image of the store (the "
		       "first word, unless --rootfs);\nthe store: %s pull "
		       "[--insecure] REF, "
		       "%s images, %s rmi REF\n",
		       STAGE_NAME, STAGE_NAME, STAGE_NAME);
		printf("detached (-d) containers: %s ps [-a], logs [-f] ID, "
		       "stop [-t SECONDS] ID,\nrm [-f] ID, exec [-t] [-i] "
		       "[-e KEY=VALUE] [-w DIR] [-u UID[:GID]] ID <cmd>\n",
		       STAGE_NAME);
		return 0;
	case ARGS_ERROR:
		die("%s (usage: %s run [options] IMAGE [cmd...], or run "
		    "[options] --rootfs DIR <cmd> [args...])",
		    err, STAGE_NAME);
	case ARGS_OK:
		break;
	}
	set_verbose(opts.verbose);
	/* A name addresses a record, which only a detached container has. */
	if (opts.name && !opts.detach)
		die("--name needs -d: only a detached container is kept "
		    "under a name");
	return opts.detach ? run_detached(&opts) : run_container(&opts, NULL);
}
