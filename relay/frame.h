/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The AF_XDP relay's frame work (frame.c): parse an Ethernet frame carrying
 * UDP over IPv4 or IPv6, and rewrite it for a relay flow, in place or, when
 * the flow changes family, with its IP header replaced (RFC 7915), as
 * xs_forward() does in the driver (bpf/lib/forward.h).
 */
#ifndef XDPSBC_RELAY_FRAME_H
#define XDPSBC_RELAY_FRAME_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/udp.h>
#include "xdpsbc_common.h"

/* Extension headers walked before UDP, as the XDP parser (XS_IPV6_EXT_MAX). */
#define XS_FRAME_EXT_MAX 6

/* One received frame, parsed: its IP header, UDP header and datagram length. */
struct xs_frame {
	bool v6;
	bool fraghdr;	/* an IPv6 fragment header before UDP */
	uint8_t *saddr; /* into the IP header: 4 or 16 bytes */
	uint8_t *daddr;
	struct udphdr *udph;
	uint32_t l4len;	      /* UDP header and payload, from the IP header's length */
	uint8_t hlim, tclass; /* TTL or hop limit; TOS or traffic class */
	uint32_t len;	      /* the whole frame */
};

/*
 * Parse @len bytes at @p: untagged UDP over IPv4 (not a fragment) or IPv6
 * (hop-by-hop, routing, destination options, an atomic fragment header).
 * 0, or -EINVAL for anything else.
 */
int xs_frame_parse(uint8_t *p, uint32_t len, struct xs_frame *fr);

/*
 * Rewrite the parsed frame at @p for flow @f: addresses and ports from the
 * flow (the family it leaves in: XS_FLOW_OUT6), TTL/hop limit decremented,
 * UDP checksum updated incrementally for the new pseudo-header; across
 * families the IP header is replaced, the datagram moved behind it within
 * the @room bytes the frame's buffer has (-EMSGSIZE when it does not fit).
 * MACs are the caller's. *@olen gets the frame's new length. The caller has
 * checked the refusals (hop limit, checksum, fragment across families).
 */
int xs_frame_rewrite(const struct xs_frame *fr, const struct xs_flow *f, uint8_t *p, uint32_t room,
		     uint32_t *olen);

/* One's-complement update of @check (RFC 1624): @ow words @old out, @nw words @new in. */
void xs_csum_move(uint16_t *check, const void *old, unsigned int ow, const void *new,
		  unsigned int nw);
void xs_csum_replace(uint16_t *check, const void *old, const void *new, unsigned int words);

#endif /* XDPSBC_RELAY_FRAME_H */
