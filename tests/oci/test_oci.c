/*
 * Stage 16's lesson, tested without a stage: stages/16-oci/oci.c driven
 * on config.json files and plain processes, with this program as the
 * spine:
 *
 *   oci-spec   crun's default config.json and hand-written ones read
 *              into plain data; each field of the spec this runtime
 *              cannot apply refused by its name, in one line; bad,
 *              missing and malformed files refused in one line; `spec`
 *              and `features`;
 *   oci-state  the state file round-trips, its status follows the
 *              process (a reused pid is stopped), and reads as crun's
 *              `state` for the same bundle (root and crun: else said
 *              skipped);
 *   oci-fifo   create's process waits on exec.fifo until start, once;
 *   oci-seccomp  the spec's filter is the one the process gets;
 *   oci-hooks  hooks in order, the state on their stdin, a failure
 *              stops the rest, a timeout kills;
 *   oci-kill   signals by name and number, only to the container's
 *              process;
 *   oci-paths  a spec's path looked up and made inside a root, through
 *              its links (absolute, "..") but never out of it, with
 *              openat2() and with the component walk alike.
 *
 *   test_oci [-v] [SUITE]
 */

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "caps.h"
#include "ctr/record.h"
#include "cu_run.h"
#include "error.h"
#include "file.h"
#include "oci.h"
#include "privs.h"
#include "process.h"
#include "state.h"
#include "util.h"

#define CRUN_SPEC "tests/oci/crun-spec.json" /* `crun spec`, crun 1.8.1 */

static char scratch[64]; /* a directory of our own under /tmp */
static bool verbose_on;

/*** helpers ***/

static long long clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A new empty directory under scratch, named name; returns its path. */
static const char *fresh_dir(const char *name)
{
	static char dir[2][128];
	static int next;
	char *d = dir[next++ % 2];
	snprintf(d, sizeof(dir[0]), "%s/%s", scratch, name);
	remove_tree(d);
	if (mkdir(d, 0700) < 0)
		fprintf(stderr, "test_oci: cannot make '%s': %m\n", d);
	return d;
}

/* Parse text and map it onto the lessons' data (into *l, or one freed
 * here when l is NULL), as the spine will; on failure the reason is in
 * why and nothing is left to free. Says what happened when it was not
 * what want says (0: taken, -1: refused). */
static int parse(const char *text, struct oci_spec *s, struct oci_lessons *l,
		 char *why, size_t len, int want)
{
	struct oci_lessons mine;
	why[0] = '\0';
	int rc = oci_parse_spec(text, "config.json", s, why, len);
	if (rc == 0 && (rc = oci_map_spec(s, l ? l : &mine, why, len)) < 0)
		oci_free_spec(s);
	else if (rc == 0 && !l)
		oci_free_lessons(&mine);
	if (rc != want)
		fprintf(stderr,
			"\n  config.json %s, wanted %s: %s\n  text: %.300s\n",
			rc ? "refused" : "read", want ? "refused" : "read",
			rc ? why : "", text);
	return rc;
}

/* The smallest config.json we take, with key set to value (JSON) at the
 * dotted path (made as objects where missing): a text to free. */
static char *config_with(const char *path, const char *value)
{
	json_t *o =
	    json_loads("{\"ociVersion\": \"1.0.2\","
		       " \"process\": {\"cwd\": \"/\", \"args\": [\"sh\"]},"
		       " \"root\": {\"path\": \"rootfs\"}}",
		       0, NULL);
	if (path) {
		char copy[256], *save, *key, *next;
		json_t *at = o;
		snprintf(copy, sizeof(copy), "%s", path);
		key = strtok_r(copy, ".", &save);
		while ((next = strtok_r(NULL, ".", &save))) {
			json_t *child = json_object_get(at, key);
			if (!child) {
				child = json_object();
				json_object_set_new(at, key, child);
			}
			at = child;
			key = next;
		}
		json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
		if (!v)
			fprintf(stderr, "test_oci: bad value %s\n", value);
		json_object_set_new(at, key, v);
	}
	char *text = json_dumps(o, 0);
	json_decref(o);
	return text;
}

static bool one_line(const char *s)
{
	return s[0] && !strchr(s, '\n');
}

/*** oci-spec ***/

/* Write text to a new file at path. Returns 0, or -1. */
static int put_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	int bad = fputs(text, f) < 0;
	return fclose(f) != 0 || bad ? -1 : 0;
}

static char *read_text(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re");
	FILE *mem = open_memstream(&text, &len);
	int c;
	while (f && mem && (c = fgetc(f)) != EOF)
		fputc(c, mem);
	if (f)
		fclose(f);
	if (mem)
		fclose(mem);
	if (!f) {
		fprintf(stderr, "test_oci: cannot read '%s': %m\n", path);
		free(text);
		return NULL;
	}
	return text;
}

static void test_parses_cruns_default_spec(void)
{
	struct oci_spec s;
	struct oci_lessons l;
	char why[512];
	char *text = read_text(CRUN_SPEC);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	int rc = parse(text, &s, &l, why, sizeof(why), 0);
	free(text);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	uint64_t three = CAP_BIT(CAP_AUDIT_WRITE) | CAP_BIT(CAP_KILL) |
			 CAP_BIT(CAP_NET_BIND_SERVICE);
	CU_ASSERT_STRING_EQUAL(s.version, "1.0.0");
	CU_ASSERT_STRING_EQUAL(s.args[0], "sh");
	CU_ASSERT_PTR_NULL(s.args[1]);
	CU_ASSERT_TRUE(s.terminal);
	CU_ASSERT_EQUAL(s.uid, 0);
	CU_ASSERT_STRING_EQUAL(s.env[1], "TERM=xterm");
	CU_ASSERT_STRING_EQUAL(s.cwd, "/");
	CU_ASSERT_EQUAL(s.caps[OCI_CAP_BOUNDING], three);
	CU_ASSERT_EQUAL(s.caps[OCI_CAP_AMBIENT], three);
	CU_ASSERT_EQUAL(s.caps[OCI_CAP_INHERITABLE], 0);
	CU_ASSERT_EQUAL(l.keep_caps, three);
	CU_ASSERT_EQUAL_FATAL(s.n_rlimits, 1);
	CU_ASSERT_EQUAL(s.rlimits[0].resource, RLIMIT_NOFILE);
	CU_ASSERT_EQUAL(s.rlimits[0].value.rlim_cur, 1024);
	CU_ASSERT_TRUE(s.no_new_privileges);
	CU_ASSERT_STRING_EQUAL(s.root_path, "rootfs");
	CU_ASSERT_TRUE(s.root_readonly);
	CU_ASSERT_STRING_EQUAL(s.hostname, "crun");
	CU_ASSERT_EQUAL_FATAL(s.n_mounts, 7);
	CU_ASSERT_STRING_EQUAL(s.mounts[1].destination, "/dev");
	CU_ASSERT_EQUAL(s.mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
	CU_ASSERT_STRING_EQUAL(s.mounts[1].data, "mode=755,size=65536k");
	CU_ASSERT_STRING_EQUAL(s.mounts[2].data,
			       "newinstance,ptmxmode=0666,mode=0620,gid=5");
	CU_ASSERT_STRING_EQUAL(s.mounts[5].type, "sysfs");
	CU_ASSERT_TRUE(s.mounts[5].flags & MS_RDONLY);
	CU_ASSERT_EQUAL_FATAL(s.n_namespaces, 5);
	CU_ASSERT_TRUE(oci_has_namespace(&s, CLONE_NEWNET, NULL));
	CU_ASSERT_FALSE(oci_has_namespace(&s, CLONE_NEWUSER, NULL));
	CU_ASSERT_EQUAL_FATAL(s.n_device_rules, 1);
	CU_ASSERT_FALSE(s.device_rules[0].allow);
	CU_ASSERT_EQUAL(s.device_rules[0].type, 'a');
	CU_ASSERT_STRING_EQUAL(s.device_rules[0].access, "rwm");
	CU_ASSERT_EQUAL_FATAL(l.n_walls, 15);
	CU_ASSERT_STRING_EQUAL(l.walls[2].path, "/proc/kcore");
	CU_ASSERT_EQUAL(l.walls[2].kind, WALL_MASKED);
	CU_ASSERT_STRING_EQUAL(l.walls[13].path, "/proc/sys");
	CU_ASSERT_EQUAL(l.walls[13].kind, WALL_READONLY);
	oci_free_lessons(&l);
	oci_free_lessons(&l); /* twice: safe */
	oci_free_spec(&s);
	oci_free_spec(&s); /* twice: safe */
}

/* Every field stage 16 takes, with values unlike the defaults. */
static const char variant[] =
    "{\"ociVersion\": \"1.1.0\","
    " \"process\": {\"terminal\": false, \"consoleSize\": {\"height\": 25,"
    "  \"width\": 80}, \"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 18,"
    "  \"additionalGids\": [5, 6]}, \"args\": [\"/bin/sh\", \"-c\", \"id\"],"
    "  \"env\": [\"A=1\"], \"cwd\": \"/work\","
    "  \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"net_raw\"],"
    "   \"effective\": [\"CAP_CHOWN\", \"CAP_NET_RAW\"],"
    "   \"permitted\": [\"CAP_NET_RAW\", \"CAP_CHOWN\"]},"
    "  \"rlimits\": [{\"type\": \"RLIMIT_NPROC\", \"soft\": 10, \"hard\": 20},"
    "   {\"type\": \"RLIMIT_CORE\", \"soft\": 0, \"hard\": 0}],"
    "  \"noNewPrivileges\": false, \"oomScoreAdj\": -500},"
    " \"root\": {\"path\": \"/abs/rootfs\"},"
    " \"hostname\": \"variant\","
    " \"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv\","
    "  \"options\": [\"rbind\", \"ro\", \"rprivate\", \"nosuid\"]},"
    "  {\"destination\": \"/b\", \"type\": \"bind\", \"source\": \"/srv/b\","
    "   \"options\": [\"rw\"]},"
    "  {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\","
    "   \"source\": \"cgroup\", \"options\": [\"ro\", \"nodev\"]}],"
    " \"hooks\": {\"prestart\": [{\"path\": \"/bin/p\"}],"
    "  \"createRuntime\": [{\"path\": \"/bin/a\", \"args\": [\"a\", \"1\"],"
    "   \"env\": [\"X=y\"], \"timeout\": 5}, {\"path\": \"/bin/b\"}],"
    "  \"poststop\": [{\"path\": \"/bin/z\"}]},"
    " \"annotations\": {\"org.example.k\": \"v\"},"
    " \"linux\": {\"namespaces\": [{\"type\": \"user\"},"
    "  {\"type\": \"network\", \"path\": \"/proc/1/ns/net\"},"
    "  {\"type\": \"mount\"}],"
    "  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000,"
    "   \"size\": 65536}],"
    "  \"gidMappings\": [{\"containerID\": 0, \"hostID\": 200000,"
    "   \"size\": 1000}],"
    "  \"devices\": [{\"type\": \"c\", \"path\": \"/dev/fuse\","
    "   \"major\": 10, \"minor\": 229, \"fileMode\": 438, \"uid\": 0,"
    "   \"gid\": 0}, {\"type\": \"p\", \"path\": \"/dev/f\"}],"
    "  \"cgroupsPath\": \"/minidocker/v\","
    "  \"resources\": {\"pids\": {\"limit\": 64},"
    "   \"memory\": {\"limit\": 67108864},"
    "   \"cpu\": {\"quota\": 25000, \"period\": 50000},"
    "   \"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
    "    {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3,"
    "     \"access\": \"rw\"}], \"blockIO\": {}},"
    "  \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
    "  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
    "   \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
    "   \"syscalls\": [{\"names\": [\"mount\", \"umount2\"],"
    "    \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1},"
    "    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\","
    "     \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_NE\"}]},"
    "    {\"names\": [\"kexec_load\"], \"action\": \"SCMP_ACT_KILL\"}]},"
    "  \"rootfsPropagation\": \"rslave\","
    "  \"maskedPaths\": [\"/proc/kcore\"],"
    "  \"readonlyPaths\": [\"/proc/sys\", \"/proc/bus\"]}}";

static void test_parses_every_supported_field(void)
{
	struct oci_spec s;
	struct oci_lessons l;
	char why[512];
	const char *path = NULL;
	CU_ASSERT_EQUAL_FATAL(parse(variant, &s, &l, why, sizeof(why), 0), 0);
	CU_ASSERT_EQUAL(s.console_height, 25);
	CU_ASSERT_EQUAL(s.console_width, 80);
	CU_ASSERT_EQUAL(s.uid, 1000);
	CU_ASSERT_EQUAL(s.gid, 100);
	CU_ASSERT_EQUAL(s.umask, 022);
	CU_ASSERT_EQUAL_FATAL(s.n_additional_gids, 2);
	CU_ASSERT_EQUAL(s.additional_gids[1], 6);
	CU_ASSERT_STRING_EQUAL(s.args[2], "id");
	CU_ASSERT_EQUAL(l.keep_caps, CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_NET_RAW));
	CU_ASSERT_EQUAL_FATAL(s.n_rlimits, 2);
	CU_ASSERT_EQUAL(s.rlimits[0].resource, RLIMIT_NPROC);
	CU_ASSERT_EQUAL(s.rlimits[0].value.rlim_max, 20);
	CU_ASSERT_TRUE(s.has_oom_score_adj);
	CU_ASSERT_EQUAL(s.oom_score_adj, -500);
	CU_ASSERT_FALSE(s.root_readonly);
	CU_ASSERT_EQUAL_FATAL(s.n_mounts, 3);
	CU_ASSERT_STRING_EQUAL(s.mounts[0].type, "bind");
	CU_ASSERT_EQUAL(s.mounts[0].flags,
			MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID);
	CU_ASSERT_EQUAL(s.mounts[0].propagation, MS_PRIVATE | MS_REC);
	CU_ASSERT_EQUAL(s.mounts[1].flags, MS_BIND);
	CU_ASSERT_EQUAL(s.mounts[1].clear, MS_RDONLY);
	CU_ASSERT_PTR_NULL(s.mounts[1].data);
	CU_ASSERT_STRING_EQUAL(s.mounts[2].type, "cgroup");
	CU_ASSERT_EQUAL(s.n_hooks[OCI_HOOK_PRESTART], 1);
	CU_ASSERT_EQUAL_FATAL(s.n_hooks[OCI_HOOK_CREATE_RUNTIME], 2);
	CU_ASSERT_STRING_EQUAL(s.hooks[OCI_HOOK_CREATE_RUNTIME][0].args[1],
			       "1");
	CU_ASSERT_STRING_EQUAL(s.hooks[OCI_HOOK_CREATE_RUNTIME][0].env[0],
			       "X=y");
	CU_ASSERT_EQUAL(s.hooks[OCI_HOOK_CREATE_RUNTIME][0].timeout, 5);
	CU_ASSERT_PTR_NULL(s.hooks[OCI_HOOK_CREATE_RUNTIME][1].args);
	CU_ASSERT_EQUAL(s.n_hooks[OCI_HOOK_POSTSTART], 0);
	CU_ASSERT_STRING_EQUAL(s.hooks[OCI_HOOK_POSTSTOP][0].path, "/bin/z");
	CU_ASSERT_EQUAL_FATAL(s.n_annotations, 1);
	CU_ASSERT_STRING_EQUAL(s.annotations[0].value, "v");
	CU_ASSERT_TRUE(oci_has_namespace(&s, CLONE_NEWNET, &path));
	CU_ASSERT_STRING_EQUAL(path, "/proc/1/ns/net");
	CU_ASSERT_TRUE(oci_has_namespace(&s, CLONE_NEWUSER, &path));
	CU_ASSERT_PTR_NULL(path);
	CU_ASSERT_FALSE(oci_has_namespace(&s, CLONE_NEWPID, NULL));
	CU_ASSERT_EQUAL_FATAL(s.n_uid_mappings, 1);
	CU_ASSERT_EQUAL(s.uid_mappings[0].host, 100000);
	CU_ASSERT_EQUAL(s.gid_mappings[0].size, 1000);
	CU_ASSERT_EQUAL_FATAL(s.n_devices, 2);
	CU_ASSERT_EQUAL(s.devices[0].major, 10);
	CU_ASSERT_EQUAL(s.devices[0].file_mode, 0666);
	CU_ASSERT_EQUAL(s.devices[1].type, 'p');
	CU_ASSERT_STRING_EQUAL(s.cgroups_path, "/minidocker/v");
	CU_ASSERT_EQUAL(s.pids_limit, 64);
	CU_ASSERT_EQUAL(l.limits.memory, 64L << 20);
	/* Half a CPU, in stage 9's period. */
	CU_ASSERT_EQUAL(l.limits.cpu_quota, CPU_PERIOD / 2);
	CU_ASSERT_EQUAL_FATAL(s.n_device_rules, 2);
	CU_ASSERT_TRUE(s.device_rules[1].allow);
	CU_ASSERT_EQUAL(s.device_rules[1].minor, 3);
	CU_ASSERT_EQUAL(s.device_rules[0].major, -1);
	CU_ASSERT_EQUAL_FATAL(s.n_sysctl, 1);
	CU_ASSERT_STRING_EQUAL(s.sysctl[0].key, "net.ipv4.ip_forward");
	CU_ASSERT_TRUE(s.seccomp.given);
	CU_ASSERT_EQUAL(s.seccomp.default_action, SCMP_ACT_ALLOW);
	CU_ASSERT_EQUAL(s.seccomp.n_arches, 2);
	CU_ASSERT_EQUAL_FATAL(s.seccomp.n_syscalls, 3);
	CU_ASSERT_STRING_EQUAL(s.seccomp.syscalls[0].names[1], "umount2");
	CU_ASSERT_EQUAL(s.seccomp.syscalls[0].action, SCMP_ACT_ERRNO(1));
	CU_ASSERT_EQUAL(s.seccomp.syscalls[1].action, SCMP_ACT_ERRNO(EPERM));
	CU_ASSERT_EQUAL_FATAL(s.seccomp.syscalls[1].n_args, 1);
	CU_ASSERT_EQUAL(s.seccomp.syscalls[1].args[0].value, 8);
	CU_ASSERT_EQUAL(s.seccomp.syscalls[1].args[0].op, SCMP_CMP_NE);
	CU_ASSERT_EQUAL(s.seccomp.syscalls[2].action, SCMP_ACT_KILL);
	CU_ASSERT_EQUAL(s.rootfs_propagation, MS_SLAVE | MS_REC);
	CU_ASSERT_EQUAL_FATAL(l.n_walls, 3);
	CU_ASSERT_EQUAL(l.walls[0].kind, WALL_MASKED);
	CU_ASSERT_STRING_EQUAL(l.walls[2].path, "/proc/bus");
	CU_ASSERT_EQUAL(l.walls[2].kind, WALL_READONLY);
	oci_free_lessons(&l);
	oci_free_spec(&s);
}

/* Fields of the runtime-spec that this runtime cannot apply, each with a
 * value that asks for something: each must be refused, by its name. */
static const struct {
	const char *path, *value;
} refused[] = {
    {"domainname", "\"example.org\""},
    {"process.apparmorProfile", "\"docker-default\""},
    {"process.selinuxLabel", "\"system_u:system_r:container_t\""},
    {"process.ioPriority", "{\"class\": \"IOPRIO_CLASS_RT\"}"},
    {"process.scheduler", "{\"policy\": \"SCHED_FIFO\"}"},
    {"process.execCPUAffinity", "{\"initial\": \"0\"}"},
    {"process.commandLine", "\"cmd.exe\""},
    {"process.user.username", "\"nobody\""},
    {"process.capabilities.inheritable", "[\"CAP_KILL\"]"},
    {"linux.mountLabel", "\"system_u:object_r:container_file_t\""},
    {"linux.intelRdt", "{\"closID\": \"x\"}"},
    {"linux.personality", "{\"domain\": \"LINUX32\"}"},
    {"linux.timeOffsets", "{\"monotonic\": {\"secs\": 1}}"},
    {"linux.netDevices", "{\"eth1\": {}}"},
    {"linux.memoryPolicy", "{\"mode\": \"MPOL_BIND\"}"},
    {"linux.resources.blockIO", "{\"weight\": 10}"},
    {"linux.resources.hugepageLimits",
     "[{\"pageSize\": \"2MB\", \"limit\": 1}]"},
    {"linux.resources.network", "{\"classID\": 1}"},
    {"linux.resources.rdma", "{\"mlx\": {}}"},
    {"linux.resources.unified", "{\"io.max\": \"x\"}"},
    {"linux.resources.oomScoreAdj", "100"},
    {"linux.resources.memory.swap", "1048576"},
    {"linux.resources.memory.reservation", "1048576"},
    {"linux.resources.memory.kernel", "1048576"},
    {"linux.resources.memory.kernelTCP", "1048576"},
    {"linux.resources.memory.swappiness", "10"},
    {"linux.resources.memory.disableOOMKiller", "true"},
    {"linux.resources.memory.useHierarchy", "true"},
    {"linux.resources.memory.checkBeforeUpdate", "true"},
    {"linux.resources.cpu.shares", "512"},
    {"linux.resources.cpu.cpus", "\"0-1\""},
    {"linux.resources.cpu.mems", "\"0\""},
    {"linux.resources.cpu.realtimePeriod", "1000"},
    {"linux.resources.cpu.realtimeRuntime", "100"},
    {"linux.resources.cpu.idle", "1"},
    {"linux.resources.cpu.burst", "1000"},
    {"linux.seccomp.flags", "[\"SECCOMP_FILTER_FLAG_LOG\"]"},
    {"linux.seccomp.listenerPath", "\"/run/seccomp.sock\""},
    {"linux.seccomp.listenerMetadata", "\"x\""},
    {"solaris", "{\"milestone\": \"x\"}"},
    {"windows", "{\"layerFolders\": [\"c:\"]}"},
    {"vm", "{\"hypervisor\": {\"path\": \"/q\"}}"},
    {"zos", "{\"namespaces\": []}"},
    {"freebsd", "{\"jail\": {}}"},
};

static void test_refuses_each_unsupported_field(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		struct oci_spec s;
		char why[512], quoted[128];
		char *text = config_with(refused[i].path, refused[i].value);
		/* Seccomp's own fields need its one required field. */
		if (!strncmp(refused[i].path, "linux.seccomp.", 14)) {
			json_t *o = json_loads(text, 0, NULL);
			json_object_set_new(
			    json_object_get(json_object_get(o, "linux"),
					    "seccomp"),
			    "defaultAction", json_string("SCMP_ACT_ALLOW"));
			free(text);
			text = json_dumps(o, 0);
			json_decref(o);
		}
		int rc = parse(text, &s, NULL, why, sizeof(why), -1);
		free(text);
		snprintf(quoted, sizeof(quoted), "'%s'", refused[i].path);
		CU_ASSERT_EQUAL(rc, -1);
		if (rc == 0) {
			oci_free_spec(&s);
			continue;
		}
		if (!strstr(why, quoted) || !strstr(why, "not supported") ||
		    !one_line(why))
			fprintf(stderr,
				"\n  %s: wanted one line naming %s as not "
				"supported, got: %s\n",
				refused[i].path, quoted, why);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, quoted));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "not supported"));
		CU_ASSERT_TRUE(one_line(why));
	}
}

/* The same fields asking for nothing (Docker writes "blockIO": {}), and
 * fields that are not the spec's at all: read, as the spec says. */
static void test_takes_fields_that_ask_nothing_or_are_not_the_specs(void)
{
	static const struct {
		const char *path, *value;
	} taken[] = {
	    {"linux.resources.blockIO", "{}"},
	    /* Docker 20.10's, for no weight. */
	    {"linux.resources.blockIO", "{\"weight\": 0}"},
	    {"linux.resources.memory.disableOOMKiller", "false"},
	    {"linux.resources.cpu.shares", "0"},
	    {"process.apparmorProfile", "\"\""},
	    {"linux.mountLabel", "\"\""},
	    {"linux.resources.hugepageLimits", "[]"},
	    {"org.example.custom", "{\"anything\": [1, 2]}"},
	    {"process.org.example.knob", "1"},
	    {"linux.resources.org.example", "true"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(taken); i++) {
		struct oci_spec s;
		char why[512];
		char *text = config_with(taken[i].path, taken[i].value);
		int rc = parse(text, &s, NULL, why, sizeof(why), 0);
		free(text);
		CU_ASSERT_EQUAL(rc, 0);
		if (rc == 0)
			oci_free_spec(&s);
	}
}

/* Values this runtime cannot apply, or that are wrong: refused, in one
 * line that says which field. */
static void test_refuses_bad_values(void)
{
	static const struct {
		const char *path, *value, *want;
	} bad[] = {
	    {"ociVersion", "\"2.0.0\"", "'ociVersion' '2.0.0' is not 1.x"},
	    {"ociVersion", "1", "'ociVersion' must be a string"},
	    {"process.args", "[]", "'process.args' must name a command"},
	    {"process.args", "[\"sh\", 1]", "'process.args[1]'"},
	    {"process.cwd", "\"work\"", "'process.cwd' must be an absolute"},
	    {"process.terminal", "\"yes\"", "'process.terminal' must be true"},
	    {"process.env", "[\"NOEQUALS\"]", "'process.env[0]' must be"},
	    {"process.user.uid", "-1", "'process.user.uid' is -1"},
	    {"process.user.umask", "512", "'process.user.umask' is 512"},
	    {"process.oomScoreAdj", "1001", "'process.oomScoreAdj' is 1001"},
	    {"process.capabilities", "{\"bounding\": [\"CAP_NOPE\"]}",
	     "'process.capabilities.bounding[0]' is no capability"},
	    {"process.capabilities",
	     "{\"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\"],"
	     " \"effective\": [\"CAP_KILL\"],"
	     " \"permitted\": [\"CAP_KILL\", \"CAP_CHOWN\"]}",
	     "'process.capabilities' with effective or permitted"},
	    {"process.capabilities",
	     "{\"bounding\": [\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"],"
	     " \"permitted\": [\"CAP_KILL\"], \"ambient\": [\"CAP_CHOWN\"]}",
	     "'process.capabilities.ambient' is not supported"},
	    {"process.rlimits",
	     "[{\"type\": \"RLIMIT_NOPE\", \"soft\": 1,"
	     " \"hard\": 1}]",
	     "'process.rlimits[0].type' 'RLIMIT_NOPE' is no rlimit"},
	    {"process.rlimits",
	     "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": 2,"
	     " \"hard\": 1}]",
	     "soft 2 above hard 1"},
	    {"process.rlimits", "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]",
	     "'process.rlimits[0].hard' is missing"},
	    {"root", "{}", "'root.path' is missing"},
	    {"mounts",
	     "[{\"destination\": \"/x\", \"type\": \"nfs\","
	     " \"source\": \"h:/\"}]",
	     "'mounts[0].type' 'nfs' is not supported"},
	    {"mounts",
	     "[{\"destination\": \"/x\", \"type\": \"tmpfs\","
	     " \"options\": [\"rro\"]}]",
	     "'mounts[0].options' option 'rro' is not supported"},
	    {"mounts", "[{\"destination\": \"x\", \"type\": \"tmpfs\"}]",
	     "'mounts[0].destination' must be an absolute"},
	    {"mounts", "[{\"destination\": \"/x\"}]", "'mounts[0].type'"},
	    {"mounts", "[{\"destination\": \"/x\", \"options\": [\"bind\"]}]",
	     "'mounts[0].source' is missing"},
	    {"hooks.prestart", "[{\"path\": \"hook\"}]",
	     "'hooks.prestart[0].path' must be an absolute"},
	    {"hooks.poststop", "[{\"path\": \"/h\", \"timeout\": 0}]",
	     "'hooks.poststop[0].timeout' is 0"},
	    {"linux.namespaces", "[{\"type\": \"time\"}]",
	     "'linux.namespaces[0].type' 'time' is not supported"},
	    {"linux.namespaces", "[{\"type\": \"nope\"}]", "is no namespace"},
	    /* A newline in the file's value stays out of the message. */
	    {"linux.namespaces", "[{\"type\": \"pi\\nd\"}]",
	     "'pi?d' is no namespace"},
	    {"linux.namespaces", "[{\"type\": \"pid\"}, {\"type\": \"pid\"}]",
	     "has 'pid' twice"},
	    {"linux.uidMappings",
	     "[{\"containerID\": 0, \"hostID\": 1,"
	     " \"size\": 1}]",
	     "without a user namespace"},
	    {"linux.devices", "[{\"type\": \"x\", \"path\": \"/dev/x\"}]",
	     "'linux.devices[0].type' 'x'"},
	    {"linux.devices", "[{\"type\": \"c\", \"path\": \"/dev/x\"}]",
	     "'linux.devices[0].major' is missing"},
	    {"linux.resources.cpu.quota", "100", "below 1 ms"},
	    {"linux.resources.devices",
	     "[{\"allow\": true, \"access\": \"x\"}]",
	     "'linux.resources.devices[0].access' 'x'"},
	    {"linux.seccomp", "{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}",
	     "'linux.seccomp.defaultAction' 'SCMP_ACT_NOTIFY' is not "
	     "supported"},
	    {"linux.seccomp",
	     "{\"defaultAction\": \"SCMP_ACT_ALLOW\","
	     " \"architectures\": [\"SCMP_ARCH_VAX\"]}",
	     "'linux.seccomp.architectures[0]'"},
	    {"linux.seccomp",
	     "{\"defaultAction\": \"SCMP_ACT_ALLOW\","
	     " \"syscalls\": [{\"names\": [\"read\"],"
	     " \"action\": \"SCMP_ACT_ERRNO\", \"args\":"
	     " [{\"index\": 0, \"value\": 1,"
	     " \"op\": \"SCMP_CMP_ABOUT\"}]}]}",
	     "'linux.seccomp.syscalls[0].args[0].op' 'SCMP_CMP_ABOUT'"},
	    {"linux.rootfsPropagation", "\"sideways\"",
	     "'linux.rootfsPropagation' 'sideways'"},
	    {"linux.sysctl", "{\"../../etc/x\": \"1\"}", "is no sysctl"},
	    {"linux.maskedPaths", "[\"proc/kcore\"]",
	     "'linux.maskedPaths' must be an absolute"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct oci_spec s;
		char why[512];
		char *text = config_with(bad[i].path, bad[i].value);
		int rc = parse(text, &s, NULL, why, sizeof(why), -1);
		free(text);
		CU_ASSERT_EQUAL(rc, -1);
		if (rc == 0) {
			oci_free_spec(&s);
			continue;
		}
		if (!strstr(why, bad[i].want) || !one_line(why))
			fprintf(stderr,
				"\n  %s = %s: wanted one line with "
				"\"%s\", got: %s\n",
				bad[i].path, bad[i].value, bad[i].want, why);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, bad[i].want));
		CU_ASSERT_TRUE(one_line(why));
	}
}

static void test_missing_or_malformed_config(void)
{
	static const struct {
		const char *text, *want; /* NULL text: no file */
	} cases[] = {
	    {NULL, "config.json': No such file or directory"},
	    {"", "no JSON at line"},
	    {"{\"ociVersion\": \"1.0.0\",\n \"process\": {",
	     "no JSON at line 2"},
	    {"[1, 2]", "'the file' must be an object"},
	    {"{\"ociVersion\": \"1.0.0\", \"ociVersion\": \"1.0.0\"}",
	     "duplicate object key"},
	    {"{\"process\": {\"cwd\": \"/\", \"args\": [\"sh\"]},"
	     " \"root\": {\"path\": \"r\"}}",
	     "'ociVersion' is missing"},
	    {"{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}}",
	     "'process' is missing"},
	    {"{\"ociVersion\": \"1.0.0\", \"process\": {\"cwd\": \"/\","
	     " \"args\": [\"sh\"]}}",
	     "'root' is missing"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct oci_spec s;
		char why[512] = "", path[160];
		const char *bundle = fresh_dir("bundle");
		snprintf(path, sizeof(path), "%s/" OCI_CONFIG, bundle);
		if (cases[i].text)
			CU_ASSERT_EQUAL(put_text(path, cases[i].text), 0);
		int rc = oci_load_spec(bundle, &s, why, sizeof(why));
		CU_ASSERT_EQUAL(rc, -1);
		if (rc == 0) {
			oci_free_spec(&s);
			continue;
		}
		/* The file is named, whatever is wrong with it. */
		if (!strstr(why, cases[i].want) || !strstr(why, path) ||
		    !one_line(why))
			fprintf(stderr,
				"\n  case %zu: wanted one line naming %s with "
				"\"%s\", got: %s\n",
				i, path, cases[i].want, why);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].want));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, path));
		CU_ASSERT_TRUE(one_line(why));
	}
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of o, sorted and joined, for comparing shapes. */
static void keys_of(json_t *o, char *buf, size_t len)
{
	const char *keys[64];
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) if (n < ARRAY_SIZE(keys)) keys[n++] = k;
	qsort(keys, n, sizeof(keys[0]), by_string);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s ", keys[i]);
}

static void test_default_spec_reads_back_in_cruns_shape(void)
{
	struct oci_spec s;
	struct oci_lessons l;
	char why[512], ours[512], theirs[512];
	const char *bundle = fresh_dir("spec");
	CU_ASSERT_EQUAL_FATAL(oci_write_default_spec(bundle), 0);
	/* Never over a config.json that is there. */
	CU_ASSERT_EQUAL(oci_write_default_spec(bundle), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	int rc = oci_load_spec(bundle, &s, why, sizeof(why));
	if (rc == 0 && (rc = oci_map_spec(&s, &l, why, sizeof(why))) < 0)
		oci_free_spec(&s);
	if (rc < 0)
		fprintf(stderr, "\n  the default spec is refused: %s\n", why);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	/* Stage 10's and 11's defaults, through their own tables. */
	CU_ASSERT_EQUAL(l.keep_caps, CAPS_DEFAULT);
	CU_ASSERT_EQUAL(l.n_walls, WALLS_DEFAULT_LEN);
	oci_free_lessons(&l);
	CU_ASSERT_TRUE(oci_has_namespace(&s, CLONE_NEWCGROUP, NULL));
	json_t *mine = json_incref(s.doc);
	oci_free_spec(&s);
	json_t *crun = json_load_file(CRUN_SPEC, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(crun);
	/* The same objects with the same fields as crun's, down to the
	 * objects a runtime reads first. */
	static const char *const objects[] = {"", "process", "root", "linux"};
	for (size_t i = 0; i < ARRAY_SIZE(objects); i++) {
		json_t *a =
		    *objects[i] ? json_object_get(mine, objects[i]) : mine;
		json_t *b =
		    *objects[i] ? json_object_get(crun, objects[i]) : crun;
		keys_of(a, ours, sizeof(ours));
		keys_of(b, theirs, sizeof(theirs));
		if (strcmp(ours, theirs))
			fprintf(stderr, "\n  '%s': ours %s, crun's %s\n",
				objects[i], ours, theirs);
		CU_ASSERT_STRING_EQUAL(ours, theirs);
	}
	json_decref(mine);
	json_decref(crun);
}

/* A config.json with one mount of these options, read or not. */
static int mount_options_read(const char *const *opts, size_t n, char *why,
			      size_t len)
{
	struct oci_spec s;
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(opts[i]));
	json_t *m = json_pack("[{s:s, s:s, s:s, s:o}]", "destination", "/m",
			      "type", "tmpfs", "source", "tmpfs", "options", a);
	char *value = json_dumps(m, 0), *text = config_with("mounts", value);
	int rc = parse(text, &s, NULL, why, len, 0);
	if (rc == 0)
		oci_free_spec(&s);
	free(value);
	free(text);
	json_decref(m);
	return rc;
}

static void test_features_lists_what_is_read(void)
{
	char why[512];
	char *text = oci_features();
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	json_t *f = json_loads(text, 0, NULL);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(f, "ociVersionMin")), "1.0.0");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(f, "hooks")),
			OCI_HOOK_KINDS);
	/* Each mount option it lists is read; no refused one is listed. */
	json_t *opts = json_object_get(f, "mountOptions");
	CU_ASSERT_TRUE(json_array_size(opts) > 30);
	size_t i;
	json_t *v;
	json_array_foreach(opts, i, v)
	{
		const char *o = json_string_value(v);
		CU_ASSERT_EQUAL(mount_options_read(&o, 1, why, sizeof(why)), 0);
	}
	/* Each namespace it lists is read. */
	json_t *ns = json_object_get(json_object_get(f, "linux"), "namespaces");
	CU_ASSERT_EQUAL(json_array_size(ns), 7);
	json_array_foreach(ns, i, v)
	{
		struct oci_spec s;
		char value[64];
		snprintf(value, sizeof(value), "[{\"type\": \"%s\"}]",
			 json_string_value(v));
		char *t = config_with("linux.namespaces", value);
		int rc = parse(t, &s, NULL, why, sizeof(why), 0);
		CU_ASSERT_EQUAL(rc, 0);
		if (rc == 0)
			oci_free_spec(&s);
		free(t);
	}
	json_t *caps =
	    json_object_get(json_object_get(f, "linux"), "capabilities");
	CU_ASSERT_EQUAL(json_array_size(caps), CAPS_COUNT);
	json_decref(f);
}

static CU_TestInfo spec_tests[] = {
    {"test_parses_cruns_default_spec", test_parses_cruns_default_spec},
    {"test_parses_every_supported_field", test_parses_every_supported_field},
    {"test_refuses_each_unsupported_field",
     test_refuses_each_unsupported_field},
    {"test_takes_fields_that_ask_nothing_or_are_not_the_specs",
     test_takes_fields_that_ask_nothing_or_are_not_the_specs},
    {"test_refuses_bad_values", test_refuses_bad_values},
    {"test_missing_or_malformed_config", test_missing_or_malformed_config},
    {"test_default_spec_reads_back_in_cruns_shape",
     test_default_spec_reads_back_in_cruns_shape},
    {"test_features_lists_what_is_read", test_features_lists_what_is_read},
    CU_TEST_INFO_NULL,
};

/*** a created process ***/

/* A process as create leaves it: the fifo opened before it waits, then
 * waiting in oci_wait_start(), then exec'ing a shell that says
 * "started" through *out and runs until *in is closed. Returns its pid,
 * or -1. */
static pid_t start_created(const char *dir, int *out, int *in)
{
	int o[2], i[2];
	if (pipe2(o, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(i, O_CLOEXEC) < 0) {
		close(o[0]);
		close(o[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		int fd = oci_open_fifo(dir);
		if (fd < 0 || dup2(o[1], 1) < 0 || dup2(i[0], 0) < 0)
			_exit(EXIT_RUNTIME);
		if (oci_wait_start(fd) < 0)
			_exit(EXIT_RUNTIME);
		execl("/bin/sh", "sh", "-c", "echo started; read x; exit 0",
		      (char *)NULL);
		_exit(EXIT_NOT_FOUND);
	}
	close(o[1]);
	close(i[0]);
	*out = o[0];
	*in = i[1];
	return pid;
}

/* Whether pid sleeps in openat(2): a writer's open of a fifo waits
 * there for a reader. */
static bool sleeps_in_open(pid_t pid)
{
	char path[64], text[256];
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	return read_small(path, text, sizeof(text)) == 0 &&
	       atoi(text) == SYS_openat;
}

/* Up to ms for pid to end; its status (N, 128+S), or -1 after killing
 * it when it did not. */
static int reap_within(pid_t pid, int ms)
{
	long long end = clock_ms() + ms;
	int ws;
	pid_t r;
	while ((r = waitpid(pid, &ws, WNOHANG)) == 0 && clock_ms() < end)
		usleep(1000);
	if (r != pid) {
		fprintf(stderr, "\n  process %d did not end in %d ms\n",
			(int)pid, ms);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
}

/* What fd has within ms (up to len-1 bytes, a NUL after), up to its
 * end or its first line. */
static void read_within(int fd, char *buf, size_t len, int ms)
{
	size_t got = 0;
	long long end = clock_ms() + ms;
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	buf[0] = '\0';
	while (got + 1 < len && clock_ms() < end && !strchr(buf, '\n')) {
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n == 0)
			break;
		if (n > 0) {
			got += (size_t)n;
			buf[got] = '\0';
		} else
			usleep(1000);
	}
}

/* A state for pid in dir, as create writes it. */
static void created_state(struct oci_state *st, const char *dir, pid_t pid)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->id, sizeof(st->id), "c1");
	snprintf(st->bundle, sizeof(st->bundle), "%s", dir);
	st->status = OCI_CREATED;
	st->pid = pid;
	if (ctr_proc_start(pid, &st->pid_start) < 0)
		fprintf(stderr, "test_oci: no start time of %d\n", (int)pid);
}

/*** oci-state ***/

/* How many dot files dir holds (the temporary names of atomic writes). */
static int count_hidden(const char *dir)
{
	int n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);
	while (d && (e = readdir(d)))
		n += e->d_name[0] == '.' && strcmp(e->d_name, ".") &&
		     strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void test_state_round_trips(void)
{
	struct oci_state w, r;
	char why[512];
	const char *dir = fresh_dir("state");
	created_state(&w, "/bundles/one", getpid());
	w.annotations = json_pack("{s:s}", "org.example.k", "v");
	CU_ASSERT_EQUAL_FATAL(oci_write_state(dir, &w), 0);
	int rc = oci_read_state(dir, &r, why, sizeof(why));
	if (rc < 0)
		fprintf(stderr, "\n  %s\n", why);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(r.id, "c1");
	CU_ASSERT_STRING_EQUAL(r.bundle, "/bundles/one");
	CU_ASSERT_EQUAL(r.status, OCI_CREATED);
	CU_ASSERT_EQUAL(r.pid, getpid());
	CU_ASSERT_EQUAL(r.pid_start, w.pid_start);
	CU_ASSERT_TRUE(json_equal(r.annotations, w.annotations));
	/* What `state` prints: the spec's fields. */
	char *text = oci_state_json(&r);
	json_t *o = json_loads(text, 0, NULL);
	free(text);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "status")),
			       "created");
	CU_ASSERT_TRUE(json_is_string(json_object_get(o, "ociVersion")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "pid")),
			getpid());
	json_decref(o);
	/* No temporary file left beside it. */
	CU_ASSERT_EQUAL(count_hidden(dir), 0);
	oci_free_state(&w);
	oci_free_state(&r);
	/* None there: ENOENT, for "no such container". */
	CU_ASSERT_EQUAL(oci_read_state(fresh_dir("none"), &r, why, sizeof(why)),
			-1);
	CU_ASSERT_EQUAL(errno, ENOENT);
}

static void test_id_must_be_a_plain_name(void)
{
	CU_ASSERT_TRUE(oci_id_valid("web-1"));
	CU_ASSERT_TRUE(oci_id_valid("3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a"
				    "4b5c6d7e8f9a0b1c2d3e4f"));
	CU_ASSERT_FALSE(oci_id_valid(""));
	CU_ASSERT_FALSE(oci_id_valid(".."));
	CU_ASSERT_FALSE(oci_id_valid("a/b"));
	CU_ASSERT_FALSE(oci_id_valid(".hidden"));
}

static void test_status_follows_the_process(void)
{
	struct oci_state st;
	char fifo[160], buf[64];
	int out, in;
	const char *dir = fresh_dir("status");
	CU_ASSERT_EQUAL_FATAL(oci_make_fifo(dir), 0);
	pid_t pid = start_created(dir, &out, &in);
	CU_ASSERT_FATAL(pid > 0);
	created_state(&st, dir, pid);
	CU_ASSERT_EQUAL(oci_refresh_state(dir, &st), OCI_CREATED);
	/* start takes the fifo away: running from then on. */
	snprintf(fifo, sizeof(fifo), "%s/" OCI_FIFO, dir);
	int r = open(fifo, O_RDONLY | O_CLOEXEC); /* lets it go on */
	unlink(fifo);
	read_within(out, buf, sizeof(buf), 5000);
	close(r);
	close(out);
	/* Its start time is the same after its exec: the same process. */
	unsigned long long now = 0;
	CU_ASSERT_EQUAL(ctr_proc_start(pid, &now), 0);
	CU_ASSERT_EQUAL(now, st.pid_start);
	CU_ASSERT_STRING_EQUAL(buf, "started\n");
	CU_ASSERT_EQUAL(oci_refresh_state(dir, &st), OCI_RUNNING);
	/* Ended, not reaped yet (a zombie): stopped, as crun says. */
	close(in);
	long long end = clock_ms() + 2000;
	while (oci_refresh_state(dir, &st) != OCI_STOPPED && clock_ms() < end)
		usleep(1000);
	CU_ASSERT_EQUAL(st.status, OCI_STOPPED);
	CU_ASSERT_EQUAL(reap_within(pid, 5000), 0);
	CU_ASSERT_EQUAL(oci_refresh_state(dir, &st), OCI_STOPPED);
	char *text = oci_state_json(&st);
	json_t *o = json_loads(text, 0, NULL);
	free(text);
	/* As runc and crun: a stopped container's pid is 0. */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "pid")), 0);
	json_decref(o);
}

static void test_reused_pid_is_stopped(void)
{
	struct oci_state st;
	const char *dir = fresh_dir("reused");
	/* Our own pid, with another start time: a container whose pid the
	 * kernel gave to us since. */
	created_state(&st, dir, getpid());
	st.pid_start += 1;
	st.status = OCI_RUNNING;
	CU_ASSERT_EQUAL(oci_refresh_state(dir, &st), OCI_STOPPED);
	/* kill must not reach us: signal 0 only asks. */
	st.status = OCI_RUNNING;
	CU_ASSERT_EQUAL(oci_kill(&st, 0), -1);
	CU_ASSERT_EQUAL(errno, ESRCH);
}

/* Copy the program at from to to, executable. Returns 0, or -1. */
static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n = 0;
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)n) < 0)
			n = -1;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0)
		n = -1;
	return in < 0 || out < 0 || n < 0 ? -1 : 0;
}

/* Run crun with args, its stdout into out; its status. */
static int run_crun(char *out, size_t len, const char *const *args)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(p[1], 1);
		execv("/usr/bin/crun", (char *const *)args);
		_exit(EXIT_NOT_FOUND);
	}
	close(p[1]);
	if (out)
		read_within(p[0], out, len, 10000);
	close(p[0]);
	return pid < 0 ? -1 : reap_within(pid, 10000);
}

/* Whether our state for st prints as crun's (its JSON text crun_text)
 * on every field of the spec's; says which one differs. */
static void same_state(const struct oci_state *st, json_t *theirs,
		       const char *crun_text)
{
	static const char *const fields[] = {"id", "status", "pid", "bundle",
					     "annotations"};
	char *text = oci_state_json(st);
	json_t *mine = json_loads(text, 0, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		if (json_equal(json_object_get(mine, fields[i]),
			       json_object_get(theirs, fields[i])))
			continue;
		fprintf(stderr, "\n  '%s' differs: ours %s\n  crun's %s\n",
			fields[i], text, crun_text);
		CU_FAIL("a field of the state differs from crun's");
	}
	/* Both claim a 1.x spec. */
	const char *v =
	    json_string_value(json_object_get(theirs, "ociVersion"));
	CU_ASSERT_TRUE(v && !strncmp(v, "1.", 2));
	json_decref(mine);
	free(text);
}

/* crun's `state` and ours for the same bundle and the same process
 * agree on every field of the spec's state. */
static void test_state_reads_as_cruns(void)
{
	char why[512], root[160], bundle[160], rootfs[200], text[4096];
	struct oci_spec s;

	if (geteuid() != 0 || access("/usr/bin/crun", X_OK) < 0 ||
	    access("/bin/busybox", X_OK) < 0) {
		printf("\n  skipped: needs root, crun and busybox\n");
		return;
	}
	snprintf(root, sizeof(root), "%s", fresh_dir("crun-root"));
	snprintf(bundle, sizeof(bundle), "%s", fresh_dir("crun-bundle"));
	/* crun looks for the command at create: busybox as /bin/sh. */
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	CU_ASSERT_EQUAL_FATAL(mkdir(rootfs, 0755), 0);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs/bin", bundle);
	CU_ASSERT_EQUAL_FATAL(mkdir(rootfs, 0755), 0);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs/bin/sh", bundle);
	CU_ASSERT_EQUAL_FATAL(copy_file("/bin/busybox", rootfs), 0);
	/* crun's default, with no terminal and an annotation. */
	json_t *cfg = json_load_file(CRUN_SPEC, 0, NULL);
	json_object_set_new(json_object_get(cfg, "process"), "terminal",
			    json_false());
	json_object_set_new(cfg, "annotations",
			    json_pack("{s:s}", "org.example.k", "v"));
	char path[200];
	snprintf(path, sizeof(path), "%s/" OCI_CONFIG, bundle);
	CU_ASSERT_EQUAL_FATAL(json_dump_file(cfg, path, 0), 0);
	json_decref(cfg);
	CU_ASSERT_EQUAL_FATAL(oci_load_spec(bundle, &s, why, sizeof(why)), 0);

	const char *create[] = {"crun",	    "--root", root,  "create",
				"--bundle", bundle,   "cmp", NULL};
	const char *state[] = {"crun", "--root", root, "state", "cmp", NULL};
	const char *del[] = {"crun", "--root", root, "delete",
			     "-f",   "cmp",    NULL};
	int rc = run_crun(NULL, 0, create);
	if (rc != 0) {
		fprintf(stderr, "\n  crun create failed: %d\n", rc);
		CU_FAIL("crun create");
		oci_free_spec(&s);
		return;
	}
	CU_ASSERT_EQUAL(run_crun(text, sizeof(text), state), 0);
	json_t *theirs = json_loads(text, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(theirs);
	/* Ours for the same id, bundle, process and annotations; crun
	 * keeps its fifo where we do, <root>/<id>/exec.fifo, so our
	 * status reads its container too. */
	struct oci_state st = {.status = OCI_CREATED};
	char dir[200];
	snprintf(dir, sizeof(dir), "%s/cmp", root);
	snprintf(st.id, sizeof(st.id), "cmp");
	snprintf(st.bundle, sizeof(st.bundle), "%s", bundle);
	st.pid = (pid_t)json_integer_value(json_object_get(theirs, "pid"));
	ctr_proc_start(st.pid, &st.pid_start);
	st.annotations = json_incref(json_object_get(s.doc, "annotations"));
	oci_refresh_state(dir, &st);
	same_state(&st, theirs, text);
	json_decref(theirs);
	/* Started, its sh reads an empty stdin and ends: stopped, both. */
	const char *start[] = {"crun", "--root", root, "start", "cmp", NULL};
	CU_ASSERT_EQUAL(run_crun(NULL, 0, start), 0);
	long long end = clock_ms() + 5000;
	do {
		CU_ASSERT_EQUAL(run_crun(text, sizeof(text), state), 0);
		theirs = json_loads(text, 0, NULL);
		if (!strcmp(json_string_value(json_object_get(theirs, "status"))
				?: "",
			    "stopped"))
			break;
		json_decref(theirs);
		theirs = NULL;
		usleep(10000);
	} while (clock_ms() < end);
	CU_ASSERT_PTR_NOT_NULL(theirs);
	oci_refresh_state(dir, &st);
	if (theirs)
		same_state(&st, theirs, text);
	json_decref(theirs);
	oci_free_state(&st);
	oci_free_spec(&s);
	CU_ASSERT_EQUAL(run_crun(NULL, 0, del), 0);
}

static CU_TestInfo state_tests[] = {
    {"test_state_round_trips", test_state_round_trips},
    {"test_id_must_be_a_plain_name", test_id_must_be_a_plain_name},
    {"test_status_follows_the_process", test_status_follows_the_process},
    {"test_reused_pid_is_stopped", test_reused_pid_is_stopped},
    {"test_state_reads_as_cruns", test_state_reads_as_cruns},
    CU_TEST_INFO_NULL,
};

/*** oci-fifo ***/

static void test_create_waits_until_start(void)
{
	struct oci_state st;
	char buf[64], why[512];
	int out, in;
	const char *dir = fresh_dir("fifo");
	CU_ASSERT_EQUAL_FATAL(oci_make_fifo(dir), 0);
	pid_t pid = start_created(dir, &out, &in);
	CU_ASSERT_FATAL(pid > 0);
	/* It waits in the fifo's open, and has run nothing of its own:
	 * either it sleeps there, or it went on (the failure). */
	long long end = clock_ms() + 5000;
	buf[0] = '\0';
	while (!sleeps_in_open(pid) && !buf[0] && clock_ms() < end)
		read_within(out, buf, sizeof(buf), 2);
	if (buf[0])
		fprintf(stderr, "\n  before start it printed: %s\n", buf);
	bool waited = sleeps_in_open(pid) && !buf[0];
	CU_ASSERT_TRUE(sleeps_in_open(pid));
	CU_ASSERT_STRING_EQUAL(buf, "");
	if (!waited) {
		/* It went on without start: what follows would only wait
		 * out its timeouts. */
		kill(pid, SIGKILL);
		close(out);
		close(in);
		reap_within(pid, 5000);
		return;
	}
	created_state(&st, dir, pid);
	int rc = oci_start(dir, &st, 5000, why, sizeof(why));
	if (rc < 0)
		fprintf(stderr, "\n  start: %s\n", why);
	CU_ASSERT_EQUAL(rc, 0);
	read_within(out, buf, sizeof(buf), 5000);
	CU_ASSERT_STRING_EQUAL(buf, "started\n");
	close(out);
	close(in);
	CU_ASSERT_EQUAL(reap_within(pid, 5000), 0);
}

static void test_start_twice_fails(void)
{
	struct oci_state st;
	char buf[64], why[512];
	int out, in;
	const char *dir = fresh_dir("twice");
	CU_ASSERT_EQUAL_FATAL(oci_make_fifo(dir), 0);
	pid_t pid = start_created(dir, &out, &in);
	CU_ASSERT_FATAL(pid > 0);
	created_state(&st, dir, pid);
	CU_ASSERT_EQUAL(oci_start(dir, &st, 5000, why, sizeof(why)), 0);
	read_within(out, buf, sizeof(buf), 5000);
	close(out);
	/* The second finds no fifo: refused at once, and says why (not
	 * after its timeout, 2 s, waiting for a process that is gone). */
	long long t0 = clock_ms();
	CU_ASSERT_EQUAL(oci_start(dir, &st, 2000, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_TRUE(clock_ms() - t0 < 1000);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "started already"));
	close(in);
	CU_ASSERT_EQUAL(reap_within(pid, 5000), 0);
}

static void test_start_of_a_dead_process_fails_in_time(void)
{
	struct oci_state st;
	char why[512];
	const char *dir = fresh_dir("dead");
	CU_ASSERT_EQUAL_FATAL(oci_make_fifo(dir), 0);
	/* A process that ends (not reaped yet: a zombie keeps its pid and
	 * start time) without ever opening the fifo. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	CU_ASSERT_FATAL(pid > 0);
	created_state(&st, dir, pid);
	CU_ASSERT_EQUAL(reap_within(pid, 5000), 0);
	long long t0 = clock_ms();
	CU_ASSERT_EQUAL(oci_start(dir, &st, 4000, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(errno, ESRCH);
	long long took = clock_ms() - t0;
	if (took >= 2000)
		fprintf(stderr, "\n  start took %lld ms to see it gone\n",
			took);
	CU_ASSERT_TRUE(took < 2000);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "gone"));
}

static CU_TestInfo fifo_tests[] = {
    {"test_create_waits_until_start", test_create_waits_until_start},
    {"test_start_twice_fails", test_start_twice_fails},
    {"test_start_of_a_dead_process_fails_in_time",
     test_start_of_a_dead_process_fails_in_time},
    CU_TEST_INFO_NULL,
};

/*** oci-seccomp ***/

/* A filter of the spec's rules: uname fails with 42, getcwd with a
 * one-byte buffer with EPERM, kill of SIGUSR1 or SIGUSR2 (one argument
 * tested twice: either) with 43; a call this machine lacks and a rule
 * that does what the default does are no errors. */
static const char filter[] =
    "{\"defaultAction\": \"SCMP_ACT_ALLOW\","
    " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
    " \"syscalls\": [{\"names\": [\"uname\", \"no_such_call\"],"
    "   \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42},"
    "  {\"names\": [\"getcwd\"], \"action\": \"SCMP_ACT_ERRNO\","
    "   \"args\": [{\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]},"
    "  {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\","
    "   \"errnoRet\": 43,"
    "   \"args\": [{\"index\": 1, \"value\": 10, \"op\": \"SCMP_CMP_EQ\"},"
    "    {\"index\": 1, \"value\": 12, \"op\": \"SCMP_CMP_EQ\"}]},"
    "  {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";

/* In a child: load the filter, then say through its status which of
 * the calls did not do what the filter says (a bit each). */
static int child_under_filter(const struct oci_seccomp *sc)
{
	char why[512], buf[256];
	struct utsname u;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    oci_load_seccomp(sc, why, sizeof(why)) < 0) {
		fprintf(stderr, "\n  %s\n", why);
		return 0x80;
	}
	int bad = 0;
	if (uname(&u) != -1 || errno != 42)
		bad |= 1;
	if (getcwd(buf, 1) || errno != EPERM)
		bad |= 2;
	if (!getcwd(buf, sizeof(buf)))
		bad |= 4;
	if (kill(getpid(), SIGUSR1) != -1 || errno != 43 ||
	    kill(getpid(), SIGUSR2) != -1 || errno != 43)
		bad |= 8;
	if (kill(getpid(), 0) != 0)
		bad |= 16;
	return bad;
}

static void test_spec_filter_is_what_the_process_gets(void)
{
	struct oci_spec s;
	char why[512];
	char *text = config_with("linux.seccomp", filter);
	int rc = parse(text, &s, NULL, why, sizeof(why), 0);
	free(text);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child_under_filter(&s.seccomp));
	int status = reap_within(pid, 5000);
	if (status != 0)
		fprintf(stderr,
			"\n  under the filter (status %#x): 1 uname, 2 getcwd "
			"refused, 4 getcwd allowed, 8 kill refused, 16 kill "
			"allowed, 0x80 not loaded\n",
			status);
	CU_ASSERT_EQUAL(status, 0);
	/* None given: nothing loaded, nothing refused. */
	struct oci_seccomp none = {0};
	CU_ASSERT_EQUAL(oci_load_seccomp(&none, why, sizeof(why)), 0);
	oci_free_spec(&s);
}

static CU_TestInfo seccomp_tests[] = {
    {"test_spec_filter_is_what_the_process_gets",
     test_spec_filter_is_what_the_process_gets},
    CU_TEST_INFO_NULL,
};

/*** oci-hooks ***/

#define STATE_TEXT "{\"ociVersion\": \"1.0.2\", \"id\": \"h\"}"

/* A hook: sh -c script, with $1 = arg. */
static struct oci_hook sh_hook(const char *const *argv, int timeout)
{
	return (struct oci_hook){"/bin/sh", argv, NULL, timeout};
}

static void test_hooks_run_in_order_with_state_on_stdin(void)
{
	char log[160], *text;
	char why[512];
	snprintf(log, sizeof(log), "%s/hooks.log", fresh_dir("hooks"));
	char script[600];
	snprintf(script, sizeof(script),
		 "echo \"$1\" >>%s; cat >>%s; echo >>%s", log, log, log);
	const char *a1[] = {"sh", "-c", script, "sh", "first", NULL};
	const char *a2[] = {"sh", "-c", script, "sh", "second", NULL};
	const char *a3[] = {"sh", "-c", script, "sh", "third", NULL};
	struct oci_hook hooks[] = {sh_hook(a1, 5), sh_hook(a2, 0),
				   sh_hook(a3, 5)};
	CU_ASSERT_EQUAL(
	    oci_run_hooks(hooks, 3, STATE_TEXT, false, why, sizeof(why)), 0);
	text = read_text(log);
	const char *want = "first\n" STATE_TEXT "\nsecond\n" STATE_TEXT
			   "\nthird\n" STATE_TEXT "\n";
	if (!text || strcmp(text, want))
		fprintf(stderr, "\n  the hooks wrote:\n%s\n  wanted:\n%s\n",
			text ? text : "(nothing)", want);
	CU_ASSERT_PTR_NOT_NULL(text);
	if (text)
		CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
}

static void test_failing_hook_stops_the_rest(void)
{
	char log[160], script[600], why[512];
	snprintf(log, sizeof(log), "%s/hooks.log", fresh_dir("failing"));
	snprintf(script, sizeof(script), "echo \"$1\" >>%s; exit \"$2\"", log);
	const char *ok1[] = {"sh", "-c", script, "sh", "one", "0", NULL};
	const char *bad[] = {"sh", "-c", script, "sh", "two", "3", NULL};
	const char *ok3[] = {"sh", "-c", script, "sh", "three", "0", NULL};
	struct oci_hook hooks[] = {sh_hook(ok1, 5), sh_hook(bad, 5),
				   sh_hook(ok3, 5)};
	CU_ASSERT_EQUAL(
	    oci_run_hooks(hooks, 3, STATE_TEXT, false, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "failed with status 3"));
	char *text = read_text(log);
	CU_ASSERT_PTR_NOT_NULL(text);
	if (text)
		CU_ASSERT_STRING_EQUAL(text, "one\ntwo\n");
	free(text);
	/* poststart and poststop: reported, and the rest still run. */
	unlink(log);
	CU_ASSERT_EQUAL(
	    oci_run_hooks(hooks, 3, STATE_TEXT, true, why, sizeof(why)), -1);
	text = read_text(log);
	CU_ASSERT_PTR_NOT_NULL(text);
	if (text)
		CU_ASSERT_STRING_EQUAL(text, "one\ntwo\nthree\n");
	free(text);
}

static void test_hook_past_its_timeout_is_killed(void)
{
	char pidfile[160], script[600], why[512];
	snprintf(pidfile, sizeof(pidfile), "%s/pid", fresh_dir("timeout"));
	snprintf(script, sizeof(script), "echo $$ >%s; exec sleep 4", pidfile);
	const char *argv[] = {"sh", "-c", script, NULL};
	struct oci_hook h = sh_hook(argv, 1);
	long long t0 = clock_ms();
	CU_ASSERT_EQUAL(oci_run_hook(&h, STATE_TEXT, why, sizeof(why)), -1);
	long long took = clock_ms() - t0;
	if (took >= 3000)
		fprintf(stderr, "\n  a hook with 1 s took %lld ms\n", took);
	CU_ASSERT_TRUE(took < 3000);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "did not end in 1 s"));
	char *text = read_text(pidfile);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	/* Killed and reaped: its pid is no process of ours any more. */
	CU_ASSERT_EQUAL(kill(atoi(text), 0), -1);
	free(text);
}

static void test_hook_gets_its_args_and_env_only(void)
{
	char log[160], script[600], why[512];
	snprintf(log, sizeof(log), "%s/env", fresh_dir("env"));
	snprintf(script, sizeof(script), "echo \"$0 $HOOK_A ${HOME-none}\" >%s",
		 log);
	const char *argv[] = {"named-hook", "-c", script, NULL};
	const char *env[] = {"HOOK_A=b", NULL};
	struct oci_hook h = {"/bin/sh", argv, env, 5};
	CU_ASSERT_EQUAL(oci_run_hook(&h, STATE_TEXT, why, sizeof(why)), 0);
	char *text = read_text(log);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "named-hook b none\n");
	free(text);
	/* A hook that is not there: said, with its path. */
	struct oci_hook missing = {"/nonexistent/hook", NULL, NULL, 5};
	CU_ASSERT_EQUAL(oci_run_hook(&missing, STATE_TEXT, why, sizeof(why)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "'/nonexistent/hook' failed with "
					   "status 127"));
}

static CU_TestInfo hooks_tests[] = {
    {"test_hooks_run_in_order_with_state_on_stdin",
     test_hooks_run_in_order_with_state_on_stdin},
    {"test_failing_hook_stops_the_rest", test_failing_hook_stops_the_rest},
    {"test_hook_past_its_timeout_is_killed",
     test_hook_past_its_timeout_is_killed},
    {"test_hook_gets_its_args_and_env_only",
     test_hook_gets_its_args_and_env_only},
    CU_TEST_INFO_NULL,
};

/*** oci-kill ***/

static void test_signal_names(void)
{
	static const struct {
		const char *text;
		int sig;
	} cases[] = {
	    {"9", SIGKILL},	  {"KILL", SIGKILL},
	    {"SIGKILL", SIGKILL}, {"sigterm", SIGTERM},
	    {"TERM", SIGTERM},	  {"HUP", SIGHUP},
	    {"SIGUSR1", SIGUSR1}, {"winch", SIGWINCH},
	    {"15", SIGTERM},	  {"0", -1},
	    {"NOPE", -1},	  {"", -1},
	    {"99", -1},		  {"-9", -1},
	    {"9x", -1},		  {"SIG", -1},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int got = oci_signal_by_name(cases[i].text);
		if (got != cases[i].sig)
			fprintf(stderr, "\n  '%s': %d, wanted %d\n",
				cases[i].text, got, cases[i].sig);
		CU_ASSERT_EQUAL(got, cases[i].sig);
	}
}

static void test_kill_reaches_a_created_process_only(void)
{
	struct oci_state st;
	int out, in;
	const char *dir = fresh_dir("kill");
	CU_ASSERT_EQUAL_FATAL(oci_make_fifo(dir), 0);
	pid_t pid = start_created(dir, &out, &in);
	CU_ASSERT_FATAL(pid > 0);
	created_state(&st, dir, pid);
	/* Created, not started: kill may end it (as docker rm -f does). */
	CU_ASSERT_EQUAL(oci_kill(&st, oci_signal_by_name("KILL")), 0);
	CU_ASSERT_EQUAL(reap_within(pid, 5000), 128 + SIGKILL);
	close(out);
	close(in);
	/* Gone: said so, and nothing signalled. */
	CU_ASSERT_EQUAL(oci_kill(&st, SIGKILL), -1);
	CU_ASSERT_EQUAL(errno, ESRCH);
	CU_ASSERT_EQUAL(oci_refresh_state(dir, &st), OCI_STOPPED);
}

static CU_TestInfo kill_tests[] = {
    {"test_signal_names", test_signal_names},
    {"test_kill_reaches_a_created_process_only",
     test_kill_reaches_a_created_process_only},
    CU_TEST_INFO_NULL,
};

/*** oci-paths ***/

/* Run sh -c script in the scratch directory; false with a failure. */
static bool sh_in_scratch(const char *script)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "cd '%s' && { %s; }", scratch, script);
	bool ok = system(cmd) == 0;
	CU_ASSERT(ok);
	return ok;
}

/* The path fd holds, relative to the scratch directory ("" for it,
 * "OUT:..." when out of it). */
static void where(int fd, char *out, size_t len)
{
	char link[64], path[PATH_MAX] = "";
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	size_t s = strlen(scratch);
	if (!strncmp(path, scratch, s) && (!path[s] || path[s] == '/'))
		snprintf(out, len, "%s", path + s);
	else
		snprintf(out, len, "OUT:%s", path);
}

/* Links in a root (root/) to a directory beside it (out/): an absolute
 * one, a chain of "..", a relative one inside, a loop. Looked up inside
 * the root, each lands in it, with openat2() and with the walk; made
 * through a link whose target is missing, the target is made in the
 * root, and out/ stays empty. */
static void test_paths_resolve_inside_the_root(void)
{
	char abs_out[128], script[1024], got[PATH_MAX];
	snprintf(abs_out, sizeof(abs_out), "%s/out", scratch);
	snprintf(script, sizeof(script),
		 "rm -rf root out && mkdir -p root/in/sub out root/%s && "
		 "ln -s '%s' root/abs && "
		 "ln -s ../../../../../../../../..%s root/up && "
		 "ln -s in/sub root/rel && ln -s loop root/loop && "
		 "ln -s '%s/gone' root/dangling",
		 abs_out, abs_out, abs_out, abs_out);
	if (!sh_in_scratch(script))
		return;
	snprintf(got, sizeof(got), "%s/root", scratch);
	int root = open(got, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CU_ASSERT_FATAL(root >= 0);
	int (*const open_with[])(int, const char *, int) = {oci_open_in_root,
							    oci_walk_in_root};
	for (size_t w = 0; w < 2; w++) {
		char want[PATH_MAX + 16];
		/* abs and up: root/<scratch>/out, the out/ inside root. */
		const char *paths[] = {"/abs", "/up", "/rel/../../..", "/rel"};
		const char *wants[] = {abs_out, abs_out, "", "/in/sub"};
		for (size_t i = 0; i < 4; i++) {
			int fd =
			    open_with[w](root, paths[i], O_PATH | O_DIRECTORY);
			snprintf(want, sizeof(want), "/root%s", wants[i]);
			where(fd, got, sizeof(got));
			if (verbose_on || strcmp(got, want))
				printf("\n  %s %s: %s, want %s",
				       w ? "walk" : "openat2", paths[i], got,
				       want);
			CU_ASSERT(fd >= 0 && !strcmp(got, want));
			if (fd >= 0)
				close(fd);
		}
		errno = 0;
		CU_ASSERT(open_with[w](root, "/loop", O_PATH) < 0 &&
			  errno == ELOOP);
	}
	/* Made through the links: inside root, out/ untouched. */
	int fd = oci_make_in_root(root, "/abs/made/deep", false);
	CU_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = oci_make_in_root(root, "/dangling/file", true);
	CU_ASSERT(fd >= 0);
	where(fd, got, sizeof(got));
	if (fd >= 0)
		close(fd);
	char want[PATH_MAX + 32];
	snprintf(want, sizeof(want), "/root%s/gone/file", abs_out);
	CU_ASSERT_STRING_EQUAL(got, want);
	snprintf(script, sizeof(script),
		 "test -d 'root%s/made/deep' && test -z \"$(ls -A out)\"",
		 abs_out);
	sh_in_scratch(script);
	close(root);
}

static CU_TestInfo paths_tests[] = {
    {"test_paths_resolve_inside_the_root", test_paths_resolve_inside_the_root},
    CU_TEST_INFO_NULL,
};

/*** main ***/

/* For the crun comparison: a mount namespace of our own, where the
 * host's hybrid cgroup2 mount is out of sight (crun refuses hybrid
 * hosts); nothing of it reaches the host. */
static void hide_hybrid_cgroup2(void)
{
	if (geteuid() != 0)
		return;
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("test_oci: cannot make a mount namespace");
		return;
	}
	if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0 &&
	    errno != EINVAL && errno != ENOENT)
		perror("test_oci: cannot hide /sys/fs/cgroup/unified");
}

int main(int argc, char **argv)
{
	int arg = 1;
	verbose_on = argc > arg && !strcmp(argv[arg], "-v");
	arg += verbose_on;
	const char *only = argc > arg ? argv[arg] : NULL;
	set_prog_name("test_oci");
	set_verbose(verbose_on);
	/* Hooks that read stdin read theirs, never ours (a terminal). */
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0)
		return 1;
	close(null);
	hide_hybrid_cgroup2();
	snprintf(scratch, sizeof(scratch), "/tmp/minidocker-oci-test.XXXXXX");
	if (!mkdtemp(scratch)) {
		perror("test_oci: cannot make a scratch directory");
		return 1;
	}
	CU_SuiteInfo suites[] = {
	    {"oci-spec", NULL, NULL, NULL, NULL, spec_tests},
	    {"oci-state", NULL, NULL, NULL, NULL, state_tests},
	    {"oci-fifo", NULL, NULL, NULL, NULL, fifo_tests},
	    {"oci-seccomp", NULL, NULL, NULL, NULL, seccomp_tests},
	    {"oci-hooks", NULL, NULL, NULL, NULL, hooks_tests},
	    {"oci-kill", NULL, NULL, NULL, NULL, kill_tests},
	    {"oci-paths", NULL, NULL, NULL, NULL, paths_tests},
	    CU_SUITE_INFO_NULL,
	};
	int failed = cu_run("test_oci", suites, only, verbose_on);
	remove_tree(scratch);
	return failed < 0 ? 2 : failed > 0;
}
