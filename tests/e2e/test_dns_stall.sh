#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host names do not stall the real xdpsbc-sigd. sigd runs in a mount
# namespace of its own whose /etc/resolv.conf names a server (in the edge
# namespace) that takes every query and never answers, with the resolver
# options a distribution ships (5 s x 2 attempts). Under the XDP flood
# limit, two core hosts each send a request to a new unresolvable host every
# 200 ms (the core routes by Request-URI; a client's requests go to the
# upstream, and a Route it did not get signed by the edge is never followed,
# so names from the core are what reaches the resolver); one such request
# used to hold all signalling for 10 s. Meanwhile another source pings the
# edge with OPTIONS over TCP every 250 ms and a caller behind the NAT places a
# call with media: every ping must be answered within a second and the call
# complete. Prints PASS/FAIL/SKIP lines.
set -u
source "$(dirname "$0")/topo.sh"

TCP_CLIENTS=${TCP_CLIENTS:-$BUILD/tests/tools/tcp_clients}
UDP_PROBE=${UDP_PROBE:-$BUILD/tests/tools/udp_probe}
REAL_SIGD=$XS_SIGD
PING_SRC=203.0.113.20
CORE2_IP=198.51.100.11 # a second core host (--core 198.51.100.0/24)
FLOOD_N=35 # per flooding host, 200 ms apart: 7 s

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$TCP_CLIENTS" "$UDP_PROBE" "$RTP_PEER" "$XDP_TRIVIAL"; do
		[ -x "$what" ] || [ -f "$what" ] || { echo "$what not built"; return 1; }
	done
	command -v sipp >/dev/null || { echo "sipp missing"; return 1; }
	command -v unshare >/dev/null || { echo "unshare missing"; return 1; }
	command -v python3 >/dev/null || { echo "python3 missing"; return 1; }
	return 0
}

# sigd, started by sigd_start, in a mount namespace with our resolv.conf (same pid: exec all the way).
wrap_sigd() {
	printf 'nameserver 127.0.0.53\noptions timeout:5 attempts:2\n' >"$TOPO_WORK/resolv.conf"
	cat >"$TOPO_WORK/sigd-wrap" <<-EOF
		#!/bin/sh
		exec unshare -m sh -c 'mount --make-rprivate / && mount --bind "$TOPO_WORK/resolv.conf" /etc/resolv.conf && exec "\$0" "\$@"' "$REAL_SIGD" "\$@"
	EOF
	chmod +x "$TOPO_WORK/sigd-wrap"
	XS_SIGD=$TOPO_WORK/sigd-wrap
}

# flood SRC PORT TAG: from the core, requests whose Request-URI names a host
# nobody can resolve, one datagram each, 200 ms apart (under the XDP flood limit).
flood() {
	in_ns "$NS_K" python3 - "$1" "$2" "$3" "$EDGE_IP" "$FLOOD_N" <<-'PY'
		import socket, sys, time
		src, port, tag, edge, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind((src, port))
		for i in range(n):
		    host = "%s%d.flood.example" % (tag, i)
		    m = ("MESSAGE sip:x@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s%d\r\n"
		         "Max-Forwards: 70\r\nFrom: <sip:core@example.com>;tag=f%d\r\n"
		         "To: <sip:x@%s>\r\nCall-ID: flood-%s-%d\r\nCSeq: 1 MESSAGE\r\n"
		         "Content-Length: 0\r\n\r\n") % (host, src, port, tag, i, i, host, tag, i)
		    s.sendto(m.encode(), (edge, 5060))
		    time.sleep(0.2)
	PY
}

field() { # LINE NAME
	sed -n "s/.*\b$2=\(-\?[0-9]*\).*/\1/p" <<<"$1"
}

test_dns_no_stall() {
	local d=$TOPO_WORK/call n=100 i out rtt worst=0 lost=0 pings=0 queries

	# The name server: counts the queries it gets for 12 s and answers none.
	bg_ns "$NS_E" "$TOPO_WORK/ns.out" "$UDP_PROBE" recv 127.0.0.53 53 12
	local ns_pid=$BG_PID
	sleep 0.3
	flood $CORE_IP 5070 a &
	local fc=$!
	flood $CORE2_IP 5070 b &
	local ff=$!
	sleep 0.5
	CALLS=1 call_start "$d" $n
	for ((i = 0; i < 24; i++)); do
		out=$(in_ns "$NS_N" "$TCP_CLIENTS" $PING_SRC $EDGE_IP 5060 1 0)
		rtt=$(field "$out" rtt_max_ms)
		pings=$((pings + 1))
		if [ "$(field "$out" answered)" != 1 ]; then
			lost=$((lost + 1))
		elif [ "$rtt" -gt "$worst" ]; then
			worst=$rtt
		fi
		sleep 0.25
	done
	call_wait "$d"
	wait $fc $ff
	wait "$ns_pid"
	queries=$(grep -E '^[0-9]+$' "$TOPO_WORK/ns.out" | tail -n 1)
	echo "# $pings OPTIONS pings during the flood: $lost unanswered, slowest $worst ms; the name server got ${queries:-no} queries; call: caller rc=$UAC_RC callee rc=$UAS_RC"
	if [ "${queries:-0}" -lt 1 ]; then
		fail dns_no_stall "sigd sent no query: the flood did not reach the resolver ($(cat "$TOPO_WORK/ns.out"))"
	elif [ "$lost" != 0 ] || [ "$worst" -ge 1000 ]; then
		fail dns_no_stall "pings: $lost of $pings unanswered, slowest $worst ms"
	elif [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail dns_no_stall "the call failed: caller rc=$UAC_RC callee rc=$UAS_RC $(tail -n 3 "$d/uac.err" 2>/dev/null | tr '\n' ' ')"
	else
		pass dns_no_stall
	fi
}

main() {
	local why

	if ! why=$(need); then
		skip dns_no_stall "$why"
		exit 0
	fi
	topo_up || { fail topology "could not build the namespaces"; exit 1; }
	ip -n "$NS_N" addr add $PING_SRC/24 dev n1
	ip -n "$NS_K" addr add $CORE2_IP/24 dev k0
	topo_attach_edge "${E2E_XDP_MODE:-native}" >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail topology "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	wrap_sigd
	sigd_start --core 198.51.100.0/24 || { fail topology "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	test_dns_no_stall
}

main "$@"
