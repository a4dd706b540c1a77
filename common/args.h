/* The command line every stage shares: run [options] <cmd> [args...]. */
#ifndef MINIDOCKER_ARGS_H
#define MINIDOCKER_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The options a stage has introduced so far; each stage passes its set. */
enum {
	ARGS_HOSTNAME = 1 << 0, /* --hostname NAME, stage 2 on */
	ARGS_ROOTFS = 1 << 1,   /* --rootfs DIR, stage 4 on */
	ARGS_PIDS_MAX = 1 << 2, /* --pids-max N, stage 6 on */
	ARGS_LIMITS = 1 << 3,   /* --memory SIZE and --cpus N, stage 9 on */
	ARGS_CAPS = 1 << 4,     /* --cap-add CAP and --cap-drop CAP, stage 10 on */
};

#define ARGS_HOSTNAME_MAX 64  /* HOST_NAME_MAX on Linux */
#define ARGS_PIDS_MAX_LIMIT 4194304 /* PID_MAX_LIMIT on 64-bit Linux */
#define ARGS_MEMORY_MIN (6LL << 20) /* docker's smallest --memory, 6m */
#define ARGS_CPU_PERIOD 100000L /* --cpus N: N * this many microseconds of
				 * CPU time per period of this length */

struct options {
	const char *hostname; /* default "container" */
	const char *rootfs;   /* default $MINIDOCKER_ROOTFS, else "rootfs" */
	long pids_max;        /* default 20 */
	long long memory;     /* --memory in bytes; 0: no limit (default) */
	long cpu_quota;       /* --cpus N as N * ARGS_CPU_PERIOD microseconds;
			       * 0: no limit (default) */
	uint64_t cap_add;     /* --cap-add: bit N for capability N */
	uint64_t cap_drop;    /* --cap-drop, applied before cap_add */
	bool verbose;         /* -v */
	char **argv;          /* the command and its arguments, NULL-ended */
};

enum args_result {
	ARGS_OK,    /* run the command in opts->argv */
	ARGS_HELP,  /* --help: print the usage on stdout, exit 0 */
	ARGS_ERROR, /* bad input: err holds the reason, exit 125 */
};

/* Parse argv (argv[0] is the program) for a stage accepting features.
 * Returns ARGS_OK, ARGS_HELP, or ARGS_ERROR with a one-line reason in
 * err. Keeps no state between calls and writes nothing. */
enum args_result parse_args(int argc, char **argv, unsigned features,
			    struct options *opts, char *err, size_t err_len);

/* Print the usage of a stage with features to out. */
void print_usage(FILE *out, const char *prog, unsigned features);

#endif
