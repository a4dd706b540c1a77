#!/usr/bin/env bash
# grade.sh [N...]: build each stage on its own and run its cumulative suites
# (suites 1..N against build/stage-N); print a score table; write JUnit XML
# per stage and a JSON summary into $GRADE_DIR. A stage that does not build,
# or whose run does not finish, scores 0 and the others are still graded.
# With no N, every stage under stages/. Exits 1 unless every test passed.
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

die() {
	echo "$prog: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] ||
	die "needs root (namespaces, mounts, cgroups): run sudo make grade"

stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
	for d in stages/[0-9][0-9]-*/; do
		n=${d#stages/}
		n=${n%%-*}
		stages+=("$((10#$n))")
	done
fi
[ ${#stages[@]} -gt 0 ] || die "no stages found under stages/"

mkdir -p "$dir"
"$make_cmd" --no-print-directory tests test-probe-rootfs >"$dir/tests.log" 2>&1 ||
	die "cannot build the test runner and probe: see $dir/tests.log"

xml_escape() {
	sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'
}

# JUnit XML for stage $1 in which every test fails with the message $2:
# the stage did not build, or its run did not finish.
write_failed_junit() {
	local why
	why=$(printf '%s' "$2" | xml_escape)
	"$runner" --list --stage "$1" | grep "$(printf '\t')" |
		awk -F '\t' -v why="$why" '
		!($1 in count) { order[++n] = $1 }
		{ count[$1]++; tests[$1, count[$1]] = $2 }
		END {
			print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			print "<testsuites>"
			for (i = 1; i <= n; i++) {
				s = order[i]
				printf "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" skipped=\"0\">\n", s, count[s], count[s]
				for (j = 1; j <= count[s]; j++)
					printf "    <testcase classname=\"%s\" name=\"%s\"><failure message=\"%s\"/></testcase>\n", s, tests[s, j], why
				print "  </testsuite>"
			}
			print "</testsuites>"
		}'
}

# "total failed" from a JUnit file: tests that ran (not skipped), failures.
count_junit() {
	sed -n 's/.*<testsuite .* tests="\([0-9]*\)" failures="\([0-9]*\)" skipped="\([0-9]*\)".*/\1 \2 \3/p' "$1" |
		awk '{ t += $1 - $3; f += $2 } END { print t + 0, f + 0 }'
}

rows=() json=() failures=()
sum_pass=0 sum_total=0 sum_points=0
for n in "${stages[@]}"; do
	xml=$dir/stage-$n.xml log=$dir/stage-$n.log blog=$dir/stage-$n.build.log
	rm -f "$xml" "$log" "$blog"
	built=true why=
	if ! "$make_cmd" -k --no-print-directory "$build/stage-$n" >"$blog" 2>&1; then
		built=false
		first=$(grep -m 1 'error:' "$blog" || tail -n 1 "$blog")
		why="stage-$n did not build: $first (see $blog)"
	else
		rc=0
		timeout -k 5 "$limit" "$runner" --bin "$build" --rootfs "$rootfs" \
			--stage "$n" --junit "$xml" >"$log" 2>&1 || rc=$?
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			why="the run of stage-$n took over ${limit}s (see $log)"
		elif [ "$rc" -gt 1 ] || [ ! -s "$xml" ]; then
			why="the run of stage-$n did not finish, status $rc (see $log)"
		fi
	fi
	[ -z "$why" ] || write_failed_junit "$n" "$why" >"$xml"
	read -r total failed < <(count_junit "$xml")
	pass=$((total - failed))
	got=0
	[ "$total" -gt 0 ] && [ "$failed" -eq 0 ] && got=$points
	sum_pass=$((sum_pass + pass)) sum_total=$((sum_total + total))
	sum_points=$((sum_points + got))
	rows+=("$(printf '%5s  %-6s %7s  %7s' "$n" \
		"$($built && echo ok || echo FAILED)" "$pass/$total" "$got/$points")")
	json+=("$(printf '    {"stage": %d, "built": %s, "passed": %d, "total": %d, "points": %d, "max_points": %d, "junit": "%s"}' \
		"$n" "$built" "$pass" "$total" "$got" "$points" "$xml")")
	if [ -n "$why" ]; then
		failures+=("$why")
		continue
	fi
	while IFS= read -r line; do
		failures+=("$line")
	done < <(sed -n 's/.*<testcase classname="\([^"]*\)" name="\([^"]*\)"><failure message="\([^"]*\)".*/\1  \2: \3/p' "$xml" |
		sed 's/&quot;/"/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g' |
		awk -v own="stage-$n | $n-" 'index($0, own) == 1 { print; next }
			{ rest[++r] = $0 } END { for (i = 1; i <= r; i++) print rest[i] }' |
		head -n 5)
done
max=$((points * ${#stages[@]}))

{
	printf '%5s  %-6s %7s  %7s\n' stage build tests points
	printf '%s\n' "${rows[@]}"
	printf '%5s  %-6s %7s  %7s\n' total "" "$sum_pass/$sum_total" "$sum_points/$max"
	if [ ${#failures[@]} -gt 0 ]; then
		echo
		echo "failed (5 a stage at most, its own tests first; all in $dir/stage-N.xml):"
		printf '  %s\n' "${failures[@]}"
	fi
}

{
	echo '{'
	echo '  "stages": ['
	last=$((${#json[@]} - 1))
	for i in "${!json[@]}"; do
		[ "$i" -eq "$last" ] && echo "${json[$i]}" || echo "${json[$i]},"
	done
	echo '  ],'
	printf '  "passed": %d, "total": %d, "points": %d, "max_points": %d\n' \
		"$sum_pass" "$sum_total" "$sum_points" "$max"
	echo '}'
} >"$dir/summary.json"
echo "results: $dir/summary.json, $dir/stage-N.xml"

[ "$sum_pass" -eq "$sum_total" ]
