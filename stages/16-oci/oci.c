/*
 * Stage 16's lesson: the OCI runtime command line. The spec (read by
 * common/oci/spec.c) onto the plain data of stages 9 to 11, the OCI
 * state, the exec.fifo between create and start, the hooks, and signals
 * by name.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "caps.h"
#include "ctr/record.h"
#include "error.h"
#include "oci.h"
#include "privs.h"
#include "process.h"
#include "util.h"

/*** the spec, as the lessons take it ***/

/* Say why the spec is refused, after the file's name. Returns -1. */
__attribute__((format(printf, 4, 5))) static int
refuse(const struct oci_spec *spec, char *why, size_t why_len, const char *fmt,
       ...)
{
	int n = snprintf(why, why_len, "%s: ", spec->name);
	if (n >= 0 && (size_t)n < why_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why + n, why_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int oci_map_spec(const struct oci_spec *spec, struct oci_lessons *out,
		 char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));

	/* Stage 10: drop_capabilities() keeps one set as bounding,
	 * permitted and effective, and clears inheritable and ambient: a
	 * config that needs them apart is one we cannot apply. Ambient for
	 * root is no more than its bounding set gives it at exec anyway.
	 * None given: every set empty, so none kept, as runc and crun. */
	const uint64_t *c = spec->caps, one = c[OCI_CAP_BOUNDING];
	out->keep_caps = one;
	if (c[OCI_CAP_EFFECTIVE] != one || c[OCI_CAP_PERMITTED] != one)
		return refuse(
		    spec, why, why_len,
		    "'process.capabilities' with effective or permitted "
		    "other than bounding is not supported by this "
		    "runtime (one set for all)");
	if (c[OCI_CAP_INHERITABLE])
		return refuse(spec, why, why_len,
			      "'process.capabilities.inheritable' is not "
			      "supported by this runtime");
	if (c[OCI_CAP_AMBIENT] &&
	    (spec->uid != 0 || (c[OCI_CAP_AMBIENT] & ~one)))
		return refuse(
		    spec, why, why_len,
		    "'process.capabilities.ambient' is not supported by "
		    "this runtime (only for root, within bounding)");

	/* Stage 9: a hard memory limit, a quota per its own CPU_PERIOD
	 * (the same share of a CPU as the spec's quota per period). */
	out->limits.memory = (long)spec->memory_limit;
	if (spec->cpu_quota > 0) {
		out->limits.cpu_quota =
		    (long)(spec->cpu_quota * CPU_PERIOD / spec->cpu_period);
		if (out->limits.cpu_quota < 1000)
			return refuse(
			    spec, why, why_len,
			    "'linux.resources.cpu.quota' is below 1 ms "
			    "per 100 ms, which the kernel refuses");
	}

	/* Stage 11: each masked path, then each read-only one. */
	size_t n = 0;
	for (size_t i = 0; spec->masked_paths && spec->masked_paths[i]; i++)
		n++;
	for (size_t i = 0; spec->readonly_paths && spec->readonly_paths[i]; i++)
		n++;
	out->walls = calloc(n ? n : 1, sizeof(*out->walls));
	if (!out->walls)
		return refuse(spec, why, why_len, "%s", strerror(ENOMEM));
	for (size_t i = 0; spec->masked_paths && spec->masked_paths[i]; i++)
		out->walls[out->n_walls++] =
		    (struct wall){spec->masked_paths[i], WALL_MASKED};
	for (size_t i = 0; spec->readonly_paths && spec->readonly_paths[i]; i++)
		out->walls[out->n_walls++] =
		    (struct wall){spec->readonly_paths[i], WALL_READONLY};
	return 0;
}

void oci_free_lessons(struct oci_lessons *out)
{
	free(out->walls);
	memset(out, 0, sizeof(*out));
}

/*** spec ***/

/* What `spec` writes, less what comes from the lessons' own tables (the
 * capabilities of stage 10, the walls of stage 11): the shape of runc's
 * and crun's, with a user namespace left out (it needs maps that only
 * the caller knows) and a cgroup namespace in (stage 11). */
static const char default_spec[] =
    "{\"ociVersion\": \"" OCI_VERSION "\","
    " \"process\": {\"terminal\": true, \"user\": {\"uid\": 0, \"gid\": 0},"
    "  \"args\": [\"sh\"],"
    "  \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
    "/sbin:/bin\", \"TERM=xterm\"],"
    "  \"cwd\": \"/\","
    "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024,"
    " \"soft\": 1024}],"
    "  \"noNewPrivileges\": true},"
    " \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
    " \"hostname\": \"minidocker\","
    " \"mounts\": ["
    "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
    "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
    "   \"options\": [\"nosuid\", \"strictatime\", \"mode=755\","
    " \"size=65536k\"]},"
    "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\":"
    " \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\","
    " \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]},"
    "  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\":"
    " \"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\","
    " \"mode=1777\", \"size=65536k\"]},"
    "  {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\":"
    " \"mqueue\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
    "  {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\":"
    " \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}],"
    " \"linux\": {"
    "  \"resources\": {\"devices\": [{\"allow\": false, \"access\":"
    " \"rwm\"}]},"
    "  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"},"
    " {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"},"
    " {\"type\": \"cgroup\"}]}}";

char *oci_default_spec(void)
{
	json_t *o = json_loads(default_spec, 0, NULL);
	json_t *process = json_object_get(o, "process");
	json_t *linux_ = json_object_get(o, "linux");
	json_t *masked = json_array(), *ro = json_array();
	char *text = NULL;
	if (!process || !linux_ || !masked || !ro)
		goto out;
	/* One set, as drop_capabilities() applies it: no inheritable, no
	 * ambient. */
	json_object_set_new(process, "capabilities",
			    json_pack("{s:o, s:o, s:o}", "bounding",
				      oci_cap_names(CAPS_DEFAULT), "effective",
				      oci_cap_names(CAPS_DEFAULT), "permitted",
				      oci_cap_names(CAPS_DEFAULT)));
	for (size_t i = 0; i < WALLS_DEFAULT_LEN; i++)
		json_array_append_new(
		    WALLS_DEFAULT[i].kind == WALL_MASKED ? masked : ro,
		    json_string(WALLS_DEFAULT[i].path));
	json_object_set(linux_, "maskedPaths", masked);
	json_object_set(linux_, "readonlyPaths", ro);
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(masked);
	json_decref(ro);
	json_decref(o);
	return text;
}

int oci_write_default_spec(const char *dir)
{
	char path[PATH_MAX];
	char *text = oci_default_spec();
	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" OCI_CONFIG, dir);
	/* O_EXCL: never over a bundle's own config.json. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int bad = !f || fprintf(f, "%s\n", text) < 0;
	int saved = errno;
	if (f && fclose(f) != 0 && !bad) {
		saved = errno;
		bad = 1;
	}
	if (bad && fd >= 0)
		unlink(path);
	free(text);
	errno = saved;
	return bad ? -1 : 0;
}

/*** state ***/

static const char *const status_names[] = {"creating", "created", "running",
					   "stopped"};

const char *oci_status_name(enum oci_status status)
{
	return (unsigned)status < ARRAY_SIZE(status_names)
		   ? status_names[status]
		   : "unknown";
}

bool oci_id_valid(const char *id)
{
	/* Docker's names' rules (a letter or digit first, then letters,
	 * digits and "_.-"): never "..", "/" or an empty name. */
	return ctr_name_valid(id);
}

/* st as the JSON object `state` prints. */
static json_t *state_object(const struct oci_state *st)
{
	/* A stopped container has no process: pid 0, as runc and crun
	 * print it (pidStart keeps what it was). */
	int pid = st->status == OCI_STOPPED ? 0 : (int)st->pid;
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:O*, s:I}", "ociVersion",
			 OCI_VERSION, "id", st->id, "status",
			 oci_status_name(st->status), "pid", pid, "bundle",
			 st->bundle, "annotations", st->annotations, "pidStart",
			 (json_int_t)st->pid_start);
}

char *oci_state_json(const struct oci_state *st)
{
	json_t *o = state_object(st);
	char *text =
	    o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return text;
}

int oci_write_state(const char *dir, const struct oci_state *st)
{
	json_t *o = state_object(st);
	/* Atomic (a reader sees the old state or the new), not durable:
	 * no fsync(2), as runc and crun. It tells of processes a crash
	 * ends, and its root is a tmpfs (/run) as a rule; on a disk an
	 * fsync costs milliseconds, twice a container. */
	int rc = ctr_write_json(dir, OCI_STATE_FILE, o,
				JSON_INDENT(2) | JSON_PRESERVE_ORDER, false);
	int saved = errno;
	json_decref(o);
	errno = saved;
	return rc;
}

int oci_read_state(const char *dir, struct oci_state *st, char *why,
		   size_t why_len)
{
	char path[PATH_MAX];
	const char *id, *status, *bundle;
	json_int_t pid, start;
	json_t *notes = NULL;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/" OCI_STATE_FILE, dir);
	json_t *o = ctr_read_json(dir, OCI_STATE_FILE, why, why_len);
	if (!o)
		return -1;
	size_t k = 0;
	int bad = json_unpack(o, "{s:s, s:s, s:I, s:s, s?o, s:I}", "id", &id,
			      "status", &status, "pid", &pid, "bundle", &bundle,
			      "annotations", &notes, "pidStart", &start) < 0 ||
		  strlen(id) >= sizeof(st->id) ||
		  strlen(bundle) >= sizeof(st->bundle) || pid < 0 ||
		  pid > INT_MAX || start < 0 ||
		  (notes && !json_is_object(notes));
	while (!bad && k < ARRAY_SIZE(status_names) &&
	       strcmp(status_names[k], status))
		k++;
	if (bad || k == ARRAY_SIZE(status_names)) {
		json_decref(o);
		snprintf(why, why_len, "'%s' is not a container's state", path);
		errno = EINVAL;
		return -1;
	}
	snprintf(st->id, sizeof(st->id), "%s", id);
	snprintf(st->bundle, sizeof(st->bundle), "%s", bundle);
	st->status = (enum oci_status)k;
	st->pid = (pid_t)pid;
	st->pid_start = (unsigned long long)start;
	st->annotations = notes ? json_incref(notes) : NULL;
	json_decref(o);
	return 0;
}

void oci_free_state(struct oci_state *st)
{
	if (st->annotations)
		json_decref(st->annotations);
	st->annotations = NULL;
}

/* Whether st's process still runs: its pid has the start time st keeps
 * (a pid given to another process since has another), and it is no
 * zombie (it ended; its parent has not reaped it yet: stopped, as runc
 * and crun say). */
static bool state_alive(const struct oci_state *st)
{
	struct proc_stat ps;
	return st->pid > 0 && proc_stat(st->pid, &ps) == 0 &&
	       ps.start == st->pid_start && ps.state != 'Z' && ps.state != 'X';
}

enum oci_status oci_refresh_state(const char *dir, struct oci_state *st)
{
	char fifo[PATH_MAX];
	if (st->status == OCI_CREATED || st->status == OCI_RUNNING) {
		snprintf(fifo, sizeof(fifo), "%s/" OCI_FIFO, dir);
		if (!state_alive(st))
			st->status = OCI_STOPPED;
		else if (access(fifo, F_OK) < 0 && errno == ENOENT)
			st->status = OCI_RUNNING;
	}
	return st->status;
}

/*** paths inside the root ***/

int oci_open_in_root(int root, const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	return oci_walk_in_root(root, path, flags);
}

int oci_walk_in_root(int root, const char *path, int flags)
{
	/* done: what is resolved so far, relative to root ("" is root),
	 * links none; todo: what is left, "/"-separated. */
	char done[PATH_MAX] = "", todo[PATH_MAX], next[PATH_MAX],
	     link[PATH_MAX];
	int links = 0;
	snprintf(todo, sizeof(todo), "%s", path);
	for (char *t = todo; *t;) {
		size_t len = strcspn(t, "/"), end = strlen(done);
		char *rest = t[len] ? t + len + 1 : t + len;
		if (len == 0 || (len == 1 && t[0] == '.')) {
			t = rest;
			continue;
		}
		if (len == 2 && !strncmp(t, "..", 2)) {
			/* Up, but never above root. */
			char *slash = strrchr(done, '/');
			*(slash ? slash : done) = '\0';
			t = rest;
			continue;
		}
		if (end + len + 2 > sizeof(done)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		snprintf(done + end, sizeof(done) - end, "%s%.*s",
			 end ? "/" : "", (int)len, t);
		ssize_t n = readlinkat(root, done, link, sizeof(link) - 1);
		if (n < 0 && errno != EINVAL)
			return -1; /* ENOENT, ENOTDIR: as open(2) says */
		if (n < 0) {	   /* not a link: go on from it */
			t = rest;
			continue;
		}
		if (++links > 40) {
			errno = ELOOP;
			return -1;
		}
		/* The link's target in its place: from root when absolute,
		 * else from the directory that holds the link. */
		link[n] = '\0';
		done[end] = '\0';
		if (link[0] == '/')
			done[0] = '\0';
		if (snprintf(next, sizeof(next), "%s/%s", link, rest) >=
		    (int)sizeof(next)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(todo, next, sizeof(todo));
		t = todo;
	}
	/* Nothing in done is a link: opened as it is, none followed. */
	return openat(root, done[0] ? done : ".",
		      flags | O_NOFOLLOW | O_CLOEXEC);
}

/* Make name in the directory dir: a directory, or an empty file. 0 when
 * it is made or was there (as anything, a link too), else -1. */
static int make_entry(int dir, const char *name, bool file)
{
	if (!file)
		return mkdirat(dir, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
	/* O_EXCL: a link in name's place is never followed to make its
	 * target where it points (out of root, maybe). */
	int fd =
	    openat(dir, name,
		   O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	return fd < 0 && errno != EEXIST ? -1 : 0;
}

int oci_make_in_root(int root, const char *path, bool file)
{
	char want[PATH_MAX], upto[PATH_MAX], link[PATH_MAX], next[PATH_MAX];
	snprintf(want, sizeof(want), "%s%s", path[0] == '/' ? "" : "/", path);
	for (int links = 0; links <= 40; links++) {
		bool again = false;
		/* Each component in turn, made in its parent as found inside
		 * root. A link whose target is missing: want again with the
		 * target in the link's place, from root when absolute. */
		for (const char *c = want; !again && *c;) {
			c += 1 + strcspn(c + 1, "/");
			snprintf(upto, sizeof(upto), "%.*s", (int)(c - want),
				 want);
			char *name = strrchr(upto, '/');
			*name++ = '\0';
			if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			int dir = oci_open_in_root(root, *upto ? upto : "/",
						   O_PATH | O_DIRECTORY);
			if (dir < 0)
				return -1;
			int rc = make_entry(dir, name, file && !*c);
			ssize_t n = rc < 0 ? -1
					   : readlinkat(dir, name, link,
							sizeof(link) - 1);
			int saved = errno;
			close(dir);
			if (rc < 0) {
				errno = saved;
				return -1;
			}
			name[-1] = '/';
			int fd =
			    n > 0 ? oci_open_in_root(root, upto, O_PATH) : 0;
			if (fd > 0)
				close(fd);
			if (fd >= 0)
				continue;
			if (errno != ENOENT)
				return -1;
			link[n] = '\0';
			name[-1] = '\0';
			if (snprintf(next, sizeof(next), "%s%s%s%s",
				     link[0] == '/' ? "" : upto,
				     link[0] == '/' ? "" : "/", link,
				     c) >= (int)sizeof(next)) {
				errno = ENAMETOOLONG;
				return -1;
			}
			memcpy(want, next, sizeof(want));
			again = true;
		}
		if (!again)
			return oci_open_in_root(root, want, O_PATH);
	}
	errno = ELOOP;
	return -1;
}

/*** create and start ***/

int oci_make_fifo(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" OCI_FIFO, dir);
	/* The process reopens it to write as the spec's user, whoever
	 * that is by then: writable by all (chmod: past the umask). Only
	 * root, the runtime, reads it; and only through the state
	 * directory, or the process's own descriptor, is it in reach. */
	if (mkfifo(path, 0600) < 0)
		return -1;
	return chmod(path, 0622);
}

int oci_open_fifo(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" OCI_FIFO, dir);
	/* O_PATH: a handle that opens nothing, so no wait here. */
	return open(path, O_PATH | O_CLOEXEC);
}

int oci_wait_start(int fd)
{
	char path[64];
	/* Opening a fifo to write waits for a reader: `start`. Through
	 * /proc/self/fd, since the state directory is out of our root by
	 * now. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int w = open(path, O_WRONLY | O_CLOEXEC);
	int saved = errno;
	close(fd);
	if (w < 0) {
		errno = saved;
		return -1;
	}
	/* One byte: start reads it, so it knows we passed. */
	int rc = write_all(w, "0", 1);
	saved = errno;
	close(w);
	errno = saved;
	return rc;
}

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int oci_start(const char *dir, const struct oci_state *st, int timeout_ms,
	      char *why, size_t why_len)
{
	char path[PATH_MAX], byte;
	snprintf(path, sizeof(path), "%s/" OCI_FIFO, dir);
	/* O_NONBLOCK: the open never waits, even with no writer (a process
	 * that died); the poll below waits, with a bound. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;
		snprintf(why, why_len, "container '%s' %s", st->id,
			 saved == ENOENT ? "was started already"
					 : strerror(saved));
		errno = saved;
		return -1;
	}
	long long end = now_ms() + timeout_ms;
	int rc = -1, err = ETIMEDOUT;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n = 0;
		if (poll(&pfd, 1, 10) > 0 && (pfd.revents & POLLIN))
			n = read(fd, &byte, 1);
		if (n == 1) {
			rc = 0;
			break;
		}
		if (!state_alive(st)) {
			err = ESRCH;
			break;
		}
		if (now_ms() > end)
			break;
	}
	close(fd);
	if (rc == 0 && unlink(path) < 0 && errno != ENOENT) {
		err = errno;
		rc = -1;
	}
	if (rc < 0) {
		snprintf(why, why_len, "cannot start container '%s': %s",
			 st->id,
			 err == ESRCH ? "its process is gone" : strerror(err));
		errno = err;
	}
	return rc;
}

/*** seccomp ***/

/* Add one rule: action for call nr when the n tests of args hold. The
 * spec joins tests of different arguments with "and" and tests of one
 * argument with "or", which one libseccomp rule cannot say (it refuses
 * an argument twice): then one rule per test. Returns 0, or libseccomp's
 * negative errno. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
		    const struct oci_syscall *rule)
{
	struct scmp_arg_cmp cmp[OCI_SYSCALL_ARGS];
	bool twice = false;
	for (size_t i = 0; i < rule->n_args; i++) {
		const struct oci_syscall_arg *a = &rule->args[i];
		cmp[i] = (struct scmp_arg_cmp){
		    a->index, (enum scmp_compare)a->op, a->value, a->value_two};
		for (size_t j = 0; j < i; j++)
			twice |= rule->args[j].index == a->index;
	}
	if (!twice)
		return seccomp_rule_add_array(ctx, action, nr,
					      (unsigned)rule->n_args, cmp);
	for (size_t i = 0; i < rule->n_args; i++) {
		int err = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i]);
		if (err)
			return err;
	}
	return 0;
}

int oci_load_seccomp(const struct oci_seccomp *sc, char *why, size_t why_len)
{
	if (!sc->given)
		return 0;
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);
	if (!ctx) {
		snprintf(why, why_len, "cannot make a seccomp filter");
		return -1;
	}
	/* no_new_privs is the spec's noNewPrivileges, set or not by the
	 * spine; without it the kernel wants CAP_SYS_ADMIN to load. */
	int err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t i = 0; !err && i < sc->n_arches; i++) {
		err = seccomp_arch_add(ctx, sc->arches[i]);
		if (err == -EEXIST) /* the native one, there already */
			err = 0;
	}
	const char *name = "";
	for (size_t i = 0; !err && i < sc->n_syscalls; i++) {
		const struct oci_syscall *rule = &sc->syscalls[i];
		/* libseccomp refuses a rule that does what the default does;
		 * it would change nothing. */
		if (rule->action == sc->default_action)
			continue;
		for (size_t k = 0; !err && rule->names[k]; k++) {
			name = rule->names[k];
			int nr = seccomp_syscall_resolve_name(name);
			/* Profiles list the calls of every architecture:
			 * one this one lacks has nothing to filter. */
			if (nr == __NR_SCMP_ERROR)
				continue;
			err = add_rule(ctx, rule->action, nr, rule);
		}
	}
	if (err)
		snprintf(why, why_len,
			 "cannot add the seccomp rule for '%s': %s", name,
			 strerror(-err));
	else if ((err = seccomp_load(ctx)) != 0)
		snprintf(why, why_len, "cannot load the seccomp filter: %s",
			 strerror(-err));
	seccomp_release(ctx);
	return err ? -1 : 0;
}

/*** hooks ***/

int oci_run_hook(const struct oci_hook *h, const char *state, char *why,
		 size_t why_len)
{
	/* The state in a memory file, not a pipe: a hook that never reads
	 * it cannot block us, nor kill us with SIGPIPE. */
	int in = memfd_create("oci-state", MFD_CLOEXEC);
	if (in < 0 || write_all(in, state, strlen(state)) < 0 ||
	    lseek(in, 0, SEEK_SET) < 0) {
		snprintf(why, why_len, "cannot pass the state to hook '%s': %s",
			 h->path, strerror(errno));
		if (in >= 0)
			close(in);
		return -1;
	}
	static const char *const no_env[] = {NULL};
	const char *just_path[] = {h->path, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		/* Its stdout on our stderr: a runtime's stdout is the
		 * container's alone. */
		if (dup2(in, 0) < 0 || dup2(2, 1) < 0)
			_exit(EXIT_RUNTIME);
		execve(h->path, (char *const *)(h->args ? h->args : just_path),
		       (char *const *)(h->env ? h->env : no_env));
		_exit(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
	}
	int saved = errno;
	close(in);
	if (pid < 0) {
		snprintf(why, why_len, "cannot run hook '%s': %s", h->path,
			 strerror(saved));
		return -1;
	}
	long long end = h->timeout > 0 ? now_ms() + h->timeout * 1000LL : 0;
	int ws;
	pid_t r;
	while ((r = waitpid(pid, &ws, end ? WNOHANG : 0)) == 0 ||
	       (r < 0 && errno == EINTR)) {
		if (r == 0 && now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			snprintf(why, why_len,
				 "hook '%s' did not end in %d s: killed",
				 h->path, h->timeout);
			return -1;
		}
		if (r == 0)
			usleep(1000);
	}
	if (r < 0) {
		snprintf(why, why_len, "cannot wait for hook '%s': %s", h->path,
			 strerror(errno));
		return -1;
	}
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	if (WIFSIGNALED(ws))
		snprintf(why, why_len, "hook '%s' was killed by signal %d",
			 h->path, WTERMSIG(ws));
	else
		snprintf(why, why_len, "hook '%s' failed with status %d",
			 h->path, WEXITSTATUS(ws));
	return -1;
}

int oci_run_hooks(const struct oci_hook *hooks, size_t n, const char *state,
		  bool keep_going, char *why, size_t why_len)
{
	char one[PATH_MAX + 128];
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (oci_run_hook(&hooks[i], state, one, sizeof(one)) == 0)
			continue;
		if (rc == 0)
			snprintf(why, why_len, "%s", one);
		rc = -1;
		if (!keep_going)
			break;
		report("%s", one);
	}
	return rc;
}

/*** kill ***/

int oci_signal_by_name(const char *text)
{
	char *end;
	errno = 0;
	long n = strtol(text, &end, 10);
	if (*text && !*end && !errno)
		return n > 0 && n < NSIG ? (int)n : -1;
	if (!strncasecmp(text, "SIG", 3))
		text += 3;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *name = sigabbrev_np(sig);
		if (name && !strcasecmp(name, text))
			return sig;
	}
	return -1;
}

int oci_kill(const struct oci_state *st, int sig)
{
	if (st->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	/* The pidfd first, the start time then: if the pid was still the
	 * container's after the pidfd named it, the pidfd names the
	 * container's process whatever becomes of the pid. */
	int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	if (pidfd < 0 && errno != ENOSYS)
		return -1;
	if (!state_alive(st)) {
		if (pidfd >= 0)
			close(pidfd);
		errno = ESRCH;
		return -1;
	}
	int rc = pidfd >= 0
		     ? (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0)
		     : kill(st->pid, sig);
	int saved = errno;
	if (pidfd >= 0)
		close(pidfd);
	errno = saved;
	return rc;
}
