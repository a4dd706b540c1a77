#!/bin/sh
# Run the suites against the ASan+UBSan build and fail on any sanitizer
# report: every suite against the last stage, and against each earlier
# stage its own suite and the hardening suites but the escape catalogue,
# whose runs are plain runs of the probe (runner --own), so that every
# program's own code runs instrumented without running the whole
# cumulative matrix a second time (make test-host does that).
#
#   tests/hardening/asan.sh RUNNER ASAN_BIN_DIR ROOTFS
#
# The reports go to log files, not stderr, for two reasons:
# - the tests compare the runtime's stderr exactly, and
# - the clone() child runs on a static stack ASan does not know, so the
#   first noreturn call there (die_status() after a failed exec) makes ASan
#   warn once that it "is ignoring requested __asan_handle_no_return"
#   (google/sanitizers issue 189). That is a warning, not an error: with
#   no unpoisoning nothing is wrongly reported, so it is left out below.
# From stage 4 on that child writes its log after chroot or pivot_root, so
# the log directory exists at the same path on the host and in the root
# filesystem; ASan dies when it cannot open its log. The rootless runs use
# a copy of the root filesystem that the harness deletes after them: it
# keeps the log directory of each copy first (MINIDOCKER_TEST_KEEP), in
# the host's log directory, so those reports are read too.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 RUNNER ASAN_BIN_DIR ROOTFS" >&2
	exit 2
fi
runner=$1 bin=$2 rootfs=$3
# A directory of this run's own: another run's cleanup cannot take it.
logs=$(mktemp -d /tmp/minidocker-asan.XXXXXX)
inside=$rootfs$logs

rm -rf "$inside"
mkdir -p "$inside"
# Stage 8's container root may map to another host uid.
chmod 1777 "$logs" "$inside"

status=0
MINIDOCKER_TEST_KEEP=$logs \
ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1" \
UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1" \
	"$runner" --own --bin "$bin" --rootfs "$rootfs" || status=$?

# Every line of every log but the known warning's three: each is an
# error.
real_lines() {
	find "$logs" "$inside" -type f -exec cat {} + 2>/dev/null |
		grep -v -e 'WARNING: ASan is ignoring requested __asan_handle_no_return' \
			-e '^False positive error reports may follow' \
			-e '^For details see https://github.com/google/sanitizers/issues/189'
}
found=$(real_lines | grep -c . || true)
warned=$(find "$logs" "$inside" -type f -exec cat {} + 2>/dev/null |
	grep -c 'WARNING: ASan is ignoring' || true)
echo "asan.sh: $warned known clone-stack warnings, $found other report lines"
if [ "$found" -ne 0 ]; then
	echo "asan.sh: sanitizer reports, kept in $logs:" >&2
	find "$logs" "$inside" -type f -size +0 >&2
	real_lines | grep -m 5 -e 'ERROR: AddressSanitizer' -e 'runtime error' >&2 || true
	status=1
else
	rm -rf "$logs"
fi
rm -rf "$inside"
exit "$status"
