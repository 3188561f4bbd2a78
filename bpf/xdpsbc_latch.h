/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The latching decision (the rule is in xdpsbc_common.h, above
 * XS_FLOW_LATCH) as one pure function, included by the XDP program
 * (bpf/lib/relay.h) and by the userspace relays (relay/common.c), so the
 * two datapaths cannot drift apart; tests/bpf/test_latch_rule.c runs its
 * table. The callers keep only what differs between them: how a source is
 * compared (IPv4 or IPv6, packet or socket address) and how the learnt peer
 * is written back.
 */
#ifndef XDPSBC_LATCH_H
#define XDPSBC_LATCH_H

#include "xdpsbc_common.h"

enum xs_latch_step {
	XS_LATCH_PASS,	 /* relay; nothing changes */
	XS_LATCH_SETTLE, /* relay; a packet from the provisional peer confirms it */
	XS_LATCH_LEARN,	 /* relay and latch to this source, if still in the window */
	XS_LATCH_DROP,	 /* drop-media-source: never forwarded */
};

/*
 * What a packet to a flow with @flags does. @from_peer: its source address
 * and port are the latched peer's; @from_latch: its source IP is the flow's
 * latch_addr (and not zero). A LEARN holds only while the clock is before
 * latch_until_ns: the caller reads the clock then, so the steady state (a
 * packet from the latched peer) reads none.
 */
static inline __attribute__((always_inline)) int xs_latch_step(__u32 flags, int from_peer,
							       int from_latch)
{
	if (!(flags & XS_FLOW_LATCH))
		return XS_LATCH_PASS;
	if ((flags & XS_FLOW_LATCHED) && from_peer)
		return flags & XS_FLOW_PRELATCHED ? XS_LATCH_SETTLE : XS_LATCH_PASS;
	/* Latched for good: nobody else, ever. Otherwise only the signalled source. */
	if (!from_latch || (flags & (XS_FLOW_LATCHED | XS_FLOW_PRELATCHED)) == XS_FLOW_LATCHED)
		return XS_LATCH_DROP;
	return XS_LATCH_LEARN;
}

#endif /* XDPSBC_LATCH_H */
