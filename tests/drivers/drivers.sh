#!/usr/bin/env bash
# drivers.sh RUNTIME ROOTFS [docker] [podman]: suite 16's outside drivers.
# Docker (its own dockerd) and podman run containers of the busybox root
# filesystem ROOTFS with RUNTIME as their OCI runtime, and check what a
# user sees: output, hostname, PID 1, exit codes, a terminal, exec, top,
# kill, stop, rm, and nothing left of the container afterwards. Proven
# with crun (/usr/bin/crun); stage 16 is checked the same way.
#
# A guest on the machine (tests/fence.sh): everything runs in a mount
# and network namespace of the test's own (unshare -m -n), with a tmpfs
# over /run (what dockerd, containerd, conmon and the runtime keep there
# stays ours), /var/lib, /etc/docker and /dev/shm, cgroup2's hybrid
# mount at /sys/fs/cgroup/unified hidden (crun and podman refuse hybrid
# cgroups), cgroups under a parent of the test's own, and dockerd's and
# podman's state in a scratch directory. Nothing of the host's network,
# firewall, dockerd or podman is used or touched. Every exit path kills
# what the test started and removes what it made.
#
# The drivers' programs: DRIVERS_BIN (default build/tools/drivers) holds
# dockerd and docker (docker.io), containerd and its shim (containerd),
# and podman, each taken out of its package by tools/deb-bin.sh
# (fence_drivers; a link to the installed program when the package is
# installed): installing those packages would enable and start their
# system services. That directory comes first on PATH inside the
# namespace, where dockerd looks for containerd and containerd for its
# shim.
set -u

prog=drivers.sh
image=minidocker-drivers:busybox
limit=20 # seconds for one command

die() {
	echo "$prog: $*" >&2
	exit 2
}

# shellcheck source=../fence.sh
. "$(dirname "$0")/../fence.sh"
bin=$fence_bin
docker=$bin/docker # not another docker on PATH (/usr/local/bin)

# ---- outside: the namespace, and the cleanup of everything -----------

if [ "${1:-}" != --inside ]; then
	[ $# -ge 2 ] || die "usage: $prog RUNTIME ROOTFS [docker] [podman]"
	runtime=$1 rootfs=$2
	shift 2
	[ $# -gt 0 ] || set -- docker podman
	[ -x "$runtime" ] || die "no runtime at '$runtime'"
	[ -x "$rootfs/bin/busybox" ] || die "no busybox root filesystem at '$rootfs'"
	case $runtime in /*) ;; *) runtime=$PWD/$runtime ;; esac
	fence_setup minidocker-drivers
	fence_drivers "$bin" "$@" || exit 2
	fence_run "$0" --inside "$runtime" "$rootfs" "$@"
fi

# ---- inside: the namespace is ours ---------------------------------------

shift
runtime=$1 rootfs=$2
shift 2
drivers=$*

export PATH="$bin:$PATH"
fence_inside
fence_engines
# A copy: podman makes mount points (/run/.containerenv, /etc/hosts)
# inside a --rootfs, and the runtime's writes must not reach ROOTFS.
cp -a "$rootfs" "$scratch/rootfs" || die "cannot copy '$rootfs'"

passed=0 failed=0
run_ms=0
ok() {
	passed=$((passed + 1))
	echo "ok - $* ($run_ms ms)"
	run_ms=0
}
# not_ok WHAT COMMAND WANTED: says what ran, what came, what was wanted.
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	echo "    command: $2"
	echo "    status:  $run_status"
	echo "    wanted:  $(printf "%s" "$3" | tr "\n" "|")"
	echo "    stdout:  $(head -c 300 "$work/out" | tr '\r\n' '^|')"
	echo "    stderr:  $(head -n 3 "$work/err" | head -c 600 | tr '\n' '|')"
}
# run CMD...: with a bound; its status in run_status, its output in
# $work/out and $work/err ($work: the driver's own directory).
run() {
	local t0=${EPOCHREALTIME/./}
	timeout -k 5 "$limit" "$@" >"$work/out" 2>"$work/err" </dev/null
	run_status=$?
	run_cmd="$*"
	run_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	run_took=$run_ms
}
# check WHAT STATUS [OUTPUT] CMD...: the command's status and, unless
# OUTPUT is "-", its whole stdout (trailing CR and newlines dropped).
check() {
	local what=$1 status=$2 want=$3 got
	shift 3
	run "$@"
	got=$(tr -d '\r' <"$work/out")
	if [ "$run_status" -ne "$status" ]; then
		[ "$want" = - ] && want=
		not_ok "$what" "$run_cmd" "status $status${want:+, output \"$want\"}"
	elif [ "$want" != - ] && [ "$got" != "$want" ]; then
		not_ok "$what" "$run_cmd" "output \"$want\""
	else
		ok "$what"
	fi
}
# wait_for WHAT CMD...: until CMD succeeds, at most $limit seconds, and
# no longer than the process $wait_pid (the server CMD asks) lives.
wait_for() {
	local what=$1 end=$((SECONDS + limit)) t0=${EPOCHREALTIME/./}
	shift
	until "$@" >/dev/null 2>&1; do
		if [ -n "${wait_pid:-}" ] && ! kill -0 "$wait_pid" 2>/dev/null; then
			run "$@"
			not_ok "$what" "$run_cmd" "success; process $wait_pid exited"
			return 1
		fi
		if [ $SECONDS -ge $end ]; then
			run "$@"
			not_ok "$what" "$run_cmd" "success within ${limit}s"
			return 1
		fi
		sleep 0.1
	done
	run_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
}
# nothing_left WHAT [ID]: no container's (or no container ID's) bundle
# or runtime state under the driver's state directories, no cgroup below
# its cgroup parent (but podman's conmon group, its own and shared, which
# the test removes at the end).
nothing_left() {
	local found id=${2:-}
	found=$( (find "${state_dirs[@]}" -type f -path "*$id*" \( -name config.json \
		-o -name exec.fifo -o -name state.json -o -name status \
		-o -name oci-state.json \) 2>/dev/null
		find /sys/fs/cgroup -mindepth 3 -type d -path "*$cgroup_parent*/*$id*" \
			-not -path '/sys/fs/cgroup/unified/*' \
			-not -name conmon 2>/dev/null) |
		head -n 5)
	if [ -n "$found" ]; then
		run_status=-
		: >"$work/out"
		echo "$found" >"$work/err"
		not_ok "$1" "find ${state_dirs[*]} /sys/fs/cgroup" "nothing"
	else
		ok "$1"
	fi
}

# missing_command DRIVER CMD...: 127, and stderr names the command. Docker
# 20.10 says 127 only when the runtime's message has "executable file not
# found" or "no such file or directory" in it; crun writes "executable
# file `X` not found" and "No such file or directory", so Docker says 125
# (its own failure) under crun: known, reported, not counted.
missing_command() {
	local d=$1
	shift
	run "$@"
	if [ "$run_status" -eq 127 ] && grep -q /no/such/command "$work/err"; then
		ok "$d: a missing command exits 127 and is named"
	elif [ "$d" = docker ] && [ "$run_status" -eq 125 ] &&
		[ "${runtime##*/}" = crun ] &&
		grep -qF "executable file \`/no/such/command\` not found" "$work/err"; then
		echo "not ok - $d: a missing command exits 127 # TODO crun's message, which Docker 20.10 does not read as 127: 125"
	else
		not_ok "$d: a missing command exits 127 and is named" "$run_cmd" \
			"status 127, '/no/such/command' on stderr"
	fi
}

# spawn NAME CMD...: CMD in a subshell in the background, with
# $work/NAME its directory and $work/NAME.log its report.
spawned=()
spawn() {
	local name=$1
	shift
	(
		work=$work/$name passed=0 failed=0 spawned=()
		mkdir -p "$work" || die "cannot make '$work'"
		"$@"
		echo "$passed $failed" >"$work/count"
	) >"$work/$name.log" 2>&1 &
	spawned+=($!)
}
# collect NAME...: waits for what spawn started, shows the reports in
# this order and adds up their counts; one that stopped before its end
# counts as a failure.
collect() {
	local name p f
	wait "${spawned[@]}"
	spawned=()
	for name; do
		cat "$work/$name.log"
		if read -r p f <"$work/$name/count" 2>/dev/null; then
			passed=$((passed + p)) failed=$((failed + f))
		else
			failed=$((failed + 1))
			echo "not ok - $name: its checks stopped before the end"
		fi
	done
}

# The same checks, for a driver whose command line is "$@" and whose
# containers' image arguments are in $img (docker: the image; podman:
# --rootfs DIR). Three groups at once, each with containers of its own:
# what is left of a container is looked for by its id, and of all of
# them once every driver is done.
checks() {
	local d=$1
	shift
	nothing_left "$d: nothing there before"
	spawn runs checks_runs "$d" "$@"
	spawn kill checks_kill "$d" "$@"
	spawn stop checks_stop "$d" "$@"
	collect runs kill stop
}

# Containers in the foreground: output, exit statuses, a terminal.
checks_runs() {
	local d=$1
	shift
	local -a c=("$@")
	check "$d: output, hostname, PID 1, exit 0" 0 "$(printf 'hello\nbox\n1')" \
		"${c[@]}" run --rm --network none --hostname box "${img[@]}" \
		sh -c 'echo hello; hostname; echo $$'
	check "$d: exit 7" 7 "" "${c[@]}" run --rm --network none "${img[@]}" sh -c 'exit 7'
	missing_command "$d" "${c[@]}" run --rm --network none "${img[@]}" /no/such/command
	check "$d: -t gives a terminal" 0 /dev/pts/0 \
		"${c[@]}" run --rm -t --network none "${img[@]}" tty
}

# A container that lives: exec, top, kill.
checks_kill() {
	local d=$1 id
	shift
	local -a c=("$@")
	run "${c[@]}" run -d --network none --name "$tag-k" "${img[@]}" sleep 1000
	id=$(tr -d '\r\n' <"$work/out")
	if [ "$run_status" -ne 0 ] || [ -z "$id" ]; then
		not_ok "$d: run -d" "$run_cmd" "status 0 and an id"
		return
	fi
	ok "$d: run -d"
	check "$d: exec" 0 "in it" "${c[@]}" exec "$tag-k" echo in it
	check "$d: exec's exit status" 3 "" "${c[@]}" exec "$tag-k" sh -c 'exit 3'
	check "$d: exec sees the container's PID 1" 0 sleep \
		"${c[@]}" exec "$tag-k" cat /proc/1/comm
	run "${c[@]}" top "$tag-k"
	if [ "$run_status" -eq 0 ] && grep -q 'sleep 1000' "$work/out"; then
		ok "$d: top lists the container's process"
	else
		not_ok "$d: top lists the container's process" "$run_cmd" "status 0, 'sleep 1000' listed"
	fi
	# Within 5 s: dockerd sends SIGKILL itself 10 s after a kill the
	# runtime said it did and did not.
	run "${c[@]}" kill "$tag-k"
	if [ "$run_status" -ne 0 ] || [ "$run_took" -gt 5000 ]; then
		not_ok "$d: kill" "$run_cmd" "status 0 within 5000 ms, took $run_took ms"
	else
		ok "$d: kill"
	fi
	check "$d: killed: 137" 0 137 "${c[@]}" wait "$tag-k"
	check "$d: rm" 0 - "${c[@]}" rm "$tag-k"
	run "${c[@]}" ps -a -q --no-trunc
	if grep -q "$id" "$work/out"; then
		not_ok "$d: rm: gone from ps -a" "$run_cmd" "no $id"
	else
		ok "$d: rm: gone from ps -a"
	fi
	nothing_left "$d: nothing left of the killed container" "$id"
}

# stop: SIGTERM first; a PID 1 that traps it exits with its status.
checks_stop() {
	local d=$1 id
	shift
	local -a c=("$@")
	run "${c[@]}" run -d --network none --name "$tag-s" "${img[@]}" \
		sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	id=$(tr -d '\r\n' <"$work/out")
	if [ "$run_status" -ne 0 ] || [ -z "$id" ]; then
		not_ok "$d: run -d, to stop" "$run_cmd" "status 0 and an id"
		return
	fi
	check "$d: stop" 0 - "${c[@]}" stop -t 10 "$tag-s"
	check "$d: stopped by SIGTERM: 0" 0 0 "${c[@]}" wait "$tag-s"
	check "$d: rm after stop" 0 - "${c[@]}" rm "$tag-s"
	nothing_left "$d: nothing left of the stopped container" "$id"
}

# ---- docker ----------------------------------------------------------------

run_docker() {
	local d=$work t0=${EPOCHREALTIME/./}
	export DOCKER_CONFIG=$d/cli DOCKER_HOST=unix://$d/docker.sock
	trap dockerd_stop EXIT
	if ! dockerd_start "$d" "/$tag-docker" "minidocker=$runtime" 2>"$d/start.err"; then
		run_status=- run_cmd="dockerd --data-root $d/data ..."
		: >"$work/out"
		cp "$d/start.err" "$work/err"
		not_ok "docker: dockerd answers" "$run_cmd" "an answer within 60 s"
		sed 1d "$d/start.err"
		return
	fi
	run_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	ok "docker: dockerd answers"
	run sh -c "tar -C '$scratch/rootfs' -c . | '$docker' import - $image"
	if [ "$run_status" -ne 0 ]; then
		not_ok "docker: import the busybox root filesystem" "$run_cmd" "status 0"
		return
	fi
	ok "docker: import the busybox root filesystem"
	img=("$image")
	# The shim gives the runtime a --root under --exec-root, where
	# containerd's and the shims' state is too.
	state_dirs=("$d/exec")
	cgroup_parent=/$tag-docker
	# docker takes --runtime on run only: a wrapper (a program, for
	# timeout) puts it there.
	cat >"$d/docker-driver" <<-EOF
		#!/bin/sh
		[ "\$1" = run ] && { shift; exec "$docker" run --runtime minidocker "\$@"; }
		exec "$docker" "\$@"
	EOF
	chmod +x "$d/docker-driver"
	checks docker "$d/docker-driver"
	dockerd_stop
}

# ---- podman ----------------------------------------------------------------

run_podman() {
	local p=$work
	podman_setup "$p" "$tag" "$bin/podman" || die "cannot make '$p'"
	# Run options after run: a wrapper (a program, for timeout).
	cat >"$p/podman-driver" <<-EOF
		#!/bin/sh
		sub=\$1
		shift
		[ "\$sub" = run ] && set -- $(printf '%q ' "${PODMAN_RUN[@]}")"\$@"
		exec $(printf '%q ' "${PODMAN[@]}")--runtime "$runtime" "\$sub" "\$@"
	EOF
	chmod +x "$p/podman-driver"
	img=(--rootfs "$scratch/rootfs")
	# podman gives the runtime no --root: its own default, under /run.
	state_dirs=("$p" /run)
	cgroup_parent=/$tag-podman
	checks podman "$p/podman-driver"
}

for drv in $drivers; do
	case $drv in
	docker | podman) ;;
	*) die "no driver '$drv' (docker, podman)" ;;
	esac
done
# timed CMD...: CMD, then the seconds it took.
timed() {
	local start=$SECONDS
	"$@"
	echo "# ${1#run_}: $((SECONDS - start)) s"
}

# The drivers at once, each in a subshell with a directory of its own
# ($work): most of their time is spent waiting on their daemons and
# shims. Each one's report is shown whole, in order, once all are done.
trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT TERM HUP
work=$scratch
for drv in $drivers; do
	spawn "$drv" timed "run_$drv"
done
# shellcheck disable=SC2086
collect $drivers
# What a driver's runtime left in /run under another driver's watch, or
# where the parallel runs hid it: by now every container is gone.
state_dirs=(/run "$scratch/docker/exec" "$scratch/podman")
cgroup_parent=/$tag-
nothing_left "nothing left of any container once the drivers are done"
echo "# $passed passed, $failed failed ($runtime)"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
