// SPDX-License-Identifier: GPL-2.0-only
/*
 * sigd's flow programming for flows with an IPv6 side (media_flow_fill(),
 * media_flow_put(), sigd/media/flows.c): the key and every address field
 * land in the union member of the side's family with the rest zero,
 * XS_FLOW_OUT6 follows the leaving side, a spec whose families disagree is
 * refused with nothing written, a full table is -ENOSPC and counted, and a
 * restart's rebuild takes such flows into the call table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "lib/xdpsbc.h"
#include "media/internal.h"
#include "../lib/check.h"

static struct media_ep ep(const char *s, uint16_t port)
{
	struct media_ep e = {.port = port};

	if (inet_pton(AF_INET6, s, &e.in6) == 1)
		e.v6 = true;
	else
		inet_pton(AF_INET, s, &e.in4);
	return e;
}

static int bytes_are(const void *field, const char *addr)
{
	uint8_t want[16] = {};

	if (inet_pton(AF_INET6, addr, want) != 1)
		inet_pton(AF_INET, addr, want);
	return !memcmp(field, want, 16);
}

/* The IPv6 client's flow of a translated call: in at [2001:db8:a::1]:20000, out as IPv4. */
static struct media_flow_spec spec_v6_to_v4(void)
{
	struct media_flow_spec sp = {
		.edge = ep("2001:db8:a::1", 20000),
		.expect = ep("2001:db8:a::20", 4000),
		.latch = ep("2001:db8:a::50", 0),
		.peer = ep("::", 0),
		.src = ep("203.0.113.1", 20002),
		.dst = ep("198.51.100.30", 6000),
		.latch_until_ns = 12345,
		.flags = XS_FLOW_LATCH,
		.cookie = 0xc0ffee,
	};

	return sp;
}

int main(void)
{
	struct media_ctx mc = {};
	struct media_flow_spec sp, rev;
	struct xs_flow_key k;
	struct xs_flow f;
	const char *n;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xs_flows_test", sizeof(struct xs_flow_key),
			    sizeof(struct xs_flow), 4, NULL);
	if (fd < 0) {
		T_SKIP("media_flow6", "no BPF map: %s", strerror(errno));
		return 0;
	}
	mc.o.flows_fd = fd;

	n = "media_flow6: v6 in, v4 out: key and fields of each side's family";
	sp = spec_v6_to_v4();
	err = media_flow_put(&mc, &sp);
	media_flow_fill(&sp, &k, &f);
	memset(&f, 0xaa, sizeof(f));
	if (T_CHECK(n, !err, "put: %s", strerror(-err)) &&
	    T_CHECK(n, !bpf_map_lookup_elem(fd, &k, &f), "not in the map") &&
	    T_CHECK(n, k.v6 == 1 && bytes_are(k.addr6, "2001:db8:a::1") && ntohs(k.port) == 20000,
		    "key") &&
	    T_CHECK(n, !(f.flags & XS_FLOW_OUT6) && (f.flags & XS_FLOW_LATCH), "flags %#x",
		    f.flags) &&
	    T_CHECK(n, bytes_are(f.dst_addr6, "198.51.100.30") && ntohs(f.dst_port) == 6000,
		    "dst") &&
	    T_CHECK(n, bytes_are(f.src_addr6, "203.0.113.1") && ntohs(f.src_port) == 20002,
		    "src") &&
	    T_CHECK(n,
		    bytes_are(f.expect_addr6, "2001:db8:a::20") &&
			    bytes_are(f.latch_addr6, "2001:db8:a::50"),
		    "expect/latch") &&
	    T_CHECK(n,
		    f.latch_until_ns == 12345 && f.cookie == 0xc0ffee && !f.packets && !f.nh_ns &&
			    !f.chk_gen,
		    "counters and caches not zero"))
		T_PASS(n);

	n = "media_flow6: v4 in, v6 out (the core's flow back), pre-latched: OUT6 set";
	rev = (struct media_flow_spec){
		.edge = ep("203.0.113.1", 20002),
		.expect = ep("198.51.100.30", 6000),
		.latch = ep("198.51.100.30", 0),
		.peer = ep("198.51.100.30", 6000),
		.src = ep("2001:db8:a::1", 20000),
		.dst = ep("2001:db8:a::20", 4000),
		.flags = XS_FLOW_LATCH | XS_FLOW_LATCHED | XS_FLOW_PRELATCHED,
		.cookie = 0xc0ffee,
	};
	err = media_flow_put(&mc, &rev);
	media_flow_fill(&rev, &k, &f);
	if (T_CHECK(n, !err, "put: %s", strerror(-err)) &&
	    T_CHECK(n, !bpf_map_lookup_elem(fd, &k, &f), "not in the map") &&
	    T_CHECK(n, !k.v6 && bytes_are(k.addr6, "203.0.113.1"), "key") &&
	    T_CHECK(n,
		    (f.flags & XS_FLOW_OUT6) && bytes_are(f.dst_addr6, "2001:db8:a::20") &&
			    bytes_are(f.src_addr6, "2001:db8:a::1"),
		    "leaving side") &&
	    T_CHECK(n, bytes_are(f.peer_addr6, "198.51.100.30") && ntohs(f.peer_port) == 6000,
		    "peer"))
		T_PASS(n);

	n = "media_flow6: families that disagree refused, nothing written";
	{
		struct media_flow_spec bad = spec_v6_to_v4();
		int e1, e2, e3;

		bad.edge.port = 20010;
		bad.dst = ep("2001:db8:a::30", 6000); /* v4 src, v6 dst */
		e1 = media_flow_put(&mc, &bad);
		bad = spec_v6_to_v4();
		bad.edge.port = 20010;
		bad.latch = ep("203.0.113.50", 0); /* v6 edge, v4 latch */
		e2 = media_flow_put(&mc, &bad);
		bad = spec_v6_to_v4();
		bad.edge.port = 20010;
		bad.flags |= XS_FLOW_OUT6; /* the datapath's to derive */
		e3 = media_flow_put(&mc, &bad);
		bad.flags &= ~XS_FLOW_OUT6;
		media_flow_fill(&bad, &k, &f);
		if (T_CHECK(n, e1 == -EINVAL && e2 == -EINVAL && e3 == -EINVAL, "%d %d %d", e1, e2,
			    e3) &&
		    T_CHECK(n, bpf_map_lookup_elem(fd, &k, &f) && errno == ENOENT, "written"))
			T_PASS(n);
	}

	n = "media_flow6: full table: -ENOSPC, counted, the others kept";
	{
		struct media_flow_spec more = spec_v6_to_v4();
		int i;

		err = 0;
		for (i = 0; i < 4 && !err; i++) {
			more.edge.port = 20100 + 2 * i;
			err = media_flow_put(&mc, &more);
		}
		if (T_CHECK(n, err == -ENOSPC && mc.flows_full == 1, "err %d, full %llu", err,
			    (unsigned long long)mc.flows_full) &&
		    T_CHECK(n, ({
				    media_flow_fill(&sp, &k, &f);
				    !bpf_map_lookup_elem(fd, &k, &f);
			    }),
			    "first flow lost"))
			T_PASS(n);
	}
	n = "media_flow6: a restart's rebuild takes flows with an IPv6 side, edge address kept";
	err = media_flows_rebuild(&mc);
	media_flow_fill(&sp, &k, &f);
	{
		struct media_call *c = media_call_find(&mc, 0xc0ffee);

		if (T_CHECK(n, !err && mc.calls == 1 && c, "err %d, %u calls rebuilt", err,
			    mc.calls) &&
		    T_CHECK(n, bytes_are(&c->edge6, "2001:db8:a::1"), "IPv6 edge address lost") &&
		    T_CHECK(n, !bpf_map_lookup_elem(fd, &k, &f), "flow gone"))
			T_PASS(n);
		if (c) {
			media_call_unlink(&mc, c);
			free(c);
		}
	}
	close(fd);
	return check_failed ? 1 : 0;
}
