#!/usr/bin/env bash
# deps.sh: install what `make bench` uses and the peers it compares with,
# with apt-get, when something is missing. Asks the network nothing when
# everything is already there.
set -eu
shopt -s inherit_errexit

PROG=deps.sh
PACKAGES=(hyperfine crun runc bubblewrap gnuplot-nox time)

installed() {
	dpkg -s "$1" 2>/dev/null | grep -qx 'Status: install ok installed'
}

missing=()
for p in "${PACKAGES[@]}"; do
	installed "$p" && continue
	# Any gnuplot flavour (-qt, -x11) draws the PNG as well.
	[ "$p" = gnuplot-nox ] && command -v gnuplot >/dev/null && continue
	missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	printf '%s: missing %s: run sudo make bench-deps\n' "$PROG" "${missing[*]}" >&2
	exit 1
fi
command -v apt-get >/dev/null || {
	printf '%s: no apt-get to install %s: install them by hand\n' "$PROG" "${missing[*]}" >&2
	exit 1
}
printf '%s: installing %s\n' "$PROG" "${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || {
	printf '%s: apt-get update failed\n' "$PROG" >&2
	exit 1
}
apt-get install -y -q "${missing[@]}" >&2 || {
	printf '%s: apt-get install %s failed\n' "$PROG" "${missing[*]}" >&2
	exit 1
}
