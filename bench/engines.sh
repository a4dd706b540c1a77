#!/usr/bin/env bash
# engines.sh: the rows of stages 14, 15 and 16 beside the programs their
# issues (24, 25, 26) name, each row one hyperfine run with its peers:
#   net    stage 14's start with --net bridge and --net none, against the
#          same set-up by ip and nft in a script (bench/netscript.sh) and
#          podman run --network bridge / none;
#   exec   stage 15's exec into a running detached container, against
#          nsenter -a into the same one, crun exec and podman exec;
#   detach stage 15's run -d + stop + rm, against podman's (crun,
#          cgroupfs, --network none, --rootfs);
#   oci    create + start + wait + delete of one bundle: stage 16 against
#          crun and runc (bench/steps.c does the sequence, as a shim);
#   drive  podman run --rm and docker run --rm (a dockerd of our own) with
#          stage 16, crun and runc as the runtime.
# Everything runs as a guest (tests/fence.sh, as the drivers' tests do):
# in a mount and network namespace of its own, with a tmpfs over /run,
# /var/lib, /etc/docker and /dev/shm, cgroup2's hybrid mount hidden, the
# engines' state in a scratch directory; every process and cgroup of it
# is removed at the end. podman's and Docker's programs are the drivers'
# tests' own (DRIVERS_BIN, default build/tools/drivers, filled by
# fence_drivers: tools/deb-bin.sh links the installed podman, docker.io
# and containerd there, or takes the programs out of their packages,
# installing nothing); conmon and crun are podman's, installed.
# Writes OUT/engines.md, which report.sh puts into results.md.
#
# usage: engines.sh OUT BIN ROOTFS   (run by `make bench` and `make
# bench-engines`, as root). BENCH_QUICK=1: a few runs, and no docker rows
# unless BENCH_DOCKER=1 (dockerd's start and its runs take a minute);
# BENCH_DOCKER=0 leaves them out of a full run. BENCH_STAGE16=PATH: the
# runtime in stage 16's lines (default BIN/stage-16; /usr/bin/crun proves
# the rows before stage 16 exists). BENCH_ROWS="oci drive": only the rows
# named (net, net-held, exec, detach, oci, drive; spaces or commas).
set -eu
shopt -s inherit_errexit nullglob

PROG=engines.sh
prog=$PROG
HERE=$(dirname -- "$(realpath -- "$0")")
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

# want ROW: whether BENCH_ROWS (default: every row) names ROW.
ROWS="net net-held exec detach oci drive"
want() {
	[ -z "${BENCH_ROWS:-}" ] && return 0
	case " ${BENCH_ROWS//,/ } " in *" $1 "*) return 0 ;; esac
	return 1
}
# shellcheck source=../tests/fence.sh
. "$HERE/../tests/fence.sh"

# ---- outside: the guest's namespaces, and its removal --------------------

if [ "${1:-}" != --inside ]; then
	[ $# -eq 3 ] || die "usage: $PROG OUT BIN ROOTFS"
	[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, cgroups, engines): run sudo make bench-engines"
	for tool in hyperfine jq unshare nsenter ip; do
		command -v "$tool" >/dev/null || die "'$tool' is missing: run sudo make bench-deps"
	done
	OUT=$(realpath -- "$1")
	BIN=$(realpath -- "$2")
	ROOTFS=$(realpath -- "$3")
	[ -x "$ROOTFS/bin/busybox" ] || die "no busybox root filesystem at '$ROOTFS': run sudo make bench"
	for tool in steps noop floor; do
		[ -x "$OUT/$tool" ] || die "no '$OUT/$tool': run make bench-build"
	done
	rows=${BENCH_ROWS:-}
	for row in ${rows//,/ }; do
		case " $ROWS " in *" $row "*) ;; *) die "BENCH_ROWS: no row '$row' (the rows: $ROWS)" ;; esac
	done
	fence_setup minidocker-bench-engines
	# The machine's network namespace, which netscript.sh refuses.
	NETSCRIPT_HOST_NS=$(readlink /proc/self/ns/net)
	export NETSCRIPT_HOST_NS
	# podman's and Docker's programs fetched here, outside, where the
	# network is; podman's at every run, as its rows are in every run.
	PODMAN_WHY=
	if ! want net && ! want exec && ! want detach && ! want drive; then
		PODMAN_WHY="no row of this run uses podman"
	elif ! command -v conmon >/dev/null; then
		PODMAN_WHY="conmon is not installed: run sudo make bench-engines"
	elif ! fence_drivers "$fence_bin" podman 2>"$scratch/fetch.err"; then
		PODMAN_WHY="no podman in ${fence_bin#"$PWD/"}: $(tail -n 1 "$scratch/fetch.err")"
	fi
	export PODMAN_WHY
	if [ -n "${BENCH_QUICK:-}" ]; then
		WITH_DOCKER=${BENCH_DOCKER:-0}
	else
		WITH_DOCKER=${BENCH_DOCKER:-1}
	fi
	want drive || WITH_DOCKER=0
	DOCKER_WHY=
	if [ "$WITH_DOCKER" = 1 ] && ! fence_drivers "$fence_bin" docker 2>"$scratch/fetch.err"; then
		DOCKER_WHY="no Docker programs in ${fence_bin#"$PWD/"}: $(tail -n 1 "$scratch/fetch.err")"
	fi
	export WITH_DOCKER DOCKER_WHY
	rm -f "$OUT/engines.md"
	fence_run "$0" --inside "$OUT" "$BIN" "$ROOTFS"
fi

# ---- inside: the guest's namespaces are ours -----------------------------

shift
OUT=$1 BIN=$2 ROOTFS=$3
# set -e ends the script at a failing command: say which.
set -E
trap 'note "failed at line $LINENO: $BASH_COMMAND"' ERR
fence_inside
fence_engines
SCRATCH=$scratch TAG=$tag
unset MINIDOCKER_RUN MINIDOCKER_ROOT
# A copy: podman makes mount points (/run/.containerenv, /etc/hosts) in a
# --rootfs, and a runtime's writes must not reach ROOTFS.
R=$SCRATCH/rootfs
cp -a "$ROOTFS" "$R" || die "cannot copy '$ROOTFS'"
WORK=$SCRATCH/work
mkdir -p "$WORK"
MD=$WORK/engines.md
: >"$MD"

if [ -n "${BENCH_QUICK:-}" ]; then
	FAST=(--warmup 1 --runs 5)
	SLOW=(--warmup 1 --runs 3)
	DRIVE_ROUNDS=(3 1) # rounds, warm-up rounds
	OCI_ROUNDS=(5 1)
else
	FAST=(--warmup 3 --min-runs 30 --max-runs 500)
	SLOW=(--warmup 2 --runs 15)
	DRIVE_ROUNDS=(24 2) # four Williams squares of six lines
	OCI_ROUNDS=(40 2) # four of five lines (two rounds each, as five is odd)
fi

STAGE16=${BENCH_STAGE16:-$BIN/stage-16}
STAGE16_NOTE=
[ -z "${BENCH_STAGE16:-}" ] || STAGE16_NOTE=" (BENCH_STAGE16=$STAGE16 standing in for stage 16)"

# podman: the drivers' tests' program (fence_drivers, outside).
HAVE_PODMAN=
if [ -z "$PODMAN_WHY" ]; then
	podman_setup "$SCRATCH/podman" "$TAG" "$fence_bin/podman"
	if "${PODMAN[@]}" --runtime crun run --rm "${PODMAN_RUN[@]}" --network none \
		--rootfs "$R" /bin/true </dev/null >/dev/null 2>"$WORK/podman.err"; then
		HAVE_PODMAN=1
	else
		PODMAN_WHY="podman does not run here: $(head -n 1 "$WORK/podman.err")"
	fi
fi

# A row: new_row starts it; line NAME CMD... adds a line when CMD runs
# (/bin/true, or what it is given) successfully, else notes why it is
# left out; time_row NAME OPTIONS... times the row's lines in one
# hyperfine run, into WORK/NAME.json; time_row NAME --in-turn ROUNDS
# WARMUP times them in turn, run by run (interleave, bench/lib.sh).
line() {
	local name=$1
	shift
	# Twice at most: Docker's runs fail now and then on a busy machine.
	if "$@" </dev/null >/dev/null 2>"$WORK/check.err" ||
		"$@" </dev/null >/dev/null 2>"$WORK/check.err"; then
		ARGS+=(-n "$name" "$(quote "$@")")
		CMDS+=("$name: \`$(printf '%s' "$*" | sed "s|$SCRATCH/|SCRATCH/|g; s|$PWD/||g")\`")
	else
		LEFT_OUT+=("$name ($(head -n 1 "$WORK/check.err" | cut -c1-200))")
		note "left out: $name: $(head -n 1 "$WORK/check.err")"
	fi
}
# leave_out NAME WHY: a line that cannot be measured, and why.
leave_out() {
	LEFT_OUT+=("$1 ($2)")
}
time_row() {
	local name=$1
	shift
	want "$name" || return 0
	rm -f "$WORK/$name.json"
	if [ ${#ARGS[@]} -eq 0 ]; then
		note "$name: nothing to time"
		return 1
	fi
	note "$name: $((${#ARGS[@]} / 3)) commands"
	# Each command ran once before; a run that fails now is taken for a
	# passing failure (busy machine) once, and the row measured again.
	local try
	for try in 1 2; do
		if [ "$1" = --in-turn ]; then
			interleave "$2" "$3" "$WORK/$name.json" "${ARGS[@]}" 2>&1 |
				tee "$WORK/hyperfine.out" >&2
		else
			hyperfine -N --style basic "$@" --export-json "$WORK/$name.json" \
				"${ARGS[@]}" 2>&1 | tee "$WORK/hyperfine.out" >&2
		fi
		[ "${PIPESTATUS[0]}" -ne 0 ] || return 0
		rm -f "$WORK/$name.json"
		note "hyperfine failed on the $name row (try $try)"
		# The line that was running, and hyperfine's first words on it.
		RETRIED+=("$(awk '/^Benchmark [0-9]+: / { b = $3 } /^Error: / { sub(/\. Use the.*/, ""); print b ": " $0; exit }' "$WORK/hyperfine.out")")
	done
	return 1
}
new_row() {
	ARGS=() LEFT_OUT=() CMDS=() RETRIED=()
}

# judge TEXT ROW A B OP LIMIT: A/B on the medians and on the minimums,
# against the target (OP <= or >=); for a row timed in turn, also A over
# the B of the same round, round by round (its median judged too).
judge() {
	local text=$1 json=$WORK/$2.json a=$3 b=$4 op=$5 limit=$6 med min pm q1 q3 wins n
	want "$2" || return 0
	med=$(json_ratio "$json" "$a" "$b" 2>/dev/null || true)
	min=$(json_ratio "$json" "$a" "$b" min 2>/dev/null || true)
	if [ -z "$med" ]; then
		printf -- '- %s: not measured (no %s or no %s line)\n' "$text" "$a" "$b"
		return
	fi
	printf -- '- %s: median %s× — %s; min %s× — %s' "$text" \
		"$med" "$(verdict "$med" "$op" "$limit")" "$min" "$(verdict "$min" "$op" "$limit")"
	if [ "${IN_TURN[$2]:-}" = 1 ] &&
		read -r pm q1 q3 wins n < <(json_paired "$json" "$a" "$b" 2>/dev/null); then
		printf '; round by round: median %s× — %s (quartiles %s-%s×, %s faster in %s of %s rounds)' \
			"$pm" "$(verdict "$pm" "$op" "$limit")" "$q1" "$q3" "$a" "$wins" "$n"
	fi
	printf '\n'
}
# The rows timed in turn (time_row --in-turn).
declare -A IN_TURN=()
# judge_added TEXT ROW A B LIMIT_MS: A - B in ms (medians, minimums), at
# most LIMIT_MS.
judge_added() {
	local text=$1 json=$WORK/$2.json a=$3 b=$4 limit=$5 med min
	want "$2" || return 0
	added_ms() {
		jq -r --arg a "$a" --arg b "$b" --arg f "$1" '
		  (.results | map(select(.command == $a))[0][$f]) as $x
		  | (.results | map(select(.command == $b))[0][$f]) as $y
		  | if $x and $y then ($x - $y) * 1000 * 100 | round / 100 else empty end' "$json" 2>/dev/null || true
	}
	med=$(added_ms median)
	min=$(added_ms min)
	if [ -z "$med" ]; then
		printf -- '- %s: not measured (no %s or no %s line)\n' "$text" "$a" "$b"
		return
	fi
	printf -- '- %s: median %+.2f ms — %s; min %+.2f ms — %s\n' "$text" \
		"$med" "$(verdict "$med" '<=' "$limit")" "$min" "$(verdict "$min" '<=' "$limit")"
}
# section TITLE ROW BASE INTRO: the row's table (each median over BASE's),
# what was left out, and the commands; the targets follow.
section() {
	local title=$1 row=$2 base=$3 intro=$4 c
	want "$row" || return 0
	{
		printf '\n#### %s\n\n%s\n\n' "$title" "$intro"
		if [ -f "$WORK/$row.json" ]; then
			json_table "$WORK/$row.json" "$base"
		else
			printf 'Not measured: no line ran.\n'
		fi
		if [ ${#LEFT_OUT[@]} -gt 0 ]; then
			printf '\nLeft out: %s.\n' "$(printf '%s; ' "${LEFT_OUT[@]}" | sed 's/; $//')"
		fi
		if [ ${#RETRIED[@]} -gt 0 ]; then
			printf '\nA run failed, and the row was measured again (each line had run once before, so taken for a passing failure on a busy machine): %s.\n' "$(printf '%s; ' "${RETRIED[@]}" | sed 's/; $//')"
		fi
		printf '\n'
		for c in "${CMDS[@]}"; do
			printf -- '- %s\n' "$c"
		done
		printf '\n'
	} >>"$MD"
}

HEADER_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- stage 14: the bridge ------------------------------------------------

if [ -x "$BIN/stage-14" ] && { want net || want net-held; }; then
	new_row
	line stage-14 "$BIN/stage-14" run --rootfs "$R" /bin/true
	line stage-14-none "$BIN/stage-14" run --net none --rootfs "$R" /bin/true
	if command -v nft >/dev/null; then
		line net-script "$HERE/netscript.sh" "$R" /bin/true
	else
		leave_out net-script "nft is not installed: run sudo make bench-deps"
	fi
	if [ -n "$HAVE_PODMAN" ]; then
		line podman-bridge "${PODMAN[@]}" --runtime crun run --rm "${PODMAN_RUN[@]}" --network bridge --rootfs "$R" /bin/true
		line podman-none "${PODMAN[@]}" --runtime crun run --rm "${PODMAN_RUN[@]}" --network none --rootfs "$R" /bin/true
	else
		leave_out "podman-bridge, podman-none" "$PODMAN_WHY"
	fi
	time_row net "${FAST[@]}" || true
	section "Stage 14: the bridge, beside ip and nft in a script, and podman (issue 24)" net stage-14 \
		"Start of /bin/true, back to back, in the benchmark's own network namespace (no limits): stage 14 with its default \`--net bridge\` (a lease, a veth pair, eth0 configured inside, the bridge and the NAT table made and, by the last container out, removed: every run here) and with \`--net none\`; \`bench/netscript.sh\`, the same bridge set-up with \`ip -batch\` and \`nft\` around a chrooted /bin/true in a network namespace of its own (the same requests to the kernel; no lease, no /etc files, no wait for the pair to go); rootful podman 4 with crun and its CNI bridge, and with \`--network none\`."
	{
		judge_added "hot: the bridge adds at most 3 ms to stage 14's start (stage-14 − stage-14-none)" net stage-14 stage-14-none 3
		judge "hot: the ip and nft script over stage-14 (bridge), at least 5×" net net-script stage-14 '>=' 5
		judge "hot: podman's bridge over stage-14 (bridge), for scale" net podman-bridge stage-14 '>=' 1
	} >>"$MD"

	# The same while another container holds the bridge and the table,
	# as on a host where containers run: each start then makes only its
	# lease, its veth pair and eth0. The script's own bridge and table
	# are held the same way, by a script's container. Each holder's cat
	# ends when its stdin (a fifo, held open on fd 7 or 8) is closed.
	new_row
	mkfifo "$WORK/holder" "$WORK/holder-script"
	"$BIN/stage-14" run --rootfs "$R" /bin/cat <"$WORK/holder" >/dev/null 2>"$WORK/holder.err" &
	holder=$!
	exec 7>"$WORK/holder"
	holder_script=
	if command -v nft >/dev/null; then
		# Not holding the other fifo open: its cat would never end.
		"$HERE/netscript.sh" "$R" /bin/cat <"$WORK/holder-script" >/dev/null 2>"$WORK/holder-script.err" 7>&- &
		holder_script=$!
		exec 8>"$WORK/holder-script"
	fi
	for _ in $(seq 100); do
		ip link show minidocker0 >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ip link show minidocker0 >/dev/null 2>&1; then
		line stage-14 "$BIN/stage-14" run --rootfs "$R" /bin/true
		line stage-14-none "$BIN/stage-14" run --net none --rootfs "$R" /bin/true
	else
		leave_out "stage-14, stage-14-none" "the holding container made no bridge: $(head -n 1 "$WORK/holder.err")"
	fi
	if [ -z "$holder_script" ]; then
		leave_out net-script "nft is not installed: run sudo make bench-deps"
	elif ip link show mdscript0 >/dev/null 2>&1; then
		line net-script "$HERE/netscript.sh" "$R" /bin/true
	else
		leave_out net-script "the holding script made no bridge: $(head -n 1 "$WORK/holder-script.err")"
	fi
	time_row net-held "${FAST[@]}" || true
	exec 7>&-
	wait "$holder" || note "the holding container failed: $(head -n 1 "$WORK/holder.err")"
	if [ -n "$holder_script" ]; then
		exec 8>&-
		wait "$holder_script" || note "the holding script failed: $(head -n 1 "$WORK/holder-script.err")"
	fi
	section "Stage 14: the bridge held by another container" net-held stage-14 \
		"The same three lines while a fourth stage 14 container runs (\`cat\`, waiting on its stdin), so that the bridge and the NAT table stay, and a script's container holds the script's: each start makes and removes only its lease (the script: none), its veth pair and eth0."
	{
		judge_added "hot, the bridge held: the bridge adds at most 3 ms to stage 14's start (stage-14 − stage-14-none)" net-held stage-14 stage-14-none 3
		judge "hot, the bridge held: the ip and nft script over stage-14 (bridge), at least 5×" net-held net-script stage-14 '>=' 5
	} >>"$MD"
fi

# ---- stage 15: exec -------------------------------------------------------

# stage15_pid ID: the pid of detached container ID's first process.
stage15_pid() {
	local f
	for f in /run/minidocker/"$1"*/state.json; do
		jq -r .pid "$f"
		return
	done
	return 1
}
if [ -x "$BIN/stage-15" ] && { want exec || want detach; }; then
	new_row
	S15=$BIN/stage-15
	id=$("$S15" run -d --net none --rootfs "$R" /bin/sleep 100000 2>"$WORK/run.err") || id=
	pid=
	[ -z "$id" ] || pid=$(stage15_pid "$id") || pid=
	if [ -n "$pid" ]; then
		line stage-15-exec "$S15" exec "$id" /bin/true
		line nsenter nsenter -a -t "$pid" /bin/true
	else
		leave_out "stage-15-exec, nsenter" "stage-15 run -d failed: $(head -n 1 "$WORK/run.err")"
	fi
	cb=$WORK/crun-sleep
	mkdir -p "$cb"
	(cd "$cb" && crun spec) && jq --arg r "$R" --arg cg "/$TAG/crun-sleep" \
		'.process.terminal = false | .process.args = ["/bin/sleep", "100000"] | .root.path = $r | .linux.cgroupsPath = $cg' \
		"$cb/config.json" >"$cb/c.new" && mv "$cb/c.new" "$cb/config.json"
	if crun run --detach --bundle "$cb" "$TAG-sleep" </dev/null >/dev/null 2>"$WORK/crun.err"; then
		line crun-exec crun exec "$TAG-sleep" /bin/true
	else
		leave_out crun-exec "crun run --detach failed: $(head -n 1 "$WORK/crun.err")"
	fi
	pid_podman=
	if [ -n "$HAVE_PODMAN" ]; then
		pid_podman=$("${PODMAN[@]}" --runtime crun run -d "${PODMAN_RUN[@]}" --network none --rootfs "$R" /bin/sleep 100000 2>"$WORK/podman.err") || pid_podman=
		if [ -n "$pid_podman" ]; then
			line podman-exec "${PODMAN[@]}" --runtime crun exec "$pid_podman" /bin/true
		else
			leave_out podman-exec "podman run -d failed: $(head -n 1 "$WORK/podman.err")"
		fi
	else
		leave_out podman-exec "$PODMAN_WHY"
	fi
	time_row exec "${FAST[@]}" || true
	section "Stage 15: exec into a running container (issue 25)" exec stage-15-exec \
		"\`/bin/true\` in a running detached container (\`sleep\`, \`--net none\`), back to back: stage 15's exec (setns into every namespace, the cgroups, capabilities, no_new_privs and seccomp as run), \`nsenter -a\` into the same container (namespaces only), \`crun exec\` into a crun container of the same root filesystem (crun's default spec), podman exec (crun) into a podman container."
	{
		judge "hot: stage-15 exec over nsenter -a, at most 1.2×" exec stage-15-exec nsenter '<=' 1.2
		judge "hot: crun exec over stage-15 exec, at least 3×" exec crun-exec stage-15-exec '>=' 3
		judge "hot: podman exec over stage-15 exec, for scale" exec podman-exec stage-15-exec '>=' 1
	} >>"$MD"
	[ -z "$id" ] || "$S15" rm -f "$id" >/dev/null 2>&1 || note "cannot remove stage 15's container $id"
	crun kill "$TAG-sleep" KILL >/dev/null 2>&1 || true
	crun delete -f "$TAG-sleep" >/dev/null 2>&1 || true
	[ -z "$pid_podman" ] || "${PODMAN[@]}" rm -f -t 0 "$pid_podman" >/dev/null 2>&1 || true

	# ---- stage 15: run -d, stop, rm ---------------------------------------
	new_row
	# stop -t 0: SIGTERM, then SIGKILL at once. A shell that traps TERM
	# would end on TERM alone, but a stop that comes before the trap is
	# set meets a PID 1 that ignores it, and waits out the timeout.
	line stage-15-detach "$OUT/steps" "$S15" run -d --net none --rootfs "$R" /bin/sleep 100000 \
		:: "$S15" stop -t 0 {} :: "$S15" rm {}
	if [ -n "$HAVE_PODMAN" ]; then
		line podman-detach "$OUT/steps" "${PODMAN[@]}" --runtime crun run -d "${PODMAN_RUN[@]}" --network none --rootfs "$R" /bin/sleep 100000 \
			:: "${PODMAN[@]}" --runtime crun stop -t 0 {} :: "${PODMAN[@]}" --runtime crun rm {}
	else
		leave_out podman-detach "$PODMAN_WHY"
	fi
	time_row detach "${SLOW[@]}" || true
	section "Stage 15: run -d, stop, rm (issue 25)" detach stage-15-detach \
		"One detached container's life, as one command (\`bench/steps.c\` runs the three, the id of the first in the others): \`run -d\` of \`sleep\`, \`stop -t 0\` (SIGTERM, which a PID 1 without a handler ignores, then SIGKILL), \`rm\`; stage 15 with \`--net none\` against podman with crun, cgroupfs, \`--network none\` and \`--rootfs\`."
	judge "podman's run -d + stop + rm over stage 15's, for scale" detach podman-detach stage-15-detach '>=' 1 >>"$MD"
fi

# ---- stage 16: the OCI lifecycle ------------------------------------------

# The bundle all three runtimes run: crun's default spec, changed only to
# run /bin/true on the root filesystem without a terminal, in a cgroup
# under the guest's.
B=$WORK/bundle
mkdir -p "$B"
if (cd "$B" && crun spec) 2>"$WORK/spec.err" &&
	jq --arg r "$R" --arg cg "/$TAG/oci" \
		'.process.terminal = false | .process.args = ["/bin/true"] | .root.path = $r | .linux.cgroupsPath = $cg' \
		"$B/config.json" >"$B/c.new" && mv "$B/c.new" "$B/config.json"; then
	BUNDLE_OK=1
else
	BUNDLE_OK=
	note "no bundle from crun spec: $(head -n 1 "$WORK/spec.err")"
fi
# oci_line NAME RUNTIME: create + start + wait + delete of the bundle.
oci_line() {
	local name=$1 rt=$2 st=$WORK/state-$1
	mkdir -p "$st"
	line "$name" "$OUT/steps" --subreaper \
		"$rt" --root "$st" create --bundle "$B" --pid-file "$st/pid" "$TAG-$name" \
		:: "$rt" --root "$st" start "$TAG-$name" \
		:: @wait "$st/pid" \
		:: "$rt" --root "$st" delete "$TAG-$name"
}
STAGE16_MISSING=
if [ ! -x "$STAGE16" ]; then
	STAGE16_MISSING="no ${STAGE16#"$PWD/"}: build stage 16 first (make stage-16); BENCH_STAGE16=PATH runs these rows with another runtime in its place"
fi
new_row
if [ -n "$BUNDLE_OK" ] && want oci; then
	if [ -z "$STAGE16_MISSING" ]; then
		oci_line stage-16 "$STAGE16"
	else
		leave_out stage-16 "$STAGE16_MISSING"
	fi
	oci_line crun crun
	if command -v runc >/dev/null; then
		oci_line runc runc
	else
		leave_out runc "runc is not installed: run sudo make bench-deps"
	fi
	# The floor of the row, no runtime in it: steps with a static
	# program that does nothing (bench/noop.c) for each of the three
	# commands, the harness and three starts; and with bench/floor in
	# the first one's place, running the container's /bin/true behind
	# stage 6's isolation (PID, UTS and mount namespaces, a pids cgroup,
	# chroot, /proc), less than the bundle asks. No runtime can take
	# less than steps-floor here.
	line steps-noop "$OUT/steps" --subreaper "$OUT/noop" :: "$OUT/noop" :: "$OUT/noop"
	line steps-floor "$OUT/steps" --subreaper "$OUT/floor" "$R" /bin/true :: "$OUT/noop" :: "$OUT/noop"
	# In turn: the floor lines take a third of stage 16's time, and a
	# drift of the machine between lines timed one after the other
	# (hyperfine) would weigh more than they do.
	IN_TURN[oci]=1
	time_row oci --in-turn "${OCI_ROUNDS[@]}" || true
else
	leave_out "stage-16, crun, runc" "no bundle from crun spec"
fi
base=stage-16
[ -z "$STAGE16_MISSING" ] || base=crun
section "Stage 16: create, start, wait, delete (issue 26)" oci "$base" \
	"One bundle (crun's default spec, running /bin/true on the root filesystem, no terminal) through the OCI command line, as a shim does it: \`--root DIR create --bundle B --pid-file F ID\`, \`start ID\`, wait for the container's process (\`bench/steps.c\`, a subreaper, reaps it), \`delete ID\`; the lines in turn, run by run. steps-noop: the same harness with a static program that does nothing (\`bench/noop.c\`) in each command's place; steps-floor: \`bench/floor\` (stage 6's isolation: PID, UTS and mount namespaces, a pids cgroup, chroot, /proc) running the container's /bin/true in create's place, two no-ops after it — less than any runtime can do for this bundle.$STAGE16_NOTE"
judge "hot: crun over stage-16, at least 3×" oci crun stage-16 '>=' 3 >>"$MD"
judge "hot: runc over stage-16, for scale" oci runc stage-16 '>=' 1 >>"$MD"
judge "the ceiling here: crun over steps-floor (a runtime doing no more than the floor, three static starts; the 3× target needs this well above 3×)" oci crun steps-floor '>=' 3 >>"$MD"

# ---- stage 16 under podman and Docker -------------------------------------

new_row
if [ -n "$HAVE_PODMAN" ]; then
	prt() { line "podman-$1" "${PODMAN[@]}" --runtime "$2" run --rm "${PODMAN_RUN[@]}" --network none --rootfs "$R" /bin/true; }
	if [ -z "$STAGE16_MISSING" ]; then prt stage-16 "$STAGE16"; else leave_out podman-stage-16 "$STAGE16_MISSING"; fi
	prt crun /usr/bin/crun
	prt runc "$(command -v runc || echo /usr/sbin/runc)"
else
	leave_out "podman-stage-16, podman-crun, podman-runc" "$PODMAN_WHY"
fi
IMAGE=mdbench:busybox
if [ "$WITH_DOCKER" != 1 ]; then
	leave_out "docker-stage-16, docker-crun, docker-runc" "left out of this run (BENCH_QUICK without BENCH_DOCKER=1, or BENCH_DOCKER=0)"
elif [ -n "$DOCKER_WHY" ]; then
	leave_out "docker-stage-16, docker-crun, docker-runc" "$DOCKER_WHY"
else
	rts=("crun=/usr/bin/crun")
	[ -n "$STAGE16_MISSING" ] || rts+=("stage16=$STAGE16")
	if dockerd_start "$SCRATCH/docker" "/$TAG" "${rts[@]}" &&
		tar -C "$R" -c . | "${DOCKER[@]}" import - "$IMAGE" >/dev/null 2>"$WORK/import.err"; then
		drt() { line "docker-$1" "${DOCKER[@]}" run --rm --runtime "$2" --network none "$IMAGE" /bin/true; }
		if [ -z "$STAGE16_MISSING" ]; then drt stage-16 stage16; else leave_out docker-stage-16 "$STAGE16_MISSING"; fi
		drt crun crun
		drt runc runc
	else
		leave_out "docker-stage-16, docker-crun, docker-runc" "dockerd did not start or the import failed: $(tail -n 1 "$SCRATCH/docker/dockerd.log" 2>/dev/null) $(head -n 1 "$WORK/import.err" 2>/dev/null)"
	fi
fi
# In turn, run by run: the targets here are a few per cent, less than
# the machine's drift from one command's block of runs to the next.
IN_TURN[drive]=1
time_row drive --in-turn "${DRIVE_ROUNDS[@]}" || true
dockerd_stop
base=podman-stage-16
[ -z "$STAGE16_MISSING" ] || base=podman-crun
section "Stage 16 under podman and Docker (issue 26)" drive "$base" \
	"\`podman --runtime X run --rm --network none --rootfs ROOTFS /bin/true\` (cgroupfs) and \`docker run --rm --runtime X --network none IMAGE /bin/true\` (a dockerd of our own, vfs, no bridge, the root filesystem imported), with stage 16, crun and runc as X. podman's default runtime here is crun, Docker's runc. podman is the drivers' tests' program (DRIVERS_BIN: Debian's podman 4, taken out of its package unless it is installed). The lines in turn: $(jq '.results[0].times | length' "$WORK/drive.json" 2>/dev/null || echo 0) rounds of one run of each (hyperfine \`--runs 1\` each, the order changed each round so that each comes at each place and right after each other equally often), so that the machine's drift weighs on each alike; the targets also judged round by round.$STAGE16_NOTE"
{
	judge "podman: stage 16 over crun (its default), at most 1×" drive podman-stage-16 podman-crun '<=' 1
	judge "Docker: stage 16 over runc (its default), at most 1×" drive docker-stage-16 docker-runc '<=' 1
} >>"$MD"

# The file: a header, then the rows.
{
	printf '\n### Stages 14-16 beside the engines (bench/engines.sh)\n\n'
	printf 'Rows measured in a mount and network namespace of the benchmark'"'"'s own (a tmpfs over /run, /var/lib and /dev/shm, cgroup2'"'"'s hybrid mount hidden); each table is one hyperfine run, so its lines share the machine'"'"'s state (the oci and drive rows'"'"' lines run in turn, run by run); load average %s at the start, %s at the end.' \
		"$HEADER_LOAD" "$(cut -d' ' -f1-3 /proc/loadavg)"
	[ -z "${BENCH_QUICK:-}" ] || printf ' **Quick run: too few runs to trust.**'
	[ -z "${BENCH_ROWS:-}" ] || printf ' Only the rows %s (BENCH_ROWS).' "$BENCH_ROWS"
	printf '\n'
	cat "$MD"
} >"$OUT/engines.md"
note "wrote $OUT/engines.md"
