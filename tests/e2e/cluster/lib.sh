# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2034 # sets variables for the scripts sourcing it
#
# The cluster topology, sourced by tests/e2e/test_cluster*.sh: a switch
# namespace (bridge) with Redis on it, edges A and B and a client on the
# same /24, each namespace created by this run (per-pid names):
#
#   client 192.0.2.50 ----+
#   edge A 192.0.2.1  ----+---- br0 (switch ns), Redis 192.0.2.254:PORT
#   edge B 192.0.2.2  ----+
#
# Redis runs without persistence (--save "", no AOF): a restart comes back
# empty, the worst case for "a Redis restart loses nothing the edges hold".

: "${BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build}"
XS=${XS:-$BUILD/bin/xdpsbc}
XS_SIGD=${XS_SIGD:-$BUILD/bin/xdpsbc-sigd}
XDP_TRIVIAL=${XDP_TRIVIAL:-$BUILD/bpf/xdp_trivial.bpf.o}
CL_PFX=${CL_PFX:-xc$$}
NS_SW=$CL_PFX-sw
NS_CL=$CL_PFX-cl
CL_WORK=$(mktemp -d /tmp/xdpsbc-cluster.XXXXXX)
CL_PIN=/sys/fs/bpf/xdpsbc-cluster-$$
REDIS_IP=192.0.2.254
REDIS_PORT=$((16379 + $$ % 1000))
CLIENT_IP=192.0.2.50
declare -A EDGE_IP=([a]=192.0.2.1 [b]=192.0.2.2 [c]=192.0.2.3)
declare -A SIGD_PID=()
REDIS_PID=
CL_PIDS=() # other daemons of a test (keepalived, sipp): killed by cl_down

in_ns() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

# xs_at EDGE ARGS...: the CLI against EDGE's pin root and control socket.
xs_at() {
	local e=$1
	shift
	XDPSBC_CTL=$CL_WORK/$e.sock in_ns "$CL_PFX-$e" "$XS" --pin-root "$CL_PIN-$e" "$@"
}

# kill_tree PID: PID and its descendants, by pid (sigd forks its relay on
# the udp and afxdp datapaths, keepalived its VRRP process).
kill_tree() {
	local k
	for k in $(pgrep -P "$1" 2>/dev/null); do
		kill_tree "$k"
	done
	kill -9 "$1" 2>/dev/null
}

cl_wait() { # TENTHS CMD...
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

_port() { # ns if (into the bridge)
	local tmp=${CL_PFX}v$RANDOM
	ip link add "$tmp" type veth peer name "${tmp}p" netns "$NS_SW" || return 1
	ip link set "$tmp" netns "$1"
	in_ns "$1" ip link set "$tmp" name "$2" up
	in_ns "$NS_SW" ip link set "${tmp}p" master br0 up
	in_ns "$1" ethtool -K "$2" tx off >/dev/null
	[ -e "$XDP_TRIVIAL" ] && in_ns "$NS_SW" ip link set dev "${tmp}p" xdpdrv obj "$XDP_TRIVIAL" sec xdp
	return 0
}

cl_up() {
	trap cl_down EXIT
	trap 'exit 130' INT TERM
	ip netns add "$NS_SW" && ip -n "$NS_SW" link set lo up || return 1
	ip -n "$NS_SW" link add br0 type bridge && ip -n "$NS_SW" link set br0 up
	ip -n "$NS_SW" addr add $REDIS_IP/24 dev br0
	ip netns add "$NS_CL" && ip -n "$NS_CL" link set lo up
	_port "$NS_CL" c0 && ip -n "$NS_CL" addr add $CLIENT_IP/24 dev c0
	for e in a b c; do
		ip netns add "$CL_PFX-$e" && ip -n "$CL_PFX-$e" link set lo up
		_port "$CL_PFX-$e" x0 || return 1
		ip -n "$CL_PFX-$e" addr add "${EDGE_IP[$e]}/24" dev x0
	done
	redis_start
}

redis_start() {
	# nsenter itself, not in_ns in a subshell: $! must be the daemon's pid.
	nsenter --net=/run/netns/"$NS_SW" redis-server --bind $REDIS_IP --port $REDIS_PORT --save "" --appendonly no \
		--protected-mode no --dir "$CL_WORK" >>"$CL_WORK/redis.log" 2>&1 &
	REDIS_PID=$!
	cl_wait 50 redis_cli PING
}

# A replica of it on the next port: listed first, an edge must pass it by.
REPLICA_PORT=$((REDIS_PORT + 1))
redis_replica_start() {
	nsenter --net=/run/netns/"$NS_SW" redis-server --bind $REDIS_IP --port $REPLICA_PORT \
		--save "" --appendonly no --protected-mode no --dir "$CL_WORK" \
		--replicaof $REDIS_IP $REDIS_PORT >>"$CL_WORK/replica.log" 2>&1 &
	CL_PIDS+=($!)
	cl_wait 50 in_ns "$NS_SW" redis-cli -h $REDIS_IP -p $REPLICA_PORT PING
}

redis_stop() {
	kill -TERM "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

redis_cli() { in_ns "$NS_SW" redis-cli -h $REDIS_IP -p $REDIS_PORT "$@"; }

# sigd_up EDGE [FLAGS...]: xdpsbc-sigd on EDGE's x0 with the cluster on; ready
# (its SIP socket bound) only after it loaded the shared state.
sigd_up() {
	local e=$1
	shift
	nsenter --net=/run/netns/"$CL_PFX-$e" "$XS_SIGD" --config none --iface x0 --datapath "${DATAPATH:-xdp}" \
		--public-ip "${EDGE_IP[$e]}" --listen "${EDGE_IP[$e]}:5060" \
		--upstream sip:192.0.2.99:5060 --foreground --pin-root "$CL_PIN-$e" \
		--state-dir "$CL_WORK/state-$e" --ctl-socket "$CL_WORK/$e.sock" \
		--redis "${CL_REDIS:-$REDIS_IP:$REDIS_PORT}" --node-id "edge-$e" "$@" \
		>>"$CL_WORK/sigd-$e.log" 2>&1 &
	SIGD_PID[$e]=$!
	cl_wait 100 sh -c "nsenter --net=/run/netns/$CL_PFX-$e ss -Hlun 'sport = :5060' | grep -q 5060" &&
		ctl_up "$e"
}

# ctl_up EDGE: its control socket answers with the cluster section. sigd
# binds its SIP socket before it creates the control socket: a status asked
# in between has no cluster section (a check right after the start failed so).
ctl_up() {
	cl_wait 100 sh -c "XDPSBC_CTL=$CL_WORK/$1.sock $XS --pin-root $CL_PIN-$1 status -j | jq -e .cluster"
}

sigd_down() {
	local e=$1 i kids
	kids=$(pgrep -P "${SIGD_PID[$e]}" 2>/dev/null)
	kill -TERM "${SIGD_PID[$e]}" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "${SIGD_PID[$e]}" 2>/dev/null || break
		sleep 0.1
	done
	kill_tree "${SIGD_PID[$e]}"
	for i in $kids; do
		kill_tree "$i"
	done
	wait "${SIGD_PID[$e]}" 2>/dev/null
	unset "SIGD_PID[$e]"
}

cl_down() {
	local e
	for e in "${!SIGD_PID[@]}"; do
		sigd_down "$e"
	done
	for e in "${CL_PIDS[@]}"; do
		kill_tree "$e"
	done
	[ -n "$REDIS_PID" ] && redis_stop
	for e in a b c; do
		[ -d "$CL_PIN-$e" ] && "$XS" --pin-root "$CL_PIN-$e" unload >/dev/null 2>&1
		rm -rf "$CL_PIN-$e"
		ip netns del "$CL_PFX-$e" 2>/dev/null
	done
	ip netns del "$NS_CL" 2>/dev/null
	for e in core nat natc; do
		ip netns del "$CL_PFX-$e" 2>/dev/null
	done
	ip netns del "$NS_SW" 2>/dev/null
	if [ -n "${CL_KEEP:-}" ]; then
		echo "kept: $CL_WORK"
	else
		rm -rf "$CL_WORK"
	fi
}

# has_block EDGE CIDR: the entry is in EDGE's blocklist (and not expired).
has_block() { xs_at "$1" block list -j | jq -e --arg c "$2" 'any(.[]; .cidr == $c and (.expired | not))' >/dev/null; }
has_trust() { xs_at "$1" trust list -j | jq -e --arg c "$2" 'any(.[]; .cidr == $c)' >/dev/null; }
