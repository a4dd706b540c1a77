#!/usr/bin/env bash
# tutorial.sh [--check] FILE...: fill the generated blocks of markdown files
# from the code and from real runs, in place; with --check, change nothing
# and fail, showing a diff, when any block differs from what it would be.
#
# A block is the text between a marker and the next `<!-- end -->`:
#
#   <!-- diff N -->               `make diff-N`, stage N-1 to stage N
#   <!-- function FILE NAME -->   the C function NAME in FILE, with the
#                                 comment above it, as the file has it
#   <!-- session -->              a terminal session, run for real
#   <!-- escapes -->              the escape catalogue's table, as markdown
#                                 (`runner --escapes-table N`, N the number
#                                 of stages there are)
#
# A session's commands are its lines that start with `$ ` (or `nobody$ `,
# below), written by hand;
# everything else in it is generated: each command's stdout and stderr, in
# the order they came. Commands run from the top of the repository, one
# `bash -c` each, with LC_ALL=C and MINIDOCKER_ROOTFS set to the test root
# filesystem (a busybox tree like the one `sudo ./rootfs-fetch.sh` makes in
# ./rootfs). A command line that starts with `sudo ` runs as root without
# the word sudo; any other runs as root with no capabilities at all, which
# the kernel treats as an unprivileged user does for everything the stages
# do (so the `needs root` errors are the real ones). A command line that
# starts with `nobody$ ` instead of `$ ` runs as the user nobody (uid and
# gid 65534, no supplementary groups), a real unprivileged user: for the
# rootless stages, whose runs differ for uid 0 even without capabilities.
# It runs in a copy of build/stage-N and of the test root filesystem that
# every user can reach, wherever the checkout is.
#
# Variable parts of the output are placeholders, written `<name>`:
#   - the generator writes them for what changes from run to run or from
#     machine to machine: the test root filesystem's absolute path becomes
#     `<rootfs>`, the host's hostname on a line of its own `<host>`, the
#     number in `minidocker-N` and `child N` `<pid>`, the number in a
#     namespace link such as `uts:[4026531838]` `<inode>`;
#   - in an existing block, any `<name>` matches a run of characters other
#     than spaces, so a line whose fixed text still matches the real output
#     is kept as written (name placeholders for the reader, such as
#     `<host's init>`); a run of two or more spaces matches any run of
#     spaces, so that a table may realign when a number in it grows; a
#     line that does not match is replaced by the real one, and --check
#     reports it.
set -euo pipefail
shopt -s extglob

prog=tutorial.sh
all_args=("$@") start_dir=$PWD
check=
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
[ $# -gt 0 ] || {
	echo "usage: $prog [--check] FILE..." >&2
	exit 2
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# The files as given, before moving to the top of the repository.
names=("$@")
paths=()
for f in "$@"; do
	[ -f "$f" ] || die "no file '$f'"
	paths+=("$(realpath "$f")")
done
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=tools/copies.sh
. tools/copies.sh
build=${BUILD:-build}
rootfs=$repo/$build/test-rootfs
host=$(uname -n)

# The C function NAME in FILE, with the comment block right above it.
gen_function() {
	[ -f "$1" ] || die "no file '$1' for function $2"
	echo '```c'
	awk -v name="$2" '
	{ line[NR] = $0 }
	END {
		for (i = 1; i <= NR; i++)
			if (line[i] ~ ("^[a-z].*[ *]" name "[(]") &&
			    line[i] !~ /;$/) {
				d = i
				break
			}
		if (!d)
			exit 1
		s = d
		if (d > 1 && line[d - 1] ~ /\*\/$/)
			for (s = d - 1; s > 1 && line[s] !~ /^\/\*/; s--)
				;
		for (e = d; e <= NR && line[e] != "}"; e++)
			;
		if (e > NR)
			exit 1
		for (i = s; i <= e; i++)
			print line[i]
	}' "$1" || die "no function '$2' in '$1'"
	echo '```'
}

gen_diff() {
	local out
	out=$(make -s --no-print-directory "diff-$1" 2>&1) ||
		die "make diff-$1 failed: $(head -n 1 <<<"$out")"
	echo '```diff'
	printf '%s\n' "$out"
	echo '```'
}

# The placeholders the generator writes in real output.
normalise() {
	local line=$1
	line=${line//"$rootfs"/<rootfs>}
	[ -z "$nobody_rootfs" ] || line=${line//"$nobody_rootfs"/<rootfs>}
	[ "$line" != "$host" ] || line='<host>'
	sed -E -e 's/minidocker-[0-9]+/minidocker-<pid>/g' \
		-e 's/child [0-9]+/child <pid>/g' \
		-e 's/([a-z_]+):\[[0-9]+\]/\1:[<inode>]/g' <<<"$line"
}

# The bash pattern for an expected line: its text literal, each <name> a
# run of non-space characters.
to_pattern() {
	local rest=$1 pat='' ph
	while [[ $rest =~ \<[a-z][^\<\>]*\> ]]; do
		ph=${BASH_REMATCH[0]}
		pat+=$(quote_glob "${rest%%"$ph"*}")'+([! ])'
		rest=${rest#*"$ph"}
	done
	pat+=$(quote_glob "$rest")
	printf '%s' "$pat"
}

# TEXT with every character special to bash patterns escaped, and each run
# of two or more spaces matching any run of spaces.
quote_glob() {
	local s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		if [ "${s:i:2}" = "  " ]; then
			while [ "${s:i+1:1}" = " " ]; do i=$((i + 1)); done
			out+='+( )'
			continue
		fi
		case $c in
		[][\\*?\(\)\|+@!]) out+="\\$c" ;;
		*) out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

# Run the session in the old block's lines ($@) and print the new block.
gen_session() {
	local cmds=() users=() exp=() cur=-1 line i
	for line in "$@"; do
		case $line in
		'```'*) ;;
		'$ '* | 'nobody$ '*)
			cur=$((cur + 1))
			users[cur]=${line%%'$ '*}
			cmds[cur]=${line#*'$ '}
			exp[cur]=
			;;
		*)
			[ "$cur" -ge 0 ] || die "session output before its first command: $line"
			exp[cur]+=$line$'\n'
			;;
		esac
	done
	[ "$cur" -ge 0 ] || die "a session with no command (lines starting with '\$ ' or 'nobody\$ ')"
	[[ " ${users[*]} " != *' nobody '* ]] || copy_for_nobody

	echo '```console'
	for ((i = 0; i <= cur; i++)); do
		echo "${users[i]}\$ ${cmds[i]}"
		local old=() real=() k
		mapfile -t old <<<"${exp[i]%$'\n'}"
		[ -n "${exp[i]}" ] || old=()
		mapfile -t real < <(run_command "${cmds[i]}" "${users[i]}")
		for ((k = 0; k < ${#real[@]}; k++)); do
			line=$(normalise "${real[k]}")
			if [ $k -lt ${#old[@]} ]; then
				local pat
				pat=$(to_pattern "${old[k]}")
				# shellcheck disable=SC2053 # $pat is a pattern
				if [[ $line == $pat ]] || [[ ${real[k]} == $pat ]]; then
					line=${old[k]}
				fi
			fi
			printf '%s\n' "$line"
		done
	done
	echo '```'
}

# The nobody$ sessions run from copies of the stages and of the test root
# filesystem in a directory every user can search (tools/copies.sh says
# why), made for the first of them: there `build/stage-N` and
# $MINIDOCKER_ROOTFS are the copies, and the copy's path reads <rootfs>.
nobody_dir=
nobody_rootfs=
copy_for_nobody() {
	[ -z "$nobody_dir" ] || return 0
	nobody_dir=$(public_copy "$rootfs") ||
		die "cannot copy '$rootfs' for the nobody\$ sessions"
	nobody_rootfs=$nobody_dir/$(basename "$rootfs")
	mkdir "$nobody_dir/build" && cp -- "$repo/$build"/stage-+([0-9])?(-dynamic) "$nobody_dir/build/" ||
		die "cannot copy the stages for the nobody\$ sessions"
}

# One command line, stdout and stderr together, as root when it starts
# with sudo, as nobody (in the copy) when USER ($2) is nobody, and as root
# without capabilities otherwise.
run_command() {
	local cmd=$1 dir=$repo root=$rootfs as=(setpriv --bounding-set=-all --inh-caps=-all --)
	if [ "${2:-}" = nobody ]; then
		as=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
		dir=$nobody_dir root=$nobody_rootfs
	elif [[ $cmd == 'sudo '* ]]; then
		cmd=${cmd#sudo }
		as=()
	fi
	(cd "$dir" && env LC_ALL=C MINIDOCKER_ROOTFS="$root" \
		timeout 60 "${as[@]}" bash -c "$cmd" 2>&1 </dev/null) || true
}

# Print FILE with every block generated afresh.
fill() {
	local file=$1 lines=() n=0 i=0 line block kind args
	mapfile -t lines <"$file"
	n=${#lines[@]}
	while [ $i -lt "$n" ]; do
		line=${lines[i]}
		printf '%s\n' "$line"
		i=$((i + 1))
		if [[ $line =~ ^\<!--\ (diff|function|session|escapes)(\ [^>]*)?\ --\>$ ]]; then
			kind=${BASH_REMATCH[1]}
			read -r -a args <<<"${BASH_REMATCH[2]}"
			block=()
			while [ $i -lt "$n" ] && [ "${lines[i]}" != '<!-- end -->' ]; do
				block+=("${lines[i]}")
				i=$((i + 1))
			done
			[ $i -lt "$n" ] || die "$file: '$line' has no '<!-- end -->'"
			case $kind in
			diff) gen_diff "${args[0]}" ;;
			function) gen_function "${args[0]}" "${args[1]}" ;;
			session) gen_session "${block[@]}" ;;
			escapes) "$build/tests/runner" --escapes-table "$(ls stages/[0-9][0-9]-*/main.c | wc -l)" ||
				die "cannot print the escape catalogue: run make tests" ;;
			esac
		fi
	done
}

if [ "$(id -u)" -ne 0 ]; then
	die "the sessions run the stages as root: run it with sudo"
fi
[ -f "$rootfs/bin/probe" ] || die "no test root filesystem at '$rootfs': run make test-probe-rootfs"

# The sessions run in a mount namespace of their own, where /tmp and
# /run/minidocker are this run's alone: the fixed names they show
# (/tmp/image, /tmp/run15) cannot collide with those of another checkout
# generating at the same time, and neither the host's containers nor an
# earlier run's leftovers show in what they list. /tmp stays shared when
# the checkout or a file given lives under it, which a bind mount over
# /tmp would hide.
if [ -z "${TUTORIAL_PRIVATE:-}" ]; then
	private=$(mktemp -d /tmp/minidocker-tutorial.XXXXXX) ||
		die "cannot make a directory for the sessions' /tmp"
	chmod 1777 "$private"
	mkdir -p /run/minidocker
	status=0
	(cd "$start_dir" && TUTORIAL_PRIVATE=$private unshare -m \
		--propagation private -- "$repo/tools/tutorial.sh" "${all_args[@]}") ||
		status=$?
	rm -rf -- "$private"
	exit $status
fi
case " $repo/ ${paths[*]} " in
*" /tmp/"*) ;;
*) mount --bind "$TUTORIAL_PRIVATE" /tmp || die "cannot give the sessions a /tmp of their own" ;;
esac
mount -t tmpfs -o mode=0700 tutorial /run/minidocker ||
	die "cannot give the sessions a /run/minidocker of their own"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp" ${nobody_dir:+"$nobody_dir"}' EXIT
status=0
for j in "${!paths[@]}"; do
	f=${names[j]}
	p=${paths[j]}
	out=$tmp/$j.md
	fill "$p" >"$out"
	if cmp -s "$p" "$out"; then
		continue
	fi
	if [ -n "$check" ]; then
		diff -u --label "$f (in the repository)" --label "$f (generated now)" "$p" "$out" || true
		echo "$prog: $f is out of date with the code: run sudo make tutorial" >&2
		status=1
	else
		cat "$out" >"$p"
		echo "$prog: updated $f" >&2
	fi
done
exit $status
