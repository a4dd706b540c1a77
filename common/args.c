#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "args.h"
#include "caps.h"
#include "util.h"

#define FIELD(name) offsetof(struct options, name)

/* Part II adds its options here, one row each (--cap-add/--cap-drop at
 * 10, -e, -w, -u, -v at 13, -p and --net at 14, -d and --name at 15), with a new
 * kind where a value is of a new sort. */
const struct opt_spec opt_table[] = {
	{"--hostname", NULL, "NAME", OPT_HOSTNAME, 2, OPT_TEXT, 1,
	 HOSTNAME_LEN_MAX, "the kernel allows", "container", NULL,
	 FIELD(hostname), "hostname inside"},
	{"--rootfs", NULL, "DIR", OPT_ROOTFS, 4, OPT_TEXT, 1, 0, NULL,
	 "rootfs", "MINIDOCKER_ROOTFS", FIELD(rootfs), "root filesystem"},
	{"--pids-max", NULL, "N", OPT_PIDS_MAX, 6, OPT_NUMBER, 1,
	 PIDS_MAX_LIMIT, NULL, "20", NULL, FIELD(pids_max),
	 "most processes inside"},
	/* No default: no limit, as docker. The kernel takes no CPU quota
	 * below 1 ms a period, so --cpus starts at 0.01. */
	{"--memory", NULL, "SIZE", OPT_MEMORY, 9, OPT_BYTES, MEMORY_MIN, 0,
	 NULL, NULL, NULL, FIELD(memory),
	 "most memory inside, e.g. 64m (default: no limit)"},
	{"--cpus", NULL, "N", OPT_CPUS, 9, OPT_CPU_TIME, CPU_PERIOD / 100, 0,
	 NULL, NULL, NULL, FIELD(cpu_quota),
	 "most CPUs' time, e.g. 0.5 (default: no limit)"},
	{"--cap-add", NULL, "CAP", OPT_CAP_ADD, 10, OPT_CAPS, 0, 0, NULL,
	 NULL, NULL, FIELD(cap_add),
	 "keep capability CAP too, e.g. NET_RAW (repeatable)"},
	{"--cap-drop", NULL, "CAP", OPT_CAP_DROP, 10, OPT_CAPS, 0, 0, NULL,
	 NULL, NULL, FIELD(cap_drop),
	 "drop CAP from the default set, or ALL (repeatable)"},
	/* Stage 13: how docker runs an image, docker's names. */
	{"--env", "-e", "KEY=VALUE", OPT_ENV, 13, OPT_ENV_VAR, 0, 0, NULL,
	 NULL, NULL, FIELD(env), "set an environment variable (repeatable)"},
	{"--workdir", "-w", "DIR", OPT_WORKDIR, 13, OPT_TEXT, 1, 0, NULL,
	 NULL, NULL, FIELD(workdir), "the command's working directory"},
	{"--user", "-u", "UID[:GID]", OPT_USER, 13, OPT_TEXT, 1, 0, NULL,
	 NULL, NULL, FIELD(user), "the user (or NAME[:GROUP]) to run as"},
	{"--volume", "-v", "HOST:CTR[:ro]", OPT_VOLUME, 13, OPT_VOLUME_SPEC,
	 0, 0, NULL, NULL, NULL, FIELD(volumes),
	 "bind host directory HOST on CTR (repeatable)"},
	{"--entrypoint", NULL, "CMD", OPT_ENTRYPOINT, 13, OPT_TEXT, 1, 0,
	 NULL, NULL, NULL, FIELD(entrypoint),
	 "run CMD in place of the image's entrypoint"},
	/* Stage 14: a network of the container's own. No default in the
	 * table: it is bridge as root, slirp4netns or none without. */
	{"--publish", "-p", "HOST:CTR", OPT_PUBLISH, 14, OPT_PORT_SPEC, 0, 0,
	 NULL, NULL, NULL, FIELD(ports),
	 "publish the container's TCP port CTR on the host's HOST "
	 "(repeatable)"},
	/* docker's names, and podman's for the rootless one. */
	{"--net", NULL, "bridge|none|host|slirp4netns", OPT_NET, 14,
	 OPT_CHOICE, 0, 0, NULL, NULL, NULL, FIELD(net),
	 "the container's network (default: bridge as root, else "
	 "slirp4netns when installed, else none)"},
	/* Stage 15: docker's names. A name's characters are checked where
	 * it is claimed (common/ctr/record.c), its length here. */
	{"--tty", "-t", NULL, OPT_TTY, 15, OPT_FLAG, 0, 0, NULL, NULL, NULL,
	 FIELD(tty), "give the command a terminal of its own"},
	{"--interactive", "-i", NULL, OPT_INTERACTIVE, 15, OPT_FLAG, 0, 0,
	 NULL, NULL, NULL, FIELD(interactive),
	 "keep stdin open (with -t: typed into its terminal)"},
	{"--detach", "-d", NULL, OPT_DETACH, 15, OPT_FLAG, 0, 0, NULL, NULL,
	 NULL, FIELD(detach),
	 "run in the background, print its id (see ps, logs, stop, rm)"},
	{"--name", NULL, "NAME", OPT_NAME, 15, OPT_TEXT, 1, 64, "a name has",
	 NULL, NULL, FIELD(name), "the name to address it by"},
	/* Not -v: from stage 13, -v is a volume, as docker's. */
	{"--verbose", NULL, NULL, 0, 1, OPT_FLAG, 0, 0, NULL, NULL, NULL,
	 FIELD(verbose), "print the runtime's progress on stderr"},
	{"--help", "-h", NULL, 0, 1, OPT_FLAG, 0, 0, NULL, NULL, NULL,
	 FIELD(help), "print this help"},
	{.name = NULL},
};

static enum args_result fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum args_result fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (len > 0)
		vsnprintf(err, len, fmt, ap);
	va_end(ap);
	/* The reason quotes what the user typed: keep it one line. */
	for (char *p = len > 0 ? err : NULL; p && *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	return ARGS_ERROR;
}

const struct opt_spec *opt_find(const char *arg, const char **inline_value)
{
	*inline_value = NULL;
	for (const struct opt_spec *o = opt_table; o->name; o++) {
		size_t n = strlen(o->name);
		if (!strcmp(arg, o->name) || (o->alias && !strcmp(arg, o->alias)))
			return o;
		if (o->kind != OPT_FLAG && !strncmp(arg, o->name, n) &&
		    arg[n] == '=') {
			*inline_value = arg + n + 1;
			return o;
		}
	}
	return NULL;
}

/* A whole decimal number in [min, max] into *out; -1 if it is not. */
static int parse_number(const char *s, long min, long max, long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* --memory: a whole number of bytes, or of KiB, MiB or GiB with k, m or
 * g after it (either case), from min up to what the host has. */
static int parse_size(const char *s, long min, long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (errno != 0 || *end != '\0' || v > (LONG_MAX >> shift))
		return -1;
	v <<= shift;
	long host = sysconf(_SC_PHYS_PAGES);
	if (v < min || (host > 0 && v / sysconf(_SC_PAGESIZE) > host))
		return -1;
	*out = v;
	return 0;
}

/* --cpus: a decimal number of CPUs such as 0.5 or 2, up to the CPUs
 * online, into microseconds per CPU_PERIOD, at least min. Digits only, so
 * no locale, exponent or rounding gets in. */
static int parse_cpus(const char *s, long min, long *out)
{
	long whole = 0, frac = 0, scale = CPU_PERIOD;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((whole = whole * 10 + (*p - '0')) > 100000)
			return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale == 1) /* finer than a microsecond */
				return -1;
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	/* Something, and only digits with at most one point. */
	if (*p != '\0' || p == s || !strcmp(s, "."))
		return -1;
	long q = whole * CPU_PERIOD + frac;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	if (q < min || (online > 0 && q > online * CPU_PERIOD))
		return -1;
	*out = q;
	return 0;
}

/* Parse a capability name for --cap-add or --cap-drop into its bit: a
 * name of capabilities(7), with or without CAP_, any case, or ALL. */
static int parse_cap(const char *s, uint64_t *bits)
{
	if (!strcasecmp(s, "ALL")) {
		*bits |= CAPS_ALL;
		return 0;
	}
	int cap = cap_by_name(s);
	if (cap < 0)
		return -1;
	*bits |= UINT64_C(1) << cap;
	return 0;
}

/* -e: KEY=VALUE, KEY not empty. */
static bool is_env_var(const char *s)
{
	const char *eq = strchr(s, '=');
	return eq && eq != s;
}

/* -v: HOSTDIR:CTRDIR or HOSTDIR:CTRDIR:ro, both absolute paths. */
static bool is_volume_spec(const char *s)
{
	const char *c1 = strchr(s, ':');
	if (s[0] != '/' || !c1 || c1[1] != '/')
		return false;
	const char *c2 = strchr(c1 + 1, ':');
	return !c2 || !strcmp(c2, ":ro");
}

/* One TCP port, 1 to 65535, the whole of s up to end. */
static bool is_port(const char *s, const char *end)
{
	long v = 0;
	if (s == end || end - s > 5)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535;
}

/* -p: HOSTPORT:CTRPORT. */
static bool is_port_spec(const char *s)
{
	const char *colon = strchr(s, ':');
	return colon && is_port(s, colon) &&
	       is_port(colon + 1, colon + 1 + strlen(colon + 1));
}

/* Whether s is one of the words in words ("a|b|c"). */
static bool is_choice(const char *s, const char *words)
{
	size_t n = strlen(s);
	for (const char *w = words; *w;) {
		size_t len = strcspn(w, "|");
		if (n && len == n && !strncmp(w, s, n))
			return true;
		w += len + (w[len] == '|');
	}
	return false;
}

/* Check value against o's bounds and store it in opts. */
static enum args_result set_value(const struct opt_spec *o, const char *value,
				  struct options *opts, char *err,
				  size_t err_len)
{
	char *field = (char *)opts + o->field;
	if (o->kind == OPT_NUMBER) {
		if (parse_number(value, o->min, o->max, (long *)field) < 0)
			return fail(err, err_len,
				    "bad %s '%.64s': want a whole number from "
				    "%ld to %ld",
				    o->name, value, o->min, o->max);
		return ARGS_OK;
	}
	if (o->kind == OPT_BYTES) {
		if (parse_size(value, o->min, (long *)field) < 0)
			return fail(err, err_len,
				    "bad %s '%.64s': want bytes, or a number "
				    "with k, m or g, from %ldm up to the host's "
				    "memory",
				    o->name, value, o->min >> 20);
		return ARGS_OK;
	}
	if (o->kind == OPT_CAPS) {
		if (parse_cap(value, (uint64_t *)field) < 0)
			return fail(err, err_len,
				    "bad %s '%.64s': not a capability of "
				    "capabilities(7), nor ALL",
				    o->name, value);
		return ARGS_OK;
	}
	if (o->kind == OPT_ENV_VAR || o->kind == OPT_VOLUME_SPEC ||
	    o->kind == OPT_PORT_SPEC) {
		struct opt_list *l = (struct opt_list *)field;
		bool ok = o->kind == OPT_ENV_VAR      ? is_env_var(value)
			  : o->kind == OPT_VOLUME_SPEC ? is_volume_spec(value)
						       : is_port_spec(value);
		if (!ok)
			return fail(err, err_len, "bad %s '%.64s': want %s",
				    o->name, value,
				    o->kind == OPT_ENV_VAR ? "KEY=VALUE"
				    : o->kind == OPT_VOLUME_SPEC
					? "HOSTDIR:CTRDIR[:ro], both absolute"
					: "HOSTPORT:CTRPORT, TCP ports from 1 "
					  "to 65535");
		if (l->n == OPT_LIST_MAX)
			return fail(err, err_len, "bad %s: more than %d",
				    o->name, OPT_LIST_MAX);
		l->v[l->n++] = value;
		return ARGS_OK;
	}
	if (o->kind == OPT_CPU_TIME) {
		if (parse_cpus(value, o->min, (long *)field) < 0)
			return fail(err, err_len,
				    "bad %s '%.64s': want a decimal from %g up "
				    "to the host's CPUs",
				    o->name, value,
				    (double)o->min / CPU_PERIOD);
		return ARGS_OK;
	}
	if (o->kind == OPT_CHOICE) {
		if (!is_choice(value, o->arg))
			return fail(err, err_len, "bad %s '%.64s': want %s",
				    o->name, value, o->arg);
		*(const char **)field = value;
		return ARGS_OK;
	}
	size_t n = strlen(value);
	if (n == 0)
		return fail(err, err_len, "bad %s '': it is empty", o->name);
	if (o->max > 0 && n > (size_t)o->max)
		return fail(err, err_len, "bad %s: %zu bytes, %s at most %ld",
			    o->name, n, o->max_why ? o->max_why : "it takes",
			    o->max);
	*(const char **)field = value;
	return ARGS_OK;
}

/* Every option's default into opts. */
static void set_defaults(struct options *opts)
{
	*opts = (struct options){0};
	for (const struct opt_spec *o = opt_table; o->name; o++) {
		const char *def = o->def;
		const char *env = o->def_env ? getenv(o->def_env) : NULL;
		if (env && *env)
			def = env;
		char *field = (char *)opts + o->field;
		if (def && o->kind == OPT_TEXT)
			*(const char **)field = def;
		else if (def && o->kind == OPT_NUMBER)
			*(long *)field = strtol(def, NULL, 10);
	}
}

/* What getopt_long(3) reads for a stage: the short names in an option
 * string, and a struct option for each long name, both made from the
 * rows of opt_table the stage has. */
struct getopt_spec {
	char shorts[3 + 2 * ARRAY_SIZE(opt_table)];
	struct option longs[ARRAY_SIZE(opt_table)];
};

/* getopt_long's answer for row i, above every short option's character,
 * so that a row is known from optopt too, when its value is wrong. */
#define ROW_VAL(i) (256 + (int)(i))

/* Whether a stage accepting opts_mask has option o. */
static bool in_stage(const struct opt_spec *o, unsigned opts_mask)
{
	return !o->bit || (opts_mask & o->bit);
}

/* Fill g with the rows of opt_table in opts_mask. */
static void make_getopt_spec(unsigned opts_mask, struct getopt_spec *g)
{
	/* '+': stop at the first word that is not an option, the command,
	 * whatever POSIXLY_CORRECT says (no reordering of argv). ':': a
	 * missing value is told apart from an unknown option, and getopt
	 * prints nothing (as opterr = 0): the stage prints one line. */
	char *s = g->shorts;
	*s++ = '+';
	*s++ = ':';
	size_t n = 0;
	for (size_t i = 0; opt_table[i].name; i++) {
		const struct opt_spec *o = &opt_table[i];
		if (!in_stage(o, opts_mask))
			continue;
		int has_arg = o->kind == OPT_FLAG ? no_argument
						  : required_argument;
		g->longs[n++] = (struct option){o->name + 2, has_arg, NULL,
						ROW_VAL(i)};
		if (o->alias) {
			*s++ = o->alias[1];
			if (has_arg)
				*s++ = ':';
		}
	}
	*s = '\0';
	g->longs[n] = (struct option){0};
}

/* The row of the stage's options whose short name is c, or NULL. */
static const struct opt_spec *find_short(int c, unsigned opts_mask)
{
	for (const struct opt_spec *o = opt_table; o->name; o++)
		if (o->alias && o->alias[1] == c && in_stage(o, opts_mask))
			return o;
	return NULL;
}

/* Whether word ("--name" or "--name=value") names o in full. getopt_long
 * takes any unambiguous prefix ("--host"); the stages do not (see
 * parse_args). */
static bool names_in_full(const char *word, const struct opt_spec *o)
{
	size_t n = strcspn(word + 2, "=");
	return n == strlen(o->name + 2) && !strncmp(word + 2, o->name + 2, n);
}

/* Store o's value, or set its flag; ARGS_HELP for --help. */
static enum args_result take_option(const struct opt_spec *o,
				    const char *value, struct options *opts,
				    char *err, size_t err_len)
{
	if (o->kind != OPT_FLAG)
		return set_value(o, value, opts, err, err_len);
	*(bool *)((char *)opts + o->field) = true;
	return o->field == FIELD(help) ? ARGS_HELP : ARGS_OK;
}

/* The options are read by getopt_long(3) over argv from "run" on, so
 * that "run" plays its argv[0]. Abbreviations are refused: docker and
 * runc take none; what a prefix means would change from stage to stage
 * as rows are added ("--c" is --cpus in stage 9, ambiguous from 10); and
 * the harness finds options by their full names (opt_find), so it must
 * see what the stage sees. */
enum args_result parse_args(int argc, char **argv, unsigned opts_mask,
			    struct options *opts, char *err, size_t err_len)
{
	set_defaults(opts);
	if (err_len > 0)
		err[0] = '\0';
	if (argc < 2)
		return fail(err, err_len, "missing command 'run'");
	const char *value;
	const struct opt_spec *first = opt_find(argv[1], &value);
	if (first && first->field == FIELD(help))
		return ARGS_HELP;
	if (strcmp(argv[1], "run") != 0)
		return fail(err, err_len, "unknown command '%s'", argv[1]);

	struct getopt_spec g;
	make_getopt_spec(opts_mask, &g);
	int n = argc - 1;
	char **words = argv + 1;
	/* getopt_long keeps its place in globals: 0 starts it afresh, so
	 * that every call reads its own argv from the start. */
	optind = 0;
	opterr = 0;
	for (;;) {
		/* The word it reads now: a long option is a word of its own,
		 * short ones may share one (stage 15: "-ti"). */
		int at = optind > 0 ? optind : 1;
		const char *word = at < n ? words[at] : "";
		bool is_long = !strncmp(word, "--", 2);
		int c = getopt_long(n, words, g.shorts, g.longs, NULL);
		if (c == -1)
			break;
		/* On an error, optopt says what it was about: a row's
		 * value, a short name, or 0 (no long option of that name,
		 * or more than one with it as a prefix). */
		bool bad = c == '?' || c == ':';
		int row = bad ? optopt : c;
		const struct opt_spec *o = NULL;
		if (row >= ROW_VAL(0))
			o = &opt_table[row - ROW_VAL(0)];
		else if (!is_long)
			o = find_short(row, opts_mask);
		if (is_long && (!o || !names_in_full(word, o)))
			return fail(err, err_len, "unknown option '%.64s'",
				    word);
		if (!o) /* a byte of UTF-8 alone is no text: '?' */
			return fail(err, err_len, "unknown option '-%c'",
				    row > ' ' && row < 0x7f ? row : '?');
		const char *name = is_long ? o->name : o->alias;
		if (c == ':')
			return fail(err, err_len, "option '%s' needs a value",
				    name);
		if (c == '?') /* "--verbose=1" */
			return fail(err, err_len, "option '%s' takes no value",
				    name);
		opts->given |= o->bit;
		enum args_result r = take_option(o, optarg, opts, err, err_len);
		if (r != ARGS_OK)
			return r;
	}
	int i = 1 + optind;
	if (i >= argc)
		return fail(err, err_len, "missing the command to run");
	if (argv[i][0] == '\0')
		return fail(err, err_len, "the command is an empty string");
	opts->argv = argv + i;
	return ARGS_OK;
}

void print_usage(FILE *out, const char *prog, unsigned opts_mask)
{
	fprintf(out, "usage: %s run [options] <cmd> [args...]\n", prog);
	fprintf(out, "\noptions:\n");
	for (const struct opt_spec *o = opt_table; o->name; o++) {
		if (o->bit && !(opts_mask & o->bit))
			continue;
		char names[64];
		snprintf(names, sizeof(names), "%s%s%s%s%s",
			 o->alias ? o->alias : "", o->alias ? ", " : "",
			 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-16s %s", names, o->help);
		if (o->def_env)
			fprintf(out, " (default $%s or ./%s)", o->def_env,
				o->def);
		else if (o->def && o->kind == OPT_TEXT)
			fprintf(out, " (default \"%s\")", o->def);
		else if (o->def)
			fprintf(out, " (default %s)", o->def);
		fprintf(out, "\n");
	}
	fprintf(out, "\nexit status: the command's, 128+S if killed by "
		     "signal S,\n125 if the runtime failed, 126 if the "
		     "command could not run,\n127 if it was not found\n");
}
