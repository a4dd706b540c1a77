#!/bin/sh
# The proof that tests/hardening/asan.sh fails on a sanitizer report made
# inside a rootless container: such a report is written into the copy of
# the root filesystem that the harness makes for the rootless runs and
# deletes after them.
#
#   tests/hardening/asan_proof.sh RUNNER FIXTURE ROOTFS
#
# FIXTURE is stage 8 built with ASan and UBSan that overflows an int in
# the container after pivot_root, in rootless runs only (hardening.mk).
# asan.sh must fail, name a log kept from a rootless run's copy, and show
# the overflow.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 RUNNER FIXTURE ROOTFS" >&2
	exit 2
fi
runner=$1 fixture=$2 rootfs=$3
prog=asan_proof.sh
here=$(dirname "$0")

bin=$(mktemp -d)
out=$bin/out
trap 'rm -rf "$bin"' EXIT
cp "$fixture" "$bin/stage-8"

fail() {
	echo "$prog: FAIL: $*" >&2
	cat "$out" >&2
	exit 1
}

if "$here/asan.sh" "$runner" "$bin" "$rootfs" >"$out" 2>&1; then
	fail "asan.sh passed although the container made a UBSan report"
fi
kept=$(sed -n 's/^asan.sh: sanitizer reports, kept in //p' "$out" | sed 's/:$//')
[ -n "$kept" ] || fail "asan.sh failed, but reported no sanitizer report"
grep -q "^$kept/minidocker-nobody-[^/]*/ubsan\\." "$out" ||
	fail "no report from a rootless run's copy among those asan.sh found"
grep -q 'runtime error: signed integer overflow' "$out" ||
	fail "the report found is not the deliberate overflow"
rm -rf "$kept"
echo "$prog: asan.sh found the report made inside a rootless container"
