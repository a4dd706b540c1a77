#!/bin/sh
# vm-bench.sh: stage 9 against stage 8 on cgroup v2, inside the test VM
# (`make bench-vm`), where hyperfine is not: bench/starttime times each
# line hot (back to back) and cold (after a pause), and the ratios are
# printed as lines that bench-vm reads back from the console.
# shellcheck shell=sh
set -u
b=/minidocker/build
rootfs=$b/test-rootfs
runs=${VM_BENCH_RUNS:-200}
cold_runs=${VM_BENCH_COLD_RUNS:-60}

# line MODE NAME RUNS PAUSE CMD...: print "vm-bench MODE NAME median min".
line() {
	mode=$1 name=$2 n=$3 pause=$4
	shift 4
	"$b/starttime" 5 0 "$@" >/dev/null || return 1
	set -- $("$b/starttime" "$n" "$pause" "$@") || return 1
	echo "vm-bench $mode $name $1 $2"
}

for mode in hot cold; do
	if [ "$mode" = hot ]; then n=$runs pause=0; else n=$cold_runs pause=50; fi
	line "$mode" stage-8 "$n" "$pause" "$b/stage-8" run --rootfs "$rootfs" /bin/true || exit 1
	line "$mode" stage-9 "$n" "$pause" "$b/stage-9" run --rootfs "$rootfs" \
		--memory 64m --cpus 1 /bin/true || exit 1
done
