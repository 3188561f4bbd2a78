// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table tests of the XDP relay and media pinholes under
 * BPF_PROG_TEST_RUN. bpf_fib_lookup needs real interfaces, routes and
 * neighbours, so the test first moves itself into a private network
 * namespace with two veth pairs, addresses and permanent neighbour entries:
 * the FIB answers are then fixed and the output frames can be compared byte
 * for byte with frames built independently.
 *
 *   xsA 203.0.113.1/24, .2/24 (02:00:00:00:aa:01)  callers .20 .30 .50 .51
 *   xsB 198.51.100.1/24 (02:00:00:00:bb:01)  peer .40, reached by redirect
 *
 * A call: leg A signalled 203.0.113.20:4000 sends to edge port 20000, leg B
 * signalled 203.0.113.30:6000 sends to edge port 20002.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>
#include "xdpsbc.skel.h"

#include "../lib/bpftest.h"
#include "../lib/check.h"
#include "../lib/pkt.h"

#define EDGE	 "203.0.113.1"
#define EDGE_B	 "198.51.100.1"
#define EDGE2	 "203.0.113.2" /* a second media address (media-ip) */
#define A_SIG	 "203.0.113.20"
#define B_SIG	 "203.0.113.30"
#define NAT_A	 "203.0.113.50"
#define OTHER	 "203.0.113.51"
#define FAR_B	 "198.51.100.40"
#define TRUSTED	 "192.0.2.10"
#define PA	 20000
#define PB	 20002
#define MAC_XSA	 "02:00:00:00:aa:01"
#define MAC_XSB	 "02:00:00:00:bb:01"
#define MAC_A	 "02:00:00:00:00:20"
#define MAC_B	 "02:00:00:00:00:30"
#define MAC_NAT	 "02:00:00:00:00:50"
#define MAC_FAR	 "02:00:00:00:00:40"
#define MAC_B2	 "02:00:00:00:00:31" /* leg B's neighbour after a failover */
#define PORT_MAX 64		     /* edge ports 20000..20063 are tallied */

static struct bt_ctx t;
static int if_a, if_b;
/* What the flows' own counters must say: packets/bytes relayed per edge address and port. */
static uint64_t tally_pkts[2][PORT_MAX], tally_bytes[2][PORT_MAX];

static __be32 ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void flow_put(uint16_t port, const char *dst, uint16_t dport, const char *src,
		     uint16_t sport, const char *expect, uint16_t eport, uint32_t flags)
{
	struct xs_flow f = {
		.dst_addr = ip4(dst),
		.src_addr = ip4(src),
		.dst_port = htons(dport),
		.src_port = htons(sport),
		.expect_addr = ip4(expect),
		.expect_port = htons(eport),
		.flags = flags,
		.cookie = 0x5eed,
	};

	if (bt_flow_set(&t, EDGE, port, &f))
		fprintf(stderr, "flow %u: %s\n", port, strerror(errno));
}

static void flows_flush(void)
{
	struct xs_flow_key k, next;

	while (!bpf_map_get_next_key(t.flows_fd, NULL, &next)) {
		k = next;
		bpf_map_delete_elem(t.flows_fd, &k);
	}
	memset(tally_pkts, 0, sizeof(tally_pkts));
	memset(tally_bytes, 0, sizeof(tally_bytes));
}

static void config(uint32_t flags)
{
	struct xs_config c;

	bt_config_default(&c, flags);
	c.relay_min = 20000;
	c.relay_max = 29999;
	bt_config_set(&t, &c);
}

#define WINDOW_NS (10 * 1000000000ULL)

enum { LATCH_OPEN, LATCH_PRE, LATCH_KEEP };

/*
 * Flow @port's latch as sigd programs it: only @from may latch, until
 * @until_ns; LATCH_PRE: pre-latched to the signalled address and port;
 * LATCH_KEEP: the latched peer kept, provisionally (the leg's own re-offer).
 */
static void latch_set(uint16_t port, const char *from, uint64_t until_ns, int how)
{
	struct xs_flow f;

	if (bt_flow_get(&t, EDGE, port, &f)) {
		fprintf(stderr, "flow %u missing\n", port);
		return;
	}
	if (how == LATCH_KEEP) {
		f.flags |= XS_FLOW_LATCHED | XS_FLOW_PRELATCHED;
		f.latch_until_ns = until_ns;
		bt_flow_set(&t, EDGE, port, &f);
		return;
	}
	f.flags = (f.flags & ~(XS_FLOW_LATCHED | XS_FLOW_PRELATCHED)) | XS_FLOW_LATCH;
	f.latch_addr = ip4(from);
	f.latch_until_ns = until_ns;
	if (how == LATCH_PRE) {
		f.peer_addr = f.expect_addr;
		f.peer_port = f.expect_port;
		f.flags |= XS_FLOW_LATCHED | XS_FLOW_PRELATCHED;
	}
	bt_flow_set(&t, EDGE, port, &f);
}

/* The call of the header comment, both legs with @flags (LATCH: from the SDP address). */
static void call(uint32_t flags)
{
	flows_flush();
	config(0);
	flow_put(PA, B_SIG, 6000, EDGE, PB, A_SIG, 4000, flags);
	flow_put(PB, A_SIG, 4000, EDGE, PA, B_SIG, 6000, flags);
	if (flags & XS_FLOW_LATCH) {
		latch_set(PA, A_SIG, bt_now_ns() + WINDOW_NS, LATCH_OPEN);
		latch_set(PB, B_SIG, bt_now_ns() + WINDOW_NS, LATCH_OPEN);
	}
}

static void s_plain(void)
{
	call(0);
}

/*
 * As sigd programs a call from a NATed caller to the core: leg A signalled
 * from the NAT's address NAT_A (its SDP says A_SIG), so it latches from
 * NAT_A only; leg B (the core) is pre-latched to its SDP address.
 */
static void s_latch(void)
{
	call(0);
	latch_set(PA, NAT_A, bt_now_ns() + WINDOW_NS, LATCH_OPEN);
	latch_set(PB, B_SIG, bt_now_ns() + WINDOW_NS, LATCH_PRE);
}
static void s_latch_expired(void)
{
	call(0);
	latch_set(PA, NAT_A, bt_now_ns() - 1, LATCH_OPEN);
	latch_set(PB, B_SIG, bt_now_ns() - 1, LATCH_PRE);
}
/* Leg A's new offer: sigd keeps its latch, provisionally, with a new deadline. */
static void s_reoffer(void)
{
	latch_set(PA, NAT_A, bt_now_ns() + WINDOW_NS, LATCH_KEEP);
}
/* A new offer/answer after the window went by unlatched: a new deadline. */
static void s_reoffer_open(void)
{
	latch_set(PA, NAT_A, bt_now_ns() + WINDOW_NS, LATCH_OPEN);
}
static void s_pinholes(void)
{
	call(0);
	config(XS_CFG_PINHOLES);
}
static void s_outside(void)
{
	flow_put(30000, B_SIG, 6000, EDGE, PB, A_SIG, 4000, 0);
}
/*
 * A second call on the second media address, on the same port numbers as
 * the first call's: leg A' signalled 203.0.113.20:4002, latching from it
 * only (pre-latched), relayed from EDGE2:PB to leg B' at 203.0.113.30:6002.
 */
static void s_second_addr(void)
{
	struct xs_flow f = {
		.dst_addr = ip4(B_SIG),
		.dst_port = htons(6002),
		.src_addr = ip4(EDGE2),
		.src_port = htons(PB),
		.expect_addr = ip4(A_SIG),
		.expect_port = htons(4002),
		.latch_addr = ip4(A_SIG),
		.peer_addr = ip4(A_SIG),
		.peer_port = htons(4002),
		.latch_until_ns = bt_now_ns() + WINDOW_NS,
		.flags = XS_FLOW_LATCH | XS_FLOW_LATCHED | XS_FLOW_PRELATCHED,
		.cookie = 0x5eee,
	};

	call(0);
	config(XS_CFG_PINHOLES);
	if (bt_flow_set(&t, EDGE2, PA, &f))
		fprintf(stderr, "flow %s:%u: %s\n", EDGE2, PA, strerror(errno));
}
static void s_pinholes_off(void)
{
	config(0);
}
static void s_unroutable(void)
{
	call(0);
	flow_put(20020, "203.0.113.99", 7000, EDGE, 20021, "203.0.113.20", 0, 0); /* no neighbour */
	flow_put(20022, "192.0.2.99", 7000, EDGE, 20023, "203.0.113.20", 0, 0);	  /* no route */
	flow_put(20010, FAR_B, 7000, EDGE_B, 20012, A_SIG, 4000, 0);		  /* via xsB */
	flow_put(20024, "0.0.0.0", 0, EDGE, 20025, A_SIG, 4000, 0); /* other leg on hold */
}
static void s_txport(void)
{
	__u32 k = if_b, v = if_b;

	if (bpf_map_update_elem(t.txports_fd, &k, &v, BPF_ANY))
		fprintf(stderr, "txports: %s\n", strerror(errno));
}
static void s_block_other(void)
{
	call(0);
	bt_block_add(&t, OTHER "/32", 0);
}
/*
 * Closed pinholes are judged before the blocklist (the verdict is a drop
 * either way): a blocklisted source's packets to an unowned relay port count
 * as drop-pinhole and are not hits of its entry; to a port a flow owns, or
 * to a port the flood limit watches, the blocklist still judges them.
 */
static uint64_t other_hits0;

static uint64_t other_hits(void)
{
	struct xs_block b = {};

	bt_block_get(&t, OTHER "/32", &b);
	return b.hits;
}
static void s_block_pinholes(void)
{
	call(0);
	config(XS_CFG_PINHOLES);
	bt_block_add(&t, OTHER "/32", 0);
	other_hits0 = other_hits();
}
/* The flood limit watching a port inside the relay range. */
static void s_flood_in_range(void)
{
	struct xs_config c;

	bt_config_default(&c, XS_CFG_PINHOLES);
	c.relay_min = 20000;
	c.relay_max = 29999;
	bt_config_flood(&c, 1000, 2, 300);
	c.flood_ports[2] = 20004;
	bt_config_set(&t, &c);
	other_hits0 = other_hits();
}
/*
 * The datapath clock is cached per tick (clock.h): an entry that expires
 * after the cache was filled must stop blocking once the ticks move on.
 */
#define EXPIRING "203.0.113.52"
static void s_block_expiring(void)
{
	bt_block_add(&t, EXPIRING "/32", bt_now_ns() + 50 * 1000000ULL);
}
static void s_after_expiry(void)
{
	usleep(100 * 1000);
}
static void s_fwd_off(void)
{
	call(0);
	bt_forwarding("xsA", 0);
}
static void s_fwd_on(void)
{
	bt_forwarding("xsA", 1);
}

/* As if @secs had passed since flow @port resolved its next hop. */
static void age_next_hop(uint16_t port, uint64_t secs)
{
	struct xs_flow f;

	if (bt_flow_get(&t, EDGE, port, &f) || !f.nh_ns) {
		fprintf(stderr, "flow %u: no cached next hop\n", port);
		return;
	}
	f.nh_ns -= secs * 1000000000ULL;
	bt_flow_set(&t, EDGE, port, &f);
}

static void neigh_b(const char *mac)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip neigh replace %s lladdr %s dev xsA nud permanent", B_SIG,
		 mac);
	if (system(cmd))
		fprintf(stderr, "%s failed\n", cmd);
}

static void s_neigh_change(void)
{
	neigh_b(MAC_B2);
}
static void s_nh_age(void)
{
	age_next_hop(PA, 1);
}
static void s_neigh_back(void)
{
	neigh_b(MAC_B);
	age_next_hop(PA, 1);
}

/* The source-check cache (xs_flow chk_*): blocklist changes invalidate it. */
static uint64_t trust_hits0;

static void cidr_del(int fd, const char *addr)
{
	struct xs_lpm4 k = {.prefixlen = 32, .addr = ip4(addr)};

	bpf_map_delete_elem(fd, &k);
}

static uint64_t trust_hits(void)
{
	struct xs_trust tr = {};

	bt_trust_get(&t, TRUSTED "/32", &tr);
	return tr.hits;
}

static void s_block_a(void)
{
	bt_block_add(&t, A_SIG "/32", 0);
}
static void s_unblock_a(void)
{
	cidr_del(t.block4_fd, A_SIG); /* a delete needs no new generation */
}
static void s_other_blocked_first(void)
{
	call(0);
	bt_block_add(&t, OTHER "/32", 0);
}
static void s_trusted_blocked(void)
{
	call(0);
	bt_block_add(&t, TRUSTED "/32", 0);
	trust_hits0 = trust_hits();
}
static void s_untrust(void)
{
	cidr_del(t.trust4_fd, TRUSTED);
	bt_blkgen_bump(&t); /* as xs_trust_del() does */
}
static void s_retrust(void)
{
	bt_trust_add(&t, TRUSTED "/32");
	cidr_del(t.block4_fd, TRUSTED);
	cidr_del(t.block4_fd, OTHER);
}

/* ---- post-checks: return 1 or fill @why ---- */

/* Did this row's packet move the blocklisted source's hits by @n? */
static int other_hit_by(uint64_t n, char *why, size_t cap)
{
	uint64_t now = other_hits(), was = other_hits0;

	other_hits0 = now;
	if (now == was + n)
		return 1;
	snprintf(why, cap, "blocklist entry hits moved by %llu, want %llu",
		 (unsigned long long)(now - was), (unsigned long long)n);
	return 0;
}
static int c_other_no_hit(char *why, size_t cap)
{
	return other_hit_by(0, why, cap);
}
static int c_other_hit(char *why, size_t cap)
{
	return other_hit_by(1, why, cap);
}

static int flow_is(uint16_t port, struct xs_flow *f, char *why, size_t cap)
{
	if (bt_flow_get(&t, EDGE, port, f)) {
		snprintf(why, cap, "flow %u missing", port);
		return 0;
	}
	return 1;
}

static int addr_is(__be32 got, __be16 gport, const char *addr, uint16_t port, const char *what,
		   char *why, size_t cap)
{
	char buf[INET_ADDRSTRLEN];

	if (got == ip4(addr) && ntohs(gport) == port)
		return 1;
	inet_ntop(AF_INET, &got, buf, sizeof(buf));
	snprintf(why, cap, "%s is %s:%u, want %s:%u", what, buf, ntohs(gport), addr, port);
	return 0;
}

static int c_latched_nat(char *why, size_t cap)
{
	struct xs_flow a, b;

	if (!flow_is(PA, &a, why, cap) || !flow_is(PB, &b, why, cap))
		return 0;
	if (!(a.flags & XS_FLOW_LATCHED)) {
		snprintf(why, cap, "leg A not latched (flags %#x)", a.flags);
		return 0;
	}
	return addr_is(a.peer_addr, a.peer_port, NAT_A, 31000, "A peer", why, cap) &&
	       addr_is(b.dst_addr, b.dst_port, NAT_A, 31000, "reverse flow destination", why,
		       cap) &&
	       addr_is(a.dst_addr, a.dst_port, B_SIG, 6000, "A destination", why, cap);
}

static int c_both_latched(char *why, size_t cap)
{
	struct xs_flow a, b;

	if (!c_latched_nat(why, cap) || !flow_is(PA, &a, why, cap) || !flow_is(PB, &b, why, cap))
		return 0;
	return addr_is(b.peer_addr, b.peer_port, B_SIG, 6000, "B peer", why, cap) &&
	       addr_is(a.dst_addr, a.dst_port, B_SIG, 6000, "A destination", why, cap);
}

static int c_not_latched(char *why, size_t cap)
{
	struct xs_flow a, b;

	if (!flow_is(PA, &a, why, cap) || !flow_is(PB, &b, why, cap))
		return 0;
	if (a.flags & XS_FLOW_LATCHED) {
		snprintf(why, cap, "leg A latched from an unsignalled address");
		return 0;
	}
	return addr_is(b.dst_addr, b.dst_port, A_SIG, 4000, "reverse flow destination", why, cap);
}

/* After a re-offer, leg A latched to the NAT's new port, and B follows it. */
static int c_relatched(char *why, size_t cap)
{
	struct xs_flow a, b;

	if (!flow_is(PA, &a, why, cap) || !flow_is(PB, &b, why, cap))
		return 0;
	if (!(a.flags & XS_FLOW_LATCHED)) {
		snprintf(why, cap, "leg A not latched again after the re-offer");
		return 0;
	}
	return addr_is(a.peer_addr, a.peer_port, NAT_A, 31002, "A peer", why, cap) &&
	       addr_is(b.dst_addr, b.dst_port, NAT_A, 31002, "reverse flow destination", why, cap);
}

/* Leg B's pre-latch confirmed by a packet: latched, no longer correctable. */
static int c_b_confirmed(char *why, size_t cap)
{
	struct xs_flow b;

	if (!flow_is(PB, &b, why, cap))
		return 0;
	if ((b.flags & (XS_FLOW_LATCHED | XS_FLOW_PRELATCHED)) != XS_FLOW_LATCHED) {
		snprintf(why, cap, "leg B flags %#x, want latched and not pre-latched", b.flags);
		return 0;
	}
	return addr_is(b.peer_addr, b.peer_port, B_SIG, 6000, "B peer", why, cap);
}

/* Leg B's pre-latch corrected to port 6001, and A's media follows. */
static int c_b_moved(char *why, size_t cap)
{
	struct xs_flow a, b;

	if (!flow_is(PA, &a, why, cap) || !flow_is(PB, &b, why, cap))
		return 0;
	if ((b.flags & (XS_FLOW_LATCHED | XS_FLOW_PRELATCHED)) != XS_FLOW_LATCHED) {
		snprintf(why, cap, "leg B flags %#x, want latched and not pre-latched", b.flags);
		return 0;
	}
	return addr_is(b.peer_addr, b.peer_port, B_SIG, 6001, "B peer", why, cap) &&
	       addr_is(a.dst_addr, a.dst_port, B_SIG, 6001, "A destination", why, cap);
}

/* Flow A holds a next hop for B_SIG resolved in this test run. */
static int c_nh_cached(char *why, size_t cap)
{
	struct xs_flow a;

	if (!flow_is(PA, &a, why, cap))
		return 0;
	if (!a.nh_ns || a.nh_ns > bt_now_ns() || a.nh_daddr != ip4(B_SIG)) {
		snprintf(why, cap, "no next hop cached for %s (nh_ns %llu)", B_SIG,
			 (unsigned long long)a.nh_ns);
		return 0;
	}
	return 1;
}

static int c_checked_a(char *why, size_t cap)
{
	struct xs_flow a;

	if (!flow_is(PA, &a, why, cap))
		return 0;
	if (!a.chk_gen || a.chk_saddr != ip4(A_SIG)) {
		snprintf(why, cap, "no source-check cache for %s (chk_gen %llu)", A_SIG,
			 (unsigned long long)a.chk_gen);
		return 0;
	}
	return 1;
}

static int c_trust_once(char *why, size_t cap)
{
	if (trust_hits() == trust_hits0 + 1)
		return 1;
	snprintf(why, cap, "trusted hits moved by %llu, want 1 (second packet from the cache)",
		 (unsigned long long)(trust_hits() - trust_hits0));
	return 0;
}

static int c_egress_a(char *why, size_t cap)
{
	struct xs_flow a;
	uint64_t now = bt_now_ns();

	if (!flow_is(PA, &a, why, cap))
		return 0;
	if (a.ifindex != (uint32_t)if_a || !a.last_seen_ns || a.last_seen_ns > now) {
		snprintf(why, cap, "ifindex %u (want %d), last_seen_ns %llu", a.ifindex, if_a,
			 (unsigned long long)a.last_seen_ns);
		return 0;
	}
	return 1;
}

/* Every flow's packets/bytes equal what this test saw relayed through it. */
static int flow_counters_ok(char *why, size_t cap)
{
	struct xs_flow_key k, next, *prev = NULL;
	struct xs_flow f;
	unsigned int i, a;

	while (!bpf_map_get_next_key(t.flows_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(t.flows_fd, &k, &f))
			continue;
		i = ntohs(k.port) - 20000;
		a = k.addr == ip4(EDGE2);
		if (i >= PORT_MAX)
			continue;
		if (f.packets != tally_pkts[a][i] || f.bytes != tally_bytes[a][i]) {
			snprintf(why, cap, "flow %u counts %llu packets/%llu bytes, want %llu/%llu",
				 ntohs(k.port), (unsigned long long)f.packets,
				 (unsigned long long)f.bytes, (unsigned long long)tally_pkts[a][i],
				 (unsigned long long)tally_bytes[a][i]);
			return 0;
		}
	}
	return 1;
}

/* Datapath afxdp: an AF_XDP socket on xsA queue 0 in xs_xsks (copy mode). */
static struct xsk_socket *afxdp_xsk;
static struct xsk_umem *afxdp_umem;
static void *afxdp_area;

static void s_afxdp_nosock(void)
{
	call(XS_FLOW_LATCH);
	config(XS_CFG_AFXDP);
}

static void s_afxdp_sock(void)
{
	struct xsk_socket_config xc = {.rx_size = 64,
				       .tx_size = 64,
				       .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
				       .bind_flags = XDP_COPY};
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	__u32 key = XS_XSK_KEY(if_a, 0);
	size_t size = 64 * 4096;
	int fd, err;

	call(XS_FLOW_LATCH);
	config(XS_CFG_AFXDP);
	if (posix_memalign(&afxdp_area, 4096, size))
		return;
	err = xsk_umem__create(&afxdp_umem, afxdp_area, size, &fq, &cq, NULL);
	err = err ?: xsk_socket__create(&afxdp_xsk, "xsA", 0, afxdp_umem, &rx, &tx, &xc);
	if (err) {
		fprintf(stderr, "xsk on xsA: %s\n", strerror(-err));
		return;
	}
	fd = xsk_socket__fd(afxdp_xsk);
	if (bpf_map_update_elem(bpf_map__fd(t.skel->maps.xs_xsks), &key, &fd, BPF_ANY))
		fprintf(stderr, "xs_xsks: %s\n", strerror(errno));
}

static void s_afxdp_off(void)
{
	if (afxdp_xsk)
		xsk_socket__delete(afxdp_xsk);
	if (afxdp_umem)
		xsk_umem__delete(afxdp_umem);
	free(afxdp_area);
	afxdp_xsk = NULL;
	afxdp_umem = NULL;
	afxdp_area = NULL;
	call(0);
}

/* The hand-off leaves the flow's counters to userspace, but latches in XDP. */
static int c_afxdp_latched(char *why, size_t cap)
{
	struct xs_flow f;

	if (bt_flow_get(&t, EDGE, PA, &f) || !(f.flags & XS_FLOW_LATCHED) || f.packets) {
		snprintf(why, cap, "flow %u: flags %#x packets %llu, want latched, 0 packets", PA,
			 f.flags, (unsigned long long)f.packets);
		return 0;
	}
	return 1;
}

struct step {
	const char *name;
	void (*setup)(void);
	struct pkt_spec in;
	int ingress_b; /* arrives on xsB instead of xsA */
	int reason;
	struct pkt_spec out; /* expected frame when relayed */
	int (*check)(char *why, size_t cap);
};

/* clang-format off */
#define FROM(a, p)	.smac = MAC_A, .dmac = MAC_XSA, .src = (a), .sport = (p)
#define TO(a, p)	.dst = (a), .dport = (p), .l4 = IPPROTO_UDP
/* Relayed: one hop less (forward.h). */
#define OUT_A(a, p, mac) .smac = MAC_XSA, .dmac = (mac), .src = EDGE, .sport = (p), .ttl = 63
#define RTP		.payload = 172

static const struct step steps[] = {
	{ "relay rewrite and XDP_TX, exact bytes", s_plain,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_egress_a },
	{ "relay the other leg", NULL,
	  { FROM(B_SIG, 6000), TO(EDGE, PB), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PA, MAC_A), TO(A_SIG, 4000), RTP }, NULL },
	{ "udp checksum 0 stays 0", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), .payload = 33, .udp_nocsum = true }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), .payload = 33, .udp_nocsum = true }, NULL },
	{ "ip options kept", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP, .ip_opts = 8 }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP, .ip_opts = 8 }, NULL },
	{ "odd payload length", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), .payload = 1 }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), .payload = 1 }, c_nh_cached },
	/* the next-hop cache: bpf_fib_lookup at most once a second per flow */
	{ "next hop cached: a neighbour change within 1 s not seen yet", s_neigh_change,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_nh_cached },
	{ "next hop cache 1 s old: resolved again, new neighbour", s_nh_age,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B2), TO(B_SIG, 6000), RTP }, c_nh_cached },
	{ "next hop back to the first neighbour after the next refresh", s_neigh_back,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_nh_cached },
	/* latching: only from the signalled source, within the window, once */
	{ "latch: pre-latched leg relayed to the other leg's signalled address", s_latch,
	  { FROM(B_SIG, 6000), TO(EDGE, PB), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PA, MAC_A), TO(A_SIG, 4000), RTP }, c_b_confirmed },
	{ "latch: another IP before the latch dropped, not learnt", NULL,
	  { FROM(OTHER, 31000), TO(EDGE, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_not_latched },
	{ "latch: the SDP address is not the signalled source: dropped", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_not_latched },
	{ "latch: signalled source IP within the window latches (NAT port)", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_latched_nat },
	{ "latch: other leg goes to the NAT binding (new destination: cache not used)", NULL,
	  { FROM(B_SIG, 6000), TO(EDGE, PB), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PA, MAC_NAT), TO(NAT_A, 31000), RTP }, c_both_latched },
	{ "latch: another IP after the latch dropped", NULL,
	  { FROM(OTHER, 31000), TO(EDGE, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_both_latched },
	{ "latch: signalled IP from another port does not re-latch", NULL,
	  { FROM(NAT_A, 31001), TO(EDGE, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_both_latched },
	{ "latch: latched source relayed", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_both_latched },
	{ "latch: pre-latched leg drops another IP", NULL,
	  { FROM(OTHER, 6000), TO(EDGE, PB), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_both_latched },
	{ "latch: pre-latched leg confirmed: its port no longer moves", NULL,
	  { FROM(B_SIG, 6001), TO(EDGE, PB), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_both_latched },
	{ "latch: re-offer: another IP still dropped", s_reoffer,
	  { FROM(OTHER, 31000), TO(EDGE, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_both_latched },
	{ "latch: re-offer reopens the window: the signalled IP re-latches (NAT rebound)", NULL,
	  { FROM(NAT_A, 31002), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_relatched },
	{ "latch: re-offer: once: the old port is now dropped", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_relatched },
	{ "latch: window over: the signalled IP does not latch", s_latch_expired,
	  { FROM(NAT_A, 31000), TO(EDGE, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_not_latched },
	{ "latch: window over: another IP dropped", NULL,
	  { FROM(OTHER, 31000), TO(EDGE, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_not_latched },
	{ "latch: window over: a pre-latched leg still relays its SDP address", NULL,
	  { FROM(B_SIG, 6000), TO(EDGE, PB), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PA, MAC_A), TO(A_SIG, 4000), RTP }, NULL },
	{ "latch: window over: a pre-latched leg's port cannot move", NULL,
	  { FROM(B_SIG, 6002), TO(EDGE, PB), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, NULL },
	{ "latch: window over, re-offer: the signalled IP latches", s_reoffer_open,
	  { FROM(NAT_A, 31000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_latched_nat },
	{ "latch: pre-latched leg corrects its port once within the window", s_latch,
	  { FROM(B_SIG, 6001), TO(EDGE, PB), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PA, MAC_A), TO(A_SIG, 4000), RTP }, c_b_moved },
	{ "latch: pre-latched leg, corrected: a third port dropped", NULL,
	  { FROM(B_SIG, 6002), TO(EDGE, PB), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, c_b_moved },
	{ "latch: flow without latching (static) relays any source", s_plain,
	  { FROM(OTHER, 31000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, NULL },
	/* pinholes */
	{ "pinhole closed: relay port without flow dropped", s_pinholes,
	  { FROM(NAT_A, 31000), TO(EDGE, 20004), RTP }, 0, XS_DROP_PINHOLE, {}, NULL },
	{ "pinhole closed: range upper bound dropped", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, 29999), RTP }, 0, XS_DROP_PINHOLE, {}, NULL },
	{ "pinhole open: flow owns the port", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, NULL },
	{ "pinhole: port outside the range passes", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, 30000), RTP }, 0, XS_PASS, {}, NULL },
	{ "pinhole: sip 5060 passes", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, 5060), .payload = 400 }, 0, XS_PASS, {}, NULL },
	{ "pinhole: trusted source not dropped", NULL,
	  { FROM(TRUSTED, 5000), TO(EDGE, 20004), RTP }, 0, XS_PASS_TRUSTED, {}, NULL },
	{ "pinhole: trusted source still relayed", NULL,
	  { FROM(TRUSTED, 5000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, NULL },
	{ "pinhole: ipv6 to an unowned relay port dropped too", NULL,
	  { .src = "2001:db8:1::10", .dst = "2001:db8:1::1", .sport = 31000, .dport = 20004, RTP },
	  0, XS_DROP_PINHOLE, {}, NULL },
	{ "relay: ttl 1 dropped, not relayed with none left", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP, .ttl = 1 }, 0, XS_DROP_HOP_LIMIT, {}, NULL },
	{ "relay: ttl 0 dropped", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP, .ttl = -1 }, 0, XS_DROP_HOP_LIMIT, {}, NULL },
	{ "relay: ttl 2 relayed with 1", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP, .ttl = 2 }, 0, XS_RELAY_TX,
	  { .smac = MAC_XSA, .dmac = MAC_B, .src = EDGE, .sport = PB, TO(B_SIG, 6000), RTP,
	    .ttl = 1 }, NULL },
	{ "pinhole: vlan-tagged media to a flow left to the stack", NULL,
	  { .vlan = { 0x8100 }, FROM(NAT_A, 31000), TO(EDGE, PA), RTP }, 0, XS_PASS, {}, NULL },
	{ "flow outside the configured relay range not looked up", s_outside,
	  { FROM(A_SIG, 4000), TO(EDGE, 30000), RTP }, 0, XS_PASS, {}, NULL },
	/* several media addresses: a flow is its (address, port), nothing more */
	{ "second media address: its own call relayed from it, same port numbers", s_second_addr,
	  { FROM(A_SIG, 4002), TO(EDGE2, PA), RTP }, 0, XS_RELAY_TX,
	  { .smac = MAC_XSA, .dmac = MAC_B, .src = EDGE2, .sport = PB, .ttl = 63, TO(B_SIG, 6002),
	    RTP }, NULL },
	{ "second media address: the first address's call still its own", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, NULL },
	{ "second media address: sprayed unowned port dropped", NULL,
	  { FROM(OTHER, 31000), TO(EDGE2, 20004), RTP }, 0, XS_DROP_PINHOLE, {}, NULL },
	{ "second media address: a port owned only on the first address is closed", NULL,
	  { FROM(OTHER, 31000), TO(EDGE2, PB), RTP }, 0, XS_DROP_PINHOLE, {}, NULL },
	{ "second media address: another source at an owned port dropped", NULL,
	  { FROM(OTHER, 31000), TO(EDGE2, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, NULL },
	{ "second media address: the leg's own port cannot be moved by a spray", NULL,
	  { FROM(A_SIG, 31000), TO(EDGE2, PA), RTP }, 0, XS_DROP_MEDIA_SOURCE, {}, NULL },
	{ "pinholes off: unowned relay port passes", s_pinholes_off,
	  { FROM(NAT_A, 31000), TO(EDGE, 20004), RTP }, 0, XS_PASS, {}, NULL },
	/* routing */
	{ "no neighbour: dropped, flow not counted", s_unroutable,
	  { FROM(A_SIG, 4000), TO(EDGE, 20020), RTP }, 0, XS_DROP_NO_ROUTE, {}, NULL },
	{ "no route: dropped", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, 20022), RTP }, 0, XS_DROP_NO_ROUTE, {}, NULL },
	{ "other leg on hold (no destination): dropped", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, 20024), RTP }, 0, XS_DROP_NO_ROUTE, {}, NULL },
	{ "other interface not in xs_txports: dropped", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, 20010), RTP }, 0, XS_DROP_NO_ROUTE, {}, NULL },
	{ "other interface: XDP_REDIRECT, exact bytes", s_txport,
	  { FROM(A_SIG, 4000), TO(EDGE, 20010), RTP }, 0, XS_RELAY_REDIRECT,
	  { .smac = MAC_XSB, .dmac = MAC_FAR, .src = EDGE_B, .sport = 20012, TO(FAR_B, 7000), RTP,
	    .ttl = 63 },
	  NULL },
	{ "forwarding off on ingress: dropped", s_fwd_off,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_DROP_NO_ROUTE, {}, NULL },
	{ "forwarding back on: relayed", s_fwd_on,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, NULL },
	/* earlier stages win */
	{ "blocklisted source with a flow dropped", s_block_other,
	  { FROM(OTHER, 31000), TO(EDGE, PA), RTP }, 0, XS_DROP_BLOCKLIST, {}, NULL },
	{ "closed pinhole: blocklisted source counted as pinhole drop, no entry hit",
	  s_block_pinholes,
	  { FROM(OTHER, 31000), TO(EDGE, 20004), RTP }, 0, XS_DROP_PINHOLE, {}, c_other_no_hit },
	{ "open pinhole: blocklisted source still dropped by the blocklist", NULL,
	  { FROM(OTHER, 31000), TO(EDGE, PA), RTP }, 0, XS_DROP_BLOCKLIST, {}, c_other_hit },
	{ "closed pinhole: blocklisted source outside the range: blocklist", NULL,
	  { FROM(OTHER, 31000), TO(EDGE, 30000), RTP }, 0, XS_DROP_BLOCKLIST, {}, c_other_hit },
	{ "closed pinhole: clean source still dropped as pinhole", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, 20006), RTP }, 0, XS_DROP_PINHOLE, {}, NULL },
	{ "closed pinhole on a flood-watched port: blocklist judges first", s_flood_in_range,
	  { FROM(OTHER, 31000), TO(EDGE, 20004), RTP }, 0, XS_DROP_BLOCKLIST, {}, c_other_hit },
	{ "closed pinhole on a flood-watched port: clean source dropped as pinhole", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, 20004), RTP }, 0, XS_DROP_PINHOLE, {}, NULL },
	{ "blocklist entry 50 ms from expiry drops", s_block_expiring,
	  { FROM(EXPIRING, 31000), TO(EDGE, 30000), RTP }, 0, XS_DROP_BLOCKLIST, {}, NULL },
	{ "the same entry 100 ms later passes (clock cache moved on)", s_after_expiry,
	  { FROM(EXPIRING, 31000), TO(EDGE, 30000), RTP }, 0, XS_PASS, {}, NULL },
	{ "non-first fragment to a flow passes", NULL,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), .frag_off = 20, .payload = 40 }, 0, XS_PASS_FRAGMENT,
	  {}, NULL },
	/* the source-check cache: media skips trust and blocklist until the blocklist changes */
	{ "check cache: a relayed source is remembered", s_plain,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_checked_a },
	{ "check cache: blocking the source stops its media at once", s_block_a,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_DROP_BLOCKLIST, {}, NULL },
	{ "check cache: unblocked, relayed and remembered again", s_unblock_a,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_checked_a },
	{ "check cache: filled by one source", s_other_blocked_first,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_checked_a },
	{ "check cache: does not let another, blocked source through", NULL,
	  { FROM(OTHER, 31000), TO(EDGE, PA), RTP }, 0, XS_DROP_BLOCKLIST, {}, c_checked_a },
	{ "check cache: trusted and blocklisted source relayed", s_trusted_blocked,
	  { FROM(TRUSTED, 5000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_trust_once },
	{ "check cache: its next packet skips the trusted lookup", NULL,
	  { FROM(TRUSTED, 5000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, c_trust_once },
	{ "check cache: trust removed, the blocklist drops it at once", s_untrust,
	  { FROM(TRUSTED, 5000), TO(EDGE, PA), RTP }, 0, XS_DROP_BLOCKLIST, {}, NULL },
	{ "check cache: trust back, relayed", s_retrust,
	  { FROM(TRUSTED, 5000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, NULL },
	/* datapath afxdp: flow hits go to the AF_XDP socket of their queue */
	{ "afxdp: no socket on the queue: relayed in XDP", s_afxdp_nosock,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, NULL },
	{ "afxdp: flow hit handed to the socket unchanged, latched", s_afxdp_sock,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_REDIRECT_XSK, {}, c_afxdp_latched },
	{ "afxdp: relay port without a flow not handed off", NULL,
	  { FROM(NAT_A, 31000), TO(EDGE, 20004), RTP }, 0, XS_PASS, {}, NULL },
	{ "afxdp: socket gone: relayed in XDP again", s_afxdp_off,
	  { FROM(A_SIG, 4000), TO(EDGE, PA), RTP }, 0, XS_RELAY_TX,
	  { OUT_A(EDGE, PB, MAC_B), TO(B_SIG, 6000), RTP }, NULL },
};
/* clang-format on */

/* A private namespace with the topology of the header comment. */
static int topology(char *why, size_t cap)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"ip link add xsA address " MAC_XSA " type veth peer name xsAp",
		"ip link add xsB address " MAC_XSB " type veth peer name xsBp",
		"ip link set xsA up && ip link set xsAp up && ip link set xsB up && ip link set "
		"xsBp up",
		"ip addr add " EDGE "/24 dev xsA && ip addr add " EDGE2 "/24 dev xsA && "
		"ip addr add " EDGE_B "/24 dev xsB",
		"ip neigh replace " A_SIG " lladdr " MAC_A " dev xsA nud permanent",
		"ip neigh replace " B_SIG " lladdr " MAC_B " dev xsA nud permanent",
		"ip neigh replace " NAT_A " lladdr " MAC_NAT " dev xsA nud permanent",
		"ip neigh replace " FAR_B " lladdr " MAC_FAR " dev xsB nud permanent",
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
	r.ifindex = s->ingress_b ? if_b : if_a;
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
		unsigned int i = s->in.dport - 20000, a = s->in.dst && !strcmp(s->in.dst, EDGE2);

		if (i < PORT_MAX) {
			tally_pkts[a][i]++;
			tally_bytes[a][i] += len;
		}
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
	if (!T_CHECK(s->name, flow_counters_ok(why, sizeof(why)), "%s", why))
		return;
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
	if (bt_trust_add(&t, TRUSTED "/32")) {
		T_FAIL("trust", "%s", strerror(errno));
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
