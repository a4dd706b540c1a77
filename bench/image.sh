#!/usr/bin/env bash
# image.sh: stage 13's rows. Starts the test registry
# (tests/registry/registry.sh: Debian's docker-registry with token auth,
# the test images pushed) and times:
#   - pulling test/b into an empty store: `stage-13 pull` against
#     `skopeo copy` into an OCI directory and `podman pull`, every run
#     from a cold (empty) store, the commands in turn run by run
#     (interleave, bench/lib.sh), so that the machine's drift weighs on
#     each alike;
#   - starting /bin/true: `stage-13 run IMAGE` against stage 12 on the
#     busybox root filesystem, hot (the image pulled once), under the
#     same limits as the main table's (and `stage-13 run --rootfs` beside
#     them), the three in turn run by run as the pulls are.
# podman is the drivers' tests' own (tests/fence.sh's fence_drivers:
# DRIVERS_BIN, default build/tools/drivers; tools/deb-bin.sh links the
# installed program there or takes it out of its package, installing
# nothing), with podman_setup's configuration and state of our own.
# What podman and skopeo write whatever their options say (their blob
# cache under /var/lib/containers, big files in /var/tmp, podman's lock
# in /dev/shm) stays ours: the rows run in a mount namespace of their
# own where those are directories of the work directory (a tmpfs for
# /dev/shm), on the host's own network, where the registry is.
# Writes OUT/image.md, which report.sh puts into results.md.
#
# usage: image.sh OUT BIN ROOTFS   (run by `make bench` and `make
# bench-image`, as root). BENCH_QUICK=1: a few runs only.
set -eu
shopt -s inherit_errexit

PROG=image.sh
prog=$PROG
# shellcheck source=bench/lib.sh
. "$(dirname -- "$(realpath -- "$0")")/lib.sh"
# shellcheck source=../tests/fence.sh
. "$(dirname -- "$(realpath -- "$0")")/../tests/fence.sh"

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
	# podman fetched here, before the registry starts.
	PODMAN_WHY=
	if ! command -v conmon >/dev/null; then
		PODMAN_WHY="conmon is not installed: run sudo make bench-image"
	elif ! err=$(fence_drivers "$fence_bin" podman 2>&1 >/dev/null); then
		PODMAN_WHY="no podman in ${fence_bin#"$PWD/"}: $(printf '%s\n' "$err" | tail -n 1)"
	fi
	export PODMAN_WHY
	exec "$TOP/tests/registry/registry.sh" "$ROOTFS" "$0" "$@"
fi

# Under the registry: once more in a mount namespace of our own.
# IMAGE_FENCED: the machine's mount namespace, which ours must not be.
if [ -z "${IMAGE_FENCED:-}" ]; then
	IMAGE_FENCED=$(readlink /proc/self/ns/mnt) exec unshare -m --propagation private -- "$0" "$@"
fi
[ "$(readlink /proc/self/ns/mnt)" != "$IMAGE_FENCED" ] ||
	die "not in a mount namespace of our own (IMAGE_FENCED is set outside?)"

if [ -n "${BENCH_QUICK:-}" ]; then
	PULL_ROUNDS=(3 1) # rounds, warm-up rounds
	RUN_ROUNDS=(5 1)
else
	PULL_ROUNDS=(30 2)
	RUN_ROUNDS=(150 6)
fi
LIMITS=(--memory 64m --cpus 1) # as the main table's lines from stage 9

work=$OUT/image
rm -rf "$work"
mkdir -p "$work"
export MINIDOCKER_ROOT=$work/store

# Ours, in this mount namespace: what podman and skopeo write outside
# their options (see the top), on the same disk as the host's would be.
mkdir -p "$work/var-lib" "$work/var-tmp"
mount --bind "$work/var-lib" /var/lib || die "cannot hide /var/lib"
mount --bind "$work/var-tmp" /var/tmp || die "cannot hide /var/tmp"
mount -t tmpfs -o mode=1777 tmpfs /dev/shm || die "cannot hide /dev/shm"

# --- pulls, each from an empty store (--prepare empties it), in turn.
ref=$REGISTRY_HOST/test/b:latest
pull13=("$BIN/stage-13" pull "$ref")
skopeo=(skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$work/oci:latest")
ARGS=(-n stage-13-pull --prepare "rm -rf $work/store" "$(quote "${pull13[@]}")"
	-n skopeo-copy --prepare "rm -rf $work/oci" "$(quote "${skopeo[@]}")")
if [ -z "$PODMAN_WHY" ]; then
	P=$work/podman
	podman_setup "$P" "minidocker-bench-image-$$" "$fence_bin/podman"
	podman=("${PODMAN[@]}" pull -q --tls-verify=false "docker://$ref")
	if "${podman[@]}" >/dev/null 2>"$work/podman.err"; then
		# Its store and run state, not its configuration.
		ARGS+=(-n podman-pull --prepare "rm -rf $P/root $P/run" "$(quote "${podman[@]}")")
	else
		PODMAN_WHY="podman does not run here: $(head -n 1 "$work/podman.err")"
	fi
fi
for cmd in "${pull13[*]}" "${skopeo[*]}"; do
	$cmd >/dev/null 2>"$work/check.err" ||
		die "cannot run '$cmd': $(head -n 1 "$work/check.err")"
done
note "pull: cold store, $((${#ARGS[@]} / 4)) commands in turn, ${PULL_ROUNDS[0]} rounds"
interleave "${PULL_ROUNDS[@]}" "$work/pull.json" "${ARGS[@]}" ||
	die "a pull failed while timed"

# --- starts, in turn, from an image pulled once.
img=$REGISTRY_HOST/test/a:latest
"$BIN/stage-13" pull "$img" >/dev/null || die "cannot pull $img"
run13=("$BIN/stage-13" run "${LIMITS[@]}" "$img" /bin/true)
run13r=("$BIN/stage-13" run --rootfs "$ROOTFS" "${LIMITS[@]}" /bin/true)
run12=("$BIN/stage-12" run --rootfs "$ROOTFS" "${LIMITS[@]}" /bin/true)
for cmd in "${run13[*]}" "${run13r[*]}" "${run12[*]}"; do
	$cmd </dev/null >/dev/null 2>"$work/check.err" ||
		die "cannot run '$cmd': $(head -n 1 "$work/check.err")"
done
note "run: hot, 3 commands in turn, ${RUN_ROUNDS[0]} rounds"
interleave "${RUN_ROUNDS[@]}" "$work/run.json" \
	-n stage-13-image "$(quote "${run13[@]}")" \
	-n stage-13-rootfs "$(quote "${run13r[@]}")" \
	-n stage-12 "$(quote "${run12[@]}")" ||
	die "a start failed while timed"

# plain_verdict X LIMIT: met or missed, unmarked (the line is bold).
plain_verdict() { awk -v x="$1" -v l="$2" 'BEGIN { print (x <= l) ? "met" : "missed" }'; }

pull_ratio=$(json_ratio "$work/pull.json" stage-13-pull skopeo-copy)
pull_min=$(json_ratio "$work/pull.json" stage-13-pull skopeo-copy min)
read -r pair_med pair_q1 pair_q3 pair_wins pair_n < <(json_paired "$work/pull.json" stage-13-pull skopeo-copy) || true
run_ratio=$(json_ratio "$work/run.json" stage-13-image stage-12)
read -r run_med run_q1 run_q3 run_wins run_n < <(json_paired "$work/run.json" stage-13-image stage-12) || true
size=$(jq '[.layers[].size, .config.size] | add' "$work/oci/blobs/sha256/$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$work/oci/index.json")")
# The backquotes are Markdown's, not the shell's.
# shellcheck disable=SC2016
{
	printf '\n#### Stage 13: pull from the local registry, run an image\n\n'
	printf 'Pull of test/b (%s layers, %s bytes with its config) from the test registry on the loopback, into an empty store each run (`--prepare` empties it), the commands in turn: %s rounds of one run of each (hyperfine `--runs 1` each, the order changed each round so that each comes at each place and right after each other equally often), so that the machine'"'"'s drift weighs on each alike. podman: the drivers'"'"' tests'"'"' program, its own configuration and a vfs store (`podman_setup`, tests/fence.sh):\n\n' \
		"$(jq '.layers | length' "$work/oci/blobs/sha256/$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$work/oci/index.json")")" "$size" "$(jq '.results[0].times | length' "$work/pull.json")"
	json_table "$work/pull.json" skopeo-copy
	[ -z "$PODMAN_WHY" ] || printf '\npodman pull: not measured (%s).\n' "$PODMAN_WHY"
	printf '\nStart of /bin/true, hot, with `%s`, the three in turn as the pulls (%s rounds):\n\n' "${LIMITS[*]}" "$run_n"
	json_table "$work/run.json" stage-12
	printf '\n- **stage-13 pull at least as fast as skopeo copy, round by round: %s** (the pull over the skopeo copy of the same round: median %s×, quartiles %s-%s×, the pull faster in %s of %s rounds; the median over skopeo'"'"'s %s×, the minimum %s×)\n' \
		"$(plain_verdict "$pair_med" 1)" "$pair_med" "$pair_q1" "$pair_q3" "$pair_wins" "$pair_n" "$pull_ratio" "$pull_min"
	printf -- '- **stage-13 run IMAGE within 1.1× of stage 12 hot, round by round: %s** (stage 13'"'"'s start over stage 12'"'"'s of the same round: median %s×, quartiles %s-%s×, stage 13 the faster in %s of %s rounds; the median over stage 12'"'"'s %s×)\n' \
		"$(plain_verdict "$run_med" 1.1)" "$run_med" "$run_q1" "$run_q3" "$run_wins" "$run_n" "$run_ratio"
	printf '\nThe commands:\n\n'
	printf -- '- stage-13-pull: `%s`\n' "${pull13[*]//"$OUT/"/}"
	printf -- '- skopeo-copy: `%s`\n' "${skopeo[*]//"$OUT/"/}"
	[ -n "$PODMAN_WHY" ] || printf -- '- podman-pull: `%s`\n' "$(printf '%s' "${podman[*]}" | sed "s|$OUT/||g; s|$PWD/||g")"
	printf -- '- stage-13-image: `%s`\n' "${run13[*]//"$OUT/"/}"
	printf -- '- stage-13-rootfs: `%s`\n' "${run13r[*]//"$OUT/"/}"
	printf -- '- stage-12: `%s`\n' "${run12[*]//"$OUT/"/}"
} >"$OUT/image.md"
rm -rf "$work"
note "wrote $OUT/image.md"
