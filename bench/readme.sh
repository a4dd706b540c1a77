#!/usr/bin/env bash
# readme.sh: put the last benchmark into README.md, between the lines
# <!-- bench:start --> and <!-- bench:end -->, replacing what was there.
# Nothing else in the file changes.
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
	printf '\n## What isolation costs\n\n'
	cat <<'TEXT'
`sudo make bench` times `run /bin/true` on the busybox root filesystem with
hyperfine: every stage (built `-O2`), two floors and the tools that do the
same job. **exec** is the bare exec of the busybox `true` the containers
run; **floor** (`bench/floor.c`) does exactly what stage 6 does (UTS, PID
and mount namespaces, a pids cgroup, chroot, /proc) with nothing else, so
`× floor` is what the stage's readable structure costs. Hot runs go back to
back; cold runs follow a 50 ms pause, which on cgroup v1 makes the first
move into a cgroup wait for an RCU grace period. `bench/README.md` says what
each line measures; these figures are from one machine, regenerate them
with `sudo make bench && make bench-readme`.

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
