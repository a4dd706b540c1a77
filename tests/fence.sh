# shellcheck shell=bash
# fence.sh, sourced: the fence of the tests that run an OCI runtime (and
# what drives one) as a guest on the machine: tests/drivers/drivers.sh,
# tests/bundles/bundles.sh and bench/engines.sh. The caller sets prog
# (its name, for messages) and set -u (set -e too, if it likes); it
# calls, outside:
#
#   fence_setup NAME         a scratch directory ($scratch, under /tmp,
#                            removed at exit) and a tag ($tag, NAME-PID)
#                            to name the test's cgroup parents after
#                            (/$tag, /$tag-* and below); the cleanup set
#                            to run at exit
#   fence_run CMD...         CMD in a mount and network namespace of its
#                            own (unshare -m -n), FENCE_SCRATCH and
#                            FENCE_TAG in its environment, that namespace
#                            held open from here; then kill what is left
#                            in it and in the tag's cgroups, remove them
#                            and the scratch directory, and exit with
#                            CMD's status (1 when anything was left)
#   fence_drivers DIR DRIVER...  the programs of each driver (docker:
#                            dockerd, docker, containerd and its shim;
#                            podman: podman) in DIR, each taken out of
#                            its package by tools/deb-bin.sh unless there
#                            (a link to the installed program when the
#                            package is installed); 1 when one cannot be
#
# and CMD, inside, first of all:
#
#   fence_inside             $scratch and $tag from the environment,
#                            once fence_run holds the namespace; a
#                            tmpfs over /run (what the runtime and its
#                            drivers keep there stays ours), cgroup2's
#                            hybrid mount hidden (crun and podman refuse
#                            hybrid cgroups)
#   fence_engines            what dockerd and podman need besides: a
#                            tmpfs over /var/lib, /etc/docker and
#                            /dev/shm, lo up
#   dockerd_start DIR PARENT NAME=PATH...  a dockerd of our own
#   dockerd_stop
#   podman_setup DIR TAG [PODMAN]  podman's state and options of our own
#
# fence_bin: where dockerd_start finds dockerd, docker and containerd
# (DRIVERS_BIN, default build/tools/drivers: what fence_drivers fills).

# ---- outside ----------------------------------------------------------------

: "${prog:?fence.sh: the caller sets prog}"
fence_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fence_bin=${DRIVERS_BIN:-$fence_top/build/tools/drivers}
case $fence_bin in /*) ;; *) fence_bin=$PWD/$fence_bin ;; esac

fence_setup() {
	[ "$(id -u)" -eq 0 ] || {
		echo "$prog: needs root (namespaces, cgroups)" >&2
		exit 2
	}
	tag=$1-$$
	scratch=$(mktemp -d "/tmp/$1.XXXXXX") || {
		echo "$prog: cannot make a scratch directory" >&2
		exit 2
	}
	fence_inner=
	fence_held=
	trap fence_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

# fence_groups [FIND-OPTIONS]: the paths of the test's cgroups in every
# hierarchy: /TAG, /TAG-* and everything below them; not another run's,
# whose PID begins with ours. Paths only, never an action: find runs an
# -exec put before the tests on every cgroup of the machine (the root
# group's cgroup.procs lists every process).
fence_groups() {
	find /sys/fs/cgroup "$@" \( -path "*/$tag" -o -path "*/$tag-*" -o -path "*/$tag/*" \) -print 2>/dev/null
}

# The processes of our mount namespace, whatever became of the command
# (daemons, shims, monitors), and those in our cgroups (containers, in
# namespaces of their own, whose parent is gone); not zombies, which
# have ended and hold nothing but their pid until init, here slow,
# reaps them. The namespace is the one fence_run holds open: a number
# read once would, after the namespace is gone, be another run's.
fence_procs() {
	local ns p stat
	# One stat for every process (a readlink each takes seconds on a
	# busy machine): "'/proc/PID/ns/mnt' -> 'mnt:[N]'".
	for p in $({
		if [ -n "${fence_held:-}" ] && ns=$(readlink "/proc/$$/fd/$fence_held"); then
			stat -c %N /proc/[0-9]*/ns/mnt 2>/dev/null |
				awk -v ns="'$ns'" '$3 == ns { split($1, p, "/"); print p[3] }'
		fi
		fence_groups -name cgroup.procs | xargs -r cat 2>/dev/null
	} | sort -u); do
		# Never the machine's init nor the caller itself.
		[ "$p" -gt 1 ] && [ "$p" -ne $$ ] || continue
		read -r stat 2>/dev/null <"/proc/$p/stat" || continue
		stat=${stat##*) }
		[ "${stat%% *}" = Z ] || echo "$p"
	done
}

fence_cleanup() {
	local left
	trap - EXIT INT TERM HUP
	[ -n "$fence_inner" ] && kill -TERM "$fence_inner" 2>/dev/null &&
		wait "$fence_inner" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		left=$(fence_procs)
		[ -z "$left" ] && break
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null || true
		sleep 0.2
	done
	[ -n "$left" ] && echo "$prog: processes left: $left" >&2
	# Our cgroup parents, deepest first, in every hierarchy; a group
	# empties a little after its last process is killed.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		fence_groups -depth -type d | xargs -r rmdir 2>/dev/null && break
		sleep 0.2
	done
	if [ -n "$fence_held" ]; then
		exec {fence_held}<&-
		fence_held=
	fi
	rm -rf "$scratch"
}

# fence_hold: the inner command's mount namespace held open (fence_held,
# a descriptor of ours) until the cleanup: once the last process and
# file of a namespace are gone, its number goes to the next new one,
# and fence_procs would take another run's processes for ours and kill
# them. Taken once unshare has made it; fence_inside waits for
# $scratch/held before anything starts in it.
fence_hold() {
	local host fd
	host=$(readlink /proc/self/ns/mnt)
	for _ in $(seq 200); do
		if exec {fd}<"/proc/$fence_inner/ns/mnt"; then
			if [ "$(readlink "/proc/$$/fd/$fd")" != "$host" ]; then
				fence_held=$fd
				: >"$scratch/held"
				return 0
			fi
			exec {fd}<&-
		fi
		# Gone: nothing is left to hold, nor to start in it.
		kill -0 "$fence_inner" 2>/dev/null || return 1
		sleep 0.05
	done 2>/dev/null
	echo "$prog: cannot hold the test's mount namespace" >&2
	return 1
}

fence_run() {
	local rc left p
	FENCE_SCRATCH=$scratch FENCE_TAG=$tag \
		unshare -m -n --propagation private -- "$@" &
	fence_inner=$!
	fence_hold || true
	rc=0
	wait "$fence_inner" || rc=$?
	fence_inner=
	left=$(fence_procs)
	if [ -n "$left" ]; then
		echo "$prog: the namespace still had processes after the run:" >&2
		for p in $left; do
			echo "    $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
		done
		rc=1
	fi
	fence_cleanup
	left=$(fence_groups -type d | head -n 3 | paste -sd ' ')
	if [ -n "$left" ]; then
		echo "$prog: cgroups of the test were left: $left" >&2
		rc=1
	fi
	exit $rc
}

# fence_drivers DIR DRIVER...: see above.
fence_drivers() {
	local dir=$1 drv
	shift
	# fetch PACKAGE PATH...: the package's programs into DIR, unless
	# they are there.
	fence_fetch() {
		local pkg=$1 p dest=$dir
		shift
		for p; do
			[ -x "$dir/${p##*/}" ] && continue
			[ $# -eq 1 ] && dest=$dir/${1##*/}
			"$fence_top/tools/deb-bin.sh" "$pkg" "$@" "$dest" && return 0
			echo "$prog: cannot take $* out of the package $pkg" >&2
			return 1
		done
	}
	for drv; do
		case $drv in
		docker)
			fence_fetch docker.io /usr/sbin/dockerd /usr/bin/docker &&
				fence_fetch containerd /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 ||
				return 1
			;;
		podman) fence_fetch podman /usr/bin/podman || return 1 ;;
		esac
	done
}

# ---- inside -------------------------------------------------------------------

fence_inside() {
	scratch=$FENCE_SCRATCH tag=$FENCE_TAG
	# Nothing of ours starts before fence_run holds the namespace.
	for _ in $(seq 200); do
		[ -e "$scratch/held" ] && break
		sleep 0.05
	done
	[ -e "$scratch/held" ] || {
		echo "$prog: the fence does not hold the namespace" >&2
		exit 2
	}
	mount -t tmpfs -o mode=755 tmpfs /run || {
		echo "$prog: cannot mount a tmpfs over /run" >&2
		exit 2
	}
	# Hidden under a tmpfs of ours, not unmounted: /sys/fs/cgroup is a
	# tmpfs shared with the host, and what a runtime made in the
	# directory below the mount would stay on the host, out of its
	# sight.
	if mountpoint -q /sys/fs/cgroup/unified; then
		mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup/unified || {
			echo "$prog: cannot hide /sys/fs/cgroup/unified" >&2
			exit 2
		}
	fi
}

# What dockerd and podman write whatever their options say: dockerd
# 20.10 its trust key (/etc/docker/key.json), podman its blob cache
# (/var/lib/containers/cache) and its locks, a shared memory segment
# (/dev/shm/libpod_lock) one per machine whatever its --root: a tmpfs of
# ours over each. And lo, which dockerd and podman expect up.
fence_engines() {
	local dir mode
	for dir in /var/lib /etc/docker /dev/shm; do
		[ -d "$dir" ] || continue
		mode=755
		[ "$dir" = /dev/shm ] && mode=1777
		mount -t tmpfs -o mode=$mode tmpfs "$dir" || {
			echo "$prog: cannot hide '$dir'" >&2
			exit 2
		}
	done
	ip link set lo up || {
		echo "$prog: cannot bring lo up in the test's namespace" >&2
		exit 2
	}
}

# dockerd_start DIR PARENT NAME=PATH...: a dockerd of our own
# ($fence_bin/dockerd, which finds containerd there too), its state in
# DIR, its containers' cgroups under PARENT, no bridge and no firewall
# rules, with each NAME=PATH as a runtime; DOCKER=(the docker client and
# the options that point it at this dockerd), rather than DOCKER_HOST and
# DOCKER_CONFIG in the environment, which podman reads too. Waits until
# it answers (dockerd_wait seconds, 60 unless set) or exits; returns 1
# when it does not, after saying so with its log's last lines.
DOCKERD_PID=
dockerd_start() {
	local d=$1 parent=$2 rt end
	shift 2
	local -a runtimes=()
	for rt; do
		runtimes+=(--add-runtime "$rt")
	done
	mkdir -p "$d/data" "$d/exec" "$d/cli" || return 1
	echo '{}' >"$d/daemon.json"
	DOCKER=("$fence_bin/docker" --config "$d/cli" -H "unix://$d/docker.sock")
	PATH=$fence_bin:$PATH "$fence_bin/dockerd" --config-file "$d/daemon.json" \
		--data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
		--iptables=false --ip-forward=false --ip-masq=false \
		--bridge=none --storage-driver vfs \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$parent" \
		"${runtimes[@]}" >"$d/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	end=$((SECONDS + ${dockerd_wait:-60}))
	# Its socket first, with a test of the shell's own: each "docker
	# version" is a program to start, and dockerd needs the CPU.
	while [ $SECONDS -lt $end ] && kill -0 "$DOCKERD_PID" 2>/dev/null; do
		[ -S "$d/docker.sock" ] && "${DOCKER[@]}" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	if kill -0 "$DOCKERD_PID" 2>/dev/null; then
		echo "$prog: dockerd does not answer within ${dockerd_wait:-60} s; its log:" >&2
	else
		echo "$prog: dockerd exited; its log:" >&2
	fi
	tail -n 5 "$d/dockerd.log" | sed 's/^/    dockerd: /' >&2
	return 1
}

dockerd_stop() {
	[ -n "$DOCKERD_PID" ] || return 0
	kill -TERM "$DOCKERD_PID" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$DOCKERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DOCKERD_PID" 2>/dev/null || true
	DOCKERD_PID=
}

# podman_setup DIR TAG [PODMAN]: podman's configuration and state under
# DIR, none of the host's or the user's files, its network configuration
# too (where CNI's lock goes, else /etc/cni/net.d on the host) (exported: CONTAINERS_CONF,
# CONTAINERS_STORAGE_CONF, HOME); PODMAN=(the program PODMAN, default
# podman, and its global options), PODMAN_RUN=(the options its run needs
# here: the cgroup parent /TAG-podman, and rlimits, as this sandbox lacks
# CAP_SYS_RESOURCE to raise podman's defaults to the hard maximum). The
# runtime is the caller's: --runtime X after PODMAN.
podman_setup() {
	local p=$1 tag=$2
	unset DOCKER_CONFIG DOCKER_HOST # podman reads them
	mkdir -p "$p/root" "$p/run" "$p/tmp" "$p/home" "$p/net" || return 1
	printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\n[network]\nnetwork_config_dir = "%s"\n' "$p/net" >"$p/containers.conf"
	printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' \
		"$p/run" "$p/root" >"$p/storage.conf"
	export CONTAINERS_CONF=$p/containers.conf CONTAINERS_STORAGE_CONF=$p/storage.conf
	export HOME=$p/home XDG_CONFIG_HOME=$p/home/.config
	# shellcheck disable=SC2034 # read by the scripts that source this file
	PODMAN=("${3:-podman}" --cgroup-manager=cgroupfs --root "$p/root" --runroot "$p/run"
		--tmpdir "$p/tmp" --storage-driver vfs --events-backend none)
	# shellcheck disable=SC2034
	PODMAN_RUN=(--cgroup-parent "/$tag-podman" --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
}
