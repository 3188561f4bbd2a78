# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Shared by bench/live.sh and bench/cps.sh: the bench topology and CPU
# accounting. Three namespaces, every name under a per-run prefix:
#
#   gen ns                    edge ns                         sink ns
#   g0 203.0.113.10 ---- e0 203.0.113.1
#                             198.51.100.1 e1 ---- k0 198.51.100.10
#
# The generator sends from g0 (loadgen: BPF_PROG_RUN live frames, XDP_TX out
# of g0 into e0); the edge relays or drops; k0 runs the sink program
# (bench/bpf/sink.bpf.c: drops all but SIP and ARP in the driver) so the sink
# costs almost nothing and its rx counter is the delivered count.
# Neighbours are static, so no ARP traffic lands in the counts.
# veth only accepts frames sent with ndo_xdp_xmit (the generator, the relay's
# XDP_REDIRECT) when the receiving side has NAPI on: an XDP program attached
# in native mode, or GRO on. e0 gets GRO for the stack-based competitors
# (rtpengine, nftables) and xdpsbc's generic mode, so no XDP program runs in
# front of them.

: "${BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}"
XS=${XS:-$BUILD/bin/xdpsbc}
XS_SIGD=${XS_SIGD:-$BUILD/bin/xdpsbc-sigd}
LOADGEN=${LOADGEN:-$BUILD/bench/loadgen}
FLOWPROG=${FLOWPROG:-$BUILD/bench/flowprog}
XDP_TRIVIAL=${XDP_TRIVIAL:-$BUILD/bpf/xdp_trivial.bpf.o}
SINK_OBJ=${SINK_OBJ:-$BUILD/bench/sink.bpf.o}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

B_PREFIX=${B_PREFIX:-xb$$}
NS_G=${B_PREFIX}-gen
NS_E=${B_PREFIX}-edge
NS_K=${B_PREFIX}-sink
export XDPSBC_PIN_ROOT=${XDPSBC_PIN_ROOT:-/sys/fs/bpf/xdpsbc-bench-$$}
# The scaling cases fill the flow table with up to 10^6 flows and the
# blocklist with 10^6 + 1 entries (defaults 2^18 each); the trie allocates
# per entry, so its size costs nothing while it is empty.
export XDPSBC_MAP_SIZES=${XDPSBC_MAP_SIZES:-flows=1048576,blocklist=1048577}
B_WORK=${B_WORK:-$(mktemp -d /tmp/xdpsbc-bench.XXXXXX)}

GEN_IP=203.0.113.10
EDGE_IP=203.0.113.1
EDGE_OUT_IP=198.51.100.1
SINK_IP=198.51.100.10
# IPv6 on both arms, for the IPv6 relay and the IPv4 <-> IPv6 translation.
GEN_V6=2001:db8:10::10
EDGE_V6=2001:db8:10::1
EDGE_OUT_V6=2001:db8:20::1
SINK_V6=2001:db8:20::10
BLOCK_NET=192.0.2.0/24 # blocklisted sources (the generator spoofs them)
BLOCK_SRC=192.0.2.1

B_PIDS=()

in_ns() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

# bg_ns NS LOG CMD...: background CMD in NS, tracked for cleanup; sets BG_PID.
bg_ns() {
	local ns=$1 log=$2
	shift 2
	nsenter --net=/run/netns/"$ns" "$@" >"$log" 2>&1 &
	BG_PID=$!
	B_PIDS+=("$BG_PID")
}

# wait_until SECONDS CMD...: retry CMD every 0.1 s, bounded.
wait_until() {
	local tries=$(($1 * 10)) i
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

mac_of() {
	in_ns "$1" ip -j link show "$2" | jq -r '.[0].address'
}

_veth() { # ns_a if_a ns_b if_b
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
	in_ns "$1" ethtool -K "$2" tx off >/dev/null
	in_ns "$3" ethtool -K "$4" tx off >/dev/null
}

bench_up() {
	local ns
	trap bench_down EXIT
	trap 'exit 130' INT TERM
	for ns in "$NS_G" "$NS_E" "$NS_K"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	_veth "$NS_G" g0 "$NS_E" e0 || return 1
	_veth "$NS_E" e1 "$NS_K" k0 || return 1
	ip -n "$NS_G" addr add $GEN_IP/24 dev g0
	ip -n "$NS_G" route add default via $EDGE_IP
	ip -n "$NS_E" addr add $EDGE_IP/24 dev e0
	ip -n "$NS_E" addr add $EDGE_OUT_IP/24 dev e1
	ip -n "$NS_K" addr add $SINK_IP/24 dev k0
	ip -n "$NS_K" route add default via $EDGE_OUT_IP
	ip -n "$NS_G" -6 addr add $GEN_V6/64 dev g0 nodad
	ip -n "$NS_E" -6 addr add $EDGE_V6/64 dev e0 nodad
	ip -n "$NS_E" -6 addr add $EDGE_OUT_V6/64 dev e1 nodad
	ip -n "$NS_K" -6 addr add $SINK_V6/64 dev k0 nodad
	# bpf_fib_lookup (AF_INET6) wants IPv6 forwarding, like any router.
	in_ns "$NS_E" sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ns "$NS_E" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.e0.rp_filter=0
	# The spoofed blocklisted sources must reach the filters, not die in rp_filter.
	G_MAC=$(mac_of "$NS_G" g0)
	E0_MAC=$(mac_of "$NS_E" e0)
	E1_MAC=$(mac_of "$NS_E" e1)
	K_MAC=$(mac_of "$NS_K" k0)
	ip -n "$NS_E" neigh replace $SINK_IP lladdr "$K_MAC" dev e1 nud permanent
	ip -n "$NS_E" neigh replace $GEN_IP lladdr "$G_MAC" dev e0 nud permanent
	ip -n "$NS_G" neigh replace $EDGE_IP lladdr "$E0_MAC" dev g0 nud permanent
	ip -n "$NS_K" neigh replace $EDGE_OUT_IP lladdr "$E1_MAC" dev k0 nud permanent
	ip -n "$NS_E" neigh replace $SINK_V6 lladdr "$K_MAC" dev e1 nud permanent
	ip -n "$NS_E" neigh replace $GEN_V6 lladdr "$G_MAC" dev e0 nud permanent
	ip -n "$NS_K" link set dev k0 xdpdrv obj "$SINK_OBJ" sec xdp || return 1
	return 0
}

bench_down() {
	local pid ns i
	trap - EXIT
	for pid in "${B_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${B_PIDS[@]}"; do
		for ((i = 0; i < 30; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	done
	# Anything still running in our namespaces (forked daemons, sipp).
	for ns in "$NS_G" "$NS_E" "$NS_K"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
	done
	if [ -e /run/netns/"$NS_E" ]; then
		in_ns "$NS_E" "$XS" detach e0 >/dev/null 2>&1
		in_ns "$NS_E" "$XS" detach e1 >/dev/null 2>&1
	fi
	for ns in "$NS_G" "$NS_E" "$NS_K"; do
		ip netns del "$ns" 2>/dev/null
	done
	case $XDPSBC_PIN_ROOT in
	/sys/fs/bpf/xdpsbc-bench-*) rm -rf "$XDPSBC_PIN_ROOT" ;;
	esac
	[ -n "${B_KEEP:-}" ] || rm -rf "$B_WORK"
}

# rx_packets NS IF: the interface's received-packet counter.
rx_packets() {
	in_ns "$1" ip -s -j link show "$2" | jq -r '.[0].stats64.rx.packets'
}

# cpu_snap: "busy softirq" jiffies over all CPUs, from /proc/stat.
cpu_snap() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $8; exit }' /proc/stat
}

# cpu_delta "BEFORE" "AFTER": busy and softirq CPU-seconds between two snapshots.
cpu_delta() {
	local hz
	hz=$(getconf CLK_TCK)
	awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "%.3f %.3f\n", (y[1] - x[1]) / hz, (y[2] - x[2]) / hz }'
}

# proc_cpu PID...: utime+stime in CPU-seconds, summed (0 for gone pids).
proc_cpu() {
	local hz pid t=0 v
	hz=$(getconf CLK_TCK)
	for pid in "$@"; do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$pid"/stat 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	awk -v t="$t" -v hz="$hz" 'BEGIN { printf "%.3f\n", t / hz }'
}
