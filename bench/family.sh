#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Relay packets per second by address family, on each datapath, in one run:
#
#   bench/family.sh [SECONDS] [DATAPATHS]
#
# On the end-to-end topology (tests/e2e/topo.sh: the generator in the NAT
# namespace, the sink in the core namespace), sigd runs the datapath (xdp,
# afxdp, udp; default all) with `media ipv4-only off`, and four static flows
# (tests/tools/flow_put, no latching) relay IPv4 -> IPv4, IPv6 -> IPv6,
# IPv4 -> IPv6 and IPv6 -> IPv4 towards the sink. Each case floods one flow
# for SECONDS (default 3) with udp_probe flood (172-byte datagrams through
# the generator's socket: the same generator for every case, well below
# what the XDP relay takes, enough to load the userspace relays) and counts
# what reached the sink interface. Prints one line per case: datapath,
# family, sent pps, delivered pps, and delivered relative to the same
# datapath's IPv4 -> IPv4. A quick look, not `make bench`: the generator
# shares the machine with the relay, so compare ratios within a run.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${1:-3}
DPS=${2:-xdp afxdp udp}
: "${BUILD:=$HERE/../build}"
FLOW_PUT=${FLOW_PUT:-$BUILD/tests/tools/flow_put}
UDP_PROBE=${UDP_PROBE:-$BUILD/tests/tools/udp_probe}
EDGE_CORE6=2001:db8:3::1
CORE6=2001:db8:3::10

sink_rx() {
	ip -n "$NS_K" -j -s link show k0 | jq '.[0].stats64.rx.packets'
}

# one DP NAME SRC DST PORT: flood DST:PORT from SRC; prints the result line.
one() {
	local dp=$1 name=$2 r0 r1 out sent secs

	r0=$(sink_rx)
	out=$(in_ns "$NS_N" "$UDP_PROBE" flood "$3" 40000 "$4" "$5" "$SECS")
	sleep 0.2
	r1=$(sink_rx)
	read -r sent secs <<<"$out"
	awk -v dp="$dp" -v n="$name" -v s="$sent" -v t="$secs" -v d=$((r1 - r0)) \
		'BEGIN { printf "%-6s %-6s sent %9.0f pps  delivered %9.0f pps\n", dp, n, s / t, d / t }'
}

dp_run() (
	dp=$1
	# shellcheck disable=SC2034 # read by topo.sh
	TOPO_PREFIX=xf$$$dp XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-e2e-$$-f$dp
	unset TOPO_WORK
	# shellcheck source=tests/e2e/topo.sh
	source "$HERE/../tests/e2e/topo.sh"
	topo_up >/dev/null || exit 1
	in_ns "$NS_E" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip -n "$NS_E" -6 addr add $EDGE_CORE6/64 dev e1 nodad
	ip -n "$NS_K" -6 addr add $CORE6/64 dev k0 nodad
	ip -n "$NS_K" -6 route add 2001:db8:1::/64 via $EDGE_CORE6
	_topo_poke "$NS_N" "$EDGE_V6"
	_topo_poke "$NS_E" "$CALLER_V6"
	_topo_poke "$NS_E" $CORE6
	_topo_poke "$NS_K" $EDGE_CORE6
	sleep 0.3
	topo_attach_edge native >/dev/null 2>&1 || exit 1
	in_ns "$NS_E" "$XS" media ipv4-only off >/dev/null
	XDPSBC_DATAPATH=$dp sigd_start --public-ip "$EDGE_IP,$EDGE_V6" --listen "[$EDGE_V6]:5060" >/dev/null || exit 1
	# Each flow and its reverse (the UDP relay sends from the reverse flow's socket).
	while read -r e p s sp d dp2; do
		in_ns "$NS_E" "$FLOW_PUT" "$e" "$p" "$s" "$sp" "$d" "$dp2" >/dev/null || exit 1
	done <<-EOF
		$EDGE_IP 20000 $EDGE_CORE_IP 20001 $CORE_IP 30000
		$EDGE_CORE_IP 20001 $EDGE_IP 20000 $NAT_OUT_IP 40000
		$EDGE_V6 20002 $EDGE_CORE6 20003 $CORE6 30002
		$EDGE_CORE6 20003 $EDGE_V6 20002 $CALLER_V6 40000
		$EDGE_IP 20004 $EDGE_CORE6 20005 $CORE6 30004
		$EDGE_CORE6 20005 $EDGE_IP 20004 $NAT_OUT_IP 40000
		$EDGE_V6 20006 $EDGE_CORE_IP 20007 $CORE_IP 30006
		$EDGE_CORE_IP 20007 $EDGE_V6 20006 $CALLER_V6 40000
	EOF
	sleep 0.3 # the UDP relay opens its sockets within a scan (20 ms)
	one "$dp" "4->4" "$NAT_OUT_IP" "$EDGE_IP" 20000
	one "$dp" "6->6" "$CALLER_V6" "$EDGE_V6" 20002
	one "$dp" "4->6" "$NAT_OUT_IP" "$EDGE_IP" 20004
	one "$dp" "6->4" "$CALLER_V6" "$EDGE_V6" 20006
	sigd_stop
)

for dp in $DPS; do
	dp_run "$dp"
done | awk '{ print } $2 == "4->4" { base[$1] = $7 } { if (base[$1] > 0) r[NR] = sprintf("%-6s %-6s %.2f of 4->4", $1, $2, $7 / base[$1]) }
	END { print ""; for (i = 1; i <= NR; i++) if (r[i] != "") print r[i] }'
