#!/usr/bin/env bash
# rootfs-fetch.sh: make a root filesystem for the minidocker stages.
#
# The default (--busybox) needs nothing beyond the distribution's
# busybox-static package; --alpine and --ubuntu download the publisher's
# tarball and check it against the publisher's sha256 before unpacking.
# The tree is built in a temporary directory beside DIR and renamed into
# place at the end, so a failure never leaves a half-made DIR.
set -eu
# Functions whose output is captured ($(...)) stop at their first failure too.
shopt -s inherit_errexit

# Pinned releases. The URLs point at the directory that holds both the
# tarball and its checksum file; the environment variables override them
# (a mirror, or the tests' local server).
ALPINE_VERSION=3.20.3
ALPINE_BRANCH=v3.20
UBUNTU_VERSION=24.04.1
UBUNTU_SERIES=24.04
# Optional pinned sha256 of the tarball for this machine's architecture:
# when set, the publisher's checksum file must agree with it as well.
ALPINE_SHA256=${MINIDOCKER_ALPINE_SHA256:-}
UBUNTU_SHA256=${MINIDOCKER_UBUNTU_SHA256:-}

PROG=rootfs-fetch.sh

usage() {
	cat <<EOF
usage: $PROG [--busybox|--alpine|--ubuntu] [--force] [--no-dev] [DIR]

Make a root filesystem at DIR (default ./rootfs) for the minidocker stages.

  --busybox   (default) a busybox tree from the host's static busybox, or
              from the distribution's busybox-static package (apt-get
              download); no other network access
  --alpine    Alpine minirootfs $ALPINE_VERSION, checked against its .sha256
  --ubuntu    ubuntu-base $UBUNTU_VERSION, checked against SHA256SUMS
  --force     rebuild DIR even if it already holds a root filesystem
  --no-dev    leave DIR/dev empty instead of creating the device nodes
              null, zero, random, urandom and tty (which need root)
  -h, --help  print this help

Re-running on a complete root filesystem changes nothing. Every flavour
needs root (device nodes, file owners from the tarball); only
--busybox --no-dev works without it.

Environment:
  MINIDOCKER_ALPINE_URL   directory with the Alpine tarball and .sha256
  MINIDOCKER_UBUNTU_URL   directory with the ubuntu-base tarball and SHA256SUMS
  MINIDOCKER_ALPINE_SHA256, MINIDOCKER_UBUNTU_SHA256
                          expected sha256 of the tarball (optional pin)
  MINIDOCKER_ARCH         machine name to fetch for (default: uname -m)
EOF
}

# die MESSAGE: one line on stderr, exit 1 (the EXIT trap cleans up).
die() {
	printf '%s: %s\n' "$PROG" "$1" >&2
	exit 1
}

# usage_error MESSAGE: bad command line, exit 2 as getopt-style tools do.
usage_error() {
	printf '%s: %s\n' "$PROG" "$1" >&2
	printf 'usage: %s [--busybox|--alpine|--ubuntu] [--force] [--no-dev] [DIR]\n' "$PROG" >&2
	exit 2
}

is_root() {
	[ "$(id -u)" -eq 0 ]
}

# read_uint FILE OFFSET SIZE ORDER: print the unsigned integer of SIZE bytes
# at OFFSET in FILE; ORDER is ELF's EI_DATA, 1 little endian, 2 big endian.
read_uint() {
	local -a b
	local n=0 i
	read -r -a b <<<"$(od -An -v -t u1 -j "$2" -N "$3" -- "$1")" || return 1
	[ "${#b[@]}" -eq "$3" ] || return 1
	if [ "$4" -eq 1 ]; then
		for ((i = ${#b[@]} - 1; i >= 0; i--)); do n=$((n * 256 + b[i])); done
	else
		for ((i = 0; i < ${#b[@]}; i++)); do n=$((n * 256 + b[i])); done
	fi
	printf '%s\n' "$n"
}

# is_static_elf FILE: true when FILE is an ELF executable the kernel can run
# without a dynamic loader, that is, one with no PT_INTERP program header.
# Read with od (coreutils) so that neither file(1) nor readelf is needed.
is_static_elf() {
	local f=$1 magic class data phoff phentsize phnum i type
	[ -f "$f" ] || return 1
	magic=$(od -An -v -t u1 -N 4 -- "$f" 2>/dev/null | tr -s ' \n' ' ') || return 1
	[ "$magic" = " 127 69 76 70 " ] || return 1
	class=$(read_uint "$f" 4 1 1) || return 1
	data=$(read_uint "$f" 5 1 1) || return 1
	case "$data" in 1 | 2) ;; *) return 1 ;; esac
	case "$class" in
	1) # ELFCLASS32: e_phoff at 28, e_phentsize at 42, e_phnum at 44
		phoff=$(read_uint "$f" 28 4 "$data") || return 1
		phentsize=$(read_uint "$f" 42 2 "$data") || return 1
		phnum=$(read_uint "$f" 44 2 "$data") || return 1
		;;
	2) # ELFCLASS64: e_phoff at 32, e_phentsize at 54, e_phnum at 56
		phoff=$(read_uint "$f" 32 8 "$data") || return 1
		phentsize=$(read_uint "$f" 54 2 "$data") || return 1
		phnum=$(read_uint "$f" 56 2 "$data") || return 1
		;;
	*) return 1 ;;
	esac
	# An executable without program headers cannot be run at all.
	[ "$phnum" -gt 0 ] && [ "$phentsize" -ge 4 ] || return 1
	for ((i = 0; i < phnum; i++)); do
		# p_type is the first 4 bytes of each header; PT_INTERP is 3.
		type=$(read_uint "$f" $((phoff + i * phentsize)) 4 "$data") || return 1
		[ "$type" -ne 3 ] || return 1
	done
}

# is_complete_rootfs DIR: DIR looks like a finished root filesystem (a shell
# and a passwd file), whichever flavour made it.
is_complete_rootfs() {
	{ [ -e "$1/bin/sh" ] || [ -L "$1/bin/sh" ]; } && [ -f "$1/etc/passwd" ]
}

# mounts_below DIR: print the first mount point at or below DIR, if any
# (a running container's /proc, say), from /proc/self/mountinfo.
mounts_below() {
	local abs
	abs=$(realpath -- "$1")
	[ -r /proc/self/mountinfo ] || return 0
	# Field 5 is the mount point, with spaces and the like octal-escaped.
	awk -v d="$abs" '$5 == d || index($5, d "/") == 1 { print $5; exit }' \
		/proc/self/mountinfo
}

# machine_arch: the machine name to fetch for (uname -m, or MINIDOCKER_ARCH).
machine_arch() {
	if [ -n "${MINIDOCKER_ARCH:-}" ]; then
		printf '%s\n' "$MINIDOCKER_ARCH"
	else
		uname -m
	fi
}

# alpine_arch MACHINE: Alpine's name for a uname -m machine.
alpine_arch() {
	case "$1" in
	x86_64 | amd64) echo x86_64 ;;
	i386 | i486 | i586 | i686) echo x86 ;;
	aarch64 | arm64) echo aarch64 ;;
	armv7l | armv7) echo armv7 ;;
	armv6l | armv6) echo armhf ;;
	ppc64le) echo ppc64le ;;
	s390x) echo s390x ;;
	riscv64) echo riscv64 ;;
	*) return 1 ;;
	esac
}

# ubuntu_arch MACHINE: Ubuntu's (Debian's) name for a uname -m machine.
ubuntu_arch() {
	case "$1" in
	x86_64 | amd64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	armv7l | armv7 | armhf) echo armhf ;;
	ppc64le) echo ppc64el ;;
	s390x) echo s390x ;;
	riscv64) echo riscv64 ;;
	*) return 1 ;;
	esac
}

# download URL FILE: fetch URL into FILE with curl or wget.
download() {
	local err
	err="$WORK/download.err"
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL -o "$2" -- "$1" 2>"$err" ||
			die "cannot download '$1': $(tail -n 1 "$err")"
	elif command -v wget >/dev/null 2>&1; then
		wget -nv -O "$2" -- "$1" 2>"$err" ||
			die "cannot download '$1': wget: $(tail -n 1 "$err")"
	else
		die "cannot download '$1': neither curl nor wget is installed (apt-get install curl)"
	fi
}

# expected_sha256 SUMFILE NAME: print the sha256 SUMFILE lists for NAME.
# Accepts sha256sum's text and binary ("*name") forms, and a file holding
# only the hash.
expected_sha256() {
	awk -v f="$2" '
		NF == 1 && NR == 1 { only = $1 }
		NF >= 2 { n = $2; sub(/^\*/, "", n); if (n == f) { print $1; found = 1; exit } }
		END { if (!found && NR == 1 && only != "") print only }
	' "$1"
}

# fetch_verified URL_DIR NAME SUMNAME PIN: download NAME and SUMNAME from
# URL_DIR into $WORK, refuse NAME unless its sha256 matches (and matches
# PIN when set); set TARBALL to its path.
fetch_verified() {
	local base=$1 name=$2 sumname=$3 pin=$4 want got
	download "$base/$sumname" "$WORK/$sumname"
	want=$(expected_sha256 "$WORK/$sumname" "$name" | tr 'A-F' 'a-f')
	case "$want" in
	[0-9a-f]*) [ "${#want}" -eq 64 ] || want= ;;
	*) want= ;;
	esac
	[ -n "$want" ] || die "checksum file '$base/$sumname' lists no sha256 for '$name'"
	if [ -n "$pin" ] && [ "$want" != "$(printf '%s' "$pin" | tr 'A-F' 'a-f')" ]; then
		die "checksum mismatch for '$name': '$sumname' says $want, the pinned sha256 is $pin"
	fi
	echo "$PROG: downloading $base/$name"
	download "$base/$name" "$WORK/$name"
	got=$(sha256sum -- "$WORK/$name" | awk '{ print $1 }')
	[ "$got" = "$want" ] ||
		die "checksum mismatch for '$name': expected sha256 $want, got $got; refusing to unpack it"
	TARBALL="$WORK/$name"
}

# unpack TARBALL: extract into the new tree with the tarball's numeric owners.
unpack() {
	local err="$WORK/tar.err"
	# As root GNU tar keeps owners and modes; --numeric-owner stops it from
	# mapping the tarball's user names through the host's /etc/passwd.
	tar -xzf "$1" -C "$NEW" --numeric-owner 2>"$err" ||
		die "cannot unpack '$(basename -- "$1")': $(tail -n 1 "$err")"
}

build_alpine() {
	local arch base name
	arch=$(alpine_arch "$(machine_arch)") ||
		die "no Alpine minirootfs for machine '$(machine_arch)'"
	base=${MINIDOCKER_ALPINE_URL:-https://dl-cdn.alpinelinux.org/alpine/$ALPINE_BRANCH/releases/$arch}
	name="alpine-minirootfs-$ALPINE_VERSION-$arch.tar.gz"
	fetch_verified "${base%/}" "$name" "$name.sha256" "$ALPINE_SHA256"
	unpack "$TARBALL"
}

build_ubuntu() {
	local arch base name
	arch=$(ubuntu_arch "$(machine_arch)") ||
		die "no ubuntu-base for machine '$(machine_arch)'"
	base=${MINIDOCKER_UBUNTU_URL:-https://cdimage.ubuntu.com/ubuntu-base/releases/$UBUNTU_SERIES/release}
	name="ubuntu-base-$UBUNTU_VERSION-base-$arch.tar.gz"
	fetch_verified "${base%/}" "$name" SHA256SUMS "$UBUNTU_SHA256"
	unpack "$TARBALL"
}

# find_busybox: print the path of a statically linked busybox, taking the
# one on PATH, else the busybox-static package fetched with apt-get download
# and unpacked into $WORK (nothing is installed on the host).
find_busybox() {
	local bb deb dl="$WORK/deb" err="$WORK/apt.err" why=""
	if bb=$(command -v busybox 2>/dev/null) && [ -n "$bb" ]; then
		if is_static_elf "$bb"; then
			printf '%s\n' "$bb"
			return 0
		fi
		why="'$bb' is not statically linked"
	else
		why="no busybox on PATH"
	fi
	if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
		die "no static busybox: $why, and apt-get is not available to fetch busybox-static"
	fi
	mkdir -p "$dl"
	# apt-get download writes into the current directory.
	if ! (cd "$dl" && apt-get download busybox-static) >/dev/null 2>"$err"; then
		# A fresh machine may have no package lists yet.
		if is_root && apt-get update >/dev/null 2>>"$err" &&
			(cd "$dl" && apt-get download busybox-static) >/dev/null 2>>"$err"; then
			:
		else
			die "no static busybox: $why, and 'apt-get download busybox-static' failed: $(grep -v '^W:' "$err" | tail -n 1)"
		fi
	fi
	deb=$(find "$dl" -maxdepth 1 -name 'busybox-static_*.deb' | head -n 1)
	[ -n "$deb" ] || die "apt-get download left no busybox-static package in '$dl'"
	dpkg-deb -x "$deb" "$dl/x" 2>"$err" ||
		die "cannot unpack '$(basename -- "$deb")': $(tail -n 1 "$err")"
	for bb in "$dl/x/bin/busybox" "$dl/x/usr/bin/busybox"; do
		if is_static_elf "$bb"; then
			printf '%s\n' "$bb"
			return 0
		fi
	done
	die "the busybox-static package holds no static busybox"
}

build_busybox() {
	local bb list applet d link err="$WORK/busybox.err"
	bb=$(find_busybox)
	mkdir -p "$NEW/bin" "$NEW/sbin" "$NEW/usr/bin" "$NEW/usr/sbin"
	cp -- "$bb" "$NEW/bin/busybox"
	chmod 0755 "$NEW/bin/busybox"
	# Ask the copy, so argv[0] is "busybox" whatever the source was called.
	# --list-full gives each applet's usual directory; older builds only
	# know --list, and then every applet goes into bin/.
	if list=$("$NEW/bin/busybox" --list-full 2>"$err"); then
		:
	elif list=$("$NEW/bin/busybox" --list 2>"$err"); then
		list=$(printf '%s\n' "$list" | sed 's|^|bin/|')
	else
		die "'$bb' cannot list its applets (is it busybox?)"
	fi
	printf '%s\n' "$list" | grep -q '^bin/sh$' ||
		die "'$bb' has no sh applet"
	while IFS= read -r applet; do
		case "$applet" in
		bin/busybox | '') continue ;;
		bin/?* | sbin/?* | usr/bin/?* | usr/sbin/?*) ;;
		*) continue ;; # linuxrc and the like do not belong in a container
		esac
		case "${applet##*/}" in */* | . | ..) continue ;; esac
		d=${applet%/*}
		case "$d" in
		bin) link=busybox ;;
		sbin) link=../bin/busybox ;;
		*) link=../../bin/busybox ;;
		esac
		[ -e "$NEW/$applet" ] || ln -s "$link" "$NEW/$applet"
	done <<<"$list"

	mkdir -p "$NEW/etc" "$NEW/proc" "$NEW/sys" "$NEW/dev" "$NEW/tmp" \
		"$NEW/root" "$NEW/home" "$NEW/var/tmp" "$NEW/mnt" "$NEW/run"
	cat >"$NEW/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
	cat >"$NEW/etc/group" <<EOF
root:x:0:
nogroup:x:65534:
EOF
	echo minidocker >"$NEW/etc/hostname"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$NEW/etc/hosts"
	chmod 0644 "$NEW/etc/passwd" "$NEW/etc/group" "$NEW/etc/hostname" "$NEW/etc/hosts"
	chmod 0555 "$NEW/proc" "$NEW/sys"
	chmod 1777 "$NEW/tmp" "$NEW/var/tmp"
	chmod 0700 "$NEW/root"
}

# make_devices: the character devices every program expects in /dev, with
# the major/minor numbers of the kernel's devices.txt, read-write for all.
make_devices() {
	local node major minor err="$WORK/mknod.err"
	mkdir -p "$NEW/dev"
	chmod 0755 "$NEW/dev"
	while read -r node major minor; do
		[ -e "$NEW/dev/$node" ] && continue
		mknod -m 0666 "$NEW/dev/$node" c "$major" "$minor" 2>"$err" ||
			die "cannot create device node 'dev/$node': $(tail -n 1 "$err")"
	done <<EOF
null 1 3
zero 1 5
random 1 8
urandom 1 9
tty 5 0
EOF
}

# rename_dir FROM TO: rename(2) a directory; on failure ERRMSG says why.
rename_dir() {
	if ! mv -T -- "$1" "$2" 2>"$WORK/mv.err"; then
		ERRMSG=$(sed -n '$s/.*: //p' "$WORK/mv.err")
		return 1
	fi
}

cleanup() {
	if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
		rm -rf --one-file-system -- "$WORK"
	fi
}

main() {
	local flavour=busybox force=0 nodev=0 dir="" parent base arg m
	while [ "$#" -gt 0 ]; do
		arg=$1
		shift
		case "$arg" in
		--busybox | --alpine | --ubuntu) flavour=${arg#--} ;;
		--force) force=1 ;;
		--no-dev) nodev=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		--)
			[ "$#" -le 1 ] || usage_error "too many arguments"
			[ "$#" -eq 0 ] || dir=$1
			break
			;;
		-*) usage_error "unknown option '$arg'" ;;
		*)
			[ -z "$dir" ] || usage_error "too many arguments"
			dir=$arg
			;;
		esac
	done
	dir=${dir:-./rootfs}
	# Strip trailing slashes so that dirname/basename name DIR itself.
	while [ "${#dir}" -gt 1 ] && [ "${dir%/}" != "$dir" ]; do dir=${dir%/}; done
	# A symlink to a directory: build at its target, keep the link.
	if [ -L "$dir" ] && [ -d "$dir" ]; then
		dir=$(realpath -- "$dir")
	fi
	parent=$(dirname -- "$dir")
	base=$(basename -- "$dir")
	case "$base" in
	/ | . | ..) die "refusing to use '$dir' as the root filesystem directory: name a new directory" ;;
	esac
	[ -d "$parent" ] || die "cannot make '$dir': parent directory '$parent' does not exist"

	if [ -e "$dir" ] || [ -L "$dir" ]; then
		[ -d "$dir" ] || die "cannot make '$dir': it exists and is not a directory"
		if [ "$force" -eq 0 ]; then
			if is_complete_rootfs "$dir"; then
				echo "$PROG: '$dir' already holds a root filesystem; nothing to do (--force rebuilds it)"
				exit 0
			fi
			[ -z "$(ls -A -- "$dir")" ] ||
				die "'$dir' exists but is not a complete root filesystem: remove it or pass --force"
		fi
		# --force removes the old tree: only when it is one (or is empty),
		# so that a mistyped DIR such as a home directory survives.
		if [ -n "$(ls -A -- "$dir")" ] && [ ! -f "$dir/etc/passwd" ]; then
			die "will not replace '$dir': it does not look like a root filesystem (no etc/passwd); remove it yourself if you mean it"
		fi
		m=$(mounts_below "$dir")
		[ -z "$m" ] || die "cannot replace '$dir': '$m' is mounted (is a container running?)"
	fi

	if ! is_root && { [ "$flavour" != busybox ] || [ "$nodev" -eq 0 ]; }; then
		if [ "$flavour" = busybox ]; then
			die "creating device nodes in '$dir/dev' needs root: run it with sudo (or pass --no-dev)"
		fi
		die "unpacking --$flavour with its file owners needs root: run it with sudo"
	fi

	# Traps first, so that no signal falls between mktemp and them. Bash
	# would run the EXIT trap on these signals anyway; say it explicitly.
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	WORK=$(mktemp -d -- "$parent/.$base.rootfs-fetch.XXXXXX") ||
		die "cannot create a temporary directory in '$parent'"
	NEW="$WORK/root"
	mkdir -- "$NEW"
	chmod 0755 "$NEW"

	case "$flavour" in
	busybox) build_busybox ;;
	alpine) build_alpine ;;
	ubuntu) build_ubuntu ;;
	esac
	[ "$nodev" -eq 1 ] || make_devices
	is_complete_rootfs "$NEW" || die "the $flavour tree has no /bin/sh or /etc/passwd"

	# Put the new tree in place: an old one moves into $WORK first, so
	# that the cleanup removes it, and comes back if the rename fails.
	if [ -d "$dir" ]; then
		rename_dir "$dir" "$WORK/old" || die "cannot move the old '$dir' aside: $ERRMSG"
		if ! rename_dir "$NEW" "$dir"; then
			rename_dir "$WORK/old" "$dir" || true
			die "cannot rename the new tree to '$dir': $ERRMSG"
		fi
	else
		rename_dir "$NEW" "$dir" || die "cannot rename the new tree to '$dir': $ERRMSG"
	fi
	echo "$PROG: made a $flavour root filesystem in '$dir'"
}

WORK=""
NEW=""
TARBALL=""
ERRMSG=""
main "$@"
