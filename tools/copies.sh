# shellcheck shell=bash
# Sourced by the scripts that copy the checkout or parts of it (bash).
#
# What runs as an unprivileged user (uid 65534 in the tests and in the
# tutorial's `nobody$` sessions) runs from copies in a directory of its
# own under /tmp, because the checkout may sit where that user cannot go:
# Ubuntu makes home directories 0750. tests/harness.c's h_become_nobody()
# does the same for the C suites.

# public_copy PATH...: copy each PATH (cp -a, keeping its name) into a new
# directory under /tmp that every user can search; print that directory.
# The caller removes it.
public_copy() {
	local dir
	dir=$(mktemp -d /tmp/minidocker-nobody.XXXXXX) || return 1
	# mktemp -d makes it 0700.
	if ! { chmod 0755 "$dir" && cp -a -- "$@" "$dir"/; }; then
		rm -rf -- "$dir"
		return 1
	fi
	printf '%s\n' "$dir"
}

# copy_checkout DEST: copy into DEST what a fresh clone of the current
# directory's repository would hold plus the work in progress (the files
# git knows of, committed or not); no build/. Without git or a repository
# (an unpacked archive): everything but build/.
copy_checkout() {
	local dest=$1
	if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$dest"
		return
	fi
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done | xargs -0 cp -a --parents -t "$dest"
}
