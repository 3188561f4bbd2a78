#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# xdpsbc-sigd's control API under abuse, in a namespace of its own (loopback
# only, no XDP attached): HTTP clients holding every connection slot before
# authenticating do not lock the CLI out, the CLI fails loudly when it gets
# no answer, REST durations that overflow and blocks over trusted networks
# are refused with nothing stored, and a start refused after the udp
# datapath forked its relay leaves no relay process behind.
. "$(dirname "$0")/../lib/testlib.sh"
XS_SIGD=${XS_SIGD:-$BUILD/bin/xdpsbc-sigd}
t_need python3 curl jq "$XS" "$XS_SIGD"

NS=${XS_PREFIX}c
TOKEN=ctl-test-token
HTTP=127.0.0.1:8080
SIGD_PID=

t_cleanup_hook() {
	[ -n "$SIGD_PID" ] && kill "$SIGD_PID" 2>/dev/null
	for pid in $(ip netns pids "$NS" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null
	done
	SIGD_PID=
}

ctl() { in_ns "$NS" "$XS" "$@" --ctl "$T_DIR/ctl.sock"; }
api() { in_ns "$NS" curl -s -m 5 -H "Authorization: Bearer $TOKEN" "$@"; }
# post JSON: the status code, the body into $T_DIR/body.
post() {
	api -o "$T_DIR/body" -w '%{http_code}' -d "$1" "http://$HTTP/api/v1/blocklist${2:-}"
}
blocked_count() { api "http://$HTTP/api/v1/blocklist" | jq length; }

# sigd_up [EXTRA KEY=VALUE LINES]: start sigd on loopback in $NS.
sigd_up() {
	ns_create "$NS" || return 1
	cat >"$T_DIR/sigd.conf" <<-EOF
		public-ip = 127.0.0.1
		listen = 127.0.0.1:5060
		upstream = sip:127.0.0.3:5080
		datapath = ${DATAPATH:-xdp}
		pin-root = $XDPSBC_PIN_ROOT
		state-dir = $T_DIR/state
		ctl-socket = $T_DIR/ctl.sock
		http-listen = $HTTP
		http-token = $TOKEN
		trusted = 198.51.100.0/24
		core = 203.0.113.0/28
		foreground = yes
		${1:-}
	EOF
	in_ns "$NS" "$XS_SIGD" --config "$T_DIR/sigd.conf" >"$T_DIR/sigd.log" 2>&1 &
	SIGD_PID=$!
	wait_for 50 test -S "$T_DIR/ctl.sock" &&
		wait_for 50 in_ns "$NS" curl -s -m 1 -o /dev/null "http://$HTTP/"
}

# hold_http N SECONDS SRC...: N idle TCP connections to the HTTP port from
# each SRC (no bytes sent), held SECONDS; returns once they are connected.
hold_http() {
	local n=$1 secs=$2
	shift 2
	rm -f "$T_DIR/held"
	in_ns "$NS" python3 - "$T_DIR/held" "$n" "$secs" "$@" <<-'EOF' &
		import socket, sys, time
		ready, n, secs, srcs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
		socks = []
		for src in srcs:
		    for _ in range(n):
		        s = socket.socket()
		        s.bind((src, 0))
		        s.connect(("127.0.0.1", 8080))
		        socks.append(s)
		time.sleep(0.2)  # the daemon's loop accepts them
		open(ready, "w").close()
		time.sleep(secs)
	EOF
	HOLD_PID=$!
	wait_for 50 test -e "$T_DIR/held"
}

# The HTTP pool and the CLI's pool are separate; pre-auth slots time out.
test_http_slots_do_not_block_cli() {
	local code
	sigd_up || { t_fail ctl_setup "sigd did not start: $(tail -3 "$T_DIR/sigd.log")"; return 1; }
	# Four idle connections from each of four addresses: every HTTP slot.
	hold_http 4 1.5 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4
	t_check ctl_calls_with_http_full "xdpsbc calls failed with the HTTP slots held" \
		ctl calls
	t_check ctl_calls_output "xdpsbc calls printed no listing" \
		bash -c "nsenter --net=/run/netns/$NS $XS calls --ctl $T_DIR/ctl.sock | grep -q '0 calls'"
	code=$(in_ns "$NS" curl -s -m 3 -o /dev/null -w '%{http_code}' --interface 127.0.0.5 \
		-H "Authorization: Bearer $TOKEN" "http://$HTTP/api/v1/calls")
	t_eq ctl_http_full_503 "$code" 503 "a newcomer with every HTTP slot held"
	wait "$HOLD_PID"
	# Per source: a fifth connection from one address is refused at once.
	hold_http 4 1.5 127.0.0.6
	code=$(in_ns "$NS" curl -s -m 3 -o /dev/null -w '%{http_code}' --interface 127.0.0.6 \
		-H "Authorization: Bearer $TOKEN" "http://$HTTP/api/v1/calls")
	t_eq ctl_http_per_source_429 "$code" 429 "a fifth connection from one address"
	code=$(api -o /dev/null -w '%{http_code}' "http://$HTTP/api/v1/calls")
	t_eq ctl_http_other_source_ok "$code" 200 "another address while one holds its four"
	wait "$HOLD_PID"
	# Idle before authenticating: dropped after 2 s, not the 5 s of a request.
	hold_http 4 4 127.0.0.7 127.0.0.8 127.0.0.9 127.0.0.10
	sleep 2.5
	code=$(api -o /dev/null -w '%{http_code}' --interface 127.0.0.11 "http://$HTTP/api/v1/calls")
	t_eq ctl_http_preauth_timeout "$code" 200 "after the pre-auth timeout freed the slots"
	wait "$HOLD_PID"
	t_check ctl_refusals_metric "refusals not counted in /metrics" bash -c \
		"nsenter --net=/run/netns/$NS curl -s -m 3 -H 'Authorization: Bearer $TOKEN' http://$HTTP/metrics |
		 grep -Eq 'xdpsbc_api_connections_refused_total\{cause=\"auth-timeout\"\} (1[6-9]|[2-9][0-9])'"
}

# The CLI says so, with a non-zero exit, whenever it has no real answer.
test_cli_fails_loudly() {
	local out rc
	sigd_up || { t_fail ctl_setup "sigd did not start"; return 1; }
	# Every Unix slot held: the ninth gets "busy", not an empty listing.
	rm -f "$T_DIR/uheld"
	in_ns "$NS" python3 - "$T_DIR/ctl.sock" "$T_DIR/uheld" <<-'EOF' &
		import socket, sys, time
		socks = []
		for _ in range(8):
		    s = socket.socket(socket.AF_UNIX)
		    s.connect(sys.argv[1])
		    socks.append(s)
		time.sleep(0.2)  # the daemon's loop accepts them
		open(sys.argv[2], "w").close()
		time.sleep(1.5)
	EOF
	local holder=$!
	wait_for 50 test -e "$T_DIR/uheld"
	out=$(ctl calls 2>&1)
	rc=$?
	t_check ctl_cli_busy_exit "exit $rc with every Unix slot held: $out" test "$rc" -ne 0
	t_check ctl_cli_busy_message "no clear error: '$out'" grep -q 'busy' <<<"$out"
	wait "$holder"
	t_check ctl_cli_after_busy "xdpsbc calls failed once the slots were free" ctl calls
	# A socket that accepts and closes without a word.
	in_ns "$NS" python3 - "$T_DIR/mute.sock" <<-'EOF' &
		import socket, sys
		s = socket.socket(socket.AF_UNIX)
		s.bind(sys.argv[1])
		s.listen(1)
		c, _ = s.accept()
		c.recv(64)
		c.close()
	EOF
	holder=$!
	wait_for 30 test -S "$T_DIR/mute.sock"
	out=$(in_ns "$NS" "$XS" calls --ctl "$T_DIR/mute.sock" 2>&1)
	rc=$?
	wait "$holder"
	t_check ctl_cli_no_answer "exit $rc, '$out' from a socket that answered nothing" \
		bash -c "[ $rc -ne 0 ] && grep -q 'without an answer' <<<'$out'"
	out=$(in_ns "$NS" "$XS" calls --ctl "$T_DIR/nothing.sock" 2>&1)
	rc=$?
	t_check ctl_cli_no_daemon "exit $rc, '$out' without a daemon" \
		bash -c "[ $rc -ne 0 ] && grep -q 'cannot reach' <<<'$out'"
}

# Durations that overflow or make no sense: 400, a clear error, nothing stored.
test_rest_durations() {
	local d code bad=""
	sigd_up || { t_fail ctl_setup "sigd did not start"; return 1; }
	for d in 99999999999999 '"99999999999999s"' '"1e400"' 1e400 -5 0 3.5 '"0"' \
		'"18446744073709551617"' 18446744073709551617 '"36501d"' 3153600001 '"2x"'; do
		code=$(post "{\"ip\":\"192.0.2.9\",\"duration\":$d}")
		if [ "$code" != 400 ] || ! jq -e '.error | test("duration|JSON")' "$T_DIR/body" >/dev/null; then
			bad+=" $d->$code:$(cat "$T_DIR/body")"
		fi
	done
	t_eq rest_duration_refused "${bad:-none}" none "durations not refused with 400"
	t_eq rest_duration_nothing_stored "$(blocked_count)" 0 "entries after refused adds"
	code=$(post '[{"ip":"192.0.2.10","duration":"2h"},{"ip":"192.0.2.11","duration":99999999999999}]' /batch)
	t_eq rest_duration_batch_refused "$code" 400 "a batch with one overflowing entry"
	t_eq rest_duration_batch_nothing "$(blocked_count)" 0 "entries after the refused batch"
	code=$(post '{"ip":"192.0.2.9","duration":"2h"}')
	t_eq rest_duration_valid "$code" 201 "a 2h block"
	t_check rest_duration_valid_expiry "2h block has the wrong expiry" bash -c \
		"nsenter --net=/run/netns/$NS curl -s -H 'Authorization: Bearer $TOKEN' http://$HTTP/api/v1/blocklist |
		 jq -e '.[0].expires_in_s > 7000 and .[0].expires_in_s <= 7200' >/dev/null"
	code=$(post '{"ip":"192.0.2.12","duration":3153600000}')
	t_eq rest_duration_max "$code" 201 "exactly 100 years"
}

# A block overlapping a trusted network: 409 naming it, unless forced.
test_rest_trusted_overlap() {
	local code
	sigd_up || { t_fail ctl_setup "sigd did not start"; return 1; }
	in_ns "$NS" "$XS" trust add 192.0.2.0/28 >/dev/null
	code=$(post '{"cidr":"198.51.0.0/16"}')
	t_check rest_overlap_sigd_trusted "$code $(cat "$T_DIR/body")" \
		bash -c "[ $code = 409 ] && grep -q '198.51.100.0/24' $T_DIR/body"
	code=$(post '{"ip":"203.0.113.5"}')
	t_check rest_overlap_core "$code $(cat "$T_DIR/body")" \
		bash -c "[ $code = 409 ] && grep -q 'core network 203.0.113.0/28' $T_DIR/body"
	code=$(post '[{"ip":"192.0.2.200"},{"cidr":"192.0.2.0/24"}]' /batch)
	t_check rest_overlap_xdp_trusted "$code $(cat "$T_DIR/body")" \
		bash -c "[ $code = 409 ] && grep -q 'entry 1: .*XDP trusted network 192.0.2.0/28' $T_DIR/body"
	t_eq rest_overlap_nothing_stored "$(blocked_count)" 0 "entries after refused adds"
	code=$(post '{"cidr":"192.0.2.0/24","force":true}')
	t_eq rest_overlap_forced "$code" 201 "a forced block over a trusted network"
	code=$(post '{"ip":"192.0.2.200"}')
	t_eq rest_no_overlap "$code" 201 "a block outside every trusted network"
}

# sigd refuses to start (its SIP port is taken) after the udp datapath forked
# its relay: the relay must go too.
test_refused_start_stops_relay() {
	local left
	ns_create "$NS" || return 1
	in_ns "$NS" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5060))
time.sleep(60)' &
	local squatter=$!
	sleep 0.3
	cat >"$T_DIR/sigd.conf" <<-EOF
		public-ip = 127.0.0.1
		listen = 127.0.0.1:5060
		upstream = sip:127.0.0.3:5080
		datapath = udp
		pin-root = $XDPSBC_PIN_ROOT
		state-dir = $T_DIR/state
		ctl-socket = none
		foreground = yes
	EOF
	timeout 60 nsenter --net=/run/netns/"$NS" "$XS_SIGD" --config "$T_DIR/sigd.conf" \
		>"$T_DIR/sigd.log" 2>&1
	local rc=$?
	kill "$squatter" 2>/dev/null
	t_check refused_start_exit "sigd exited $rc with its port taken" test "$rc" -ne 0
	t_check refused_start_relay_was_up "the relay never started: $(grep -m1 datapath "$T_DIR/sigd.log")" \
		grep -q 'relay process' "$T_DIR/sigd.log"
	sleep 0.5
	left=$(for p in $(ip netns pids "$NS" 2>/dev/null); do
		tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -q xdpsbc-sigd && echo "$p"
	done)
	t_eq refused_start_no_relay "${left:-none}" none "xdpsbc-sigd processes left in the namespace"
}

run_tests "$@"
