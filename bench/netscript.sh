#!/usr/bin/env bash
# netscript.sh ROOTFS CMD...: stage 14's bridge mode done with ip(8) and
# nft(8) in a shell script, the peer of stage 14's start in
# bench/engines.sh, asking the kernel for what stage 14 asks: the bridge
# with the gateway's address, up, IPv4 forwarding and route_localnet, and
# the table with the masquerading rules, each made only when missing (one
# look, as stage 14 takes); a process in a network namespace of its own
# (chrooted into ROOTFS, waiting); a veth pair with its peer made in that
# namespace as eth0 (one queue each way, as stage 14 makes it), the
# host's end on the bridge and up; lo and eth0 up inside, the address,
# the default route; then CMD runs there, and the last container out (no
# other port on the bridge) removes the bridge and the table. ip -batch
# does the steps of each side in one process, as a script would. No
# lease (an address by pid), no /etc files, and no wait for the pair to
# go with the namespace: less than stage 14 does. Run only in a network
# namespace of the benchmark's own: its names (mdscript0, table ip
# mdscript, 10.78.0.0/16) are not stage 14's.
set -eu

[ $# -ge 2 ] || {
	echo "usage: netscript.sh ROOTFS CMD..." >&2
	exit 2
}
rootfs=$1
shift
# Never in the machine's own network namespace: the caller names it
# (readlink /proc/self/ns/net before its unshare -n) in NETSCRIPT_HOST_NS.
# /proc/1/ns/net cannot tell: it is not readable everywhere.
here=$(readlink /proc/self/ns/net)
if [ -z "${NETSCRIPT_HOST_NS:-}" ] || [ -z "$here" ] || [ "$here" = "$NETSCRIPT_HOST_NS" ]; then
	echo "netscript.sh: refusing to run: not in a network namespace other than NETSCRIPT_HOST_NS ('${NETSCRIPT_HOST_NS:-}'; here '$here')" >&2
	exit 2
fi
br=mdscript0 table=mdscript gw=10.78.0.1 prefix=16
# An address and a host's end of its own for each run at once (a holder
# and the timed runs), by pid.
n=$(($$ % 65000 + 2))
addr=10.78.$((n / 256)).$((n % 256)) host=mdsv$$

if ! ip link show "$br" >/dev/null 2>&1; then
	ip -batch - <<EOF
link add $br type bridge
addr add $gw/$prefix dev $br
link set $br up
EOF
fi
sysctl -qw net.ipv4.ip_forward=1 "net.ipv4.conf.$br.route_localnet=1"
if ! nft list chain ip "$table" postrouting >/dev/null 2>&1; then
	nft -f - <<EOF
add table ip $table
add chain ip $table postrouting { type nat hook postrouting priority 100; policy accept; }
flush chain ip $table postrouting
add rule ip $table postrouting ip saddr 10.78.0.0/$prefix oifname != "$br" masquerade
add rule ip $table postrouting ip saddr 127.0.0.0/8 oifname "$br" masquerade
EOF
fi

# The container: in its namespace once it has said so, then waits for
# its network before it runs CMD (unshare execs, so the pid stays).
# Its stdio are the script's (5 and 6 here), not the coprocess's pipes.
exec 5>&1 6<&0
coproc CTR { exec unshare --net -- chroot "$rootfs" /bin/sh -c 'echo; read -r _; exec "$@" <&6 >&5 5>&- 6<&-' sh "$@"; }
pid=$CTR_PID
read -r _ <&"${CTR[0]}"
ip -batch - <<EOF
link add $host numtxqueues 1 numrxqueues 1 type veth peer name eth0 numtxqueues 1 numrxqueues 1 netns $pid
link set $host master $br up
EOF
nsenter -t "$pid" -n ip -batch - <<EOF
link set lo up
addr add $addr/$prefix dev eth0
link set eth0 up
route add default via $gw
EOF
echo go >&"${CTR[1]}"
rc=0
wait "$pid" || rc=$?

# The pair goes with the namespace. The last one out (no port on the
# bridge but its own, going) removes what the containers share.
if ! ip -o link show master "$br" | grep -qv "^[0-9]*: $host@"; then
	ip link del "$br"
	nft delete table ip "$table"
fi
exit "$rc"
