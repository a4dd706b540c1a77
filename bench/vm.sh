#!/bin/sh
# Run by `make bench-vm` inside the cgroup v2 VM of tests/vm (as its
# program, in /minidocker): stage 6's start after a pause against back to
# back, beside a bare exec (every start is slower after a pause), the floor
# that starts its child in the group as stage 6 does, and the one whose
# parent moves it. One line each (bench/coldhot.c).
set -u
rootfs=/minidocker/build/test-rootfs
runs=${BENCH_VM_RUNS:-50}
status=0
./build/coldhot "$runs" 50 exec "$rootfs/bin/true" || status=1
./build/coldhot "$runs" 50 stage-6 ./build/stage-6 run --rootfs "$rootfs" /bin/true || status=1
./build/coldhot "$runs" 50 floor ./build/floor "$rootfs" /bin/true || status=1
./build/coldhot "$runs" 50 floor-move ./build/floor --parent-moves "$rootfs" /bin/true || status=1
exit "$status"
