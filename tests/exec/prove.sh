#!/usr/bin/env bash
# prove.sh [FIXTURE SUITE TEST]...: each FIXTURE is test_exec built with
# one step of stage 15's lesson (or of common/ctr) taken out (prove-oci
# passes test_oci's, of stage 16's); run on SUITE, it must fail TEST: the
# proof that TEST can fail, and for that step's reason. Then nothing of
# test_exec's fixtures may be left (no process, no cgroup of theirs);
# prove-oci checks its own.
set -u

prog=prove.sh
failed=0 n=0
while [ $# -ge 3 ]; do
	fixture=$1 suite=$2 test=$3
	shift 3
	n=$((n + 1))
	name=${fixture##*/}
	out=$(timeout -k 5 60 "$fixture" "$suite" 2>&1)
	if grep -qF "Test $test had failures" <<<"$out"; then
		echo "ok - $name fails $test"
	else
		echo "not ok - $name does not fail $test:" >&2
		grep -E 'had failures|tests +[0-9]|^ +[0-9]+\. ' <<<"$out" | head -12 >&2
		failed=$((failed + 1))
	fi
done
left=$(pgrep -f -- '^[^ ]*/tests/exec/fixture-[^ ]*( exec-[a-z]+)?$')
groups=$(find /sys/fs/cgroup -maxdepth 3 -type d -name 'minidocker-test-exec-*' 2>/dev/null)
if [ -n "$left$groups" ]; then
	echo "$prog: the fixtures left something behind: $left $groups" >&2
	exit 1
fi
echo "$prog: $((n - failed)) of $n fixtures fail their test"
[ "$failed" -eq 0 ]
