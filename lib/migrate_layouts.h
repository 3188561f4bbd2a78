/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Frozen copies of map layouts earlier xdpsbc versions pinned, for the
 * migration steps in migrate.c. A layout that changes in xdpsbc_common.h is
 * copied here first, under its version number, never edited afterwards.
 */
#ifndef XDPSBC_MIGRATE_LAYOUTS_H
#define XDPSBC_MIGRATE_LAYOUTS_H

#include <linux/types.h>

/* xs_flows value, layout 1 (up to 0.x of 2026-11): 104 bytes. */
#define XS_FLOW_V1_LATCH	(1U << 0) /* learn the sender from its packets (any source) */
#define XS_FLOW_V1_STRICT	(1U << 1) /* once latched, drop media from anyone else */
#define XS_FLOW_V1_LATCH_SIG_IP (1U << 2) /* latch only from expect_addr */
#define XS_FLOW_V1_LATCHED	(1U << 3)

struct xs_flow_v1 {
	__be32 dst_addr;
	__be32 src_addr;
	__be16 dst_port;
	__be16 src_port;
	__be32 expect_addr;
	__be32 peer_addr;
	__be16 expect_port;
	__be16 peer_port;
	__u32 flags;
	__u32 ifindex;
	__u64 cookie;
	__u64 packets;
	__u64 bytes;
	__u64 last_seen_ns;
	__u8 nh_smac[6];
	__u8 nh_dmac[6];
	__be32 nh_daddr;
	__u64 nh_ns;
	__u64 chk_gen;
	__be32 chk_saddr;
	__u32 chk_pad;
};

/* xs_flows key of layouts 1 and 2 (IPv4 only): 8 bytes. */
struct xs_flow_key_v1 {
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

/* xs_flows value, layout 2 (IPv4 only, source-checked latching): 120 bytes. */
struct xs_flow_v2 {
	__be32 dst_addr;
	__be32 src_addr;
	__be16 dst_port;
	__be16 src_port;
	__be32 expect_addr;
	__be32 peer_addr;
	__be16 expect_port;
	__be16 peer_port;
	__u32 flags;
	__u32 ifindex;
	__u64 cookie;
	__u64 packets;
	__u64 bytes;
	__u64 last_seen_ns;
	__u8 nh_smac[6];
	__u8 nh_dmac[6];
	__be32 nh_daddr;
	__u64 nh_ns;
	__u64 chk_gen;
	__be32 chk_saddr;
	__u32 chk_pad;
	__u64 latch_until_ns;
	__be32 latch_addr;
	__u32 latch_pad;
};

#endif /* XDPSBC_MIGRATE_LAYOUTS_H */
