#!/usr/bin/env bash
# clean.sh DIR...: remove each build directory, unmounting first whatever is
# mounted under it (a stage that never unmounts leaves proc mounts in the
# test root filesystem). rm stays on DIR's own filesystem
# (--one-file-system), so a mount that could not be taken off is left
# alone, not emptied, and clean fails saying so.
set -u

prog="make clean"
status=0
for dir in "$@"; do
	[ -e "$dir" ] || continue
	abs=$(realpath -- "$dir") || exit 1
	# Mount points under it, deepest first, unescaped (\040 is a space).
	mapfile -t points < <(awk -v top="$abs" '{
		p = $5
		gsub(/\\040/, " ", p)
		if (p == top || index(p, top "/") == 1)
			print p
	}' /proc/self/mountinfo | sort -r)
	if [ ${#points[@]} -gt 0 ] && [ "$(id -u)" -ne 0 ]; then
		echo "$prog: ${#points[@]} mount(s) under $dir (such as ${points[0]}): run sudo make clean" >&2
		status=1
		continue
	fi
	for p in "${points[@]}"; do
		# Lazily: a process still inside must not keep the mount.
		umount -l -- "$p" 2>/dev/null
	done
	left=$(awk -v top="$abs" '{ p = $5; gsub(/\\040/, " ", p)
		if (p == top || index(p, top "/") == 1) n++ } END { print n + 0 }' /proc/self/mountinfo)
	if [ "$left" -gt 0 ]; then
		echo "$prog: $left mount(s) under $dir could not be unmounted: see findmnt -R $abs" >&2
		status=1
		continue
	fi
	[ ${#points[@]} -eq 0 ] || echo "$prog: unmounted ${#points[@]} mount(s) under $dir"
	rm -rf --one-file-system -- "$dir" || status=1
done
exit $status
