#!/usr/bin/env bash
# Tests for make student that need no root: what the student edition holds.
#   - no lesson's reference body, and no line of one, appears anywhere in it
#     (its files and its `make diff-N`; comments stripped, whitespace
#     ignored), and no clone() flag a lesson takes out is set;
#   - it builds without a warning as made, and a half-done stage (a call
#     left out) still builds, with the warning shown; the reference keeps
#     -Werror;
#   - it differs from the reference only in the lessons: the stubs of every
#     file (main.c and the lesson files) filled with the reference's bodies
#     give the reference back byte for byte, and every other file but the
#     docs and the Makefile's -Werror is the reference's;
#   - every stub says what to write, and each TODO in tools/lessons.tsv
#     names the verbose() lines and the report_errno()/die_errno() calls
#     of the reference, which the tests and the checklists look for;
#   - make carry-N brings the learner's stage N-1 into stage N's stubs, and
#     from stage 10 says it has nothing to carry of a lesson file;
#   - a lesson of stage 9 on is stubbed once, in its file, and a later
#     stage builds with the learner's file: stage 9's limits.c filled, the
#     stage 12 binary has no stub of stage 9 left, and still the others;
#   - its docs hold no diff and no lesson's code, and say what to write;
#     its README says what a learner runs; it is a git repository with one
#     commit and nothing uncommitted after a build.
# With CLASSROOM_EDITION=DIR (a path that does not exist yet) the edition
# is made there and kept, built and as made, for student_test.sh, which
# then grades it instead of making and building another.
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
skel=${CLASSROOM_EDITION:-$T/skeleton}
rows=$(grep -v '^#' "$table" | grep -v '^$')

rc=0
err=$(tools/student.sh "$skel" 2>&1 >/dev/null) || rc=$?
check "make student makes the student edition" "status $rc: $err" test "$rc" -eq 0
[ "$rc" -eq 0 ] || {
	summary
	exit 1
}

# The start of a function's definition at the top level: a static
# function of main.c, or a lesson file's function (not static).
def='^[A-Za-z_].*[ *]'

# The body of function $2 in file $1, without its first line.
body_of() {
	awk -v re="$def$2\\\\(" '
	!s && $0 ~ re && !/;$/ { s = 1; next }
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

# Every C file of the reference's stages, where lessons live: each
# stage's main.c and, from stage 9, its lesson file.
# A directory without its main.c (a lesson ahead of its spine, as
# stages/14-net) is not a stage yet, here as for make all and student.sh.
stage_files=()
n_stages=0
for d in stages/[0-9][0-9]-*/; do
	[ -f "$d/main.c" ] || continue
	n_stages=$((n_stages + 1))
	for f in "$d"*.c; do stage_files+=("$f"); done
done
stage_no() {
	local d=${1#stages/}
	echo $((10#${d%%-*}))
}

# The lessons a file of the reference has: "function" rows of its stage
# or before that the table puts in a file of that name, for functions it
# defines.
lessons_of() { # stage file
	awk -F '\t' -v n="$1" -v file="$(basename "$2")" \
		'$2 == "function" && $1 <= n && $4 == file { print $3 }' <<<"$rows" |
		sort -u | while read -r f; do
		grep -Eq "$def$f\\(" "$2" && echo "$f"
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
	awk -v re="$def(${names:-NONE})\\\\(" '
	!s && $0 ~ re && !/;$/ { s = 1; print; next }
	s && /^}$/ { s = 0 }
	!s { print }' "$f"
done | cat - common/*.[ch] common/*/*.[ch] tests/*.[ch] tests/*/*.[ch] \
	stages/*/*.h | normal | sort -u >"$T/given"

awk -F '\t' '{ print $6 }' <<<"$rows" | normal >"$T/todos"
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
		# Its distinctive lines, long enough to mean something, as
		# "name(stage)<TAB>line", searched for below.
		while IFS= read -r line; do
			[ "${#line}" -ge 16 ] || continue
			printf '%s\t%s\n' "$fn($n)" "$line"
		# The signature (up to its "{") stays in the stub.
		done < <(body_of "$f" "$fn" | sed '1,/^{$/d' | normal) >>"$T/lines"
	done
done
# A distinctive line found in the edition (in a line of it, as grep -F
# finds it), unless it is in (or part of) a line the skeleton gives, which
# tells nothing, or in a TODO, which may name a line on purpose (a
# verbose() call). One awk for every line: each file read whole (RS is no
# character they hold), a line searched for in it as a string.
leaked_lines=$(awk -F '\t' 'BEGIN {
		RS = "\001"
		getline given <ARGV[1]
		getline todos <ARGV[2]
		getline corpus <ARGV[3]
		ARGV[1] = ARGV[2] = ARGV[3] = ""
		RS = "\n"
	}
	{ line = substr($0, index($0, "\t") + 1) }
	index(given, line) || index(todos, line) { next }
	index(corpus, line) { printf " %s: %s", $1, line }' \
	"$T/given" "$T/todos" "$corpus.lines" "$T/lines")
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

# It builds as made, without a warning (on every core).
"$make_cmd" -C "$skel" --no-print-directory -j"$(nproc)" all tests >"$T/build.log" 2>&1
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
# in stage N, in the file the table names.
for d in "$skel"/stages/[0-9][0-9]-*/; do
	[ -f "$d/main.c" ] || continue
	d=${d%/}
	n=$(stage_no "${d#"$skel"/}")
	bad=$(awk '/^\tdie\("not implemented: / && prev !~ /TODO|\*\/$|\(void\)/ { print FILENAME ":" FNR }
		{ prev = $0 }' "$d"/*.c)
	missing=''
	while IFS=$'\t' read -r stage kind name file _; do
		[ "$stage" = "$n" ] || continue
		grep -q "TODO (stage $n)" "$d/$file" 2>/dev/null || missing+=" $name($file)"
	done <<<"$rows"
	want=$(awk -F '\t' -v n="$n" '$1 == n' <<<"$rows" | wc -l)
	got=$(cat "$d"/*.c | grep -c "TODO (stage $n)")
	check "stage $n: a TODO (stage $n) for each of its $want lessons" "$got TODOs:$missing" \
		eval '[ "$got" -eq "$want" ] && [ -z "$missing" ]'
	check "stage $n: every stub has a TODO above it" "stubs at${bad//$skel\// }" test -z "$bad"
done

# fill REFERENCE SKELETON: the skeleton's file with every stub body given
# way to the reference's body of the same function.
fill() {
	awk -v def="$def" '
	# The function whose definition starts on this line, or "".
	function fname(line,   name) {
		if (line !~ (def "[A-Za-z_0-9]+\\(") || line ~ /;$/)
			return ""
		name = line
		sub(/\(.*/, "", name)
		sub(/.*[ *]/, "", name)
		return name
	}
	# Pass 1, the reference: each function body by the name on its line.
	FNR == NR {
		if (!s && (f = fname($0)) != "") { name = f; s = 1 }
		if (s && $0 == "{") { b = 1; body[name] = ""; next }
		if (b && $0 == "}") { b = 0; s = 0; next }
		if (b) body[name] = body[name] $0 "\n"
		next
	}
	# Pass 2, the skeleton: a stub body gives way to the reference one.
	!s && (f = fname($0)) != "" { name = f; s = 1 }
	s && $0 == "{" { print; b = 1; held = ""; next }
	b && $0 == "}" {
		printf "%s", (held ~ /die\("not implemented: / ? body[name] : held)
		print; b = 0; s = 0; next
	}
	b { held = held $0 "\n"; next }
	{ print }' "$1" "$2"
}

# Filling every stub with the reference's body gives back the reference
# exactly, main.c and lesson files alike; every other file is the
# reference's as it is, but the docs the edition rewrites and the
# Makefile's -Werror: the edition changed nothing but the lessons.
n_filled=0 differ=''
for f in "${stage_files[@]}"; do
	fill "$f" "$skel/$f" >"$T/filled.c"
	n_filled=$((n_filled + 1))
	cmp -s "$f" "$T/filled.c" || differ+=" $f: $(diff "$f" "$T/filled.c" | head -n 4 | tr '\n' ' ')"
done
check "every file's stubs ($n_filled files) filled from the reference give the reference back" \
	"differ:$differ" test -z "$differ"
others='' n_others=0
while IFS= read -r -d '' f; do
	case $f in
	stages/*.c | README.md | TUTORIAL.md | stages/*/README.md | bench/* | .ci/*) continue ;;
	esac
	[ -e "$f" ] || continue
	n_others=$((n_others + 1))
	if [ "$f" = Makefile ]; then
		sed 's/^\(override CFLAGS += .*\) -Werror /\1 /' Makefile | cmp -s - "$skel/Makefile" || others+=" $f"
	else
		cmp -s "$f" "$skel/$f" || others+=" $f"
	fi
done < <(git ls-files -z --cached --others --exclude-standard)
check "the other files ($n_others) are the reference's" "differ:$others" test -z "$others"

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
		todo=$(awk -F '\t' -v n="$n" -v fn="$fn" -v file="$(basename "$f")" \
			'$2 == "function" && $3 == fn && $4 == file && $1 <= n { t = $6 } END { print t }' <<<"$rows")
		b=$(body_of "$f" "$fn")
		# Matched in the shell, not by a grep each: this runs for every
		# lesson of every stage.
		while IFS= read -r fmt; do
			[ -z "$fmt" ] || [[ $todo == *"verbose($fmt"* ]] || unnamed+=" $fn($n): verbose($fmt...)"
		done < <(grep -o 'verbose("[^"]*"' <<<"$b" | sed 's/^verbose(//')
		for call in report_errno die_errno report die_status; do
			# The call as a word: at the start or after a character
			# that is no part of a name.
			[[ $b =~ (^|[^[:alnum:]_])$call\( ]] || continue
			[[ $todo =~ (^|[^[:alnum:]_])$call\( ]] || unnamed+=" $fn($n): $call()"
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

# make carry-10: stage 9's main.c done; its Part I bodies go into stage
# 10's main.c, and it says that stage 9's lesson file is used as it is.
cp stages/09-*/main.c "$skel"/stages/09-*/main.c
out=$("$make_cmd" -s -C "$skel" --no-print-directory carry-10 2>&1)
rc=$?
check "carry-10 carries stage 9's main.c" "status $rc: $out" \
	grep -q 'carried into stages/10-[a-z]*/main.c from stages/09-[a-z]*/main.c: .*start_child()' <<<"$out"
check "carry-10 says stage 9's lesson file needs no carrying" "got: $out" \
	grep -q 'nothing to carry from stages/09-[a-z]*/limits.c: stage 10 builds with those files as they are' <<<"$out"
check "carry-10 touches no lesson file" "$(git -C "$skel" status --porcelain)" \
	test "$(git -C "$skel" status --porcelain | sed 's/^...//' | sort | paste -sd ' ')" = \
	"$(cd "$skel" && ls stages/09-*/main.c stages/10-*/main.c | paste -sd ' ')"
git -C "$skel" checkout -q -- stages

# A lesson of stage 9 on is stubbed once, in its lesson file, and every
# later stage builds with that file: the learner's stage 9 (limits.c
# filled, here from the reference) is what stages 10 to 12 run.
once=''
while IFS=$'\t' read -r stage kind name file _; do
	[ "$kind" = function ] && [ "$file" != main.c ] || continue
	in=$(grep -l "not implemented: $name()" "$skel"/stages/*/*.c | sed "s|^$skel/||" | paste -sd ' ')
	[ "$in" = "$(cd "$skel" && ls stages/"$(printf %02d "$stage")"-*/"$file")" ] || once+=" $name: in '$in'"
done <<<"$rows"
check "each lesson of stage 9 on is stubbed once, in its own file" "$once" test -z "$once"
# has_stub BINARY NAME: whether the binary still holds NAME's stub.
has_stub() {
	grep -qaF "not implemented: $2() (see TUTORIAL.md" "$1"
}
last=$(ls -d "$skel"/stages/[0-9][0-9]-*/main.c | tail -n 1)
last=$(stage_no "${last#"$skel"/}")
check "stage $last of the skeleton holds stage 9's stubs" "no limit_memory() stub in $skel/build/stage-$last" \
	has_stub "$skel/build/stage-$last" limit_memory
cp stages/09-*/limits.c "$skel"/stages/09-*/limits.c
out=$("$make_cmd" -C "$skel" --no-print-directory "stage-$last" 2>&1)
rc=$?
check "stage 9's limits.c filled: stage $last builds, compiling that file" "status $rc: $(grep -m 2 'error:\|warning:' <<<"$out")" \
	eval '[ "$rc" -eq 0 ] && grep -q " -c -o [^ ]*/stages/09-[a-z]*/limits.o stages/09-[a-z]*/limits.c" <<<"$out"'
left=''
for fn in $(awk -F '\t' '$1 == 9 && $2 == "function" { print $3 }' <<<"$rows"); do
	! has_stub "$skel/build/stage-$last" "$fn" || left+=" $fn"
done
check "stage 9's limits.c filled: stage $last has no stub of stage 9 left" "still there:$left" test -z "$left"
fn=$(awk -F '\t' -v n="$last" '$1 == n && $2 == "function" { print $3; exit }' <<<"$rows")
check "stage 9's limits.c filled: stage $last still has its own stubs ($fn())" "gone from $skel/build/stage-$last" \
	has_stub "$skel/build/stage-$last" "$fn"
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
	[ -f "$(dirname "$f")/main.c" ] || continue
	n=$(stage_no "${f#"$skel"/}")
	names=$(awk -F '\t' -v n="$n" '$1 == n { print $3 }' <<<"$rows")
	miss=''
	for name in $names; do
		awk '/^## What to write/ { s = 1; next } /^## / { s = 0 } s' "$f" | grep -qF "\`$name" || miss+=" $name"
	done
	check "stage $n's README says what to write" "missing:$miss" eval '[ -z "$miss" ] && grep -q "^## What to write" "$f"'
done
tut_sections=$(grep -c '^### What to write' "$skel/TUTORIAL.md")
check "each TUTORIAL chapter has a 'What to write'" "$tut_sections of $n_stages" test "$tut_sections" -eq "$n_stages"

# The README: what a learner runs.
readme=$skel/README.md
for want in 'make carry-N' 'make stage-N' 'sudo make test-stage-N' 'git diff' 'make doctor' 'sudo make grade'; do
	check "the student README names '$want'" "not in $readme" grep -qF -- "$want" "$readme"
done
check "the student README explains the stubs of earlier stages" "not in $readme" \
	grep -q '^## Where a lesson is stubbed, and what you bring over' "$readme"
check "the student README names the lesson files" "not in $readme" \
	grep -qF 'stages/09-limits/limits.c' "$readme"
check "the student README gives the number of stages" "$(grep -m 1 ' stages\.' "$readme")" \
	eval 'tr "\n" " " <"$readme" | grep -q "in $n_stages stages\."'
check "the student README says make run and make test cannot pass there" "not in $readme" \
	grep -q 'neither can pass' "$readme"

summary
