/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stage 1: trusted networks. A trusted source (the SIP core, the carrier's
 * own media servers) is never blocked: it skips the blocklist and the IPv6
 * media drop, and a closed pinhole does not drop it either. Its media is
 * still relayed when it hits a flow. With XS_CFG_RPF only when it arrives
 * on the interface that routes back to it.
 */
#ifndef XDPSBC_BPF_TRUST_H
#define XDPSBC_BPF_TRUST_H

#include "lib/maps.h"
#include "lib/parse.h"

#define XS_RPF_AF_INET 2 /* AF_INET, which the BPF target's headers do not carry */

/*
 * Reverse path of a trusted IPv4 source (XS_CFG_RPF): does the route back
 * to it leave through the interface it came in on? Asked as an output
 * lookup bound to the ingress interface, so no forwarding is needed and a
 * route through any other interface fails the lookup. A spoofed core
 * address arriving on the outside arm then gets no exemption here: the
 * blocklist and the flood limit judge it like anyone, and the stack's
 * rp_filter drops what passes. One FIB lookup (~140 ns) per packet of a
 * trusted source; media of a checked flow skips this stage (relay.h).
 * IPv6 trusted sources are not checked (signalling is IPv4).
 */
static __always_inline int xs_trust_rpf(struct xdp_md *ctx, const struct xs_pkt *pkt)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	if (pkt->family != XS_AF_INET)
		return 1;
	fib.family = XS_RPF_AF_INET;
	fib.l4_protocol = pkt->l4proto;
	fib.tot_len = pkt->l4len + 20;
	fib.ipv4_src = pkt->daddr4;
	fib.ipv4_dst = pkt->src4.addr;
	fib.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return 0;
	return fib.ifindex == ctx->ingress_ifindex;
}

static __always_inline int xs_trusted(struct xdp_md *ctx, const struct xs_pkt *pkt,
				      const struct xs_config *cfg)
{
	struct xs_trust *t;

	if (pkt->family == XS_AF_INET)
		t = bpf_map_lookup_elem(&xs_trust4, &pkt->src4);
	else
		t = bpf_map_lookup_elem(&xs_trust6, &pkt->src6);
	if (!t)
		return 0;
	if (cfg && (cfg->flags & XS_CFG_RPF) && !xs_trust_rpf(ctx, pkt))
		return 0;
	/* Shared by all CPUs: atomic add. */
	__sync_fetch_and_add(&t->hits, 1);
	return 1;
}

#endif /* XDPSBC_BPF_TRUST_H */
