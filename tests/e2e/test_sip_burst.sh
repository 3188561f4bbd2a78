#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A stalled SIP loop loses no datagram of a legitimate burst. The real
# xdpsbc-sigd is stopped (SIGSTOP) for 400 ms, as a busy host or a slow save
# would hold it; meanwhile the core (a trusted network, as a carrier's core
# is) sends a burst of BURST_N requests, each with its own Call-ID, and an
# outside source sprays SPRAY_N requests at the same time. Then sigd runs
# again: every request of the burst must be answered (sigd answers an
# OPTIONS with Max-Forwards 0 itself) and the edge namespace must count no
# UDP receive-queue drop; the spray is cut by the XDP flood limit before it
# reaches the queue. With the kernel's default queue (~208 KiB) most of the
# burst was dropped. Prints PASS/FAIL/SKIP lines.
set -u
source "$(dirname "$0")/topo.sh"

BURST_N=${BURST_N:-1500}
SPRAY_N=${SPRAY_N:-5000}

need() {
	[ -x "$XS" ] && [ -x "$XS_SIGD" ] || { echo "xdpsbc not built"; return 1; }
	[ -f "$XDP_TRIVIAL" ] || { echo "$XDP_TRIVIAL not built"; return 1; }
	command -v python3 >/dev/null || { echo "python3 missing"; return 1; }
	return 0
}

rcvbuf_errors() {
	in_ns "$NS_E" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RcvbufErrors"] }' /proc/net/snmp
}

# burst NS SRC N PID PAUSE_MS TAG: stop PID (when set), send N OPTIONS from
# SRC:5070 to the edge, continue PID after PAUSE_MS, count the distinct
# requests answered 200 within 5 s; prints "answered=A sent=N".
burst() {
	in_ns "$1" python3 - "$2" "$3" "$4" "$5" "$6" "$EDGE_IP" <<-'PY'
		import os, signal, socket, sys, time
		src, n, pid, pause, tag, edge = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: hold all the answers
		s.bind((src, 5070))
		if pid:
		    os.kill(pid, signal.SIGSTOP)
		t0 = time.monotonic()
		for i in range(n):
		    m = ("OPTIONS sip:edge@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bK%s%d\r\n"
		         "Max-Forwards: 0\r\nFrom: <sip:core@%s>;tag=%s%d\r\nTo: <sip:edge@%s>\r\n"
		         "Call-ID: %s-%d@%s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
		         ) % (edge, src, tag, i, src, tag, i, edge, tag, i, src)
		    try:
		        s.sendto(m.encode(), (edge, 5060))
		    except OSError:
		        pass
		if pid:
		    time.sleep(max(0, pause / 1000 - (time.monotonic() - t0)))
		    os.kill(pid, signal.SIGCONT)
		seen = set()
		s.settimeout(0.5)
		end = time.monotonic() + 5
		while time.monotonic() < end and len(seen) < n:
		    try:
		        d = s.recv(65535).decode(errors="replace")
		    except socket.timeout:
		        continue
		    if d.startswith("SIP/2.0 200"):
		        for line in d.split("\r\n"):
		            if line.lower().startswith("call-id:"):
		                seen.add(line.split(":", 1)[1].strip())
		print("answered=%d sent=%d" % (len(seen), n))
	PY
}

test_burst() {
	local e0 e1 out spray_out ans flood0 flood1

	in_ns "$NS_E" "$XS" trust add $CORE_IP/32 >/dev/null || { fail sip_burst_stall "trust add"; return; }
	sigd_start --trusted $CORE_IP/32 || { fail sip_burst_stall "sigd did not start"; return; }
	# Warm up: the first answer proves the path.
	out=$(burst "$NS_K" $CORE_IP 1 0 0 w)
	[ "$(sed -n 's/.*answered=\([0-9]*\).*/\1/p' <<<"$out")" = 1 ] ||
		{ fail sip_burst_stall "no answer to one OPTIONS: $out"; return; }
	e0=$(rcvbuf_errors)
	flood0=$(xs_stat drop-flood)
	# The spray from outside, at the same moment (its own stall-free run).
	burst "$NS_N" $NAT_OUT_IP "$SPRAY_N" 0 0 x >"$TOPO_WORK/spray.out" &
	local spray=$!
	out=$(burst "$NS_K" $CORE_IP "$BURST_N" "$SIGD_PID" 400 b)
	wait "$spray"
	spray_out=$(cat "$TOPO_WORK/spray.out")
	e1=$(rcvbuf_errors)
	flood1=$(xs_stat drop-flood)
	ans=$(sed -n 's/.*answered=\([0-9]*\).*/\1/p' <<<"$out")
	echo "# core burst during a 400 ms stall: $out; receive-queue drops $((e1 - e0));" \
		"outside spray: $spray_out, $((flood1 - flood0)) dropped by the flood limit"
	if [ "${ans:-0}" = "$BURST_N" ] && [ $((e1 - e0)) -eq 0 ]; then
		pass sip_burst_stall
	else
		fail sip_burst_stall "$out, $((e1 - e0)) receive-queue drops"
	fi
	if [ $((flood1 - flood0)) -gt $((SPRAY_N / 2)) ]; then
		pass sip_burst_spray_cut
	else
		fail sip_burst_spray_cut "only $((flood1 - flood0)) of $SPRAY_N dropped by the flood limit ($spray_out)"
	fi
	sigd_stop
}

if ! need >/dev/null; then
	skip sip_burst "$(need)"
	exit 0
fi
topo_up || { fail sip_burst "topology"; exit 1; }
topo_attach_edge || { fail sip_burst "attach"; exit 1; }
test_burst
topo_down
