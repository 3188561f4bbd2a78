#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Signalling: calls per second and the edge's CPU per call (vs Kamailio with rtpengine).
#
#   bench/cps.sh OUT_JSON [STEP_SECONDS] [RATES...]
#
# sipp places calls (INVITE/100/180/200/ACK/BYE with SDP, route set from the
# 200; bench/sip/) from the gen namespace through the edge to a sipp callee
# in the sink namespace, first with xdpsbc-sigd as the edge, then with
# Kamailio + its rtpengine module + rtpengine (userspace). For each edge the
# rate steps up (RATES, calls per second, each for STEP_SECONDS) until a
# step has a failed or missing call; the highest clean step is the result.
# CPU per call: utime+stime of every process of the edge namespace (sigd;
# or all Kamailio processes plus rtpengine) over the step, divided by the
# calls completed. sipp itself runs on the same 2 cores and may be the limit
# on the rate; CPU per call does not depend on that.
#
# Then xdpsbc-sigd once more with --redis (a Redis in the sink namespace),
# one step at REDIS_RATE: the CPU per call of replicating every call.
#
# Then the concurrency ladder (LADDER="100 1000 10000 50000" concurrent
# calls, at LADDER_RATE calls/s, holds of N / rate seconds): for each rung a
# fresh edge, calls ramped up to N, then the edge's CPU per completed call
# over LADDER_WINDOW seconds of steady state (calls starting and ending at
# the rate while N are up), its resident memory (VmRSS of every edge
# process), then kill -9 of the edge with the N calls up and its restart
# timed (exec to listening again, and how many calls it knows then).
# Relay ports: LADDER_PORTS (default 10000-65535: the unprivileged range
# above the SIP and other fixed ports) for both edges; sigd anchors media on
# LADDER_MEDIA_IPS (default 4 addresses, media-ip: 4 x 27,768 pairs / 2 pairs
# a call = 55,536 calls), rtpengine on the edge address (its round-robin over
# several logical interfaces is not configured here). CPS_STEPS=0 skips the
# rate steps (the ladder alone). sipp sends no RTP, so both edges' media
# timeouts are raised to an hour: at the default 60 s each would end every
# call after a minute, capping the rung at 60 s x rate (12,000 at 200/s).
set -u
. "$(dirname "$0")/lib.sh"

OUT=${1:?usage: cps.sh OUT_JSON [STEP_SECONDS] [RATES...]}
STEP=${2:-8}
shift 2 2>/dev/null || shift $#
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(50 100 200 300 400 600 800 1000 1500)
HOLD_MS=${HOLD_MS:-1000} # ACK to BYE
# The rate of the step with Redis: the third rate (200 calls/s in a full run).
REDIS_RATE=${REDIS_RATE:-${RATES[$((${#RATES[@]} > 2 ? 2 : ${#RATES[@]} - 1))]}}
SCEN=$BENCH_DIR/sip
NG=127.0.0.1:2223
RESULTS=()
# sigd runs with the malloc tuning of its systemd unit (dist/xdpsbc-sigd.service).
SIGD_TUNABLES=${SIGD_TUNABLES-glibc.malloc.tcache_count=1024}

edge_pids() { ip netns pids "$NS_E" 2>/dev/null | tr '\n' ' '; }

# sipp_stat FILE COLUMN: the last value of a column in a sipp -trace_stat CSV.
sipp_stat() {
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ v = $c } END { print (v == "" ? 0 : v) + 0 }' "$1" 2>/dev/null
}

# step EDGE RATE: one step; appends JSON; returns 0 when every call completed.
step() {
	local edge=$1 rate=$2 n=$(($2 * STEP)) dir=$B_WORK/$1-$2 pids c0 c1 t0 t1 ok fail uac_rc uas_pid
	mkdir -p "$dir"
	bg_ns "$NS_K" "$dir/uas.log" timeout -k 5 $((STEP + 40)) sipp -sf "$SCEN/uas_cps.xml" \
		-i $SINK_IP -p 5060 -m "$n" -nostdin -trace_err -error_file "$dir/uas.err"
	uas_pid=$BG_PID
	wait_until 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	pids=$(edge_pids)
	c0=$(proc_cpu $pids)
	t0=$(date +%s.%N)
	in_ns "$NS_G" timeout -k 5 $((STEP + 40)) sipp -sf "$SCEN/uac_cps.xml" -i $GEN_IP -p 5060 \
		-r "$rate" -m "$n" -l $((rate * (HOLD_MS / 1000 + 5))) -d "$HOLD_MS" -nostdin \
		-timeout $((STEP + 30))s -trace_stat -stf "$dir/uac.csv" -fd 1 \
		-trace_err -error_file "$dir/uac.err" $EDGE_IP:5060 >"$dir/uac.log" 2>&1
	uac_rc=$?
	t1=$(date +%s.%N)
	c1=$(proc_cpu $pids)
	wait "$uas_pid" 2>/dev/null
	ok=$(sipp_stat "$dir/uac.csv" "SuccessfulCall(C)")
	fail=$(sipp_stat "$dir/uac.csv" "FailedCall(C)")
	ok=${ok:-0} fail=${fail:-0}
	local j
	j=$(jq -n --arg edge "$edge" --argjson rate "$rate" --argjson n "$n" --argjson ok "$ok" \
		--argjson fail "$fail" --argjson rc "$uac_rc" \
		--argjson cpu "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')" \
		--argjson secs "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" '{
			edge: $edge, rate: $rate, calls: $n, completed: $ok, failed: $fail,
			sipp_rc: $rc, seconds: $secs, edge_cpu_s: $cpu,
			cpu_ms_per_call: (if $ok > 0 then ($cpu * 1e6 / $ok | floor) / 1000 else null end),
			clean: ($ok == $n and $fail == 0 and $rc == 0)
		}')
	echo "$j" | jq -c .
	RESULTS+=("$j")
	[ "$(jq -r .clean <<<"$j")" = true ]
}

# run_edge NAME: step the rate up until a step is not clean.
run_edge() {
	local r
	[ "${CPS_STEPS:-1}" = 0 ] && return
	for r in "${RATES[@]}"; do
		step "$1" "$r" || break
	done
}

stop_edge() {
	local pid i
	for pid in $(edge_pids); do
		kill "$pid" 2>/dev/null
	done
	for ((i = 0; i < 50; i++)); do
		[ -z "$(edge_pids)" ] && break
		sleep 0.1
	done
	for pid in $(edge_pids); do
		kill -9 "$pid" 2>/dev/null
	done
}

bench_up || exit 1

# ---- xdpsbc-sigd ----
if [ -x "$XS_SIGD" ]; then
	in_ns "$NS_E" "$XS" attach e1 >/dev/null 2>&1
	# One sipp stands for a whole trunk of callers, so it is a trusted peer
	# (as a carrier's trunk would be); otherwise the SIP flood limit bans it.
	in_ns "$NS_E" "$XS" trust add $GEN_IP/32 >/dev/null
	in_ns "$NS_E" "$XS" trust add $SINK_IP/32 >/dev/null
	mkdir -p "$B_WORK/state"
	# The caller sipp is one trunk: no per-source caps (a trunk is configured so).
	bg_ns "$NS_E" "$B_WORK/sigd.log" env GLIBC_TUNABLES=$SIGD_TUNABLES "$XS_SIGD" --config none --iface e0 --public-ip $EDGE_IP \
		--listen $EDGE_IP:5060 --upstream sip:$SINK_IP:5060 --rtp-ports 20000-29999 \
		--trusted $GEN_IP/32,$SINK_IP/32 --max-ports-per-source 0 --foreground --pin-root "$XDPSBC_PIN_ROOT" --state-dir "$B_WORK/state" --log-level ${SIGD_LOG_LEVEL:-warn}
	if wait_until 10 sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q 5060"; then
		run_edge xdpsbc-sigd
	else
		RESULTS+=("$(jq -n '{edge: "xdpsbc-sigd", na: "xdpsbc-sigd did not start"}')")
		tail -n 5 "$B_WORK/sigd.log" >&2
	fi
	in_ns "$NS_E" "$XS" stats >"$B_WORK/sigd.stats" 2>&1
	stop_edge
	# The same edge writing every call to Redis (the cluster's replicated
	# calls), one step at REDIS_RATE: its CPU per call against the plain
	# step at that rate. Redis runs in the sink namespace, outside the
	# edge's CPU count: the row is sigd's own cost of replicating.
	if command -v redis-server >/dev/null; then
		bg_ns "$NS_K" "$B_WORK/redis.log" redis-server --bind $SINK_IP --port 6390 \
			--save "" --appendonly no --protected-mode no --dir "$B_WORK"
		redis_pid=$BG_PID
		mkdir -p "$B_WORK/state-redis"
		if wait_until 5 in_ns "$NS_K" redis-cli -h $SINK_IP -p 6390 PING; then
			bg_ns "$NS_E" "$B_WORK/sigd-redis.log" "$XS_SIGD" --config none --iface e0 \
				--public-ip $EDGE_IP --listen $EDGE_IP:5060 --upstream sip:$SINK_IP:5060 \
				--rtp-ports 20000-29999 --trusted $GEN_IP/32,$SINK_IP/32 \
				--max-ports-per-source 0 --foreground --pin-root "$XDPSBC_PIN_ROOT" \
				--state-dir "$B_WORK/state-redis" --redis $SINK_IP:6390 --node-id bench-edge \
				--log-level ${SIGD_LOG_LEVEL:-warn}
			if wait_until 10 sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q 5060"; then
				step xdpsbc-sigd+redis "$REDIS_RATE"
			else
				RESULTS+=("$(jq -n '{edge: "xdpsbc-sigd+redis", na: "xdpsbc-sigd with --redis did not start"}')")
			fi
			stop_edge
		else
			RESULTS+=("$(jq -n '{edge: "xdpsbc-sigd+redis", na: "redis-server did not start"}')")
		fi
		kill "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
	else
		RESULTS+=("$(jq -n '{edge: "xdpsbc-sigd+redis", na: "redis-server not installed"}')")
	fi
	in_ns "$NS_E" "$XS" detach e0 >/dev/null 2>&1
	in_ns "$NS_E" "$XS" detach e1 >/dev/null 2>&1
else
	RESULTS+=("$(jq -n '{edge: "xdpsbc-sigd", na: "not built"}')")
fi

# ---- Kamailio + rtpengine ----
MPATH=$(dirname "$(find /usr/lib -name rtpengine.so -path '*kamailio*' 2>/dev/null | head -n 1)")
if command -v kamailio >/dev/null && command -v rtpengine >/dev/null && [ -d "$MPATH" ]; then
	in_ns "$NS_E" ethtool -K e0 gro on >/dev/null
	bg_ns "$NS_E" "$B_WORK/rtpengine.log" rtpengine --config-file=none --foreground \
		--log-stderr --log-level=3 --table=-1 --interface=$EDGE_IP --listen-ng=$NG \
		--port-min=20000 --port-max=29999 --num-threads=2 --delete-delay=0
	# Kamailio pings rtpengine once at start and disables it for a minute on no answer.
	wait_until 10 in_ns "$NS_E" python3 "$BENCH_DIR/ng.py" $NG ping
	sed -e "s|@LISTEN@|$EDGE_IP:5060|; s|@UPSTREAM@|$SINK_IP:5060|; s|@NG@|$NG|; s|@MPATH@|$MPATH/|" \
		"$BENCH_DIR/kamailio.cfg" >"$B_WORK/kamailio.cfg"
	mkdir -p "$B_WORK/kam"
	bg_ns "$NS_E" "$B_WORK/kamailio.log" kamailio -f "$B_WORK/kamailio.cfg" -DD -E \
		-m 128 -M 16 -Y "$B_WORK/kam"
	if wait_until 10 sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q 5060"; then
		run_edge kamailio+rtpengine
	else
		RESULTS+=("$(jq -n '{edge: "kamailio+rtpengine", na: "kamailio or rtpengine did not start"}')")
		tail -n 5 "$B_WORK/kamailio.log" "$B_WORK/rtpengine.log" >&2
	fi
	stop_edge
else
	RESULTS+=("$(jq -n '{edge: "kamailio+rtpengine", na: "not installed (make bench-deps)"}')")
fi

# ---- the concurrency ladder ----
LADDER=${LADDER:-}
LADDER_RATE=${LADDER_RATE:-100}
LADDER_WINDOW=${LADDER_WINDOW:-10}
LADDER_PORTS=${LADDER_PORTS:-10000-65535}
LADDER_MEDIA_IPS=${LADDER_MEDIA_IPS:-$EDGE_IP 203.0.113.2 203.0.113.3 203.0.113.4}
rss_kb() { # PID...: summed VmRSS
	local t=0 v pid
	for pid in "$@"; do
		v=$(awk '/^VmRSS:/ { print $2 }' /proc/"$pid"/status 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo $t
}
sigd_start() { # DIR LOG
	bg_ns "$NS_E" "$2" env GLIBC_TUNABLES=$SIGD_TUNABLES "$XS_SIGD" --config none --iface e0 --public-ip $EDGE_IP \
		--listen $EDGE_IP:5060 --upstream sip:$SINK_IP:5060 --rtp-ports "$LADDER_PORTS" \
		--media-ip "$(tr ' ' ',' <<<"$LADDER_MEDIA_IPS")" --media-timeout 3600 --max-dialogs 200000 --trusted $GEN_IP/32,$SINK_IP/32 --max-ports-per-source 0 --foreground --pin-root "$XDPSBC_PIN_ROOT" --state-dir "$1/state" \
		--ctl-socket "$1/ctl.sock" --log-level ${SIGD_LOG_LEVEL:-warn}
	EDGE_PID=$BG_PID
}
kam_start() { # DIR
	bg_ns "$NS_E" "$1/rtpengine.log" rtpengine --config-file=none --foreground \
		--log-stderr --log-level=3 --table=-1 --interface=$EDGE_IP --listen-ng=$NG \
		--port-min=${LADDER_PORTS%-*} --port-max=${LADDER_PORTS#*-} --num-threads=2 --delete-delay=0 \
		--timeout=3600 --silent-timeout=3600
	wait_until 10 in_ns "$NS_E" python3 "$BENCH_DIR/ng.py" $NG ping
	mkdir -p "$1/kam"
	bg_ns "$NS_E" "$1/kamailio.log" kamailio -f "$B_WORK/kamailio.cfg" -DD -E \
		-m 512 -M 64 -Y "$1/kam"
}
sip_up() { wait_until "${1:-10}" sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q 5060"; }
# rung EDGE N: one rung of the ladder; appends JSON.
rung() {
	local edge=$1 up=$2 dir=$B_WORK/ladder-$1-$2 hold_ms total uas uac pids c0 c1 k0 k1 t0 t1 rss
	local rec_s known secs
	hold_ms=$((up * 1000 / LADDER_RATE))
	secs=$((hold_ms / 1000 + LADDER_WINDOW + 3))
	total=$((LADDER_RATE * secs))
	mkdir -p "$dir/state"
	if [ "$edge" = xdpsbc-sigd ]; then
		in_ns "$NS_E" "$XS" attach e1 >/dev/null 2>&1
		in_ns "$NS_E" "$XS" trust add $GEN_IP/32 >/dev/null
		in_ns "$NS_E" "$XS" trust add $SINK_IP/32 >/dev/null
		for a in $LADDER_MEDIA_IPS; do
			[ "$a" = "$EDGE_IP" ] || ip -n "$NS_E" addr add "$a/24" dev e0 2>/dev/null
		done
		sigd_start "$dir" "$dir/sigd.log"
	else
		in_ns "$NS_E" ethtool -K e0 gro on >/dev/null
		kam_start "$dir"
	fi
	if ! sip_up 15; then
		RESULTS+=("$(jq -n --arg e "$edge" --argjson n "$up" '{ladder: true, edge: $e, concurrent: $n, na: "edge did not start"}')")
		stop_edge
		return
	fi
	bg_ns "$NS_K" "$dir/uas.log" timeout -k 5 $((secs + 120)) sipp -sf "$SCEN/uas_cps.xml" \
		-i $SINK_IP -p 5060 -m "$total" -nostdin -max_socket 65000
	uas=$BG_PID
	wait_until 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	bg_ns "$NS_G" "$dir/uac.log" timeout -k 5 $((secs + 120)) sipp -sf "$SCEN/uac_cps.xml" \
		-i $GEN_IP -p 5060 -r "$LADDER_RATE" -m "$total" -l $((up * 12 / 10 + LADDER_RATE * 5)) \
		-d "$hold_ms" -nostdin -trace_stat -stf "$dir/uac.csv" -fd 1 $EDGE_IP:5060
	uac=$BG_PID
	# Ramp: the first calls end after hold_ms; from then on N are up.
	sleep $(((hold_ms + 999) / 1000 + 1))
	pids=$(edge_pids)
	c0=$(proc_cpu $pids)
	k0=$(sipp_stat "$dir/uac.csv" "SuccessfulCall(C)")
	t0=$(date +%s.%N)
	if [ -n "${LADDER_PERF:-}" ] && [ "$edge" = xdpsbc-sigd ] && command -v perf >/dev/null; then
		# The profile of the window (docs/performance.md has the top of it).
		mkdir -p "$LADDER_PERF"
		perf record -q -g -F 999 -p "$EDGE_PID" -o "$LADDER_PERF/sigd-$up.data" \
			-- sleep "$LADDER_WINDOW" >/dev/null 2>&1
	else
		sleep "$LADDER_WINDOW"
	fi
	c1=$(proc_cpu $pids)
	k1=$(sipp_stat "$dir/uac.csv" "SuccessfulCall(C)")
	t1=$(date +%s.%N)
	rss=$(rss_kb $pids)
	local cur fail
	cur=$(sipp_stat "$dir/uac.csv" "CurrentCall")
	fail=$(sipp_stat "$dir/uac.csv" "FailedCall(C)")
	# Crash with the calls up, then restart and time it.
	kill "$uac" "$uas" 2>/dev/null
	wait "$uac" "$uas" 2>/dev/null
	for pid in $(edge_pids); do kill -9 "$pid" 2>/dev/null; done
	for ((i = 0; i < 50; i++)); do [ -z "$(edge_pids)" ] && break; sleep 0.1; done
	t0r=$(date +%s.%N)
	if [ "$edge" = xdpsbc-sigd ]; then
		sigd_start "$dir" "$dir/sigd2.log"
	else
		kam_start "$dir"
	fi
	sip_up 120
	rec_s=$(awk -v a="$t0r" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
	known=0
	if [ "$edge" = xdpsbc-sigd ]; then
		# The control socket may open a moment after SIP: ask until it answers.
		wait_until 10 in_ns "$NS_E" "$XS" calls -j --ctl "$dir/ctl.sock"
		known=$(in_ns "$NS_E" "$XS" calls -j --ctl "$dir/ctl.sock" 2>/dev/null | jq 'length' 2>/dev/null)
	fi
	local j
	j=$(jq -n --arg edge "$edge" --argjson up "$up" --argjson rate "$LADDER_RATE" \
		--argjson cpu "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')" \
		--argjson secs "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
		--argjson done "$((k1 - k0))" --argjson cur "${cur:-0}" --argjson fail "${fail:-0}" \
		--argjson rss "$rss" --argjson rec "$rec_s" --argjson known "${known:-0}" \
		--argjson maddrs "$([ "$edge" = xdpsbc-sigd ] && wc -w <<<"$LADDER_MEDIA_IPS" || echo 1)" '{
			ladder: true, edge: $edge, concurrent: $up, rate: $rate, window_s: $secs,
			media_addresses: $maddrs,
			calls_up_at_end: $cur, completed_in_window: $done, failed_total: $fail,
			edge_cpu_s: $cpu,
			cpu_ms_per_call: (if $done > 0 then ($cpu * 1e6 / $done | floor) / 1000 else null end),
			rss_kb: $rss, restart_s: $rec, calls_known_after_restart: $known
		}')
	echo "$j" | jq -c .
	RESULTS+=("$j")
	stop_edge
	in_ns "$NS_E" "$XS" detach e0 >/dev/null 2>&1
	in_ns "$NS_E" "$XS" detach e1 >/dev/null 2>&1
	in_ns "$NS_E" nft delete table inet xdpsbc >/dev/null 2>&1
	rm -rf "$XDPSBC_PIN_ROOT"
	for a in $LADDER_MEDIA_IPS; do
		[ "$a" = "$EDGE_IP" ] || ip -n "$NS_E" addr del "$a/24" dev e0 2>/dev/null
	done
	in_ns "$NS_E" ethtool -K e0 gro off >/dev/null
}
if [ -n "$LADDER" ]; then
	for n in $LADDER; do
		[[ " ${LADDER_EDGES:-xdpsbc-sigd kamailio+rtpengine} " != *" xdpsbc-sigd "* ]] ||
			{ [ -x "$XS_SIGD" ] && rung xdpsbc-sigd "$n"; }
		[[ " ${LADDER_EDGES:-xdpsbc-sigd kamailio+rtpengine} " == *" kamailio+rtpengine "* ]] &&
			[ -n "${MPATH:-}" ] && [ -d "$MPATH" ] && command -v kamailio >/dev/null &&
			command -v rtpengine >/dev/null && rung kamailio+rtpengine "$n"
	done
fi

printf '%s\n' "${RESULTS[@]}" | jq -s . >"$OUT"
echo "cps: results in $OUT"
