#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The failover test (test_cluster_failover.sh) with the edges on the udp
# datapath: B's UDP relay opens the sockets of the flows it holds for A
# (bound to the shared address with ip_nonlocal_bind) and serves them as
# soon as the address moves. The same calls as on the xdp datapath.
DATAPATH=udp exec bash "$(dirname "$0")/test_cluster_failover.sh" "$@"
