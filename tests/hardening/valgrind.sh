#!/bin/sh
# Run each stage binary's runtime under valgrind memcheck on a few
# representative runs; fail on any memory error or leak it reports.
#
#   tests/hardening/valgrind.sh BIN_DIR ROOTFS HOST_PROBE
#
# --trace-children=no: valgrind follows the runtime and its clone()d child
# up to exec, not the command, so what it checks is minidocker's own code.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 BIN_DIR ROOTFS HOST_PROBE" >&2
	exit 2
fi
bin=$1 rootfs=$2 host_probe=$3
here=$(dirname "$0")
logs=$bin/valgrind
rm -rf "$logs"
mkdir -p "$logs"
export MINIDOCKER_ROOTFS="$rootfs"
# Stage 12 on: the containers' layers in a directory of the test's own.
export MINIDOCKER_RUN="$logs/run"

runs=0 failed=0
# check NAME STATUS STAGE ARGS...: run stage-STAGE with ARGS under
# valgrind, and want exit status STATUS and an empty valgrind log.
check() {
	name=$1 want=$2 stage=$3
	shift 3
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
	if [ "$got" -ne "$want" ] || [ -n "$(cat "$dir"/vg.* 2>/dev/null)" ]; then
		echo "valgrind.sh: stage-$stage, $name: status $got (want $want), log:" >&2
		cat "$dir"/vg.* "$dir/err" >&2
		failed=$((failed + 1))
	fi
}

for path in "$bin"/stage-*; do
	stage=${path##*/stage-}
	case $stage in *[!0-9]*) continue ;; esac
	probe=/bin/probe
	[ "$stage" -ge 4 ] || probe=$host_probe
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
	if [ "$stage" -ge 12 ]; then
		check "a missing layer" 125 "$stage" --rootfs "/no/such/layer:$rootfs" "$probe"
	fi
done

echo "valgrind.sh: $runs runs, $failed with errors, leaks or a wrong status"
[ "$runs" -gt 0 ] && [ "$failed" -eq 0 ]
