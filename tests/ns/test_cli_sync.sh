#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Each state-changing CLI command re-syncs exactly the nftables sets it
# touches (its .nft_sync in the command table), and a read or a refused
# command re-syncs none. Observed from outside: a sentinel element is put in
# one set of each group (block4, trust4, sip_ports) before the command; a
# re-sync flushes and refills its sets, so the sentinels gone name the groups
# that were synced. The -v log line must say the same. Every command of
# `xdpsbc --help` is classified here, so a new one cannot go unchecked.
. "$(dirname "$0")/../lib/testlib.sh"
t_need nft jq "$XS"

NS=${XS_PREFIX}c

# The groups of XS_NFT_SYNC_*: a set of each, and a sentinel no command adds.
SENT_block="block4 192.0.2.250"
SENT_trust="trust4 198.51.100.250"
SENT_config="sip_ports 5999"

nft_has() { in_ns "$NS" nft -j list set inet xdpsbc "$1" | jq -e --arg v "$2" \
	'[.nftables[].set.elem // [] | .[] | tostring] | any(. == $v or . == ("\"" + $v + "\""))' >/dev/null; }

sentinels_put() {
	local g s
	for g in block trust config; do
		s=SENT_$g
		# shellcheck disable=SC2086
		set -- ${!s}
		in_ns "$NS" nft add element inet xdpsbc "$1" "{ $2 }" || return 1
	done
}

# The groups whose sentinel is gone, "-" for none.
synced() {
	local g s out=""
	for g in block trust config; do
		s=SENT_$g
		# shellcheck disable=SC2086
		set -- ${!s}
		nft_has "$1" "$2" || out="$out $g"
	done
	echo "${out# }" | sed 's/^$/-/'
}

# The groups the -v log line names, "-" for none.
logged() {
	sed -n 's/.*nft sets re-synced: *//p' "$1" | head -1 | sed 's/^$/-/;s/^ *//' | grep . || echo -
}

# EXPECT|COMMAND: what each command re-syncs ("-": nothing).
TABLE=(
	"block|block add 203.0.113.5 --for 1h"
	"block|block del 203.0.113.5"
	"block|block import @FILE"
	"block|block flush"
	"block|gc"
	"trust|trust add 198.51.100.0/28"
	"trust|trust del 198.51.100.0/28"
	"config|media ipv4-only off"
	"config|media ipv4-only on"
	"config|media ports 30000-30010"
	"config|media turn on"
	"config|flood off"
	"config|flood on"
	"config|flood set --rate 40"
	"-|block list"
	"-|trust list"
	"-|media ipv4-only status"
	"-|media turn status"
	"-|flood status"
	"-|bans"
	"-|stats"
	"-|flows"
	"-|status"
	"-|fw status"
	# Refused before anything is opened: nothing changes, nothing re-syncs.
	"-|block add 192.0.2.0/33"
	"-|trust add nonsense"
	"-|media ports 20-10"
	"-|flood set"
)
# Not in the table, and why: they replace or remove the whole table, or do
# not touch the maps' policy at all.
NOT_SYNCING="attach detach unload fw install fw uninstall fw persist fw unpersist calls policy"

test_every_command_classified() {
	local names row missing=""
	names=$(xs --help | sed -n 's/^  xdpsbc \([a-z0-9-]*\( [a-z0-9-]*\)\?\) .*/\1/p; s/^  xdpsbc \([a-z0-9-]*\)$/\1/p')
	while read -r name; do
		local found=0
		for row in "${TABLE[@]}"; do
			[[ "${row#*|} " == "$name "* ]] && found=1
		done
		[[ " $NOT_SYNCING " == *" $name "* ]] && found=1
		[ $found = 1 ] || missing="$missing '$name'"
	done <<<"$names"
	t_eq sync_every_command_classified "${missing# }" "" "commands with no expected re-sync"
}

test_sync_table() {
	local row want cmd got log f=$T_DIR/import.txt
	ns_create "$NS" || return 1
	printf '203.0.113.64/26,1h,imported\n' >"$f"
	in_ns "$NS" "$XS" trust add 198.51.100.0/28 >/dev/null &&
		in_ns "$NS" "$XS" fw install >/dev/null || { t_fail sync_setup "fw install failed"; return 1; }
	in_ns "$NS" "$XS" trust del 198.51.100.0/28 >/dev/null
	for row in "${TABLE[@]}"; do
		want=${row%%|*}
		cmd=${row#*|}
		cmd=${cmd//@FILE/$f}
		sentinels_put || { t_fail sync_sentinels "cannot add the sentinel elements"; return 1; }
		# shellcheck disable=SC2086
		in_ns "$NS" "$XS" -v $cmd >"$T_DIR/out" 2>"$T_DIR/err"
		got=$(synced)
		log=$(logged "$T_DIR/err")
		t_eq "sync_${cmd// /_}" "$got" "$want" "sets re-synced by 'xdpsbc $cmd'"
		t_eq "sync_log_${cmd// /_}" "$log" "$want" "the -v log of 'xdpsbc $cmd'"
		# Clean up what the sentinels left, so the next command starts clean.
		for g in block trust config; do
			s=SENT_$g
			# shellcheck disable=SC2086
			set -- ${!s}
			in_ns "$NS" nft delete element inet xdpsbc "$1" "{ $2 }" 2>/dev/null
		done
	done
}

run_tests "$@"
