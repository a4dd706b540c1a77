# shellcheck shell=bash
# lib.sh: what bench.sh and image.sh share. Source it after setting PROG.

# die MESSAGE: say it, as PROG, and stop.
die() {
	printf '%s: %s\n' "$PROG" "$1" >&2
	exit 1
}

# note MESSAGE: say it, as PROG, and go on.
note() {
	printf '%s: %s\n' "$PROG" "$1" >&2
}

# quote WORD...: the words as one line hyperfine -N splits back into them.
quote() {
	local out="" w
	for w in "$@"; do
		out="$out${out:+ }'${w//\'/\'\\\'\'}'"
	done
	printf '%s' "$out"
}
