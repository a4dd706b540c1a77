/*
 * A generator of cgroup v2 device programs, in raw BPF instructions (no
 * compiler, no libbpf). The kernel calls the program with a struct
 * bpf_cgroup_dev_ctx (include/uapi/linux/bpf.h): access_type (low 16
 * bits BPF_DEVCG_DEV_BLOCK or _CHAR, high 16 bits the BPF_DEVCG_ACC_MKNOD,
 * _READ and _WRITE asked for), major and minor. It returns 1 to allow, 0
 * to refuse (the open or mknod fails with EPERM).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "devices_bpf.h"

/* The registers the program keeps the request in. */
enum { R_TYPE = 2, R_ACCESS = 3, R_MAJOR = 4, R_MINOR = 5, R_TMP = 6 };

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off,
			    int32_t imm)
{
	return (struct bpf_insn){.code = code,
				 .dst_reg = dst,
				 .src_reg = src,
				 .off = off,
				 .imm = imm};
}

/* dst = *(u32 *)(r1 + off): a field of the context. */
static struct bpf_insn load_ctx(uint8_t dst, int16_t off)
{
	return insn(BPF_LDX | BPF_MEM | BPF_W, dst, 1, off, 0);
}

/* if dst op imm, skip the rest of the rule (off patched later). */
static struct bpf_insn jump(uint8_t op, uint8_t dst, int32_t imm)
{
	return insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}

/* The BPF_DEVCG_ACC_* bits of "rwm". */
static int32_t access_bits(const char *access)
{
	int32_t bits = 0;
	for (const char *c = access; c && *c; c++)
		bits |= *c == 'r'   ? BPF_DEVCG_ACC_READ
			: *c == 'w' ? BPF_DEVCG_ACC_WRITE
			: *c == 'm' ? BPF_DEVCG_ACC_MKNOD
				    : 0;
	return bits;
}

size_t devices_bpf_build(const struct dev_rule *rules, size_t n,
			 struct bpf_insn *prog)
{
	size_t len = 0;
	prog[len++] =
	    load_ctx(R_TYPE, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	prog[len++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, R_ACCESS, R_TYPE, 0, 0);
	prog[len++] = insn(BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
	prog[len++] = insn(BPF_ALU | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16);
	prog[len++] =
	    load_ctx(R_MAJOR, offsetof(struct bpf_cgroup_dev_ctx, major));
	prog[len++] =
	    load_ctx(R_MINOR, offsetof(struct bpf_cgroup_dev_ctx, minor));
	for (size_t i = n; i-- > 0;) {
		const struct dev_rule *r = &rules[i];
		int32_t bits = access_bits(r->access);
		/* Majors have 12 bits, minors 20 (the kernel's dev_t): a rule
		 * naming more matches no device. */
		if (r->type != 'a' && (r->major > 0xfff || r->minor > 0xfffff))
			continue;
		size_t start = len;
		if (r->type != 'a')
			prog[len++] = jump(BPF_JNE, R_TYPE,
					   r->type == 'b' ? BPF_DEVCG_DEV_BLOCK
							  : BPF_DEVCG_DEV_CHAR);
		if (r->type != 'a' && r->major >= 0)
			prog[len++] = jump(BPF_JNE, R_MAJOR, (int32_t)r->major);
		if (r->type != 'a' && r->minor >= 0)
			prog[len++] = jump(BPF_JNE, R_MINOR, (int32_t)r->minor);
		/* An allow covers a request only when it allows all it asks
		 * (as v1's devices.allow); a deny refuses any request that
		 * asks one of its accesses. */
		prog[len++] =
		    insn(BPF_ALU64 | BPF_MOV | BPF_X, R_TMP, R_ACCESS, 0, 0);
		prog[len++] = insn(BPF_ALU64 | BPF_AND | BPF_K, R_TMP, 0, 0,
				   r->allow ? ~bits & 7 : bits);
		prog[len++] = jump(r->allow ? BPF_JNE : BPF_JEQ, R_TMP, 0);
		prog[len++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0,
				   r->allow ? 1 : 0);
		prog[len++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		for (size_t j = start; j < len; j++) /* past this rule */
			if (BPF_CLASS(prog[j].code) == BPF_JMP &&
			    BPF_OP(prog[j].code) != BPF_EXIT)
				prog[j].off = (int16_t)(len - j - 1);
	}
	prog[len++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	prog[len++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return len;
}

/* bpf(2), which glibc does not wrap. */
static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Load prog; on a refusal load it again with the verifier's log, whose
 * last line of the verdict goes into why. Returns the program's fd, or -1 with
 * errno. */
static int load(const struct bpf_insn *prog, size_t len, char *why,
		size_t why_len)
{
	static char log[16384];
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uintptr_t)prog;
	attr.insn_cnt = (uint32_t)len;
	attr.license = (uintptr_t) "GPL";
	int fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0 || (errno != EINVAL && errno != EACCES))
		return fd;
	/* Only now with a log: a log too small for it fails the load. */
	attr.log_buf = (uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	log[0] = '\0';
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	int saved = errno;
	/* Its last line but the statistics ("processed N insns ..."). */
	char *last = log;
	for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "processed ", 10) &&
		    strncmp(line, "verification time", 17))
			last = line;
	snprintf(why, why_len, "%s", last);
	errno = saved;
	return fd;
}

int devices_bpf_attach(const char *dir, const struct bpf_insn *prog, size_t len,
		       char *why, size_t why_len)
{
	why[0] = '\0';
	/* Not O_PATH: bpf(2) takes no O_PATH descriptor. */
	int group = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (group < 0)
		return -1;
	int fd = load(prog, len, why, why_len);
	int rc = -1;
	if (fd >= 0) {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.target_fd = (uint32_t)group;
		attr.attach_bpf_fd = (uint32_t)fd;
		attr.attach_type = BPF_CGROUP_DEVICE;
		attr.attach_flags = BPF_F_ALLOW_MULTI;
		rc = sys_bpf(BPF_PROG_ATTACH, &attr);
	}
	int saved = errno;
	if (fd >= 0)
		close(fd);
	close(group);
	errno = saved;
	return rc;
}
