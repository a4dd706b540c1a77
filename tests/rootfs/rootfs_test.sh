#!/usr/bin/env bash
# Tests for rootfs-fetch.sh: the busybox tree, idempotence, --force, the
# error paths, and the Alpine/ubuntu-base download path against a busybox
# httpd on 127.0.0.1 serving generated tarballs with right and wrong
# checksums. Prints one "ok - name" or "not ok - name: why" line per case
# and "N passed, N failed" at the end; exits non-zero if any case failed.
#
# Needs root (device nodes, chroot, tarball owners). Work files go under
# ROOTFS_TEST_TMP (default build/), not /tmp, which may be mounted nodev.
# ROOTFS_TEST_CASES="case_x case_y" runs only those cases.
set -u
set -o pipefail

cd "$(dirname -- "$0")/../.." || exit 1
SCRIPT=$PWD/rootfs-fetch.sh
# shellcheck source=tools/copies.sh
. tools/copies.sh
PASSED=0
FAILED=0
WHY=""
HTTPD_PID=""
T=""

if [ "$(id -u)" -ne 0 ]; then
	echo "rootfs_test.sh: skipped: needs root (mknod, chroot, tarball owners): run it with sudo" >&2
	exit 1
fi

# What the tests use; `make test-rootfs` installs it (tools/deps.sh).
# (grep without -q reads to the end: with -q it may exit at the match and
# kill busybox with SIGPIPE, which pipefail would report as a failure.)
busybox_ok() {
	command -v busybox >/dev/null 2>&1 && busybox --list 2>/dev/null | grep -x httpd >/dev/null
}
busybox_ok && command -v curl >/dev/null 2>&1 && command -v wget >/dev/null 2>&1 &&
	command -v setpriv >/dev/null 2>&1 || {
	echo "rootfs_test.sh: needs busybox (with httpd), curl, wget and setpriv: run it through sudo make test-rootfs, which installs them" >&2
	exit 1
}
BUSYBOX=$(command -v busybox)

cleanup() {
	if [ -n "$HTTPD_PID" ]; then
		kill "$HTTPD_PID" 2>/dev/null
		wait "$HTTPD_PID" 2>/dev/null
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		rm -rf --one-file-system -- "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

base_tmp=${ROOTFS_TEST_TMP:-build}
mkdir -p -- "$base_tmp" || exit 1
T=$(mktemp -d -- "$(realpath -- "$base_tmp")/rootfs-test.XXXXXX") || exit 1
chmod 0755 "$T" # the unprivileged cases must reach their directory

# --- helpers ---------------------------------------------------------------

# run_case NAME FUNC: run one case in a fresh directory $C and report it.
run_case() {
	local name=$1 func=$2
	# ROOTFS_TEST_CASES="case_a case_b": run only these.
	[[ -z ${ROOTFS_TEST_CASES:-} || " $ROOTFS_TEST_CASES " == *" $func "* ]] || return 0
	C="$T/$func"
	mkdir -p -- "$C"
	WHY="failed"
	local t0=$EPOCHREALTIME
	if (cd "$C" && "$func"); then
		echo "ok - $name"
		PASSED=$((PASSED + 1))
	else
		# The case ran in a subshell; it leaves its reason in $C/why.
		[ ! -s "$C/why" ] || WHY=$(cat -- "$C/why")
		echo "not ok - $name: $WHY"
		FAILED=$((FAILED + 1))
	fi
	if [ -n "${ROOTFS_TEST_TIMES:-}" ]; then
		echo "# $func: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f s", b - a }')"
	fi
}

# fail WHY: record the reason for run_case and fail the case.
fail() {
	printf '%s\n' "$1" >"$C/why"
	return 1
}

# check WHY CMD...: fail the case with WHY unless CMD succeeds.
check() {
	local why=$1
	shift
	"$@" || fail "$why"
}

# fetch ARGS...: run the script; sets RC, OUT and ERR.
fetch() {
	"$SCRIPT" "$@" >"$C/out" 2>"$C/err" </dev/null
	RC=$?
	OUT=$(cat -- "$C/out")
	ERR=$(cat -- "$C/err")
}

# one_line_error: the script failed with exactly one line on stderr.
one_line_error() {
	[ "$RC" -ne 0 ] && [ "$(wc -l <"$C/err")" -eq 1 ]
}

# leftovers DIR: print the script's temporary directories beside DIR.
leftovers() {
	find "$(dirname -- "$1")" -maxdepth 1 -name '.*.rootfs-fetch.*' | head -n 3
}

# nothing_left DIR: DIR was not made and no temporary directory remains.
nothing_left() {
	[ ! -e "$1" ] && [ ! -L "$1" ] && [ -z "$(leftovers "$1")" ]
}

# fakebin DIR EXCLUDE...: a directory of links to every program on the
# standard PATH but the excluded ones, to run the script without them.
# The full set of links is made once and copied, which is much faster.
fakebin() {
	local dir=$1 d name all="$T/allbin"
	shift
	if [ ! -d "$all" ]; then
		mkdir -p -- "$all.new"
		for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
			[ -d "$d" ] || continue
			# The first directory on PATH wins: ln skips (and complains
			# about) names already linked and goes on with the rest.
			ln -s -- "$d"/* "$all.new/" 2>/dev/null
		done
		mv -- "$all.new" "$all"
	fi
	cp -a -- "$all" "$dir"
	for name in "$@"; do
		rm -f -- "$dir/$name"
	done
}

# node_is PATH MAJOR MINOR: PATH is a character device MAJOR:MINOR, mode 666.
node_is() {
	[ "$(stat -c '%F %t %T %a' -- "$1" 2>/dev/null)" = \
		"character special file $(printf '%x %x' "$2" "$3") 666" ]
}

mode_is() {
	[ "$(stat -c '%a' -- "$1" 2>/dev/null)" = "$2" ]
}

# --- the busybox tree ------------------------------------------------------

case_help() {
	fetch --help
	check "exit status $RC, want 0" [ "$RC" -eq 0 ] || return 1
	check "no usage on stdout" grep -q '^usage: rootfs-fetch.sh' "$C/out" || return 1
	check "stderr not empty: $ERR" [ -z "$ERR" ] || return 1
	check "--help made ./rootfs" [ ! -e rootfs ]
}

case_bad_option() {
	fetch --bogus r
	check "exit status $RC, want 2" [ "$RC" -eq 2 ] || return 1
	check "error does not name the option: $ERR" grep -q -- "'--bogus'" "$C/err" || return 1
	check "no usage line on stderr" grep -q '^usage:' "$C/err" || return 1
	check "stdout not empty" [ -z "$OUT" ] || return 1
	check "made something" nothing_left "$C/r"
}

case_too_many_args() {
	fetch a b
	check "exit status $RC, want 2" [ "$RC" -eq 2 ] || return 1
	check "made something" nothing_left "$C/a"
}

case_busybox_tree() {
	local d want_mode applet
	fetch r
	check "exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	for d in bin:755 sbin:755 usr/bin:755 usr/sbin:755 etc:755 proc:555 \
		sys:555 dev:755 tmp:1777 root:700 .:755; do
		want_mode=${d#*:}
		d=${d%:*}
		check "r/$d is not a directory" [ -d "r/$d" ] || return 1
		check "r/$d has mode $(stat -c %a "r/$d"), want $want_mode" mode_is "r/$d" "$want_mode" || return 1
	done
	check "bin/busybox is not the static busybox" cmp -s "$BUSYBOX" r/bin/busybox || return 1
	check "passwd lacks root" grep -qx 'root:x:0:0:root:/root:/bin/sh' r/etc/passwd || return 1
	check "passwd lacks nobody 65534" grep -q '^nobody:x:65534:65534:' r/etc/passwd || return 1
	check "group lacks root" grep -qx 'root:x:0:' r/etc/group || return 1
	check "group lacks 65534" grep -q '^[a-z]*:x:65534:' r/etc/group || return 1
	check "hostname empty" [ -s r/etc/hostname ] || return 1
	check "dev/null wrong" node_is r/dev/null 1 3 || return 1
	check "dev/zero wrong" node_is r/dev/zero 1 5 || return 1
	check "dev/random wrong" node_is r/dev/random 1 8 || return 1
	check "dev/urandom wrong" node_is r/dev/urandom 1 9 || return 1
	check "dev/tty wrong" node_is r/dev/tty 5 0 || return 1
	# Every applet busybox names is a link that resolves to bin/busybox.
	while IFS= read -r applet; do
		case "$applet" in */*) ;; *) continue ;; esac
		check "applet $applet does not resolve to bin/busybox" \
			[ "$(readlink -f -- "r/$applet")" = "$C/r/bin/busybox" ] || return 1
		check "applet $applet is an absolute link" \
			[ "$(readlink -- "r/$applet" | cut -c1)" != / ] || return 1
	done < <(r/bin/busybox --list-full)
	check "the script wrote extra files into the rootfs" \
		[ -z "$(find r -maxdepth 1 -name '.*')" ] || return 1
	check "temporary directory left: $(leftovers "$C/r")" [ -z "$(leftovers "$C/r")" ]
}

case_busybox_runs() {
	local got
	fetch r
	check "exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	got=$(chroot r /bin/sh -c 'echo ok' 2>&1)
	check "chroot sh printed '$got'" [ "$got" = ok ] || return 1
	got=$(chroot r /usr/bin/env sh -c 'head -c 16 /dev/urandom | wc -c; echo x >/dev/null; id -u' 2>&1)
	check "applets or devices misbehave inside: '$got'" [ "$got" = "$(printf '16\n0')" ] || return 1
	got=$(chroot r /bin/sh -c 'cd /tmp && touch f && ls /tmp' 2>&1)
	check "cannot write /tmp inside: '$got'" [ "$got" = f ]
}

case_idempotent() {
	local ino
	fetch r
	check "first run: exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	echo mine >r/etc/marker
	ino=$(stat -c %i r/bin/busybox)
	fetch r
	check "re-run: exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	check "re-run does not say it did nothing: $OUT" grep -q 'already' "$C/out" || return 1
	check "re-run removed a file in the rootfs" [ -f r/etc/marker ] || return 1
	check "re-run replaced bin/busybox" [ "$(stat -c %i r/bin/busybox)" = "$ino" ] || return 1
	check "temporary directory left" [ -z "$(leftovers "$C/r")" ]
}

case_force() {
	fetch r
	check "first run: exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	echo mine >r/etc/marker
	rm r/bin/ls
	fetch --force r
	check "--force: exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	check "--force kept the old tree's files" [ ! -e r/etc/marker ] || return 1
	check "--force did not rebuild bin/ls" [ -L r/bin/ls ] || return 1
	check "temporary directory left: $(leftovers "$C/r")" [ -z "$(leftovers "$C/r")" ]
}

case_force_refuses_mounted() {
	local got
	fetch r
	check "first run: exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	echo mine >r/etc/marker
	# In a private mount namespace, so the host never sees the mount. The
	# script runs only once findmnt has seen the mount ("mounted" first):
	# a failed mount also prints a status and its own error.
	# shellcheck disable=SC2016 # $1 and $? belong to the inner shell
	got=$(unshare -m --propagation private sh -c \
		'mount -t tmpfs none r/proc && findmnt -rn -o TARGET -M r/proc >/dev/null &&
		echo mounted && "$1" --force r; echo "rc=$?"' sh "$SCRIPT" 2>&1)
	check "r/proc was not mounted, nothing to refuse: $got" \
		[ "$(head -n 1 <<<"$got")" = mounted ] || return 1
	check "--force over a mounted r/proc did not fail: $got" \
		grep -q 'rc=[1-9]' <<<"$got" || return 1
	check "the script's error does not name the mount: $got" \
		grep -q "^rootfs-fetch.sh: cannot replace '.*': '.*/proc' is mounted" <<<"$got" || return 1
	check "the old tree was touched" [ -f r/etc/marker ]
}

case_dir_is_file() {
	echo data >r
	fetch r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not say why: $ERR" grep -q 'not a directory' "$C/err" || return 1
	check "the file changed" [ "$(cat r)" = data ] || return 1
	check "temporary directory left" [ -z "$(leftovers "$C/r")" ]
}

case_dir_not_empty() {
	mkdir r
	echo mine >r/keep
	fetch r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not point at --force: $ERR" grep -q -- '--force' "$C/err" || return 1
	check "the directory's file is gone" [ -f r/keep ] || return 1
	# --force replaces only what looks like a root filesystem.
	fetch --force r
	check "--force: exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "--force removed the directory's file" [ -f r/keep ] || return 1
	check "temporary directory left" [ -z "$(leftovers "$C/r")" ]
}

case_empty_dir_filled() {
	mkdir r
	fetch r/
	check "exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	check "no busybox in the empty directory" [ -x r/bin/busybox ] || return 1
	check "temporary directory left" [ -z "$(leftovers "$C/r")" ]
}

case_refuses_dot() {
	mkdir d
	(cd d && "$SCRIPT" . >"$C/out" 2>"$C/err" </dev/null)
	RC=$?
	check "exit status $RC, want non-zero with one error line" one_line_error || return 1
	check "wrote into '.'" [ -z "$(ls -A d)" ]
}

case_missing_parent() {
	fetch no/such/r
	check "exit status $RC, want non-zero with one error line: $(cat err)" one_line_error || return 1
	check "error does not name the parent: $(cat err)" grep -q "'no/such'" "$C/err" || return 1
	check "made the parent" [ ! -e no ]
}

case_default_dir() {
	fetch
	check "exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	check "no ./rootfs" [ -x rootfs/bin/busybox ]
}

# A busybox whose program headers are intact but whose code is cut off: it
# passes the static check, is copied in, then fails when asked for its
# applets, half-way through the build.
case_midway_failure_leaves_nothing() {
	fakebin bin busybox apt-get
	head -c 65536 "$BUSYBOX" >bin/busybox
	chmod 0755 bin/busybox
	PATH="$C/bin" fetch r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not name busybox: $ERR" grep -q busybox "$C/err" || return 1
	check "DIR or a temporary directory was left: $(ls -A)" nothing_left "$C/r"
}

case_dynamic_busybox_refused() {
	fakebin bin busybox apt-get
	ln -s /bin/ls bin/busybox
	PATH="$C/bin" fetch r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not say static: $ERR" grep -q 'not statically linked' "$C/err" || return 1
	check "DIR or a temporary directory was left" nothing_left "$C/r"
}

case_no_busybox_no_apt() {
	fakebin bin busybox apt-get
	PATH="$C/bin" fetch r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not name busybox: $ERR" grep -q 'busybox' "$C/err" || return 1
	check "DIR or a temporary directory was left" nothing_left "$C/r"
}

# The fallback a machine without busybox-static takes: apt-get download
# from the distribution's archive (the only network these tests use).
case_apt_download() {
	local got
	fakebin bin busybox
	PATH="$C/bin" fetch r
	check "exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	got=$(chroot r /bin/sh -c 'echo ok' 2>&1)
	check "chroot sh printed '$got'" [ "$got" = ok ] || return 1
	check "a .deb or temporary directory was left" [ -z "$(leftovers "$C/r")$(find . -name '*.deb')" ]
}

# As uid 65534, from a copy of the script in a directory that user can
# reach (tools/copies.sh): the checkout may be in a home directory of mode
# 0750, as Ubuntu makes them.
case_unprivileged() {
	local pub rc
	pub=$(public_copy "$SCRIPT") || fail "cannot copy the script for uid 65534" || return 1
	chmod 0777 "$pub"
	(cd "$pub" && unprivileged_runs "$pub/$(basename -- "$SCRIPT")")
	rc=$?
	rm -rf -- "$pub"
	return $rc
}

# unprivileged_runs SCRIPT: the runs of case_unprivileged, in the current
# directory; their output goes to $C as in every case.
unprivileged_runs() {
	local as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${as[@]}" "$1" r >"$C/out" 2>"$C/err" </dev/null
	RC=$?
	check "without root: exit status $RC, want non-zero with one error line: $(cat "$C/err")" one_line_error || return 1
	check "without root: error does not say sudo: $(cat "$C/err")" grep -q 'run it with sudo' "$C/err" || return 1
	check "without root: DIR or temporary directory left" nothing_left "$PWD/r" || return 1
	"${as[@]}" "$1" --no-dev r >"$C/out" 2>"$C/err" </dev/null
	RC=$?
	check "--no-dev without root: exit status $RC: $(cat "$C/err")" [ "$RC" -eq 0 ] || return 1
	check "--no-dev made device nodes" [ -z "$(ls -A r/dev)" ] || return 1
	check "--no-dev: no bin/sh" [ -L r/bin/sh ] || return 1
	"${as[@]}" "$1" --alpine a >"$C/out" 2>"$C/err" </dev/null
	RC=$?
	check "--alpine without root: exit status $RC: $(cat "$C/err")" one_line_error || return 1
	check "--alpine without root: DIR or temporary directory left" nothing_left "$PWD/a"
}

# --- the download path -----------------------------------------------------

ALPINE_VERSION=$(sed -n 's/^ALPINE_VERSION=//p' "$SCRIPT")
UBUNTU_VERSION=$(sed -n 's/^UBUNTU_VERSION=//p' "$SCRIPT")
ALPINE_TAR="alpine-minirootfs-$ALPINE_VERSION-x86_64.tar.gz"
UBUNTU_TAR="ubuntu-base-$UBUNTU_VERSION-base-arm64.tar.gz"
TOKEN="minidocker-test-$$-$RANDOM"
WWW="$T/www"
URL=""

# make_tarball: a small root filesystem, with an owner and mode tar must
# keep, packed as both publishers' tarballs, served with right and wrong
# checksum files.
make_tarball() {
	local src="$T/src" bad
	mkdir -p "$src/bin" "$src/etc" "$src/usr/lib" "$src/tmp"
	cp -- "$BUSYBOX" "$src/bin/busybox"
	ln -s busybox "$src/bin/sh"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$src/etc/passwd"
	printf 'ID=minidocker-test\nTOKEN=%s\n' "$TOKEN" >"$src/etc/os-release"
	echo owned >"$src/usr/lib/owned"
	chown 1234:5678 "$src/usr/lib/owned"
	chmod 4750 "$src/usr/lib/owned"
	chmod 1777 "$src/tmp"
	mkdir -p "$WWW/good" "$WWW/bad" "$WWW/empty"
	# The archive names 1234:5678 "daemon", which is uid and gid 1 on a
	# Debian host: unpacking must keep the numbers, not map the names.
	echo "+1234 daemon:1234" >"$T/owner-map"
	echo "+5678 daemon:5678" >"$T/group-map"
	tar -czf "$WWW/good/$ALPINE_TAR" --owner-map="$T/owner-map" \
		--group-map="$T/group-map" -C "$src" . || return 1
	cp -- "$WWW/good/$ALPINE_TAR" "$WWW/good/$UBUNTU_TAR"
	cp -- "$WWW/good/$ALPINE_TAR" "$WWW/bad/$ALPINE_TAR"
	cp -- "$WWW/good/$ALPINE_TAR" "$WWW/bad/$UBUNTU_TAR"
	(cd "$WWW/good" && sha256sum -- "$ALPINE_TAR" >"$ALPINE_TAR.sha256") || return 1
	# SHA256SUMS in the binary ("*name") form, other architectures first.
	{
		printf '%064d *ubuntu-base-%s-base-amd64.tar.gz\n' 1 "$UBUNTU_VERSION"
		(cd "$WWW/good" && sha256sum -b -- "$UBUNTU_TAR")
	} >"$WWW/good/SHA256SUMS"
	bad=$(printf 'not the tarball' | sha256sum | awk '{ print $1 }')
	printf '%s  %s\n' "$bad" "$ALPINE_TAR" >"$WWW/bad/$ALPINE_TAR.sha256"
	printf '%s *%s\n' "$bad" "$UBUNTU_TAR" >"$WWW/bad/SHA256SUMS"
	echo "$TOKEN" >"$WWW/token"
}

# start_httpd: busybox httpd on 127.0.0.1 at a free port; sets URL. Polls
# (bounded) until the server answers with our token.
start_httpd() {
	local try port i got
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + (RANDOM * 7 + try) % 40000))
		"$BUSYBOX" httpd -f -p "127.0.0.1:$port" -h "$WWW" &
		HTTPD_PID=$!
		for i in $(seq 50); do
			kill -0 "$HTTPD_PID" 2>/dev/null || break
			got=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/token" 2>/dev/null)
			if [ "$got" = "$TOKEN" ]; then
				URL="http://127.0.0.1:$port"
				return 0
			fi
			[ "$i" -lt 50 ] && sleep 0.1
		done
		kill "$HTTPD_PID" 2>/dev/null
		wait "$HTTPD_PID" 2>/dev/null
		HTTPD_PID=""
	done
	return 1
}

# same_tree DIR: DIR holds every entry of the served tarball, with its
# content, owner and mode.
same_tree() {
	local entry
	while IFS= read -r entry; do
		[ -e "$1/$entry" ] || [ -L "$1/$entry" ] || { fail "'$entry' from the tarball is missing"; return 1; }
	done < <(tar -tzf "$WWW/good/$ALPINE_TAR")
	check "os-release is not the tarball's" grep -qx "TOKEN=$TOKEN" "$1/etc/os-release" || return 1
	check "owner of usr/lib/owned is $(stat -c %u:%g "$1/usr/lib/owned"), want 1234:5678" \
		[ "$(stat -c %u:%g "$1/usr/lib/owned")" = 1234:5678 ] || return 1
	check "mode of usr/lib/owned is $(stat -c %a "$1/usr/lib/owned"), want 4750" \
		mode_is "$1/usr/lib/owned" 4750 || return 1
	check "mode of tmp is $(stat -c %a "$1/tmp"), want 1777" mode_is "$1/tmp" 1777
}

case_alpine_good() {
	local got
	MINIDOCKER_ALPINE_URL="$URL/good" MINIDOCKER_ARCH=x86_64 fetch --alpine r
	check "exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	same_tree r || return 1
	check "dev/null missing" node_is r/dev/null 1 3 || return 1
	got=$(chroot r /bin/sh -c 'echo ok' 2>&1)
	check "chroot sh printed '$got'" [ "$got" = ok ] || return 1
	check "temporary directory left" [ -z "$(leftovers "$C/r")" ] || return 1
	MINIDOCKER_ALPINE_URL="$URL/good" MINIDOCKER_ARCH=x86_64 fetch --alpine r
	check "re-run: exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	check "re-run does not say it did nothing: $OUT" grep -q already "$C/out"
}

case_alpine_bad_checksum() {
	MINIDOCKER_ALPINE_URL="$URL/bad" MINIDOCKER_ARCH=x86_64 fetch --alpine r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not mention the checksum: $ERR" grep -qi 'checksum' "$C/err" || return 1
	check "DIR or a temporary directory was left: $(ls -A)" nothing_left "$C/r"
}

case_alpine_pin_mismatch() {
	MINIDOCKER_ALPINE_SHA256=$(printf '%064d' 7) MINIDOCKER_ALPINE_URL="$URL/good" \
		MINIDOCKER_ARCH=x86_64 fetch --alpine r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not mention the checksum: $ERR" grep -qi 'checksum' "$C/err" || return 1
	check "DIR or a temporary directory was left" nothing_left "$C/r"
}

case_alpine_not_found() {
	MINIDOCKER_ALPINE_URL="$URL/empty" MINIDOCKER_ARCH=x86_64 fetch --alpine r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not say download: $ERR" grep -q 'cannot download' "$C/err" || return 1
	check "DIR or a temporary directory was left" nothing_left "$C/r"
}

case_ubuntu_good() {
	MINIDOCKER_UBUNTU_URL="$URL/good/" MINIDOCKER_ARCH=aarch64 fetch --ubuntu r
	check "exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	same_tree r || return 1
	check "temporary directory left" [ -z "$(leftovers "$C/r")" ]
}

case_ubuntu_bad_checksum() {
	MINIDOCKER_UBUNTU_URL="$URL/bad" MINIDOCKER_ARCH=aarch64 fetch --ubuntu r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not mention the checksum: $ERR" grep -qi 'checksum' "$C/err" || return 1
	check "DIR or a temporary directory was left" nothing_left "$C/r"
}

case_unknown_arch() {
	MINIDOCKER_UBUNTU_URL="$URL/good" MINIDOCKER_ARCH=vax fetch --ubuntu r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not name the machine: $ERR" grep -q "'vax'" "$C/err" || return 1
	check "DIR or a temporary directory was left" nothing_left "$C/r"
}

case_wget_only() {
	fakebin bin curl
	PATH="$C/bin" MINIDOCKER_ALPINE_URL="$URL/good" MINIDOCKER_ARCH=x86_64 fetch --alpine r
	check "exit status $RC: $ERR" [ "$RC" -eq 0 ] || return 1
	same_tree r || return 1
	PATH="$C/bin" MINIDOCKER_ALPINE_URL="$URL/bad" MINIDOCKER_ARCH=x86_64 fetch --alpine r2
	check "bad checksum with wget: exit status $RC: $ERR" one_line_error || return 1
	check "bad checksum with wget: DIR or a temporary directory was left" nothing_left "$C/r2"
}

case_no_downloader() {
	fakebin bin curl wget
	PATH="$C/bin" MINIDOCKER_ALPINE_URL="$URL/good" MINIDOCKER_ARCH=x86_64 fetch --alpine r
	check "exit status $RC, want non-zero with one error line: $ERR" one_line_error || return 1
	check "error does not name curl and wget: $ERR" grep -q 'curl.*wget' "$C/err" || return 1
	check "DIR or a temporary directory was left" nothing_left "$C/r"
}

# Interrupted half-way (Ctrl-C or kill of the whole process group while a
# download hangs): the trap removes the temporary directory. A stand-in
# curl blocks on a FIFO nobody writes to, so the test decides when.
case_interrupted() {
	local pid i rc
	fakebin bin curl wget
	mkfifo block
	printf '#!/bin/sh\necho "$*" >>"%s/started"\nexec cat -- "%s/block"\n' "$C" "$C" >bin/curl
	chmod 0755 bin/curl
	# setsid: its own process group, as a terminal's foreground job has.
	PATH="$C/bin" MINIDOCKER_ALPINE_URL="$URL/good" MINIDOCKER_ARCH=x86_64 \
		setsid "$SCRIPT" --alpine r >out 2>err </dev/null &
	pid=$!
	for i in $(seq 100); do
		[ -s started ] && break
		[ "$i" -lt 100 ] && sleep 0.05
	done
	if [ ! -s started ]; then
		kill -KILL -- "-$pid" 2>/dev/null
		wait "$pid"
		fail "the download never started: $(cat err)"
		return 1
	fi
	check "no temporary directory while downloading" [ -n "$(leftovers "$C/r")" ] || return 1
	kill -TERM -- "-$pid"
	wait "$pid"
	rc=$?
	for i in $(seq 100); do
		kill -0 -- "-$pid" 2>/dev/null || break
		[ "$i" -lt 100 ] && sleep 0.05
	done
	check "processes of the script are still running" [ "$i" -lt 100 ] || return 1
	check "exit status $rc, want 143 (TERM)" [ "$rc" -eq 143 ] || return 1
	check "DIR or a temporary directory was left: $(ls -A)" nothing_left "$C/r"
}

# --- run -------------------------------------------------------------------

run_case "--help prints usage to stdout" case_help
run_case "a bad option is a usage error with status 2" case_bad_option
run_case "two directories are a usage error" case_too_many_args
run_case "busybox tree: directories, modes, files, device nodes, applet links" case_busybox_tree
run_case "busybox tree runs in a chroot" case_busybox_runs
run_case "re-running leaves a complete rootfs alone" case_idempotent
run_case "--force rebuilds" case_force
run_case "--force refuses a rootfs with a mount inside" case_force_refuses_mounted
run_case "DIR that is a file is an error" case_dir_is_file
run_case "DIR that is not empty and not a rootfs is an error" case_dir_not_empty
run_case "an empty DIR is filled" case_empty_dir_filled
run_case "'.' is refused" case_refuses_dot
run_case "a missing parent directory is an error" case_missing_parent
run_case "DIR defaults to ./rootfs" case_default_dir
run_case "failure half-way leaves nothing" case_midway_failure_leaves_nothing
run_case "a dynamically linked busybox is refused" case_dynamic_busybox_refused
run_case "no busybox and no apt-get is an error" case_no_busybox_no_apt
run_case "without busybox on PATH it uses apt-get download" case_apt_download
run_case "without root: needs sudo, or --no-dev" case_unprivileged

if make_tarball && start_httpd; then
	run_case "alpine: right checksum makes the tarball's tree" case_alpine_good
	run_case "alpine: wrong checksum is refused, nothing left" case_alpine_bad_checksum
	run_case "alpine: a pinned sha256 that differs is refused" case_alpine_pin_mismatch
	run_case "alpine: a missing tarball is an error" case_alpine_not_found
	run_case "ubuntu: right checksum in SHA256SUMS, arm64 name" case_ubuntu_good
	run_case "ubuntu: wrong checksum is refused, nothing left" case_ubuntu_bad_checksum
	run_case "an unknown machine is an error" case_unknown_arch
	run_case "downloads with wget when curl is absent" case_wget_only
	run_case "neither curl nor wget is an error" case_no_downloader
	run_case "killed during a download leaves nothing" case_interrupted
else
	echo "not ok - download path: cannot serve the test tarball on 127.0.0.1"
	FAILED=$((FAILED + 1))
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
