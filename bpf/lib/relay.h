/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stage 5: media pinholes and the RTP/RTCP relay (UDP, IPv4 and IPv6).
 *
 * xs_flows is keyed by the edge address (either family) and port a packet
 * arrives on. A hit rewrites the packet to leave from the flow's edge
 * address/port towards the other leg's peer, translating between IPv4 and
 * IPv6 when the legs differ (forward.h), and sends it back out (XDP_TX) or
 * out of another interface (XDP_REDIRECT via xs_txports), next hop from the
 * kernel's FIB. A miss on a port of the relay range is a closed pinhole.
 *
 * Symmetric latching: the first packet of a LATCH flow from the leg's
 * signalled source, within the latch window, teaches us the sender's real
 * (NATed) address and port; we store it in this flow and aim the reverse
 * flow (the one keyed by this flow's edge source) at it, so the other leg's
 * media reaches the NAT binding the sender just opened. Every other source
 * is dropped.
 */
#ifndef XDPSBC_BPF_RELAY_H
#define XDPSBC_BPF_RELAY_H

#include "xdpsbc_latch.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/nexthop.h"
#include "lib/forward.h"
#include "lib/v6media.h"

static __always_inline int xs_pinhole(const struct xs_pkt *pkt, const struct xs_config *cfg,
				      int trusted)
{
	if (trusted || !cfg || !(cfg->flags & XS_CFG_PINHOLES))
		return XS_CONTINUE;
	if (xs_in_range(bpf_ntohs(pkt->dport), cfg->relay_min, cfg->relay_max))
		return XS_DROP_PINHOLE;
	return XS_CONTINUE;
}

/*
 * The verdict of an untrusted packet to a relay port no flow owns, taken
 * before the blocklist: the stages between them are the blocklist, which
 * could only drop it too, the flood limit (the caller keeps watched packets
 * on the full order) and the IPv6 media drop, asked here first so the
 * packet gets the same reason it gets in the full order.
 */
static __always_inline int xs_closed_pinhole(const struct xs_pkt *pkt, const struct xs_config *cfg)
{
	int r = xs_v6media(pkt, cfg);

	return r != XS_CONTINUE ? r : xs_pinhole(pkt, cfg, 0);
}

/* The reverse flow's key: this flow's edge source, in the family the packet leaves in. */
static __always_inline void xs_rev_key(const struct xs_flow *f, struct xs_flow_key *k)
{
	if (f->flags & XS_FLOW_OUT6) {
		k->v6 = 1;
		xs_addr6_copy(k->addr6, f->src_addr6);
	} else {
		k->addr = f->src_addr;
	}
	k->port = f->src_port;
}

/*
 * Source check and latching for flow @f, IPv4 sender: the decision is
 * xs_latch_step() (xdpsbc_latch.h, shared with the userspace relays). The steady state, a packet from the
 * latched peer, costs two compares and no clock read; the clock is read only
 * for a packet that could latch. The flow value is shared by every CPU: two
 * first packets from the signalled address racing on two CPUs may both
 * latch, the last writer wins, and both came from the one address allowed to
 * latch. Userspace rewrites the whole value when it reprograms the flow.
 */
static __always_inline int xs_latch4(struct xs_flow *f, __be32 saddr, __be16 sport)
{
	struct xs_flow_key rkey = {.proto = IPPROTO_UDP};
	__u32 flags = f->flags;
	struct xs_flow *rev;
	int step = xs_latch_step(flags, saddr == f->peer_addr && sport == f->peer_port,
				 saddr && saddr == f->latch_addr);

	if (step == XS_LATCH_SETTLE) /* sigd's guess confirmed by a packet: the port is settled */
		f->flags = flags & ~XS_FLOW_PRELATCHED;
	if (step == XS_LATCH_PASS || step == XS_LATCH_SETTLE)
		return XS_CONTINUE;
	if (step == XS_LATCH_DROP || xs_now() >= f->latch_until_ns)
		return XS_DROP_MEDIA_SOURCE;
	f->peer_addr = saddr;
	f->peer_port = sport;
	f->flags = (flags | XS_FLOW_LATCHED) & ~XS_FLOW_PRELATCHED;
	xs_rev_key(f, &rkey);
	rev = bpf_map_lookup_elem(&xs_flows, &rkey);
	if (rev) {
		rev->dst_addr = saddr;
		rev->dst_port = sport;
	}
	return XS_CONTINUE;
}

/* The same rule for an IPv6 sender: its addresses are the *6 fields. */
static __always_inline int xs_latch6(struct xs_flow *f, const __u8 *saddr, __be16 sport)
{
	struct xs_flow_key rkey = {.proto = IPPROTO_UDP};
	__u32 flags = f->flags;
	struct xs_flow *rev;
	int step = xs_latch_step(flags, sport == f->peer_port && xs_addr6_eq(saddr, f->peer_addr6),
				 !xs_addr6_zero(saddr) && xs_addr6_eq(saddr, f->latch_addr6));

	if (step == XS_LATCH_SETTLE)
		f->flags = flags & ~XS_FLOW_PRELATCHED;
	if (step == XS_LATCH_PASS || step == XS_LATCH_SETTLE)
		return XS_CONTINUE;
	if (step == XS_LATCH_DROP || xs_now() >= f->latch_until_ns)
		return XS_DROP_MEDIA_SOURCE;
	xs_addr6_copy(f->peer_addr6, saddr);
	f->peer_port = sport;
	f->flags = (flags | XS_FLOW_LATCHED) & ~XS_FLOW_PRELATCHED;
	xs_rev_key(f, &rkey);
	rev = bpf_map_lookup_elem(&xs_flows, &rkey);
	if (rev) {
		xs_addr6_copy(rev->dst_addr6, saddr);
		rev->dst_port = sport;
	}
	return XS_CONTINUE;
}

static __always_inline int xs_latch(struct xs_flow *f, const struct xs_pkt *pkt)
{
	if (!(f->flags & XS_FLOW_LATCH))
		return XS_CONTINUE;
	if (pkt->family == XS_AF_INET)
		return xs_latch4(f, pkt->src4.addr, pkt->sport);
	return xs_latch6(f, pkt->src6.addr, pkt->sport);
}

/*
 * The flow a packet is for: UDP (IPv4 or IPv6) to the relay range (sigd allocates its
 * ports there and sets the range); with a range configured, other ports
 * (SIP, DNS, ...) skip the hash lookup. Without one, every UDP port is
 * looked up. *@in_range says whether a miss is a closed pinhole candidate.
 */
static __always_inline struct xs_flow *xs_relay_lookup(const struct xs_pkt *pkt,
						       const struct xs_config *cfg, int *in_range)
{
	struct xs_flow_key key = {.proto = IPPROTO_UDP};

	*in_range = 0;
	if (pkt->l4proto != IPPROTO_UDP || pkt->frag)
		return NULL;
	if (cfg && cfg->relay_max &&
	    !xs_in_range(bpf_ntohs(pkt->dport), cfg->relay_min, cfg->relay_max))
		return NULL;
	*in_range = 1;
	if (pkt->family == XS_AF_INET) {
		key.addr = pkt->daddr4;
	} else {
		key.v6 = 1;
		xs_addr6_copy(key.addr6, pkt->daddr6);
	}
	key.port = pkt->dport;
	return bpf_map_lookup_elem(&xs_flows, &key);
}

/*
 * Has this packet's source passed the source checks (trusted networks,
 * blocklist) for flow @f under blocklist generation @gen? Then the checks
 * are skipped: steady-state media costs neither LPM lookup, whatever the
 * size of the blocklist. A blocklisted source is still never relayed: any
 * change that could block it changes @gen first. The other stages before
 * the relay must not claim such a packet: the IPv6 media drop, checked here
 * for IPv6 (`media ipv4-only on` drops it even for a flow), and the flood
 * limit, which watches the SIP ports, checked here because nothing stops an
 * operator from putting one inside the relay range.
 */
static __always_inline int xs_flow_checked(const struct xs_flow *f, const struct xs_pkt *pkt,
					   const struct xs_config *cfg, __u64 gen)
{
	if (f->chk_gen != gen + 1 || pkt->vlans)
		return 0;
	if (pkt->family == XS_AF_INET) {
		if (f->chk_saddr != pkt->src4.addr)
			return 0;
	} else if (!xs_addr6_eq(f->chk_saddr6, pkt->src6.addr) ||
		   (cfg && (cfg->flags & XS_CFG_V6_MEDIA_DROP))) {
		return 0;
	}
	return !cfg || !(cfg->flags & XS_CFG_FLOOD) || !xs_flood_port(cfg, bpf_ntohs(pkt->dport));
}

/* Remember that the source passed the checks under @gen (read before them). */
static __always_inline void xs_flow_mark_checked(struct xs_flow *f, const struct xs_pkt *pkt,
						 __u64 gen)
{
	if (pkt->family == XS_AF_INET) {
		if (f->chk_saddr != pkt->src4.addr)
			f->chk_saddr = pkt->src4.addr;
	} else if (!xs_addr6_eq(f->chk_saddr6, pkt->src6.addr)) {
		xs_addr6_copy(f->chk_saddr6, pkt->src6.addr);
	}
	if (f->chk_gen != gen + 1)
		f->chk_gen = gen + 1;
}

/* Relay (or hand to AF_XDP) a packet of flow @f that passed the earlier stages. */
static __always_inline int xs_relay_flow(struct xdp_md *ctx, const struct xs_pkt *pkt,
					 const struct xs_config *cfg, struct xs_flow *f)
{
	int reason;

	/*
	 * A tagged frame would need its VLAN's FIB and egress; the relay
	 * serves untagged ports and leaves tagged media to the stack.
	 */
	if (pkt->vlans)
		return XS_CONTINUE;
	reason = xs_latch(f, pkt);
	if (reason != XS_CONTINUE)
		return reason;
	/*
	 * Datapath afxdp: source-checked and latched here like any
	 * relayed packet; next hop, rewrite and transmit happen in userspace
	 * (relay/afxdp.c) on the same flow. Without a socket on this
	 * queue the redirect fails (XDP_PASS) and the packet is relayed here.
	 * Either family and the translation between them: the AF_XDP relay
	 * rewrites all of them.
	 */
	if (cfg && (cfg->flags & XS_CFG_AFXDP) &&
	    bpf_redirect_map(&xs_xsks, XS_XSK_KEY(ctx->ingress_ifindex, ctx->rx_queue_index),
			     XDP_PASS) == XDP_REDIRECT)
		return XS_REDIRECT_XSK;
	return xs_forward(ctx, pkt, f);
}

#endif /* XDPSBC_BPF_RELAY_H */
