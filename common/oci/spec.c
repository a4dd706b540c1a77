/*
 * config.json (runtime-spec 1.x) into struct oci_spec, through jansson:
 * the plumbing of stage 16, as common/image/manifest.c is stage 13's for
 * an image's config. The field tables sit beside the code that reads
 * their objects: a field in a table as REFUSE is one of the spec's that
 * this runtime cannot apply (an error that names it); a field in no
 * table is not the spec's, and is ignored as the spec says. The same
 * tables make the lists of `features`.
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "caps.h"
#include "error.h"
#include "oci/spec.h"
#include "util.h"

/* Where the parser is, and the first thing that went wrong. */
struct parser {
	const char *name; /* the file, for messages */
	char *why;
	size_t why_len;
	bool failed;
	struct oci_spec *spec;
};

/* Say why the file is refused (the first reason only), on one line: a
 * value from the file may hold a newline. */
__attribute__((format(printf, 2, 3))) static void fail(struct parser *p,
						       const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	int n = snprintf(p->why, p->why_len, "%s: ", p->name);
	if (n < 0 || (size_t)n >= p->why_len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->why + n, p->why_len - (size_t)n, fmt, ap);
	va_end(ap);
	for (char *c = p->why; *c; c++)
		if (iscntrl((unsigned char)*c))
			*c = '?';
}

/* A field's path, "linux.resources" + "memory" -> "linux.resources.memory";
 * kept in a ring, so a few may be in use at once. */
static const char *at(const char *path, const char *key)
{
	static char ring[8][256];
	static unsigned next;
	char *buf = ring[next++ % ARRAY_SIZE(ring)], tmp[sizeof(ring[0])];
	/* Through tmp: path may be an earlier slot of the ring. */
	snprintf(tmp, sizeof(tmp), "%s%s%s", path, *path ? "." : "", key);
	return memcpy(buf, tmp, sizeof(tmp));
}

/* The same for an element: "mounts" + 2 -> "mounts[2]". */
static const char *at_index(const char *path, size_t i)
{
	static char ring[8][256];
	static unsigned next;
	char *buf = ring[next++ % ARRAY_SIZE(ring)], tmp[sizeof(ring[0])];
	snprintf(tmp, sizeof(tmp), "%s[%zu]", path, i);
	return memcpy(buf, tmp, sizeof(tmp));
}

enum field_use { USE, REFUSE };

/* A field of one object of the spec, and whether we apply it. */
struct field {
	const char *name;
	enum field_use use;
};

#define FIELDS_END                                                             \
	{                                                                      \
		NULL, USE                                                      \
	}

/* Whether value asks for nothing (null, false, 0, "", [], {}, or an
 * object of such scalars): a field we cannot apply is harmless then, and
 * Docker writes some so ("blockIO": {"weight": 0}, "cpu": {"shares": 0}).
 * An object or array inside one asks for something: its key is a name
 * ("netDevices": {"eth1": {}}). */
static bool asks_nothing(json_t *value)
{
	const char *key;
	json_t *member;
	switch (json_typeof(value)) {
	case JSON_NULL:
	case JSON_FALSE:
		return true;
	case JSON_INTEGER:
		return json_integer_value(value) == 0;
	case JSON_REAL:
		return json_real_value(value) == 0;
	case JSON_STRING:
		return json_string_length(value) == 0;
	case JSON_OBJECT:
		json_object_foreach(value, key, member)
		{
			if (json_is_object(member) || json_is_array(member) ||
			    !asks_nothing(member))
				return false;
		}
		return true;
	case JSON_ARRAY:
		return json_array_size(value) == 0;
	default:
		return false;
	}
}

/* Check o (the object at path) against its table: a field we refuse is
 * an error, one that is not the spec's is ignored. Returns o when it is
 * an object (NULL when missing: an empty one then), failing otherwise. */
static json_t *check_object(struct parser *p, json_t *o, const char *path,
			    const struct field *fields)
{
	const char *key;
	json_t *value;
	if (!o || p->failed)
		return NULL;
	if (!json_is_object(o)) {
		fail(p, "'%s' must be an object", *path ? path : "the file");
		return NULL;
	}
	json_object_foreach(o, key, value)
	{
		const struct field *f = fields;
		while (f->name && strcmp(f->name, key))
			f++;
		if (!f->name)
			verbose("%s: ignoring '%s', not a field of the "
				"runtime-spec",
				p->name, at(path, key));
		else if (f->use == REFUSE && !asks_nothing(value)) {
			fail(p, "'%s' is not supported by this runtime",
			     at(path, key));
			return NULL;
		}
	}
	return o;
}

/* The string o.key, or NULL when missing (failing when required, if o
 * itself is there). */
static const char *get_string(struct parser *p, json_t *o, const char *path,
			      const char *key, bool required)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (p->failed || !o)
		return NULL;
	if (!v && required)
		fail(p, "'%s' is missing", at(path, key));
	else if (v && !json_is_string(v))
		fail(p, "'%s' must be a string", at(path, key));
	return v && json_is_string(v) ? json_string_value(v) : NULL;
}

/* The boolean o.key, or fallback when missing. */
static bool get_bool(struct parser *p, json_t *o, const char *path,
		     const char *key, bool fallback)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (!v || p->failed)
		return fallback;
	if (!json_is_boolean(v)) {
		fail(p, "'%s' must be true or false", at(path, key));
		return fallback;
	}
	return json_is_true(v);
}

/* The integer o.key in [min, max] into *out; 0 when missing (failing
 * when required, if o itself is there), 1 when there. */
static int get_int(struct parser *p, json_t *o, const char *path,
		   const char *key, long long min, long long max, bool required,
		   long long *out)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (p->failed || !o)
		return 0;
	if (!v) {
		if (required)
			fail(p, "'%s' is missing", at(path, key));
		return 0;
	}
	if (!json_is_integer(v)) {
		fail(p, "'%s' must be an integer", at(path, key));
		return 0;
	}
	long long n = json_integer_value(v);
	if (n < min || n > max) {
		fail(p, "'%s' is %lld, out of its range %lld to %lld",
		     at(path, key), n, min, max);
		return 0;
	}
	*out = n;
	return 1;
}

/* The array o.key (NULL when missing), failing when it is not one. */
static json_t *get_array(struct parser *p, json_t *o, const char *path,
			 const char *key)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (!v || p->failed)
		return NULL;
	if (!json_is_array(v)) {
		fail(p, "'%s' must be an array", at(path, key));
		return NULL;
	}
	return v;
}

/* calloc() that fails the parse instead of returning NULL. */
static void *alloc(struct parser *p, size_t n, size_t size)
{
	void *mem = p->failed ? NULL : calloc(n ? n : 1, size);
	if (!mem)
		fail(p, "out of memory");
	return mem;
}

/* The array of strings o.key as a NULL-ended list (NULL when missing). */
static const char *const *get_strings(struct parser *p, json_t *o,
				      const char *path, const char *key)
{
	json_t *a = get_array(p, o, path, key);
	if (!a)
		return NULL;
	const char **list = alloc(p, json_array_size(a) + 1, sizeof(char *));
	for (size_t i = 0; list && i < json_array_size(a); i++) {
		list[i] = json_string_value(json_array_get(a, i));
		if (!list[i]) {
			fail(p, "'%s' must be a string",
			     at_index(at(path, key), i));
			break;
		}
	}
	return list;
}

/* The object of strings o.key into a new array of pairs. */
static struct oci_pair *get_pairs(struct parser *p, json_t *o, const char *path,
				  const char *key, size_t *n)
{
	json_t *m = o ? json_object_get(o, key) : NULL;
	const char *k;
	json_t *v;
	*n = 0;
	if (!m || p->failed)
		return NULL;
	if (!json_is_object(m)) {
		fail(p, "'%s' must be an object", at(path, key));
		return NULL;
	}
	struct oci_pair *pairs = alloc(p, json_object_size(m), sizeof(*pairs));
	json_object_foreach(m, k, v)
	{
		if (!pairs)
			break;
		if (!json_is_string(v)) {
			fail(p, "'%s' must be a string", at(at(path, key), k));
			break;
		}
		pairs[*n].key = k;
		pairs[(*n)++].value = json_string_value(v);
	}
	return pairs;
}

/* Whether path is absolute, failing when not. */
static bool need_absolute(struct parser *p, const char *path, const char *what)
{
	if (path && path[0] != '/')
		fail(p, "'%s' must be an absolute path, not '%s'", what, path);
	return !p->failed;
}

/*** process ***/

static const struct field process_fields[] = {
    {"terminal", USE},
    {"consoleSize", USE},
    {"user", USE},
    {"args", USE},
    {"env", USE},
    {"cwd", USE},
    {"capabilities", USE},
    {"rlimits", USE},
    {"noNewPrivileges", USE},
    {"oomScoreAdj", USE},
    /* No AppArmor or SELinux here; the rest: later kernels' knobs. */
    {"apparmorProfile", REFUSE},
    {"selinuxLabel", REFUSE},
    {"ioPriority", REFUSE},
    {"scheduler", REFUSE},
    {"execCPUAffinity", REFUSE},
    {"commandLine", REFUSE}, /* Windows */
    FIELDS_END,
};

static const struct field user_fields[] = {
    {"uid", USE},	  {"gid", USE}, {"umask", USE}, {"additionalGids", USE},
    {"username", REFUSE}, /* Windows */
    FIELDS_END,
};

static const struct field console_fields[] = {
    {"height", USE}, {"width", USE}, FIELDS_END};

static const struct field caps_fields[] = {
    {"bounding", USE},	{"effective", USE}, {"inheritable", USE},
    {"permitted", USE}, {"ambient", USE},   FIELDS_END,
};

static const struct field rlimit_fields[] = {
    {"type", USE}, {"soft", USE}, {"hard", USE}, FIELDS_END};

/* The rlimits setrlimit(2) knows, by the spec's names. */
static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static const char *const cap_set_names[OCI_CAP_SETS] = {
    "bounding", "effective", "inheritable", "permitted", "ambient"};

/* process.capabilities: the five sets, as bit masks (bit N: capability
 * N). Which of them this runtime can apply is stage 16's question
 * (oci_map_spec()), not the reader's. */
static void parse_caps(struct parser *p, json_t *o, const char *path)
{
	struct oci_spec *s = p->spec;
	if (!check_object(p, o, path, caps_fields))
		return;
	s->caps_given = true;
	for (int set = 0; set < OCI_CAP_SETS; set++) {
		const char *set_path = at(path, cap_set_names[set]);
		json_t *a = get_array(p, o, path, cap_set_names[set]);
		for (size_t i = 0; a && i < json_array_size(a); i++) {
			const char *name =
			    json_string_value(json_array_get(a, i));
			int cap = name ? cap_by_name(name) : -1;
			if (cap < 0) {
				fail(p, "'%s' is no capability",
				     at_index(set_path, i));
				return;
			}
			s->caps[set] |= UINT64_C(1) << cap;
		}
	}
}

static void parse_rlimits(struct parser *p, json_t *a, const char *path)
{
	struct oci_spec *s = p->spec;
	if (!a)
		return;
	s->rlimits = alloc(p, json_array_size(a), sizeof(*s->rlimits));
	for (size_t i = 0; s->rlimits && i < json_array_size(a); i++) {
		const char *here = at_index(path, i);
		json_t *o =
		    check_object(p, json_array_get(a, i), here, rlimit_fields);
		const char *type = get_string(p, o, here, "type", true);
		long long soft = 0, hard = 0;
		get_int(p, o, here, "soft", 0, LLONG_MAX, true, &soft);
		get_int(p, o, here, "hard", 0, LLONG_MAX, true, &hard);
		if (p->failed)
			return;
		size_t k = 0;
		while (k < ARRAY_SIZE(rlimit_names) &&
		       strcmp(rlimit_names[k].name, type))
			k++;
		if (k == ARRAY_SIZE(rlimit_names)) {
			fail(p, "'%s.type' '%s' is no rlimit", here, type);
			return;
		}
		for (size_t j = 0; j < s->n_rlimits; j++)
			if (s->rlimits[j].resource == rlimit_names[k].resource)
				fail(p, "'%s' gives %s twice", path, type);
		if (soft > hard)
			fail(p, "'%s': soft %lld above hard %lld", here, soft,
			     hard);
		s->rlimits[s->n_rlimits].resource = rlimit_names[k].resource;
		s->rlimits[s->n_rlimits].value.rlim_cur = (rlim_t)soft;
		s->rlimits[s->n_rlimits++].value.rlim_max = (rlim_t)hard;
	}
}

static void parse_process(struct parser *p, json_t *o)
{
	struct oci_spec *s = p->spec;
	long long n;
	if (!o) {
		fail(p, "'process' is missing");
		return;
	}
	if (!check_object(p, o, "process", process_fields))
		return;
	s->terminal = get_bool(p, o, "process", "terminal", false);
	json_t *console = check_object(p, json_object_get(o, "consoleSize"),
				       "process.consoleSize", console_fields);
	if (get_int(p, console, "process.consoleSize", "height", 0, 65535, true,
		    &n))
		s->console_height = (unsigned)n;
	if (get_int(p, console, "process.consoleSize", "width", 0, 65535, true,
		    &n))
		s->console_width = (unsigned)n;

	json_t *user = check_object(p, json_object_get(o, "user"),
				    "process.user", user_fields);
	if (get_int(p, user, "process.user", "uid", 0, UINT32_MAX - 1, false,
		    &n))
		s->uid = (uid_t)n;
	if (get_int(p, user, "process.user", "gid", 0, UINT32_MAX - 1, false,
		    &n))
		s->gid = (gid_t)n;
	s->umask = -1;
	if (get_int(p, user, "process.user", "umask", 0, 0777, false, &n))
		s->umask = (int)n;
	json_t *gids = get_array(p, user, "process.user", "additionalGids");
	if (gids)
		s->additional_gids =
		    alloc(p, json_array_size(gids), sizeof(gid_t));
	for (size_t i = 0; s->additional_gids && i < json_array_size(gids);
	     i++) {
		json_t *g = json_array_get(gids, i);
		if (!json_is_integer(g) || json_integer_value(g) < 0 ||
		    json_integer_value(g) >= UINT32_MAX) {
			fail(p, "'%s' must be a group id",
			     at_index("process.user.additionalGids", i));
			return;
		}
		s->additional_gids[s->n_additional_gids++] =
		    (gid_t)json_integer_value(g);
	}

	s->args = get_strings(p, o, "process", "args");
	if (!p->failed && (!s->args || !s->args[0] || !s->args[0][0]))
		fail(p, "'process.args' must name a command");
	s->env = get_strings(p, o, "process", "env");
	for (size_t i = 0; s->env && s->env[i]; i++)
		if (!strchr(s->env[i], '='))
			fail(p, "'%s' must be NAME=VALUE",
			     at_index("process.env", i));
	s->cwd = get_string(p, o, "process", "cwd", true);
	need_absolute(p, s->cwd, "process.cwd");

	parse_caps(p, json_object_get(o, "capabilities"),
		   "process.capabilities");
	parse_rlimits(p, get_array(p, o, "process", "rlimits"),
		      "process.rlimits");
	s->no_new_privileges =
	    get_bool(p, o, "process", "noNewPrivileges", false);
	if (get_int(p, o, "process", "oomScoreAdj", -1000, 1000, false, &n)) {
		s->has_oom_score_adj = true;
		s->oom_score_adj = (int)n;
	}
}

/*** root, mounts, hooks ***/

static const struct field root_fields[] = {
    {"path", USE}, {"readonly", USE}, FIELDS_END};

static const struct field mount_fields[] = {
    {"destination", USE},
    {"source", USE},
    {"type", USE},
    {"options", USE},
    {"uidMappings", REFUSE},
    {"gidMappings", REFUSE}, /* idmapped */
    FIELDS_END,
};

/* The mount types stage 16 mounts: those stages 4 to 13 taught. */
static const char *const mount_types[] = {
    "proc",   "sysfs",	 "tmpfs", "devpts", "mqueue",
    "cgroup", "cgroup2", "bind",  "none",
};

enum opt_how { OPT_SET, OPT_CLEAR, OPT_PROPAGATION, OPT_REFUSE };

/* mount(8)'s words for mount(2)'s flags; any other word is the
 * filesystem's own (mode=755), passed on as data. */
static const struct {
	const char *name;
	unsigned long flag;
	enum opt_how how;
} mount_options[] = {
    {"defaults", 0, OPT_SET},
    {"ro", MS_RDONLY, OPT_SET},
    {"rw", MS_RDONLY, OPT_CLEAR},
    {"nosuid", MS_NOSUID, OPT_SET},
    {"suid", MS_NOSUID, OPT_CLEAR},
    {"nodev", MS_NODEV, OPT_SET},
    {"dev", MS_NODEV, OPT_CLEAR},
    {"noexec", MS_NOEXEC, OPT_SET},
    {"exec", MS_NOEXEC, OPT_CLEAR},
    {"sync", MS_SYNCHRONOUS, OPT_SET},
    {"async", MS_SYNCHRONOUS, OPT_CLEAR},
    {"dirsync", MS_DIRSYNC, OPT_SET},
    {"remount", MS_REMOUNT, OPT_SET},
    {"mand", MS_MANDLOCK, OPT_SET},
    {"nomand", MS_MANDLOCK, OPT_CLEAR},
    {"noatime", MS_NOATIME, OPT_SET},
    {"atime", MS_NOATIME, OPT_CLEAR},
    {"nodiratime", MS_NODIRATIME, OPT_SET},
    {"diratime", MS_NODIRATIME, OPT_CLEAR},
    {"relatime", MS_RELATIME, OPT_SET},
    {"norelatime", MS_RELATIME, OPT_CLEAR},
    {"strictatime", MS_STRICTATIME, OPT_SET},
    {"nostrictatime", MS_STRICTATIME, OPT_CLEAR},
    {"lazytime", MS_LAZYTIME, OPT_SET},
    {"nolazytime", MS_LAZYTIME, OPT_CLEAR},
    {"nosymfollow", MS_NOSYMFOLLOW, OPT_SET},
    {"symfollow", MS_NOSYMFOLLOW, OPT_CLEAR},
    {"silent", MS_SILENT, OPT_SET},
    {"loud", MS_SILENT, OPT_CLEAR},
    {"bind", MS_BIND, OPT_SET},
    {"rbind", MS_BIND | MS_REC, OPT_SET},
    {"private", MS_PRIVATE, OPT_PROPAGATION},
    {"rprivate", MS_PRIVATE | MS_REC, OPT_PROPAGATION},
    {"shared", MS_SHARED, OPT_PROPAGATION},
    {"rshared", MS_SHARED | MS_REC, OPT_PROPAGATION},
    {"slave", MS_SLAVE, OPT_PROPAGATION},
    {"rslave", MS_SLAVE | MS_REC, OPT_PROPAGATION},
    {"unbindable", MS_UNBINDABLE, OPT_PROPAGATION},
    {"runbindable", MS_UNBINDABLE | MS_REC, OPT_PROPAGATION},
    /* Recursive attributes (mount_setattr(2)), copy-up and idmapped
     * mounts: the spec's, not ours. */
    {"rro", 0, OPT_REFUSE},
    {"rrw", 0, OPT_REFUSE},
    {"rnosuid", 0, OPT_REFUSE},
    {"rnodev", 0, OPT_REFUSE},
    {"rnoexec", 0, OPT_REFUSE},
    {"tmpcopyup", 0, OPT_REFUSE},
    {"idmap", 0, OPT_REFUSE},
    {"ridmap", 0, OPT_REFUSE},
};

/* One option word into m; returns false after failing. */
static bool mount_option(struct parser *p, struct oci_mount *m,
			 const char *word, const char *where)
{
	for (size_t k = 0; k < ARRAY_SIZE(mount_options); k++) {
		if (strcmp(mount_options[k].name, word))
			continue;
		switch (mount_options[k].how) {
		case OPT_SET:
			m->flags |= mount_options[k].flag;
			m->clear &= ~mount_options[k].flag;
			break;
		case OPT_CLEAR:
			m->clear |= mount_options[k].flag;
			m->flags &= ~mount_options[k].flag;
			break;
		case OPT_PROPAGATION:
			m->propagation = mount_options[k].flag;
			break;
		case OPT_REFUSE:
			fail(p,
			     "'%s' option '%s' is not supported by this "
			     "runtime",
			     where, word);
			return false;
		}
		return true;
	}
	size_t len = m->data ? strlen(m->data) : 0;
	char *more = realloc(m->data, len + strlen(word) + 2);
	if (!more) {
		fail(p, "out of memory");
		return false;
	}
	if (len)
		more[len++] = ',';
	strcpy(more + len, word);
	m->data = more;
	return true;
}

static void parse_mounts(struct parser *p, json_t *a)
{
	struct oci_spec *s = p->spec;
	if (!a)
		return;
	s->mounts = alloc(p, json_array_size(a), sizeof(*s->mounts));
	for (size_t i = 0; s->mounts && i < json_array_size(a); i++) {
		const char *here = at_index("mounts", i);
		json_t *o =
		    check_object(p, json_array_get(a, i), here, mount_fields);
		struct oci_mount *m = &s->mounts[s->n_mounts++];
		m->destination = get_string(p, o, here, "destination", true);
		m->source = get_string(p, o, here, "source", false);
		m->type = get_string(p, o, here, "type", false);
		need_absolute(p, m->destination, at(here, "destination"));
		json_t *opts = get_array(p, o, here, "options");
		for (size_t k = 0; opts && k < json_array_size(opts); k++) {
			const char *w =
			    json_string_value(json_array_get(opts, k));
			if (!w) {
				fail(p, "'%s' must be a string",
				     at_index(at(here, "options"), k));
				return;
			}
			if (!mount_option(p, m, w, at(here, "options")))
				return;
		}
		if (p->failed)
			return;
		bool bind = m->flags & MS_BIND;
		if (!m->type && !bind) {
			fail(p, "'%s' is missing (needed unless it binds)",
			     at(here, "type"));
			return;
		}
		if (!m->type || !strcmp(m->type, "bind") ||
		    !strcmp(m->type, "none")) {
			if (!bind) /* "type": "bind" alone binds, as runc's */
				m->flags |= MS_BIND;
			m->type = "bind";
			if (!m->source)
				fail(p, "'%s' is missing (a bind mount's)",
				     at(here, "source"));
			continue;
		}
		size_t k = 0;
		while (k < ARRAY_SIZE(mount_types) &&
		       strcmp(mount_types[k], m->type))
			k++;
		if (k == ARRAY_SIZE(mount_types)) {
			fail(p, "'%s' '%s' is not supported by this runtime",
			     at(here, "type"), m->type);
			return;
		}
	}
}

static const struct field hooks_fields[] = {
    {"prestart", USE},
    {"createRuntime", USE},
    {"createContainer", USE},
    {"startContainer", USE},
    {"poststart", USE},
    {"poststop", USE},
    FIELDS_END,
};

static const struct field hook_fields[] = {
    {"path", USE}, {"args", USE}, {"env", USE}, {"timeout", USE}, FIELDS_END,
};

static void parse_hooks(struct parser *p, json_t *o)
{
	struct oci_spec *s = p->spec;
	if (!check_object(p, o, "hooks", hooks_fields))
		return;
	/* hooks_fields lists the kinds in enum oci_hook_kind's order. */
	for (int kind = 0; kind < OCI_HOOK_KINDS; kind++) {
		const char *name = hooks_fields[kind].name;
		const char *path = at("hooks", name);
		json_t *a = get_array(p, o, "hooks", name);
		if (!a)
			continue;
		s->hooks[kind] =
		    alloc(p, json_array_size(a), sizeof(**s->hooks));
		for (size_t i = 0; s->hooks[kind] && i < json_array_size(a);
		     i++) {
			const char *here = at_index(path, i);
			json_t *h = check_object(p, json_array_get(a, i), here,
						 hook_fields);
			struct oci_hook *hook =
			    &s->hooks[kind][s->n_hooks[kind]++];
			long long timeout = 0;
			hook->path = get_string(p, h, here, "path", true);
			need_absolute(p, hook->path, at(here, "path"));
			hook->args = get_strings(p, h, here, "args");
			hook->env = get_strings(p, h, here, "env");
			/* The spec: a timeout, when given, is above 0. */
			get_int(p, h, here, "timeout", 1, INT_MAX, false,
				&timeout);
			hook->timeout = (int)timeout;
		}
	}
}

/*** linux ***/

static const struct field linux_fields[] = {
    {"namespaces", USE},
    {"uidMappings", USE},
    {"gidMappings", USE},
    {"devices", USE},
    {"cgroupsPath", USE},
    {"resources", USE},
    {"sysctl", USE},
    {"seccomp", USE},
    {"rootfsPropagation", USE},
    {"maskedPaths", USE},
    {"readonlyPaths", USE},
    {"mountLabel", REFUSE}, /* SELinux */
    {"intelRdt", REFUSE},
    {"personality", REFUSE},
    {"timeOffsets", REFUSE},
    {"netDevices", REFUSE},
    {"memoryPolicy", REFUSE},
    FIELDS_END,
};

/* The namespaces by the spec's names; time is the spec's, not ours. */
static const struct {
	const char *name;
	int type; /* 0: refused */
} namespace_types[] = {
    {"pid", CLONE_NEWPID},	 {"network", CLONE_NEWNET},
    {"mount", CLONE_NEWNS},	 {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS},	 {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", 0},
};

static const struct field namespace_fields[] = {
    {"type", USE}, {"path", USE}, FIELDS_END};

static void parse_namespaces(struct parser *p, json_t *a)
{
	struct oci_spec *s = p->spec;
	if (!a)
		return;
	s->namespaces = alloc(p, json_array_size(a), sizeof(*s->namespaces));
	for (size_t i = 0; s->namespaces && i < json_array_size(a); i++) {
		const char *here = at_index("linux.namespaces", i);
		json_t *o = check_object(p, json_array_get(a, i), here,
					 namespace_fields);
		const char *type = get_string(p, o, here, "type", true);
		const char *path = get_string(p, o, here, "path", false);
		need_absolute(p, path, at(here, "path"));
		if (p->failed)
			return;
		size_t k = 0;
		while (k < ARRAY_SIZE(namespace_types) &&
		       strcmp(namespace_types[k].name, type))
			k++;
		if (k == ARRAY_SIZE(namespace_types)) {
			fail(p, "'%s.type' '%s' is no namespace", here, type);
			return;
		}
		if (!namespace_types[k].type) {
			fail(p,
			     "'%s.type' '%s' is not supported by this "
			     "runtime",
			     here, type);
			return;
		}
		if (oci_has_namespace(s, namespace_types[k].type, NULL)) {
			fail(p, "'linux.namespaces' has '%s' twice", type);
			return;
		}
		s->namespaces[s->n_namespaces].type = namespace_types[k].type;
		s->namespaces[s->n_namespaces++].path = path;
	}
}

static const struct field idmap_fields[] = {
    {"containerID", USE}, {"hostID", USE}, {"size", USE}, FIELDS_END};

static struct oci_idmap *parse_idmaps(struct parser *p, json_t *a,
				      const char *path, size_t *n)
{
	*n = 0;
	if (!a)
		return NULL;
	struct oci_idmap *maps = alloc(p, json_array_size(a), sizeof(*maps));
	for (size_t i = 0; maps && i < json_array_size(a); i++) {
		const char *here = at_index(path, i);
		json_t *o =
		    check_object(p, json_array_get(a, i), here, idmap_fields);
		long long c = 0, h = 0, size = 0;
		get_int(p, o, here, "containerID", 0, UINT32_MAX, true, &c);
		get_int(p, o, here, "hostID", 0, UINT32_MAX, true, &h);
		get_int(p, o, here, "size", 1, UINT32_MAX, true, &size);
		maps[(*n)++] = (struct oci_idmap){(uint32_t)c, (uint32_t)h,
						  (uint32_t)size};
	}
	return maps;
}

static const struct field device_fields[] = {
    {"type", USE},     {"path", USE}, {"major", USE}, {"minor", USE},
    {"fileMode", USE}, {"uid", USE},  {"gid", USE},   FIELDS_END,
};

static void parse_devices(struct parser *p, json_t *a)
{
	struct oci_spec *s = p->spec;
	if (!a)
		return;
	s->devices = alloc(p, json_array_size(a), sizeof(*s->devices));
	for (size_t i = 0; s->devices && i < json_array_size(a); i++) {
		const char *here = at_index("linux.devices", i);
		json_t *o =
		    check_object(p, json_array_get(a, i), here, device_fields);
		struct oci_device *d = &s->devices[s->n_devices++];
		const char *type = get_string(p, o, here, "type", true);
		long long n = 0666;
		d->path = get_string(p, o, here, "path", true);
		need_absolute(p, d->path, at(here, "path"));
		if (p->failed)
			return;
		if (strlen(type) != 1 || !strchr("cbup", type[0])) {
			fail(p, "'%s.type' '%s' is none of c, b, u, p", here,
			     type);
			return;
		}
		d->type = type[0];
		bool numbered = d->type != 'p';
		d->major = d->minor = 0;
		get_int(p, o, here, "major", 0, UINT32_MAX, numbered,
			&d->major);
		get_int(p, o, here, "minor", 0, UINT32_MAX, numbered,
			&d->minor);
		get_int(p, o, here, "fileMode", 0, 07777, false, &n);
		d->file_mode = (mode_t)n;
		n = 0;
		get_int(p, o, here, "uid", 0, UINT32_MAX - 1, false, &n);
		d->uid = (uid_t)n;
		n = 0;
		get_int(p, o, here, "gid", 0, UINT32_MAX - 1, false, &n);
		d->gid = (gid_t)n;
	}
}

static const struct field resources_fields[] = {
    {"pids", USE},	 {"memory", USE},
    {"cpu", USE},	 {"devices", USE},
    {"blockIO", REFUSE}, {"hugepageLimits", REFUSE},
    {"network", REFUSE}, {"rdma", REFUSE},
    {"unified", REFUSE}, {"oomScoreAdj", REFUSE}, /* deprecated */
    FIELDS_END,
};

static const struct field pids_fields[] = {{"limit", USE}, FIELDS_END};

/* Stage 9 sets a hard limit, nothing else of the memory controller. */
static const struct field memory_fields[] = {
    {"limit", USE},
    {"reservation", REFUSE},
    {"swap", REFUSE},
    {"kernel", REFUSE},
    {"kernelTCP", REFUSE},
    {"swappiness", REFUSE},
    {"disableOOMKiller", REFUSE},
    {"useHierarchy", REFUSE},
    {"checkBeforeUpdate", REFUSE},
    FIELDS_END,
};

/* Stage 9 sets a quota per period, nothing else of the cpu controller. */
static const struct field cpu_fields[] = {
    {"quota", USE},
    {"period", USE},
    {"shares", REFUSE},
    {"cpus", REFUSE},
    {"mems", REFUSE},
    {"realtimePeriod", REFUSE},
    {"realtimeRuntime", REFUSE},
    {"idle", REFUSE},
    {"burst", REFUSE},
    FIELDS_END,
};

static const struct field device_rule_fields[] = {
    {"allow", USE}, {"type", USE},   {"major", USE},
    {"minor", USE}, {"access", USE}, FIELDS_END,
};

static void parse_device_rules(struct parser *p, json_t *a, const char *path)
{
	struct oci_spec *s = p->spec;
	if (!a)
		return;
	s->device_rules =
	    alloc(p, json_array_size(a), sizeof(*s->device_rules));
	for (size_t i = 0; s->device_rules && i < json_array_size(a); i++) {
		const char *here = at_index(path, i);
		json_t *o = check_object(p, json_array_get(a, i), here,
					 device_rule_fields);
		struct oci_device_rule *r =
		    &s->device_rules[s->n_device_rules++];
		json_t *allow = o ? json_object_get(o, "allow") : NULL;
		const char *type = get_string(p, o, here, "type", false);
		const char *access = get_string(p, o, here, "access", false);
		if (!p->failed && !json_is_boolean(allow))
			fail(p, "'%s' must be true or false",
			     at(here, "allow"));
		r->allow = json_is_true(allow);
		r->type = type ? type[0] : 'a';
		if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
			fail(p, "'%s.type' '%s' is none of a, c, b", here,
			     type);
		r->major = r->minor = -1;
		get_int(p, o, here, "major", -1, UINT32_MAX, false, &r->major);
		get_int(p, o, here, "minor", -1, UINT32_MAX, false, &r->minor);
		snprintf(r->access, sizeof(r->access), "%s",
			 access ? access : "rwm");
		if (access && (strlen(access) > 3 ||
			       strspn(access, "rwm") != strlen(access)))
			fail(p, "'%s.access' '%s' is not some of rwm", here,
			     access);
		if (p->failed)
			return;
	}
}

static void parse_resources(struct parser *p, json_t *o)
{
	struct oci_spec *s = p->spec;
	const char *path = "linux.resources";
	long long n;
	if (!check_object(p, o, path, resources_fields))
		return;
	json_t *pids = check_object(p, json_object_get(o, "pids"),
				    at(path, "pids"), pids_fields);
	if (get_int(p, pids, at(path, "pids"), "limit", LLONG_MIN, LLONG_MAX,
		    true, &n))
		s->pids_limit = n > 0 ? n : -1; /* 0 or -1: unlimited */
	json_t *memory = check_object(p, json_object_get(o, "memory"),
				      at(path, "memory"), memory_fields);
	if (get_int(p, memory, at(path, "memory"), "limit", -1, LONG_MAX, false,
		    &n))
		s->memory_limit = n > 0 ? n : 0; /* 0 or -1: none */
	json_t *cpu = check_object(p, json_object_get(o, "cpu"),
				   at(path, "cpu"), cpu_fields);
	s->cpu_period = 100000; /* the kernel's default, as the spec's */
	get_int(p, cpu, at(path, "cpu"), "quota", -1, LONG_MAX, false,
		&s->cpu_quota);
	if (s->cpu_quota < 0)
		s->cpu_quota = 0; /* -1: none */
	get_int(p, cpu, at(path, "cpu"), "period", 1000, 1000000, false,
		&s->cpu_period);
	parse_device_rules(p, get_array(p, o, path, "devices"),
			   at(path, "devices"));
}

static const struct field seccomp_fields[] = {
    {"defaultAction", USE},
    {"defaultErrnoRet", USE},
    {"architectures", USE},
    {"syscalls", USE},
    {"flags", REFUSE},
    {"listenerPath", REFUSE},
    {"listenerMetadata", REFUSE},
    FIELDS_END,
};

static const struct field syscall_fields[] = {
    {"names", USE}, {"action", USE}, {"errnoRet", USE},
    {"args", USE},  FIELDS_END,
};

static const struct field syscall_arg_fields[] = {
    {"index", USE}, {"value", USE}, {"valueTwo", USE}, {"op", USE}, FIELDS_END,
};

/* The spec's seccomp actions; those that take errnoRet end in ERRNO or
 * TRACE. NOTIFY needs a listener we do not have. */
static const struct {
	const char *name;
	uint32_t action;
} seccomp_actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};

static const struct {
	const char *name;
	int op;
} seccomp_operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
	const char *name;
	uint32_t arch;
} seccomp_arches[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

/* An action by name, with errno_ret for ERRNO (EPERM when not given) and
 * TRACE. Returns false after failing. */
static bool seccomp_action(struct parser *p, const char *name,
			   long long errno_ret, const char *where,
			   uint32_t *action)
{
	for (size_t k = 0; k < ARRAY_SIZE(seccomp_actions); k++) {
		if (strcmp(seccomp_actions[k].name, name))
			continue;
		*action = seccomp_actions[k].action;
		if (*action == SCMP_ACT_ERRNO(0))
			*action = SCMP_ACT_ERRNO((uint32_t)errno_ret);
		else if (*action == SCMP_ACT_TRACE(0))
			*action = SCMP_ACT_TRACE((uint32_t)errno_ret);
		return true;
	}
	fail(p, "'%s' '%s' is not supported by this runtime", where, name);
	return false;
}

static void parse_syscall_args(struct parser *p, json_t *a, const char *path,
			       struct oci_syscall *sc)
{
	if (a && json_array_size(a) > OCI_SYSCALL_ARGS) {
		fail(p, "'%s' has more than %d tests", path, OCI_SYSCALL_ARGS);
		return;
	}
	for (size_t i = 0; a && i < json_array_size(a); i++) {
		const char *here = at_index(path, i);
		json_t *o = check_object(p, json_array_get(a, i), here,
					 syscall_arg_fields);
		struct oci_syscall_arg *arg = &sc->args[sc->n_args++];
		long long n = 0;
		get_int(p, o, here, "index", 0, 5, true, &n);
		arg->index = (unsigned)n;
		n = 0;
		get_int(p, o, here, "value", 0, LLONG_MAX, true, &n);
		arg->value = (uint64_t)n;
		n = 0;
		get_int(p, o, here, "valueTwo", 0, LLONG_MAX, false, &n);
		arg->value_two = (uint64_t)n;
		const char *op = get_string(p, o, here, "op", true);
		if (p->failed)
			return;
		size_t k = 0;
		while (k < ARRAY_SIZE(seccomp_operators) &&
		       strcmp(seccomp_operators[k].name, op))
			k++;
		if (k == ARRAY_SIZE(seccomp_operators)) {
			fail(p, "'%s.op' '%s' is no operator", here, op);
			return;
		}
		arg->op = seccomp_operators[k].op;
	}
}

static void parse_seccomp(struct parser *p, json_t *o)
{
	struct oci_seccomp *sc = &p->spec->seccomp;
	const char *path = "linux.seccomp";
	if (!check_object(p, o, path, seccomp_fields))
		return;
	sc->given = true;
	long long errno_ret = EPERM;
	get_int(p, o, path, "defaultErrnoRet", 0, 4095, false, &errno_ret);
	const char *def = get_string(p, o, path, "defaultAction", true);
	if (p->failed ||
	    !seccomp_action(p, def, errno_ret, at(path, "defaultAction"),
			    &sc->default_action))
		return;
	json_t *arches = get_array(p, o, path, "architectures");
	for (size_t i = 0; arches && i < json_array_size(arches); i++) {
		const char *name = json_string_value(json_array_get(arches, i));
		size_t k = 0;
		while (name && k < ARRAY_SIZE(seccomp_arches) &&
		       strcmp(seccomp_arches[k].name, name))
			k++;
		if (!name || k == ARRAY_SIZE(seccomp_arches) ||
		    sc->n_arches == ARRAY_SIZE(sc->arches)) {
			fail(p,
			     "'%s' is not an architecture this runtime "
			     "knows",
			     at_index(at(path, "architectures"), i));
			return;
		}
		sc->arches[sc->n_arches++] = seccomp_arches[k].arch;
	}
	json_t *a = get_array(p, o, path, "syscalls");
	if (a)
		sc->syscalls =
		    alloc(p, json_array_size(a), sizeof(*sc->syscalls));
	for (size_t i = 0; sc->syscalls && i < json_array_size(a); i++) {
		const char *here = at_index(at(path, "syscalls"), i);
		json_t *r =
		    check_object(p, json_array_get(a, i), here, syscall_fields);
		struct oci_syscall *rule = &sc->syscalls[sc->n_syscalls++];
		long long ret = EPERM;
		rule->names = get_strings(p, r, here, "names");
		if (!p->failed && (!rule->names || !rule->names[0]))
			fail(p, "'%s' must name a system call",
			     at(here, "names"));
		get_int(p, r, here, "errnoRet", 0, 4095, false, &ret);
		const char *action = get_string(p, r, here, "action", true);
		if (p->failed ||
		    !seccomp_action(p, action, ret, at(here, "action"),
				    &rule->action))
			return;
		parse_syscall_args(p, get_array(p, r, here, "args"),
				   at(here, "args"), rule);
	}
}

static const struct {
	const char *name;
	unsigned long flags;
} propagations[] = {
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* maskedPaths and readonlyPaths: absolute paths inside the root. */
static void parse_walls(struct parser *p, json_t *o)
{
	struct oci_spec *s = p->spec;
	s->masked_paths = get_strings(p, o, "linux", "maskedPaths");
	s->readonly_paths = get_strings(p, o, "linux", "readonlyPaths");
	for (size_t i = 0; s->masked_paths && s->masked_paths[i]; i++)
		need_absolute(p, s->masked_paths[i], "linux.maskedPaths");
	for (size_t i = 0; s->readonly_paths && s->readonly_paths[i]; i++)
		need_absolute(p, s->readonly_paths[i], "linux.readonlyPaths");
}

static void parse_linux(struct parser *p, json_t *o)
{
	struct oci_spec *s = p->spec;
	if (!check_object(p, o, "linux", linux_fields))
		return;
	parse_namespaces(p, get_array(p, o, "linux", "namespaces"));
	s->uid_mappings =
	    parse_idmaps(p, get_array(p, o, "linux", "uidMappings"),
			 "linux.uidMappings", &s->n_uid_mappings);
	s->gid_mappings =
	    parse_idmaps(p, get_array(p, o, "linux", "gidMappings"),
			 "linux.gidMappings", &s->n_gid_mappings);
	parse_devices(p, get_array(p, o, "linux", "devices"));
	s->cgroups_path = get_string(p, o, "linux", "cgroupsPath", false);
	parse_resources(p, json_object_get(o, "resources"));
	s->sysctl = get_pairs(p, o, "linux", "sysctl", &s->n_sysctl);
	for (size_t i = 0; i < s->n_sysctl; i++)
		if (strstr(s->sysctl[i].key, "..") ||
		    strchr(s->sysctl[i].key, '/'))
			fail(p, "'%s' is no sysctl",
			     at("linux.sysctl", s->sysctl[i].key));
	parse_seccomp(p, json_object_get(o, "seccomp"));
	const char *prop =
	    get_string(p, o, "linux", "rootfsPropagation", false);
	if (prop) {
		size_t k = 0;
		while (k < ARRAY_SIZE(propagations) &&
		       strcmp(propagations[k].name, prop))
			k++;
		if (k == ARRAY_SIZE(propagations))
			fail(p,
			     "'linux.rootfsPropagation' '%s' is no "
			     "propagation",
			     prop);
		else
			s->rootfs_propagation = propagations[k].flags;
	}
	parse_walls(p, o);
	/* A user namespace needs its maps, and maps need the namespace. */
	bool userns = oci_has_namespace(s, CLONE_NEWUSER, NULL);
	if (!p->failed && (s->n_uid_mappings || s->n_gid_mappings) && !userns)
		fail(p, "'linux.uidMappings' without a user namespace");
}

static const struct field top_fields[] = {
    {"ociVersion", USE},  {"process", USE},    {"root", USE},
    {"hostname", USE},	  {"mounts", USE},     {"hooks", USE},
    {"annotations", USE}, {"linux", USE},      {"domainname", REFUSE},
    {"solaris", REFUSE},  {"windows", REFUSE}, {"vm", REFUSE},
    {"zos", REFUSE},	  {"freebsd", REFUSE}, FIELDS_END,
};

int oci_parse_spec(const char *text, const char *name, struct oci_spec *spec,
		   char *why, size_t why_len)
{
	struct parser p = {name, why, why_len, false, spec};
	json_error_t err;

	memset(spec, 0, sizeof(*spec));
	spec->name = strdup(name);
	if (!spec->name) {
		fail(&p, "%s", strerror(ENOMEM));
		return -1;
	}
	spec->doc = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	if (!spec->doc) {
		fail(&p, "no JSON at line %d column %d: %s", err.line,
		     err.column, err.text);
		return -1;
	}
	json_t *o = check_object(&p, spec->doc, "", top_fields);
	spec->version = get_string(&p, o, "", "ociVersion", true);
	if (spec->version && strncmp(spec->version, "1.", 2))
		fail(&p,
		     "'ociVersion' '%s' is not 1.x, which this runtime "
		     "reads",
		     spec->version);
	/* The user first: whether ambient capabilities apply needs it. */
	parse_process(&p, json_object_get(o, "process"));
	json_t *root =
	    check_object(&p, json_object_get(o, "root"), "root", root_fields);
	if (!p.failed && !root)
		fail(&p, "'root' is missing");
	spec->root_path = get_string(&p, root, "root", "path", true);
	spec->root_readonly = get_bool(&p, root, "root", "readonly", false);
	spec->hostname = get_string(&p, o, "", "hostname", false);
	parse_mounts(&p, get_array(&p, o, "", "mounts"));
	parse_hooks(&p, json_object_get(o, "hooks"));
	spec->annotations =
	    get_pairs(&p, o, "", "annotations", &spec->n_annotations);
	parse_linux(&p, json_object_get(o, "linux"));
	if (p.failed) {
		oci_free_spec(spec);
		return -1;
	}
	return 0;
}

int oci_load_spec(const char *bundle, struct oci_spec *spec, char *why,
		  size_t why_len)
{
	char path[PATH_MAX];
	memset(spec, 0, sizeof(*spec));
	if (snprintf(path, sizeof(path), "%s/" OCI_CONFIG, bundle) >=
	    (int)sizeof(path)) {
		snprintf(why, why_len, "bundle path too long: '%s'", bundle);
		return -1;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(why, why_len, "cannot read '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	/* Read whole first: json_load_file() would not tell a read error
	 * from bad JSON. */
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	char buf[8192];
	size_t n;
	while (mem && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	int bad = ferror(f);
	int saved = errno;
	fclose(f);
	if (!mem || fclose(mem) != 0 || bad) {
		snprintf(why, why_len, "cannot read '%s': %s", path,
			 strerror(bad ? saved : ENOMEM));
		free(text);
		return -1;
	}
	int rc = oci_parse_spec(text, path, spec, why, why_len);
	free(text);
	return rc;
}

void oci_free_spec(struct oci_spec *s)
{
	free((void *)s->args);
	free((void *)s->env);
	free(s->additional_gids);
	free(s->rlimits);
	for (size_t i = 0; s->mounts && i < s->n_mounts; i++)
		free(s->mounts[i].data);
	free(s->mounts);
	for (int k = 0; k < OCI_HOOK_KINDS; k++) {
		for (size_t i = 0; s->hooks[k] && i < s->n_hooks[k]; i++) {
			free((void *)s->hooks[k][i].args);
			free((void *)s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
	free(s->annotations);
	free(s->namespaces);
	free(s->uid_mappings);
	free(s->gid_mappings);
	free(s->devices);
	free(s->device_rules);
	free(s->sysctl);
	for (size_t i = 0; s->seccomp.syscalls && i < s->seccomp.n_syscalls;
	     i++)
		free((void *)s->seccomp.syscalls[i].names);
	free(s->seccomp.syscalls);
	free((void *)s->masked_paths);
	free((void *)s->readonly_paths);
	free(s->name);
	if (s->doc)
		json_decref(s->doc);
	memset(s, 0, sizeof(*s));
}

bool oci_has_namespace(const struct oci_spec *spec, int type, const char **path)
{
	for (size_t i = 0; i < spec->n_namespaces; i++)
		if (spec->namespaces[i].type == type) {
			if (path)
				*path = spec->namespaces[i].path;
			return true;
		}
	return false;
}

/*** features ***/

/* The names of the capabilities in caps, as a JSON array. */
json_t *oci_cap_names(uint64_t caps)
{
	json_t *a = json_array();
	for (int cap = 0; a && cap < CAPS_COUNT; cap++)
		if (caps & UINT64_C(1) << cap)
			json_array_append_new(a, json_string(cap_name(cap)));
	return a;
}

/* Append the names of a table's first member to a. */
#define APPEND_NAMES(a, table, cond)                                           \
	for (size_t k_ = 0; k_ < ARRAY_SIZE(table); k_++)                      \
		if (cond)                                                      \
	json_array_append_new(a, json_string(table[k_].name))

char *oci_features(void)
{
	json_t *hooks = json_array(), *opts = json_array(), *ns = json_array(),
	       *actions = json_array(), *ops = json_array(),
	       *arches = json_array();
	for (size_t k = 0; hooks_fields[k].name; k++)
		json_array_append_new(hooks, json_string(hooks_fields[k].name));
	APPEND_NAMES(opts, mount_options, mount_options[k_].how != OPT_REFUSE);
	APPEND_NAMES(ns, namespace_types, namespace_types[k_].type != 0);
	APPEND_NAMES(actions, seccomp_actions, true);
	APPEND_NAMES(ops, seccomp_operators, true);
	APPEND_NAMES(arches, seccomp_arches, true);
	json_t *o = json_pack(
	    "{s:s, s:s, s:o, s:o, s:{s:o, s:o, s:{s:b, s:b, s:b, s:b},"
	    " s:{s:b, s:o, s:o, s:o}, s:{s:b}, s:{s:b}},"
	    " s:{s:s}}",
	    "ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION, "hooks",
	    hooks, "mountOptions", opts, "linux", "namespaces", ns,
	    "capabilities", oci_cap_names(CAPS_ALL), "cgroup", "v1", 1, "v2", 1,
	    "systemd", 0, "systemdUser", 0, "seccomp", "enabled", 1, "actions",
	    actions, "operators", ops, "archs", arches, "apparmor", "enabled",
	    0, "selinux", "enabled", 0, "annotations", "org.minidocker.stage",
	    "16");
	char *text =
	    o ? json_dumps(o, JSON_INDENT(4) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return text;
}
