// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AF_XDP relay's frame rewrite (relay/frame.c), table-driven: a frame
 * in (IPv4 or IPv6, with extension headers), a flow of either leaving
 * family, and the frame out checked field by field against what the flow
 * says, with every checksum summed again from scratch (the IPv4 header, the
 * UDP checksum over the new pseudo-header) and the payload byte for byte.
 * Then what the parser refuses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <netinet/in.h>

#include "relay/frame.h"
#include "../lib/check.h"

#define PAYLOAD 172

static uint32_t sum16(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The UDP checksum of @udp (@len bytes) under the pseudo-header of @src/@dst (4 or 16 bytes). */
static bool udp_ok(const void *src, const void *dst, size_t alen, const void *udp, size_t len)
{
	uint32_t s = sum16(src, alen, 0);

	s = sum16(dst, alen, s);
	s += IPPROTO_UDP + (uint32_t)len;
	s = sum16(udp, len, s);
	return fold(s) == 0xffff;
}

/*
 * A frame: Ethernet, IPv4 (TTL 64, TOS 0xb8) or IPv6 (hop limit 64, an
 * 8-byte destination options header when @ext), UDP 5000 -> @dport, payload.
 */
static uint32_t build(uint8_t *p, bool v6, bool ext, const char *src, const char *dst,
		      uint16_t dport)
{
	struct ethhdr *eth = (void *)p;
	uint32_t l4 = sizeof(struct udphdr) + PAYLOAD, off;
	struct udphdr *udp;
	uint8_t *pl;

	memset(p, 0, 256);
	eth->h_proto = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (v6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		*(uint32_t *)ip6 = htonl(0x60000000U | 0xb8U << 20);
		ip6->payload_len = htons((uint16_t)(l4 + (ext ? 8 : 0)));
		ip6->nexthdr = ext ? IPPROTO_DSTOPTS : IPPROTO_UDP;
		ip6->hop_limit = 64;
		inet_pton(AF_INET6, src, &ip6->saddr);
		inet_pton(AF_INET6, dst, &ip6->daddr);
		off = sizeof(*eth) + sizeof(*ip6);
		if (ext) {
			p[off] = IPPROTO_UDP; /* next header; length 0: 8 bytes, PadN after */
			p[off + 2] = 1;
			p[off + 3] = 4;
			off += 8;
		}
	} else {
		struct iphdr *ip = (void *)(eth + 1);

		ip->version = 4;
		ip->ihl = 5;
		ip->tos = 0xb8;
		ip->tot_len = htons((uint16_t)(sizeof(*ip) + l4));
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		inet_pton(AF_INET, src, &ip->saddr);
		inet_pton(AF_INET, dst, &ip->daddr);
		ip->check = htons((uint16_t)~fold(sum16(ip, sizeof(*ip), 0)));
		off = sizeof(*eth) + sizeof(*ip);
	}
	udp = (void *)(p + off);
	udp->source = htons(5000);
	udp->dest = htons(dport);
	udp->len = htons((uint16_t)l4);
	pl = (uint8_t *)(udp + 1);
	for (unsigned int i = 0; i < PAYLOAD; i++)
		pl[i] = (uint8_t)(i * 7 + 3);
	{
		uint8_t s[16], d[16];
		size_t alen = v6 ? 16 : 4;

		inet_pton(v6 ? AF_INET6 : AF_INET, src, s);
		inet_pton(v6 ? AF_INET6 : AF_INET, dst, d);
		udp->check = htons((uint16_t)~fold(
			sum16(udp, l4, sum16(d, alen, sum16(s, alen, 0)) + IPPROTO_UDP + l4)));
	}
	return off + l4;
}

static void addr(void *field, const char *s)
{
	memset(field, 0, 16);
	if (inet_pton(AF_INET6, s, field) != 1)
		inet_pton(AF_INET, s, field);
}

/* A flow leaving from @src:20002 to @dst:6000, as IPv6 when @out6. */
static struct xs_flow flow(bool out6, const char *src, const char *dst)
{
	struct xs_flow f;

	memset(&f, 0, sizeof(f));
	addr(f.src_addr6, src);
	addr(f.dst_addr6, dst);
	f.src_port = htons(20002);
	f.dst_port = htons(6000);
	f.flags = out6 ? XS_FLOW_OUT6 : 0;
	return f;
}

/* The frame out, checked: the IP header of the leaving family, ports, UDP checksum, payload. */
static bool check_out(const char *n, const uint8_t *p, uint32_t len, const struct xs_flow *f,
		      bool out6, uint32_t want_len)
{
	const struct ethhdr *eth = (const void *)p;
	const struct udphdr *udp;
	uint32_t off;

	if (!T_CHECK(n, len == want_len, "length %u, want %u", len, want_len))
		return false;
	if (out6) {
		const struct ipv6hdr *ip6 = (const void *)(eth + 1);

		off = sizeof(*eth) + sizeof(*ip6);
		if (ip6->nexthdr == IPPROTO_DSTOPTS)
			off += 8;
		udp = (const void *)(p + off);
		if (!T_CHECK(n, eth->h_proto == htons(ETH_P_IPV6) && ip6->version == 6,
			     "not IPv6") ||
		    !T_CHECK(n, ip6->hop_limit == 63, "hop limit %u", ip6->hop_limit) ||
		    !T_CHECK(n, (ntohl(*(const uint32_t *)ip6) >> 20 & 0xff) == 0xb8,
			     "traffic class") ||
		    !T_CHECK(n, ntohs(ip6->payload_len) == len - sizeof(*eth) - sizeof(*ip6),
			     "payload length %u", ntohs(ip6->payload_len)) ||
		    !T_CHECK(n,
			     !memcmp(&ip6->saddr, f->src_addr6, 16) &&
				     !memcmp(&ip6->daddr, f->dst_addr6, 16),
			     "addresses") ||
		    !T_CHECK(n, udp_ok(&ip6->saddr, &ip6->daddr, 16, udp, len - off),
			     "UDP checksum %#x", ntohs(udp->check)))
			return false;
	} else {
		const struct iphdr *ip = (const void *)(eth + 1);

		off = sizeof(*eth) + sizeof(*ip);
		udp = (const void *)(p + off);
		if (!T_CHECK(n, eth->h_proto == htons(ETH_P_IP) && ip->version == 4 && ip->ihl == 5,
			     "not IPv4") ||
		    !T_CHECK(n, ip->ttl == 63 && ip->tos == 0xb8, "ttl %u tos %#x", ip->ttl,
			     ip->tos) ||
		    !T_CHECK(n, fold(sum16(ip, sizeof(*ip), 0)) == 0xffff,
			     "IPv4 header checksum") ||
		    !T_CHECK(n, ntohs(ip->tot_len) == len - sizeof(*eth), "total length") ||
		    !T_CHECK(n, ip->saddr == f->src_addr && ip->daddr == f->dst_addr,
			     "addresses") ||
		    !T_CHECK(n, udp_ok(&ip->saddr, &ip->daddr, 4, udp, len - off),
			     "UDP checksum %#x", ntohs(udp->check)))
			return false;
	}
	if (!T_CHECK(n, udp->source == f->src_port && udp->dest == f->dst_port, "ports"))
		return false;
	for (unsigned int i = 0; i < PAYLOAD; i++)
		if (((const uint8_t *)(udp + 1))[i] != (uint8_t)(i * 7 + 3))
			return T_CHECK(n, 0, "payload byte %u", i);
	return true;
}

int main(void)
{
	static const struct {
		const char *name;
		bool in6, ext, out6;
		const char *from, *to, *src, *dst;
	} rows[] = {
		{"frame: IPv4 -> IPv4 rewritten in place, TTL 63", false, false, false,
		 "192.0.2.10", "203.0.113.1", "198.51.100.1", "198.51.100.10"},
		{"frame: IPv6 -> IPv6, destination options kept", true, true, true,
		 "2001:db8:2::10", "2001:db8:1::1", "2001:db8:3::1", "2001:db8:3::10"},
		{"frame: IPv4 -> IPv6, header replaced (+20 bytes)", false, false, true,
		 "192.0.2.10", "203.0.113.1", "2001:db8:3::1", "2001:db8:3::10"},
		{"frame: IPv6 -> IPv4, header and extension replaced", true, true, false,
		 "2001:db8:2::10", "2001:db8:1::1", "198.51.100.1", "198.51.100.10"},
		{"frame: IPv6 -> IPv4 without extension headers", true, false, false,
		 "2001:db8:2::10", "2001:db8:1::1", "198.51.100.1", "198.51.100.10"},
	};
	uint8_t p[2048];
	struct xs_frame fr;
	uint32_t len, olen, want;

	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct xs_flow f = flow(rows[i].out6, rows[i].src, rows[i].dst);
		const char *n = rows[i].name;
		uint32_t l4 = sizeof(struct udphdr) + PAYLOAD;

		len = build(p, rows[i].in6, rows[i].ext, rows[i].from, rows[i].to, 20000);
		want = rows[i].in6 == rows[i].out6 ? len
						   : ETH_HLEN + (rows[i].out6 ? 40 : 20) +
							     l4; /* ext headers not carried */
		if (T_CHECK(n, !xs_frame_parse(p, len, &fr), "not parsed") &&
		    T_CHECK(n, fr.v6 == rows[i].in6 && fr.l4len == l4 && fr.hlim == 64, "parse") &&
		    T_CHECK(n, !xs_frame_rewrite(&fr, &f, p, sizeof(p), &olen), "rewrite") &&
		    check_out(n, p, olen, &f, rows[i].out6, want))
			T_PASS(n);
	}

	{
		const char *n = "frame: IPv4 -> IPv6 without room in the buffer: -EMSGSIZE";
		struct xs_flow f = flow(true, "2001:db8:3::1", "2001:db8:3::10");

		len = build(p, false, false, "192.0.2.10", "203.0.113.1", 20000);
		if (T_CHECK(n, !xs_frame_parse(p, len, &fr), "parse") &&
		    T_CHECK(n, xs_frame_rewrite(&fr, &f, p, len + 10, &olen) == -EMSGSIZE, "taken"))
			T_PASS(n);
	}
	{
		const char *n = "frame: fragments, AH, non-UDP and truncated frames refused";
		int e1, e2, e3, e4, e5;

		len = build(p, false, false, "192.0.2.10", "203.0.113.1", 20000);
		((struct iphdr *)(p + ETH_HLEN))->frag_off = htons(0x2000); /* MF */
		e1 = xs_frame_parse(p, len, &fr);
		len = build(p, true, true, "2001:db8:2::10", "2001:db8:1::1", 20000);
		((struct ipv6hdr *)(p + ETH_HLEN))->nexthdr = IPPROTO_FRAGMENT;
		p[ETH_HLEN + 40 + 3] = 1; /* more fragments */
		e2 = xs_frame_parse(p, len, &fr);
		((struct ipv6hdr *)(p + ETH_HLEN))->nexthdr = IPPROTO_AH;
		e3 = xs_frame_parse(p, len, &fr);
		len = build(p, false, false, "192.0.2.10", "203.0.113.1", 20000);
		((struct iphdr *)(p + ETH_HLEN))->protocol = IPPROTO_TCP;
		e4 = xs_frame_parse(p, len, &fr);
		len = build(p, true, false, "2001:db8:2::10", "2001:db8:1::1", 20000);
		e5 = xs_frame_parse(p, len - 10, &fr); /* payload_len beyond the frame */
		if (T_CHECK(n, e1 && e2 && e3 && e4 && e5, "%d %d %d %d %d", e1, e2, e3, e4, e5))
			T_PASS(n);
		len = build(p, true, true, "2001:db8:2::10", "2001:db8:1::1", 20000);
		((struct ipv6hdr *)(p + ETH_HLEN))->nexthdr = IPPROTO_FRAGMENT;
		p[ETH_HLEN + 40 + 2] = p[ETH_HLEN + 40 + 3] = 0; /* offset 0, no more fragments */
		n = "frame: an atomic IPv6 fragment header parsed and flagged";
		if (T_CHECK(n, !xs_frame_parse(p, len, &fr) && fr.fraghdr, "not parsed"))
			T_PASS(n);
	}
	return check_failed ? 1 : 0;
}
