#!/usr/bin/env bash
# readme.sh: put the last benchmark into bench/README.md (or the file
# given), between the lines <!-- bench:start --> and <!-- bench:end -->,
# replacing what was there. Nothing else in the file changes.
#
# usage: readme.sh README RESULTS
set -eu
shopt -s inherit_errexit

PROG=readme.sh
START='<!-- bench:start -->'
END='<!-- bench:end -->'

die() {
	printf '%s: %s\n' "$PROG" "$1" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: $PROG README RESULTS"
readme=$1 results=$2
[ -f "$results" ] || die "no '$results': run sudo make bench first"
[ "$(grep -cxF "$START" "$readme")" -eq 1 ] && [ "$(grep -cxF "$END" "$readme")" -eq 1 ] ||
	die "'$readme' needs the lines '$START' and '$END', once each"

block=$(mktemp)
tmp=$(mktemp "$readme.XXXXXX")
trap 'rm -f "$block" "$tmp"' EXIT
{
	printf '\n## The last run\n\n'
	cat <<'TEXT'
The tables of the last `sudo make bench`, as `bench/report.sh` wrote them
into `build/bench/results.md`; the sections above say what each line and
column measures, and the chart (`results.png`) is drawn from the same run.
The figures are from one machine, and a busy one shows in them; make them
again on yours with `sudo make bench && make bench-readme`.

TEXT
	cat "$results"
	printf '\n'
} >"$block"

awk -v start="$START" -v end="$END" -v block="$block" '
	$0 == start { print; while ((getline line < block) > 0) print line; skip = 1; next }
	$0 == end { skip = 0 }
	!skip { print }' "$readme" >"$tmp" || die "cannot rewrite '$readme'"
cat "$tmp" >"$readme" || die "cannot write '$readme'"
printf '%s: updated the bench block of %s\n' "$PROG" "$readme" >&2
