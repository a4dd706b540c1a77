#!/usr/bin/env bash
# bench.sh: what isolation costs. Times `run /bin/true` on the busybox
# root filesystem for every stage built in BIN, for the floors (a bare exec
# and bench/floor.c) and for unshare(1), bwrap, crun and runc when they are
# installed, back to back (hot) and after a pause (cold), all commands of
# a mode in one hyperfine run. Then the runtime's peak RSS and, when stage
# 6 exists, how it contains a fork bomb. Writes everything into OUT.
#
# usage: bench.sh OUT BIN ROOTFS   (run by `make bench`, as root)
# BENCH_QUICK=1 makes every run short (a smoke test, not a measurement).
set -eu
shopt -s inherit_errexit nullglob

PROG=bench.sh

# shellcheck source=bench/lib.sh
. "$(dirname -- "$(realpath -- "$0")")/lib.sh"

[ $# -eq 3 ] || die "usage: $PROG OUT BIN ROOTFS"
OUT=$(realpath -- "$1")
BIN=$(realpath -- "$2")
ROOTFS=$(realpath -- "$3")
HERE=$(dirname -- "$(realpath -- "$0")")
# Stage 12 on keeps each container's layer where a user's run would:
# /run/minidocker, whose filesystem (tmpfs on most hosts) sets its cost.
unset MINIDOCKER_RUN

[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, cgroups, chroot): run sudo make bench"
command -v hyperfine >/dev/null || die "hyperfine is not installed: run sudo make bench-deps"
[ -x "$ROOTFS/bin/true" ] || die "no busybox root filesystem at '$ROOTFS': run sudo make bench"
[ -x "$OUT/floor" ] || die "no '$OUT/floor': run make bench"

# Stage 14 on, a container run by root gets a bridge, its address and
# NAT rules: the benchmark runs in a network namespace of its own, where
# they are made (by each run, and removed by it as the last container
# out, as on a host where no other container runs), never on the
# machine. No line uses the network, so the others time the same there.
if [ -z "${BENCH_IN_NETNS:-}" ]; then
	for f in "$BIN"/stage-[0-9]*; do
		n=${f##*/stage-}
		if [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 14 ]; then
			BENCH_IN_NETNS=1 exec unshare --net -- "$0" "$@"
		fi
	done
fi

# crun refuses a "hybrid" host whose cgroup2 mount holds controllers
# (cgroups in hybrid mode not supported). Rather than change the host, run
# the whole benchmark, every command alike, in a private mount namespace in
# which that cgroup2 mount is hidden: every runtime then sees cgroup v1.
hybrid_controllers() {
	local controllers=
	[ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] || return 1
	[ -r /sys/fs/cgroup/unified/cgroup.controllers ] || return 1
	read -r controllers </sys/fs/cgroup/unified/cgroup.controllers || true
	[ -n "$controllers" ]
}
if [ -z "${BENCH_IN_NS:-}" ] && hybrid_controllers; then
	BENCH_IN_NS=1 exec unshare --mount --propagation private -- "$0" "$@"
fi
if [ -n "${BENCH_IN_NS:-}" ]; then
	umount /sys/fs/cgroup/unified || die "cannot hide the hybrid cgroup2 mount"
	CGROUP_NOTE="cgroup v1 (the host's hybrid cgroup2 mount hidden in the benchmark's own mount namespace, as crun refuses hybrid mode)"
elif [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
	CGROUP_NOTE="cgroup v2"
else
	CGROUP_NOTE="cgroup v1"
fi

if [ -n "${BENCH_QUICK:-}" ]; then
	HOT=(--warmup 1 --runs 5)
	COLD=(--warmup 1 --runs 3)
else
	HOT=(--warmup 3 --min-runs 30 --max-runs 1000)
	COLD=(--warmup 1 --runs 30)
fi
COLD_PAUSE=0.05

# The stages that exist, in order, and the one the figures compare with:
# stage 6 (the README's targets name it), else the highest there is.
STAGES=()
for f in "$BIN"/stage-[0-9]*; do
	# Not stage 13's twin, stage-13-dynamic: its image commands' binary.
	[[ ${f##*/stage-} =~ ^[0-9]+$ ]] || continue
	STAGES+=("$(basename -- "$f")")
done
mapfile -t STAGES < <(printf '%s\n' "${STAGES[@]}" | sort -t- -k2n)
[ ${#STAGES[@]} -gt 0 ] || die "no stage binaries in '$BIN': run make bench"
REF=${STAGES[-1]}
[ -x "$BIN/stage-6" ] && REF=stage-6

# set_cmd NAME CMD...: CMD=(how NAME runs CMD in the container).
set_cmd() {
	local name=$1
	shift
	case $name in
	# The same stage linked dynamically: what the loader costs.
	*-dynamic)
		set_cmd "${name%-dynamic}" "$@"
		CMD[0]="$OUT/dynamic/${name%-dynamic}"
		;;
	# Stage 14 on, --net none beside the default bridge: the network
	# namespace alone, and what the veth, the lease and the rules add.
	*-none)
		set_cmd "${name%-none}" "$@"
		CMD=("${CMD[0]}" run --net none "${CMD[@]:2}")
		;;
	exec) CMD=("$ROOTFS$1" "${@:2}") ;;
	floor) CMD=("$OUT/floor" "$ROOTFS" "$@") ;;
	floor-move) CMD=("$OUT/floor" --parent-moves "$ROOTFS" "$@") ;;
	# Stages 1-3 run on the host's filesystem: give them the root
	# filesystem's binary by its host path, so every line execs the same
	# static busybox.
	stage-[123]) CMD=("$BIN/$name" run "$ROOTFS$1" "${@:2}") ;;
	# Stage 9 on: with limits, the same as crun-limits's.
	stage-*)
		local -a limits
		read -ra limits <<<"$(stage_limits "$name")"
		CMD=("$BIN/$name" run --rootfs "$ROOTFS" "${limits[@]}" "$@") ;;
	unshare) CMD=(unshare --uts --pid --mount --fork "--root=$ROOTFS" --mount-proc "$@") ;;
	bwrap) CMD=(bwrap --unshare-uts --unshare-pid --bind "$ROOTFS" / --proc /proc --dev /dev "$@") ;;
	crun | runc | crun-limits | crun-walls) CMD=("${name%%-*}" run --bundle "$(bundle_dir "$name" "$@")" "mdbench-$name-$$") ;;
	*) die "unknown command '$name'" ;;
	esac
}

# The limits every line from stage 9 on runs under: 64 MiB of memory and
# one CPU's time per 100 ms (crun-limits gets the same in its config.json).
LIMIT_MEMORY=64m
LIMIT_MEMORY_BYTES=$((64 << 20))
LIMIT_CPUS=1
stage_limits() {
	local n=${1#stage-}
	[ "${n%%[!0-9]*}" -ge 9 ] 2>/dev/null || return 0
	printf -- '--memory %s --cpus %s' "$LIMIT_MEMORY" "$LIMIT_CPUS"
}

# bundle_dir RUNTIME CMD...: where the OCI bundle of RUNTIME running CMD is.
bundle_dir() {
	local rt=$1
	shift
	printf '%s\n' "$OUT/oci/$rt-$(printf '%s' "$*" | tr -c 'a-zA-Z0-9' _)"
}

# make_bundle RUNTIME CMD...: make the bundle whose config.json is the
# runtime's own default spec, changed only to run CMD on ROOTFS without a
# terminal; for crun-limits, crun's spec with stage 9's limits in
# linux.resources. Returns non-zero, after saying why, when it cannot.
make_bundle() {
	local name=$1 rt=${1%%-*} dir args="" word
	shift
	dir=$(bundle_dir "$name" "$@")
	for word in "$@"; do
		args="$args${args:+, }\"$word\""
	done
	mkdir -p "$dir"
	rm -f "$dir/config.json"
	(cd "$dir" && "$rt" spec) || {
		note "'$rt spec' failed"
		return 1
	}
	# The default spec has "terminal": true, "args": ["sh"] and
	# "path": "rootfs", each on a line of its own.
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e "s|^\\([[:space:]]*\\)\"sh\"\$|\\1$args|" \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$ROOTFS\"|" "$dir/config.json"
	if ! { grep -q '"terminal": false' "$dir/config.json" &&
		grep -qF "$args" "$dir/config.json" &&
		grep -qF "\"path\": \"$ROOTFS\"" "$dir/config.json"; }; then
		note "cannot adapt the default spec of $rt in '$dir/config.json'"
		return 1
	fi
	[ "$name" != "$rt" ] || return 0
	# The quota in microseconds per 100 ms period, as stage 9 writes it.
	if ! { jq --argjson mem "$LIMIT_MEMORY_BYTES" --argjson quota "$((LIMIT_CPUS * 100000))" \
		'.linux.resources.memory = {limit: $mem, swap: $mem}
		| .linux.resources.cpu = {quota: $quota, period: 100000}' \
		"$dir/config.json" >"$dir/config.json.new" &&
		mv "$dir/config.json.new" "$dir/config.json"; }; then
		note "cannot add limits to '$dir/config.json'"
		return 1
	fi
	[ "$name" = crun-walls ] || return 0
	walls_spec "$dir/config.json" || {
		note "cannot add stages 10 and 11's walls to '$dir/config.json'"
		return 1
	}
}

# walls_spec CONFIG: give CONFIG the walls of stages 10 and 11: the
# eleven capabilities in the bounding, permitted and effective sets (none
# inheritable or ambient), noNewPrivileges, the seccomp deny-list (the
# names read from stage 10's denied_calls rows in privs.c, so that the
# two cannot drift; TIOCSTI compared in its low 32 bits, as there), and a
# cgroup namespace; crun's default spec already masks and
# write-protects the /proc and /sys paths of stage 11's table, has an
# IPC namespace, and a /dev of its own with devpts and shm.
PRIVS_CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SETFCAP","CAP_SETGID","CAP_SETPCAP","CAP_SETUID","CAP_SYS_CHROOT"]'
walls_spec() {
	local names
	names=$(sed -n 's/^\t{SCMP_SYS(\([a-z_0-9]*\)), 0, {0},.*/"\1"/p' "$(ls -d stages/10-*)/privs.c" | paste -sd,)
	[ -n "$names" ] || return 1
	jq --argjson caps "$PRIVS_CAPS" --argjson names "[$names]" \
		'.process.capabilities = {bounding: $caps, permitted: $caps, effective: $caps, inheritable: [], ambient: []}
		| .process.noNewPrivileges = true
		| .linux.namespaces += [{type: "cgroup"}]
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"], syscalls: [
			{names: $names, action: "SCMP_ACT_ERRNO", errnoRet: 1},
			{names: ["unshare", "clone"], action: "SCMP_ACT_ERRNO", errnoRet: 1,
			 args: [{index: 0, value: 268435456, valueTwo: 268435456, op: "SCMP_CMP_MASKED_EQ"}]},
			{names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 1,
			 args: [{index: 1, value: 4294967295, valueTwo: 21522, op: "SCMP_CMP_MASKED_EQ"}]},
			{names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38}]}' \
		"$1" >"$1.new" && mv "$1.new" "$1"
}

# Other work on the machine shows in every figure; say how much there was.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# The lines of the table: the floors, the stages, the peers installed.
NAMES=(exec floor floor-move "${STAGES[@]}")
for s in "${STAGES[@]}"; do
	[ "${s#stage-}" -lt 14 ] || NAMES+=("$s-none")
done
[ -x "$OUT/dynamic/$REF" ] && NAMES+=("$REF-dynamic")
SKIPPED=()
PEERS=(unshare bwrap crun runc)
# Stage 9's limits through crun too, when there is a stage 9.
[ -n "$(stage_limits "${STAGES[-1]}")" ] && PEERS+=(crun-limits)
# Stages 10 and 11's walls too (and the limits), when there is a stage 11.
[ "${STAGES[-1]#stage-}" -ge 11 ] 2>/dev/null && PEERS+=(crun-walls)
for peer in "${PEERS[@]}"; do
	if ! command -v "${peer%%-*}" >/dev/null; then
		SKIPPED+=("$peer (not installed)")
	elif [ "$peer" != unshare ] && [ "$peer" != bwrap ]; then
		if make_bundle "$peer" /bin/true && make_bundle "$peer" /bin/sleep 1; then
			NAMES+=("$peer")
		else
			SKIPPED+=("$peer (no bundle from its default spec)")
		fi
	else
		NAMES+=("$peer")
	fi
done

# Every line must run the container command successfully before it is
# timed: a line that fails would time an error path. The floors and the
# reference must work; any other line that fails is skipped, with why.
ARGS=()
RUNS=()
for name in "${NAMES[@]}"; do
	set_cmd "$name" /bin/true
	if ! "${CMD[@]}" </dev/null >/dev/null 2>"$OUT/check.err"; then
		why="$name ($(head -n 1 "$OUT/check.err"))"
		case $name in
		exec | floor | floor-move | "$REF") die "cannot run /bin/true: $why" ;;
		esac
		note "skipped, cannot run /bin/true: $why"
		SKIPPED+=("$why")
		continue
	fi
	RUNS+=("$name")
	ARGS+=(-n "$name" "$(quote "${CMD[@]}")")
done
NAMES=("${RUNS[@]}")

# hyperfine -N runs each command without a shell, so no wrapper's cost is
# in any figure.
run_mode() {
	local mode=$1
	shift
	note "$mode: ${#NAMES[@]} commands"
	hyperfine -N --style basic "$@" \
		--export-csv "$OUT/$mode.csv" --export-json "$OUT/$mode.json" \
		--export-markdown "$OUT/$mode-hyperfine.md" "${ARGS[@]}" >&2 ||
		die "hyperfine failed in the $mode mode"
}
run_mode hot "${HOT[@]}"
run_mode cold "${COLD[@]}" --prepare "sleep $COLD_PAUSE"

# Cold over hot once more, with each timed run after another (hot)
# alternating with one after the pause (cold), so that other work on the
# machine weighs on both alike: bench/coldhot.c, as make bench-vm runs it
# in the cgroup v2 VM.
: >"$OUT/coldhot.txt"
if [ -x "$OUT/coldhot" ]; then
	runs=50
	[ -z "${BENCH_QUICK:-}" ] || runs=5
	pause_ms=$(awk -v s="$COLD_PAUSE" 'BEGIN { printf "%d", s * 1000 }')
	for name in exec floor floor-move "$REF"; do
		set_cmd "$name" /bin/true
		"$OUT/coldhot" "$runs" "$pause_ms" "$name" "${CMD[@]}" >>"$OUT/coldhot.txt" ||
			die "coldhot failed on '$name'"
	done
fi

# Peak RSS: each runtime runs `sleep 1` in its container; half way
# through, the high-water mark of the process we started (the runtime
# that stays to wait for the container) is read from /proc. Then GNU
# time's %M for `run /bin/true`: the largest peak of the runtime and of
# every process it waited for (its helpers, the container before exec).
: >"$OUT/rss.tsv"
for name in "${NAMES[@]}"; do
	[ "$name" = exec ] && continue
	set_cmd "$name" /bin/sleep 1
	"${CMD[@]}" </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
	wait "$pid" || die "'$name' failed to run /bin/sleep 1"
	tree=-
	if [ -x /usr/bin/time ]; then
		set_cmd "$name" /bin/true
		/usr/bin/time -f %M -o "$OUT/time.out" "${CMD[@]}" </dev/null >/dev/null 2>&1 ||
			die "'$name' failed to run /bin/true under /usr/bin/time"
		tree=$(tail -n 1 "$OUT/time.out")
	fi
	printf '%s\t%s\t%s\n' "$name" "${hwm:--}" "$tree" >>"$OUT/rss.tsv"
done

# The fork bomb, stage 6 on: the cgroup seen from the host while the bomb
# (bench-bomb, static, copied into the root filesystem) presses on it.
: >"$OUT/bomb.txt"
bomb_stage=
[ -x "$BIN/stage-6" ] && bomb_stage=stage-6
# find_group PID: the pids cgroup of the runtime PID (named minidocker-PID
# by the contract), or else the only minidocker group there is.
find_group() {
	local g name
	for name in "minidocker-$1" 'minidocker-*'; do
		g=$(find /sys/fs/cgroup/pids /sys/fs/cgroup -maxdepth 4 -type d \
			-name "$name" -print -quit 2>/dev/null || true)
		[ -z "$g" ] || break
	done
	printf '%s' "$g"
}
if [ -n "$bomb_stage" ]; then
	install -m 755 "$OUT/bench-bomb" "$ROOTFS/bin/bench-bomb"
	idle_us=$("$OUT/forkprobe" 500)
	set_cmd "$bomb_stage" /bin/bench-bomb 1500
	"${CMD[@]}" </dev/null >"$OUT/bomb.out" 2>"$OUT/bomb.err" &
	pid=$!
	group='' peak=0 max='-' events='-' busy_us='-' probe=''
	for _ in $(seq 300); do
		[ -n "$group" ] || group=$(find_group "$pid")
		if [ -n "$group" ] && [ -d "$group" ]; then
			read -r cur <"$group/pids.current" 2>/dev/null || cur=0
			[ "$cur" -gt "$peak" ] && peak=$cur
			read -r max <"$group/pids.max" 2>/dev/null || true
			events=$(awk '$1 == "max" { print $2 }' "$group/pids.events" 2>/dev/null || echo "$events")
			# Once the bomb is at the limit, time the host's forks.
			case $max in *[!0-9]* | '') at_limit=false ;; *) at_limit=$(((cur >= max) ? 1 : 0)) ;; esac
			if [ -z "$probe" ] && [ "$at_limit" = 1 ]; then
				"$OUT/forkprobe" 500 >"$OUT/forkprobe.out" &
				probe=$!
			fi
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	status=0
	wait "$pid" || status=$?
	# The root filesystem as rootfs-fetch.sh made it again: the rows after
	# this one (bench/image.sh builds its images from it) must not carry
	# the bomb's 0.8 MB.
	rm -f "$ROOTFS/bin/bench-bomb"
	[ "$status" -eq 0 ] || die "$bomb_stage failed to run the fork bomb: $(head -n 1 "$OUT/bomb.err")"
	if [ -n "$probe" ]; then
		wait "$probe" || die "forkprobe failed during the fork bomb"
		busy_us=$(cat "$OUT/forkprobe.out")
	fi
	left=no
	[ -n "$group" ] && [ -d "$group" ] && left=yes
	{
		printf 'stage\t%s\n' "$bomb_stage"
		printf 'group\t%s\n' "${group:-not found (looked for minidocker-$pid)}"
		printf 'pids.max\t%s\n' "$max"
		printf 'peak pids.current\t%s\n' "$peak"
		printf 'refused forks (pids.events max)\t%s\n' "$events"
		printf 'inside (bench-bomb)\t%s\n' "$(cat "$OUT/bomb.out")"
		printf 'host fork+wait idle (median us)\t%s\n' "$idle_us"
		printf 'host fork+wait during the bomb (median us)\t%s\n' "$busy_us"
		printf 'cgroup left behind\t%s\n' "$left"
	} >"$OUT/bomb.txt"
fi

{
	printf 'load\t%s at the start, %s at the end\n' "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf 'cores\t%s\n' "$(nproc)"
	printf 'kernel\t%s\n' "$(uname -r)"
	printf 'cpu\t%s, %s cores\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" "$(nproc)"
	printf 'cgroup\t%s\n' "$CGROUP_NOTE"
	printf 'run fs\t%s\n' "$(stat -f -c %T /run 2>/dev/null)"
	printf 'hyperfine\t%s\n' "$(hyperfine --version)"
	printf 'reference\t%s\n' "$REF"
	skipped=
	for line in "${SKIPPED[@]}"; do
		skipped="$skipped${skipped:+; }$line"
	done
	printf 'skipped\t%s\n' "$skipped"
	printf 'cold pause\t%s\n' "$COLD_PAUSE"
	printf 'quick\t%s\n' "${BENCH_QUICK:-}"
	for name in "${NAMES[@]}"; do
		set_cmd "$name" /bin/true
		# Shown relative to the working directory, with no run's pid.
		line="${CMD[*]}"
		line=${line//"$PWD/"/}
		printf 'cmd:%s\t%s\n' "$name" "${line//-$$/-PID}"
	done
} >"$OUT/meta.tsv"

"$HERE/report.sh" "$OUT"
