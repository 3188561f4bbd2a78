#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Upgrades under live traffic, on the end-to-end topology (topo.sh):
#
#   old_layout_migration  the previous release's XDP program (built from its
#       sources at UPGRADE_OLD_REV with clang, loaded with bpftool, maps
#       pinned in its layout) relays RTP both ways on a flow whose peer it
#       latched, with a blocklist entry, its note and a trusted network
#       pinned; mid-stream `xdpsbc attach e0 --replace` migrates xs_flows to
#       this version's layout and swaps the program on both arms. Not one
#       RTP packet is lost, the flow stays latched to its peer, the
#       blocklist, note and trusted network are all there, and xs_layout
#       records the new version.
#   no_migration_refused  a pin of a layout no step migrates from is refused
#       with one clear line and left exactly as it was.
#   DP_replace_restart    for DP in xdp, afxdp, udp: a call through sigd
#       with RTP both ways; mid-call the XDP program is replaced by a new
#       load (xdp, afxdp; the udp datapath runs none) while a blocked source
#       sends all along, then sigd is killed (kill -9) and started again.
#       Zero RTP packets are lost: while no sigd runs, XDP or the relay
#       process (which outlives sigd) carries the media, so the restart gap
#       costs nothing; no packet of the blocked source gets through the
#       swap; the call ends with a BYE through the restarted sigd and its
#       flows are removed.
#
#   UPGRADE_CASES="old_layout_migration"   only these cases
#   DATAPATHS="xdp udp"                     the datapaths of replace_restart
#   UPGRADE_OLD_REV=642014b                 the release whose layout is migrated
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OLD_REV=${UPGRADE_OLD_REV:-642014b}
: "${BUILD:=$ROOT/build}"
XS=${XS:-$BUILD/bin/xdpsbc}
pass() { echo "PASS $1"; }
fail() {
	local name=$1
	shift
	echo "FAIL $name: $*"
}
skip() {
	local name=$1
	shift
	echo "SKIP $name: $*"
}
UDP_PROBE=${UDP_PROBE:-$BUILD/tests/tools/udp_probe}

# ---- old-layout pins, written byte by byte (bpftool map update ... hex) ----
hex_ip() { local IFS=.; set -- $1; printf '%02x %02x %02x %02x' "$1" "$2" "$3" "$4"; }
hex_be16() { printf '%02x %02x' $(($1 >> 8)) $(($1 & 255)); }
hex_le32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
hex_zero() { local i; for ((i = 0; i < $1; i++)); do printf '00 '; done; }

# v1_flow EDGE PORT DST DPORT SRC SPORT EXPECT EPORT PEER PPORT FLAGS: a flow in
# the 104-byte layout of the previous release (loader/migrate_layouts.h).
v1_flow() {
	local key val
	key="$(hex_ip "$1") $(hex_be16 "$2") 11 00"
	val="$(hex_ip "$3") $(hex_ip "$5") $(hex_be16 "$4") $(hex_be16 "$6")"
	val+=" $(hex_ip "$7") $(hex_ip "$9") $(hex_be16 "$8") $(hex_be16 "${10}")"
	val+=" $(hex_le32 "${11}") 00 00 00 00 01 02 03 04 05 06 07 08 $(hex_zero 64)"
	bpftool map update pinned "$XDPSBC_PIN_ROOT/xs_flows" key hex $key value hex $val
}

# prog_id IFACE: the id of the XDP program on the edge's IFACE ("null": none).
prog_id() { ip -n "$NS_E" -j -d link show "$1" | jq '.[0].xdp.prog.id // null'; }

# Build the old release's XDP object from its sources in git.
build_old() {
	local src=$TOPO_WORK/old-src

	mkdir -p "$src" &&
		git -C "$ROOT" archive "$OLD_REV" bpf 2>/dev/null | tar -x -C "$src" 2>/dev/null &&
		(cd "$src" && clang -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wno-unused-value \
			-I/usr/include/"$(gcc -print-multiarch)" -Ibpf -c bpf/xdpsbc.bpf.c \
			-o "$TOPO_WORK/old.bpf.o") >"$TOPO_WORK/old-build.log" 2>&1
}

# Of the JSON summary of rtp_peer in FILE: "unique/sent-by-far corrupt".
rtp_ok() { # file n
	[ "$(jq -r .unique "$1" 2>/dev/null)" = "$2" ] && [ "$(jq -r .corrupt "$1")" = 0 ] &&
		[ "$(jq -r .duplicates "$1")" = 0 ]
}

# old_layout HOW: the previous release's pins and program, upgraded by HOW:
# cli (`xdpsbc attach e0 --replace`) or sigd (the new daemon starting).
old_layout() (
	local how=$1 n=300 d e0 e1 fl st old_id sfx
	sfx=$([ "$how" = sigd ] && echo _by_sigd)
	# shellcheck source=tests/e2e/topo.sh
	TOPO_PREFIX=xu$$m$how XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-e2e-$$-m$how
	source "$HERE/topo.sh"
	for t in clang bpftool git; do
		command -v $t >/dev/null || { skip old_layout_migration$sfx "$t missing"; exit 0; }
	done
	git -C "$ROOT" cat-file -e "$OLD_REV^{commit}" 2>/dev/null ||
		{ skip old_layout_migration$sfx "release $OLD_REV not in this checkout's history"; exit 0; }
	topo_up || { fail old_layout_migration$sfx "could not build the namespaces"; exit 1; }
	build_old || { fail old_layout_migration$sfx "old build: $(tail -n 3 "$TOPO_WORK/old-build.log")"; exit 1; }
	mkdir -p "$XDPSBC_PIN_ROOT"
	in_ns "$NS_E" bpftool prog load "$TOPO_WORK/old.bpf.o" "$XDPSBC_PIN_ROOT/xs_oldprog" type xdp \
		pinmaps "$XDPSBC_PIN_ROOT" >"$TOPO_WORK/old-load.log" 2>&1 &&
		in_ns "$NS_E" bpftool net attach xdpdrv pinned "$XDPSBC_PIN_ROOT/xs_oldprog" dev e0 &&
		in_ns "$NS_E" bpftool net attach xdpdrv pinned "$XDPSBC_PIN_ROOT/xs_oldprog" dev e1 ||
		{ fail old_layout_migration$sfx "old program: $(tail -n 3 "$TOPO_WORK/old-load.log")"; exit 1; }
	rm -f "$XDPSBC_PIN_ROOT/xs_oldprog"
	e0=$(ip -n "$NS_E" -j link show e0 | jq '.[0].ifindex')
	e1=$(ip -n "$NS_E" -j link show e1 | jq '.[0].ifindex')
	old_id=$(prog_id e0)
	# In the edge's namespace: a devmap resolves its ifindex in the writer's.
	for i in $e0 $e1; do
		in_ns "$NS_E" bpftool map update pinned "$XDPSBC_PIN_ROOT/xs_txports" key hex $(hex_le32 $i) value hex $(hex_le32 $i)
	done
	# Caller side (the NAT's own address, no masquerade) -> edge 20000 ->
	# core; the flow is latched to its peer and strict (old flags 1|2|8).
	v1_flow $EDGE_IP 20000 $CORE_IP 7078 $EDGE_CORE_IP 20002 $NAT_OUT_IP 4000 $NAT_OUT_IP 4000 11
	v1_flow $EDGE_CORE_IP 20002 $NAT_OUT_IP 4000 $EDGE_IP 20000 $CORE_IP 7078 0.0.0.0 0 0
	# Not latched yet, latching from its signalled address only (old 1|4).
	v1_flow $EDGE_IP 20010 $CORE_IP 7080 $EDGE_CORE_IP 20012 192.0.2.7 4000 0.0.0.0 0 5
	bpftool map update pinned "$XDPSBC_PIN_ROOT/xs_block4" key hex $(hex_le32 32) $(hex_ip 192.0.2.66) \
		value hex $(hex_zero 8) 01 00 00 00 00 00 00 00 $(hex_zero 16) $(hex_le32 32) 00 00 00 00
	bpftool map update pinned "$XDPSBC_PIN_ROOT/xs_blknote4" key hex $(hex_le32 32) $(hex_ip 192.0.2.66) \
		value hex 6f 6c 64 2d 72 65 6c 65 61 73 65 $(hex_zero 53)
	bpftool map update pinned "$XDPSBC_PIN_ROOT/xs_trust4" key hex $(hex_le32 24) $(hex_ip 198.51.100.0) \
		value hex $(hex_zero 8)
	if [ "$how" = sigd ]; then
		:
	elif in_ns "$NS_E" "$XS" flows >/dev/null 2>"$TOPO_WORK/ro.err" ||
		! grep -q "pinned by an earlier xdpsbc (layout 1, this version 3)" "$TOPO_WORK/ro.err"; then
		fail old_layout_refused_readonly "a listing opened the old pins: $(cat "$TOPO_WORK/ro.err")"
	else
		pass old_layout_refused_readonly
	fi

	d=$TOPO_WORK/mig
	mkdir -p "$d"
	bg_ns "$NS_K" "$d/callee.log" "$RTP_PEER" -l $CORE_IP:7078 -r $EDGE_CORE_IP:20002 -W -n $n -i 20 -t 15 -e $n -o "$d/callee.json"
	local callee=$BG_PID
	sleep 0.2
	bg_ns "$NS_N" "$d/caller.log" "$RTP_PEER" -l $NAT_OUT_IP:4000 -r $EDGE_IP:20000 -n $n -i 20 -t 15 -e $n -o "$d/caller.json"
	local caller=$BG_PID
	sleep 2
	local rc want="2 migrated to this version's layout; 1 other interfaces moved"
	if [ "$how" = sigd ]; then
		XDPSBC_DATAPATH=xdp sigd_start
		rc=$?
		cp "$TOPO_WORK/sigd.log.1" "$d/replace.out"
		want="xdpsbc program of this build swapped in on 2 interfaces"
	else
		in_ns "$NS_E" "$XS" attach e0 --replace >"$d/replace.out" 2>&1
		rc=$?
	fi
	wait "$caller" "$callee"
	if [ $rc != 0 ] || ! grep -q "$want" "$d/replace.out"; then
		fail old_layout_migration$sfx "replace: rc=$rc $(cat "$d/replace.out")"
	elif ! rtp_ok "$d/callee.json" $n || ! rtp_ok "$d/caller.json" $n; then
		fail old_layout_migration$sfx "stats: $(in_ns "$NS_E" "$XS" stats | awk '$3 != 0' | tr "\n" " ") RTP lost across the migration: caller $(cat "$d/caller.json"), callee $(cat "$d/callee.json")"
	else
		pass old_layout_migration$sfx
	fi
	fl=$(in_ns "$NS_E" "$XS" flows -j)
	st=$(jq -c '[.. | objects | select(.edge? == "203.0.113.1:20000")] | first' <<<"$fl")
	if [ "$(jq -r '.peer' <<<"$st")" != "$NAT_OUT_IP:4000" ] || ! jq -e '.flags | index("latched")' <<<"$st" >/dev/null ||
		[ "$(jq -r .packets <<<"$st")" -lt $((n - 25)) ]; then
		# (the counters of the milliseconds between copy and swap stay in the old map)
		fail migrated_flow_latched$sfx "flow after migration: $st"
	else
		pass migrated_flow_latched$sfx
	fi
	if [ "$(jq '[.. | objects | select(.edge? != null)] | length' <<<"$fl")" != 3 ]; then
		fail migrated_flows_all$sfx "want 3 flows: $fl"
	else
		pass migrated_flows_all$sfx
	fi
	if in_ns "$NS_E" "$XS" block list -j | jq -e '.. | objects | select(.cidr? == "192.0.2.66/32" and .reason? == "old-release")' >/dev/null &&
		in_ns "$NS_E" "$XS" trust list -j | grep -q '198.51.100.0/24'; then
		pass migration_kept_blocklist_trusted$sfx
	else
		fail migration_kept_blocklist_trusted$sfx "block: $(in_ns "$NS_E" "$XS" block list) trust: $(in_ns "$NS_E" "$XS" trust list)"
	fi
	if bpftool map dump pinned "$XDPSBC_PIN_ROOT/xs_layout" | grep -q '^value: 03 00 00 00 14 00 00 00  d0 00 00 00'; then
		pass layout_recorded$sfx
	else
		fail layout_recorded$sfx "$(bpftool map dump pinned "$XDPSBC_PIN_ROOT/xs_layout")"
	fi
	if [ "$(prog_id e0)" != null ] && [ "$(prog_id e1)" != null ] &&
		[ "$(prog_id e0)" != "$old_id" ] && [ "$(prog_id e1)" != "$old_id" ] &&
		! bpftool prog show id "$old_id" >/dev/null 2>&1; then
		pass both_arms_moved$sfx
	else
		fail both_arms_moved$sfx "old prog $old_id; now $(prog_id e0) $(prog_id e1)"
	fi
	[ "$how" = sigd ] && sigd_stop
	topo_down
	exit 0
)

test_old_layout_migration() { old_layout cli; old_layout sigd; }

test_no_migration_refused() (
	local pin=/sys/fs/bpf/xdpsbc-e2e-$$-r out
	mkdir -p "$pin"
	bpftool map create "$pin/xs_flows" type hash key 8 value 99 entries 16 name xs_flows flags 1
	bpftool map update pinned "$pin/xs_flows" key hex 01 02 03 04 05 06 07 08 value hex $(hex_zero 99)
	# Any command that opens the maps (here: one that creates the missing ones).
	out=$("$XS" --pin-root "$pin" block add 192.0.2.1 2>&1)
	if grep -q "key/value size 8/99, this version uses 20/208 (layout 3) and has no migration from it" <<<"$out" &&
		[ "$(bpftool map dump pinned "$pin/xs_flows" | grep -c '^key')" = 1 ] &&
		[ "$(bpftool map show pinned "$pin/xs_flows" | grep -o 'value [0-9]*B')" = "value 99B" ]; then
		pass no_migration_refused
	else
		fail no_migration_refused "$out"
	fi
	rm -rf "$pin"
	exit 0
)

# replace_restart DP: a call on datapath DP; mid-call a new program, then kill -9 of sigd.
replace_restart() (
	local dp=$1 d n=400 blocked=203.0.113.99 got=0 old_id new_id sent=0
	TOPO_PREFIX=xu$$$dp XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-e2e-$$-$dp
	# shellcheck source=tests/e2e/topo.sh
	source "$HERE/topo.sh"
	command -v sipp >/dev/null || { skip "${dp}_replace_restart" "sipp missing"; exit 0; }
	topo_up || { fail "${dp}_replace_restart" "could not build the namespaces"; exit 1; }
	topo_attach_edge native >"$TOPO_WORK/attach.log" 2>&1 &&
		XDPSBC_DATAPATH=$dp sigd_start ||
		{ fail "${dp}_replace_restart" "setup: $(tail -n 3 "$TOPO_WORK"/attach.log "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	d=$TOPO_WORK/call
	call_start "$d" $n # 8 s of media both ways, BYE at 10.5 s
	sleep 2
	if [ "$dp" != udp ]; then
		ip -n "$NS_N" addr add $blocked/32 dev n1
		in_ns "$NS_E" "$XS" block add $blocked >/dev/null
		old_id=$(prog_id e0)
		local b0
		b0=$(xs_stat drop-blocklist)
		in_ns "$NS_E" timeout 8 "$UDP_PROBE" recv $EDGE_IP 5099 3 >"$d/leak" 2>/dev/null &
		local probe=$!
		sleep 0.2
		# A blocked source sends all through both swaps.
		(for ((i = 0; i < 40; i++)); do
			in_ns "$NS_N" "$UDP_PROBE" send $blocked 0 $EDGE_IP 5099 10 >/dev/null 2>&1
			sleep 0.02
		done) &
		local sender=$!
		in_ns "$NS_E" "$XS" attach e0 --replace >"$d/replace.out" 2>&1 &&
			in_ns "$NS_E" "$XS" attach e1 --replace >>"$d/replace.out" 2>&1
		local rc=$?
		wait "$sender" "$probe"
		got=$(cat "$d/leak" 2>/dev/null || echo 0)
		new_id=$(prog_id e0)
		if [ $rc != 0 ] || [ "$old_id" = "$new_id" ]; then
			fail "${dp}_program_replaced" "rc=$rc prog $old_id -> $new_id: $(cat "$d/replace.out")"
		elif [ "${got:-0}" != 0 ] || [ $(($(xs_stat drop-blocklist) - b0)) -lt 400 ]; then
			fail "${dp}_no_unfiltered_window" "$got packets of a blocked source passed during the swap, drop-blocklist +$(($(xs_stat drop-blocklist) - b0)) of 400 sent"
		else
			pass "${dp}_program_replaced"
			pass "${dp}_no_unfiltered_window"
		fi
	fi
	sleep 1
	kill -9 "$SIGD_PID"
	wait "$SIGD_PID" 2>/dev/null
	sleep 1.5 # the restart gap: no sigd runs
	XDPSBC_DATAPATH=$dp sigd_start ||
		fail "${dp}_replace_restart" "sigd did not restart: $(tail -n 3 "$TOPO_WORK/sigd.log.$SIGD_RUNS")"
	if [ "$dp" != udp ]; then
		# The same build: the restarted sigd leaves the running program alone.
		if grep -q "swapped in" "$TOPO_WORK/sigd.log.$SIGD_RUNS" || [ "$(prog_id e0)" != "$new_id" ]; then
			fail "${dp}_same_build_kept" "sigd replaced its own build: $(grep swapped "$TOPO_WORK/sigd.log.$SIGD_RUNS")"
		else
			pass "${dp}_same_build_kept"
		fi
	fi
	call_wait "$d"
	local lost_c=$((n - $(rtp "$d" caller unique))) lost_k=$((n - $(rtp "$d" callee unique)))
	echo "# $dp: RTP lost caller<-callee $lost_c, callee<-caller $lost_k (of $n each)"
	if [ "$lost_c" != 0 ] || [ "$lost_k" != 0 ] || [ "$(rtp "$d" caller corrupt)" != 0 ] ||
		[ "$(rtp "$d" callee corrupt)" != 0 ]; then
		fail "${dp}_replace_restart" "media: caller $(cat "$d/caller-1.json"), callee $(cat "$d/callee-1.json")"
	elif [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail "${dp}_replace_restart" "BYE through the restarted sigd: caller rc=$UAC_RC callee rc=$UAS_RC"
	elif ! topo_wait 3 sh -c "[ \"\$(nsenter --net=/run/netns/$NS_E $XS flows -j | jq 'if type == \"array\" then length else (.flows // []) | length end')\" = 0 ]"; then
		fail "${dp}_replace_restart" "flows left after BYE: $(xs_flows_json)"
	elif ! grep -q "recovered 1 calls" "$TOPO_WORK/sigd.log.$SIGD_RUNS"; then
		fail "${dp}_replace_restart" "the restarted sigd did not recover the call: $(grep media "$TOPO_WORK/sigd.log.$SIGD_RUNS")"
	else
		pass "${dp}_replace_restart"
	fi
	sigd_stop
	exit 0
)

for c in ${UPGRADE_CASES:-old_layout_migration no_migration_refused replace_restart}; do
	if [ "$c" = replace_restart ]; then
		for dp in ${DATAPATHS:-xdp afxdp udp}; do
			replace_restart "$dp"
		done
	else
		"test_$c"
	fi
done
