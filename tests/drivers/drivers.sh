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
#
# The drivers' programs: DRIVERS_BIN (default build/tools/drivers) holds
# dockerd and docker (docker.io), containerd and its shim (containerd),
# and podman, each taken out of its package by tools/deb-bin.sh (a link
# to the installed program when the package is installed): installing
# those packages would enable and start their system services. That
# directory comes first on PATH inside the namespace, where dockerd looks
# for containerd and containerd for its shim.
set -u

prog=drivers.sh
scratch_prefix=/tmp/minidocker-drivers.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${DRIVERS_BIN:-$top/build/tools/drivers}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
docker=$bin/docker # not another docker on PATH (/usr/local/bin)
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
	[ $# -gt 0 ] || set -- docker podman
	[ "$(id -u)" -eq 0 ] || die "needs root (dockerd, namespaces, cgroups)"
	[ -x "$runtime" ] || die "no runtime at '$runtime'"
	[ -x "$rootfs/bin/busybox" ] || die "no busybox root filesystem at '$rootfs'"
	case $runtime in /*) ;; *) runtime=$PWD/$runtime ;; esac
	# fetch PACKAGE PATH...: the package's programs into $bin, unless
	# they are there.
	fetch() {
		local pkg=$1 p dest=$bin
		shift
		for p; do
			[ -x "$bin/${p##*/}" ] && continue
			[ $# -eq 1 ] && dest=$bin/${1##*/}
			"$top/tools/deb-bin.sh" "$pkg" "$@" "$dest" ||
				die "cannot take $* out of the package $pkg"
			return
		done
	}
	for drv in "$@"; do
		case $drv in
		docker)
			fetch docker.io /usr/sbin/dockerd /usr/bin/docker
			fetch containerd /usr/bin/containerd /usr/bin/containerd-shim-runc-v2
			;;
		podman) fetch podman /usr/bin/podman ;;
		esac
	done
	scratch=$(mktemp -d "${scratch_prefix}XXXXXX") || die "cannot make a scratch directory"
	inner=
	held=
	# The processes of our mount namespace (held: see below), whatever
	# became of inner (dockerd, containerd, shims, conmon), and those in
	# our cgroups (containers, in namespaces of their own, whose shim is
	# gone): minidocker-drivers-PID-*, not the groups of a run whose PID
	# begins with ours. One find, not a readlink per process: this runs
	# between kills, on a machine with hundreds of processes.
	ours() {
		local ns
		if [ -n "$held" ] && ns=$(readlink "/proc/$$/fd/$held"); then
			# mnt:[N], its brackets escaped for -lname's pattern.
			ns=${ns//[/\\[} ns=${ns//]/\\]}
			find /proc/[0-9]*/ns/mnt -maxdepth 0 -lname "$ns" 2>/dev/null | cut -d/ -f3
		fi
		find /sys/fs/cgroup -path "*/minidocker-drivers-$$-*" -name cgroup.procs \
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
			find /sys/fs/cgroup -depth -type d -path "*/minidocker-drivers-$$-*" \
				-exec rmdir {} + 2>/dev/null && break
			sleep 0.2
		done
		rm -rf "$scratch"
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	unshare -m -n --propagation private -- "$0" --inside "$runtime" "$rootfs" "$scratch" "$$" "$@" &
	inner=$!
	# Its mount namespace, held open until we exit: once the last
	# process and file of a namespace are gone, its number goes to the
	# next new one, and ours() would take another run's processes (whose
	# namespace got it) for ours and kill them. Taken once unshare has
	# made it: not ours any more.
	host_ns=$(readlink /proc/self/ns/mnt)
	for _ in $(seq 200); do
		exec {fd}<"/proc/$inner/ns/mnt" || break
		if [ "$(readlink "/proc/$$/fd/$fd")" != "$host_ns" ]; then
			held=$fd
			break
		fi
		exec {fd}<&-
		sleep 0.05
	done 2>/dev/null
	wait "$inner"
	rc=$?
	inner=
	left=$(ours)
	cleanup
	if [ -n "$left" ]; then
		echo "$prog: the namespace still had processes after the run: $left" >&2
		rc=1
	fi
	if find /sys/fs/cgroup -type d -path "*/minidocker-drivers-$$-*" 2>/dev/null | grep -q .; then
		echo "$prog: cgroups of the test were left" >&2
		rc=1
	fi
	exit $rc
fi

# ---- inside: the namespace is ours ---------------------------------------

shift
runtime=$1 rootfs=$2 scratch=$3 tag=minidocker-drivers-$4
shift 4
drivers=$*

export PATH="$bin:$PATH"
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

run_docker() {
	local d=$work
	mkdir -p "$d/data" "$d/exec" "$d/cli" || die "cannot make '$d'"
	echo '{}' >"$d/daemon.json"
	export DOCKER_CONFIG=$d/cli DOCKER_HOST=unix://$d/docker.sock
	"$bin/dockerd" --config-file "$d/daemon.json" \
		--data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
		--iptables=false --ip-forward=false --ip-masq=false \
		--bridge=none --storage-driver vfs \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$tag-docker" \
		--add-runtime "minidocker=$runtime" \
		>"$d/dockerd.log" 2>&1 &
	dockerd_pid=$!
	trap stop_dockerd EXIT
	local wait_pid=$dockerd_pid t0=${EPOCHREALTIME/./}
	# Its socket first, with a test of the shell's own: each "docker
	# version" is a program to start, and dockerd needs the CPU.
	if ! wait_for "docker: dockerd answers" test -S "$d/docker.sock" ||
		! wait_for "docker: dockerd answers" "$docker" version; then
		tail -n 5 "$d/dockerd.log" | sed 's/^/    dockerd: /'
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
	stop_dockerd
}

# ---- podman ----------------------------------------------------------------

run_podman() {
	local p=$work
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
	cat >"$p/podman-driver" <<-EOF
		#!/bin/sh
		sub=\$1
		shift
		[ "\$sub" = run ] && set -- --cgroup-parent "/$tag-podman" \\
			--ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "\$@"
		exec "$bin/podman" --runtime "$runtime" --cgroup-manager=cgroupfs \\
			--root "$p/root" --runroot "$p/run" --tmpdir "$p/tmp" \\
			--storage-driver vfs --events-backend none "\$sub" "\$@"
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
