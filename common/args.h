/* The command line every stage shares: run [options] <cmd> [args...].
 *
 * Every option is described once, in opt_table (args.c): its name, its
 * value, the stage that introduces it, its bounds and its help line. The
 * parser, the usage text, the bad-input tests, the fuzzer and the test
 * harness all read that table, so a stage that adds an option adds a row
 * (and its OPT_ bit and its field in struct options), nothing else. */
#ifndef MINIDOCKER_ARGS_H
#define MINIDOCKER_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The options a stage accepts beyond those every stage has (--verbose,
 * --help): each stage passes the set it has introduced so far as
 * STAGE_OPTS. */
enum {
	OPT_HOSTNAME = 1 << 0, /* --hostname NAME, stage 2 on */
	OPT_ROOTFS = 1 << 1,   /* --rootfs DIR, stage 4 on */
	OPT_PIDS_MAX = 1 << 2, /* --pids-max N, stage 6 on */
	OPT_MEMORY = 1 << 3,   /* --memory SIZE, stage 9 on */
	OPT_CPUS = 1 << 4,     /* --cpus N, stage 9 on */
	OPT_CAP_ADD = 1 << 5,  /* --cap-add CAP, stage 10 on */
	OPT_CAP_DROP = 1 << 6, /* --cap-drop CAP, stage 10 on */
	OPT_ENV = 1 << 7,      /* -e KEY=VALUE, stage 13 on */
	OPT_WORKDIR = 1 << 8,  /* -w DIR, stage 13 on */
	OPT_USER = 1 << 9,     /* -u UID[:GID], stage 13 on */
	OPT_VOLUME = 1 << 10,  /* -v HOSTDIR:CTRDIR[:ro], stage 13 on */
	OPT_ENTRYPOINT = 1 << 11, /* --entrypoint CMD, stage 13 on */
	OPT_PUBLISH = 1 << 12, /* -p HOSTPORT:CTRPORT, stage 14 on */
	OPT_NET = 1 << 13,     /* --net MODE, stage 14 on */
	OPT_TTY = 1 << 14,     /* -t, stage 15 on */
	OPT_INTERACTIVE = 1 << 15, /* -i, stage 15 on */
	OPT_DETACH = 1 << 16,  /* -d, stage 15 on */
	OPT_NAME = 1 << 17,    /* --name NAME, stage 15 on */
};

/* Bounds: *_LEN_MAX for a length in bytes, *_LIMIT for a number. */
#define HOSTNAME_LEN_MAX 64  /* HOST_NAME_MAX on Linux */
#define PIDS_MAX_LIMIT 4194304 /* PID_MAX_LIMIT on 64-bit Linux */
#define MEMORY_MIN (6L << 20)    /* docker's smallest --memory, 6m */
#define OPT_LIST_MAX 64 /* values of one repeatable option (-e, -v) */
#define CPU_PERIOD 100000L /* --cpus N: N * this many microseconds of CPU
			    * time in every period this long */

/* A repeatable option's values, in the order given. */
struct opt_list {
	const char *v[OPT_LIST_MAX];
	size_t n;
};

struct options {
	const char *hostname; /* --hostname */
	const char *rootfs;   /* --rootfs */
	long pids_max;        /* --pids-max */
	long memory;          /* --memory, in bytes; 0: no limit */
	long cpu_quota;       /* --cpus N as N * CPU_PERIOD microseconds;
			       * 0: no limit */
	uint64_t cap_add;     /* --cap-add: bit N for capability N */
	uint64_t cap_drop;    /* --cap-drop, applied before cap_add */
	struct opt_list env;  /* -e KEY=VALUE */
	const char *workdir;  /* -w DIR */
	const char *user;     /* -u UID[:GID] or NAME[:GROUP] */
	struct opt_list volumes; /* -v HOSTDIR:CTRDIR[:ro] */
	const char *entrypoint; /* --entrypoint CMD */
	struct opt_list ports; /* -p HOSTPORT:CTRPORT */
	const char *net;      /* --net MODE; NULL: the stage's default */
	bool tty;             /* -t: a terminal of its own */
	bool interactive;     /* -i: keep stdin open */
	bool detach;          /* -d: run in the background, under a monitor */
	const char *name;     /* --name NAME; NULL: none */
	unsigned given;       /* the OPT_ bits of the options on the line */
	bool verbose;         /* --verbose */
	bool help;            /* --help, -h */
	char **argv;          /* the command and its arguments, NULL-ended */
};

/* What an option's value is, and so how it is checked and stored. */
enum opt_kind {
	OPT_FLAG,   /* no value: sets a bool */
	OPT_TEXT,   /* a non-empty string of at most max bytes (0: any) */
	OPT_NUMBER, /* a whole decimal number from min to max */
	OPT_BYTES,   /* bytes, or a whole number with k, m or g, from min up
		     * to the host's memory; stored as a long */
	OPT_CPU_TIME, /* a decimal number of CPUs (0.5) from min / CPU_PERIOD
		     * up to the CPUs online; stored as a long of
		     * microseconds per CPU_PERIOD */
	OPT_CAPS,   /* a capability name (capabilities(7), with or without
		     * CAP_, any case) or ALL; repeatable, each one's bit
		     * added to a uint64_t */
	OPT_ENV_VAR, /* KEY=VALUE with a non-empty KEY; repeatable, each
		     * appended to a struct opt_list */
	OPT_VOLUME_SPEC, /* HOSTDIR:CTRDIR or HOSTDIR:CTRDIR:ro, both
		     * absolute; repeatable, as OPT_ENV_VAR */
	OPT_PORT_SPEC, /* HOSTPORT:CTRPORT, TCP ports from 1 to 65535;
		     * repeatable, as OPT_ENV_VAR */
	OPT_CHOICE, /* one of the words in arg, which are split by '|' */
};

/* One option: a row of opt_table. */
struct opt_spec {
	const char *name;  /* its long name: "--hostname" */
	const char *alias; /* a short name, a dash and a letter ("-h"), or
			    * NULL */
	const char *arg;   /* the value's name in the usage, NULL for a flag */
	unsigned bit;      /* its OPT_ bit; 0 for options every stage has */
	int stage;         /* the stage that introduces it */
	enum opt_kind kind;
	long min, max;     /* OPT_NUMBER: bounds; OPT_TEXT: max bytes */
	const char *max_why; /* OPT_TEXT: who sets max, as in "at most" */
	const char *def;   /* the default value as text, NULL: none */
	const char *def_env; /* an environment variable that overrides def */
	size_t field;      /* offsetof(struct options, ...) */
	const char *help;  /* the usage line, without the default */
};

/* Every option, in the order the usage lists them; ended by a row whose
 * name is NULL. */
extern const struct opt_spec opt_table[];

/* The row for arg ("--hostname", "--hostname=x", "-h"), or NULL. When arg
 * carries its value after '=', *inline_value points at it, else NULL. */
const struct opt_spec *opt_find(const char *arg, const char **inline_value);

enum args_result {
	ARGS_OK,    /* run the command in opts->argv */
	ARGS_HELP,  /* --help: print the usage on stdout, exit 0 */
	ARGS_ERROR, /* bad input: err holds the reason, exit 125 */
};

/* Parse argv (argv[0] is the program) for a stage accepting the options
 * in opts_mask (OPT_ bits), with getopt_long(3): options in full only
 * (no abbreviations), each as "--name value" or "--name=value", up to the
 * first word that is not one or "--". Returns ARGS_OK, ARGS_HELP, or
 * ARGS_ERROR with a one-line reason in err. Prints nothing, and starts
 * getopt afresh (optind = 0) on every call, so calls in a row answer
 * alike; getopt's globals make it unsafe in threads. */
enum args_result parse_args(int argc, char **argv, unsigned opts_mask,
			    struct options *opts, char *err, size_t err_len);

/* Print the usage of a stage accepting opts_mask to out. */
void print_usage(FILE *out, const char *prog, unsigned opts_mask);

#endif
