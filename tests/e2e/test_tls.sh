#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# SIP over TLS against the real xdpsbc-sigd in the e2e topology, with
# python's ssl module as the TLS peer (Debian's sipp has no TLS). The edge
# listens for TLS on 203.0.113.1:5061 with a certificate from a CA the test
# makes with openssl, and verifies client certificates against that CA.
# A client with a good certificate gets its OPTIONS answered and calls the
# core (INVITE, ACK, BYE through the Record-Route set; the core is sipp over
# UDP). Then, while a UDP call with RTP runs through the edge: a client
# certificate from another CA, an expired client certificate, plain TCP on
# the TLS port and a handshake that never starts are each refused (the
# stalled one closed after the message timeout), a good client is served
# meanwhile, the failures are logged with the peer's address, and the call's
# media is complete. Last, the edge as a TLS client: a core reached over
# ;transport=tls that presents a certificate from the CA gets the REGISTER of
# a UDP client, one with a certificate from another CA gets nothing.
# Prints PASS/FAIL/SKIP lines.
set -u
source "$(dirname "$0")/topo.sh"
source "$(dirname "$0")/tls_certs.sh"

TLS_SIP=${TLS_SIP:-$TOPO_DIR/../tools/tls_sip.py}
NPKT=150

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$RTP_PEER" "$XDP_TRIVIAL" "$TLS_SIP"; do
		[ -x "$what" ] || [ -f "$what" ] || { echo "$what not built"; return 1; }
	done
	command -v sipp >/dev/null || { echo "sipp missing"; return 1; }
	command -v openssl >/dev/null || { echo "openssl missing"; return 1; }
	python3 -c 'import ssl' 2>/dev/null || { echo "python3 ssl missing"; return 1; }
	return 0
}

tls() { # MODE [ARGS...]: the python TLS client in the NAT namespace (outside address)
	local mode=$1
	shift
	in_ns "$NS_N" timeout 30 python3 "$TLS_SIP" $EDGE_IP 5061 "$mode" --ca "$C/ca.crt" "$@"
}

good() { tls "$1" --cert "$C/client.crt" --key "$C/client.key" "${@:2}"; }

test_good_client() {
	local out d=$TOPO_WORK/tls_call

	out=$(good options)
	[ "$out" = 200 ] && pass tls_options || fail tls_options "OPTIONS over TLS: $out"
	uas_start "$d" 20 uas_media.xml
	out=$(good invite)
	wait "$UAS_PID"
	if [ "$out" = "invite=200 bye=200" ]; then
		pass tls_call
	else
		fail tls_call "$out; core: $(tail -n 3 "$d/uas.err" "$d/uas.log" 2>/dev/null | tr '\n' ' ')"
	fi
}

test_refusals_beside_call() {
	local d=$TOPO_WORK/tls_beside out stall_pid stall_out=$TOPO_WORK/stall.out t

	# The first call's media tool inherited sipp's SIP socket: let it finish.
	topo_wait 15 sh -c "! nsenter --net=/run/netns/$NS_K ss -Hlun 'sport = :5060' | grep -q 5060"
	call_start "$d" $NPKT
	sleep 1
	# A handshake that never starts holds its slot until the message timeout (2 s here).
	in_ns "$NS_N" timeout 30 python3 "$TLS_SIP" $EDGE_IP 5061 stall >"$stall_out" &
	stall_pid=$!
	sleep 0.3
	out=$(good options)
	[ "$out" = 200 ] && pass tls_served_beside_stall || fail tls_served_beside_stall "OPTIONS while a handshake stalls: $out"
	out=$(tls options --cert "$C/wrong.crt" --key "$C/wrong.key")
	[ "${out%%:*}" = handshake-failed ] && pass tls_wrong_cert || fail tls_wrong_cert "a certificate from another CA: $out"
	out=$(tls options --cert "$C/old.crt" --key "$C/old.key")
	[ "${out%%:*}" = handshake-failed ] && pass tls_expired_cert || fail tls_expired_cert "an expired certificate: $out"
	out=$(tls options)
	[ "${out%%:*}" = handshake-failed ] && pass tls_no_cert || fail tls_no_cert "no client certificate: $out"
	out=$(tls plain)
	[ "$out" = closed ] && pass tls_plain_tcp || fail tls_plain_tcp "plain SIP on the TLS port: $out"
	wait "$stall_pid"
	t=$(cat "$stall_out")
	if [ -n "$t" ] && awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t <= 5) }'; then
		pass tls_stalled_handshake
	else
		fail tls_stalled_handshake "a silent TLS client was closed after ${t:-?} s (message timeout 2 s)"
	fi
	call_wait "$d"
	if [ "$UAC_RC" != 0 ] || [ "$UAS_RC" != 0 ]; then
		fail tls_call_unaffected "sipp caller rc=$UAC_RC callee rc=$UAS_RC"
	elif [ "$(rtp "$d" caller unique)" != $NPKT ] || [ "$(rtp "$d" callee unique)" != $NPKT ]; then
		fail tls_call_unaffected "RTP: caller got $(rtp "$d" caller unique), callee $(rtp "$d" callee unique) of $NPKT"
	else
		pass tls_call_unaffected
	fi
	if grep -q "tls $NAT_OUT_IP:[0-9]*: handshake failed" "$TOPO_WORK"/sigd.log.*; then
		pass tls_failure_logged
	else
		fail tls_failure_logged "no handshake failure with the peer address in the log"
	fi
}

# register_via_tls_core NAME CERT WANT(ok|refused): the edge reaches a TLS core
# presenting CERT; a UDP client's REGISTER gets 200 only when it verifies.
register_via_tls_core() {
	local name=$1 cert=$2 want=$3 d=$TOPO_WORK/$1 core_pid rc n

	mkdir -p "$d"
	in_ns "$NS_K" python3 "$TLS_SIP" $CORE_IP 5061 serve --cert "$C/$cert" --key "$C/core.key" \
		--timeout 12 >"$d/core.out" 2>&1 &
	core_pid=$!
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hltn 'sport = :5061' | grep -q 5061"
	sigd_start --upstream "sip:$CORE_IP:5061;transport=tls" --tls-ca "$C/ca.crt" ||
		{ fail "$name" "sigd did not start"; kill "$core_pid"; return; }
	in_ns "$NS_C" sipp -sf "$SCEN/uac_register.xml" -i $CALLER_IP -p 5066 -m 1 -nostdin \
		-timeout 6s -timeout_error $EDGE_IP:5060 >"$d/uac.log" 2>&1
	rc=$?
	sigd_stop
	wait "$core_pid"
	n=$(sed -n 's/^requests=//p' "$d/core.out")
	if [ "$want" = ok ]; then
		[ "$rc" = 0 ] && [ "${n:-0}" -ge 1 ] && pass "$name" ||
			fail "$name" "REGISTER through the TLS core: sipp rc=$rc, core saw ${n:-?} requests: $(cat "$d/core.out")"
	elif [ "$rc" = 0 ] || [ "${n:-0}" != 0 ]; then
		fail "$name" "a core with a certificate of another CA got ${n:-?} requests (sipp rc=$rc)"
	elif ! grep -q "tls $CORE_IP:5061: handshake failed: certificate" "$TOPO_WORK/sigd.log.$SIGD_RUNS"; then
		fail "$name" "refusal not logged: $(grep -i tls "$TOPO_WORK/sigd.log.$SIGD_RUNS" | tail -n 2)"
	else
		pass "$name"
	fi
}

main() {
	local why

	why=$(need) || { skip tls "$why"; exit 0; }
	topo_up || { fail tls "topology"; exit 1; }
	C=$TOPO_WORK/certs
	make_certs "$C" >"$TOPO_WORK/certs.log" 2>&1 || { fail tls "certificates: $(tail -n 3 "$TOPO_WORK/certs.log")"; exit 1; }
	topo_attach_edge "${E2E_XDP_MODE:-native}" || { fail tls "attach"; exit 1; }
	sigd_start --listen-tls $EDGE_IP:5061 --tls-cert "$C/edge.crt" --tls-key "$C/edge.key" \
		--tls-ca "$C/ca.crt" --tcp-message-timeout 2s ||
		{ fail tls "sigd did not start: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E ss -Hltn 'sport = :5061' | grep -q 5061" ||
		{ fail tls "no TLS listener: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	test_good_client
	test_refusals_beside_call
	sigd_stop
	register_via_tls_core tls_upstream_verified core.crt ok
	register_via_tls_core tls_upstream_wrong_ca badcore.crt refused
	[ "${TOPO_KEEP:-}" ] && echo "kept: $TOPO_WORK"
	exit "$((${TOPO_FAILED:-0} > 0))"
}
main "$@"
