#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# IPv4/IPv6 media interworking end to end, `media ipv4-only off`, on each
# datapath (xdp, afxdp, udp). An IPv6-only client (the caller namespace,
# its IPv4 address removed, behind the NAT namespace acting as an IPv6
# router) calls through the edge:
#   - an IPv4 core: the client's SDP is anchored on the edge's IPv6 address,
#     the core's on the IPv4 one, and the relay translates every packet
#     between the families (RTP and RTCP both ways, counted, payloads
#     checked byte for byte by rtp_peer, from the edge's address of each
#     leg's own family);
#   - meanwhile a third party sprays the call's relay ports, IPv6 and IPv4,
#     from addresses of its own: it gets nothing back, drop-media-source
#     grows and the call's media is complete and intact;
#   - the same call over TCP signalling (xdp only);
#   - an IPv6 core (sigd restarted with upstream sip:[2001:db8:3::10]): the
#     same call relayed IPv6 to IPv6, both SDPs on the edge's IPv6 address.
#
#   DATAPATHS="udp"   only these (default: xdp afxdp udp)
# Prints PASS/FAIL/SKIP lines.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
NPKT=50

CLIENT6=2001:db8:2::10	# the IPv6-only client, in the caller namespace
ROUTER6=2001:db8:2::1	# its router (the NAT namespace's inside)
CORE6=2001:db8:3::10	# the core's IPv6 address
EDGE_CORE6=2001:db8:3::1
ATTACK6=2001:db8:1::66 # a third party on the edge's outside link
ATTACK4=203.0.113.66

# v6_net: IPv6 routing on top of topo.sh: client - router - edge - core.
v6_net() {
	ip -n "$NS_C" -4 addr flush dev c0
	ip -n "$NS_C" -6 addr add $CLIENT6/64 dev c0 nodad
	ip -n "$NS_C" -6 route add default via $ROUTER6
	ip -n "$NS_N" -6 addr add $ROUTER6/64 dev n0 nodad
	ip -n "$NS_N" -6 addr add $ATTACK6/64 dev n1 nodad
	ip -n "$NS_N" addr add $ATTACK4/24 dev n1
	in_ns "$NS_N" sysctl -qw net.ipv6.conf.all.forwarding=1
	# The edge's IPv6 forwarding stays the kernel's default (0): sigd turns it
	# on for its relay interfaces (forwarding = auto; sigd_forwarding6).
	ip -n "$NS_E" -6 route add 2001:db8:2::/64 via "$CALLER_V6" dev e0
	ip -n "$NS_E" -6 addr add $EDGE_CORE6/64 dev e1 nodad
	ip -n "$NS_K" -6 addr add $CORE6/64 dev k0 nodad
	ip -n "$NS_K" -6 route add 2001:db8:1::/64 via $EDGE_CORE6
	# Neighbours resolved both ways (a datagram to the discard port): the relay's next hop needs them.
	_topo_poke "$NS_C" $ROUTER6
	_topo_poke "$NS_N" "$EDGE_V6"
	_topo_poke "$NS_E" "$CALLER_V6"
	_topo_poke "$NS_E" $CORE6
	_topo_poke "$NS_K" $EDGE_CORE6
	_topo_poke "$NS_N" "$EDGE_IP"
	sleep 0.2
}

# uac6 DIR [TRANSPORT]: the IPv6-only caller, signalling (u1: UDP, t1: TCP) and media on $CLIENT6.
uac6() {
	local dir=$1 tr=${2:-u1} t=$((NPKT * 20 / 1000 + 8))

	mkdir -p "$dir"
	bg_ns "$NS_C" "$dir/uac.log" sipp -sf "$SCEN/uac_media.xml" -i $CLIENT6 -mi $CLIENT6 \
		-p 5060 -t "$tr" -m 1 -l 1 -d $((NPKT * 20 + 1500)) -nostdin -timeout $((t + 20))s \
		-timeout_error -key mport "$CALLER_RTP" -key out_dir "$dir" \
		-key rtp_cmd "$RTP_PEER -R -n $NPKT -i 20 -t $t -e $NPKT" \
		-trace_msg -message_file "$dir/uac.msg" -trace_err -error_file "$dir/uac.err" \
		"[$EDGE_V6]:5060"
	UAC_PID=$BG_PID
}

# uas DIR IP: the callee in the core on IP (IPv4 or IPv6).
uas() {
	local dir=$1 ip=$2 t=$((NPKT * 20 / 1000 + 8))

	mkdir -p "$dir"
	bg_ns "$NS_K" "$dir/uas.log" sipp -sf "$SCEN/uas_media.xml" -i "$ip" -mi "$ip" -p 5060 \
		-m 1 -nostdin -timeout $((t + 20))s -timeout_error \
		-key mport "$CALLEE_RTP" -key out_dir "$dir" \
		-key rtp_cmd "$RTP_PEER -W -R -n $NPKT -i 20 -t $t -e $NPKT" \
		-trace_msg -message_file "$dir/uas.msg" -trace_err -error_file "$dir/uas.err"
	UAS_PID=$BG_PID
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
}

# spray DIR: from the third party's addresses, 20 datagrams to every relay
# port of the call in its family; prints how many came back to it.
spray() {
	local ports

	ports=$(xs_flows_json | jq -r '.[] | "\(.family) \(.edge)"')
	echo "$ports" >"$1/sprayed"
	in_ns "$NS_N" python3 - "$ATTACK6" "$ATTACK4" "$ports" 2>"$1/spray.err" <<-'PY'
		import socket, sys, time
		s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
		s6.bind((sys.argv[1], 40000))
		s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s4.bind((sys.argv[2], 40000))
		for s in (s6, s4):
		    s.setblocking(False)
		rtp = bytes([0x80, 0]) + bytes(170)
		for line in sys.argv[3].split("\n"):
		    if not line.strip():
		        continue
		    fam, edge = line.split()
		    host, port = edge.rsplit(":", 1)
		    for _ in range(20):
		        if fam == "6":
		            s6.sendto(rtp, (host.strip("[]"), int(port)))
		        else:
		            s4.sendto(rtp, (host, int(port)))
		got, end = 0, time.time() + 1.0
		while time.time() < end:
		    for s in (s6, s4):
		        try:
		            s.recv(2048)
		            got += 1
		        except BlockingIOError:
		            pass
		    time.sleep(0.01)
		print(got)
	PY
}

# host_of DIR WHO: the host of the edge address the SDP gave WHO (rtp_peer's remote), no brackets.
host_of() {
	rtp "$1" "$2" "${3:-remote}" | sed 's/:[0-9]*$//; s/^\[//; s/\]$//'
}

# check NAME DIR CALLER_EDGE CALLEE_EDGE: both sipps fine, all RTP intact, each
# given (in its SDP) and sent media from the edge address named.
check() {
	local name=$1 d=$2 rc

	rc="sipp caller rc=$UAC_RC callee rc=$UAS_RC"
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail "$name" "$rc: $(tail -n 3 "$d/uac.err" "$d/uas.err" "$d/uac.log" 2>/dev/null | tr '\n' ' ')"
	elif [ "$(rtp "$d" caller unique)" != $NPKT ] || [ "$(rtp "$d" callee unique)" != $NPKT ]; then
		fail "$name" "RTP: caller got $(rtp "$d" caller unique), callee $(rtp "$d" callee unique) of $NPKT"
	elif [ "$(rtp "$d" caller corrupt)" != 0 ] || [ "$(rtp "$d" callee corrupt)" != 0 ] ||
		[ "$(rtp "$d" caller rtcp_corrupt)" != 0 ] || [ "$(rtp "$d" callee rtcp_corrupt)" != 0 ]; then
		fail "$name" "corrupt payloads: caller $(rtp "$d" caller corrupt), callee $(rtp "$d" callee corrupt)"
	elif [ "$(rtp "$d" caller rtcp_received)" -lt 2 ] || [ "$(rtp "$d" callee rtcp_received)" -lt 2 ]; then
		fail "$name" "RTCP: caller got $(rtp "$d" caller rtcp_received), callee $(rtp "$d" callee rtcp_received)"
	elif [ "$(host_of "$d" caller)" != "$3" ] || [ "$(host_of "$d" callee)" != "$4" ]; then
		fail "$name" "SDP: the caller was given $(rtp "$d" caller remote), the callee $(rtp "$d" callee remote); want $3, $4"
	elif [ "$(host_of "$d" caller source)" != "$3" ] || [ "$(host_of "$d" callee source)" != "$4" ]; then
		fail "$name" "media came from $(rtp "$d" caller source) / $(rtp "$d" callee source), not the edge's $3 / $4"
	else
		pass "$name"
	fi
}

# relayed: "XSK RELAY": packets handed to the AF_XDP relay, and packets relayed
# (by XDP, or on the udp path by the UDP relay, which counts into xs_stats too).
relayed() {
	echo "$(xs_stat redirect-xsk) $(($(xs_stat relay-tx) + $(xs_stat relay-redirect)))"
}

# by_datapath NAME DP BEFORE AFTER: the call's media went through DP's own relay.
by_datapath() {
	local xsk=$((${4% *} - ${3% *})) rel=$((${4#* } - ${3#* })) want=$((2 * NPKT))

	case $2 in
	afxdp) [ "$xsk" -ge $want ] && [ "$rel" = 0 ] ;;
	*) [ "$xsk" = 0 ] && [ "$rel" -ge $want ] ;;
	esac && pass "$1" || fail "$1" "handed to AF_XDP +$xsk, relayed +$rel (want $want RTP on $2's relay)"
}

# dp_cases DP: one topology, sigd on DP, the three cases.
dp_cases() (
	dp=$1
	# shellcheck disable=SC2034 # read by topo.sh
	TOPO_PREFIX=x6$$$dp XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-e2e-$$-6$dp
	unset TOPO_WORK
	# shellcheck source=tests/e2e/topo.sh
	source "$HERE/topo.sh"

	topo_up || { fail "v6media_${dp}_topology" "namespaces"; exit 1; }
	v6_net
	topo_attach_edge native >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail "v6media_${dp}_topology" "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	in_ns "$NS_E" "$XS" media ipv4-only off >/dev/null
	XDPSBC_DATAPATH=$dp sigd_start --public-ip "$EDGE_IP,$EDGE_V6" --listen "[$EDGE_V6]:5060" ||
		{ fail "v6media_${dp}_topology" "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	if [ "$dp" = xdp ]; then
		local f0 f1 fa ra
		f0=$(in_ns "$NS_E" sysctl -n net.ipv6.conf.e0.forwarding)
		f1=$(in_ns "$NS_E" sysctl -n net.ipv6.conf.e1.forwarding)
		fa=$(in_ns "$NS_E" sysctl -n net.ipv6.conf.all.forwarding)
		ra=$(in_ns "$NS_E" sysctl -n net.ipv6.conf.e0.accept_ra)
		# accept_ra 1 -> 2: router advertisements still taken with forwarding on.
		if [ "$f0$f1$fa$ra" = 1102 ] && grep -q 'net.ipv6.conf.e0.forwarding=1' "$TOPO_WORK"/sigd.log.*; then
			pass v6media_sigd_forwarding6
		else
			fail v6media_sigd_forwarding6 "IPv6 forwarding e0=$f0 e1=$f1 all=$fa, e0 accept_ra=$ra after sigd started: $(grep -h ipv6 "$TOPO_WORK"/sigd.log.* | head -n 3)"
		fi
	fi

	# IPv6 client, IPv4 core: translated both ways, and sprayed meanwhile.
	d=$TOPO_WORK/v4core
	c0=$(relayed)
	uas "$d" "$CORE_IP"
	uac6 "$d"
	topo_wait 8 sh -c "nsenter --net=/run/netns/$NS_E $XS flows -j | jq -e '[.. | objects | select(.peer? != null and .family_out? == 4 and .family? == 6)] | length > 0'"
	sleep 0.3
	src0=$(xs_stat drop-media-source)
	got=$(spray "$d")
	call_wait "$d"
	src=$(($(xs_stat drop-media-source) - src0))
	check "v6media_${dp}_v6_client_v4_core" "$d" "$EDGE_V6" "$EDGE_IP"
	sleep 0.1 # the UDP relay folds its counts into xs_stats every 20 ms
	by_datapath "v6media_${dp}_v4_core_relayed_by_$dp" "$dp" "$c0" "$(relayed)"
	if [ "$got" != 0 ] || [ "$(wc -l <"$d/sprayed")" -lt 4 ] || [ "$src" -lt 1 ]; then
		fail "v6media_${dp}_spray" "the third party got $got datagrams back; sprayed $(wc -l <"$d/sprayed") ports ($(tr '\n' ' ' <"$d/sprayed")); drop-media-source +$src; $(cat "$d/spray.err")"
	else
		pass "v6media_${dp}_spray"
	fi

	# The same over TCP signalling (once: the transport does not change the media path).
	if [ "$dp" = xdp ]; then
		d=$TOPO_WORK/v4core_tcp
		uas "$d" "$CORE_IP"
		uac6 "$d" t1
		call_wait "$d"
		check "v6media_${dp}_v6_client_v4_core_tcp" "$d" "$EDGE_V6" "$EDGE_IP"
	fi

	# IPv6 client, IPv6 core: relayed IPv6 to IPv6.
	sigd_stop
	XDPSBC_DATAPATH=$dp sigd_start --public-ip "$EDGE_IP,$EDGE_V6" --listen "[$EDGE_V6]:5060" \
		--upstream "sip:[$CORE6]:5060" ||
		{ fail "v6media_${dp}_v6_core" "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	d=$TOPO_WORK/v6core
	c0=$(relayed)
	uas "$d" "$CORE6"
	uac6 "$d"
	call_wait "$d"
	check "v6media_${dp}_v6_client_v6_core" "$d" "$EDGE_V6" "$EDGE_V6"
	sleep 0.1
	by_datapath "v6media_${dp}_v6_core_relayed_by_$dp" "$dp" "$c0" "$(relayed)"
	sigd_stop
	[ "${TOPO_KEEP:-}" ] && echo "kept: $TOPO_WORK"
	exit "$((${TOPO_FAILED:-0} > 0))"
)

main() {
	local dp rc=0

	# shellcheck source=tests/e2e/topo.sh
	source "$HERE/topo.sh"
	trap - EXIT
	command -v sipp >/dev/null || { skip v6media "sipp missing"; exit 0; }
	for f in "$XS" "$XS_SIGD" "$RTP_PEER" "$XDP_TRIVIAL"; do
		[ -e "$f" ] || { skip v6media "$f not built"; exit 0; }
	done
	rmdir "$TOPO_WORK"
	for dp in ${DATAPATHS:-xdp afxdp udp}; do
		dp_cases "$dp" || rc=1
	done
	exit $rc
}
main "$@"
