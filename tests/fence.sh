# shellcheck shell=bash
# fence.sh, sourced: the fence of the tests that run an OCI runtime (and
# what drives one) as a guest on the machine: tests/drivers/drivers.sh
# and tests/bundles/bundles.sh. The caller sets prog (its name, for
# messages) and set -u; it calls, outside:
#
#   fence_setup NAME         a scratch directory ($scratch, under /tmp,
#                            removed at exit) and a tag ($tag, NAME-PID)
#                            to name the test's cgroup parents after;
#                            the cleanup set to run at exit
#   fence_run CMD...         CMD in a mount and network namespace of its
#                            own (unshare -m -n), FENCE_SCRATCH and
#                            FENCE_TAG in its environment; then kill what
#                            is left in that namespace and in the tag's
#                            cgroups, remove them and the scratch
#                            directory, and exit with CMD's status (1
#                            when anything was left)
#
# and CMD, inside, first of all:
#
#   fence_inside             $scratch and $tag from the environment; a
#                            tmpfs over /run (what the runtime and its
#                            drivers keep there stays ours), cgroup2's
#                            hybrid mount hidden (crun and podman refuse
#                            hybrid cgroups)

# ---- outside ----------------------------------------------------------------

: "${prog:?fence.sh: the caller sets prog}"

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
	trap fence_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

# The processes of our mount namespace, whatever became of the command
# (daemons, shims, monitors), and those in our cgroups (containers, in
# namespaces of their own, whose parent is gone); not zombies, which
# have ended and hold nothing but their pid until init, here slow,
# reaps them.
fence_procs() {
	local ns p stat
	ns=$(cat "$scratch/mntns" 2>/dev/null) || return 0
	# One stat for every process (a readlink each takes seconds on a
	# busy machine): "'/proc/PID/ns/mnt' -> 'mnt:[N]'".
	for p in $({
		stat -c %N /proc/[0-9]*/ns/mnt 2>/dev/null |
			awk -v ns="'$ns'" '$3 == ns { split($1, p, "/"); print p[3] }'
		find /sys/fs/cgroup -path "*/$tag*" -name cgroup.procs \
			-exec cat {} + 2>/dev/null
	} | sort -u); do
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
		kill -KILL $left 2>/dev/null
		sleep 0.2
	done
	[ -n "$left" ] && echo "$prog: processes left: $left" >&2
	# Our cgroup parents, deepest first, in every hierarchy; a group
	# empties a little after its last process is killed.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		find /sys/fs/cgroup -depth -type d -path "*/$tag*" \
			-exec rmdir {} + 2>/dev/null && break
		sleep 0.2
	done
	rm -rf "$scratch"
}

fence_run() {
	local rc left p
	FENCE_SCRATCH=$scratch FENCE_TAG=$tag \
		unshare -m -n --propagation private -- "$@" &
	fence_inner=$!
	wait "$fence_inner"
	rc=$?
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
	if find /sys/fs/cgroup -type d -path "*/$tag*" 2>/dev/null | grep -q .; then
		echo "$prog: cgroups of the test were left" >&2
		rc=1
	fi
	exit $rc
}

# ---- inside -------------------------------------------------------------------

fence_inside() {
	scratch=$FENCE_SCRATCH tag=$FENCE_TAG
	readlink /proc/self/ns/mnt >"$scratch/mntns"
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
