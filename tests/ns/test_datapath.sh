#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# xdpsbc on a real veth: a client namespace sends real UDP to an edge
# namespace whose interface runs xdpsbc (native mode), and the test counts
# what arrives at sockets in the edge and what the counters say.
#
#   ns C (client) c0 ==== e0 ns E (edge, xdpsbc on e0)
#   192.0.2.2/24, 2001:db8::2/64     192.0.2.1/24, 2001:db8::1/64
#   extra sources on c0: 198.51.100.{7,9,200}, 203.0.113.5,
#   2001:db8:1::7, 2001:db8:2::7, 2001:db8:0:ffff::7
#
# Neighbour entries are static, so no ARP/ND crosses the link and the drop
# counters count test datagrams only.
. "$(dirname "$0")/../lib/testlib.sh"
t_need jq bpftool xdp-loader ethtool nsenter "$XS" "$UDP_PROBE" "$XDP_TRIVIAL"

C=${XS_PREFIX}c
E=${XS_PREFIX}e
E4=192.0.2.1
E6=2001:db8::1
N=5 # datagrams per probe

topo() {
	local a mac
	ns_create "$C" && ns_create "$E" && veth_pair "$C" c0 "$E" e0 || return 1
	addr_add "$E" e0 $E4/24 && addr_add "$E" e0 $E6/64 &&
		addr_add "$C" c0 192.0.2.2/24 && addr_add "$C" c0 2001:db8::2/64 || return 1
	for a in 198.51.100.7/32 198.51.100.9/32 198.51.100.200/32 203.0.113.5/32 \
		2001:db8:1::7/128 2001:db8:2::7/128 2001:db8:0:ffff::7/128; do
		addr_add "$C" c0 "$a" || return 1
	done
	mac=$(mac_of "$E" e0)
	neigh_static "$C" c0 $E4 "$mac" && neigh_static "$C" c0 $E6 "$mac" || return 1
	tx_off "$C" c0 && attach_pass "$C" c0 || return 1
	in_ns "$E" "$XS" attach e0 --mode native >/dev/null
}

# arrive SRC DST PORT: how many of N datagrams from SRC reach DST:PORT in E.
arrive() {
	local tag=r$RANDOM
	udp_recv_start "$E" "$2" "$3" 3 "$tag" || { echo "recv-failed"; return; }
	udp_send "$C" "$1" 0 "$2" "$3" $N
	# The receiver stops at its time limit; N datagrams are long in by then.
	udp_recv_count "$tag"
}

# arrive_n SRC DST PORT: as arrive, but stop as soon as N arrived.
arrive_n() {
	local tag=r$RANDOM
	in_ns "$E" timeout 10 "$UDP_PROBE" recv "$2" "$3" 2 $N >"$T_DIR/recv.$tag" \
		2>"$T_DIR/recv.$tag.err" &
	local pid=$!
	wait_for 50 grep -q ready "$T_DIR/recv.$tag.err"
	udp_send "$C" "$1" 0 "$2" "$3" $N
	wait $pid
	cat "$T_DIR/recv.$tag"
}

stat_of() { xs stats -j | jq -r --arg r "$1" '.reasons[$r].packets'; }

setup_or_fail() {
	topo || { t_fail "$1" "topology or attach failed"; return 1; }
}

test_v6_media_drop() {
	setup_or_fail v6_media_setup || return 1
	xs media ipv4-only on >/dev/null
	t_eq v6_media_dropped "$(arrive 2001:db8::2 $E6 10000)" 0 "IPv6 RTP datagrams arriving"
	t_eq v6_media_range_top "$(arrive 2001:db8::2 $E6 20000)" 0 "IPv6 to port 20000"
	t_eq v6_sip_arrives "$(arrive_n 2001:db8::2 $E6 5060)" $N "IPv6 SIP datagrams arriving"
	t_eq v6_above_range "$(arrive_n 2001:db8::2 $E6 20001)" $N "IPv6 to port 20001"
	t_eq v4_media_arrives "$(arrive_n 192.0.2.2 $E4 10000)" $N "IPv4 RTP datagrams arriving"
	t_eq v6_media_counter "$(stat_of drop-v6-media)" $((2 * N)) "drop-v6-media packets"
	# Run-time changes, no reload: the same program id throughout.
	local id
	id=$(in_ns "$E" "$XS" status -j | jq '.interfaces[0].prog_id')
	xs media ports 30000-30010 >/dev/null
	t_eq v6_ports_moved_old "$(arrive_n 2001:db8::2 $E6 10000)" $N "IPv6 to 10000 after the move"
	t_eq v6_ports_moved_new "$(arrive 2001:db8::2 $E6 30005)" 0 "IPv6 to 30005 after the move"
	t_eq v6_turn_off_3478 "$(arrive_n 2001:db8::2 $E6 3478)" $N "IPv6 to 3478, turn off"
	xs media turn on >/dev/null
	t_eq v6_turn_on_3478 "$(arrive 2001:db8::2 $E6 3478)" 0 "IPv6 to 3478, turn on"
	t_eq v6_turn_on_relay "$(arrive 2001:db8::2 $E6 49200)" 0 "IPv6 to 49200, turn on"
	xs media ipv4-only off >/dev/null
	t_eq v6_media_off "$(arrive_n 2001:db8::2 $E6 30005)" $N "IPv6 media with ipv4-only off"
	t_eq v6_same_program "$(in_ns "$E" "$XS" status -j | jq '.interfaces[0].prog_id')" "$id" "prog id"
}

test_blocklist_24() {
	setup_or_fail block_setup || return 1
	xs block add 198.51.100.0/24 --reason test >/dev/null
	xs block add 2001:db8:1::/48 >/dev/null
	t_eq block_v4_inside_low "$(arrive 198.51.100.7 $E4 5060)" 0 "from 198.51.100.7"
	t_eq block_v4_inside_high "$(arrive 198.51.100.200 $E4 5060)" 0 "from 198.51.100.200"
	t_eq block_v4_neighbour "$(arrive_n 203.0.113.5 $E4 5060)" $N "from 203.0.113.5"
	t_eq block_v4_other "$(arrive_n 192.0.2.2 $E4 5060)" $N "from 192.0.2.2"
	t_eq block_v6_inside "$(arrive 2001:db8:1::7 $E6 5060)" 0 "from 2001:db8:1::7"
	t_eq block_v6_next "$(arrive_n 2001:db8:2::7 $E6 5060)" $N "from 2001:db8:2::7"
	t_eq block_v6_prev "$(arrive_n 2001:db8:0:ffff::7 $E6 5060)" $N "from 2001:db8:0:ffff::7"
	t_eq block_counter "$(stat_of drop-blocklist)" $((3 * N)) "drop-blocklist packets"
	t_eq block_hits "$(xs block list -j | jq -c '[.[] | [.cidr, .hits]]')" \
		"[[\"198.51.100.0/24\",$((2 * N))],[\"2001:db8:1::/48\",$N]]" "hits per entry"
	t_check block_last_hit "no last-hit time" \
		bash -c "'$XS' block list -j | jq -e 'all(.[]; .last_hit != null)' >/dev/null"
	xs block del 198.51.100.0/24 >/dev/null
	t_eq block_del_arrives "$(arrive_n 198.51.100.7 $E4 5060)" $N "from 198.51.100.7 after del"
}

test_trust_beats_block() {
	setup_or_fail trust_setup || return 1
	xs block add 198.51.100.0/24 >/dev/null
	xs trust add 198.51.100.9 >/dev/null
	t_eq trust_arrives "$(arrive_n 198.51.100.9 $E4 5060)" $N "trusted 198.51.100.9"
	t_eq trust_others_blocked "$(arrive 198.51.100.7 $E4 5060)" 0 "untrusted 198.51.100.7"
	t_eq trust_counter "$(stat_of pass-trusted)" $N "pass-trusted packets"
	t_eq trust_hits "$(xs trust list -j | jq '.[0].hits')" $N "trust hits"
	t_eq trust_block_counter "$(stat_of drop-blocklist)" $N "drop-blocklist packets"
}

test_expired_block() {
	setup_or_fail expired_setup || return 1
	xs block add 203.0.113.5 --for 2s >/dev/null
	t_eq expired_before "$(arrive 203.0.113.5 $E4 5060)" 0 "while the block is live"
	sleep 2
	t_eq expired_in_list "$(xs block list -j | jq -r '.[0].expired')" true "listed as expired"
	t_eq expired_passes "$(arrive_n 203.0.113.5 $E4 5060)" $N "after expiry, before gc"
	t_eq expired_still_there "$(xs block list -j | jq length)" 1 "entries before gc"
	t_eq expired_gc "$(xs gc -j | jq .removed)" 1 "gc removed"
	t_eq expired_gone "$(xs block list -j | jq length)" 0 "entries after gc"
}

test_survives_detach_attach() {
	local before after
	setup_or_fail survive_setup || return 1
	xs block add 198.51.100.0/24 --for 1h --reason survive >/dev/null
	xs trust add 198.51.100.9 >/dev/null
	xs media ipv4-only on >/dev/null
	xs media ports 12000-12100 >/dev/null
	before=$({ xs block list -j | jq -c 'map(del(.remaining_s, .expires, .added))'; xs trust list -j; xs media ipv4-only status -j; } 2>&1)
	in_ns "$E" "$XS" detach e0 >/dev/null || t_fail survive_detach "detach failed"
	t_eq survive_detached_passes "$(arrive_n 198.51.100.7 $E4 5060)" $N "blocked source while detached"
	t_check survive_no_prog "e0 still has XDP" \
		bash -c "! nsenter --net=/run/netns/$E ip -d link show e0 | grep -q 'prog/xdp'"
	in_ns "$E" "$XS" attach e0 >/dev/null || t_fail survive_attach "attach failed"
	after=$({ xs block list -j | jq -c 'map(del(.remaining_s, .expires, .added))'; xs trust list -j; xs media ipv4-only status -j; } 2>&1)
	t_eq survive_state "$after" "$before" "block/trust/settings after detach+attach"
	t_eq survive_block "$(arrive 198.51.100.7 $E4 5060)" 0 "blocked source after re-attach"
	t_eq survive_trust "$(arrive_n 198.51.100.9 $E4 5060)" $N "trusted source after re-attach"
	t_eq survive_media "$(arrive 2001:db8::2 $E6 12050)" 0 "IPv6 media after re-attach"
}

test_inspection() {
	setup_or_fail inspect_setup || return 1
	xs block add 198.51.100.0/24 >/dev/null
	xs media ipv4-only on >/dev/null
	# addr is a __be32 that bpftool prints as a host (little-endian) integer:
	# 198.51.100.0 -> 198 + 51 * 2^8 + 100 * 2^16.
	t_eq bpftool_block_key "$(bpftool map dump pinned "$XDPSBC_PIN_ROOT/xs_block4" -j |
		jq -c '.[0].formatted.key')" \
		"{\"prefixlen\":24,\"addr\":$((198 + 51 * 256 + 100 * 65536))}" "formatted key"
	t_eq bpftool_block_value "$(bpftool map dump pinned "$XDPSBC_PIN_ROOT/xs_block4" -j |
		jq '.[0].formatted.value.prefixlen')" 24 "formatted value"
	t_eq bpftool_config "$(bpftool map dump pinned "$XDPSBC_PIN_ROOT/xs_config" -j |
		jq -c '.[0].formatted.value | [.flags % 2, .rtp_min, .rtp_max]')" "[1,10000,20000]" "xs_config"
	t_check xdp_loader_status "xdp-loader status does not show xdpsbc" \
		bash -c "nsenter --net=/run/netns/$E xdp-loader status e0 | grep -qE 'e0 +xdpsbc +native'"
	t_eq status_iface "$(in_ns "$E" "$XS" status -j | jq -c '.interfaces | map([.name, .mode])')" \
		'[["e0","native"]]' "status interfaces"
	# The counters of xdpsbc stats are the map's, summed over CPUs.
	arrive 198.51.100.7 $E4 5060 >/dev/null
	t_eq stats_match_map "$(stat_of drop-blocklist)" "$(bpftool map dump pinned \
		"$XDPSBC_PIN_ROOT/xs_stats" -j | jq '[.[] | select(.formatted.key == 5) |
		.formatted.values[].value.packets] | add')" "stats vs bpftool"
}

test_skb_mode() {
	ns_create "$C" && ns_create "$E" && veth_pair "$C" c0 "$E" e0 || { t_fail skb_setup "topology"; return 1; }
	addr_add "$E" e0 $E4/24 && addr_add "$C" c0 192.0.2.2/24 && addr_add "$C" c0 198.51.100.7/32
	neigh_static "$C" c0 $E4 "$(mac_of "$E" e0)"
	tx_off "$C" c0
	in_ns "$E" "$XS" attach e0 --mode skb >/dev/null || { t_fail skb_attach "attach --mode skb failed"; return 1; }
	t_eq skb_status "$(in_ns "$E" "$XS" status -j | jq -r '.interfaces[0].mode')" skb "mode"
	xs block add 198.51.100.0/24 >/dev/null
	t_eq skb_blocked "$(arrive 198.51.100.7 $E4 5060)" 0 "blocked source in skb mode"
	t_eq skb_passes "$(arrive_n 192.0.2.2 $E4 5060)" $N "other source in skb mode"
}

test_unload() {
	setup_or_fail unload_setup || return 1
	xs block add 198.51.100.0/24 >/dev/null
	in_ns "$E" "$XS" unload >/dev/null || t_fail unload_cmd "unload failed"
	t_check unload_detached "e0 still has XDP" \
		bash -c "! nsenter --net=/run/netns/$E ip -d link show e0 | grep -q 'prog/xdp'"
	t_check unload_pins_gone "pins remain" test ! -e "$XDPSBC_PIN_ROOT/xs_block4"
	t_eq unload_traffic "$(arrive_n 198.51.100.7 $E4 5060)" $N "traffic after unload"
}

# Native refused (a bridge device has no driver XDP): auto falls back to skb
# and says so; an explicit native fails; single-program mode is announced.
test_attach_modes() {
	ns_create "$E" || { t_fail modes_setup "namespace"; return 1; }
	in_ns "$E" ip link add d0 type bridge && in_ns "$E" ip link set d0 up ||
		{ t_fail modes_setup "bridge device"; return 1; }
	in_ns "$E" "$XS" attach d0 --mode native >"$T_DIR/out" 2>"$T_DIR/err"
	t_check modes_native_refused "explicit native on a bridge did not fail" test $? != 0
	t_check modes_native_msg "no one-line error" \
		bash -c "[ \$(wc -l <'$T_DIR/err') = 1 ] && grep -q 'd0: attach in native mode failed' '$T_DIR/err'"
	in_ns "$E" "$XS" attach d0 >"$T_DIR/out" 2>"$T_DIR/err"
	t_check modes_auto_ok "auto attach on a bridge failed: $(cat "$T_DIR/err")" test $? = 0
	t_check modes_fallback_msg "no fallback warning" \
		grep -q 'd0: native XDP failed.*falling back to generic (skb) mode' "$T_DIR/err"
	t_check modes_single_note "no single-program note" grep -q 'dispatcher' "$T_DIR/out"
	t_eq modes_status_skb "$(in_ns "$E" "$XS" status -j | jq -r '.interfaces[0].mode')" skb
	t_check modes_xdp_loader "xdp-loader does not show skb mode" \
		bash -c "nsenter --net=/run/netns/$E xdp-loader status d0 | grep -qE 'd0 +xdpsbc +skb'"
}

# Not ours: another program is neither replaced nor detached; twice is refused.
test_attach_conflicts() {
	ns_create "$C" && ns_create "$E" && veth_pair "$C" c0 "$E" e0 ||
		{ t_fail conflicts_setup "topology"; return 1; }
	attach_pass "$E" e0 || { t_fail conflicts_setup "xdp_pass"; return 1; }
	in_ns "$E" "$XS" attach e0 >/dev/null 2>"$T_DIR/err"
	t_check conflicts_other_prog "attached over another program" \
		grep -q 'another XDP program is attached' "$T_DIR/err"
	in_ns "$E" "$XS" detach e0 >/dev/null 2>"$T_DIR/err"
	t_check conflicts_detach_other "detached another program" \
		grep -q 'not xdpsbc' "$T_DIR/err"
	t_check conflicts_still_there "xdp_pass was removed" \
		bash -c "nsenter --net=/run/netns/$E xdp-loader status e0 | grep -q xdp_pass"
	in_ns "$E" ip link set dev e0 xdp off
	in_ns "$E" "$XS" attach e0 >/dev/null || t_fail conflicts_attach "attach failed"
	in_ns "$E" "$XS" attach e0 >/dev/null 2>"$T_DIR/err"
	t_check conflicts_twice "second attach not refused" grep -q 'already attached' "$T_DIR/err"
}

# Two pin roots side by side: unload of one leaves the other's interface armed.
test_pin_roots_isolated() {
	local other=$XDPSBC_PIN_ROOT-other
	ns_create "$C" && ns_create "$E" && veth_pair "$C" c0 "$E" e0 &&
		veth_pair "$C" c1 "$E" e1 || { t_fail roots_setup "topology"; return 1; }
	in_ns "$E" "$XS" attach e0 >/dev/null && in_ns "$E" "$XS" --pin-root "$other" attach e1 >/dev/null ||
		{ t_fail roots_attach "attach failed"; return 1; }
	t_eq roots_status_own "$(in_ns "$E" "$XS" status -j | jq -c '[.interfaces[].name]')" '["e0"]'
	in_ns "$E" "$XS" unload >/dev/null
	t_eq roots_other_armed "$(in_ns "$E" "$XS" --pin-root "$other" status -j | jq -c '[.interfaces[].name]')" '["e1"]'
	t_check roots_other_pins "the other pin root lost its pins" test -e "$other/xs_block4"
	in_ns "$E" "$XS" --pin-root "$other" unload >/dev/null
	t_check roots_other_unloaded "the other pin root still pinned" test ! -e "$other"
}

run_tests "$@"
