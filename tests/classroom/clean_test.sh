#!/usr/bin/env bash
# Tests for make clean (tools/clean.sh): a build tree with what a stage
# that never unmounts leaves (proc mounted on the test root filesystem's
# /proc, twice, one on the other) and a bind mount of a directory outside
# it: clean unmounts them all, removes the tree, and deletes nothing
# through a mount. Needs root (it mounts).
set -u
cd "$(dirname -- "$0")/../.." || exit 1
# shellcheck source=tests/classroom/lib.sh
. tests/classroom/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "clean_test.sh: needs root (it mounts): run sudo make test-classroom" >&2
	exit 1
fi
# In a mount namespace of its own: nothing it mounts reaches the host,
# whatever happens. The scratch directory is the outer run's, made once
# (the inner run takes it as T) and removed on every way out, once the
# namespace, and every mount in it, is gone.
if [ -z "${CLEAN_TEST_INNER:-}" ]; then
	build=${BUILD:-build}
	mkdir -p "$build" || exit 1
	T=$(mktemp -d "$(realpath -- "$build")/clean.XXXXXX") || exit 1
	trap 'rm -rf --one-file-system -- "$T"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	CLEAN_TEST_INNER=1 T=$T unshare --mount --propagation private bash "$0"
	exit $?
fi
T=${T:?}

# Mount points under directory $1 in this namespace.
mounts_under() {
	awk -v top="$1" '{ p = $5; gsub(/\\040/, " ", p) } p == top || index(p, top "/") == 1 { n++ } END { print n + 0 }' /proc/self/mountinfo
}

b=$T/build
mkdir -p "$b/test-rootfs/proc" "$b/test-rootfs/mnt" "$T/outside"
touch "$T/outside/keep"
mount -t proc proc "$b/test-rootfs/proc" && mount -t proc proc "$b/test-rootfs/proc" &&
	mount --bind "$T/outside" "$b/test-rootfs/mnt"
check "the fixture mounted three things under the build tree" "$(mounts_under "$b") mounts" \
	test "$(mounts_under "$b")" -eq 3

out=$(tools/clean.sh "$b" 2>&1)
rc=$?
check "clean succeeds" "status $rc: $out" test "$rc" -eq 0
check "clean says what it unmounted" "got: $out" grep -q "unmounted 3 mount(s) under $b" <<<"$out"
check "clean leaves no mount behind" "$(mounts_under "$b") left" test "$(mounts_under "$b")" -eq 0
check "clean removes the build tree" "$(ls -A "$b" 2>&1 | head -n 3)" test ! -e "$b"
check "clean deletes nothing through a mount" "$T/outside/keep is gone" test -e "$T/outside/keep"
check "make clean runs tools/clean.sh" "$(grep -A2 '^clean:' Makefile)" \
	eval 'grep -A2 "^clean:" Makefile | grep -q "tools/clean.sh"'

summary
