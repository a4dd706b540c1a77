#!/usr/bin/env bash
# prove.sh RUNTIME ROOTFS REAPER [NAME...]: each check of bundles.sh can
# fail for its reason. A fixture is RUNTIME behind a wrapper that changes
# one thing (the bundle's config.json before create, through jq, or one
# command's behaviour); bundles.sh run with it (the one part the fixture
# is about, BUNDLES_ONLY) must fail the check named below, and for a
# comparison show the line named in its diff. With RUNTIME=/usr/bin/crun
# this proves the comparison with crun itself as both sides.
set -u

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || {
	echo "usage: prove.sh RUNTIME ROOTFS REAPER [NAME...]" >&2
	exit 2
}
runtime=$1 rootfs=$2 reaper=$3
shift 3
case $runtime in /*) ;; *) runtime=$PWD/$runtime ;; esac
dir=$(mktemp -d /tmp/minidocker-bundles-prove.XXXXXX) || exit 2
chmod 755 "$dir"
trap 'rm -rf "$dir"' EXIT

# NAME # what the wrapper does # the part # the check that fails # a line
# of its output that says why (for a comparison, a line of the diff).
fixtures=(
	"hostname#edit .hostname = \"other\"#base#base: #+hostname other"
	"mount-rw#edit (.mounts[] | select(.destination == \"/mnt/share\") | .options) = [\"bind\"]#mounts#mounts: #+share create ok"
	"no-join#edit .linux.namespaces |= map(del(.path))#joinns#joinns: #+ns net new"
	"unmasked#edit .linux.maskedPaths -= [\"/proc/keys\"]#walls#walls: #+masked /proc/keys"
	"cap-added#edit .process.capabilities |= map_values(. + [\"CAP_SYS_ADMIN\"])#caps#caps: #+mount ok"
	"caps-kept#edit .process.capabilities //= ([\"CAP_SYS_ADMIN\"] | {bounding: ., effective: ., permitted: .})#nocaps#nocaps: #+CapBnd 0000000000200000"
	"no-rlimit#edit del(.process.rlimits)#process#process: #+nofile"
	"no-umask#edit del(.process.user.umask)#process#process: #+umask 0022"
	"seccomp-errno#edit .linux.seccomp.syscalls[0].errnoRet = 13#seccomp#seccomp: #+mkdir EACCES"
	"no-pids-limit#edit del(.linux.resources.pids)#resources#resources: #+cgroup pids.max max"
	"no-poststart#edit del(.hooks.poststart)#hooks#hooks: #-hook poststart running"
	"link-missed#edit (.mounts[] | select(.destination == \"/mnt/abs/made/deep\") | .destination) = \"/mnt/made/deep\"#links#links: #+mount tmpfs /mnt/made/deep"
	"other-map#edit .linux.uidMappings[0].hostID = 200000#userns#userns: #+uidmap 0 200000 65536"
	"delete-forced#force delete#life#life: delete without --force fails while it runs#status:  0"
	"second-line#second line#bad#bad: config.json missing: one line on stderr#lines:   2"
	"zero-status#zero for create#bad#bad: config.json malformed: status#status:  0"
	"start-again#zero for start#life#life: a second start fails#status:  0"
	"kill-stopped#zero for kill#life#life: kill of a stopped container fails#status:  0"
	"state-running#state says running#life#life: created, with the pid of --pid-file#\"status\": \"running\""
)

# The wrapper: edit the bundle's config.json before create (each run
# makes the bundle afresh), turn delete into delete --force, add a
# second line to a failing command's stderr, answer 0 for one command
# whatever happened, or make state say running where it says created.
make_wrapper() {
	local how=$1 out=$2
	cat >"$out" <<-EOF
		#!/usr/bin/env bash
		how='${how//\'/\'\\\'\'}'
		bundle=. sub= prev=
		args=()
		for a; do
			[ "\$prev" = --bundle ] && bundle=\$a
			case \$a in create | start | state | kill | delete) [ -z "\$sub" ] && sub=\$a ;; esac
			args+=("\$a")
			[ "\$how" = "force delete" ] && [ "\$a" = delete ] && [ "\$sub" = delete ] && args+=(--force)
			prev=\$a
		done
		case \$how in
		edit*)
			if [ "\$sub" = create ] && [ -f "\$bundle/config.json" ]; then
				jq "\${how#edit }" "\$bundle/config.json" >"\$bundle/config.new" &&
					mv "\$bundle/config.new" "\$bundle/config.json" || exit 125
			fi ;;
		"second line")
			"$runtime" "\${args[@]}" && exit 0
			rc=\$?
			echo "wrapper: a second line" >&2
			exit \$rc ;;
		"zero for \$sub")
			"$runtime" "\${args[@]}"
			exit 0 ;;
		"state says running")
			[ "\$sub" = state ] || exec "$runtime" "\${args[@]}"
			"$runtime" "\${args[@]}" | sed 's/"created"/"running"/'
			exit "\${PIPESTATUS[0]}" ;;
		esac
		exec "$runtime" "\${args[@]}"
	EOF
	chmod +x "$out"
}

failed=0 n=0
for f in "${fixtures[@]}"; do
	IFS='#' read -r name how only check why <<<"$f"
	[ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name" && continue
	n=$((n + 1))
	make_wrapper "$how" "$dir/$name"
	BUNDLES_ONLY=$only "$here/bundles.sh" "$dir/$name" "$rootfs" "$reaper" \
		>"$dir/$name.out" 2>&1
	rc=$?
	# The failure and, in its indented lines, the reason.
	said=$(sed -n "/^not ok - $check/,/^[^ ]/p" "$dir/$name.out")
	if [ $rc -ne 0 ] && [ -n "$said" ] && grep -qF -- "$why" <<<"$said"; then
		echo "ok - $name: fails '$check' ($why)"
	else
		failed=$((failed + 1))
		echo "not ok - $name: wanted '$check' to fail with '$why'; status $rc"
		sed 's/^/    /' "$dir/$name.out" | head -n 30
	fi
done
echo "# $((n - failed)) of $n fixtures failed their check"
[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
