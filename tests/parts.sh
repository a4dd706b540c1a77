#!/usr/bin/env bash
# parts.sh: `make test`'s loop over its parts. Each part runs even when one
# before failed; the closing lines give each part's wall time and result,
# the last one counts the parts. A part that leaves stage 14's bridge,
# table or leases on the machine's own network fails (tests/hostnet.sh).
#
# A part named in BESIDE as PART:UNTIL starts in the background when its
# turn comes, and the next parts run beside it until UNTIL's turn, which
# waits for it first (so does the end). Its output goes to LOGDIR/PART.log
# and is shown when it ends, whole, so that the log reads as if the parts
# had run one after the other. test-vm is such a part: its guest is a
# machine of its own, busy on about one core, while the parts on the
# host wait on processes most of the time and leave the other core idle.
#
# usage: parts.sh MAKE LOGDIR "PART..." "PART:UNTIL..."   (make test)
set -u

if [ $# -ne 4 ]; then
	echo "usage: $0 MAKE LOGDIR PARTS BESIDE" >&2
	exit 2
fi
make=$1 logdir=$2
read -r -a parts <<<"$3"
read -r -a beside <<<"$4"
mkdir -p "$logdir" || exit 1

failed=() times='' t0=$(date +%s)
declare -A bg_pid bg_start bg_net bg_until

# Part $1 took from $2 to $6 (default now) and $3 (0: passed); $4 is
# what the machine's network looked like at its start.
record() {
	local part=$1 start=$2 rc=$3 before=$4 note=${5:-} end=${6:-}
	local left s result=passed
	[ "$rc" -eq 0 ] || { failed+=("$part"); result=FAILED; }
	left=$(tests/hostnet.sh | grep -vxF -e "$before" || true)
	if [ -n "$left" ]; then
		echo "make $part: made on this machine's own network (a test must use a namespace of its own):"
		echo "$left" | sed 's/^/    /'
		[ "$result" = FAILED ] || { failed+=("$part"); result=FAILED; }
	fi
	s=$((${end:-$(date +%s)} - start))
	times+=$(printf '%-16s %4dm%02ds  %s%s' "$part" $((s / 60)) $((s % 60)) "$result" "$note")$'\n'
}

# Wait for the background parts that must end before part $1 (all of
# them when $1 is empty), and show what each printed.
join() {
	local part rc
	for part in "${!bg_pid[@]}"; do
		[ -z "$1" ] || [ "${bg_until[$part]}" = "$1" ] || continue
		rc=0
		wait "${bg_pid[$part]}" || rc=$?
		echo "==> make $part (ran beside the parts above; its output:)"
		cat "$logdir/$part.log"
		record "$part" "${bg_start[$part]}" "$rc" "${bg_net[$part]}" \
			"  (beside the others)" "$(cat "$logdir/$part.end")"
		unset "bg_pid[$part]"
	done
}

for part in "${parts[@]}"; do
	join "$part"
	until=
	for b in "${beside[@]}"; do
		[ "${b%%:*}" != "$part" ] || until=${b#*:}
	done
	if [ -n "$until" ]; then
		echo "==> make $part: started beside the parts until $until; its output follows when it ends"
		bg_start[$part]=$(date +%s)
		bg_net[$part]=$(tests/hostnet.sh)
		bg_until[$part]=$until
		# Its own wall time ends with it, not when it is waited for.
		rm -f "$logdir/$part.end"
		{
			"$make" --no-print-directory "$part" >"$logdir/$part.log" 2>&1 </dev/null
			rc=$?
			date +%s >"$logdir/$part.end"
			exit "$rc"
		} &
		bg_pid[$part]=$!
		continue
	fi
	echo "==> make $part"
	start=$(date +%s)
	before=$(tests/hostnet.sh)
	rc=0
	"$make" --no-print-directory "$part" || rc=$?
	record "$part" "$start" "$rc" "$before"
done
join ''

total=$(($(date +%s) - t0))
printf '\nwall time of each part:\n%s' "$times"
printf 'make test took %dm%02ds\n' $((total / 60)) $((total % 60))
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
[ "$(id -u)" -eq 0 ] || echo "make test: not root, so the namespace, mount and cgroup tests were skipped: run it with sudo (sudo make test)"
echo "parts: $((${#parts[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
