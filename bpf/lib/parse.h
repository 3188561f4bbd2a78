/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing through a cursor, in the manner of xdp-tools'
 * parsing_helpers.h: one parse_*() per header, each checking that the whole
 * header lies before data_end and returning the next protocol or -1. Every
 * walk that depends on packet contents has a named bound, so the verifier
 * sees a finite program and a crafted packet cannot make us loop.
 */
#ifndef XDPSBC_BPF_PARSE_H
#define XDPSBC_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdpsbc_common.h"
#include "lib/stats.h"

/* 802.1Q inside 802.1ad (QinQ) is the deepest stacking seen at a carrier edge. */
#define XS_VLAN_MAX 2
/*
 * RFC 8200 4.1 orders at most hop-by-hop, destination, routing, fragment,
 * AH and destination again before the transport header: six headers a
 * legitimate packet needs. Deeper chains are passed as unparsed.
 */
#define XS_IPV6_EXT_MAX 6

#define XS_AF_INET  4
#define XS_AF_INET6 6

struct hdr_cursor {
	void *pos;
};

struct xs_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct xs_ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-octet units << 3 | M flag */
	__be32 identification;
};

/* What the pipeline stages need to know about a packet, filled by xs_parse(). */
struct xs_pkt {
	__u8 family;  /* XS_AF_INET or XS_AF_INET6 */
	__u8 l4proto; /* IPPROTO_* after the IP header and its extensions */
	__u8 vlans;   /* VLAN tags in front of the IP header */
	__u8 frag;    /* non-first fragment: no transport header */
	__u8 fraghdr; /* IPv4 MF set or an IPv6 fragment header: part of a datagram */
	__be16 sport; /* only for UDP/TCP that is not a non-first fragment */
	__be16 dport;
	__be32 daddr4;
	__u8 daddr6[16];     /* IPv6 only */
	__u16 l4len;	     /* bytes from the transport header on, as the IP header says */
	__u16 payoff;	     /* UDP/TCP payload: offset from the frame start ... */
	__u16 paylen;	     /* ... and length by the IP header (not frame padding) */
	struct xs_lpm4 src4; /* LPM keys of the source, ready for the lookups */
	struct xs_lpm6 src6;
};

static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD);
}

/* Ethernet and up to XS_VLAN_MAX tags; returns the inner ethertype (be16). */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end, __u8 *vlans)
{
	struct ethhdr *eth = nh->pos;
	struct xs_vlan_hdr *vlh;
	__u16 h_proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return -1;
	nh->pos = eth + 1;
	h_proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < XS_VLAN_MAX; i++) {
		if (!proto_is_vlan(h_proto))
			break;
		vlh = nh->pos;
		if ((void *)(vlh + 1) > data_end)
			return -1;
		h_proto = vlh->encap_proto;
		nh->pos = vlh + 1;
		*vlans = i + 1;
	}
	/* A third tag: deeper than we promise to look. */
	if (proto_is_vlan(h_proto))
		return -1;
	return h_proto;
}

/* IPv4 with options; returns the protocol, sets *frag for non-first fragments. */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end, struct iphdr **iphdr,
				       __u8 *frag, __u8 *fraghdr)
{
	struct iphdr *iph = nh->pos;
	int hdrsize;

	if ((void *)(iph + 1) > data_end)
		return -1;
	if (iph->version != 4 || iph->ihl < 5)
		return -1;
	hdrsize = iph->ihl * 4;
	if (nh->pos + hdrsize > data_end)
		return -1;
	nh->pos += hdrsize;
	*iphdr = iph;
	if (iph->frag_off & bpf_htons(0x1fff))
		*frag = 1;
	if (iph->frag_off & bpf_htons(0x3fff)) /* MF or an offset */
		*fraghdr = 1;
	return iph->protocol;
}

static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end,
					struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -1;
	if (ip6h->version != 6)
		return -1;
	nh->pos = ip6h + 1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

static __always_inline int ipv6_is_ext(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
		return 1;
	}
	return 0;
}

/*
 * Walk the IPv6 extension headers after the fixed header; returns the
 * transport protocol, or -1 when truncated or deeper than XS_IPV6_EXT_MAX.
 * A fragment header with a non-zero offset ends the walk: what follows is
 * the middle of someone's payload.
 */
static __always_inline int parse_ip6ext(struct hdr_cursor *nh, void *data_end, __u8 nexthdr,
					__u8 *frag, __u8 *fraghdr)
{
	struct ipv6_opt_hdr *hdr;
	struct xs_ipv6_frag_hdr *fh;
	int i;

#pragma unroll
	for (i = 0; i < XS_IPV6_EXT_MAX; i++) {
		if (!ipv6_is_ext(nexthdr))
			return nexthdr;
		hdr = nh->pos;
		if ((void *)(hdr + 1) > data_end)
			return -1;
		switch (nexthdr) {
		case IPPROTO_FRAGMENT:
			fh = nh->pos;
			if ((void *)(fh + 1) > data_end)
				return -1;
			nh->pos = fh + 1;
			*fraghdr = 1;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				*frag = 1;
				return fh->nexthdr;
			}
			break;
		case IPPROTO_AH: /* RFC 4302: length in 4-octet units, minus 2 */
			nh->pos += (hdr->hdrlen + 2) * 4;
			break;
		default: /* hop-by-hop, routing, destination: 8-octet units, minus 1 */
			nh->pos += (hdr->hdrlen + 1) * 8;
			break;
		}
		nexthdr = hdr->nexthdr;
	}
	if (ipv6_is_ext(nexthdr))
		return -1;
	return nexthdr;
}

static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr)
{
	struct udphdr *h = nh->pos;

	if ((void *)(h + 1) > data_end)
		return -1;
	nh->pos = h + 1;
	*udphdr = h;
	return 0;
}

static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end,
					struct tcphdr **tcphdr)
{
	struct tcphdr *h = nh->pos;

	if ((void *)(h + 1) > data_end)
		return -1;
	if (h->doff < 5)
		return -1;
	nh->pos = h + 1;
	*tcphdr = h;
	return 0;
}

/*
 * Where the transport payload starts and how long the IP header says it is;
 * a length from the frame would count Ethernet padding of short frames.
 * A header longer than the IP length (malformed) leaves no payload.
 */
static __always_inline void xs_set_payload(struct xs_pkt *pkt, long off, __u16 hdrlen)
{
	pkt->payoff = off;
	pkt->paylen = pkt->l4len > hdrlen ? pkt->l4len - hdrlen : 0;
}

/*
 * Fill @pkt from the frame. Returns XS_CONTINUE, or the pass reason when the
 * frame is not IP or cannot be parsed safely.
 */
static __always_inline int xs_parse(struct xdp_md *ctx, struct xs_pkt *pkt)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = {.pos = data};
	struct ipv6hdr *ip6h;
	struct udphdr *udph;
	struct tcphdr *tcph;
	struct iphdr *iph;
	int proto;

	proto = parse_ethhdr(&nh, data_end, &pkt->vlans);
	if (proto < 0)
		return XS_PASS_UNPARSED;

	if (proto == bpf_htons(ETH_P_IP)) {
		proto = parse_iphdr(&nh, data_end, &iph, &pkt->frag, &pkt->fraghdr);
		if (proto < 0)
			return XS_PASS_UNPARSED;
		pkt->family = XS_AF_INET;
		pkt->src4.prefixlen = 32;
		pkt->src4.addr = iph->saddr;
		pkt->daddr4 = iph->daddr;
		pkt->l4len = bpf_ntohs(iph->tot_len) - iph->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		proto = parse_ip6hdr(&nh, data_end, &ip6h);
		if (proto < 0)
			return XS_PASS_UNPARSED;
		pkt->family = XS_AF_INET6;
		pkt->src6.prefixlen = 128;
		__builtin_memcpy(pkt->src6.addr, &ip6h->saddr, sizeof(pkt->src6.addr));
		__builtin_memcpy(pkt->daddr6, &ip6h->daddr, sizeof(pkt->daddr6));
		proto = parse_ip6ext(&nh, data_end, proto, &pkt->frag, &pkt->fraghdr);
		if (proto < 0)
			return XS_PASS_UNPARSED;
		pkt->l4len = bpf_ntohs(ip6h->payload_len) - (nh.pos - (void *)(ip6h + 1));
	} else {
		return XS_PASS_NOT_IP;
	}
	pkt->l4proto = proto;
	if (pkt->frag)
		return XS_CONTINUE;

	if (proto == IPPROTO_UDP) {
		if (parse_udphdr(&nh, data_end, &udph) < 0)
			return XS_PASS_UNPARSED;
		pkt->sport = udph->source;
		pkt->dport = udph->dest;
		xs_set_payload(pkt, (void *)(udph + 1) - data, sizeof(*udph));
	} else if (proto == IPPROTO_TCP) {
		if (parse_tcphdr(&nh, data_end, &tcph) < 0)
			return XS_PASS_UNPARSED;
		pkt->sport = tcph->source;
		pkt->dport = tcph->dest;
		xs_set_payload(pkt, (void *)tcph - data + tcph->doff * 4, tcph->doff * 4);
	}
	return XS_CONTINUE;
}

#endif /* XDPSBC_BPF_PARSE_H */
