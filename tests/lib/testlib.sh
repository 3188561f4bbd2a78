# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Helpers for xdpsbc's shell tests (tests/cli, tests/ns, tests/e2e). Source it,
# define test_* functions, end with `run_tests "$@"`:
#
#   . "$(dirname "$0")/../lib/testlib.sh"
#   test_example() { ns_create "${XS_PREFIX}a" && ...; t_pass example; }
#   run_tests "$@"
#
# Every name a test creates starts with $XS_PREFIX (xs<pid>), so runs in
# parallel never collide and cleanup finds everything. Each test gets its own
# pin root (XDPSBC_PIN_ROOT=/sys/fs/bpf/xdpsbc-test-<pid>-<n>). Result lines
# follow tests/run.sh: "PASS name", "FAIL name: why", "SKIP name: why".

set -u
T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$T_ROOT/build}
XS=${XS:-$BUILD/bin/xdpsbc}
UDP_PROBE=${UDP_PROBE:-$BUILD/tests/tools/udp_probe}
XDP_TRIVIAL=${XDP_TRIVIAL:-$BUILD/bpf/xdp_trivial.bpf.o}
XS_PREFIX=${XS_PREFIX:-xs$$}
T_PIN_BASE=/sys/fs/bpf/xdpsbc-test-$$
T_TIMEOUT=${T_TIMEOUT:-120}	# seconds per test function
T_DIR=$(mktemp -d /tmp/xdpsbc-t.XXXXXX)
: >"$T_DIR/failed"
# Run private copies: a rebuild in the shared tree relinks the binaries under
# a running test (the skeleton is embedded, so a copy is the same program).
for _b in XS UDP_PROBE; do
	if [ -x "${!_b}" ] && cp "${!_b}" "$T_DIR/$(basename "${!_b}")"; then
		printf -v "$_b" '%s' "$T_DIR/$(basename "${!_b}")"
	fi
done
unset _b
export XS BUILD XS_PREFIX

t_pass() { echo "PASS $1"; }
t_skip() { echo "SKIP $1: ${2:-skipped}"; }
t_fail() {
	echo "FAIL $1: ${2:-failed}"
	echo "$1" >>"$T_DIR/failed"
	return 1
}

# t_check NAME WHY CMD...: PASS when CMD succeeds, else FAIL NAME: WHY.
t_check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then t_pass "$name"; else t_fail "$name" "$why"; fi
}

# t_eq NAME GOT WANT [WHAT]: PASS when equal.
t_eq() {
	if [ "$2" = "$3" ]; then
		t_pass "$1"
	else
		t_fail "$1" "${4:-value}: got '$2', want '$3'"
	fi
}

# wait_for TRIES CMD...: retry CMD every 0.1 s, at most TRIES times.
wait_for() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

xs() { "$XS" "$@"; }

# ---- namespaces, veths, addresses ----

# in_ns NS CMD...: CMD in NS's network namespace, keeping the host's mounts
# (`ip netns exec` remounts /sys, hiding /sys/fs/bpf).
in_ns() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" "$@"
}

ns_create() {
	ip netns add "$1" || return 1
	in_ns "$1" ip link set lo up
	in_ns "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# veth_pair NS1 IF1 NS2 IF2: a veth between two namespaces, both ends up.
veth_pair() {
	local tmp=${XS_PREFIX}v$RANDOM
	ip link add "$tmp" type veth peer name "${tmp}p" || return 1
	ip link set "$tmp" netns "$1" && ip link set "${tmp}p" netns "$3" &&
		in_ns "$1" ip link set "$tmp" name "$2" up &&
		in_ns "$3" ip link set "${tmp}p" name "$4" up
}

# addr_add NS IF ADDR/PLEN: IPv6 without duplicate address detection delay.
addr_add() {
	if [[ $3 == *:* ]]; then
		in_ns "$1" ip -6 addr add "$3" dev "$2" nodad
	else
		in_ns "$1" ip addr add "$3" dev "$2"
	fi
}

# mac_of NS IF (not via /sys/class/net: nsenter --net keeps the host's /sys)
mac_of() {
	in_ns "$1" ip -o link show "$2" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "link/ether") print $(i + 1) }'
}

# neigh_static NS IF ADDR MAC: no ARP/ND, so counters see only test traffic.
neigh_static() {
	in_ns "$1" ip neigh replace "$3" lladdr "$4" dev "$2" nud permanent
}

# tx_off NS IF: local sockets on veth leave checksums partial; XDP sees them.
tx_off() { in_ns "$1" ethtool -K "$2" tx off >/dev/null; }

# attach_pass NS IF: veth drops XDP_TX/REDIRECT frames unless the peer has XDP.
attach_pass() {
	in_ns "$1" ip link set dev "$2" xdp obj "$XDP_TRIVIAL" sec xdp
}

# ---- UDP ----

# udp_send NS SRC SPORT DST DPORT [COUNT]: prints nothing, fails when not all sent.
udp_send() {
	local ns=$1
	shift
	in_ns "$ns" timeout 30 "$UDP_PROBE" send "$@" >/dev/null
}

# udp_recv_start NS ADDR PORT SECONDS TAG: background receiver; udp_recv_count TAG
# waits for it and prints how many datagrams arrived.
udp_recv_start() {
	in_ns "$1" timeout $(($4 + 5)) "$UDP_PROBE" recv "$2" "$3" "$4" \
		>"$T_DIR/recv.$5" 2>"$T_DIR/recv.$5.err" &
	echo $! >"$T_DIR/recv.$5.pid"
	wait_for 50 grep -q ready "$T_DIR/recv.$5.err"
}

udp_recv_count() {
	local pid
	pid=$(cat "$T_DIR/recv.$1.pid")
	wait "$pid" 2>/dev/null
	cat "$T_DIR/recv.$1" 2>/dev/null || echo 0
}

# ---- cleanup and the driver ----

# A script may define t_cleanup_hook (kill its daemons, ...); it runs first.
t_cleanup() {
	local ns pin
	if declare -F t_cleanup_hook >/dev/null; then
		t_cleanup_hook
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$XS_PREFIX"); do
		ip netns del "$ns" 2>/dev/null
	done
	for pin in "$T_PIN_BASE"*; do
		[ -d "$pin" ] || continue
		"$XS" --pin-root "$pin" unload >/dev/null 2>&1
		rm -rf "$pin"
	done
	# Receivers still running (a failed test).
	for pid in "$T_DIR"/recv.*.pid; do
		[ -e "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
		rm -f "$pid"
	done
	return 0
}

t_cleanup_all() {
	t_cleanup
	rm -rf "$T_DIR"
}
trap t_cleanup_all EXIT
trap 'exit 130' INT TERM

# need CMD...: SKIP the whole script (exit 0) when a tool is missing.
t_need() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null && [ ! -e "$c" ]; then
			t_skip "$(basename "$0" .sh)" "$c not found"
			exit 0
		fi
	done
}

# run_tests [NAME...]: run each test_* function (in file order, or those
# named), each in a subshell bounded by T_TIMEOUT, cleaning up after each.
run_tests() {
	local fns fn n=0 pid rc before after
	if [ $# -gt 0 ]; then
		fns="$*"
	else
		fns=$(grep -oE '^test_[A-Za-z0-9_]+\(\)' "$0" | tr -d '()')
	fi
	if [ "$(id -u)" != 0 ]; then
		t_skip "$(basename "$0" .sh)" "needs root"
		return 0
	fi
	for fn in $fns; do
		n=$((n + 1))
		export XDPSBC_PIN_ROOT=$T_PIN_BASE-$n
		before=$(wc -l <"$T_DIR/failed" 2>/dev/null || echo 0)
		("$fn") &
		pid=$!
		# The watchdog kills its sleep when told to stand down.
		(
			trap 'kill $s 2>/dev/null; exit 0' TERM
			sleep "$T_TIMEOUT" &
			s=$!
			wait $s && kill -TERM "$pid" 2>/dev/null
		) &
		local dog=$!
		wait "$pid"
		rc=$?
		kill "$dog" 2>/dev/null
		wait "$dog" 2>/dev/null
		after=$(wc -l <"$T_DIR/failed" 2>/dev/null || echo 0)
		if [ "$rc" != 0 ] && [ "$before" = "$after" ]; then
			t_fail "$fn" "exited $rc (timeout ${T_TIMEOUT}s?) without a FAIL line"
		fi
		t_cleanup
	done
	[ ! -s "$T_DIR/failed" ]
}
