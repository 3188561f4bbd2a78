#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The libFuzzer targets as a regression: each runs every file of its corpus
# (tests/fuzz/<target>/, reproducers of fixed bugs included) once, then
# mutates from it for FUZZ_REGRESS_SECONDS (default 3), under ASan, UBSan
# and LeakSanitizer. One PASS/FAIL line per target. A campaign is
# `make fuzz FUZZ_SECONDS=N` (docs/security/fuzz.md).
set -u
BUILD=${BUILD:-$(pwd)/build}
cd "$(dirname "$0")/../.."
secs=${FUZZ_REGRESS_SECONDS:-3}
tmp=$(mktemp -d /tmp/xdpsbc-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

found=0
for bin in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	found=1
	t=${bin##*/fuzz_}
	name=fuzz_$t
	corpus=tests/fuzz/$t
	if [ ! -d "$corpus" ]; then
		echo "FAIL $name: no corpus in $corpus"
		continue
	fi
	log=$tmp/$t.log
	# Every corpus file once: the reproducers must not crash again.
	if ! "$bin" -runs=1 -timeout=10 "$corpus"/* >"$log" 2>&1; then
		echo "FAIL $name: a corpus file crashes:"
		grep -E 'ERROR|SUMMARY|Running:|abort|Test unit written' "$log" | tail -n 6 | sed 's/^/   /'
		continue
	fi
	mkdir -p "$tmp/$t.corpus" "$tmp/$t.art"
	dict=tests/fuzz/${t%%_*}.dict
	[ -e "$dict" ] && dict=-dict=$dict || dict=
	if ! nice -n 10 "$bin" -max_total_time="$secs" -timeout=10 -artifact_prefix="$tmp/$t.art/" $dict \
		"$tmp/$t.corpus" "$corpus" >"$log" 2>&1; then
		echo "FAIL $name: finding within $secs s (input kept in build/fuzz/regress-$t/):"
		grep -E 'ERROR|SUMMARY|abort' "$log" | head -n 4 | sed 's/^/   /'
		mkdir -p "$BUILD/fuzz/regress-$t" && cp "$tmp/$t.art"/* "$log" "$BUILD/fuzz/regress-$t/" 2>/dev/null
		continue
	fi
	execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
	echo "PASS $name ($(ls "$corpus" | wc -l) corpus files, ${execs:-?} runs in $secs s)"
done
if [ $found = 0 ]; then
	echo "SKIP fuzz: no targets in $BUILD/fuzz (make fuzz-build)"
fi
exit 0
