#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The xdpsbc CLI without traffic: every bad input gets a one-line error
# naming the problem, a non-zero exit and no change; JSON parses; the lock
# serialises runs; a full blocklist (the real map, default size) is refused
# without change, and an import that fills it midway is rolled back.
. "$(dirname "$0")/../lib/testlib.sh"
t_need jq flock "$XS"

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

# state: everything a change could touch, as one comparable JSON text.
state() {
	{
		xs block list -j | jq -c 'map(del(.remaining_s, .expires, .added))'
		xs trust list -j
		xs media ipv4-only status -j
	} 2>&1
}

seed() {
	xs block add 192.0.2.0/24 --for 1h --reason seed >/dev/null &&
		xs trust add 198.51.100.7 >/dev/null &&
		xs media ipv4-only on >/dev/null
}

test_bad_cidr() {
	local before
	seed || { t_fail bad_cidr_seed "seeding failed"; return 1; }
	before=$(state)
	expect_err cidr_garbage "invalid CIDR 'foo'" xs block add foo
	expect_err cidr_octet "invalid CIDR '192.0.2.300/24'" xs block add 192.0.2.300/24
	expect_err cidr_v4_33 "invalid CIDR '192.0.2.0/33'.*prefix length" xs block add 192.0.2.0/33
	expect_err cidr_v6_129 "invalid CIDR '2001:db8::/129'" xs block add 2001:db8::/129
	expect_err cidr_negative "invalid CIDR" xs block add 192.0.2.0/-1
	expect_err cidr_trailing "invalid CIDR" xs block add 192.0.2.0/24x
	expect_err cidr_empty_plen "invalid CIDR" xs block add 192.0.2.0/
	expect_err cidr_spaces "invalid CIDR" xs block add "192.0.2.0/ 24"
	expect_err cidr_del "invalid CIDR" xs block del 192.0.2.0/33
	expect_err cidr_trust "invalid CIDR '2001:db8::/200'" xs trust add 2001:db8::/200
	expect_err cidr_trust_del "invalid CIDR" xs trust del 1.2.3
	t_eq cidr_nothing_changed "$(state)" "$before" "state after bad CIDRs"
}

test_host_bits_cleared() {
	xs block add 192.0.2.77/24 >/dev/null && xs block add 2001:db8:1:2::5/48 >/dev/null
	t_eq host_bits "$(xs block list -j | jq -r '[.[].cidr] | sort | join(" ")')" \
		"192.0.2.0/24 2001:db8:1::/48"
	xs block add 203.0.113.9 >/dev/null
	t_check bare_address_is_32 "203.0.113.9/32 not listed" \
		bash -c "'$XS' block list -j | jq -e 'any(.[]; .cidr == \"203.0.113.9/32\")' >/dev/null"
}

test_unknown_interface() {
	expect_err unknown_iface_attach "unknown interface 'xsnosuch0'" xs attach xsnosuch0
	expect_err unknown_iface_detach "unknown interface 'xsnosuch0'" xs detach xsnosuch0
	expect_err bad_mode "invalid mode 'turbo'" xs attach lo --mode turbo
}

test_bad_duration() {
	local before d
	seed || { t_fail bad_duration_seed "seeding failed"; return 1; }
	before=$(state)
	expect_err duration_abc "invalid duration 'abc'" xs block add 203.0.113.0/24 --for abc
	expect_err duration_zero "invalid duration '0'" xs block add 203.0.113.0/24 --for 0
	expect_err duration_negative "invalid duration '-5'" xs block add 203.0.113.0/24 --for -5
	expect_err duration_unit "invalid duration '5x'" xs block add 203.0.113.0/24 --for 5x
	expect_err duration_two_units "invalid duration '1h30m'" xs block add 203.0.113.0/24 --for 1h30m
	expect_err duration_huge "invalid duration" xs block add 203.0.113.0/24 --for 99999999999d
	expect_err duration_missing "needs a value" xs block add 203.0.113.0/24 --for
	expect_err reason_long "reason too long" xs block add 203.0.113.0/24 --reason "$(printf 'r%.0s' {1..80})"
	t_eq duration_nothing_changed "$(state)" "$before" "state after bad durations"
	for d in 90 90s 15m 2h 7d 1w permanent; do
		xs block add 203.0.113.1 --for "$d" >/dev/null || t_fail "duration_$d" "rejected"
	done
	t_pass durations_accepted
}

test_bad_ports() {
	local before
	seed || { t_fail bad_ports_seed "seeding failed"; return 1; }
	before=$(state)
	expect_err ports_reversed "MIN is above MAX" xs media ports 20000-10000
	expect_err ports_zero "invalid port range '0-100'" xs media ports 0-100
	expect_err ports_big "invalid port range '1-70000'" xs media ports 1-70000
	expect_err ports_text "invalid port range 'abc'" xs media ports abc
	expect_err ports_single "invalid port range '100'" xs media ports 100
	expect_err ports_trailing "invalid port range" xs media ports 10-20x
	expect_err on_off "expected on or off" xs media ipv4-only maybe
	expect_err turn_on_off "expected on or off" xs media turn yes
	t_eq ports_nothing_changed "$(state)" "$before" "state after bad ports"
	xs media ports 30000-30010 >/dev/null
	t_eq ports_set "$(xs media ipv4-only status -j | jq -r .settings.rtp_ports)" "30000-30010"
}

test_bad_flood_settings() {
	local before
	seed || { t_fail bad_flood_seed "seeding failed"; return 1; }
	before=$(xs flood status -j)
	expect_err flood_rate_zero "invalid --rate '0'" xs flood set --rate 0
	expect_err flood_rate_text "invalid --rate 'x'" xs flood set --rate x
	expect_err flood_window "invalid --window 'abc'" xs flood set --window abc
	expect_err flood_ban "invalid --ban" xs flood set --ban -5
	expect_err flood_port "invalid port '99999'" xs flood set --ports 5060,99999
	expect_err flood_prefix "invalid --prefix4" xs flood set --prefix4 33
	t_eq flood_nothing_changed "$(xs flood status -j)" "$before" "flood settings after bad input"
	xs flood set --rate 40 --window 4 --ban 60 --ports 5060,5080 >/dev/null
	t_eq flood_set "$(xs flood status -j | jq -c '[.rate, .window_s, .ban_s, .ports]')" \
		'[40,4,60,"5060,5080"]'
	xs flood off >/dev/null
	t_eq flood_off "$(xs flood status -j | jq .on)" false
	t_eq bans_empty "$(xs bans -j)" "[]"
}

test_usage_errors() {
	expect_err unknown_command "unknown command 'frobnicate'" xs frobnicate
	expect_err unknown_subcommand "unknown or missing subcommand" xs block zap
	expect_err unknown_option "unknown option '--forever'" xs block add 192.0.2.1 --forever
	expect_err extra_argument "unexpected argument" xs block del 192.0.2.1 192.0.2.2
	expect_err missing_argument "missing argument" xs block add
	expect_err del_absent "192.0.2.99/32 is not in the blocklist" xs block del 192.0.2.99
	expect_err detach_absent "not attached" xs detach lo
	local c ok=1
	while read -r c; do
		# shellcheck disable=SC2086
		xs $c --help >/dev/null 2>&1 || { ok=0; t_fail "help_$c" "--help failed"; }
	done < <(xs --help | sed -n 's/^  xdpsbc \([a-z0-9-]*\( [a-z0-9-]*\)\?\) .*/\1/p; s/^  xdpsbc \([a-z0-9-]*\)$/\1/p')
	[ $ok = 1 ] && t_pass help_every_command
}

test_import_bad_line() {
	local f=$T_DIR/bad.txt before
	seed || { t_fail import_seed "seeding failed"; return 1; }
	before=$(state)
	printf '%s\n' '# a comment' '' '203.0.113.0/24,1h,first' '192.0.2.0/24,permanent,overwrite' \
		'2001:db8:5::/48' '203.0.113.300,2h,bad' '198.51.100.0/24' >"$f"
	expect_err import_bad_cidr_line "$f:6: invalid CIDR '203.0.113.300'" xs block import "$f"
	t_eq import_bad_nothing_changed "$(state)" "$before" "state after a bad import"
	printf '%s\n' '203.0.113.0/24,1h' '198.51.100.0/24,abc,x' >"$f"
	expect_err import_bad_duration_line "$f:2: invalid duration 'abc'" xs block import "$f"
	expect_err import_missing_file "No such file" xs block import "$T_DIR/none.txt"
	t_eq import_bad2_nothing_changed "$(state)" "$before" "state after a bad import"

	printf '%s\n' '# good' '203.0.113.0/24, 1h , scanner, from the honeypot' '' \
		'2001:db8:5::/48,,no expiry' '198.51.100.128/25' >"$f"
	xs block import "$f" >/dev/null || t_fail import_good "import failed"
	t_eq import_good_count "$(xs block list -j | jq length)" 4
	t_eq import_reason_commas \
		"$(xs block list -j | jq -r '.[] | select(.cidr == "203.0.113.0/24") | .reason')" \
		"scanner, from the honeypot"
	t_eq import_empty_duration_permanent \
		"$(xs block list -j | jq -r '.[] | select(.cidr == "2001:db8:5::/48") | .permanent')" true
}

# A block over a trusted network would never match its sources: refused,
# naming the trusted network, nothing changed; --force adds it anyway.
test_block_overlaps_trusted() {
	local f=$T_DIR/overlap.txt before
	seed || { t_fail overlap_seed "seeding failed"; return 1; }
	xs trust add 2001:db8:7::/48 >/dev/null
	before=$(state)
	expect_err overlap_inside "198.51.100.7/32 overlaps the trusted network 198.51.100.7/32" \
		xs block add 198.51.100.7
	expect_err overlap_covering "198.51.0.0/16 overlaps the trusted network 198.51.100.7/32.*--force" \
		xs block add 198.51.0.0/16 --for 1h
	expect_err overlap_v6 "overlaps the trusted network 2001:db8:7::/48" \
		xs block add 2001:db8:7:1::/64
	printf '%s\n' '203.0.113.0/24,1h' '198.51.100.0/24,2h,overlaps' >"$f"
	expect_err overlap_import "$f:2: 198.51.100.0/24 overlaps the trusted network 198.51.100.7/32" \
		xs block import "$f"
	t_eq overlap_nothing_changed "$(state)" "$before" "state after refused blocks"
	t_check overlap_neighbour "a block next to the trusted address was refused" \
		xs block add 198.51.100.8
	t_check overlap_forced "--force did not add it" xs block add 198.51.0.0/16 --force
	t_check overlap_import_forced "import --force failed" xs block import "$f" --force
	t_eq overlap_forced_listed "$(xs block list -j | jq -r '[.[].cidr] | sort | join(" ")')" \
		"192.0.2.0/24 198.51.0.0/16 198.51.100.0/24 198.51.100.8/32 203.0.113.0/24"
}

test_expired_listing_and_gc() {
	xs block add 192.0.2.1 --for 1s --reason short >/dev/null
	xs block add 192.0.2.2 --reason long >/dev/null
	sleep 1.5
	t_eq expired_flag "$(xs block list -j | jq -r '.[] | select(.cidr == "192.0.2.1/32") | .expired')" true
	t_check expired_text "list does not say expired" bash -c "'$XS' block list | grep -q '192.0.2.1/32.*expired'"
	t_eq gc_removed "$(xs gc -j | jq .removed)" 1
	t_eq gc_kept "$(xs block list -j | jq -r '[.[].cidr] | join(" ")')" "192.0.2.2/32"
}

test_json_valid() {
	local c ok=1
	seed >/dev/null
	for c in "status" "block list" "trust list" "media ipv4-only status" "media turn status" \
		"stats" "flows" "gc"; do
		# shellcheck disable=SC2086
		if ! xs $c -j | jq -e . >/dev/null; then
			ok=0
			t_fail "json_${c// /_}" "'xdpsbc $c -j' is not valid JSON"
		fi
	done
	[ $ok = 1 ] && t_pass json_every_listing
	t_eq json_stats_names "$(xs stats -j | jq -r '.reasons | keys | length')" \
		"$(grep -c '^XS_REASON(' "$T_ROOT/bpf/xdpsbc_reasons.inc")"
	t_eq json_watch_lines "$(xs stats -j --watch --interval 0.1 --count 3 | jq -c .time | wc -l)" 3
	t_eq json_status_entries "$(xs status -j | jq -c '[.entries.block4, .entries.trust4]')" "[1,1]"
}

test_lock_contention() {
	local pin=$XDPSBC_PIN_ROOT holder t0 t1
	xs block add 192.0.2.1 >/dev/null || { t_fail lock_setup "block add failed"; return 1; }
	flock "$pin" sleep 2 &
	holder=$!
	sleep 0.3
	XDPSBC_LOCK_TIMEOUT=0.3 expect_err lock_busy "locked by another xdpsbc run" \
		env XDPSBC_LOCK_TIMEOUT=0.3 "$XS" block add 192.0.2.2
	t0=$(date +%s.%N)
	xs block add 192.0.2.3 >/dev/null
	t1=$(date +%s.%N)
	wait $holder
	t_check lock_waits "did not wait for the holder" \
		awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a > 1.0) }'
	t_eq lock_after "$(xs block list -j | jq -r '[.[].cidr] | sort | join(" ")')" \
		"192.0.2.1/32 192.0.2.3/32"
	# Parallel writers: every add lands.
	for i in $(seq 10 29); do xs block add 203.0.113.$i >/dev/null & done
	wait
	t_eq lock_parallel "$(xs block list -j | jq length)" 22
}

test_full_blocklist() {
	local f=$T_DIR/fill.txt g=$T_DIR/over.txt before n max
	# The real map at its default size: IPv6 /128s inside 2001:db8::/32 (about 3 s).
	xs block add 2001:db8:ffff::/48 --for 1h --reason keep >/dev/null
	max=$(xs status -j | jq '.maps[] | select(.name == "xs_block6") | .max_entries')
	awk -v n="$max" 'BEGIN { for (i = 0; i < n - 1; i++)
		printf "2001:db8:%x:%x::1\n", int(i / 65536), i % 65536 }' >"$f"
	xs block import - <"$f" >/dev/null ||
		{ t_fail full_fill "could not fill the blocklist"; return 1; }
	n=$(xs status -j | jq .entries.block6)
	t_eq full_size "$n" "$max" "IPv6 entries"
	before=$(xs block list -j | jq -c 'map(select(.cidr | startswith("2001:db8:ffff")) | del(.remaining_s, .expires, .added))')
	expect_err full_add "blocklist full" xs block add 2001:db8:eeee::1
	# Overwrite one entry, then overflow: the overwrite must be undone too.
	printf '%s\n' '2001:db8:ffff::/48,2h,changed' '2001:db8:eeee::1' >"$g"
	expect_err full_import "$g:2: blocklist full.*rolled back" xs block import "$g"
	t_eq full_import_restored "$(xs block list -j | jq -c 'map(select(.cidr | startswith("2001:db8:ffff")) | del(.remaining_s, .expires, .added))')" "$before"
	t_eq full_unchanged "$(xs status -j | jq .entries.block6)" "$max" "IPv6 entries"
	xs block add 2001:db8:ffff::/48 --for 3h >/dev/null
	t_check full_refresh_existing "refreshing an entry of a full map failed" test $? = 0
	xs unload >/dev/null
}

# bpffs not mounted (as after boot): the CLI mounts it. In a private mount
# namespace, so the host's /sys/fs/bpf and everyone's pins stay untouched.
test_mounts_bpffs() {
	local out
	out=$(unshare -m --propagation private bash -c '
		umount -l /sys/fs/bpf 2>/dev/null
		[ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ] && { echo still-mounted; exit 1; }
		"$1" block add 192.0.2.1 >/dev/null || exit 1
		stat -f -c %T /sys/fs/bpf
		"$1" block list -j | jq -r ".[0].cidr"' _ "$XS" 2>&1)
	t_eq bpffs_mounted "$(echo $out)" "bpf_fs 192.0.2.1/32" "fs type and entry"
}

# A flow written the way sigd writes it (here with bpftool) lists field by field.
test_flows_listing() {
	xs block add 192.0.2.1 >/dev/null # creates the pins
	t_eq flows_empty "$(xs flows -j)" "[]"
	# key 192.0.2.1:20000/udp (a 16-byte address, port, proto, v6 = 0); value per struct xs_flow (ports and addresses
	# big-endian, the rest little-endian on this host), zeros up to its size.
	local v vsize
	# Addresses are 16-byte unions (IPv4 in the first four bytes).
	local z="00 00 00 00 00 00 00 00 00 00 00 00"
	v="c6 33 64 07 $z c0 00 02 01 $z 0f a0 4e 22 c6 33 64 07 $z c6 33 64 08 $z
		0f a0 0f a1 09 00 00 00 03 00 00 00 88 77 66 55 44 33 22 11
		0a 00 00 00 00 00 00 00 b8 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
	vsize=$(bpftool map show pinned "$XDPSBC_PIN_ROOT/xs_flows" -j | jq .bytes_value)
	while [ "$(echo $v | wc -w)" -lt "$vsize" ]; do v="$v 00"; done
	# shellcheck disable=SC2086
	bpftool map update pinned "$XDPSBC_PIN_ROOT/xs_flows" \
		key hex c0 00 02 01 $z 4e 20 11 00 value hex $v ||
		{ t_fail flows_insert "bpftool map update failed"; return 1; }
	t_eq flows_json "$(xs flows -j | jq -c '.[0] | [.edge, .dst, .src, .peer, .flags,
		.packets, .bytes, .idle_s, .cookie]')" \
		'["192.0.2.1:20000","198.51.100.7:4000","192.0.2.1:20002","198.51.100.8:4001","latch,latched",10,1720,null,"1122334455667788"]'
	t_check flows_text "text listing lacks the flow" \
		bash -c "'$XS' flows | grep -q '192.0.2.1:20000 .*198.51.100.7:4000'"
	t_eq flows_status "$(xs status -j | jq .entries.flows)" 1
}

run_tests "$@"
