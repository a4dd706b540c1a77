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

# interleave RUNS WARMUP JSON [-n NAME [--prepare CMD] COMMAND]...: the
# commands timed in turn, run by run: each round runs every command once
# (hyperfine -N --runs 1, its --prepare before it), so that other work on
# the machine, which comes and goes, weighs on all of them alike.
# hyperfine given several commands times all runs of one before the
# next, and a drift of the machine in between decides their ratio. The
# order changes each round as a Williams design has it: over N rounds
# (2N for an odd number N of commands) each command comes at each place
# once and right after each other command equally often, so that what
# one leaves behind (a heavy command's writeback, a cooled cache) does
# not always fall on the same next one, as it would with the order
# merely turned round. WARMUP rounds first, untimed. JSON gets
# hyperfine's export's shape (results[]: command, mean, stddev, median,
# min, max, user, system, times), which json_table and json_ratio read.
# Returns 1 when a run fails, after saying which as hyperfine would
# ("Benchmark N: NAME", then its "Error: ..." line).
interleave() {
	local runs=$1 warmup=$2 json=$3 tmp i j k n rc=0
	shift 3
	local -a names=() preps=() cmds=() prep
	while [ $# -gt 0 ]; do
		if [ "$1" != -n ] || [ $# -lt 3 ]; then
			note "interleave: want -n NAME [--prepare CMD] COMMAND, not '$1'"
			return 2
		fi
		names+=("$2")
		shift 2
		if [ "$1" = --prepare ] && [ $# -ge 3 ]; then
			preps+=("$2")
			shift 2
		else
			preps+=("")
		fi
		cmds+=("$1")
		shift
	done
	n=${#names[@]}
	# The first round's order, 0 1 N-1 2 N-2 ...; round r adds r to
	# each (mod N), and for an odd N rounds N to 2N-1 run it backwards.
	local -a first=(0)
	local lo=1 hi=$((n - 1)) period=$n r
	for ((j = 1; j < n; j++)); do
		if ((j % 2)); then
			first+=("$lo")
			lo=$((lo + 1))
		else
			first+=("$hi")
			hi=$((hi - 1))
		fi
	done
	((n % 2 == 0)) || period=$((2 * n))
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/interleave.XXXXXX")
	for ((i = 0; i < warmup + runs && rc == 0; i++)); do
		r=$((i % period))
		for ((j = 0; j < n; j++)); do
			if ((r < n)); then
				k=$(((first[j] + r) % n))
			else
				k=$(((first[n - 1 - j] + r) % n))
			fi
			prep=()
			[ -z "${preps[k]}" ] || prep=(--prepare "${preps[k]}")
			if ! hyperfine -N --style none --runs 1 "${prep[@]}" \
				--export-json "$tmp/one.json" -n "${names[k]}" "${cmds[k]}" >/dev/null 2>"$tmp/err"; then
				printf 'Benchmark %d: %s\n%s\n' $((k + 1)) "${names[k]}" "$(cat "$tmp/err")" >&2
				rc=1
				break
			fi
			[ "$i" -lt "$warmup" ] ||
				jq -c '.results[0] | [.times[0], .user, .system]' "$tmp/one.json" >>"$tmp/$k"
		done
	done
	if [ "$rc" -eq 0 ]; then
		for ((k = 0; k < n; k++)); do
			jq -s --arg name "${names[k]}" '
			  (map(.[0]) | sort) as $t | ($t | length) as $l | ($t | add / $l) as $mean
			  | { command: $name, mean: $mean,
			      stddev: (if $l > 1 then ($t | map(pow(. - $mean; 2)) | add / ($l - 1) | sqrt) else null end),
			      median: (if $l % 2 == 1 then $t[($l - 1) / 2] else ($t[$l / 2 - 1] + $t[$l / 2]) / 2 end),
			      min: $t[0], max: $t[-1],
			      user: (map(.[1]) | add / $l), system: (map(.[2]) | add / $l),
			      times: map(.[0]) }' "$tmp/$k"
		done | jq -s '{ results: . }' >"$json" || rc=1
	fi
	rm -rf "$tmp"
	return "$rc"
}

# json_paired JSON A B: for interleave's JSON, A's time over B's taken in
# the same round, round by round: "MEDIAN Q1 Q3 WINS ROUNDS", the median
# ratio, its quartiles (two decimals), and in how many rounds A was the
# faster; empty when either is missing.
json_paired() {
	jq -r --arg a "$2" --arg b "$3" '
	  def q($p): .[(length - 1) * $p | floor];
	  (.results | map(select(.command == $a))[0].times) as $x
	  | (.results | map(select(.command == $b))[0].times) as $y
	  | if $x and $y and ($x | length) == ($y | length) then
	      [range($x | length) | $x[.] / $y[.]] | sort
	      | [(if length % 2 == 1 then .[(length - 1) / 2] else (.[length / 2 - 1] + .[length / 2]) / 2 end),
	         q(0.25), q(0.75)] as $r
	      | ($r | map(. * 100 | round / 100 | tostring)) + [(map(select(. < 1)) | length | tostring), (length | tostring)]
	      | join(" ")
	    else empty end' "$1"
}
