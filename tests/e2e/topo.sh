# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2034 # sets variables for the scripts sourcing it
#
# The end-to-end topology, sourced by tests/e2e/test_*.sh and tools/demo.sh:
#
#   caller ns            nat ns                          edge ns                 core ns
#   10.0.0.2 c0 ---- n0 10.0.0.1                                             SIP core + callee
#                       203.0.113.10 n1 ---- e0 203.0.113.1
#                        (nft masquerade)         198.51.100.1 e1 ---- k0 198.51.100.10
#
# The edge is two-armed: caller->callee media enters on e0 and leaves on e1
# (XDP_REDIRECT through the devmap), the other way round too. The edge's
# stack forwards nothing (nft forward chain, policy drop): anything between
# the NAT and the core that is not relayed by XDP or proxied by sigd never
# gets through.
# The veths facing the edge (n1, k0) carry the trivial xdp_pass program,
# because veth drops frames sent to it with XDP_TX/XDP_REDIRECT unless the
# receiving peer runs XDP. Every veth sends full checksums (tx off): local
# sockets on veth otherwise leave CHECKSUM_PARTIAL packets, which the XDP
# relay would forward with a wrong checksum.
#
# Namespaces are named after a per-run prefix and created directly inside
# the namespaces (ip -n), so nothing touches the root namespace and parallel
# runs do not collide. Commands that touch bpffs run with nsenter --net
# (ip netns exec would remount /sys and hide /sys/fs/bpf).
#
# Use: topo_up [direct]; ...; topo_down (installed as an EXIT trap by topo_up).
# "direct" makes the edge forward IP, for calls caller->core without sigd.
# TOPO_SYSCTLS=default leaves the edge's sysctls as a fresh namespace has them
# (forwarding off) and installs no forward chain of its own: the edge is a
# host as it comes, for tests of what xdpsbc itself sets up.

: "${BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}"
XS=${XS:-$BUILD/bin/xdpsbc}
XS_SIGD=${XS_SIGD:-$BUILD/bin/xdpsbc-sigd}
RTP_PEER=${RTP_PEER:-$BUILD/tests/tools/rtp_peer}
XDP_TRIVIAL=${XDP_TRIVIAL:-$BUILD/bpf/xdp_trivial.bpf.o}
TOPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCEN=${SCEN:-$TOPO_DIR/../sip/scenarios}

TOPO_PREFIX=${TOPO_PREFIX:-xe$$}
NS_C=${TOPO_PREFIX}-caller
NS_N=${TOPO_PREFIX}-nat
NS_E=${TOPO_PREFIX}-edge
NS_K=${TOPO_PREFIX}-core
export XDPSBC_PIN_ROOT=${XDPSBC_PIN_ROOT:-/sys/fs/bpf/xdpsbc-e2e-$$}
TOPO_WORK=${TOPO_WORK:-$(mktemp -d /tmp/xdpsbc-e2e.XXXXXX)}

CALLER_IP=10.0.0.2
NAT_IN_IP=10.0.0.1
NAT_OUT_IP=203.0.113.10
EDGE_IP=203.0.113.1
EDGE_CORE_IP=198.51.100.1
CORE_IP=198.51.100.10
EDGE_V6=2001:db8:1::1
CALLER_V6=2001:db8:1::10 # on the nat ns outside, for the IPv6 checks

TOPO_PIDS=()

# in_ns NS CMD...: run CMD in namespace NS, host mounts (bpffs) visible.
in_ns() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

# bg_ns NS LOG CMD...: start CMD in NS in the background; its pid is tracked
# so topo_down kills it. Sets BG_PID.
bg_ns() {
	local ns=$1 log=$2
	shift 2
	nsenter --net=/run/netns/"$ns" "$@" >"$log" 2>&1 &
	BG_PID=$!
	TOPO_PIDS+=("$BG_PID")
}

# topo_wait SECONDS CMD...: retry CMD every 0.1 s until it succeeds or time runs out.
topo_wait() {
	local tries=$(($1 * 10)) i
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

_topo_veth() { # ns_a if_a ns_b if_b
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
	in_ns "$1" ethtool -K "$2" tx off >/dev/null
	in_ns "$3" ethtool -K "$4" tx off >/dev/null
}

_topo_poke() { # ns addr
	in_ns "$1" bash -c "echo poke >/dev/udp/$2/9" 2>/dev/null
}

topo_up() {
	local direct=${1:-}

	trap topo_down EXIT
	trap 'exit 130' INT TERM
	for ns in "$NS_C" "$NS_N" "$NS_E" "$NS_K"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	_topo_veth "$NS_C" c0 "$NS_N" n0
	_topo_veth "$NS_N" n1 "$NS_E" e0
	_topo_veth "$NS_E" e1 "$NS_K" k0

	ip -n "$NS_C" addr add $CALLER_IP/24 dev c0
	ip -n "$NS_C" route add default via $NAT_IN_IP

	ip -n "$NS_N" addr add $NAT_IN_IP/24 dev n0
	ip -n "$NS_N" addr add $NAT_OUT_IP/24 dev n1
	ip -n "$NS_N" -6 addr add $CALLER_V6/64 dev n1 nodad
	ip -n "$NS_N" route add default via $EDGE_IP
	in_ns "$NS_N" sysctl -qw net.ipv4.ip_forward=1
	# A real NAT: masquerade with random source ports, so the edge can only
	# reach the caller's media by latching it from the caller's packets.
	in_ns "$NS_N" nft -f - <<-'NFT' || return 1
		table ip xsnat {
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "n1" ip saddr 10.0.0.0/8 masquerade random
			}
		}
	NFT

	ip -n "$NS_E" addr add $EDGE_IP/24 dev e0
	ip -n "$NS_E" -6 addr add $EDGE_V6/64 dev e0 nodad
	ip -n "$NS_E" addr add $EDGE_CORE_IP/24 dev e1
	# The relay's bpf_fib_lookup wants forwarding on the ingress interface,
	# like any router; the stack itself must not forward anything, so a
	# forward chain drops it all. XDP runs before netfilter: media relayed
	# in the driver never meets this chain, and nothing else gets across.
	if [ "${TOPO_SYSCTLS:-}" = default ]; then
		: # the kernel's defaults: forwarding off everywhere on the edge
	elif in_ns "$NS_E" sysctl -qw net.ipv4.ip_forward=1 && [ "$direct" != direct ]; then
		in_ns "$NS_E" nft -f - <<-'NFT' || return 1
			table inet xsedge {
				chain edgefwd {
					type filter hook forward priority filter; policy drop;
					counter
				}
			}
		NFT
	fi

	ip -n "$NS_K" addr add $CORE_IP/24 dev k0
	ip -n "$NS_K" route add 203.0.113.0/24 via $EDGE_CORE_IP

	if [ -e "$XDP_TRIVIAL" ]; then
		ip -n "$NS_N" link set dev n1 xdpdrv obj "$XDP_TRIVIAL" sec xdp || return 1
		ip -n "$NS_K" link set dev k0 xdpdrv obj "$XDP_TRIVIAL" sec xdp || return 1
	fi
	# Resolve the neighbours both ways now (no ping here: a datagram to the
	# discard port does it): the relay's fib lookup needs them.
	_topo_poke "$NS_N" $EDGE_IP
	_topo_poke "$NS_E" $NAT_OUT_IP
	_topo_poke "$NS_K" $EDGE_CORE_IP
	_topo_poke "$NS_E" $CORE_IP
	_topo_poke "$NS_C" $NAT_IN_IP
	sleep 0.2
	return 0
}

# topo_attach_edge [MODE]: attach xdpsbc to both arms of the edge.
topo_attach_edge() {
	local mode=${1:-native}

	in_ns "$NS_E" "$XS" attach e1 --mode "$mode" &&
		in_ns "$NS_E" "$XS" attach e0 --mode "$mode"
}

# sigd_start [EXTRA FLAGS...]: start xdpsbc-sigd on the edge; sets SIGD_PID.
sigd_start() {
	bg_ns "$NS_E" "$TOPO_WORK/sigd.log.$((++SIGD_RUNS))" "$XS_SIGD" --config none --iface e0 \
		--public-ip $EDGE_IP --listen $EDGE_IP:5060 --upstream sip:$CORE_IP:5060 \
		--rtp-ports 20000-29999 --foreground --pin-root "$XDPSBC_PIN_ROOT" \
		--state-dir "$TOPO_WORK/state" "$@"
	SIGD_PID=$BG_PID
	# Ready when its SIP socket is bound.
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q 5060"
}
SIGD_RUNS=0

# sigd_stop: SIGTERM (clean shutdown; flows stay pinned), bounded wait.
sigd_stop() {
	local i

	kill -TERM "$SIGD_PID" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$SIGD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$SIGD_PID" 2>/dev/null
	wait "$SIGD_PID" 2>/dev/null
	return 0
}

topo_down() {
	local pid i

	trap - EXIT
	for pid in "${TOPO_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${TOPO_PIDS[@]}"; do
		for ((i = 0; i < 20; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	done
	# Anything else still running in our namespaces (sipp exec children).
	for ns in "$NS_C" "$NS_N" "$NS_E" "$NS_K"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
	done
	if [ -e /run/netns/"$NS_E" ] && [ -x "$XS" ]; then
		in_ns "$NS_E" "$XS" detach e0 >/dev/null 2>&1
		in_ns "$NS_E" "$XS" detach e1 >/dev/null 2>&1
	fi
	for ns in "$NS_C" "$NS_N" "$NS_E" "$NS_K"; do
		ip netns del "$ns" 2>/dev/null
	done
	case $XDPSBC_PIN_ROOT in
	/sys/fs/bpf/xdpsbc-e2e-* | /sys/fs/bpf/xdpsbc-demo-*)
		# and the state dir a sigd without --state-dir derived from it
		rm -rf "$XDPSBC_PIN_ROOT" "/run/${XDPSBC_PIN_ROOT##*/}"
		;;
	esac
	[ -n "${TOPO_KEEP:-}" ] || rm -rf "$TOPO_WORK"
}

# Result lines (tests/lib/check.h convention).
pass() { echo "PASS $1"; }
fail() {
	local name=$1
	shift
	echo "FAIL $name: $*"
	TOPO_FAILED=$((${TOPO_FAILED:-0} + 1))
}
skip() {
	local name=$1
	shift
	echo "SKIP $name: $*"
}

# Counters of the edge's own UDP stack (per namespace).
edge_udp_in() {
	in_ns "$NS_E" awk '/^Udp:/ { if (h) { print $2 + $3; exit } h = 1 }' /proc/net/snmp
}

# ---- calls ----
CALLER_RTP=4000 # caller's RTP port (RTCP +1)
CALLEE_RTP=7078 # callee's; sipp itself binds 6000+ for its own media

# call_start DIR NPKTS [UAC SCENARIO [UAS SCENARIO]]: start the callee (UAS,
# in the core) and the caller (UAC, behind the NAT) for one call through the
# edge, each running rtp_peer for NPKTS packets at 20 ms with RTCP. The call
# lasts as long as the media plus 2.5 s. $UAC_EXTRA adds sipp options for the
# caller (e.g. "-t t1": signalling over TCP), $UAS_EXTRA for the callee.
# $CALLS (default 1) calls run side by side, call N on media ports + 2(N-1),
# started $CALL_GAP_MS (default 100) apart. Sets UAC_PID, UAS_PID.
call_start() {
	uas_start "$1" "$2" "${4:-uas_media.xml}"
	uac_start "$1" "$2" "${3:-uac_media.xml}"
}

# uas_start DIR NPKTS [SCENARIO]: the callee side of call_start, for $CALLS calls.
uas_start() {
	local dir=$1 n=$2 uas=${3:-uas_media.xml}
	local t=$((n * 20 / 1000 + 8))

	mkdir -p "$dir"
	bg_ns "$NS_K" "$dir/uas.log" sipp -sf "$SCEN/$uas" -i $CORE_IP -p 5060 -m "${CALLS:-1}" \
		-nostdin -timeout $((t + 20))s -timeout_error \
		-key mport $CALLEE_RTP -key out_dir "$dir" \
		-key rtp_cmd "$RTP_PEER -W -R -n $n -i 20 -t $t -e $n" \
		-trace_msg -message_file "$dir/uas.msg" -trace_err -error_file "$dir/uas.err" \
		${UAS_EXTRA:-}
	UAS_PID=$BG_PID
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
}

# uac_start DIR NPKTS [SCENARIO [SIP_PORT [RTP_PORT]]]: the caller side of
# call_start; another SIP and RTP port let a second caller run beside it.
uac_start() {
	local dir=$1 n=$2 uac=${3:-uac_media.xml} sport=${4:-5060} mport=${5:-$CALLER_RTP}
	local t=$((n * 20 / 1000 + 8))

	mkdir -p "$dir"
	bg_ns "$NS_C" "$dir/uac.log" sipp -sf "$SCEN/$uac" -i $CALLER_IP -p "$sport" \
		-m "${CALLS:-1}" -l "${CALLS:-1}" -r 1 -rp "${CALL_GAP_MS:-100}" \
		-d $((n * 20 + 2500)) -nostdin -timeout $((t + 20))s -timeout_error \
		-key mport "$mport" -key out_dir "$dir" \
		-key rtp_cmd "$RTP_PEER -R -n $n -i 20 -t $t -e $n" \
		-trace_msg -message_file "$dir/uac.msg" -trace_err -error_file "$dir/uac.err" \
		${UAC_EXTRA:-} $EDGE_IP:5060
	UAC_PID=$BG_PID
}

# call_wait DIR: wait for both sipps and both media summaries; sets UAC_RC, UAS_RC.
call_wait() {
	local dir=$1

	wait "$UAC_PID"
	UAC_RC=$?
	wait "$UAS_PID"
	UAS_RC=$?
	topo_wait 15 test -s "$dir/caller-1.json"
	topo_wait 5 test -s "$dir/callee-1.json"
}

# rtp DIR caller|callee FIELD: one field of that end's rtp_peer summary.
rtp() {
	jq -r ".$3" "$1/$2-1.json" 2>/dev/null
}

# xs_stat REASON [packets|bytes]: the edge's counter for a verdict reason.
xs_stat() {
	in_ns "$NS_E" "$XS" stats -j 2>/dev/null | jq -r --arg n "$1" --arg f "${2:-packets}" '
		[.. | objects | select((.name? // .reason?) == $n) | .[$f]]
		+ [.. | objects | .[$n]? | objects | .[$f]] | first // 0'
}

# xs_flows_json: the edge's flow table as JSON (an array of flows).
xs_flows_json() {
	in_ns "$NS_E" "$XS" flows -j 2>/dev/null | jq -c 'if type == "array" then . else (.flows // []) end'
}

# sip_msg FILE sent|received REGEX [N]: the Nth (default first) SIP message in
# a sipp -trace_msg file sent or received, whose first line matches REGEX.
sip_msg() {
	awk -v dir="$2" -v re="$3" -v want="${4:-1}" '
		/^-----------------------------------------------/ { if (p) exit; n = 0; next }
		{ n++ }
		n == 1 { d = index($0, dir) > 0; next }
		n == 2 && /^$/ { next }
		n == 3 { p = d && $0 ~ re && ++seen == want }
		p' "$1"
}

# sdp_field MSG_TEXT c|m|a: the first c= address, m=audio port or direction attribute.
sdp_field() {
	case $2 in
	c) sed -n 's/^c=IN IP4 \([0-9.]*\).*/\1/p' <<<"$1" | head -n 1 ;;
	m) sed -n 's/^m=audio \([0-9]*\) .*/\1/p' <<<"$1" | head -n 1 ;;
	a) grep -Eo '^a=(sendrecv|sendonly|recvonly|inactive)' <<<"$1" | head -n 1 | cut -c3- ;;
	esac
}
