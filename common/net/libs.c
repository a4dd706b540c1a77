/* libnftables, loaded when a container first needs a firewall rule
 * (common/lazy.h says why): the functions common/net/nft.c calls, each
 * forwarding to the library's own. A --net none run loads none of it.
 *
 * A static program (LAZY_STATIC: stages 15 and 16, for a quicker start)
 * cannot load it (lazy.h), and has the same functions over its
 * dynamically linked twin instead (the Makefile's STAGE_TWIN_N):
 * nft_run_cmd_from_buffer() runs PROGRAM-dynamic as a helper child,
 * which applies the commands given on its stdin with the real library
 * and answers on its stdout. The twin knows that role by its argv[0],
 * NFT_HELPER, before main() (nft_helper(), below), and takes only the
 * commands nft.c writes on table ip NFT_TABLE. nft.c is the same in both
 * builds; the check it makes first on every bridged run (count_rules(),
 * over netlink) stays in the static program, so a run on a bridge
 * already set up starts no helper. */
#include <errno.h>
#include <limits.h>
#include <nftables/libnftables.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "lazy.h"
#include "net/nft.h"
#include "process.h"

/* The twin's argv[0] in the role of the static program's libnftables;
 * its argv[1] is the static program's name, for the lines it prints. */
#define NFT_HELPER "minidocker-nft-helper"
/* The most either side takes from the other: nft.c's longest
 * transaction is 64 KiB, a listing of the table no more. */
#define NFT_HELPER_MAX (1 << 20)

/* Read fd to its end into a new string. Returns it, or NULL with errno
 * (E2BIG past NFT_HELPER_MAX). */
static char *read_to_end(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	for (ssize_t n = 1; buf && n != 0;) {
		if (len + 1 == cap) {
			char *more = cap < NFT_HELPER_MAX
					 ? realloc(buf, cap *= 2)
					 : NULL;
			if (!more) {
				free(buf);
				errno = cap < NFT_HELPER_MAX ? ENOMEM : E2BIG;
				return NULL;
			}
			buf = more;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno != EINTR) {
			free(buf);
			return NULL;
		}
		if (n > 0)
			len += (size_t)n;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

#ifdef LAZY_STATIC

/* What the helper answered. */
struct nft_ctx {
	char *output; /* what the commands printed (a listing) */
	char *error;  /* why they were refused */
};

struct nft_ctx *nft_ctx_new(uint32_t flags)
{
	(void)flags;
	return calloc(1, sizeof(struct nft_ctx));
}

void nft_ctx_free(struct nft_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->output);
	free(ctx->error);
	free(ctx);
}

/* Both are always kept: the helper's answer is read whole. */
int nft_ctx_buffer_output(struct nft_ctx *ctx)
{
	(void)ctx;
	return 0;
}

int nft_ctx_buffer_error(struct nft_ctx *ctx)
{
	(void)ctx;
	return 0;
}

const char *nft_ctx_get_output_buffer(struct nft_ctx *ctx)
{
	return ctx->output ? ctx->output : "";
}

const char *nft_ctx_get_error_buffer(struct nft_ctx *ctx)
{
	return ctx->error ? ctx->error : "";
}

/* The commands in buf through the twin, over a socket pair that is the
 * helper's stdin, stdout and stderr (a socket, not pipes: a helper gone
 * early is an error here, never our SIGPIPE). Status 0: done, the
 * answer is their output; 1: refused, the answer says why; 125: it
 * could not load libnftables, and the answer is its line in our name,
 * which we die with, as the library's loader does in a dynamic program
 * (lazy.h). */
int nft_run_cmd_from_buffer(struct nft_ctx *ctx, const char *buf)
{
	char twin[PATH_MAX], why[PATH_MAX + 128];
	int sv[2] = {-1, -1}, status = -1;
	pid_t pid = -1;

	if (lazy_twin_path(twin, why, sizeof(why)) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail_errno;
	posix_spawn_file_actions_t fa;
	char *argv[] = {NFT_HELPER, (char *)prog_name(), NULL};
	int rc = posix_spawn_file_actions_init(&fa);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
	if (!rc)
		rc =
		    posix_spawn_file_actions_adddup2(&fa, sv[1], STDOUT_FILENO);
	if (!rc)
		rc =
		    posix_spawn_file_actions_adddup2(&fa, sv[1], STDERR_FILENO);
	if (!rc)
		rc = posix_spawn(&pid, twin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc) {
		/* Not there: one line and status 125, as a library that
		 * cannot be loaded, and as exec_dynamic_twin(). */
		errno = rc;
		die_errno("cannot run '%s', which applies the firewall rules "
			  "of this program (make builds both)",
			  twin);
	}
	size_t len = strlen(buf);
	for (size_t off = 0; off < len;) {
		ssize_t n = send(sv[0], buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR)
			break; /* it ended: its status says why */
		if (n > 0)
			off += (size_t)n;
	}
	shutdown(sv[0], SHUT_WR);
	char *answer = read_to_end(sv[0]);
	int saved = errno;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(sv[0]);
	if (answer && WIFEXITED(status) &&
	    WEXITSTATUS(status) == EXIT_RUNTIME) {
		/* "PROGRAM: cannot load libnftables.so.1 (...): ...\n" */
		size_t skip = strlen(prog_name()) + 2;
		answer[strcspn(answer, "\n")] = '\0';
		die("%s", strlen(answer) > skip ? answer + skip : answer);
	}
	if (!answer) {
		errno = saved;
		goto fail_read;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) <= 1) {
		*(WEXITSTATUS(status) ? &ctx->error : &ctx->output) = answer;
		return WEXITSTATUS(status) ? -1 : 0;
	}
	free(answer);
	snprintf(why, sizeof(why), "'%s', applying the rules, ended %s %d",
		 twin, WIFEXITED(status) ? "with status" : "by signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	goto fail;
fail_read:
	snprintf(why, sizeof(why), "cannot read the answer of '%s': %m", twin);
	goto fail;
fail_errno:
	snprintf(why, sizeof(why), "cannot talk to '%s': %m", twin);
fail:
	ctx->error = strdup(why);
	return -1;
}

#else

static struct lazy_lib nftables = LAZY_LIB("libnftables.so.1");

struct nft_ctx *nft_ctx_new(uint32_t flags)
{
	return LAZY(nftables, nft_ctx_new)(flags);
}

void nft_ctx_free(struct nft_ctx *ctx)
{
	LAZY(nftables, nft_ctx_free)(ctx);
}

int nft_ctx_buffer_output(struct nft_ctx *ctx)
{
	return LAZY(nftables, nft_ctx_buffer_output)(ctx);
}

int nft_ctx_buffer_error(struct nft_ctx *ctx)
{
	return LAZY(nftables, nft_ctx_buffer_error)(ctx);
}

const char *nft_ctx_get_output_buffer(struct nft_ctx *ctx)
{
	return LAZY(nftables, nft_ctx_get_output_buffer)(ctx);
}

const char *nft_ctx_get_error_buffer(struct nft_ctx *ctx)
{
	return LAZY(nftables, nft_ctx_get_error_buffer)(ctx);
}

int nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buf)
{
	return LAZY(nftables, nft_run_cmd_from_buffer)(nft, buf);
}

/*** the helper, in the twin ***/

/* Whether the n bytes at s are a name nft.c gives a chain. */
static bool chain_name(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_')
			return false;
	return true;
}

/* Whether line is one of the commands nft.c writes: on table ip
 * NFT_TABLE alone, its chains made with their hook and nothing else
 * between braces, and its rules without a ';' (the next command), a
 * brace, a set ('@'), a variable ('$') or a comment ('#'). */
static bool our_command(const char *line)
{
#define ON_TABLE " ip " NFT_TABLE
	static const char *const whole[] = {"add table" ON_TABLE,
					    "delete table" ON_TABLE,
					    "list table" ON_TABLE};
	static const char *const on_chain[] = {
	    "add chain" ON_TABLE " ", "flush chain" ON_TABLE " ",
	    "delete chain" ON_TABLE " ", "add rule" ON_TABLE " "};
#undef ON_TABLE
	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (!strcmp(line, whole[i]))
			return true;
	size_t i = 0, skip = 0;
	for (; i < sizeof(on_chain) / sizeof(on_chain[0]); i++)
		if (!strncmp(line, on_chain[i], skip = strlen(on_chain[i])))
			break;
	if (i == sizeof(on_chain) / sizeof(on_chain[0]))
		return false;
	const char *name = line + skip, *rest = name + strcspn(name, " ");
	if (!chain_name(name, (size_t)(rest - name)))
		return false;
	if (i == 0 && *rest) { /* add chain: its hook */
		char hook[16], again[128];
		int prio, end = 0;
		if (sscanf(rest,
			   " { type nat hook %15[a-z] priority %d; "
			   "policy accept; }%n",
			   hook, &prio, &end) != 2 ||
		    rest[end])
			return false;
		snprintf(again, sizeof(again),
			 " { type nat hook %s priority %d; policy accept; }",
			 hook, prio);
		return !strcmp(rest, again);
	}
	if (i == 3) /* add rule: its statements */
		return *rest == ' ' && rest[1] &&
		       !rest[strspn(rest, "abcdefghijklmnopqrstuvwxyz"
					  "0123456789 ._:/!=\"-")];
	return !*rest;
}

/* The twin as the static program's libnftables (the top of this file):
 * recognised before main(), which it never reaches. glibc calls a
 * program's constructors with main()'s arguments. Applies the commands
 * on stdin, if every line is one of ours, in one transaction; prints
 * their output, or the first reason nft gives, on stdout; exits 0, or 1
 * refused, or 125 when libnftables cannot be loaded (lazy_sym(), whose
 * line it prints there too). */
__attribute__((constructor)) static void nft_helper(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[0], NFT_HELPER))
		return;
	set_prog_name(argv[1]);
	/* What it says goes back to the static program, which says it. */
	if (dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
		_exit(EXIT_RUNTIME);
	char *cmd = read_to_end(STDIN_FILENO);
	if (!cmd)
		die_errno("cannot read the rules to apply");
	const char *answer = "";
	int rc = 0;
	for (char *line = cmd, *next; rc == 0 && *line; line = next) {
		size_t n = strcspn(line, "\n");
		next = line + n + (line[n] == '\n');
		char c = line[n];
		line[n] = '\0';
		if (*line && !our_command(line)) {
			answer = "Error: not a command on table ip " NFT_TABLE
				 " alone\n";
			rc = -1;
		}
		line[n] = c;
	}
	struct nft_ctx *ctx = NULL;
	if (rc == 0) {
		ctx = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!ctx || nft_ctx_buffer_output(ctx) < 0 ||
		    nft_ctx_buffer_error(ctx) < 0) {
			answer = "cannot start libnftables\n";
			rc = -1;
		} else {
			rc = nft_run_cmd_from_buffer(ctx, cmd) == 0 ? 0 : -1;
			answer = rc == 0 ? nft_ctx_get_output_buffer(ctx)
					 : nft_ctx_get_error_buffer(ctx);
		}
	}
	if (write_all(STDOUT_FILENO, answer, strlen(answer)) < 0)
		die_errno("cannot answer with the rules' output");
	_exit(rc == 0 ? 0 : 1);
}

#endif
