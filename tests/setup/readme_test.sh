#!/usr/bin/env bash
# The README's set-up commands, as .ci/run reads them (.ci/run --print),
# run against stand-ins for apt-get and make that only record how they
# were called: as root on a machine without sudo (a fresh Debian
# container), and as a user with sudo. Root: the second case runs as uid
# 65534.
set -euo pipefail

prog=tests/setup/readme_test.sh
cd "$(dirname "$0")/../.."
# shellcheck source=tools/copies.sh
. tools/copies.sh

failed=0
fail() {
	echo "not ok - $*"
	failed=1
}

[ "$(id -u)" -eq 0 ] || {
	echo "$prog: needs root (one case runs as another user): run sudo make test-setup" >&2
	exit 1
}

script=$(.ci/run --print) || {
	echo "$prog: .ci/run --print failed" >&2
	exit 1
}
printf '%s\n' "$script" | sed 's/^/# /'

# The stand-ins, in a directory uid 65534 can reach: each logs
# "EUID NAME ARGS" and succeeds, except apt-get install when FAIL_INSTALL
# is set. sudo logs, then runs the rest.
stubs=$(mktemp -d /tmp/minidocker-readme.XXXXXX)
trap 'rm -rf -- "$stubs"' EXIT
chmod 0755 "$stubs"
for name in apt-get make sudo; do
	{
		echo '#!/bin/bash'
		echo "echo \"\$EUID $name \$*\" >>$stubs/log"
		case $name in
		apt-get) echo '[ -z "${FAIL_INSTALL:-}" ] || [ "$1" != install ] || exit 100' ;;
		sudo) echo 'exec "$@"' ;;
		esac
	} >"$stubs/$name"
	chmod 0755 "$stubs/$name"
done

# run AS DIRS: the script with PATH=DIRS (stand-ins only) as uid AS;
# sets RC and LOG.
run() {
	local as=()
	[ "$1" -eq 0 ] || as=(setpriv --reuid="$1" --regid="$1" --clear-groups)
	: >"$stubs/log"
	chmod 0666 "$stubs/log"
	RC=0
	"${as[@]}" env -i PATH="$2" FAIL_INSTALL="${FAIL_INSTALL:-}" \
		/bin/bash -c "$script" </dev/null >"$stubs/out" 2>&1 || RC=$?
	LOG=$(cat "$stubs/log")
}

want_root=$'0 apt-get update\n0 apt-get install -y make\n0 make test'
mkdir "$stubs/nosudo"
ln -s ../apt-get ../make "$stubs/nosudo/"

# Root, and no sudo anywhere on PATH.
run 0 "$stubs/nosudo"
if [ "$RC" -ne 0 ] || [ "$LOG" != "$want_root" ]; then
	fail "as root without sudo: status $RC, calls:"$'\n'"$LOG"$'\n'"output: $(cat "$stubs/out")"
else
	echo "ok - as root without sudo: apt-get update, apt-get install -y make, make test, as root"
fi

# A user with sudo: every step goes through it.
run 65534 "$stubs"
want_user=$'65534 sudo apt-get update\n65534 apt-get update\n65534 sudo apt-get install -y make\n65534 apt-get install -y make\n65534 sudo make test\n65534 make test'
if [ "$RC" -ne 0 ] || [ "$LOG" != "$want_user" ]; then
	fail "as a user with sudo: status $RC, calls:"$'\n'"$LOG"$'\n'"output: $(cat "$stubs/out")"
else
	echo "ok - as a user with sudo: each step through sudo"
fi

# A failed install stops it before make.
FAIL_INSTALL=1 run 0 "$stubs/nosudo"
if [ "$RC" -eq 0 ] || [[ $LOG == *make\ test* ]]; then
	fail "a failed apt-get install: status $RC, calls:"$'\n'"$LOG"
else
	echo "ok - a failed apt-get install stops it, status $RC"
fi
exit $failed
