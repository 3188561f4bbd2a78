#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian packages `make bench` needs beyond tools/deps.sh: the
# tools xdpsbc is compared against (rtpengine, Kamailio with its rtpengine
# module) and gnuplot for the plot. Idempotent: does nothing when all are
# present. The bench runs its own instances inside its namespaces, so the
# services the packages ship must not run on the host: installation goes
# through a policy-rc.d that forbids starting them, and they are disabled.
set -e
PKGS="rtpengine-daemon kamailio gnuplot-nox python3"
SERVICES="rtpengine-daemon kamailio"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "bench deps: missing packages:$missing (run 'make bench-deps' as root)" >&2
	exit 1
fi
echo "bench deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive

# policy-rc.d exit 101: "action forbidden", so no maintainer script starts
# a service. Keep one that was already there.
prc=/usr/sbin/policy-rc.d
own_prc=
if [ ! -e $prc ]; then
	printf '#!/bin/sh\nexit 101\n' >$prc
	chmod 755 $prc
	own_prc=1
fi
rc=0
apt-get update -q || true
apt-get install -y -q --no-install-recommends $missing || rc=$?
[ -n "$own_prc" ] && rm -f $prc
for s in $SERVICES; do
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now "$s" >/dev/null 2>&1 || true
	fi
	command -v update-rc.d >/dev/null 2>&1 && update-rc.d "$s" disable >/dev/null 2>&1 || true
	[ -x /etc/init.d/"$s" ] && /etc/init.d/"$s" stop >/dev/null 2>&1 || true
done
exit $rc
