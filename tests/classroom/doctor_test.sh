#!/usr/bin/env bash
# Tests for tools/doctor.sh: fake /proc and /sys trees (DOCTOR_ROOT) and a
# fake unshare (DOCTOR_UNSHARE) prove each diagnosis: cgroup v1, v2 with
# and without pids, hybrid; v1 without memory, v2 without cpu; shared and
# private /; user namespaces restricted; WSL 1 and 2; not root; a container
# without privileges; an old kernel; no overlayfs, or none in a user
# namespace, or /run on an overlay; what broken runs left (mounts in the
# build tree, the groups of runtimes that are gone); a user without
# newuidmap or a range in /etc/subuid (rootless images). Needs no root.
set -u
cd "$(dirname -- "$0")/../.." || exit 1
# shellcheck source=tests/classroom/lib.sh
. tests/classroom/lib.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/doctor-test.XXXXXX") || exit 1
trap 'rm -rf -- "$T"' EXIT

# The fake unshare: refuses the kinds listed in $T/refuse.
cat >"$T/unshare" <<'SH'
#!/bin/sh
for kind in $(cat "$(dirname "$0")/refuse" 2>/dev/null); do
	case " $* " in *" --$kind "*) exit 1 ;; esac
done
exit 0
SH
chmod +x "$T/unshare"

# A mountinfo line: ID PARENT POINT OPTIONAL TYPE SOURCE SUPER.
line() {
	echo "$1 1 0:$1 / $2 rw,relatime $3 - $4 $4 $5"
}

# tree NAME CGROUPS: a healthy Debian host as root whose cgroups are
# CGROUPS (v1, v2, v2-nopids or hybrid); the tests then spoil one thing.
tree() {
	local d=$T/$1
	rm -rf "$d"
	mkdir -p "$d/proc/self" "$d/proc/sys/kernel" "$d/proc/sys/user" \
		"$d/sys/fs/cgroup" "$d/usr/include/CUnit" "$d/rootfs/bin" \
		"$d/build/test-rootfs/proc"
	printf 'Name:\tbash\nUid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n' >"$d/proc/self/status"
	echo 6.1.0-18-amd64 >"$d/proc/sys/kernel/osrelease"
	echo 'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP' >"$d/proc/version"
	echo 1 >"$d/proc/sys/kernel/unprivileged_userns_clone"
	echo 15000 >"$d/proc/sys/user/max_user_namespaces"
	printf 'nodev\tproc\nnodev\toverlay\n\text4\n' >"$d/proc/filesystems"
	mkdir -p "$d/proc/sys/kernel/seccomp"
	echo 'kill_process kill_thread trap errno user_notif trace log allow' >"$d/proc/sys/kernel/seccomp/actions_avail"
	touch "$d/usr/include/seccomp.h"
	touch "$d/usr/include/CUnit/CUnit.h"
	mkdir -p "$d/usr/include/curl" "$d/usr/include/openssl" "$d/usr/bin"
	touch "$d/usr/include/curl/curl.h" "$d/usr/include/jansson.h" \
		"$d/usr/include/archive.h" "$d/usr/include/openssl/sha.h"
	mkdir -p "$d/usr/include/nftables" "$d/dev/net"
	touch "$d/usr/include/nftables/libnftables.h" "$d/dev/net/tun"
	chmod 0666 "$d/dev/net/tun"
	for t in docker-registry umoci skopeo slirp4netns newuidmap newgidmap; do
		printf '#!/bin/sh\n' >"$d/usr/bin/$t"
		chmod +x "$d/usr/bin/$t"
	done
	ln -s busybox "$d/rootfs/bin/sh"
	mkdir -p "$d/etc"
	printf 'root:x:0:0:root:/root:/bin/bash\nlearner:x:1000:1000::/home/learner:/bin/bash\n' >"$d/etc/passwd"
	echo learner:100000:65536 >"$d/etc/subuid"
	echo learner:100000:65536 >"$d/etc/subgid"
	{
		line 21 / shared:1 ext4 rw
		case $2 in
		v2 | v2-nopids) line 30 /sys/fs/cgroup shared:9 cgroup2 rw ;;
		v1 | hybrid)
			line 30 /sys/fs/cgroup shared:9 tmpfs rw,mode=755
			line 31 /sys/fs/cgroup/memory shared:10 cgroup rw,memory
			line 32 /sys/fs/cgroup/pids shared:11 cgroup rw,pids
			line 34 /sys/fs/cgroup/cpu,cpuacct shared:13 cgroup rw,cpu,cpuacct
			mkdir "$d/sys/fs/cgroup/cpu,cpuacct"
			ln -s cpu,cpuacct "$d/sys/fs/cgroup/cpu"
			ln -s cpu,cpuacct "$d/sys/fs/cgroup/cpuacct"
			;;
		esac
		[ "$2" != hybrid ] || line 33 /sys/fs/cgroup/unified shared:12 cgroup2 rw
	} >"$d/proc/self/mountinfo"
	case $2 in
	v2) echo 'cpuset cpu io memory hugetlb pids rdma misc' ;;
	v2-nopids) echo 'cpuset cpu io memory' ;;
	*) : ;;
	esac >"$d/sys/fs/cgroup/cgroup.controllers"
	: >"$T/refuse"
}

# doctor NAME: run the doctor on tree NAME; output in $out, status in $rc.
# As root with no sudo user (not a learner's sudo), unless $user names
# one.
user=
doctor() {
	out=$(DOCTOR_USER=$user DOCTOR_ROOT=$T/$1 DOCTOR_UNSHARE=$T/unshare \
		DOCTOR_ROOTFS=$T/$1/rootfs DOCTOR_BUILD=$T/$1/build tools/doctor.sh 2>&1)
	rc=$?
}

# has REGEX: a line of the output matches (extended regex).
has() {
	grep -Eq -- "$1" <<<"$out"
}

passes() {
	[ "$rc" -eq 0 ]
}

fails() {
	[ "$rc" -eq 1 ]
}

tree v1 v1
doctor v1
check "v1: pids on v1 is fine" "got: $out" has '^OK +cgroup v1, the pids controller at /sys/fs/cgroup/pids$'
check "v1: exits 0" "status $rc" passes
check "v1: rootless works, without a limit" "got: $out" has '^OK +user namespaces are not restricted: rootless works .*without a pids limit'
check "healthy host: every item OK" "got: $out" eval '! has "^(WARN|FAIL)"'
check "v1: memory, cpu and cpuacct found (cpu,cpuacct linked)" "got: $out" has '^OK +cgroup v1 hierarchies for memory, cpu and cpuacct'
check "healthy host: no mount left" "got: $out" has '^OK +no mount left under '
check "healthy host: no cgroup left" "got: $out" has '^OK +no cgroup left by a minidocker runtime that is gone$'

# Leftovers: proc mounts a stage that never unmounts left in the build
# tree (one on top of another, and one with a space in its path), and the
# group of a runtime that is gone beside that of one that still runs.
tree left v1
mkdir -p "$T/left/build/test-rootfs/proc" "$T/left/build/a b" \
	"$T/left/sys/fs/cgroup/pids/minidocker/minidocker-4242" \
	"$T/left/sys/fs/cgroup/pids/minidocker/minidocker-4343" "$T/left/proc/4343"
{
	line 40 "$T/left/build/test-rootfs/proc" shared:20 proc rw
	line 41 "$T/left/build/test-rootfs/proc" shared:21 proc rw
	line 42 "$T/left/build/a\\040b" shared:22 tmpfs rw
	line 43 "$T/elsewhere" shared:23 tmpfs rw
} >>"$T/left/proc/self/mountinfo"
doctor left
check "leftover mounts: found, counted" "got: $out" has "^WARN +3 mount\\(s\\) left under $T/left/build or "
check "leftover mounts: the fix unmounts each outermost one" "got: $out" \
	has "fix: sudo umount -R -l $T/left/build/a\\\\ b $T/left/build/test-rootfs/proc \\(or sudo make clean"
check "leftover mounts: one elsewhere is not counted" "got: $out" eval '! has "elsewhere"'
check "leftover cgroup: the dead runtime's group is found" "got: $out" \
	has "^WARN +1 cgroup\\(s\\) of minidocker runtimes that are gone: /sys/fs/cgroup/pids/minidocker/minidocker-4242$"
check "leftover cgroup: its fix" "got: $out" has "fix: the next run of stage 6 or later removes them; or now: sudo rmdir /sys/fs/cgroup/pids/minidocker/minidocker-4242 "
check "leftovers are warnings: exits 0" "status $rc" passes

tree v2 v2
doctor v2
check "v2 with pids is fine" "got: $out" has '^OK +cgroup v2 at /sys/fs/cgroup, with the pids controller$'
check "v2 with pids: exits 0" "status $rc" passes
check "v2: memory and cpu found" "got: $out" has '^OK +cgroup v2 has the memory and cpu controllers'
check "v2: rootless works, limited where delegated" "got: $out" has '^OK +user namespaces are not restricted: rootless works .*with a pids limit where systemd delegates'

check "v2: no kernel config, no word on BPF" "got: $out" eval '! has "CGROUP_BPF|BPF programs"'
mkdir -p "$T/v2/boot"
echo CONFIG_CGROUP_BPF=y >"$T/v2/boot/config-6.1.0-18-amd64"
doctor v2
check "v2: device rules through BPF" "got: $out" has '^OK +the kernel attaches BPF programs to cgroups'
echo '# CONFIG_CGROUP_BPF is not set' >"$T/v2/boot/config-6.1.0-18-amd64"
doctor v2
check "v2 without CGROUP_BPF is a problem" "got: $out" has '^FAIL +the kernel lacks CONFIG_CGROUP_BPF'
check "v2 without CGROUP_BPF: exits 1" "status $rc" fails
rm -r "$T/v2/boot"

tree v2n v2-nopids
doctor v2n
check "v2 without pids is a problem" "got: $out" has '^FAIL +cgroup v2 at /sys/fs/cgroup, without the pids controller \(it has: cpuset cpu io memory\)$'
check "v2 without pids: a fix follows" "got: $out" has '^ +fix: .*delegated'
check "v2 without pids: exits 1" "status $rc" fails


tree v1-nomem v1
sed -i '/cgroup\/memory /d' "$T/v1-nomem/proc/self/mountinfo"
doctor v1-nomem
check "v1 without memory is a problem" "got: $out" has '^FAIL +cgroup v1 without a hierarchy at /sys/fs/cgroup/<name> for: memory '
check "v1 without memory: its fix mounts it" "got: $out" has 'fix: mkdir /sys/fs/cgroup/memory && mount -t cgroup -o memory memory /sys/fs/cgroup/memory'
check "v1 without memory: exits 1" "status $rc" fails

tree v2-nocpu v2
echo 'cpuset io memory hugetlb pids' >"$T/v2-nocpu/sys/fs/cgroup/cgroup.controllers"
doctor v2-nocpu
check "v2 without cpu is a problem" "got: $out" has '^FAIL +cgroup v2 at /sys/fs/cgroup without the cpu controller'
check "v2 without cpu: its fix enables it" "got: $out" has 'echo \+cpu > /sys/fs/cgroup/cgroup.subtree_control'
check "v2 without cpu: exits 1" "status $rc" fails

tree tun0600 v1
chmod 0600 "$T/tun0600/dev/net/tun"
doctor tun0600
check "/dev/net/tun 0600: rootless stage 14 has no network, a warning" "got: $out" \
	has '^WARN +/dev/net/tun is 600 \(mode\): slirp4netns cannot open it'
check "/dev/net/tun 0600: its fix" "got: $out" has 'sudo chmod 0666 /dev/net/tun'
check "/dev/net/tun 0600: exits 0" "status $rc" passes

tree oldkernel v1
echo 5.10.0-28-amd64 >"$T/oldkernel/proc/sys/kernel/osrelease"
doctor oldkernel
check "kernel 5.10: stage 11 cannot run" "got: $out" has '^WARN +kernel 5.10.0-28-amd64: stage 11 needs 5.12'
check "kernel 5.10: a warning, exits 0" "status $rc" passes

tree noseccomp v1
rm "$T/noseccomp/proc/sys/kernel/seccomp/actions_avail"
doctor noseccomp
check "no seccomp filter is a problem" "got: $out" has '^FAIL +the kernel offers no seccomp filter'
check "no seccomp filter: exits 1" "status $rc" fails

tree hybrid hybrid
doctor hybrid
check "hybrid: pids on v1 beside v2" "got: $out" has '^OK +cgroup hybrid: v2 at /sys/fs/cgroup/unified, the pids controller on v1 at /sys/fs/cgroup/pids$'
check "hybrid: exits 0" "status $rc" passes

tree hybrid-nopids hybrid
sed -i '/cgroup\/pids /d' "$T/hybrid-nopids/proc/self/mountinfo"
doctor hybrid-nopids
check "hybrid without v1 pids is a problem" "got: $out" has '^FAIL +cgroup hybrid: no v1 pids hierarchy at /sys/fs/cgroup/pids$'

tree shared v1
doctor shared
check "shared / is recognised" "got: $out" has '^OK +/ is shared'
tree private v1
sed -i 's| / / rw,relatime shared:1 | / / rw,relatime |' "$T/private/proc/self/mountinfo"
doctor private
check "private / is recognised" "got: $out" has '^OK +/ is private'

tree clone v2
echo 0 >"$T/clone/proc/sys/kernel/unprivileged_userns_clone"
doctor clone
check "unprivileged_userns_clone=0 is a warning" "got: $out" has '^WARN +kernel.unprivileged_userns_clone is 0'
check "unprivileged_userns_clone=0: its fix" "got: $out" has 'fix: sudo sysctl -w kernel.unprivileged_userns_clone=1$'
check "unprivileged_userns_clone=0: exits 0 (root needs no fix)" "status $rc" passes
check "unprivileged_userns_clone=0: rootless is not claimed" "got: $out" eval '! has "rootless works"'

tree apparmor v2
echo 1 >"$T/apparmor/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
doctor apparmor
check "AppArmor userns restriction is a warning" "got: $out" has '^WARN +kernel.apparmor_restrict_unprivileged_userns is 1'

tree maxns v2
echo 0 >"$T/maxns/proc/sys/user/max_user_namespaces"
echo user >"$T/refuse"
doctor maxns
check "max_user_namespaces=0 is a problem" "got: $out" has '^FAIL +user.max_user_namespaces is 0'
check "max_user_namespaces=0: the user namespace is refused" "got: $out" has '^FAIL +namespaces refused: user$'
check "max_user_namespaces=0: exits 1" "status $rc" fails

tree wsl1 v1
echo 'Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) ) #488-Microsoft' >"$T/wsl1/proc/version"
doctor wsl1
check "WSL 1 is a problem" "got: $out" has '^FAIL +WSL 1:'
check "WSL 1: exits 1" "status $rc" fails
tree wsl2 v2
echo 'Linux version 5.15.90.1-microsoft-standard-WSL2 (oe-user@oe-host) #1 SMP' >"$T/wsl2/proc/version"
doctor wsl2
check "WSL 2 is fine" "got: $out" has '^OK +WSL 2:'
check "WSL 2 is not called not WSL" "got: $out" eval '! has "not WSL"'

tree user v1
printf 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n' >"$T/user/proc/self/status"
printf '%s\n' uts pid mount >"$T/refuse"
doctor user
check "not root is a problem" "got: $out" has '^FAIL +not running as root'
check "not root: the namespaces fix is sudo" "got: $out" eval 'grep -EA1 "^FAIL +namespaces refused: uts pid mount$" <<<"$out" | grep -q "fix: run it with sudo$"'
check "not root: exits 1" "status $rc" fails

tree box v2
touch "$T/box/.dockerenv"
printf 'Uid:\t0\t0\t0\t0\nCapEff:\t00000000a80425fb\n' >"$T/box/proc/self/status"
printf '%s\n' uts pid mount user >"$T/refuse"
doctor box
check "unprivileged container is a problem" "got: $out" has '^FAIL +inside a container \(docker\) without the privileges'
check "unprivileged container: root without CAP_SYS_ADMIN" "got: $out" has '^FAIL +root, but without CAP_SYS_ADMIN'
check "unprivileged container: fix is --privileged" "got: $out" has 'fix: run it with --privileged'
tree privbox v2
touch "$T/privbox/.dockerenv"
doctor privbox
check "privileged container is fine" "got: $out" has '^OK +inside a container \(docker\), privileged enough'

tree old v1
echo 3.2.0-4-amd64 >"$T/old/proc/sys/kernel/osrelease"
doctor old
check "kernel before 3.8 is a problem" "got: $out" has '^FAIL +kernel 3.2.0-4-amd64'

tree older v2
echo 5.4.0-42-generic >"$T/older/proc/sys/kernel/osrelease"
doctor older
check "kernel before 5.7 is a warning (clone3 into a v2 group)" "got: $out" has '^WARN +kernel 5.4.0-42-generic: .*CLONE_INTO_CGROUP'
tree v1 v1
doctor v1
check "overlayfs found (stage 12)" "got: $out" has '^OK +overlayfs, mountable in a user namespace'
check "/run on ext4 can hold the layers" "got: $out" has '^OK +/run is on ext4'

tree noovl v1
: >"$T/noovl/proc/filesystems"
doctor noovl
check "no overlayfs is a problem" "got: $out" has '^FAIL +no overlayfs in this kernel'
check "no overlayfs: its fix loads it" "got: $out" has 'fix: sudo modprobe overlay'
mkdir -p "$T/noovl/lib/modules/6.1.0-18-amd64/kernel/fs/overlayfs"
doctor noovl
check "overlayfs as a module not yet loaded is fine" "got: $out" has '^OK +overlayfs'

tree ovl510 v1
echo 5.10.0-28-amd64 >"$T/ovl510/proc/sys/kernel/osrelease"
doctor ovl510
check "kernel 5.10 cannot mount overlayfs in a user namespace" "got: $out" has '^WARN +kernel 5.10.0-28-amd64: no overlayfs inside a user namespace before 5.11'

tree runovl v1
sed -i 's| / / rw,relatime shared:1 - ext4 | / / rw,relatime shared:1 - overlay |' "$T/runovl/proc/self/mountinfo"
doctor runovl
check "/run on an overlay is a problem" "got: $out" has '^FAIL +/run is on an overlay'
line 40 /run shared:20 tmpfs rw >>"$T/runovl/proc/self/mountinfo"
doctor runovl
echo 6.8.0-45-generic >"$T/runovl/proc/sys/kernel/osrelease"
doctor runovl
check "a tmpfs on /run over an overlay root is fine (6.6+)" "got: $out" has '^OK +/run is on tmpfs'
echo 6.1.0-18-amd64 >"$T/runovl/proc/sys/kernel/osrelease"
doctor runovl
check "a tmpfs on /run before 6.6 is a warning" "got: $out" has '^WARN +/run is on tmpfs, which keeps no user xattrs before Linux 6.6'

# Rootless images (stage 13 on): the learner who ran sudo needs
# newuidmap, newgidmap and a range in /etc/subuid and /etc/subgid, by
# name or by uid, else every file of an image belongs to one user.
user=learner
tree subids v1
doctor subids
check "subids: the user's range and newuidmap found" "got: $out" \
	has '^OK +learner has subordinate ids in /etc/subuid and /etc/subgid, and newuidmap and newgidmap'
echo 1000:200000:65536 >"$T/subids/etc/subuid"
doctor subids
check "subids: a range given by uid counts" "got: $out" has '^OK +learner has subordinate ids'
echo someone:100000:65536 >"$T/subids/etc/subuid"
doctor subids
check "no subuid range: a warning naming the user" "got: $out" \
	has '^WARN +no range for learner in /etc/subuid: .*one user'
check "no subuid range: its fix" "got: $out" \
	has 'fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 learner$'
check "no subuid range: a warning, exits 0" "status $rc" passes
tree nouidmap v1
rm "$T/nouidmap/usr/bin/newgidmap"
doctor nouidmap
check "no newgidmap: a warning" "got: $out" \
	has '^WARN +newuidmap or newgidmap not installed: .*one user'
check "no newgidmap: its fix" "got: $out" has 'fix: sudo apt-get install uidmap$'
check "no newgidmap: a warning, exits 0" "status $rc" passes
user=
doctor nouidmap
check "as root alone, the rootless ids are not checked" "got: $out" eval '! has "newuidmap|subordinate"'

tree bare v1
rm -rf "$T/bare/usr/include/CUnit" "$T/bare/rootfs" "$T/bare/usr/include/jansson.h" \
	"$T/bare/usr/bin/umoci" "$T/bare/usr/include/nftables/libnftables.h"
doctor bare
check "no jansson is a warning" "got: $out" has '^WARN +image libraries missing \(libjansson-dev\)'
check "no libnftables is a warning" "got: $out" has '^WARN +network library missing \(libnftables-dev\)'
check "no umoci is a warning" "got: $out" has '^WARN +umoci not installed'

check "no CUnit is a warning" "got: $out" has '^WARN +CUnit not installed'
check "no rootfs is a warning" "got: $out" has '^WARN +no root filesystem at '
check "warnings alone: exits 0" "status $rc" passes

summary
