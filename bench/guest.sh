# shellcheck shell=bash
# guest.sh: a guest on the machine, for the engines (dockerd, containerd,
# podman, conmon) and the runtimes they drive. Sourced by bench/engines.sh;
# it follows what tests/drivers/drivers.sh does in its own copy, which
# could source this file instead. The caller sets PROG and defines die().
#
# Outside: guest_start TAG SCRATCH CMD... runs CMD in a mount and network
# namespace of its own (unshare -m -n), then kills every process left in
# that mount namespace or in a cgroup /TAG or /TAG-* (and below),
# removes those cgroups (deepest first) and SCRATCH, and returns CMD's
# status.
# Inside: guest_enter SCRATCH makes the namespace a guest's: a tmpfs over
# /run, /var/lib, /etc/docker and /dev/shm, cgroup2's hybrid mount
# hidden, lo up. dockerd_start and podman_setup then give each engine its
# own state under SCRATCH.

# guest_groups TAG FIND-ARGS...: find's test for the guest's cgroups:
# /TAG, /TAG-* (podman's parent) and everything below them.
guest_groups() {
	local tag=$1
	shift
	find /sys/fs/cgroup "$@" \( -path "*/$tag" -o -path "*/$tag-*" -o -path "*/$tag/*" \)
}

# guest_ours SCRATCH TAG: the processes of the guest's mount namespace,
# whatever became of their parents, and those in the guest's cgroups
# (containers in namespaces of their own whose shim is gone).
guest_ours() {
	local ns p
	ns=$(cat "$1/mntns" 2>/dev/null) || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
	done
	guest_groups "$2" -name cgroup.procs 2>/dev/null | xargs -r cat 2>/dev/null | sort -u
}

# guest_clean SCRATCH TAG: kill what is left, remove the cgroups and
# SCRATCH. Says what it could not remove; returns 1 then.
guest_clean() {
	local left rc=0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		left=$(guest_ours "$1" "$2")
		[ -z "$left" ] && break
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null || true
		sleep 0.2
	done
	if [ -n "$left" ]; then
		printf '%s: processes left: %s\n' "$PROG" "$left" >&2
		rc=1
	fi
	# A group empties a little after its last process is killed.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		guest_groups "$2" -depth -type d 2>/dev/null | xargs -r rmdir 2>/dev/null && break
		sleep 0.2
	done
	if guest_groups "$2" -type d 2>/dev/null | grep -q .; then
		printf '%s: cgroups left: %s\n' "$PROG" "$(guest_groups "$2" -type d | head -n 3 | paste -sd' ')" >&2
		rc=1
	fi
	rm -rf "$1"
	return $rc
}

# guest_start TAG SCRATCH CMD...: CMD in the guest's namespaces, then
# everything of the guest removed.
guest_start() {
	local tag=$1 scratch=$2 inner rc
	shift 2
	trap 'exit 130' INT TERM HUP
	unshare -m -n --propagation private -- "$@" &
	inner=$!
	# shellcheck disable=SC2064 # the values now: the trap runs later
	trap "kill -TERM $inner 2>/dev/null; wait $inner; guest_clean '$scratch' '$tag'" EXIT
	rc=0
	wait "$inner" || rc=$?
	trap - EXIT
	guest_clean "$scratch" "$tag" || rc=1
	return $rc
}

# guest_enter SCRATCH: in the guest's own mount namespace. /sys/fs/cgroup
# is a tmpfs shared with the host: cgroup2's mount is hidden under a
# tmpfs of ours rather than unmounted, so that nothing a runtime makes
# there lands on the host. dockerd writes /etc/docker/key.json and podman
# /var/lib/containers/cache whatever their options say.
guest_enter() {
	readlink /proc/self/ns/mnt >"$1/mntns"
	mount -t tmpfs -o mode=755 tmpfs /run || die "cannot mount a tmpfs over /run"
	if mountpoint -q /sys/fs/cgroup/unified; then
		mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup/unified ||
			die "cannot hide /sys/fs/cgroup/unified"
	fi
	local dir
	for dir in /var/lib /etc/docker; do
		[ -d "$dir" ] || continue
		mount -t tmpfs -o mode=755 tmpfs "$dir" || die "cannot hide '$dir'"
	done
	# podman's locks are a shared memory segment (/dev/shm/libpod_lock),
	# one per machine whatever --root says: ours, not another podman's.
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm || die "cannot hide /dev/shm"
	ip link set lo up || die "cannot bring lo up in the guest's namespace"
}

# dockerd_start DIR TAG NAME=PATH...: a dockerd of our own, its state in
# DIR, its containers' cgroups under /TAG, no bridge and no firewall
# rules, with each NAME=PATH as a runtime; DOCKER=(Debian's docker client
# and the options that point it at this dockerd), rather than
# DOCKER_HOST and DOCKER_CONFIG in the environment, which podman reads
# too. Waits until it answers (60 s at most). Returns 1 after saying why
# when it does not.
DOCKERD_PID=
dockerd_start() {
	local d=$1 tag=$2 rt
	shift 2
	local -a runtimes=()
	for rt in "$@"; do
		runtimes+=(--add-runtime "$rt")
	done
	mkdir -p "$d/data" "$d/exec" "$d/cli" || die "cannot make '$d'"
	echo '{}' >"$d/daemon.json"
	DOCKER=(/usr/bin/docker --config "$d/cli" -H "unix://$d/docker.sock")
	/usr/sbin/dockerd --config-file "$d/daemon.json" \
		--data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
		--iptables=false --ip-forward=false --ip-masq=false \
		--bridge=none --storage-driver vfs \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$tag" \
		"${runtimes[@]}" >"$d/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	for _ in $(seq 600); do
		"${DOCKER[@]}" version >/dev/null 2>&1 && return 0
		kill -0 "$DOCKERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	printf '%s: dockerd does not answer: %s\n' "$PROG" "$(tail -n 1 "$d/dockerd.log")" >&2
	return 1
}

dockerd_stop() {
	[ -n "$DOCKERD_PID" ] || return 0
	kill -TERM "$DOCKERD_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$DOCKERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DOCKERD_PID" 2>/dev/null || true
	DOCKERD_PID=
}

# podman_setup DIR TAG: podman's configuration and state under DIR, none
# of the host's or the user's files (exported: CONTAINERS_CONF,
# CONTAINERS_STORAGE_CONF, HOME); PODMAN=(podman and its global options),
# PODMAN_RUN=(the options its run needs here: the cgroup parent /TAG-podman,
# and rlimits, as this sandbox lacks CAP_SYS_RESOURCE to raise podman's
# defaults to the hard maximum). The runtime is the caller's: --runtime X
# after PODMAN.
podman_setup() {
	local p=$1 tag=$2
	unset DOCKER_CONFIG DOCKER_HOST # podman reads them
	mkdir -p "$p/root" "$p/run" "$p/tmp" "$p/home" || die "cannot make '$p'"
	printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\n' >"$p/containers.conf"
	printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' \
		"$p/run" "$p/root" >"$p/storage.conf"
	export CONTAINERS_CONF=$p/containers.conf CONTAINERS_STORAGE_CONF=$p/storage.conf
	export HOME=$p/home XDG_CONFIG_HOME=$p/home/.config
	# shellcheck disable=SC2034 # read by the scripts that source this file
	PODMAN=(podman --cgroup-manager=cgroupfs --root "$p/root" --runroot "$p/run"
		--tmpdir "$p/tmp" --storage-driver vfs --events-backend none)
	# shellcheck disable=SC2034
	PODMAN_RUN=(--cgroup-parent "/$tag-podman" --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
}
