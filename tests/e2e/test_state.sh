#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The edge's transaction and registration state against an outsider, end to
# end: the real xdpsbc-sigd on the e2e topology (tests/e2e/topo.sh), a small
# Python SIP core in the core namespace (a registrar that wants an
# Authorization header, a callee that rings and answers on request), the
# caller behind the NAT, and on the NAT's outside addresses the real bob
# (203.0.113.67) and the attacker (203.0.113.66).
#
#   forged_200_dropped       the attacker knows the edge's branch (as if it had
#                            computed it) and sends a 200 whose second Via names
#                            its own listener: the caller never sees it, nothing
#                            reaches that listener, the refusal is counted
#   legit_call_answered      the core's real 200 reaches the caller
#   register_hijack_refused  the attacker's REGISTER for bob gets the core's 401
#                            and leaves no binding; the real bob's is kept
#   call_reaches_real_bob    the core calls sip:bob@edge: bob gets it, the
#                            attacker nothing
#   bindings_survive_restart after a restart (bindings file 0600, JSON) the
#                            core's call for bob still reaches bob
#   dialog_cap_per_source    with max-dialogs-per-source 2, the attacker's third
#                            ringing INVITE (with SDP) gets 503, never reaches the
#                            core and anchors no media; the caller's call still
#                            goes through with its media anchored
#
# Prints PASS/FAIL/SKIP lines; takes about 20 s. TOPO_KEEP=1 keeps the logs.
set -u
source "$(dirname "$0")/topo.sh"

BOB_IP=203.0.113.67
ATT_IP=203.0.113.66
CASES="forged_200_dropped legit_call_answered register_hijack_refused call_reaches_real_bob bindings_survive_restart dialog_cap_per_source"
SIGD_FLAGS=(--max-dialogs-per-source 2)

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$XDP_TRIVIAL"; do
		[ -e "$what" ] || { echo "$what not built"; return 1; }
	done
	for what in python3 nft jq; do
		command -v $what >/dev/null || { echo "$what missing"; return 1; }
	done
	return 0
}

write_helper() {
	cat >"$TOPO_WORK/sip.py" <<-'EOF'
		import os, select, socket, sys, time
		EDGE = ("203.0.113.1", 5060)
		WORK = os.environ["WORK"]

		def hdr(msg, name):
		    for line in msg.split("\r\n")[1:]:
		        if not line:
		            break
		        k, _, v = line.partition(":")
		        if k.strip().lower() == name.lower():
		            return v.strip()
		    return None

		def vias(msg):
		    return [l for l in msg.split("\r\n") if l.lower().startswith("via:")]

		def response(req, code, reason, totag=None, extra=""):
		    to = hdr(req, "To")
		    if totag and ";tag=" not in to:
		        to += ";tag=" + totag
		    lines = ["SIP/2.0 %d %s" % (code, reason)] + vias(req)
		    lines += ["From: " + hdr(req, "From"), "To: " + to, "Call-ID: " + hdr(req, "Call-ID"),
		              "CSeq: " + hdr(req, "CSeq")]
		    return ("\r\n".join(lines) + "\r\n" + extra + "Content-Length: 0\r\n\r\n").encode()

		def core():
		    """Registrar (200 only with Authorization) and callee (180, 200 on request)."""
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind(("198.51.100.10", 5060))
		    ringing = {}
		    while True:
		        r, _, _ = select.select([s], [], [], 0.05)
		        for cid, (req, src) in list(ringing.items()):
		            if os.path.exists(os.path.join(WORK, "answer." + cid)):
		                s.sendto(response(req, 200, "OK", "real",
		                                  "Contact: <sip:callee@198.51.100.10:5060>\r\n"), src)
		                del ringing[cid]
		        if not r:
		            continue
		        data, src = s.recvfrom(65535)
		        msg = data.decode(errors="replace")
		        if msg.startswith("SIP/2.0"):
		            continue
		        method = msg.split(" ", 1)[0]
		        cid = hdr(msg, "Call-ID")
		        if method == "REGISTER":
		            if hdr(msg, "Authorization"):
		                c = hdr(msg, "Contact")
		                s.sendto(response(msg, 200, "OK", "reg", "Contact: %s\r\n" % c), src)
		            else:
		                s.sendto(response(msg, 401, "Unauthorized", "reg",
		                                  'WWW-Authenticate: Digest realm="example.com", nonce="1"\r\n'), src)
		        elif method == "INVITE":
		            with open(os.path.join(WORK, "invite." + cid), "w", newline="") as f:
		                f.write(msg)
		            s.sendto(response(msg, 180, "Ringing", "real"), src)
		            ringing[cid] = (msg, src)
		        elif method in ("BYE", "OPTIONS", "MESSAGE"):
		            s.sendto(response(msg, 200, "OK", "real"), src)

		def send_wait(s, msg, timeout):
		    """Send, collect the responses (code and To tag) for @timeout seconds."""
		    s.sendto(msg.encode(), EDGE)
		    got = []
		    end = time.time() + timeout
		    s.settimeout(0.1)
		    while time.time() < end:
		        try:
		            data = s.recv(65535).decode(errors="replace")
		        except socket.timeout:
		            continue
		        if data.startswith("SIP/2.0 "):
		            to = hdr(data, "To") or ""
		            tag = to.split(";tag=")[1].split(";")[0] if ";tag=" in to else "-"
		            got.append("%s/%s" % (data.split(" ")[1], tag))
		    return " ".join(got)

		def register(src, user, auth):
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind((src, 5060))
		    msg = ("REGISTER sip:example.com SIP/2.0\r\n"
		           "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bKreg%d;rport\r\nMax-Forwards: 70\r\n"
		           "From: <sip:%s@example.com>;tag=r%d\r\nTo: <sip:%s@example.com>\r\n"
		           "Call-ID: reg-%s-%d\r\nCSeq: 1 REGISTER\r\n"
		           "Contact: <sip:%s@%s:5060>;expires=600\r\n%s")
		    n = int(time.time() * 1000) % 1000000
		    msg %= (src, n, user, n, user, src, n, user, src,
		            'Authorization: Digest username="bob", response="ok"\r\n' if auth == "yes" else "")
		    print(send_wait(s, msg, 1.0))

		def listen(src, port, seconds):
		    """Print the requests that arrive at @src:@port (answering them 486)."""
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind((src, int(port)))
		    s.settimeout(0.1)
		    end = time.time() + float(seconds)
		    while time.time() < end:
		        try:
		            data, peer = s.recvfrom(65535)
		        except socket.timeout:
		            continue
		        msg = data.decode(errors="replace")
		        print(msg.split("\r\n")[0] + " | " + (hdr(msg, "Call-ID") or ""), flush=True)
		        if not msg.startswith("SIP/2.0") and not msg.startswith("ACK"):
		            s.sendto(response(msg, 486, "Busy Here", "x"), peer)

		def caller(cid, seconds, src="10.0.0.2", port="5062", sdp="no"):
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind((src, int(port)))
		    body = ("v=0\r\no=a 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		            "m=audio 4000 RTP/AVP 0\r\n" % (src, src)) if sdp == "yes" else ""
		    msg = ("INVITE sip:callee@example.com SIP/2.0\r\n"
		           "Via: SIP/2.0/UDP %s:%s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
		           "From: <sip:alice@example.com>;tag=alice\r\nTo: <sip:callee@example.com>\r\n"
		           "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@%s:%s>\r\n%s"
		           "Content-Length: %d\r\n\r\n%s") % (src, port, cid, cid, src, port,
		                                               "Content-Type: application/sdp\r\n" if body else "",
		                                               len(body), body)
		    print(send_wait(s, msg, float(seconds)), flush=True)

		def forge(cid, listener):
		    """A 200 for the INVITE the core got (so: the edge's real branch), from us."""
		    req = open(os.path.join(WORK, "invite." + cid), newline="").read()
		    v = vias(req)
		    # Keep the edge's Via on top; the next one names our own listener.
		    lines = [v[0], "Via: SIP/2.0/UDP %s;branch=z9hG4bKevil;rport" % listener]
		    to = hdr(req, "To") + ";tag=evil"
		    msg = ("SIP/2.0 200 OK\r\n" + "\r\n".join(lines) + "\r\nFrom: " + hdr(req, "From") +
		           "\r\nTo: " + to + "\r\nCall-ID: " + cid + "\r\nCSeq: " + hdr(req, "CSeq") +
		           "\r\nContact: <sip:evil@%s>\r\nContent-Length: 0\r\n\r\n" % listener.split(":")[0])
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind((listener.split(":")[0], 0))
		    for _ in range(2):
		        s.sendto(msg.encode(), EDGE)

		def core_call(cid):
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind(("198.51.100.10", 0))
		    port = s.getsockname()[1]
		    msg = ("INVITE sip:bob@203.0.113.1:5060 SIP/2.0\r\n"
		           "Via: SIP/2.0/UDP 198.51.100.10:%d;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
		           "From: <sip:carol@example.com>;tag=carol\r\nTo: <sip:bob@example.com>\r\n"
		           "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:carol@198.51.100.10:%d>\r\n"
		           "Content-Length: 0\r\n\r\n") % (port, cid, cid, port)
		    print(send_wait(s, msg, 1.5), flush=True)

		globals()[sys.argv[1]](*sys.argv[2:])
	EOF
}

py() { # NS ARGS...
	local ns=$1
	shift
	in_ns "$ns" python3 "$TOPO_WORK/sip.py" "$@"
}

refusals() {
	in_ns "$NS_E" "$XS" policy -j --ctl "$TOPO_WORK/state/ctl.sock" 2>/dev/null |
		jq -r ".refusals[\"$1\"] // 0"
}

test_forged_200() {
	local cid=forge-$$ got n0 n1

	n0=$(refusals unmatched-response)
	bg_ns "$NS_C" "$TOPO_WORK/caller.out" python3 "$TOPO_WORK/sip.py" caller "$cid" 4
	bg_ns "$NS_N" "$TOPO_WORK/att.out" python3 "$TOPO_WORK/sip.py" listen $ATT_IP 7777 5
	topo_wait 3 test -s "$TOPO_WORK/invite.$cid" || { fail forged_200_dropped "the INVITE never reached the core"; return; }
	py "$NS_N" forge "$cid" $ATT_IP:7777
	sleep 0.5
	touch "$TOPO_WORK/answer.$cid"
	sleep 4
	got=$(cat "$TOPO_WORK/caller.out")
	n1=$(refusals unmatched-response)
	if [[ $got != *evil* ]] && ! [ -s "$TOPO_WORK/att.out" ] && [ "$n1" -gt "$n0" ]; then
		pass forged_200_dropped
	else
		fail forged_200_dropped "caller saw '$got'; attacker's listener: $(head -c 300 "$TOPO_WORK/att.out"); refusals $n0 -> $n1"
	fi
	if [[ " $got " == *" 200/real "* ]]; then
		pass legit_call_answered
	else
		fail legit_call_answered "caller saw '$got'"
	fi
}

# The core calls sip:bob@edge; who gets it? Prints "bob", "attacker", "both" or "nobody".
who_gets_bobs_call() {
	local cid=$1 b a

	bg_ns "$NS_N" "$TOPO_WORK/bob.$cid" python3 "$TOPO_WORK/sip.py" listen $BOB_IP 5060 3
	bg_ns "$NS_N" "$TOPO_WORK/att.$cid" python3 "$TOPO_WORK/sip.py" listen $ATT_IP 5060 3
	sleep 0.3
	py "$NS_K" core_call "$cid" >"$TOPO_WORK/core.$cid"
	sleep 1.5
	b=$(grep -c "INVITE .*| $cid" "$TOPO_WORK/bob.$cid")
	a=$(grep -c "INVITE .*| $cid" "$TOPO_WORK/att.$cid")
	if [ "$b" -gt 0 ] && [ "$a" -gt 0 ]; then echo both
	elif [ "$b" -gt 0 ]; then echo bob
	elif [ "$a" -gt 0 ]; then echo attacker
	else echo nobody; fi
}

test_register() {
	local a1 b1 a2 who

	a1=$(py "$NS_N" register $ATT_IP bob no)
	b1=$(py "$NS_N" register $BOB_IP bob yes)
	a2=$(py "$NS_N" register $ATT_IP bob no)
	if [[ $a1 == *401/* && $b1 == *200/* && $a2 == *401/* ]]; then
		pass register_hijack_refused
	else
		fail register_hijack_refused "attacker '$a1' / '$a2', bob '$b1'"
	fi
	who=$(who_gets_bobs_call call-$$-1)
	[ "$who" = bob ] && pass call_reaches_real_bob || fail call_reaches_real_bob "the call went to: $who"

	sigd_stop
	sigd_start "${SIGD_FLAGS[@]}" || { fail bindings_survive_restart "sigd did not restart"; return; }
	local mode first
	mode=$(stat -c %a "$TOPO_WORK/state/bindings" 2>/dev/null)
	first=$(head -n 1 "$TOPO_WORK/state/bindings" | jq -r .aor 2>/dev/null)
	who=$(who_gets_bobs_call call-$$-2)
	if [ "$mode" = 600 ] && [ "$first" = bob@example.com ] && [ "$who" = bob ]; then
		pass bindings_survive_restart
	else
		fail bindings_survive_restart "mode '$mode', first record '$first', call went to $who"
	fi
}

nflows() { xs_flows_json | jq length; }

test_caps() {
	local r1 r2 r3 f0 f1 got

	r1=$(py "$NS_N" caller cap-1-$$ 1 $ATT_IP 5071 yes)
	r2=$(py "$NS_N" caller cap-2-$$ 1 $ATT_IP 5072 yes)
	f0=$(nflows)
	r3=$(py "$NS_N" caller cap-3-$$ 1 $ATT_IP 5073 yes)
	f1=$(nflows)
	if [[ $r1 == *180/* && $r2 == *180/* && $r3 == *503/* && $r3 != *180/* ]] &&
		! [ -e "$TOPO_WORK/invite.cap-3-$$" ] && [ "$f0" -gt 0 ] && [ "$f0" = "$f1" ] &&
		[ "$(refusals dialogs-per-source)" -ge 1 ]; then
		:
	else
		fail dialog_cap_per_source "attacker's INVITEs: '$r1' '$r2' '$r3', flows $f0 -> $f1, at the core: $(ls "$TOPO_WORK" | grep -c '^invite.cap-')"
		return
	fi
	# The caller, from another source, still calls, with its media anchored.
	bg_ns "$NS_C" "$TOPO_WORK/caller2.out" python3 "$TOPO_WORK/sip.py" caller capok-$$ 3 10.0.0.2 5064 yes
	topo_wait 3 test -s "$TOPO_WORK/invite.capok-$$" && touch "$TOPO_WORK/answer.capok-$$"
	sleep 3.2
	got=$(cat "$TOPO_WORK/caller2.out")
	if [[ " $got " == *" 200/real "* ]] && [ "$(nflows)" -gt "$f1" ] &&
		grep -q "c=IN IP4 $EDGE_IP" "$TOPO_WORK/invite.capok-$$"; then
		pass dialog_cap_per_source
	else
		fail dialog_cap_per_source "caller saw '$got', flows $f1 -> $(nflows)"
	fi
}

main() {
	local why t

	if ! why=$(need); then
		for t in $CASES; do skip "$t" "$why"; done
		exit 0
	fi
	topo_up || { fail topology "could not build the namespaces"; exit 1; }
	ip -n "$NS_N" addr add $BOB_IP/24 dev n1
	ip -n "$NS_N" addr add $ATT_IP/24 dev n1
	topo_attach_edge "${E2E_XDP_MODE:-native}" >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail topology "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	export WORK=$TOPO_WORK
	write_helper
	sigd_start "${SIGD_FLAGS[@]}" || { fail topology "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	bg_ns "$NS_K" "$TOPO_WORK/core.log" python3 "$TOPO_WORK/sip.py" core
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	test_forged_200
	test_register
	test_caps
	kill -0 "$SIGD_PID" 2>/dev/null || fail sigd_alive "sigd died: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"
	[ -n "${TOPO_KEEP:-}" ] && echo "# logs kept in $TOPO_WORK"
	return 0
}

main "$@"
