#!/bin/sh
# What of stage 14's network is on this machine itself: the bridge, the
# nftables table, the leases directory, one line each. `make test` lists
# them before and after each part; a part after which a line is new made
# it on the machine's own, which no test may do (DESIGN.md, "Networks in
# tests"), and fails.
if command -v ip >/dev/null 2>&1 && ip link show minidocker0 >/dev/null 2>&1; then
	echo "the bridge minidocker0 (ip link del minidocker0)"
fi
if command -v nft >/dev/null 2>&1 && nft list table ip minidocker >/dev/null 2>&1; then
	echo "the nftables table ip minidocker (nft delete table ip minidocker)"
fi
if [ -e /run/minidocker/leases ]; then
	echo "the leases /run/minidocker/leases (rm -r /run/minidocker/leases)"
fi
exit 0
