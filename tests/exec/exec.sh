#!/usr/bin/env bash
# exec.sh TEST_EXEC [ARGS...]: run stage 15's lesson tests, and fail if
# they left a process, a cgroup or a mount on the machine (the tests make
# every mount in a mount namespace of their own, and their cgroup is
# named minidocker-test-exec-<pid>).
set -u

prog=exec.sh
snapshot() {
	find /sys/fs/cgroup -maxdepth 3 -type d -name 'minidocker-test-exec-*' 2>/dev/null
	grep -c . /proc/self/mountinfo
	ls -d /tmp/minidocker-exec-test.* 2>/dev/null
}

before=$(snapshot)
# A run takes a few seconds; one that hangs is stopped.
timeout -k 10 120 "$@"
status=$?
[ $status -ne 124 ] || echo "$prog: $1 did not end in 120 s" >&2
after=$(snapshot)
left=$(pgrep -f -x "$1( -v)?")
if [ -n "$left" ]; then
	echo "$prog: processes of $1 are left:" $left >&2
	exit 1
fi
if [ "$before" != "$after" ]; then
	echo "$prog: the tests left something behind:" >&2
	diff <(echo "$before") <(echo "$after") >&2
	exit 1
fi
echo "$prog: no process, cgroup or mount left"
exit "$status"
