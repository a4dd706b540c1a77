#!/usr/bin/env bash
# carry.sh N: in the student edition, bring the learner's own code from
# stage N-1 into the stubs of stage N. Each stub of stages/0N-*/main.c
# whose function stage N-1 has, written (not a stub), gets that body; the
# stub's TODO comments of stage N stay on top of it, since they say what
# changes in this stage (a flag to add, a step done another way). A stub
# whose function stage N-1 lacks or has not written yet stays as it is.
# Changes nothing else; says what it carried.
set -euo pipefail

prog="make carry-$1"
n=$1
die() {
	echo "$prog: $*" >&2
	exit 1
}
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt 1 ] || die "name a stage from 2 on: make carry-N"
to=$(ls -d stages/"$(printf %02d "$n")"-*/main.c 2>/dev/null) || die "no stage $n"
from=$(ls -d stages/"$(printf %02d $((n - 1)))"-*/main.c 2>/dev/null) || die "no stage $((n - 1))"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk -v stage="$n" '
# The function whose signature starts on this line, or "".
function fname(line,   s) {
	if (line !~ /^static .*[ *][A-Za-z_0-9]+\(/ || line ~ /;$/)
		return ""
	s = line
	sub(/\(.*/, "", s)
	sub(/.*[ *]/, "", s)
	return s
}
# Pass 1, stage N-1: the bodies written (no stub in them).
FNR == NR {
	if (!s && (f = fname($0)) != "") { name = f; s = 1 }
	if (s && $0 == "{") { b = 1; body[name] = ""; next }
	if (b && $0 == "}") {
		b = 0; s = 0
		if (body[name] ~ /die\("not implemented: /)
			delete body[name]
		next
	}
	if (b) body[name] = body[name] $0 "\n"
	next
}
# Pass 2, stage N: a stub takes the body, under its TODOs of stage N.
!s && (f = fname($0)) != "" { name = f; s = 1 }
s && $0 == "{" { print; b = 1; held = ""; next }
b && $0 == "}" {
	if (held ~ /die\("not implemented: / && (name in body)) {
		# Keep the TODO comments of this stage, drop the rest.
		k = split(held, l, "\n")
		keep = 0
		for (i = 1; i < k; i++) {
			if (l[i] ~ /^\t\/\* TODO \(stage [0-9]+\):/)
				keep = l[i] ~ ("^\t/\\* TODO \\(stage " stage "\\):")
			else if (l[i] !~ /^\t \*/)
				keep = 0
			if (keep)
				print l[i]
		}
		printf "%s", body[name]
		carried = carried " " name "()"
	} else
		printf "%s", held
	print; b = 0; s = 0; next
}
b { held = held $0 "\n"; next }
{ print }
END { print carried > "/dev/stderr" }' "$from" "$to" >"$tmp" 2>"$tmp.names" || die "cannot read $from and $to"
names=$(cat "$tmp.names")
rm -f "$tmp.names"
if [ -z "$names" ]; then
	echo "$prog: nothing to carry: no stub of $to is written in $from"
	exit 0
fi
cat "$tmp" >"$to"
echo "$prog: carried into $to from $from:$names"
echo "$prog: now do what its TODO (stage $n) comments say, and check with git diff"
