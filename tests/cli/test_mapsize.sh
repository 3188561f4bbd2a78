#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Map sizes: the maps are created with the configured sizes (--map-sizes,
# $XDPSBC_MAP_SIZES); status shows each map's size, use and kernel memory; a
# full blocklist or trusted list is refused with a clear error and nothing
# stored is lost; the flood map evicts instead of failing; a pin of another
# size is kept and said so; the default sizes stay well under 512 MB of
# kernel memory, at creation and with every big map full.
. "$(dirname "$0")/../lib/testlib.sh"
MAP_FILL=${MAP_FILL:-$BUILD/tests/tools/map_fill}
t_need bpftool jq "$XS" "$MAP_FILL"

map_max() { bpftool map show pinned "$XDPSBC_PIN_ROOT/$1" -j | jq .max_entries; }
# status_map NAME FIELD: one field of a map in `xdpsbc status -j`.
status_map() { xs status -j | jq --arg n "$1" ".maps[] | select(.name == \$n) | .$2"; }

# expect_err NAME PATTERN CMD...: CMD must fail with one stderr line matching PATTERN.
expect_err() {
	local name=$1 pat=$2 rc lines
	shift 2
	"$@" >"$T_DIR/out" 2>"$T_DIR/err"
	rc=$?
	lines=$(wc -l <"$T_DIR/err")
	if [ "$rc" = 0 ]; then
		t_fail "$name" "'$*' succeeded"
	elif [ "$lines" != 1 ]; then
		t_fail "$name" "'$*': $lines stderr lines, want 1: $(head -c 300 "$T_DIR/err")"
	elif ! grep -qE -- "$pat" "$T_DIR/err"; then
		t_fail "$name" "'$*': error '$(cat "$T_DIR/err")' does not match /$pat/"
	else
		t_pass "$name"
	fi
}

test_sizes_at_creation() {
	xs --map-sizes flood=1024,blocklist=16 block add 192.0.2.1 >/dev/null ||
		{ t_fail sizes_create "block add with --map-sizes failed"; return 1; }
	t_eq sizes_flood "$(map_max xs_flood)" 1024
	t_eq sizes_block "$(for m in xs_block4 xs_block6 xs_blknote4 xs_blknote6; do map_max $m; done | sort -u)" 16
	t_eq sizes_flows_default "$(map_max xs_flows)" 262144 "flows (not named: default)"
	t_eq sizes_status_max "$(status_map xs_flood max_entries)" 1024
	t_eq sizes_status_use "$(status_map xs_block4 entries)" 1 "xs_block4 entries"
	t_check sizes_status_memory "xs_flood memlock not reported" \
		test "$(status_map xs_flood memlock_bytes)" -gt $((1024 * 64))
	t_check sizes_status_text "status text lacks the maps table" \
		bash -c "'$XS' --map-sizes flood=1024,blocklist=16 status | grep -E '^  xs_flood +lru_hash +1024 +0 +0% +[0-9.]+ MiB$' >/dev/null"
	# Without the sizes, status names the configured size the pins differ from.
	t_check sizes_status_differs "status does not say the pin keeps its size" \
		bash -c "'$XS' status | grep -q 'xs_flood .*(pinned size kept; flood=262144 applies when re-created)'"
	XDPSBC_PIN_ROOT=$XDPSBC_PIN_ROOT-env XDPSBC_MAP_SIZES=flows=64,trusted=8 xs trust add 198.51.100.0/24 >/dev/null
	t_eq sizes_env "$(XDPSBC_PIN_ROOT=$XDPSBC_PIN_ROOT-env map_max xs_flows) $(XDPSBC_PIN_ROOT=$XDPSBC_PIN_ROOT-env map_max xs_trust6)" "64 8"
	XDPSBC_PIN_ROOT=$XDPSBC_PIN_ROOT-env xs unload >/dev/null
}

test_bad_sizes() {
	expect_err size_too_small "map sizes: flood=1: entries from 64 to" xs --map-sizes flood=1 block add 192.0.2.1
	expect_err size_unknown "map sizes: 'bogus': expected NAME=ENTRIES" xs --map-sizes bogus=3 status
	expect_err size_not_number "map sizes: flows=lots" xs --map-sizes flows=lots status
	expect_err size_env "XDPSBC_MAP_SIZES" env XDPSBC_MAP_SIZES=blocklist=0 "$XS" block add 192.0.2.1
	t_check size_nothing_created "a bad size still created pins" test ! -e "$XDPSBC_PIN_ROOT/xs_config"
}

test_full_blocklist() {
	local before i
	for i in $(seq 1 16); do
		xs --map-sizes blocklist=16 block add "192.0.2.$i" --reason "r$i" >/dev/null ||
			{ t_fail full_fill "add $i failed"; return 1; }
	done
	before=$(xs block list -j | jq -c 'map(del(.remaining_s, .expires, .added))')
	expect_err full_refused "block add: blocklist full \(16 of 16 IPv4, 0 of 16 IPv6 entries; map-sizes blocklist\); nothing changed" \
		xs block add 192.0.2.100 --reason over
	printf '%s\n' '192.0.2.1,2h,changed' '192.0.2.101' >"$T_DIR/over.txt"
	expect_err full_import_refused "blocklist full.*rolled back" xs block import "$T_DIR/over.txt"
	t_eq full_nothing_lost "$(xs block list -j | jq -c 'map(del(.remaining_s, .expires, .added))')" "$before"
	xs block add 192.0.2.1 --for 1h >/dev/null
	t_check full_refresh_existing "refreshing an entry of a full blocklist failed" test $? = 0
	t_eq full_status_use "$(status_map xs_block4 entries)/$(status_map xs_block4 max_entries)" 16/16
	# The other family has its own 16.
	xs block add 2001:db8::1 >/dev/null
	t_check full_v6_own_room "IPv6 add refused while only IPv4 is full" test $? = 0
}

test_full_trusted() {
	local i
	for i in 1 2 3 4; do xs --map-sizes trusted=4 trust add 198.51.100.$i >/dev/null; done
	expect_err trust_full_refused "trust add: trusted networks full \(4 per family" xs trust add 198.51.100.9
	t_eq trust_full_nothing_lost "$(xs trust list -j | jq -c '[.[].cidr]')" \
		'["198.51.100.1/32","198.51.100.2/32","198.51.100.3/32","198.51.100.4/32"]'
}

# The flood map is an LRU: a full one evicts its oldest sources, inserts never fail.
test_flood_evicts() {
	xs --map-sizes flood=64 block add 192.0.2.1 >/dev/null
	t_check flood_inserts_never_fail "an insert into the full flood map failed" \
		"$MAP_FILL" "$XDPSBC_PIN_ROOT/xs_flood" 200
	t_check flood_bounded "more entries than max_entries" test "$(status_map xs_flood entries)" -le 64
}

# A pin of another size is kept, entries and all, and attach says so.
test_pin_kept() {
	local ns=${XS_PREFIX}m id
	xs --map-sizes blocklist=16 block add 192.0.2.0/24 --reason kept >/dev/null
	id=$(bpftool map show pinned "$XDPSBC_PIN_ROOT/xs_block4" -j | jq .id)
	ns_create "$ns" && ns_create "${ns}p" && veth_pair "$ns" e0 "${ns}p" p0 || return 1
	in_ns "$ns" "$XS" --map-sizes blocklist=32 attach e0 --mode skb >"$T_DIR/attach.out" 2>&1 ||
		{ t_fail pin_kept_attach "$(cat "$T_DIR/attach.out")"; return 1; }
	t_check pin_kept_warns "attach did not say the pin keeps its size" \
		grep -q "xs_block4: pinned with 16 entries, map-sizes blocklist=32: keeping the pinned map" "$T_DIR/attach.out"
	t_eq pin_kept_same_map "$(bpftool map show pinned "$XDPSBC_PIN_ROOT/xs_block4" -j | jq .id) $(map_max xs_block4)" "$id 16"
	t_eq pin_kept_entries "$(xs block list -j | jq -c '[.[] | [.cidr, .reason]]')" '[["192.0.2.0/24","kept"]]'
}

# The defaults on a small VM: what a fresh pin root costs, and with every big map full.
test_default_memory() {
	local fresh full m
	xs block add 192.0.2.1 >/dev/null
	fresh=$(xs status -j | jq .maps_memlock_bytes)
	echo "default map memory at creation: $fresh bytes ($((fresh / 1048576)) MiB)"
	t_check default_memory_fresh "a fresh pin root costs $fresh bytes" test "$fresh" -lt $((64 * 1048576))
	for m in xs_flood xs_flows xs_block4 xs_block6 xs_blknote4 xs_blknote6 xs_trust4 xs_trust6; do
		# xs_block4 holds 192.0.2.1 already: it fills up to one short.
		"$MAP_FILL" "$XDPSBC_PIN_ROOT/$m" "$(map_max $m)" >/dev/null
	done
	# An LRU map may evict before it is exactly full (per-CPU free lists).
	t_eq default_all_full "$(xs status -j | jq '[.maps[] | select(.size_knob) |
		if .type == "lru_hash" then .entries * 10 >= .max_entries * 9 else .entries == .max_entries end] | all')" true
	full=$(xs status -j | jq .maps_memlock_bytes)
	echo "default map memory with flood, flows, blocklist and trusted full: $full bytes ($((full / 1048576)) MiB)"
	t_check default_memory_full "full maps cost $full bytes" test "$full" -lt $((256 * 1048576))
}

run_tests "$@"
