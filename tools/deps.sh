#!/usr/bin/env bash
# deps.sh TARGET PACKAGE...: install the Debian packages a make target needs,
# with apt-get, when any is missing. Asks the network nothing when every
# package is already there.
set -eu

target=$1
shift
prog="make $target"

installed() {
	dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

command -v dpkg-query >/dev/null || {
	echo "$prog: not a Debian or Ubuntu system: install by hand: $*" >&2
	exit 1
}
missing=()
for p in "$@"; do
	installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "$prog: missing packages ${missing[*]}: run sudo make $target" >&2
	exit 1
fi
echo "$prog: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || {
	echo "$prog: apt-get update failed" >&2
	exit 1
}
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
	echo "$prog: apt-get install ${missing[*]} failed" >&2
	exit 1
}
