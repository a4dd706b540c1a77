/* config.json (runtime-spec 1.x) read into plain data: stage 16's
 * plumbing, as common/image/manifest.h is stage 13's. The reader checks
 * what the spec says of each value (types, ranges, absolute paths, names
 * of capabilities, rlimits, signals' and seccomp's constants) and the
 * spec's two rules on fields: a property it does not know (not in the
 * spec) is ignored; a property of the spec that this runtime cannot
 * apply is an error, said by its path in the file ("linux.intelRdt",
 * "mounts[2].type") in one line. Whether the lessons of stages 9 to 11
 * can apply the values it took is stage 16's oci_map_spec().
 */
#ifndef MINIDOCKER_OCI_SPEC_H
#define MINIDOCKER_OCI_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define OCI_CONFIG  "config.json"
#define OCI_VERSION "1.0.2" /* the spec version we write and claim */

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
	char *name;	     /* the file, for messages */
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
	long long memory_limit;	  /* bytes; 0: not given */
	long long cpu_quota;	  /* microseconds per cpu_period; 0: none */
	long long cpu_period;	  /* microseconds */
	struct oci_device_rule *device_rules;
	size_t n_device_rules;
	struct oci_pair *sysctl;
	size_t n_sysctl;
	struct oci_seccomp seccomp;
	unsigned long rootfs_propagation;  /* MS_PRIVATE, ... ; 0: not given */
	const char *const *masked_paths;   /* NULL-ended; NULL: none */
	const char *const *readonly_paths; /* NULL-ended; NULL: none */
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

/* The names of the capabilities in caps (bit N: capability N), as a
 * JSON array, or NULL. */
json_t *oci_cap_names(uint64_t caps);

/* What this runtime supports, as `features` prints it (runtime-spec's
 * features.md), from the tables the parser reads: malloc'd, or NULL. */
char *oci_features(void);

#endif
