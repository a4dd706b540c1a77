/*
 * libFuzzer target for parse_args() (common/args.c), which keeps no state
 * and writes nothing, so it runs in-process.
 *
 * An input is one byte that picks the stage's options (its low 3 bits) and
 * the size of the error buffer (the next 2 bits), then the arguments
 * after argv[0], separated by NUL bytes. Any broken promise of args.h
 * aborts, and ASan and UBSan catch the rest.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "caps.h"

#define MAX_ARGC 64

/* Abort (which libFuzzer reports with the input) unless ok. */
static void require(int ok)
{
	if (!ok)
		abort();
}

/* Whether s is one line: no control character in it. */
static int one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static void check_ok(int argc, char **argv, unsigned features,
		     const struct options *o)
{
	require(!strcmp(argv[1], "run"));
	require(o->argv > argv + 1 && o->argv < argv + argc);
	require(o->argv[0][0] != '\0');
	size_t n = strlen(o->hostname);
	require(n >= 1 && n <= ARGS_HOSTNAME_MAX);
	require(o->rootfs[0] != '\0');
	require(o->pids_max >= 1 && o->pids_max <= ARGS_PIDS_MAX_LIMIT);
	/* An option the stage has not introduced never takes effect. */
	if (!(features & ARGS_HOSTNAME))
		require(!strcmp(o->hostname, "container"));
	if (!(features & ARGS_ROOTFS))
		require(!strcmp(o->rootfs, "rootfs"));
	if (!(features & ARGS_PIDS_MAX))
		require(o->pids_max == 20);
	/* No limit, or one the kernel can honour. */
	require(o->memory == 0 || o->memory >= ARGS_MEMORY_MIN);
	require(o->cpu_quota == 0 || o->cpu_quota >= ARGS_CPU_PERIOD / 100);
	if (!(features & ARGS_LIMITS))
		require(o->memory == 0 && o->cpu_quota == 0);
	/* Capabilities the kernel has a name for, and none unasked. */
	require(!(o->cap_add & ~CAPS_ALL) && !(o->cap_drop & ~CAPS_ALL));
	if (!(features & ARGS_CAPS))
		require(o->cap_add == 0 && o->cap_drop == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The default rootfs comes from the environment: fix it to "rootfs". */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	unsetenv("MINIDOCKER_ROOTFS");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t err_sizes[] = {0, 1, 17, 256};
	if (size < 1)
		return 0;
	/* Bits 0-2: the first three options; bit 5: stage 9's limits; bit
	 * 6: stage 10's capabilities. */
	unsigned features = (data[0] & 7) | (data[0] & 0x20 ? ARGS_LIMITS : 0) |
			    (data[0] & 0x40 ? ARGS_CAPS : 0);
	size_t err_len = err_sizes[(data[0] >> 3) & 3];

	/* A private copy, NUL-ended, cut into arguments at each NUL. */
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	char *argv[MAX_ARGC + 1] = {"stage-fuzz"};
	int argc = 1;
	for (char *p = text; argc < MAX_ARGC && p < text + size - 1;
	     p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	struct options o, again;
	char err[256], err2[256];
	memset(err, 'x', sizeof(err));
	enum args_result r =
		parse_args(argc, argv, features, &o, err, err_len);
	switch (r) {
	case ARGS_OK:
		check_ok(argc, argv, features, &o);
		break;
	case ARGS_HELP:
		break;
	case ARGS_ERROR:
		/* A one-line reason that fits, whatever the buffer. */
		if (err_len > 0) {
			require(memchr(err, '\0', err_len) != NULL);
			require(one_line(err));
		}
		if (err_len > 1)
			require(err[0] != '\0');
		break;
	default:
		abort();
	}
	/* No state kept: the same input gives the same answer. */
	require(parse_args(argc, argv, features, &again, err2, err_len) == r);
	if (r == ARGS_OK)
		require(again.argv == o.argv && again.pids_max == o.pids_max &&
			again.hostname == o.hostname &&
			again.rootfs == o.rootfs);
	if (r == ARGS_ERROR && err_len > 0)
		require(!strcmp(err, err2));
	free(text);
	return 0;
}
