#!/usr/bin/env bash
# Tests for make student that need no root: what the student edition holds.
#   - no lesson's reference body, and no line of one, appears anywhere in it
#     (its files and its `make diff-N`; comments stripped, whitespace
#     ignored), and no clone() flag a lesson takes out is set;
#   - it builds without a warning as made, and a half-done stage (a call
#     left out) still builds, with the warning shown; the reference keeps
#     -Werror;
#   - it differs from the reference only in the lessons: each stage's stubs
#     filled with the reference's bodies give its main.c back exactly;
#   - every stub says what to write, and each TODO in tools/lessons.tsv
#     names the verbose() lines and the report_errno()/die_errno() calls
#     of the reference, which the tests and the checklists look for;
#   - make carry-N brings the learner's stage N-1 into stage N's stubs;
#   - its docs hold no diff and no lesson's code, and say what to write;
#     its README says what a learner runs; it is a git repository with one
#     commit and nothing uncommitted after a build.
set -u
cd "$(dirname -- "$0")/../.." || exit 1
# shellcheck source=tests/classroom/lib.sh
. tests/classroom/lib.sh

make_cmd=${MAKE:-make}
build=${BUILD:-build}
table=tools/lessons.tsv
mkdir -p "$build" || exit 1
T=$(mktemp -d "$(realpath -- "$build")/skeleton.XXXXXX") || exit 1
trap 'rm -rf --one-file-system -- "$T"' EXIT
skel=$T/skeleton
rows=$(grep -v '^#' "$table" | grep -v '^$')

rc=0
err=$(tools/student.sh "$skel" 2>&1 >/dev/null) || rc=$?
check "make student makes the student edition" "status $rc: $err" test "$rc" -eq 0
[ "$rc" -eq 0 ] || {
	summary
	exit 1
}

# The body of function $2 in file $1, without its first line.
body_of() {
	awk -v name="$2" '
	!s && $0 ~ ("^static .*[ *]" name "\\(") && !/;$/ { s = 1; next }
	s { print }
	s && /^}$/ { exit }' "$1"
}

# Stdin with C comments taken out and each line's whitespace removed;
# diff markers (+/- at the start of a line) go too, so that a diff or a
# markdown excerpt reads as the code it shows.
normal() {
	awk '{
		line = $0; out = ""
		while (line != "") {
			if (inside) {
				e = index(line, "*/")
				if (!e) { line = ""; break }
				line = substr(line, e + 2); inside = 0
			} else {
				b = index(line, "/*")
				if (!b) { out = out line; break }
				out = out substr(line, 1, b - 1)
				line = substr(line, b + 2); inside = 1
			}
		}
		sub(/^[+-]/, "", out)
		gsub(/[ \t]/, "", out)
		sub(/^[+-]/, "", out)
		if (out != "")
			print out
	}'
}

# Every stage of the reference: its number and main.c.
stage_files=()
for f in stages/[0-9][0-9]-*/main.c; do stage_files+=("$f"); done
stage_no() {
	local d=${1#stages/}
	echo $((10#${d%%-*}))
}

# The lessons each stage of the reference has: "function" rows of its
# stage or before, for functions it defines.
lessons_of() { # stage file
	awk -F '\t' -v n="$1" '$2 == "function" && $1 <= n { print $3 }' <<<"$rows" |
		sort -u | while read -r f; do
		grep -Eq "^static .*[ *]$f\(" "$2" && echo "$f"
	done
}

# The skeleton as one text: every file but .git's, and every make diff-N.
corpus=$T/corpus
(cd "$skel" && git ls-files -z | xargs -0 cat) | normal >"$corpus.lines"
for f in "${stage_files[@]}"; do
	n=$(stage_no "$f")
	[ "$n" -gt 1 ] || continue
	"$make_cmd" -s -C "$skel" --no-print-directory "diff-$n" 2>&1 | normal >>"$corpus.lines"
done
tr -d '\n' <"$corpus.lines" >"$corpus.flat"

# What is not a lesson in the reference (main.c files with the lesson
# bodies taken out, common/, tests/): its lines are allowed anywhere.
for f in "${stage_files[@]}"; do
	n=$(stage_no "$f")
	names=$(lessons_of "$n" "$f" | paste -sd '|')
	awk -v re="^static .*[ *](${names:-NONE})\\\\(" '
	!s && $0 ~ re && !/;$/ { s = 1; print; next }
	s && /^}$/ { s = 0 }
	!s { print }' "$f"
done | cat - common/*.[ch] tests/*.[ch] | normal | sort -u >"$T/given"

awk -F '\t' '{ print $5 }' <<<"$rows" | normal >"$T/todos"
cat "${stage_files[@]}" | normal | tr -d '\n' >"$T/reference.flat"
leaked_bodies='' leaked_lines='' n_bodies=0 unfound=
for f in "${stage_files[@]}"; do
	n=$(stage_no "$f")
	for fn in $(lessons_of "$n" "$f"); do
		n_bodies=$((n_bodies + 1))
		body=$(body_of "$f" "$fn" | normal | tr -d '\n')
		if grep -qF -- "$body" "$corpus.flat"; then
			leaked_bodies+=" $fn($n)"
		fi
		# The same search finds it in the reference: it can fail.
		grep -qF -- "$body" "$T/reference.flat" || unfound+=" $fn($n)"
		# Its distinctive lines: long enough to mean something, and not
		# also in the code the skeleton gives.
		while IFS= read -r line; do
			[ "${#line}" -ge 16 ] || continue
			# In (or part of) a line the skeleton gives, it tells nothing.
			grep -qF -- "$line" "$T/given" && continue
			# A TODO may name a line on purpose (a verbose() call).
			grep -qF -- "$line" "$T/todos" && continue
			grep -qF -- "$line" "$corpus.lines" && leaked_lines+=" $fn($n): $line"
		done < <(body_of "$f" "$fn" | normal)
	done
done
check "the search for lessons' bodies finds each in the reference" "not found:$unfound" test -z "$unfound"
check "the lessons' bodies ($n_bodies, over every stage) appear nowhere in the student edition" \
	"found:$leaked_bodies" test -z "$leaked_bodies"
check "no line of a lesson's body appears in the student edition or its make diff-N" \
	"found:$leaked_lines" test -z "$leaked_lines"

# The flags a lesson takes out: set in no stage of the skeleton.
leaked_flags=''
while IFS=$'\t' read -r stage kind name _; do
	[ "$kind" = flag ] || continue
	for f in "$skel"/stages/[0-9][0-9]-*/main.c; do
		n=$(stage_no "${f#"$skel"/}")
		[ "$n" -ge "$stage" ] || continue
		# In the statement that sets clone()'s flags: a later stage may
		# name the flag elsewhere (stage 10's seccomp rules refuse it).
		normal <"$f" | awk '/^intflags=/ { s = 1 } s { print } s && /;/ { s = 0 }' |
			grep -qw -- "$name" && leaked_flags+=" $name(stage $n)"
	done
done <<<"$rows"
check "no clone() flag of a lesson is set in the skeleton" "found:$leaked_flags" test -z "$leaked_flags"

# It builds as made, without a warning.
"$make_cmd" -C "$skel" --no-print-directory all tests >"$T/build.log" 2>&1
rc=$?
check "the student edition builds" "status $rc, see $T/build.log: $(grep -m 1 error: "$T/build.log")" test "$rc" -eq 0
check "the student edition builds without a warning as made" "$(grep -m 3 warning: "$T/build.log")" \
	eval '! grep -q warning: "$T/build.log"'
check "a build leaves git status clean (build/ is ignored)" "$(git -C "$skel" status --porcelain | head -n 3)" \
	test -z "$(git -C "$skel" status --porcelain)"
check "the student edition is a git repository with one commit" \
	"$(git -C "$skel" log --oneline 2>&1 | head -n 3)" \
	test "$(git -C "$skel" rev-list --count HEAD 2>/dev/null)" = 1

# A half-done stage: stage 5 finished but for its call of
# make_mounts_private(). It builds, with the warning; the reference would
# not (it keeps -Werror).
cp stages/05-*/main.c "$skel"/stages/05-*/main.c
sed -i '/^\tmake_mounts_private();$/s/^/\/\/ /' "$skel"/stages/05-*/main.c
out=$(LC_ALL=C "$make_cmd" -C "$skel" --no-print-directory stage-5 2>&1)
rc=$?
check "a half-done stage builds (a call commented out)" "status $rc: $(grep -m 1 error: <<<"$out")" test "$rc" -eq 0
check "a half-done stage: the warning is shown" "got: $out" grep -q "'make_mounts_private' defined but not used" <<<"$out"
check "the reference keeps -Werror" "its Makefile: $(grep -m 1 'override CFLAGS' Makefile)" \
	grep -q '^override CFLAGS += .*-Werror' Makefile
git -C "$skel" checkout -q -- stages

# Every stub has its TODOs, and each lesson of stage N has a TODO (stage N)
# in stage N.
for f in "$skel"/stages/[0-9][0-9]-*/main.c; do
	n=$(stage_no "${f#"$skel"/}")
	bad=$(awk '/^\tdie\("not implemented: / && prev !~ /TODO|\*\/$|\(void\)/ { print FNR }
		{ prev = $0 }' "$f")
	missing=''
	while IFS=$'\t' read -r stage kind name _; do
		[ "$stage" = "$n" ] || continue
		grep -q "TODO (stage $n)" "$f" || missing+=" $name"
	done <<<"$rows"
	want=$(awk -F '\t' -v n="$n" '$1 == n' <<<"$rows" | wc -l)
	got=$(grep -c "TODO (stage $n)" "$f")
	check "stage $n: a TODO (stage $n) for each of its $want lessons" "$got TODOs:$missing" test "$got" -eq "$want"
	check "stage $n: every stub has a TODO above it" "stubs at lines $bad" test -z "$bad"
done

# Filling every stub of a stage with the reference's body gives back the
# reference's main.c exactly: the edition changed nothing but the lessons.
for f in "${stage_files[@]}"; do
	n=$(stage_no "$f")
	sk=$skel/$f
	awk '
	# Pass 1, the reference: each function body by the name on its line.
	FNR == NR {
		if (!s && /^static .*[ *][A-Za-z_0-9]+\(/ && !/;$/) {
			name = $0
			sub(/\(.*/, "", name)
			sub(/.*[ *]/, "", name)
			s = 1
		}
		if (s && $0 == "{") { b = 1; body[name] = ""; next }
		if (b && $0 == "}") { b = 0; s = 0; next }
		if (b) body[name] = body[name] $0 "\n"
		next
	}
	# Pass 2, the skeleton: a stub body gives way to the reference one.
	!s && /^static .*[ *][A-Za-z_0-9]+\(/ && !/;$/ {
		name = $0
		sub(/\(.*/, "", name)
		sub(/.*[ *]/, "", name)
		s = 1
	}
	s && $0 == "{" { print; b = 1; held = ""; next }
	b && $0 == "}" {
		printf "%s", (held ~ /die\("not implemented: / ? body[name] : held)
		print; b = 0; s = 0; next
	}
	b { held = held $0 "\n"; next }
	{ print }' "$f" "$sk" >"$T/filled.c"
	check "stage $n: its stubs filled from the reference give the reference back" \
		"$(diff "$f" "$T/filled.c" | head -n 6)" cmp -s "$f" "$T/filled.c"
done

# Refused: a destination inside the repository that git does not ignore.
err=$(tools/student.sh stages/student-edition 2>&1 >/dev/null)
check "make student refuses a directory inside the repository" "got: $err" \
	eval 'grep -q "is inside this repository" <<<"$err" && [ ! -e stages/student-edition ]'

# Each TODO names what the reference's body prints and reports with: the
# verbose() lines (the checklists grep for them), report_errno() and
# die_errno() (errno failures), report() (messages of its own).
unnamed=''
for f in "${stage_files[@]}"; do
	n=$(stage_no "$f")
	for fn in $(lessons_of "$n" "$f"); do
		todo=$(awk -F '\t' -v n="$n" -v fn="$fn" '$2 == "function" && $3 == fn && $1 <= n { t = $5 } END { print t }' <<<"$rows")
		b=$(body_of "$f" "$fn")
		while IFS= read -r fmt; do
			[ -z "$fmt" ] || grep -qF -- "verbose($fmt" <<<"$todo" || unnamed+=" $fn($n): verbose($fmt...)"
		done < <(grep -o 'verbose("[^"]*"' <<<"$b" | sed 's/^verbose(//')
		for call in report_errno die_errno report die_status; do
			grep -q "\b$call(" <<<"$b" || continue
			grep -Eq "\b$call\(" <<<"$todo" || unnamed+=" $fn($n): $call()"
		done
	done
done
check "each TODO names the verbose() lines and error calls of its reference" "missing:$unnamed" test -z "$unnamed"

# make carry-N: stage 2 done (from the reference), carried into stage 3.
# What stage 3 keeps from stage 2 arrives as written; start_child() keeps
# its TODO (stage 3) on top; doing that TODO gives stage 3's reference.
cp stages/02-*/main.c "$skel"/stages/02-*/main.c
out=$("$make_cmd" -s -C "$skel" --no-print-directory carry-3 2>&1)
rc=$?
s3=$(ls "$skel"/stages/03-*/main.c)
r3=$(ls stages/03-*/main.c)
check "carry-3 carries the functions stage 2 wrote" "status $rc: $out" \
	grep -q 'carried into .* setup_uts() exec_command() start_child()' <<<"$out"
for fn in setup_uts exec_command; do
	check "carry-3: $fn() arrives as the reference's stage 3 has it" \
		"$(diff <(body_of "$r3" "$fn") <(body_of "$s3" "$fn") | head -n 4)" \
		eval '[ "$(body_of "$r3" "$fn" | normal)" = "$(body_of "$s3" "$fn" | normal)" ]'
done
check "carry-3: start_child() keeps its TODO (stage 3), and no older one" "$(body_of "$s3" start_child | head -n 4)" \
	eval 'body_of "$s3" start_child | grep -q "TODO (stage 3)" && ! body_of "$s3" start_child | grep -q "TODO (stage [12])\|not implemented"'
# The TODO done as the reference does it: its flags line.
flags=$(grep -m 1 '^.int flags = ' "$r3")
awk -v line="$flags" '/^.int flags = / { print line; next } { print }' "$s3" >"$T/s3.c" && cat "$T/s3.c" >"$s3"
check "carry-3, then its TODO done: start_child() is stage 3's reference" \
	"$(diff <(body_of "$r3" start_child | normal) <(body_of "$s3" start_child | normal) | head -n 4)" \
	eval '[ "$(body_of "$r3" start_child | normal)" = "$(body_of "$s3" start_child | normal)" ]'
out=$("$make_cmd" -C "$skel" --no-print-directory stage-3 2>&1)
check "carry-3, then its TODO done: stage 3 builds" "$(grep -m 2 'error:\|warning:' <<<"$out")" \
	eval '! grep -q "error:\|warning:" <<<"$out"'
git -C "$skel" checkout -q -- stages

# The docs: no diff, no lesson's code, a "What to write" for each stage.
docs=("$skel"/TUTORIAL.md "$skel"/stages/*/README.md)
check "the docs hold no diff block" "$(grep -l '```diff' "${docs[@]}")" eval '! grep -q "^\`\`\`diff" "${docs[@]}"'
check "the docs hold no generator marker" "$(grep -l '<!-- \(diff\|function\|session\)' "${docs[@]}")" \
	eval '! grep -q "^<!-- \(diff\|function\|session\)" "${docs[@]}"'
check "the docs have no 'The code' or 'The function this stage adds'" \
	"$(grep -n '^##* The \(code\|function\|change\)' "${docs[@]}")" \
	eval '! grep -q "^##* The \(code\|function\|change\)" "${docs[@]}"'
for f in "$skel"/stages/[0-9][0-9]-*/README.md; do
	n=$(stage_no "${f#"$skel"/}")
	names=$(awk -F '\t' -v n="$n" '$1 == n { print $3 }' <<<"$rows")
	miss=''
	for name in $names; do
		awk '/^## What to write/ { s = 1; next } /^## / { s = 0 } s' "$f" | grep -qF "\`$name" || miss+=" $name"
	done
	check "stage $n's README says what to write" "missing:$miss" eval '[ -z "$miss" ] && grep -q "^## What to write" "$f"'
done
tut_sections=$(grep -c '^### What to write' "$skel/TUTORIAL.md")
check "each TUTORIAL chapter has a 'What to write'" "$tut_sections of ${#stage_files[@]}" test "$tut_sections" -eq "${#stage_files[@]}"

# The README: what a learner runs.
readme=$skel/README.md
for want in 'make carry-N' 'make stage-N' 'sudo make test-stage-N' 'git diff' 'make doctor' 'sudo make grade'; do
	check "the student README names '$want'" "not in $readme" grep -qF -- "$want" "$readme"
done
check "the student README explains the stubs of earlier stages" "not in $readme" \
	grep -q '^## Each stage is a program of its own' "$readme"
check "the student README says make run and make test cannot pass there" "not in $readme" \
	grep -q 'neither can pass' "$readme"

summary
