#!/usr/bin/env bash
# student.sh DEST: the learner's edition, a repository of its own in DEST.
#
#   - the files git tracks or would track (not ignored; as they are in the
#     working tree), copied to DEST;
#   - every lesson that tools/lessons.tsv lists taken out, in the file the
#     table names: a lesson of stages 1-8 in its stage's main.c and in every
#     later main.c that still has it (stages 1-8 are programs of their own
#     and the spines of stages 9 on still hold them, so the answers would
#     otherwise sit in later stages); a lesson of stage 9 on once, in its
#     lesson file (limits.c, ...), which later stages build with as it is.
#     A function's body becomes a stub that dies with "stage-N: not
#     implemented: name() (see TUTORIAL.md, stage M)" under TODO comments
#     saying what to write; a clone() flag goes with the function that sets
#     it (start_child), as one more TODO line in its stub;
#   - TUTORIAL.md and each stage's README.md rewritten for the learner from
#     the same text: the diffs and the lessons' code left out, "The code"
#     sections become "What to write" with the stage's TODOs; concepts,
#     traps and the sessions (what a finished stage prints) stay;
#   - a README.md that says what a learner does, stage by stage;
#   - the Makefile without -Werror: a half-done stage builds, with its
#     warnings shown (the reference keeps -Werror);
#   - git init and one commit, so that `git diff` shows the learner's work.
#
# LESSONS=file reads another table (the tests use it).
set -euo pipefail

prog="make student"
table=${LESSONS:-tools/lessons.tsv}

die() {
	echo "$prog: $*" >&2
	exit 1
}

dest=${1:-}
[ -n "$dest" ] || die "no destination: run make student DEST=dir"
[ -r "$table" ] || die "cannot read the lesson table '$table'"
[ -f tools/lessons.tsv ] && [ -d stages ] ||
	die "run it from the top of the repository (make student DEST=dir)"
# A git checkout copies what git tracks or would track; a tree without
# .git (an unpacked archive) everything but what .gitignore names.
in_git=false
git rev-parse --is-inside-work-tree >/dev/null 2>&1 && in_git=true
if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
	die "'$dest' exists and is not empty: name a new directory"
fi
mkdir -p "$dest" || die "cannot create '$dest'"
# Inside this repository only under build/ (ignored): else the edition, a
# repository of its own, would be copied into the next one.
case $(realpath -- "$dest")/ in
"$PWD"/build/*) ;;
"$PWD"/*)
	rmdir -- "$dest" 2>/dev/null
	die "'$dest' is inside this repository: name a directory outside it (or under build/)"
	;;
esac

# The files git tracks and those it would track (not ignored), as the
# working tree has them: what make sees here.
# bench/ stays out: its floor program is stage 6 written out in full; so
# does .ci/, which runs the reference's make test.
if $in_git; then
	git ls-files -z --cached --others --exclude-standard -- . ":!bench" ":!.ci" |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done | tar --null -T - -cf -
else
	tar --exclude=./.git --exclude=./build --exclude=./rootfs --exclude=./bench --exclude=./.ci -cf - .
fi | tar -xf - -C "$dest" || die "cannot copy the repository to '$dest'"

# The table's rows, comments left out: stage kind name file keep todo.
rows=$(grep -v '^#' "$table" | grep -v '^$') || die "$table: no lessons in it"
bad=$(awk -F '\t' 'NF != 6 { print $1 " " $2 " " $3; exit }' <<<"$rows")
[ -z "$bad" ] || die "$table: not six columns (stage kind name file keep todo) in: $bad"

# The start of a function's definition at the top level of a file: a
# static function of main.c, or a lesson file's function, which its header
# declares (not static). A prototype ends with ';' on its line.
def='^[A-Za-z_].*[ *]'

# Whether FILE defines the function NAME (not a prototype).
defines() {
	grep -Eq "$def$2\(.*[^;]$|$def$2\($" "$1"
}

# The body of function NAME in FILE, from its signature to its closing }.
body_of() {
	awk -v re="$def$2\\\\(" '
	!s && $0 ~ re && !/;$/ { s = 1 }
	s { print }
	s && /^}$/ { exit }' "$1"
}

# The names the stub of NAME in FILE must still use, so that the untouched
# skeleton builds without a warning: the file's static functions and
# variables that NAME's body uses, and the table's keep column ($3). One
# awk, as it runs for every lesson of every stage.
static_uses() {
	awk -v re="$def$2\\\\(" -v name="$2" -v keep="$3" '
	# Up to its signature (a later name would be undeclared): the static
	# functions and variables, by the name before the first "(", "[",
	# "=" or ";" of their line.
	!at && match($0, /^static [^(=;]*[ *][A-Za-z_][A-Za-z0-9_]* *(\(|\[|=|;)/) {
		n = substr($0, 1, RLENGTH)
		sub(/ *(\(|\[|=|;)$/, "", n)
		sub(/.*[ *]/, "", n)
		if (n != name)
			statics[n] = 1
	}
	!at && $0 ~ re && !/;$/ { at = 1; next }
	# Its body, comments left out, up to its closing brace: each word that
	# names one of them, in the order of first use.
	at == 1 {
		if ($0 ~ /^}$/)
			at = 2
		line = $0
		gsub(/\/\*.*\*\//, "", line)
		if (line ~ /^[[:space:]]*(\/\*|\*)/)
			next
		while (match(line, /[A-Za-z0-9_]+/)) {
			w = substr(line, RSTART, RLENGTH)
			line = substr(line, RSTART + RLENGTH)
			if ((w in statics) && !(w in used)) {
				used[w] = 1
				out = out " " w
			}
		}
	}
	END {
		n = keep == "-" ? 0 : split(keep, k, " ")
		for (i = 1; i <= n; i++)
			if (!(k[i] in used)) {
				used[k[i]] = 1
				out = out " " k[i]
			}
		print out == "" ? "-" : substr(out, 2)
	}' "$1"
}

# Stub the function on stdin: stub NAME KEEP TODOS, where TODOS holds
# one "stage<US>text" per TODO comment, separated by <RS> (the first is the
# function's own lesson, which the "not implemented" line names). Exits 3
# when the function is not found exactly once.
stub() {
	awk -v re="$def$1\\\\(" -v name="$1" -v keep="$2" -v todos="$3" '
	# A TODO comment, wrapped to fit 80 columns with a tab before it.
	function comment(at, text,   n, w, i, line, out) {
		n = split(text, w, " ")
		line = "\t/* TODO (stage " at "):"
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
	function uses(sig,   inner, n, p, i, out, name) {
		inner = substr(sig, index(sig, "(") + 1)
		sub(/\)[^)]*$/, "", inner)
		n = split(inner, p, ",")
		for (i = 1; i <= n; i++) {
			gsub(/\[[^]]*\]/, "", p[i])
			# A function pointer, int (*fn)(void *): its name.
			if (match(p[i], /\(\*[ \t]*[A-Za-z_][A-Za-z0-9_]*/)) {
				name = substr(p[i], RSTART + 2, RLENGTH - 2)
				gsub(/[ \t]/, "", name)
				out = out "\t(void)" name ";\n"
				continue
			}
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
	state == 0 && $0 ~ re && !/;$/ {
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
		n = split(todos, t, "\036")
		for (i = 1; i <= n; i++) {
			split(t[i], f, "\037")
			if (i == 1)
				lesson = f[1]
			print comment(f[1], f[2])
		}
		printf "%s", uses(sig)
		printf "\tdie(\"not implemented: %s() (see TUTORIAL.md, stage %s)\");\n", name, lesson
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

# Stub, in FILE of stage N's directory (main.c or a lesson file), every
# lesson the table puts in a file of that name at stage N or before: a
# lesson of an earlier stage only where the file still has the function
# (a lesson file exists in its own stage's directory alone, unless a later
# stage keeps a copy of its own). A row of stage N itself must be found.
stub_file() {
	local n=$1 file=$2 main=$3 stage kind name at keep todo
	local -A todo_of=() keep_of=() at_of=() flag_in=()
	local order=()
	while IFS=$'\t' read -r stage kind name at keep todo; do
		[[ $stage =~ ^[0-9]+$ ]] || die "$table: bad stage '$stage' in: $stage $kind $name"
		[ "$stage" -le "$n" ] && [ "$at" = "$file" ] || continue
		case $kind in
		function)
			if ! defines "$main" "$name"; then
				# An earlier lesson the stage no longer has.
				[ "$stage" -lt "$n" ] && continue
				die "$table: stage $n: function $name not found in ${main#"$dest"/}"
			fi
			[ -n "${todo_of[$name]+x}" ] || order+=("$name")
			todo_of[$name]=$todo keep_of[$name]=$keep at_of[$name]=$stage
			;;
		flag) flag_in[$name]=$stage$'\037'$todo ;;
		*) die "$table: stage $n: unknown kind '$kind'" ;;
		esac
	done <<<"$rows"
	[ "${#order[@]}" -gt 0 ] || [ "${#flag_in[@]}" -eq 0 ] ||
		die "$table: stage $n: a flag but no function to put it in, in ${main#"$dest"/}"

	# Each flag goes with the stubbed function whose body sets it.
	local -A extra=()
	local flag f placed
	for flag in "${!flag_in[@]}"; do
		placed=
		for f in "${order[@]}"; do
			if body_of "$main" "$f" | grep -Eq "^[^/*]*[ |]$flag([ ;|]|$)"; then
				extra[$f]+=$'\036'${flag_in[$flag]%%$'\037'*}$'\037'"${flag_in[$flag]#*$'\037'}"
				placed=1
				break
			fi
		done
		[ -n "$placed" ] ||
			die "$table: stage $n: flag $flag is not set in a stubbed function of ${main#"$dest"/}"
	done
	for f in "${order[@]}"; do
		# Earlier stages' flags first, as the lines read best in order.
		local todos=${at_of[$f]}$'\037'${todo_of[$f]}
		if [ -n "${extra[$f]:-}" ]; then
			todos+=$(tr '\036' '\n' <<<"${extra[$f]}" | sed '/^$/d' | sort -n |
				awk '{ printf "\036%s", $0 }')
		fi
		local keep
		keep=$(static_uses "$main" "$f" "${keep_of[$f]}")
		stub "$f" "$keep" "$todos" <"$main" >"$main.stub" || {
			rm -f "$main.stub"
			die "$table: stage $n: function $f not found once in ${main#"$dest"/}"
		}
		mv "$main.stub" "$main"
	done
}

# The files the table names (main.c, limits.c, ...).
lesson_files=$(awk -F '\t' '{ print $4 }' <<<"$rows" | sort -u)
# A directory without its main.c (a lesson ahead of its spine) is not a
# stage yet.
stage_dirs=()
for sdir in "$dest"/stages/[0-9][0-9]-*/; do
	[ -f "$sdir/main.c" ] && stage_dirs+=("$sdir")
done
for sdir in "${stage_dirs[@]}"; do
	sdir=${sdir%/}
	n=$(basename "$sdir")
	n=$((10#${n%%-*}))
	# Each row's file in its own stage: a table that names a file the
	# stage lacks is out of date.
	while IFS=$'\t' read -r stage _ name at _; do
		if [ "$stage" = "$n" ] && [ ! -f "$sdir/$at" ]; then
			die "$table: stage $n: $name: no file ${sdir#"$dest"/}/$at"
		fi
	done <<<"$rows"
	for file in $lesson_files; do
		[ ! -f "$sdir/$file" ] || stub_file "$n" "$file" "$sdir/$file"
	done
	# Every stage teaches something: a stage with no row is missing one.
	awk -F '\t' -v n="$n" '$1 == n { found = 1 } END { exit !found }' <<<"$rows" ||
		die "$table: no lesson listed for stage $n"
done

# Where each stage's lessons are, as "N<TAB>`stages/NN-slug/file`" lines
# (" and " between two files): the docs say where to write.
where=$(for sdir in "${stage_dirs[@]}"; do
	sdir=${sdir%/}
	n=$(basename "$sdir")
	n=$((10#${n%%-*}))
	awk -F '\t' -v n="$n" -v dir="${sdir#"$dest"/}" '$1 == n && !seen[$4]++ {
		# The lesson file first, then main.c.
		f = "`" dir "/" $4 "`"
		w = $4 == "main.c" ? (w ? w " and " f : f) : (w ? f " and " w : f)
	}
	END { if (w) print n "\t" w }' <<<"$rows"
done)

# The functions the lessons name: their code stays out of the docs.
lesson_functions=$(awk -F '\t' '$2 == "function" { print $3 }' <<<"$rows" | sort -u | tr '\n' ' ')

# The TODO list of stage N, as markdown bullets; a <placeholder> in a TODO
# goes in backquotes, or it would read as an HTML tag there.
todo_list() {
	awk -F '\t' -v n="$1" '$1 == n {
		name = $2 == "function" ? $3 "()" : $3
		todo = $6
		gsub(/<[^<> ]+>/, "`&`", todo)
		printf "- `%s`: %s.\n", name, todo
	}' <<<"$rows"
}

# The learner's version of the doc on stdin, for stage $1 (0: the
# tutorial, whose stage is the chapter's). Generated blocks lose their
# markers; a diff or a lesson's function gives way to a line saying it is
# left out (the text that introduced it stays); "The code" sections (or "The
# function(s) this stage adds", "The change this stage makes") become
# "What to write" with the stage's TODOs.
student_doc() {
	local n=$1 todos='' s
	for s in $(awk -F '\t' '{ print $1 }' <<<"$rows" | sort -un); do
		todos+=$(todo_list "$s" | sed "s/^/$s\t/")$'\n'
	done
	awk -v fixed="$n" -v lessons=" $lesson_functions" -v todos="$todos" \
		-v where="$where" '
	BEGIN {
		n = split(todos, t, "\n")
		for (i = 1; i <= n; i++) {
			if (t[i] == "")
				continue
			s = substr(t[i], 1, index(t[i], "\t") - 1)
			list[s] = list[s] substr(t[i], index(t[i], "\t") + 1) "\n"
		}
		n = split(where, t, "\n")
		for (i = 1; i <= n; i++) {
			split(t[i], f, "\t")
			files[f[1]] = f[2]
		}
		stage = fixed
	}
	function emit(line) { out[++o] = line }
	!fixed && /^## Stage [0-9]+:/ { stage = $3 + 0 }
	/^<!-- (diff|function) / {
		split($0, w, " ")
		# What introduced it still reads right: a line takes its place.
		if (w[2] == "diff") {
			emit("> Left out of the student edition: it would show the answers. Your own")
			emit("> change is what `git diff` shows.")
			skip = 1
		} else if (index(lessons, " " w[4] " ")) {
			emit("> `" w[4] "()`: left out of the student edition; you write it (see its TODO).")
			skip = 1
		}
		next
	}
	/^<!-- (session|end) -->$/ { skip = 0; next }
	skip { next }
	/^##+ The (code|function|functions|change)( |$)/ && stage {
		sub(/ The .*/, " What to write")
		emit($0)
		emit("")
		emit("In " files[stage] " each `TODO (stage " stage ")` comment says what")
		emit("to write, and a stub that dies with `not implemented` marks the place:")
		emit("")
		k = split(list[stage], l, "\n")
		for (i = 1; i < k; i++)
			emit(l[i])
		emit("")
		if (stage >= 9) {
			emit("The lessons of stages 1-8 are stubs in the `main.c` of this stage too, with")
			emit("their own TODOs: `make carry-" stage "` brings your code over from your")
			emit("stage " stage - 1 " (see README.md).")
			if (stage > 9) {
				emit("The lessons of " (stage > 10 ? "stages 9 to " : "stage ") stage - 1 " are not here: this stage builds with")
				emit("your own files of " (stage > 10 ? "those stages" : "stage 9") ", as they are.")
			}
		} else if (stage > 1) {
			emit("The lessons of the stages before are stubs here too, with their own")
			emit("TODOs: `make carry-" stage "` brings your code over from your stage " stage - 1)
			emit("(see README.md).")
		} else
			emit("Each TODO names every message the tests look for.")
		emit("")
		next
	}
	{ emit($0) }
	END {
		# No two blank lines in a row where a block went.
		for (i = 1; i <= o; i++) {
			if (out[i] == "" && prev == "")
				continue
			print out[i]
			prev = out[i]
		}
	}'
}

# The tutorial, with a note under its title on what this edition leaves out.
student_doc 0 <"$dest/TUTORIAL.md" | awk '
	{ print }
	NR == 1 {
		print ""
		print "> This is the student edition, made by `make student`: the diffs and"
		print "> the code of the lessons are left out (a line says where), and each"
		print "> chapter says what to write. The terminal sessions show what a"
		print "> finished stage prints. They were recorded with the reference, so"
		print "> `make tutorial` and `make check-tutorial` are not for this edition."
	}' >"$dest/TUTORIAL.md.new" && mv "$dest/TUTORIAL.md.new" "$dest/TUTORIAL.md"
for sdir in "${stage_dirs[@]}"; do
	n=$(basename "$sdir")
	n=$((10#${n%%-*}))
	[ -f "$sdir/README.md" ] || continue
	student_doc "$n" <"$sdir/README.md" >"$sdir/README.md.new"
	mv "$sdir/README.md.new" "$sdir/README.md"
done

# A half-done stage must build: warnings stay warnings here.
sed -i 's/^\(override CFLAGS += .*\) -Werror /\1 /' "$dest/Makefile"
! grep -q -- '-Werror' "$dest/Makefile" ||
	die "cannot take -Werror out of the skeleton's Makefile"

# The learner's README.
{
	last=$(basename "${stage_dirs[-1]}")
	last=$((10#${last%%-*}))
	cat <<EOF
# minidocker, the student edition

You build a container runtime in C, one Linux mechanism at a time, in
$last stages. Stages 1 to 8 are whole programs: \`stages/NN-slug/main.c\` is
stage N. From stage 9 on, a stage is its spine, \`main.c\` (the options,
the checklist in \`child_main()\`, \`run_container()\`), plus its lesson in
a file of its own (\`stages/09-limits/limits.c\`, ...); \`stages/NN-slug/stage.mk\`
lists what it is built from. Read [TUTORIAL.md](TUTORIAL.md) chapter by
chapter; each stage's \`README.md\` is its checklist.

In this edition the lessons are taken out: where a lesson goes, a
\`TODO (stage N)\` comment says what to write, and a stub that dies with
\`stage-N: not implemented: name() (see TUTORIAL.md, stage M)\` marks the
place. Everything else (the argument parser, the helpers in \`common/\`, the
tests) is given.

## Where a lesson is stubbed, and what you bring over

Stages 1 to 8 are programs of their own: stage N's \`main.c\` has every
lesson of stages 1 to N stubbed, not only its own, since a stage is a copy
of the one before plus one mechanism and would otherwise hold the answers
to all earlier stages. The spines of stages 9 on still hold those
functions, so they are stubbed there too. This edition was made that way
on purpose (rather than each stage starting from your own previous one) so
that every stage builds and is graded on its own, and a mistake carried
over shows in the stage it belongs to. When you start stage N,
\`make carry-N\` copies your finished functions from stage N-1's \`main.c\`
into the stubs of stage N's \`main.c\` (it keeps the TODOs marked with
stage N on top of them); then do what those TODOs say: some say what
changes (for example one more flag for \`clone()\` in \`start_child()\`).

A lesson of stage 9 on is stubbed once, in its own file: stage 10 builds
with your \`stages/09-limits/limits.c\` as it is, and so does every later
stage. There is nothing to carry for those: fix a mistake in stage 9's
file and every later stage has the fix.

## What you do, stage by stage

Once (Debian or Ubuntu, with sudo):

    sudo apt-get install -y make
    make doctor                 # can this machine run the stages? what to fix
    sudo ./rootfs-fetch.sh      # a busybox root filesystem in ./rootfs

For stage N (1 to $last; NN is its number in two digits, 01 to $(printf %02d "$last")):

    make carry-N                # (from stage 2 on) your stage N-1 into stage N's stubs
    \$EDITOR stages/NN-*/*.c     # fill in every stub, as its TODO says
    make stage-N                # build build/stage-N; warnings are shown, not fatal
    sudo make test-stage-N      # suites 1..N against your stage N
    git diff                    # your work so far
    git commit -am "stage N"    # keep what passes

A failing test names the check; a run that dies in a stub says which
function is still missing. (\`make prove-N\`, which shows that stage N's
tests fail on stage N-1, is for the reference and does not build here:
some of its proofs run on fixtures made by taking a lesson out of the
reference's code, which this edition does not have. The chapters and the
stage READMEs show it run on the reference; your check is
\`sudo make test-stage-N\`.) \`sudo make grade\` scores every stage (a table,
and \`build/grade/summary.json\`); \`sudo make grade-stage-N\` one stage.

\`make run\` and \`make test\` are for the finished runtime: \`make run\`
needs stage $last complete, and \`make test\` also checks the tutorial
against the reference, so neither can pass while any stage is a stub.

If a broken stage left something behind (a mount under
\`build/test-rootfs\`, a cgroup of a runtime that died), \`make doctor\`
lists it and says how to remove it; \`make clean\` unmounts what is under
\`build/\` before it deletes it.

## The stages

| stage | in | what you write |
|-------|----|----------------|
EOF
	awk -F '\t' '{ w[$1] = w[$1] (w[$1] ? ", " : "") "`" $3 ($2 == "function" ? "()" : "") "`" }
		END { for (s in w) print s "\t" w[s] }' <<<"$rows" | sort -n |
		while IFS=$'\t' read -r s what; do
			printf '| %s | %s | %s |\n' "$s" "$(awk -F '\t' -v n="$s" '$1 == n { print $2 }' <<<"$where")" "$what"
		done
} >"$dest/README.md"

# A repository of its own with one commit: git diff shows the work.
git -C "$dest" -c init.defaultBranch=main init -q &&
	git -C "$dest" add -A &&
	git -C "$dest" -c user.name="minidocker" -c user.email="minidocker@localhost" \
		commit -q -m "minidocker, the student edition" ||
	die "cannot make a git repository in '$dest'"
echo "student edition in $dest: read $dest/README.md; build it with make -C $dest all; grade it with sudo make -C $dest grade"
