// SPDX-License-Identifier: GPL-2.0-only
/*
 * The relay flows of a call in the pinned xs_flows map (see docs/architecture.md,
 * "Relay flows"). Per m-line and leg X the flow keyed {edge, edge[X], udp}
 * carries X's packets to the other leg Y: dst = Y's address (signalled, later
 * latched by the XDP program), src = edge:edge[Y], expect = X's signalled
 * address, latch = the one address X's media may latch from. RTCP likewise on
 * edge[X] + 1, unless both legs use rtcp-mux.
 *
 * A leg that is not known yet (before the answer), on hold (c=0.0.0.0) or
 * IPv6 (the SDP side is IPv4 only so far) gives the flows toward it
 * dst_addr 0: the XDP program must not relay those packets (it drops them
 * as no route).
 *
 * The relay itself carries either family on each side of a flow and
 * translates between them (xdpsbc_common.h, xs_flows): media_flow_put()
 * writes such a flow from explicit addresses, for the dual-stack signalling
 * that picks a family per leg. Flows of an IPv6 side are not rebuilt after
 * a restart by the IPv4 call table below; they are left as they are.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "lib/xdpsbc.h"
#include "media/internal.h"

static void flow_key(const struct media_call *c, uint16_t port, struct xs_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->addr = c->edge_addr.s_addr;
	k->port = htons(port);
	k->proto = IPPROTO_UDP;
}

/* The address this leg signalled for RTP or RTCP; 0 when none is usable. */
static void leg_addr(const struct media_leg *l, bool rtcp, __be32 *addr, __be16 *port)
{
	*addr = 0;
	*port = 0;
	if (!l->known || l->v6)
		return;
	*addr = rtcp ? l->rtcp_addr.s_addr : l->addr.s_addr;
	*port = htons(rtcp ? l->rtcp_port : l->port);
	if (!*addr)
		*port = 0;
}

static uint32_t leg_bits(const struct media_leg *l)
{
	return (l->known ? MEDIA_FLOW_KNOWN : 0) | (l->mux ? MEDIA_FLOW_MUX : 0) |
	       (l->hold ? MEDIA_FLOW_HOLD : 0) | (l->v6 ? MEDIA_FLOW_V6 : 0);
}

/* Same signalled address as before? Hold is not a change: the latch survives it. */
static bool leg_same(const struct media_leg *now, const struct media_leg *old, bool rtcp)
{
	__be32 a1, a2;
	__be16 p1, p2;

	if (!now->known || !old->known)
		return false;
	leg_addr(now, rtcp, &a1, &p1);
	leg_addr(old, rtcp, &a2, &p2);
	return a1 && a1 == a2 && p1 == p2;
}

static int lookup(struct media_ctx *mc, const struct media_call *c, uint16_t port,
		  struct xs_flow *f)
{
	struct xs_flow_key k;

	flow_key(c, port, &k);
	if (bpf_map_lookup_elem(mc->o.flows_fd, &k, f))
		return -errno;
	return f->cookie == c->cookie ? 0 : -ENOENT;
}

/*
 * The only address the media of leg @l may latch from (docs/security/media.md):
 * its signalling source, where a NAT in front of it sends from too; the SDP
 * address for the core (trusted, never behind a NAT, and its media servers
 * are not its SIP proxy), when the source is unknown, or under latch = sdp.
 */
static __be32 latch_from(const struct media_ctx *mc, const struct media_leg *l, __be32 sdp)
{
	if (mc->o.latch == MEDIA_LATCH_SDP || l->sig_core || !l->sig_addr.s_addr)
		return sdp;
	return l->sig_addr.s_addr;
}

static uint64_t latch_window_ns(const struct media_ctx *mc)
{
	unsigned int s = mc->o.latch_window_s ? mc->o.latch_window_s : MEDIA_LATCH_WINDOW_DEFAULT;

	return (uint64_t)s * 1000000000ULL;
}

/*
 * One flow, read-modify-write: counters, egress and last-seen always survive
 * a re-offer. The sender's latch survives when nothing about its leg
 * changed: as it is when another leg's offer or answer reprograms the flow;
 * provisional (PRELATCHED, a new window) when its own offer or answer does,
 * so media keeps flowing to and from the latched peer while the first packet
 * from the latch address may still move it once (a NAT that rebound: RFC
 * 7362 4, re-latch only on a new offer/answer). A new or changed leg starts
 * unlatched with a new window, or pre-latched to its SDP address and port
 * when that is the latch address (no NAT). The destination keeps the other
 * leg's latched address when that leg's signalled address did not change.
 */
static int program_one(struct media_ctx *mc, struct media_call *c, unsigned int idx,
		       const struct media_stream *s, const struct media_stream *old, int from,
		       bool rtcp, enum media_side sender)
{
	const uint32_t lf = XS_FLOW_LATCHED | XS_FLOW_PRELATCHED;
	unsigned int r = rtcp ? 1 : 0;
	uint64_t until = media_now_ns() + latch_window_ns(mc);
	struct xs_flow_key k;
	struct xs_flow f, cur, rev;
	int to = !from;
	bool have, have_rev;

	memset(&f, 0, sizeof(f));
	flow_key(c, s->edge[from] + r, &k);
	have = old->edge[from] == s->edge[from] && !lookup(mc, c, s->edge[from] + r, &cur);
	have_rev = old->edge[to] == s->edge[to] && !lookup(mc, c, s->edge[to] + r, &rev);

	f.src_addr = c->edge_addr.s_addr;
	f.src_port = htons(s->edge[to] + r);
	leg_addr(&s->leg[from], rtcp, &f.expect_addr, &f.expect_port);
	f.flags = XS_FLOW_LATCH | (idx << MEDIA_FLOW_IDX_SHIFT) | (from ? MEDIA_FLOW_FROM_B : 0) |
		  (rtcp ? MEDIA_FLOW_RTCP : 0) | leg_bits(&s->leg[from]);
	f.cookie = c->cookie;
	f.latch_addr = latch_from(mc, &s->leg[from], f.expect_addr);
	f.latch_until_ns = until;

	if (have) {
		f.packets = cur.packets;
		f.bytes = cur.bytes;
		f.last_seen_ns = cur.last_seen_ns;
		f.ifindex = cur.ifindex;
	}
	if (have && leg_same(&s->leg[from], &old->leg[from], rtcp) &&
	    (cur.flags & XS_FLOW_LATCHED) && cur.latch_addr == f.latch_addr) {
		f.peer_addr = cur.peer_addr;
		f.peer_port = cur.peer_port;
		f.flags |= XS_FLOW_LATCHED;
		if ((int)sender == from || (cur.flags & XS_FLOW_PRELATCHED))
			f.flags |= XS_FLOW_PRELATCHED;
		else
			f.latch_until_ns = cur.latch_until_ns;
	} else if (f.latch_addr && f.latch_addr == f.expect_addr && f.expect_port) {
		f.peer_addr = f.expect_addr;
		f.peer_port = f.expect_port;
		f.flags |= lf;
	}

	if (!s->leg[to].hold)
		leg_addr(&s->leg[to], rtcp, &f.dst_addr, &f.dst_port);
	if (f.dst_addr && leg_same(&s->leg[to], &old->leg[to], rtcp)) {
		if (have_rev && (rev.flags & XS_FLOW_LATCHED) && rev.peer_addr) {
			/* Back from hold: to where the other leg's NAT really is. */
			f.dst_addr = rev.peer_addr;
			f.dst_port = rev.peer_port;
		} else if (have && cur.dst_addr) {
			f.dst_addr = cur.dst_addr;
			f.dst_port = cur.dst_port;
		}
	}

	if (bpf_map_update_elem(mc->o.flows_fd, &k, &f, BPF_ANY)) {
		/* A full hash map says E2BIG: the relay table is at map-sizes flows. */
		if (errno == E2BIG) {
			mc->flows_full++;
			return -ENOSPC;
		}
		return -errno;
	}
	return 0;
}

/* Copy @ep's address into an xs_flow address union (4 or 16 bytes, the rest zero). */
static void ep_addr(const struct media_ep *ep, void *field)
{
	memset(field, 0, 16);
	if (ep->v6)
		memcpy(field, &ep->in6, 16);
	else
		memcpy(field, &ep->in4, 4);
}

int media_flow_fill(const struct media_flow_spec *sp, struct xs_flow_key *k, struct xs_flow *f)
{
	bool in6 = sp->edge.v6, out6 = sp->src.v6;

	if (sp->expect.v6 != in6 || sp->latch.v6 != in6 || sp->peer.v6 != in6 ||
	    sp->dst.v6 != out6 || !sp->edge.port || !sp->src.port || (sp->flags & XS_FLOW_OUT6))
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	memset(f, 0, sizeof(*f));
	ep_addr(&sp->edge, k->addr6);
	k->v6 = in6;
	k->port = htons(sp->edge.port);
	k->proto = IPPROTO_UDP;
	ep_addr(&sp->src, f->src_addr6);
	f->src_port = htons(sp->src.port);
	ep_addr(&sp->dst, f->dst_addr6);
	f->dst_port = htons(sp->dst.port);
	ep_addr(&sp->expect, f->expect_addr6);
	f->expect_port = htons(sp->expect.port);
	ep_addr(&sp->latch, f->latch_addr6);
	if (sp->flags & XS_FLOW_LATCHED) {
		ep_addr(&sp->peer, f->peer_addr6);
		f->peer_port = htons(sp->peer.port);
	}
	f->latch_until_ns = sp->latch_until_ns;
	f->flags = sp->flags | (out6 ? XS_FLOW_OUT6 : 0);
	f->cookie = sp->cookie;
	return 0;
}

int media_flow_put(struct media_ctx *mc, const struct media_flow_spec *sp)
{
	struct xs_flow_key k;
	struct xs_flow f;
	int err = media_flow_fill(sp, &k, &f);

	if (err)
		return err;
	if (bpf_map_update_elem(mc->o.flows_fd, &k, &f, BPF_ANY)) {
		if (errno == E2BIG) {
			mc->flows_full++;
			return -ENOSPC;
		}
		return -errno;
	}
	return 0;
}

static void delete_one(struct media_ctx *mc, struct media_call *c, uint16_t port)
{
	struct xs_flow_key k;

	flow_key(c, port, &k);
	bpf_map_delete_elem(mc->o.flows_fd, &k);
}

int media_flows_program(struct media_ctx *mc, struct media_call *c, unsigned int idx,
			const struct media_stream *s, const struct media_stream *old,
			enum media_side sender)
{
	/* Mux is in effect once both offer and answer carry it (RFC 5761 5.1.1). */
	bool mux = s->leg[0].known && s->leg[1].known && s->leg[0].mux && s->leg[1].mux;
	int from, err;

	for (from = 0; from < 2; from++) {
		err = program_one(mc, c, idx, s, old, from, false, sender);
		if (err)
			return err;
		if (mux) {
			delete_one(mc, c, s->edge[from] + 1);
			continue;
		}
		err = program_one(mc, c, idx, s, old, from, true, sender);
		if (err)
			return err;
	}
	return 0;
}

void media_flows_delete(struct media_ctx *mc, struct media_call *c, const struct media_stream *s)
{
	int x;

	for (x = 0; x < 2; x++) {
		if (!s->edge[x])
			continue;
		delete_one(mc, c, s->edge[x]);
		delete_one(mc, c, s->edge[x] + 1);
	}
}

uint64_t media_flows_last_seen(struct media_ctx *mc, struct media_call *c)
{
	uint64_t last = 0;
	struct xs_flow f;
	unsigned int i;
	int x, r;

	for (i = 0; i < c->n; i++)
		for (x = 0; x < 2; x++)
			for (r = 0; r < 2 && c->s[i].edge[x]; r++)
				if (!lookup(mc, c, c->s[i].edge[x] + r, &f) &&
				    f.last_seen_ns > last)
					last = f.last_seen_ns;
	return last;
}

uint32_t media_flows_noroute(struct media_ctx *mc, struct media_call *c)
{
	uint32_t sum = 0;
	struct xs_flow f;
	unsigned int i;
	int x, r;

	for (i = 0; i < c->n; i++)
		for (x = 0; x < 2; x++)
			for (r = 0; r < 2 && c->s[i].edge[x]; r++)
				if (!lookup(mc, c, c->s[i].edge[x] + r, &f))
					sum += f.noroute;
	return sum;
}

/* One flow read back from the map into its call's stream. */
static int rebuild_one(struct media_ctx *mc, const struct xs_flow_key *k, const struct xs_flow *f)
{
	unsigned int idx = (f->flags & MEDIA_FLOW_IDX_MASK) >> MEDIA_FLOW_IDX_SHIFT;
	int from = !!(f->flags & MEDIA_FLOW_FROM_B), r = !!(f->flags & MEDIA_FLOW_RTCP);
	struct media_stream *s;
	struct media_call *c;
	struct media_leg *l;

	/* The call table is IPv4: flows with an IPv6 side stay as they are. */
	if (!f->cookie || k->proto != IPPROTO_UDP || idx >= MEDIA_MAX_STREAMS || k->v6 ||
	    (f->flags & XS_FLOW_OUT6))
		return 0;
	if (mc->o.foreign_cookie && mc->o.foreign_cookie(f->cookie))
		return 0; /* a standby's copy of its peer's call: not ours until the takeover */
	c = media_call_find(mc, f->cookie);
	if (!c) {
		c = media_call_add(mc, f->cookie, NULL);
		if (!c)
			return -ENOMEM;
		c->edge_addr.s_addr = k->addr;
	}
	if (idx >= c->n)
		c->n = idx + 1;
	s = &c->s[idx];
	s->edge[from] = (uint16_t)(ntohs(k->port) - r);
	s->edge[!from] = (uint16_t)(ntohs(f->src_port) - r);
	l = &s->leg[from];
	if (r) {
		l->rtcp_addr.s_addr = f->expect_addr;
		l->rtcp_port = ntohs(f->expect_port);
		return 0;
	}
	l->known = f->flags & MEDIA_FLOW_KNOWN;
	l->mux = f->flags & MEDIA_FLOW_MUX;
	l->hold = f->flags & MEDIA_FLOW_HOLD;
	l->v6 = f->flags & MEDIA_FLOW_V6;
	l->addr.s_addr = f->expect_addr;
	l->port = ntohs(f->expect_port);
	/* The same latch address as before the restart: latch_from() gives it back. */
	l->sig_addr.s_addr = f->latch_addr;
	return 0;
}

int media_flows_rebuild(struct media_ctx *mc)
{
	struct xs_flow_key key, next;
	unsigned int budget = XS_FLOWS_MAX + 1, i, h;
	struct media_call *c;
	struct xs_flow f;
	bool first = true;
	int err, x;

	while (budget-- && !bpf_map_get_next_key(mc->o.flows_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(mc->o.flows_fd, &key, &f))
			continue; /* deleted meanwhile */
		err = rebuild_one(mc, &key, &f);
		if (err)
			return err;
	}

	/* Under rtcp-mux there is no RTCP flow to read the RTCP address from. */
	for (h = 0; h < MEDIA_HASH_SIZE; h++) {
		for (c = mc->hash[h]; c; c = c->next) {
			c->confirmed = true; /* most calls in the map are; see media_poll() */
			for (i = 0; i < c->n; i++) {
				struct media_stream *s = &c->s[i];

				for (x = 0; x < 2 && s->edge[0] && s->edge[1]; x++) {
					struct media_leg *l = &s->leg[x];

					if (l->known && !l->rtcp_port) {
						l->rtcp_addr = l->addr;
						l->rtcp_port = l->port + 1;
					}
					media_ports_mark(&mc->ports, s->edge[x]);
				}
			}
		}
	}
	return 0;
}
