#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define FIELD(name) offsetof(struct options, name)

/* Part II adds its options here, one row each (--memory and --cpus at
 * stage 9, --cap-add/--cap-drop at 10, --image at 13, -p and --net at 14,
 * -d and --name at 15), with a new kind where a value is of a new sort. */
const struct opt_spec opt_table[] = {
	{"--hostname", NULL, "NAME", OPT_HOSTNAME, 2, OPT_TEXT, 1,
	 HOSTNAME_LEN_MAX, "the kernel allows", "container", NULL,
	 FIELD(hostname), "hostname inside"},
	{"--rootfs", NULL, "DIR", OPT_ROOTFS, 4, OPT_TEXT, 1, 0, NULL,
	 "rootfs", "MINIDOCKER_ROOTFS", FIELD(rootfs), "root filesystem"},
	{"--pids-max", NULL, "N", OPT_PIDS_MAX, 6, OPT_NUMBER, 1,
	 PIDS_MAX_LIMIT, NULL, "20", NULL, FIELD(pids_max),
	 "most processes inside"},
	{"-v", NULL, NULL, 0, 1, OPT_FLAG, 0, 0, NULL, NULL, NULL,
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

enum args_result parse_args(int argc, char **argv, unsigned opts_mask,
			    struct options *opts, char *err, size_t err_len)
{
	set_defaults(opts);
	if (err_len > 0)
		err[0] = '\0';
	if (argc < 2)
		return fail(err, err_len, "missing command 'run'");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return ARGS_HELP;
	if (strcmp(argv[1], "run") != 0)
		return fail(err, err_len, "unknown command '%s'", argv[1]);

	int i = 2;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *value;
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		const struct opt_spec *o = opt_find(argv[i], &value);
		if (!o || (o->bit && !(opts_mask & o->bit)))
			return fail(err, err_len, "unknown option '%.64s'",
				    argv[i]);
		if (o->kind == OPT_FLAG) {
			*(bool *)((char *)opts + o->field) = true;
			if (o->field == offsetof(struct options, help))
				return ARGS_HELP;
			continue;
		}
		if (!value) {
			if (i + 1 >= argc)
				return fail(err, err_len,
					    "option '%s' needs a value",
					    o->name);
			value = argv[++i];
		}
		if (set_value(o, value, opts, err, err_len) != ARGS_OK)
			return ARGS_ERROR;
	}
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
