/* Stage 16's lesson: the OCI runtime command line. What Docker (through
 * containerd's shim) and podman (through conmon) hand a runtime is a
 * bundle: a directory with config.json (runtime-spec 1.x) and the root
 * filesystem it names. This file reads config.json into plain data that
 * the lessons of stages 9 to 15 take as they are (struct limits, the
 * capability mask, struct wall), keeps the container's OCI state in the
 * runtime's --root directory, holds a created container's process on a
 * fifo until `start`, loads the spec's seccomp filter, runs the hooks,
 * and names signals for `kill`.
 *
 * The runtime-spec's two rules on fields: a property the runtime does
 * not know (not in the spec) is ignored; a property of the spec that it
 * cannot apply is an error. oci_load_spec() says which field, by its
 * path in the file ("linux.intelRdt", "mounts[2].type"), in one line.
 *
 * The spine calls, in `create`:
 *
 *     oci_load_spec(bundle, &spec, why, len);   config.json
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
#include "walls.h"

#define OCI_CONFIG     "config.json"
#define OCI_STATE_FILE "oci-state.json" /* beside stage 15's state.json */
#define OCI_FIFO       "exec.fifo"
#define OCI_VERSION    "1.0.2" /* the spec version we write and claim */

/*** config.json ***/

/* The five capability sets of process.capabilities. */
enum oci_cap_set {
	OCI_CAP_BOUNDING,
	OCI_CAP_EFFECTIVE,
	OCI_CAP_INHERITABLE,
	OCI_CAP_PERMITTED,
	OCI_CAP_AMBIENT,
	OCI_CAP_SETS,
};

/* The hooks, in the order of the container's life. */
enum oci_hook_kind {
	OCI_HOOK_PRESTART,	   /* deprecated: as createRuntime */
	OCI_HOOK_CREATE_RUNTIME,   /* runtime's namespaces, after set-up */
	OCI_HOOK_CREATE_CONTAINER, /* container's namespaces, before pivot */
	OCI_HOOK_START_CONTAINER,  /* in the container, before its exec */
	OCI_HOOK_POSTSTART,	   /* after start; failures only reported */
	OCI_HOOK_POSTSTOP,	   /* after delete; failures only reported */
	OCI_HOOK_KINDS,
};

/* One hook: a program run with the container's state on its stdin. */
struct oci_hook {
	const char *path;	 /* absolute, on the host */
	const char *const *args; /* NULL-ended, args[0] included; NULL:
				    just the path */
	const char *const *env;	 /* NULL-ended; NULL: an empty one */
	int timeout;		 /* seconds; 0: none */
};

struct oci_rlimit {
	int resource; /* RLIMIT_NOFILE, ... */
	struct rlimit value;
};

/* A mount of the mounts list, as mount(2) takes it. */
struct oci_mount {
	const char *destination;   /* absolute, inside the root */
	const char *source;	   /* a path for bind mounts, else a name */
	const char *type;	   /* "proc", ..., "bind" */
	unsigned long flags;	   /* MS_RDONLY, MS_NOSUID, MS_BIND|MS_REC */
	unsigned long clear;	   /* flags asked off (rw, suid, ...) */
	unsigned long propagation; /* MS_PRIVATE, ... (| MS_REC); 0 */
	char *data;		   /* the filesystem's options ("mode=755") */
};

/* linux.namespaces: the kind as a clone flag, and a path to join one
 * that exists (NULL: a new one). */
struct oci_namespace {
	int type; /* CLONE_NEWPID, ... */
	const char *path;
};

/* A line of uidMappings or gidMappings, as /proc/PID/uid_map takes it. */
struct oci_idmap {
	uint32_t container, host, size;
};

/* linux.devices: a node to make in the container's /dev. */
struct oci_device {
	const char *path;
	char type; /* 'c', 'b', 'u' (unbuffered char), 'p' (fifo) */
	long long major, minor;
	mode_t file_mode; /* permission bits; 0666 when not given */
	uid_t uid;
	gid_t gid;
};

/* linux.resources.devices: the device cgroup's rules, in order. */
struct oci_device_rule {
	bool allow;
	char type;		/* 'a' (all), 'c', 'b' */
	long long major, minor; /* -1: any */
	char access[4];		/* some of "rwm" */
};

/* One argument test of a seccomp rule (libseccomp's scmp_arg_cmp). */
struct oci_syscall_arg {
	unsigned index;
	uint64_t value, value_two;
	int op; /* enum scmp_compare */
};

#define OCI_SYSCALL_ARGS 6

/* A rule of linux.seccomp.syscalls: these calls get this action. */
struct oci_syscall {
	const char *const *names; /* NULL-ended */
	uint32_t action;	  /* libseccomp's SCMP_ACT_..., with errno */
	struct oci_syscall_arg args[OCI_SYSCALL_ARGS];
	size_t n_args;
};

struct oci_seccomp {
	bool given;
	uint32_t default_action;
	uint32_t arches[16]; /* SCMP_ARCH_... */
	size_t n_arches;
	struct oci_syscall *syscalls;
	size_t n_syscalls;
};

/* A key and its value, of annotations and linux.sysctl. */
struct oci_pair {
	const char *key, *value;
};

/* config.json as plain data. Its strings belong to doc and live as long
 * as it (oci_free_spec()). */
struct oci_spec {
	json_t *doc;
	const char *version; /* ociVersion */

	/* process */
	const char *const *args; /* NULL-ended, at least one */
	const char *const *env;	 /* NULL-ended */
	const char *cwd;	 /* absolute */
	uid_t uid;
	gid_t gid;
	int umask; /* -1: not given */
	gid_t *additional_gids;
	size_t n_additional_gids;
	uint64_t caps[OCI_CAP_SETS]; /* bit N: capability N */
	bool caps_given;	     /* process.capabilities is there */
	uint64_t keep_caps;	     /* the one set stage 10 applies */
	bool no_new_privileges;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool has_oom_score_adj;
	int oom_score_adj;
	bool terminal;
	unsigned console_height, console_width; /* 0: not given */

	/* root */
	const char *root_path; /* as written: relative to the bundle */
	bool root_readonly;

	const char *hostname; /* NULL: not given */
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hook *hooks[OCI_HOOK_KINDS];
	size_t n_hooks[OCI_HOOK_KINDS];
	struct oci_pair *annotations;
	size_t n_annotations;

	/* linux */
	struct oci_namespace *namespaces;
	size_t n_namespaces;
	struct oci_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct oci_device *devices;
	size_t n_devices;
	const char *cgroups_path; /* NULL: not given */
	long long pids_limit;	  /* 0: not given; -1: unlimited */
	struct limits limits;	  /* stage 9's: memory, CPU quota */
	struct oci_device_rule *device_rules;
	size_t n_device_rules;
	struct oci_pair *sysctl;
	size_t n_sysctl;
	struct oci_seccomp seccomp;
	unsigned long rootfs_propagation; /* MS_PRIVATE, ... ; 0: not given */
	struct wall *walls; /* stage 11's: maskedPaths, readonlyPaths */
	size_t n_walls;
};

/* Read bundle/config.json into *spec. Returns 0, or -1 with the reason
 * in why (one line: the field by its path when it is wrong or not
 * supported, the file and line when it is no JSON). */
int oci_load_spec(const char *bundle, struct oci_spec *spec, char *why,
		  size_t why_len);

/* The same from text, named name in messages (the tests). */
int oci_parse_spec(const char *text, const char *name, struct oci_spec *spec,
		   char *why, size_t why_len);

/* Free what oci_load_spec() made. Safe on a zeroed spec, and twice. */
void oci_free_spec(struct oci_spec *spec);

/* Whether spec asks for a new namespace of type (a clone flag), and the
 * path to join, when it asks for one, into *path. */
bool oci_has_namespace(const struct oci_spec *spec, int type,
		       const char **path);

/* Write a default config.json into dir, as `spec` does: refused (EEXIST)
 * when one is there. Returns 0, or -1 with errno. */
int oci_write_default_spec(const char *dir);

/* The default config.json's text (malloc'd), or NULL. */
char *oci_default_spec(void);

/* What this runtime supports, as `features` prints it (runtime-spec's
 * features.md), from the tables the parser reads: malloc'd, or NULL. */
char *oci_features(void);

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
