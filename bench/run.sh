#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Per-packet cost of the xdpsbc verdict paths (build/bench/prog_cost).
# Full run: results in bench/results/prog_cost.{md,json}. QUICK=1: 10^4
# repeats and small tables, results in a temporary directory (the repo's
# results are left alone). Needs root (BPF_PROG_TEST_RUN, a private netns).
set -eu
BUILD=${BUILD:-$(pwd)/build}
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "bench needs root (CAP_BPF, CAP_NET_ADMIN)" >&2
	exit 1
fi
bin=$BUILD/bench/prog_cost
[ -x "$bin" ] || { echo "missing $bin: run make tests-build" >&2; exit 1; }

if [ -n "${QUICK:-}" ] && [ "$QUICK" != 0 ]; then
	out=$(mktemp -d /tmp/xdpsbc-bench.XXXXXX)
	args=--quick
else
	out=bench/results
	args=
	mkdir -p "$out"
fi
# A full run fills a million-entry trie and flow table: about a minute.
timeout -k 10 900 "$bin" $args --json "$out/prog_cost.json" >"$out/prog_cost.md"
cat "$out/prog_cost.md"
echo
echo "results: $out/prog_cost.md $out/prog_cost.json"
