/* SPDX-License-Identifier: GPL-2.0-only */
/* Next hop (egress, MACs) for the userspace relays, from rtnetlink (nexthop.c). */
#ifndef XDPSBC_DP_NH_H
#define XDPSBC_DP_NH_H

#include <stdbool.h>
#include <stdint.h>
#include "xdpsbc_common.h"

struct mnl_socket;

struct xs_nh {
	uint32_t ifindex;
	uint8_t smac[6], dmac[6];
};

#define XS_NH_SLOTS 256

struct xs_nh_slot {
	uint8_t daddr[16]; /* IPv4 in the first four bytes (v6 0) */
	bool v6;
	uint64_t at; /* 0: empty */
	int err;
	struct xs_nh nh;
};

/* One per thread: a netlink socket and a small cache by destination. */
struct xs_nh_cache {
	struct mnl_socket *nl;
	uint32_t seq;
	struct xs_nh_slot slot[XS_NH_SLOTS];
	struct xs_nh_slot rslot[XS_NH_SLOTS]; /* route only (xs_nh_oif) */
};

int xs_nh_init(struct xs_nh_cache *c);
void xs_nh_fini(struct xs_nh_cache *c);
/* @daddr network order. -ENETUNREACH / -EHOSTUNREACH: drop as no route. */
int xs_nh_lookup(struct xs_nh_cache *c, uint32_t daddr, struct xs_nh *out);
/* The same for an IPv6 destination (16 bytes). */
int xs_nh_lookup6(struct xs_nh_cache *c, const void *daddr6, struct xs_nh *out);
/* Only the egress interface of the route to @daddr (the UDP relay): 4 bytes, or 16 if @v6. */
int xs_nh_oif(struct xs_nh_cache *c, const void *daddr, bool v6, uint32_t *oif);

#endif /* XDPSBC_DP_NH_H */
