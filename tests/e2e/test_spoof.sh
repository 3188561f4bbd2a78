#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Spoofed sources against the edge (XDP datapath, tests/e2e/topo.sh):
#  - an INVITE from outside carrying the core's source address never reaches
#    sigd (strict reverse-path filtering, rp-filter = strict), while the same
#    request from a real outside address does, and with rp-filter = keep and
#    the sysctl off the spoof is taken as the core (the attack the check stops);
#  - a SIP flood from thousands of spoofed addresses (254 IPv4 from
#    192.0.2.0/24, 3000 IPv6 /64s) while legitimate callers place calls:
#    at least 99 % of the calls succeed; the numbers are printed.
#
#   TOPO_KEEP=1   keep the logs
set -u
source "$(dirname "$0")/topo.sh"

FLOOD_V6=${FLOOD_V6:-3000}    # IPv6 /64 sources
FLOOD_PER_SRC=${FLOOD_PER_SRC:-30} # requests per source, back to back (limit: 16 in 2 s)
LEGIT_SRCS=5                  # caller addresses, 203.0.113.40..44
LEGIT_CALLS=${LEGIT_CALLS:-10}    # per address, 2 a second: under the flood limit

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$XDP_TRIVIAL"; do
		[ -x "$what" ] || [ -f "$what" ] || { echo "$what not built"; return 1; }
	done
	for what in sipp nft python3 jq; do
		command -v $what >/dev/null || { echo "$what missing"; return 1; }
	done
}

sigd_log() { cat "$TOPO_WORK"/sigd.log.*; }
# metric NAME{LABELS}: one value of sigd's /metrics, over the control socket.
metric() {
	in_ns "$NS_E" python3 - "$TOPO_WORK/ctl.sock" "$1" <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_UNIX)
		s.connect(sys.argv[1])
		s.sendall(b"metrics\n")
		data = b""
		while True:
		    b = s.recv(65536)
		    if not b:
		        break
		    data += b
		for line in data.decode().splitlines():
		    if line.startswith(sys.argv[2] + " "):
		        print(line.split()[-1])
		        break
		else:
		    print(0)
	EOF
}

# send_from SRC CALLID: one INVITE to the edge from SRC (an address of the NAT ns).
send_from() {
	in_ns "$NS_N" python3 - "$1" "$EDGE_IP" "$2" <<-'EOF'
		import socket, sys
		src, edge, cid = sys.argv[1:4]
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind((src, 5062))
		# To an outside host: the core may route anywhere, a client only to the upstream.
		m = ("INVITE sip:alice@203.0.113.50:5063 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:5062;branch=z9hG4bKspoof%s\r\n"
		     "Max-Forwards: 70\r\nFrom: <sip:core@example.net>;tag=c1\r\n"
		     "To: <sip:alice@%s>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
		     "Contact: <sip:core@%s:5062>\r\nContent-Length: 0\r\n\r\n") % (
		        src, cid, edge, cid, src)
		s.sendto(m.encode(), (edge, 5060))
	EOF
}

# burst NS SRC N: N OPTIONS to the edge from SRC (an address of NS), back to back.
burst() {
	in_ns "$1" python3 - "$2" "$EDGE_IP" "$3" <<-'EOF'
		import socket, sys
		src, edge, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind((src, 5064))
		for i in range(n):
		    m = ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5064;branch=z9hG4bKb%d\r\n"
		         "Max-Forwards: 70\r\nFrom: <sip:b@example.net>;tag=b\r\nTo: <sip:%s>\r\n"
		         "Call-ID: burst-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n") % (
		            edge, src, i, edge, i)
		    s.sendto(m.encode(), (edge, 5060))
	EOF
}

rpf_drops() {
	in_ns "$NS_E" awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "IPReversePathFilter") c = i; h = 1 } else print $c }' /proc/net/netstat
}

test_spoofed_core() {
	local before after
	# The attacker, outside, owns an address and writes the core's as its source.
	ip -n "$NS_N" addr add $CORE_IP/32 dev n1
	ip -n "$NS_N" addr add 203.0.113.50/24 dev n1
	local rx0 rx1 rx2
	before=$(rpf_drops)
	rx0=$(metric 'xdpsbc_sigd_messages_total{kind="received"}')
	send_from 203.0.113.50 outside-control-$$
	sleep 0.5
	rx1=$(metric 'xdpsbc_sigd_messages_total{kind="received"}')
	send_from $CORE_IP spoofed-core-$$
	sleep 1
	rx2=$(metric 'xdpsbc_sigd_messages_total{kind="received"}')
	after=$(rpf_drops)
	if [ "$rx1" -gt "$rx0" ] && sigd_log | grep -q "outside-control-$$"; then
		pass spoof_control_reaches_sigd
	else
		fail spoof_control_reaches_sigd "sigd never saw the request from a real outside address ($rx0 -> $rx1)"
	fi
	if [ "$rx2" = "$rx1" ] && ! sigd_log | grep -q "spoofed-core-$$"; then
		pass spoof_core_dropped
	else
		fail spoof_core_dropped "sigd took it ($rx1 -> $rx2): $(sigd_log | grep "spoofed-core-$$" | head -2)"
	fi
	[ "$after" -gt "$before" ] && pass spoof_rp_filter_counted ||
		fail spoof_rp_filter_counted "IPReversePathFilter $before -> $after"
	# The real core still gets through: a call to the core, its answers back.
	bg_ns "$NS_K" "$TOPO_WORK/uas1.log" sipp -sf "$SCEN/policy_uas.xml" -i $CORE_IP -p 5060 -m 1 \
		-nostdin -timeout 20s
	UAS_PID=$BG_PID
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	bg_ns "$NS_N" "$TOPO_WORK/legit.log" sipp -sf "$SCEN/policy_uac.xml" -i 203.0.113.50 -p 5070 \
		-m 1 -l 1 -d 200 -s bob -nostdin -timeout 15s -timeout_error -key user carol \
		-key domain example.net -key ua t $EDGE_IP:5060
	wait "$BG_PID" && pass spoof_core_call_works || fail spoof_core_call_works "$(tail -5 "$TOPO_WORK/legit.log")"
	kill "$UAS_PID" 2>/dev/null
	wait "$UAS_PID" 2>/dev/null
	ip -n "$NS_N" addr del $CORE_IP/32 dev n1
}

# The core trusted in XDP (xdpsbc trust): a spoofed core address from
# outside gets no exemption from the flood limit in the driver (XS_CFG_RPF),
# the real core, on its own arm, keeps it.
test_spoofed_trusted() {
	local tr0 tr1 fl0 fl1
	in_ns "$NS_E" "$XS" trust add $CORE_IP/32 >/dev/null
	ip -n "$NS_N" addr add $CORE_IP/32 dev n1
	tr0=$(xs_stat pass-trusted)
	fl0=$(xs_stat drop-flood)
	burst "$NS_N" $CORE_IP 200
	sleep 0.3
	tr1=$(xs_stat pass-trusted)
	fl1=$(xs_stat drop-flood)
	[ $((fl1 - fl0)) -ge 150 ] && pass spoof_trusted_flood_dropped ||
		fail spoof_trusted_flood_dropped "drop-flood +$((fl1 - fl0)) of 200 spoofed"
	[ $((tr1 - tr0)) -lt 10 ] && pass spoof_trusted_not_exempt ||
		fail spoof_trusted_not_exempt "pass-trusted +$((tr1 - tr0)) for the spoofed source"
	tr0=$tr1
	burst "$NS_K" $CORE_IP 200
	sleep 0.3
	tr1=$(xs_stat pass-trusted)
	[ $((tr1 - tr0)) -ge 200 ] && pass spoof_trusted_real_core_exempt ||
		fail spoof_trusted_real_core_exempt "pass-trusted +$((tr1 - tr0)) of the real core's 200"
	ip -n "$NS_N" addr del $CORE_IP/32 dev n1
	# The spoof got the core's address banned in xs_flood; the real core,
	# trusted on its own arm, never meets the ban: calls through it work.
	in_ns "$NS_E" "$XS" bans 2>/dev/null | grep -q "$CORE_IP" && pass spoof_trusted_core_address_banned ||
		fail spoof_trusted_core_address_banned "no ban for $CORE_IP: $(in_ns "$NS_E" "$XS" bans 2>&1 | head -3)"
	bg_ns "$NS_K" "$TOPO_WORK/uas2.log" sipp -sf "$SCEN/policy_uas.xml" -i $CORE_IP -p 5060 -m 1 \
		-nostdin -timeout 20s
	UAS_PID=$BG_PID
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	bg_ns "$NS_N" "$TOPO_WORK/legit2.log" sipp -sf "$SCEN/policy_uac.xml" -i 203.0.113.50 -p 5071 \
		-m 1 -l 1 -d 200 -s bob -nostdin -timeout 15s -timeout_error -key user carol \
		-key domain example.net -key ua t $EDGE_IP:5060
	wait "$BG_PID" && pass spoof_trusted_core_calls_work ||
		fail spoof_trusted_core_calls_work "$(tail -5 "$TOPO_WORK/legit2.log")"
	kill "$UAS_PID" 2>/dev/null
	wait "$UAS_PID" 2>/dev/null
}

# Without the check (rp-filter = keep, sysctl off) the same spoof is believed.
test_spoof_without_check() {
	sigd_stop
	in_ns "$NS_E" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.e0.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
	sigd_start --config "$TOPO_WORK/sigd.conf" --rp-filter keep || { fail spoof_keep "sigd did not start"; return; }
	local rx0 rx1
	ip -n "$NS_N" addr add $CORE_IP/32 dev n1
	rx0=$(metric 'xdpsbc_sigd_messages_total{kind="received"}')
	send_from $CORE_IP spoofed-open-$$
	sleep 1
	rx1=$(metric 'xdpsbc_sigd_messages_total{kind="received"}')
	# sigd cannot tell it from the core's own: it arrived with the core's address.
	if [ "$rx1" -gt "$rx0" ] && sigd_log | grep -q "spoofed-open-$$"; then
		pass spoof_believed_without_check
	else
		fail spoof_believed_without_check "the spoof did not reach sigd ($rx0 -> $rx1)"
	fi
	# ... and, trusted in XDP, exempt from the flood limit in the driver.
	local tr0 tr1
	tr0=$(xs_stat pass-trusted)
	burst "$NS_N" $CORE_IP 200
	sleep 0.3
	tr1=$(xs_stat pass-trusted)
	[ $((tr1 - tr0)) -ge 200 ] && pass spoof_trusted_exempt_without_check ||
		fail spoof_trusted_exempt_without_check "pass-trusted +$((tr1 - tr0)) of 200"
	ip -n "$NS_N" addr del $CORE_IP/32 dev n1
	sigd_stop
	in_ns "$NS_E" sysctl -qw net.ipv4.conf.all.rp_filter=1
	sigd_start --config "$TOPO_WORK/sigd.conf"
}

# The flood generator: raw IPv4 and IPv6 UDP from spoofed sources, bounded.
write_flood() {
	cat >"$TOPO_WORK/flood.py" <<-'EOF'
		import socket, struct, sys, time
		edge4, edge6, n6, per, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
		def payload(src, i):
		    return ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bKfl%d\r\n"
		            "Max-Forwards: 70\r\nFrom: <sip:f@example.net>;tag=f\r\nTo: <sip:%s>\r\n"
		            "Call-ID: flood-%s-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
		            % (edge4, src, i, edge4, src, i)).encode()
		def csum(b):
		    if len(b) % 2:
		        b += b"\0"
		    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
		    while s >> 16:
		        s = (s & 0xffff) + (s >> 16)
		    return ~s & 0xffff
		r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
		r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
		d4 = socket.inet_aton(edge4)
		d6 = socket.inet_pton(socket.AF_INET6, edge6)
		sent = 0
		end = time.time() + secs
		def v4(src, i):
		    p = payload(src, i)
		    s4 = socket.inet_aton(src)
		    udp = struct.pack("!HHHH", 5060, 5060, 8 + len(p), 0) + p
		    c = csum(s4 + d4 + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xffff
		    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
		    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, s4, d4)
		    r4.sendto(ip + udp, (edge4, 0))
		def v6(src, i):
		    p = payload(src, i)
		    s6 = socket.inet_pton(socket.AF_INET6, src)
		    udp = struct.pack("!HHHH", 5060, 5060, 8 + len(p), 0) + p
		    c = csum(s6 + d6 + struct.pack("!IxxxB", len(udp), 17) + udp) or 0xffff
		    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
		    ip = struct.pack("!IHBB16s16s", 0x60000000, len(udp), 17, 64, s6, d6)
		    r6.sendto(ip + udp, (edge6, 0))
		srcs = [("4", "192.0.2.%d" % h) for h in range(1, 255)]
		srcs += [("6", "2001:db8:f%03x:%x::7" % (k // 4096, k % 4096)) for k in range(n6)]
		for fam, src in srcs:
		    if time.time() > end:
		        break
		    for i in range(per):
		        try:
		            (v4 if fam == "4" else v6)(src, i)
		            sent += 1
		        except OSError:
		            pass
		print(sent, len(srcs))
	EOF
}

test_flood_while_calling() {
	local t0 pids=() ok=0 tried=$((LEGIT_SRCS * LEGIT_CALLS)) i sent srcs fl0 fl1 rx0 rx1 bans answered
	write_flood
	# The spoofed ranges are outside, behind the NAT box: routes back for the
	# reverse-path check, answers to them go there (and die).
	ip -n "$NS_E" route add 192.0.2.0/24 via $NAT_OUT_IP
	ip -n "$NS_E" -6 route add 2001:db8:f000::/36 via $CALLER_V6
	for ((i = 0; i < LEGIT_SRCS; i++)); do
		ip -n "$NS_N" addr add 203.0.113.$((40 + i))/24 dev n1 2>/dev/null
	done
	bg_ns "$NS_K" "$TOPO_WORK/fuas.log" sipp -sf "$SCEN/policy_uas.xml" -i $CORE_IP -p 5060 -nostdin \
		-timeout 90s
	local uas=$BG_PID
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	fl0=$(xs_stat drop-flood)
	rx0=$(metric 'xdpsbc_sigd_messages_total{kind="received"}')
	t0=$SECONDS
	bg_ns "$NS_N" "$TOPO_WORK/flood.out" timeout 60 python3 "$TOPO_WORK/flood.py" $EDGE_IP $EDGE_V6 \
		"$FLOOD_V6" "$FLOOD_PER_SRC" 40
	local flooder=$BG_PID
	sleep 0.5
	for ((i = 0; i < LEGIT_SRCS; i++)); do
		bg_ns "$NS_N" "$TOPO_WORK/legit$i.log" sipp -sf "$SCEN/policy_uac.xml" -i 203.0.113.$((40 + i)) \
			-p 5080 -m "$LEGIT_CALLS" -l "$LEGIT_CALLS" -r 2 -d 300 -s bob -nostdin -timeout 60s \
			-key user "user$i" -key domain example.net -key ua legit \
			-trace_msg -message_file "$TOPO_WORK/legit$i.msg" -trace_stat -stf "$TOPO_WORK/legit$i.csv" \
			$EDGE_IP:5060
		pids+=("$BG_PID")
	done
	for pid in "${pids[@]}"; do wait "$pid"; done
	wait "$flooder"
	read -r sent srcs <"$TOPO_WORK/flood.out"
	sleep 0.5
	fl1=$(xs_stat drop-flood)
	rx1=$(metric 'xdpsbc_sigd_messages_total{kind="received"}')
	bans=$(in_ns "$NS_E" "$XS" bans -j 2>/dev/null | jq 'if type == "array" then length else (.bans // [] | length) end')
	answered=$(metric 'xdpsbc_bans_total')
	for ((i = 0; i < LEGIT_SRCS; i++)); do
		ok=$((ok + $(awk -F';' 'NR == 1 { for (f = 1; f <= NF; f++) if ($f == "SuccessfulCall(C)") c = f } END { print $c + 0 }' "$TOPO_WORK/legit$i.csv" 2>/dev/null || echo 0)))
	done
	kill "$uas" 2>/dev/null
	echo "# flood: ${sent:-0} spoofed requests from ${srcs:-0} sources in $((SECONDS - t0)) s;" \
		"XDP drop-flood $((fl1 - fl0)), bans listed $bans, ban events seen by sigd $answered;" \
		"sigd received $((rx1 - rx0)) messages; legitimate calls $ok of $tried succeeded"
	[ "${sent:-0}" -gt 50000 ] && pass flood_sent || fail flood_sent "only ${sent:-0} flood packets sent"
	[ $((fl1 - fl0)) -gt $((${sent:-0} / 3)) ] && pass flood_dropped_in_xdp ||
		fail flood_dropped_in_xdp "drop-flood $((fl1 - fl0)) of ${sent:-0}"
	[ $((ok * 100)) -ge $((tried * 99)) ] && pass flood_calls_99pct ||
		fail flood_calls_99pct "$ok of $tried calls succeeded"
	kill -0 "$SIGD_PID" 2>/dev/null && pass flood_sigd_alive || fail flood_sigd_alive "sigd died"
}

main() {
	local why
	if ! why=$(need); then
		for t in spoof_control_reaches_sigd spoof_core_dropped spoof_rp_filter_counted \
			spoof_core_call_works spoof_trusted_flood_dropped spoof_trusted_not_exempt \
			spoof_trusted_real_core_exempt spoof_trusted_core_address_banned \
			spoof_trusted_core_calls_work spoof_believed_without_check \
			spoof_trusted_exempt_without_check flood_sent flood_dropped_in_xdp \
			flood_calls_99pct flood_sigd_alive; do
			skip $t "$why"
		done
		exit 0
	fi
	topo_up || { fail topology "could not build the namespaces"; exit 1; }
	# The edge routes the IPv6 flood's answers back out (its own /64 is on e0).
	in_ns "$NS_E" sysctl -qw net.ipv6.conf.all.forwarding=1
	topo_attach_edge "${E2E_XDP_MODE:-native}" >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail topology "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	cat >"$TOPO_WORK/sigd.conf" <<-EOF
		ctl-socket = $TOPO_WORK/ctl.sock
		datapath = xdp
	EOF
	sigd_start --config "$TOPO_WORK/sigd.conf" ||
		{ fail topology "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	for t in ${SPOOF_CASES:-spoofed_core spoofed_trusted spoof_without_check flood_while_calling}; do
		"test_$t"
	done
	if [ -n "${TOPO_KEEP:-}" ]; then
		echo "# logs in $TOPO_WORK"
	fi
	return 0
}

main "$@"
