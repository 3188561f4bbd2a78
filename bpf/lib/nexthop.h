/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The relay's next hop and egress, per flow, for either family of the
 * leaving side: bpf_fib_lookup() behind a one-second cache in the flow.
 */
#ifndef XDPSBC_BPF_NEXTHOP_H
#define XDPSBC_BPF_NEXTHOP_H

#include "lib/maps.h"
#include "lib/parse.h"

/* AF_INET/AF_INET6, which the BPF target's headers do not carry. */
#define XS_FIB_AF_INET	2
#define XS_FIB_AF_INET6 10

/* memcmp() is a libcall the BPF target does not have. */
static __always_inline int xs_mac_eq(const __u8 *a, const __u8 *b)
{
	int i;

#pragma unroll
	for (i = 0; i < ETH_ALEN; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* IPv6 addresses as four words; both sides are 4-byte aligned or on x86. */
static __always_inline int xs_addr6_eq(const void *a, const void *b)
{
	const __u32 *x = a, *y = b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]));
}

static __always_inline int xs_addr6_zero(const void *a)
{
	const __u32 *x = a;

	return !(x[0] | x[1] | x[2] | x[3]);
}

static __always_inline void xs_addr6_copy(void *to, const void *from)
{
	const __u32 *s = from;
	__u32 *d = to;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
	d[3] = s[3];
}

/* Store what a successful lookup found; only the fields that changed. */
static __always_inline void xs_nh_store(struct xs_flow *f, const struct bpf_fib_lookup *fib,
					__u64 now)
{
	if (!xs_mac_eq(f->nh_dmac, fib->dmac))
		__builtin_memcpy(f->nh_dmac, fib->dmac, ETH_ALEN);
	if (!xs_mac_eq(f->nh_smac, fib->smac))
		__builtin_memcpy(f->nh_smac, fib->smac, ETH_ALEN);
	if (f->ifindex != fib->ifindex)
		f->ifindex = fib->ifindex;
	f->nh_ns = now;
}

/*
 * The next hop of flow @f towards its IPv4 destination: from the flow's cache
 * while it is younger than XS_NH_TTL_NS and for the same destination, else
 * from bpf_fib_lookup(), which then refills the cache. Steady-state relaying
 * is then a hash lookup and a rewrite; the FIB helper (the costly part) runs
 * once a second per flow. The bound is how late a route or neighbour change
 * (failover to another gateway MAC, a route moved to another interface) is
 * noticed: one second, 50 packets of a 20 ms RTP stream, less than the
 * neighbour subsystem itself takes to notice a dead gateway. A failed lookup
 * is never cached. The cache ignores the TOS (the FIB is asked with that of
 * the packet that fills it): policy routing by TOS is not used for media.
 * Returns 0, or the FIB's answer (BPF_FIB_LKUP_RET_*, a negative errno for
 * an error).
 *
 * The flow is shared by all CPUs. MACs are rewritten only when they change,
 * so a refresh that finds the same next hop (nearly all of them) writes only
 * nh_ns and no reader can see a half-written MAC; at a real change a packet
 * relayed meanwhile on another CPU may carry a mixed MAC pair, once.
 * @tot_len: the length of the IP packet as it leaves.
 */
static __always_inline long xs_next_hop4(struct xdp_md *ctx, struct xs_flow *f, __u8 tos,
					 __u16 tot_len, __u64 now)
{
	struct bpf_fib_lookup fib = {};
	long ret;

	if (f->nh_ns && f->nh_daddr == f->dst_addr && now - f->nh_ns < XS_NH_TTL_NS)
		return 0;

	fib.family = XS_FIB_AF_INET;
	fib.tos = tos;
	fib.l4_protocol = IPPROTO_UDP;
	fib.tot_len = tot_len;
	fib.ipv4_src = f->src_addr;
	fib.ipv4_dst = f->dst_addr;
	fib.ifindex = ctx->ingress_ifindex;
	/*
	 * Needs forwarding enabled on the ingress interface, like any router:
	 * FWD_DISABLED otherwise, whatever the flags (sigd sets it up).
	 */
	ret = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (ret != BPF_FIB_LKUP_RET_SUCCESS)
		return ret;
	xs_nh_store(f, &fib, now);
	f->nh_daddr = f->dst_addr;
	return 0;
}

/* The same towards an IPv6 destination (forwarding on for IPv6 on the ingress). */
static __always_inline long xs_next_hop6(struct xdp_md *ctx, struct xs_flow *f, __u8 tclass,
					 __u16 tot_len, __u64 now)
{
	struct bpf_fib_lookup fib = {};
	long ret;

	if (f->nh_ns && xs_addr6_eq(f->nh_daddr6, f->dst_addr6) && now - f->nh_ns < XS_NH_TTL_NS)
		return 0;

	fib.family = XS_FIB_AF_INET6;
	fib.flowinfo = bpf_htonl((__u32)tclass << 20);
	fib.l4_protocol = IPPROTO_UDP;
	fib.tot_len = tot_len;
	xs_addr6_copy(fib.ipv6_src, f->src_addr6);
	xs_addr6_copy(fib.ipv6_dst, f->dst_addr6);
	fib.ifindex = ctx->ingress_ifindex;
	ret = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (ret != BPF_FIB_LKUP_RET_SUCCESS)
		return ret;
	xs_nh_store(f, &fib, now);
	xs_addr6_copy(f->nh_daddr6, f->dst_addr6);
	return 0;
}

/*
 * Note a drop for no route (@why: the FIB's answer) on the flow and on the
 * ingress interface. Only the failing path pays for it; entries are shared
 * by all CPUs: atomic adds, plain stores for the times (any recent one will
 * do), and a window restart that two CPUs may both do, losing a count.
 */
static __always_inline void xs_noroute_note(struct xdp_md *ctx, struct xs_flow *f, long why,
					    __u64 now)
{
	__u32 key = ctx->ingress_ifindex;
	struct xs_noroute *n, fresh = {};

	__sync_fetch_and_add(&f->noroute, 1);
	n = bpf_map_lookup_elem(&xs_noroute, &key);
	if (!n) {
		fresh.packets = 1;
		fresh.window_packets = 1;
		fresh.last_ns = now;
		fresh.window_ns = now;
		fresh.why = why;
		bpf_map_update_elem(&xs_noroute, &key, &fresh, BPF_NOEXIST);
		return;
	}
	if (now - n->window_ns >= XS_NOROUTE_WINDOW_NS) {
		n->window_ns = now;
		n->window_packets = 0;
	}
	__sync_fetch_and_add(&n->packets, 1);
	__sync_fetch_and_add(&n->window_packets, 1);
	n->last_ns = now;
	if (n->why != why)
		n->why = why;
}

/*
 * The next hop, then TX out of the ingress interface or REDIRECT to the
 * flow's egress in xs_txports; no route (noted) as XS_DROP_NO_ROUTE.
 * @why: the next-hop lookup's answer.
 */
static __always_inline int xs_egress(struct xdp_md *ctx, struct xs_flow *f, long why, __u64 now)
{
	__u32 egress;

	if (why) {
		xs_noroute_note(ctx, f, why, now);
		return XS_DROP_NO_ROUTE;
	}
	egress = f->ifindex;
	if (egress == ctx->ingress_ifindex)
		return XS_RELAY_TX;
	if (bpf_redirect_map(&xs_txports, egress, 0) == XDP_REDIRECT)
		return XS_RELAY_REDIRECT;
	xs_noroute_note(ctx, f, XS_NOROUTE_NO_TXPORT, now);
	return XS_DROP_NO_ROUTE; /* egress not in xs_txports */
}

#endif /* XDPSBC_BPF_NEXTHOP_H */
