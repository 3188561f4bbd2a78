#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Failover mid-call between two edges sharing Redis (tests/e2e/cluster/lib.sh):
# edge A holds the shared address 192.0.2.10 (VRRP with keepalived, else a
# script moving the address), edge B is standby-for A. CALLS calls (default
# 20) from a caller through A to the core, with RTP both ways on the xdp
# datapath; mid-call A is killed (sigd and keepalived SIGKILL, its link down),
# the address moves to B (NATCALLS more calls, default 5, come from callers
# behind a masquerading NAT: B must keep the latched NAT bindings). Every call's media must continue through B after a
# gap of at most 1 s (RTP counted at both ends), and the BYEs afterwards are
# answered through B, which removes the flows. One more call, from the
# caller's second sipp, is taken over too and then sends a re-INVITE through
# B (its answer must keep the call's relay address and ports) and lets its
# media stop: B's media timeout must send BYE to both legs and remove the
# flows. Prints PASS/FAIL/SKIP lines.
#
#   CALLS=5            fewer calls (NATCALLS=0: none from behind the NAT)
#   DATAPATH=udp       the edges on the udp datapath (test_cluster_failover_udp.sh)
#   DATAPATH=afxdp     on the afxdp datapath (passes; not in make test for time)
#   VIP_MOVER=script   move the address with ip(8) instead of keepalived
#   CL_KEEP=1          keep the logs
set -u
source "$(dirname "$0")/cluster/lib.sh"
SCEN=$(cd "$(dirname "$0")/../sip/scenarios" && pwd)
RTP_PEER=${RTP_PEER:-$BUILD/tests/tools/rtp_peer}
CALLS=${CALLS:-20}
NATCALLS=${NATCALLS:-5} # more calls, from callers behind a masquerading NAT
VIP=192.0.2.10
CORE_IP=192.0.2.99
NPKT=400 # 8 s of media at 20 ms
# The normal calls' BYE comes 2.5 s after their media ends: well inside it.
MEDIA_TIMEOUT=5
# The re-INVITE call: its re-INVITE 9 s after its answer (the takeover is
# over by then, checked), its caller's media 11 s (the callee's 8 s).
TK_REINV_MS=9000 TK_NPKT=550
VIP_MOVER=${VIP_MOVER:-auto}

fails=0
pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	fails=$((fails + 1))
}

for what in redis-server redis-cli jq sipp "$RTP_PEER"; do
	command -v "$what" >/dev/null || [ -x "$what" ] || {
		echo "SKIP test_cluster_failover: $what missing"
		exit 0
	}
done
if [ "$VIP_MOVER" = auto ]; then
	VIP_MOVER=script
	command -v keepalived >/dev/null && VIP_MOVER=keepalived
fi

cl_up || {
	echo "FAIL test_cluster_failover: topology or Redis did not come up"
	exit 1
}
NS_K=$CL_PFX-core
ip netns add "$NS_K" && ip -n "$NS_K" link set lo up
_port "$NS_K" k0 && ip -n "$NS_K" addr add $CORE_IP/24 dev k0
# The NAT: 10.0.0.2 behind 192.0.2.60, masquerading with random ports, so
# the edges reach these callers' media only by the latched binding.
NS_N=$CL_PFX-nat NS_NC=$CL_PFX-natc
ip netns add "$NS_N" && ip -n "$NS_N" link set lo up
ip netns add "$NS_NC" && ip -n "$NS_NC" link set lo up
_port "$NS_N" n1 && ip -n "$NS_N" addr add 192.0.2.60/24 dev n1
ip -n "$NS_NC" link add c0 type veth peer name n0 netns "$NS_N"
ip -n "$NS_NC" link set c0 up && ip -n "$NS_N" link set n0 up
in_ns "$NS_NC" ethtool -K c0 tx off >/dev/null
in_ns "$NS_N" ethtool -K n0 tx off >/dev/null
ip -n "$NS_NC" addr add 10.0.0.2/24 dev c0 && ip -n "$NS_NC" route add default via 10.0.0.1
ip -n "$NS_N" addr add 10.0.0.1/24 dev n0
in_ns "$NS_N" sysctl -qw net.ipv4.ip_forward=1
in_ns "$NS_N" nft -f - <<-'NFT'
	table ip xsnat {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "n1" ip saddr 10.0.0.0/8 masquerade random
		}
	}
NFT
for e in a b; do
	# Listen on the shared address before holding it (as with any VRRP pair).
	in_ns "$CL_PFX-$e" sysctl -qw net.ipv4.ip_nonlocal_bind=1 net.ipv4.ip_forward=1
done

keepalived_up() { # edge priority
	local e=$1 prio=$2
	cat >"$CL_WORK/ka-$e.conf" <<-KA
		global_defs {
			router_id edge-$e
			vrrp_version 3
			vrrp_garp_master_delay 0
			vrrp_garp_master_repeat 3
			vrrp_garp_lower_prio_repeat 0
			# Real-time: at advert_int 0.1 a VRRP process that waits 0.36 s
			# for a CPU (a loaded host) takes the address from a live master.
			vrrp_rt_priority 50
			vrrp_rlimit_rttime 1000000
		}
		vrrp_instance edge {
			state BACKUP
			interface x0
			virtual_router_id 51
			priority $prio
			advert_int 0.1
			nopreempt
			virtual_ipaddress {
				$VIP/24 dev x0
			}
		}
	KA
	nsenter --net=/run/netns/"$CL_PFX-$e" keepalived -n -l -D --vrrp -f "$CL_WORK/ka-$e.conf" \
		-p "$CL_WORK/ka-$e.pid" -r "$CL_WORK/ka-$e.vrrp.pid" >>"$CL_WORK/ka-$e.log" 2>&1 &
	eval "KA_PID_$e=$!"
	CL_PIDS+=($!)
}
has_vip() { in_ns "$CL_PFX-$1" ip -4 -o addr show dev x0 | grep -q " $VIP/"; }

if [ "$VIP_MOVER" = keepalived ]; then
	keepalived_up a 150
	cl_wait 50 has_vip a || { fail vrrp_master "keepalived did not give A the address"; VIP_MOVER=script; }
fi
[ "$VIP_MOVER" = script ] && ip -n "$CL_PFX-a" addr add $VIP/24 dev x0
echo "# address mover: $VIP_MOVER"

start_edge() { # a|b
	local e=$1 extra=()
	if [ "$e" = b ]; then
		extra=(--standby-for edge-a)
		# A failover group shares the signing secret: B must accept A's
		# Record-Route and branch MACs, and knows A's calls by their cookies.
		cl_wait 50 test -s "$CL_WORK/state-a/secret"
		mkdir -p "$CL_WORK/state-b"
		install -m 0600 "$CL_WORK/state-a/secret" "$CL_WORK/state-b/secret"
	fi
	nsenter --net=/run/netns/"$CL_PFX-$e" "$XS_SIGD" --config none --iface x0 --datapath "${DATAPATH:-xdp}" \
		--public-ip $VIP --listen $VIP:5060 --upstream sip:$CORE_IP:5060 \
		--rtp-ports 20000-29999 --media-timeout $MEDIA_TIMEOUT --foreground --pin-root "$CL_PIN-$e" \
		--state-dir "$CL_WORK/state-$e" --ctl-socket "$CL_WORK/$e.sock" \
		--redis $REDIS_IP:$REDIS_PORT --node-id "edge-$e" "${extra[@]}" \
		>>"$CL_WORK/sigd-$e.log" 2>&1 &
	SIGD_PID[$e]=$!
	cl_wait 100 sh -c "nsenter --net=/run/netns/$CL_PFX-$e ss -Hlun 'sport = :5060' | grep -q 5060" &&
		ctl_up "$e"
}
start_edge a && start_edge b ||
	fail sigd_start "an edge's sigd did not start: $(tail -3 "$CL_WORK"/sigd-*.log)"
[ "$VIP_MOVER" = keepalived ] && keepalived_up b 100
# One caller places every call: above the SIP flood limit (16 requests in 2 s)
# it would be banned, and the ban shared with B (test_cluster.sh checks that).
# On the udp datapath the nft rules carry the limit themselves and `flood
# set` re-syncs only the sets: the table is installed again to take it,
# before any call: a reinstall empties the udp relay's pinhole set, and
# after B's restart it was still empty when B took the calls over (media
# dropped as drop-pinhole). A restarted sigd builds its rules from the
# pinned settings: B's restart below needs no reinstall.
flood_open() { # edge
	xs_at "$1" flood set --rate 10000 >/dev/null
	[ "${DATAPATH:-xdp}" = udp ] && xs_at "$1" fw install >/dev/null
}
for e in a b; do
	flood_open $e
done
# Neighbours resolved in advance on every side (the relay's fib lookup wants them).
for ns in "$NS_CL" "$NS_K" "$NS_N" "$CL_PFX-a" "$CL_PFX-b"; do
	for ip in $CLIENT_IP $CORE_IP 192.0.2.1 192.0.2.2 192.0.2.60; do
		in_ns "$ns" bash -c "echo poke >/dev/udp/$ip/9" 2>/dev/null
	done
done

d=$CL_WORK/calls
mkdir -p "$d"
t=$((NPKT * 20 / 1000 + 8))
TOTAL=$((CALLS + NATCALLS + 1))
nsenter --net=/run/netns/"$NS_K" sipp -sf "$SCEN/uas_media_reinvite.xml" -i $CORE_IP -p 5060 -m "$TOTAL" \
	-nostdin -timeout $((t + 25))s -timeout_error -key mport 40000 -key out_dir "$d" \
	-key rtp_cmd "$RTP_PEER -W -n $NPKT -i 20 -t $((t + 4)) -e $NPKT -L 3000" \
	-trace_err -error_file "$d/uas.err" -trace_logs -log_file "$d/uas.logs" >"$d/uas.log" 2>&1 &
UAS=$!
CL_PIDS+=($UAS)
cl_wait 50 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
nsenter --net=/run/netns/"$NS_CL" sipp -sf "$SCEN/uac_media.xml" -i $CLIENT_IP -p 5060 \
	-m "$CALLS" -l "$CALLS" -r 10 -rp 1000 -d $((NPKT * 20 + 2500)) -nostdin \
	-timeout $((t + 25))s -timeout_error -key mport 30000 -key out_dir "$d" \
	-key rtp_cmd "$RTP_PEER -n $NPKT -i 20 -t $((t + 4)) -e $NPKT -L 3000" \
	-trace_err -error_file "$d/uac.err" -trace_logs -log_file "$d/uac.logs" $VIP:5060 >"$d/uac.log" 2>&1 &
UAC=$!
CL_PIDS+=($UAC)
UAC2=
if [ "$NATCALLS" -gt 0 ]; then
	mkdir -p "$d/nat"
	nsenter --net=/run/netns/"$NS_NC" sipp -sf "$SCEN/uac_media.xml" -i 10.0.0.2 -p 5060 \
		-m "$NATCALLS" -l "$NATCALLS" -r 10 -rp 1000 -d $((NPKT * 20 + 2500)) -nostdin \
		-timeout $((t + 25))s -timeout_error -key mport 32000 -key out_dir "$d/nat" \
		-key rtp_cmd "$RTP_PEER -n $NPKT -i 20 -t $((t + 4)) -e $NPKT -L 3000" \
		-trace_err -error_file "$d/nat/uac.err" $VIP:5060 >"$d/nat/uac.log" 2>&1 &
	UAC2=$!
	CL_PIDS+=($UAC2)
fi
mkdir -p "$d/tk"
nsenter --net=/run/netns/"$NS_CL" sipp -sf "$SCEN/uac_takeover.xml" -i $CLIENT_IP -p 5062 \
	-m 1 -l 1 -d $TK_REINV_MS -nostdin -timeout $((t + 45))s -timeout_error \
	-key mport 34000 -key out_dir "$d/tk" \
	-key rtp_cmd "$RTP_PEER -n $TK_NPKT -i 20 -t $((t + 8)) -e $NPKT -L 3000" \
	-trace_err -error_file "$d/tk/uac.err" -trace_logs -log_file "$d/tk/uac.logs" \
	-trace_msg -message_file "$d/tk/uac.msg" $VIP:5060 >"$d/tk/uac.log" 2>&1 &
UAC3=$!
CL_PIDS+=($UAC3)

# Mid-call: the calls are replicated and B holds them ready.
sleep 4
flows_a=$(xs_at a flows -j 2>/dev/null | jq 'if type == "array" then length else (.flows // [] | length) end')
ready=$(XDPSBC_CTL=$CL_WORK/b.sock "$XS" --pin-root "$CL_PIN-b" status -j | jq '.cluster.calls.peer_ready')
echo "# before the failover: A has $flows_a flows; B holds $ready of A's calls ready"
[ "${ready:-0}" = "$TOTAL" ] && pass standby_ready || fail standby_ready "B holds $ready of $TOTAL calls"
# The standby restarted meanwhile: it must hold the calls again, and not
# mistake A's flows in its map for calls of its own (it would time them out).
sigd_down b
start_edge b || fail standby_restart "B did not restart"
if ! cl_wait 30 sh -c "XDPSBC_CTL=$CL_WORK/b.sock $XS --pin-root $CL_PIN-b status -j | jq -e '.cluster.calls.peer_ready == $TOTAL'"; then
	fail standby_restart "B holds $(XDPSBC_CTL=$CL_WORK/b.sock "$XS" --pin-root "$CL_PIN-b" status -j | jq .cluster.calls.peer_ready) of $TOTAL calls after its restart"
elif grep -q "media: recovered" "$CL_WORK/sigd-b.log"; then
	fail standby_restart "B took A's flows for calls of its own: $(grep 'media: recovered' "$CL_WORK/sigd-b.log")"
else
	pass standby_restart
fi
xs_at a flows -j | grep -q '"192.0.2.60' && pass nat_latched ||
	fail nat_latched "no flow on A latched to the NAT's 192.0.2.60"

# CPU of A's sigd so far (clock ticks): the whole process, and its cluster
# thread (the replication's own cost; the SIP loop adds the dialog encoding).
hz=$(getconf CLK_TCK)
cpu_all=$(awk '{ print $14 + $15 }' /proc/"${SIGD_PID[a]}"/stat)
cpu_cl=0
for tdir in /proc/"${SIGD_PID[a]}"/task/*; do
	[ "$(cat "$tdir/comm" 2>/dev/null)" = xs-cluster ] && cpu_cl=$(awk '{ print $14 + $15 }' "$tdir/stat")
done
echo "# A's sigd CPU since its start, $TOTAL calls set up and 4 s of their media:" \
	"$((cpu_all * 1000 / hz)) ms in all, $((cpu_cl * 1000 / hz)) ms of it in the cluster thread" \
	"(its idle polling included)"

# Kill A: processes and link; the address moves to B.
t_kill=$(date +%s%N)
[ "$VIP_MOVER" = keepalived ] && eval "kill_tree \$KA_PID_a"
kill_tree "${SIGD_PID[a]}" # with its relay process on the udp datapath
in_ns "$CL_PFX-a" ip link set x0 down
if [ "$VIP_MOVER" = script ]; then
	ip -n "$CL_PFX-a" addr del $VIP/24 dev x0 2>/dev/null
	ip -n "$CL_PFX-b" addr add $VIP/24 dev x0
	in_ns "$CL_PFX-b" arping -q -c 2 -U -I x0 $VIP >/dev/null 2>&1 &
fi
cl_wait 50 has_vip b || fail vip_moved "the address did not move to B"
t_vip=$(date +%s%N)
echo "# the address reached B $(((t_vip - t_kill) / 1000000)) ms after A was killed"
cl_wait 30 sh -c "XDPSBC_CTL=$CL_WORK/b.sock $XS --pin-root $CL_PIN-b status -j | jq -e '.cluster.calls.taken_over'" &&
	pass takeover || fail takeover "B did not take the calls over"
n=$(grep -c "^\[[^]]*\] (taken over) from edge-a" "$CL_WORK/sigd-b.log")
[ "$n" = "$TOTAL" ] && pass takeover_logged ||
	fail takeover_logged "$n of $TOTAL 'taken over' log lines with the Call-IDs"
# The re-INVITE must be B's to handle: not sent before the takeover.
grep -q "CSeq: 2 INVITE" "$d/tk/uac.msg" 2>/dev/null &&
	fail reinvite_after_takeover "the re-INVITE left before B took the call over (raise TK_REINV_MS)"

wait $UAC
UAC_RC=$?
UAC2_RC=0
if [ -n "$UAC2" ]; then
	wait $UAC2
	UAC2_RC=$?
fi
wait $UAS
UAS_RC=$?
summaries() { # every RTP summary file of the run
	local i
	echo "$d/tk/caller-1.json"
	for ((i = 1; i <= CALLS; i++)); do echo "$d/caller-$i.json"; done
	for ((i = 1; i <= NATCALLS; i++)); do echo "$d/nat/caller-$i.json"; done
	for ((i = 1; i <= TOTAL; i++)); do echo "$d/callee-$i.json"; done
}
all_summaries() {
	local f
	for f in $(summaries); do
		[ -s "$f" ] || return 1
	done
}
cl_wait 150 all_summaries
worst=0 bad=0 total_rx=0
for f in $(summaries); do
	if [ ! -s "$f" ]; then
		bad=$((bad + 1))
		continue
	fi
	u=$(jq -r .unique "$f")
	total_rx=$((total_rx + u))
	lost=$((NPKT - u))
	[ $lost -gt $worst ] && worst=$lost
	[ $lost -gt 50 ] && bad=$((bad + 1))
done
echo "# RTP: $total_rx of $((2 * TOTAL * NPKT)) packets arrived; the worst leg lost $worst ($((worst * 20)) ms of media: the failover gap)"
if [ $bad = 0 ]; then
	pass media_through_b_1s
else
	fail media_through_b_1s "$bad legs lost more than 1 s of media (worst $((worst * 20)) ms)"
	echo "# B's datapath: $(xs_at b stats 2>&1 | grep -vE ' 0 +0$' | tr -s ' ' | tr '\n' ';')"
	echo "# B's UDP sockets on $VIP: $(in_ns "$CL_PFX-b" ss -Huan src $VIP | wc -l)"
	echo "# $VIP at the caller: $(ip -n "$NS_CL" neigh show $VIP), at the core: $(ip -n "$NS_K" neigh show $VIP); B's x0: $(ip -n "$CL_PFX-b" -br link show x0)"
fi
[ "$UAC_RC" = 0 ] && [ "$UAC2_RC" = 0 ] && [ "$UAS_RC" = 0 ] && pass bye_through_b ||
	fail bye_through_b "sipp callers rc=$UAC_RC/$UAC2_RC callee rc=$UAS_RC: $(tail -n 3 "$d/uac.err" "$d/uas.err" 2>/dev/null | tr '\n' ' ')"
n=$(grep -c "^\[[^]]*\] (taken over) BYE from client" "$CL_WORK/sigd-b.log")
[ "$n" = "$((TOTAL - 1))" ] && pass bye_logged_taken_over ||
	fail bye_logged_taken_over "$n of $((TOTAL - 1)) BYE log lines on B say the call was taken over"

# The re-INVITE call: answered through B on the same relay address and
# ports, at both ends; then B's media timeout ended it on both legs.
wait $UAC3
UAC3_RC=$?
tk_cid=$(sed -n 's/^\([^ ]*\) answer media .*/\1/p' "$d/tk/uac.logs" | head -n 1)
first=$(sed -n 's/^[^ ]* answer media \(.*\)$/\1/p' "$d/tk/uac.logs" | head -n 1)
again=$(sed -n 's/^[^ ]* re-INVITE answer media \(.*\)$/\1/p' "$d/tk/uac.logs" | head -n 1)
offer=$(grep -F "$tk_cid re-INVITE offer media" "$d/uas.logs" 2>/dev/null | head -n 1 |
	sed -n 's/.*offer media \(.*\) (first \(.*\))$/\1|\2/p')
if [ "$UAC3_RC" != 0 ] || [ -z "$again" ]; then
	fail reinvite_through_b "the re-INVITE call's caller rc=$UAC3_RC: $(tail -n 3 "$d/tk/uac.err" 2>/dev/null | tr '\n' ' ')"
elif [ "$again" != "$first" ] || [ -z "$offer" ] || [ "${offer%|*}" != "${offer#*|}" ]; then
	fail reinvite_through_b "the re-INVITE moved the call: answer '$first' then '$again'; offer to the callee '${offer%|*}' after '${offer#*|}'"
else
	pass reinvite_through_b
fi
if grep -qF "[$tk_cid] (taken over) media timeout: BYE to both legs" "$CL_WORK/sigd-b.log"; then
	pass media_timeout_taken_over
else
	fail media_timeout_taken_over "no media timeout BYE on B for $tk_cid (caller rc=$UAC3_RC)"
fi
nflows() { xs_at b flows -j 2>/dev/null | jq 'if type == "array" then length else (.flows // [] | length) end'; }
cl_wait 30 sh -c "[ \"\$(XDPSBC_CTL=$CL_WORK/b.sock $XS --pin-root $CL_PIN-b flows -j | jq 'if type == \"array\" then length else (.flows // [] | length) end')\" = 0 ]" &&
	pass flows_removed_at_b || fail flows_removed_at_b "$(nflows) flows left on B after the BYEs"
xs_at b status | sed -n '/^cluster:/,$p' | sed 's/^/# /'
[ "$VIP_MOVER" = keepalived ] && eval "kill_tree \$KA_PID_b"
if [ $fails -gt 0 ]; then
	for e in a b; do
		echo "---- sigd $e"
		tail -25 "$CL_WORK/sigd-$e.log"
	done
fi
exit 0
