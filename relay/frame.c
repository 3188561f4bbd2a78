// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frame parsing and rewriting for the AF_XDP relay (frame.h): the
 * userspace twin of bpf/lib/parse.h and bpf/lib/forward.h.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <netinet/in.h>

#include "relay/frame.h"

/*
 * One's-complement update of @check (RFC 1624): @ow 16-bit words @old
 * leave the sum, @nw words @new enter it. Equal counts are a rewrite in
 * place; unequal ones move a pseudo-header between IPv4 and IPv6.
 */
void xs_csum_move(uint16_t *check, const void *old, unsigned int ow, const void *new,
		  unsigned int nw)
{
	const uint16_t *o = old, *n = new;
	uint32_t sum = (uint16_t) ~*check;

	for (unsigned int i = 0; i < ow; i++)
		sum += (uint16_t)~o[i];
	for (unsigned int i = 0; i < nw; i++)
		sum += n[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	*check = (uint16_t)~sum;
}

void xs_csum_replace(uint16_t *check, const void *old, const void *new, unsigned int words)
{
	xs_csum_move(check, old, words, new, words);
}

/* Untagged UDP over IPv4 (not a fragment) or IPv6 (hop-by-hop, routing, destination options). */
int xs_frame_parse(uint8_t *p, uint32_t len, struct xs_frame *fr)
{
	struct ethhdr *eth = (void *)p;

	memset(fr, 0, sizeof(*fr));
	fr->len = len;
	if (len < sizeof(*eth) + sizeof(struct iphdr) + sizeof(struct udphdr))
		return -EINVAL;
	if (eth->h_proto == htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);
		uint32_t hl = iph->ihl * 4U, tot = ntohs(iph->tot_len);

		if (iph->version != 4 || iph->ihl < 5 || iph->protocol != IPPROTO_UDP ||
		    (iph->frag_off & htons(0x3fff)) || tot < hl + sizeof(struct udphdr) ||
		    sizeof(*eth) + tot > len)
			return -EINVAL;
		fr->saddr = (uint8_t *)&iph->saddr;
		fr->daddr = (uint8_t *)&iph->daddr;
		fr->udph = (void *)((uint8_t *)iph + hl);
		fr->l4len = tot - hl;
		fr->hlim = iph->ttl;
		fr->tclass = iph->tos;
		return 0;
	}
	if (eth->h_proto == htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);
		uint32_t off = sizeof(*eth) + sizeof(*ip6h), end;
		uint8_t nh = ip6h->nexthdr;

		if (len < off + sizeof(struct udphdr) || ip6h->version != 6)
			return -EINVAL;
		end = off + ntohs(ip6h->payload_len);
		if (end > len)
			return -EINVAL;
		for (unsigned int i = 0; nh != IPPROTO_UDP && i < XS_FRAME_EXT_MAX; i++) {
			if (off + 8 > end)
				return -EINVAL;
			if (nh == IPPROTO_FRAGMENT) {
				/* Only an atomic fragment (offset 0, no more): the rest is not media. */
				if ((p[off + 2] << 8 | p[off + 3]) & 0xfff9)
					return -EINVAL;
				fr->fraghdr = true;
				nh = p[off];
				off += 8;
				continue;
			}
			if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS)
				return -EINVAL;
			nh = p[off];
			off += (p[off + 1] + 1U) * 8;
		}
		if (nh != IPPROTO_UDP || off + sizeof(struct udphdr) > end)
			return -EINVAL;
		fr->v6 = true;
		fr->saddr = ip6h->saddr.s6_addr;
		fr->daddr = ip6h->daddr.s6_addr;
		fr->udph = (void *)(p + off);
		fr->l4len = end - off;
		fr->hlim = ip6h->hop_limit;
		fr->tclass = (uint8_t)(ntohl(*(uint32_t *)ip6h) >> 20);
		return 0;
	}
	return -EINVAL;
}

/*
 * The IP header the frame leaves with when the flow changes its family
 * (RFC 7915 header translation, as xs_fwd46()/xs_fwd64() in bpf/lib/forward.h):
 * IPv6 from the TOS and TTL, no flow label; IPv4 as an atomic datagram (DF,
 * identification 0, RFC 6864) with its checksum. Extension headers are not
 * carried over. Returns its length.
 */
static uint32_t xlat_header(const struct xs_frame *fr, const struct xs_flow *f, bool out6,
			    uint8_t *hdr)
{
	if (out6) {
		struct ipv6hdr *ip6h = (void *)hdr;

		memset(ip6h, 0, sizeof(*ip6h));
		*(uint32_t *)ip6h = htonl(0x60000000U | (uint32_t)fr->tclass << 20);
		ip6h->payload_len = htons((uint16_t)fr->l4len);
		ip6h->nexthdr = IPPROTO_UDP;
		ip6h->hop_limit = fr->hlim - 1;
		memcpy(&ip6h->saddr, f->src_addr6, 16);
		memcpy(&ip6h->daddr, f->dst_addr6, 16);
		return sizeof(*ip6h);
	}
	struct iphdr *iph = (void *)hdr;
	uint16_t zero = 0, check = 0xffff; /* ~0: the checksum of nothing */

	memset(iph, 0, sizeof(*iph));
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = fr->tclass;
	iph->tot_len = htons((uint16_t)(sizeof(*iph) + fr->l4len));
	iph->frag_off = htons(0x4000); /* DF */
	iph->ttl = fr->hlim - 1;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = f->src_addr;
	iph->daddr = f->dst_addr;
	/* A new header: its ten words summed whole (check 0 meanwhile). */
	xs_csum_move(&check, &zero, 0, iph, sizeof(*iph) / 2);
	iph->check = check;
	return sizeof(*iph);
}

int xs_frame_rewrite(const struct xs_frame *fr, const struct xs_flow *f, uint8_t *p, uint32_t room,
		     uint32_t *olen)
{
	struct ethhdr *eth = (void *)p;
	bool out6 = f->flags & XS_FLOW_OUT6;
	uint8_t hdr[sizeof(struct ipv6hdr)];
	unsigned int aw;

	/* The UDP checksum follows the pseudo-header's addresses and the ports. */
	aw = fr->v6 ? 8 : 2;
	if (fr->udph->check) {
		xs_csum_move(&fr->udph->check, fr->saddr, aw, f->src_addr6, out6 ? 8 : 2);
		xs_csum_move(&fr->udph->check, fr->daddr, aw, f->dst_addr6, out6 ? 8 : 2);
		xs_csum_replace(&fr->udph->check, &fr->udph->source, &f->src_port, 1);
		xs_csum_replace(&fr->udph->check, &fr->udph->dest, &f->dst_port, 1);
		if (!fr->udph->check)
			fr->udph->check = 0xffff;
	}
	fr->udph->source = f->src_port;
	fr->udph->dest = f->dst_port;

	*olen = fr->len;
	if (fr->v6 == out6 && !fr->v6) {
		struct iphdr *iph = (void *)(eth + 1);
		uint16_t w = *(uint16_t *)&iph->ttl;

		iph->ttl--;
		xs_csum_replace(&iph->check, &w, &iph->ttl, 1);
		xs_csum_replace(&iph->check, &iph->saddr, &f->src_addr, 2);
		xs_csum_replace(&iph->check, &iph->daddr, &f->dst_addr, 2);
		iph->saddr = f->src_addr;
		iph->daddr = f->dst_addr;
	} else if (fr->v6 == out6) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		/* Extension headers stay as they came. */
		ip6h->hop_limit--;
		memcpy(&ip6h->saddr, f->src_addr6, 16);
		memcpy(&ip6h->daddr, f->dst_addr6, 16);
	} else {
		uint32_t hl = xlat_header(fr, f, out6, hdr), off = sizeof(*eth) + hl;

		if (off + fr->l4len > room)
			return -EMSGSIZE;
		memmove(p + off, fr->udph, fr->l4len);
		memcpy(p + sizeof(*eth), hdr, hl);
		eth->h_proto = htons(out6 ? ETH_P_IPV6 : ETH_P_IP);
		*olen = off + fr->l4len;
	}
	return 0;
}
