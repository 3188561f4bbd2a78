// SPDX-License-Identifier: GPL-2.0-only
/*
 * The userspace datapaths' latching (xs_dp_latch() and the write-back in
 * xs_dp_account(), relay/common.c) against the rule the XDP program
 * follows (bpf/lib/relay.h, tests/bpf/test_relay.c): the same table of
 * cases on a private xs_flows hash map, no XDP program.
 *
 * A call: leg A signalled 10.0.0.2:4000 from the NAT 203.0.113.50 sends to
 * edge port 20000; leg B (the core, 198.51.100.30:6000) sends to 20002.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "relay/relay.h"
#include "relay/internal.h"
#include "lib/xdpsbc.h"
#include "../lib/check.h"

#define EDGE  "203.0.113.1"
#define A_SDP "10.0.0.2"
#define NAT_A "203.0.113.50"
#define OTHER "203.0.113.51"
#define B_SIG "198.51.100.30"
#define PA    20000
#define PB    20002
#define WIN   (10 * 1000000000ULL)

static int fd;

static __be32 ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static struct xs_flow_key key(uint16_t port)
{
	struct xs_flow_key k = {.addr = ip4(EDGE), .port = htons(port), .proto = IPPROTO_UDP};

	return k;
}

static void put(uint16_t port, const struct xs_flow *f)
{
	struct xs_flow_key k = key(port);

	bpf_map_update_elem(fd, &k, f, BPF_ANY);
}

static struct xs_flow get(uint16_t port)
{
	struct xs_flow_key k = key(port);
	struct xs_flow f = {};

	bpf_map_lookup_elem(fd, &k, &f);
	return f;
}

/*
 * A translated call: the IPv6 leg (latching from NAT6) sends to [EDGE6]:20010
 * and leaves as IPv4 from EDGE:20012 towards the core; the core's flow
 * (EDGE:20012) leaves as IPv6 from [EDGE6]:20010.
 */
#define EDGE6 "2001:db8:a::1"
#define NAT6  "2001:db8:a::50"
#define OTH6  "2001:db8:a::51"

static void v6_rows(void)
{
	struct xs_flow_key k6 = {.port = htons(20010), .proto = IPPROTO_UDP, .v6 = 1};
	struct xs_flow_key k4 = key(20012);
	struct xs_flow a = {.dst_addr = ip4(B_SIG),
			    .dst_port = htons(6000),
			    .src_addr = ip4(EDGE),
			    .src_port = htons(20012),
			    .flags = XS_FLOW_LATCH,
			    .cookie = 9,
			    .latch_until_ns = xs_now_ns() + WIN};
	struct xs_flow b = {.dst_port = htons(4000),
			    .src_port = htons(20010),
			    .flags = XS_FLOW_OUT6,
			    .cookie = 9};
	uint8_t nat[16], oth[16];
	const char *n;
	bool changed;
	int why;

	inet_pton(AF_INET6, EDGE6, k6.addr6);
	inet_pton(AF_INET6, NAT6, nat);
	inet_pton(AF_INET6, OTH6, oth);
	memcpy(a.latch_addr6, nat, 16);
	memcpy(b.src_addr6, k6.addr6, 16);
	bpf_map_update_elem(fd, &k6, &a, BPF_ANY);
	bpf_map_update_elem(fd, &k4, &b, BPF_ANY);

	n = "dp_latch: v6: another v6 source dropped";
	why = xs_dp_latch(fd, &a, oth, true, htons(31000), &changed);
	if (T_CHECK(n, why == XS_DROP_MEDIA_SOURCE && !changed, "why %d", why))
		T_PASS(n);
	n = "dp_latch: v6: the signalled v6 source latches, the v4-keyed reverse flow aims at it";
	why = xs_dp_latch(fd, &a, nat, true, htons(31000), &changed);
	if (!why)
		xs_dp_account(fd, &k6, &a, changed, 1, 234, 0);
	bpf_map_lookup_elem(fd, &k4, &b);
	bpf_map_lookup_elem(fd, &k6, &a);
	if (T_CHECK(n, !why && changed, "why %d", why) &&
	    T_CHECK(n, (a.flags & XS_FLOW_LATCHED) && !memcmp(a.peer_addr6, nat, 16),
		    "peer not written back") &&
	    T_CHECK(n, !memcmp(b.dst_addr6, nat, 16) && ntohs(b.dst_port) == 31000,
		    "reverse flow not aimed at the latched v6 peer"))
		T_PASS(n);
	n = "dp_latch: v6: latched peer relayed, the same address from another port dropped";
	if (T_CHECK(n, !xs_dp_latch(fd, &a, nat, true, htons(31000), &changed), "peer dropped") &&
	    T_CHECK(n,
		    xs_dp_latch(fd, &a, nat, true, htons(31001), &changed) == XS_DROP_MEDIA_SOURCE,
		    "re-latched"))
		T_PASS(n);
}

/* As sigd programs the call: A latches from NAT_A, B pre-latched to its SDP. */
static void call(uint64_t until)
{
	struct xs_flow a = {.dst_addr = ip4(B_SIG),
			    .dst_port = htons(6000),
			    .src_addr = ip4(EDGE),
			    .src_port = htons(PB),
			    .expect_addr = ip4(A_SDP),
			    .expect_port = htons(4000),
			    .flags = XS_FLOW_LATCH,
			    .cookie = 7,
			    .latch_addr = ip4(NAT_A),
			    .latch_until_ns = until};
	struct xs_flow b = {.dst_addr = ip4(A_SDP),
			    .dst_port = htons(4000),
			    .src_addr = ip4(EDGE),
			    .src_port = htons(PA),
			    .expect_addr = ip4(B_SIG),
			    .expect_port = htons(6000),
			    .peer_addr = ip4(B_SIG),
			    .peer_port = htons(6000),
			    .flags = XS_FLOW_LATCH | XS_FLOW_LATCHED | XS_FLOW_PRELATCHED,
			    .cookie = 7,
			    .latch_addr = ip4(B_SIG),
			    .latch_until_ns = until};

	put(PA, &a);
	put(PB, &b);
}

/* One datagram to @port from @src:@sport through the relay's decision and write-back. */
static int packet(uint16_t port, const char *src, uint16_t sport)
{
	struct xs_flow_key k = key(port);
	struct xs_flow f = get(port);
	bool changed;
	__be32 s = ip4(src);
	int why = xs_dp_latch(fd, &f, &s, false, htons(sport), &changed);

	if (!why)
		xs_dp_account(fd, &k, &f, changed, 1, 214, 0);
	return why;
}

static int peer_is(uint16_t port, const char *addr, uint16_t p)
{
	struct xs_flow f = get(port);

	return (f.flags & XS_FLOW_LATCHED) && f.peer_addr == ip4(addr) && ntohs(f.peer_port) == p;
}

static int dst_is(uint16_t port, const char *addr, uint16_t p)
{
	struct xs_flow f = get(port);

	return f.dst_addr == ip4(addr) && ntohs(f.dst_port) == p;
}

int main(void)
{
	const char *n;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xs_flows", sizeof(struct xs_flow_key),
			    sizeof(struct xs_flow), 64, NULL);
	if (fd < 0) {
		T_SKIP("dp_latch", "no BPF map: %s", strerror(errno));
		return 0;
	}
	call(xs_now_ns() + WIN);

	n = "dp_latch: another IP before the latch dropped";
	if (T_CHECK(n, packet(PA, OTHER, 31000) == XS_DROP_MEDIA_SOURCE, "relayed") &&
	    T_CHECK(n, !(get(PA).flags & XS_FLOW_LATCHED), "latched"))
		T_PASS(n);
	n = "dp_latch: the NATed leg's SDP address does not latch";
	if (T_CHECK(n, packet(PA, A_SDP, 4000) == XS_DROP_MEDIA_SOURCE, "relayed"))
		T_PASS(n);
	n = "dp_latch: signalled source within the window latches, reverse follows";
	if (T_CHECK(n, packet(PA, NAT_A, 31000) == 0, "dropped") &&
	    T_CHECK(n, peer_is(PA, NAT_A, 31000), "peer not learnt") &&
	    T_CHECK(n, dst_is(PB, NAT_A, 31000), "reverse flow not aimed at the NAT"))
		T_PASS(n);
	n = "dp_latch: after the latch another IP dropped";
	if (T_CHECK(n, packet(PA, OTHER, 31000) == XS_DROP_MEDIA_SOURCE, "relayed") &&
	    T_CHECK(n, peer_is(PA, NAT_A, 31000), "latch moved"))
		T_PASS(n);
	n = "dp_latch: signalled IP from another port does not re-latch";
	if (T_CHECK(n, packet(PA, NAT_A, 31001) == XS_DROP_MEDIA_SOURCE, "relayed") &&
	    T_CHECK(n, peer_is(PA, NAT_A, 31000), "latch moved"))
		T_PASS(n);
	n = "dp_latch: pre-latched leg relays its SDP address, confirmed";
	if (T_CHECK(n, packet(PB, B_SIG, 6000) == 0, "dropped") &&
	    T_CHECK(n, !(get(PB).flags & XS_FLOW_PRELATCHED), "still provisional") &&
	    T_CHECK(n, packet(PB, B_SIG, 6001) == XS_DROP_MEDIA_SOURCE, "port moved after"))
		T_PASS(n);

	call(xs_now_ns() - 1);
	n = "dp_latch: window over: nothing latches";
	if (T_CHECK(n, packet(PA, NAT_A, 31000) == XS_DROP_MEDIA_SOURCE, "latched late") &&
	    T_CHECK(n, packet(PA, OTHER, 31000) == XS_DROP_MEDIA_SOURCE, "relayed") &&
	    T_CHECK(n, packet(PB, B_SIG, 6002) == XS_DROP_MEDIA_SOURCE, "pre-latch moved late") &&
	    T_CHECK(n, packet(PB, B_SIG, 6000) == 0, "pre-latched leg dropped"))
		T_PASS(n);

	n = "dp_latch: a re-offer reopens the window";
	call(xs_now_ns() + WIN);
	if (T_CHECK(n, packet(PA, NAT_A, 31002) == 0, "dropped") &&
	    T_CHECK(n, peer_is(PA, NAT_A, 31002), "not latched"))
		T_PASS(n);

	n = "dp_latch: a latch learnt under an older window is not written back";
	{
		struct xs_flow_key k = key(PA);
		struct xs_flow f, stale;
		bool changed;

		call(xs_now_ns() + WIN);
		stale = get(PA);
		__be32 nat = ip4(NAT_A);

		xs_dp_latch(fd, &stale, &nat, false, htons(31003), &changed);
		f = get(PA); /* sigd reprograms meanwhile: a new deadline */
		f.latch_until_ns += 1;
		put(PA, &f);
		xs_dp_account(fd, &k, &stale, changed, 1, 214, 0);
		if (T_CHECK(n, changed, "no latch") &&
		    T_CHECK(n, !(get(PA).flags & XS_FLOW_LATCHED), "stale latch written"))
			T_PASS(n);
	}
	n = "dp_latch: a flow without latch relays anyone";
	{
		struct xs_flow f = get(PA);
		__be32 other = ip4(OTHER);
		bool changed;

		f.flags &= ~XS_FLOW_LATCH;
		if (T_CHECK(n, xs_dp_latch(fd, &f, &other, false, htons(1), &changed) == 0,
			    "dropped"))
			T_PASS(n);
	}
	v6_rows();
	close(fd);
	return check_failed ? 1 : 0;
}
