#!/usr/bin/env bash
# image.sh: stage 13's rows. Starts the test registry
# (tests/registry/registry.sh: Debian's docker-registry with token auth,
# the test images pushed) and times, in one hyperfine run each:
#   - pulling test/b into an empty store: `stage-13 pull` against
#     `skopeo copy` into an OCI directory (and `podman pull` when podman
#     is installed and runs), every run from a cold (empty) store;
#   - starting /bin/true: `stage-13 run IMAGE` against stage 12 on the
#     busybox root filesystem, back to back (hot), under the same limits
#     as the main table's (and `stage-13 run --rootfs` beside them).
# Writes OUT/image.md, which report.sh puts into results.md.
#
# usage: image.sh OUT BIN ROOTFS   (run by `make bench` and `make
# bench-image`, as root). BENCH_QUICK=1: a few runs only.
set -eu
shopt -s inherit_errexit

PROG=image.sh
# shellcheck source=bench/lib.sh
. "$(dirname -- "$(realpath -- "$0")")/lib.sh"

[ $# -eq 3 ] || die "usage: $PROG OUT BIN ROOTFS"
OUT=$(realpath -- "$1")
BIN=$(realpath -- "$2")
ROOTFS=$(realpath -- "$3")
HERE=$(dirname -- "$(realpath -- "$0")")
TOP=$(dirname -- "$HERE")
unset MINIDOCKER_RUN

# Outside the registry: check, then run this script again under
# registry.sh, which holds the registry while the script runs.
if [ -z "${REGISTRY_HOST:-}" ]; then
	[ "$(id -u)" -eq 0 ] || die "needs root (the registry's test images keep their owners; namespaces): run sudo make bench-image"
	for tool in hyperfine skopeo jq; do
		command -v "$tool" >/dev/null || die "'$tool' is missing: run sudo make bench-deps deps-test"
	done
	for s in stage-12 stage-13; do
		[ -x "$BIN/$s" ] || die "no '$BIN/$s': run make bench"
	done
	exec "$TOP/tests/registry/registry.sh" "$ROOTFS" "$0" "$@"
fi

if [ -n "${BENCH_QUICK:-}" ]; then
	PULL_RUNS=(--warmup 1 --runs 3)
	HOT=(--warmup 1 --runs 5)
else
	PULL_RUNS=(--warmup 2 --runs 20)
	HOT=(--warmup 3 --min-runs 30 --max-runs 1000)
fi
LIMITS=(--memory 64m --cpus 1) # as the main table's lines from stage 9

work=$OUT/image
rm -rf "$work"
mkdir -p "$work"
export MINIDOCKER_ROOT=$work/store

# --- pulls, each from an empty store (--prepare empties it).
ref=$REGISTRY_HOST/test/b:latest
pull13=("$BIN/stage-13" pull "$ref")
skopeo=(skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$work/oci:latest")
ARGS=(-n stage-13-pull --prepare "rm -rf $work/store" "$(quote "${pull13[@]}")"
	-n skopeo-copy --prepare "rm -rf $work/oci" "$(quote "${skopeo[@]}")")
podman_note="podman is not installed"
if command -v podman >/dev/null; then
	podman=(podman --root "$work/podman" --runroot "$work/podman-run" pull -q --tls-verify=false "docker://$ref")
	if "${podman[@]}" >/dev/null 2>"$work/podman.err"; then
		ARGS+=(-n podman-pull --prepare "rm -rf $work/podman" "$(quote "${podman[@]}")")
		podman_note=
	else
		podman_note="podman does not run here: $(head -n 1 "$work/podman.err")"
	fi
fi
for cmd in "${pull13[*]}" "${skopeo[*]}"; do
	$cmd >/dev/null 2>"$work/check.err" ||
		die "cannot run '$cmd': $(head -n 1 "$work/check.err")"
done
note "pull: cold store, $((${#ARGS[@]} / 4)) commands"
hyperfine -N --style basic "${PULL_RUNS[@]}" --export-json "$work/pull.json" \
	"${ARGS[@]}" >&2 || die "hyperfine failed on the pulls"

# --- starts, back to back, from an image pulled once.
img=$REGISTRY_HOST/test/a:latest
"$BIN/stage-13" pull "$img" >/dev/null || die "cannot pull $img"
run13=("$BIN/stage-13" run "${LIMITS[@]}" "$img" /bin/true)
run13r=("$BIN/stage-13" run --rootfs "$ROOTFS" "${LIMITS[@]}" /bin/true)
run12=("$BIN/stage-12" run --rootfs "$ROOTFS" "${LIMITS[@]}" /bin/true)
for cmd in "${run13[*]}" "${run13r[*]}" "${run12[*]}"; do
	$cmd </dev/null >/dev/null 2>"$work/check.err" ||
		die "cannot run '$cmd': $(head -n 1 "$work/check.err")"
done
note "run: hot, 3 commands"
hyperfine -N --style basic "${HOT[@]}" --export-json "$work/run.json" \
	-n stage-13-image "$(quote "${run13[@]}")" \
	-n stage-13-rootfs "$(quote "${run13r[@]}")" \
	-n stage-12 "$(quote "${run12[@]}")" >&2 ||
	die "hyperfine failed on the starts"

# plain_verdict X LIMIT: met or missed, unmarked (the line is bold).
plain_verdict() { awk -v x="$1" -v l="$2" 'BEGIN { print (x <= l) ? "met" : "missed" }'; }

pull_ratio=$(json_ratio "$work/pull.json" stage-13-pull skopeo-copy)
run_ratio=$(json_ratio "$work/run.json" stage-13-image stage-12)
size=$(jq '[.layers[].size, .config.size] | add' "$work/oci/blobs/sha256/$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$work/oci/index.json")")
# The backquotes are Markdown's, not the shell's.
# shellcheck disable=SC2016
{
	printf '\n#### Stage 13: pull from the local registry, run an image\n\n'
	printf 'Pull of test/b (%s layers, %s bytes with its config) from the test registry on the loopback, into an empty store each run (`--prepare` empties it), %s runs:\n\n' \
		"$(jq '.layers | length' "$work/oci/blobs/sha256/$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$work/oci/index.json")")" "$size" "$(jq '.results[0].times | length' "$work/pull.json")"
	json_table "$work/pull.json" skopeo-copy
	[ -z "$podman_note" ] || printf '\npodman pull: not measured (%s).\n' "$podman_note"
	printf '\nStart of /bin/true, back to back, with `%s`:\n\n' "${LIMITS[*]}"
	json_table "$work/run.json" stage-12
	printf '\n- **stage-13 pull at least as fast as skopeo copy: %s** (%s× its median)\n' "$(plain_verdict "$pull_ratio" 1)" "$pull_ratio"
	printf -- '- **stage-13 run IMAGE within 1.1× of stage 12 hot: %s** (%s×)\n' "$(plain_verdict "$run_ratio" 1.1)" "$run_ratio"
	printf '\nThe commands:\n\n'
	printf -- '- stage-13-pull: `%s`\n' "${pull13[*]//"$OUT/"/}"
	printf -- '- skopeo-copy: `%s`\n' "${skopeo[*]//"$OUT/"/}"
	printf -- '- stage-13-image: `%s`\n' "${run13[*]//"$OUT/"/}"
	printf -- '- stage-13-rootfs: `%s`\n' "${run13r[*]//"$OUT/"/}"
	printf -- '- stage-12: `%s`\n' "${run12[*]//"$OUT/"/}"
} >"$OUT/image.md"
rm -rf "$work"
note "wrote $OUT/image.md"
