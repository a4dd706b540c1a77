#!/usr/bin/env bash
# prove.sh RUNTIME ROOTFS [NAME...]: each check of drivers.sh can fail for
# its reason. A fixture is RUNTIME behind a wrapper that takes one thing
# away (the hostname, the pid namespace, kill, delete); drivers.sh run
# with it must fail the check named below, for both drivers.
set -u

here=$(cd "$(dirname "$0")" && pwd)
runtime=$1 rootfs=$2
shift 2
# The wrappers run from containerd's and conmon's directories: an
# absolute path, as drivers.sh makes it.
case $runtime in /*) ;; *) runtime=$PWD/$runtime ;; esac
dir=$(mktemp -d /tmp/minidocker-drivers-prove.XXXXXX) || exit 2
trap 'rm -rf "$dir"' EXIT

# NAME, what the wrapper does, and the check that must fail.
fixtures=(
	"hostname-dropped|edit del(hostname)|output, hostname, PID 1, exit 0"
	"no-pid-namespace|edit pidns|output, hostname, PID 1, exit 0"
	"kill-ignored|skip kill|kill"
	"delete-ignored|skip delete|nothing left of the killed container"
)

# The wrapper: edit the bundle's config.json before create, or answer
# a subcommand with success and do nothing.
make_wrapper() {
	local how=$1 out=$2
	cat >"$out" <<-EOF
		#!/bin/sh
		how="$how"
		bundle=. sub= prev=
		for a; do
			[ "\$prev" = --bundle ] || [ "\$prev" = -b ] && bundle=\$a
			case \$a in create | run | start | kill | delete | exec | state | ps) [ -z "\$sub" ] && sub=\$a ;; esac
			prev=\$a
		done
		case "\$how" in
		"skip \$sub") exit 0 ;;
		edit*) [ "\$sub" = create ] && python3 - "\$bundle/config.json" "\${how#edit }" <<'PY'
		import json, sys
		path, what = sys.argv[1], sys.argv[2]
		c = json.load(open(path))
		if what == "del(hostname)":
		    c.pop("hostname", None)
		elif what == "pidns":
		    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]
		json.dump(c, open(path, "w"))
		PY
		;;
		esac
		exec "$runtime" "\$@"
	EOF
	chmod +x "$out"
}

failed=0 n=0
for f in "${fixtures[@]}"; do
	IFS='|' read -r name how check <<<"$f"
	[ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name" && continue
	n=$((n + 1))
	make_wrapper "$how" "$dir/$name"
	"$here/drivers.sh" "$dir/$name" "$rootfs" >"$dir/$name.out" 2>&1
	for d in docker podman; do
		if grep -q "^not ok - $d: $check\$" "$dir/$name.out"; then
			echo "ok - $name fails $d: $check"
			grep -A 5 "^not ok - $d: $check\$" "$dir/$name.out" | tail -n 5
		else
			failed=$((failed + 1))
			echo "not ok - $name does not fail $d: $check; its run:"
			sed 's/^/    /' "$dir/$name.out" | grep -v '^    ok' | head -n 20
		fi
	done
done
echo "prove.sh: $((2 * n - failed)) of $((2 * n)) fail their check"
[ "$failed" -eq 0 ]
