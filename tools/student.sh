#!/usr/bin/env bash
# student.sh DEST: the learner's skeleton. Copies the files git tracks or
# would track (not ignored; as they are in the working tree) to DEST, then takes each stage's lesson out
# of its main.c, as tools/lessons.tsv lists it: a function's body becomes a
# stub that dies with "stage-N: not implemented: name() (see TUTORIAL.md,
# stage N)" under a TODO comment saying what to write; a clone() flag is
# taken out of the flags, with a TODO above them. The skeleton still builds
# with -Werror, and the same tests grade it.
#
# LESSONS=file reads another table (the tests use it).
set -eu

prog="make student"
table=${LESSONS:-tools/lessons.tsv}

die() {
	echo "$prog: $*" >&2
	exit 1
}

dest=${1:-}
[ -n "$dest" ] || die "no destination: run make student DEST=dir"
[ -r "$table" ] || die "cannot read the lesson table '$table'"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	die "not in a git checkout: run it from the repository"
if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
	die "'$dest' exists and is not empty: name a new directory"
fi
mkdir -p "$dest" || die "cannot create '$dest'"

# The files git tracks and those it would track (not ignored), as the
# working tree has them: what make sees here.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
	[ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -xf - -C "$dest" ||
	die "cannot copy the repository to '$dest'"

# Take the lesson out of the main.c on stdin: stub "$kind" "$name" for
# stage $stage. A function's body becomes the stub; a flag is taken out of
# the "int flags = ...;" statement (which may span lines). Exits 3 when the
# function or flag is not found exactly once.
stub() {
	awk -v stage="$1" -v kind="$2" -v name="$3" -v keep="$4" -v todo="$5" '
	# The TODO comment, wrapped to fit 80 columns with a tab before it.
	function comment(text,   n, w, i, line, out) {
		n = split(text, w, " ")
		line = "\t/* TODO (stage " stage "):"
		for (i = 1; i <= n; i++) {
			if (length(line) + length(w[i]) > 70) {
				out = out line "\n"
				line = "\t *"
			}
			line = line " " w[i]
		}
		return out line ". */"
	}
	# (void) for each parameter of the signature and each kept name.
	function uses(sig,   inner, n, p, i, out) {
		inner = substr(sig, index(sig, "(") + 1)
		sub(/\)[^)]*$/, "", inner)
		n = split(inner, p, ",")
		for (i = 1; i <= n; i++) {
			gsub(/\[[^]]*\]/, "", p[i])
			if (p[i] ~ /^[ \t]*void[ \t]*$/ ||
			    !match(p[i], /[A-Za-z_][A-Za-z0-9_]*[ \t]*$/))
				continue
			out = out "\t(void)" substr(p[i], RSTART, RLENGTH) ";\n"
		}
		if (keep != "-") {
			n = split(keep, p, " ")
			for (i = 1; i <= n; i++)
				out = out "\t(void)" p[i] ";\n"
		}
		gsub(/[ \t]+;/, ";", out)
		return out
	}
	kind == "flag" && /^\tint flags = / { state = 10; stmt = "" }
	state == 10 {
		line = $0
		sub(/^[ \t]+/, "", line)
		stmt = stmt (stmt == "" ? "" : " ") line
		if (!/;$/)
			next
		state = 0
		if (match(stmt, " [|] " name "[ ;]")) {
			found++
			stmt = substr(stmt, 1, RSTART - 1) \
			       substr(stmt, RSTART + RLENGTH - 1)
			print comment(todo)
		}
		print "\t" stmt
		next
	}
	kind == "function" && state == 0 && $0 ~ ("^static .*[ *]" name "\\(") &&
	    !/;$/ {
		found++
		sig = $0
		state = /\)$/ ? 2 : 1
		print
		next
	}
	state == 1 {
		sig = sig " " $0
		if (/\)$/)
			state = 2
		print
		next
	}
	state == 2 {
		if ($0 != "{") {
			bad = 1
			exit
		}
		print
		print comment(todo)
		printf "%s", uses(sig)
		printf "\tdie(\"not implemented: %s() (see TUTORIAL.md, stage %s)\");\n", name, stage
		state = 3
		next
	}
	state == 3 {
		if ($0 == "}") {
			print
			state = 0
		}
		next
	}
	{ print }
	END { if (bad || found != 1 || state != 0) exit 3 }'
}

for sdir in "$dest"/stages/[0-9][0-9]-*/; do
	n=$(basename "$sdir")
	n=$((10#${n%%-*}))
	main=$sdir/main.c
	rows=0
	while IFS=$'\t' read -r stage kind name keep todo; do
		[ "$stage" = "$n" ] || continue
		rows=$((rows + 1))
		case $kind in
		function | flag) ;;
		*) die "$table: stage $n: unknown kind '$kind'" ;;
		esac
		stub "$n" "$kind" "$name" "$keep" "$todo" <"$main" >"$main.stub" || {
			rm -f "$main.stub"
			die "$table: stage $n: $kind $name not found once in ${main#"$dest"/}"
		}
		mv "$main.stub" "$main"
	done < <(grep -v '^#' "$table")
	[ "$rows" -gt 0 ] || die "$table: no lesson listed for stage $n"
done
echo "skeleton in $dest: build it with make -C $dest all; grade it with sudo make -C $dest grade"
