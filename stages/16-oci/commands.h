/* Stage 16's OCI runtime command line (commands.c): the global options,
 * then create, start, state, kill, delete, run, ps, exec, spec and
 * features, as containerd's shim and conmon call runc and crun. The
 * spine's main() hands a line to oci_main() when is_oci_line() says it
 * is one; any other line keeps stage 15's meaning.
 *
 * The commands need the spine's (main.c) create_container(), the
 * process exec starts (oci_exec_child()) and a few of their steps,
 * declared below.
 */
#ifndef MINIDOCKER_COMMANDS_H
#define MINIDOCKER_COMMANDS_H

#include <limits.h>
#include <stdbool.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#include "oci.h"
#include "oci/spec.h"

/* What create was asked. */
struct oci_create {
	const char *id;
	char bundle[PATH_MAX];
	const char *pid_file, *console_socket;
	bool no_pivot, no_new_keyring;
	bool detach; /* run: return once it is started */
	pid_t pid;   /* out: the container's first process */
};

/* Whether argv[1] on is the OCI command line rather than stage 15's. */
bool is_oci_line(int argc, char **argv);

/* [--root DIR] [--log FILE] [--log-format json|text] [--debug]
 * COMMAND ...: run the OCI command; returns the exit status. */
int oci_main(int argc, char **argv);

/*** the spine's (main.c, cgroups.c), which the commands call ***/

/* create: the container's first process, set up as the spec says and
 * waiting at the fifo. Returns 0, or the status to exit with after
 * saying why, nothing left. */
int create_container(struct oci_create *o, const char *dir, struct oci_spec *s,
		     const struct oci_lessons *l);

/* exec's process, in the container's namespaces, root and groups: the
 * spec's process set up as the first one's was, then the command. */
noreturn void oci_exec_child(const struct oci_spec *s,
			     const struct oci_lessons *l, int console);

/* The hooks of kind, with the state st on their stdin. Returns 0, or -1
 * after saying why. */
int run_hooks(const struct oci_spec *s, enum oci_hook_kind kind,
	      const struct oci_state *st);

/* Whether the spec asks for a new namespace of type (not one to join). */
bool new_namespace(const struct oci_spec *s, int type);

/* A connected socket to path (--console-socket). Dies on failure. */
int connect_console(const char *path);

/* Write pid into path, whole or not at all, as runc writes --pid-file.
 * Returns 0, or -1 with errno. */
int write_pid_file(const char *path, pid_t pid);

/* Kill what is in the groups listed in dir/cgroups and remove them.
 * Returns 0, or -1 after saying why. */
int remove_oci_cgroups(const char *dir);

/* Make the directories of path down to it. Returns 0, or -1 with
 * errno. */
int make_dirs(const char *path);

#endif
