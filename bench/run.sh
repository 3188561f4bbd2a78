#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: every xdpsbc benchmark in one run, results in bench/results/.
#   1. per-packet cost of each verdict path (build/bench/prog_cost)
#   2. live packets per second between namespaces (bench/live.sh): the XDP
#      relay against rtpengine, the XDP blocklist drop against nftables
#   3. signalling calls per second (bench/cps.sh): xdpsbc-sigd against
#      Kamailio + rtpengine; then the concurrency ladder (10^2 .. 5*10^4
#      calls up at 200 calls/s: CPU per call, memory, restart after kill -9)
#   4. scaling to 10^6 concurrent flows (live.sh with SCALE, and prog_cost)
#   5. the merged report: bench.md, bench.json, bench.png (bench/report.py)
# Full run: a few minutes on 2 cores; installs the comparison tools first
# (bench/deps.sh). QUICK=1 (`make bench-quick`): a short smoke run of every
# part with results in a temporary directory (the repo's results are left
# alone) and no installs: tools that are missing show as n/a. It checks that
# the harness works, never the numbers. Needs root.
# PARTS="cost live cps" picks parts (default all); BENCH_OUT=DIR puts a quick
# run's results there.
set -u
BUILD=${BUILD:-$(pwd)/build}
export BUILD
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "bench needs root (CAP_BPF, CAP_NET_ADMIN)" >&2
	exit 1
fi
bin=$BUILD/bench/prog_cost
for f in "$bin" "$BUILD/bench/loadgen" "$BUILD/bench/loadgen.bpf.o" "$BUILD/bench/sink.bpf.o" \
	"$BUILD/bench/flowprog"; do
	[ -e "$f" ] || { echo "missing $f: run make tests-build" >&2; exit 1; }
done
PARTS=${PARTS:-cost live cps}
want() { [[ " $PARTS " == *" $1 "* ]]; }
rc=0

if [ -n "${QUICK:-}" ] && [ "$QUICK" != 0 ]; then
	out=${BENCH_OUT:-$(mktemp -d /tmp/xdpsbc-bench.XXXXXX)}
	mkdir -p "$out"
	args=--quick
	live_args=(1 50)
	cps_args=(2 10)
	ladder="20"
	ladder_rate=20
	ladder_window=2
	scale=""
	drop_scale=""
	family="relay6-xdp-native xlat46-xdp-native"
else
	out=bench/results
	args=
	live_args=(5 1000)
	cps_args=(8 50 100 200 300 400 600 800 1000 1500)
	# The ladder at 200 calls/s: 5*10^4 calls up need 250 s holds.
	ladder="100 1000 10000 50000"
	ladder_rate=200
	ladder_window=10
	scale="1000 10000 100000 1000000"
	drop_scale=1000000
	mkdir -p "$out"
	sh bench/deps.sh || echo "bench: comparison tools missing; their rows will be n/a" >&2
fi

if want cost; then
	# A full run fills a million-entry trie and flow table: about a minute.
	if timeout -k 10 900 "$bin" $args --json "$out/prog_cost.json" >"$out/prog_cost.md"; then
		cat "$out/prog_cost.md"
	else
		echo "bench: prog_cost failed" >&2
		rc=1
	fi
fi
if want live; then
	echo "== live packets per second"
	SCALE=$scale DROP_SCALE=$drop_scale FAMILY_CASES=${family:-} timeout -k 10 1500 bash bench/live.sh "$out/live.json" "${live_args[@]}" || {
		echo "bench: live.sh failed" >&2
		rc=1
	}
fi
if want cps; then
	echo "== signalling calls per second"
	LADDER=${LADDER-$ladder} LADDER_RATE=${LADDER_RATE:-$ladder_rate} \
		LADDER_WINDOW=${LADDER_WINDOW:-$ladder_window} \
		timeout -k 10 3600 bash bench/cps.sh "$out/cps.json" "${cps_args[@]}" || {
		echo "bench: cps.sh failed" >&2
		rc=1
	}
fi
docs=()
[ "$out" = bench/results ] && docs=(--docs docs/performance.md)
python3 bench/report.py "$out" "$out/live.json" "$out/cps.json" "$out/prog_cost.json" \
	"${docs[@]}" || rc=1
echo
cat "$out/bench.md"
echo
echo "results: $out/bench.md $out/bench.json $out/bench.png $out/prog_cost.md"
exit $rc
