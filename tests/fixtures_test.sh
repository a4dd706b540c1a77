#!/bin/sh
# The runner's promises about broken stages, shown on fixtures that
# tests.mk generates from the stages (as root; the runner is the one
# under test):
#  1. a failure says what happened: against stage 2 as the learner gets
#     it (setup_uts() a stub), the output holds the stub's message, the
#     command and the statuses, at the suite's line; --only and -v work,
#     and an --only that matches nothing is an error, beside others too.
#  2. a stage 2 without CLONE_NEWUTS cannot rename the machine: the
#     hostname is the same after its suite ran.
#  3. mounts a stage 4 that never unmounts leaves under the test root
#     filesystem are removed and reported, and a correct run passes
#     right after it.
#  4. `runner --prove` without stage N-1's binary fails and says so.
# usage: tests/fixtures_test.sh BUILD_DIR TEST_ROOTFS
set -u
build=$1 rootfs=$2
runner=$build/tests/runner
if [ "$(id -u)" -ne 0 ]; then
	echo "fixtures_test.sh: needs root (namespaces, mounts): run it with sudo" >&2
	exit 1
fi
tmp=$(mktemp -d /tmp/minidocker-fixtures-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }
pass() { echo "ok: $*"; }

# A bin directory in which the fixture answers as stage-N.
bin_of() { mkdir -p "$tmp/$1" && ln -sf "$(realpath "$build/fixture-$1")" "$tmp/$1/stage-$2"; echo "$tmp/$1"; }

# 1. What a failure says.
out=$("$runner" --bin "$(bin_of stub-uts 2)" --rootfs "$rootfs" --stage 2 \
	--only test_hostname_inside_is_container -v 2>&1); st=$?
[ $st -ne 0 ] || fail "the runner passed a stub"
for want in 'not implemented: setup_uts()' 'exited 125, expected 0' \
	'tests/suite_uts.c:' 'stage-2 run ' 'stderr| stage-2: not implemented' \
	'tests      1      1      0      1'; do
	case $out in *"$want"*) pass "stub: output has '$want'" ;;
	*) fail "stub: output lacks '$want'"; printf '%s\n' "$out" | head -30 ;; esac
done
case $out in *harness.c*) fail "stub: a failure points into harness.c" ;; esac
"$runner" --bin "$build" --stage 2 --only no_such_test >/dev/null 2>&1
[ $? -eq 2 ] && pass "--only with no match is an error" || fail "--only no_such_test did not fail"
# One --only that matches beside one that does not: still an error, one
# line naming it, and no state directory left (a /tmp of its own).
out=$(unshare --mount --propagation private sh -c 'mount -t tmpfs scratch /tmp &&
	"$0" --bin "$1" --stage 2 --only 2-uts --only no_such_test; echo "status $?"; ls -A /tmp' \
	"$runner" "$build" 2>&1)
want="runner: no suite or test matches --only 'no_such_test' (see --list)
status 2"
[ "$out" = "$want" ] && pass "--only with no match beside one that matches is an error, nothing left" ||
	fail "--only 2-uts --only no_such_test: want '$want', got '$out'"

# 2. The hostname fence.
before=$(hostname)
out=$("$runner" --bin "$(bin_of no-newuts 2)" --rootfs "$rootfs" --stage 2 2>&1); st=$?
after=$(hostname)
[ $st -ne 0 ] || fail "no-newuts: the stage 2 suite passed without CLONE_NEWUTS"
case $out in *"test_host_hostname_unchanged ...FAILED"*) pass "no-newuts: test_host_hostname_unchanged fails" ;;
*) fail "no-newuts: test_host_hostname_unchanged did not fail" ;; esac
[ "$before" = "$after" ] && pass "no-newuts: the machine is still '$after'" ||
	{ fail "no-newuts: the machine was renamed '$after'"; hostname "$before"; }

# 3. Mounts left behind, then a correct run.
out=$("$runner" --bin "$(bin_of no-unmount 4)" --rootfs "$rootfs" --stage 4 --only 4-chroot \
	--json "$tmp/results.json" 2>&1); st=$?
jq -e '[.suites[].tests[] | select(.name == "nothing_left_behind" and .result == "failed")] | length == 1' \
	"$tmp/results.json" >/dev/null 2>&1 &&
	pass "no-unmount: the JSON results fail the suite for what it left" ||
	fail "no-unmount: the JSON results do not say what was left"
[ $st -ne 0 ] || fail "no-unmount: the stage 4 suite passed"
case $out in *"left "*" mounts under "*": removed"*) pass "no-unmount: the left mounts were reported and removed" ;;
*) fail "no-unmount: no report of the mounts left"; printf '%s\n' "$out" | tail -20 ;; esac
grep -q " $(realpath "$rootfs")/" /proc/self/mountinfo && fail "no-unmount: mounts still under $rootfs"
out=$("$runner" --bin "$build" --rootfs "$rootfs" --stage 4 --only 4-chroot 2>&1) &&
	pass "stage 4 passes right after" || { fail "stage 4 failed right after the broken one"; printf '%s\n' "$out" | tail -20; }

# 4. A proof with nothing to prove against.
mkdir -p "$tmp/alone" && ln -sf "$(realpath "$build/stage-3")" "$tmp/alone/stage-3"
out=$("$runner" --bin "$tmp/alone" --rootfs "$rootfs" --stage 3 --prove 2>&1); st=$?
[ $st -eq 2 ] && case $out in *"no binary"*"stage-2"*) true ;; *) false ;; esac &&
	pass "--prove without stage 2 fails: $out" || fail "--prove without stage 2: status $st: $out"

[ $failed -eq 0 ] && echo "fixtures_test.sh: all passed" || echo "fixtures_test.sh: FAILED"
exit $failed
