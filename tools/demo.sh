#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make demo`: a call through the xdpsbc edge, shown to an operator.
#
# Builds the namespace topology of tests/e2e/topo.sh (a caller behind a real
# nftables masquerade NAT, the two-armed edge running xdpsbc and xdpsbc-sigd,
# a SIP core with the callee), places one call with RTP and RTCP both ways,
# and prints the call result, the SDP before and after the edge rewrote it,
# the flow table, and the counters that show the media was relayed in XDP.
# Then the edge policy at work: a blocklisted scanner dropped, IPv6 media
# dropped while IPv6 signalling passes. Removes everything when it ends.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TOPO_PREFIX=xsdemo$$
# The edge as a host comes (forwarding off): xdpsbc-sigd sets up what the relay needs.
TOPO_SYSCTLS=default
XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-demo-$$
source "$ROOT/tests/e2e/topo.sh"

NPKT=150 # RTP packets each way, 20 ms apart: 3 s of audio

if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' G='' R='' N=''
fi
head1() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
head2() { printf '\n%s-- %s%s\n' "$B" "$*" "$N"; }
ok() { printf '   %sOK%s   %s\n' "$G" "$N" "$*"; }
bad() {
	printf '   %sFAIL%s %s\n' "$R" "$N" "$*"
	DEMO_FAILED=1
}
indent() { sed 's/^/   /'; }
die() {
	bad "$*"
	exit 1
}

# sdp_view: the lines of a message worth comparing (request line, SDP).
sdp_view() {
	grep -E '^(INVITE|SIP/2.0|[vocmta]=)' | indent
}

for f in "$XS" "$XS_SIGD" "$RTP_PEER" "$XDP_TRIVIAL"; do
	[ -e "$f" ] || die "$f not built (run make)"
done
for c in sipp nft jq bpftool xdp-loader; do
	command -v $c >/dev/null || die "$c missing (run make deps)"
done
[ "$(id -u)" = 0 ] || die "the demo needs root (network namespaces, XDP)"
t0=$SECONDS

head1 "Topology"
cat <<-EOF2
	   caller ns             nat ns                       edge ns (xdpsbc)           core ns
	   10.0.0.2 ---- 10.0.0.1 | 203.0.113.10 ---- e0 203.0.113.1 | e1 198.51.100.1 ---- 198.51.100.10
	   (sipp UAC,            (nftables masquerade,        (XDP on e0 and e1,         (sipp UAS = SIP
	    rtp_peer)             random ports)                xdpsbc-sigd)               core + callee)
	   namespaces: $NS_C $NS_N $NS_E $NS_K
	   pin root:   $XDPSBC_PIN_ROOT
EOF2
topo_up || die "could not build the topology"
in_ns "$NS_N" nft list table ip xsnat | indent

head1 "Attach xdpsbc to both arms of the edge"
topo_attach_edge native 2>&1 | indent
in_ns "$NS_E" xdp-loader status e0 2>/dev/null | grep -E 'Interface|e0|e1|xdpsbc' | indent
in_ns "$NS_E" xdp-loader status e1 2>/dev/null | grep -E '^e1' | indent

head1 "Start xdpsbc-sigd on the edge"
echo "   $XS_SIGD --config none --iface e0 --public-ip $EDGE_IP --listen $EDGE_IP:5060"
echo "       --upstream sip:$CORE_IP:5060 --rtp-ports 20000-29999 --foreground"
sigd_start || die "sigd did not start: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"
ok "listening on $EDGE_IP:5060 (pid $SIGD_PID)"
grep -h 'forwarding' "$TOPO_WORK"/sigd.log.* | indent
in_ns "$NS_E" "$XS" status | sed -n '/^readiness:/,/^[a-z]/p' | sed '$d' | indent

head1 "A call: caller 10.0.0.2 (behind NAT) -> edge -> callee $CORE_IP"
D=$TOPO_WORK/call
redir0=$(xs_stat relay-redirect)
tx0=$(xs_stat relay-tx)
udp0=$(edge_udp_in)
call_start "$D" $NPKT
sleep 2
in_ns "$NS_E" "$XS" flows >"$D/flows.txt" 2>&1
in_ns "$NS_E" bpftool map dump pinned "$XDPSBC_PIN_ROOT/xs_flows" >"$D/flows-bpftool.txt" 2>&1
call_wait "$D"
redir=$(($(xs_stat relay-redirect) - redir0))
tx=$(($(xs_stat relay-tx) - tx0))
udp=$(($(edge_udp_in) - udp0))

head2 "Call result"
if [ "$UAC_RC" = 0 ] && [ "$UAS_RC" = 0 ]; then
	ok "INVITE -> 180 -> 200 -> ACK, $((NPKT * 20 / 1000)) s of audio, BYE -> 200 (caller and callee sipp: 1 successful call)"
else
	bad "sipp caller rc=$UAC_RC callee rc=$UAS_RC"
	tail -n 5 "$D/uac.err" "$D/uas.err" 2>/dev/null | indent
fi
for who in caller callee; do
	if [ -s "$D/$who-1.json" ]; then
		printf '   %-6s received %s/%s RTP packets from %s (corrupt %s, duplicates %s, RTCP %s/%s)\n' \
			"$who" "$(rtp "$D" $who unique)" $NPKT "$(rtp "$D" $who source)" \
			"$(rtp "$D" $who corrupt)" "$(rtp "$D" $who duplicates)" \
			"$(rtp "$D" $who rtcp_received)" "$(rtp "$D" $who rtcp_sent)"
		[ "$(rtp "$D" $who unique)" = $NPKT ] && [ "$(rtp "$D" $who corrupt)" = 0 ] ||
			bad "$who: media incomplete"
	else
		bad "$who: no media summary $(cat "$D/$who-1.err" 2>/dev/null)"
	fi
done

head2 "SDP offer: what the caller sent (private address) ..."
sip_msg "$D/uac.msg" sent '^INVITE' | sdp_view
head2 "... and what the callee received from the edge"
sip_msg "$D/uas.msg" received '^INVITE' | sdp_view
head2 "SDP answer: what the callee sent ..."
sip_msg "$D/uas.msg" sent '^SIP/2.0 200' | sdp_view
head2 "... and what the caller received from the edge"
sip_msg "$D/uac.msg" received '^SIP/2.0 200' | sdp_view
head2 "Signalling through the edge (Via, Record-Route) as the callee saw it"
sip_msg "$D/uas.msg" received '^INVITE' | grep -E '^(Via|Record-Route|Contact):' | indent

head1 "The flow table during the call: xdpsbc flows"
indent <"$D/flows.txt"
echo "   (the caller's legs point at $NAT_OUT_IP: latched to its NAT binding, not the signalled 10.0.0.2)"
head2 "bpftool map dump pinned $XDPSBC_PIN_ROOT/xs_flows (first entry; addresses and ports in network byte order)"
head -n 21 "$D/flows-bpftool.txt" | indent

head1 "Counters: the media was relayed in XDP"
in_ns "$NS_E" "$XS" stats | awk 'NR == 1 || $3 != 0' | indent
want=$(($(rtp "$D" caller unique) + $(rtp "$D" callee unique) + $(rtp "$D" caller rtcp_received) + $(rtp "$D" callee rtcp_received)))
if [ "$redir" -ge "$want" ]; then
	ok "relay-redirect grew by $redir during the call (relay-tx $tx): all $want RTP and RTCP packets that arrived crossed e0<->e1 in the driver"
else
	bad "relay-redirect grew by only $redir (want >= $want)"
fi
echo "   the edge's own UDP stack received $udp datagrams during the call (SIP only; the media never reached it)"
echo "   the forwarding guard (nft table ip xdpsbc_guard: the edge routes nothing else) dropped: $(in_ns "$NS_E" nft list table ip xdpsbc_guard | grep -o 'packets [0-9]*' | paste -sd, -)"
sleep 0.5
left=$(xs_flows_json | jq length)
if [ "$left" = 0 ]; then
	ok "after BYE: no flows left, the relay ports are closed pinholes again"
else
	bad "after BYE: $left flows left"
fi
port=$(rtp "$D" callee remote | cut -d: -f2)
p0=$(xs_stat drop-pinhole)
in_ns "$NS_K" bash -c "echo late >/dev/udp/$EDGE_IP/$port"
sleep 0.2
echo "   a late packet to the old relay port $port: drop-pinhole +$(($(xs_stat drop-pinhole) - p0))"

head1 "Edge policy: blocklist"
in_ns "$NS_N" ip addr add 192.0.2.66/32 dev n1
in_ns "$NS_E" "$XS" block add 192.0.2.0/24 --for 1h --reason "SIP scanner" | indent
b0=$(xs_stat drop-blocklist)
in_ns "$NS_N" "$RTP_PEER" -l 192.0.2.66:5060 -r $EDGE_IP:5060 -n 5 -i 10 -t 1 -L 200 >/dev/null
echo "   192.0.2.66 sends 5 packets to $EDGE_IP:5060: drop-blocklist +$(($(xs_stat drop-blocklist) - b0))"
in_ns "$NS_E" "$XS" block list | indent

head1 "Edge policy: IPv6 media dropped, IPv6 signalling passes"
in_ns "$NS_E" "$XS" media ipv4-only on | indent
v0=$(xs_stat drop-v6-media)
s0=$(xs_stat pass)
in_ns "$NS_N" bash -c "for i in 1 2 3; do echo rtp >/dev/udp/$EDGE_V6/15000; done" 2>/dev/null
v=$(($(xs_stat drop-v6-media) - v0))
in_ns "$NS_N" bash -c "for i in 1 2 3; do echo OPTIONS >/dev/udp/$EDGE_V6/5060; done" 2>/dev/null
s=$(($(xs_stat pass) - s0))
echo "   3 IPv6 packets to [$EDGE_V6]:15000 (RTP range): drop-v6-media +$v"
echo "   3 IPv6 packets to [$EDGE_V6]:5060 (SIP):       pass +$s (reach the edge's stack)"
[ "$v" -ge 3 ] || bad "IPv6 media was not dropped"

head1 "Done in $((SECONDS - t0)) s; removing the namespaces and pins"
[ -z "${DEMO_FAILED:-}" ]
