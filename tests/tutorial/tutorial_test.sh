#!/usr/bin/env bash
# The proof that `make check-tutorial` can fail: in a copy of the
# repository, change one line of a stage's main.c, and expect the check to
# fail there, naming the changed line both in a diff and in a session's
# real output; then expect `make tutorial` to bring the file up to date and
# the check to pass again. Runs as root (the sessions run the stages).
set -euo pipefail

prog=tests/tutorial/tutorial_test.sh
cd "$(dirname "$0")/../.."

fail() {
	echo "$prog: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || fail "it needs root (the sessions run the stages): run sudo make test-tutorial"

# shellcheck source=tools/copies.sh
. tools/copies.sh

tmp=$(mktemp -d "${TUTORIAL_TEST_TMP:-/tmp}/tutorial-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
copy_checkout "$tmp"

# Only stage 2's chapter of TUTORIAL.md, as a file of its own: it has the
# diff and the session the change shows in, and the rest of the tutorial
# (make check-tutorial checks it) adds only time.
doc=chapter-2.md
sed -n '/^## Stage 2:/,/^## Stage 3:/{/^## Stage 3:/d;p}' "$tmp/TUTORIAL.md" >"$tmp/$doc"
if ! grep -q '^<!-- diff 2 -->$' "$tmp/$doc" || ! grep -q '^<!-- session -->$' "$tmp/$doc"; then
	fail "TUTORIAL.md has no chapter for stage 2 with a diff and a session"
fi
mk=(make -C "$tmp" --no-print-directory "TUTORIAL_DOCS=$doc")

echo "== the copy as it is passes"
"${mk[@]}" check-tutorial >"$tmp/out" 2>&1 || {
	cat "$tmp/out"
	fail "make check-tutorial fails on an unchanged copy"
}

echo "== one line of stages/02-uts/main.c changed"
src=$tmp/stages/02-uts/main.c
old='cannot create namespaces: %s (needs root: run it with '
new='cannot make namespaces: %s (needs root: run it with '
grep -qF "$old" "$src" || fail "the line to change is not in $src"
sed -i "s/$old/$new/" "$src"
grep -qF "$new" "$src" || fail "sed did not change $src"

if "${mk[@]}" check-tutorial >"$tmp/out" 2>&1; then
	cat "$tmp/out"
	fail "make check-tutorial passes although stage 2 changed"
fi
# The diff of stage 2 and the recorded error both changed.
grep -q '^-+.*die("cannot create namespaces' "$tmp/out" ||
	fail "the check did not report the changed diff block"
grep -q '^+stage-2: cannot make namespaces' "$tmp/out" ||
	fail "the check did not report the changed session output"
echo "   failed, as it must, on the diff and on the session"

echo "== make tutorial, then the check passes again"
"${mk[@]}" tutorial >"$tmp/out" 2>&1 || {
	cat "$tmp/out"
	fail "make tutorial failed"
}
grep -q '^stage-2: cannot make namespaces' "$tmp/$doc" ||
	fail "make tutorial did not record the new message"
"${mk[@]}" check-tutorial >"$tmp/out" 2>&1 || {
	cat "$tmp/out"
	fail "make check-tutorial fails after make tutorial"
}
echo "$prog: ok"
