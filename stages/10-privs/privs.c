/*
 * Stage 10's lesson: privileges. Root in the container held every
 * capability, so it could mount, open raw sockets and more. Now the
 * command keeps only a default set of capabilities (podman's eleven), can
 * never gain more (no_new_privs: a setuid file gives nothing), and a
 * seccomp filter refuses, with EPERM, the system calls no container needs
 * (modules, kexec, bpf, keyrings, file handles, new user namespaces...).
 */

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "error.h"
#include "privs.h"

/* One system call the seccomp filter refuses with EPERM, and why. With
 * nargs 1, only when its argument arg.arg matches arg. SCMP_SYS(name)
 * is its number, known when this file is compiled: libseccomp's own
 * (negative) stand-in for a call this architecture lacks, which it
 * leaves out of the filter. */
struct denied_call {
	int nr;
	unsigned nargs;
	struct scmp_arg_cmp arg;
	const char *why;
};

/* A flag set in argument n: (arg & flag) == flag. */
#define ARG_HAS(n, flag)                                                \
	1, {.arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = (flag),       \
	    .datum_b = (flag)}
/* Argument n equal to value in its low 32 bits: the kernel reads an
 * ioctl's command as an unsigned int, so a caller may set any of the high
 * 32 bits of the register, and a comparison of all 64 would let
 * TIOCSTI | 1UL << 32 through as an unknown command. */
#define ARG_LOW32_IS(n, value)                                          \
	1, {.arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffffU,  \
	    .datum_b = (value)}

/* The deny-list, as contained.c keeps one: everything else is allowed. */
static const struct denied_call denied_calls[] = {
	{SCMP_SYS(init_module), 0, {0}, "load code into the host's kernel"},
	{SCMP_SYS(finit_module), 0, {0}, "the same, from a file"},
	{SCMP_SYS(delete_module), 0, {0}, "unload the host's drivers"},
	{SCMP_SYS(kexec_load), 0, {0},
	 "boot another kernel in place of the host's"},
	{SCMP_SYS(kexec_file_load), 0, {0}, "the same, from a file"},
	{SCMP_SYS(bpf), 0, {0},
	 "programs run in the kernel; a trove of exploits"},
	{SCMP_SYS(perf_event_open), 0, {0},
	 "reads the host's kernel and processes"},
	{SCMP_SYS(userfaultfd), 0, {0},
	 "lets an exploit pause the kernel at will"},
	{SCMP_SYS(add_key), 0, {0}, "the keyrings are not namespaced"},
	{SCMP_SYS(request_key), 0, {0}, "the same"},
	{SCMP_SYS(keyctl), 0, {0}, "the same"},
	{SCMP_SYS(open_by_handle_at), 0, {0},
	 "opens any host file by handle (the 2014 shocker escape)"},
	{SCMP_SYS(name_to_handle_at), 0, {0}, "finds those handles"},
	{SCMP_SYS(unshare), ARG_HAS(0, CLONE_NEWUSER),
	 "a new user namespace gives back every capability"},
	{SCMP_SYS(clone), ARG_HAS(0, CLONE_NEWUSER), "the same, at clone time"},
	{SCMP_SYS(setns), 0, {0}, "joins another namespace"},
	{SCMP_SYS(swapon), 0, {0}, "the host's swap"},
	{SCMP_SYS(swapoff), 0, {0}, "the same"},
	{SCMP_SYS(reboot), 0, {0}, "reboots the host, outside a PID namespace"},
	{SCMP_SYS(acct), 0, {0}, "process accounting is not namespaced"},
	{SCMP_SYS(settimeofday), 0, {0}, "the clock is not namespaced"},
	{SCMP_SYS(clock_settime), 0, {0}, "the same"},
	{SCMP_SYS(clock_adjtime), 0, {0}, "the same"},
	{SCMP_SYS(adjtimex), 0, {0}, "the same"},
	{SCMP_SYS(quotactl), 0, {0}, "the host's disk quotas"},
	{SCMP_SYS(lookup_dcookie), 0, {0}, "reads host paths for profilers"},
	{SCMP_SYS(ioctl), ARG_LOW32_IS(1, TIOCSTI),
	 "types into the terminal the container shares with its caller"},
};

/* The capabilities the container keeps: the default set, less what
 * cap_drop names, plus what cap_add names, less any this kernel
 * does not know (capset() would refuse them). */
uint64_t container_caps(uint64_t cap_add, uint64_t cap_drop)
{
	uint64_t known = 0;
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		known |= CAP_BIT(cap);
	return ((CAPS_DEFAULT & ~cap_drop) | cap_add) & known;
}

/* Keep only the capabilities in caps, in every set: bounding (what any
 * later exec can have), ambient and inheritable (what an exec passes on:
 * none), permitted and effective (what we have now). */
void drop_capabilities(uint64_t caps)
{
	struct __user_cap_header_struct head = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};

	/* The bounding set, capability by capability up to the last this
	 * kernel knows: past it, PR_CAPBSET_DROP fails with EINVAL. */
	for (int cap = 0; cap < 64; cap++) {
		if (caps & CAP_BIT(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break;
		die_errno("cannot drop %s from the bounding set",
			  cap_name(cap));
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die_errno("cannot clear the ambient capabilities");
	/* capset() takes 64 bits as two 32-bit words; inheritable stays 0. */
	for (int i = 0; i < 2; i++)
		data[i].permitted = data[i].effective =
			(uint32_t)(caps >> (32 * i));
	if (syscall(SYS_capset, &head, data) < 0)
		die_errno("cannot set the capabilities");
	verbose("capabilities cut to %#llx", (unsigned long long)caps);
}

/* Let no exec give the command more privilege than it has now: a setuid
 * file runs with the caller's ids, file capabilities are not added. An
 * unprivileged process may then load a seccomp filter, too. */
void set_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die_errno("cannot set no_new_privs");
}

/* Load the seccomp filter: every call in denied_calls fails with EPERM,
 * the rest run. Last before exec, since it binds us too. */
void install_seccomp(void)
{
	/* Calls of another architecture (32-bit int 0x80 on x86-64) would
	 * pass under other numbers: libseccomp kills those by default. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		die("cannot create a seccomp filter");
	/* no_new_privs is set_no_new_privs()' lesson, not libseccomp's. */
	int err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t i = 0; !err && i < sizeof(denied_calls) /
					       sizeof(denied_calls[0]); i++) {
		const struct denied_call *d = &denied_calls[i];
		err = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), d->nr,
					     d->nargs, &d->arg);
	}
	/* clone3() passes its flags in memory, where a filter cannot look:
	 * ENOSYS, as docker does, makes libc fall back to clone(). */
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				       SCMP_SYS(clone3), 0);
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	if (err) {
		errno = -err;
		die_errno("cannot load the seccomp filter");
	}
	verbose("seccomp filter loaded");
}
