#!/bin/sh
# Run each stage binary's runtime under valgrind memcheck on a few
# representative runs; fail on any memory error or leak it reports.
#
#   tests/hardening/valgrind.sh BIN_DIR ROOTFS HOST_PROBE RUNNER
#
# --trace-children=no: valgrind follows the runtime and its clone()d child
# up to exec, not the command, so what it checks is minidocker's own code.
set -eu

if [ $# -ne 4 ]; then
	echo "usage: $0 BIN_DIR ROOTFS HOST_PROBE RUNNER" >&2
	exit 2
fi
bin=$1 rootfs=$2 host_probe=$3 runner=$4
here=$(dirname "$0")
logs=$bin/valgrind
rm -rf "$logs"
mkdir -p "$logs"
export MINIDOCKER_ROOTFS="$rootfs"
# Stage 12 on: the containers' layers in a directory of the test's own;
# stage 13 on: its image store too.
export MINIDOCKER_RUN="$logs/run" MINIDOCKER_ROOT="$logs/store"

runs=0 failed=0
# check NAME STATUS STAGE ARGS...: run stage-STAGE with ARGS under
# valgrind, and want exit status STATUS and an empty valgrind log.
check() {
	name=$1 want=$2 stage=$3
	shift 3
	# From stage 13 the first word is an image unless --rootfs is given
	# (or the check runs an image: image_run set).
	case " $* " in
	*" --rootfs "*) ;;
	*) [ "$stage" -lt 13 ] || [ -n "${image_run:-}" ] ||
		set -- --rootfs "$rootfs" "$@" ;;
	esac
	# The other words of a plain run (from stage 14 --net none: the
	# default network, a bridge and NAT as root, would change the
	# machine's own).
	# shellcheck disable=SC2086 # words without spaces, one a line
	set -- $plain "$@"
	runs=$((runs + 1))
	dir=$logs/$stage-$runs
	mkdir -p "$dir"
	got=0
	valgrind -q --trace-children=no --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
		--suppressions="$here/valgrind.supp" \
		--log-file="$dir/vg.%p" \
		"$bin/stage-$stage" run "$@" >"$dir/out" 2>"$dir/err" </dev/null ||
		got=$?
	# valgrind 3.19 does not know seccomp(2) (317) and warns; libseccomp
	# then falls back to prctl(), which it knows. Not an error of ours.
	report=$(cat "$dir"/vg.* 2>/dev/null | grep -v \
		-e 'unhandled amd64-linux syscall: 317$' -e 'write your own handler' \
		-e 'README_MISSING_SYSCALL_OR_IOCTL' -e 'we consider this a bug' \
		-e 'valgrind.org/support/bug_reports' || true)
	if [ "$got" -ne "$want" ] || [ -n "$report" ]; then
		echo "valgrind.sh: stage-$stage, $name: status $got (want $want), log:" >&2
		printf '%s\n' "$report" >&2
		cat "$dir/err" >&2
		failed=$((failed + 1))
	fi
}

for path in "$bin"/stage-*; do
	stage=${path##*/stage-}
	case $stage in *[!0-9]*) continue ;; esac
	probe=/bin/probe
	[ "$stage" -ge 4 ] || probe=$host_probe
	# What a plain run of the stage takes besides run and the root
	# filesystem (check() gives that as each run needs it), as the
	# runner reads it from the option table.
	words=$("$runner" --rootfs "$rootfs" --plain-run "$stage") || {
		echo "valgrind.sh: $runner cannot say what a plain run of stage $stage takes" >&2
		exit 2
	}
	plain=$(printf '%s\n' "$words" | awk 'NR == 1 { next } $0 == "--rootfs" { skip = 1; next }
		skip { skip = 0; next } { print }')
	# Stage 11's child makes /sys read-only with mount_setattr(2), which
	# valgrind before 3.22 answers with ENOSYS, and stage 13's finds paths
	# in the image with openat2(2), which no valgrind knows yet: there
	# only the runs that end before the child are checked (its parent
	# side is stage 10's, or for 13 that of these runs).
	if [ "$stage" -ge 11 ] && valgrind -q --log-file=/dev/null \
		"$bin/stage-$stage" run $plain --rootfs "$rootfs" "$probe" exit 0 2>&1 </dev/null |
		grep -q ": Function not implemented$"; then
		echo "valgrind.sh: stage-$stage: this valgrind lacks mount_setattr(2) or openat2(2): only the runs that fail before the child"
		check "an unknown option" 125 "$stage" --bogus "$probe"
		check "a missing rootfs" 125 "$stage" --rootfs /no/such/rootfs "$probe"
		check "a bad --cap-add" 125 "$stage" --cap-add NOPE "$probe"
		if [ "$stage" -ge 13 ]; then
			check "a bad -v" 125 "$stage" -v relative:/vol "$probe"
			check "a -v host directory missing" 125 "$stage" \
				-v /no/such/dir:/vol "$probe"
			image_run=1
			check "an image not pulled" 125 "$stage" \
				--entrypoint /bin/probe test/none exit 0
			image_run=
		fi
		continue
	fi
	check "a command's output" 0 "$stage" "$probe" out hi
	check "an exit status" 3 "$stage" "$probe" exit 3
	check "a crash" 139 "$stage" "$probe" crash SEGV
	check "a command not found" 127 "$stage" /no/such/command
	check "an unknown option" 125 "$stage" --bogus "$probe"
	if [ "$stage" -ge 4 ]; then
		check "a missing rootfs" 125 "$stage" --rootfs /no/such/rootfs "$probe"
	fi
	if [ "$stage" -ge 6 ]; then
		check "a bad --pids-max" 125 "$stage" --pids-max 0 "$probe"
	fi
	if [ "$stage" -ge 9 ]; then
		check "memory and cpu limits" 0 "$stage" --memory 64m --cpus 0.5 "$probe" exit 0
		check "an OOM kill at the limit" 137 "$stage" --memory 32m "$probe" hog 64
		check "a bad --memory" 125 "$stage" --memory 12q "$probe"
		check "a bad --cpus" 125 "$stage" --cpus 0 "$probe"
	fi
	if [ "$stage" -ge 10 ]; then
		check "capabilities changed" 0 "$stage" --cap-drop ALL --cap-add chown "$probe" exit 0
		check "a bad --cap-add" 125 "$stage" --cap-add NOPE "$probe"
	fi
	if [ "$stage" -ge 12 ]; then
		check "a missing layer" 125 "$stage" --rootfs "/no/such/layer:$rootfs" "$probe"
	fi
	if [ "$stage" -ge 13 ]; then
		check "the image's options" 0 "$stage" -e A=b -w /tmp -u 0:0 \
			-v "$logs:/vol:ro" "$probe" exit 0
		check "a bad -v" 125 "$stage" -v relative:/vol "$probe"
		image_run=1
		check "an image not pulled" 125 "$stage" \
			--entrypoint /bin/probe test/none exit 0
		image_run=
	fi
done

echo "valgrind.sh: $runs runs, $failed with errors, leaks or a wrong status"
[ "$runs" -gt 0 ] && [ "$failed" -eq 0 ]
