#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench-quick` works: every part of the bench runs end to end in a
# short smoke run (bench/run.sh with QUICK=1), writes its results, and leaves
# no namespace or pin behind. It checks that the harness works, never the
# numbers: a slow machine passes, a broken generator or counter does not.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$(pwd)/build}
export BUILD

out=$(mktemp -d /tmp/xdpsbc-bq.XXXXXX)
export B_PREFIX=xbq$$ XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-bench-q$$ BENCH_OUT=$out
trap 'rm -rf "$out"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

t0=$(date +%s)
QUICK=1 timeout -k 10 170 bash bench/run.sh >"$out/run.log" 2>&1
rc=$?
t1=$(date +%s)
if [ "$rc" = 0 ]; then
	pass bench_quick_runs
else
	fail bench_quick_runs "bench/run.sh exited $rc; last lines: $(tail -n 5 "$out/run.log" | tr '\n' '|')"
fi
if [ $((t1 - t0)) -lt 180 ]; then
	pass bench_quick_bounded
else
	fail bench_quick_bounded "took $((t1 - t0)) s"
fi

j=$out/bench.json
if jq -e . "$j" >/dev/null 2>&1; then
	pass bench_json_valid
else
	fail bench_json_valid "no valid $j"
fi
[ -s "$out/bench.md" ] && grep -q '^| relay pps' "$out/bench.md" &&
	pass bench_md_written || fail bench_md_written "no ratio table in bench.md"
if command -v gnuplot >/dev/null; then
	[ "$(head -c 4 "$out/bench.png" 2>/dev/null | tail -c 3)" = PNG ] &&
		pass bench_png_written || fail bench_png_written "no PNG"
else
	skip bench_png_written "gnuplot not installed (make bench-deps)"
fi

# The harness delivers packets: the generator, the XDP relay and the XDP drop
# each moved some, and each case reports a rate or says why it could not.
for c in gen-only relay-xdp-native relay6-xdp-native xlat46-xdp-native drop-xdp; do
	d=$(jq -r --arg c "$c" '.live[] | select(.case == $c) | .delivered // 0' "$j" 2>/dev/null)
	if [ "${d:-0}" -gt 0 ] 2>/dev/null; then
		pass "live_$c"
	else
		fail "live_$c" "no packets delivered (got '${d:-none}')"
	fi
done
for c in relay-xdp-generic relay-rtpengine drop-nft relay-afxdp relay-udp limit-fwd-2arm \
	limit-fwd-1arm relay-xdp-native-1arm; do
	if jq -e --arg c "$c" '.live[] | select(.case == $c) | (.delivered_pps != null or .na != null)' \
		"$j" >/dev/null 2>&1; then
		pass "live_row_$c"
	else
		fail "live_row_$c" "missing from the results"
	fi
done
if jq -e '.live[] | select(.case == "attack") | (.relayed_sent > 0 and .flood_sent > 0)' \
	"$j" >/dev/null 2>&1; then
	pass live_attack
else
	fail live_attack "no attack case with both generators sending"
fi
if jq -e '[.ladder[] | select(.edge == "xdpsbc-sigd" and .cpu_ms_per_call != null)] | length > 0' \
	"$j" >/dev/null 2>&1; then
	pass cps_ladder_sigd
else
	fail cps_ladder_sigd "no ladder rung for sigd"
fi
grep -q '^| goal | value | target | result |' "$out/bench.md" &&
	pass bench_goals_table || fail bench_goals_table "no goals table in bench.md"
if jq -e '.cps["xdpsbc-sigd"].steps | length > 0' "$j" >/dev/null 2>&1; then
	pass cps_sigd_stepped
else
	fail cps_sigd_stepped "no sigd step in the results"
fi
if jq -e '.cps["kamailio+rtpengine"] | (.steps | length > 0) or (.na != null)' "$j" >/dev/null 2>&1; then
	pass cps_kamailio_row
else
	fail cps_kamailio_row "kamailio row missing"
fi

left=$(ip netns list 2>/dev/null | grep -c "^$B_PREFIX")
[ "$left" = 0 ] && pass bench_cleanup_netns || fail bench_cleanup_netns "$left namespaces left"
[ ! -e "$XDPSBC_PIN_ROOT" ] && pass bench_cleanup_pins || fail bench_cleanup_pins "$XDPSBC_PIN_ROOT left"
exit 0
