/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The relay's rewrite: a packet of a flow leaves from the flow's edge
 * address/port towards the other leg's peer, in the family of the other
 * leg. Same family: addresses, ports, TTL/hop limit and MACs rewritten in
 * place, checksums updated incrementally. Other family: the IP header is
 * replaced (bpf_xdp_adjust_head(), IPv4 20 B <-> IPv6 40 B, as a stateless
 * translator does, RFC 7915) and the UDP checksum is updated for the new
 * pseudo-header: the ports and payload are unchanged and the pseudo-header's
 * length and protocol words sum the same in both families, so only the
 * addresses move the sum.
 *
 * The relay is a router for the packet's hop count: TTL/hop limit is
 * decremented, and a packet that arrives with 1 or 0 is dropped
 * (drop-hop-limit), so two misconfigured relays aiming flows at each other
 * cannot keep a packet alive for ever. No ICMP time-exceeded is sent: the
 * packet was addressed to the edge, not routed through it.
 *
 * Only untagged frames get here (relay.h), so the IP header sits right after
 * Ethernet and the UDP header at pkt->payoff - 8. bpf_fib_lookup() and
 * bpf_redirect_map() do not move packet data; bpf_xdp_adjust_head() does, so
 * every pointer is derived again from ctx after it.
 */
#ifndef XDPSBC_BPF_FORWARD_H
#define XDPSBC_BPF_FORWARD_H

#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/csum.h"
#include "lib/clock.h"
#include "lib/nexthop.h"

#define XS_IP6_HLEN 40
#define XS_IP4_HLEN 20
/* Transport offset bound: Ethernet, IPv6 and XS_IPV6_EXT_MAX headers fit. */
#define XS_L4_OFF_MAX 512

static __always_inline void xs_count(struct xs_flow *f, __u64 len, __u64 now)
{
	__sync_fetch_and_add(&f->packets, 1);
	__sync_fetch_and_add(&f->bytes, len);
	f->last_seen_ns = now;
}

/* The flow's next-hop MACs into the frame's Ethernet header. */
static __always_inline void xs_set_macs(struct ethhdr *eth, const struct xs_flow *f)
{
	__builtin_memcpy(eth->h_dest, f->nh_dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f->nh_smac, ETH_ALEN);
}

/* The UDP header of a parsed packet, bounds-checked for the verifier. */
static __always_inline struct udphdr *xs_udp_at(struct xdp_md *ctx, const struct xs_pkt *pkt)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 off = pkt->payoff - sizeof(struct udphdr);
	struct udphdr *udph;

	if (off > XS_L4_OFF_MAX)
		return NULL;
	udph = data + off;
	if ((void *)(udph + 1) > data_end)
		return NULL;
	return udph;
}

/* IPv4 to IPv4: the relay as it always was, plus the TTL. */
static __always_inline int xs_fwd44(struct xdp_md *ctx, const struct xs_pkt *pkt, struct xs_flow *f)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__be32 saddr, daddr;
	__be16 sport, dport;
	struct udphdr *udph;
	__sum16 check;
	__u64 sum, now;
	long why;
	int reason;

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
	if (iph->ttl <= 1)
		return XS_DROP_HOP_LIMIT;

	/* One clock read per packet: the next-hop age and last_seen_ns. */
	now = xs_now();
	why = xs_next_hop4(ctx, f, iph->tos, bpf_ntohs(iph->tot_len), now);
	reason = xs_egress(ctx, f, why, now);
	if (reason == XS_DROP_NO_ROUTE)
		return reason;

	/*
	 * TTL - 1: the 16-bit word it shares with the protocol goes down by
	 * 0x0100 in network order (TTL >= 2, no borrow), d = htons(0x0100) as
	 * it sits in memory, so its change to the sum is the constant
	 * ~w + (w - d) = 0xffff - d: no load of the word, no dependency.
	 */
	iph->ttl--;
	sum = csum_start(iph->check) + (0xffff - bpf_htons(0x0100));
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
	xs_set_macs(eth, f);
	xs_count(f, data_end - data, now);
	return reason;
}

/* IPv6 to IPv6: the fixed header rewritten; extension headers stay as they came. */
static __always_inline int xs_fwd66(struct xdp_md *ctx, const struct xs_pkt *pkt, struct xs_flow *f)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6h = (void *)(eth + 1);
	struct udphdr *udph;
	__sum16 check;
	__u64 sum, now;
	long why;
	int reason;

	if ((void *)(ip6h + 1) > data_end)
		return XS_PASS_UNPARSED;
	udph = xs_udp_at(ctx, pkt);
	if (!udph)
		return XS_PASS_UNPARSED;
	if (xs_addr6_zero(f->dst_addr6))
		return XS_DROP_NO_ROUTE;
	if (ip6h->hop_limit <= 1)
		return XS_DROP_HOP_LIMIT;
	/* A zero UDP checksum is invalid over IPv6 (RFC 8200 8.1). */
	if (!udph->check)
		return XS_DROP_XLAT;

	now = xs_now();
	why = xs_next_hop6(ctx, f, 0, XS_IP6_HLEN + bpf_ntohs(ip6h->payload_len), now);
	reason = xs_egress(ctx, f, why, now);
	if (reason == XS_DROP_NO_ROUTE)
		return reason;

	sum = csum_start(udph->check);
	sum = csum_sub16(sum, (const __be32 *)&ip6h->saddr);
	sum = csum_sub16(sum, (const __be32 *)&ip6h->daddr);
	sum = csum_add16(sum, (const __be32 *)f->src_addr6);
	sum = csum_add16(sum, (const __be32 *)f->dst_addr6);
	sum = csum_acc2(sum, udph->source, f->src_port);
	sum = csum_acc2(sum, udph->dest, f->dst_port);
	check = csum_fold64(sum);
	udph->check = check ? check : (__sum16)0xffff;
	udph->source = f->src_port;
	udph->dest = f->dst_port;
	xs_addr6_copy(&ip6h->saddr, f->src_addr6);
	xs_addr6_copy(&ip6h->daddr, f->dst_addr6);
	ip6h->hop_limit--;
	xs_set_macs(eth, f);
	xs_count(f, data_end - data, now);
	return reason;
}

/*
 * IPv4 to IPv6. The IPv4 header (with its options, which IPv6 has no place
 * for) becomes a fixed IPv6 header: traffic class from the TOS, no flow
 * label, hop limit from the TTL. Refused (drop-xlat): a fragment (it would
 * need a fragment header and its siblings) and UDP without checksum, which
 * IPv6 forbids and which would need the whole payload summed here.
 */
static __always_inline int xs_fwd46(struct xdp_md *ctx, const struct xs_pkt *pkt, struct xs_flow *f)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct ipv6hdr *ip6h;
	struct udphdr *udph;
	__u8 tos, ttl;
	__u16 l4len;
	__sum16 check;
	__u64 sum, now;
	long why;
	int reason, off;

	if ((void *)(iph + 1) > data_end)
		return XS_PASS_UNPARSED;
	udph = xs_udp_at(ctx, pkt);
	if (!udph)
		return XS_PASS_UNPARSED;
	if (xs_addr6_zero(f->dst_addr6))
		return XS_DROP_NO_ROUTE;
	ttl = iph->ttl;
	if (ttl <= 1)
		return XS_DROP_HOP_LIMIT;
	if (!udph->check || pkt->fraghdr)
		return XS_DROP_XLAT;
	tos = iph->tos;
	l4len = pkt->l4len;

	now = xs_now();
	why = xs_next_hop6(ctx, f, tos, XS_IP6_HLEN + l4len, now);
	reason = xs_egress(ctx, f, why, now);
	if (reason == XS_DROP_NO_ROUTE)
		return reason;

	sum = csum_start(udph->check);
	sum = csum_sub4(sum, iph->saddr);
	sum = csum_sub4(sum, iph->daddr);
	sum = csum_add16(sum, (const __be32 *)f->src_addr6);
	sum = csum_add16(sum, (const __be32 *)f->dst_addr6);
	sum = csum_acc2(sum, udph->source, f->src_port);
	sum = csum_acc2(sum, udph->dest, f->dst_port);
	check = csum_fold64(sum);
	udph->check = check ? check : (__sum16)0xffff;
	udph->source = f->src_port;
	udph->dest = f->dst_port;

	/* Grow the headroom so that Ethernet + IPv6 end where UDP starts. */
	off = (int)((void *)udph - data) - (int)(sizeof(*eth) + XS_IP6_HLEN);
	if (bpf_xdp_adjust_head(ctx, off))
		return XS_DROP_XLAT;
	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	eth = data;
	ip6h = (void *)(eth + 1);
	if ((void *)(ip6h + 1) > data_end)
		return XS_DROP_XLAT;
	*(__be32 *)ip6h = bpf_htonl(0x60000000U | (__u32)tos << 20);
	ip6h->payload_len = bpf_htons(l4len);
	ip6h->nexthdr = IPPROTO_UDP;
	ip6h->hop_limit = ttl - 1;
	xs_addr6_copy(&ip6h->saddr, f->src_addr6);
	xs_addr6_copy(&ip6h->daddr, f->dst_addr6);
	eth->h_proto = bpf_htons(ETH_P_IPV6);
	xs_set_macs(eth, f);
	xs_count(f, data_end - data, now);
	return reason;
}

/*
 * IPv6 to IPv4. Extension headers before UDP (hop-by-hop, destination
 * options, routing) are not carried over: a translator does not translate
 * them (RFC 7915 5.1) and the edge, their destination, has read them. A
 * fragment is refused (drop-xlat). The IPv4 header is an atomic datagram
 * (DF set, identification 0, RFC 6864).
 */
static __always_inline int xs_fwd64(struct xdp_md *ctx, const struct xs_pkt *pkt, struct xs_flow *f)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6h = (void *)(eth + 1);
	struct udphdr *udph;
	struct iphdr *iph;
	__u8 tclass, hlim;
	__u16 l4len, *w;
	__sum16 check;
	__u64 sum, now;
	long why;
	int reason, off, i;

	if ((void *)(ip6h + 1) > data_end)
		return XS_PASS_UNPARSED;
	udph = xs_udp_at(ctx, pkt);
	if (!udph)
		return XS_PASS_UNPARSED;
	if (!f->dst_addr)
		return XS_DROP_NO_ROUTE;
	hlim = ip6h->hop_limit;
	if (hlim <= 1)
		return XS_DROP_HOP_LIMIT;
	if (!udph->check || pkt->fraghdr)
		return XS_DROP_XLAT;
	tclass = bpf_ntohl(*(__be32 *)ip6h) >> 20;
	l4len = pkt->l4len;

	now = xs_now();
	why = xs_next_hop4(ctx, f, tclass, XS_IP4_HLEN + l4len, now);
	reason = xs_egress(ctx, f, why, now);
	if (reason == XS_DROP_NO_ROUTE)
		return reason;

	sum = csum_start(udph->check);
	sum = csum_sub16(sum, (const __be32 *)&ip6h->saddr);
	sum = csum_sub16(sum, (const __be32 *)&ip6h->daddr);
	sum = csum_add4(sum, f->src_addr);
	sum = csum_add4(sum, f->dst_addr);
	sum = csum_acc2(sum, udph->source, f->src_port);
	sum = csum_acc2(sum, udph->dest, f->dst_port);
	check = csum_fold64(sum);
	udph->check = check ? check : (__sum16)0xffff;
	udph->source = f->src_port;
	udph->dest = f->dst_port;

	/* Shrink the headroom: Ethernet + IPv4 end where UDP starts. */
	off = (int)((void *)udph - data) - (int)(sizeof(*eth) + XS_IP4_HLEN);
	if (bpf_xdp_adjust_head(ctx, off))
		return XS_DROP_XLAT;
	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	eth = data;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return XS_DROP_XLAT;
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = tclass;
	iph->tot_len = bpf_htons(XS_IP4_HLEN + l4len);
	iph->id = 0;
	iph->frag_off = bpf_htons(0x4000); /* DF */
	iph->ttl = hlim - 1;
	iph->protocol = IPPROTO_UDP;
	iph->check = 0;
	iph->saddr = f->src_addr;
	iph->daddr = f->dst_addr;
	/* A new header: summed whole, ten words. */
	w = (__u16 *)iph;
	sum = 0;
#pragma unroll
	for (i = 0; i < XS_IP4_HLEN / 2; i++)
		sum += w[i];
	iph->check = csum_fold64(sum);
	eth->h_proto = bpf_htons(ETH_P_IP);
	xs_set_macs(eth, f);
	xs_count(f, data_end - data, now);
	return reason;
}

/* Rewrite the frame for flow @f and pick TX or REDIRECT (or the drop reason). */
static __always_inline int xs_forward(struct xdp_md *ctx, const struct xs_pkt *pkt,
				      struct xs_flow *f)
{
	int out6 = !!(f->flags & XS_FLOW_OUT6);

	if (pkt->family == XS_AF_INET)
		return out6 ? xs_fwd46(ctx, pkt, f) : xs_fwd44(ctx, pkt, f);
	return out6 ? xs_fwd66(ctx, pkt, f) : xs_fwd64(ctx, pkt, f);
}

#endif /* XDPSBC_BPF_FORWARD_H */
