#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Live packets per second between namespaces over veth (every datapath and tool).
#
#   bench/live.sh OUT_JSON [SECONDS] [FLOWS]
#
# The generator (build/bench/loadgen) floods 200-byte IPv4/UDP packets over
# FLOWS flows for SECONDS per case into the edge:
#   relay-xdp-native, relay-xdp-generic  xdpsbc relays to the sink (flows
#                                        programmed into its pinned table)
#   relay6-xdp-native                    the same over IPv6 (220-byte packets:
#                                        the same RTP in a 40-byte header)
#   xlat46-xdp-native, xlat64-xdp-native IPv4 in, IPv6 out and the reverse: the
#                                        relay translating between families
#   relay-xdp-native-csum                the IPv4 relay with UDP checksums (which
#                                        the IPv6 and translation cases carry)
#   relay-sigd-xdp, relay-afxdp,         calls through xdpsbc-sigd on each of its
#   relay-udp                            datapaths (n/a when the build lacks one)
#   relay-*-1arm                         the same, callee media on the caller's side
#                                        (one-armed edge: out of e0 again)
#   relay-rtpengine                      rtpengine-daemon, userspace (--table=-1),
#                                        calls set up over its ng protocol
#   drop-xdp, drop-nft                   blocklisted sources: xdpsbc's blocklist
#                                        against an nftables set (netdev ingress,
#                                        the earliest hook nftables has)
#   gen-only                             the generator into an XDP_DROP program:
#                                        the ceiling the generator itself sets, and
#                                        the drop limit (minimal XDP_DROP)
#   limit-fwd-2arm, limit-fwd-1arm       the minimal XDP forwarder (bench/bpf/limit.bpf.c:
#                                        one fixed flow's rewrite, XDP_REDIRECT out of
#                                        e1 / XDP_TX out of e0): the relay limit
#   relay-xdp-native-1arm                xdpsbc relaying back out of e0 (XDP_TX)
#   drop-xdp-1e6 (with DROP_SCALE)       the blocklist drop with 10^6 entries
#   attack-*                             1000 relayed flows at 50 pps each while
#                                        blocklisted and spoofed SIP sources flood at
#                                        the generator's maximum: loss per class
#   scale-N (with SCALE="1000 ... 1000000") the native relay with N flows in
#                                        the table: pps and kernel memory per flow
# Delivered = packets that reached the sink interface (relays) or that the
# filter dropped (drops), divided by the generator's sending time; saturated
# = the edge lost some (delivered < 98% of sent), i.e. the edge and not the
# generator set the rate. CPU (cpu_s, cpu_ns_per_pkt) = the generator's own
# time + the competitor's process time (utime+stime: a task's stime includes
# the softirq work, veth NAPI and XDP included, that ran in its context): the
# work this case caused, generator included, without other users of the
# machine; softirq run by ksoftirqd is not in it. busy_ns_per_pkt uses the
# whole machine's busy time instead; the machine's busy share before each
# case is recorded as "background". softirq_s is all softirq time, for scale.
# Writes one JSON object per case (an array) to OUT_JSON.
set -u
. "$(dirname "$0")/lib.sh"

OUT=${1:?usage: live.sh OUT_JSON [SECONDS] [FLOWS]}
SECS=${2:-5}
FLOWS=${3:-1000}
RELAY_PORT=20000 # first relay port on the edge
SINK_PORT=30000  # first port at the sink
NG=127.0.0.1:2223
BLOCK_FILLER=${BLOCK_FILLER:-1000} # more blocklist entries besides BLOCK_NET
RESULTS=()

# background_busy: fraction of the machine busy during 0.5 s of nothing from us.
background_busy() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat)
	sleep 0.5
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
		t = y[2] - x[2]; printf "%.2f\n", (t > 0 ? (y[1] - x[1]) / t : 0) }'
}

# counter readers: $1 = case kind
count_sink() { rx_packets "$NS_K" k0; }
count_xdp_drop() {
	in_ns "$NS_E" "$XS" stats -j | jq '.reasons["drop-blocklist"].packets // 0'
}
count_nft_drop() {
	in_ns "$NS_E" nft -j list set netdev xsbench blk >/dev/null 2>&1 || { echo 0; return; }
	in_ns "$NS_E" nft -j list chain netdev xsbench in |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0'
}

# run_case NAME COUNTER PROC_PIDS LOADGEN_ARGS...: one measured run; appends JSON.
run_case() {
	local name=$1 counter=$2 pids=$3 bg c0 c1 n0 n1 p0=0 p1=0 gen cpu
	shift 3
	bg=$(background_busy)
	n0=$($counter)
	[ -n "$pids" ] && p0=$(proc_cpu $pids)
	c0=$(cpu_snap)
	gen=$(in_ns "$NS_G" timeout -k 5 $((SECS + 60)) "$LOADGEN" send --ifname g0 \
		--dst-mac "$E0_MAC" --seconds "$SECS" "$@") || gen='{"sent":0,"seconds":0,"pps":0,"cpu_s":0}'
	c1=$(cpu_snap)
	# Let in-flight packets drain (socket queues, rings) before counting.
	sleep 0.3
	n1=$($counter)
	[ -n "$pids" ] && p1=$(proc_cpu $pids)
	read -r busy softirq <<<"$(cpu_delta "$c0" "$c1")"
	cpu=$(jq -n --argjson g "$gen" --arg name "$name" --argjson d "$((n1 - n0))" \
		--argjson busy "$busy" --argjson si "$softirq" --argjson bg "$bg" \
		--argjson p "$(awk -v a="$p0" -v b="$p1" 'BEGIN { printf "%.3f", b - a }')" \
		--argjson flows "$FLOWS" '{
			case: $name, flows: $flows, sent: $g.sent, seconds: $g.seconds,
			sent_pps: $g.pps, delivered: $d,
			delivered_pps: (if $g.seconds > 0 then ($d / $g.seconds | floor) else 0 end),
			cpu_busy_s: $busy, cpu_softirq_s: $si, generator_cpu_s: $g.cpu_s,
			process_cpu_s: $p, background_busy: $bg,
			cpu_s: ((($g.cpu_s + $p) * 1000 | floor) / 1000),
			cpu_ns_per_pkt: (if $d > 0 then (($g.cpu_s + $p) * 1e9 / $d | floor) else null end),
			busy_ns_per_pkt: (if $d > 0 then ($busy * 1e9 / $d | floor) else null end),
			saturated: ($d < 0.98 * $g.sent)
		}')
	echo "$cpu" | jq -c .
	RESULTS+=("$cpu")
}

na_case() { # NAME WHY
	local j
	j=$(jq -n --arg name "$1" --arg why "$2" '{case: $name, na: $why}')
	echo "$j" | jq -c .
	RESULTS+=("$j")
}

write_results() {
	printf '%s\n' "${RESULTS[@]}" | jq -s . >"$OUT"
}

xs_detach_all() {
	in_ns "$NS_E" "$XS" detach e0 >/dev/null 2>&1
	in_ns "$NS_E" "$XS" detach e1 >/dev/null 2>&1
}

relay_args=(--src "$GEN_IP" --dst "$EDGE_IP" --dport "$RELAY_PORT" --flows "$FLOWS")

bench_up || exit 1

# ---- the generator alone: XDP_DROP right at e0 ----
in_ns "$NS_E" "$LOADGEN" xdp-drop e0 || exit 1
count_e0() { rx_packets "$NS_E" e0; }
run_case gen-only count_e0 "" "${relay_args[@]}"
in_ns "$NS_E" ip link set dev e0 xdp off

# ---- the limit programs: the least a relay does, the same way out ----
# One-armed, the media goes back out of e0 to an address on the generator's
# side; g0 runs the sink program and counts it.
ONE_ARM_IP=203.0.113.20
count_g0() { rx_packets "$NS_G" g0; }
ip -n "$NS_E" neigh replace $ONE_ARM_IP lladdr "$G_MAC" dev e0 nud permanent
if in_ns "$NS_E" "$LOADGEN" xdp-fwd e0 e1 $EDGE_OUT_IP $SINK_IP $RELAY_PORT $SINK_PORT \
	"$E1_MAC" "$K_MAC"; then
	run_case limit-fwd-2arm count_sink "" "${relay_args[@]}"
else
	na_case limit-fwd-2arm "the minimal forwarder did not load"
fi
in_ns "$NS_E" ip link set dev e0 xdp off
in_ns "$NS_G" ip link set dev g0 xdpdrv obj "$SINK_OBJ" sec xdp
if in_ns "$NS_E" "$LOADGEN" xdp-fwd e0 e0 $EDGE_IP $ONE_ARM_IP $RELAY_PORT $SINK_PORT \
	"$E0_MAC" "$G_MAC"; then
	run_case limit-fwd-1arm count_g0 "" "${relay_args[@]}"
else
	na_case limit-fwd-1arm "the minimal forwarder did not load"
fi
in_ns "$NS_E" ip link set dev e0 xdp off
in_ns "$NS_G" ip link set dev g0 xdp off

# ---- xdpsbc relay, native then generic ----
for mode in native skb; do
	name=relay-xdp-native
	[ $mode = skb ] && name=relay-xdp-generic
	# Generic mode leaves e0 without a native program: GRO gives it NAPI.
	[ $mode = skb ] && in_ns "$NS_E" ethtool -K e0 gro on >/dev/null
	if in_ns "$NS_E" "$XS" attach e0 --mode $mode >/dev/null 2>&1 &&
		in_ns "$NS_E" "$XS" attach e1 --mode $mode >/dev/null 2>&1 &&
		in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" $EDGE_IP $RELAY_PORT $EDGE_OUT_IP \
			$SINK_IP $SINK_PORT "$FLOWS" >/dev/null; then
		run_case $name count_sink "" "${relay_args[@]}"
	else
		na_case $name "attach or flow programming failed"
	fi
	xs_detach_all
	in_ns "$NS_E" ethtool -K e0 gro off >/dev/null
done
in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" --clear >/dev/null 2>&1

# ---- xdpsbc native relay: IPv6, and translation between IPv4 and IPv6 ----
# IPv6 forbids UDP without checksum, and the relay refuses to translate such
# a packet to IPv6, so these cases carry checksums, which the relay updates;
# relay-xdp-native-csum is the IPv4 relay doing the same work. The media
# policy must let IPv6 media in (media ipv4-only off).
relay_family_case() { # NAME GEN_SRC EDGE_IN EDGE_OUT SINK SIZE
	local name=$1 src=$2 in=$3 out=$4 sink=$5 size=$6
	if in_ns "$NS_E" "$XS" attach e0 --mode native >/dev/null 2>&1 &&
		in_ns "$NS_E" "$XS" attach e1 --mode native >/dev/null 2>&1 &&
		in_ns "$NS_E" "$XS" media ipv4-only off >/dev/null 2>&1 &&
		in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" $in $RELAY_PORT $out \
			$sink $SINK_PORT "$FLOWS" >/dev/null; then
		run_case $name count_sink "" --src $src --dst $in --dport "$RELAY_PORT" \
			--flows "$FLOWS" --size $size --udp-csum
	else
		na_case $name "attach, media policy or flow programming failed"
	fi
	in_ns "$NS_E" "$XS" media ipv4-only on >/dev/null 2>&1
	xs_detach_all
	in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" --clear >/dev/null 2>&1
}
# FAMILY_CASES picks some (the quick run takes two: an IPv6 generator, a
# checksummed IPv4 one, the IPv6 sink and a translation).
fam_want() { [[ " ${FAMILY_CASES:-relay-xdp-native-csum relay6-xdp-native xlat46-xdp-native xlat64-xdp-native} " == *" $1 "* ]]; }
fam_want relay-xdp-native-csum &&
	relay_family_case relay-xdp-native-csum $GEN_IP $EDGE_IP $EDGE_OUT_IP $SINK_IP 200
fam_want relay6-xdp-native &&
	relay_family_case relay6-xdp-native $GEN_V6 $EDGE_V6 $EDGE_OUT_V6 $SINK_V6 220
fam_want xlat46-xdp-native &&
	relay_family_case xlat46-xdp-native $GEN_IP $EDGE_IP $EDGE_OUT_V6 $SINK_V6 200
fam_want xlat64-xdp-native &&
	relay_family_case xlat64-xdp-native $GEN_V6 $EDGE_V6 $EDGE_OUT_IP $SINK_IP 220

# ---- xdpsbc one-armed: the same flows, peer on the generator's side ----
in_ns "$NS_G" ip link set dev g0 xdpdrv obj "$SINK_OBJ" sec xdp
if in_ns "$NS_E" "$XS" attach e0 --mode native >/dev/null 2>&1 &&
	in_ns "$NS_E" "$XS" attach e1 --mode native >/dev/null 2>&1 &&
	in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" $EDGE_IP $RELAY_PORT $EDGE_IP \
		$ONE_ARM_IP $SINK_PORT "$FLOWS" >/dev/null; then
	run_case relay-xdp-native-1arm count_g0 "" "${relay_args[@]}"
else
	na_case relay-xdp-native-1arm "attach or flow programming failed"
fi
xs_detach_all
in_ns "$NS_G" ip link set dev g0 xdp off
in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" --clear >/dev/null 2>&1

# ---- scaling: the native relay with the flow table at SCALE concurrent flows ----
# Traffic runs over min(N, 15000) of them (the port space of one address);
# the rest sit idle in the table. Kernel memory: the map's own memlock.
flows_memlock() {
	bpftool -j map show pinned "$XDPSBC_PIN_ROOT/xs_flows" 2>/dev/null | jq '.bytes_memlock // 0'
}
if [ -n "${SCALE:-}" ] && in_ns "$NS_E" "$XS" attach e0 --mode native >/dev/null 2>&1 &&
	in_ns "$NS_E" "$XS" attach e1 --mode native >/dev/null 2>&1; then
	empty=$(flows_memlock)
	for n in $SCALE; do
		active=$((n < 15000 ? n : 15000))
		in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" --clear >/dev/null 2>&1
		in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" $EDGE_IP $RELAY_PORT $EDGE_OUT_IP \
			$SINK_IP $SINK_PORT $active $((n - active)) >/dev/null || break
		mem=$(flows_memlock)
		FLOWS=$n run_case scale-$n count_sink "" --src "$GEN_IP" --dst "$EDGE_IP" --sport 20000 \
			--dport "$RELAY_PORT" --flows $active
		last=$((${#RESULTS[@]} - 1))
		RESULTS[last]=$(jq -c --argjson m "$mem" --argjson e "$empty" --argjson n "$n" \
			--argjson a "$active" '. + {active_flows: $a, flows_memlock: $m,
			flows_memlock_empty: $e, bytes_per_flow: (($m - $e) / $n | floor)}' <<<"${RESULTS[last]}")
	done
	in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" --clear >/dev/null 2>&1
	xs_detach_all
fi

# ---- relays set up by xdpsbc-sigd itself, one datapath each ----
# SIGD_CALLS calls through sigd (sipp, held longer than the run); the caller
# logs the relay port of each call from the 200's SDP and the generator
# sends the media there. relay-sigd-xdp cross-checks the flowprog cases;
# afxdp and udp are the datapaths only sigd drives.
SIGD_CALLS=${SIGD_CALLS:-$((FLOWS < 1000 ? FLOWS : 1000))}
sigd_media_case() { # DATAPATH NAME [one-arm]
	local dp=$1 name=$2 arm=${3:-} dir=$B_WORK/sigd-$2 sigd uac uas n i mi=$SINK_IP counter=count_sink
	mkdir -p "$dir/state"
	# One-armed: the callee's media address (sipp -mi) sits on the generator's
	# side, so the edge sends the media back out of e0 (XDP_TX, or AF_XDP TX on
	# the socket it received on). g0 runs the sink program and counts it.
	if [ "$arm" = one-arm ]; then
		mi=$ONE_ARM_IP
		counter=count_g0
		in_ns "$NS_G" ip link set dev g0 xdpdrv obj "$SINK_OBJ" sec xdp || return
	fi
	if ! "$XS_SIGD" --help 2>&1 | grep -q -- "--datapath.*$dp"; then
		na_case "$name" "datapath $dp not in this build of xdpsbc-sigd"
		return
	fi
	in_ns "$NS_E" ip link set dev e0 xdp off 2>/dev/null
	# The far arm carries xdpsbc too: XDP_REDIRECT (xdp) and the AF_XDP relay's
	# second socket (afxdp) need it in xs_txports, as on the e2e edge.
	[ "$dp" != udp ] && in_ns "$NS_E" "$XS" attach e1 --mode native >/dev/null 2>&1
	# Without a native XDP program on e0 (udp), GRO gives veth its NAPI.
	[ "$dp" = udp ] && in_ns "$NS_E" ethtool -K e0 gro on >/dev/null
	# One sipp stands for many callers: a trusted peer, as in cps.sh.
	in_ns "$NS_E" "$XS" trust add $GEN_IP/32 >/dev/null 2>&1
	in_ns "$NS_E" "$XS" trust add $SINK_IP/32 >/dev/null 2>&1
	bg_ns "$NS_E" "$dir/sigd.log" "$XS_SIGD" --config none --iface e0 --datapath "$dp" \
		--public-ip $EDGE_IP --listen $EDGE_IP:5060 --upstream sip:$SINK_IP:5060 \
		--rtp-ports 20000-29999 --trusted $GEN_IP/32,$SINK_IP/32 --max-ports-per-source 0 \
		--foreground --pin-root "$XDPSBC_PIN_ROOT" \
		--state-dir "$dir/state" --log-level warn
	sigd=$BG_PID
	if ! wait_until 10 sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q 5060"; then
		na_case "$name" "xdpsbc-sigd --datapath $dp did not start: $(tail -n 1 "$dir/sigd.log")"
		kill "$sigd" 2>/dev/null
		wait "$sigd" 2>/dev/null
		return
	fi
	bg_ns "$NS_K" "$dir/uas.log" timeout -k 5 $((SECS + 120)) sipp -sf "$BENCH_DIR/sip/uas_cps.xml" \
		-i $SINK_IP -mi $mi -p 5060 -m "$SIGD_CALLS" -nostdin
	uas=$BG_PID
	wait_until 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	bg_ns "$NS_G" "$dir/uac.log" timeout -k 5 $((SECS + 120)) sipp -sf "$BENCH_DIR/sip/uac_ports.xml" \
		-i $GEN_IP -p 5060 -r 50 -m "$SIGD_CALLS" -l "$SIGD_CALLS" -d $(((SECS + 60) * 1000)) \
		-nostdin -trace_logs -log_file "$dir/ports.log" $EDGE_IP:5060
	uac=$BG_PID
	count_ports() { grep -c '^.*relay-port [0-9]' "$dir/ports.log" 2>/dev/null; }
	for ((i = 0; i < 600; i++)); do
		n=$(count_ports)
		[ "${n:-0}" -ge "$SIGD_CALLS" ] && break
		kill -0 "$uac" 2>/dev/null || break
		sleep 0.1
	done
	sed -n 's/.*relay-port \([0-9][0-9]*\).*/\1/p' "$dir/ports.log" >"$dir/ports"
	n=$(wc -l <"$dir/ports")
	# On a busy machine a few calls may fail to set up: measure the ones that did.
	if [ "$n" -ge $((SIGD_CALLS * 8 / 10)) ] && [ "$n" -gt 0 ]; then
		# Process time: every process of the edge (sigd and any worker it forks).
		FLOWS=$n run_case "$name" $counter "$(ip netns pids "$NS_E" | tr '\n' ' ')" \
			--src $GEN_IP --dst $EDGE_IP \
			--dport-file "$dir/ports"
	else
		na_case "$name" "only $n of $SIGD_CALLS calls through xdpsbc-sigd --datapath $dp were set up"
	fi
	kill "$uac" "$uas" 2>/dev/null
	kill -TERM "$sigd" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$sigd" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$sigd" 2>/dev/null
	wait "$sigd" "$uac" "$uas" 2>/dev/null
	xs_detach_all
	in_ns "$NS_E" ethtool -K e0 gro off >/dev/null
	in_ns "$NS_G" ip link set dev g0 xdp off
	in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" --clear >/dev/null 2>&1
	in_ns "$NS_E" nft delete table inet xdpsbc >/dev/null 2>&1
}
if [ -x "$XS_SIGD" ]; then
	sigd_media_case xdp relay-sigd-xdp
	sigd_media_case afxdp relay-afxdp
	sigd_media_case udp relay-udp
	# The same three with the callee on the caller's side of the edge. sipp
	# binds its media socket to -mi: the address also sits on the sink's lo.
	ip -n "$NS_K" addr add $ONE_ARM_IP/32 dev lo
	sigd_media_case xdp relay-sigd-xdp-1arm one-arm
	sigd_media_case afxdp relay-afxdp-1arm one-arm
	sigd_media_case udp relay-udp-1arm one-arm
else
	for c in relay-sigd-xdp relay-afxdp relay-udp relay-sigd-xdp-1arm relay-afxdp-1arm relay-udp-1arm; do
		na_case $c "xdpsbc-sigd not built"
	done
fi

# ---- rtpengine, userspace forwarding ----
in_ns "$NS_E" ethtool -K e0 gro on >/dev/null
if command -v rtpengine >/dev/null; then
	bg_ns "$NS_E" "$B_WORK/rtpengine.log" rtpengine --config-file=none --foreground \
		--log-stderr --log-level=3 --table=-1 --interface=$EDGE_IP --listen-ng=$NG \
		--port-min=$RELAY_PORT --port-max=29999 --num-threads=2 --timeout=600
	RTPE_PID=$BG_PID
	if wait_until 10 in_ns "$NS_E" python3 "$BENCH_DIR/ng.py" $NG ping &&
		in_ns "$NS_E" timeout 120 python3 "$BENCH_DIR/ng.py" $NG calls "$FLOWS" \
			$GEN_IP 40000 $SINK_IP $SINK_PORT >"$B_WORK/rtpe.ports" &&
		[ "$(wc -l <"$B_WORK/rtpe.ports")" = "$FLOWS" ]; then
		run_case relay-rtpengine count_sink "$RTPE_PID" --src $GEN_IP --dst $EDGE_IP \
			--dport-file "$B_WORK/rtpe.ports"
	else
		na_case relay-rtpengine "rtpengine did not start or set up the calls (see its log)"
		tail -n 5 "$B_WORK/rtpengine.log" >&2
	fi
	kill "$RTPE_PID" 2>/dev/null
	wait "$RTPE_PID" 2>/dev/null
else
	na_case relay-rtpengine "rtpengine not installed (make bench-deps)"
fi
in_ns "$NS_E" ethtool -K e0 gro off >/dev/null

# ---- blocklisted sources: the same entries in both filters ----
# BLOCK_NET plus filler /32s from the benchmarking range 198.18.0.0/15.
filler() {
	local i
	for ((i = 0; i < BLOCK_FILLER; i++)); do
		echo "198.18.$((i / 250)).$((i % 250 + 1))"
	done
}
drop_args=(--src $BLOCK_SRC --srcs 200 --dst $EDGE_IP --dport 5060 --flows 1)
{
	echo "$BLOCK_NET"
	filler
} >"$B_WORK/block.txt"
in_ns "$NS_E" ip link set dev e0 xdp off 2>/dev/null
if in_ns "$NS_E" "$XS" attach e0 --mode native >"$B_WORK/drop.err" 2>&1 &&
	in_ns "$NS_E" "$XS" block import "$B_WORK/block.txt" >>"$B_WORK/drop.err" 2>&1; then
	run_case drop-xdp count_xdp_drop "" "${drop_args[@]}"
else
	na_case drop-xdp "attach or blocklist import failed: $(grep -v '^note' "$B_WORK/drop.err" | tail -n 1)"
fi
xs_detach_all

# ---- the blocklist drop with DROP_SCALE entries (10^6 in a full run) ----
for n in ${DROP_SCALE:-}; do
	{
		echo "$BLOCK_NET"
		# /32s of the shared address space 100.64.0.0/10: no packet of the bench uses it.
		awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
			printf "100.%d.%d.%d\n", 64 + int(i / 65536), int(i / 256) % 256, i % 256 }'
	} >"$B_WORK/block-$n.txt"
	if in_ns "$NS_E" "$XS" attach e0 --mode native >"$B_WORK/drop.err" 2>&1 &&
		in_ns "$NS_E" timeout 600 "$XS" block import "$B_WORK/block-$n.txt" >>"$B_WORK/drop.err" 2>&1; then
		run_case drop-xdp-$n count_xdp_drop "" "${drop_args[@]}"
		last=$((${#RESULTS[@]} - 1))
		RESULTS[last]=$(jq -c --argjson n "$((n + 1))" '. + {entries: $n}' <<<"${RESULTS[last]}")
	else
		na_case drop-xdp-$n "attach or blocklist import failed: $(tail -n 1 "$B_WORK/drop.err")"
	fi
	xs_detach_all
	rm -rf "$XDPSBC_PIN_ROOT"
done

# ---- under attack: relayed flows at their normal rate during a SIP flood ----
# 1000 flows (FLOWS in quick mode) at 50 packets/s each, as RTP at 20 ms,
# from one generator; a second floods port 5060 at its maximum from 112
# sources: 203.0.113.72-127 spoofed (not blocklisted: the flood limit's
# work) and 203.0.113.128-183 blocklisted (203.0.113.128/25). Per class:
# sent, and relayed (sink) or dropped by the right stage (stats).
count_reason() { in_ns "$NS_E" "$XS" stats -j | jq --arg r "$1" '.reasons[$r].packets // 0'; }
attack_case() {
	local dir=$B_WORK/attack rate=$((FLOWS * 50)) s0 s1 b0 b1 f0 f1 rel flood j
	mkdir -p "$dir"
	if ! in_ns "$NS_E" "$XS" attach e0 --mode native >/dev/null 2>&1 ||
		! in_ns "$NS_E" "$XS" attach e1 --mode native >/dev/null 2>&1 ||
		! in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" $EDGE_IP $RELAY_PORT $EDGE_OUT_IP \
			$SINK_IP $SINK_PORT "$FLOWS" >/dev/null ||
		! echo 203.0.113.128/25 | in_ns "$NS_E" "$XS" block import /dev/stdin >/dev/null 2>&1; then
		na_case attack-relayed "attach, flows or blocklist failed"
		xs_detach_all
		return
	fi
	s0=$(count_sink)
	b0=$(count_reason drop-blocklist)
	f0=$(count_reason drop-flood)
	# Where relayed packets go: relayed by the program, or dropped by another stage.
	r0=$(count_reason relay-redirect)
	o0=$(($(count_reason drop-media-source) + $(count_reason drop-no-route) + $(count_reason drop-pinhole)))
	in_ns "$NS_G" timeout -k 5 $((SECS + 60)) "$LOADGEN" send --ifname g0 --dst-mac "$E0_MAC" \
		--seconds "$SECS" --rate "$rate" "${relay_args[@]}" >"$dir/relay.json" &
	rel=$!
	in_ns "$NS_G" timeout -k 5 $((SECS + 60)) "$LOADGEN" send --ifname g0 --dst-mac "$E0_MAC" \
		--seconds "$SECS" --src 203.0.113.72 --srcs 112 --dst $EDGE_IP --dport 5060 \
		--flows 1 >"$dir/flood.json" &
	flood=$!
	wait $rel $flood
	sleep 0.3
	s1=$(count_sink)
	b1=$(count_reason drop-blocklist)
	f1=$(count_reason drop-flood)
	r1=$(count_reason relay-redirect)
	o1=$(($(count_reason drop-media-source) + $(count_reason drop-no-route) + $(count_reason drop-pinhole)))
	j=$(jq -n --slurpfile r "$dir/relay.json" --slurpfile f "$dir/flood.json" \
		--argjson rel "$((s1 - s0))" --argjson blk "$((b1 - b0))" --argjson fl "$((f1 - f0))" \
		--argjson prog "$((r1 - r0))" --argjson other "$((o1 - o0))" \
		--argjson flows "$FLOWS" '($r[0] // {sent: 0, seconds: 0}) as $r |
		($f[0] // {sent: 0, seconds: 0}) as $f | {
			case: "attack", flows: $flows,
			relayed_sent: $r.sent, relayed_delivered: $rel,
			relayed_by_program: $prog, media_dropped_by_a_stage: $other,
			relayed_pps: (if $r.seconds > 0 then ($rel / $r.seconds | floor) else 0 end),
			relayed_kept: (if $r.sent > 0 then ($rel / $r.sent * 10000 | floor) / 10000 else null end),
			flood_sent: $f.sent,
			flood_pps: (if $f.seconds > 0 then ($f.sent / $f.seconds | floor) else 0 end),
			blocklisted_sent: ($f.sent / 2 | floor), blocklisted_dropped: $blk,
			spoofed_sent: ($f.sent / 2 | floor), spoofed_dropped: $fl,
			blocklisted_drop_share: (if $f.sent > 0 then ($blk / ($f.sent / 2) * 10000 | floor) / 10000 else null end),
			spoofed_drop_share: (if $f.sent > 0 then ($fl / ($f.sent / 2) * 10000 | floor) / 10000 else null end)
		}')
	echo "$j" | jq -c .
	RESULTS+=("$j")
	xs_detach_all
	in_ns "$NS_E" "$FLOWPROG" "$XDPSBC_PIN_ROOT" --clear >/dev/null 2>&1
}
attack_case

in_ns "$NS_E" ethtool -K e0 gro on >/dev/null
{
	echo "table netdev xsbench {"
	echo "  set blk { type ipv4_addr; flags interval; elements = { $BLOCK_NET"
	filler | sed 's/^/, /'
	echo "  } }"
	echo "  chain in { type filter hook ingress device e0 priority 0; policy accept;"
	echo "    ip saddr @blk counter drop"
	echo "  }"
	echo "}"
} >"$B_WORK/nft.conf"
if in_ns "$NS_E" nft -f "$B_WORK/nft.conf"; then
	run_case drop-nft count_nft_drop "" "${drop_args[@]}"
	in_ns "$NS_E" nft delete table netdev xsbench
else
	na_case drop-nft "nft ruleset failed to load"
fi
in_ns "$NS_E" ethtool -K e0 gro off >/dev/null

write_results
echo "live: results in $OUT"
