#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian packages xdpsbc needs to build, test, demo and bench.
# Idempotent: does nothing (and no apt-get update) when all are present.
set -e
PKGS="make gcc clang llvm libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev
pkg-config libclang-rt-dev libosip2-dev libjansson-dev libssl-dev libnftnl-dev libmnl-dev libsystemd-dev nftables sip-tester tshark ethtool
iproute2 jq util-linux procps psmisc python3 curl
help2man man-db debhelper dpkg-dev build-essential
libhiredis-dev redis-server keepalived
baresip-core kamailio kamailio-tls-modules"
# Test peers run inside the tests' namespaces, never as host services.
SERVICES="kamailio"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# policy-rc.d exit 101: "action forbidden", so no maintainer script starts
# a service (Kamailio would listen on the host's 5060). Keep one that was
# already there.
prc=/usr/sbin/policy-rc.d
own_prc=
if [ ! -e $prc ]; then
	printf '#!/bin/sh\nexit 101\n' >$prc
	chmod 755 $prc
	own_prc=1
fi
rc=0
apt-get update -q || rc=$?
[ $rc = 0 ] && { apt-get install -y -q --no-install-recommends $missing || rc=$?; }
[ -n "$own_prc" ] && rm -f $prc
for s in $SERVICES; do
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now "$s" >/dev/null 2>&1 || true
	fi
	command -v update-rc.d >/dev/null 2>&1 && update-rc.d "$s" disable >/dev/null 2>&1 || true
	[ -x /etc/init.d/"$s" ] && /etc/init.d/"$s" stop >/dev/null 2>&1 || true
done
exit $rc
