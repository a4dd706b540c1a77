/* A detached container's record (stage 15 on): its state file, its id
 * and name, and finding it again by either. Each container has a
 * directory run/<id> (run as state.h's state_run_dir() says) holding
 * state.json, written whole or not at all (a temporary name, then
 * rename), and the lock its monitor holds while it lives. A name is a
 * symbolic link run/names/<name> -> <id>, made with symlink(2), which
 * fails when the name is taken: two runs never both get one. */
#ifndef MINIDOCKER_CTR_RECORD_H
#define MINIDOCKER_CTR_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CTR_ID_LEN    64 /* hex digits of an id: 256 random bits */
#define CTR_SHORT_ID  12 /* the digits ps and run -d show */
#define CTR_NAME_MAX  64 /* a name's bytes, without the NUL */
#define CTR_STATE     "state.json"
#define CTR_NAMES_DIR "names"

enum ctr_status {
	CTR_CREATED, /* the directory and record exist, the command not yet */
	CTR_RUNNING, /* its first process runs (pid, pid_start) */
	CTR_EXITED,  /* it ended: exit_status holds how */
};

/* What a container's state file holds. */
struct ctr_record {
	char id[CTR_ID_LEN + 1];
	char name[CTR_NAME_MAX + 1]; /* "" when it has none */
	pid_t pid;		     /* its first process, in our pid ns */
	/* That process's start time (/proc/PID/stat, field 22: clock ticks
	 * after boot): a pid the kernel gave to another process since has
	 * another, so it is never mistaken for the container. */
	unsigned long long pid_start;
	enum ctr_status status;
	int exit_status;    /* as run returns it (N, 128+S); -1 until then */
	long long created;  /* seconds since the epoch */
	long long started;  /* 0 until it runs */
	long long finished; /* 0 until it ends */
	char image[256];    /* the image reference, or the rootfs given */
	char **argv;	    /* the command, NULL-ended; ctr_record_free() */
};

/* The name of status as ps shows it: "created", "running", "exited". */
const char *ctr_status_name(enum ctr_status status);

/* A new random id, CTR_ID_LEN hex digits, into id (CTR_ID_LEN + 1
 * bytes). Returns 0, or -1 with errno (getrandom(2)). */
int ctr_new_id(char *id);

/* Whether name is one docker would take: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at
 * most CTR_NAME_MAX bytes. */
bool ctr_name_valid(const char *name);

/* The start time of pid (field 22 of /proc/PID/stat) into *start.
 * Returns 0, or -1 with errno (ENOENT or ESRCH: no such process). */
int ctr_proc_start(pid_t pid, unsigned long long *start);

/* Whether r's first process still runs: its pid exists and has the start
 * time r keeps (a reused pid has another). */
bool ctr_pid_alive(const struct ctr_record *r);

/* Write text as dir/name: into a temporary file in dir, flushed to
 * disk when durable, then renamed over the old one, so that a reader
 * sees the old file or the new one, never half of one. Returns 0, or -1
 * with errno (the temporary file removed). */
int ctr_write_atomic(const char *dir, const char *name, const char *text,
		     bool durable);

/* Write o (NULL: ENOMEM) as dir/name, dumped with jansson's flags, by
 * ctr_write_atomic(). Returns 0, or -1 with errno. */
int ctr_write_json(const char *dir, const char *name, json_t *o, size_t flags,
		   bool durable);

/* Read dir/name as JSON (a key twice is an error). Returns the value
 * (json_decref() it), or NULL with errno and the reason in why (no such
 * file: ENOENT; no JSON: EINVAL). */
json_t *ctr_read_json(const char *dir, const char *name, char *why,
		      size_t why_len);

/* Write r as dir/state.json, by ctr_write_atomic(). Returns 0, or -1
 * with errno. */
int ctr_record_write(const char *dir, const struct ctr_record *r);

/* Read dir/state.json into *r (which ctr_record_free() then frees).
 * Returns 0, or -1 with errno and the reason in why (a file that is no
 * complete record: EINVAL). */
int ctr_record_read(const char *dir, struct ctr_record *r, char *why,
		    size_t why_len);

/* Free what ctr_record_read() or the caller allocated in r (argv). */
void ctr_record_free(struct ctr_record *r);

/* Copy argv (NULL-ended) into r->argv. Returns 0, or -1 with errno. */
int ctr_record_set_argv(struct ctr_record *r, char *const *argv);

/* Give the container id the name name: the link run/names/<name>.
 * Returns 0, or -1 with errno (EEXIST: the name is taken; EINVAL: not a
 * name ctr_name_valid() takes). */
int ctr_claim_name(const char *run, const char *name, const char *id);

/* Let the name go (after rm). Returns 0 (also when it was gone), or -1
 * with errno. */
int ctr_release_name(const char *run, const char *name);

/* The id of the container key names under run, into id (CTR_ID_LEN + 1
 * bytes): key is a name, a whole id or the start of exactly one id.
 * Returns 0, or -1 with the reason in why and errno: ENOENT when no
 * container matches, EEXIST when a prefix fits more than one (an
 * ambiguous prefix is an error, never the first match). */
int ctr_lookup(const char *run, const char *key, char *id, char *why,
	       size_t why_len);

/* Every container under run with a readable record, newest first, into
 * a new array *recs of *n (ctr_list_free() frees it); directories that
 * hold no complete record are left out. Returns 0, or -1 with errno. */
int ctr_list(const char *run, struct ctr_record **recs, size_t *n);

/* Free what ctr_list() returned. */
void ctr_list_free(struct ctr_record *recs, size_t n);

/* Whether the monitor of the container in dir lives: it holds dir/lock
 * (state.h's state_lock_dir()) while it does; a monitor killed by
 * SIGKILL lets go of it with its last descriptor. */
bool ctr_monitor_alive(const char *dir);

#endif
