/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the media side shared by media.c (SDP), calls.c (the call
 * table), ports.c (relay port allocation), flows.c (the xs_flows map) and
 * noroute.c.
 */
#ifndef XDPSBC_SIGD_MEDIA_INT_H
#define XDPSBC_SIGD_MEDIA_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include "media/types.h"
#include "media/sdp.h"

#define MEDIA_MAX_STREAMS SDP_MAX_MEDIA
#define MEDIA_CALLID_MAX  128
#define MEDIA_HASH_SIZE	  16384 /* call table buckets, a power of two */

#define NSEC_PER_SEC 1000000000ULL

/*
 * Flag bits 16-31 of a flow belong to sigd (XS_FLOW_SIGD_MASK): which m-line
 * and which leg the flow serves, so that a restarted sigd can rebuild a call's
 * streams from the map alone. The XDP program only ORs XS_FLOW_LATCHED in.
 */
#define MEDIA_FLOW_IDX_SHIFT 16
#define MEDIA_FLOW_IDX_MASK  (0xffU << MEDIA_FLOW_IDX_SHIFT)
#define MEDIA_FLOW_FROM_B    (1U << 24) /* packets from leg B (else from A) */
#define MEDIA_FLOW_RTCP	     (1U << 25) /* the RTCP flow of the m-line */
/* What the sending leg signalled (struct media_leg), on both its flows. */
#define MEDIA_FLOW_KNOWN (1U << 26)
#define MEDIA_FLOW_MUX	 (1U << 27)
#define MEDIA_FLOW_HOLD	 (1U << 28)
#define MEDIA_FLOW_V6	 (1U << 29)

/*
 * An address of either family as the flow map holds it (XS_ADDR in
 * xdpsbc_common.h): IPv4 in the first four bytes, the rest zero.
 */
union media_addr {
	struct in_addr v4;
	struct in6_addr v6;
	uint8_t b[16];
};

static inline bool media_addr_zero(const union media_addr *a)
{
	static const uint8_t z[16];

	return !memcmp(a->b, z, 16);
}

/* What the edge knows about one leg of one m-line, from that leg's SDP. */
struct media_leg {
	bool known;	       /* the leg has sent SDP for this m-line */
	bool hold;	       /* c=0.0.0.0 or ::: send it nothing; addr keeps the last real one */
	bool mux;	       /* a=rtcp-mux */
	bool v6;	       /* c= is IN IP6 (addr is IPv6) */
	union media_addr addr; /* signalled RTP address, 0 when unknown */
	uint16_t port;
	union media_addr rtcp_addr; /* a=rtcp, else addr */
	uint16_t rtcp_port;	    /* a=rtcp, else port + 1 */
	/*
	 * Where the leg's SDP came from: the signalling source IP of its last
	 * offer or answer (sig_af 0: unknown), and whether that was the core.
	 * Its media may latch only from latch_addr (flows.c).
	 */
	union media_addr sig_addr;
	uint16_t sig_af;
	bool sig_core;
};

struct media_stream {
	/*
	 * edge[X]: the RTP port advertised to leg X, where X sends (RTCP on
	 * edge[X] + 1); the flow keyed by it carries X's packets. 0: none.
	 */
	uint16_t edge[2];
	struct media_leg leg[2];
	/* The source the stream's ports are counted against (0: none, the core). */
	struct sip_ip owner; /* af 0: none (the core's) */
};

struct media_call {
	struct media_call *next; /* hash chain */
	uint64_t cookie;
	uint64_t active_ns; /* creation or last SDP change, media_now_ns() */
	uint64_t seen_ns;   /* latest last_seen_ns of its flows when last read */
	uint64_t due_ns;    /* media_poll() looks at it then (never too late) */
	unsigned int dslot; /* its slot in media_ctx.due */
	bool confirmed;	    /* 2xx to INVITE or ACK seen, or rebuilt after a restart */
	/*
	 * The edge's media addresses when the call began (a reload keeps
	 * them for the call), and the family each leg's media uses:
	 * af[X] is AF_INET or AF_INET6 from the first SDP that leg sent or
	 * was sent, 0 before (media_leg_af(), media.c). The flows of leg X
	 * are keyed by edge address af[X]; a call whose legs differ is
	 * translated by the relay.
	 */
	struct in_addr edge4;
	struct in6_addr edge6;
	uint16_t af[2];
	char call_id[MEDIA_CALLID_MAX]; /* "" when rebuilt after a restart */
	uint32_t noroute;		/* its flows' no-route drops when last read */
	bool noroute_read;		/* noroute holds a reading */
	uint64_t noroute_warn_ns;	/* last warning about them (noroute.c) */
	unsigned int n;			/* streams in use */
	struct media_stream s[MEDIA_MAX_STREAMS];
};

/* The edge address of leg @x's family in @c. */
static inline union media_addr media_call_edge(const struct media_call *c, int x)
{
	union media_addr a;

	memset(&a, 0, sizeof(a));
	if (c->af[x] == AF_INET6)
		a.v6 = c->edge6;
	else
		a.v4 = c->edge4;
	return a;
}

struct media_ports {
	uint16_t base;	    /* first (even) RTP port */
	unsigned int pairs; /* RTP/RTCP pairs in the range, per media address */
	unsigned int naddrs;
	struct in_addr addr[MEDIA_ADDRS_MAX]; /* the media addresses (media_opts) */
	/* Pairs in use per address; [naddrs]: the IPv6 media address's (its own range). */
	unsigned int addr_used[MEDIA_ADDRS_MAX + 1];
	unsigned int used_count; /* over all addresses */
	uint8_t *used;		 /* one byte per (address, pair), address-major */
	uint32_t rnd[64];	 /* getrandom() buffer for random picks */
	unsigned int rnd_left;	 /* values of rnd not used yet */
	uint32_t (*rng)(void);	 /* media_opts.port_rng */
};

/* Relay ports held per signalling source (an IPv4 address, an IPv6 /64), a chained hash. */
#define MEDIA_QUOTA_BITS 10
struct media_quota_ent {
	struct media_quota_ent *next;
	struct sip_ip addr;
	unsigned int ports;
};

struct media_quota {
	struct media_quota_ent *hash[1U << MEDIA_QUOTA_BITS];
	unsigned int sources;
};

struct media_ctx {
	struct media_opts o;
	struct media_ports ports;
	struct media_quota quota;
	struct media_call *hash[MEDIA_HASH_SIZE];
	unsigned int calls;
	/* Every call in a min-heap by due_ns: a poll costs the calls due, not all (calls.c). */
	struct media_call **due;
	unsigned int ndue, due_cap;
	/* Ended calls kept for the next ones (calls.c), chained by next. */
	struct media_call *spare;
	unsigned int nspare;
	uint64_t flows_full; /* flow inserts refused: xs_flows at its max entries */
};

/* media.c */
/*
 * The family of a leg's media (docs/sigd.md, "Media address family"): IPv4
 * unless @dual (`media ipv4-only off` and an IPv6 media address); then the
 * family of the leg's SDP c= (@sdp_af, when the leg has sent SDP), else of
 * its signalling hop (@sig_af: the source of its message, or the next hop
 * of the message carrying SDP to it); IPv6 too when the edge has no IPv4
 * media address (!@have4).
 */
int media_leg_af(bool dual, bool have4, int sdp_af, int sig_af);

/* ports.c */
int media_ports_init(struct media_ports *p, const struct in_addr *addrs, unsigned int naddrs,
		     uint16_t min, uint16_t max);
void media_ports_fini(struct media_ports *p);
/*
 * A media address for a new call that needs @need pairs: random, weighted by
 * free pairs, among the addresses with that many free. -ENOSPC when none has.
 */
int media_ports_pick_addr(struct media_ports *p, unsigned int need, struct in_addr *addr);
/*
 * A random free pair on IPv4 media address @addr, or with @v6 on the IPv6
 * media address (one, with a range of its own: IPv6 legs of calls on
 * different IPv4 addresses share it); -ENOSPC when it is full or @addr is
 * not a media address.
 */
int media_ports_alloc(struct media_ports *p, struct in_addr addr, bool v6, uint16_t *rtp);
void media_ports_free(struct media_ports *p, struct in_addr addr, bool v6, uint16_t rtp);
/* Mark @rtp on @addr used (rebuild, reconfigure); ignored outside the range and addresses. */
void media_ports_mark(struct media_ports *p, struct in_addr addr, bool v6, uint16_t rtp);
/* Ports @src holds; add (or, negative, remove) @ports. Source 0 is never counted. */
unsigned int media_quota_held(const struct media_quota *q, const struct sip_ip *src);
int media_quota_add(struct media_quota *q, const struct sip_ip *src, int ports);
void media_quota_fini(struct media_quota *q);

/* flows.c */
struct xs_flow_key;
struct xs_flow;

/* One end of a relay flow: an IPv4 or IPv6 address and a port (host order). */
struct media_ep {
	bool v6;
	union {
		struct in_addr in4;
		struct in6_addr in6;
	};
	uint16_t port;
};

/*
 * One relay flow with the families of its two sides spelled out: packets
 * arriving at @edge from the leg signalled at @expect (latching only from
 * @latch, until @latch_until_ns) leave from @src towards @dst. @edge,
 * @expect and @latch are of the arriving leg's family, @src and @dst of the
 * other leg's; when the two differ the relay translates between IPv4 and
 * IPv6 (bpf/lib/forward.h). A zero @dst (of @src's family) is a leg on hold.
 * @flags: XS_FLOW_LATCH, XS_FLOW_LATCHED/PRELATCHED (then @peer, of the
 * arriving family, is the latched sender) and sigd's bits; XS_FLOW_OUT6
 * follows @src.
 */
struct media_flow_spec {
	struct media_ep edge, expect, latch, peer, src, dst;
	uint64_t latch_until_ns;
	uint32_t flags;
	uint64_t cookie;
};

/* @sp as a flow key and value; -EINVAL when the families of a side disagree. */
int media_flow_fill(const struct media_flow_spec *sp, struct xs_flow_key *k, struct xs_flow *f);
/*
 * Write @sp into xs_flows, replacing the flow of its key. -EINVAL (nothing
 * written) for a bad spec, -ENOSPC when the table is full (counted).
 */
int media_flow_put(struct media_ctx *mc, const struct media_flow_spec *sp);
/*
 * Program the flows of stream @idx of @c as @s says, @old being what was
 * programmed before (zeroed when nothing was), after an offer or answer from
 * leg @sender. 2 flows with rtcp-mux on both legs, else 4. Returns 0 or a
 * negative errno.
 */
int media_flows_program(struct media_ctx *mc, struct media_call *c, unsigned int idx,
			const struct media_stream *s, const struct media_stream *old,
			enum media_side sender);
/* The no-route drops the XDP program counted on the flows of @c (wraps). */
uint32_t media_flows_noroute(struct media_ctx *mc, struct media_call *c);
/* Delete the flows of a stream (missing ones are fine). */
void media_flows_delete(struct media_ctx *mc, struct media_call *c, const struct media_stream *s);
/* The latest last_seen_ns over the call's flows, 0 when none saw a packet. */
uint64_t media_flows_last_seen(struct media_ctx *mc, struct media_call *c);
/* Rebuild the call table and port allocation from the flow map. */
int media_flows_rebuild(struct media_ctx *mc);

/* calls.c */
struct media_call *media_call_find(struct media_ctx *mc, uint64_t cookie);
struct media_call *media_call_add(struct media_ctx *mc, uint64_t cookie, const char *call_id);
/* Take @c out of the table (not freed); a call not in it is ignored. */
void media_call_unlink(struct media_ctx *mc, struct media_call *c);
/* Free @c, unlinked: kept for the next call while few are (calls.c). */
void media_call_free(struct media_ctx *mc, struct media_call *c);
/* Free every kept call (media_free()). */
void media_call_spares_free(struct media_ctx *mc);
/*
 * Set when media_poll() next looks at @c. Earlier than its real deadline is
 * fine (the poll recomputes it); later is not: whatever brings a call's
 * timeout closer must say so.
 */
void media_call_set_due(struct media_ctx *mc, struct media_call *c, uint64_t due_ns);
/* The call due first, NULL when none. */
struct media_call *media_call_first_due(const struct media_ctx *mc);
/* The clock of active_ns and of the flows' last_seen_ns. */
uint64_t media_now_ns(void);
/* The call's name for log lines: its Call-ID, or its cookie after a restart. */
const char *media_call_name(const struct media_call *c, char *buf, size_t len);

#endif /* XDPSBC_SIGD_MEDIA_INT_H */
