#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The bench generator's packets are what a receiver accepts: IPv6 frames
# and IPv4 frames with --udp-csum carry UDP checksums right for every port
# and source the program rewrites (the receiving stack verifies them before
# it counts a datagram for a closed port, and counts a bad one as a checksum
# error), and IPv4 without --udp-csum carries none. The IPv6 relay and
# translation bench cases depend on it: the relay refuses to translate an
# IPv4 datagram without checksum, and a wrong one would survive its
# incremental update.
. "$(dirname "$0")/../lib/testlib.sh"
LOADGEN=${LOADGEN:-$BUILD/bench/loadgen}
t_need jq nstat nsenter "$LOADGEN" "$BUILD/bench/loadgen.bpf.o" "$XDP_TRIVIAL"

A=${XS_PREFIX}a
B=${XS_PREFIX}b
N=700 # packets per run, over 7 flows (and 5 sources for IPv4)

# mib NAME: a counter of B's stack since the last send began (absolute
# values: nstat's own history is a file per user, not per namespace).
mib() {
	local v
	v=$(in_ns "$B" nstat -asz "$1" | awk -v n="$1" '$1 == n { print $2 }')
	echo $((${v:-0} - ${MIB0[$1]:-0}))
}

# send ARGS...: N packets from A to B, the counters read before.
declare -A MIB0
send() {
	local m
	for m in Udp6NoPorts Udp6InCsumErrors UdpNoPorts UdpInCsumErrors; do
		MIB0[$m]=0
		MIB0[$m]=$(mib $m)
	done
	in_ns "$A" "$LOADGEN" send --ifname a0 --dst-mac "$(mac_of "$B" b0)" --dport 20000 \
		--flows 7 --count $N "$@" >/dev/null
	sleep 0.3
}

test_loadgen_checksums() {
	ns_create "$A" && ns_create "$B" && veth_pair "$A" a0 "$B" b0 &&
		addr_add "$B" b0 2001:db8:30::2/64 && addr_add "$B" b0 192.0.2.2/24 &&
		attach_pass "$B" b0 || { t_fail loadgen_setup "topology"; return 1; }

	send --src 2001:db8:30::1 --dst 2001:db8:30::2 --size 220
	t_eq loadgen_ipv6_checksums "$(mib Udp6NoPorts) $(mib Udp6InCsumErrors)" "$N 0" \
		"IPv6 datagrams accepted, checksum errors"
	send --src 192.0.2.10 --srcs 5 --dst 192.0.2.2 --udp-csum
	t_eq loadgen_ipv4_checksums "$(mib UdpNoPorts) $(mib UdpInCsumErrors)" "$N 0" \
		"IPv4 datagrams (checksummed, 5 sources) accepted, checksum errors"
	send --src 192.0.2.10 --srcs 5 --dst 192.0.2.2
	t_eq loadgen_ipv4_no_checksum "$(mib UdpNoPorts) $(mib UdpInCsumErrors)" "$N 0" \
		"IPv4 datagrams (no checksum) accepted, checksum errors"
	# One family per run, and one IPv6 source: refused, nothing sent.
	in_ns "$A" "$LOADGEN" send --ifname a0 --dst-mac "$(mac_of "$B" b0)" --dport 20000 \
		--src 192.0.2.10 --dst 2001:db8:30::2 --count 1 >/dev/null 2>&1
	t_eq loadgen_mixed_families_refused "$?" 2 "exit status"
	in_ns "$A" "$LOADGEN" send --ifname a0 --dst-mac "$(mac_of "$B" b0)" --dport 20000 \
		--src 2001:db8:30::1 --srcs 2 --dst 2001:db8:30::2 --count 1 >/dev/null 2>&1
	t_eq loadgen_ipv6_srcs_refused "$?" 2 "exit status"
}

run_tests "$@"
