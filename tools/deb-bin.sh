#!/usr/bin/env bash
# deb-bin.sh PACKAGE PATH DEST: put the program PATH of the Debian package
# PACKAGE at DEST without installing the package: for a server a test
# starts itself, whose package would also install and start a system
# service (docker-registry's listens on every address, port 5000).
# Uses the installed program when the package is installed.
set -euo pipefail

[ $# -eq 3 ] || {
	echo "usage: $0 PACKAGE PATH DEST" >&2
	exit 2
}
pkg=$1 path=$2 dest=$3
prog=deb-bin.sh

if dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' &&
	[ -x "$path" ]; then
	ln -sf "$path" "$dest"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/minidocker-deb.XXXXXX")
trap 'rm -rf "${tmp:?}"' EXIT
# apt-get download writes into the current directory; as root it drops
# to the _apt user, who must be able to write there.
chmod 0777 "$tmp"
# Quiet unless it fails: a test's output is not the place for apt's.
(cd "$tmp" && apt-get download -q "$pkg" >"$tmp/log" 2>&1) || {
	cat "$tmp/log" >&2
	echo "$prog: cannot download the package $pkg (run sudo apt-get update first)" >&2
	exit 1
}
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
[ -x "$tmp/root$path" ] || {
	echo "$prog: the package $pkg has no program $path" >&2
	exit 1
}
mkdir -p "$(dirname "$dest")"
# Renamed into place: two suites may ask for it at once.
cp "$tmp/root$path" "$dest.$$"
mv "$dest.$$" "$dest"
