#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Calls end to end through the edge (in namespaces): a caller
# behind a masquerading NAT calls the core through xdpsbc-sigd, RTP and RTCP
# flow both ways and are relayed by the XDP program on a two-armed edge.
# One topology and one sigd serve every case; each case places its own call
# (teardown_pinholes looks at the call of call_media). Prints PASS/FAIL/SKIP
# lines (tests/lib/check.h). Takes about a minute.
#
#   E2E_CASES="call_media cancel"  run only these cases (names without test_)
#   E2E_XDP_MODE=skb               attach the edge in generic mode (default native)
#   DATAPATH=afxdp                 sigd on another datapath: xdp (default), afxdp, udp
#   TOPO_KEEP=1                    keep the sipp traces, media summaries, sigd logs
set -u
source "$(dirname "$0")/topo.sh"

# DATAPATH=xdp|afxdp|udp: the datapath sigd runs (docs/datapaths.md);
# tests/e2e/test_datapaths.sh runs this suite on each. The assertions are
# the same on every path, except how the relay shows in the counters.
DATAPATH=${DATAPATH:-${XDPSBC_DATAPATH:-xdp}}
export XDPSBC_DATAPATH=$DATAPATH

NPKT=150 # per direction, 20 ms apart: a 3 s call

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$RTP_PEER" "$XDP_TRIVIAL"; do
		[ -x "$what" ] || [ -f "$what" ] || { echo "$what not built"; return 1; }
	done
	command -v sipp >/dev/null || { echo "sipp missing"; return 1; }
	command -v nft >/dev/null || { echo "nft missing"; return 1; }
	return 0
}

# edge_drops: the edge's non-zero drop counters, on one line.
edge_drops() {
	in_ns "$NS_E" "$XS" stats 2>/dev/null | awk '$2 == "drop" && $3 != 0 { printf "%s=%s ", $1, $3 }'
}

# wait_flows N SECONDS: until the edge has N flows.
wait_flows() {
	local i

	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(xs_flows_json | jq length)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# Media complete and intact at end @who of the call in @dir, sent by the far end.
check_media() {
	local name=$1 dir=$2 who=$3 far=$4 n=$5 f

	f=$dir/$who-1.json
	[ -s "$f" ] || { fail "$name" "no media summary from the $who ($(cat "$dir/$who-1.err" 2>/dev/null))"; return 1; }
	if [ "$(rtp "$dir" "$who" unique)" != "$n" ] || [ "$(rtp "$dir" "$who" corrupt)" != 0 ] ||
		[ "$(rtp "$dir" "$who" duplicates)" != 0 ] || [ "$(rtp "$dir" "$who" foreign)" != 0 ] ||
		[ "$(rtp "$dir" "$far" sent)" != "$n" ]; then
		fail "$name" "$who expected $n intact packets from the $far: $(cat "$f"); edge drops: $(edge_drops)"
		return 1
	fi
	# Symmetric: media comes from the edge's relay port the end sends to.
	if [ "$(rtp "$dir" "$who" source)" != "$(rtp "$dir" "$who" remote)" ]; then
		fail "$name" "$who got media from $(rtp "$dir" "$who" source), sends to $(rtp "$dir" "$who" remote)"
		return 1
	fi
	return 0
}

sip_ok() { # name dir
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail "$1" "sipp caller rc=$UAC_RC callee rc=$UAS_RC: $(tail -n 3 "$2/uac.err" "$2/uas.err" 2>/dev/null | tr '\n' ' ')"
		return 1
	fi
}

# A call through NAT and the edge: RTP both ways, complete and intact, the SDP
# the callee saw points at the edge, RTCP relayed too; and the counters show
# that XDP relayed it (relay-redirect on this two-armed edge) while the edge's
# own UDP stack and forwarding path saw none of it.
test_call_media() {
	local d=$TOPO_WORK/call_media redir0 tx0 udp0 redir tx udp fwd xsk0 xsk got what

	redir0=$(xs_stat relay-redirect)
	xsk0=$(xs_stat redirect-xsk)
	tx0=$(xs_stat relay-tx)
	udp0=$(edge_udp_in)
	call_start "$d" $NPKT
	sleep 2
	xs_flows_json >"$d/flows-mid.json"
	call_wait "$d"
	sip_ok call_media "$d" &&
		check_media call_media "$d" caller callee $NPKT &&
		check_media call_media "$d" callee caller $NPKT && {
		# The callee saw the edge, not the caller's private address, in the offer.
		if sip_msg "$d/uas.msg" received '^INVITE' | grep -q '^[com]=.*10\.0\.0\.2'; then
			fail call_media "the caller's private 10.0.0.2 reached the core in the SDP: $(sip_msg "$d/uas.msg" received '^INVITE' | grep '^[com]=')"
		elif [ "$(rtp "$d" callee remote | cut -d: -f1)" != $EDGE_IP ] ||
			[ "$(rtp "$d" caller remote | cut -d: -f1)" != $EDGE_IP ]; then
			fail call_media "SDP not anchored on the edge: caller sends to $(rtp "$d" caller remote), callee to $(rtp "$d" callee remote)"
		elif [ "$(rtp "$d" caller rtcp_received)" != "$(rtp "$d" callee rtcp_sent)" ] ||
			[ "$(rtp "$d" callee rtcp_received)" != "$(rtp "$d" caller rtcp_sent)" ]; then
			fail call_media "RTCP: caller got $(rtp "$d" caller rtcp_received)/$(rtp "$d" callee rtcp_sent), callee $(rtp "$d" callee rtcp_received)/$(rtp "$d" caller rtcp_sent)"
		else
			pass call_media
		fi
	}

	redir=$(($(xs_stat relay-redirect) - redir0))
	xsk=$(($(xs_stat redirect-xsk) - xsk0))
	tx=$(($(xs_stat relay-tx) - tx0))
	udp=$(($(edge_udp_in) - udp0))
	fwd=$(in_ns "$NS_E" nft -j list chain inet xsedge edgefwd 2>/dev/null |
		jq '[.. | objects | .counter? | objects | .packets] | add // 0')
	# Every RTP and RTCP packet that arrived crossed the edge between its arms.
	local want=$(($(rtp "$d" caller unique) + $(rtp "$d" callee unique) +
		$(rtp "$d" caller rtcp_received) + $(rtp "$d" callee rtcp_received)))
	# How each datapath relays: xdp in the driver (relay-redirect), afxdp
	# handed from XDP to its sockets (redirect-xsk), both past the edge's
	# UDP stack; udp through the stack's sockets (relay-redirect, counted by
	# the relay). On none does the edge's stack forward anything.
	got=$redir what=relay-redirect
	[ "$DATAPATH" = afxdp ] && got=$xsk what=redirect-xsk
	if [ "$got" -lt "$want" ]; then
		fail ${DATAPATH}_relayed "$what grew by $got (relay-tx $tx), want >= $want"
	elif [ "$DATAPATH" != udp ] && [ "$udp" -ge $((want / 4)) ]; then
		fail ${DATAPATH}_relayed "the edge's UDP stack received $udp datagrams during the call (media count $want)"
	elif [ "$fwd" != 0 ]; then
		fail ${DATAPATH}_relayed "the edge's stack forwarded $fwd packets"
	else
		pass ${DATAPATH}_relayed
	fi

	# The flow table during the call: four flows (RTP and RTCP each way)
	# with packet counters, the caller's leg latched to its NAT binding.
	if [ "$(jq length "$d/flows-mid.json" 2>/dev/null)" != 4 ]; then
		fail flows_listed "expected 4 flows mid-call, got: $(cat "$d/flows-mid.json")"
	elif ! jq -e '[.[] | (.packets // .pkts // 0)] | add > 0' "$d/flows-mid.json" >/dev/null; then
		fail flows_listed "no packet counters in the flows: $(cat "$d/flows-mid.json")"
	elif ! grep -q "$NAT_OUT_IP" "$d/flows-mid.json"; then
		fail flows_listed "no flow latched to the NAT's $NAT_OUT_IP: $(cat "$d/flows-mid.json")"
	else
		pass flows_listed
	fi
	LAST_CALL_DIR=$d
}

# After BYE the flows are gone and the old relay port is a closed pinhole.
test_teardown_pinholes() {
	local d=${LAST_CALL_DIR:-} port n drop0 drop

	[ -n "$d" ] && [ -s "$d/caller-1.json" ] || { fail teardown_pinholes "no previous call"; return; }
	wait_flows 0 3
	n=$(xs_flows_json | jq length)
	if [ "$n" != 0 ]; then
		fail teardown_pinholes "$n flows left after BYE: $(xs_flows_json)"
		return
	fi
	port=$(rtp "$d" callee remote | cut -d: -f2)
	drop0=$(xs_stat drop-pinhole)
	for i in 1 2 3; do
		in_ns "$NS_K" bash -c "echo stale-media >/dev/udp/$EDGE_IP/$port"
	done
	sleep 0.2
	drop=$(($(xs_stat drop-pinhole) - drop0))
	if [ "$drop" -lt 3 ]; then
		fail teardown_pinholes "3 packets to the closed port $port, drop-pinhole grew by $drop"
	else
		pass teardown_pinholes
	fi
}

# kill -9 of sigd mid-call: the media keeps flowing in XDP; a restarted sigd
# recovers the call from the pinned flows and ends it normally on BYE.
test_sigd_kill9() {
	local d=$TOPO_WORK/kill9 n=250

	call_start "$d" $n # 5 s of media, BYE at 6.5 s
	sleep 1.5
	kill -9 "$SIGD_PID"
	wait "$SIGD_PID" 2>/dev/null
	sleep 2 # media flows with no daemon
	xs_flows_json >"$d/flows-nosigd.json"
	if ! sigd_start; then
		fail sigd_kill9 "sigd did not restart: $(tail -n 5 "$TOPO_WORK/sigd.log.$SIGD_RUNS")"
		call_wait "$d"
		return
	fi
	call_wait "$d"
	if ! check_media sigd_kill9 "$d" caller callee $n || ! check_media sigd_kill9 "$d" callee caller $n; then
		return
	fi
	if [ "$(jq length "$d/flows-nosigd.json")" != 4 ]; then
		fail sigd_kill9 "flows while sigd was dead: $(cat "$d/flows-nosigd.json")"
	elif [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail sigd_kill9 "BYE after the restart: sipp caller rc=$UAC_RC callee rc=$UAS_RC: $(tail -n 3 "$d/uac.err" "$d/uas.err" 2>/dev/null | tr '\n' ' ')"
	elif ! wait_flows 0 3; then
		fail sigd_kill9 "flows left after BYE through the restarted sigd: $(xs_flows_json)"
	else
		pass sigd_kill9
	fi
}

# Hold and resume by re-INVITE: the callee sees the hold (sendonly) on the
# same edge address and port, the media keeps flowing through both re-INVITEs,
# and the flows go at BYE.
test_hold_resume() {
	local d=$TOPO_WORK/hold n=250 inv hold resume ans

	call_start "$d" $n uac_hold.xml uas_hold.xml
	call_wait "$d"
	sip_ok hold_resume "$d" || return
	check_media hold_resume "$d" caller callee $n || return
	check_media hold_resume "$d" callee caller $n || return
	inv=$(sip_msg "$d/uas.msg" received '^INVITE' 1)
	hold=$(sip_msg "$d/uas.msg" received '^INVITE' 2)
	resume=$(sip_msg "$d/uas.msg" received '^INVITE' 3)
	ans=$(sip_msg "$d/uac.msg" received '^SIP/2.0 200' 2)
	if [ "$(sdp_field "$hold" c)" != $EDGE_IP ] || [ "$(sdp_field "$resume" c)" != $EDGE_IP ] ||
		[ "$(sdp_field "$hold" m)" != "$(sdp_field "$inv" m)" ] ||
		[ "$(sdp_field "$resume" m)" != "$(sdp_field "$inv" m)" ]; then
		fail hold_resume "re-INVITE SDP at the callee: initial $(sdp_field "$inv" c):$(sdp_field "$inv" m), hold $(sdp_field "$hold" c):$(sdp_field "$hold" m), resume $(sdp_field "$resume" c):$(sdp_field "$resume" m)"
	elif [ "$(sdp_field "$hold" a)" != sendonly ] || [ "$(sdp_field "$resume" a)" != sendrecv ] ||
		[ "$(sdp_field "$ans" a)" != recvonly ]; then
		fail hold_resume "directions: hold $(sdp_field "$hold" a), resume $(sdp_field "$resume" a), hold answer $(sdp_field "$ans" a)"
	elif [ "$(sdp_field "$ans" c)" != $EDGE_IP ]; then
		fail hold_resume "hold answer at the caller not anchored on the edge: c=$(sdp_field "$ans" c)"
	elif ! wait_flows 0 3; then
		fail hold_resume "flows left after BYE: $(xs_flows_json)"
	else
		pass hold_resume
	fi
}

# A call placed after sigd was killed and restarted, while a recovered call
# is still in progress: the restarted sigd rebuilt its port allocation from
# the pinned flows, so the new call gets other relay ports, and both calls'
# media is complete.
test_restart_new_call() {
	local d=$TOPO_WORK/restart_new n=300 uac1 uac1_rc f bad=""

	CALLS=2 uas_start "$d" $n # 2 calls: the callee's media ports follow the call order
	uac_start "$d" $n         # call 1: 6 s of media
	uac1=$UAC_PID
	sleep 1.5
	kill -9 "$SIGD_PID"
	wait "$SIGD_PID" 2>/dev/null
	sleep 0.5
	if ! sigd_start; then
		fail restart_new_call "sigd did not restart: $(tail -n 5 "$TOPO_WORK/sigd.log.$SIGD_RUNS")"
		call_wait "$d"
		return
	fi
	uac_start "$d/b" $n uac_media.xml 5062 $((CALLER_RTP + 2)) # call 2, new sigd
	sleep 2
	xs_flows_json >"$d/flows-both.json"
	wait "$uac1"
	uac1_rc=$?
	wait "$UAC_PID"
	UAC_RC=$?
	wait "$UAS_PID"
	UAS_RC=$?
	for f in "$d/caller-1.json" "$d/b/caller-1.json" "$d/callee-1.json" "$d/callee-2.json"; do
		topo_wait 5 test -s "$f"
		[ "$(jq -r .unique "$f" 2>/dev/null)" = $n ] &&
			[ "$(jq -r '.corrupt + .duplicates + .foreign' "$f")" = 0 ] ||
			bad="$bad ${f#"$d"/}: $(cat "$f" 2>/dev/null || echo missing);"
	done
	if [ "$uac1_rc" != 0 ] || [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail restart_new_call "sipp caller 1 rc=$uac1_rc caller 2 rc=$UAC_RC callee rc=$UAS_RC: $(tail -n 3 "$d/uac.err" "$d/b/uac.err" "$d/uas.err" 2>/dev/null | tr '\n' ' ')"
	elif [ -n "$bad" ]; then
		fail restart_new_call "media:$bad edge drops: $(edge_drops)"
	elif [ "$(jq '[.[].edge] | unique | length' "$d/flows-both.json")" != 8 ] ||
		[ "$(jq '[.[].cookie] | unique | length' "$d/flows-both.json")" != 2 ]; then
		fail restart_new_call "want 8 flows of 2 calls on distinct ports: $(cat "$d/flows-both.json")"
	elif ! wait_flows 0 3; then
		fail restart_new_call "flows left after BYE: $(xs_flows_json)"
	else
		pass restart_new_call
	fi
}

# CANCEL before the answer: the caller gets 487, the flows of the offer go.
test_cancel() {
	local d=$TOPO_WORK/cancel

	[ -f "$SCEN/uac_cancel.xml" ] || { skip cancel "no scenario"; return; }
	call_start "$d" 50 uac_cancel.xml uas_cancel.xml
	wait "$UAC_PID"
	UAC_RC=$?
	wait "$UAS_PID"
	UAS_RC=$?
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail cancel "sipp caller rc=$UAC_RC callee rc=$UAS_RC: $(tail -n 3 "$d/uac.err" "$d/uas.err" 2>/dev/null | tr '\n' ' ')"
	elif [ "$(sdp_field "$(sip_msg "$d/uas.msg" received '^INVITE')" c)" != $EDGE_IP ]; then
		fail cancel "the offer was not anchored on the edge (no flows to tear down)"
	elif ! wait_flows 0 3; then
		fail cancel "flows left after CANCEL: $(xs_flows_json)"
	else
		pass cancel
	fi
}

# Several calls at once, each with its own relay ports and latched NAT
# binding: every call's media complete and intact at both ends.
test_concurrent_calls() {
	local d=$TOPO_WORK/concurrent n=150 k=4 i who bad=""

	CALLS=$k call_start "$d" $n
	sleep 2
	xs_flows_json >"$d/flows-mid.json"
	call_wait "$d"
	for ((i = 1; i <= k; i++)); do
		topo_wait 5 test -s "$d/caller-$i.json"
		topo_wait 5 test -s "$d/callee-$i.json"
		for who in caller callee; do
			[ "$(jq -r .unique "$d/$who-$i.json" 2>/dev/null)" = $n ] &&
				[ "$(jq -r '.corrupt + .duplicates + .foreign' "$d/$who-$i.json")" = 0 ] ||
				bad="$bad $who-$i: $(cat "$d/$who-$i.json" 2>/dev/null || echo missing);"
		done
	done
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail concurrent_calls "sipp caller rc=$UAC_RC callee rc=$UAS_RC: $(tail -n 3 "$d/uac.err" "$d/uas.err" 2>/dev/null | tr '\n' ' ')"
	elif [ -n "$bad" ]; then
		fail concurrent_calls "media:$bad"
	elif [ "$(jq length "$d/flows-mid.json")" != $((4 * k)) ]; then
		fail concurrent_calls "$(jq length "$d/flows-mid.json") flows mid-call, want $((4 * k))"
	elif [ "$(jq '[.[].cookie] | unique | length' "$d/flows-mid.json")" != $k ]; then
		fail concurrent_calls "flows of $(jq '[.[].cookie] | unique | length' "$d/flows-mid.json") calls, want $k"
	elif ! wait_flows 0 3; then
		fail concurrent_calls "flows left after BYE: $(xs_flows_json)"
	else
		pass concurrent_calls
	fi
}

# Late offer: INVITE without SDP, the callee offers in the 200, the caller
# answers in the ACK; both are anchored on the edge and media flows.
test_late_offer() {
	local d=$TOPO_WORK/late n=150 offer answer

	call_start "$d" $n uac_late.xml uas_late.xml
	call_wait "$d"
	sip_ok late_offer "$d" || return
	check_media late_offer "$d" caller callee $n || return
	check_media late_offer "$d" callee caller $n || return
	offer=$(sip_msg "$d/uac.msg" received '^SIP/2.0 200' 1)
	answer=$(sip_msg "$d/uas.msg" received '^ACK' 1)
	if [ "$(sdp_field "$offer" c)" != $EDGE_IP ] || [ "$(sdp_field "$answer" c)" != $EDGE_IP ]; then
		fail late_offer "offer in the 200 at the caller: c=$(sdp_field "$offer" c); answer in the ACK at the callee: c=$(sdp_field "$answer" c)"
	elif ! wait_flows 0 3; then
		fail late_offer "flows left after BYE: $(xs_flows_json)"
	else
		pass late_offer
	fi
}

# The callee hangs up: its BYE follows the recorded route to the edge, which
# sends it to the caller's aliased Contact, through the NAT; flows go.
test_callee_bye() {
	local d=$TOPO_WORK/callee_bye n=150

	UAS_EXTRA="-d $((n * 20 + 1500))" call_start "$d" $n uac_timeout.xml uas_bye.xml
	call_wait "$d"
	sip_ok callee_bye "$d" || return
	check_media callee_bye "$d" caller callee $n || return
	check_media callee_bye "$d" callee caller $n || return
	if ! wait_flows 0 3; then
		fail callee_bye "flows left after BYE: $(xs_flows_json)"
	else
		pass callee_bye
	fi
}

# The same call with the caller's signalling over TCP (the core leg stays UDP).
test_tcp_call() {
	local d=$TOPO_WORK/tcp n=100

	UAC_EXTRA="-t t1" call_start "$d" $n
	call_wait "$d"
	sip_ok tcp_call "$d" || return
	check_media tcp_call "$d" caller callee $n || return
	check_media tcp_call "$d" callee caller $n || return
	if ! grep -q "^TCP message sent" "$d/uac.msg"; then
		fail tcp_call "the caller did not use TCP"
	elif ! wait_flows 0 3; then
		fail tcp_call "flows left after BYE: $(xs_flows_json)"
	else
		pass tcp_call
	fi
}

# By default (the old --strict-source is always on): once the caller's leg
# has latched, media from anyone else to its relay port is dropped
# (drop-media-source) and never reaches the callee.
test_foreign_source() {
	local d=$TOPO_WORK/foreign n=250 port s0 s

	call_start "$d" $n
	sleep 1.5
	port=$(xs_flows_json | jq -r --arg e "$CALLER_IP:$CALLER_RTP" '.[] | select(.expect == $e) | .edge' | cut -d: -f2)
	s0=$(xs_stat drop-media-source)
	in_ns "$NS_N" ip addr add 203.0.113.99/32 dev n1
	if [ -n "$port" ]; then
		in_ns "$NS_N" "$RTP_PEER" -l 203.0.113.99:$CALLER_RTP -r $EDGE_IP:"$port" \
			-n 20 -i 5 -t 2 -L 100 -s 0x5eed >"$d.spoof" 2>&1
	fi
	# The userspace datapaths add their verdicts to xs_stats every few tens
	# of ms: give the last of them a second to land.
	for _ in $(seq 20); do
		s=$(($(xs_stat drop-media-source) - s0))
		[ "$s" -ge 20 ] && break
		sleep 0.05
	done
	call_wait "$d"
	if [ -z "$port" ]; then
		fail foreign_source "no caller flow found: $(xs_flows_json)"
	elif ! check_media foreign_source "$d" callee caller $n || ! check_media foreign_source "$d" caller callee $n; then
		:
	elif [ "$s" -lt 20 ]; then
		fail foreign_source "20 spoofed packets from 203.0.113.99 to port $port: drop-media-source grew by $s"
	else
		pass foreign_source
	fi
	in_ns "$NS_N" ip addr del 203.0.113.99/32 dev n1
}

# sigd --media-timeout: when the media stops, the edge ends the call itself,
# with a BYE to both legs, and removes the flows.
test_media_timeout() {
	local d=$TOPO_WORK/timeout n=50 t0

	sigd_stop
	if ! sigd_start --media-timeout 2; then
		fail media_timeout "sigd --media-timeout 2 did not start: $(tail -n 5 "$TOPO_WORK/sigd.log.$SIGD_RUNS")"
		return
	fi
	t0=$SECONDS
	call_start "$d" $n uac_timeout.xml uas_media.xml # 1 s of media, then silence
	call_wait "$d"
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail media_timeout "no BYE from the edge to both legs: sipp caller rc=$UAC_RC callee rc=$UAS_RC after $((SECONDS - t0)) s: $(tail -n 3 "$d/uac.err" "$d/uas.err" 2>/dev/null | tr '\n' ' ')"
	elif ! check_media media_timeout "$d" caller callee $n || ! check_media media_timeout "$d" callee caller $n; then
		:
	elif ! wait_flows 0 3; then
		fail media_timeout "flows left after the timeout: $(xs_flows_json)"
	else
		pass media_timeout
	fi
	sigd_stop
	sigd_start
}

main() {
	local why t0=$SECONDS

	if ! why=$(need); then
		for t in call_media ${DATAPATH}_relayed flows_listed teardown_pinholes concurrent_calls hold_resume late_offer callee_bye cancel tcp_call sigd_kill9 restart_new_call foreign_source media_timeout; do
			skip $t "$why"
		done
		exit 0
	fi
	topo_up || { fail topology "could not build the namespaces"; exit 1; }
	topo_attach_edge "${E2E_XDP_MODE:-native}" >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail topology "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	sigd_start || { fail topology "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }

	for t in ${E2E_CASES:-call_media teardown_pinholes concurrent_calls hold_resume late_offer callee_bye cancel tcp_call sigd_kill9 restart_new_call foreign_source media_timeout}; do
		"test_$t"
	done
	echo "# e2e calls took $((SECONDS - t0)) s${TOPO_KEEP:+; logs kept in $TOPO_WORK}"
}

main "$@"
