/* Stage 16's steps of the container's processes, split off the spine:
 * each applies a part of config.json inside the process create starts
 * (the first one) or exec --process starts, and dies saying why when it
 * cannot. The spine's checklists, oci_child_main() and oci_exec_child()
 * in main.c, call them in their order; the earlier stages' lessons they
 * call beside them (setup_uts(), setup_walls(), drop_capabilities(),
 * ...) are theirs. The comment above each definition says why it is
 * done so.
 *
 * Beside the lessons of stages 9-15 they need one function of the
 * spine's, declared below: open_terminal(), stage 15's -t pty.
 */
#ifndef MINIDOCKER_SPEC_CHILD_H
#define MINIDOCKER_SPEC_CHILD_H

#include <sys/types.h>

#include "cgroups.h"
#include "oci/spec.h"

/*** before the mounts ***/

/* Wait for the runtime's byte on sync; end of file: exit. */
void await_runtime(int sync);

/* First in the process: non-dumpable until its exec, the runtime's
 * files closed at exec, the signals as the command should find them. */
void prepare_oci_child(void);

/* Our pid as the host sees it; 0 if unknown. */
pid_t host_pid(void);

/* In a new user namespace, its maps written: become its root. */
void become_ns_root(void);

/* A session keyring of the container's own (not --no-new-keyring). */
void new_session_keyring(void);

/*** the mounts, inside the root, before the pivot ***/

/* The root filesystem, opened O_PATH, to find the spec's paths in. */
int open_root(const char *rootfs);

/* The spec's mounts, in order, each destination found inside root. */
void setup_mounts(int root, const struct oci_spec *s, const struct cgroup *cg);

/* The default devices, the spec's linux.devices and /dev's links. */
void setup_devices(int root, const struct oci_spec *s);

/* Tell the runtime the mounts are made; wait until its hooks ran. */
void await_runtime_hooks(int ready, int sync);

/* --no-pivot: the root moved onto / and chrooted into. */
void move_root(const char *rootfs);

/*** after the pivot ***/

/* linux.rootfsPropagation on /. */
void set_root_propagation(const struct oci_spec *s);

/* linux.sysctl, under our /proc/sys. */
void set_sysctls(const struct oci_spec *s);

/* root.readonly: / remounted read-only. */
void make_root_readonly(void);

/* process.terminal: a pty, its master sent over console; returns its
 * slave, which attach_terminal() makes our stdio last. */
int open_spec_terminal(const struct oci_spec *s, int console);

/* The same, attached at once (exec's process). */
void setup_spec_terminal(const struct oci_spec *s, int console);

/* The terminal tty bound on /dev/console, where the root has none. */
void bind_console(int tty);

/* process.rlimits, oomScoreAdj and umask. */
void set_process_limits(const struct oci_spec *s);

/* Die with 127 or 126, as Docker and podman read them, when cmd cannot
 * be run. */
void check_command(const char *cmd);

/* linux.seccomp, through oci.c's lesson. */
void load_spec_seccomp(const struct oci_spec *s);

/* process.user: its groups, gid and uid, as numbers. */
void set_spec_user(const struct oci_spec *s);

/* Tell create we are set up, last before the wait at the fifo. */
void say_ready(int ready);

/*** the spine's (main.c), which these steps call ***/

/* -t: a pty from the container's devpts, its master sent over console;
 * returns its slave. */
int open_terminal(int console);

#endif
