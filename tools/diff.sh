#!/usr/bin/env bash
# diff.sh "OLD SOURCES" "NEW SOURCES": the whole change from one stage to
# the next (make diff-N), as `diff -u` of each file that differs: the
# spines (main.c), and each lesson file (with its header) that the new
# stage adds or keeps its own copy of. A lesson file both stages build
# with, as it is, is no change and shows nothing. Status 0, or 2 on error.
set -euo pipefail

# The files of a source list: each .c and the .h beside it, by basename.
declare -A old new
# shellcheck disable=SC2034 # into is a nameref: it fills the caller's array
files() {
	local -n into=$1
	local f h
	for f in $2; do
		into[$(basename "$f")]=$f
		h=${f%.c}.h
		[ ! -f "$h" ] || into[$(basename "$h")]=$h
	done
}
files old "$1"
files new "$2"

# main.c first, then the rest by name.
names=$(printf '%s\n' "${!old[@]}" "${!new[@]}" | sort -u | grep -vx main.c || true)
for name in main.c $names; do
	a=${old[$name]:-} b=${new[$name]:-}
	[ "$a" != "$b" ] || continue
	status=0
	diff -u --label "${a:-/dev/null}" --label "${b:-/dev/null}" \
		"${a:-/dev/null}" "${b:-/dev/null}" || status=$?
	[ "$status" -le 1 ] || exit 2
done
