#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every xdpsbc test and ends with one line: "N passed, N failed[, N skipped]".
#
# A test is a program (build/tests/test_*) or a script (tests/{cli,fuzz,ns,e2e}/test_*.sh)
# that prints "PASS name", "FAIL name: why" or "SKIP name: why" lines. A test
# that exits non-zero without printing a FAIL line counts as one failure.
# TESTS=pattern runs only the tests whose path matches; TEST_JOBS=N runs N
# namespace tests at a time (default 2, 1 = one after the other).
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

# exec_one TEST OUT: runs TEST, its output into OUT; returns its exit status.
exec_one() {
	if [[ $1 == *.sh ]]; then
		timeout -k 10 600 bash "$1" >"$2" 2>&1
	else
		timeout -k 10 300 "$1" >"$2" 2>&1
	fi
}

# out_of TEST: the file its output goes to (cli/ and e2e/ both have a test_mapsize.sh).
out_of() {
	local n=${1#"$BUILD"/}
	n=${n#tests/}
	echo "$log/${n//\//-}.out"
}

# report_one TEST RC SECONDS: its result lines and counts.
report_one() {
	local t=$1 rc=$2 name out p f s
	name=${t#"$BUILD"/tests/}
	name=${name#tests/}
	out=$(out_of "$t")
	echo "== $name"
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
	echo "   $p passed, $f failed, $s skipped ($3 s)"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

run_one() {
	local t0=$SECONDS rc
	exec_one "$1" "$(out_of "$1")"
	rc=$?
	report_one "$1" $rc $((SECONDS - t0))
}

# The namespace tests (cli, ns, e2e) run TEST_JOBS at a time (default 2):
# each builds its own namespaces, pin root and state dir, and most of their
# time is spent waiting on calls and timers, not on the CPU. The unit
# programs, the fuzzers, the install test (a package build), the bench
# smoke run and the failover tests (a VRRP move and a media gap measured
# against 1 s) are CPU-bound or timed: they run alone.
declare -A job_test job_t0
running=0
reap_one() {
	local pid rc
	wait -n -p pid
	rc=$?
	report_one "${job_test[$pid]}" $rc $((SECONDS - job_t0[$pid]))
	unset "job_test[$pid]" "job_t0[$pid]"
	running=$((running - 1))
}

tests=() pooled=()
for t in "$BUILD"/tests/test_* tests/cli/test_*.sh tests/fuzz/test_*.sh tests/ns/test_*.sh tests/e2e/test_*.sh tests/install/test_*.sh tests/bench/test_*.sh; do
	[ -e "$t" ] || continue
	[ -n "${TESTS:-}" ] && [[ $t != *${TESTS}* ]] && continue
	case $t in
	tests/e2e/test_cluster_failover*) tests+=("$t") ;;
	tests/cli/* | tests/ns/* | tests/e2e/*) pooled+=("$t") ;;
	*) tests+=("$t") ;;
	esac
done
# The longest first, so the pool ends together.
long="test_datapaths.sh test_calls.sh test_upgrade_live.sh"
ordered=()
for n in $long; do
	for t in "${pooled[@]}"; do [[ $t == */$n ]] && ordered+=("$t"); done
done
for t in "${pooled[@]}"; do [[ " $long " == *" $(basename "$t") "* ]] || ordered+=("$t"); done

for t in "${tests[@]}"; do
	[[ $t == tests/install/* || $t == tests/bench/* ]] && continue
	run_one "$t"
done
jobs=${TEST_JOBS:-2}
for t in "${ordered[@]}"; do
	while [ $running -ge "$jobs" ]; do
		reap_one
	done
	exec_one "$t" "$(out_of "$t")" &
	job_test[$!]=$t job_t0[$!]=$SECONDS
	running=$((running + 1))
done
while [ $running -gt 0 ]; do
	reap_one
done
for t in "${tests[@]}"; do
	[[ $t == tests/install/* || $t == tests/bench/* ]] && run_one "$t"
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
