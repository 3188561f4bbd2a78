// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table tests of the XDP relay for IPv6 flows and for flows that translate
 * between IPv4 and IPv6, under BPF_PROG_TEST_RUN. As in test_relay.c, the
 * test moves into a private network namespace with fixed routes and
 * permanent neighbours, so bpf_fib_lookup() answers are known and output
 * frames are compared byte for byte with frames built independently; every
 * relayed frame's IPv4 and UDP checksums are also summed again from scratch.
 *
 *   xsA 203.0.113.1/24 2001:db8:a::1/64  (02:00:00:00:aa:01)
 *       A6 2001:db8:a::20, B6 2001:db8:a::30, B4 203.0.113.30, NAT6 ::50
 *   xsB 198.51.100.1/24 2001:db8:b::1/64 (02:00:00:00:bb:01)  FAR6 2001:db8:b::40
 *
 * An IPv6 call: A6:4000 sends to [EDGE6]:20000, B6:6000 to [EDGE6]:20002.
 * A translated call: A6:4000 sends to [EDGE6]:20004, the IPv4 core B4:6000
 * to EDGE4:20006.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xdpsbc.skel.h"

#include "../lib/bpftest.h"
#include "../lib/check.h"
#include "../lib/pkt.h"

#define EDGE4	  "203.0.113.1"
#define EDGE6	  "2001:db8:a::1"
#define EDGE6_B	  "2001:db8:b::1"
#define A6	  "2001:db8:a::20"
#define B6	  "2001:db8:a::30"
#define B4	  "203.0.113.30"
#define NAT6	  "2001:db8:a::50"
#define OTHER6	  "2001:db8:a::51"
#define BAD6	  "2001:db8:a::66" /* blocklisted in the ipv4-only rows only */
#define FAR6	  "2001:db8:b::40"
#define MAC_XSA	  "02:00:00:00:aa:01"
#define MAC_XSB	  "02:00:00:00:bb:01"
#define MAC_A	  "02:00:00:00:00:20"
#define MAC_B	  "02:00:00:00:00:30"
#define MAC_NAT	  "02:00:00:00:00:50"
#define MAC_FAR	  "02:00:00:00:00:40"
#define PA	  20000 /* IPv6 call */
#define PB	  20002
#define XA	  20004 /* translated call: IPv6 side */
#define XB	  20006 /* IPv4 side */
#define WINDOW_NS (10 * 1000000000ULL)

static struct bt_ctx t;
static int if_a, if_b;

/* @s into the address union at @field: 4 bytes for IPv4, 16 for IPv6; returns 4, 6 or 0. */
static int addr_put(const char *s, void *field)
{
	if (inet_pton(AF_INET6, s, field) == 1)
		return 6;
	memset(field, 0, 16);
	return inet_pton(AF_INET, s, field) == 1 ? 4 : 0;
}

static int addr_eq(const void *field, const char *s)
{
	uint8_t a[16] = {};

	addr_put(s, a);
	return !memcmp(field, a, 16);
}

/* Flow (@edge, @port) -> @dst:@dport from @src:@sport; the family of @dst picks OUT6. */
static void flow_put(const char *edge, uint16_t port, const char *dst, uint16_t dport,
		     const char *src, uint16_t sport, const char *expect, uint16_t eport,
		     uint32_t flags)
{
	struct xs_flow f = {.flags = flags, .cookie = 0x5eed};

	if (addr_put(dst, f.dst_addr6) == 6)
		f.flags |= XS_FLOW_OUT6;
	addr_put(src, f.src_addr6);
	addr_put(expect, f.expect_addr6);
	f.dst_port = htons(dport);
	f.src_port = htons(sport);
	f.expect_port = htons(eport);
	if (bt_flow_set(&t, edge, port, &f))
		fprintf(stderr, "flow %s %u: %s\n", edge, port, strerror(errno));
}

static void flows_flush(void)
{
	struct xs_flow_key k, next;

	while (!bpf_map_get_next_key(t.flows_fd, NULL, &next)) {
		k = next;
		bpf_map_delete_elem(t.flows_fd, &k);
	}
}

static void config(uint32_t flags)
{
	struct xs_config c;

	bt_config_default(&c, flags);
	c.relay_min = 20000;
	c.relay_max = 29999;
	bt_config_set(&t, &c);
}

enum { LATCH_OPEN, LATCH_PRE };

/* Flow (@edge, @port): only @from may latch until @until_ns; LATCH_PRE: pre-latched to expect. */
static void latch_set(const char *edge, uint16_t port, const char *from, uint64_t until_ns, int how)
{
	struct xs_flow f;

	if (bt_flow_get(&t, edge, port, &f)) {
		fprintf(stderr, "flow %s %u missing\n", edge, port);
		return;
	}
	f.flags = (f.flags & ~(XS_FLOW_LATCHED | XS_FLOW_PRELATCHED)) | XS_FLOW_LATCH;
	addr_put(from, f.latch_addr6);
	f.latch_until_ns = until_ns;
	if (how == LATCH_PRE) {
		memcpy(f.peer_addr6, f.expect_addr6, 16);
		f.peer_port = f.expect_port;
		f.flags |= XS_FLOW_LATCHED | XS_FLOW_PRELATCHED;
	}
	bt_flow_set(&t, edge, port, &f);
}

/* Both calls of the header comment, without latching. */
static void calls(void)
{
	flows_flush();
	config(0);
	flow_put(EDGE6, PA, B6, 6000, EDGE6, PB, A6, 4000, 0);
	flow_put(EDGE6, PB, A6, 4000, EDGE6, PA, B6, 6000, 0);
	flow_put(EDGE6, XA, B4, 6000, EDGE4, XB, A6, 4000, 0);
	flow_put(EDGE4, XB, A6, 4000, EDGE6, XA, B4, 6000, 0);
}

static void s_plain(void)
{
	calls();
}

/* Leg A behind a NAT64-free IPv6 NAT (NAT6 signalled), leg B pre-latched: both calls. */
static void s_latch(void)
{
	uint64_t until = bt_now_ns() + WINDOW_NS;

	calls();
	latch_set(EDGE6, PA, NAT6, until, LATCH_OPEN);
	latch_set(EDGE6, PB, B6, until, LATCH_PRE);
	latch_set(EDGE6, XA, NAT6, until, LATCH_OPEN);
	latch_set(EDGE4, XB, B4, until, LATCH_PRE);
}

static void s_latch_expired(void)
{
	calls();
	latch_set(EDGE6, PA, NAT6, bt_now_ns() - 1, LATCH_OPEN);
}

static void s_pinholes(void)
{
	calls();
	config(XS_CFG_PINHOLES);
}

/* media ipv4-only on, its RTP range covering the relay range. */
static void s_v4only(void)
{
	struct xs_config c;

	bt_config_default(&c, XS_CFG_V6_MEDIA_DROP | XS_CFG_PINHOLES);
	c.relay_min = 20000;
	c.relay_max = 29999;
	c.rtp_min = 20000;
	c.rtp_max = 29999;
	bt_config_set(&t, &c);
}

static void s_routing(void)
{
	calls();
	flow_put(EDGE6, 20020, "2001:db8:c::9", 7000, EDGE6, 20021, A6, 4000, 0); /* no route */
	flow_put(EDGE6, 20022, "2001:db8:a::99", 7000, EDGE6, 20023, A6, 4000,
		 0);							 /* no neighbour */
	flow_put(EDGE6, 20024, "::", 0, EDGE6, 20025, A6, 4000, 0);	 /* other leg on hold */
	flow_put(EDGE6, 20026, FAR6, 7000, EDGE6_B, 20027, A6, 4000, 0); /* via xsB */
	flow_put(EDGE4, 20028, FAR6, 7000, EDGE6_B, 20029, B4, 6000, 0); /* v4 in, v6 via xsB */
}

static void s_txport(void)
{
	__u32 k = if_b, v = if_b;

	if (bpf_map_update_elem(t.txports_fd, &k, &v, BPF_ANY))
		fprintf(stderr, "txports: %s\n", strerror(errno));
}

/* Settings kept: closed pinholes are judged before the blocklist, after the media drop. */
static void s_block6(void)
{
	bt_block_add(&t, BAD6 "/128", 0);
}

static void s_block_other(void)
{
	calls();
	bt_block_add(&t, OTHER6 "/128", 0);
}

/* ---- post-checks ---- */

static int flow_is(const char *edge, uint16_t port, struct xs_flow *f, char *why, size_t cap)
{
	if (bt_flow_get(&t, edge, port, f)) {
		snprintf(why, cap, "flow %s %u missing", edge, port);
		return 0;
	}
	return 1;
}

static int ap_is(const void *addr, __be16 port, const char *want, uint16_t wport, const char *what,
		 char *why, size_t cap)
{
	char buf[INET6_ADDRSTRLEN];

	if (addr_eq(addr, want) && ntohs(port) == wport)
		return 1;
	if (!inet_ntop(strchr(want, ':') ? AF_INET6 : AF_INET, addr, buf, sizeof(buf)))
		strcpy(buf, "?");
	snprintf(why, cap, "%s is %s:%u, want %s:%u", what, buf, ntohs(port), want, wport);
	return 0;
}

static int c_latched6(char *why, size_t cap)
{
	struct xs_flow a, b;

	if (!flow_is(EDGE6, PA, &a, why, cap) || !flow_is(EDGE6, PB, &b, why, cap))
		return 0;
	if (!(a.flags & XS_FLOW_LATCHED)) {
		snprintf(why, cap, "leg A not latched (flags %#x)", a.flags);
		return 0;
	}
	return ap_is(a.peer_addr6, a.peer_port, NAT6, 31000, "A peer", why, cap) &&
	       ap_is(b.dst_addr6, b.dst_port, NAT6, 31000, "reverse flow destination", why, cap);
}

static int c_not_latched6(char *why, size_t cap)
{
	struct xs_flow a, b;

	if (!flow_is(EDGE6, PA, &a, why, cap) || !flow_is(EDGE6, PB, &b, why, cap))
		return 0;
	if (a.flags & XS_FLOW_LATCHED) {
		snprintf(why, cap, "leg A latched from an unsignalled address");
		return 0;
	}
	return ap_is(b.dst_addr6, b.dst_port, A6, 4000, "reverse flow destination", why, cap);
}

/* The IPv6 leg of the translated call latched; its IPv4-keyed reverse flow aims at it. */
static int c_latched_x(char *why, size_t cap)
{
	struct xs_flow a, b;

	if (!flow_is(EDGE6, XA, &a, why, cap) || !flow_is(EDGE4, XB, &b, why, cap))
		return 0;
	if (!(a.flags & XS_FLOW_LATCHED) || !(b.flags & XS_FLOW_OUT6)) {
		snprintf(why, cap, "flags %#x/%#x", a.flags, b.flags);
		return 0;
	}
	return ap_is(a.peer_addr6, a.peer_port, NAT6, 31000, "A peer", why, cap) &&
	       ap_is(b.dst_addr6, b.dst_port, NAT6, 31000, "reverse flow destination", why, cap);
}

/* The IPv4 core's pre-latch confirmed; the IPv6 leg still aimed at NAT6. */
static int c_b4_confirmed(char *why, size_t cap)
{
	struct xs_flow b;

	if (!flow_is(EDGE4, XB, &b, why, cap))
		return 0;
	if ((b.flags & (XS_FLOW_LATCHED | XS_FLOW_PRELATCHED)) != XS_FLOW_LATCHED) {
		snprintf(why, cap, "leg B flags %#x, want latched only", b.flags);
		return 0;
	}
	return ap_is(b.peer_addr6, b.peer_port, B4, 6000, "B peer", why, cap);
}

/* The flow's counters: @pkts packets, and its next hop cached for its destination. */
static int flow_counted(const char *edge, uint16_t port, uint64_t pkts, char *why, size_t cap)
{
	struct xs_flow f;

	if (!flow_is(edge, port, &f, why, cap))
		return 0;
	if (f.packets != pkts || !f.bytes || !f.nh_ns || memcmp(f.nh_daddr6, f.dst_addr6, 16) ||
	    f.ifindex != (uint32_t)if_a) {
		snprintf(why, cap, "flow %u: %llu packets (want %llu), %llu bytes, nh_ns %llu",
			 port, (unsigned long long)f.packets, (unsigned long long)pkts,
			 (unsigned long long)f.bytes, (unsigned long long)f.nh_ns);
		return 0;
	}
	return 1;
}

static int c_pa_one(char *why, size_t cap)
{
	return flow_counted(EDGE6, PA, 1, why, cap);
}
static int c_xa_one(char *why, size_t cap)
{
	return flow_counted(EDGE6, XA, 1, why, cap);
}
static int c_xb_one(char *why, size_t cap)
{
	return flow_counted(EDGE4, XB, 1, why, cap);
}

struct step {
	const char *name;
	void (*setup)(void);
	struct pkt_spec in;
	int reason;
	struct pkt_spec out; /* expected frame when relayed */
	int (*check)(char *why, size_t cap);
};

/* clang-format off */
#define FROM(a, p)	.smac = MAC_A, .dmac = MAC_XSA, .src = (a), .sport = (p)
#define TO(a, p)	.dst = (a), .dport = (p), .l4 = IPPROTO_UDP
/* Relayed out of xsA to the neighbour @mac: one hop less (forward.h). */
#define OUT(a, p, mac)	.smac = MAC_XSA, .dmac = (mac), .src = (a), .sport = (p)
#define RTP		.payload = 172
#define HBH		.ext = { IPPROTO_HOPOPTS }, .n_ext = 1
#define HBH_DST		.ext = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS }, .n_ext = 2

static const struct step steps[] = {
	/* IPv6 to IPv6 */
	{ "v6 relay: rewrite and XDP_TX, exact bytes", s_plain,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, PB, MAC_B), TO(B6, 6000), RTP, .ttl = 63 }, c_pa_one },
	{ "v6 relay: the other leg", NULL,
	  { FROM(B6, 6000), TO(EDGE6, PB), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, PA, MAC_A), TO(A6, 4000), RTP, .ttl = 63 }, NULL },
	{ "v6 relay: odd payload length", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), .payload = 1 }, XS_RELAY_TX,
	  { OUT(EDGE6, PB, MAC_B), TO(B6, 6000), .payload = 1, .ttl = 63 }, NULL },
	{ "v6 relay: traffic class kept", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP, .tos = 0xb8 }, XS_RELAY_TX,
	  { OUT(EDGE6, PB, MAC_B), TO(B6, 6000), RTP, .tos = 0xb8, .ttl = 63 }, NULL },
	{ "v6 relay: hop-by-hop header before udp kept", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP, HBH }, XS_RELAY_TX,
	  { OUT(EDGE6, PB, MAC_B), TO(B6, 6000), RTP, HBH, .ttl = 63 }, NULL },
	{ "v6 relay: hop-by-hop and destination options kept", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP, HBH_DST }, XS_RELAY_TX,
	  { OUT(EDGE6, PB, MAC_B), TO(B6, 6000), RTP, HBH_DST, .ttl = 63 }, NULL },
	{ "v6 relay: hop limit 2 leaves with 1", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP, .ttl = 2 }, XS_RELAY_TX,
	  { OUT(EDGE6, PB, MAC_B), TO(B6, 6000), RTP, .ttl = 1 }, NULL },
	{ "v6 relay: hop limit 1 dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP, .ttl = 1 }, XS_DROP_HOP_LIMIT, {}, NULL },
	{ "v6 relay: hop limit 0 dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP, .ttl = -1 }, XS_DROP_HOP_LIMIT, {}, NULL },
	{ "v6 relay: udp checksum 0 (invalid over ipv6) dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP, .udp_nocsum = true }, XS_DROP_XLAT, {}, NULL },
	{ "v6 relay: non-first fragment passes", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), .ext = { IPPROTO_FRAGMENT }, .n_ext = 1,
	    .frag_off = 20, .payload = 40 }, XS_PASS_FRAGMENT, {}, NULL },
	{ "v6 relay: vlan-tagged media left to the stack", NULL,
	  { .vlan = { 0x8100 }, FROM(A6, 4000), TO(EDGE6, PA), RTP }, XS_PASS, {}, NULL },
	/* IPv6 latching: the same rule as IPv4 */
	{ "v6 latch: pre-latched leg relayed to the other leg's signalled address", s_latch,
	  { FROM(B6, 6000), TO(EDGE6, PB), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, PA, MAC_A), TO(A6, 4000), RTP, .ttl = 63 }, NULL },
	{ "v6 latch: another IP before the latch dropped, not learnt", NULL,
	  { FROM(OTHER6, 31000), TO(EDGE6, PA), RTP }, XS_DROP_MEDIA_SOURCE, {}, c_not_latched6 },
	{ "v6 latch: the SDP address is not the signalled source: dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP }, XS_DROP_MEDIA_SOURCE, {}, c_not_latched6 },
	{ "v6 latch: signalled v6 source within the window latches", NULL,
	  { FROM(NAT6, 31000), TO(EDGE6, PA), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, PB, MAC_B), TO(B6, 6000), RTP, .ttl = 63 }, c_latched6 },
	{ "v6 latch: other leg goes to the latched address", NULL,
	  { FROM(B6, 6000), TO(EDGE6, PB), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, PA, MAC_NAT), TO(NAT6, 31000), RTP, .ttl = 63 }, c_latched6 },
	{ "v6 latch: another IP after the latch dropped", NULL,
	  { FROM(OTHER6, 31000), TO(EDGE6, PA), RTP }, XS_DROP_MEDIA_SOURCE, {}, c_latched6 },
	{ "v6 latch: signalled IP from another port does not re-latch", NULL,
	  { FROM(NAT6, 31001), TO(EDGE6, PA), RTP }, XS_DROP_MEDIA_SOURCE, {}, c_latched6 },
	{ "v6 latch: window over: the signalled IP does not latch", s_latch_expired,
	  { FROM(NAT6, 31000), TO(EDGE6, PA), RTP }, XS_DROP_MEDIA_SOURCE, {}, c_not_latched6 },
	/* pinholes and media ipv4-only */
	{ "v6 pinhole: relay port without flow dropped", s_pinholes,
	  { FROM(A6, 4000), TO(EDGE6, 20030), RTP }, XS_DROP_PINHOLE, {}, NULL },
	{ "v6 pinhole: port outside the range passes", NULL,
	  { FROM(A6, 4000), TO(EDGE6, 30000), RTP }, XS_PASS, {}, NULL },
	{ "v6 pinhole: flow owns the port: relayed", NULL,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, PB, MAC_B), TO(B6, 6000), RTP, .ttl = 63 }, NULL },
	{ "ipv4-only on: v6 media to a flow dropped (source-check cache no bypass)", s_v4only,
	  { FROM(A6, 4000), TO(EDGE6, PA), RTP }, XS_DROP_V6_MEDIA, {}, NULL },
	{ "ipv4-only on: v6 to a closed pinhole in the rtp range: media drop first", NULL,
	  { FROM(A6, 4000), TO(EDGE6, 20030), RTP }, XS_DROP_V6_MEDIA, {}, NULL },
	{ "ipv4-only on: blocked v6 source to a closed pinhole: media drop first", s_block6,
	  { FROM(BAD6, 4000), TO(EDGE6, 20030), RTP }, XS_DROP_V6_MEDIA, {}, NULL },
	{ "ipv4-only on: v6 to a translating flow dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, XA), RTP }, XS_DROP_V6_MEDIA, {}, NULL },
	{ "ipv4-only on: v4 media of the same call still relayed", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, XA, MAC_A), TO(A6, 4000), RTP, .ttl = 63 }, NULL },
	/* IPv6 -> IPv4 */
	{ "v6->v4: header replaced, exact bytes", s_plain,
	  { FROM(A6, 4000), TO(EDGE6, XA), RTP }, XS_RELAY_TX,
	  { OUT(EDGE4, XB, MAC_B), TO(B4, 6000), RTP, .ttl = 63, .atomic = true }, c_xa_one },
	{ "v6->v4: odd payload length", NULL,
	  { FROM(A6, 4000), TO(EDGE6, XA), .payload = 1 }, XS_RELAY_TX,
	  { OUT(EDGE4, XB, MAC_B), TO(B4, 6000), .payload = 1, .ttl = 63, .atomic = true }, NULL },
	{ "v6->v4: large payload", NULL,
	  { FROM(A6, 4000), TO(EDGE6, XA), .payload = 1200 }, XS_RELAY_TX,
	  { OUT(EDGE4, XB, MAC_B), TO(B4, 6000), .payload = 1200, .ttl = 63, .atomic = true },
	  NULL },
	{ "v6->v4: traffic class becomes the tos", NULL,
	  { FROM(A6, 4000), TO(EDGE6, XA), RTP, .tos = 0xb8 }, XS_RELAY_TX,
	  { OUT(EDGE4, XB, MAC_B), TO(B4, 6000), RTP, .tos = 0xb8, .ttl = 63, .atomic = true },
	  NULL },
	{ "v6->v4: hop-by-hop header not carried over", NULL,
	  { FROM(A6, 4000), TO(EDGE6, XA), RTP, HBH }, XS_RELAY_TX,
	  { OUT(EDGE4, XB, MAC_B), TO(B4, 6000), RTP, .ttl = 63, .atomic = true }, NULL },
	{ "v6->v4: hop-by-hop and destination options not carried over", NULL,
	  { FROM(A6, 4000), TO(EDGE6, XA), RTP, HBH_DST }, XS_RELAY_TX,
	  { OUT(EDGE4, XB, MAC_B), TO(B4, 6000), RTP, .ttl = 63, .atomic = true }, NULL },
	{ "v6->v4: hop limit 1 dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, XA), RTP, .ttl = 1 }, XS_DROP_HOP_LIMIT, {}, NULL },
	{ "v6->v4: hop limit 0 dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, XA), RTP, .ttl = -1 }, XS_DROP_HOP_LIMIT, {}, NULL },
	{ "v6->v4: first fragment refused", NULL,
	  { FROM(A6, 4000), TO(EDGE6, XA), RTP, .ext = { IPPROTO_FRAGMENT }, .n_ext = 1,
	    .more_frags = true }, XS_DROP_XLAT, {}, NULL },
	/* IPv4 -> IPv6 */
	{ "v4->v6: header replaced, exact bytes", s_plain,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, XA, MAC_A), TO(A6, 4000), RTP, .ttl = 63 }, c_xb_one },
	{ "v4->v6: odd payload length", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), .payload = 1 }, XS_RELAY_TX,
	  { OUT(EDGE6, XA, MAC_A), TO(A6, 4000), .payload = 1, .ttl = 63 }, NULL },
	{ "v4->v6: large payload", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), .payload = 1200 }, XS_RELAY_TX,
	  { OUT(EDGE6, XA, MAC_A), TO(A6, 4000), .payload = 1200, .ttl = 63 }, NULL },
	{ "v4->v6: tos becomes the traffic class", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP, .tos = 0xb8 }, XS_RELAY_TX,
	  { OUT(EDGE6, XA, MAC_A), TO(A6, 4000), RTP, .tos = 0xb8, .ttl = 63 }, NULL },
	{ "v4->v6: ip options not carried over", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP, .ip_opts = 8 }, XS_RELAY_TX,
	  { OUT(EDGE6, XA, MAC_A), TO(A6, 4000), RTP, .ttl = 63 }, NULL },
	{ "v4->v6: ttl 2 leaves with hop limit 1", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP, .ttl = 2 }, XS_RELAY_TX,
	  { OUT(EDGE6, XA, MAC_A), TO(A6, 4000), RTP, .ttl = 1 }, NULL },
	{ "v4->v6: ttl 1 dropped", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP, .ttl = 1 }, XS_DROP_HOP_LIMIT, {}, NULL },
	{ "v4->v6: udp without checksum refused (ipv6 forbids it)", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP, .udp_nocsum = true }, XS_DROP_XLAT, {}, NULL },
	{ "v4->v6: first fragment refused", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP, .more_frags = true }, XS_DROP_XLAT, {}, NULL },
	/* latching across families */
	{ "xlat latch: the v4 core, pre-latched, relayed to the v6 leg", s_latch,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, XA, MAC_A), TO(A6, 4000), RTP, .ttl = 63 }, c_b4_confirmed },
	{ "xlat latch: another v6 IP dropped", NULL,
	  { FROM(OTHER6, 31000), TO(EDGE6, XA), RTP }, XS_DROP_MEDIA_SOURCE, {}, NULL },
	{ "xlat latch: the signalled v6 source latches, relayed as v4", NULL,
	  { FROM(NAT6, 31000), TO(EDGE6, XA), RTP }, XS_RELAY_TX,
	  { OUT(EDGE4, XB, MAC_B), TO(B4, 6000), RTP, .ttl = 63, .atomic = true }, c_latched_x },
	{ "xlat latch: the v4 core's media goes to the latched v6 address", NULL,
	  { FROM(B4, 6000), TO(EDGE4, XB), RTP }, XS_RELAY_TX,
	  { OUT(EDGE6, XA, MAC_NAT), TO(NAT6, 31000), RTP, .ttl = 63 }, c_latched_x },
	{ "xlat latch: another v4 source to the core's flow dropped", NULL,
	  { FROM("203.0.113.31", 6000), TO(EDGE4, XB), RTP }, XS_DROP_MEDIA_SOURCE, {}, NULL },
	/* routing */
	{ "v6 no route: dropped", s_routing,
	  { FROM(A6, 4000), TO(EDGE6, 20020), RTP }, XS_DROP_NO_ROUTE, {}, NULL },
	{ "v6 no neighbour: dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, 20022), RTP }, XS_DROP_NO_ROUTE, {}, NULL },
	{ "v6 other leg on hold (no destination): dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, 20024), RTP }, XS_DROP_NO_ROUTE, {}, NULL },
	{ "v6 other interface not in xs_txports: dropped", NULL,
	  { FROM(A6, 4000), TO(EDGE6, 20026), RTP }, XS_DROP_NO_ROUTE, {}, NULL },
	{ "v6 other interface: XDP_REDIRECT, exact bytes", s_txport,
	  { FROM(A6, 4000), TO(EDGE6, 20026), RTP }, XS_RELAY_REDIRECT,
	  { .smac = MAC_XSB, .dmac = MAC_FAR, .src = EDGE6_B, .sport = 20027, TO(FAR6, 7000), RTP,
	    .ttl = 63 }, NULL },
	{ "v4->v6 other interface: XDP_REDIRECT, exact bytes", NULL,
	  { FROM(B4, 6000), TO(EDGE4, 20028), RTP }, XS_RELAY_REDIRECT,
	  { .smac = MAC_XSB, .dmac = MAC_FAR, .src = EDGE6_B, .sport = 20029, TO(FAR6, 7000), RTP,
	    .ttl = 63 }, NULL },
	/* last: the block stays */
	{ "v6 relay: blocklisted source with a flow dropped", s_block_other,
	  { FROM(OTHER6, 31000), TO(EDGE6, PA), RTP }, XS_DROP_BLOCKLIST, {}, NULL },
};
/* clang-format on */

static int topology(char *why, size_t cap)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"sysctl -qw net.ipv6.conf.all.forwarding=1",
		"ip link add xsA address " MAC_XSA " type veth peer name xsAp",
		"ip link add xsB address " MAC_XSB " type veth peer name xsBp",
		"ip link set xsA up && ip link set xsAp up && ip link set xsB up && ip link set "
		"xsBp up",
		"ip addr add " EDGE4 "/24 dev xsA && ip addr add 198.51.100.1/24 dev xsB",
		"ip -6 addr add " EDGE6 "/64 dev xsA nodad && ip -6 addr add " EDGE6_B
		"/64 dev xsB nodad",
		"ip neigh replace " B4 " lladdr " MAC_B " dev xsA nud permanent",
		"ip -6 neigh replace " A6 " lladdr " MAC_A " dev xsA nud permanent",
		"ip -6 neigh replace " B6 " lladdr " MAC_B " dev xsA nud permanent",
		"ip -6 neigh replace " NAT6 " lladdr " MAC_NAT " dev xsA nud permanent",
		"ip -6 neigh replace " FAR6 " lladdr " MAC_FAR " dev xsB nud permanent",
	};

	if (bt_netns_setup(cmds, sizeof(cmds) / sizeof(cmds[0]), why, cap))
		return -1;
	if (bt_forwarding("xsA", 1) || bt_forwarding("xsB", 1)) {
		snprintf(why, cap, "cannot enable forwarding");
		return -1;
	}
	if_a = if_nametoindex("xsA");
	if_b = if_nametoindex("xsB");
	if (!if_a || !if_b) {
		snprintf(why, cap, "veth not found");
		return -1;
	}
	return 0;
}

static void run_step(const struct step *s)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct bt_run r = {};
	char why[256] = "";
	int len, olen, ok;

	if (s->setup)
		s->setup();
	len = pkt_build(&s->in, in, sizeof(in));
	if (len < 0) {
		T_FAIL(s->name, "bad packet spec");
		return;
	}
	r.ifindex = if_a;
	ok = bt_expect(&t, in, len, &r, s->reason, why, sizeof(why));
	if (ok < 0) {
		T_FAIL(s->name, "test run: %s", strerror(-ok));
		return;
	}
	if (!ok) {
		T_FAIL(s->name, "%s", why);
		return;
	}
	if (s->reason == XS_RELAY_TX || s->reason == XS_RELAY_REDIRECT) {
		olen = pkt_build(&s->out, out, sizeof(out));
		if (!T_CHECK(s->name, pkt_ip_csum_ok(r.out, r.out_len), "ip checksum invalid") ||
		    !T_CHECK(s->name, pkt_l4_csum_ok(r.out, r.out_len), "udp checksum invalid") ||
		    !T_CHECK(s->name, r.out_len == (uint32_t)olen && !memcmp(r.out, out, olen),
			     "output differs: %s",
			     pkt_diff(r.out, r.out_len, out, olen, why, sizeof(why))))
			return;
	} else if (!T_CHECK(s->name, r.out_len == (uint32_t)len && !memcmp(r.out, in, len),
			    "frame changed")) {
		return;
	}
	if (s->check && !T_CHECK(s->name, s->check(why, sizeof(why)), "%s", why))
		return;
	T_PASS(s->name);
}

int main(void)
{
	char why[256];
	size_t i;
	int err;

	err = bt_open(&t);
	if (err) {
		T_FAIL("load xdpsbc", "%s", strerror(-err));
		return 1;
	}
	if (topology(why, sizeof(why))) {
		for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			T_SKIP(steps[i].name, "no test topology: %s", why);
		bt_close(&t);
		return 0;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		run_step(&steps[i]);
	bt_close(&t);
	return check_failed ? 1 : 0;
}
