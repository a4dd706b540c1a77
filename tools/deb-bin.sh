#!/usr/bin/env bash
# deb-bin.sh PACKAGE PATH DEST: put the program PATH of the Debian package
# PACKAGE at DEST without installing the package: for a server a test
# starts itself, whose package would also install and start a system
# service (docker-registry's listens on every address, port 5000).
# deb-bin.sh PACKAGE PATH... DIR: several programs of one package (one
# download), each in the directory DIR under its own name.
# Uses the installed program when the package is installed, unless
# DEB_BIN_UNPACK=1 (to prove the unpacked path on a machine that has
# it). The libraries a program links are not unpacked: a package's
# library dependencies are the caller's to install (tools/deps.sh); a
# program that lacks one fails here, naming it.
set -euo pipefail

prog=deb-bin.sh
[ $# -ge 3 ] || {
	echo "usage: $0 PACKAGE PATH DEST | PACKAGE PATH... DIR" >&2
	exit 2
}
pkg=$1
shift
paths=("${@:1:$#-1}")
dest=${!#}
# dest_of PATH: where the program PATH goes.
dest_of() {
	if [ ${#paths[@]} -eq 1 ]; then echo "$dest"; else echo "$dest/${1##*/}"; fi
}
if [ ${#paths[@]} -eq 1 ]; then
	mkdir -p "$(dirname "$dest")"
else
	mkdir -p "$dest"
fi

if [ "${DEB_BIN_UNPACK:-}" != 1 ] &&
	dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
	for path in "${paths[@]}"; do
		[ -x "$path" ] || {
			echo "$prog: the package $pkg is installed but has no program $path" >&2
			exit 1
		}
		ln -sfn "$path" "$(dest_of "$path")"
	done
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
for path in "${paths[@]}"; do
	[ -x "$tmp/root$path" ] || {
		echo "$prog: the package $pkg has no program $path" >&2
		exit 1
	}
	# A shared library the machine lacks: ldd says "not found".
	missing=$(ldd "$tmp/root$path" 2>/dev/null | awk '/not found/ { print $1 }' | paste -sd ' ')
	[ -z "$missing" ] || {
		echo "$prog: $path of $pkg needs $missing, which this machine lacks: install what it depends on ($(dpkg-deb -f "$tmp"/"$pkg"_*.deb Depends))" >&2
		exit 1
	}
done
for path in "${paths[@]}"; do
	out=$(dest_of "$path")
	# Renamed into place: two suites may ask for it at once.
	cp "$tmp/root$path" "$out.$$"
	mv -T "$out.$$" "$out"
done
