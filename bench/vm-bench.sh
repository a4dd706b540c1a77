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

out=/tmp/vm-bench.txt
: >"$out"

# line MODE NAME RUNS PAUSE CMD...: print "vm-bench MODE NAME median min"
# (microseconds), and keep it in $out.
line() {
	mode=$1 name=$2 n=$3 pause=$4
	shift 4
	"$b/starttime" 5 0 "$@" >/dev/null || return 1
	set -- $("$b/starttime" "$n" "$pause" "$@") || return 1
	echo "vm-bench $mode $name $1 $2" | tee -a "$out"
}

for mode in hot cold; do
	if [ "$mode" = hot ]; then n=$runs pause=0; else n=$cold_runs pause=50; fi
	line "$mode" stage-8 "$n" "$pause" "$b/stage-8" run --rootfs "$rootfs" /bin/true || exit 1
	line "$mode" stage-9 "$n" "$pause" "$b/stage-9" run --rootfs "$rootfs" \
		--memory 64m --cpus 1 /bin/true || exit 1
done

# The ratios, from the lines above.
awk '{ med[$2 " " $3] = $4; min[$2 " " $3] = $5 }
END {
	split("hot cold", modes, " ")
	for (i = 1; i <= 2; i++) {
		m = modes[i]
		printf "vm-bench %s stage-9/stage-8: median %.2fx, min %.2fx\n", m,
			med[m " stage-9"] / med[m " stage-8"],
			min[m " stage-9"] / min[m " stage-8"]
	}
	printf "vm-bench stage-9 cold/hot: median %.2fx, min %.2fx\n",
		med["cold stage-9"] / med["hot stage-9"],
		min["cold stage-9"] / min["hot stage-9"]
}' "$out"
