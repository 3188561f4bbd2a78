#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# An upgrade over pins an older xdpsbc left: the verdict-reason list only
# grows, so an older xs_stats pin has fewer entries than this program counts.
# The CLI still reads it (the missing reasons as zero); the next attach
# re-creates it at the program's size, and every other pin (blocklist,
# trusted networks, settings) is kept, the same maps with the same entries.
. "$(dirname "$0")/../lib/testlib.sh"
t_need bpftool jq "$XS" "$UDP_PROBE"

NS=${XS_PREFIX}u

map_id() { bpftool map show pinned "$XDPSBC_PIN_ROOT/$1" -j | jq .id; }
map_entries() { bpftool map show pinned "$XDPSBC_PIN_ROOT/$1" -j | jq .max_entries; }
reason_count() { xs stats -j | jq --arg r "$1" '.reasons[$r].packets'; }

test_stats_map_resized_on_upgrade() {
	local nreasons old=5 ids_before ids_after
	nreasons=$(grep -c '^XS_REASON(' "$T_ROOT/bpf/xdpsbc_reasons.inc")
	xs block add 192.0.2.0/24 --reason kept >/dev/null &&
		xs trust add 198.51.100.0/24 >/dev/null &&
		xs media ports 30000-30010 >/dev/null || { t_fail upgrade_setup "CLI setup failed"; return 1; }
	# What an older version would have pinned: xs_stats with the first 5 reasons.
	rm -f "$XDPSBC_PIN_ROOT/xs_stats"
	bpftool map create "$XDPSBC_PIN_ROOT/xs_stats" type percpu_array key 4 value 16 \
		entries $old name xs_stats || { t_fail upgrade_old_pin "bpftool map create failed"; return 1; }
	t_eq upgrade_old_pin_size "$(map_entries xs_stats)" $old
	t_eq upgrade_old_stats_read "$(xs stats -j | jq '.reasons | length')" "$nreasons" \
		"reasons listed from the older pin"
	ids_before=$(for m in xs_block4 xs_blknote4 xs_trust4 xs_config xs_flows; do map_id $m; done | tr '\n' ' ')

	ns_create "$NS" && ns_create "${NS}s" || return 1
	veth_pair "${NS}s" s0 "$NS" e0 || return 1
	addr_add "${NS}s" s0 192.0.2.10/24 && addr_add "$NS" e0 192.0.2.1/24 || return 1
	tx_off "${NS}s" s0
	in_ns "$NS" "$XS" attach e0 --mode skb >"$T_DIR/attach.out" 2>&1 ||
		{ t_fail upgrade_attach "$(cat "$T_DIR/attach.out")"; return 1; }
	t_check upgrade_warns "attach did not say it re-created xs_stats" \
		grep -q "xs_stats: $old entries, this program counts $nreasons: re-creating" "$T_DIR/attach.out"
	t_eq upgrade_stats_size "$(map_entries xs_stats)" "$nreasons" "xs_stats entries after attach"
	ids_after=$(for m in xs_block4 xs_blknote4 xs_trust4 xs_config xs_flows; do map_id $m; done | tr '\n' ' ')
	t_eq upgrade_other_pins_kept "$ids_after" "$ids_before" "map ids of the other pins"
	t_eq upgrade_block_kept "$(xs block list -j | jq -c '[.[] | [.cidr, .reason]]')" '[["192.0.2.0/24","kept"]]'
	t_eq upgrade_trust_kept "$(xs trust list -j | jq -r '.[].cidr')" 198.51.100.0/24
	t_eq upgrade_config_kept "$(xs media ipv4-only status -j | jq -r .settings.rtp_ports)" 30000-30010

	# drop-blocklist lies past the old pin's entries: counted now.
	udp_send "${NS}s" 192.0.2.10 4000 192.0.2.1 5080 20
	t_check upgrade_new_reason_counted "drop-blocklist not counted after the upgrade" \
		wait_for 30 bash -c "[ \"\$('$XS' stats -j | jq '.reasons[\"drop-blocklist\"].packets')\" -ge 20 ]"
	t_check upgrade_pipeline_counted "the program counts into another map than the pin" \
		test "$(reason_count drop-blocklist)" -ge 20
}

run_tests "$@"
