#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# SIP over TLS with real peers on both sides of the edge (Debian's sipp has
# no TLS): baresip (TLS through libre/OpenSSL) is the client, Kamailio with
# its tls module the core. The edge listens for TLS on 203.0.113.1:5061 and
# [2001:db8:1::1]:5061, requires client certificates from the test's CA and
# reaches its upstream, Kamailio on 198.51.100.10, over ;transport=tls
# (IPv4 client) and as sips:198.51.100.10 (IPv6 clients).
# Kamailio is the registrar and relays calls to user "callee" to a sipp UAS
# on plain UDP behind it (198.51.100.11), which hangs up after the media.
#
# For each client (baresip behind the NAT on IPv4; baresip signalling over
# IPv6 from the NAT namespace's outside address, dual-stack; the same with
# baresip -6, IPv6 only): it registers over TLS
# (Kamailio logs the binding it saved, the edge's aliased Contact), calls
# callee, and the call sets up; RTP flows both ways through the XDP relay
# (the callee's RTP tool counts baresip's packets, an nft counter at the
# client counts the callee's, the edge's relay-redirect counter moved by at
# least both); the callee's BYE comes back through Kamailio and the edge to
# baresip over TLS and is answered (the sipp UAS exits 0 only then). Last,
# Kamailio calls the IPv4 client: a sipp UAC on UDP calls the registered
# AOR, Kamailio looks up the edge's Contact and reaches the edge over TLS,
# the edge routes to baresip on its own TLS connection (the alias), and
# baresip auto-answers, with RTP both ways. A baresip without a client
# certificate is refused in the handshake and never registers.
# An IPv6-only client calls with media ipv4-only off: its leg is anchored
# on the edge's IPv6 media address, the core's on the IPv4 one, and the XDP
# relay translates between them. Prints PASS/FAIL/SKIP lines.
set -u
source "$(dirname "$0")/topo.sh"
source "$(dirname "$0")/tls_certs.sh"

UAS_IP=198.51.100.11
NPKT=100 # RTP packets the callee sends (2 s at 20 ms)
BS_RTP=4100 # baresip's RTP port range start

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$RTP_PEER" "$XDP_TRIVIAL"; do
		[ -x "$what" ] || [ -f "$what" ] || { echo "$what not built"; return 1; }
	done
	for what in baresip kamailio sipp openssl jq nft; do
		command -v $what >/dev/null || { echo "$what missing (make deps)"; return 1; }
	done
	[ -e /usr/lib/baresip/modules/ausine.so ] || { echo "baresip modules missing"; return 1; }
	[ -n "$MPATH" ] || { echo "kamailio tls module missing (kamailio-tls-modules)"; return 1; }
	return 0
}
MPATH=$(dirname "$(find /usr/lib -name tls.so -path '*kamailio*' 2>/dev/null | head -n 1)" 2>/dev/null)
[ "$MPATH" = . ] && MPATH=

kamailio_start() {
	local k=$TOPO_WORK/kamailio

	mkdir -p "$k/run"
	cat >"$k/tls.cfg" <<-EOF
		[server:default]
		method = TLSv1.2+
		verify_certificate = no
		require_certificate = no
		certificate = $C/core.crt
		private_key = $C/core.key
		ca_list = $C/ca.crt

		[client:default]
		method = TLSv1.2+
		verify_certificate = yes
		require_certificate = yes
		certificate = $C/core.crt
		private_key = $C/core.key
		ca_list = $C/ca.crt
	EOF
	sed -e "s|@CORE@|$CORE_IP|g; s|@UAS@|$UAS_IP:5060|; s|@MPATH@|$MPATH/|; s|@TLSCFG@|$k/tls.cfg|" \
		"$TOPO_DIR/kamailio_tls.cfg" >"$k/kamailio.cfg"
	bg_ns "$NS_K" "$k/kamailio.log" kamailio -f "$k/kamailio.cfg" -DD -E -m 64 -M 8 -Y "$k/run"
	topo_wait 10 sh -c "nsenter --net=/run/netns/$NS_K ss -Hltn 'sport = :5061' | grep -q 5061"
}

# baresip_start NS DIR LOCAL AOR EXTRA...: baresip headless in NS with a
# config dir the test writes: SIP on LOCAL (IP:PORT or [IPv6]:PORT), the
# account AOR over TLS with the client certificate, a 440 Hz sine as the
# audio source, PCMU, auto-answer; EXTRA are more baresip options (-e
# commands). BS_CERT overrides the client certificate ("" for none).
# Sets BS_PID.
baresip_start() {
	local ns=$1 d=$2 local=$3 aor=$4
	shift 4

	mkdir -p "$d"
	cat >"$d/config" <<-EOF
		poll_method		epoll
		sip_listen		$local
		sip_certificate		${BS_CERT-$C/client.pem}
		sip_cafile		$C/ca.crt
		call_local_timeout	20
		audio_player		aubridge,nowhere
		audio_source		ausine,440
		ausrc_srate		48000
		ausrc_channels		2
		audio_alert		aubridge,nowhere
		rtp_ports		$BS_RTP-$((BS_RTP + 9))
		rtcp_mux		no
		module_path		/usr/lib/baresip/modules
		module			g711.so
		module			ausine.so
		module			aubridge.so
		module_tmp		account.so
		module_app		menu.so
	EOF
	echo "<$aor;transport=tls>;answermode=auto;audio_codecs=pcmu;regint=600" >"$d/accounts"
	: >"$d/contacts"
	bg_ns "$ns" "$d/baresip.log" baresip -f "$d" -s "$@"
	BS_PID=$BG_PID
}

# baresip_stop PID: a first SIGTERM un-registers and quits; a second one
# makes baresip stop at once instead of waiting for a transaction that
# cannot complete (its REGISTER over a refused connection).
baresip_stop() {
	kill -TERM "$1" 2>/dev/null
	topo_wait 2 sh -c "! kill -0 $1" || kill -TERM "$1" 2>/dev/null
	wait "$1"
}

# rtp_counter NS: count the UDP packets to and from the edge's media
# ports in NS (nft, table xsrtp): what the client got and sent.
rtp_counter() {
	in_ns "$1" nft -f - <<-EOF
		table inet xsrtp {
			counter got {}
			counter sent {}
			chain in {
				type filter hook input priority filter; policy accept;
				udp sport 20000-29999 udp dport $BS_RTP-$((BS_RTP + 9)) counter name got
			}
			chain out {
				type filter hook output priority filter; policy accept;
				udp dport 20000-29999 udp sport $BS_RTP-$((BS_RTP + 9)) counter name sent
			}
		}
	EOF
}

nft_count() { # NS COUNTER
	in_ns "$1" nft -j list counter inet xsrtp "$2" 2>/dev/null |
		jq -r '[.nftables[] | .counter? | objects | .packets] | first // 0'
}

# call_through NAME NS LOCAL EDGE_HOST MEDIA [BARESIP OPTIONS]: baresip in NS
# registers as NAME at the edge (EDGE_HOST: the address it dials, bracketed
# for IPv6) and calls callee; the UAS hangs up after the media. Checks
# register, setup, the BYE, and with MEDIA "relay" RTP both ways through the
# XDP relay.
call_through() {
	local name=$1 ns=$2 local=$3 host=$4 media=$5 d=$TOPO_WORK/$1 relay0 relay got sent rx uas_rc
	shift 5

	mkdir -p "$d"
	in_ns "$ns" nft delete table inet xsrtp 2>/dev/null
	rtp_counter "$ns" || { fail "$name" "nft counter"; return; }
	# The last call's RTP tool inherited sipp's SIP socket: let it finish.
	topo_wait 15 sh -c "! nsenter --net=/run/netns/$NS_K ss -Hlun 'src $UAS_IP:5060' | grep -q 5060"
	bg_ns "$NS_K" "$d/uas.log" sipp -sf "$SCEN/uas_bye.xml" -i $UAS_IP -p 5060 -m 1 \
		-d $((NPKT * 20 + 1500)) -nostdin -timeout 25s -timeout_error \
		-key mport 7078 -key out_dir "$d" \
		-key rtp_cmd "$RTP_PEER -W -n $NPKT -i 20 -t 12" \
		-trace_msg -message_file "$d/uas.msg" -trace_err -error_file "$d/uas.err"
	local uas_pid=$BG_PID
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_K ss -Hlun 'src $UAS_IP:5060' | grep -q 5060"
	relay0=$(xs_stat relay-redirect)
	baresip_start "$ns" "$d" "$local" "sip:$name@$host" -t 25 \
		-e "/dial sip:callee@$host" "$@"
	local bs_pid=$BS_PID
	wait "$uas_pid"
	uas_rc=$?
	# The call is over: baresip un-registers and quits on SIGTERM (-t bounds it).
	sleep 0.5
	baresip_stop "$bs_pid"
	# The callee's RTP tool ends 1 s after baresip's media stops.
	topo_wait 15 test -s "$d/callee-1.json"
	relay=$(($(xs_stat relay-redirect) - relay0))
	got=$(nft_count "$ns" got)
	sent=$(nft_count "$ns" sent)
	rx=$(rtp "$d" callee received)
	# baresip's Contact user is the AOR's with a suffix; the edge rebuilt
	# the Contact on its own TLS address with the signed alias of the client.
	if ! grep -Eq "core: registered sip:$name@.* at <sip:$name-[^@]*@$EDGE_IP:5061;transport=tls;alias=[^>]*~3~[0-9a-f]+>;expires=600 over tls" \
		"$TOPO_WORK/kamailio/kamailio.log"; then
		fail "${name}_register" "Kamailio saved no binding of $name through the edge: $(grep "core: " "$TOPO_WORK/kamailio/kamailio.log" | tail -n 3 | tr '\n' ' ')"
	elif ! grep -Eq '200 OK.*\[1 binding\]' "$d/baresip.log"; then
		fail "${name}_register" "baresip saw no 200 for its REGISTER: $(grep -i 'reg' "$d/baresip.log" | tail -n 2 | tr '\n' ' ')"
	else
		pass "${name}_register"
	fi
	if ! grep -q "Call established: sip:callee@" "$d/baresip.log"; then
		fail "${name}_call" "no call set up: $(tail -n 4 "$d/baresip.log" | tr '\n' ' ')"
		return
	fi
	pass "${name}_call"
	# The callee sends NPKT packets; baresip sends for the whole call.
	if [ "${rx:-0}" -lt $((NPKT / 2)) ] || [ "${got:-0}" -lt $((NPKT * 9 / 10)) ]; then
		fail "${name}_rtp" "callee got ${rx:-?} of baresip's packets (baresip sent $sent), baresip got $got of $NPKT"
	elif [ "$relay" -lt $((rx + got)) ]; then
		fail "${name}_rtp" "relay-redirect +$relay < $rx + $got: media not relayed in XDP"
	else
		pass "${name}_rtp"
		echo "  $name: baresip sent $sent got $got, callee got $rx, relay-redirect +$relay"
	fi
	# The callee's BYE reached baresip over TLS from the edge, and the UAS
	# got its 200 (sipp exits 0 only then).
	if [ "$uas_rc" = 0 ] && grep -F -A1 "TLS $host:5061 -> " "$d/baresip.log" | grep -q '^BYE sip:'; then
		pass "${name}_bye"
	else
		fail "${name}_bye" "callee rc=$uas_rc: $(tail -n 3 "$d/uas.err" "$d/uas.log" 2>/dev/null | tr '\n' ' ')"
	fi
}

# call_to_client NAME: the other way: baresip behind the NAT registers as
# NAME, and a sipp UAC in the core calls NAME through Kamailio, which finds
# the edge's Contact in its location table and reaches the edge over TLS;
# the edge follows the alias to baresip's own TLS connection (the client
# is behind a NAT: nothing else reaches it), baresip auto-answers, RTP flows
# both ways through the relay, the caller's BYE completes.
call_to_client() {
	local name=$1 d=$TOPO_WORK/$1 uac_rc relay0 relay got rx bs_pid port inv_port

	mkdir -p "$d"
	in_ns "$NS_C" nft delete table inet xsrtp 2>/dev/null
	rtp_counter "$NS_C" || { fail "$name" "nft counter"; return; }
	baresip_start "$NS_C" "$d" "$CALLER_IP:5070" "sip:$name@$EDGE_IP" -t 25
	bs_pid=$BS_PID
	if ! topo_wait 10 grep -q "core: registered sip:$name@.*expires=600" "$TOPO_WORK/kamailio/kamailio.log"; then
		fail "$name" "baresip did not register: $(tail -n 3 "$d/baresip.log" | tr '\n' ' ')"
		baresip_stop "$bs_pid"
		return
	fi
	relay0=$(xs_stat relay-redirect)
	in_ns "$NS_K" sipp -sf "$SCEN/uac_media.xml" -s "$name" -i $UAS_IP -p 5062 -m 1 \
		-d $((NPKT * 20 + 1500)) -nostdin -timeout 25s -timeout_error \
		-key mport 7080 -key out_dir "$d" -key rtp_cmd "$RTP_PEER -W -n $NPKT -i 20 -t 12" \
		-trace_msg -message_file "$d/uac.msg" -trace_err -error_file "$d/uac.err" \
		$CORE_IP:5060 >"$d/uac.log" 2>&1
	uac_rc=$?
	sleep 0.5
	baresip_stop "$bs_pid"
	topo_wait 15 test -s "$d/caller-1.json"
	relay=$(($(xs_stat relay-redirect) - relay0))
	got=$(nft_count "$NS_C" got)
	rx=$(rtp "$d" caller received)
	# The REGISTER left on baresip's connection, the INVITE came in on it.
	port=$(grep -F -A1 "TLS $CALLER_IP:" "$d/baresip.log" | grep -B1 '^REGISTER ' | sed -n 's/^TLS [0-9.]*:\([0-9]*\) -> .*/\1/p' | head -n 1)
	inv_port=$(grep -F -A1 "TLS $EDGE_IP:5061 -> " "$d/baresip.log" | grep -B1 '^INVITE ' | sed -n 's/.* -> [0-9.]*:\([0-9]*\)$/\1/p' | head -n 1)
	if [ "$uac_rc" != 0 ]; then
		fail "$name" "the call from the core failed (sipp rc=$uac_rc): $(tail -n 3 "$d/uac.err" 2>/dev/null | tr '\n' ' ') kamailio: $(grep 'core: ' "$TOPO_WORK/kamailio/kamailio.log" | tail -n 2 | tr '\n' ' ')"
	elif [ -z "$port" ] || [ "$port" != "$inv_port" ]; then
		fail "$name" "INVITE not on baresip's own TLS connection (register from port ${port:-?}, INVITE to ${inv_port:-?})"
	elif [ "${rx:-0}" -lt $((NPKT / 2)) ] || [ "${got:-0}" -lt $((NPKT * 9 / 10)) ] ||
		[ "$relay" -lt $((rx + got)) ]; then
		fail "$name" "RTP: the core's caller got ${rx:-?} of baresip's packets, baresip got $got of $NPKT, relay-redirect +$relay"
	else
		pass "$name"
		echo "  $name: caller got $rx, baresip got $got, relay-redirect +$relay"
	fi
}

# no_cert_refused: baresip without a client certificate is refused in the
# handshake (the edge requires one from the CA), logged with its address;
# nothing of it reaches Kamailio. A certificate-less peer cannot register.
no_cert_refused() {
	local name=tls4_no_cert d=$TOPO_WORK/tls4_no_cert

	BS_CERT="" baresip_start "$NS_C" "$d" "$CALLER_IP:5070" "sip:nocert@$EDGE_IP" -t 25
	topo_wait 5 grep -q "tls $NAT_OUT_IP:[0-9]*: handshake failed" "$TOPO_WORK/sigd.log.$SIGD_RUNS"
	sleep 1
	baresip_stop "$BS_PID"
	if grep -q "core: REGISTER .*nocert\|registered sip:nocert@" "$TOPO_WORK/kamailio/kamailio.log"; then
		fail $name "a client without a certificate registered"
	elif grep -Eq '200 OK.*\[1 binding\]' "$d/baresip.log"; then
		fail $name "baresip without a certificate got a 200 for its REGISTER"
	elif ! grep -q "tls $NAT_OUT_IP:[0-9]*: handshake failed" "$TOPO_WORK/sigd.log.$SIGD_RUNS"; then
		fail $name "no handshake failure logged for $NAT_OUT_IP"
	else
		pass $name
	fi
}

main() {
	local why

	why=$(need) || { skip tls_peers "$why"; exit 0; }
	topo_up || { fail tls_peers "topology"; exit 1; }
	ip -n "$NS_K" addr add $UAS_IP/24 dev k0
	_topo_poke "$NS_E" $UAS_IP
	C=$TOPO_WORK/certs
	make_certs "$C" >"$TOPO_WORK/certs.log" 2>&1 || { fail tls_peers "certificates: $(tail -n 3 "$TOPO_WORK/certs.log")"; exit 1; }
	cat "$C/client.crt" "$C/client.key" >"$C/client.pem"
	kamailio_start || { fail tls_peers "kamailio did not start: $(tail -n 5 "$TOPO_WORK/kamailio/kamailio.log")"; exit 1; }
	topo_attach_edge "${E2E_XDP_MODE:-native}" || { fail tls_peers "attach"; exit 1; }
	sigd_start --public-ip "$EDGE_IP,$EDGE_V6" --listen "[$EDGE_V6]:5060" \
		--listen-tls $EDGE_IP:5061 --listen-tls "[$EDGE_V6]:5061" \
		--tls-cert "$C/edge.crt" --tls-key "$C/edge.key" --tls-ca "$C/ca.crt" \
		--upstream "sip:$CORE_IP:5061;transport=tls" ||
		{ fail tls_peers "sigd did not start: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E ss -Hltn 'sport = :5061' | grep -q 2001:db8" ||
		{ fail tls_peers "no TLS listeners: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	call_through tls4 "$NS_C" "$CALLER_IP:5070" $EDGE_IP relay
	call_to_client tls4_from_core
	no_cert_refused
	# The upstream as a sips: URI (port 5061, TLS) for the IPv6 clients.
	sigd_stop
	sigd_start --public-ip "$EDGE_IP,$EDGE_V6" --listen "[$EDGE_V6]:5060" \
		--listen-tls $EDGE_IP:5061 --listen-tls "[$EDGE_V6]:5061" \
		--tls-cert "$C/edge.crt" --tls-key "$C/edge.key" --tls-ca "$C/ca.crt" \
		--upstream "sips:$CORE_IP" ||
		{ fail tls_peers "sigd did not start with a sips: upstream: $(tail -n 5 "$TOPO_WORK/sigd.log.$SIGD_RUNS")"; exit 1; }
	topo_wait 5 sh -c "nsenter --net=/run/netns/$NS_E ss -Hltn 'sport = :5061' | grep -q 2001:db8"
	call_through tls6 "$NS_N" "[$CALLER_V6]:5070" "[$EDGE_V6]" relay
	# An IPv6-only client with media ipv4-only off: its leg gets the edge's
	# IPv6 media address, the core's the IPv4 one, and XDP translates.
	in_ns "$NS_E" "$XS" media ipv4-only off >/dev/null
	call_through tls6only "$NS_N" "[$CALLER_V6]:5070" "[$EDGE_V6]" relay -6
	sigd_stop
	[ "${TOPO_KEEP:-}" ] && echo "kept: $TOPO_WORK"
	exit "$((${TOPO_FAILED:-0} > 0))"
}
main "$@"
