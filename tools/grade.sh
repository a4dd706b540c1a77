#!/usr/bin/env bash
# grade.sh [N...]: build each stage on its own and run its cumulative suites
# (suites 1..N against build/stage-N); print a score table with passed/total
# per stage and the failed tests, each with the stage whose code caused it.
# The runner writes the results (--json); this script
# only presents them: $GRADE_DIR/stage-N.json per stage, and summary.json,
# which holds every stage graded so far (grading one stage keeps the
# others'). A stage that does not build, or whose run does not finish,
# scores 0 and the others are still graded. With no N, every stage under
# stages/. Exits 1 unless every test of the stages graded now passed.
#
# Which stage's code caused a failure: the stage whose lesson a stub names
# ("not implemented: f() (see TUTORIAL.md, stage M)"), when the failure's
# message or a plain run of the stage shows one, since a stub dies before
# anything else happens. Else, when a plain run of the stage dies with an
# error line ("stage-10: cannot load the seccomp filter: ..."), or when
# the failure's run did, the failure is the stage under test's own: no
# earlier stage's lesson is to blame. Else, the smoke test (suite 0:
# the container forks and execs) is the stage under test's; any other
# test is put down to the stage whose suite failed. Failures with the
# same cause and the same error line are shown once, with a count.
#
# Environment (the Makefile passes the first three):
#   MAKE, BUILD, TEST_ROOTFS    how to build and where
#   GRADE_DIR                   results (default $BUILD/grade)
#   GRADE_POINTS                points a stage earns when all its tests pass (10)
#   GRADE_TIMEOUT               seconds one stage's run may take (600)
set -eu

prog="make grade"
make_cmd=${MAKE:-make}
build=${BUILD:-build}
rootfs=${TEST_ROOTFS:-$build/test-rootfs}
dir=${GRADE_DIR:-$build/grade}
points=${GRADE_POINTS:-10}
limit=${GRADE_TIMEOUT:-600}
runner=$build/tests/runner
shown=5 # failures shown per stage

die() {
	echo "$prog: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] ||
	die "needs root (namespaces, mounts, cgroups): run sudo make grade"
command -v jq >/dev/null || die "needs jq: run sudo make deps-test"

stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
	for d in stages/[0-9][0-9]-*/; do
		[ -f "$d/main.c" ] || continue # a lesson ahead of its spine
		n=${d#stages/}
		n=${n%%-*}
		stages+=("$((10#$n))")
	done
fi
[ ${#stages[@]} -gt 0 ] || die "no stages found under stages/"

mkdir -p "$dir"
"$make_cmd" --no-print-directory tests test-probe-rootfs >"$dir/tests.log" 2>&1 ||
	die "cannot build the test runner and probe: see $dir/tests.log"

# A plain run of stage $1: the words the runner gives (the test root
# filesystem, and no network on the machine's own), then /bin/true; its
# stderr.
plain_run() {
	local args
	mapfile -t args < <("$runner" --rootfs "$rootfs" --plain-run "$1")
	timeout -k 2 20 "$build/stage-$1" "${args[@]}" /bin/true 2>&1 >/dev/null </dev/null
}

# The stub a plain run of stage $1 dies in, as "M<TAB>its message", or
# nothing: the whole stage fails there, whatever a test looks at.
stub_of() {
	plain_run "$1" |
		sed -n 's/^\(stage-[0-9]*: not implemented: .*(see TUTORIAL.md, stage \([0-9]*\)).*\)$/\2\t\1/p' |
		head -n 1
}

# The error line a plain run of stage $1 dies with when it is not a
# stub's: the last "stage-N: " line of a run that failed; or nothing.
death_of() {
	local err
	err=$(plain_run "$1") && return 0
	grep -v 'not implemented: ' <<<"$err" | grep '^stage-[0-9]*: ' | tail -n 1
}

# Stage $1's result as JSON, from the runner's JSON ($2) or, when the
# stage did not build or its run did not finish, from its test list and
# the reason ($3); the stub it dies in ($4, M<TAB>message) decides the
# cause of failures whose message names no stub, and then the error line
# a plain run dies with ($6), that of failures that quote none.
stage_json() {
	local n=$1 results=$2 why=$3 stub=$4 built=$5 death=$6
	if [ -n "$why" ]; then
		"$runner" --list --stage "$n" |
			jq -R --arg why "$why" 'split("\t") | select(length == 2) |
				{suite: .[0], test: .[1], result: "failed", failures: [$why],
				 suite_stage: (.[0] | capture("\\| (?<s>[0-9]+)-").s | tonumber)}' |
			jq -s '{tests: .}'
	else
		jq '{tests: [.suites[] | . as $s | .tests[] |
			{suite: $s.name, test: .name, result, failures,
			 suite_stage: $s.suite_stage}]}' "$results"
	fi | jq --argjson n "$n" --argjson points "$points" --argjson built "$built" \
		--arg why "$why" --arg stub "$stub" --arg death "$death" \
		--arg when "$(date -u +%FT%TZ)" '
	($stub | split("\t")) as $st |
	def stubbed: capture("not implemented: (?<f>[A-Za-z_0-9]+)\\(\\) \\(see TUTORIAL.md, stage (?<m>[0-9]+)\\)");
	# The last line of the runtime ("stage-N: ...") in the stderr that a
	# failure quotes ("; stderr: a | b"), or null; a quote cut short
	# (" | ...") may have lost the line that matters, and counts as none.
	def runtime_line:
		[.failures[] | capture("; stderr: (?<e>.*)").e |
		 select(endswith(" | ...") | not) | split(" | ")[] |
		 select(test("^stage-[0-9]+: "))] | last;
	def cause:
		([.failures[] | stubbed?] | first) as $m |
		runtime_line as $line |
		if $why != "" then {stage: $n, why: "stage \($n)\u0027s code: \($why)"}
		elif $m then {stage: ($m.m | tonumber), why: "\($m.f)() is still a stub"}
		elif ($st | length) == 2 then
			($st[1] | stubbed) as $p |
			{stage: ($p.m | tonumber), why: "\($p.f)() is still a stub: every run dies there"}
		elif $death != "" and ($line == null or $line == $death) then
			{stage: $n, why: "every run of stage-\($n) dies with this line, in no earlier stage\u0027s stub", stderr: $death}
		elif $line then
			{stage: $n, why: "stage-\($n)\u0027s own run fails with this line, in no earlier stage\u0027s stub", stderr: $line}
		elif .suite_stage == 0 then
			{stage: $n, why: "a plain container of stage-\($n) cannot fork and exec"}
		else {stage: .suite_stage, why: "what stage \(.suite_stage) teaches"} end;
	(.tests | map(select(.result != "inactive"))) as $ran |
	($ran | map(select(.result == "passed")) | length) as $passed |
	{stage: $n, built: $built, graded_at: $when,
	 passed: $passed, total: ($ran | length),
	 inactive: ((.tests | length) - ($ran | length)),
	 points: (if ($ran | length) > 0 and $passed == ($ran | length) then $points else 0 end),
	 max_points: $points,
	 why: (if $why == "" then null else $why end),
	 stub: (if ($st | length) == 2 then $st[1] else null end),
	 death: (if $death == "" then null else $death end),
	 failed: [$ran[] | select(.result == "failed") |
		{suite, test, failures, caused_by: cause}]}'
}

status=0
for n in "${stages[@]}"; do
	res=$dir/stage-$n.json run=$dir/stage-$n.results.json
	log=$dir/stage-$n.log blog=$dir/stage-$n.build.log
	rm -f "$res" "$run" "$dir/stage-$n.xml" "$log" "$blog"
	built=true why='' stub='' death=''
	if ! "$make_cmd" -k --no-print-directory "$build/stage-$n" >"$blog" 2>&1; then
		built=false
		first=$(grep -m 1 'error:' "$blog" || tail -n 1 "$blog")
		why="stage-$n did not build: $first (see $blog)"
	else
		stub=$(stub_of "$n")
		death=$(death_of "$n")
		rc=0
		timeout -k 5 "$limit" "$runner" --bin "$build" --rootfs "$rootfs" \
			--stage "$n" --json "$run" >"$log" 2>&1 || rc=$?
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			why="the run of stage-$n took over ${limit}s (see $log)"
		elif [ "$rc" -gt 1 ] || ! jq -e .suites "$run" >/dev/null 2>&1; then
			why="the run of stage-$n did not finish, status $rc (see $log)"
		fi
	fi
	stage_json "$n" "$run" "$why" "$stub" "$built" "$death" >"$res" ||
		die "cannot write $res"
	jq -e '.passed == .total' "$res" >/dev/null || status=1
done

# Every stage graded so far, in stage order: a grade of one stage keeps
# the others' results.
all=()
for n in $(seq 1 99); do
	[ ! -f "$dir/stage-$n.json" ] || all+=("$dir/stage-$n.json")
done
jq -s '{stages: [.[] | del(.failed) + {failed: (.failed | length)}],
	passed: (map(.passed) | add), total: (map(.total) | add),
	points: (map(.points) | add), max_points: (map(.max_points) | add)}' \
	"${all[@]}" >"$dir/summary.json"

graded=()
for n in "${stages[@]}"; do graded+=("$dir/stage-$n.json"); done
jq -rs --argjson shown "$shown" '
	def row(a; b; c; d; e): "\(a | tostring | .[0:5] | " " * (5 - length) + .)  \(b)\(" " * (7 - (b | length)))\(c | " " * (9 - length) + .)  \(d | " " * (7 - length) + .)  \(e)" | sub(" +$"; "");
	row("stage"; "build"; "tests"; "points"; ""),
	(.[] | row(.stage; (if .built then "ok" else "FAILED" end); "\(.passed)/\(.total)";
		"\(.points)/\(.max_points)";
		if .stub then "dies in a stub: \(.stub)" elif .why then .why else "" end)),
	row("total"; ""; "\(map(.passed) | add)/\(map(.total) | add)";
		"\(map(.points) | add)/\(map(.max_points) | add)"; ""),
	(if any(.[]; .failed | length > 0) then
		"",
		"failed tests, the first \($shown) of each stage (those with the same cause and error line as one); the stage in [] is the one whose code caused it:",
		(.[] | select(.failed | length > 0) |
			"  stage \(.stage): \(.failed | length) failed",
			if .why then "    every test: \(.why)" else
			(if any(.failed[]; .suite | test("\\| 0-smoke$")) then
				"    the smoke test failed (a plain container that forks and execs): the failures after it probably share its cause"
			else empty end),
			# Entries in the order of their first failure: the failures
			# that share a cause and an error line as one, each other
			# failure as one.
			([.failed | to_entries[] | .value + {at: .key}] |
			 group_by([.caused_by.stage, .caused_by.why, .caused_by.stderr]) |
			 map(sort_by(.at) |
				if length > 1 and .[0].caused_by.stderr != null then [.] else map([.]) end) |
			 add | sort_by(.[0].at) | .[:$shown][] |
				if length == 1 then
					(.[0] |
					"    \(.suite)  \(.test) [stage \(.caused_by.stage): \(.caused_by.why)]",
					"      \(.failures[0] // "(no message)")")
				else
					"    \(length) tests [stage \(.[0].caused_by.stage): \(.[0].caused_by.why)], each with stderr:",
					"      \(.[0].caused_by.stderr)",
					"      first: \(.[0].suite)  \(.[0].test); last: \(.[-1].suite)  \(.[-1].test)"
				end) end)
	else empty end)' "${graded[@]}"
echo
echo "tests: passed/total of the tests run; a superseded test (a later stage changes it on purpose) is not run, and the runner's summary counts it as Inactive."
echo "results: $dir/summary.json (every stage graded so far), $dir/stage-N.json, and the runner's own $dir/stage-N.results.json"

exit "$status"
