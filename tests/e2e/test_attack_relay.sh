#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The edge is no relay into the core (docs/security/trust.md), end to end on
# the topology of tests/e2e/topo.sh: an outsider on the internet side
# (203.0.113.66, on the NAT namespace's outside interface) sends requests
# with forged Contact aliases, forged Route entries and a Request-URI
# naming an internal host, and forged responses whose next Via is that host.
# The "internal" host is 198.51.100.20 in the core namespace (not the
# upstream, not in --core), listening on UDP 5060 and TCP 8080; an "outside"
# host 203.0.113.99 listens on UDP 5060. Nothing may arrive at either, and a
# legitimate sipp call through the edge (route set from the signed
# Record-Route, BYE from the caller; then one where the callee hangs up)
# still completes. The attack runs twice: with an upstream (requests without
# standing go there) and with allowed domains only (the edge refuses each
# itself). Prints PASS/FAIL/SKIP lines; takes about 30 s.
#
#   TOPO_KEEP=1   keep the sigd log, the listener's report and the sipp traces
set -u
source "$(dirname "$0")/topo.sh"

ATTACKER=203.0.113.66
INTERNAL=198.51.100.20
OUTSIDE=203.0.113.99

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$RTP_PEER" "$XDP_TRIVIAL"; do
		[ -e "$what" ] || { echo "$what not built"; return 1; }
	done
	for what in sipp nft python3; do
		command -v $what >/dev/null || { echo "$what missing"; return 1; }
	done
	return 0
}

write_helper() {
	cat >"$TOPO_WORK/attack.py" <<-'EOF'
		import random, select, socket, sys, time

		def listen(spec, seconds):
		    """spec: udp:IP:PORT or tcp:IP:PORT, comma-separated; counts what arrives."""
		    socks, counts = {}, {}
		    for s in spec.split(","):
		        proto, ip, port = s.split(":")
		        if proto == "udp":
		            k = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		        else:
		            k = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		            k.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		        k.bind((ip, int(port)))
		        if proto == "tcp":
		            k.listen(16)
		        socks[k] = s
		        counts[s] = 0
		    print("ready", file=sys.stderr, flush=True)
		    end = time.time() + seconds
		    while time.time() < end:
		        r, _, _ = select.select(list(socks), [], [], 0.1)
		        for k in r:
		            if k.type == socket.SOCK_DGRAM:
		                k.recv(65535)
		            else:
		                c, _ = k.accept()
		                c.close()
		            counts[socks[k]] += 1
		    print(" ".join("%s=%d" % (s, n) for s, n in counts.items()))

		def req(method, ruri, src, port, cid, totag, routes):
		    return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%x;rport\r\n"
		            "Max-Forwards: 70\r\nFrom: <sip:mallory@example.com>;tag=m%s\r\n"
		            "To: <sip:victim@example.com>%s\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n%s"
		            "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
		            % (method, ruri, src, port, random.getrandbits(48), cid, totag and
		               ";tag=" + totag or "", cid, method,
		               "".join("Route: %s\r\n" % r for r in routes))).encode()

		def resp(src, port, nextvia, cid):
		    return ("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bKxs%032x\r\n"
		            "Via: %s;branch=z9hG4bKv%s\r\nFrom: <sip:a@example.com>;tag=a\r\n"
		            "To: <sip:b@example.com>;tag=b\r\nCall-ID: %s\r\nCSeq: 1 MESSAGE\r\n"
		            "Content-Length: 0\r\n\r\n"
		            % (src, random.getrandbits(128), nextvia, cid, cid)).encode()

		def attack(edge, me, internal, outside):
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind((me, 0))
		    port = s.getsockname()[1]
		    e = "sip:%s:5060" % edge
		    own = "<%s;lr>" % e
		    msgs = [
		        # forged aliases: internal host, TCP to an internal port, an outside host
		        req("MESSAGE", "sip:x@%s:5060;alias=%s~5060~1" % (edge, internal), me, port, "a1", "t", [own]),
		        req("MESSAGE", "sip:x@%s:5060;alias=%s~8080~2" % (edge, internal), me, port, "a2", "t", [own]),
		        req("MESSAGE", "sip:x@%s:5060;alias=%s~5060~1" % (edge, outside), me, port, "a3", "t", [own]),
		        req("MESSAGE", "sip:x@%s:5060;alias=%s~5060~1~0123456789abcdef" % (edge, internal), me, port, "a4", None, []),
		        # a second Route entry, and a Request-URI naming the internal host
		        req("MESSAGE", "sip:x@%s:5060" % internal, me, port, "r1", "t", [own, "<sip:%s:5060;lr>" % internal]),
		        req("MESSAGE", "sip:x@%s:8080;transport=tcp" % internal, me, port, "r2", "t", [own]),
		        req("MESSAGE", "sip:x@%s:5060" % outside, me, port, "r3", "t", [own]),
		        req("BYE", "sip:x@%s:5060" % internal, me, port, "r4", "t", [own, "<sip:%s:8080;transport=tcp;lr>" % internal]),
		        # the Request-URI naming the edge, nothing behind it
		        req("MESSAGE", "sip:nobody@%s:5060" % edge, me, port, "r5", "t", [own]),
		        # forged responses towards the internal host (UDP, and TCP to port 8080)
		        resp(edge, port, "SIP/2.0/UDP %s:5060" % internal, "f1"),
		        resp(edge, port, "SIP/2.0/TCP %s:8080" % internal, "f2"),
		        resp(edge, port, "SIP/2.0/UDP %s:5060" % outside, "f3"),
		    ]
		    answers = []
		    for m in msgs:
		        s.sendto(m, (edge, 5060))
		        s.settimeout(0.3)
		        code = "none"
		        try:
		            while True:
		                d = s.recv(65535).decode(errors="replace")
		                code = d.split(" ", 2)[1]
		                if code != "100":
		                    break
		        except socket.timeout:
		            pass
		        answers.append(code)
		    print(" ".join(answers))

		random.seed(7)
		if sys.argv[1] == "listen":
		    listen(sys.argv[2], float(sys.argv[3]))
		else:
		    attack(*sys.argv[2:6])
	EOF
}

# run_attack SUFFIX: the listeners up, the attacker's messages sent; sets
# ANSWERS (the attacker's answer codes, in order) and checks that nothing
# reached the internal or the outside host.
run_attack() {
	local sfx=$1 report lk lo

	in_ns "$NS_K" timeout 20 python3 "$TOPO_WORK/attack.py" listen \
		"udp:$INTERNAL:5060,tcp:$INTERNAL:8080" 8 >"$TOPO_WORK/internal$sfx.txt" 2>"$TOPO_WORK/internal$sfx.err" &
	lk=$!
	in_ns "$NS_N" timeout 20 python3 "$TOPO_WORK/attack.py" listen \
		"udp:$OUTSIDE:5060" 8 >"$TOPO_WORK/outside$sfx.txt" 2>"$TOPO_WORK/outside$sfx.err" &
	lo=$!
	for _ in $(seq 50); do
		grep -q ready "$TOPO_WORK/internal$sfx.err" 2>/dev/null &&
			grep -q ready "$TOPO_WORK/outside$sfx.err" 2>/dev/null && break
		sleep 0.1
	done
	ANSWERS=$(in_ns "$NS_N" timeout 20 python3 "$TOPO_WORK/attack.py" attack $EDGE_IP $ATTACKER $INTERNAL $OUTSIDE)
	wait $lk $lo
	report="$(cat "$TOPO_WORK/internal$sfx.txt") $(cat "$TOPO_WORK/outside$sfx.txt")"
	echo "# attacker's answers: $ANSWERS; listeners: $report"
	if ! grep -q "udp:$INTERNAL:5060=0 tcp:$INTERNAL:8080=0" "$TOPO_WORK/internal$sfx.txt"; then
		fail forged_not_relayed_internal$sfx "the internal host received: $report (answers $ANSWERS)"
	else
		pass forged_not_relayed_internal$sfx
	fi
	if ! grep -q "udp:$OUTSIDE:5060=0" "$TOPO_WORK/outside$sfx.txt"; then
		fail forged_not_relayed_outside$sfx "the outside host received: $report (answers $ANSWERS)"
	else
		pass forged_not_relayed_outside$sfx
	fi
	kill -0 "$SIGD_PID" 2>/dev/null || fail sigd_alive "sigd died: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"
}

# With an upstream: the requests without standing go there; nothing elsewhere.
test_forged() {
	run_attack ""
}

# Without an upstream (allowed domains only) the edge decides alone: every
# forged request is refused by the edge itself, 403 (alias, destination,
# domain) or 404 (the edge's own URI, nothing behind it).
test_forged_domains() {
	local want="403 403 403 403 403 403 403 403 404 none none none"

	sigd_stop
	bg_ns "$NS_E" "$TOPO_WORK/sigd.log.$((++SIGD_RUNS))" "$XS_SIGD" --config none --iface e0 \
		--public-ip $EDGE_IP --listen $EDGE_IP:5060 --domains $CORE_IP \
		--rtp-ports 20000-29999 --foreground --pin-root "$XDPSBC_PIN_ROOT" \
		--state-dir "$TOPO_WORK/state"
	SIGD_PID=$BG_PID
	if ! topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q 5060"; then
		fail forged_refused_domains "sigd --domains did not start: $(tail -n 5 "$TOPO_WORK/sigd.log.$SIGD_RUNS")"
		return
	fi
	run_attack _domains
	if [ "$ANSWERS" != "$want" ]; then
		fail forged_refused_domains "answers \"$ANSWERS\", want \"$want\""
	else
		pass forged_refused_domains
	fi
}

# After the attacks, legitimate calls through the edge: caller's BYE, then callee's BYE.
test_legit_call() {
	local d=$TOPO_WORK/legit

	call_start "$d" 50
	call_wait "$d"
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail legit_call "sipp caller rc=$UAC_RC callee rc=$UAS_RC: $(tail -n 3 "$d/uac.err" "$d/uas.err" 2>/dev/null | tr '\n' ' ')"
	elif ! grep -q "xs=" "$d/uac.msg"; then
		fail legit_call "the caller saw no signed Record-Route"
	else
		pass legit_call
	fi
	d=$TOPO_WORK/legit_bye
	UAS_EXTRA="-d 2500" call_start "$d" 50 uac_timeout.xml uas_bye.xml
	call_wait "$d"
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail legit_callee_bye "sipp caller rc=$UAC_RC callee rc=$UAS_RC: $(tail -n 3 "$d/uac.err" "$d/uas.err" 2>/dev/null | tr '\n' ' ')"
	else
		pass legit_callee_bye
	fi
}

main() {
	local why t0=$SECONDS

	if ! why=$(need); then
		for t in forged_not_relayed_internal forged_not_relayed_outside legit_call legit_callee_bye \
			forged_not_relayed_internal_domains forged_not_relayed_outside_domains forged_refused_domains; do
			skip $t "$why"
		done
		exit 0
	fi
	topo_up || { fail topology "could not build the namespaces"; exit 1; }
	ip -n "$NS_N" addr add $ATTACKER/24 dev n1
	ip -n "$NS_N" addr add $OUTSIDE/24 dev n1
	ip -n "$NS_K" addr add $INTERNAL/24 dev k0
	_topo_poke "$NS_E" $INTERNAL
	_topo_poke "$NS_E" $OUTSIDE
	topo_attach_edge "${E2E_XDP_MODE:-native}" >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail topology "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	write_helper
	sigd_start || { fail topology "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	test_forged
	test_legit_call
	test_forged_domains
	echo "# e2e attack_relay took $((SECONDS - t0)) s${TOPO_KEEP:+; logs kept in $TOPO_WORK}"
	[ "${TOPO_FAILED:-0}" = 0 ]
}

main "$@"
