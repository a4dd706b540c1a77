#!/usr/bin/env bash
# A learner's mistake, graded: stage 10 whose child loads its seccomp
# filter before it sets no_new_privs (the fixture seccomp-first, made by
# tests/tests.mk from stage 10's source). Without CAP_SYS_ADMIN the kernel
# refuses the filter, so nearly every run dies with the same line, in
# every suite. The grade must put those failures down to stage 10, not to
# the lesson of the suite that saw them (it said "stage 1: what stage 1
# teaches": issue 22), quote the line once and fold the repeats into one
# entry with a count; the smoke test must fail first and say that the
# later failures probably share its cause. Needs root (the grade runs
# containers).
set -u
set -o pipefail
cd "$(dirname -- "$0")/../.." || exit 1
# shellcheck source=tests/classroom/lib.sh
. tests/classroom/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "misblame_test.sh: needs root (the grade runs containers): run sudo make test-classroom" >&2
	exit 1
fi
make_cmd=${MAKE:-make}
build=${BUILD:-build}
fixture=$build/fixtures/seccomp-first.c
line='stage-10: cannot load the seccomp filter'

mkdir -p "$build" || exit 1
# Under build/, not /tmp, which may be mounted noexec or nodev.
T=$(mktemp -d "$(realpath -- "$build")/misblame.XXXXXX") || exit 1
trap 'rm -rf --one-file-system -- "$T"' EXIT
"$make_cmd" --no-print-directory "$fixture" test-probe-rootfs >"$T/make.log" 2>&1 || {
	echo "misblame_test.sh: cannot make the fixture and the test root filesystem: $(tail -n 1 "$T/make.log")" >&2
	exit 1
}

# A copy of the tree (the build and git left out) whose stage 10 is the
# fixture, graded as a learner's fork is.
tree=$T/tree
mkdir -p "$tree/build" &&
	tar -c --exclude=./build --exclude=./.git . | tar -x -C "$tree" &&
	cp "$fixture" "$tree"/stages/10-*/main.c &&
	cp -a "$build/test-rootfs" "$tree/build/" || {
	echo "misblame_test.sh: cannot copy the tree to $tree" >&2
	exit 1
}
rc=0
"$make_cmd" -C "$tree" --no-print-directory grade-stage-10 >"$T/grade.txt" 2>&1 || rc=$?
res=$tree/build/grade/stage-10.json

check "the fixture's grade fails" "status $rc" test "$rc" -ne 0
check "most of its tests fail" "$(jq -c '{passed, total}' "$res" 2>&1)" \
	holds '(.failed | length) > .total / 2' "$res"
check "the grade knows the line every plain run dies with" "$(jq -c .death "$res" 2>&1)" \
	holds --arg line "$line" '.death | startswith($line)' "$res"
check "every failure is put down to stage 10" \
	"$(jq -c '[.failed[] | select(.caused_by.stage != 10) | {test, caused_by}] | .[:2]' "$res" 2>&1)" \
	holds 'all(.failed[]; .caused_by.stage == 10)' "$res"
check "each failure says the line is stage 10's, in no earlier stage's stub" \
	"$(jq -c '[.failed[] | select(.caused_by.stderr == null)] | .[:2]' "$res" 2>&1)" \
	holds --arg line "$line" 'all(.failed[]; (.caused_by.stderr | startswith($line)) and
		(.caused_by.why | test("in no earlier stage.s stub")))' "$res"
n=$(grep -c -- "$line" "$T/grade.txt")
check "the grade's text quotes the line once" "$n times in: $(grep -m 3 -- "$line" "$T/grade.txt")" \
	test "$n" -eq 1
folded=$(sed -n 's/^    \([0-9]*\) tests \[stage 10: .*\], each with stderr:$/\1/p' "$T/grade.txt")
check "the grade folds all its failures into one entry with their count" \
	"entries of N tests: '$folded', of $(jq '.failed | length' "$res") failures, in: $(sed -n '/^failed tests/,$p' "$T/grade.txt" | head -n 8)" \
	test "$folded" = "$(jq '.failed | length' "$res")"
check "the grade says the smoke test failed first" "see the grade: $(grep -c smoke "$T/grade.txt") lines name it" \
	grep -q 'the smoke test failed' "$T/grade.txt"
check "the runner's smoke test says the later failures share its cause" \
	"$(grep -m 1 'smoke' "$tree/build/grade/stage-10.log")" \
	grep -q 'later failures of stage-10 probably share this cause' "$tree/build/grade/stage-10.log"

summary
