#!/usr/bin/env bash
# A scripted student run, graded as a teacher grades it: make student; the
# grade of the untouched edition fails every stage, each for its stub's
# reason (a run dies with "not implemented", and every failure is put down
# to a stub); then one stage (CLASSROOM_FILL, 2 by default) filled in from
# the reference: that stage passes every test and every other stage still
# fails. A learner's stage 9 is what the last stage runs: with every other
# file of the last stage filled in, its run of a stage 9 test fails in
# stage 9's stubs until stage 9's limits.c is filled, then passes. The
# grade of this tree's last stage, the reference, passes every test (its
# run holds every suite; every stage of the reference passing every suite
# is what make test-host shows, so grading the others again here would
# only double the part's time). Also
# grade-stage-N keeping the other stages' results, and make student's
# refusals. Needs root (the grade runs containers). With
# CLASSROOM_EDITION=DIR, the edition skeleton_test.sh made, built and
# left there as made: it is graded as it is, not made again.
set -u
set -o pipefail
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
fill=${CLASSROOM_FILL:-2}

mkdir -p "$build" || exit 1
# Under build/, not /tmp, which may be mounted noexec or nodev.
T=$(mktemp -d "$(realpath -- "$build")/classroom.XXXXXX") || exit 1
trap 'rm -rf --one-file-system -- "$T"' EXIT
skel=$T/skeleton

# The skeleton's grade needs the test root filesystem; copy ours rather
# than make another. The fixtures are for listing the proving tests.
"$make_cmd" --no-print-directory all tests fixtures test-probe-rootfs >"$T/rootfs.log" 2>&1 || {
	echo "student_test.sh: cannot build this tree's stages, runner, fixtures and test root filesystem: $(tail -n 1 "$T/rootfs.log")" >&2
	exit 1
}

rc=0
if [ -n "${CLASSROOM_EDITION:-}" ]; then
	skel=$CLASSROOM_EDITION
	check "skeleton_test.sh left the edition as made in $skel" \
		"$(git -C "$skel" status --porcelain 2>&1 | head -n 3)" eval \
		'[ "$(git -C "$skel" rev-list --count HEAD 2>/dev/null)" = 1 ] && [ -z "$(git -C "$skel" status --porcelain)" ]'
else
	err=$(tools/student.sh "$skel" 2>&1 >/dev/null) || rc=$?
	check "make student makes the skeleton" "status $rc: $err" test "$rc" -eq 0
fi
mkdir -p "$skel/build" && rm -rf "$skel/build/test-rootfs" && cp -a "$build/test-rootfs" "$skel/build/"
check "the skeleton builds" "see $T/build.log" \
	eval '"$make_cmd" -C "$skel" --no-print-directory all tests >"$T/build.log" 2>&1'

stage_nums=()
for sdir in "$skel"/stages/[0-9][0-9]-*/; do
	[ -f "$sdir/main.c" ] || continue # a lesson ahead of its spine
	n=$(basename "$sdir")
	stage_nums+=("$((10#${n%%-*}))")
done

# The tests that prove stage $1 (they must fail on the stage before), as
# the runner lists them; fails when the runner does. Listed from this
# tree's build, whose fixtures exist (the edition has none: their seds take
# lessons out of the reference); the list is the same.
proving_tests() {
	"$build/tests/runner" --bin "$build" --stage "$1" --prove --list |
		awk -F '\t' -v suite="proof: stage-$(($1 - 1)) | $1-" 'index($1, suite) == 1 { print $2 }'
}

# Whether test $3 of stage $2's own suite failed in the grade results $1.
failed_in() {
	holds --arg t "$3" --arg own "| $2-" \
		'any(.failed[]; .test == $t and (.suite | contains($own)))' \
		"$1"
}

rc=0
"$make_cmd" -C "$skel" --no-print-directory grade >"$T/skeleton-grade.txt" 2>&1 || rc=$?
check "the grade of the skeleton fails" "status $rc" test "$rc" -ne 0
check "the grade of the skeleton keeps every stage in its summary" "$(cat "$skel/build/grade/summary.json" 2>&1 | head -n 5)" \
	test "$(jq '.stages | length' "$skel/build/grade/summary.json" 2>/dev/null)" = "${#stage_nums[@]}"

for n in "${stage_nums[@]}"; do
	res=$skel/build/grade/stage-$n.json
	own=$(jq --arg own "| $n-" '[.failed[] | select(.suite | contains($own))] | length' "$res" 2>/dev/null)
	check "skeleton stage $n: its own tests fail" "${own:-no result in $res}" test "${own:-0}" -gt 0
	if [ "$n" -gt 1 ]; then
		list=$(proving_tests "$n")
		rc=$?
		check "skeleton stage $n: the runner lists the tests that prove it" "status $rc, list: $list" \
			eval '[ "$rc" -eq 0 ] && [ -n "$list" ]'
		for t in $list; do
			check "skeleton stage $n: $t fails" "it passed (see $res)" failed_in "$res" "$n" "$t"
		done
	fi
	# The stub's reason: a plain run dies in a stub, and the grade puts
	# every failure down to one.
	mapfile -t args < <("$skel/build/tests/runner" --rootfs "$skel/build/test-rootfs" --plain-run "$n")
	err=$("$skel/build/stage-$n" "${args[@]}" /bin/true 2>&1 >/dev/null)
	status=$?
	check "skeleton stage $n: dies with 125 and says what is not implemented" \
		"status $status, stderr: $err" eval \
		'[ "$status" -eq 125 ] && grep -q "^stage-$n: not implemented: .*() (see TUTORIAL.md, stage [0-9]*)$" <<<"$err"'
	check "skeleton stage $n: the grade names the stub it dies in" "$(jq -c .stub "$res")" \
		holds --arg n "$n" '.stub | test("^stage-\($n): not implemented: ")' "$res"
	check "skeleton stage $n: the failed checks show the stub's message" \
		"$(jq -c '.failed[0].failures[0]' "$res")" \
		holds 'any(.failed[]; any(.failures[]; test("not implemented: [a-z_]+\\(\\) \\(see TUTORIAL.md, stage [0-9]+\\)")))' "$res"
	check "skeleton stage $n: the grade puts every failure down to a stub" \
		"$(jq -c '[.failed[].caused_by | select(.why | test("still a stub") | not)] | .[:2]' "$res")" \
		holds 'all(.failed[]; .caused_by.why | test("still a stub"))' "$res"
done
check "the grade's table says why a stage fails" "see $T/skeleton-grade.txt" \
	grep -q "dies in a stub: stage-$fill: not implemented: " "$T/skeleton-grade.txt"
check "the grade's failures say which stub, readably" "see $T/skeleton-grade.txt" \
	grep -Eq '^    stage-[0-9]+ \| .*\[stage [0-9]+: [a-z_]+\(\) is still a stub' "$T/skeleton-grade.txt"

# The files of stage $1 that hold lessons, as paths under stages/: its
# main.c and the lesson files of its stage and the stages before (from
# stage 9, which it builds with), as tools/lessons.tsv names them.
lesson_files_of() {
	ls -d stages/"$(printf %02d "$1")"-*/main.c
	awk -F '\t' -v n="$1" '$1 <= n && $4 != "main.c" && !seen[$1 "\t" $4]++ { print $1 "\t" $4 }' <<<"$(grep -v '^#' "$table")" |
		while IFS=$'\t' read -r stage file; do
			ls -d stages/"$(printf %02d "$stage")"-*/"$file"
		done
}

# fill_from_reference FILE...: those files of the skeleton as the
# reference has them. Copying a file is the same as filling each of its
# stubs: skeleton_test.sh proves that the stubs are all that differ.
fill_from_reference() {
	local f
	for f in "$@"; do
		cp "$f" "$skel/$f" || return 1
	done
}

# One stage filled in from the reference: every stub of its files (its
# own lessons and those of the stages before), as a learner who finished
# it has it.
mapfile -t fill_files < <(lesson_files_of "$fill")
fill_from_reference "${fill_files[@]}"
# Only its files changed, so only it is graded again (a later stage built
# with them still has stubs of its own): grade-stage-N keeps the other
# stages' results, the skeleton's above, in the summary.
rc=0
"$make_cmd" -C "$skel" --no-print-directory "grade-stage-$fill" >"$T/filled-grade.txt" 2>&1 || rc=$?
check "filled stage $fill: its grade passes" "status $rc" test "$rc" -eq 0
check "grade-stage-$fill keeps every other stage in the summary" "$(jq -c '[.stages[].stage]' "$skel/build/grade/summary.json")" \
	test "$(jq '.stages | length' "$skel/build/grade/summary.json")" = "${#stage_nums[@]}"
check "filled stage $fill: the summary still fails (the other stages)" "see $skel/build/grade/summary.json" \
	holds '.passed < .total' "$skel/build/grade/summary.json"
for n in "${stage_nums[@]}"; do
	res=$skel/build/grade/stage-$n.json
	got=$(jq -r '"\(.passed)/\(.total)"' "$res" 2>/dev/null)
	if [ "$n" -eq "$fill" ]; then
		# What failed, named here: $T goes when the test ends.
		why=$(jq -r '.failed[]? | "\(.suite) \(.test): \(.failures[0] // "")"' "$res" 2>/dev/null | head -n 3)
		check "filled stage $fill: every test passes" "$got; ${why:-see $T/filled-grade.txt}" \
			holds '.total > 0 and .passed == .total and .stub == null' "$res"
	else
		check "filled stage $fill: stage $n still fails" "$got" holds '.passed < .total' "$res"
	fi
done

# A stage that does not build: 0 points, every test put down to its code,
# the compiler's first error shown once.
echo 'not C;' >>"$skel"/stages/03-*/main.c
"$make_cmd" -C "$skel" --no-print-directory grade-stage-3 >"$T/broken-grade.txt" 2>&1
res=$skel/build/grade/stage-3.json
check "a stage that does not build: the table says so, with the error" "see $T/broken-grade.txt" \
	grep -Eq '^ +3 +FAILED +0/[0-9]+ +0/[0-9]+ +stage-3 did not build: .*error: ' "$T/broken-grade.txt"
check "a stage that does not build: its failures are put down to it" "$(jq -c '.failed[0].caused_by' "$res")" \
	holds 'all(.failed[]; .caused_by.stage == 3) and (.failed | length) == .total and .total > 0' "$res"
git -C "$skel" checkout -q -- stages

# A learner's stage 9 is what the last stage runs, with no copy: the last
# stage's own files filled (its main.c and the lesson files of stages 10
# on), stage 9's limits.c still stubbed: a stage 9 test run against the
# last stage fails in stage 9's stub; once limits.c is filled, it passes.
last=${stage_nums[-1]}
oom_test=test_memory_hog_killed_at_limit
mapfile -t last_files < <(lesson_files_of "$last" | grep -v '^stages/09-')
fill_from_reference "${last_files[@]}"
out=$("$make_cmd" -C "$skel" --no-print-directory "stage-$last" 2>&1) ||
	echo "student_test.sh: stage $last does not build: $(grep -m 1 error: <<<"$out")" >&2
rc=0
out=$("$build/tests/runner" --bin "$skel/build" --rootfs "$skel/build/test-rootfs" \
	--stage "$last" --only "$oom_test" 2>&1) || rc=$?
check "stage $last filled but for stage 9's limits.c: stage 9's $oom_test fails in stage 9's stub" \
	"status $rc: $(tail -n 3 <<<"$out")" \
	eval '[ "$rc" -ne 0 ] && grep -q "not implemented: [a-z_]*() (see TUTORIAL.md, stage 9)" <<<"$out"'
fill_from_reference stages/09-*/limits.c
out=$("$make_cmd" -C "$skel" --no-print-directory "stage-$last" 2>&1) ||
	echo "student_test.sh: stage $last does not build: $(grep -m 1 error: <<<"$out")" >&2
rc=0
out=$("$build/tests/runner" --bin "$skel/build" --rootfs "$skel/build/test-rootfs" \
	--stage "$last" --only "$oom_test" 2>&1) || rc=$?
check "stage 9's limits.c filled (only that file): stage 9's $oom_test passes against stage $last" \
	"status $rc: $(tail -n 3 <<<"$out")" test "$rc" -eq 0
git -C "$skel" checkout -q -- stages

rc=0
"$make_cmd" --no-print-directory "grade-stage-$last" >"$T/reference-grade.txt" 2>&1 || rc=$?
check "the grade of the reference's stage $last passes every test" "status $rc: $(tail -n 5 "$T/reference-grade.txt")" \
	test "$rc" -eq 0
check "the reference's stage $last: passed equals total" "see $build/grade/stage-$last.json" \
	holds '.total > 0 and .passed == .total and .stub == null' "$build/grade/stage-$last.json"

# Refusals: a table row that no longer matches, a destination in use.
{
	cat "$table"
	printf '2\tfunction\tno_such_function\tmain.c\t-\twrite it\n'
} >"$T/bad.tsv"
err=$(LESSONS=$T/bad.tsv tools/student.sh "$T/bad" 2>&1 >/dev/null)
check "a lesson not found stops make student with one line" "got: $err" \
	eval '[ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "no_such_function not found" <<<"$err"'
err=$(tools/student.sh "$skel" 2>&1 >/dev/null)
check "make student refuses a directory that is not empty" "got: $err" \
	grep -q "is not empty" <<<"$err"

summary
