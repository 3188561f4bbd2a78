#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The shared-policy cluster test (test_cluster.sh) with the edges on the udp
# datapath: the blocklist a peer made is enforced by this edge's nft sets.
DATAPATH=udp exec bash "$(dirname "$0")/test_cluster.sh" "$@"
