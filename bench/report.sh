#!/usr/bin/env bash
# report.sh: turn what bench.sh measured in OUT into OUT/results.md (the
# tables and the targets) and OUT/bench.png (a bar chart of both modes).
#
# usage: report.sh OUT
set -eu
shopt -s inherit_errexit

PROG=report.sh

die() {
	printf '%s: %s\n' "$PROG" "$1" >&2
	exit 1
}

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

# median MODE NAME: the median of NAME in MODE, in milliseconds.
median() {
	awk -F, -v k="$2" '$1 == k { printf "%.6f", $4 * 1000 }' "$OUT/$1.csv"
}

# target TEXT VALUE OP LIMIT: one line of the targets list; VALUE is a
# ratio, empty when a command is missing.
target() {
	local text=$1 value=$2 op=$3 limit=$4 verdict
	if [ -z "$value" ]; then
		printf -- '- %s: not measured (missing line)\n' "$text"
		return
	fi
	verdict=$(awk -v v="$value" -v op="$op" -v l="$limit" 'BEGIN {
		ok = op == "<=" ? v <= l : v >= l
		print ok ? "met" : "**missed**"
	}')
	printf -- '- %s: %.2f× — %s\n' "$text" "$value" "$verdict"
}

# ratio MODE A B: median of A over median of B, empty if either is missing.
ratio() {
	local a b
	a=$(median "$1" "$2")
	b=$(median "$1" "$3")
	[ -n "$a" ] && [ -n "$b" ] || return 0
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f", a / b }'
}

{
	printf 'Measured by `make bench` on Linux %s, %s; %s; %s; load average %s.\n' \
		"$(meta kernel)" "$(meta cpu)" "$(meta cgroup)" "$(meta hyperfine)" "$(meta load)"
	[ -z "$(meta quick)" ] || printf '\n**Quick run (BENCH_QUICK): too few runs to trust.**\n'
	printf '\n#### Hot: back to back\n\n'
	table hot
	printf '\n#### Cold: %s s pause before each run\n\n' "$(meta 'cold pause')"
	table cold
	if [ -n "$SKIPPED" ]; then
		printf '\nSkipped: %s.\n' "$SKIPPED"
	fi

	printf '\n#### Peak RSS of the runtime process while its container runs\n\n'
	printf '| command | VmHWM KiB |\n|---|---:|\n'
	awk -F'\t' '{ printf "| %s | %s |\n", $1, $2 }' "$OUT/rss.tsv"

	if [ -s "$OUT/bomb.txt" ]; then
		printf '\n#### Fork bomb in %s\n\n' "$(awk -F'\t' '$1 == "stage" { print $2 }' "$OUT/bomb.txt")"
		printf '| what | value |\n|---|---|\n'
		awk -F'\t' '$1 != "stage" { printf "| %s | %s |\n", $1, $2 }' "$OUT/bomb.txt"
	else
		printf '\n#### Fork bomb\n\nSkipped: no stage 6 yet.\n'
	fi

	printf '\n#### Targets (%s, medians)\n\n' "$REF"
	target "hot: $REF over the floor, at most 1.1×" "$(ratio hot "$REF" floor)" '<=' 1.1
	target "hot: unshare over $REF, above 1×" "$(ratio hot unshare "$REF")" '>=' 1.0001
	target "hot: bwrap over $REF, above 1×" "$(ratio hot bwrap "$REF")" '>=' 1.0001
	target "hot: crun over $REF, at least 5×" "$(ratio hot crun "$REF")" '>=' 5
	target "hot: runc over $REF, at least 20×" "$(ratio hot runc "$REF")" '>=' 20
	target "cold: $REF over the floor, at most 1.1×" "$(ratio cold "$REF" floor)" '<=' 1.1
	printf '\nThe commands (each run by hyperfine -N, without a shell):\n\n'
	awk -F'\t' '/^cmd:/ { sub(/^cmd:/, "", $1); printf "- %s: `%s`\n", $1, $2 }' "$OUT/meta.tsv"
} >"$OUT/results.md"

# The chart: median of each command in both modes, on a log scale.
awk -F, 'NR == FNR { if (FNR > 1) hot[$1] = $4 * 1000; next }
	FNR > 1 { printf "%s %.4f %.4f\n", $1, hot[$1], $4 * 1000 }' \
	"$OUT/hot.csv" "$OUT/cold.csv" >"$OUT/chart.dat"
if command -v gnuplot >/dev/null; then
	gnuplot -e "datafile='$OUT/chart.dat'; outfile='$OUT/bench.png'" \
		"$HERE/chart.gp" || die "gnuplot failed to draw '$OUT/bench.png'"
else
	printf '%s: gnuplot is not installed, no chart (run sudo make bench-deps)\n' "$PROG" >&2
fi
printf '%s: wrote %s/results.md\n' "$PROG" "$OUT" >&2
