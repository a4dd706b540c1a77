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
`× floor` is what the stage's readable structure costs.

Hot runs go back to back; cold runs follow a 50 ms pause. The pause
matters for one step only: when a parent moves its child into a cgroup,
the kernel takes a global lock that, unused for a while, first waits for
an RCU grace period (about 10 ms); **floor-move** shows it. The stages
avoid it: on cgroup v1 the child moves itself, writing `0` to the group's
`tasks` file, which skips that lock, and on cgroup v2 `clone3()` with
`CLONE_INTO_CGROUP` starts the child in its group (measured in the test
VM, `make bench-vm`). The stages are linked statically: the dynamic loader
would take about 0.25 ms of every run, as **stage-6-dynamic** shows.

`bench/README.md` says what each line measures. The figures are from one
machine, and a busy one shows in them; regenerate them with
`sudo make bench && make bench-readme`.

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
