#!/bin/bash
# Run the test suites in a small qemu VM whose /sys/fs/cgroup is cgroup v2
# with the pids controller, the configuration stage 6 prefers and that the
# development hosts (pids on cgroup v1) cannot offer.
#
# usage: tests/vm/run-vm.sh [options] [-- runner arguments]
#   --bin DIR        static build: DIR/stage-N, DIR/tests/runner,
#                    DIR/tests/probe, DIR/test-rootfs (default $VM_OUT/static)
#   --dynamic FILE   also FILE, a dynamically linked stage-N (the one
#                    binary allowed to be): copied with its dynamic loader
#                    and the libraries ldd lists, at their own absolute
#                    paths, and run by a second runner after the first,
#                    --bin /minidocker/dynamic --stage N
#   --dynamic-args ARGS
#                    that runner's other arguments, one string (default
#                    "--only 0-smoke --only 6-cgroup --only 9-limits
#                    --only test_rootless_limit_only_where_delegated
#                    --only test_device_rules_deny_what_they_do_not_allow")
#   --tool FILE      a host program the suites of the second run call
#                    (repeatable): copied into the VM as /bin/NAME, first
#                    in PATH (before busybox's), mode kept (newuidmap's
#                    setuid bit), with the libraries ldd lists, as
#                    --dynamic's are
#   --lib SONAME     a library the dynamic stage loads at its first use
#                    (common/lazy.h; repeatable): copied where ldconfig
#                    finds it on the host, with the libraries it needs
#   --registry DIR   the test images, pushed on the host into a registry's
#                    storage (tests/registry/registry.sh --prepare DIR):
#                    copied as /minidocker/registry with registry.sh, which
#                    suite 13 then runs as REGISTRY_FROM=/minidocker/registry
#                    to serve them inside the VM, on its loopback
#   --ext4-tmp       the second run's /tmp on an ext4 disk ($VM_OUT/tmp.img,
#                    made afresh), not on the tmpfs: a pull stores the
#                    overlay's user.* marks, which tmpfs holds only from
#                    Linux 6.6 on, and on a learner's machine the store is
#                    on a disk
#   --runner FILE    the second run's runner, which may be dynamically
#                    linked (copied with its libraries): the host's, with
#                    suites 14 and 15 and their network helpers, which the
#                    static runner cannot link (default: the static one)
#   --vmcheck FILE   the static smoke check (default $VM_OUT/vmcheck)
#   --smoke-only     boot and run the smoke check alone, no suites
#   --append ARGS    more kernel command line
#   --expect-smoke-fail
#                    self-check: pass only when the VM run reports FAIL
#                    because the smoke check failed (use with --append
#                    cgroup_disable=pids)
#   --no-smoke       run the suites even when the smoke check fails (to
#                    see what the suites themselves say, for example with
#                    --append cgroup_disable=pids)
#   --kernel-only    fetch and cache the kernel, then stop
#   --name NAME      the name on the verdict line (default test-vm)
#   --program FILE   a shell script to run in the VM, in /minidocker,
#                    instead of the suites (make bench-vm)
# The runner arguments default to "--common --prove". Only the stages of
# --bin run with them: a stage-N there must be static, since the VM has no
# C library but the one --dynamic brings for its binary.
#
# environment:
#   VM_OUT      cache and work directory (default build/vm)
#   VM_TIMEOUT  seconds the VM may run (default 600)
#   VM_ACCEL    tcg (default) or kvm
#   VM_MEM      MiB of memory (default 1024)
#   VM_SMP      virtual CPUs (default 2)
#
# Ends with one line "NAME: PASS" or "NAME: FAIL (why)"; exits 0 on PASS.
set -u
# mkfs.ext4 and ldconfig, for a user whose PATH lacks them.
PATH=$PATH:/usr/sbin:/sbin

VM_OUT=${VM_OUT:-build/vm}
VM_TIMEOUT=${VM_TIMEOUT:-600}
VM_ACCEL=${VM_ACCEL:-tcg}
VM_MEM=${VM_MEM:-1024}
VM_SMP=${VM_SMP:-2}

bin_dir=$VM_OUT/static
vmcheck=$VM_OUT/vmcheck
smoke_only=0
no_smoke=0
append=""
expect_smoke_fail=0
kernel_only=0
name=test-vm
program=
runner_args=(--common --prove)
dynamic=
tools=()
libs=()
registry=
ext4_tmp=0
runner2=
# The modules the second run needs, as Debian builds them (under
# lib/modules/VERSION/), in the order they load: each after those it
# depends on. An ext4 filesystem on a virtio disk (--ext4-tmp); veth, the
# bridge, nftables with NAT and fib, and tun, for suites 14 and 15.
vm_modules="kernel/crypto/crc32c_generic kernel/lib/crc16 kernel/fs/mbcache
kernel/fs/jbd2/jbd2 kernel/fs/ext4/ext4 kernel/drivers/virtio/virtio_ring
kernel/drivers/virtio/virtio kernel/drivers/virtio/virtio_pci_modern_dev
kernel/drivers/virtio/virtio_pci_legacy_dev kernel/drivers/virtio/virtio_pci
kernel/drivers/block/virtio_blk
kernel/lib/libcrc32c kernel/net/netfilter/nfnetlink kernel/net/netfilter/nf_tables
kernel/net/ipv4/netfilter/nf_defrag_ipv4 kernel/net/ipv6/netfilter/nf_defrag_ipv6
kernel/net/netfilter/nf_conntrack kernel/net/netfilter/nf_nat
kernel/net/netfilter/nft_chain_nat kernel/net/netfilter/nft_nat
kernel/net/netfilter/nft_masq kernel/net/netfilter/nft_fib
kernel/net/ipv4/netfilter/nft_fib_ipv4 kernel/net/netfilter/nft_ct
kernel/net/llc/llc kernel/net/802/stp kernel/net/bridge/bridge
kernel/drivers/net/veth kernel/drivers/net/tun"
dynamic_args="--only 0-smoke --only 6-cgroup --only 9-limits --only test_rootless_limit_only_where_delegated --only test_device_rules_deny_what_they_do_not_allow"

here=$(dirname "$0")

# One line on stderr, then exit 2 (a broken set-up, not a test verdict).
die() {
	echo "run-vm: $*" >&2
	exit 2
}

# The verdict line; exit 0 for PASS, 1 for FAIL.
verdict() {
	if [ "$1" = PASS ]; then
		echo "$name: PASS${2:+ ($2)}"
		exit 0
	fi
	echo "$name: FAIL ($2)" >&2
	exit 1
}

# Seconds since the epoch with centiseconds, for the timings.
now() {
	date +%s.%N | cut -c1-13
}

# B - A in seconds, two decimals.
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--bin) bin_dir=${2:?--bin needs a directory}; shift ;;
		--vmcheck) vmcheck=${2:?--vmcheck needs a file}; shift ;;
		--smoke-only) smoke_only=1 ;;
		--no-smoke) no_smoke=1 ;;
		--append) append="$append ${2:?--append needs arguments}"; shift ;;
		--expect-smoke-fail) expect_smoke_fail=1; smoke_only=1 ;;
		--kernel-only) kernel_only=1 ;;
		--name) name=${2:?--name needs a name}; shift ;;
		--program) program=${2:?--program needs a file}; shift ;;
		--dynamic) dynamic=${2:?--dynamic needs a file}; shift ;;
		--dynamic-args) dynamic_args=${2?--dynamic-args needs arguments}; shift ;;
		--tool) tools+=("${2:?--tool needs a file}"); shift ;;
		--lib) libs+=("${2:?--lib needs a library name}"); shift ;;
		--registry) registry=${2:?--registry needs a directory}; shift ;;
		--ext4-tmp) ext4_tmp=1 ;;
		--runner) runner2=${2:?--runner needs a file}; shift ;;
		--) shift; [ $# -gt 0 ] && runner_args=("$@"); break ;;
		*) die "unknown option '$1' (see the comment at the top of $0)" ;;
		esac
		shift
	done
	case $VM_TIMEOUT in
	'' | *[!0-9]*) die "VM_TIMEOUT must be a number of seconds, not '$VM_TIMEOUT'" ;;
	esac
	case $VM_ACCEL in
	tcg | kvm) ;;
	*) die "VM_ACCEL must be tcg or kvm, not '$VM_ACCEL'" ;;
	esac
	case ${dynamic##*/} in
	'') ;;
	stage-[1-9] | stage-[1-9][0-9]) ;;
	*) die "--dynamic takes a stage binary named stage-N, not '$dynamic'" ;;
	esac
	# The second run is of the suites; a smoke check or another program
	# replaces both runs.
	if [ "$smoke_only" = 1 ] || [ -n "$program" ]; then
		dynamic=
	fi
	[ -n "$dynamic" ] || ext4_tmp=0
}

# Install the Debian packages the VM is built from when any is missing, as
# root (tools/deps.sh); without root, name them and fail. busybox must be
# the static build: the VM has no C library.
ensure_tools() {
	local pkgs=(qemu-system-x86 xz-utils cpio gzip busybox-static)
	# mkfs.ext4 for --ext4-tmp.
	[ "$ext4_tmp" = 0 ] || pkgs+=(e2fsprogs)
	"$here/../../tools/deps.sh" test-vm "${pkgs[@]}" || exit 2
}

# The versioned package behind linux-image-amd64 (Debian's generic kernel,
# which has the pids controller and boots under qemu; the cloud kernel
# would do too, but the generic one is what a learner's laptop runs).
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

# Write the uncompressed ELF kernel inside the bzImage $1 to $2; fail when
# there is none or qemu could not boot it (no PVH entry note).
extract_elf() {
	local bz=$1 out=$2 off
	# The payload is an xz stream (CONFIG_KERNEL_XZ); its magic may also
	# occur by chance earlier, so try every match until one is an ELF.
	while read -r off; do
		# --single-stream: the bzImage trailer after the stream is not xz.
		tail -c +$((off + 1)) "$bz" | xz -dc --single-stream >"$out" 2>/dev/null || continue
		[ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
		# qemu boots an ELF kernel only through its PVH entry, the Xen
		# note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY).
		command -v readelf >/dev/null 2>&1 || break
		readelf -n "$out" 2>/dev/null | grep -qE 'Unknown note type: \(0x00000012\)|PHYS32_ENTRY' || break
		return 0
	done < <(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | cut -d: -f1)
	rm -f "$out"
	return 1
}

# Set $kernel to a bootable kernel, fetched and unpacked once into
# $VM_OUT/kernel. Never installs a kernel on the host.
fetch_kernel() {
	local dir=$VM_OUT/kernel pkg tmp t0 deb
	# A cache from before stage 12 lacks the overlay module, one from
	# before suites 13 and 14 ran in the VM the second run's (the cache
	# knows which it holds): fetch again.
	if [ -s "$dir/kernel" ] && [ -e "$dir/overlay.ko" ] &&
		[ "$(cat "$dir/modules/list" 2>/dev/null)" = "$vm_modules" ]; then
		kernel=$dir/$(cat "$dir/kernel")
		[ -f "$kernel" ] && return 0
	fi
	t0=$(now)
	pkg=$(kernel_package)
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		# No package lists yet (a fresh machine): fetch them once.
		apt-get update -qq >/dev/null || die "apt-get update failed: cannot find a kernel"
		pkg=$(kernel_package)
	fi
	[ -n "$pkg" ] || die "cannot find the package behind linux-image-amd64: run 'sudo apt-get update' first"
	echo "run-vm: fetching $pkg (once; cached in $dir)"
	mkdir -p "$VM_OUT" || die "cannot create '$VM_OUT'"
	tmp=$(mktemp -d "$VM_OUT/kernel.tmp.XXXXXX") || die "cannot create a directory in '$VM_OUT'"
	local opts=()
	# apt downloads as the user _apt, which may not write here; as root,
	# download as root instead of warning about it.
	[ "$(id -u)" -eq 0 ] && opts=(-o APT::Sandbox::User=root)
	(cd "$tmp" && apt-get download -qq "${opts[@]}" "$pkg" >/dev/null) ||
		{ rm -rf "$tmp"; die "cannot download '$pkg' with apt-get download"; }
	deb=$(ls "$tmp"/*.deb)
	# The kernel image, and of the modules only overlayfs (stage 12): the
	# serial console needs none, and Debian builds overlayfs as a module.
	# And the second run's (vm_modules).
	local want=('./boot/vmlinuz-*' './lib/modules/*/kernel/fs/overlayfs/*') m
	for m in $vm_modules; do
		want+=("./lib/modules/*/$m.ko*")
	done
	dpkg-deb --fsys-tarfile "$deb" | tar -xf - -C "$tmp" --wildcards "${want[@]}" ||
		{ rm -rf "$tmp"; die "cannot unpack the kernel from '$deb'"; }
	rm -f "$deb"
	unpack_module "$tmp" overlay "$tmp/overlay.ko" ||
		{ rm -rf "$tmp"; die "cannot unpack the overlay module from '$deb'"; }
	mkdir -p "$tmp/modules"
	for m in $vm_modules; do
		m=${m##*/}
		unpack_module "$tmp" "$m" "$tmp/modules/$m.ko" && echo "$m.ko" >>"$tmp/modules/order" ||
			{ rm -rf "$tmp"; die "cannot unpack the module $m from '$deb'"; }
	done
	echo "$vm_modules" >"$tmp/modules/list"
	rm -rf "${tmp:?}/lib"
	if ! { mv "$tmp"/boot/vmlinuz-* "$tmp/vmlinuz" && rmdir "$tmp/boot"; }; then
		rm -rf "$tmp"
		die "no boot/vmlinuz-* in '$pkg'"
	fi
	echo "$pkg" >"$tmp/package"
	# qemu loads an ELF kernel without the bzImage's self-decompression,
	# which under software emulation saves seconds on every boot.
	if extract_elf "$tmp/vmlinuz" "$tmp/vmlinux"; then
		echo vmlinux >"$tmp/kernel"
	else
		echo "run-vm: no bootable ELF kernel inside the bzImage; booting the bzImage"
		echo vmlinuz >"$tmp/kernel"
	fi
	rm -rf "$dir"
	mv "$tmp" "$dir" || die "cannot move the kernel into '$dir'"
	kernel=$dir/$(cat "$dir/kernel")
	echo "run-vm: kernel fetch and unpack took $(elapsed "$t0" "$(now)") s: $kernel"
}

# The module $2 unpacked under $1, uncompressed into $3; empty when the
# kernel has it built in (nothing to load).
unpack_module() {
	local ko
	ko=$(find "$1/lib" -name "$2.ko*" | head -n 1)
	case $ko in
	*.xz) xz -dc "$ko" >"$3" ;;
	*.zst) zstd -qdc "$ko" >"$3" ;;
	?*) cp "$ko" "$3" ;;
	*) : >"$3" ;;
	esac
}

# Build $VM_OUT/initramfs.cpio.gz: busybox, /init, the smoke check and the
# static build laid out as /minidocker/build.
build_initramfs() {
	local root=$VM_OUT/initramfs t0 f
	t0=$(now)
	[ -x "$vmcheck" ] || die "no smoke check at '$vmcheck': run 'make test-vm' to build it"
	assert_static "$vmcheck"
	if ldd /bin/busybox >/dev/null 2>&1; then
		die "/bin/busybox is not static: install busybox-static"
	fi
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/minidocker/build/tests" || die "cannot create '$root'"
	{ cp /bin/busybox "$root/bin/busybox" &&
		cp "$here/init.sh" "$root/init" &&
		chmod 0755 "$root/init" &&
		cp "$vmcheck" "$root/minidocker/vmcheck" &&
		cp "$VM_OUT/kernel/overlay.ko" "$root/overlay.ko"; } ||
		die "cannot fill '$root'"
	if [ -n "$program" ]; then
		install -m 0755 "$program" "$root/minidocker/program.sh" ||
			die "cannot copy '$program' into '$root'"
	fi
	{
		echo "VM_SMOKE_ONLY=$smoke_only"
		echo "VM_NO_SMOKE=$no_smoke"
		echo "VM_EXT4_TMP=$ext4_tmp"
		# One word per argument, quoted for the shell that sources it.
		printf 'VM_RUNNER_ARGS=%q\n' "${runner_args[*]}"
		if [ -n "$dynamic" ]; then
			f=${dynamic##*/}
			printf 'VM_DYNAMIC_ARGS=%q\n' "--bin /minidocker/dynamic --stage ${f#stage-} $dynamic_args"
		fi
	} >"$root/minidocker/vm.conf"
	if [ "$smoke_only" != 1 ]; then
		[ -x "$bin_dir/stage-1" ] || die "no static stage binaries in '$bin_dir': run 'make test-vm'"
		for f in runner probe; do
			[ -x "$bin_dir/tests/$f" ] || die "no '$bin_dir/tests/$f': run 'make test-vm'"
		done
		# Every program of the build: the stages, the fixtures the runner
		# proves against, the runner and the probe, in the same places.
		while IFS= read -r -d '' f; do
			assert_static "$f"
			{ mkdir -p "$root/minidocker/build/$(dirname "${f#"$bin_dir"/}")" &&
				cp "$f" "$root/minidocker/build/${f#"$bin_dir"/}"; } ||
				die "cannot copy '$f' into '$root'"
		done < <(find "$bin_dir" "$bin_dir/tests" -maxdepth 1 -type f -perm -u+x -print0)
		[ -d "$bin_dir/test-rootfs" ] || die "no test root filesystem at '$bin_dir/test-rootfs': run 'make test-vm'"
		# -a keeps the device nodes and the busybox links of the rootfs.
		cp -a "$bin_dir/test-rootfs" "$root/minidocker/build/test-rootfs" ||
			die "cannot copy '$bin_dir/test-rootfs'"
		if [ -n "$dynamic" ]; then
			copy_dynamic "$dynamic" "$root"
			for f in "${tools[@]}"; do
				[ -x "$f" ] || die "no program '$f' to copy into the VM (--tool)"
				copy_with_libs "$f" "$root" "/bin/${f##*/}"
			done
			for f in "${libs[@]}"; do
				copy_lib "$f" "$root"
			done
			cp -r "$VM_OUT/kernel/modules" "$root/modules" ||
				die "cannot copy the kernel's modules into '$root'"
			if [ -n "$runner2" ]; then
				[ -x "$runner2" ] || die "no runner at '$runner2' (--runner)"
				copy_with_libs "$runner2" "$root" /minidocker/dynamic-tests/runner
			fi
			if [ -n "$registry" ]; then
				[ -s "$registry/token" ] || die "no prepared registry in '$registry' (tests/registry/registry.sh --prepare)"
				{ mkdir -p "$root/minidocker/tests/registry" &&
					cp "$here/../registry/registry.sh" "$root/minidocker/tests/registry/" &&
					cp -a "$registry" "$root/minidocker/registry"; } ||
					die "cannot copy the registry '$registry' into '$root'"
			fi
		fi
	fi
	# The newc format is the one the kernel unpacks; gzip -1 because
	# unpacking under emulation costs more than the bytes saved.
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio -o -0 -H newc --quiet -R 0:0) | gzip -1 >"$VM_OUT/initramfs.cpio.gz" ||
		die "cannot write '$VM_OUT/initramfs.cpio.gz'"
	echo "run-vm: initramfs ($(du -k "$VM_OUT/initramfs.cpio.gz" | cut -f1) KiB) built in $(elapsed "$t0" "$(now)") s"
}

# Copy the dynamically linked stage $1 into the initramfs $2 as
# /minidocker/dynamic/stage-N, and beside it what it loads at its start:
# the dynamic loader and every library ldd lists, at the paths ldd gives,
# which are the paths the loader looks in (the VM has no ld.so.cache, and
# the system directories are its defaults). The libraries a stage loads
# only at first use (common/lazy.h: the pull's and the firewall's) are not
# there: the suites of the second run must not need them.
copy_dynamic() {
	local f=$1 root=$2
	[ -x "$f" ] || die "no dynamically linked stage at '$f': run 'make test-vm'"
	ldd "$f" >/dev/null 2>&1 || die "'$f' is not dynamically linked: it belongs with the static stages (--bin)"
	copy_with_libs "$f" "$root" "/minidocker/dynamic/${f##*/}"
}

# Copy the file $1 into the initramfs $2 as $3, mode kept, and the dynamic
# loader and every library ldd lists for it at the paths ldd gives.
copy_with_libs() {
	local f=$1 root=$2 dest=$3 libs lib
	# A static program has no libraries to bring (ldd fails on it).
	libs=$(ldd "$f" 2>/dev/null) || libs=
	case $libs in
	*'not found'*) die "ldd '$f' finds not every library: $libs" ;;
	esac
	{ mkdir -p "$root$(dirname "$dest")" && cp -pL "$f" "$root$dest"; } ||
		die "cannot copy '$f' into '$root'"
	# "name => /path (0x...)" for a library, "/path (0x...)" for the
	# loader, and nothing with a slash for the vDSO.
	for lib in $(echo "$libs" | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] && continue
		# -L: the file, not the link (/lib64/ld-linux-x86-64.so.2 is one).
		{ mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"; } ||
			die "cannot copy '$lib' into '$root'"
	done
}

# Copy the library named $1 (a soname, as dlopen() is given it) where the
# host's ldconfig cache finds it, with what it needs, into the initramfs
# $2: the VM has no cache, and the loader's default directories are the
# ones the host's libraries are in.
copy_lib() {
	local path
	path=$(ldconfig -p | awk -v n="$1" '$1 == n && /x86-64|64bit/ { print $NF; exit }')
	[ -n "$path" ] || path=$(ldconfig -p | awk -v n="$1" '$1 == n { print $NF; exit }')
	[ -n "$path" ] || die "no library '$1' on this machine (ldconfig -p): run 'sudo make deps-test'"
	copy_with_libs "$path" "$2" "$path"
}

# Fail when $1 needs a dynamic loader, which the VM does not have.
assert_static() {
	if ldd "$1" >/dev/null 2>&1; then
		die "'$1' is dynamically linked: build it with LDFLAGS=-static"
	fi
}

# Boot the VM, stream its console, keep it in $VM_OUT/console.log; sets
# $qemu_status.
boot() {
	local accel=(-accel tcg) t0 log=$VM_OUT/console.log
	if [ "$VM_ACCEL" = kvm ]; then
		[ -w /dev/kvm ] || die "VM_ACCEL=kvm but /dev/kvm is not usable here"
		accel=(-accel kvm -cpu host)
	fi
	local disk=()
	if [ "$ext4_tmp" = 1 ]; then
		# Sparse: it takes on the host what the tests write, no more.
		rm -f "$VM_OUT/tmp.img"
		{ truncate -s 2G "$VM_OUT/tmp.img" &&
			mkfs.ext4 -q -F -L minidocker-tmp "$VM_OUT/tmp.img"; } ||
			die "cannot make the ext4 disk '$VM_OUT/tmp.img'"
		disk=(-drive "file=$VM_OUT/tmp.img,format=raw,if=virtio,cache=unsafe")
	fi
	echo "run-vm: booting $(basename "$kernel") under $VM_ACCEL (timeout ${VM_TIMEOUT} s)"
	t0=$(now)
	# -nodefaults: no VGA, network card or disks to set up or probe;
	# the serial port is the console and the only way results come back.
	# -no-reboot: a panicking /init ends qemu instead of looping.
	timeout --kill-after=10 "$VM_TIMEOUT" qemu-system-x86_64 \
		"${accel[@]}" -nodefaults -display none -no-reboot \
		-m "$VM_MEM" -smp "$VM_SMP" -serial stdio -monitor none "${disk[@]}" \
		-kernel "$kernel" -initrd "$VM_OUT/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet$append" </dev/null 2>&1 |
		tr -d '\r' | tee "$log"
	qemu_status=${PIPESTATUS[0]}
	rm -f "$VM_OUT/tmp.img"
	boot_time=$(elapsed "$t0" "$(now)")
	echo "run-vm: qemu ran for $boot_time s (status $qemu_status)"
}

# Read the markers from the console log and give the verdict.
judge() {
	local log=$VM_OUT/console.log smoke exit_status dynamic_status
	# Not anchored: a kernel message may land on the same console line.
	smoke=$(grep -ao 'MINIDOCKER-VM-SMOKE=[A-Za-z]*' "$log" | head -n 1 | cut -d= -f2)
	exit_status=$(grep -ao 'MINIDOCKER-VM-EXIT=[0-9]*' "$log" | head -n 1 | cut -d= -f2)
	if [ -z "$exit_status" ]; then
		echo "run-vm: the last console lines:" >&2
		tail -n 20 "$log" >&2
		if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
			verdict FAIL "the VM did not finish within VM_TIMEOUT=$VM_TIMEOUT s; console log: $log"
		fi
		verdict FAIL "the VM ended without a result (qemu status $qemu_status); console log: $log"
	fi
	if [ "$expect_smoke_fail" = 1 ]; then
		if [ "$smoke" = FAIL ] && [ "$exit_status" != 0 ]; then
			verdict PASS "the VM run reported FAIL when its smoke check failed"
		fi
		verdict FAIL "the smoke check passed (MINIDOCKER-VM-SMOKE=$smoke, exit $exit_status), but was expected to fail with:$append"
	fi
	[ "$smoke" = ok ] || [ "$no_smoke" = 1 ] || verdict FAIL "smoke check: /sys/fs/cgroup in the VM is not cgroup2 with a working pids controller"
	[ -z "$program" ] || [ "$exit_status" = 0 ] || verdict FAIL "'$program' exited with status $exit_status in the VM"
	if [ -n "$dynamic" ]; then
		# No marker: the second run never ran, which is no pass.
		dynamic_status=$(grep -ao 'MINIDOCKER-VM-DYNAMIC=[0-9]*' "$log" | head -n 1 | cut -d= -f2)
		[ -n "$dynamic_status" ] || verdict FAIL "no result from the runner on the dynamically linked ${dynamic##*/}; console log: $log"
		[ "$dynamic_status" = 0 ] || verdict FAIL "the runner on the dynamically linked ${dynamic##*/} exited with status $dynamic_status in the VM; console log: $log"
	fi
	[ "$exit_status" = 0 ] || verdict FAIL "the runner exited with status $exit_status in the VM"
	verdict PASS
}

main() {
	parse_args "$@"
	ensure_tools
	fetch_kernel
	[ "$kernel_only" = 1 ] && exit 0
	build_initramfs
	boot
	judge
}

main "$@"
