// SPDX-License-Identifier: GPL-2.0-only
/* Test packet builder and checksum verifiers; see pkt.h. */
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "pkt.h"

#define ETH_P_8021Q_  0x8100
#define ETH_P_8021AD_ 0x88a8

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

/* One's-complement sum of @len bytes, big-endian words, added to @sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sum of the pseudo header (RFC 768 / RFC 8200 8.1). */
static uint32_t pseudo_sum(int family, const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
	uint32_t sum = 0;

	if (family == 4)
		sum = csum_add(0, ip + 12, 8);
	else
		sum = csum_add(0, ip + 8, 32);
	return sum + proto + (l4len >> 16) + (l4len & 0xffff);
}

static size_t put_ext(uint8_t *p, uint8_t type, uint8_t next, const struct pkt_spec *s)
{
	memset(p, 0, 16);
	p[0] = next;
	switch (type) {
	case IPPROTO_FRAGMENT:
		put16(p + 2, (uint16_t)(s->frag_off << 3 | (s->more_frags ? 1 : 0)));
		p[4] = 0x12, p[5] = 0x34, p[6] = 0x56, p[7] = 0x78;
		return 8;
	case IPPROTO_AH: /* 16 bytes: payload len (16 / 4) - 2 */
		p[1] = 2;
		p[7] = 1;  /* SPI */
		p[11] = 1; /* sequence */
		return 16;
	case IPPROTO_ROUTING: /* type 253 (experimental), segments left 0 */
		p[2] = 253;
		return 8;
	default: /* hop-by-hop, destination options: PadN of 4 */
		p[2] = 1;
		p[3] = 4;
		return 8;
	}
}

int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	int family = 0, i;
	uint8_t saddr[16], daddr[16];
	uint8_t *ip, *l4, *p;
	uint8_t proto = s->l4;
	size_t l4len, iphl, len, paylen;
	bool has_l4;

	if (cap < PKT_MAX)
		return -1;
	memset(buf, 0, PKT_MAX);
	if (s->src && s->dst) {
		if (inet_pton(AF_INET, s->src, saddr) == 1 &&
		    inet_pton(AF_INET, s->dst, daddr) == 1)
			family = 4;
		else if (inet_pton(AF_INET6, s->src, saddr) == 1 &&
			 inet_pton(AF_INET6, s->dst, daddr) == 1)
			family = 6;
		else
			return -1;
	}
	if (!proto && (s->sport || s->dport))
		proto = IPPROTO_UDP;

	if (parse_mac(s->dmac ? s->dmac : PKT_DMAC, buf) ||
	    parse_mac(s->smac ? s->smac : PKT_SMAC, buf + 6))
		return -1;
	p = buf + 12;
	for (i = 0; i < 3 && s->vlan[i]; i++) {
		put16(p, s->vlan[i]);
		put16(p + 2, 100 + i); /* VID */
		p += 4;
	}
	put16(p, family == 4 ? ETH_P_IP : family == 6 ? ETH_P_IPV6 : s->ethertype);
	p += 2;
	ip = p;

	if (!family) {
		memset(p, 0xab, s->payload);
		len = p + s->payload - buf;
		goto out;
	}

	/* Non-first fragments carry no transport header. */
	has_l4 = (proto == IPPROTO_UDP || proto == IPPROTO_TCP) && !s->frag_off;
	paylen = s->payload;
	if (s->data && strlen(s->data) > paylen)
		paylen = strlen(s->data);
	l4len = (has_l4 ? (proto == IPPROTO_UDP ? 8 : 20) : 0) + paylen;

	if (family == 4) {
		iphl = 20 + s->ip_opts;
		memset(ip + 20, 1, s->ip_opts); /* NOP options */
		ip[0] = 0x40 | (s->ihl ? s->ihl : iphl / 4);
		put16(ip + 2, (uint16_t)(iphl + l4len));
		ip[1] = s->tos;
		put16(ip + 4, s->atomic ? 0 : 0x1234);
		put16(ip + 6, (uint16_t)(s->frag_off | (s->more_frags ? 0x2000 : 0) |
					 (s->atomic ? 0x4000 : 0)));
		ip[8] = s->ttl < 0 ? 0 : s->ttl ? s->ttl : 64;
		ip[9] = proto;
		memcpy(ip + 12, saddr, 4);
		memcpy(ip + 16, daddr, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, iphl)));
		l4 = ip + iphl;
	} else {
		uint8_t next = proto;

		ip[0] = 0x60 | s->tos >> 4;
		ip[1] = (uint8_t)(s->tos << 4);
		ip[7] = s->ttl < 0 ? 0 : s->ttl ? s->ttl : 64;
		memcpy(ip + 8, saddr, 16);
		memcpy(ip + 24, daddr, 16);
		p = ip + 40;
		for (i = 0; i < s->n_ext && i < PKT_EXT_MAX; i++) {
			uint8_t nh = i + 1 < s->n_ext ? s->ext[i + 1] : proto;

			p += put_ext(p, s->ext[i], nh, s);
		}
		if (s->n_ext)
			next = s->ext[0];
		ip[6] = next;
		put16(ip + 4, (uint16_t)(p - (ip + 40) + l4len));
		l4 = p;
	}

	p = has_l4 ? l4 + (proto == IPPROTO_UDP ? 8 : 20) : l4;
	for (i = 0; i < (int)paylen; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	if (s->data)
		memcpy(p, s->data, strlen(s->data));
	len = p + paylen - buf;

	if (has_l4) {
		uint32_t sum;
		uint16_t c;
		int ck;

		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		if (proto == IPPROTO_UDP) {
			put16(l4 + 4, (uint16_t)l4len);
			ck = 6;
		} else {
			put16(l4 + 4, 0); /* seq */
			l4[7] = 1;
			l4[12] = (s->tcp_doff ? s->tcp_doff : 5) << 4;
			l4[13] = s->tcp_flags ? s->tcp_flags : 0x02; /* SYN */
			put16(l4 + 14, 65535);
			ck = 16;
		}
		if (!(proto == IPPROTO_UDP && s->udp_nocsum)) {
			sum = pseudo_sum(family, ip, proto, (uint32_t)l4len);
			c = csum_fold(csum_add(sum, l4, l4len));
			if (proto == IPPROTO_UDP && c == 0)
				c = 0xffff;
			put16(l4 + ck, c);
		}
	}
out:
	/* No padding to 60 bytes: exact lengths keep the byte counters simple. */
	if (s->truncate && s->truncate < len)
		len = s->truncate;
	return (int)len;
}

int pkt_l3_offset(const uint8_t *frame, size_t len, int *family)
{
	size_t off = 12;
	uint16_t type;

	if (len < 14)
		return -1;
	type = get16(frame + off);
	while ((type == ETH_P_8021Q_ || type == ETH_P_8021AD_) && off + 6 <= len) {
		off += 4;
		type = get16(frame + off);
	}
	off += 2;
	if (type == ETH_P_IP)
		*family = 4;
	else if (type == ETH_P_IPV6)
		*family = 6;
	else
		return -1;
	return (int)off;
}

int pkt_ip_csum_ok(const uint8_t *frame, size_t len)
{
	int family, off = pkt_l3_offset(frame, len, &family);
	size_t hl;

	if (off < 0)
		return 0;
	if (family == 6)
		return 1;
	hl = (frame[off] & 0xf) * 4;
	if (off + hl > len)
		return 0;
	return csum_fold(csum_add(0, frame + off, hl)) == 0;
}

int pkt_l4_csum_ok(const uint8_t *frame, size_t len)
{
	int family, off = pkt_l3_offset(frame, len, &family);
	const uint8_t *ip, *l4;
	uint8_t proto;
	size_t l4len;

	if (off < 0)
		return 0;
	ip = frame + off;
	if (family == 4) {
		size_t hl = (ip[0] & 0xf) * 4;

		proto = ip[9];
		l4 = ip + hl;
		l4len = get16(ip + 2) - hl;
	} else {
		proto = ip[6];
		l4 = ip + 40;
		l4len = get16(ip + 4);
		while (proto == 0 || proto == 43 || proto == 60) { /* hop-by-hop, routing, dst */
			size_t el = ((size_t)l4[1] + 1) * 8;

			if (l4 + el > frame + len || el > l4len)
				return 0;
			proto = l4[0];
			l4 += el;
			l4len -= el;
		}
	}
	if (l4 + l4len > frame + len)
		return 0;
	if (proto == IPPROTO_UDP && get16(l4 + 6) == 0)
		return family == 4;
	return csum_fold(csum_add(pseudo_sum(family, ip, proto, (uint32_t)l4len), l4, l4len)) == 0;
}

const char *pkt_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, char *buf,
		     size_t cap)
{
	size_t i, n = alen < blen ? alen : blen;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	if (i == n && alen == blen) {
		snprintf(buf, cap, "identical");
		return buf;
	}
	snprintf(buf, cap, "len %zu vs %zu, first difference at byte %zu: %02x vs %02x", alen, blen,
		 i, i < alen ? a[i] : 0, i < blen ? b[i] : 0);
	return buf;
}
