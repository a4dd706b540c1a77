#!/usr/bin/env bash
# oci.sh TEST_OCI [ARGS...]: run stage 16's lesson tests, and fail if
# they left a process, a mount or a scratch directory behind (crun's
# container of the comparison included).
set -u

prog=oci.sh
snapshot() {
	grep -c . /proc/self/mountinfo
	ls -d /tmp/minidocker-oci-test.* 2>/dev/null
}

before=$(snapshot)
timeout -k 10 120 "$@"
status=$?
[ $status -ne 124 ] || echo "$prog: $1 did not end in 120 s" >&2
after=$(snapshot)
left=$(pgrep -f -x "$1( -v)?( oci-[a-z]+)?")
if [ -n "$left" ]; then
	echo "$prog: processes of $1 are left:" $left >&2
	exit 1
fi
if [ "$before" != "$after" ]; then
	echo "$prog: the tests left something behind:" >&2
	diff <(echo "$before") <(echo "$after") >&2
	exit 1
fi
echo "$prog: no process, mount or scratch directory left"
exit "$status"
