#!/usr/bin/env bash
# drivers.sh RUNTIME ROOTFS [docker] [podman]: suite 16's outside drivers.
# Docker (its own dockerd) and podman run containers of the busybox root
# filesystem ROOTFS with RUNTIME as their OCI runtime, and check what a
# user sees: output, hostname, PID 1, exit codes, a terminal, exec, top,
# kill, stop, rm, and nothing left of the container afterwards. Proven
# with crun (/usr/bin/crun); stage 16 is checked the same way.
#
# A guest on the machine: everything runs in a mount and network
# namespace of the test's own (unshare -m -n), with a tmpfs over /run
# (what dockerd, containerd, conmon and the runtime keep there stays
# ours), cgroup2's hybrid mount at /sys/fs/cgroup/unified hidden (crun
# and podman refuse hybrid cgroups), cgroups under a parent of the
# test's own, and dockerd's and podman's state in a scratch directory.
# Nothing of the host's network, firewall, dockerd or podman is used or
# touched. Every exit path kills what the test started and removes what
# it made.
set -u

prog=drivers.sh
scratch_prefix=/tmp/minidocker-drivers.
docker=/usr/bin/docker # Debian's docker.io, not another docker on PATH
image=minidocker-drivers:busybox
limit=20 # seconds for one command

die() {
	echo "$prog: $*" >&2
	exit 2
}

# ---- outside: the namespace, and the cleanup of everything -----------

if [ "${1:-}" != --inside ]; then
	[ $# -ge 2 ] || die "usage: $prog RUNTIME ROOTFS [docker] [podman]"
	runtime=$1 rootfs=$2
	shift 2
	[ "$(id -u)" -eq 0 ] || die "needs root (dockerd, namespaces, cgroups)"
	[ -x "$runtime" ] || die "no runtime at '$runtime'"
	[ -x "$rootfs/bin/busybox" ] || die "no busybox root filesystem at '$rootfs'"
	case $runtime in /*) ;; *) runtime=$PWD/$runtime ;; esac
	scratch=$(mktemp -d "${scratch_prefix}XXXXXX") || die "cannot make a scratch directory"
	inner=
	# The processes of our mount namespace, whatever became of inner
	# (dockerd, containerd, shims, conmon), and those in our cgroups
	# (containers, in namespaces of their own, whose shim is gone).
	ours() {
		local ns p
		ns=$(cat "$scratch/mntns" 2>/dev/null) || return 0
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
		done
		find /sys/fs/cgroup -path "*/minidocker-drivers-$$[/-]*" -name cgroup.procs \
			-exec cat {} + 2>/dev/null | sort -u
	}
	cleanup() {
		local left
		trap - EXIT INT TERM HUP
		[ -n "$inner" ] && kill -TERM "$inner" 2>/dev/null && wait "$inner" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			left=$(ours)
			[ -z "$left" ] && break
			# shellcheck disable=SC2086
			kill -KILL $left 2>/dev/null
			sleep 0.2
		done
		[ -n "$left" ] && echo "$prog: processes left: $left" >&2
		# Our cgroup parents, deepest first, in every hierarchy; a
		# group empties a little after its last process is killed.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			find /sys/fs/cgroup -depth -type d \( -path "*/minidocker-drivers-$$" \
				-o -path "*/minidocker-drivers-$$[/-]*" \) \
				-exec rmdir {} + 2>/dev/null && break
			sleep 0.2
		done
		rm -rf "$scratch"
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	unshare -m -n --propagation private -- "$0" --inside "$runtime" "$rootfs" "$scratch" "$$" "$@" &
	inner=$!
	wait "$inner"
	rc=$?
	inner=
	left=$(ours)
	cleanup
	if [ -n "$left" ]; then
		echo "$prog: the namespace still had processes after the run: $left" >&2
		rc=1
	fi
	if find /sys/fs/cgroup -type d \( -path "*/minidocker-drivers-$$" \
		-o -path "*/minidocker-drivers-$$[/-]*" \) 2>/dev/null | grep -q .; then
		echo "$prog: cgroups of the test were left" >&2
		rc=1
	fi
	exit $rc
fi

# ---- inside: the namespace is ours ---------------------------------------

shift
runtime=$1 rootfs=$2 scratch=$3 tag=minidocker-drivers-$4
shift 4
drivers=${*:-docker podman}
readlink /proc/self/ns/mnt >"$scratch/mntns"

mount -t tmpfs -o mode=755 tmpfs /run || die "cannot mount a tmpfs over /run"
# Hidden under a tmpfs of ours, not unmounted: /sys/fs/cgroup is a tmpfs
# shared with the host, and what a runtime made in the directory below
# the mount would stay on the host, out of its sight.
if mountpoint -q /sys/fs/cgroup/unified; then
	mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup/unified ||
		die "cannot hide /sys/fs/cgroup/unified"
fi
# What dockerd and podman write whatever their options say: dockerd
# 20.10 its trust key (/etc/docker/key.json), podman its blob cache
# (/var/lib/containers/cache): a tmpfs of ours over each.
for dir in /var/lib /etc/docker; do
	[ -d "$dir" ] || continue
	mount -t tmpfs -o mode=755 tmpfs "$dir" || die "cannot hide '$dir'"
done
ip link set lo up || die "cannot bring lo up in the test's namespace"
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
	echo "    stdout:  $(head -c 300 "$scratch/out" | tr '\r\n' '^|')"
	echo "    stderr:  $(head -n 3 "$scratch/err" | head -c 600 | tr '\n' '|')"
}
# run CMD...: with a bound; its status in run_status, its output in
# $scratch/out and $scratch/err.
run() {
	local t0=${EPOCHREALTIME/./}
	timeout -k 5 "$limit" "$@" >"$scratch/out" 2>"$scratch/err" </dev/null
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
	got=$(tr -d '\r' <"$scratch/out")
	if [ "$run_status" -ne "$status" ]; then
		[ "$want" = - ] && want=
		not_ok "$what" "$run_cmd" "status $status${want:+, output \"$want\"}"
	elif [ "$want" != - ] && [ "$got" != "$want" ]; then
		not_ok "$what" "$run_cmd" "output \"$want\""
	else
		ok "$what"
	fi
}
# wait_for WHAT CMD...: until CMD succeeds, at most $limit seconds.
wait_for() {
	local what=$1 end=$((SECONDS + limit)) t0=${EPOCHREALTIME/./}
	shift
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $end ]; then
			run "$@"
			not_ok "$what" "$run_cmd" "success within ${limit}s"
			return 1
		fi
		sleep 0.1
	done
	run_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
}
# nothing_left WHAT: no container's bundle or runtime state under the
# driver's state directories, no cgroup below the test's parents (but
# podman's conmon group, its own and shared, which the test removes at
# the end).
nothing_left() {
	local found
	found=$( (find "${state_dirs[@]}" -type f \( -name config.json \
		-o -name exec.fifo -o -name state.json -o -name status \
		-o -name oci-state.json \) 2>/dev/null
		find /sys/fs/cgroup -mindepth 3 -type d -path "*/${tag}[/-]*" \
			-not -path '/sys/fs/cgroup/unified/*' \
			-not -name conmon 2>/dev/null) |
		head -n 5)
	if [ -n "$found" ]; then
		run_status=-
		: >"$scratch/out"
		echo "$found" >"$scratch/err"
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
	if [ "$run_status" -eq 127 ] && grep -q /no/such/command "$scratch/err"; then
		ok "$d: a missing command exits 127 and is named"
	elif [ "$d" = docker ] && [ "$run_status" -eq 125 ] &&
		[ "${runtime##*/}" = crun ] &&
		grep -qF "executable file \`/no/such/command\` not found" "$scratch/err"; then
		echo "not ok - $d: a missing command exits 127 # TODO crun's message, which Docker 20.10 does not read as 127: 125"
	else
		not_ok "$d: a missing command exits 127 and is named" "$run_cmd" \
			"status 127, '/no/such/command' on stderr"
	fi
}

# The same checks, for a driver whose command line is "$@" and whose
# containers' image arguments are in $img (docker: the image; podman:
# --rootfs DIR).
checks() {
	local d=$1 id
	shift
	local -a c=("$@")
	nothing_left "$d: nothing there before"
	check "$d: output, hostname, PID 1, exit 0" 0 "$(printf 'hello\nbox\n1')" \
		"${c[@]}" run --rm --network none --hostname box "${img[@]}" \
		sh -c 'echo hello; hostname; echo $$'
	check "$d: exit 7" 7 "" "${c[@]}" run --rm --network none "${img[@]}" sh -c 'exit 7'
	missing_command "$d" "${c[@]}" run --rm --network none "${img[@]}" /no/such/command
	check "$d: -t gives a terminal" 0 /dev/pts/0 \
		"${c[@]}" run --rm -t --network none "${img[@]}" tty

	# A container that lives: exec, top, kill.
	run "${c[@]}" run -d --network none --name "$tag-k" "${img[@]}" sleep 1000
	id=$(tr -d '\r\n' <"$scratch/out")
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
	if [ "$run_status" -eq 0 ] && grep -q 'sleep 1000' "$scratch/out"; then
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
	if grep -q "$id" "$scratch/out"; then
		not_ok "$d: rm: gone from ps -a" "$run_cmd" "no $id"
	else
		ok "$d: rm: gone from ps -a"
	fi
	nothing_left "$d: nothing left of the killed container"

	# stop: SIGTERM first; a PID 1 that traps it exits with its status.
	run "${c[@]}" run -d --network none --name "$tag-s" "${img[@]}" \
		sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	id=$(tr -d '\r\n' <"$scratch/out")
	check "$d: stop" 0 - "${c[@]}" stop -t 10 "$tag-s"
	check "$d: stopped by SIGTERM: 0" 0 0 "${c[@]}" wait "$tag-s"
	check "$d: rm after stop" 0 - "${c[@]}" rm "$tag-s"
	nothing_left "$d: nothing left of the stopped container"
}

# ---- docker ----------------------------------------------------------------

dockerd_pid=
stop_dockerd() {
	[ -n "$dockerd_pid" ] || return 0
	kill -TERM "$dockerd_pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$dockerd_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$dockerd_pid" 2>/dev/null
	dockerd_pid=
}
trap stop_dockerd EXIT
trap 'exit 130' INT TERM HUP

run_docker() {
	local d=$scratch/docker
	mkdir -p "$d/data" "$d/exec" "$d/cli" || die "cannot make '$d'"
	echo '{}' >"$d/daemon.json"
	export DOCKER_CONFIG=$d/cli DOCKER_HOST=unix://$d/docker.sock
	/usr/sbin/dockerd --config-file "$d/daemon.json" \
		--data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
		--iptables=false --ip-forward=false --ip-masq=false \
		--bridge=none --storage-driver vfs \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$tag" \
		--add-runtime "minidocker=$runtime" \
		>"$d/dockerd.log" 2>&1 &
	dockerd_pid=$!
	if ! wait_for "docker: dockerd answers" "$docker" version; then
		tail -n 5 "$d/dockerd.log" | sed 's/^/    dockerd: /'
		return
	fi
	ok "docker: dockerd answers"
	run sh -c "tar -C '$scratch/rootfs' -c . | '$docker' import - $image"
	if [ "$run_status" -ne 0 ]; then
		not_ok "docker: import the busybox root filesystem" "$run_cmd" "status 0"
		return
	fi
	ok "docker: import the busybox root filesystem"
	img=("$image")
	# The runtime's --root is under --exec-root (runtime-minidocker);
	# containerd's and the shims' state too.
	state_dirs=("$d/exec" /run)
	# docker takes --runtime on run only: a wrapper (a program, for
	# timeout) puts it there.
	cat >"$scratch/docker-driver" <<-EOF
		#!/bin/sh
		[ "\$1" = run ] && { shift; exec "$docker" run --runtime minidocker "\$@"; }
		exec "$docker" "\$@"
	EOF
	chmod +x "$scratch/docker-driver"
	checks docker "$scratch/docker-driver"
	stop_dockerd
}

# ---- podman ----------------------------------------------------------------

run_podman() {
	local p=$scratch/podman
	unset DOCKER_CONFIG DOCKER_HOST # podman reads them too
	mkdir -p "$p/root" "$p/run" "$p/tmp" "$p/home" || die "cannot make '$p'"
	# Its configuration: none of the host's or the user's files.
	printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\n' >"$p/containers.conf"
	printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' \
		"$p/run" "$p/root" >"$p/storage.conf"
	export CONTAINERS_CONF=$p/containers.conf CONTAINERS_STORAGE_CONF=$p/storage.conf
	export HOME=$p/home XDG_CONFIG_HOME=$p/home/.config
	# Run options: this sandbox lacks CAP_SYS_RESOURCE, so podman's
	# default rlimits (raised to the hard maximum) cannot be set. A
	# wrapper (a program, for timeout) puts them after run.
	cat >"$scratch/podman-driver" <<-EOF
		#!/bin/sh
		sub=\$1
		shift
		[ "\$sub" = run ] && set -- --cgroup-parent "/$tag-podman" \\
			--ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "\$@"
		exec podman --runtime "$runtime" --cgroup-manager=cgroupfs \\
			--root "$p/root" --runroot "$p/run" --tmpdir "$p/tmp" \\
			--storage-driver vfs --events-backend none "\$sub" "\$@"
	EOF
	chmod +x "$scratch/podman-driver"
	img=(--rootfs "$scratch/rootfs")
	state_dirs=("$p" /run)
	checks podman "$scratch/podman-driver"
}

for drv in $drivers; do
	case $drv in
	docker | podman) ;;
	*) die "no driver '$drv' (docker, podman)" ;;
	esac
done
for drv in $drivers; do
	start=$SECONDS
	case $drv in
	docker) run_docker ;;
	podman) run_podman ;;
	esac
	echo "# $drv: $((SECONDS - start)) s"
done
echo "# $passed passed, $failed failed ($runtime)"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
