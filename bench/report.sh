#!/usr/bin/env bash
# report.sh: turn what bench.sh measured in OUT into OUT/results.md (the
# tables and the targets) and OUT/bench.png (a bar chart of both modes).
#
# usage: report.sh OUT
set -eu
shopt -s inherit_errexit

PROG=report.sh
# shellcheck source=bench/lib.sh
. "$(dirname -- "$(realpath -- "$0")")/lib.sh"

[ $# -eq 1 ] || die "usage: $PROG OUT"
OUT=$1
HERE=$(dirname -- "$(realpath -- "$0")")
for f in meta.tsv hot.csv cold.csv rss.tsv bomb.txt; do
	[ -f "$OUT/$f" ] || die "no '$OUT/$f': run make bench first"
done

# meta KEY: the value bench.sh recorded for KEY.
meta() {
	awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "$OUT/meta.tsv"
}
REF=$(meta reference)
SKIPPED=$(meta skipped)

# table MODE: the Markdown table of one mode, times in milliseconds.
table() {
	awk -F, -v ref="$REF" '
	NR == 1 { next }
	{
		n++; name[n] = $1; mean[n] = $2 * 1000
		median[n] = $4 * 1000; min[n] = $7 * 1000; cpu[n] = ($5 + $6) * 1000
		byname[$1] = median[n]
	}
	function ratio(x, base) {
		return base > 0 ? sprintf("%.2f×", x / base) : "–"
	}
	END {
		printf "| command | median ms | min ms | mean ms | CPU ms | × exec | × floor | × %s |\n", ref
		printf "|---|---:|---:|---:|---:|---:|---:|---:|\n"
		for (i = 1; i <= n; i++)
			printf "| %s | %.3f | %.3f | %.3f | %.3f | %s | %s | %s |\n",
				name[i], median[i], min[i], mean[i], cpu[i],
				ratio(median[i], byname["exec"]),
				ratio(median[i], byname["floor"]),
				ratio(median[i], byname[ref])
	}' "$OUT/$1.csv"
}

# column MODE NAME COLUMN: that figure of NAME in MODE, in milliseconds.
column() {
	awk -F, -v k="$2" -v c="$3" '$1 == k { printf "%.6f", $c * 1000 }' "$OUT/$1.csv"
}

# target TEXT MODE A B OP LIMIT: one line of the targets list, on the
# ratio A/B of the medians and, less disturbed by other work on the
# machine, of the minimums.
target() {
	local text=$1 mode=$2 a=$3 b=$4 op=$5 limit=$6 med min
	med=$(ratio "$mode" "$a" "$b" 4)
	min=$(ratio "$mode" "$a" "$b" 7)
	if [ -z "$med" ]; then
		printf -- '- %s: not measured (no %s or %s line)\n' "$text" "$a" "$b"
		return
	fi
	printf -- '- %s: median %.2f× — %s; min %.2f× — %s\n' "$text" \
		"$med" "$(verdict "$med" "$op" "$limit")" \
		"$min" "$(verdict "$min" "$op" "$limit")"
}

# ch FILE KEY NAME: the value of KEY on NAME's line of bench/coldhot.c's
# output in OUT/FILE (coldhot.txt here, vm.txt from make bench-vm).
ch() {
	awk -v k="$2" -v n="$3" '$1 == "coldhot:" && $2 == n {
		for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' \
		"$OUT/$1" 2>/dev/null || true
}

# ch_table FILE: the Markdown table of that coldhot output.
ch_table() {
	local name
	printf '| command | hot median ms | hot min ms | cold median ms | cold min ms | cold/hot median | cold/hot min |\n|---|---:|---:|---:|---:|---:|---:|\n'
	for name in $(awk '$1 == "coldhot:" { print $2 }' "$OUT/$1"); do
		printf '| %s | %s | %s | %s | %s | %s× | %s× |\n' "$name" \
			"$(ch "$1" hot_median "$name")" "$(ch "$1" hot_min "$name")" \
			"$(ch "$1" cold_median "$name")" "$(ch "$1" cold_min "$name")" \
			"$(ch "$1" ratio_median "$name")" "$(ch "$1" ratio_min "$name")"
	done
}

# target_ch TEXT FILE NAME LIMIT: NAME's cold/hot ratio in that coldhot
# output (medians, and minimums), at most LIMIT; the bare exec's beside it.
target_ch() {
	local text=$1 file=$2 name=$3 limit=$4 med min
	med=$(ch "$file" ratio_median "$name")
	min=$(ch "$file" ratio_min "$name")
	if [ -z "$med" ]; then
		printf -- '- %s: not measured (no %s)\n' "$text" "$file"
		return
	fi
	printf -- '- %s: median %.2f× — %s; min %.2f× — %s (a bare exec: median %s×, min %s×)\n' "$text" \
		"$med" "$(verdict "$med" '<=' "$limit")" \
		"$min" "$(verdict "$min" '<=' "$limit")" \
		"$(ch "$file" ratio_median exec)" "$(ch "$file" ratio_min exec)"
}

# ratio MODE A B COLUMN: A over B in that CSV column (4 median, 7 min),
# empty if either is missing.
ratio() {
	local a b
	a=$(column "$1" "$2" "$4")
	b=$(column "$1" "$3" "$4")
	[ -n "$a" ] && [ -n "$b" ] || return 0
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f", a / b }'
}

# added A B WHAT: what A costs more than B, in milliseconds, hot and cold
# (medians and minimums): the price of WHAT.
added() {
	local mode line=""
	for mode in hot cold; do
		local a4 b4 a7 b7
		a4=$(column "$mode" "$1" 4) b4=$(column "$mode" "$2" 4)
		a7=$(column "$mode" "$1" 7) b7=$(column "$mode" "$2" 7)
		[ -n "$a4" ] && [ -n "$b4" ] || continue
		line+=$(awk -v m="$mode" -v a="$a4" -v b="$b4" -v c="$a7" -v d="$b7" \
			'BEGIN { printf "; %s %+.2f ms (min %+.2f ms)", m, a - b, c - d }')
	done
	[ -z "$line" ] || printf -- '- %s over %s, %s: %s\n' "$1" "$2" "$3" "${line#; }"
}

# cold_hot NAME LIMIT: NAME's cold median (and minimum) over its hot one,
# a target of at most LIMIT.
cold_hot() {
	local c h med min
	c=$(column cold "$1" 4)
	h=$(column hot "$1" 4)
	[ -n "$c" ] && [ -n "$h" ] || return 0
	med=$(awk -v a="$c" -v b="$h" 'BEGIN { printf "%.4f", a / b }')
	min=$(awk -v a="$(column cold "$1" 7)" -v b="$(column hot "$1" 7)" 'BEGIN { printf "%.4f", a / b }')
	printf -- '- %s cold over hot, at most %s×: median %.2f× — %s; min %.2f× — %s\n' \
		"$1" "$2" "$med" "$(verdict "$med" '<=' "$2")" "$min" "$(verdict "$min" '<=' "$2")"
}

{
	printf 'Measured by `make bench` on Linux %s, %s; %s; %s; load average %s.\n' \
		"$(meta kernel)" "$(meta cpu)" "$(meta cgroup)" "$(meta hyperfine)" "$(meta load)"
	[ -z "$(meta quick)" ] || printf '\n**Quick run (BENCH_QUICK): too few runs to trust.**\n'
	if awk -v l="$(meta load)" -v n="$(meta cores)" 'BEGIN { exit !(l + 0 > n / 2) }'; then
		printf '\n**The machine was busy (load average %s on %s cores): other work inflates the medians; the minimums and the CPU column are closer to the cost itself.**\n' \
			"$(meta load | cut -d' ' -f1)" "$(meta cores)"
	fi
	printf '\n#### Hot: back to back\n\n'
	table hot
	printf '\n#### Cold: %s s pause before each run\n\n' "$(meta 'cold pause')"
	table cold
	if [ -n "$SKIPPED" ]; then
		printf '\nSkipped: %s.\n' "$SKIPPED"
	fi

	printf '\n#### Peak RSS\n\n'
	printf '| command | runtime while the container runs (VmHWM) KiB | runtime and what it waited for (time %%M) KiB |\n|---|---:|---:|\n'
	awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$OUT/rss.tsv"

	if [ -s "$OUT/coldhot.txt" ]; then
		printf '\n#### Cold over hot, alternating (bench/coldhot.c)\n\n'
		printf 'hyperfine runs all hot runs of a line, then all cold ones; while other work comes and goes, the two modes can meet different loads. Here every timed run right after another (hot) alternates with one after a %s ms pause (cold), %s of each.\n\n' \
			"$(ch coldhot.txt pause_ms stage-6)" "$(ch coldhot.txt runs stage-6)"
		ch_table coldhot.txt
	fi
	if [ -s "$OUT/vm.txt" ]; then
		printf '\n#### cgroup v2: in the test VM (make bench-vm)\n\n'
		printf 'The same, in the qemu VM of tests/vm (Linux %s, cgroup v2 only, software emulation: only the ratios mean anything).\n\n' \
			"$(awk -F'\t' '$1 == "kernel" { print $2 }' "$OUT/vm.txt")"
		ch_table vm.txt
	fi

	if [ -s "$OUT/bomb.txt" ]; then
		printf '\n#### Fork bomb in %s\n\n' "$(awk -F'\t' '$1 == "stage" { print $2 }' "$OUT/bomb.txt")"
		printf '| what | value |\n|---|---|\n'
		awk -F'\t' '$1 != "stage" { printf "| %s | %s |\n", $1, $2 }' "$OUT/bomb.txt"
	else
		printf '\n#### Fork bomb\n\nSkipped: no stage 6 yet.\n'
	fi

	printf '\n#### Targets (%s)\n\n' "$REF"
	target "hot: $REF over the floor, at most 1.1×" hot "$REF" floor '<=' 1.1
	target "hot: $REF over unshare, at most 0.9×" hot "$REF" unshare '<=' 0.9
	target "hot: bwrap over $REF, above 1×" hot bwrap "$REF" '>=' 1.0001
	target "hot: crun over $REF, at least 5×" hot crun "$REF" '>=' 5
	target "hot: runc over $REF, at least 20×" hot runc "$REF" '>=' 20
	target "cold: $REF over the floor, at most 1.1×" cold "$REF" floor '<=' 1.1
	target_ch "cold over hot, alternating: $REF on cgroup v1 (here), at most 1.2×" coldhot.txt "$REF" 1.2
	target_ch "cold over hot, alternating: $REF on cgroup v2 (the VM), at most 1.2×" vm.txt "$REF" 1.2
	if [ -n "$(column hot stage-9 4)" ]; then
		printf '\n#### Stage 9: the limits (--memory 64m --cpus 1)\n\n'
		target "hot: stage-9 over stage-8, at most 1.15×" hot stage-9 stage-8 '<=' 1.15
		target "cold: stage-9 over stage-8, at most 1.15×" cold stage-9 stage-8 '<=' 1.15
		cold_hot stage-9 1.2
		target_ch "cold over hot, alternating: stage-9 on cgroup v2 (the VM), at most 1.2×" vm.txt stage-9 1.2
		target "hot: crun with the same limits over stage-9, above 1×" hot crun-limits stage-9 '>=' 1.0001
		target "cold: crun with the same limits over stage-9, above 1×" cold crun-limits stage-9 '>=' 1.0001
	fi
	if [ -n "$(column hot stage-11 4)" ]; then
		printf '\n#### Stages 10 and 11: capabilities, seccomp (compiled at each start, in the child), walls\n\n'
		target "hot: stage-10 over stage-9, at most 1.3×" hot stage-10 stage-9 '<=' 1.3
		target "hot: stage-11 over stage-9, at most 1.3×" hot stage-11 stage-9 '<=' 1.3
		target "hot: crun with the same walls over stage-11, at least 4×" hot crun-walls stage-11 '>=' 4
		target "cold: crun with the same walls over stage-11, at least 4×" cold crun-walls stage-11 '>=' 4
	fi
	if [ -n "$(column hot stage-12 4)" ]; then
		printf '\n#### Stage 12: the copy-on-write root (overlayfs)\n\n'
		target "hot: stage-12 over stage-11, at most 1.2×" hot stage-12 stage-11 '<=' 1.2
		target "cold: stage-12 over stage-11, at most 1.2×" cold stage-12 stage-11 '<=' 1.2
		added stage-12 stage-11 "the layer (state directory, overlay mount, removal) in /run/minidocker on $(meta 'run fs')"
	fi
	if [ -n "$(column hot stage-14 4)" ]; then
		printf '\n#### Stage 14: a network of its own (run in a network namespace of the benchmark'"'"'s own)\n\n'
		added stage-14-none stage-13 "a network namespace with lo up and the /etc files (--net none)"
		added stage-14 stage-14-none "the bridge mode: a lease, a veth pair moved in and configured, the bridge and the NAT table made and, by the last container out (each run here), removed (--net bridge)"
	fi
	printf '\nThe commands (each run by hyperfine -N, without a shell):\n\n'
	awk -F'\t' '/^cmd:/ { sub(/^cmd:/, "", $1); printf "- %s: `%s`\n", $1, $2 }' "$OUT/meta.tsv"
	# Stage 13's rows (bench/image.sh), when it ran.
	[ ! -f "$OUT/image.md" ] || cat "$OUT/image.md"
	# Stages 14-16 beside the engines (bench/engines.sh), when it ran.
	[ ! -f "$OUT/engines.md" ] || cat "$OUT/engines.md"
} >"$OUT/results.md"

# The chart: median of each command in both modes, on a log scale.
awk -F, 'NR == FNR { if (FNR > 1) hot[$1] = $4 * 1000; next }
	FNR > 1 { printf "%s %.4f %.4f\n", $1, hot[$1], $4 * 1000 }' \
	"$OUT/hot.csv" "$OUT/cold.csv" >"$OUT/chart.dat"
if command -v gnuplot >/dev/null; then
	pause=$(awk -v s="$(meta 'cold pause')" 'BEGIN { printf "%g ms", s * 1000 }')
	gnuplot -e "datafile='$OUT/chart.dat'; outfile='$OUT/bench.png'; pause='$pause'" \
		"$HERE/chart.gp" || die "gnuplot failed to draw '$OUT/bench.png'"
else
	printf '%s: gnuplot is not installed, no chart (run sudo make bench-deps)\n' "$PROG" >&2
fi
printf '%s: wrote %s/results.md\n' "$PROG" "$OUT" >&2
