#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The edge on each datapath: xdp, afxdp, udp. For each, on the
# end-to-end topology (topo.sh) with sigd started with XDPSBC_DATAPATH:
#   - sigd runs the datapath asked for and `xdpsbc status` says so;
#   - blocklist, IPv6 media drop and closed pinholes, the same assertions on
#     every path: datagrams do not arrive and the verdict counter of
#     `xdpsbc stats` grows (XDP's own counters, or on the UDP path the nft
#     rule counters sigd folds into them);
# then the call suite (test_calls.sh: calls through NAT with RTP/RTCP,
# latching, teardown, hold, CANCEL, TCP, sigd kill -9, foreign media source, media
# timeout) runs once per datapath, its result names prefixed "DP_".
#
#   DATAPATHS="udp afxdp"   only these (default: xdp afxdp udp)
#   DP_CALLS="afxdp udp"    the datapaths the call suite runs on (default: afxdp udp;
#                           test_calls.sh itself covers xdp); "" skips it
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
UDP_PROBE=${UDP_PROBE:-${BUILD:-$HERE/../../build}/tests/tools/udp_probe}

# policy_cases DP: one topology, sigd on DP, the policy checks.
policy_cases() (
	dp=$1
	# shellcheck disable=SC2034 # read by topo.sh
	TOPO_PREFIX=xd$$$dp XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-e2e-$$-$dp
	# shellcheck source=tests/e2e/topo.sh
	source "$HERE/topo.sh"

	topo_up || { fail "${dp}_topology" "could not build the namespaces"; exit 1; }
	topo_attach_edge native >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail "${dp}_topology" "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	XDPSBC_DATAPATH=$dp sigd_start ||
		{ fail "${dp}_topology" "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }

	st=$(in_ns "$NS_E" "$XS" -j status)
	want_fw=xdp
	[ "$dp" = udp ] && want_fw=nftables
	if [ "$(jq -r .datapath <<<"$st")" = "$dp" ] && [ "$(jq -r .firewall <<<"$st")" = $want_fw ]; then
		pass "${dp}_status"
	else
		fail "${dp}_status" "status says datapath $(jq -r .datapath <<<"$st"), firewall $(jq -r .firewall <<<"$st"); want $dp, $want_fw"
	fi
	if grep -q "datapath $dp (" "$TOPO_WORK/sigd.log.1"; then
		pass "${dp}_logged"
	else
		fail "${dp}_logged" "no 'datapath $dp (why)' line in the sigd log"
	fi

	# arrive FROM_NS SRC DST PORT: of 10 datagrams, how many reach DST:PORT in the edge.
	arrive() {
		local out=$TOPO_WORK/recv.$RANDOM
		in_ns "$NS_E" timeout 8 "$UDP_PROBE" recv "$3" "$4" 2 >"$out" 2>"$out.err" &
		local pid=$!
		topo_wait 3 grep -q ready "$out.err"
		in_ns "$1" timeout 5 "$UDP_PROBE" send "$2" 0 "$3" "$4" 10 >/dev/null 2>&1
		wait "$pid"
		cat "$out" 2>/dev/null || echo 0
	}
	# verdict NAME REASON N CMD...: CMD prints 0 arrivals and REASON grows by >= N.
	verdict() {
		local name=$1 reason=$2 n=$3 c0 got c
		shift 3
		c0=$(xs_stat "$reason")
		got=$("$@")
		sleep 0.3 # the UDP path folds the nft counters in every 40 ms
		c=$(($(xs_stat "$reason") - c0))
		if [ "$got" != 0 ]; then
			fail "$name" "$got of 10 datagrams arrived"
		elif [ "$c" -lt "$n" ]; then
			fail "$name" "$reason grew by $c, want >= $n"
		else
			pass "$name"
		fi
	}

	# Blocklist: the NAT's outside address, then not any more.
	in_ns "$NS_E" "$XS" block add $NAT_OUT_IP --for 10m >/dev/null
	verdict "${dp}_blocklist" drop-blocklist 10 arrive "$NS_N" $NAT_OUT_IP $EDGE_IP 5099
	in_ns "$NS_E" "$XS" block del $NAT_OUT_IP >/dev/null
	got=$(arrive "$NS_N" $NAT_OUT_IP $EDGE_IP 5099)
	[ "$got" = 10 ] && pass "${dp}_unblocked" || fail "${dp}_unblocked" "$got of 10 arrived after block del"

	# IPv6 media: dropped to the RTP range, IPv6 signalling still passes.
	in_ns "$NS_E" "$XS" media ipv4-only on >/dev/null
	in_ns "$NS_E" "$XS" media ports 20000-29999 >/dev/null
	verdict "${dp}_v6_media" drop-v6-media 10 arrive "$NS_N" $CALLER_V6 $EDGE_V6 20500
	got=$(arrive "$NS_N" $CALLER_V6 $EDGE_V6 5070)
	[ "$got" = 10 ] && pass "${dp}_v6_signalling" || fail "${dp}_v6_signalling" "$got of 10 IPv6 datagrams to 5070 arrived"
	in_ns "$NS_E" "$XS" media ipv4-only off >/dev/null

	# sigd's own policy blocks a SIP scanner (User-Agent); on every path the
	# scanner's packets are then dropped (on udp: nft, re-synced by the relay).
	printf 'OPTIONS sip:x@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bKscan1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: scan1@x\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
		$EDGE_IP $NAT_OUT_IP >"$TOPO_WORK/scan.sip"
	# One datagram: cat writes the file in one go (printf to /dev/udp would not).
	in_ns "$NS_N" bash -c "cat '$TOPO_WORK/scan.sip' >/dev/udp/$EDGE_IP/5060"
	if topo_wait 3 sh -c "nsenter --net=/run/netns/$NS_E $XS block list -j | grep -q '\"$NAT_OUT_IP/32\"'"; then
		sleep 0.5 # the udp relay follows xs_blkgen every 0.1 s
		verdict "${dp}_sigd_blocked_scanner" drop-blocklist 10 arrive "$NS_N" $NAT_OUT_IP $EDGE_IP 5099
	else
		fail "${dp}_sigd_blocked_scanner" "sigd did not block the scanner: $(in_ns "$NS_E" "$XS" block list)"
	fi
	in_ns "$NS_E" "$XS" block del $NAT_OUT_IP >/dev/null

	# udp: `flood set` reaches the nft rules (the rate lives in them), and
	# the table installed again keeps its sets.
	if [ "$dp" = udp ]; then
		local r0 r1
		r0=$(in_ns "$NS_E" nft list chain inet xdpsbc pre | grep -c 'limit rate over 8/second burst 16')
		in_ns "$NS_E" "$XS" flood set --rate 40 --window 2 >/dev/null
		topo_wait 3 sh -c "nsenter --net=/run/netns/$NS_E nft list chain inet xdpsbc pre | grep -q 'limit rate over 20/second burst 40'"
		r1=$(in_ns "$NS_E" nft list chain inet xdpsbc pre | grep -c 'limit rate over 20/second burst 40')
		if [ "$r0" = 4 ] && [ "$r1" = 4 ]; then
			pass udp_flood_set_nft
		else
			fail udp_flood_set_nft "flood rules at the old rate $r0/4, at the new rate $r1/4"
		fi
		in_ns "$NS_E" "$XS" flood set --rate 16 --window 2 >/dev/null
	fi

	# A relay port no call owns is a closed pinhole, even with a socket on it.
	verdict "${dp}_pinhole_closed" drop-pinhole 10 arrive "$NS_N" $NAT_OUT_IP $EDGE_IP 29990

	sigd_stop
	echo "# $dp: $(grep -c . "$TOPO_WORK/sigd.log.1") sigd log lines"
	exit 0
)

# auto_cases: what datapath = auto picks, and says why, on a veth (native XDP),
# a bridge (no native XDP: generic mode and AF_XDP) and with no iface (udp).
auto_cases() (
	ns=xa$$
	pin=/sys/fs/bpf/xdpsbc-e2e-$$-auto
	work=$(mktemp -d /tmp/xdpsbc-auto.XXXXXX)
	XS=${XS:-${BUILD:-$HERE/../../build}/bin/xdpsbc}
	XS_SIGD=${XS_SIGD:-${BUILD:-$HERE/../../build}/bin/xdpsbc-sigd}
	cleanup() {
		nsenter --net=/run/netns/$ns "$XS" --pin-root "$pin" unload >/dev/null 2>&1
		ip netns del $ns 2>/dev/null
		ip netns del ${ns}p 2>/dev/null
		rm -rf "$pin" "$work"
	}
	trap cleanup EXIT
	ip netns add $ns && ip netns add ${ns}p || exit 1
	ip -n $ns link set lo up
	ip -n $ns link add v0 type veth peer name v1 netns ${ns}p
	ip -n $ns link set v0 up
	ip -n $ns addr add 192.0.2.1/24 dev v0
	ip -n $ns link add b0 type bridge
	ip -n $ns link set b0 up
	# sigd_auto NAME WANT [--iface IF]: sigd for 2 s, its datapath line must name WANT.
	sigd_auto() {
		local name=$1 want=$2 line
		shift 2
		XDPSBC_RUN_DIR=$work nsenter --net=/run/netns/$ns timeout -s TERM 2 "$XS_SIGD" \
			--config none "$@" --public-ip 192.0.2.1 --listen 192.0.2.1:5060 \
			--upstream sip:192.0.2.2:5060 --pin-root "$pin" --state-dir "$work/state" \
			--ctl-socket none --foreground >"$work/$name.log" 2>&1
		line=$(grep -m1 '^datapath ' "$work/$name.log")
		if [[ $line == "datapath $want ("* ]]; then
			echo "PASS auto_$name"
		else
			echo "FAIL auto_$name: want datapath $want, sigd said: ${line:-$(tail -n 3 "$work/$name.log" | tr '\n' ' ')}"
		fi
		[ -n "${KEEP_PINS:-}" ] ||
			nsenter --net=/run/netns/$ns "$XS" --pin-root "$pin" unload >/dev/null 2>&1
	}
	# The relay process outlives sigd; the next sigd adopts it, or stops it
	# when it runs another datapath.
	KEEP_PINS=1 sigd_auto relay_first udp --datapath udp
	relay=$(sed -n 's/^pid=//p' "$work"/datapath* 2>/dev/null | head -n 1)
	if [ -n "$relay" ] && kill -0 "$relay" 2>/dev/null; then
		echo "PASS relay_outlives_sigd"
	else
		echo "FAIL relay_outlives_sigd: no relay process after sigd stopped (pid '$relay')"
	fi
	KEEP_PINS=1 sigd_auto relay_adopted udp --datapath udp
	grep -q "relay process $relay of an earlier sigd adopted" "$work/relay_adopted.log" &&
		echo "PASS relay_adopted" ||
		echo "FAIL relay_adopted: $(grep -m1 '^datapath' "$work/relay_adopted.log")"
	sigd_auto relay_replaced xdp --iface v0 --datapath xdp
	sleep 0.5
	if [ -n "$relay" ] && ! kill -0 "$relay" 2>/dev/null &&
		grep -q "stopping the udp relay process $relay" "$work/relay_replaced.log"; then
		echo "PASS relay_stopped_for_xdp"
	else
		echo "FAIL relay_stopped_for_xdp: relay $relay $(kill -0 "$relay" 2>/dev/null && echo still running)"
	fi
	sigd_auto veth_native xdp --iface v0
	sigd_auto bridge_generic afxdp --iface b0
	sigd_auto no_iface udp
	exit 0
)

[ "${DP_AUTO:-1}" != 0 ] && auto_cases
for dp in ${DATAPATHS:-xdp afxdp udp}; do
	policy_cases "$dp"
	if [[ " ${DP_CALLS-afxdp udp} " == *" $dp "* ]]; then
		# The relay's cases; the signalling-only ones (late offer, callee
		# BYE, CANCEL, TCP) program the same flows on every datapath and
		# run once, on xdp, in test_calls.sh itself.
		E2E_CASES=${DP_CASES:-call_media teardown_pinholes concurrent_calls hold_resume sigd_kill9 restart_new_call foreign_source media_timeout} \
			XDPSBC_DATAPATH=$dp DATAPATH=$dp TOPO_PREFIX=xc$$$dp \
			XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-e2e-$$-c$dp \
			bash "$HERE/test_calls.sh" 2>&1 | sed -E "s/^(PASS|FAIL|SKIP) /\1 ${dp}_/"
	fi
done
