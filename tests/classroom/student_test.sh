#!/usr/bin/env bash
# Tests for make student and make grade: the skeleton builds, the grade of
# it fails every stage's own tests (each test that proves the stage fails
# too, and each stubbed stage dies with its "not implemented" line), while
# the grade of this tree, the reference solution, passes every test. Also
# the student script's refusals. Needs root (the grade runs containers).
set -u
cd "$(dirname -- "$0")/../.." || exit 1
# shellcheck source=tests/classroom/lib.sh
. tests/classroom/lib.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "student_test.sh: needs root (the grade runs containers): run sudo make test-classroom" >&2
	exit 1
fi
make_cmd=${MAKE:-make}
build=${BUILD:-build}
table=tools/lessons.tsv

mkdir -p "$build" || exit 1
# Under build/, not /tmp, which may be mounted noexec or nodev.
T=$(mktemp -d "$(realpath -- "$build")/classroom.XXXXXX") || exit 1
trap 'rm -rf --one-file-system -- "$T"' EXIT
skel=$T/skeleton

# The skeleton's grade needs the test root filesystem; copy ours rather
# than make another.
"$make_cmd" --no-print-directory test-probe-rootfs >"$T/rootfs.log" 2>&1 || {
	echo "student_test.sh: cannot make the test root filesystem: $(tail -n 1 "$T/rootfs.log")" >&2
	exit 1
}

rc=0
err=$(tools/student.sh "$skel" 2>&1 >/dev/null) || rc=$?
check "make student makes the skeleton" "status $rc: $err" test "$rc" -eq 0
mkdir -p "$skel/build" && cp -a "$build/test-rootfs" "$skel/build/"

check "the skeleton builds with -Werror" "see $T/build.log" \
	eval '"$make_cmd" -C "$skel" --no-print-directory all tests >"$T/build.log" 2>&1'

# What each stage's own suite did in a grade's JUnit file: "tests failures".
own_suite() { # xml stage
	sed -n "s/.*<testsuite name=\"stage-$2 | $2-[^\"]*\" tests=\"\([0-9]*\)\" failures=\"\([0-9]*\)\".*/\1 \2/p" "$1"
}

# Whether test $3 failed in stage $2's own suite of JUnit file $1.
failed_in() {
	awk -v suite="stage-$2 | $2-" -v test="$3" '
	/<testsuite / { inside = index($0, "name=\"" suite) > 0 }
	inside && index($0, "name=\"" test "\"") && /<failure/ { found = 1 }
	END { exit !found }' "$1"
}

# The tests that prove stage $1 (they must fail on the stage before), as the
# runner lists them.
proving_tests() {
	"$skel/build/tests/runner" --bin "$skel/build" --stage "$1" --prove --list |
		awk -F '\t' -v suite="proof: stage-$(($1 - 1)) | $1-" 'index($1, suite) == 1 { print $2 }'
}

rc=0
"$make_cmd" -C "$skel" --no-print-directory grade >"$T/skeleton-grade.txt" 2>&1 || rc=$?
check "the grade of the skeleton fails" "status $rc" test "$rc" -ne 0
check "the grade of the skeleton writes its JSON summary" "no $skel/build/grade/summary.json" \
	grep -q '"max_points"' "$skel/build/grade/summary.json"

for sdir in "$skel"/stages/[0-9][0-9]-*/; do
	n=$(basename "$sdir")
	n=$((10#${n%%-*}))
	xml=$skel/build/grade/stage-$n.xml
	read -r total failures < <(own_suite "$xml" "$n")
	check "skeleton stage $n: its own tests fail" "$failures of ${total:-no} tests failed in $xml" \
		test "${failures:-0}" -gt 0
	for t in $(proving_tests "$n"); do
		check "skeleton stage $n: $t fails" "it passed (see $xml)" failed_in "$xml" "$n" "$t"
	done
	rows=$(awk -F '\t' -v n="$n" '$1 == n' "$table" | wc -l)
	todos=$(grep -c 'TODO (stage '"$n"')' "$sdir/main.c")
	check "skeleton stage $n: a TODO for each of its $rows lessons" "$todos TODOs" test "$todos" -eq "$rows"
	if awk -F '\t' -v n="$n" '$1 == n && $2 == "function" { f = 1 } END { exit !f }' "$table"; then
		args=(run)
		[ "$n" -lt 4 ] || args+=(--rootfs "$skel/build/test-rootfs")
		err=$("$skel/build/stage-$n" "${args[@]}" /bin/true 2>&1 >/dev/null)
		status=$?
		check "skeleton stage $n: dies with 125 and says what is not implemented" \
			"status $status, stderr: $err" eval \
			'[ "$status" -eq 125 ] && grep -q "^stage-$n: not implemented: .*() (see TUTORIAL.md, stage $n)$" <<<"$err"'
	fi
done

rc=0
"$make_cmd" --no-print-directory grade >"$T/reference-grade.txt" 2>&1 || rc=$?
check "the grade of the reference passes every test" "status $rc: $(tail -n 5 "$T/reference-grade.txt")" \
	test "$rc" -eq 0
check "the reference's summary: passed equals total" "see $build/grade/summary.json" \
	grep -Eq '"passed": ([0-9]+), "total": \1,' "$build/grade/summary.json"

# Refusals: a table row that no longer matches, a destination in use.
{
	cat "$table"
	printf '2\tfunction\tno_such_function\t-\twrite it\n'
} >"$T/bad.tsv"
err=$(LESSONS=$T/bad.tsv tools/student.sh "$T/bad" 2>&1 >/dev/null)
check "a lesson not found stops make student with one line" "got: $err" \
	eval '[ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "no_such_function not found" <<<"$err"'
err=$(tools/student.sh "$skel" 2>&1 >/dev/null)
check "make student refuses a directory that is not empty" "got: $err" \
	grep -q "is not empty" <<<"$err"

summary
