/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test packet builder: Ethernet, up to two VLAN tags, IPv4 (options,
 * fragments) or IPv6 (extension headers, fragments), UDP or TCP, with correct
 * checksums; and checksum verifiers for frames a program sent back.
 * Describe a packet with struct pkt_spec (zero means the default) and build it.
 */
#ifndef XDPSBC_TESTS_PKT_H
#define XDPSBC_TESTS_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX	    2048
#define PKT_EXT_MAX 10

struct pkt_spec {
	const char *smac, *dmac; /* "02:00:00:00:00:01"; defaults below */
	uint16_t vlan[3];	 /* TPIDs, outermost first (0x88a8, 0x8100); 0 = none */
	uint16_t ethertype;	 /* only when neither src nor dst is given (non-IP) */
	const char *src, *dst;	 /* IPv4 or IPv6 literals; the family follows */
	uint8_t l4;		 /* IPPROTO_UDP (default with ports), IPPROTO_TCP, or another */
	uint16_t sport, dport;
	uint8_t ip_opts;   /* IPv4 option bytes (multiple of 4, NOPs) */
	uint8_t ihl;	   /* IPv4: override the header length field (bad IHL) */
	uint16_t frag_off; /* fragment offset in 8-octet units; IPv6: needs a frag header in ext */
	bool more_frags;
	uint8_t ext[PKT_EXT_MAX]; /* IPv6 extension headers in order (IPPROTO_HOPOPTS, ...) */
	int n_ext;
	uint16_t payload;  /* payload bytes after L4 (a fixed pattern) */
	const char *data;  /* payload text at its start (payload grows to fit) */
	uint8_t tcp_flags; /* 0: SYN */
	bool udp_nocsum;   /* UDP checksum 0 (IPv6 too: an invalid packet) */
	int ttl;	   /* IPv4 TTL / IPv6 hop limit: 0 means 64, -1 means 0 */
	uint8_t tos;	   /* IPv4 TOS / IPv6 traffic class */
	bool atomic;	   /* IPv4 as a translator writes it: ID 0, DF set (RFC 6864) */
	uint8_t tcp_doff;  /* override TCP data offset (bad) */
	size_t truncate;   /* cut the frame to this many bytes (0: keep) */
};

#define PKT_SMAC "02:00:00:00:0a:01"
#define PKT_DMAC "02:00:00:00:0b:01"

/* Build @s into @buf; returns the frame length, or -1 for a bad spec. */
int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);

/* Offsets of the IP and L4 header in @frame (after Ethernet/VLAN); -1 when not IP. */
int pkt_l3_offset(const uint8_t *frame, size_t len, int *family);

/* 1 when the IPv4 header checksum of @frame is valid (IPv6: always 1). */
int pkt_ip_csum_ok(const uint8_t *frame, size_t len);
/*
 * 1 when the UDP/TCP checksum is valid, summed from scratch (UDP over IPv4
 * with checksum 0 counts as valid, over IPv6 never); IPv6 extension headers
 * (hop-by-hop, routing, destination options) are stepped over.
 */
int pkt_l4_csum_ok(const uint8_t *frame, size_t len);

/* Hex dump of the first difference between @a and @b into @buf, for FAIL lines. */
const char *pkt_diff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, char *buf,
		     size_t cap);

#endif /* XDPSBC_TESTS_PKT_H */
