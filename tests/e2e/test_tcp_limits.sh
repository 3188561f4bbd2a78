#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# TCP exhaustion against the real xdpsbc-sigd in the e2e topology: one
# source opening more connections than its cap is refused while another
# source still gets answers; a connection that never sends a message is
# closed after the message timeout; and with sigd's descriptors exhausted
# (prlimit on the running daemon) it keeps refusing without spinning, then
# answers again once the limit is back. Prints PASS/FAIL/SKIP lines.
set -u
source "$(dirname "$0")/topo.sh"

TCP_CLIENTS=${TCP_CLIENTS:-$BUILD/tests/tools/tcp_clients}
SRC2=203.0.113.20 # a second source address on the NAT's outside
PER_SOURCE=8
TOKEN=tcp-limits-test-token

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$TCP_CLIENTS" "$XDP_TRIVIAL"; do
		[ -x "$what" ] || [ -f "$what" ] || { echo "$what not built"; return 1; }
	done
	command -v prlimit >/dev/null || { echo "prlimit missing"; return 1; }
	command -v curl >/dev/null || { echo "curl missing"; return 1; }
	return 0
}

clients() { # SRC COUNT HOLD_MS [silent]
	in_ns "$NS_N" "$TCP_CLIENTS" "$1" $EDGE_IP 5060 "$2" "$3" ${4:-}
}

field() { # LINE NAME
	sed -n "s/.*\b$2=\(-\?[0-9]*\).*/\1/p" <<<"$1"
}

test_per_source_cap() {
	local out other n=$((PER_SOURCE * 3))

	# The first source holds its connections while the second one asks.
	clients $NAT_OUT_IP $n 3000 >"$TOPO_WORK/flood.out" &
	local pid=$!
	sleep 1.5
	other=$(clients $SRC2 1 0)
	wait $pid
	out=$(cat "$TOPO_WORK/flood.out")
	echo "# one source, $n connections: $out; another source: $other"
	if [ "$(field "$out" answered)" != $PER_SOURCE ]; then
		fail per_source_cap "expected $PER_SOURCE answered: $out"
	elif [ "$(field "$out" closed)" -lt $((n - PER_SOURCE)) ]; then
		fail per_source_cap "connections past the cap not closed: $out"
	elif [ "$(field "$other" answered)" != 1 ]; then
		fail per_source_cap "the other source was not answered: $other"
	else
		pass per_source_cap
	fi
}

test_silent_closed() {
	local out ms

	out=$(clients $SRC2 1 5000 silent)
	ms=$(field "$out" first_close_ms)
	echo "# a connection without a message: $out"
	if [ "$ms" -lt 1500 ] || [ "$ms" -gt 3500 ]; then
		fail silent_closed "closed after $ms ms, expected about 2000 ($out)"
	else
		pass silent_closed
	fi
}

cpu_ticks() { # PID: user + system clock ticks
	awk '{ print $14 + $15 }' /proc/"$1"/stat
}

test_emfile_no_spin() {
	local nfd t0 t1 hz cpu out limit

	nfd=$(ls /proc/"$SIGD_PID"/fd | wc -l)
	limit=$(prlimit --pid "$SIGD_PID" --nofile --output SOFT,HARD --noheadings | awk '{ print $1 ":" $2 }')
	prlimit --pid "$SIGD_PID" --nofile=$((nfd + 2)):"${limit#*:}"
	clients $SRC2 $PER_SOURCE 6000 silent >"$TOPO_WORK/emfile.out" &
	local pid=$!
	sleep 1
	hz=$(getconf CLK_TCK)
	t0=$(cpu_ticks "$SIGD_PID")
	sleep 3
	t1=$(cpu_ticks "$SIGD_PID")
	cpu=$(((t1 - t0) * 1000 / hz))
	prlimit --pid "$SIGD_PID" --nofile="$limit"
	wait $pid
	out=$(clients $SRC2 1 0)
	echo "# out of descriptors: sigd used $cpu ms CPU in 3 s; clients: $(cat "$TOPO_WORK/emfile.out"); afterwards: $out"
	if ! kill -0 "$SIGD_PID" 2>/dev/null; then
		fail emfile_no_spin "sigd died"
	elif [ "$cpu" -gt 300 ]; then
		fail emfile_no_spin "sigd spins: $cpu ms CPU in 3 s"
	elif [ "$(field "$out" answered)" != 1 ]; then
		fail emfile_no_spin "not answered once descriptors are back: $out"
	elif ! grep -q "out of file descriptors" "$TOPO_WORK"/sigd.log.*; then
		fail emfile_no_spin "EMFILE was not reached (log: $(tail -n 3 "$TOPO_WORK"/sigd.log.*))"
	else
		pass emfile_no_spin
	fi
}

test_metrics() {
	local m

	m=$(in_ns "$NS_E" curl -s -m 5 -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8089/metrics)
	if grep -Eq '^xdpsbc_sigd_tcp_events_total\{event="refused-source"\} [1-9]' <<<"$m" &&
		grep -Eq '^xdpsbc_sigd_tcp_events_total\{event="refused-fd"\} [1-9]' <<<"$m" &&
		grep -Eq '^xdpsbc_sigd_tcp_events_total\{event="closed-timeout"\} [1-9]' <<<"$m" &&
		grep -Eq '^xdpsbc_sigd_tcp_connections [0-9]' <<<"$m" &&
		grep -Eq '^xdpsbc_sigd_dns_lookups_total\{result="miss"\} [0-9]' <<<"$m"; then
		pass tcp_metrics
	else
		fail tcp_metrics "$(grep -E 'tcp_|dns_' <<<"$m")"
	fi
}

main() {
	local why

	if ! why=$(need); then
		for t in per_source_cap silent_closed emfile_no_spin tcp_metrics; do
			skip $t "$why"
		done
		exit 0
	fi
	topo_up || { fail topology "could not build the namespaces"; exit 1; }
	ip -n "$NS_N" addr add $SRC2/24 dev n1
	topo_attach_edge "${E2E_XDP_MODE:-native}" >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail topology "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	sigd_start --tcp-max-per-source $PER_SOURCE --tcp-message-timeout 2s \
		--http-listen 127.0.0.1:8089 --http-token "$TOKEN" ||
		{ fail topology "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	_topo_poke "$NS_N" $EDGE_IP
	test_per_source_cap
	test_silent_closed
	test_emfile_no_spin
	test_metrics
}

main "$@"
