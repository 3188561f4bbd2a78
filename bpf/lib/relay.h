/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stage 5: media pinholes and the RTP/RTCP relay (IPv4 UDP).
 *
 * xs_flows is keyed by the edge address and port a packet arrives on. A hit
 * rewrites the packet to leave from the flow's edge address/port towards the
 * other leg's peer and sends it back out (XDP_TX) or out of another interface
 * (XDP_REDIRECT via xs_txports), next hop from the kernel's FIB. A miss on a
 * port of the relay range is a closed pinhole.
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

#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/clock.h"
#include "lib/config.h"

#define XS_FIB_AF_INET 2 /* AF_INET, which the BPF target's headers do not carry */

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
 * Source check and latching for flow @f (the rule is in xdpsbc_common.h,
 * above XS_FLOW_LATCH). The steady state, a packet from the latched peer,
 * costs two compares and no clock read; the clock is read only for a packet
 * that could latch. The flow value is shared by every CPU: two first packets
 * from the signalled address racing on two CPUs may both latch, the last
 * writer wins, and both came from the one address allowed to latch.
 * Userspace rewrites the whole value when it reprograms the flow.
 */
static __always_inline int xs_latch(struct xs_flow *f, __be32 saddr, __be16 sport)
{
	struct xs_flow_key rkey = {.proto = IPPROTO_UDP};
	__u32 flags = f->flags;
	struct xs_flow *rev;

	if (!(flags & XS_FLOW_LATCH))
		return XS_CONTINUE;
	if ((flags & XS_FLOW_LATCHED) && saddr == f->peer_addr && sport == f->peer_port) {
		/* sigd's guess confirmed by a packet: the port is settled. */
		if (flags & XS_FLOW_PRELATCHED)
			f->flags = flags & ~XS_FLOW_PRELATCHED;
		return XS_CONTINUE;
	}
	/*
	 * Latching, once: only from the signalled source, only in the window
	 * (a pre-latched flow may still correct its port once). Anyone else
	 * is never forwarded: no takeover and no injection.
	 */
	if (!saddr || saddr != f->latch_addr ||
	    (flags & (XS_FLOW_LATCHED | XS_FLOW_PRELATCHED)) == XS_FLOW_LATCHED ||
	    xs_now() >= f->latch_until_ns)
		return XS_DROP_MEDIA_SOURCE;
	f->peer_addr = saddr;
	f->peer_port = sport;
	f->flags = (flags | XS_FLOW_LATCHED) & ~XS_FLOW_PRELATCHED;
	rkey.addr = f->src_addr;
	rkey.port = f->src_port;
	rev = bpf_map_lookup_elem(&xs_flows, &rkey);
	if (rev) {
		rev->dst_addr = saddr;
		rev->dst_port = sport;
	}
	return XS_CONTINUE;
}

/* memcmp() is a libcall the BPF target does not have. */
static __always_inline int xs_mac_eq(const __u8 *a, const __u8 *b)
{
	int i;

#pragma unroll
	for (i = 0; i < ETH_ALEN; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/*
 * The next hop of flow @f towards @daddr: from the flow's cache while it is
 * younger than XS_NH_TTL_NS and for the same destination, else from
 * bpf_fib_lookup(), which then refills the cache. Steady-state relaying is
 * then a hash lookup and a rewrite; the FIB helper (the costly part) runs once
 * a second per flow. Returns 0, or the FIB's answer (BPF_FIB_LKUP_RET_*, a negative
 * errno for an error). The bound is how late a route or neighbour change
 * (failover to another gateway MAC, a route moved to another interface) is
 * noticed: one second, 50 packets of a 20 ms RTP stream, less than the
 * neighbour subsystem itself takes to notice a dead gateway. A failed lookup
 * is never cached. The cache ignores the TOS (the FIB is asked with that of
 * the packet that fills it): policy routing by TOS is not used for media.
 *
 * The flow is shared by all CPUs. MACs are rewritten only when they change,
 * so a refresh that finds the same next hop (nearly all of them) writes only
 * nh_ns and no reader can see a half-written MAC; at a real change a packet
 * relayed meanwhile on another CPU may carry a mixed MAC pair, once.
 */
static __always_inline int xs_next_hop(struct xdp_md *ctx, struct xs_flow *f, struct iphdr *iph,
				       __be32 daddr, __u64 now)
{
	struct bpf_fib_lookup fib = {};
	long ret;

	if (f->nh_ns && f->nh_daddr == daddr && now - f->nh_ns < XS_NH_TTL_NS)
		return 0;

	fib.family = XS_FIB_AF_INET;
	fib.tos = iph->tos;
	fib.l4_protocol = IPPROTO_UDP;
	fib.tot_len = bpf_ntohs(iph->tot_len);
	fib.ipv4_src = f->src_addr;
	fib.ipv4_dst = daddr;
	fib.ifindex = ctx->ingress_ifindex;
	/*
	 * Needs forwarding enabled on the ingress interface, like any router:
	 * FWD_DISABLED otherwise, whatever the flags (sigd sets it up).
	 */
	ret = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (ret != BPF_FIB_LKUP_RET_SUCCESS)
		return ret;

	if (!xs_mac_eq(f->nh_dmac, fib.dmac))
		__builtin_memcpy(f->nh_dmac, fib.dmac, ETH_ALEN);
	if (!xs_mac_eq(f->nh_smac, fib.smac))
		__builtin_memcpy(f->nh_smac, fib.smac, ETH_ALEN);
	if (f->ifindex != fib.ifindex)
		f->ifindex = fib.ifindex;
	f->nh_daddr = daddr;
	f->nh_ns = now;
	return 0;
}

/*
 * Note a drop for no route (@why: the FIB's answer) on the flow and on the
 * ingress interface. Only the failing path pays for it; entries are shared
 * by all CPUs: atomic adds, plain stores for the times (any recent one will
 * do), and a window restart that two CPUs may both do, losing a count.
 */
static __always_inline void xs_noroute_note(struct xdp_md *ctx, struct xs_flow *f, long why,
					    __u64 now)
{
	__u32 key = ctx->ingress_ifindex;
	struct xs_noroute *n, fresh = {};

	__sync_fetch_and_add(&f->noroute, 1);
	n = bpf_map_lookup_elem(&xs_noroute, &key);
	if (!n) {
		fresh.packets = 1;
		fresh.window_packets = 1;
		fresh.last_ns = now;
		fresh.window_ns = now;
		fresh.why = why;
		bpf_map_update_elem(&xs_noroute, &key, &fresh, BPF_NOEXIST);
		return;
	}
	if (now - n->window_ns >= XS_NOROUTE_WINDOW_NS) {
		n->window_ns = now;
		n->window_packets = 0;
	}
	__sync_fetch_and_add(&n->packets, 1);
	__sync_fetch_and_add(&n->window_packets, 1);
	n->last_ns = now;
	if (n->why != why)
		n->why = why;
}

/*
 * Rewrite the frame for flow @f and pick TX or REDIRECT. Only untagged
 * frames get here, so the IP header sits right after Ethernet. bpf_fib_lookup
 * and bpf_redirect_map do not move packet data, so the header pointers stay
 * valid across them; the bounds are re-checked from ctx because the verifier
 * does not carry them over from parsing.
 */
static __always_inline int xs_forward(struct xdp_md *ctx, struct xs_flow *f)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__be32 saddr, daddr;
	__be16 sport, dport;
	struct udphdr *udph;
	__u32 egress;
	__sum16 check;
	__u64 sum, now;
	int reason;
	long why;

	if ((void *)(iph + 1) > data_end)
		return XS_PASS_UNPARSED;
	udph = (void *)iph + iph->ihl * 4;
	if ((void *)(udph + 1) > data_end)
		return XS_PASS_UNPARSED;

	saddr = f->src_addr;
	daddr = f->dst_addr;
	sport = f->src_port;
	dport = f->dst_port;
	/* No destination: the other leg is on hold (sigd clears it). */
	if (!daddr)
		return XS_DROP_NO_ROUTE;

	/* One clock read per packet: the next-hop age and last_seen_ns. */
	now = xs_now();
	why = xs_next_hop(ctx, f, iph, daddr, now);
	if (why) {
		xs_noroute_note(ctx, f, why, now);
		return XS_DROP_NO_ROUTE;
	}
	egress = f->ifindex;
	if (egress == ctx->ingress_ifindex) {
		reason = XS_RELAY_TX;
	} else if (bpf_redirect_map(&xs_txports, egress, 0) == XDP_REDIRECT) {
		reason = XS_RELAY_REDIRECT;
	} else {
		xs_noroute_note(ctx, f, XS_NOROUTE_NO_TXPORT, now);
		return XS_DROP_NO_ROUTE; /* egress not in xs_txports */
	}

	sum = csum_start(iph->check);
	sum = csum_acc4(sum, iph->saddr, saddr);
	sum = csum_acc4(sum, iph->daddr, daddr);
	iph->check = csum_fold64(sum);

	/* UDP over IPv4 may carry no checksum (0): keep it that way. */
	if (udph->check) {
		sum = csum_start(udph->check);
		sum = csum_acc4(sum, iph->saddr, saddr);
		sum = csum_acc4(sum, iph->daddr, daddr);
		sum = csum_acc2(sum, udph->source, sport);
		sum = csum_acc2(sum, udph->dest, dport);
		check = csum_fold64(sum);
		udph->check = check ? check : (__sum16)0xffff;
	}
	iph->saddr = saddr;
	iph->daddr = daddr;
	udph->source = sport;
	udph->dest = dport;
	__builtin_memcpy(eth->h_dest, f->nh_dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f->nh_smac, ETH_ALEN);

	__sync_fetch_and_add(&f->packets, 1);
	__sync_fetch_and_add(&f->bytes, data_end - data);
	f->last_seen_ns = now;
	return reason;
}

/*
 * The flow a packet is for: IPv4 UDP to the relay range (sigd allocates its
 * ports there and sets the range); with a range configured, other ports
 * (SIP, DNS, ...) skip the hash lookup. Without one, every UDP port is
 * looked up. *@in_range says whether a miss is a closed pinhole candidate.
 */
static __always_inline struct xs_flow *xs_relay_lookup(const struct xs_pkt *pkt,
						       const struct xs_config *cfg, int *in_range)
{
	struct xs_flow_key key = {.proto = IPPROTO_UDP};

	*in_range = 0;
	if (pkt->family != XS_AF_INET || pkt->l4proto != IPPROTO_UDP || pkt->frag)
		return NULL;
	if (cfg && cfg->relay_max &&
	    !xs_in_range(bpf_ntohs(pkt->dport), cfg->relay_min, cfg->relay_max))
		return NULL;
	*in_range = 1;
	key.addr = pkt->daddr4;
	key.port = pkt->dport;
	return bpf_map_lookup_elem(&xs_flows, &key);
}

/*
 * Has this packet's source passed the source checks (trusted networks,
 * blocklist) for flow @f under blocklist generation @gen? Then the checks
 * are skipped: steady-state media costs neither LPM lookup, whatever the
 * size of the blocklist. A blocklisted source is still never relayed: any
 * change that could block it changes @gen first. The other stages before
 * the relay cannot claim such a packet: the IPv6 media drop is for IPv6,
 * and the flood limit watches the SIP ports, checked here because nothing
 * stops an operator from putting one inside the relay range.
 */
static __always_inline int xs_flow_checked(const struct xs_flow *f, const struct xs_pkt *pkt,
					   const struct xs_config *cfg, __u64 gen)
{
	if (f->chk_gen != gen + 1 || f->chk_saddr != pkt->src4.addr || pkt->vlans)
		return 0;
	return !cfg || !(cfg->flags & XS_CFG_FLOOD) || !xs_flood_port(cfg, bpf_ntohs(pkt->dport));
}

/* Remember that the source passed the checks under @gen (read before them). */
static __always_inline void xs_flow_mark_checked(struct xs_flow *f, const struct xs_pkt *pkt,
						 __u64 gen)
{
	if (f->chk_saddr != pkt->src4.addr)
		f->chk_saddr = pkt->src4.addr;
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
	reason = xs_latch(f, pkt->src4.addr, pkt->sport);
	if (reason != XS_CONTINUE)
		return reason;
	/*
	 * Datapath afxdp: source-checked and latched here like any
	 * relayed packet; next hop, rewrite and transmit happen in userspace
	 * (relay/afxdp.c) on the same flow. Without a socket on this
	 * queue the redirect fails (XDP_PASS) and the packet is relayed here.
	 */
	if (cfg && (cfg->flags & XS_CFG_AFXDP) &&
	    bpf_redirect_map(&xs_xsks, XS_XSK_KEY(ctx->ingress_ifindex, ctx->rx_queue_index),
			     XDP_PASS) == XDP_REDIRECT)
		return XS_REDIRECT_XSK;
	return xs_forward(ctx, f);
}

#endif /* XDPSBC_BPF_RELAY_H */
