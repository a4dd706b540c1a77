#!/usr/bin/env bash
# doctor.sh: can this machine run the stages and their tests? Prints one
# line per item, OK, WARN (works, with a caveat) or FAIL (needed), each
# problem followed by its fix; exits 1 when anything needed is missing.
#
# It reads the machine through files, so that tests can hand it a fake one:
#   DOCTOR_ROOT     prefix for /proc, /sys, /usr and the container marks ("")
#   DOCTOR_UNSHARE  the unshare(1) to try each namespace with (unshare)
#   DOCTOR_ROOTFS   the root filesystem the stages use by default (rootfs)
#   DOCTOR_BUILD    the build tree, whose test root filesystems the tests
#                   mount in (build)
#   DOCTOR_USER     the user whose rootless runs to check ($SUDO_USER, the
#                   learner behind sudo; when empty, the user it runs as)
set -u

root=${DOCTOR_ROOT:-}
unshare_cmd=${DOCTOR_UNSHARE:-unshare}
rootfs=${DOCTOR_ROOTFS:-rootfs}
build=${DOCTOR_BUILD:-build}
problems=0

ok() {
	printf 'OK    %s\n' "$1"
}

warn() {
	printf 'WARN  %s\n      fix: %s\n' "$1" "$2"
}

fail() {
	printf 'FAIL  %s\n      fix: %s\n' "$1" "$2"
	problems=$((problems + 1))
}

# The first line of a file of the machine, or nothing.
value() {
	head -n 1 "$root$1" 2>/dev/null
}

# Whether header $1 is installed: in the include directory, or in its
# multiarch one, where Debian puts some.
has_header() {
	[ -e "$root/usr/include/$1" ] ||
		[ -e "$root/usr/include/$(uname -m)-linux-gnu/$1" ]
}

# --- privileges ---------------------------------------------------------
status=$root/proc/self/status
uid=$(awk '/^Uid:/ { print $3 }' "$status" 2>/dev/null)
capeff=$(awk '/^CapEff:/ { print $2 }' "$status" 2>/dev/null)
sys_admin=false
# CAP_SYS_ADMIN is capability 21: namespaces, mounts and cgroups need it.
[ -n "$capeff" ] && (((0x$capeff >> 21) & 1)) && sys_admin=true

# --- namespaces (tried now, judged with the container check below) -------
refused=()
if command -v "$unshare_cmd" >/dev/null 2>&1; then
	# ipc and cgroup: stage 11's.
	for kind in uts pid mount user ipc cgroup; do
		args=("--$kind")
		[ "$kind" = pid ] && args+=(--fork)
		"$unshare_cmd" "${args[@]}" true >/dev/null 2>&1 || refused+=("$kind")
	done
	have_unshare=true
else
	have_unshare=false
fi

# --- container ----------------------------------------------------------
container=
if [ -e "$root/.dockerenv" ]; then
	container=docker
elif [ -e "$root/run/.containerenv" ]; then
	container=podman
else
	container=$(tr '\0' '\n' 2>/dev/null <"$root/proc/1/environ" |
		sed -n 's/^container=//p')
fi

if [ "$uid" = 0 ] && $sys_admin; then
	ok "running as root, with CAP_SYS_ADMIN"
elif $sys_admin; then
	ok "not root, but with CAP_SYS_ADMIN"
elif [ "$uid" = 0 ]; then
	fail "root, but without CAP_SYS_ADMIN: namespaces, mounts and cgroups are refused" \
		"run the container with --privileged (or --cap-add SYS_ADMIN), or use a VM"
else
	fail "not running as root: namespaces, mounts and cgroups need it" \
		"run it with sudo (sudo make doctor, sudo make test)"
fi

# --- kernel and WSL -----------------------------------------------------
release=$(value /proc/sys/kernel/osrelease)
major=${release%%.*} rest=${release#*.}
minor=${rest%%[!0-9]*}
if ! [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]]; then
	fail "cannot read the kernel version from /proc/sys/kernel/osrelease" \
		"is /proc mounted? mount -t proc proc /proc"
elif ((major < 3 || (major == 3 && minor < 8))); then
	fail "kernel $release: namespaces of every kind need 3.8 or later" \
		"upgrade the kernel"
elif ((major < 4 || (major == 4 && minor < 5))); then
	warn "kernel $release: cgroup v2 has no pids controller before 4.5" \
		"fine with cgroup v1; upgrade the kernel for v2"
elif ((major < 5 || (major == 5 && minor < 7))); then
	warn "kernel $release: on cgroup v2, stages 6 on start the container in its group with clone3(CLONE_INTO_CGROUP), which needs 5.7" \
		"fine with cgroup v1; upgrade the kernel for v2"
elif ((major < 5 || (major == 5 && minor < 12))); then
	warn "kernel $release: stage 11 needs 5.12 or later, for mount_setattr() (a read-only /sys)" \
		"stages 1-10 work; upgrade the kernel for stage 11"
else
	ok "kernel $release"
fi

version=$(value /proc/version)
if [[ $version == *microsoft-standard* || $version == *WSL2* ]]; then
	ok "WSL 2: a real Linux kernel, namespaces and cgroups work"
elif [[ $version == *[Mm]icrosoft* ]]; then
	fail "WSL 1: it emulates Linux system calls without namespaces or cgroups" \
		"convert the distribution to WSL 2: wsl --set-version <distro> 2"
else
	ok "not WSL"
fi

# --- namespaces and container, judged ------------------------------------
if ! $have_unshare; then
	warn "unshare not found: namespaces not tried" \
		"apt-get install util-linux"
elif [ ${#refused[@]} -eq 0 ]; then
	ok "namespaces: uts, pid, mount, user, ipc and cgroup can be made"
else
	if [ "$uid" != 0 ]; then
		fix="run it with sudo"
	elif [ -n "$container" ]; then
		fix="run the container with --privileged, or run on the host or a VM"
	else
		fix="check the kernel's CONFIG_*_NS options and the user namespace settings below"
	fi
	fail "namespaces refused: ${refused[*]}" "$fix"
fi

if [ -z "$container" ]; then
	ok "not inside a container"
elif [ "$uid" != 0 ] && ! $sys_admin; then
	ok "inside a container ($container): run it as root to see whether it may make namespaces"
elif ! $sys_admin || [ ${#refused[@]} -gt 0 ]; then
	fail "inside a container ($container) without the privileges to make namespaces" \
		"run it with --privileged (docker run --privileged), or on the host or a VM"
else
	ok "inside a container ($container), privileged enough to make namespaces"
fi

# --- cgroups ------------------------------------------------------------
mountinfo=$root/proc/self/mountinfo
# "mount point, type, super options, mount options" of each cgroup mount.
cgroups=$(awk '{
	for (i = 7; $i != "-"; i++) ;
	if ($(i + 1) ~ /^cgroup2?$/) print $5, $(i + 1), $(i + 3), $6
}' "$mountinfo" 2>/dev/null)
top_type=$(awk '$5 == "/sys/fs/cgroup" {
	for (i = 7; $i != "-"; i++) ;
	t = $(i + 1)
} END { print t }' "$mountinfo" 2>/dev/null)
v1_pids=$(awk '$2 == "cgroup" && $3 ~ /(^|,)pids(,|$)/ { print $1 }' <<<"$cgroups" | head -n 1)
v2_at=$(awk '$2 == "cgroup2" { print $1 }' <<<"$cgroups" | head -n 1)
pids_ro=$(awk -v m="$v1_pids" '$1 == m && $4 ~ /^ro(,|$)/ { print "ro" }' <<<"$cgroups")

if [ "$top_type" = cgroup2 ]; then
	controllers=$(value /sys/fs/cgroup/cgroup.controllers)
	if [[ " $controllers " == *" pids "* ]]; then
		ok "cgroup v2 at /sys/fs/cgroup, with the pids controller"
	else
		fail "cgroup v2 at /sys/fs/cgroup, without the pids controller (it has: ${controllers:-none})" \
			"a container must get it delegated (docker run --privileged --cgroupns=host); on a host, the kernel needs CONFIG_CGROUP_PIDS"
	fi
elif [ -n "$v2_at" ] && [ -n "$(awk '$2 == "cgroup"' <<<"$cgroups")" ]; then
	if [ "$v1_pids" = /sys/fs/cgroup/pids ]; then
		ok "cgroup hybrid: v2 at $v2_at, the pids controller on v1 at /sys/fs/cgroup/pids"
	else
		fail "cgroup hybrid: no v1 pids hierarchy at /sys/fs/cgroup/pids${v1_pids:+ (it is at $v1_pids)}" \
			"mkdir /sys/fs/cgroup/pids && mount -t cgroup -o pids pids /sys/fs/cgroup/pids, or boot with systemd.unified_cgroup_hierarchy=1 for v2"
	fi
elif [ -n "$(awk '$2 == "cgroup"' <<<"$cgroups")" ]; then
	if [ "$v1_pids" = /sys/fs/cgroup/pids ]; then
		ok "cgroup v1, the pids controller at /sys/fs/cgroup/pids"
	else
		fail "cgroup v1 without a pids hierarchy at /sys/fs/cgroup/pids${v1_pids:+ (it is at $v1_pids)}" \
			"mkdir /sys/fs/cgroup/pids && mount -t cgroup -o pids pids /sys/fs/cgroup/pids"
	fi
else
	fail "no cgroup filesystem mounted under /sys/fs/cgroup" \
		"mount -t cgroup2 cgroup2 /sys/fs/cgroup"
fi
if [ -n "$pids_ro" ]; then
	fail "the pids hierarchy $v1_pids is mounted read-only (a container?)" \
		"run the container with --privileged"
fi

# --- device rules on cgroup v2 (stage 16) -------------------------------
# On v2 the device rules Docker and podman send are a BPF program
# attached to the container's group: the kernel needs CONFIG_CGROUP_BPF,
# which its build configuration says where /boot has it.
if [ "$top_type" = cgroup2 ]; then
	config=$root/boot/config-$(value /proc/sys/kernel/osrelease)
	if [ ! -r "$config" ]; then
		:
	elif grep -q '^CONFIG_CGROUP_BPF=y' "$config"; then
		ok "the kernel attaches BPF programs to cgroups: device rules on cgroup v2 (stage 16)"
	else
		fail "the kernel lacks CONFIG_CGROUP_BPF: on cgroup v2 stage 16 cannot apply device rules, and Docker and podman always send them" \
			"a kernel built with CONFIG_CGROUP_BPF=y (Debian's and Ubuntu's are)"
	fi
fi

# --- memory and cpu (stage 9's --memory and --cpus) ---------------------
# On v2 the root must list them; on v1 each is a hierarchy of its own,
# found at /sys/fs/cgroup/<name> (cpu and cpuacct may be mounted together,
# as cpu,cpuacct with a symbolic link for each name).
missing=()
if [ "$top_type" = cgroup2 ]; then
	for c in memory cpu; do
		[[ " $controllers " == *" $c "* ]] || missing+=("$c")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		ok "cgroup v2 has the memory and cpu controllers (stage 9's limits)"
	else
		fail "cgroup v2 at /sys/fs/cgroup without the ${missing[*]} controller: stage 9 cannot limit it" \
			"a container must get it delegated (docker run --privileged --cgroupns=host); on a host, unmount any v1 hierarchy holding it, then echo +${missing[0]} > /sys/fs/cgroup/cgroup.subtree_control"
	fi
elif [ -n "$(awk '$2 == "cgroup"' <<<"$cgroups")" ]; then
	for c in memory cpu cpuacct; do
		at=$(awk -v c="$c" '$2 == "cgroup" && $3 ~ "(^|,)" c "(,|$)" { print $1 }' <<<"$cgroups" | head -n 1)
		if [ -z "$at" ] || { [ "$at" != "/sys/fs/cgroup/$c" ] &&
			[ ! -e "$root/sys/fs/cgroup/$c" ]; }; then
			missing+=("$c")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		ok "cgroup v1 hierarchies for memory, cpu and cpuacct under /sys/fs/cgroup (stage 9's limits)"
	else
		fail "cgroup v1 without a hierarchy at /sys/fs/cgroup/<name> for: ${missing[*]} (stage 9's limits)" \
			"mkdir /sys/fs/cgroup/${missing[0]} && mount -t cgroup -o ${missing[0]} ${missing[0]} /sys/fs/cgroup/${missing[0]} (and so for each)"
	fi
fi

# --- seccomp (stage 10's filter) -----------------------------------------
# The filter needs CONFIG_SECCOMP_FILTER, whose actions the kernel lists;
# "errno" is the one stage 10 returns.
actions=$(value /proc/sys/kernel/seccomp/actions_avail)
if [[ " $actions " == *" errno "* ]]; then
	ok "seccomp filters with errno actions (stage 10's filter)"
else
	fail "the kernel offers no seccomp filter (no /proc/sys/kernel/seccomp/actions_avail with errno): stage 10 cannot load its filter" \
		"boot a kernel built with CONFIG_SECCOMP_FILTER=y (every distribution kernel is)"
fi
if [ -e "$root/usr/include/seccomp.h" ]; then
	ok "libseccomp installed (stage 10 on builds with it)"
else
	warn "libseccomp not installed: stage 10 and later do not build" \
		"sudo make deps-run (make run and make test install it too)"
fi

# --- overlayfs (stage 12's copy-on-write root) ---------------------------
# The container mounts the overlay itself, in its user namespace: the
# kernel allows that from 5.11 on. Its layer goes to /run/minidocker
# (MINIDOCKER_RUN overrides it), which must not be on an overlay itself.
modules=$root/lib/modules/$release/kernel/fs/overlayfs
if grep -qw overlay "$root/proc/filesystems" 2>/dev/null || [ -d "$modules" ]; then
	if [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] &&
		((major < 5 || (major == 5 && minor < 11))); then
		warn "kernel $release: no overlayfs inside a user namespace before 5.11: stage 12 cannot run (the stages before it can)" \
			"upgrade the kernel (Debian 12 and Ubuntu 22.04 have one)"
	else
		ok "overlayfs, mountable in a user namespace (stage 12)"
	fi
else
	fail "no overlayfs in this kernel (stage 12's copy-on-write root)" \
		"sudo modprobe overlay, or a kernel with CONFIG_OVERLAY_FS"
fi
# The type of the deepest mount at or above /run.
run_type=$(awk '{
	for (i = 7; $i != "-"; i++) ;
	if (($5 == "/" || $5 == "/run") && length($5) >= best) { best = length($5); t = $(i + 1) }
} END { print t }' "$mountinfo" 2>/dev/null)
if [ "$run_type" = overlay ]; then
	fail "/run is on an overlay (a container?): stage 12 cannot keep a container's layer there" \
		"mount a tmpfs on /run (mount -t tmpfs tmpfs /run), or set MINIDOCKER_RUN to a directory on another filesystem"
elif [ "$run_type" = tmpfs ] && [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] &&
	((major < 6 || (major == 6 && minor < 6))); then
	# overlayfs in a user namespace marks opaque directories with user.*
	# xattrs, which tmpfs keeps from 6.6 on only.
	warn "/run is on tmpfs, which keeps no user xattrs before Linux 6.6: in stage 12, deleting or renaming an image's directory inside a container fails (EIO)" \
		"set MINIDOCKER_RUN to a directory on ext4, xfs or btrfs (for example /var/tmp/minidocker)"
elif [ -n "$run_type" ]; then
	ok "/run is on $run_type: stage 12 can keep its containers' layers in /run/minidocker"
fi

# --- / propagation ------------------------------------------------------
root_opts=$(awk '$5 == "/" {
	o = ""
	for (i = 7; $i != "-"; i++) o = o " " $i
	last = o
} END { print last }' "$mountinfo" 2>/dev/null)
if [[ $root_opts == *shared:* ]]; then
	ok "/ is shared (as systemd mounts it): stage 5's private remount is what keeps container mounts off the host"
else
	ok "/ is private: mounts do not propagate (the tests make a shared / of their own to test stage 5)"
fi

# --- user namespaces ----------------------------------------------------
clone=$(value /proc/sys/kernel/unprivileged_userns_clone)
apparmor=$(value /proc/sys/kernel/apparmor_restrict_unprivileged_userns)
max_userns=$(value /proc/sys/user/max_user_namespaces)
restricted=false
if [ "$max_userns" = 0 ]; then
	fail "user.max_user_namespaces is 0: nobody, not even root, may make a user namespace (stage 8)" \
		"sudo sysctl -w user.max_user_namespaces=15000"
	restricted=true
fi
if [ "$clone" = 0 ]; then
	warn "kernel.unprivileged_userns_clone is 0: ordinary users cannot make user namespaces (stage 8 without sudo)" \
		"sudo sysctl -w kernel.unprivileged_userns_clone=1"
	restricted=true
fi
if [ "$apparmor" = 1 ]; then
	warn "kernel.apparmor_restrict_unprivileged_userns is 1: AppArmor denies ordinary users user namespaces (stage 8 without sudo)" \
		"sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give build/stage-8 an AppArmor profile that allows userns"
	restricted=true
fi
if ! $restricted; then
	# Without root a pids limit needs a cgroup v2 group delegated to the
	# user (systemd's user@.service); v1 is never delegated.
	if [ "$top_type" = cgroup2 ]; then
		limit="with a pids limit where systemd delegates a cgroup to the user"
	else
		limit="without a pids limit: cgroup v1 is never delegated to a user"
	fi
	ok "user namespaces are not restricted: rootless works (stage 8 without sudo, $limit)"
fi

# --- rootless images: subordinate ids (stage 13 on) ----------------------
# Without root, an image's own users (nginx's 101) stay apart from root
# only through the user's range in /etc/subuid and /etc/subgid, mapped by
# the setuid helpers newuidmap and newgidmap; without them every file of
# the image belongs to the one user mapped. Root needs neither.
who=${DOCTOR_USER-${SUDO_USER:-}}
[ -n "$who" ] || who=$(awk -F: -v u="$uid" '$3 == u { print $1; exit }' "$root/etc/passwd" 2>/dev/null)
who_uid=$(awk -F: -v n="$who" '$1 == n { print $3; exit }' "$root/etc/passwd" 2>/dev/null)
# has_range FILE: FILE gives the user (by name or uid) a range.
has_range() {
	awk -F: -v n="$who" -v u="$who_uid" \
		'($1 == n || (u != "" && $1 == u)) && $3 > 0 { found = 1 } END { exit !found }' \
		"$root$1" 2>/dev/null
}
helper() {
	[ -x "$root/usr/bin/$1" ] || [ -x "$root/bin/$1" ]
}
if [ -n "$who" ] && [ "$who" != root ] && [ "$who_uid" != 0 ]; then
	if ! helper newuidmap || ! helper newgidmap; then
		warn "newuidmap or newgidmap not installed: $who's rootless images (stage 13 on) map every file to one user" \
			"sudo apt-get install uidmap"
	elif ! has_range /etc/subuid || ! has_range /etc/subgid; then
		no_range=$(for f in /etc/subuid /etc/subgid; do has_range "$f" || printf "%s " "$f"; done)
		no_range=${no_range% }
		warn "no range for $who in ${no_range// / and }: $who's rootless images (stage 13 on) map every file to one user" \
			"sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $who"
	else
		ok "$who has subordinate ids in /etc/subuid and /etc/subgid, and newuidmap and newgidmap: rootless images keep their users apart (stage 13 on)"
	fi
fi

# --- what the build and tests use ----------------------------------------
if [ -x "$rootfs/bin/sh" ] || [ -L "$rootfs/bin/sh" ]; then
	ok "root filesystem at $rootfs"
else
	warn "no root filesystem at $rootfs (stages 4 and later run in one)" \
		"sudo ./rootfs-fetch.sh (make run makes it too; the tests make their own)"
fi
if [ -e "$root/usr/include/CUnit/CUnit.h" ]; then
	ok "CUnit installed"
else
	warn "CUnit not installed: the tests need it" \
		"sudo make deps-test (make test installs it too)"
fi

# --- images (stage 13: pull from a registry, run an image) --------------
# Its libraries, by their headers (Debian's -dev packages): libcurl for
# HTTP, jansson for JSON, libarchive for tar and gzip, libcrypto for
# SHA-256.
missing_image=()
for h in curl/curl.h:libcurl4-openssl-dev jansson.h:libjansson-dev \
	archive.h:libarchive-dev openssl/sha.h:libssl-dev; do
	has_header "${h%%:*}" || missing_image+=("${h#*:}")
done
if [ ${#missing_image[@]} -eq 0 ]; then
	ok "the image libraries (libcurl, jansson, libarchive, libcrypto) installed (stage 13 builds with them)"
else
	warn "image libraries missing (${missing_image[*]}): stage 13 does not build" \
		"sudo make deps-run (make run and make test install them too)"
fi
missing_tools=()
for t in docker-registry umoci skopeo; do
	[ -x "$root/usr/bin/$t" ] || [ -x "$root/usr/local/bin/$t" ] ||
		missing_tools+=("$t")
done
if [ ${#missing_tools[@]} -eq 0 ]; then
	ok "docker-registry, umoci and skopeo installed (stage 13's tests run a real registry)"
else
	warn "${missing_tools[*]} not installed: stage 13's tests cannot start their registry" \
		"sudo make deps-test (make test installs them too)"
fi

# --- the network (stage 14: veth, bridge, NAT; slirp4netns without root) -
# Its library by its header: libnftables for the firewall rules (route
# netlink needs none, common/net/nlmsg.c speaks it).
if has_header nftables/libnftables.h; then
	ok "the network library (libnftables) installed (stage 14 builds with it)"
else
	warn "network library missing (libnftables-dev): stage 14 does not build" \
		"sudo make deps-run (make run and make test install it too)"
fi
# Without root, stage 14's network is slirp4netns, which opens
# /dev/net/tun as the user: some machines make it 0600.
tun=$(stat -c %a "$root/dev/net/tun" 2>/dev/null || true)
if ! [ -x "$root/usr/bin/slirp4netns" ]; then
	warn "slirp4netns not installed: stage 14 without root has no network (--net none)" \
		"sudo make deps-run (make run and make test install it too)"
elif [ "$tun" != 666 ]; then
	warn "/dev/net/tun is ${tun:-missing}${tun:+ (mode)}: slirp4netns cannot open it as an ordinary user, so stage 14 without root has no network (--net none)" \
		"sudo chmod 0666 /dev/net/tun (sudo modprobe tun when it is missing)"
else
	ok "slirp4netns installed and /dev/net/tun open to every user (stage 14's network without root)"
fi

# --- leftovers of broken or killed runs ----------------------------------
# Mounts under the build tree or the root filesystem: a stage that never
# unmounts (or a killed one) leaves them, and the next tests trip on them.
left_mounts=()
for dir in "$build" "$rootfs"; do
	[ -d "$dir" ] || continue
	abs=$(realpath -- "$dir")
	# Mount points under the directory, unescaped (\040 is a space); each
	# mount counts, also one stacked on another.
	while IFS= read -r point; do
		left_mounts+=("$point")
	done < <(awk -v top="$abs" '{
		p = $5
		gsub(/\\040/, " ", p)
		if (index(p, top "/") == 1)
			print p
	}' "$root/proc/self/mountinfo" 2>/dev/null)
done
if [ ${#left_mounts[@]} -gt 0 ]; then
	# The outermost ones: unmounting them recursively takes the rest.
	tops=$(printf '%s\n' "${left_mounts[@]}" | sort -u |
		awk '{ for (i = 1; i <= n; i++) if (index($0, t[i] "/") == 1) next; t[++n] = $0; print }')
	warn "${#left_mounts[@]} mount(s) left under $build or $rootfs by an earlier run: $(head -n 3 <<<"$tops" | paste -sd ' ')$([ "$(wc -l <<<"$tops")" -le 3 ] || echo ' ...')" \
		"sudo umount -R -l$(while IFS= read -r t; do printf ' %q' "$t"; done <<<"$tops") (or sudo make clean, which unmounts what is under build/ before it deletes it)"
else
	ok "no mount left under $build or $rootfs"
fi

# The groups of runtimes that are gone: minidocker/minidocker-<pid> whose
# pid no longer runs. The next run of stage 6 or later removes them.
stale=()
for parent in "$root"/sys/fs/cgroup/minidocker "$root"/sys/fs/cgroup/*/minidocker; do
	[ -d "$parent" ] || continue
	for g in "$parent"/minidocker-*; do
		[ -d "$g" ] || continue
		pid=${g##*/minidocker-}
		[[ $pid =~ ^[0-9]+$ ]] || continue
		[ -d "$root/proc/$pid" ] || stale+=("${g#"$root"}")
	done
done
if [ ${#stale[@]} -gt 0 ]; then
	warn "${#stale[@]} cgroup(s) of minidocker runtimes that are gone: $(printf '%s\n' "${stale[@]}" | head -n 3 | paste -sd ' ')$([ ${#stale[@]} -le 3 ] || echo ' ...')" \
		"the next run of stage 6 or later removes them; or now: sudo rmdir ${stale[*]} (kill the pids in a group's cgroup.procs first if it is busy)"
else
	ok "no cgroup left by a minidocker runtime that is gone"
fi

if [ "$problems" -gt 0 ]; then
	echo "doctor: $problems problem(s): see the FAIL lines and their fixes" >&2
	exit 1
fi
echo "doctor: this machine can run every stage and its tests"
