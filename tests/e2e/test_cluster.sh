#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Shared policy across two edges through a real Redis (tests/e2e/cluster/lib.sh):
# a block made on edge A drops a client's traffic at edge B within a second
# (measured at a receiver behind B), expiry and delete propagate, trusted
# networks and sigd's own scanner blocks too, an edge started later gets the
# state (and an entry deleted while it was down stays deleted), and Redis
# stopped, changed around and restarted empty loses nothing that was agreed.
# Prints PASS/FAIL/SKIP lines; about 40 s. DATAPATH=udp runs the edges on the
# udp datapath, where the nft sets enforce the shared blocklist
# (test_cluster_udp.sh).
set -u
source "$(dirname "$0")/cluster/lib.sh"

fails=0
pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	fails=$((fails + 1))
}
not() { ! "$@"; }

for what in redis-server redis-cli jq python3; do
	command -v $what >/dev/null || {
		echo "SKIP test_cluster: $what missing"
		exit 0
	}
done
[ "$(id -u)" = 0 ] || {
	echo "SKIP test_cluster: needs root"
	exit 0
}

# A receiver on B (arrival times) and a client sending to it every 2 ms.
cat >"$CL_WORK/recv.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(0.5)
out = open(sys.argv[3], "w", buffering=1)
end = time.time() + float(sys.argv[4])
while time.time() < end:
    try:
        s.recv(64)
    except socket.timeout:
        continue
    out.write("%.6f\n" % time.time())
PY
cat >"$CL_WORK/send.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[3])
while time.time() < end:
    s.sendto(b"x" * 32, (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.002)
PY

cl_up || {
	echo "FAIL test_cluster: topology or Redis did not come up"
	exit 1
}
sigd_up a || fail cluster_start "sigd A did not start"
sigd_up b || fail cluster_start "sigd B did not start"
cl_wait 30 sh -c "XDPSBC_CTL=$CL_WORK/a.sock $XS --pin-root $CL_PIN-a status -j | jq -e '.cluster.peers | any(.node == \"edge-b\")'" &&
	pass cluster_status_peers || fail cluster_status_peers "A does not see B in status"
xs_at a status | grep -q "node: edge-a, role active" && pass cluster_status_text ||
	fail cluster_status_text "no cluster section in xdpsbc status"

# ---- 1. a block on A drops the client at B within 1 s ----
SRC=$CLIENT_IP/32
in_ns "$CL_PFX-b" timeout 12 python3 "$CL_WORK/recv.py" "${EDGE_IP[b]}" 7000 "$CL_WORK/rx" 8 &
RX=$!
sleep 0.3
in_ns "$NS_CL" timeout 12 python3 "$CL_WORK/send.py" "${EDGE_IP[b]}" 7000 6 &
TX=$!
sleep 1
t0=$(date +%s.%N)
xs_at a block add $SRC --reason "cluster test" --for 1h >/dev/null || fail block_add "CLI block add on A failed"
sleep 2.5
t_seen=$(awk -v t0="$t0" '$1 > t0 { last = $1 } END { printf "%.6f", last }' "$CL_WORK/rx")
before=$(awk -v t0="$t0" '$1 <= t0' "$CL_WORK/rx" | wc -l)
late=$(awk -v t="$t0" '$1 > t + 1.0' "$CL_WORK/rx" | wc -l)
delay_ms=$(awk -v a="$t0" -v b="$t_seen" 'BEGIN { d = b > a ? (b - a) * 1000 : 0; printf "%d", d }')
echo "# propagation: block added on A at $t0, last packet through B ${delay_ms} ms later"
if [ "$before" -gt 100 ] && [ "$late" = 0 ] && [ "$delay_ms" -lt 1000 ]; then
	pass block_propagates_1s
else
	fail block_propagates_1s "before=$before, packets >1 s after the block=$late, delay ${delay_ms} ms"
fi
wait $TX $RX 2>/dev/null
has_block b $SRC && pass block_listed_at_b || fail block_listed_at_b "B does not list $SRC"
xs_at b block list -j | jq -e --arg c $SRC '.[] | select(.cidr == $c) | .reason == "cluster test" and .remaining_s > 3500' >/dev/null &&
	pass block_reason_expiry || fail block_reason_expiry "reason or absolute expiry not carried"

# ---- 2. delete and expiry propagate; trust too ----
xs_at a block del $SRC >/dev/null
if cl_wait 10 not has_block b $SRC; then
	pass delete_propagates
else
	fail delete_propagates "B still blocks $SRC after a delete on A"
fi
xs_at b block add 198.51.100.0/24 --for 3s --reason short >/dev/null
cl_wait 10 has_block a 198.51.100.0/24 && pass expiring_block_propagates ||
	fail expiring_block_propagates "A did not get B's 3 s block"
sleep 3.5
has_block a 198.51.100.0/24 && fail expiry_at_a "A still blocks after the absolute expiry" || pass expiry_at_a
xs_at b trust add 203.0.113.0/28 >/dev/null
cl_wait 10 has_trust a 203.0.113.0/28 && pass trust_propagates || fail trust_propagates "A lacks B's trusted network"
xs_at a trust del 203.0.113.0/28 >/dev/null
if cl_wait 10 not has_trust b 203.0.113.0/28; then
	pass trust_delete_propagates
else
	fail trust_delete_propagates "B still trusts 203.0.113.0/28"
fi

# ---- 3. sigd's own policy: a scanner blocked by A is blocked by B ----
in_ns "$NS_CL" python3 - "${EDGE_IP[a]}" <<'PY'
import socket, sys
m = ("OPTIONS sip:x@%s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.50:5099;branch=z9hG4bK-scan1\r\n"
     "From: <sip:a@192.0.2.50>;tag=1\r\nTo: <sip:x@%s>\r\nCall-ID: scan-1\r\nCSeq: 1 OPTIONS\r\n"
     "User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n") % (sys.argv[1], sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.50", 5099))
s.sendto(m.encode(), (sys.argv[1], 5060))
PY
cl_wait 20 has_block a $SRC && cl_wait 20 has_block b $SRC && pass scanner_block_shared ||
	fail scanner_block_shared "sigd A's scanner block did not reach B"
xs_at a block del $SRC >/dev/null

# ---- 3b. an XDP flood ban on A becomes a block on B for its remaining time ----
FLOOD_SRC=192.0.2.51
ip -n "$NS_CL" addr add $FLOOD_SRC/24 dev c0
xs_at a flood set --rate 4 --window 2 --ban 60 >/dev/null
in_ns "$NS_CL" python3 - "${EDGE_IP[a]}" $FLOOD_SRC <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[2], 5070))
for i in range(12):
    m = ("OPTIONS sip:x@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bK-fl%d\r\n"
         "From: <sip:f@%s>;tag=%d\r\nTo: <sip:x@%s>\r\nCall-ID: flood-%d\r\nCSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n") % (sys.argv[1], sys.argv[2], i, sys.argv[2], i, sys.argv[1], i)
    s.sendto(m.encode(), (sys.argv[1], 5060))
PY
if cl_wait 20 has_block b $FLOOD_SRC/32; then
	left=$(xs_at b block list -j | jq --arg c $FLOOD_SRC/32 '.[] | select(.cidr == $c) | .remaining_s')
	[ "${left:-0}" -gt 50 ] && [ "${left:-0}" -le 60 ] && pass flood_ban_shared ||
		fail flood_ban_shared "B blocks the flooder for $left s, want the ban's remaining 60 s"
elif [ "${DATAPATH:-xdp}" = udp ] && ! xs_at a bans -j 2>/dev/null | jq -e 'length > 0' >/dev/null; then
	echo "SKIP flood_ban_shared: the udp datapath has no XDP flood stage to ban"
else
	fail flood_ban_shared "A's XDP flood ban did not reach B: $(xs_at a bans 2>&1 | head -3)"
fi
xs_at a flood set --rate 16 --window 2 --ban 300 >/dev/null

# ---- 4. a later-started edge gets the state; a delete made meanwhile holds ----
xs_at a block add 198.51.100.77 --reason keep >/dev/null
xs_at a block add 198.51.100.88 --reason gone >/dev/null
cl_wait 10 has_block b 198.51.100.88/32 || fail late_setup "B lacks .88"
sigd_down b
xs_at a block del 198.51.100.88/32 >/dev/null
xs_at a block add 198.51.100.99 --reason while-down >/dev/null
sleep 0.5
sigd_up b || fail late_restart "B did not restart"
has_block b 198.51.100.99/32 && pass restarted_edge_gets_state ||
	fail restarted_edge_gets_state "B lacks a block made while it was down (at ready)"
has_block b 198.51.100.88/32 && fail no_resurrected_delete "B kept (or brought back) .88" ||
	pass no_resurrected_delete
sleep 1.5
has_block a 198.51.100.88/32 && fail no_resurrected_delete_a "B brought .88 back to A" ||
	pass no_resurrected_delete_a
# C is given a replica first (as with a Sentinel-managed set): it must
# pass it by for the primary, which alone takes writes.
redis_replica_start || fail replica_start "the Redis replica did not start"
CL_REDIS=$REDIS_IP:$REPLICA_PORT,$REDIS_IP:$REDIS_PORT sigd_up c || fail late_edge "C did not start"
XDPSBC_CTL=$CL_WORK/c.sock "$XS" --pin-root "$CL_PIN-c" status -j |
	jq -e --arg p "$REDIS_PORT" '.cluster.connected and (.cluster.redis_port | tostring) == $p' >/dev/null &&
	pass replica_passed_by || fail replica_passed_by "C is not on the primary: $(XDPSBC_CTL=$CL_WORK/c.sock "$XS" --pin-root "$CL_PIN-c" status -j 2>&1 | jq -c '.cluster | {connected, redis, redis_port}' 2>&1)"
has_block c 198.51.100.77/32 && has_block c 198.51.100.99/32 && pass new_edge_gets_state ||
	fail new_edge_gets_state "C (started later) lacks the shared blocks"

# ---- 5. Redis stopped, changes on both sides, Redis restarted empty ----
redis_stop
sleep 0.5
xs_at a block add 192.0.2.200 --reason during-outage >/dev/null
xs_at b block del 198.51.100.77/32 >/dev/null
cl_wait 30 sh -c "XDPSBC_CTL=$CL_WORK/a.sock $XS --pin-root $CL_PIN-a status -j | jq -e '.cluster.connected == false and .cluster.state.queued >= 1'" &&
	pass outage_queues || fail outage_queues "A does not show the outage and its queued change"
has_block b 198.51.100.99/32 && pass outage_keeps_enforcing || fail outage_keeps_enforcing "B lost a block in the outage"
redis_start || fail redis_restart "Redis did not restart"
if cl_wait 50 has_block b 192.0.2.200/32 && cl_wait 50 has_block c 192.0.2.200/32; then
	pass outage_add_not_lost
else
	fail outage_add_not_lost "A's add during the outage did not reach B and C"
fi
if cl_wait 50 not has_block a 198.51.100.77/32 && cl_wait 50 not has_block c 198.51.100.77/32; then
	pass outage_delete_not_lost
else
	fail outage_delete_not_lost "B's delete during the outage did not reach A and C"
fi
has_block a 198.51.100.99/32 && has_block b 198.51.100.99/32 && has_block c 198.51.100.99/32 &&
	pass outage_agreed_kept || fail outage_agreed_kept "an agreed block was lost"
n=$(redis_cli HLEN xdpsbc:policy:block)
[ "${n:-0}" -ge 3 ] && pass redis_refilled || fail redis_refilled "the restarted Redis holds $n block records"
xs_at a status -j | jq -e '.cluster.replication.reconnects >= 1 and .cluster.state.queued == 0' >/dev/null &&
	pass reconnect_counted || fail reconnect_counted "status does not show the reconnect"
cl_wait 30 sh -c "XDPSBC_CTL=$CL_WORK/a.sock $XS --pin-root $CL_PIN-a status -j | jq -e '[.cluster.peers[] | select(.up)] | length == 2'" &&
	pass peers_after_restart || fail peers_after_restart "A does not see B and C up after the Redis restart"
xs_at a status | sed -n '/^cluster:/,$p' | sed 's/^/# /'
if [ $fails -gt 0 ]; then
	for e in a b c; do
		echo "---- sigd $e"
		tail -20 "$CL_WORK/sigd-$e.log"
	done
fi
exit 0
