#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Dual-stack signalling end to end (in namespaces): a client signalling over
# IPv6 (sipp -i 2001:db8:1::10, on the NAT namespace's outside link) calls
# the IPv4 core through the edge, which listens on 203.0.113.1 and
# [2001:db8:1::1]. Over UDP and over TCP: it registers (the registrar sees the
# edge with the signed IPv6 alias in the Contact), the call completes, the core sees
# only the edge's IPv4 address in Via, Record-Route, Contact and SDP, the
# client got a Record-Route naming the edge's IPv6 address (double
# Record-Route across families), and RTP flows both ways through the XDP
# relay. Media follows "media ipv4-only" (the default): the client offers
# its IPv4 address and the SDP it gets is anchored on the edge's IPv4
# address. Last, a scanner's OPTIONS over IPv6 gets its /64 into the XDP
# IPv6 blocklist, and another address of that /64 is dropped in the driver.
# Prints PASS/FAIL/SKIP lines.
set -u
source "$(dirname "$0")/topo.sh"

NPKT=100

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$RTP_PEER" "$XDP_TRIVIAL"; do
		[ -x "$what" ] || [ -f "$what" ] || { echo "$what not built"; return 1; }
	done
	command -v sipp >/dev/null || { echo "sipp missing"; return 1; }
	return 0
}

# uac6_start DIR NPKTS TRANSPORT: the IPv6 caller in the NAT namespace.
uac6_start() {
	local dir=$1 n=$2 tr=$3 t=$(($2 * 20 / 1000 + 8))

	mkdir -p "$dir"
	bg_ns "$NS_N" "$dir/uac.log" sipp -sf "$SCEN/uac_media.xml" -i $CALLER_V6 -mi $NAT_OUT_IP \
		-p 5062 -t "$tr" -m 1 -l 1 -d $((n * 20 + 2500)) -nostdin -timeout $((t + 20))s \
		-timeout_error -key mport $CALLER_RTP -key out_dir "$dir" \
		-key rtp_cmd "$RTP_PEER -R -n $n -i 20 -t $t -e $n" \
		-trace_msg -message_file "$dir/uac.msg" -trace_err -error_file "$dir/uac.err" \
		"[$EDGE_V6]:5060"
	UAC_PID=$BG_PID
}

call6() {
	local name=$1 tr=$2 d=$TOPO_WORK/$1 inv ok rr

	uas_start "$d" $NPKT uas_media.xml
	uac6_start "$d" $NPKT "$tr"
	call_wait "$d"
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail "$name" "sipp caller rc=$UAC_RC callee rc=$UAS_RC: $(tail -n 3 "$d/uac.err" "$d/uas.err" "$d/uac.log" 2>/dev/null | tr '\n' ' ')"
		return
	fi
	inv=$(sip_msg "$d/uas.msg" received '^INVITE')
	ok=$(sip_msg "$d/uac.msg" received '^SIP/2.0 200' 1)
	rr=$(grep -i '^Record-Route' <<<"$ok")
	# What the core routes by names IPv4 only: the top Via and the top
	# Record-Route (the second, double Record-Route entry faces the client),
	# the Contact's host (its signed alias carries the client's address), the
	# SDP. The client's own URIs (Request-URI, From, To) and its Via below
	# the edge's pass as they are.
	if grep -Ei '^(Contact|c=|o=)' <<<"$inv" | sed 's/;alias=[^;>]*//' | grep -q '2001:db8' ||
		! grep -i -m1 '^Record-Route' <<<"$inv" | grep -q "^Record-Route: <sip:$EDGE_IP:5060;"; then
		fail "$name" "an IPv6 address the core would route by: $(grep -Ei '^(Contact|Record-Route|c=|o=)' <<<"$inv" | head -4)"
	elif ! grep -i -m1 '^Via' <<<"$inv" | grep -q "^Via: SIP/2.0/UDP $EDGE_IP:5060;"; then
		fail "$name" "top Via at the core: $(grep -i '^Via' <<<"$inv" | head -1)"
	elif ! grep -q "received=$CALLER_V6" <<<"$inv"; then
		fail "$name" "client Via without received=$CALLER_V6: $(grep -i '^Via' <<<"$inv")"
	elif ! grep -q "\[$EDGE_V6\]:5060" <<<"$rr" || ! grep -q "$EDGE_IP:5060" <<<"$rr"; then
		fail "$name" "Record-Route to the client: $rr"
	elif [ "$(rtp "$d" caller unique)" != $NPKT ] || [ "$(rtp "$d" callee unique)" != $NPKT ] ||
		[ "$(rtp "$d" caller corrupt)" != 0 ] || [ "$(rtp "$d" callee corrupt)" != 0 ]; then
		fail "$name" "RTP: caller got $(rtp "$d" caller unique), callee $(rtp "$d" callee unique) of $NPKT"
	elif [ "$(rtp "$d" caller remote | cut -d: -f1)" != $EDGE_IP ]; then
		fail "$name" "client's SDP not anchored on the edge's IPv4 address: $(rtp "$d" caller remote)"
	else
		pass "$name"
	fi
}

# The IPv6 client registers through the edge with the IPv4 registrar.
test_register6() {
	local d=$TOPO_WORK/ipv6_register tr=$1 name=$2 req

	mkdir -p "$d"
	bg_ns "$NS_K" "$d/uas.log" sipp -sf "$SCEN/uas_register.xml" -i $CORE_IP -p 5060 -m 1 \
		-nostdin -timeout 15s -timeout_error -trace_msg -message_file "$d/uas.msg"
	UAS_PID=$BG_PID
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	in_ns "$NS_N" sipp -sf "$SCEN/uac_register.xml" -i $CALLER_V6 -p 5064 -t "$tr" -m 1 \
		-nostdin -timeout 15s -timeout_error -trace_msg -message_file "$d/uac.msg" \
		"[$EDGE_V6]:5060" >"$d/uac.log" 2>&1
	UAC_RC=$?
	wait "$UAS_PID"
	UAS_RC=$?
	req=$(sip_msg "$d/uas.msg" received '^REGISTER')
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail "$name" "sipp client rc=$UAC_RC registrar rc=$UAS_RC"
	elif ! grep -qi "^Contact: <sip:caller@$EDGE_IP:5060;alias=\[$CALLER_V6\]~5064~" <<<"$req"; then
		fail "$name" "the registrar saw $(grep -i '^Contact' <<<"$req")"
	else
		pass "$name"
	fi
}

# A scanner on IPv6: sigd blocks its /64 in the XDP IPv6 blocklist, and the
# next datagram from another address of that /64 is dropped in the driver.
test_scanner6() {
	local list drop0 drop

	in_ns "$NS_N" python3 - "$CALLER_V6" "$EDGE_V6" <<-'PY'
		import socket, sys
		s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
		s.bind((sys.argv[1], 5070))
		m = ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP [%s]:5070;branch=z9hG4bKscan\r\n"
		     "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: scan6\r\nCSeq: 1 OPTIONS\r\n"
		     "Max-Forwards: 70\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n"
		     % (sys.argv[2], sys.argv[1]))
		s.sendto(m.encode(), (sys.argv[2], 5060))
	PY
	topo_wait 3 sh -c "nsenter --net=/run/netns/$NS_E $XS block list | grep -q '2001:db8:1::/64'"
	list=$(in_ns "$NS_E" "$XS" block list)
	if ! grep -q '2001:db8:1::/64' <<<"$list"; then
		fail ipv6_scanner_blocked "the IPv6 scanner's /64 is not in the XDP blocklist: $list"
		return
	fi
	drop0=$(xs_stat drop-blocklist)
	in_ns "$NS_N" ip -6 addr add 2001:db8:1::77/64 dev n1 nodad
	in_ns "$NS_N" python3 -c 'import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("2001:db8:1::77", 5071)); s.sendto(b"OPTIONS sip:x SIP/2.0\r\n\r\n", ("'$EDGE_V6'", 5060))'
	sleep 0.3
	drop=$(($(xs_stat drop-blocklist) - drop0))
	[ "$drop" -ge 1 ] && pass ipv6_scanner_blocked ||
		fail ipv6_scanner_blocked "a datagram from the blocked /64 was not dropped by the blocklist (drop-blocklist +$drop)"
}

main() {
	local why

	why=$(need) || { skip ipv6_calls "$why"; exit 0; }
	topo_up || { fail ipv6_calls "topology"; exit 1; }
	topo_attach_edge "${E2E_XDP_MODE:-native}" || { fail ipv6_calls "attach"; exit 1; }
	sigd_start --public-ip "$EDGE_IP,$EDGE_V6" --listen "[$EDGE_V6]:5060" ||
		{ fail ipv6_calls "sigd did not start: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q '2001:db8:1::1'" ||
		fail ipv6_listen "no IPv6 UDP socket: $(nsenter --net=/run/netns/$NS_E ss -Hlun)"
	test_register6 u1 ipv6_register_udp
	test_register6 t1 ipv6_register_tcp
	call6 ipv6_call_udp u1
	call6 ipv6_call_tcp t1
	test_scanner6
	sigd_stop
	[ "${TOPO_KEEP:-}" ] && echo "kept: $TOPO_WORK"
	exit "$((${TOPO_FAILED:-0} > 0))"
}
main "$@"
