#!/usr/bin/env bash
# bundles.sh RUNTIME ROOTFS REAPER: suite 16's bundles. The same
# generated bundles (config.json variants over a copy of the busybox
# root filesystem ROOTFS, the probe in it) run under the reference
# runtime (crun) and under RUNTIME, each with create, start, a wait for
# the process and delete; what the container saw (the probe's answers,
# the state, its cgroup's limits read on the host, the hooks' record)
# must match line for line but for the few lines listed in "excluded".
# Then RUNTIME alone: its lifecycle (state at each step, start twice,
# delete while running, kill when stopped, delete --force) and bad
# input (config.json missing, malformed, with a field it cannot apply):
# one line on stderr, the status its row of bad_status says, nothing
# left. REAPER is tests/bundles/reaper.c's program: the test is the
# subreaper that the containers' processes fall to once create returns.
#
# A guest on the machine (tests/fence.sh): a mount and network namespace
# of the test's own, cgroups under a parent named after the test, the
# runtimes' --root in its scratch directory.
#
# BUNDLES_REFERENCE names another reference runtime (runc);
# BUNDLES_ONLY=NAME runs one variant, or the lifecycle (life), or the
# bad input (bad), and nothing else; BUNDLES_KEEP=1 prints both outputs
# of each variant; BUNDLES_TRACE=1 traces the script, with times.
set -u
[ -n "${BUNDLES_TRACE:-}" ] && PS4='+ ${EPOCHREALTIME} ' && set -x

prog=bundles.sh
reference=${BUNDLES_REFERENCE:-/usr/bin/crun}
limit=10 # seconds for one runtime command, or a container's run

die() {
	echo "$prog: $*" >&2
	exit 2
}

# shellcheck source=../fence.sh
. "$(dirname "$0")/../fence.sh"

# ---- outside ----------------------------------------------------------------

if [ "${1:-}" != --inside ]; then
	[ $# -eq 3 ] || die "usage: $prog RUNTIME ROOTFS REAPER"
	runtime=$1 rootfs=$2 reaper=$3
	[ -x "$runtime" ] || die "no runtime at '$runtime'"
	[ -x "$reference" ] || die "no reference runtime at '$reference'"
	[ -x "$rootfs/bin/probe" ] || die "no probe in '$rootfs': run make test-probe-rootfs"
	[ -x "$reaper" ] || die "no reaper at '$reaper'"
	command -v jq >/dev/null || die "needs jq"
	case $runtime in /*) ;; *) runtime=$PWD/$runtime ;; esac
	case $reaper in /*) ;; *) reaper=$PWD/$reaper ;; esac
	case $rootfs in /*) ;; *) rootfs=$PWD/$rootfs ;; esac
	fence_setup minidocker-bundles
	fence_run "$reaper" "$scratch/reaped" "$0" --inside "$runtime" "$rootfs"
fi

# ---- inside -----------------------------------------------------------------

runtime=$2 rootfs=$3
fence_inside

# The status each runtime documents for bad input (stage 16: DESIGN.md's
# 125, the runtime itself failed); any other: any status but 0.
# And the fields of the spec it ignores, which the runtime-spec says it
# must refuse: said as a TODO, not counted.
case ${runtime##*/} in
stage-*) bad_status=125 ignores= ;;
crun | runc) bad_status=nonzero ignores=linux.intelRdt ;; # crun 1.8.1, runc 1.1.5: status 0
*) bad_status=nonzero ignores= ;;
esac

# Lines of the comparison that differ between two runtimes, or two runs
# of one, by nature: the container's pid on the host, and the version
# of the spec each runtime claims in its state.
excluded=(
	'^state pid '
	'^state ociVersion '
)

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}
# not_ok WHAT [DETAIL...]: each DETAIL on a line of its own, indented.
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	shift
	for line; do
		printf '    %s\n' "$line"
	done
}

# rt RUNTIME ROOT ARGS...: the runtime with its --root, bounded; its
# status in rt_status, its stdout in $scratch/rt.out, stderr in rt.err.
rt() {
	local r=$1 root=$2
	shift 2
	timeout -k 2 "$limit" "$r" --root "$root" "$@" \
		>"$scratch/rt.out" 2>"$scratch/rt.err" </dev/null
	rt_status=$?
	rt_cmd="${r##*/} $*"
}
rt_detail() {
	not_ok "$1" "command: $rt_cmd" "status:  $rt_status" \
		"stderr:  $(head -n 3 "$scratch/rt.err" | tr '\n' '|' | head -c 400)" \
		"${@:2}"
}

# reaped PID: the status the reaper wrote down for PID, waiting at most
# $limit seconds; empty if it did not end. (Shell builtins only: a
# process a poll costs tens of ms on a busy machine.)
reaped() {
	local end=$((SECONDS + limit)) p st
	while [ $SECONDS -le $end ]; do
		while read -r p st; do
			[ "$p" = "$1" ] && echo "$st" && return 0
		done <"$scratch/reaped"
		sleep 0.05
	done
	return 1
}

# ---- the bundles --------------------------------------------------------------

bundle=$scratch/bundle # one path for every run: it is in state and hooks
hooks=$scratch/hooks   # the hooks' record, at the same path inside
share=$scratch/share   # what a read-only bind mount shows
join=bundles-join      # the network namespace a bundle joins by path
cgparent=$tag/bundles  # the containers' cgroupsPath, under our parent

# The bundle's path must be open to a container's root mapped to another
# user (userns): runc mounts the root filesystem as that user.
chmod 755 "$scratch" || die "cannot open '$scratch'"
mkdir -p "$share" "$hooks" || die "cannot make '$share'"
echo "shared from the host" >"$share/marker"
# A cap of the test's own over every container's, should a runtime not
# apply the bundle's: the fork bomb and the memory hog stay bounded.
if [ -d /sys/fs/cgroup/pids ]; then
	mkdir -p "/sys/fs/cgroup/pids/$tag" "/sys/fs/cgroup/memory/$tag" &&
		echo 200 >"/sys/fs/cgroup/pids/$tag/pids.max" &&
		echo 256M >"/sys/fs/cgroup/memory/$tag/memory.limit_in_bytes"
else
	mkdir -p "/sys/fs/cgroup/$tag" &&
		echo +pids +memory >/sys/fs/cgroup/cgroup.subtree_control &&
		echo 200 >"/sys/fs/cgroup/$tag/pids.max" &&
		echo 256M >"/sys/fs/cgroup/$tag/memory.max"
fi || die "cannot cap the containers' cgroups at '$tag'"
ip netns add "$join" || die "cannot make the network namespace '$join'"
ip -n "$join" link add probe0 type veth peer name probe1 ||
	die "cannot add a veth pair to '$join'"

# What the container's namespaces are when shared: ours.
declare -A host_ns
for ns in cgroup ipc mnt net pid user uts; do
	host_ns[$ns]=$(readlink "/proc/self/ns/$ns") || die "cannot read our $ns namespace"
done
join_ns="net:[$(stat -L -c %i "/run/netns/$join")]"

# The base: a small config.json, with the capability sets given (what
# none given means is the nocaps variant's).
base_caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID",
	"CAP_KILL","CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_NET_BIND_SERVICE",
	"CAP_NET_RAW","CAP_SYS_CHROOT","CAP_MKNOD","CAP_AUDIT_WRITE","CAP_SETFCAP"]'
base=$(jq -n --arg cg "/$cgparent" --argjson caps "$base_caps" '{
	ociVersion: "1.0.2",
	process: {
		terminal: false,
		user: {uid: 0, gid: 0},
		args: ["/bin/true"],
		env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
		cwd: "/",
		capabilities: {bounding: $caps, effective: $caps, permitted: $caps},
		noNewPrivileges: false
	},
	root: {path: "rootfs", readonly: false},
	hostname: "bundles",
	annotations: {"org.minidocker.suite": "16"},
	mounts: [
		{destination: "/proc", type: "proc", source: "proc"},
		{destination: "/dev", type: "tmpfs", source: "tmpfs",
		 options: ["nosuid", "strictatime", "mode=755", "size=65536k"]}
	],
	linux: {
		namespaces: [{type: "pid"}, {type: "mount"}, {type: "ipc"},
			     {type: "uts"}],
		cgroupsPath: $cg
	}
}') || die "jq cannot make the base config"

# What every container prints (busybox's sh and the probe, in few
# processes: each costs tens of ms on a busy machine): ids, name,
# directory, umask, open-file limits, capabilities, the environment, the
# spec's default devices, and its namespaces (named on our side by
# ns_lines).
see='exec 2>&1
id
echo "hostname $(hostname)"
printf "cwd "; pwd
printf "umask "; umask
printf "nofile soft "; ulimit -Sn
printf "nofile hard "; ulimit -Hn
probe caps
export -p
stat -c "dev %n %F %t:%T %a %N" /dev/null /dev/zero /dev/full /dev/random \
	/dev/urandom /dev/tty /dev/fd /dev/stdin /dev/stdout /dev/stderr /dev/ptmx
probe links /proc/self/ns/cgroup /proc/self/ns/ipc /proc/self/ns/mnt \
	/proc/self/ns/net /proc/self/ns/pid /proc/self/ns/user /proc/self/ns/uts
'

# ns_lines: the probe's output with each namespace it names said as
# ours, the one joined by path, or new (their numbers differ each run).
ns_lines() {
	local ns args=()
	for ns in "${!host_ns[@]}"; do
		args+=(-e "s/^${host_ns[$ns]//[\[\]]/.}\$/ns $ns ours/")
	done
	sed "${args[@]}" -e "s/^${join_ns//[\[\]]/.}\$/ns net joined/" \
		-e 's/^\([a-z]*\):\[[0-9]*\]$/ns \1 new/'
}

# A hook of kind KIND: a shell (the host's, or for startContainer the
# container's) that writes its kind and the status in the state it reads;
# with WHERE (pid: the container's process's, by the state's pid; self:
# its own), how many mounts at the root's /proc that mount table lists:
# one once the mounts are made and before the pivot, none before or
# after.
hook() {
	jq -n --arg kind "$1" --arg log "$hooks/log" --arg where "${2:-}" \
		--arg root "$bundle/rootfs" '{
		path: "/bin/sh",
		args: ["sh", "-c", "st=$(cat); s=$(echo \"$st\" | sed -n \"s/.*\\\"status\\\" *: *\\\"\\([a-z]*\\)\\\".*/\\1/p\"); m=; if [ -n \"\($where)\" ]; then pid=$(echo \"$st\" | sed -n \"s/.*\\\"pid\\\" *: *\\([0-9]*\\).*/\\1/p\"); [ \($where) = self ] && pid=self; m=\" mounted $(grep -c \" \($root)/proc \" /proc/$pid/mountinfo)\"; fi; echo \"hook \($kind) $s$m\" >>\($log)"],
		env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
	}'
}
hooks_json=$(jq -n \
	--argjson prestart "$(hook prestart pid)" \
	--argjson createRuntime "$(hook createRuntime pid)" \
	--argjson createContainer "$(hook createContainer self)" \
	--argjson startContainer "$(hook startContainer)" \
	--argjson poststart "$(hook poststart)" \
	--argjson poststop "$(hook poststop)" \
	'{prestart: [$prestart], createRuntime: [$createRuntime],
	  createContainer: [$createContainer], startContainer: [$startContainer],
	  poststart: [$poststart], poststop: [$poststop]}') ||
	die "jq cannot make the hooks"

# The variants: NAME, a jq filter over the base (\$share, \$hooks, \$join,
# \$hooksjson given), and what its container prints besides $see.
names=()
declare -A filter extra prep
variant() {
	names+=("$1")
	filter[$1]=$2
	extra[$1]=$3
	prep[$1]=${4:-}
}

variant base '.' ''

variant mounts '.mounts += [
	{destination: "/tmp/t", type: "tmpfs", source: "tmpfs",
	 options: ["nosuid", "nodev", "noexec", "size=1m", "mode=1770"]},
	{destination: "/mnt/share", type: "bind", source: $share,
	 options: ["bind", "ro"]},
	{destination: "/sys", type: "sysfs", source: "sysfs",
	 options: ["nosuid", "noexec", "nodev", "ro"]},
	{destination: "/dev/pts", type: "devpts", source: "devpts",
	 options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
		   "mode=0620", "gid=5"]},
	{destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
	 options: ["nosuid", "noexec", "nodev"]}]' '
grep -E "^[^ ]+ /(tmp/t|mnt/share|proc|sys|dev|dev/pts|dev/mqueue) " /proc/self/mounts |
	sed "s/^/mount /"
echo "share $(cat /mnt/share/marker)"
echo "share create $(probe create /mnt/share/new 2>&1 && echo ok)"
echo "tmpfs create $(probe create /tmp/t/new 2>&1 && echo ok) $(stat -c %a /tmp/t)"
echo "sysfs $(probe fstype /sys)"
echo "pts $(probe try pty)"'

variant newns '.linux.namespaces += [{type: "network"}, {type: "cgroup"}]' '
sed -n "s/^ *\([a-z0-9]*\):.*/link \1/p" /proc/net/dev | sort'

variant joinns '.linux.namespaces += [{type: "network", path: ("/run/netns/" + $join)}]' '
sed -n "s/^ *\([a-z0-9]*\):.*/link \1/p" /proc/net/dev | sort'

variant walls '.root.readonly = true
	| .mounts += [{destination: "/sys", type: "sysfs", source: "sysfs",
		       options: ["nosuid", "noexec", "nodev", "ro"]}]
	| .linux.maskedPaths = ["/proc/kcore", "/proc/keys", "/proc/timer_list",
				"/sys/firmware", "/proc/scsi"]
	| .linux.readonlyPaths = ["/proc/sys", "/proc/sysrq-trigger", "/proc/bus"]' '
for f in keys timer_list; do echo "masked /proc/$f $(wc -c </proc/$f)"; done
echo "firmware $(ls -A /sys/firmware | wc -l)"
echo "proc/sys $(grep " /proc/sys " /proc/self/mounts | cut -d" " -f4 | cut -d, -f1)"
# The same name back, in our own UTS namespace: harmless if it worked.
echo "write /proc/sys $( { echo bundles >/proc/sys/kernel/hostname; } 2>&1 || true)"
echo "root create $(probe create /new 2>&1)"'

variant caps '.process.capabilities = ({} | .bounding = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
	| .effective = .bounding | .permitted = .bounding)' '
echo "mount $(probe try mount)"
echo "rawsock $(probe try rawsock)"'

# No process.capabilities at all: crun 1.8.1 and runc 1.1.5 both give
# the process none.
variant nocaps 'del(.process.capabilities)' ''

variant process '.process.user = {uid: 1000, gid: 1000, umask: 23, additionalGids: [10, 100]}
	| .process.cwd = "/tmp"
	| .process.env += ["FOO=bar baz", "EMPTY="]
	| .process.noNewPrivileges = true
	| .process.rlimits = [{type: "RLIMIT_NOFILE", soft: 256, hard: 512}]' '
probe create /tmp/made && stat -c "made %a %u %g" /tmp/made'

variant seccomp '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
	architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1},
		   {names: ["symlink", "symlinkat"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}' '
echo "mkdir $(probe try mkdir)"
echo "getcwd $(probe try getcwd)"
echo "symlink $(ln -s x /tmp/link 2>&1)"'

variant resources '.linux.resources = {pids: {limit: 10}, memory: {limit: 33554432},
	cpu: {quota: 50000, period: 100000}}' '
probe bomb 1000 3
probe hog 48
echo "hog status $?"'

variant hooks '.hooks = $hooksjson
	| .mounts += [{destination: $hooks, type: "bind", source: $hooks,
		       options: ["bind", "rw"]}]' ''

variant userns '.linux.namespaces += [{type: "user"}]
	| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
	| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]' '
probe uidmap | sed "s/^/uidmap /"
echo "owner of / $(probe owner /)"
echo "mount $(probe try mount)"'

# Links in the root filesystem at the mounts' destinations, an absolute
# one and a chain of "..", both naming $outside, a directory of ours out
# of the root: a runtime must resolve them inside the root
# (CVE-2021-30465's class), and $outside must stay empty.
outside=$scratch/outside
variant links '.mounts += [
	{destination: "/mnt/abs/made/deep", type: "tmpfs", source: "tmpfs",
	 options: ["size=1m"]},
	{destination: "/mnt/up/made", type: "tmpfs", source: "tmpfs",
	 options: ["size=2m"]},
	{destination: "/mnt/file", type: "bind", source: ($share + "/marker"),
	 options: ["bind", "ro"]}]' '
grep -E "^[^ ]+ /(mnt|tmp)/" /proc/self/mounts | sed "s/^/mount /"
echo "file $(cat /mnt/file)"' '
rm -rf "$outside" && mkdir "$outside" "$bundle/rootfs/${outside%/*}" &&
	mkdir "$bundle/rootfs$outside" && ln -s "$outside" "$bundle/rootfs/mnt/abs" &&
	ln -s "../../../../../../../../../..$outside" "$bundle/rootfs/mnt/up" &&
	ln -s "$outside/file" "$bundle/rootfs/mnt/file"'

# make_bundle NAME: a fresh bundle of variant NAME at $bundle.
make_bundle() {
	local name=$1
	rm -rf "$bundle" && mkdir -p "$bundle" &&
		cp -a "$rootfs" "$bundle/rootfs" || die "cannot copy '$rootfs'"
	eval "${prep[$name]}" || die "cannot prepare the root of variant '$name'"
	rm -f "$hooks/log"
	jq --arg share "$share" --arg hooks "$hooks" --arg join "$join" \
		--argjson hooksjson "$hooks_json" \
		--arg script "$see${extra[$name]}" \
		"${filter[$name]} | .process.args = [\"/bin/sh\", \"-c\", \$script]" \
		<<<"$base" >"$bundle/config.json" || die "jq cannot make variant '$name'"
}

# state_lines ROOT ID: the spec's fields of the state, "state KEY VALUE"
# a line each; "state: status N" when it fails.
state_lines() {
	rt "$run_rt" "$1" state "$2"
	if [ "$rt_status" -ne 0 ]; then
		echo "state: status $rt_status: $(head -n 1 "$scratch/rt.err")"
		return
	fi
	jq -r '{ociVersion, id, status, pid, bundle, annotations}
		| to_entries[] | "state \(.key) \(.value | tojson)"' \
		<"$scratch/rt.out" 2>&1
}

# cgroup_lines PID: the limits of PID's cgroups, read on the host.
cgroup_lines() {
	local ctls path file value c
	declare -A at
	while IFS=: read -r _ ctls path; do
		for c in ${ctls//,/ }; do at[$c]=$path; done
	done <"/proc/$1/cgroup"
	for file in pids/pids.max memory/memory.limit_in_bytes \
		cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us; do
		value="not in a ${file%%/*} cgroup"
		[ -n "${at[${file%%/*}]:-}" ] &&
			{ read -r value <"/sys/fs/cgroup/${file%%/*}${at[${file%%/*}]}/${file#*/}"; } 2>/dev/null
		echo "cgroup ${file#*/} $value"
	done
}

# hook_lines: the hooks' record in the order they ran, but for the two
# that run while start does: startContainer in the container before its
# exec, poststart in the runtime once it has let the process go. crun
# 1.8.1 runs them at the same time (its start does not wait for the
# exec), so their order is a race: they are sorted.
# The state a startContainer hook gets names no status the spec has for
# that moment, past start and before the exec: crun says "starting",
# runc "created", stage 16 "running"; it is left out.
hook_lines() {
	awk '{ if ($2 == "startContainer") $0 = $1 " " $2
	       k = $2 == "startContainer" || $2 == "poststart" ? "1 " $2 : sprintf("0 %03d", NR)
	       if ($2 == "poststop") k = "2"
	       print k "\t" $0 }' | sort -s -k1,2 | cut -f2-
}

# run_variant RUNTIME NAME OUT: create, state, start, the wait, state,
# delete of variant NAME's bundle under RUNTIME; what it saw into OUT.
run_variant() {
	local name=$2 out=$3 root=$scratch/root-$4 id=bundles-$2 pid st
	run_rt=$1
	make_bundle "$name"
	{
		# The container's stdout is create's: a file of its own,
		# which later commands do not reopen.
		timeout -k 2 "$limit" "$run_rt" --root "$root" create \
			--bundle "$bundle" --pid-file "$bundle/pid" "$id" \
			>"$out.create" 2>"$scratch/rt.err" </dev/null
		rt_status=$?
		if [ "$rt_status" -ne 0 ]; then
			echo "create: status $rt_status: $(head -n 1 "$scratch/rt.err")"
		else
			pid=$(cat "$bundle/pid")
			state_lines "$root" "$id"
			cgroup_lines "$pid"
			rt "$run_rt" "$root" start "$id"
			echo "start: status $rt_status $(head -n 1 "$scratch/rt.err")"
			st=$(reaped "$pid") || st="still running after ${limit}s"
			echo "exit $st"
			state_lines "$root" "$id" | grep '^state status\|^state:'
			rt "$run_rt" "$root" delete --force "$id"
			echo "delete: status $rt_status $(head -n 1 "$scratch/rt.err")"
			[ -f "$hooks/log" ] && hook_lines <"$hooks/log"
			[ -d "$outside" ] && echo "outside: $(ls -A "$outside" | tr '\n' ' ')"
		fi
	} >"$out.log"
	# What the probe printed (its stdout was create's), then the rest.
	ns_lines <"$out.create" | cat - "$out.log" >"$out"
}

compare() {
	local name=$1 a=$scratch/$1.ref b=$scratch/$1.rt t0=${EPOCHREALTIME/./}
	run_variant "$reference" "$name" "$a" ref
	run_variant "$runtime" "$name" "$b" rt
	local pat
	pat=$(printf '%s|' "${excluded[@]}")
	pat=${pat%|}
	grep -Ev "$pat" "$a" >"$a.cmp"
	grep -Ev "$pat" "$b" >"$b.cmp"
	if [ -n "${BUNDLES_KEEP:-}" ]; then
		sed "s/^/    ${reference##*/}: /" "$a"
		sed "s/^/    ${runtime##*/}: /" "$b"
	fi
	# Two runtimes that both fail agree, and prove nothing.
	if ! grep -qx 'exit 0' "$a"; then
		mapfile -t lines <"$a"
		not_ok "$name: ${reference##*/} did not run it to its end" "${lines[@]}"
	elif diff -u --label "${reference##*/}" --label "${runtime##*/}" \
		"$a.cmp" "$b.cmp" >"$scratch/diff"; then
		ok "$name: the same under ${reference##*/} and ${runtime##*/} ($(wc -l <"$a.cmp") lines, $(((${EPOCHREALTIME/./} - t0) / 1000)) ms)"
	else
		mapfile -t lines <"$scratch/diff"
		not_ok "$name: ${runtime##*/} differs from ${reference##*/}" "${lines[@]}"
	fi
}

# picked NAME: whether BUNDLES_ONLY leaves NAME in.
picked() {
	[ -z "${BUNDLES_ONLY:-}" ] || [ "$1" = "$BUNDLES_ONLY" ]
}

for name in "${names[@]}"; do
	picked "$name" && compare "$name"
done

# ---- RUNTIME alone: lifecycle ------------------------------------------------

life_root=$scratch/root-life

# life_bundle ARGS: the base bundle whose process runs ARGS (JSON).
life_bundle() {
	make_bundle base
	edit_bundle ".process.args = $1"
}

# create ROOT ID: RUNTIME's create of $bundle; its pid in created_pid.
create() {
	rm -f "$bundle/pid"
	timeout -k 2 "$limit" "$runtime" --root "$1" create --bundle "$bundle" \
		--pid-file "$bundle/pid" "$2" \
		>"$scratch/create.out" 2>"$scratch/rt.err" </dev/null
	rt_status=$?
	rt_cmd="${runtime##*/} --root $1 create --bundle $bundle --pid-file $bundle/pid $2"
	created_pid=$(cat "$bundle/pid" 2>/dev/null)
}

# expect_state WHAT ID STATUS PID: state says STATUS, and PID unless "-".
expect_state() {
	local what=$1 id=$2 status=$3 pid=$4 got
	rt "$runtime" "$life_root" state "$id"
	got=$(jq -r '"\(.status) \(.pid)"' <"$scratch/rt.out" 2>/dev/null)
	if [ "$rt_status" -ne 0 ]; then
		rt_detail "$what" "wanted:  status 0, $status"
	elif [ "${got% *}" != "$status" ] ||
		{ [ "$pid" != - ] && [ "${got#* }" != "$pid" ]; }; then
		rt_detail "$what" "wanted:  status \"$status\"${pid/#-/}${pid:+ pid $pid}" \
			"state:   $(tr -d '\n' <"$scratch/rt.out" | head -c 300)"
	else
		ok "$what"
	fi
}

# expect RUN_STATUS WANT WHAT: the last rt's status is WANT (0, or
# "nonzero", or a number).
expect() {
	local want=$1 what=$2
	case $want in
	nonzero) [ "$rt_status" -ne 0 ] ;;
	*) [ "$rt_status" -eq "$want" ] ;;
	esac && ok "$what" && return 0
	rt_detail "$what" "wanted:  status $want"
	return 1
}

# nothing_left WHAT ROOT PID: nothing under ROOT (a container's state was the
# only thing there), no cgroup at the bundles' cgroupsPath, PID gone
# (empty: no process was made).
nothing_left() {
	local what=$1 root=$2 pid=$3 found
	found=$({
		[ -n "$pid" ] && [ -d "/proc/$pid" ] &&
			! grep -q '^State:.*zombie' "/proc/$pid/status" 2>/dev/null &&
			echo "process $pid"
		find /sys/fs/cgroup -type d -path "*/$cgparent" \
			-not -path '/sys/fs/cgroup/unified/*' 2>/dev/null
		find "$root" -mindepth 1 2>/dev/null
	} | head -n 5)
	if [ -n "$found" ]; then
		not_ok "$what" "left:    $(echo "$found" | tr '\n' ' ')"
	else
		ok "$what"
	fi
}

lifecycle() {
	local id=bundles-life pid st
	life_bundle '["/bin/sleep", "1000"]'
	create "$life_root" "$id"
	pid=$created_pid
	expect 0 "life: create" || return
	expect_state "life: created, with the pid of --pid-file" "$id" created "$pid"
	rt "$runtime" "$life_root" start "$id"
	expect 0 "life: start" || return
	expect_state "life: running, the same pid" "$id" running "$pid"
	rt "$runtime" "$life_root" start "$id"
	expect nonzero "life: a second start fails"
	expect_state "life: still running after the second start" "$id" running "$pid"
	rt "$runtime" "$life_root" delete "$id"
	expect nonzero "life: delete without --force fails while it runs"
	expect_state "life: still running after that delete" "$id" running "$pid"
	rt "$runtime" "$life_root" kill "$id" KILL
	expect 0 "life: kill KILL"
	st=$(reaped "$pid")
	if [ "$st" = 137 ]; then
		ok "life: killed: 137"
	else
		not_ok "life: killed: 137" "got:     ${st:-still running after ${limit}s}"
	fi
	expect_state "life: stopped" "$id" stopped -
	rt "$runtime" "$life_root" kill "$id" KILL
	expect nonzero "life: kill of a stopped container fails"
	rt "$runtime" "$life_root" delete "$id"
	expect 0 "life: delete of a stopped container"
	rt "$runtime" "$life_root" state "$id"
	expect nonzero "life: state of a deleted container fails"
	nothing_left "life: nothing left of it" "$life_root" "$pid"

	id=bundles-force
	life_bundle '["/bin/sleep", "1000"]'
	create "$life_root" "$id"
	pid=$created_pid
	expect 0 "force: create" || return
	rt "$runtime" "$life_root" start "$id"
	expect 0 "force: start" || return
	rt "$runtime" "$life_root" delete --force "$id"
	expect 0 "force: delete --force while it runs"
	st=$(reaped "$pid")
	if [ -n "$st" ]; then
		ok "force: its process ended ($st)"
	else
		not_ok "force: its process ended" "got:     still running after ${limit}s"
	fi
	nothing_left "force: nothing left of it" "$life_root" "$pid"
}

# ---- RUNTIME alone: bad input -----------------------------------------------

# bad WHAT: create of $bundle as it is: one line on stderr, the status
# of bad_status, nothing left.
bad() {
	local what=$1 id=bundles-bad root=$scratch/root-bad lines
	create "$root" "$id"
	lines=$(grep -c . "$scratch/rt.err")
	expect "$bad_status" "bad: $what: status $bad_status"
	if [ "$lines" -eq 1 ]; then
		ok "bad: $what: one line on stderr"
	else
		rt_detail "bad: $what: one line on stderr" "lines:   $lines"
	fi
	nothing_left "bad: $what: nothing left" "$root" "$created_pid"
	[ -n "$created_pid" ] && kill -KILL "$created_pid" 2>/dev/null &&
		reaped "$created_pid" >/dev/null
	rt "$runtime" "$root" delete --force "$id"
}

# edit_bundle FILTER: $bundle's config.json through the jq FILTER.
edit_bundle() {
	jq "$1" "$bundle/config.json" >"$bundle/config.new" &&
		mv "$bundle/config.new" "$bundle/config.json" ||
		die "jq cannot change the bundle"
}

bad_input() {
	local field
	make_bundle base
	rm "$bundle/config.json"
	bad "config.json missing"
	make_bundle base
	printf '{"ociVersion": "1.0.2", "process": {' >"$bundle/config.json"
	bad "config.json malformed"
	# Fields of the spec that stage 16 cannot apply (common/oci/spec.c
	# refuses them), with values that ask for something.
	for field in linux.intelRdt process.apparmorProfile; do
		make_bundle base
		case $field in
		linux.intelRdt) edit_bundle '.linux.intelRdt = {closID: "minidocker"}' ;;
		process.apparmorProfile) edit_bundle '.process.apparmorProfile = "minidocker-no-such-profile"' ;;
		esac
		if [[ " $ignores " == *" $field "* ]]; then
			create "$scratch/root-bad" bundles-bad
			echo "not ok - bad: $field: refused # TODO ${runtime##*/} ignores it (status $rt_status)"
			[ -n "$created_pid" ] && kill -KILL "$created_pid" 2>/dev/null &&
				reaped "$created_pid" >/dev/null
			rt "$runtime" "$scratch/root-bad" delete --force bundles-bad
			continue
		fi
		bad "$field, which it cannot apply"
	done
}

picked life && lifecycle
picked bad && bad_input

echo "# $passed passed, $failed failed ($runtime against $reference)"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
