/* The cgroup v2 device controller: a BPF program, attached to a group,
 * that answers each open or mknod of a device node by its processes. */
#ifndef MINIDOCKER_DEVICES_BPF_H
#define MINIDOCKER_DEVICES_BPF_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>

/* A rule, as in the OCI spec's linux.resources.devices. */
struct dev_rule {
	bool allow;
	char type;		/* 'a' (any), 'c' or 'b' */
	long long major, minor; /* -1: any */
	const char *access;	/* some of "rwm" */
};

/* The most instructions devices_bpf_build() writes for n rules. */
#define DEVICES_BPF_LEN(n) (6 + 9 * (n))

/* Write into prog (room for DEVICES_BPF_LEN(n)) a program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE that checks rules from the last to the
 * first, the last that matches deciding (as runc does), and denies what
 * none matches. Returns its number of instructions. */
size_t devices_bpf_build(const struct dev_rule *rules, size_t n,
			 struct bpf_insn *prog);

/* Load prog (len instructions) and attach it to the cgroup2 directory
 * dir, beside the programs of the groups above (BPF_F_ALLOW_MULTI: a
 * device is allowed only when every program allows it). The attachment
 * holds the program until the group is removed. Returns 0, or -1 with
 * errno and, when the verifier refused it, the reason in why (len
 * bytes; "" otherwise). */
int devices_bpf_attach(const char *dir, const struct bpf_insn *prog, size_t len,
		       char *why, size_t why_len);

#endif
