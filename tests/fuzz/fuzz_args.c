/*
 * libFuzzer target for parse_args() (common/args.c), which prints nothing
 * and starts getopt_long afresh on every call, so it runs in-process; the
 * second parse of each input checks that no getopt state carries over.
 *
 * An input is one byte that picks the stage it plays (its low 4 bits,
 * plus 1) and the size of the error buffer (the next 2 bits), then the
 * arguments after argv[0], separated by NUL bytes. The stage accepts the
 * options opt_table gives every stage up to it, as the real stages do,
 * so a Part II row is fuzzed as soon as it is in the table. Any broken
 * promise of args.h aborts, and ASan and UBSan catch the rest.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

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

/* What parse_args() promises for a run, checked for every option in
 * opt_table: a value within its bounds, and the default for an option
 * the stage has not introduced. */
static void check_ok(int argc, char **argv, unsigned opts_mask,
		     const struct options *o)
{
	require(!strcmp(argv[1], "run"));
	require(o->argv > argv + 1 && o->argv < argv + argc);
	require(o->argv[0][0] != '\0');
	for (const struct opt_spec *s = opt_table; s->name; s++) {
		const char *field = (const char *)o + s->field;
		bool known = !s->bit || (opts_mask & s->bit);
		if (s->kind == OPT_TEXT) {
			const char *v = *(const char *const *)field;
			/* No default (-w, -u, --entrypoint): NULL unless given. */
			if (!v) {
				require(!s->def);
				continue;
			}
			size_t n = strlen(v);
			require(n >= 1 && (s->max == 0 || n <= (size_t)s->max));
			if (!known)
				require(s->def && !strcmp(v, s->def));
		} else if (s->kind == OPT_ENV_VAR ||
			   s->kind == OPT_VOLUME_SPEC ||
			   s->kind == OPT_PORT_SPEC) {
			/* -e KEY=VALUE, -v /HOST:/CTR[:ro], -p N:N: each as
			 * checked. */
			const struct opt_list *l = (const void *)field;
			require(l->n <= OPT_LIST_MAX && (known || l->n == 0));
			for (size_t i = 0; i < l->n; i++)
				require(s->kind == OPT_ENV_VAR
						? strchr(l->v[i], '=') > l->v[i]
					: s->kind == OPT_PORT_SPEC
						? strspn(l->v[i], "0123456789:") ==
							  strlen(l->v[i])
						: l->v[i][0] == '/' &&
							  strchr(l->v[i], ':'));
		} else if (s->kind == OPT_CHOICE) {
			/* --net: one of its words, or NULL unless given. */
			const char *v = *(const char *const *)field;
			const char *at = v ? strstr(s->arg, v) : NULL;
			require(!v || (at && *v && (at == s->arg || at[-1] == '|') &&
				       (at[strlen(v)] == '|' || !at[strlen(v)])));
			require(known || !v);
		} else if (s->kind == OPT_NUMBER) {
			long v = *(const long *)field;
			require(v >= s->min && v <= s->max);
			if (!known)
				require(v == strtol(s->def, NULL, 10));
		} else if (s->kind == OPT_BYTES || s->kind == OPT_CPU_TIME) {
			/* No limit, or one the kernel can honour. */
			long v = *(const long *)field;
			require(v == 0 || v >= s->min);
			if (!known)
				require(v == 0);
		}
	}
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
	int stage = 1 + (data[0] & 15);
	unsigned opts_mask = 0;
	for (const struct opt_spec *s = opt_table; s->name; s++)
		if (s->stage <= stage)
			opts_mask |= s->bit;
	size_t err_len = err_sizes[(data[0] >> 4) & 3];

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
		parse_args(argc, argv, opts_mask, &o, err, err_len);
	switch (r) {
	case ARGS_OK:
		check_ok(argc, argv, opts_mask, &o);
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
	require(parse_args(argc, argv, opts_mask, &again, err2, err_len) == r);
	if (r == ARGS_OK)
		require(again.argv == o.argv && again.pids_max == o.pids_max &&
			again.hostname == o.hostname &&
			again.rootfs == o.rootfs);
	if (r == ARGS_ERROR && err_len > 0)
		require(!strcmp(err, err2));
	free(text);
	return 0;
}
