#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A media address besides the public one, end to end on the topology of
# tests/e2e/topo.sh: sigd anchors media on --media-ip 203.0.113.2 (added to
# e0; signalling stays on 203.0.113.1) with room for one call (rtp-ports
# 20000-20003). Asserted:
#   - the call's SDP names 203.0.113.2 toward both legs and its media flows
#     both ways through the XDP relay, every packet, intact;
#   - an outsider (203.0.113.66) spraying the relay range on both addresses
#     during the call gets nothing back and injects nothing: the spray is
#     dropped (drop-pinhole, drop-media-source);
#   - a second call while the range is full is answered 503 and no INVITE
#     reaches the core: never a call with unanchored media;
#   - /metrics shows the address's relay ports in use and in all.
# Prints PASS/FAIL/SKIP lines; takes about 15 s.
#
#   TOPO_KEEP=1   keep the sigd log and the sipp traces
set -u
source "$(dirname "$0")/topo.sh"

MEDIA_IP=203.0.113.2
ATTACKER=203.0.113.66
NPKT=150 # per direction, 20 ms apart: a 3 s call
HTTP=127.0.0.1:8089
TOKEN=media-addrs-test-token

SPRAY_PY='
import socket, sys, time
dur, src, targets = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 5004))
s.setblocking(False)
pkt = bytes([0x80, 0]) + bytes(170)
sent = got = 0
end = time.monotonic() + dur
while time.monotonic() < end:
    for t in targets:
        ip, port = t.split(":")
        try:
            s.sendto(pkt, (ip, int(port))); sent += 1
        except OSError:
            pass
    t = time.monotonic() + 0.04
    while time.monotonic() < t:
        try:
            s.recv(2048); got += 1
        except BlockingIOError:
            time.sleep(0.005)
print(sent, got)
'

# One INVITE with SDP from the caller's namespace; prints the final status code.
INVITE_PY='
import socket, sys, time
edge, me = sys.argv[1], sys.argv[2]
body = "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 4100 RTP/AVP 0\r\n" % (me, me)
msg = ("INVITE sip:callee@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bK-full;rport\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:second@example.com>;tag=f1\r\nTo: <sip:callee@%s>\r\n"
       "Call-ID: second-call@%s\r\nCSeq: 1 INVITE\r\nContact: <sip:second@%s:5070>\r\n"
       "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
       % (edge, me, edge, me, me, len(body), body))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((me, 5070))
s.settimeout(0.5)
s.sendto(msg.encode(), (edge, 5060))
end = time.monotonic() + 4
while time.monotonic() < end:
    try:
        d = s.recv(4096).decode(errors="replace")
    except socket.timeout:
        continue
    code = int(d.split(" ", 2)[1])
    if code >= 200:
        print(code)
        sys.exit(0)
print(0)
'

main() {
	local d=$TOPO_WORK/call name ok flows metrics c_uac c_uas targets sent got s0 p0 s p code inv0 inv1
	for what in "$XS" "$XS_SIGD" "$RTP_PEER"; do
		[ -e "$what" ] || { skip media_addrs "$what not built"; exit 0; }
	done
	command -v sipp >/dev/null && command -v python3 >/dev/null && command -v curl >/dev/null ||
		{ skip media_addrs "sipp, python3 or curl missing"; exit 0; }
	topo_up || { fail media_addrs_topology "could not build the namespaces"; exit 1; }
	ip -n "$NS_E" addr add $MEDIA_IP/24 dev e0 &&
		ip -n "$NS_N" addr add $ATTACKER/24 dev n1 ||
		{ fail media_addrs_topology "addresses"; exit 1; }
	_topo_poke "$NS_N" $MEDIA_IP
	topo_attach_edge native >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail media_addrs_topology "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	sigd_start --media-ip $MEDIA_IP --rtp-ports 20000-20003 --http-listen $HTTP \
		--http-token $TOKEN ||
		{ fail media_addrs_topology "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }

	call_start "$d" $NPKT
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E $XS flows -j | jq -e 'length >= 4'" ||
		{ fail media_addrs_call "no flows: $(xs_flows_json)"; exit 1; }
	flows=$(xs_flows_json)
	metrics=$(in_ns "$NS_E" curl -s -m 5 -H "Authorization: Bearer $TOKEN" "http://$HTTP/metrics")

	# The range is full: a second call is refused before the core sees it.
	inv0=$(grep -c "INVITE sip:" "$d/uas.msg" 2>/dev/null)
	code=$(in_ns "$NS_C" timeout 10 python3 -c "$INVITE_PY" $EDGE_IP $CALLER_IP)
	inv1=$(grep -c "INVITE sip:" "$d/uas.msg" 2>/dev/null)

	# Spray every relay port on both addresses, and a few around the range.
	targets=""
	for a in $EDGE_IP $MEDIA_IP; do
		for ((p = 19998; p <= 20005; p++)); do targets+=" $a:$p"; done
	done
	s0=$(xs_stat drop-media-source)
	p0=$(xs_stat drop-pinhole)
	# shellcheck disable=SC2086 # a list of targets
	read -r sent got < <(in_ns "$NS_N" timeout 10 python3 -c "$SPRAY_PY" 2 $ATTACKER $targets)
	s=$(($(xs_stat drop-media-source) - s0))
	p=$(($(xs_stat drop-pinhole) - p0))
	call_wait "$d"

	name=media_addrs_call
	ok=1
	c_uac=$(sdp_field "$(sip_msg "$d/uac.msg" received '^SIP/2.0 200')" c)
	c_uas=$(sdp_field "$(sip_msg "$d/uas.msg" received '^INVITE')" c)
	if [ "$c_uac" != $MEDIA_IP ] || [ "$c_uas" != $MEDIA_IP ]; then
		fail $name "SDP names $c_uac to the caller and $c_uas to the callee, want $MEDIA_IP"
		ok=0
	fi
	if [ -n "$(jq -r --arg m "$MEDIA_IP" '.[] | select((.edge | startswith($m + ":")) | not) | .edge' <<<"$flows")" ]; then
		fail $name "flows not keyed on $MEDIA_IP: $flows"
		ok=0
	fi
	for who in caller callee; do
		if [ "$(rtp "$d" $who unique)" != $NPKT ] || [ "$(rtp "$d" $who corrupt)" != 0 ] ||
			[ "$(rtp "$d" $who foreign)" != 0 ]; then
			fail $name "$who: want $NPKT intact packets, none foreign: $(cat "$d/$who-1.json" 2>/dev/null)"
			ok=0
		fi
	done
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail $name "sipp caller rc=$UAC_RC callee rc=$UAS_RC"
		ok=0
	fi
	[ $ok = 1 ] && pass $name

	name=media_addrs_ports_metric
	if grep -q "^xdpsbc_media_ports{address=\"$MEDIA_IP\",state=\"used\"} 4$" <<<"$metrics" &&
		grep -q "^xdpsbc_media_ports{address=\"$MEDIA_IP\",state=\"total\"} 4$" <<<"$metrics" &&
		! grep -q "address=\"$EDGE_IP\"" <<<"$metrics"; then
		pass $name
	else
		fail $name "$(grep xdpsbc_media_ports <<<"$metrics" || echo "no xdpsbc_media_ports: ${metrics:0:200}")"
	fi

	name=media_addrs_spray_dropped
	if [ "${got:-x}" = 0 ] && [ "${sent:-0}" -gt 0 ] && [ "$s" -gt 0 ] && [ "$p" -gt 0 ]; then
		pass $name
	else
		fail $name "sent ${sent:-?}, ${got:-?} came back, drop-media-source +$s, drop-pinhole +$p"
	fi

	name=media_addrs_full_503
	if [ "$code" = 503 ] && [ "$inv1" = "$inv0" ] &&
		grep -q "no media ports\|relay ports exhausted" "$TOPO_WORK"/sigd.log.*; then
		pass $name
	else
		fail $name "second call answered ${code:-nothing}, INVITEs at the core $inv0 -> $inv1"
	fi
	echo "# sprayed $sent packets at $(wc -w <<<"$targets") ports, $got came back; drop-media-source +$s, drop-pinhole +$p"
	[ "${TOPO_FAILED:-0}" = 0 ]
}

main "$@"
