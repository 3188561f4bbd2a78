#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Operate xdpsbc like a product: install into a DESTDIR and run the
# INSTALLED binaries (with the source and build trees hidden), check the man
# pages, the example configuration, the boot policy script and the systemd
# units, uninstall, and build the .deb from a copy of the tree.
# Prints PASS/FAIL/SKIP lines (tests/lib/check.h convention).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
NS=xs6inst$$
PIN=/sys/fs/bpf/xdpsbc-inst-$$
tmp=$(mktemp -d /tmp/xdpsbc-inst.XXXXXX)
D=$tmp/root # the DESTDIR
fails=0

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	fails=$((fails + 1))
}
skip() { echo "SKIP $1: $2"; }

cleanup()
{
	[ -n "${sigd_pid:-}" ] && kill -9 "$sigd_pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN"; [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	skip install "needs root (netns, XDP attach)"
	exit 0
fi

mk() { make --no-print-directory -C "$ROOT" BUILD="$BUILD" "$@"; }

# In the test namespace, in a private mount namespace where the source tree
# and the build tree are covered by empty tmpfs mounts: what runs here can
# only use what `make install` put under $D.
isolated()
{
	nsenter --net="/run/netns/$NS" unshare --mount --propagation private sh -c '
		mount -t tmpfs none "$1" && { [ "${2#$1}" != "$2" ] || mount -t tmpfs none "$2"; } || exit 99
		shift 2; exec "$@"' sh "$ROOT" "$BUILD" "$@"
}

# ---- install ----------------------------------------------------------------
have_sigd=0
ls "$ROOT"/sigd/*.c >/dev/null 2>&1 && have_sigd=1
# One retry: while others rebuild the shared build/ a binary can be caught
# half-linked by help2man.
if ! mk install DESTDIR="$D" >"$tmp/install.log" 2>&1 &&
	! { sleep 2 && mk install DESTDIR="$D" >"$tmp/install.log" 2>&1; }; then
	fail install "make install DESTDIR failed: $(tail -n 5 "$tmp/install.log" | tr '\n' ' ')"
	exit 1
fi
want="usr/sbin/xdpsbc usr/lib/xdpsbc/xdpsbc.bpf.o usr/lib/xdpsbc/xdpsbc-firewall
usr/lib/systemd/system/xdpsbc-sigd.service usr/lib/systemd/system/xdpsbc-firewall.service
usr/share/man/man8/xdpsbc.8 etc/xdpsbc/xdpsbc.conf etc/xdpsbc/policy
usr/share/doc/xdpsbc/operations.md"
[ $have_sigd = 1 ] && want="$want usr/sbin/xdpsbc-sigd usr/share/man/man8/xdpsbc-sigd.8
usr/share/man/man5/xdpsbc.conf.5"
missing=""
for f in $want; do [ -e "$D/$f" ] || missing="$missing $f"; done
if [ -z "$missing" ]; then pass install; else fail install "missing after install:$missing"; fi
[ -e "$D/usr/lib/xdpsbc/xdp_trivial.bpf.o" ] && fail install-bpf-objects "the test-only xdp_trivial object was installed"
XS=$D/usr/sbin/xdpsbc
SIGD=$D/usr/sbin/xdpsbc-sigd

# ---- the installed CLI on a veth, without the build tree --------------------
ip netns add "$NS" || { fail netns "cannot create $NS"; exit 1; }
nsenter --net="/run/netns/$NS" sh -c '
	ip link add xi0 type veth peer name xi1 && ip link set xi0 up && ip link set xi1 up &&
	ip addr add 192.0.2.1/24 dev xi0 && ip link set lo up' || fail netns "veth setup failed"
export XDPSBC_PIN_ROOT=$PIN

if out=$(isolated "$XS" --help 2>&1) && grep -q 'block add' <<<"$out"; then
	pass installed-cli-help
else
	fail installed-cli-help "$XS --help: $out"
fi
if isolated test -e "$BUILD/bin/xdpsbc"; then
	fail isolation "the build tree is still visible in the isolated namespace"
fi

out=$(isolated sh -c '"$1" attach xi0 --mode skb && "$1" status && "$1" -j status' sh "$XS" 2>&1)
if [ $? = 0 ] && grep -q 'xi0' <<<"$out"; then
	pass installed-cli-attach
else
	fail installed-cli-attach "$out"
fi
if nsenter --net="/run/netns/$NS" ip -d link show xi0 | grep -q 'prog/xdp.*name xdpsbc'; then
	pass installed-cli-attach-ip
else
	fail installed-cli-attach-ip "ip link does not show the xdpsbc program on xi0"
fi
out=$(isolated sh -c '"$1" block add 198.51.100.0/24 --for 1h --reason "install test" &&
	"$1" block list' sh "$XS" 2>&1)
if [ $? = 0 ] && grep -q '198.51.100.0/24' <<<"$out" && grep -q 'install test' <<<"$out"; then
	pass installed-cli-block
else
	fail installed-cli-block "$out"
fi
if bpftool map dump pinned "$PIN/xs_block4" 2>/dev/null | grep -q prefixlen; then
	pass installed-pins-bpftool
else
	fail installed-pins-bpftool "bpftool cannot dump $PIN/xs_block4"
fi

# ---- readiness and reload: what tests/e2e/test_deploy.sh notify_ready checks ----
# sigd sends (READY=1 once SIP answers, RELOADING=1/READY=1 on SIGHUP) is what
# this unit waits for.
unit=$ROOT/dist/xdpsbc-sigd.service
if grep -qx 'Type=notify' "$unit" && grep -qx 'NotifyAccess=main' "$unit" &&
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit"; then
	pass unit-notify-reload
else
	fail unit-notify-reload "$(grep -E '^(Type|NotifyAccess|ExecReload)=' "$unit" | tr '\n' ' ')"
fi

# ---- the unit's capability set is enough, and each named one is needed --------
unit_caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT/dist/xdpsbc-sigd.service")
bset="-all"
for c in $unit_caps; do
	c=${c#CAP_}
	bset="$bset,+${c,,}"
done
# A: the CLI attaches, sees its program by id, detaches. B: sigd's AF_XDP
# datapath opens its socket. Each under a bounding set, as systemd sets it.
cap_a()
{
	isolated setpriv --bounding-set="$1" -- sh -c \
		'"$1" attach xi0 --mode skb && "$1" status | grep -q "xi0.*prog id [1-9]" && "$1" detach xi0' \
		sh "$XS" >"$tmp/cap.log" 2>&1
	local rc=$?
	isolated "$XS" unload >/dev/null 2>&1
	return $rc
}
cap_b()
{
	[ -x "$SIGD" ] || return 0
	isolated setpriv --bounding-set="$1" -- timeout -s TERM 3 "$SIGD" --config none --iface xi0 \
		--xdp-mode skb --datapath afxdp --public-ip 192.0.2.1 --listen 192.0.2.1:5060 \
		--upstream sip:192.0.2.2:5060 --pin-root "$PIN" --state-dir "$tmp/capstate" \
		--ctl-socket none --foreground >"$tmp/cap.log" 2>&1
	local rc=1
	grep -q 'afxdp: [1-9][0-9]* sockets' "$tmp/cap.log" && rc=0
	isolated "$XS" unload >/dev/null 2>&1
	# The relay process outlives sigd by design and leaves about a second
	# after unload; the next run must not adopt it (its sockets were opened
	# with the previous run's capabilities).
	for _ in $(seq 50); do
		pgrep -f -- "xdpsbc-sigd.*--pin-root $PIN" >/dev/null || break
		sleep 0.1
	done
	return $rc
}
isolated "$XS" unload >/dev/null 2>&1
if cap_a "$bset" && cap_b "$bset"; then
	pass unit-capabilities
else
	fail unit-capabilities "with bounding set $bset: $(grep -v '^libbpf' "$tmp/cap.log" | tail -n 3 | tr '\n' ' ')"
fi
for c in net_admin:cap_a sys_admin:cap_a net_raw:cap_b ipc_lock:cap_b; do
	cap=${c%%:*} scen=${c#*:}
	[ $scen = cap_b ] && [ ! -x "$SIGD" ] && continue
	if $scen "${bset/,+$cap/}"; then
		fail "unit-capability-$cap" "works without CAP_${cap^^}: drop it from the unit and the docs"
	else
		pass "unit-capability-$cap"
	fi
done

# ---- boot policy: xdpsbc-firewall apply --------------------------------------
cat >"$tmp/fw.conf" <<EOF
# test configuration
iface = xi0
xdp-mode = skb
pin-root = $PIN
# sections come after the global keys; the script must not read into them
[company t]
pin-root = /nonexistent
EOF
printf '%s\n' '198.51.100.77/32,1h,scanner' '2001:db8:bad::/48,permanent,v6 scanner' >"$tmp/blocklist"
cat >"$tmp/policy" <<EOF
# comment
trust add 192.0.2.0/28
media ipv4-only on
block import $tmp/blocklist
block add 203.0.113.0/24 --reason "two words"
EOF
fw() { isolated env XDPSBC_CONF="$tmp/fw.conf" XDPSBC_POLICY="$1" XDPSBC_BIN="$XS" \
	XDPSBC_PIN_ROOT= "$D/usr/lib/xdpsbc/xdpsbc-firewall" apply; }
# A fresh boot: nothing attached, no pins.
isolated "$XS" unload >/dev/null 2>&1
out=$(fw "$tmp/policy" 2>&1)
rc=$?
state=$(isolated sh -c '"$1" status; "$1" trust list; "$1" block list; "$1" media ipv4-only status' \
	sh "$XS" 2>&1)
if [ $rc = 0 ] && grep -q 'xi0' <<<"$state" && grep -q '192.0.2.0/28' <<<"$state" &&
	grep -q '198.51.100.77' <<<"$state" && grep -q '2001:db8:bad::/48' <<<"$state" &&
	grep -q 'two words' <<<"$state" && grep -qi 'ipv4-only: *on' <<<"$state"; then
	pass firewall-apply
else
	fail firewall-apply "rc=$rc: $out // $state"
fi
# Applied again (unit restart): still fine. A bad line: the rest applies, exit != 0.
out=$(fw "$tmp/policy" 2>&1) || fail firewall-reapply "second apply failed: $out"
printf '%s\n' 'trust add 192.0.2.64/28' 'status' 'block add 999.1.1.1/8' \
	'trust add 192.0.2.128/28' >"$tmp/policy.bad"
out=$(fw "$tmp/policy.bad" 2>&1)
rc=$?
if [ $rc != 0 ] && grep -q 'policy.bad:2' <<<"$out" && grep -q 'policy.bad:3' <<<"$out" &&
	isolated "$XS" trust list 2>&1 | grep -q '192.0.2.128/28'; then
	pass firewall-bad-line
else
	fail firewall-bad-line "rc=$rc: $out"
fi

# ---- the installed daemon ------------------------------------------------------
if [ $have_sigd = 0 ] || [ ! -x "$SIGD" ]; then
	skip installed-sigd "no xdpsbc-sigd built (sigd/ has no sources yet)"
else
	if out=$(isolated "$SIGD" --help 2>&1) && grep -q -- '--public-ip' <<<"$out"; then
		pass installed-sigd-help
	else
		fail installed-sigd-help "$out"
	fi
	# Every key of the example configuration is an option, and every option
	# (but --config, --help and --version) is in the example.
	opts=$(isolated "$SIGD" --help 2>&1 | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p' |
		grep -v -x -e config -e help -e version | sort)
	keys=$(sed -n 's/^#\{0,1\}\([a-z0-9-]*\) *=.*/\1/p' "$D/etc/xdpsbc/xdpsbc.conf" | sort -u)
	if [ -n "$opts" ] && [ "$opts" = "$keys" ]; then
		pass conf-example-keys
	else
		fail conf-example-keys "options vs example keys: $(diff <(echo "$opts") <(echo "$keys") | grep '^[<>]' | tr '\n' ' ')"
	fi
	# Every example value is accepted: the whole example uncommented loads.
	sed 's/^#\([a-z0-9-]* *=\)/\1/' "$D/etc/xdpsbc/xdpsbc.conf" >"$tmp/all.conf"
	if out=$(isolated "$SIGD" --config "$tmp/all.conf" --help 2>&1); then
		pass conf-example-values
	else
		fail conf-example-values "the uncommented example is rejected: $(tail -n 3 <<<"$out")"
	fi

	# Stopping the daemon (SIGTERM, as systemctl stop does) leaves the XDP
	# program it attached on the interface and the pins in place, and a new
	# daemon starts over them.
	isolated "$XS" unload >/dev/null 2>&1
	start_sigd()
	{
		# The pid of sigd itself (the shell writes its own and execs it),
		# not of the background job, which is a subshell.
		rm -f "$tmp/sigd.pid"
		isolated sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$tmp/sigd.pid" \
			"$SIGD" --config none --iface xi0 --xdp-mode skb --public-ip 192.0.2.1 \
			--listen 192.0.2.1:5060 --upstream sip:192.0.2.2:5060 --pin-root "$PIN" \
			--state-dir "$tmp/run" --foreground >>"$tmp/sigd.log" 2>&1 &
		for _ in $(seq 50); do
			[ -s "$tmp/sigd.pid" ] && break
			sleep 0.1
		done
		sigd_pid=$(cat "$tmp/sigd.pid" 2>/dev/null)
		[ -n "$sigd_pid" ] || return 1
		for _ in $(seq 50); do
			nsenter --net="/run/netns/$NS" ss -lun 2>/dev/null | grep -q '192.0.2.1:5060' &&
				return 0
			kill -0 $sigd_pid 2>/dev/null || return 1
			sleep 0.1
		done
		return 1
	}
	stop_sigd()
	{
		# It must still be running, and be sigd.
		[ "$(cat /proc/$sigd_pid/comm 2>/dev/null)" = xdpsbc-sigd ] || return 1
		kill -TERM $sigd_pid 2>/dev/null || return 1
		for _ in $(seq 50); do
			kill -0 $sigd_pid 2>/dev/null || {
				sigd_pid=
				return 0
			}
			sleep 0.1
		done
		return 1
	}
	attached() { nsenter --net="/run/netns/$NS" ip -d link show xi0 | grep -q 'prog/xdp.*name xdpsbc'; }
	if ! start_sigd; then
		fail sigd-stop-keeps-datapath "sigd did not listen on 192.0.2.1:5060: $(tail -n 5 "$tmp/sigd.log" | tr '\n' ' ')"
	elif ! attached; then
		fail sigd-stop-keeps-datapath "sigd --iface xi0 did not attach the program"
	elif ! stop_sigd; then
		fail sigd-stop-keeps-datapath "sigd still running 5 s after SIGTERM"
	elif ! attached || [ ! -e "$PIN/xs_flows" ]; then
		fail sigd-stop-keeps-datapath "after SIGTERM the program or the pins are gone"
	else
		pass sigd-stop-keeps-datapath
		if start_sigd && attached && stop_sigd; then
			pass sigd-restart-over-pins
		else
			fail sigd-restart-over-pins "a second sigd did not start over the attached program: $(tail -n 5 "$tmp/sigd.log" | tr '\n' ' ')"
		fi
	fi
fi
isolated "$XS" unload >/dev/null 2>&1
[ -e "$PIN" ] && fail installed-cli-unload "unload left $PIN"

# ---- man pages ----------------------------------------------------------------
for m in man8/xdpsbc.8 man8/xdpsbc-sigd.8 man5/xdpsbc.conf.5; do
	f=$D/usr/share/man/$m
	name=man-$(basename "$m")
	if [ ! -e "$f" ]; then
		[ $have_sigd = 1 ] || [ "$m" = man8/xdpsbc.8 ] && fail "$name" "not installed" ||
			skip "$name" "no xdpsbc-sigd yet"
		continue
	fi
	err=$(MANWIDTH=100 man --warnings -l "$f" 2>&1 >"$tmp/man.txt")
	if [ -n "$err" ] || [ ! -s "$tmp/man.txt" ]; then
		fail "$name" "man -l: ${err:-empty output}"
	else
		pass "$name"
	fi
done
# The pages say what --help says: every option of the daemon is in both pages,
# every command of the CLI in xdpsbc(8).
if [ -e "$D/usr/share/man/man5/xdpsbc.conf.5" ]; then
	conf=$(MANWIDTH=200 man -l "$D/usr/share/man/man5/xdpsbc.conf.5" 2>/dev/null)
	sig=$(MANWIDTH=200 man -l "$D/usr/share/man/man8/xdpsbc-sigd.8" 2>/dev/null)
	miss=""
	for o in $opts; do
		grep -q -- "^ *$o = " <<<"$conf" || miss="$miss conf:$o"
		grep -q -- "--$o" <<<"$sig" || miss="$miss sigd:$o"
	done
	if [ -z "$miss" ]; then pass man-match-help; else fail man-match-help "missing:$miss"; fi
fi
cli=$(MANWIDTH=200 man -l "$D/usr/share/man/man8/xdpsbc.8" 2>/dev/null)
miss=""
while read -r c; do
	grep -q -- "xdpsbc $c" <<<"$cli" || miss="$miss '$c'"
done < <(isolated "$XS" --help 2>&1 | sed -n 's/^  xdpsbc \([a-z0-9-]*\( [a-z0-9-]*\)\{0,1\}\).*/\1/p')
if [ -z "$miss" ]; then pass man-cli-commands; else fail man-cli-commands "missing:$miss"; fi

# ---- docs: every verdict reason is explained -----------------------------------
miss=""
for r in $(sed -n 's/^XS_REASON([A-Z0-9_]*, "\([a-z0-9-]*\)".*/\1/p' "$ROOT/bpf/xdpsbc_reasons.inc"); do
	grep -q "^| \`$r\` |" "$ROOT/docs/operations.md" || miss="$miss $r"
done
if [ -e "$ROOT/sigd/policy/reasons.inc" ]; then
	for r in $(sed -n 's/^POL_REASON([A-Z0-9_]*, "\([a-z0-9-]*\)".*/\1/p' "$ROOT/sigd/policy/reasons.inc"); do
		grep -q "^| \`$r\` |" "$ROOT/docs/operations.md" || miss="$miss $r"
	done
fi
if [ -z "$miss" ]; then pass docs-reasons; else fail docs-reasons "not in docs/operations.md:$miss"; fi

# ---- systemd units ----------------------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
	skip systemd-verify "systemd-analyze is not installed"
else
	# A real install under $tmp/p (no DESTDIR), so that the paths in the
	# units (ExecStart, the man pages of Documentation=) exist to be checked.
	P=$tmp/p
	mk install PREFIX="$P" SYSCONFDIR="$P/etc" >"$tmp/install-p.log" 2>&1 ||
		fail systemd-verify "make install PREFIX=$P failed"
	out=$(MANPATH=$P/share/man systemd-analyze verify \
		"$P/lib/systemd/system/xdpsbc-sigd.service" \
		"$P/lib/systemd/system/xdpsbc-firewall.service" 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ -z "$out" ]; then
		pass systemd-verify
	elif grep -qi -e 'Failed to initialize manager' -e 'No such file or directory.*bus' \
		-e 'Permission denied.*cgroup' <<<"$out"; then
		skip systemd-verify "systemd-analyze cannot run here: $(head -n 1 <<<"$out")"
	else
		fail systemd-verify "rc=$rc: $out"
	fi
	mk uninstall PREFIX="$P" SYSCONFDIR="$P/etc" >/dev/null 2>&1
	[ -z "$(find "$P" ! -type d)" ] || fail uninstall-prefix "left: $(find "$P" ! -type d | tr '\n' ' ')"
fi

# ---- uninstall ----------------------------------------------------------------------
if mk uninstall DESTDIR="$D" >"$tmp/uninstall.log" 2>&1 &&
	left=$(find "$D" ! -type d) && [ -z "$left" ]; then
	pass uninstall
else
	fail uninstall "left behind: $(find "$D" ! -type d 2>/dev/null | tr '\n' ' ') $(tail -n 3 "$tmp/uninstall.log")"
fi
# An operator's configuration survives install and uninstall.
D2=$tmp/root2
mkdir -p "$D2/etc/xdpsbc"
echo "public-ip = 192.0.2.9" >"$D2/etc/xdpsbc/xdpsbc.conf"
if mk install DESTDIR="$D2" >/dev/null 2>&1 &&
	grep -q 192.0.2.9 "$D2/etc/xdpsbc/xdpsbc.conf" && cmp -s "$ROOT/dist/policy" "$D2/etc/xdpsbc/policy" &&
	mk uninstall DESTDIR="$D2" >/dev/null 2>&1 &&
	[ "$(find "$D2" ! -type d)" = "$D2/etc/xdpsbc/xdpsbc.conf" ]; then
	pass install-keeps-config
else
	fail install-keeps-config "a modified xdpsbc.conf was overwritten or removed, or others were left: $(find "$D2" ! -type d | tr '\n' ' ')"
fi

# ---- the Debian package ----------------------------------------------------------------
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
	skip deb "dpkg-buildpackage or debhelper missing (make deps installs them)"
else
	src=$tmp/deb/xdpsbc
	mkdir -p "$src"
	# The working tree as it is (tracked and new files, nothing ignored).
	(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src" 2>/dev/null)
	# Nothing of this run's environment (BUILD points at the tree's build/).
	if (cd "$src" && env -u BUILD -u XDPSBC_PIN_ROOT -u XS -u XS_SIGD \
		DEB_BUILD_OPTIONS="parallel=2 nocheck" timeout 300 \
		dpkg-buildpackage -us -uc -b) >"$tmp/deb.log" 2>&1; then
		deb=$(ls "$tmp"/deb/xdpsbc_*.deb 2>/dev/null | head -n 1)
		list=$(dpkg -c "$deb")
		miss=""
		for f in ./usr/sbin/xdpsbc ./usr/lib/xdpsbc/xdpsbc.bpf.o ./usr/lib/xdpsbc/xdpsbc-firewall \
			./lib/systemd/system/xdpsbc-sigd.service ./lib/systemd/system/xdpsbc-firewall.service \
			./etc/xdpsbc/xdpsbc.conf ./etc/xdpsbc/policy ./usr/share/man/man8/xdpsbc.8.gz \
			./usr/share/doc/xdpsbc/operations.md; do # not compressed: the units link it
			grep -q " $f\$" <<<"$list" || miss="$miss $f"
		done
		if [ $have_sigd = 1 ]; then
			for f in ./usr/sbin/xdpsbc-sigd ./usr/share/man/man8/xdpsbc-sigd.8.gz \
				./usr/share/man/man5/xdpsbc.conf.5.gz; do
				grep -q " $f\$" <<<"$list" || miss="$miss $f"
			done
		fi
		deps=$(dpkg-deb -f "$deb" Depends)
		conff=$(dpkg-deb -e "$deb" "$tmp/ctl" && cat "$tmp/ctl/conffiles")
		if [ -n "$miss" ]; then
			fail deb-contents "dpkg -c lacks:$miss"
		elif ! grep -q libbpf <<<"$deps" || ! grep -q libxdp <<<"$deps" ||
			{ [ $have_sigd = 1 ] && ! grep -q libosip2 <<<"$deps"; }; then
			fail deb-contents "Depends lacks libbpf, libxdp or libosip2: $deps"
		elif ! grep -q /etc/xdpsbc/xdpsbc.conf <<<"$conff"; then
			fail deb-contents "xdpsbc.conf is not a conffile"
		else
			pass deb-contents
		fi
	else
		fail deb "dpkg-buildpackage failed: $(grep -E 'error|Error' "$tmp/deb.log" | head -n 3 | tr '\n' ' ')"
	fi
fi

exit 0
