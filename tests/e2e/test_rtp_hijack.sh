#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# RTP hijack and injection through the relay, on each datapath. A victim
# behind the NAT calls the core; an attacker on the internet (its own
# namespace, routed by the NAT namespace without translation) makes a call of
# its own, so it holds relay ports and knows the range, and then sprays RTP
# at the relay ports next to its own and, worst case, at the victim's actual
# relay ports (read from the flow table, as if it had guessed them), from
# before the victim's call is answered (racing its latch window) until after
# its media latched. Asserted:
#   - the attacker receives none of the victim's media (no latch moved);
#   - the victim's media flows both ways, every packet, intact, and nothing
#     of the attacker's reaches either end of the victim's call;
#   - the spray is counted as drop-media-source;
#   - the attacker's own call works (its ports and latch are its own).
# Prints PASS/FAIL/SKIP lines (tests/lib/check.h), names prefixed DP_.
#
#   DATAPATHS="udp"   only these (default: xdp afxdp udp)
#   TOPO_KEEP=1       keep the traces and logs
set -u
HERE=$(cd "$(dirname "$0")" && pwd)

NPKT=250 # per direction, 20 ms apart: a 5 s call
ATK_IP=192.0.2.66
ATK_GW=192.0.2.1
ATK_RTP=4100
SPRAY_PORT=5004
NEIGHBOURS=32 # ports each side of each of the attacker's relay ports

# spray DURATION PORTS...: from ATK_IP:SPRAY_PORT, 172-byte RTP-looking
# datagrams to each edge port in turn every 40 ms; prints "sent received".
# Anything received is media some flow was aimed at the attacker with.
SPRAY_PY='
import socket, sys, time
dur, edge, ports = float(sys.argv[1]), sys.argv[2], [int(p) for p in sys.argv[3:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'$ATK_IP'", '$SPRAY_PORT'))
s.setblocking(False)
pkt = bytes([0x80, 0]) + bytes(170)
sent = got = 0
end = time.monotonic() + dur
while time.monotonic() < end:
    for p in ports:
        try:
            s.sendto(pkt, (edge, p)); sent += 1
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

hijack_case() (
	dp=$1
	# shellcheck disable=SC2034 # read by topo.sh
	TOPO_PREFIX=xh$$$dp XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-e2e-$$-$dp
	export XDPSBC_DATAPATH=$dp
	# shellcheck source=tests/e2e/topo.sh
	source "$HERE/topo.sh"
	NS_A=${TOPO_PREFIX}-atk

	atk_down() {
		ip netns del "$NS_A" 2>/dev/null
		topo_down
	}
	topo_up || { fail "${dp}_topology" "could not build the namespaces"; exit 1; }
	trap atk_down EXIT
	ip netns add "$NS_A" && ip -n "$NS_A" link set lo up &&
		ip -n "$NS_A" link add a0 type veth peer name n2 netns "$NS_N" &&
		ip -n "$NS_A" link set a0 up && ip -n "$NS_N" link set n2 up &&
		ip -n "$NS_A" addr add $ATK_IP/24 dev a0 &&
		ip -n "$NS_A" route add default via $ATK_GW &&
		ip -n "$NS_N" addr add $ATK_GW/24 dev n2 &&
		ip -n "$NS_E" route add 192.0.2.0/24 via "$NAT_OUT_IP" ||
		{ fail "${dp}_topology" "attacker namespace"; exit 1; }
	in_ns "$NS_A" ethtool -K a0 tx off >/dev/null
	in_ns "$NS_N" ethtool -K n2 tx off >/dev/null
	topo_attach_edge native >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail "${dp}_topology" "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	sigd_start || { fail "${dp}_topology" "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }

	d=$TOPO_WORK/hijack
	a=$d/atk
	mkdir -p "$a"
	t=$((NPKT * 20 / 1000 + 8))
	# The attacker calls first (callee-1 answers it), then the victim
	# (callee-2); the spray starts as soon as the victim's flows exist,
	# before its call is answered and its first packet latches: the
	# attacker races the latch window as well as hitting the latched flow.
	CALLS=2 uas_start "$d" $NPKT
	bg_ns "$NS_A" "$a/uac.log" sipp -sf "$SCEN/uac_media.xml" -i $ATK_IP -p 5060 -m 1 -l 1 \
		-d $((NPKT * 20 + 2500)) -nostdin -timeout $((t + 20))s -timeout_error \
		-key mport $ATK_RTP -key out_dir "$a" \
		-key rtp_cmd "$RTP_PEER -R -n $NPKT -i 20 -t $t -e $NPKT" \
		-trace_err -error_file "$a/uac.err" $EDGE_IP:5060
	atk_pid=$BG_PID
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E $XS flows -j | jq -e 'length >= 4'" ||
		{ fail "${dp}_rtp_hijack" "attacker's call has no flows: $(xs_flows_json)"; exit 1; }
	CALLS=1 uac_start "$d" $NPKT
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E $XS flows -j | jq -e 'length >= 8'" ||
		{ fail "${dp}_rtp_hijack" "victim's call has no flows: $(xs_flows_json)"; exit 1; }

	flows=$(xs_flows_json)
	# The victim's relay ports: the flow its caller sends to (expect is
	# its signalled address) and the port toward the callee (its src).
	vport=$(jq -r --arg e "$CALLER_IP:$CALLER_RTP" '.[] | select(.expect == $e) | .edge' <<<"$flows" | cut -d: -f2)
	vpeer=$(jq -r --arg e "$CALLER_IP:$CALLER_RTP" '.[] | select(.expect == $e) | .src' <<<"$flows" | cut -d: -f2)
	aport=$(jq -r --arg e "$ATK_IP:$ATK_RTP" '.[] | select(.expect == $e) | .edge' <<<"$flows" | cut -d: -f2)
	apeer=$(jq -r --arg e "$ATK_IP:$ATK_RTP" '.[] | select(.expect == $e) | .src' <<<"$flows" | cut -d: -f2)
	if [ -z "$vport" ] || [ -z "$vpeer" ] || [ -z "$aport" ] || [ -z "$apeer" ]; then
		fail "${dp}_rtp_hijack" "relay ports not found (victim $vport/$vpeer, attacker $aport/$apeer): $flows"
		exit 1
	fi
	# Not its own ports: those may latch from its address (and then it
	# only takes its own call's media).
	ports="$vport $((vport + 1)) $vpeer $((vpeer + 1))"
	for p in $aport $apeer; do
		for ((i = -NEIGHBOURS; i <= NEIGHBOURS + 1; i++)); do
			q=$((p + i))
			case " $ports $aport $((aport + 1)) $apeer $((apeer + 1)) " in *" $q "*) continue ;; esac
			[ "$q" -ge 20000 ] && [ "$q" -le 29999 ] && ports+=" $q"
		done
	done
	nports=$(wc -w <<<"$ports")
	s0=$(xs_stat drop-media-source)
	# shellcheck disable=SC2086 # a list of ports
	read -r sent got < <(in_ns "$NS_A" timeout 20 python3 -c "$SPRAY_PY" 4 $EDGE_IP $ports)
	wait "$UAC_PID"
	UAC_RC=$?
	wait "$UAS_PID"
	UAS_RC=$?
	wait "$atk_pid"
	atk_rc=$?
	topo_wait 15 test -s "$d/caller-1.json"
	topo_wait 5 test -s "$d/callee-2.json"
	topo_wait 5 test -s "$a/caller-1.json"
	# The victim's callee is the UAS's second call.
	mv "$d/callee-2.json" "$d/callee-v.json"
	vrtp() { jq -r ".$3" "$1/$2-$([ "$2" = callee ] && echo v || echo 1).json" 2>/dev/null; }
	for _ in $(seq 20); do # the userspace paths flush their counters every few tens of ms
		s=$(($(xs_stat drop-media-source) - s0))
		[ "$s" -gt 0 ] && break
		sleep 0.05
	done

	name=${dp}_rtp_hijack
	ok=1
	if [ "${got:-x}" != 0 ]; then
		fail "$name" "the attacker received ${got:-?} packets on its spray socket (sent ${sent:-?})"
		ok=0
	fi
	for who in caller callee; do
		far=callee
		[ $who = callee ] && far=caller
		if [ "$(vrtp "$d" $who unique)" != $NPKT ] || [ "$(vrtp "$d" $who corrupt)" != 0 ] ||
			[ "$(vrtp "$d" $who foreign)" != 0 ] || [ "$(vrtp "$d" $who duplicates)" != 0 ] ||
			[ "$(vrtp "$d" $far sent)" != $NPKT ]; then
			fail "$name" "victim's $who: want $NPKT intact packets, none foreign: $(cat "$d/$who-"[1v].json 2>/dev/null)"
			ok=0
		fi
	done
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail "$name" "victim's call failed: sipp caller rc=$UAC_RC callee rc=$UAS_RC"
		ok=0
	fi
	# At least what went to the victim's four flows (the rest of the range
	# has no flows, mostly: drop-pinhole).
	want=$((${sent:-0} / nports * 4))
	if [ "$s" -lt "$want" ]; then
		fail "$name" "spray of ${sent:-?} packets, $want of them to the victim's flows: drop-media-source grew by $s only"
		ok=0
	fi
	[ $ok = 1 ] && pass "$name"
	if [ "$atk_rc" = 0 ] && [ "$(rtp "$a" caller unique)" = $NPKT ]; then
		pass "${dp}_attacker_own_call"
	else
		fail "${dp}_attacker_own_call" "rc=$atk_rc media $(cat "$a/caller-1.json" 2>/dev/null)"
	fi
	echo "# $dp: sprayed $sent packets at $nports ports, $got came back, drop-media-source +$s"
)

main() {
	local dp

	for what in "${BUILD:-$HERE/../../build}/bin/xdpsbc-sigd" "${BUILD:-$HERE/../../build}/tests/tools/rtp_peer"; do
		if [ ! -x "$what" ] || ! command -v sipp >/dev/null || ! command -v python3 >/dev/null; then
			for dp in ${DATAPATHS:-xdp afxdp udp}; do
				echo "SKIP ${dp}_rtp_hijack: $what, sipp or python3 missing"
			done
			exit 0
		fi
	done
	for dp in ${DATAPATHS:-xdp afxdp udp}; do
		hijack_case "$dp"
	done
}

main "$@"
