/* Stage 10's lesson: privileges. The command keeps only a default set of
 * capabilities, can never gain more through an exec (no_new_privs), and
 * a seccomp filter refuses the system calls no container needs. Each
 * function runs in the child, last before exec, and dies on failure. */
#ifndef MINIDOCKER_PRIVS_H
#define MINIDOCKER_PRIVS_H

#include <linux/capability.h>
#include <stdint.h>

#define CAP_BIT(c) (UINT64_C(1) << (c))

/* The capabilities a container keeps: podman's default eleven. Docker's
 * fourteen add AUDIT_WRITE, MKNOD and NET_RAW; raw sockets let a
 * container forge packets on the host's network, so they are left out. */
#define CAPS_DEFAULT                                                    \
	(CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) |                  \
	 CAP_BIT(CAP_FOWNER) | CAP_BIT(CAP_FSETID) | CAP_BIT(CAP_KILL) |   \
	 CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_SETFCAP) |            \
	 CAP_BIT(CAP_SETGID) | CAP_BIT(CAP_SETPCAP) | CAP_BIT(CAP_SETUID) | \
	 CAP_BIT(CAP_SYS_CHROOT))

/* The capabilities a container keeps: CAPS_DEFAULT less cap_drop, plus
 * cap_add (bit N for capability N), less those this kernel lacks. */
uint64_t container_caps(uint64_t cap_add, uint64_t cap_drop);

/* Keep only caps, in every set; the rest are gone for good. */
void drop_capabilities(uint64_t caps);

/* Let no exec give more privilege than the caller has (setuid files,
 * file capabilities). */
void set_no_new_privs(void);

/* Load the seccomp filter: the calls of privs.c's deny-list fail with
 * EPERM, clone3 with ENOSYS, the rest run. */
void install_seccomp(void);

#endif
