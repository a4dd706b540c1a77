#!/bin/busybox sh
# /init of the test VM (PID 1, run by the kernel from the initramfs).
#
# Moves itself onto a tmpfs root, mounts the kernel filesystems and cgroup2
# at /sys/fs/cgroup, runs the smoke check (/minidocker/vmcheck) and then the
# test runner as /minidocker/vm.conf says, and reports over the serial
# console with marker lines that tests/vm/run-vm.sh reads:
#
#   MINIDOCKER-VM-SMOKE=ok|FAIL   the smoke check's verdict
#   MINIDOCKER-VM-DYNAMIC=N       the second runner's status, when vm.conf
#                                 sets VM_DYNAMIC_ARGS (run-vm.sh --dynamic)
#   MINIDOCKER-VM-EXIT=N          0 when the smoke check and the suites passed
#
# Then it powers the VM off. If this script dies instead, the kernel panics,
# reboots, and qemu (-no-reboot) exits without a marker: run-vm.sh reports
# that as a failure.
# shellcheck shell=sh

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

# The kernel unpacks the initramfs into "rootfs", which pivot_root(2)
# refuses to leave (EINVAL): later stages pivot_root, so the tests must run
# on a real tmpfs mount. Copy everything there once and switch to it.
if [ "$1" != --switched ]; then
	/bin/busybox mkdir -p /newroot
	/bin/busybox mount -t tmpfs -o mode=0755 root /newroot || exit 1
	for f in /*; do
		[ "$f" = /newroot ] || /bin/busybox cp -a "$f" /newroot/ || exit 1
	done
	# switch_root empties the old root and execs us again on the new one.
	exec /bin/busybox switch_root /newroot /init --switched
fi

# Look like a small host: the suites run stages 1-3 on the VM's own root
# and expect what any distribution has (/etc/passwd, sh and ps in PATH).
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin /etc /root /proc /sys /dev /tmp /run
/bin/busybox --install -s
# nobody: the rootless tests run as 65534, and newuidmap finds that user's
# ranges in /etc/subuid by name.
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
	'nobody:x:65534:65534:nobody:/nonexistent:/bin/sh' >/etc/passwd
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >/etc/group
# A resolver, as a host names one; suite 14 checks that a container gets
# the host's. Nothing asks it: the address is TEST-NET-1 (RFC 5737), and
# the VM has no network card.
echo 'nameserver 192.0.2.53' >/etc/resolv.conf
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
# Terminals, for the tests that pull on one (script(1)).
mkdir -p /dev/pts
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
# cgroup2 alone, at the place stage 6 looks first; the kernel also offers
# the v1 hierarchies, but none is mounted, as on a systemd host today.
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Stage 12's overlayfs is a module in Debian's kernel (empty when built in).
[ ! -s /overlay.ko ] || insmod /overlay.ko || echo "vm: cannot load overlay.ko"
hostname minidocker-vm
# The loopback, where suite 13's registry listens (no other interface).
ip link set lo up || echo "vm: cannot bring lo up"
# Suite 13's images, pushed on the host (run-vm.sh --registry): its
# registry.sh serves them from here instead of building them.
if [ -d /minidocker/registry ]; then
	REGISTRY_FROM=/minidocker/registry
	export REGISTRY_FROM
fi

# Built without root, the test rootfs has no device nodes; make them here,
# where we are root (the numbers are fixed by the kernel's devices.txt).
rfs=/minidocker/build/test-rootfs
if [ -d "$rfs" ]; then
	mkdir -p "$rfs/dev"
	for node in "null 1 3" "zero 1 5" "random 1 8" "urandom 1 9" "tty 5 0"; do
		# shellcheck disable=SC2086 # split into name, major, minor
		set -- $node
		[ -e "$rfs/dev/$1" ] || mknod -m 0666 "$rfs/dev/$1" c "$2" "$3"
	done
fi

# The kernel modules of the second run, in the order /modules/order lists
# them (an empty file is built in).
load_modules() {
	while read -r ko; do
		[ ! -s "/modules/$ko" ] || insmod "/modules/$ko" || return 1
	done </modules/order
}

# The ext4 disk (run-vm.sh --ext4-tmp) on /tmp.
ext4_tmp() {
	# devtmpfs makes the node once the driver has probed the disk.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -b /dev/vda ] && break
		sleep 0.5
	done
	mount -t ext4 /dev/vda /tmp && chmod 1777 /tmp
}

# Seconds since boot, for the timings in the log.
uptime_s() {
	read -r up _ </proc/uptime
	echo "$up"
}

# Defaults, overridden by the file run-vm.sh writes.
VM_SMOKE_ONLY=0
VM_NO_SMOKE=0
VM_RUNNER_ARGS="--common --prove"
VM_DYNAMIC_ARGS=
VM_EXT4_TMP=0
VM_COMMAND=
if [ -r /minidocker/vm.conf ]; then
	# shellcheck source=/dev/null
	. /minidocker/vm.conf
fi

echo "vm: init at $(uptime_s) s, kernel $(uname -r), cmdline: $(cat /proc/cmdline)"

status=0
if /minidocker/vmcheck; then
	echo "MINIDOCKER-VM-SMOKE=ok"
else
	echo "MINIDOCKER-VM-SMOKE=FAIL"
	[ "$VM_NO_SMOKE" = 1 ] || status=1
fi

if [ "$status" -eq 0 ] && [ "$VM_SMOKE_ONLY" != 1 ] && [ -n "$VM_COMMAND" ]; then
	# Another program instead of the suites (make bench-vm).
	echo "vm: running $VM_COMMAND"
	"$VM_COMMAND"
	status=$?
elif [ "$status" -eq 0 ] && [ "$VM_SMOKE_ONLY" != 1 ]; then
	cd /minidocker || status=1
	start=$(uptime_s)
	if [ -x /minidocker/program.sh ]; then
		# run-vm.sh --program: another program instead of the suites.
		echo "vm: program starts at $start s: /minidocker/program.sh"
		./program.sh
		status=$?
	else
		echo "vm: runner starts at $start s: build/tests/runner --bin /minidocker/build --rootfs /minidocker/build/test-rootfs $VM_RUNNER_ARGS"
		# Word splitting of the argument list is intended.
		# shellcheck disable=SC2086
		./build/tests/runner --bin /minidocker/build --rootfs /minidocker/build/test-rootfs $VM_RUNNER_ARGS
		status=$?
	fi
	end=$(uptime_s)
	echo "vm: runner exited with $status after $(awk "BEGIN { print $end - $start }") s (uptime $end s)"
	if [ -n "$VM_DYNAMIC_ARGS" ] && [ ! -x /minidocker/program.sh ]; then
		# The dynamically linked stage, in a directory of its own: in
		# build/ the first run would take it for one of its stages.
		if [ -r /modules/order ] && ! load_modules; then
			echo "vm: cannot load the kernel modules of /modules"
			status=1
		fi
		if [ "$VM_EXT4_TMP" = 1 ] && ! ext4_tmp; then
			echo "vm: cannot mount the ext4 disk on /tmp"
			status=1
		fi
		runner=./build/tests/runner
		[ ! -x dynamic-tests/runner ] || runner=./dynamic-tests/runner
		start=$end
		echo "vm: runner starts at $start s: $runner --rootfs /minidocker/build/test-rootfs $VM_DYNAMIC_ARGS"
		# shellcheck disable=SC2086 # one word per argument
		$runner --rootfs /minidocker/build/test-rootfs $VM_DYNAMIC_ARGS
		dynamic=$?
		end=$(uptime_s)
		echo "vm: runner exited with $dynamic after $(awk "BEGIN { print $end - $start }") s (uptime $end s)"
		echo "MINIDOCKER-VM-DYNAMIC=$dynamic"
		[ "$dynamic" -eq 0 ] || [ "$status" -ne 0 ] || status=1
	fi
fi

echo "MINIDOCKER-VM-EXIT=$status"
sync
poweroff -f
