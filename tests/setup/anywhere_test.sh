#!/usr/bin/env bash
# The parts that run something as an unprivileged user, from a checkout in
# a home directory of mode 0750 (Ubuntu's default since 21.04), where uid
# 65534 cannot go: the C suites' not-root and rootless cases (suites 1-2
# against stage 2, 1-7 against stage 7, 1-8 against stage 8), the tutorial's nobody$ sessions (stage 8's README) and
# rootfs-fetch.sh run without root. Each must run from copies every user
# can reach (tools/copies.sh, h_become_nobody() in tests/harness.c).
set -euo pipefail

prog=tests/setup/anywhere_test.sh
cd "$(dirname "$0")/../.."
# shellcheck source=tools/copies.sh
. tools/copies.sh

fail() {
	echo "$prog: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || fail "it needs root (the suites and sessions run the stages): run sudo make test-setup"

base=$(mktemp -d "${SETUP_TEST_TMP:-/tmp}/anywhere-test.XXXXXX")
trap 'rm -rf --one-file-system -- "$base"' EXIT
chmod 0755 "$base"
home=$base/learner
mkdir -m 0750 "$home"
md=$home/md
mkdir "$md"
copy_checkout "$md"
echo "== a checkout in $home (mode $(stat -c %a "$home"))"
# Without this the test would prove nothing.
if setpriv --reuid=65534 --regid=65534 --clear-groups -- test -x "$md"; then
	fail "uid 65534 can reach '$md': the test needs a directory it cannot"
fi

failed=
part() {
	local name=$1
	shift
	echo "== $name"
	if "$@" >"$base/out" 2>&1; then
		grep -v -e '^[[:space:]]*$' -e 'Elapsed time' -e '^runner: slowest' "$base/out" | tail -n 3 | sed 's/^/   /'
	else
		cat "$base/out"
		echo "$prog: FAIL: $name" >&2
		failed+=" $name"
	fi
}
mk=(make -C "$md" --no-print-directory)
# What the parts below build (every stage, the runner and the probe), on
# every core first: they would build it one file at a time. Not their
# runs: a session's make run under make -j warns that it has no jobserver.
part "make all tests (built first)" "${mk[@]}" -j"$(nproc)" all tests
# Stage 2 runs the escape catalogue's setuid act on host paths (no root
# filesystem yet), stage 7 has the not-root case (stage 8 runs without
# root), stage 8 the rootless ones.
part "make test-stage-2" "${mk[@]}" test-stage-2
part "make test-stage-7" "${mk[@]}" test-stage-7
part "make test-stage-8" "${mk[@]}" test-stage-8
part "make check-tutorial of stages/08-userns/README.md" \
	"${mk[@]}" check-tutorial TUTORIAL_DOCS=stages/08-userns/README.md
part "rootfs_test.sh case_unprivileged" \
	env ROOTFS_TEST_CASES=case_unprivileged "${mk[@]}" test-rootfs
[ -z "$failed" ] || fail "from a checkout under a 0750 directory:$failed"
echo "$prog: every part passed from a checkout under a 0750 directory"
