#!/usr/bin/env bash
# carry.sh N: in the student edition, bring the learner's own code from
# stage N-1 into the stubs of stage N. Each stub of stage N's main.c whose
# function stage N-1's main.c has, written (not a stub), gets that body;
# the stub's TODO comments of stage N stay on top of it, since they say
# what changes in this stage (a flag to add, a step done another way). A
# stub whose function stage N-1 lacks or has not written yet stays as it
# is. Only main.c: the lessons of stages 1-8 are copied from stage to
# stage, spines included, while a lesson of stage 9 on lives in its own
# file, which later stages build with as it is (nothing to carry). Changes
# nothing else; says what it carried, and which lesson files stage N uses
# as they are.
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

# The lesson files of the stages before N (tools/lessons.tsv's file
# column, other than main.c) that stage N builds with: nothing to carry.
shared=''
if [ -r tools/lessons.tsv ]; then
	while IFS=$'\t' read -r stage file; do
		f=$(ls -d stages/"$(printf %02d "$stage")"-*/"$file" 2>/dev/null) || continue
		shared+=" $f"
	done < <(awk -F '\t' -v n="$n" '!/^#/ && $1 + 0 < n && $4 != "main.c" && NF >= 6 &&
		!seen[$1 "\t" $4]++ { print $1 "\t" $4 }' tools/lessons.tsv)
fi
# Where stage N's own TODOs are: main.c, or its lesson file (and main.c).
own=$to
if [ -r tools/lessons.tsv ]; then
	own=$(awk -F '\t' -v n="$n" '!/^#/ && $1 + 0 == n && NF >= 6 && !seen[$4]++ { print $4 }' tools/lessons.tsv |
		while read -r file; do ls -d stages/"$(printf %02d "$n")"-*/"$file" 2>/dev/null || true; done |
		paste -sd ' ')
	own=${own:-$to}
fi
# say_shared: which earlier lessons stage N takes as they are.
say_shared() {
	[ -z "$shared" ] ||
		echo "$prog: nothing to carry from$shared: stage $n builds with those files as they are"
}

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
	say_shared
	exit 0
fi
cat "$tmp" >"$to"
echo "$prog: carried into $to from $from:$names"
say_shared
echo "$prog: now do what the TODO (stage $n) comments in $own say, and check with git diff"
