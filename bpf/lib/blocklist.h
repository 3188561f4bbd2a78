/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stage 2: the source blocklist, IPv4 and IPv6 LPM tries.
 *
 * An entry matches only while it is live (permanent, or its expiry is still
 * ahead), so an expired entry stops blocking at once, before userspace's gc
 * removes it. The trie returns the longest matching prefix, which may be an
 * expired /32 nested in a live /24: then we ask again with a prefix one bit
 * shorter than the expired entry (userspace stores each entry's prefixlen in
 * its value for this), at most XS_BLOCK_EXPIRED_WALK times.
 */
#ifndef XDPSBC_BPF_BLOCKLIST_H
#define XDPSBC_BPF_BLOCKLIST_H

#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/clock.h"

/*
 * Is @b live? Records the hit when it is. The clock is read only here, on a
 * match, and once per packet: a clock read is a helper call and costs more
 * than the trie lookup on a miss, which is what most packets are.
 */
static __always_inline int xs_block_hit(struct xs_block *b, __u64 *now)
{
	if (!*now)
		*now = xs_now();
	if (b->expires_ns && *now >= b->expires_ns)
		return 0;
	/* Entries are shared by all CPUs: atomic add; last_hit_ns is a plain store (any recent time will do). */
	__sync_fetch_and_add(&b->hits, 1);
	b->last_hit_ns = *now;
	return 1;
}

/*
 * Step to the next shorter candidate after the expired @b; 0 when there is
 * none (a /0 or a value without a valid prefixlen ends the walk).
 */
static __always_inline int xs_block_shorter(const struct xs_block *b, __u32 maxlen,
					    __u32 *prefixlen)
{
	if (b->prefixlen == 0 || b->prefixlen > maxlen)
		return 0;
	*prefixlen = b->prefixlen - 1;
	return 1;
}

static __always_inline int xs_blocked4(const struct xs_pkt *pkt, __u64 *now)
{
	struct xs_lpm4 key = pkt->src4;
	struct xs_block *b;
	int i;

	for (i = 0; i < XS_BLOCK_EXPIRED_WALK; i++) {
		b = bpf_map_lookup_elem(&xs_block4, &key);
		if (!b)
			return 0;
		if (xs_block_hit(b, now))
			return 1;
		if (!xs_block_shorter(b, 32, &key.prefixlen))
			return 0;
	}
	return 0;
}

static __always_inline int xs_blocked6(const struct xs_pkt *pkt, __u64 *now)
{
	struct xs_lpm6 key = pkt->src6;
	struct xs_block *b;
	int i;

	for (i = 0; i < XS_BLOCK_EXPIRED_WALK; i++) {
		b = bpf_map_lookup_elem(&xs_block6, &key);
		if (!b)
			return 0;
		if (xs_block_hit(b, now))
			return 1;
		if (!xs_block_shorter(b, 128, &key.prefixlen))
			return 0;
	}
	return 0;
}

/* The blocklist generation now; read it before the checks whose result is cached under it. */
static __always_inline __u64 xs_block_gen(void)
{
	__u32 zero = 0;
	__u64 *g = bpf_map_lookup_elem(&xs_blkgen, &zero);

	return g ? *g : 0;
}

static __always_inline int xs_blocklist(const struct xs_pkt *pkt)
{
	__u64 now = 0;
	int hit;

	if (pkt->family == XS_AF_INET)
		hit = xs_blocked4(pkt, &now);
	else
		hit = xs_blocked6(pkt, &now);
	return hit ? XS_DROP_BLOCKLIST : XS_CONTINUE;
}

#endif /* XDPSBC_BPF_BLOCKLIST_H */
