#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "args.h"
#include "caps.h"

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

/* Parse a whole decimal number in [1, ARGS_PIDS_MAX_LIMIT]. */
static int parse_pids_max(const char *s, long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > ARGS_PIDS_MAX_LIMIT)
		return -1;
	*out = v;
	return 0;
}

/* Parse --memory: a whole number of bytes, or of KiB, MiB or GiB with a
 * k, m or g after it (either case), from ARGS_MEMORY_MIN up to what the
 * host has. */
static int parse_memory(const char *s, long long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (errno != 0 || *end != '\0' || v > (LLONG_MAX >> shift))
		return -1;
	v <<= shift;
	long long host = (long long)sysconf(_SC_PHYS_PAGES) *
			 sysconf(_SC_PAGESIZE);
	if (v < ARGS_MEMORY_MIN || (host > 0 && v > host))
		return -1;
	*out = v;
	return 0;
}

/* Parse --cpus: a decimal number of CPUs such as 0.5 or 2, from 0.01 up to
 * the CPUs online, into microseconds per ARGS_CPU_PERIOD. Digits only, so
 * no locale, exponent or rounding gets in. */
static int parse_cpus(const char *s, long *quota)
{
	long whole = 0, frac = 0, scale = ARGS_CPU_PERIOD;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((whole = whole * 10 + (*p - '0')) > 100000)
			return -1;
	if (p == s && *p != '.')
		return -1;
	if (*p == '.') {
		const char *digits = ++p;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale == 1) /* finer than a microsecond */
				return -1;
			scale /= 10;
			frac += (*p - '0') * scale;
		}
		if (p == digits && p - 1 == s) /* "." alone */
			return -1;
	}
	if (*p != '\0')
		return -1;
	long q = whole * ARGS_CPU_PERIOD + frac;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	/* The kernel takes no quota below 1 ms. */
	if (q < ARGS_CPU_PERIOD / 100 ||
	    (online > 0 && q > online * ARGS_CPU_PERIOD))
		return -1;
	*quota = q;
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

/* If arg is --name or --name=value for an option that takes a value, set
 * *value (taking the next argument for the first form) and return 1;
 * return 0 when arg is another option, -1 when the value is missing. */
static int take_value(const char *name, int argc, char **argv, int *i,
		      const char **value)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

enum args_result parse_args(int argc, char **argv, unsigned features,
			    struct options *opts, char *err, size_t err_len)
{
	const char *env_rootfs = getenv("MINIDOCKER_ROOTFS");
	*opts = (struct options){
		.hostname = "container",
		.rootfs = env_rootfs && *env_rootfs ? env_rootfs : "rootfs",
		.pids_max = 20,
	};
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
		const char *arg = argv[i], *value = NULL;
		int r;
		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return ARGS_HELP;
		if (!strcmp(arg, "-v")) {
			opts->verbose = true;
			continue;
		}
		if ((features & ARGS_HOSTNAME) &&
		    (r = take_value("--hostname", argc, argv, &i, &value))) {
			if (r < 0)
				return fail(err, err_len,
					    "option '--hostname' needs a value");
			size_t n = strlen(value);
			if (n == 0)
				return fail(err, err_len,
					    "bad --hostname '': it is empty");
			if (n > ARGS_HOSTNAME_MAX)
				return fail(err, err_len,
					    "bad --hostname: %zu bytes, the "
					    "kernel allows at most %d",
					    n, ARGS_HOSTNAME_MAX);
			opts->hostname = value;
			continue;
		}
		if ((features & ARGS_ROOTFS) &&
		    (r = take_value("--rootfs", argc, argv, &i, &value))) {
			if (r < 0)
				return fail(err, err_len,
					    "option '--rootfs' needs a value");
			if (*value == '\0')
				return fail(err, err_len,
					    "bad --rootfs '': it is empty");
			opts->rootfs = value;
			continue;
		}
		if ((features & ARGS_PIDS_MAX) &&
		    (r = take_value("--pids-max", argc, argv, &i, &value))) {
			if (r < 0)
				return fail(err, err_len,
					    "option '--pids-max' needs a value");
			if (parse_pids_max(value, &opts->pids_max) < 0)
				return fail(err, err_len,
					    "bad --pids-max '%.64s': want a "
					    "whole number from 1 to %d",
					    value, ARGS_PIDS_MAX_LIMIT);
			continue;
		}
		if ((features & ARGS_LIMITS) &&
		    (r = take_value("--memory", argc, argv, &i, &value))) {
			if (r < 0)
				return fail(err, err_len,
					    "option '--memory' needs a value");
			if (parse_memory(value, &opts->memory) < 0)
				return fail(err, err_len,
					    "bad --memory '%.64s': want bytes, "
					    "or a number with k, m or g, from "
					    "6m up to the host's memory",
					    value);
			continue;
		}
		if ((features & ARGS_LIMITS) &&
		    (r = take_value("--cpus", argc, argv, &i, &value))) {
			if (r < 0)
				return fail(err, err_len,
					    "option '--cpus' needs a value");
			if (parse_cpus(value, &opts->cpu_quota) < 0)
				return fail(err, err_len,
					    "bad --cpus '%.64s': want a "
					    "decimal from 0.01 up to the "
					    "host's CPUs",
					    value);
			continue;
		}
		if ((features & ARGS_CAPS) &&
		    ((r = take_value("--cap-add", argc, argv, &i, &value)) ||
		     (r = take_value("--cap-drop", argc, argv, &i, &value)))) {
			bool add = !strncmp(arg, "--cap-add", 9);
			if (r < 0)
				return fail(err, err_len,
					    "option '%s' needs a value", arg);
			if (parse_cap(value, add ? &opts->cap_add
						 : &opts->cap_drop) < 0)
				return fail(err, err_len,
					    "bad %s '%.64s': not a capability "
					    "of capabilities(7), nor ALL",
					    add ? "--cap-add" : "--cap-drop",
					    value);
			continue;
		}
		return fail(err, err_len, "unknown option '%.64s'", arg);
	}
	if (i >= argc)
		return fail(err, err_len, "missing the command to run");
	if (argv[i][0] == '\0')
		return fail(err, err_len, "the command is an empty string");
	opts->argv = argv + i;
	return ARGS_OK;
}

void print_usage(FILE *out, const char *prog, unsigned features)
{
	fprintf(out, "usage: %s run [options] <cmd> [args...]\n", prog);
	fprintf(out, "\noptions:\n");
	if (features & ARGS_HOSTNAME)
		fprintf(out, "  --hostname NAME  hostname inside (default "
			     "\"container\")\n");
	if (features & ARGS_ROOTFS)
		fprintf(out, "  --rootfs DIR     root filesystem (default "
			     "$MINIDOCKER_ROOTFS or ./rootfs)\n");
	if (features & ARGS_PIDS_MAX)
		fprintf(out, "  --pids-max N     most processes inside "
			     "(default 20)\n");
	if (features & ARGS_LIMITS)
		fprintf(out, "  --memory SIZE    most memory inside, e.g. 64m, "
			     "1g (default: no limit)\n"
			     "  --cpus N         most CPUs' worth of time, "
			     "e.g. 0.5 (default: no limit)\n");
	if (features & ARGS_CAPS)
		fprintf(out, "  --cap-add CAP    keep capability CAP too, e.g. "
			     "NET_RAW (repeatable)\n"
			     "  --cap-drop CAP   drop CAP from the default set, "
			     "or ALL (repeatable)\n");
	fprintf(out, "  -v               print the runtime's progress on "
		     "stderr\n");
	fprintf(out, "  -h, --help       print this help\n");
	fprintf(out, "\nexit status: the command's, 128+S if killed by "
		     "signal S,\n125 if the runtime failed, 126 if the "
		     "command could not run,\n127 if it was not found\n");
}
