#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A deployable edge, in namespaces: the edge is a host as it comes (its
# sysctls the kernel's defaults: forwarding off, no firewall of the test's
# own), and xdpsbc is set up with README.md's command lines, adapted only in
# interface names (this edge's addresses are the README's).
#
#   readme_audio        README's sequence; a call with RTP both ways relayed
#   forwarding_guard    sigd turned forwarding on for e0/e1 only, behind its
#                       guard: the edge still routes nothing; a flushed guard
#                       is put back
#   readiness_status    `xdpsbc status` says the relay can forward (text, -j)
#   forwarding_require  forwarding = require refuses with the sysctl named
#   noroute_warning     forwarding = off: the call's media is dropped, sigd
#                       warns with the Call-ID, status shows drop-no-route
#   instances_apart     a second instance on another pin root has its own
#                       state dir and restores none of the first's dialogs
#   state_dir_locked    a second sigd on the same state dir refuses to start
#   notify_ready        READY=1 to $NOTIFY_SOCKET only once SIP answers;
#                       RELOADING=1/READY=1 around SIGHUP, STOPPING=1
#   unload_restores     `xdpsbc unload` turns forwarding back off, unguarded
#
#   TOPO_KEEP=1  keep the logs
set -u
# shellcheck disable=SC2034 # read by topo_up
TOPO_SYSCTLS=default
source "$(dirname "$0")/topo.sh"

NPKT=100 # per direction, 20 ms apart
INST_DIR= # the state dir sigd derives from the pin root (under /run)

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$RTP_PEER" "$XDP_TRIVIAL"; do
		[ -x "$what" ] || [ -f "$what" ] || { echo "$what not built"; return 1; }
	done
	for what in sipp nft jq python3; do
		command -v $what >/dev/null || { echo "$what missing"; return 1; }
	done
	return 0
}

fwd_of() { in_ns "$NS_E" cat /proc/sys/net/ipv4/conf/"$1"/forwarding; }

# The README's sigd line, verbatim but for the interface (eth0 -> e0).
# Stops the one a previous case left running.
readme_sigd() {
	[ -n "${SIGD_PID:-}" ] && sigd_stop
	bg_ns "$NS_E" "$TOPO_WORK/sigd.log.$((++SIGD_RUNS))" "$XS_SIGD" --config none --iface e0 \
		--public-ip 203.0.113.1 --listen 203.0.113.1:5060 \
		--upstream sip:198.51.100.10:5060 --rtp-ports 20000-29999 --foreground "$@"
	SIGD_PID=$BG_PID
	SIGD_LOG=$TOPO_WORK/sigd.log.$SIGD_RUNS
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E ss -Hlun 'sport = :5060' | grep -q 5060"
}

media_ok() { # dir: both ends got every packet the other sent
	[ "$(rtp "$1" caller unique)" = $NPKT ] && [ "$(rtp "$1" callee unique)" = $NPKT ]
}

test_readme_audio() {
	local d=$TOPO_WORK/readme f

	for f in all default e0 e1; do
		if [ "$(fwd_of $f)" != 0 ]; then
			fail readme_audio "net.ipv4.conf.$f.forwarding is $(fwd_of $f) before xdpsbc: not a default host"
			return
		fi
	done
	# "Using it": the commands before sigd, in order (e1 is the core arm).
	{
		in_ns "$NS_E" "$XS" attach e1 &&
			in_ns "$NS_E" "$XS" media ipv4-only on &&
			in_ns "$NS_E" "$XS" block add 192.0.2.0/24 --for 1h --reason "SIP scanner" &&
			in_ns "$NS_E" "$XS" trust add 198.51.100.0/24 &&
			in_ns "$NS_E" "$XS" stats
	} >"$TOPO_WORK/readme.log" 2>&1 || {
		fail readme_audio "README commands: $(tail -n 3 "$TOPO_WORK/readme.log")"
		return 1
	}
	readme_sigd || { fail readme_audio "sigd did not start: $(tail -n 5 "$SIGD_LOG")"; return 1; }
	call_start "$d" $NPKT
	sleep 1
	in_ns "$NS_E" "$XS" flows >"$d/flows.txt" 2>&1
	call_wait "$d"
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail readme_audio "sipp caller rc=$UAC_RC callee rc=$UAS_RC"
	elif ! media_ok "$d"; then
		fail readme_audio "media: caller got $(rtp "$d" caller unique)/$NPKT, callee $(rtp "$d" callee unique)/$NPKT; drop-no-route $(xs_stat drop-no-route)"
	elif [ "$(xs_stat relay-redirect)" -lt $((2 * NPKT)) ]; then
		fail readme_audio "relay-redirect $(xs_stat relay-redirect), want >= $((2 * NPKT))"
	elif ! grep -q . "$d/flows.txt"; then
		fail readme_audio "xdpsbc flows printed nothing"
	else
		pass readme_audio
	fi
	# "Inspecting it": the same tools on this run's pin root.
	if ! in_ns "$NS_E" bpftool map dump pinned "$XDPSBC_PIN_ROOT/xs_block4" >/dev/null 2>&1 ||
		! in_ns "$NS_E" bpftool map dump pinned "$XDPSBC_PIN_ROOT/xs_stats" >/dev/null 2>&1 ||
		! in_ns "$NS_E" bpftool prog show name xdpsbc >/dev/null 2>&1; then
		fail readme_inspect "bpftool on the pins failed"
	elif command -v xdp-loader >/dev/null && ! in_ns "$NS_E" xdp-loader status e0 2>&1 | grep -q xdpsbc; then
		fail readme_inspect "xdp-loader status e0 does not show xdpsbc"
	else
		pass readme_inspect
	fi
}

test_forwarding_guard() {
	local got rules

	rules=$(in_ns "$NS_E" nft -j list table ip xdpsbc_guard 2>/dev/null |
		jq -r '[.nftables[] | .rule? | objects | .comment] | sort | join(",")')
	if [ "$(fwd_of e0)" != 1 ] || [ "$(fwd_of e1)" != 1 ]; then
		fail forwarding_guard "forwarding e0=$(fwd_of e0) e1=$(fwd_of e1), want 1 on both"
		return
	fi
	if [ "$(fwd_of all)" != 0 ] || [ "$(fwd_of lo)" != 0 ] || [ "$(in_ns "$NS_E" sysctl -n net.ipv4.ip_forward)" != 0 ]; then
		fail forwarding_guard "forwarding changed beyond the relay interfaces"
		return
	fi
	if [ "$rules" != "xdpsbc forwarding guard: e0,xdpsbc forwarding guard: e1" ]; then
		fail forwarding_guard "guard rules: '$rules'"
		return
	fi
	# Something for another host, sent to the edge as a gateway, must not
	# get across (it would, without the guard: checked below).
	got=$(guard_probe)
	if [ "$got" != none ]; then
		fail forwarding_guard "the edge routed a datagram from the NAT to the core"
		return
	fi
	# Without the guard the same datagram does get across (so the check
	# proves something); a sigd started then sees forwarding on, knows from
	# its state dir that it set it, and puts the guard back first.
	sigd_stop
	in_ns "$NS_E" nft delete table ip xdpsbc_guard
	got=$(guard_probe)
	readme_sigd
	if [ "$got" = none ]; then
		fail forwarding_guard "probe not routed even without the guard: the check proves nothing"
		return
	elif ! in_ns "$NS_E" nft list table ip xdpsbc_guard 2>/dev/null | grep -q 'iifname "e0"' ||
		! grep -q "e0: net.ipv4.conf.e0.forwarding is 1 as sigd left it" "$SIGD_LOG"; then
		fail forwarding_guard "sigd restarted over its forwarding without the guard: $(head -n 12 "$SIGD_LOG")"
		return
	elif [ "$(guard_probe)" != none ]; then
		fail forwarding_guard "routed after sigd restarted over its forwarding: $(in_ns "$NS_E" nft list table ip xdpsbc_guard 2>&1 | tr '\n\t' '  ')"
		return
	fi
	# A ruleset flush (nftables.service reload) while sigd runs takes the
	# guard away but not the sysctl: sigd notices and puts it back.
	in_ns "$NS_E" nft delete table ip xdpsbc_guard
	if ! topo_wait 8 grep -q 'forwarding guard (table ip xdpsbc_guard) was removed' "$SIGD_LOG"; then
		fail forwarding_guard "sigd did not restore the guard: $(tail -n 3 "$SIGD_LOG")"
	elif [ "$(guard_probe)" != none ]; then
		fail forwarding_guard "routed after sigd restored the guard"
	else
		pass forwarding_guard
	fi
}

# guard_probe: a datagram from the NAT namespace to the core's address (the
# NAT's default route is the edge): prints what the core received, or none.
guard_probe() {
	local out=$TOPO_WORK/probe.out lp

	rm -f "$out"
	in_ns "$NS_K" timeout 4 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9999))
s.settimeout(1.5)
try:
    print(s.recv(100).decode())
except socket.timeout:
    print("none")
' >"$out" &
	lp=$!
	# Sent once the listener is bound, three times: a loaded machine is no "not routed".
	topo_wait 3 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :9999' | grep -q 9999"
	for _ in 1 2 3; do
		in_ns "$NS_N" bash -c "echo routed >/dev/udp/$CORE_IP/9999"
		sleep 0.1
	done
	wait $lp
	cat "$out"
}

test_readiness_status() {
	local j t

	j=$(in_ns "$NS_E" "$XS" status -j 2>&1)
	t=$(in_ns "$NS_E" "$XS" status 2>&1)
	if ! jq -e '[.readiness[] | select(.name == "e0" or .name == "e1") |
		select(.forwarding == true and .guarded == true and .can_relay == true)] | length == 2' \
		<<<"$j" >/dev/null; then
		fail readiness_status "status -j readiness: $(jq -c .readiness <<<"$j")"
	elif ! grep -q '^readiness:' <<<"$t" || ! grep -Eq '^  e0 +ready' <<<"$t"; then
		fail readiness_status "status text: $(grep -A3 readiness <<<"$t")"
	else
		pass readiness_status
	fi
}

test_forwarding_require() {
	local rc log

	sigd_stop
	in_ns "$NS_E" nft delete table ip xdpsbc_guard
	in_ns "$NS_E" sysctl -qw net.ipv4.conf.e0.forwarding=0 net.ipv4.conf.e1.forwarding=0
	log=$TOPO_WORK/require.log
	in_ns "$NS_E" timeout 10 "$XS_SIGD" --config none --iface e0 --public-ip 203.0.113.1 \
		--listen 203.0.113.1:5060 --upstream sip:198.51.100.10:5060 --rtp-ports 20000-29999 \
		--foreground --forwarding require >"$log" 2>&1
	rc=$?
	if [ $rc != 1 ]; then
		fail forwarding_require "exit $rc, want 1: $(tail -n 3 "$log")"
	elif ! grep -q 'net.ipv4.conf.e0.forwarding is 0' "$log"; then
		fail forwarding_require "no line naming net.ipv4.conf.e0.forwarding: $(cat "$log")"
	elif [ "$(fwd_of e0)" != 0 ] || in_ns "$NS_E" nft list table ip xdpsbc_guard >/dev/null 2>&1; then
		fail forwarding_require "require changed the host (e0 forwarding $(fwd_of e0))"
	else
		pass forwarding_require
	fi
}

test_noroute_warning() {
	local d=$TOPO_WORK/noroute cid j

	readme_sigd --forwarding off || { fail noroute_warning "sigd did not start"; return; }
	call_start "$d" 150
	call_wait "$d"
	cid=$(sip_msg "$d/uac.msg" sent '^INVITE' | sed -n 's/^Call-ID: *//Ip' | tr -d '\r' | head -n 1)
	j=$(in_ns "$NS_E" "$XS" status -j 2>&1)
	if ! grep -q 'forwarding = off' "$SIGD_LOG"; then
		fail noroute_warning "no start-up warning about forwarding = off: $(head -n 20 "$SIGD_LOG")"
	elif [ -z "$cid" ] || ! grep -F "$cid" "$SIGD_LOG" | grep -q 'no route'; then
		fail noroute_warning "no no-route warning with Call-ID '$cid': $(grep -i route "$SIGD_LOG")"
	elif [ "$(grep -F "$cid" "$SIGD_LOG" | grep -c 'no route')" -gt 2 ]; then
		fail noroute_warning "warning not rate-limited: $(grep -cF "$cid" "$SIGD_LOG") lines"
	elif ! jq -e '[.readiness[] | select(.name == "e0")][0] |
		.forwarding == false and .can_relay == false and .drop_no_route_last_minute > 0' \
		<<<"$j" >/dev/null; then
		fail noroute_warning "status readiness: $(jq -c .readiness <<<"$j")"
	else
		pass noroute_warning
	fi
	sigd_stop
}

# A second instance: its own namespace, its own pin root, no iface. It
# starts while the first has a call up (its dialog on disk), restores none
# of it and keeps its state elsewhere; the first, restarted, restores it.
test_instances_apart() {
	local d=$TOPO_WORK/inst nsb=${TOPO_PREFIX}-b logb=$TOPO_WORK/sigd-b.log pidb r0

	ip netns add "$nsb" && ip -n "$nsb" link set lo up
	readme_sigd || { fail instances_apart "sigd A did not start"; return; }
	r0=$(xs_stat relay-redirect)
	call_start "$d" 400 # 8 s: the dialog is up while B starts
	# Answered and media flowing (a restart during the INVITE transaction would lose it).
	topo_wait 8 sh -c "[ \$(nsenter --net=/run/netns/$NS_E $XS stats -j | jq '[.. | objects | select((.name? // .reason?) == \"relay-redirect\") | .packets] | first // 0') -gt $((r0 + 20)) ]"
	topo_wait 3 grep -q . "$INST_DIR/dialogs"
	XDPSBC_PIN_ROOT=$XDPSBC_PIN_ROOT-b nsenter --net=/run/netns/"$nsb" "$XS_SIGD" --config none \
		--datapath xdp --public-ip 192.0.2.50 --listen 127.0.0.1:5060 \
		--upstream sip:127.0.0.1:5080 --foreground >"$logb" 2>&1 &
	pidb=$!
	TOPO_PIDS+=("$pidb")
	topo_wait 5 grep -q 'listening on' "$logb"
	kill -TERM $pidb
	wait $pidb 2>/dev/null
	sigd_stop
	local kept
	kept=$(grep -c call_id "$INST_DIR/dialogs" 2>/dev/null)
	readme_sigd || echo "# sigd A restarted slowly: $(tail -n 3 "$SIGD_LOG" | tr '\n' ' ')"
	call_wait "$d"
	if ! grep -q "listening on" "$logb"; then
		fail instances_apart "sigd B did not start: $(tail -n 5 "$logb")"
	elif grep -q 'dialogs restored' "$logb"; then
		fail instances_apart "B restored A's dialogs: $(grep restored "$logb")"
	elif [ ! -e "/run/$(basename "$XDPSBC_PIN_ROOT")-b/sigd.lock" ] || [ ! -e "$INST_DIR/sigd.lock" ]; then
		fail instances_apart "state dirs: $(ls -d /run/"$(basename "$XDPSBC_PIN_ROOT")"* 2>&1 | tr '\n' ' ')"
	elif ! grep -q '^.*1 dialogs restored' "$SIGD_LOG"; then
		fail instances_apart "A did not restore its own dialog ($kept records in its journal at the stop): $(grep -i dialog "$SIGD_LOG"; tail -n 4 "$SIGD_LOG" | tr '\n' ' ')"
	elif [ "$(rtp "$d" caller unique)" != 400 ] || [ "$(rtp "$d" callee unique)" != 400 ]; then
		fail instances_apart "A's call lost media: caller $(rtp "$d" caller unique), callee $(rtp "$d" callee unique)"
	else
		pass instances_apart
	fi
	sigd_stop
	XDPSBC_PIN_ROOT=$XDPSBC_PIN_ROOT-b nsenter --net=/run/netns/"$nsb" "$XS" unload >/dev/null 2>&1
	rm -rf "/run/$(basename "$XDPSBC_PIN_ROOT")-b" "$XDPSBC_PIN_ROOT-b"
	ip netns del "$nsb"
}

test_state_dir_locked() {
	local log=$TOPO_WORK/second.log rc nsb=${TOPO_PREFIX}-c

	readme_sigd || { fail state_dir_locked "sigd A did not start"; return; }
	ip netns add "$nsb" && ip -n "$nsb" link set lo up
	# Same pin root, so the same derived state dir, in another namespace.
	nsenter --net=/run/netns/"$nsb" timeout 10 "$XS_SIGD" --config none --datapath xdp \
		--public-ip 192.0.2.50 --listen 127.0.0.1:5060 --upstream sip:127.0.0.1:5080 \
		--foreground >"$log" 2>&1
	rc=$?
	ip netns del "$nsb"
	if [ $rc != 1 ] || ! grep -q "state dir $INST_DIR is in use by xdpsbc-sigd pid $SIGD_PID" "$log"; then
		fail state_dir_locked "second sigd: exit $rc: $(cat "$log")"
	elif ! kill -0 "$SIGD_PID" 2>/dev/null; then
		fail state_dir_locked "the first sigd died"
	else
		pass state_dir_locked
	fi
	sigd_stop
}

test_notify_ready() {
	local out=$TOPO_WORK/notify.out

	in_ns "$NS_E" timeout 30 python3 - "$TOPO_WORK/notify.sock" "$XS_SIGD" "$TOPO_WORK/sigd-notify.log" >"$out" 2>&1 <<-'PY'
		import os, signal, socket, subprocess, sys, time
		path, sigd, log = sys.argv[1:4]
		ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		ns.bind(path)
		ns.settimeout(10)
		env = dict(os.environ, NOTIFY_SOCKET=path)
		p = subprocess.Popen([sigd, "--config", "none", "--iface", "e0", "--public-ip",
			"203.0.113.1", "--listen", "203.0.113.1:5060", "--upstream",
			"sip:198.51.100.10:5060", "--rtp-ports", "20000-29999", "--foreground"],
			env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
		def answers():
		    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    u.settimeout(1)
		    u.bind(("203.0.113.1", 0))
		    port = u.getsockname()[1]
		    u.sendto(("OPTIONS sip:203.0.113.1 SIP/2.0\r\n"
		              "Via: SIP/2.0/UDP 203.0.113.1:%d;branch=z9hG4bK-ready1\r\n"
		              "Max-Forwards: 0\r\nFrom: <sip:t@203.0.113.1>;tag=1\r\n"
		              "To: <sip:203.0.113.1>\r\nCall-ID: ready-1\r\nCSeq: 1 OPTIONS\r\n"
		              "Content-Length: 0\r\n\r\n" % port).encode(), ("203.0.113.1", 5060))
		    try:
		        return u.recv(2000).split(b"\r\n")[0].decode()
		    except socket.timeout:
		        return "no answer"
		def expect(word):
		    while True:
		        m = ns.recv(4096).decode()
		        print("got", m.replace("\n", " | "))
		        if word in m.split("\n"):
		            return m
		m = expect("READY=1")
		print("at READY: sip", answers())
		p.send_signal(signal.SIGHUP)
		expect("RELOADING=1")
		expect("READY=1")
		print("after reload: sip", answers())
		p.send_signal(signal.SIGTERM)
		expect("STOPPING=1")
		print("exit", p.wait(10))
	PY
	if ! grep -q '^at READY: sip SIP/2.0 200' "$out"; then
		fail notify_ready "SIP did not answer at READY=1: $(cat "$out")"
	elif ! grep -q '^after reload: sip SIP/2.0 200' "$out" || ! grep -q '^exit 0' "$out"; then
		fail notify_ready "reload/stop notifications: $(cat "$out")"
	elif grep -q 'READY=1' "$TOPO_WORK"/sigd.log.* 2>/dev/null; then
		fail notify_ready "READY printed without NOTIFY_SOCKET"
	else
		pass notify_ready
	fi
}

test_unload_restores() {
	local out

	readme_sigd --forwarding auto >/dev/null
	sigd_stop
	out=$(in_ns "$NS_E" "$XS" unload 2>&1)
	if [ "$(fwd_of e0)" != 0 ] || [ "$(fwd_of e1)" != 0 ]; then
		fail unload_restores "forwarding after unload: e0 $(fwd_of e0) e1 $(fwd_of e1): $out"
	elif in_ns "$NS_E" nft list table ip xdpsbc_guard >/dev/null 2>&1; then
		fail unload_restores "guard table left after unload"
	elif ! grep -q 'net.ipv4.conf.e0.forwarding back to 0' <<<"$out"; then
		fail unload_restores "unload did not say so: $out"
	else
		pass unload_restores
	fi
}

main() {
	local why t0=$SECONDS cases="readme_audio forwarding_guard readiness_status forwarding_require noroute_warning instances_apart state_dir_locked notify_ready unload_restores"

	if ! why=$(need); then
		for t in $cases; do skip "$t" "$why"; done
		exit 0
	fi
	INST_DIR=/run/$(basename "$XDPSBC_PIN_ROOT")
	trap 'topo_down; rm -rf "$INST_DIR"' EXIT
	topo_up || { fail topology "could not build the namespaces"; exit 1; }
	trap 'topo_down; rm -rf "$INST_DIR"' EXIT
	for t in ${E2E_CASES:-$cases}; do
		"test_$t"
	done
	echo "# deploy tests took $((SECONDS - t0)) s${TOPO_KEEP:+; logs kept in $TOPO_WORK}"
}

main "$@"
