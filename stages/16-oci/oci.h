/* Stage 16's lesson: the OCI runtime command line. What Docker (through
 * containerd's shim) and podman (through conmon) hand a runtime is a
 * bundle: a directory with config.json (runtime-spec 1.x) and the root
 * filesystem it names. common/oci/spec.c reads config.json (the
 * runtime-spec's rules on fields, each value checked); this file maps
 * it onto the plain data that the lessons of stages 9 to 15 take as they
 * are (struct limits, the capability mask, struct wall), keeps the
 * container's OCI state in the runtime's --root directory, holds a
 * created container's process on a fifo until `start`, loads the spec's
 * seccomp filter, runs the hooks, and names signals for `kill`.
 *
 * The spine calls, in `create`:
 *
 *     oci_load_spec(bundle, &spec, why, len);   config.json
 *     oci_map_spec(&spec, &lessons, why, len);  stages 9-11's data
 *     oci_make_state_dir(root, id, ...);        <root>/<id>/, exec.fifo
 *     (the container's process, its set-up done) oci_wait_start(fd),
 *                                           oci_load_seccomp(), exec;
 *     oci_write_state(dir, &state);             status "created"
 *     oci_run_hooks(createRuntime ...)
 * in `start`: oci_start(dir, &state, ...), then the poststart hooks; in
 * `state`: oci_read_state() and oci_refresh_state(); in `kill`:
 * oci_signal_by_name() and oci_kill(); in `delete`: the poststop hooks.
 */
#ifndef MINIDOCKER_OCI_H
#define MINIDOCKER_OCI_H

#include <jansson.h>
#include <seccomp.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "limits.h"
#include "oci/spec.h"
#include "walls.h"

#define OCI_STATE_FILE "oci-state.json" /* beside stage 15's state.json */
#define OCI_FIFO       "exec.fifo"

/*** the spec, as the lessons take it ***/

/* What the lessons of stages 9 to 11 take, made from a spec. */
struct oci_lessons {
	struct limits limits; /* stage 9's: memory, CPU quota */
	uint64_t keep_caps;   /* stage 10's: the one set it applies */
	struct wall *walls;   /* stage 11's: maskedPaths, readonlyPaths */
	size_t n_walls;
};

/* Map spec onto the lessons' data in *out. Returns 0, or -1 with the
 * reason in why (one line, by the field's path: what the lessons cannot
 * apply, as capability sets that differ). */
int oci_map_spec(const struct oci_spec *spec, struct oci_lessons *out,
		 char *why, size_t why_len);

/* Free what oci_map_spec() made. Safe on a zeroed one, and twice. */
void oci_free_lessons(struct oci_lessons *out);

/* Write a default config.json into dir, as `spec` does: refused (EEXIST)
 * when one is there. Returns 0, or -1 with errno. */
int oci_write_default_spec(const char *dir);

/* The default config.json's text (malloc'd), or NULL. */
char *oci_default_spec(void);

/*** state ***/

enum oci_status {
	OCI_CREATING,
	OCI_CREATED, /* its process waits on the fifo */
	OCI_RUNNING, /* start opened the fifo: it has exec'd */
	OCI_STOPPED, /* its process is gone */
};

/* What `state` prints, and what the runtime keeps to find the process. */
struct oci_state {
	char id[128];
	enum oci_status status;
	pid_t pid;		      /* 0 until created */
	unsigned long long pid_start; /* its start time: a reused pid
					 has another */
	char bundle[PATH_MAX];	      /* absolute */
	json_t *annotations;	      /* an object; oci_free_state() */
};

/* "created", ...: runtime-spec's names. */
const char *oci_status_name(enum oci_status status);

/* Whether id may name a container: a directory name of letters, digits
 * and "_.-" (Docker's and podman's 64 hex digits are). */
bool oci_id_valid(const char *id);

/* The state as runtime-spec's state.md says, with ours beside it
 * (pidStart): malloc'd JSON text, or NULL. */
char *oci_state_json(const struct oci_state *st);

/* Write st as dir/OCI_STATE_FILE, whole or not at all. Returns 0, or -1
 * with errno. */
int oci_write_state(const char *dir, const struct oci_state *st);

/* Read dir/OCI_STATE_FILE into *st. Returns 0, or -1 with the reason in
 * why and errno (ENOENT: no such container). */
int oci_read_state(const char *dir, struct oci_state *st, char *why,
		   size_t why_len);

/* Free st's annotations. */
void oci_free_state(struct oci_state *st);

/* The status st has now: stopped when its process is gone (or its pid
 * belongs to another by now), running once the fifo is gone. */
enum oci_status oci_refresh_state(const char *dir, struct oci_state *st);

/*** create and start ***/

/* Make dir/OCI_FIFO, where the created process waits. Returns 0, or -1
 * with errno. */
int oci_make_fifo(const char *dir);

/* Open dir/OCI_FIFO for oci_wait_start(), while dir is still in reach
 * (before the pivot): an O_PATH descriptor, which opens nothing yet.
 * Returns it, or -1 with errno. */
int oci_open_fifo(const char *dir);

/* In the container's process, last before exec: wait until `start`
 * opens the fifo (fd from oci_open_fifo()), say so through it, close it.
 * It reopens fd through /proc/self/fd: the container's /proc must be
 * mounted by then. Returns 0, or -1 with errno. */
int oci_wait_start(int fd);

/* `start`: let the process of st, waiting in oci_wait_start(), go on,
 * and take the fifo away (a second start finds none). Waits at most
 * timeout_ms for it. Returns 0, or -1 with the reason in why and errno:
 * ENOENT when it was started already, ESRCH when it is gone. */
int oci_start(const char *dir, const struct oci_state *st, int timeout_ms,
	      char *why, size_t why_len);

/*** paths inside the root ***/

/* Open path (absolute, as the spec gives a mount's destination) inside
 * the directory root as if root were /: a symbolic link in it, absolute
 * or a chain of "..", stays inside root (CVE-2021-30465's class). With
 * openat2(2)'s RESOLVE_IN_ROOT, or where the kernel lacks it (before
 * Linux 5.6) oci_walk_in_root(). flags as open(2)'s (O_PATH, ...).
 * Returns the fd, or -1 with errno. */
int oci_open_in_root(int root, const char *path, int flags);

/* The same resolution, one component at a time: each link read and its
 * target walked in its place, from root when absolute, ".." never above
 * root, at most 40 links (ELOOP). */
int oci_walk_in_root(int root, const char *path, int flags);

/* Make path exist inside root, resolved as oci_open_in_root() does: the
 * directories above it, then it, a directory, or an empty file when
 * file is true (to bind a file on). A link whose target is missing gets
 * its target made, inside root. Returns it opened O_PATH, or -1 with
 * errno. */
int oci_make_in_root(int root, const char *path, bool file);

/*** seccomp ***/

/* In the container's process, last before exec (after no_new_privs,
 * when the spec asks for it): load sc as a filter through libseccomp,
 * its rules' calls by name, those this architecture lacks skipped.
 * Nothing when sc was not given. Returns 0, or -1 with the reason in
 * why. */
int oci_load_seccomp(const struct oci_seccomp *sc, char *why, size_t why_len);

/*** hooks ***/

/* Run hook h with state (JSON text) on its stdin and its stdout on our
 * stderr, and wait for it, at most its timeout. Returns 0 when it
 * exited with 0, else -1 with the reason in why. */
int oci_run_hook(const struct oci_hook *h, const char *state, char *why,
		 size_t why_len);

/* Run the n hooks in order; the first that fails stops the rest, unless
 * keep_going (poststart, poststop: the spec has them reported only, as
 * report() does). Returns 0, or -1 with the first reason in why. */
int oci_run_hooks(const struct oci_hook *hooks, size_t n, const char *state,
		  bool keep_going, char *why, size_t why_len);

/*** kill ***/

/* The signal text names: a number ("9") or a name with or without SIG
 * ("KILL", "SIGKILL", any case). Returns it, or -1. */
int oci_signal_by_name(const char *text);

/* Send sig to the container's process, if it is still the one st
 * recorded (a pidfd taken and checked before the signal, so no other
 * process that got the pid since). Returns 0, or -1 with errno (ESRCH:
 * it is stopped). */
int oci_kill(const struct oci_state *st, int sig);

#endif
