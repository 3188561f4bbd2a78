#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The nftables backend (fw/, `xdpsbc fw ...`) in namespaces the
# test creates: the table's state is read back with `nft -j list table inet
# xdpsbc` (jq) after every operation; a foreign table of the operator
# survives install and uninstall; packets from a blocked source, IPv6 media
# and UDP to a closed relay port are dropped by nft without any XDP program;
# persist/unpersist touch only their file and their include line.
. "$(dirname "$0")/../lib/testlib.sh"
t_need nft jq python3 "$XS" "$UDP_PROBE"

NS=${XS_PREFIX}n

# nftj NS: the table as JSON; nft_set NS SET: its elements, one per line.
nftj() { in_ns "$1" nft -j list table inet xdpsbc 2>/dev/null; }
nft_set() {
	nftj "$1" | jq -r --arg s "$2" '.nftables[] | select(.set.name == $s) | .set.elem // [] | .[] |
		if type == "object" then (.elem.val // .) else . end |
		if type == "object" then
			(if .prefix then "\(.prefix.addr)/\(.prefix.len)" elif .range then "\(.range[0])-\(.range[1])" else tostring end)
		else tostring end'
}
nft_rules() { nftj "$1" | jq '[.nftables[] | select(.rule) | .rule | select(.comment | startswith("xdpsbc"))] | length'; }
# arrive SRC DST PORT COUNT SECONDS: datagrams from ${NS}s that reach DST:PORT in $NS.
arrive() {
	local tag=r$RANDOM
	udp_recv_start "$NS" "$2" "$3" "$5" "$tag" || { echo "recv-failed"; return; }
	udp_send "${NS}s" "$1" 4000 "$2" "$3" "$4"
	udp_recv_count "$tag"
}
# arrive_text SRC DST PORT COUNT TEXT: datagrams carrying TEXT (printf escapes)
# from ${NS}s, 1 ms apart, that reach DST:PORT in $NS.
arrive_text() {
	local tag=r$RANDOM
	udp_recv_start "$NS" "$2" "$3" 3 "$tag" || { echo "recv-failed"; return; }
	in_ns "${NS}s" python3 - "$@" <<-'EOF'
		import socket, sys, time
		src, dst, port, n, text = sys.argv[1:6]
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind((src, 0))
		data = text.encode().decode("unicode_escape").encode("latin-1")
		for _ in range(int(n)):
		    s.sendto(data, (dst, int(port)))
		    time.sleep(0.001)
	EOF
	udp_recv_count "$tag"
}
banned4() { nftj "$NS" | jq -r '.nftables[] | select(.set.name == "ban4") | .set.elem // [] | .[] | .elem.val // .'; }
foreign_ok() { in_ns "$1" nft list table ip operator 2>/dev/null | grep -q 'comment "mine"'; }

setup_ns() {
	ns_create "$NS" || return 1
	in_ns "$NS" nft -f - <<-'NFT'
		table ip operator {
			chain input {
				type filter hook input priority filter; policy accept;
				tcp dport 22 accept comment "mine"
			}
		}
	NFT
}

test_install_uninstall() {
	setup_ns || return 1
	in_ns "$NS" "$XS" block add 192.0.2.0/24 --for 1h >/dev/null &&
		in_ns "$NS" "$XS" block add 2001:db8:bad::/48 >/dev/null &&
		in_ns "$NS" "$XS" trust add 198.51.100.0/24 >/dev/null || return 1
	t_check nft_install "fw install failed" in_ns "$NS" "$XS" fw install
	t_eq nft_install_rules "$(nft_rules "$NS")" 14 "rules with the xdpsbc comment"
	t_check nft_install_table_comment "no marker comment on the table" \
		bash -c "nsenter --net=/run/netns/$NS nft list table inet xdpsbc | grep -q 'comment \"xdpsbc\"'"
	t_eq nft_install_hook "$(nftj "$NS" | jq -r '.nftables[] | select(.chain) | "\(.chain.hook) \(.chain.prio)"')" "prerouting -300"
	t_eq nft_block4 "$(nft_set "$NS" block4)" 192.0.2.0/24
	t_eq nft_block6 "$(nft_set "$NS" block6)" 2001:db8:bad::/48
	t_eq nft_trust4 "$(nft_set "$NS" trust4)" 198.51.100.0/24
	t_check nft_block4_timeout "1h entry has no timeout" \
		test "$(nftj "$NS" | jq '[.nftables[] | select(.set.name == "block4") | .set.elem[] | .elem.timeout] | .[0]')" -gt 3500
	t_check nft_foreign_after_install "operator table gone" foreign_ok "$NS"
	t_eq nft_status_json "$(in_ns "$NS" "$XS" -j fw status | jq -c '[.nftables.installed, .nftables.complete]')" '[true,true]'
	# Only the test namespace got it: the CLI works in the netns it runs in.
	t_check nft_install_netns_only "a table inet xdpsbc appeared in the root namespace" \
		bash -c "! nft list table inet xdpsbc >/dev/null 2>&1"
	# A rule removed behind our back: status says so.
	h=$(nftj "$NS" | jq '[.nftables[] | select(.rule) | .rule | select(.comment == "xdpsbc: pinholes") | .handle][0]')
	in_ns "$NS" nft delete rule inet xdpsbc pre handle "$h"
	t_eq nft_status_incomplete "$(in_ns "$NS" "$XS" -j fw status | jq -c '[.nftables.installed, .nftables.complete, .nftables.rules]')" '[true,false,13]'
	# Installing again replaces ours, once.
	in_ns "$NS" "$XS" fw install >/dev/null
	t_eq nft_reinstall_once "$(in_ns "$NS" nft -j list tables | jq '[.nftables[] | select(.table.name == "xdpsbc")] | length')" 1
	# Status while another process changes the ruleset (the udp relay updates
	# its sets all the time): an interrupted dump is taken again, never an error.
	local stop=$T_DIR/churn.stop ok=0 st churn
	in_ns "$NS" bash -c 'for i in $(seq 400); do
		[ -e "$1" ] && break
		nft add rule inet xdpsbc pre udp dport 9 counter comment churn
		h=$(nft -a list chain inet xdpsbc pre | sed -n "s/.*comment \"churn\" # handle //p" | head -n 1)
		[ -n "$h" ] && nft delete rule inet xdpsbc pre handle "$h"
	done' churn "$stop" >/dev/null 2>&1 &
	churn=$!
	for i in $(seq 40); do
		st=$(in_ns "$NS" "$XS" -j fw status 2>&1) && [ "$(jq -r .nftables.installed <<<"$st")" = true ] &&
			ok=$((ok + 1))
	done
	touch "$stop"
	wait $churn
	t_eq nft_status_during_churn "$ok" 40
	t_check nft_uninstall "fw uninstall failed" in_ns "$NS" "$XS" fw uninstall
	t_check nft_uninstall_gone "table still there" bash -c "! nsenter --net=/run/netns/$NS nft list table inet xdpsbc 2>/dev/null"
	t_check nft_foreign_after_uninstall "operator table gone" foreign_ok "$NS"
	t_eq nft_status_after "$(in_ns "$NS" "$XS" -j fw status | jq -c '.nftables.installed')" false
}

# CLI changes reach the nft sets while the table is installed.
test_policy_sync() {
	local f
	setup_ns || return 1
	in_ns "$NS" "$XS" fw install >/dev/null || return 1
	in_ns "$NS" "$XS" block add 203.0.113.7 --for 10m >/dev/null
	t_eq nft_sync_block_add "$(nft_set "$NS" block4)" 203.0.113.7
	in_ns "$NS" "$XS" block add 203.0.113.0/24 >/dev/null
	# The /32 is inside the /24: the set holds the union.
	t_eq nft_sync_nested "$(nft_set "$NS" block4)" 203.0.113.0/24
	in_ns "$NS" "$XS" block del 203.0.113.0/24 >/dev/null
	t_eq nft_sync_block_del "$(nft_set "$NS" block4)" 203.0.113.7
	f=$T_DIR/list
	printf '192.0.2.1\n192.0.2.128/25,1h,scanner\n2001:db8::/32\n' >"$f"
	in_ns "$NS" "$XS" block import "$f" >/dev/null
	t_eq nft_sync_import "$(nft_set "$NS" block4 | sort | tr '\n' ' ')" "192.0.2.1 192.0.2.128/25 203.0.113.7 "
	t_eq nft_sync_import6 "$(nft_set "$NS" block6)" 2001:db8::/32
	in_ns "$NS" "$XS" block flush >/dev/null
	t_eq nft_sync_flush "$(nft_set "$NS" block4)$(nft_set "$NS" block6)" ""
	in_ns "$NS" "$XS" trust add 2001:db8:1::/64 >/dev/null
	t_eq nft_sync_trust_add "$(nft_set "$NS" trust6)" 2001:db8:1::/64
	in_ns "$NS" "$XS" trust del 2001:db8:1::/64 >/dev/null
	t_eq nft_sync_trust_del "$(nft_set "$NS" trust6)" ""
	in_ns "$NS" "$XS" media ipv4-only on >/dev/null
	t_eq nft_sync_v6media "$(nft_set "$NS" v6media_udp)" 10000-20000
	in_ns "$NS" "$XS" media turn on >/dev/null
	t_eq nft_sync_turn "$(nft_set "$NS" v6media_udp | tr '\n' ' ')$(nft_set "$NS" v6media_tcp)" "3478 10000-20000 49152-49252 5349"
	in_ns "$NS" "$XS" media ports 30000-30010 >/dev/null
	t_eq nft_sync_ports "$(nft_set "$NS" v6media_udp | tr '\n' ' ')" "3478 30000-30010 49152-49252 "
	in_ns "$NS" "$XS" media ipv4-only off >/dev/null
	t_eq nft_sync_v6media_off "$(nft_set "$NS" v6media_udp)$(nft_set "$NS" v6media_tcp)" ""
	t_check nft_media_status "media status does not report nft" \
		bash -c "nsenter --net=/run/netns/$NS $XS media ipv4-only status | grep -q 'nftables: *installed'"
	t_check nft_foreign_after_sync "operator table gone" foreign_ok "$NS"
}

# Packets: nft alone (no XDP) drops a blocked source, IPv6 media and closed pinholes.
test_packets() {
	local got
	setup_ns || return 1
	ns_create "${NS}s" || return 1
	veth_pair "${NS}s" s0 "$NS" e0 || return 1
	addr_add "${NS}s" s0 192.0.2.10/24 && addr_add "$NS" e0 192.0.2.1/24 &&
		addr_add "${NS}s" s0 2001:db8:5::10/64 && addr_add "$NS" e0 2001:db8:5::1/64 || return 1
	in_ns "$NS" "$XS" fw install >/dev/null || return 1

	t_eq nft_pkt_open "$(arrive 192.0.2.10 192.0.2.1 5080 5 2)" 5 "datagrams before the block"
	in_ns "$NS" "$XS" block add 192.0.2.10 >/dev/null
	t_eq nft_pkt_blocked "$(arrive 192.0.2.10 192.0.2.1 5080 5 2)" 0 "datagrams from a blocked source"
	in_ns "$NS" "$XS" block del 192.0.2.10 >/dev/null

	in_ns "$NS" "$XS" media ipv4-only on >/dev/null
	t_eq nft_pkt_v6media "$(arrive 2001:db8:5::10 2001:db8:5::1 12000 5 2)" 0 "IPv6 media datagrams"
	t_eq nft_pkt_v6sig "$(arrive 2001:db8:5::10 2001:db8:5::1 5070 5 2)" 5 "IPv6 to a non-media port"

	# Pinholes: relay range 40000-40099 closed unless the pinhole set has the port.
	in_ns "$NS" nft add element inet xdpsbc relay '{ 40000-40099 }'
	t_eq nft_pkt_pinhole_closed "$(arrive 192.0.2.10 192.0.2.1 40010 5 2)" 0 "datagrams to a closed relay port"
	in_ns "$NS" nft add element inet xdpsbc pinholes '{ 40010 }'
	t_eq nft_pkt_pinhole_open "$(arrive 192.0.2.10 192.0.2.1 40010 5 2)" 5 "datagrams to an owned relay port"
	# The same over IPv6 (the UDP relay serves IPv6 flows with media ipv4-only off).
	in_ns "$NS" "$XS" media ipv4-only off >/dev/null
	# (the CLI's config sync set the relay set back to xs_config's range)
	in_ns "$NS" nft add element inet xdpsbc relay '{ 40000-40099 }'
	t_eq nft_pkt_pinhole6_closed "$(arrive 2001:db8:5::10 2001:db8:5::1 40020 5 2)" 0 "IPv6 datagrams to a closed relay port"
	in_ns "$NS" nft add element inet xdpsbc pinholes '{ 40020 }'
	t_eq nft_pkt_pinhole6_open "$(arrive 2001:db8:5::10 2001:db8:5::1 40020 5 2)" 5 "IPv6 datagrams to an owned relay port"
	in_ns "$NS" "$XS" media ipv4-only on >/dev/null
}

# The SIP flood limit: a burst above the rate gets the source banned.
test_flood() {
	local got
	setup_ns || return 1
	ns_create "${NS}s" || return 1
	veth_pair "${NS}s" s0 "$NS" e0 || return 1
	addr_add "${NS}s" s0 192.0.2.10/24 && addr_add "$NS" e0 192.0.2.1/24 || return 1
	in_ns "$NS" "$XS" fw install >/dev/null || return 1
	if [ -z "$(nft_set "$NS" sip_ports)" ]; then
		t_skip nft_flood "flood limiting is off in xs_config"
		return 0
	fi
	got=$(arrive 192.0.2.10 192.0.2.1 5060 200 3)
	t_check nft_flood_limited "$got of 200 datagrams got through" test "$got" -lt 100
	t_eq nft_flood_banned "$(banned4)" 192.0.2.10
	# The core answering a busy edge: responses and keep-alives never count,
	# as in the XDP flood stage; its requests still do.
	addr_add "${NS}s" s0 192.0.2.20/24
	got=$(arrive_text 192.0.2.20 192.0.2.1 5060 200 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n\r\n')
	t_eq nft_flood_responses_pass "$got" 200 "responses from the core that got through"
	got=$(arrive_text 192.0.2.20 192.0.2.1 5060 200 '\r\n\r\n')
	t_eq nft_flood_keepalives_pass "$got" 200 "CRLF keep-alives that got through"
	t_eq nft_flood_core_not_banned "$(banned4)" 192.0.2.10 "banned sources"
	got=$(arrive_text 192.0.2.20 192.0.2.1 5060 200 'OPTIONS sip:x@192.0.2.1 SIP/2.0\r\n\r\n')
	t_check nft_flood_requests_counted "$got of 200 requests got through" test "$got" -lt 100
	t_eq nft_flood_request_flood_banned "$(banned4 | sort | tr '\n' ' ')" "192.0.2.10 192.0.2.20 "
}

test_persist() {
	local conf=$T_DIR/nftables.conf file=$T_DIR/nftables.d/xdpsbc.nft before
	setup_ns || return 1
	printf '#!/usr/sbin/nft -f\nflush ruleset\n\ninclude "/etc/nftables.d/other.nft"\n' >"$conf"
	before=$(md5sum <"$conf")
	export XDPSBC_NFT_CONF=$conf XDPSBC_NFT_FILE=$file
	in_ns "$NS" "$XS" block add 192.0.2.0/24 --for 2h >/dev/null
	in_ns "$NS" "$XS" media ipv4-only on >/dev/null
	t_check nft_persist "fw persist failed" in_ns "$NS" "$XS" fw persist
	in_ns "$NS" "$XS" fw persist >/dev/null
	t_eq nft_persist_once "$(grep -c "include \"$file\"" "$conf")" 1 "include lines"
	t_check nft_persist_parses "nft -c rejects the file" in_ns "$NS" nft -c -f "$file"
	# Loading the file gives the same table as fw install.
	in_ns "$NS" nft -f "$file"
	t_eq nft_persist_loaded_rules "$(nft_rules "$NS")" 14
	t_eq nft_persist_loaded_block "$(nft_set "$NS" block4)" 192.0.2.0/24
	t_eq nft_persist_loaded_v6 "$(nft_set "$NS" v6media_udp)" 10000-20000
	t_check nft_persist_status "status does not say persisted" \
		bash -c "nsenter --net=/run/netns/$NS $XS -j fw status | jq -e .nftables.persisted"
	t_check nft_unpersist "fw unpersist failed" in_ns "$NS" "$XS" fw unpersist
	t_eq nft_unpersist_conf "$(md5sum <"$conf")" "$before" "nftables.conf checksum"
	t_check nft_unpersist_file "file left behind" test ! -e "$file"
	t_check nft_foreign_after_persist "operator table gone" foreign_ok "$NS"
}

run_tests "$@"
