/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stage 3: SIP flood limiting (per-source request rate and bans), in the
 * manner of Kamailio's pike module but in the driver.
 *
 * A source is its address masked to flood_prefix4/6 (/32 and /64 by
 * default: an IPv6 host owns a /64). Per source, xs_flood counts requests to
 * the SIP ports (cfg->flood_ports, UDP and TCP) in a fixed window; the
 * request that makes the count exceed flood_rate bans the source for
 * flood_ban_s, and while banned every packet of it to a SIP port is dropped
 * with no reply. Each new ban is reported once on the xs_bans ring buffer.
 *
 * What counts as a request: a datagram or segment with payload that is not a
 * response (starts with "SIP/") nor a CRLF keep-alive (RFC 5626 4.4.1).
 * TCP SYNs and bare ACKs do not count: a SYN costs the daemon nothing (the
 * kernel does the handshake, with SYN cookies under a SYN flood) and a
 * request flood needs payload, whether over new or one long connection.
 * Over TLS (5061) every segment with payload counts, as it cannot be read.
 *
 * Trusted networks never get here: trust means "never blocked", and they
 * are the exceptions to the limit (the pipeline skips this stage for them).
 */
#ifndef XDPSBC_BPF_FLOOD_H
#define XDPSBC_BPF_FLOOD_H

#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/clock.h"
#include "lib/config.h"

#define XS_NSEC_PER_SEC 1000000000ULL

/*
 * The flood clock. bpf_jiffies64() is inlined by the verifier into a load
 * of jiffies: no helper call, unlike a coarse-clock read,
 * and a tick is all a window of seconds needs. Its rate comes from the
 * kernel config (libbpf reads /proc/config.gz or /boot/config-*); without
 * one CONFIG_HZ is 0 and the datapath clock in ns stands in.
 */
extern const unsigned int CONFIG_HZ __kconfig __weak;

static __always_inline __u64 xs_flood_now(void)
{
	return CONFIG_HZ ? bpf_jiffies64() : xs_now();
}

static __always_inline __u64 xs_flood_ticks(__u32 secs)
{
	return (__u64)secs * (CONFIG_HZ ? CONFIG_HZ : XS_NSEC_PER_SEC);
}
/* Payload further in than this is not looked at (counted as a request). */
#define XS_FLOOD_PAYOFF_MAX 1024

/* The source as a flood key: its address with the host bits cleared. */
static __always_inline void xs_flood_key(const struct xs_pkt *pkt, const struct xs_config *cfg,
					 struct xs_flood_key *key)
{
	const __u32 *src;
	__u32 plen, bits, *dst;
	__be32 a;
	int i;

	if (pkt->family == XS_AF_INET) {
		plen = cfg->flood_prefix4 > 32 ? 32 : cfg->flood_prefix4;
		a = pkt->src4.addr;
		if (plen < 32)
			a &= plen ? bpf_htonl(~0U << (32 - plen)) : 0;
		key->family = 4;
		key->prefixlen = plen;
		__builtin_memcpy(key->addr, &a, sizeof(a));
		return;
	}
	plen = cfg->flood_prefix6 > 128 ? 128 : cfg->flood_prefix6;
	key->family = 6;
	key->prefixlen = plen;
	/* Word by word: both addresses sit 4 bytes into their structs, aligned. */
	src = (const __u32 *)pkt->src6.addr;
	dst = (__u32 *)key->addr;
#pragma unroll
	for (i = 0; i < 4; i++) {
		bits = plen > i * 32 ? plen - i * 32 : 0;
		if (bits >= 32)
			dst[i] = src[i];
		else if (bits)
			dst[i] = src[i] & bpf_htonl(~0U << (32 - bits));
	}
}

/* Is this packet a request (see above)? Reads at most 4 payload bytes. */
static __always_inline int xs_flood_counts(struct xdp_md *ctx, const struct xs_pkt *pkt)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 off = pkt->payoff;
	__u8 *p;

	if (!pkt->paylen)
		return 0;
	if (off > XS_FLOOD_PAYOFF_MAX)
		return 1;
	p = data + off;
	if ((void *)(p + 1) > data_end)
		return 1; /* the IP header promises payload the frame lacks: count it */
	if (p[0] == '\r' || p[0] == '\n')
		return 0;
	if ((void *)(p + 4) > data_end)
		return 1;
	return !(p[0] == 'S' && p[1] == 'I' && p[2] == 'P' && p[3] == '/');
}

/* Ban the source of @e; called by exactly one CPU per ban (see xs_flood()). */
static __always_inline void xs_flood_ban(struct xs_flood *e, const struct xs_flood_key *key,
					 const struct xs_config *cfg, __u64 now, __u32 count)
{
	struct xs_ban_event ev = {};

	e->banned_until_tick = now + xs_flood_ticks(cfg->flood_ban_s);
	/* Once per ban: the clock userspace reads, for `xdpsbc bans` and the event. */
	e->banned_until_ns = xs_now() + (__u64)cfg->flood_ban_s * XS_NSEC_PER_SEC;
	e->bans++;
	ev.src = *key;
	ev.banned_until_ns = e->banned_until_ns;
	ev.count = count;
	/* A full ring loses the event, not the ban: `xdpsbc bans` still lists it. */
	bpf_ringbuf_output(&xs_bans, &ev, sizeof(ev), 0);
}

/* A packet the flood limit watches, and its source's entry (NULL: none yet). */
struct xs_flood_ctx {
	struct xs_flood_key key;
	struct xs_flood *e;
	int watched;
};

/*
 * Does the flood limit watch this packet (UDP or TCP to a SIP port, limit
 * on)? Then look its source up. Done before the blocklist, because a
 * source's entry also caches that it passed it (xs_flood_checked()).
 */
static __always_inline void xs_flood_lookup(const struct xs_pkt *pkt, const struct xs_config *cfg,
					    struct xs_flood_ctx *fc)
{
	fc->watched = 0;
	fc->e = NULL;
	if (!cfg || !(cfg->flags & XS_CFG_FLOOD) || pkt->frag)
		return;
	if (pkt->l4proto != IPPROTO_UDP && pkt->l4proto != IPPROTO_TCP)
		return;
	if (!xs_flood_port(cfg, bpf_ntohs(pkt->dport)))
		return;
	fc->watched = 1;
	/* Hashed whole: padding and host bits must be zero. */
	__builtin_memset(&fc->key, 0, sizeof(fc->key));
	xs_flood_key(pkt, cfg, &fc->key);
	fc->e = bpf_map_lookup_elem(&xs_flood, &fc->key);
}

/* A key that is one address (/32, /128) can cache that address's checks. */
static __always_inline int xs_flood_exact(const struct xs_flood_key *k)
{
	return k->prefixlen == (k->family == 4 ? 32 : 128);
}

/*
 * Did this (untrusted) source pass the blocklist under blocklist generation
 * @gen? Then the LPM lookup is skipped: a steady SIP source costs its flood
 * entry's hash lookup, whatever the size of the blocklist. The entry is
 * only ever marked after the blocklist found the source not blocked, and
 * any blocklist add changes @gen first.
 */
static __always_inline int xs_flood_checked(const struct xs_flood_ctx *fc, __u64 gen)
{
	return fc->e && fc->e->chk_gen == gen + 1 && xs_flood_exact(&fc->key);
}

/*
 * The flood limit for a watched packet whose untrusted source passed the
 * blocklist under @gen (read before it).
 */
static __always_inline int xs_flood_limit(struct xdp_md *ctx, const struct xs_pkt *pkt,
					  const struct xs_config *cfg, struct xs_flood_ctx *fc,
					  __u64 gen)
{
	__u64 chk = xs_flood_exact(&fc->key) ? gen + 1 : 0;
	struct xs_flood *e = fc->e;
	__u64 now;
	__u32 count;

	if (!fc->watched)
		return XS_CONTINUE;
	/* Passed the checks, banned or not: a banned flooder's drops skip them too. */
	if (e && e->chk_gen != chk)
		e->chk_gen = chk;
	now = xs_flood_now();
	if (e && now < e->banned_until_tick)
		return XS_DROP_FLOOD;
	if (!xs_flood_counts(ctx, pkt))
		return XS_CONTINUE;
	if (!e) {
		/* A first request never bans: userspace keeps flood_rate >= 1. */
		struct xs_flood init = {.window_tick = now, .count = 1, .chk_gen = chk};

		bpf_map_update_elem(&xs_flood, &fc->key, &init, BPF_NOEXIST);
		return XS_CONTINUE;
	}
	/*
	 * Fixed window. The reset races with other CPUs' increments; losing a
	 * count or two at a window edge does not matter.
	 */
	if (now - e->window_tick >= xs_flood_ticks(cfg->flood_window_s)) {
		e->window_tick = now;
		e->count = 1;
		return XS_CONTINUE;
	}
	/* Atomic and fetched: exactly one CPU sees rate + 1 and bans. */
	count = __sync_fetch_and_add(&e->count, 1) + 1;
	if (count <= cfg->flood_rate)
		return XS_CONTINUE;
	if (count == cfg->flood_rate + 1)
		xs_flood_ban(e, &fc->key, cfg, now, count);
	return XS_DROP_FLOOD;
}

#endif /* XDPSBC_BPF_FLOOD_H */
