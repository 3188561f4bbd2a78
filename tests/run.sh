#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every xdpsbc test and ends with one line: "N passed, N failed[, N skipped]".
#
# A test is a program (build/tests/test_*) or a script (tests/{cli,fuzz,ns,e2e}/test_*.sh)
# that prints "PASS name", "FAIL name: why" or "SKIP name: why" lines. A test
# that exits non-zero without printing a FAIL line counts as one failure.
# TESTS=pattern runs only the tests whose path matches.
set -u
BUILD=${BUILD:-$(pwd)/build}
export BUILD
cd "$(dirname "$0")/.."
export XS=$BUILD/bin/xdpsbc XS_SIGD=$BUILD/bin/xdpsbc-sigd

if [ "$(id -u)" != 0 ]; then
	echo "tests need root (CAP_BPF, CAP_NET_ADMIN)" >&2
	exit 1
fi

pass=0 fail=0 skip=0
failures=()
log=$(mktemp -d /tmp/xdpsbc-test.XXXXXX)

run_one() {
	local t=$1 name out rc
	name=$(basename "$t")
	out=$log/$name.out
	echo "== $name"
	local t0=$SECONDS
	if [[ $t == *.sh ]]; then
		timeout -k 10 600 bash "$t" >"$out" 2>&1
	else
		timeout -k 10 300 "$t" >"$out" 2>&1
	fi
	rc=$?
	local p f s
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^SKIP ' "$out")
	grep -E '^(FAIL|SKIP) ' "$out" | sed 's/^/   /'
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "   FAIL $name: exited $rc without a FAIL line; last output:"
		tail -n 15 "$out" | sed 's/^/      /'
		f=1
	fi
	[ "$f" != 0 ] && failures+=("$name (log: $out)")
	echo "   $p passed, $f failed, $s skipped ($((SECONDS - t0)) s)"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

tests=()
for t in "$BUILD"/tests/test_* tests/cli/test_*.sh tests/fuzz/test_*.sh tests/ns/test_*.sh tests/e2e/test_*.sh tests/install/test_*.sh tests/bench/test_*.sh; do
	[ -e "$t" ] || continue
	[ -n "${TESTS:-}" ] && [[ $t != *${TESTS}* ]] && continue
	tests+=("$t")
done
for t in "${tests[@]}"; do
	run_one "$t"
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ]
