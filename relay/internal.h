/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals of the userspace datapaths (dp_*.c). */
#ifndef XDPSBC_DP_INT_H
#define XDPSBC_DP_INT_H

#include <stddef.h>
#include "relay/relay.h"

/* The common head of every datapath; each implementation embeds it first. */
struct xs_dp {
	enum xs_datapath kind;
	void (*stop)(struct xs_dp *dp);
	void (*describe)(const struct xs_dp *dp, char *buf, size_t len);
};

/* Bytes a relayed datagram is counted with: as the XDP program, the whole frame. */
#define XS_DP_L2L3L4   (14 + 20 + 8)
#define XS_DP_L2L3L4_6 (14 + 40 + 8) /* the same over IPv6 */

int xs_dp_account(int flows_fd, const struct xs_flow_key *k, const struct xs_flow *f, bool latched,
		  uint64_t pkts, uint64_t bytes, uint32_t ifindex);

#endif /* XDPSBC_DP_INT_H */
