#!/usr/bin/env bash
# netscript.sh ROOTFS CMD...: stage 14's bridge mode done with ip(8) and
# nft(8) in a shell script, the peer of stage 14's start in
# bench/engines.sh: a bridge with the gateway's address, IPv4 forwarding
# and route_localnet, a table with the masquerading rules, a process in a
# network namespace of its own (chrooted into ROOTFS, waiting), a veth
# pair with one end moved in as eth0, attached to the bridge and up; lo
# and eth0 up inside, the address, the default route; then CMD runs
# there, and, as the last container out, the bridge and the table go;
# ip -batch does the steps of each side in one process, as a script would.
# No lease (one fixed address) and no /etc files: less than stage 14
# does. Run only in a network namespace of the benchmark's own: its names
# (mdscript0, table ip mdscript, 10.78.0.0/16) are not stage 14's.
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
br=mdscript0 table=mdscript gw=10.78.0.1 addr=10.78.0.2 prefix=16
host=mdsv2 peer=mdsp2

ip -batch - <<EOF
link add $br type bridge
addr add $gw/$prefix dev $br
link set $br up
EOF
sysctl -qw net.ipv4.ip_forward=1 "net.ipv4.conf.$br.route_localnet=1"
nft -f - <<EOF
add table ip $table
add chain ip $table postrouting { type nat hook postrouting priority 100; policy accept; }
add rule ip $table postrouting ip saddr 10.78.0.0/$prefix oifname != "$br" masquerade
add rule ip $table postrouting ip saddr 127.0.0.0/8 oifname "$br" masquerade
EOF

# The container: in its namespace once it has said so, then waits for
# its network before it runs CMD (unshare execs, so the pid stays).
# Its stdio are the script's (5 and 6 here), not the coprocess's pipes.
exec 5>&1 6<&0
coproc CTR { exec unshare --net -- chroot "$rootfs" /bin/sh -c 'echo; read -r _; exec "$@" <&6 >&5 5>&- 6<&-' sh "$@"; }
pid=$CTR_PID
read -r _ <&"${CTR[0]}"
ip -batch - <<EOF
link add $host type veth peer name $peer
link set $peer netns $pid name eth0
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

# The last one out: the pair went with the namespace.
ip link del "$br"
nft delete table ip "$table"
exit "$rc"
