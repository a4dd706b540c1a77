#!/usr/bin/env bash
# net.sh TEST_NET [ARGS...]: run the network tests, and fail if the
# machine's own interfaces, addresses, routes or firewall differ after
# from before (the tests make every change in namespaces of their own).
set -u

prog=net.sh
snapshot() {
	ip -o link show | sed 's/ qdisc.*//'
	ip -o addr show
	ip route show table all
	nft list ruleset 2>&1
	cat /proc/sys/net/ipv4/ip_forward
}

before=$(snapshot)
# A run takes about a second; one that hangs is stopped.
timeout -k 10 300 "$@"
status=$?
[ $status -ne 124 ] || echo "$prog: $1 did not end in 300 s" >&2
after=$(snapshot)
if [ "$before" != "$after" ]; then
	echo "$prog: the machine's own network changed during the tests:" >&2
	diff <(echo "$before") <(echo "$after") >&2
	exit 1
fi
echo "$prog: the machine's interfaces, routes and ruleset are as before"
exit "$status"
