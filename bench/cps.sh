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
set -u
. "$(dirname "$0")/lib.sh"

OUT=${1:?usage: cps.sh OUT_JSON [STEP_SECONDS] [RATES...]}
STEP=${2:-8}
shift 2 2>/dev/null || shift $#
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(50 100 200 300 400 600 800 1000 1500)
HOLD_MS=${HOLD_MS:-1000} # ACK to BYE
SCEN=$BENCH_DIR/sip
NG=127.0.0.1:2223
RESULTS=()

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
		-i $SINK_IP -p 5060 -m "$n" -nostdin
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
	bg_ns "$NS_E" "$B_WORK/sigd.log" "$XS_SIGD" --config none --iface e0 --public-ip $EDGE_IP \
		--listen $EDGE_IP:5060 --upstream sip:$SINK_IP:5060 --rtp-ports 20000-29999 \
		--foreground --pin-root "$XDPSBC_PIN_ROOT" --state-dir "$B_WORK/state" --log-level ${SIGD_LOG_LEVEL:-warn}
	if wait_until 10 sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q 5060"; then
		run_edge xdpsbc-sigd
	else
		RESULTS+=("$(jq -n '{edge: "xdpsbc-sigd", na: "xdpsbc-sigd did not start"}')")
		tail -n 5 "$B_WORK/sigd.log" >&2
	fi
	in_ns "$NS_E" "$XS" stats >"$B_WORK/sigd.stats" 2>&1
	stop_edge
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

printf '%s\n' "${RESULTS[@]}" | jq -s . >"$OUT"
echo "cps: results in $OUT"
