#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Edge security policy end to end: the real xdpsbc-sigd with a test
# config on the e2e topology (tests/e2e/topo.sh), clients on distinct source
# addresses (203.0.113.21-.49 on the NAT namespace's outside interface), the
# SIP core a sipp UAS (tests/sip/scenarios/policy_uas.xml), callers sipp
# (policy_uac.xml) and, for single requests, floods and garbage, a small
# Python UDP sender. Cases: authorised and unauthorised sources, road warrior,
# company and brand limits, scanner User-Agent, brute force -> block ->
# expiry, a bounded flood while legitimate calls complete, the API's token,
# a corpus of broken SIP, metrics and the CLI. Prints PASS/FAIL/SKIP lines;
# takes about a minute.
#
#   POLICY_CASES="scanner api_token"  run only these cases
#   TOPO_KEEP=1                       keep the logs and sipp traces
set -u
source "$(dirname "$0")/topo.sh"

HTTP=127.0.0.1:18080
TOKEN=tok-$$-$RANDOM
SRC_AUTH=203.0.113.21 # acme's office (authorised)
SRC_OTHER=203.0.113.22
SRC_RW=203.0.113.23
SRC_SCAN=203.0.113.24
SRC_BRUTE=203.0.113.25
SRC_FLOOD=203.0.113.26
SRC_BETA=203.0.113.27
SRC_LEGIT=203.0.113.28
SRC_API=203.0.113.29
SRC_TCP=203.0.113.30
# .40-.49: the garbage corpus, a few messages each (the flood limit counts per source)

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$XDP_TRIVIAL"; do
		[ -e "$what" ] || { echo "$what not built"; return 1; }
	done
	for what in sipp nft python3 curl jq; do
		command -v $what >/dev/null || { echo "$what missing"; return 1; }
	done
	return 0
}

write_conf() {
	echo "$TOKEN" >"$TOPO_WORK/token"
	chmod 600 "$TOPO_WORK/token"
	cat >"$TOPO_WORK/sigd.conf" <<-EOF
		# the test config: short blocks, small limits
		ctl-socket = $TOPO_WORK/ctl.sock
		http-listen = $HTTP
		http-token-file = $TOPO_WORK/token
		trusted = 198.51.100.0/24
		bruteforce-threshold = 3
		bruteforce-window = 30s
		bruteforce-block = 4
		bruteforce-block-max = 8
		scanner-block = 1h
		max-message-size = 4096
		max-uri-length = 256

		[brand big]
		max-calls = 3

		[company acme]
		brand = big
		domains = acme.example
		authorised-ips = $SRC_AUTH, $SRC_LEGIT
		max-calls = 2

		[company beta]
		brand = big
		domains = beta.example

		[user alice@acme.example]
		road-warrior-calls = 1
	EOF
}

# The Python helper: single requests, a bounded flood, the garbage corpus.
write_helper() {
	cat >"$TOPO_WORK/sip.py" <<-'EOF'
		import os, random, socket, sys, time
		EDGE = (sys.argv[2], 5060)

		def sock(src):
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.bind((src, 0))
		    return s

		def request(src, port, method, ua, frm, cid, extra=""):
		    return ("%s sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
		            "Max-Forwards: 70\r\nFrom: <sip:%s>;tag=%s\r\nTo: <sip:%s>\r\n"
		            "Call-ID: %s\r\nCSeq: 1 %s\r\nUser-Agent: %s\r\n%sContent-Length: 0\r\n\r\n"
		            % (method, EDGE[0], src, port, cid, frm, cid[:8], frm, cid, method, ua,
		               extra)).encode()

		def probe(src, method, ua, frm, timeout):
		    s = sock(src)
		    cid = "%x" % random.getrandbits(64)
		    s.sendto(request(src, s.getsockname()[1], method, ua, frm, cid), EDGE)
		    s.settimeout(timeout)
		    end = time.time() + timeout
		    while time.time() < end:
		        try:
		            data = s.recv(65535).decode(errors="replace")
		        except socket.timeout:
		            break
		        code = data.split(" ", 2)[1] if data.startswith("SIP/2.0 ") else "?"
		        if code != "100":
		            return code + " " + data.split("\r\n")[0].split(" ", 2)[2]
		    return "none"

		def flood(src, count, seconds):
		    s = sock(src)
		    port = s.getsockname()[1]
		    end = time.time() + seconds
		    n = 0
		    while n < count and time.time() < end:
		        s.sendto(request(src, port, "OPTIONS", "flood", "x@example.net", "fl%d" % n), EDGE)
		        n += 1
		    return str(n)

		def corpus(prefix):
		    good = request(prefix + "40", 5060, "INVITE", "t", "a@free.example", "good1")
		    msgs = [good[:n] for n in (1, 7, 20, 60, 120)]            # truncated
		    msgs += [bytes(random.getrandbits(8) for _ in range(300)) for _ in range(4)]
		    msgs += [b"INVITE sip:x SIP/2.0\r\n" + b"X: " + b"a" * 6000 + b"\r\n\r\n"]  # oversized
		    msgs += [b"\x00" * 50, b"SIP/2.0 200\r\n\r\n", b"INVITE\r\n\r\n", b" \r\n\r\n\r\n"]
		    msgs += [good.replace(b"Call-ID", b"Call-Xd"), good.replace(b"CSeq: 1", b"CSeq: x")]
		    msgs += [good.replace(b"Content-Length: 0", b"Content-Length: 9999")]
		    msgs += [good.replace(b"Content-Length: 0", b"Content-Length: -5")]
		    msgs += [good.replace(b"SIP/2.0\r\n", b"SIP/9.9\r\n", 1), good.replace(b"\r\n", b"\n")]
		    msgs += [good.replace(b"sip:", b"sip:" + b"u" * 400, 1)]
		    msgs += [good.replace(b"Via: SIP/2.0/UDP", b"Via: SIP/2.0/UDP [::1", 1)]
		    msgs += [b"INVITE sip:a@b SIP/2.0\r\nVia: \r\nFrom: <\r\nTo: >\r\nCall-ID: \r\nCSeq: \r\n\r\n"]
		    msgs += [good[:-4] + b"\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nm=audio x\r\n"]
		    sent = 0
		    for i, m in enumerate(msgs):
		        s = sock(prefix + str(40 + i % 10))  # <= 4 per source: no flood ban
		        s.sendto(m, EDGE)
		        s.close()
		        sent += 1
		    return str(sent)

		random.seed(int(os.environ.get("SEED", os.getpid())))
		op = sys.argv[1]
		if op == "probe":
		    print(probe(sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], float(sys.argv[7])))
		elif op == "flood":
		    print(flood(sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
		elif op == "corpus":
		    print(corpus(sys.argv[3]))
	EOF
}

# probe SRC METHOD UA FROM [TIMEOUT]: one request from SRC; prints "CODE reason" or "none".
probe() {
	in_ns "$NS_N" python3 "$TOPO_WORK/sip.py" probe $EDGE_IP "$1" "$2" "$3" "$4" "${5:-1}"
}

# uac NAME SRC USER DOMAIN [CALLS] [HOLD_MS] [UA] [SERVICE]: sipp caller(s) in the background;
# sets UAC_PID; trace in $TOPO_WORK/NAME.msg.
uac() {
	local name=$1 src=$2 user=$3 domain=$4 n=${5:-1} hold=${6:-500} ua=${7:-xdpsbc-test} svc=${8:-bob}
	UAC_N=$((UAC_N + 1))
	bg_ns "$NS_N" "$TOPO_WORK/$name.log" sipp -sf "$SCEN/policy_uac.xml" -i "$src" -p $((5100 + UAC_N)) \
		-m "$n" -l "$n" -r 20 -d "$hold" -s "$svc" -nostdin -timeout 20s -timeout_error \
		-key user "$user" -key domain "$domain" -key ua "$ua" ${UAC_EXTRA:-} \
		-trace_msg -message_file "$TOPO_WORK/$name.msg" $EDGE_IP:5060
	UAC_PID=$BG_PID
}

UAC_N=0

# answers NAME: the final responses the caller NAME received, e.g. "200 200 486".
answers() {
	grep -Eo '^SIP/2.0 [2-6][0-9][0-9]' "$TOPO_WORK/$1.msg" 2>/dev/null | awk '{ print $2 }' |
		tr '\n' ' ' | sed 's/ $//'
}

ctl() { in_ns "$NS_E" "$XS" "$@" --ctl "$TOPO_WORK/ctl.sock"; }
calls_of() { ctl -j calls | jq --arg c "$1" '[.[] | select(.company == $c and .state == "confirmed")] | length'; }
api() { in_ns "$NS_E" curl -s -m 5 "$@"; }
blocked() { in_ns "$NS_E" "$XS" block list -j | jq -e --arg a "$1/32" '[.. | objects | select(.cidr? == $a)] | length > 0' >/dev/null; }
block_entries() { in_ns "$NS_E" "$XS" block list -j | jq -c '[.. | objects | select(.cidr?) | [.cidr, (.reason // .note // "")]] | sort'; }
sigd_log() { cat "$TOPO_WORK"/sigd.log.*; }

test_authorised() {
	uac auth "$SRC_AUTH" carol acme.example 1 300
	wait "$UAC_PID"
	local rc=$?
	if [ $rc = 0 ] && [ "$(answers auth)" = "200 200" ]; then
		pass authorised_source
	else
		fail authorised_source "sipp rc $rc, answers '$(answers auth)'"
	fi
}

test_unauthorised() {
	uac unauth "$SRC_OTHER" carol acme.example 1 300
	wait "$UAC_PID"
	if grep -q '^SIP/2.0 403 Forbidden (invalid IP)' "$TOPO_WORK/unauth.msg" &&
		sigd_log | grep -q "policy: INVITE from $SRC_OTHER:[0-9]*/udp refused (invalid-ip"; then
		pass unauthorised_source
	else
		fail unauthorised_source "answers '$(answers unauth)'"
	fi
	# The same user from the office still gets through: credentials are not the point.
	# Over TCP the same.
	UAC_EXTRA="-t t1" uac unauth_tcp "$SRC_TCP" carol acme.example 1 300
	wait "$UAC_PID"
	grep -q '^SIP/2.0 403 Forbidden (invalid IP)' "$TOPO_WORK/unauth_tcp.msg" &&
		pass unauthorised_source_tcp || fail unauthorised_source_tcp "answers '$(answers unauth_tcp)'"
	local r
	r=$(probe "$SRC_OTHER" REGISTER test carol@acme.example)
	[[ $r == "403 Forbidden (invalid IP)" ]] && pass unauthorised_register ||
		fail unauthorised_register "REGISTER from $SRC_OTHER: $r"
}

test_road_warrior() {
	local pid1 r
	uac rw1 "$SRC_RW" alice acme.example 1 4000
	pid1=$UAC_PID
	if ! topo_wait 5 sh -c "[ \"\$(nsenter --net=/run/netns/$NS_E $XS -j calls --ctl $TOPO_WORK/ctl.sock | jq '[.[] | select(.road_warrior == \"alice@acme.example\")] | length')\" = 1 ]"; then
		fail road_warrior "first call not up: $(answers rw1)"
		wait $pid1
		return
	fi
	uac rw2 "$SRC_RW" alice acme.example 1 300
	wait "$UAC_PID"
	wait $pid1
	uac rw3 "$SRC_RW" alice acme.example 1 300
	wait "$UAC_PID"
	r=$(probe "$SRC_RW" OPTIONS test bob@acme.example)
	if [ "$(answers rw1)" = "200 200" ] && grep -q '^SIP/2.0 486 Busy Here (max calls exceeded)' \
		"$TOPO_WORK/rw2.msg" && [ "$(answers rw3)" = "200 200" ] && [[ $r == 403* ]]; then
		pass road_warrior
	else
		fail road_warrior "within limit '$(answers rw1)', above '$(answers rw2)', after '$(answers rw3)', other user '$r'"
	fi
}

test_limits() {
	local pid1 pid2
	# acme: 2 calls held from the office; a third is refused by acme's limit.
	uac lim_a "$SRC_AUTH" carol acme.example 2 5000
	pid1=$UAC_PID
	if ! topo_wait 5 sh -c "[ \"\$(nsenter --net=/run/netns/$NS_E $XS -j calls --ctl $TOPO_WORK/ctl.sock | jq '[.[] | select(.company == \"acme\" and .state == \"confirmed\")] | length')\" = 2 ]"; then
		fail company_limit "2 calls not up: $(answers lim_a)"
		wait $pid1
		return
	fi
	uac lim_a3 "$SRC_AUTH" carol acme.example 1 300
	wait "$UAC_PID"
	grep -q '^SIP/2.0 486 Busy Here (max calls exceeded)' "$TOPO_WORK/lim_a3.msg" &&
		pass company_limit || fail company_limit "third acme call: '$(answers lim_a3)'"
	# brand big (3): beta gets one call next to acme's two, not two.
	uac lim_b1 "$SRC_BETA" dave beta.example 1 3000
	pid2=$UAC_PID
	topo_wait 5 sh -c "[ \"\$(nsenter --net=/run/netns/$NS_E $XS -j calls --ctl $TOPO_WORK/ctl.sock | jq '[.[] | select(.brand == \"big\" and .state == \"confirmed\")] | length')\" = 3 ]"
	uac lim_b2 "$SRC_BETA" dave beta.example 1 300
	wait "$UAC_PID"
	# The CLI sees the calls with their tenant while they are up.
	local listing
	listing=$(ctl calls)
	wait $pid1 $pid2
	if [ "$(answers lim_b1)" = "200 200" ] &&
		grep -q '^SIP/2.0 486 Busy Here (max calls exceeded)' "$TOPO_WORK/lim_b2.msg"; then
		pass brand_limit
	else
		fail brand_limit "beta: first '$(answers lim_b1)', second '$(answers lim_b2)'"
	fi
	local pj
	pj=$(ctl -j policy)
	if [ "$(jq '.refusals["max-calls-company"] >= 1 and .refusals["max-calls-brand"] >= 1 and .refusals["max-calls-user"] >= 1' <<<"$pj")" = true ] &&
		grep -q "acme" <<<"$listing" && grep -q "3 calls" <<<"$listing"; then
		pass cli_calls_policy
	else
		fail cli_calls_policy "calls: $listing; policy: $pj"
	fi
	[ "$(ctl -j calls | jq length)" = 0 ] && pass calls_uncounted ||
		fail calls_uncounted "calls left: $(ctl calls)"
}

test_scanner() {
	local r1 r2 d0 d1
	d0=$(xs_stat drop-blocklist)
	r1=$(probe "$SRC_SCAN" OPTIONS "friendly-scanner" 100@example.net)
	if ! topo_wait 3 blocked "$SRC_SCAN"; then
		fail scanner "not in the blocklist (probe: $r1)"
		return
	fi
	r2=$(probe "$SRC_SCAN" OPTIONS "Linphone" 100@example.net)
	d1=$(xs_stat drop-blocklist)
	if [ "$r1" = none ] && [ "$r2" = none ] && [ "$d1" -gt "$d0" ] &&
		sigd_log | grep -q "policy: OPTIONS from $SRC_SCAN:[0-9]*/udp refused (scanner"; then
		pass scanner
	else
		fail scanner "probe '$r1', after '$r2', drop-blocklist $d0 -> $d1"
	fi
}

test_bruteforce() {
	local r0 r1 r2 t0
	r0=$(probe "$SRC_BRUTE" OPTIONS test x@example.net)
	# 3 INVITEs the core challenges (407): the third failure blocks the source.
	uac brute "$SRC_BRUTE" mallory beta.example 3 100 sipp authfail
	wait "$UAC_PID"
	if ! topo_wait 3 blocked "$SRC_BRUTE"; then
		fail bruteforce "not blocked; answers '$(answers brute)'"
		return
	fi
	t0=$SECONDS
	r1=$(probe "$SRC_BRUTE" OPTIONS test x@example.net)
	in_ns "$NS_E" "$XS" block list -j | jq -e --arg a "$SRC_BRUTE/32" \
		'[.. | objects | select(.cidr? == $a) | (.reason // .note // "")] | first | test("brute")' >/dev/null ||
		fail bruteforce_reason "block reason: $(in_ns "$NS_E" "$XS" block list)"
	# Blocked for 4 s: answered again once it expires.
	topo_wait 10 sh -c "[ \"\$(nsenter --net=/run/netns/$NS_N python3 $TOPO_WORK/sip.py probe $EDGE_IP $SRC_BRUTE OPTIONS test x@example.net 0.5)\" = '200 OK' ]"
	r2=$(probe "$SRC_BRUTE" OPTIONS test x@example.net)
	if [[ $r0 == "200 OK" && $(answers brute) == *407* && $r1 == none && $r2 == "200 OK" ]]; then
		pass bruteforce_block_expiry
	else
		fail bruteforce_block_expiry "before '$r0', answers '$(answers brute)', blocked '$r1', after $((SECONDS - t0)) s '$r2'"
	fi
}

test_flood() {
	local sent d0 d1 pid
	d0=$(xs_stat drop-flood)
	# Legitimate calls from the office while another source floods.
	uac legit "$SRC_LEGIT" carol acme.example 2 1500
	pid=$UAC_PID
	sent=$(in_ns "$NS_N" python3 "$TOPO_WORK/sip.py" flood $EDGE_IP "$SRC_FLOOD" 20000 3)
	wait $pid
	local rc=$?
	d1=$(xs_stat drop-flood)
	if [ $rc = 0 ] && [ "$(answers legit)" = "200 200 200 200" ] && [ "$d1" -gt $((d0 + sent / 4)) ]; then
		pass flood_calls_complete
	else
		fail flood_calls_complete "sent $sent, drop-flood $d0 -> $d1, legit rc $rc '$(answers legit)'"
	fi
	if topo_wait 3 sh -c "nsenter --net=/run/netns/$NS_E curl -s -m 2 -H 'Authorization: Bearer $TOKEN' http://$HTTP/api/v1/bans | jq -e '[.events[].source] | index(\"$SRC_FLOOD/32\")' >/dev/null" &&
		sigd_log | grep -q "XDP flood ban: $SRC_FLOOD/32"; then
		pass flood_ban_reported
	else
		fail flood_ban_reported "bans: $(api -H "Authorization: Bearer $TOKEN" http://$HTTP/api/v1/bans)"
	fi
}

test_api_token() {
	local before after c1 c2 c3 c4 c5
	# Entries (address and reason), not their hit counters and remaining times.
	before=$(block_entries)
	c1=$(api -o /dev/null -w '%{http_code}' http://$HTTP/api/v1/blocklist)
	c2=$(api -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" \
		-d "{\"ip\":\"$SRC_API\",\"reason\":\"x\"}" http://$HTTP/api/v1/blocklist)
	c3=$(api -o /dev/null -w '%{http_code}' -X DELETE http://$HTTP/api/v1/blocklist/$SRC_SCAN)
	c4=$(api -o /dev/null -w '%{http_code}' -d "[{\"ip\":\"$SRC_API\"}]" http://$HTTP/api/v1/blocklist/batch)
	c5=$(api -o /dev/null -w '%{http_code}' http://$HTTP/metrics)
	after=$(block_entries)
	if [ "$c1$c2$c3$c4$c5" = 401401401401401 ] && [ "$before" = "$after" ]; then
		pass api_token_refused
	else
		fail api_token_refused "codes $c1 $c2 $c3 $c4 $c5; blocklist changed: $([ "$before" = "$after" ] || echo yes)"
	fi
	local H="Authorization: Bearer $TOKEN" a b d
	a=$(api -o /dev/null -w '%{http_code}' -H "$H" -d "{\"ip\":\"$SRC_API\",\"reason\":\"api test\",\"duration\":\"10m\"}" http://$HTTP/api/v1/blocklist)
	b=$(api -o /dev/null -w '%{http_code}' -H "$H" -d '[{"cidr":"192.0.2.0/28","permanent":true},{"ip":"192.0.2.99","reason":"b","duration":60}]' http://$HTTP/api/v1/blocklist/batch)
	blocked "$SRC_API" && [ "$(probe "$SRC_API" OPTIONS test x@example.net)" = none ] || a="$a(not effective)"
	d=$(api -o /dev/null -w '%{http_code}' -X DELETE -H "$H" http://$HTTP/api/v1/blocklist/$SRC_API)
	if [ "$a$b$d" = 201201200 ] && ! blocked "$SRC_API" &&
		[ "$(api -H "$H" http://$HTTP/api/v1/blocklist | jq '[.[] | select(.cidr == "192.0.2.0/28" and .permanent)] | length')" = 1 ] &&
		[ "$(probe "$SRC_API" OPTIONS test x@example.net)" = "200 OK" ]; then
		pass api_blocklist
	else
		fail api_blocklist "add $a batch $b delete $d: $(api -H "$H" http://$HTTP/api/v1/blocklist)"
	fi
	local t f c
	t=$(api -H "$H" http://$HTTP/api/v1/trusted | jq -r '.[] | select(.source == "sigd") | .cidr')
	f=$(api -H "$H" -o /dev/null -w '%{http_code}' http://$HTTP/api/v1/flows)
	c=$(api -H "$H" -o /dev/null -w '%{http_code}' http://$HTTP/api/v1/calls)
	[ "$t" = 198.51.100.0/24 ] && [ "$f$c" = 200200 ] && pass api_listings ||
		fail api_listings "trusted '$t', flows $f, calls $c"
}

# http_raw BYTES: send BYTES (printf format) to the HTTP listener; prints the status code.
http_raw() {
	in_ns "$NS_E" python3 -c '
import socket, sys
s = socket.create_connection(("'${HTTP%:*}'", '${HTTP#*:}'), timeout=3)
s.sendall(sys.argv[1].encode().decode("unicode_escape").encode("latin-1"))
try:
    print(s.recv(200).decode(errors="replace").split(" ")[1])
except Exception:
    print("none")' "$1"
}

test_api_robust() {
	local big bad r pid
	big=$(http_raw "POST /api/v1/blocklist HTTP/1.1\r\nAuthorization: Bearer $TOKEN\r\nContent-Length: 99999999\r\n\r\n")
	bad=$(http_raw "BLAH\r\n\r\n")
	# A client that sends half a request and waits does not stall SIP.
	in_ns "$NS_E" python3 -c '
import socket, time
s = socket.create_connection(("'${HTTP%:*}'", '${HTTP#*:}'))
s.sendall(b"GET /metrics HTTP/1.1\r\n")
time.sleep(3)' &
	pid=$!
	sleep 0.3
	r=$(probe 203.0.113.47 OPTIONS test x@example.net)
	wait $pid
	if [ "$big" = 413 ] && [ "$bad" = 400 ] && [ "$r" = "200 OK" ] && kill -0 "$SIGD_PID"; then
		pass api_robust
	else
		fail api_robust "huge body $big, bad request $bad, SIP during a stalled client '$r'"
	fi
}

test_garbage() {
	local n r
	n=$(in_ns "$NS_N" python3 "$TOPO_WORK/sip.py" corpus $EDGE_IP 203.0.113.)
	sleep 0.5
	r=$(probe 203.0.113.49 OPTIONS test x@example.net)
	uac after_garbage 203.0.113.48 carol beta.example 1 200
	wait "$UAC_PID"
	if kill -0 "$SIGD_PID" 2>/dev/null && [ "$r" = "200 OK" ] && [ "$(answers after_garbage)" = "200 200" ]; then
		pass garbage_survived
	else
		fail garbage_survived "$n sent; sigd alive: $(kill -0 "$SIGD_PID" 2>/dev/null && echo yes || echo no); OPTIONS '$r'; call '$(answers after_garbage)'"
	fi
}

test_metrics() {
	local m
	m=$(api -H "Authorization: Bearer $TOKEN" http://$HTTP/metrics)
	if grep -Eq '^xdpsbc_policy_refusals_total\{reason="invalid-ip"\} [1-9]' <<<"$m" &&
		grep -Eq '^xdpsbc_packets_total\{reason="drop-blocklist",action="drop"\} [1-9]' <<<"$m" &&
		grep -Eq '^xdpsbc_calls\{company="acme",brand="big"\} 0' <<<"$m" &&
		grep -Eq '^xdpsbc_policy_blocks_total\{cause="scanner"\} [1-9]' <<<"$m" &&
		grep -Eq '^xdpsbc_bans_total [0-9]' <<<"$m"; then
		pass metrics
	else
		fail metrics "$(grep -E 'invalid-ip|drop-blocklist|xdpsbc_calls|scanner|bans_total' <<<"$m")"
	fi
}

acme_max() { ctl -j policy | jq '.companies[] | select(.name == "acme") | .max_calls'; }

test_reload() {
	# SIGHUP applies the edited file: acme's limit goes from 2 calls to 1.
	sed -i 's/^max-calls = 2$/max-calls = 1/' "$TOPO_WORK/sigd.conf"
	kill -HUP "$SIGD_PID"
	if topo_wait 3 sh -c "[ \"\$(nsenter --net=/run/netns/$NS_E $XS -j policy --ctl $TOPO_WORK/ctl.sock | jq '.companies[] | select(.name == \"acme\") | .max_calls')\" = 1 ]"; then
		pass reload
	else
		fail reload "$(ctl policy)"
	fi
	# A broken file is refused and the running policy stays.
	cp "$TOPO_WORK/sigd.conf" "$TOPO_WORK/sigd.conf.good"
	printf '[company broken]\nbrand = nosuchbrand\ndomains = broken.example\n' >>"$TOPO_WORK/sigd.conf"
	kill -HUP "$SIGD_PID"
	topo_wait 3 sh -c "grep -q 'reload: config rejected' $TOPO_WORK/sigd.log.*"
	if kill -0 "$SIGD_PID" && [ "$(acme_max)" = 1 ] &&
		[ "$(ctl -j policy | jq '[.companies[] | select(.name == "broken")] | length')" = 0 ]; then
		pass reload_rejected
	else
		fail reload_rejected "$(ctl policy)"
	fi
	cp "$TOPO_WORK/sigd.conf.good" "$TOPO_WORK/sigd.conf"
}

test_ctl_socket() {
	local mode
	mode=$(stat -c %a "$TOPO_WORK/ctl.sock" 2>/dev/null)
	[ "$mode" = 600 ] && pass ctl_socket_mode || fail ctl_socket_mode "mode '$mode'"
}

main() {
	local why t0=$SECONDS ip

	if ! why=$(need); then
		for t in ctl_socket_mode authorised_source unauthorised_source unauthorised_source_tcp unauthorised_register \
			road_warrior company_limit brand_limit cli_calls_policy calls_uncounted scanner \
			bruteforce_block_expiry api_token_refused api_blocklist api_listings api_robust \
			garbage_survived flood_calls_complete flood_ban_reported metrics reload reload_rejected; do
			skip $t "$why"
		done
		exit 0
	fi
	topo_up || { fail topology "could not build the namespaces"; exit 1; }
	for ip in $(seq 21 30) $(seq 40 49); do
		ip -n "$NS_N" addr add 203.0.113.$ip/24 dev n1
	done
	topo_attach_edge "${E2E_XDP_MODE:-native}" >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail topology "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	write_conf
	write_helper
	sigd_start --config "$TOPO_WORK/sigd.conf" ||
		{ fail topology "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	bg_ns "$NS_K" "$TOPO_WORK/uas.log" sipp -sf "$SCEN/policy_uas.xml" -i $CORE_IP -p 5060 \
		-nostdin -trace_msg -message_file "$TOPO_WORK/uas.msg"
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E curl -s -m 1 -o /dev/null http://$HTTP/"

	for t in ${POLICY_CASES:-ctl_socket authorised unauthorised road_warrior limits scanner bruteforce api_token api_robust garbage flood metrics reload}; do
		"test_$t"
	done
	kill -0 "$SIGD_PID" 2>/dev/null || fail sigd_alive "sigd died: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"
	echo "# e2e policy took $((SECONDS - t0)) s${TOPO_KEEP:+; logs kept in $TOPO_WORK}"
}

main "$@"
