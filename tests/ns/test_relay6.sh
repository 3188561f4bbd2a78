#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The XDP relay with real IPv6 traffic: an IPv6-only client and a dual-stack
# core exchange RTP through the edge, one call translated between IPv6 and
# IPv4 and one relayed IPv6 to IPv6, on flows written directly into xs_flows
# (flow_put: no SIP). Every RTP packet is checked byte for byte by rtp_peer,
# both ways, and the flows' and reasons' counters are compared with what was
# sent.
#
#   ns A (client)  a0 ==== e6  ns E (edge, xdpsbc on e6 and e4)  e4 ==== b0  ns B (core)
#   2001:db8:6::2/64     2001:db8:6::1/64      198.51.100.1/24        198.51.100.2/24
#                                              2001:db8:4::1/64       2001:db8:4::2/64
. "$(dirname "$0")/../lib/testlib.sh"
RTP_PEER=${RTP_PEER:-$BUILD/tests/tools/rtp_peer}
FLOW_PUT=${FLOW_PUT:-$BUILD/tests/tools/flow_put}
t_need jq ethtool nsenter "$XS" "$RTP_PEER" "$FLOW_PUT" "$XDP_TRIVIAL"

A=${XS_PREFIX}a
B=${XS_PREFIX}b
E=${XS_PREFIX}e
A6=2001:db8:6::2 E6=2001:db8:6::1
B4=198.51.100.2 E4=198.51.100.1
B6=2001:db8:4::2 E6B=2001:db8:4::1
N=200

topo() {
	ns_create "$A" && ns_create "$B" && ns_create "$E" || return 1
	veth_pair "$A" a0 "$E" e6 && veth_pair "$B" b0 "$E" e4 || return 1
	addr_add "$A" a0 $A6/64 && addr_add "$E" e6 $E6/64 &&
		addr_add "$B" b0 $B4/24 && addr_add "$B" b0 $B6/64 &&
		addr_add "$E" e4 $E4/24 && addr_add "$E" e4 $E6B/64 || return 1
	# Static neighbours: no ND/ARP on the wire, and the FIB has its answers.
	neigh_static "$A" a0 $E6 "$(mac_of "$E" e6)" &&
		neigh_static "$B" b0 $E4 "$(mac_of "$E" e4)" &&
		neigh_static "$B" b0 $E6B "$(mac_of "$E" e4)" &&
		neigh_static "$E" e6 $A6 "$(mac_of "$A" a0)" &&
		neigh_static "$E" e4 $B4 "$(mac_of "$B" b0)" &&
		neigh_static "$E" e4 $B6 "$(mac_of "$B" b0)" || return 1
	# bpf_fib_lookup wants forwarding on, for each family.
	in_ns "$E" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1 ||
		return 1
	tx_off "$A" a0 && tx_off "$B" b0 && attach_pass "$A" a0 && attach_pass "$B" b0 || return 1
	in_ns "$E" "$XS" attach e6 --mode native >/dev/null &&
		in_ns "$E" "$XS" attach e4 --mode native >/dev/null
}

# The two calls: A's packets latch from A6 only, B's from B's address.
flows() {
	"$FLOW_PUT" $E6 20000 $E4 20002 $B4 6000 $A6 &&
		"$FLOW_PUT" $E4 20002 $E6 20000 $A6 4000 $B4 &&
		"$FLOW_PUT" $E6 20004 $E6B 20006 $B6 6002 $A6 &&
		"$FLOW_PUT" $E6B 20006 $E6 20004 $A6 4002 $B6
}

stat_of() { xs stats -j | jq -r --arg r "$1" '.reasons[$r].packets'; }
flow_pkts() { xs flows -j | jq -r --arg e "$1" '.[] | select(.edge == $e) | .packets'; }

# peer NS LOCAL REMOTE OUT [-W]: rtp_peer in the background, N packets, 5 ms apart.
peer() {
	in_ns "$1" timeout 40 "$RTP_PEER" -l "$2" -r "$3" -n $N -i 5 -e $N -t 30 -o "$4" ${5:-} &
}

# check NAME FILE SOURCE: all N arrived intact, from SOURCE only.
check() {
	local j
	j=$(cat "$2" 2>/dev/null)
	t_eq "$1" "$(jq -r '"\(.unique) \(.corrupt) \(.duplicates) \(.sources) \(.source)"' <<<"$j")" \
		"$N 0 0 1 $3" "unique corrupt duplicates sources source"
}

test_relay6() {
	topo || { t_fail relay6_setup "topology or attach failed"; return 1; }
	flows || { t_fail relay6_setup "flow_put failed"; return 1; }
	xs media ports 20000-20010 >/dev/null

	# media ipv4-only on: the IPv6 leg's media is dropped, flows or not.
	xs media ipv4-only on >/dev/null
	in_ns "$A" timeout 10 "$RTP_PEER" -l "[$A6]:4000" -r "[$E6]:20000" -n 50 -i 1 -t 3 -L 300 \
		-o "$T_DIR/a_on.json"
	t_eq relay6_v4only_dropped "$(stat_of drop-v6-media)" 50 "drop-v6-media packets"
	t_eq relay6_v4only_nothing_relayed "$(flow_pkts "[$E6]:20000")" 0 "flow packets"

	xs media ipv4-only off >/dev/null
	flows || { t_fail relay6_setup "flow_put failed"; return 1; } # a fresh latch window
	# The core answers once the client's first packet is in (-W): both are bound by then.
	# IPv6 client <-> IPv4 core, translated in XDP both ways; IPv6 client <-> IPv6 core.
	peer "$B" "$B4:6000" "$E4:20002" "$T_DIR/b.json" -W
	peer "$B" "[$B6]:6002" "[$E6B]:20006" "$T_DIR/b6.json" -W
	sleep 0.5
	peer "$A" "[$A6]:4000" "[$E6]:20000" "$T_DIR/a.json"
	peer "$A" "[$A6]:4002" "[$E6]:20004" "$T_DIR/a6.json"
	wait
	check relay6_xlat_v4_to_v6_intact "$T_DIR/a.json" "[$E6]:20000"
	check relay6_xlat_v6_to_v4_intact "$T_DIR/b.json" "$E4:20002"
	check relay6_v6_a_intact "$T_DIR/a6.json" "[$E6]:20004"
	check relay6_v6_b_intact "$T_DIR/b6.json" "[$E6B]:20006"
	t_eq relay6_flow_counts "$(flow_pkts "[$E6]:20000") $(flow_pkts "$E4:20002") \
$(flow_pkts "[$E6]:20004") $(flow_pkts "[$E6B]:20006")" "$N $N $N $N" "packets per flow"
	t_eq relay6_redirect_counter "$(stat_of relay-redirect)" $((4 * N)) "relay-redirect packets"
	t_eq relay6_latched "$(xs flows -j | jq -r '[.[] | select(.flags | test("latched"))] | length')" \
		4 "latched flows"
	t_eq relay6_flows_json "$(xs flows -j | jq -r --arg e "[$E6]:20000" \
		'.[] | select(.edge == $e) | "\(.family) \(.family_out) \(.dst) \(.peer)"')" \
		"6 4 $B4:6000 [$A6]:4000" "family family_out dst peer"

	# A stranger on the IPv6 side cannot inject into the latched flow.
	addr_add "$A" a0 2001:db8:6::66/64
	in_ns "$A" timeout 10 "$RTP_PEER" -l "[2001:db8:6::66]:4000" -r "[$E6]:20000" -n 20 -i 1 \
		-t 3 -L 300 -o "$T_DIR/x.json"
	t_eq relay6_stranger_dropped "$(flow_pkts "[$E6]:20000") $(stat_of drop-media-source)" \
		"$N 20" "flow packets, drop-media-source"
}

test_relay6_udp_datapath() {
	t_skip relay6_udp_datapath "the udp and afxdp datapaths relay IPv4 flows only (IPv6 and translated flows stay in XDP)"
}

run_tests "$@"
