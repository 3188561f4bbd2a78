#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The relay flow table full, end to end: the edge's maps are created with
# map-sizes flows=6, room for one call (4 flows). A second call while the
# first is up gets 503 from sigd and leaves nothing behind, the first call's
# media flows complete both ways, /metrics counts the refusal and shows the
# table's size; once the first call ends, a new call goes through.
# Prints PASS/FAIL/SKIP lines. Takes about 20 s.
set -u
source "$(dirname "$0")/topo.sh"

export XDPSBC_MAP_SIZES=flows=6 # the CLI's attach creates the maps, sigd agrees
NPKT=150
HTTP=127.0.0.1:8089
TOKEN=mapsize-test-token

need() {
	local what
	for what in "$XS" "$XS_SIGD" "$RTP_PEER" "$XDP_TRIVIAL"; do
		[ -x "$what" ] || [ -f "$what" ] || { echo "$what not built"; return 1; }
	done
	for what in sipp nft curl jq; do
		command -v $what >/dev/null || { echo "$what missing"; return 1; }
	done
	return 0
}

rtp_ok() { # dir who n
	[ "$(rtp "$1" "$2" unique)" = "$3" ] && [ "$(rtp "$1" "$2" corrupt)" = 0 ]
}

metric() { # name{labels}
	in_ns "$NS_E" curl -s -m 5 -H "Authorization: Bearer $TOKEN" "http://$HTTP/metrics" |
		awk -v m="$1" '$1 == m { print $2 }'
}

nflows() { in_ns "$NS_E" "$XS" flows -j | jq length; }

test_flows_full_503() {
	local d=$TOPO_WORK/full
	# One callee call; the caller places two, the second 1 s into the first.
	CALLS=1 uas_start "$d" $NPKT
	CALLS=2 CALL_GAP_MS=1000 uac_start "$d" $NPKT
	wait "$UAC_PID"
	UAC_RC=$?
	wait "$UAS_PID"
	UAS_RC=$?
	topo_wait 10 test -s "$d/caller-1.json"
	if ! grep -q "SIP/2.0 503 Service Unavailable" "$d/uac.msg" 2>/dev/null; then
		fail flows_full_503 "no 503 for the call over the table size (uac rc=$UAC_RC): $(grep -m3 '^SIP/2.0' "$d/uac.msg" | tr '\n' ' ')"
	else
		pass flows_full_503
	fi
	if [ "$UAS_RC" = 0 ] && rtp_ok "$d" caller $NPKT && rtp_ok "$d" callee $NPKT; then
		pass flows_full_call_up_keeps_media
	else
		fail flows_full_call_up_keeps_media "uas rc=$UAS_RC caller: $(cat "$d/caller-1.json" 2>/dev/null) callee: $(cat "$d/callee-1.json" 2>/dev/null)"
	fi
	if topo_wait 5 sh -c "[ \"\$(nsenter --net=/run/netns/$NS_E '$XS' flows -j | jq length)\" = 0 ]"; then
		pass flows_full_nothing_left
	else
		fail flows_full_nothing_left "$(nflows) flows after both calls"
	fi
	local refused max
	refused=$(metric xdpsbc_media_flows_refused_total)
	max=$(metric 'xdpsbc_map_max_entries{map="xs_flows"}')
	if [ "${refused:-0}" -ge 1 ] && [ "$max" = 6 ]; then
		pass flows_full_metric
	else
		fail flows_full_metric "refused=${refused:-none} max_entries=${max:-none}"
	fi
}

test_next_call_fits() {
	local d=$TOPO_WORK/next n=50
	call_start "$d" $n
	call_wait "$d"
	if [ "$UAC_RC" = 0 ] && [ "$UAS_RC" = 0 ] && rtp_ok "$d" caller $n && rtp_ok "$d" callee $n; then
		pass flows_full_next_call
	else
		fail flows_full_next_call "uac rc=$UAC_RC uas rc=$UAS_RC: $(tail -n 3 "$d/uac.err" 2>/dev/null | tr '\n' ' ')"
	fi
}

main() {
	local why

	if ! why=$(need); then
		for t in flows_full_503 flows_full_call_up_keeps_media flows_full_nothing_left flows_full_metric flows_full_next_call; do
			skip $t "$why"
		done
		exit 0
	fi
	topo_up || { fail topology "could not build the namespaces"; exit 1; }
	topo_attach_edge "${E2E_XDP_MODE:-native}" >"$TOPO_WORK/attach.log" 2>&1 ||
		{ fail topology "attach: $(cat "$TOPO_WORK/attach.log")"; exit 1; }
	if [ "$(bpftool map show pinned "$XDPSBC_PIN_ROOT/xs_flows" -j | jq .max_entries)" != 6 ]; then
		fail topology "xs_flows not created with 6 entries"
		exit 1
	fi
	sigd_start --http-listen $HTTP --http-token $TOKEN ||
		{ fail topology "sigd: $(tail -n 5 "$TOPO_WORK"/sigd.log.*)"; exit 1; }
	test_flows_full_503
	test_next_call_fits
	[ "${TOPO_FAILED:-0}" = 0 ]
}

main "$@"
