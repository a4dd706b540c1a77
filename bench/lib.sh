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

# json_table JSON BASE: hyperfine's JSON export as a Markdown table:
# median, mean and min in ms, and each median over BASE's.
json_table() {
	jq -r --arg base "$2" '
	  (.results | map(select(.command == $base))[0].median) as $b
	  | "| command | median ms | mean ms | min ms | × \($base) |",
	    "|---|---:|---:|---:|---:|",
	    (.results[] | "| \(.command) | \(.median * 1000 * 1000 | round / 1000) | \(.mean * 1000 * 1000 | round / 1000) | \(.min * 1000 * 1000 | round / 1000) | \(if $b then "\(.median / $b * 100 | round / 100)×" else "–" end) |")' "$1"
}

# json_ratio JSON A B [FIELD]: A's FIELD (median unless told) over B's,
# to two decimals; empty when either is missing.
json_ratio() {
	jq -r --arg a "$2" --arg b "$3" --arg f "${4:-median}" '
	  (.results | map(select(.command == $a))[0][$f]) as $x
	  | (.results | map(select(.command == $b))[0][$f]) as $y
	  | if $x and $y then $x / $y * 100 | round / 100 else empty end' "$1"
}

# verdict VALUE OP LIMIT: "met" or "**missed**" (OP <= or >=).
verdict() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		ok = op == "<=" ? v <= l : v >= l
		print ok ? "met" : "**missed**"
	}'
}
