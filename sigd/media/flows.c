// SPDX-License-Identifier: GPL-2.0-only
/*
 * The relay flows of a call in the pinned xs_flows map (see docs/architecture.md,
 * "Relay flows"). Per m-line and leg X the flow keyed {edge, edge[X], udp}
 * carries X's packets to the other leg Y: dst = Y's address (signalled, later
 * latched by the XDP program), src = edge:edge[Y], expect = X's signalled
 * address, latch = the one address X's media may latch from. RTCP likewise on
 * edge[X] + 1, unless both legs use rtcp-mux.
 *
 * Each leg has a family (media_call.af, decided in media.c): leg X's flows
 * are keyed by the edge address of X's family, and the flows toward X leave
 * from it (XS_FLOW_OUT6 for IPv6), so a call between an IPv6 and an IPv4
 * leg is translated by the relay (bpf/lib/forward.h, relay/). A leg that is
 * not known yet (before the answer), on hold (c=0.0.0.0 or ::) or whose SDP
 * names an address of the other family gives the flows toward it dst 0: the
 * relay must not send those packets (it drops them as no route).
 *
 * media_flow_put() writes one flow from explicit addresses (tests, tools).
 * A restart rebuilds the call table, families included, from the flows.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "lib/xdpsbc.h"
#include "media/internal.h"

/* The flow keyed by port @port of leg @x (its edge address family). */
static void flow_key(const struct media_call *c, int x, uint16_t port, struct xs_flow_key *k)
{
	union media_addr a = media_call_edge(c, x);

	memset(k, 0, sizeof(*k));
	memcpy(k->addr6, a.b, 16);
	k->v6 = c->af[x] == AF_INET6;
	k->port = htons(port);
	k->proto = IPPROTO_UDP;
}

/*
 * The address this leg signalled for RTP or RTCP, as the relay of a leg of
 * family @af can use it; 0 when none is usable (unknown, or of the other
 * family: the leg signalled an address the edge cannot send to from the
 * address it gave it).
 */
static void leg_addr(const struct media_leg *l, int af, bool rtcp, uint8_t addr[16], __be16 *port)
{
	const union media_addr *a = rtcp ? &l->rtcp_addr : &l->addr;

	memset(addr, 0, 16);
	*port = 0;
	if (!l->known || l->v6 != (af == AF_INET6) || media_addr_zero(a))
		return;
	memcpy(addr, a->b, 16);
	*port = htons(rtcp ? l->rtcp_port : l->port);
}

static uint32_t leg_bits(const struct media_leg *l)
{
	return (l->known ? MEDIA_FLOW_KNOWN : 0) | (l->mux ? MEDIA_FLOW_MUX : 0) |
	       (l->hold ? MEDIA_FLOW_HOLD : 0) | (l->v6 ? MEDIA_FLOW_V6 : 0);
}

/* Same signalled address as before? Hold is not a change: the latch survives it. */
static bool leg_same(const struct media_leg *now, const struct media_leg *old, int af, bool rtcp)
{
	uint8_t a1[16], a2[16];
	__be16 p1, p2;

	if (!now->known || !old->known)
		return false;
	leg_addr(now, af, rtcp, a1, &p1);
	leg_addr(old, af, rtcp, a2, &p2);
	return p1 && !memcmp(a1, a2, 16) && p1 == p2;
}

static int lookup(struct media_ctx *mc, const struct media_call *c, int x, uint16_t port,
		  struct xs_flow *f)
{
	struct xs_flow_key k;

	flow_key(c, x, port, &k);
	if (bpf_map_lookup_elem(mc->o.flows_fd, &k, f))
		return -errno;
	return f->cookie == c->cookie ? 0 : -ENOENT;
}

/*
 * The only address the media of leg @l (of family @af) may latch from
 * (docs/security/media.md): its signalling source, where a NAT in front of
 * it sends from too; the SDP address @sdp for the core (trusted, never
 * behind a NAT, and its media servers are not its SIP proxy), when the
 * source is unknown or of the other family (its media cannot come from
 * there), or under latch = sdp.
 */
static void latch_from(const struct media_ctx *mc, const struct media_leg *l, int af,
		       const uint8_t sdp[16], uint8_t out[16])
{
	if (mc->o.latch == MEDIA_LATCH_SDP || l->sig_core || l->sig_af != af ||
	    media_addr_zero(&l->sig_addr))
		memcpy(out, sdp, 16);
	else
		memcpy(out, l->sig_addr.b, 16);
}

static uint64_t latch_window_ns(const struct media_ctx *mc)
{
	unsigned int s = mc->o.latch_window_s ? mc->o.latch_window_s : MEDIA_LATCH_WINDOW_DEFAULT;

	return (uint64_t)s * 1000000000ULL;
}

static bool addr_set(const uint8_t a[16])
{
	static const uint8_t z[16];

	return memcmp(a, z, 16) != 0;
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
 *
 * The flow is keyed in the sender's family and leaves in the receiver's
 * (XS_FLOW_OUT6): when they differ the relay translates.
 */
static int program_one(struct media_ctx *mc, struct media_call *c, unsigned int idx,
		       const struct media_stream *s, const struct media_stream *old, int from,
		       bool rtcp, enum media_side sender)
{
	const uint32_t lf = XS_FLOW_LATCHED | XS_FLOW_PRELATCHED;
	unsigned int r = rtcp ? 1 : 0;
	uint64_t until = media_now_ns() + latch_window_ns(mc);
	int to = !from, af_in = c->af[from], af_out = c->af[to];
	union media_addr src = media_call_edge(c, to);
	struct xs_flow_key k;
	struct xs_flow f, cur, rev;
	bool have, have_rev;

	memset(&f, 0, sizeof(f));
	flow_key(c, from, s->edge[from] + r, &k);
	have = old->edge[from] == s->edge[from] && !lookup(mc, c, from, s->edge[from] + r, &cur);
	have_rev = old->edge[to] == s->edge[to] && !lookup(mc, c, to, s->edge[to] + r, &rev);

	memcpy(f.src_addr6, src.b, 16);
	f.src_port = htons(s->edge[to] + r);
	leg_addr(&s->leg[from], af_in, rtcp, f.expect_addr6, &f.expect_port);
	f.flags = XS_FLOW_LATCH | (idx << MEDIA_FLOW_IDX_SHIFT) | (from ? MEDIA_FLOW_FROM_B : 0) |
		  (rtcp ? MEDIA_FLOW_RTCP : 0) | leg_bits(&s->leg[from]) |
		  (af_out == AF_INET6 ? XS_FLOW_OUT6 : 0);
	f.cookie = c->cookie;
	latch_from(mc, &s->leg[from], af_in, f.expect_addr6, f.latch_addr6);
	f.latch_until_ns = until;

	if (have) {
		f.packets = cur.packets;
		f.bytes = cur.bytes;
		f.last_seen_ns = cur.last_seen_ns;
		f.ifindex = cur.ifindex;
	}
	if (have && leg_same(&s->leg[from], &old->leg[from], af_in, rtcp) &&
	    (cur.flags & XS_FLOW_LATCHED) && !memcmp(cur.latch_addr6, f.latch_addr6, 16)) {
		memcpy(f.peer_addr6, cur.peer_addr6, 16);
		f.peer_port = cur.peer_port;
		f.flags |= XS_FLOW_LATCHED;
		if ((int)sender == from || (cur.flags & XS_FLOW_PRELATCHED))
			f.flags |= XS_FLOW_PRELATCHED;
		else
			f.latch_until_ns = cur.latch_until_ns;
	} else if (addr_set(f.latch_addr6) && !memcmp(f.latch_addr6, f.expect_addr6, 16) &&
		   f.expect_port) {
		memcpy(f.peer_addr6, f.expect_addr6, 16);
		f.peer_port = f.expect_port;
		f.flags |= lf;
	}

	if (!s->leg[to].hold)
		leg_addr(&s->leg[to], af_out, rtcp, f.dst_addr6, &f.dst_port);
	if (addr_set(f.dst_addr6) && leg_same(&s->leg[to], &old->leg[to], af_out, rtcp)) {
		if (have_rev && (rev.flags & XS_FLOW_LATCHED) && addr_set(rev.peer_addr6)) {
			/* Back from hold: to where the other leg's NAT really is. */
			memcpy(f.dst_addr6, rev.peer_addr6, 16);
			f.dst_port = rev.peer_port;
		} else if (have && addr_set(cur.dst_addr6)) {
			memcpy(f.dst_addr6, cur.dst_addr6, 16);
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

static void delete_one(struct media_ctx *mc, struct media_call *c, int x, uint16_t port)
{
	struct xs_flow_key k;

	flow_key(c, x, port, &k);
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
			delete_one(mc, c, from, s->edge[from] + 1);
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
		delete_one(mc, c, x, s->edge[x]);
		delete_one(mc, c, x, s->edge[x] + 1);
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
				if (!lookup(mc, c, x, c->s[i].edge[x] + r, &f) &&
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
				if (!lookup(mc, c, x, c->s[i].edge[x] + r, &f))
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

	if (!f->cookie || k->proto != IPPROTO_UDP || idx >= MEDIA_MAX_STREAMS)
		return 0;
	if (mc->o.foreign_cookie && mc->o.foreign_cookie(f->cookie))
		return 0; /* a standby's copy of its peer's call: not ours until the takeover */
	c = media_call_find(mc, f->cookie);
	if (!c) {
		c = media_call_add(mc, f->cookie, NULL);
		if (!c)
			return -ENOMEM;
	}
	/*
	 * The families come back from the flow: its key is of the sending
	 * leg's, its source (XS_FLOW_OUT6) of the receiving leg's; so do the
	 * edge addresses the call was keyed on before the restart.
	 */
	c->af[from] = k->v6 ? AF_INET6 : AF_INET;
	c->af[!from] = (f->flags & XS_FLOW_OUT6) ? AF_INET6 : AF_INET;
	if (k->v6)
		memcpy(&c->edge6, k->addr6, 16);
	else
		c->edge4.s_addr = k->addr;
	if (f->flags & XS_FLOW_OUT6)
		memcpy(&c->edge6, f->src_addr6, 16);
	else
		c->edge4.s_addr = f->src_addr;
	if (idx >= c->n)
		c->n = idx + 1;
	s = &c->s[idx];
	s->edge[from] = (uint16_t)(ntohs(k->port) - r);
	s->edge[!from] = (uint16_t)(ntohs(f->src_port) - r);
	l = &s->leg[from];
	if (r) {
		memcpy(l->rtcp_addr.b, f->expect_addr6, 16);
		l->rtcp_port = ntohs(f->expect_port);
		return 0;
	}
	l->known = f->flags & MEDIA_FLOW_KNOWN;
	l->mux = f->flags & MEDIA_FLOW_MUX;
	l->hold = f->flags & MEDIA_FLOW_HOLD;
	l->v6 = f->flags & MEDIA_FLOW_V6;
	memcpy(l->addr.b, f->expect_addr6, 16);
	l->port = ntohs(f->expect_port);
	/* The same latch address as before the restart: latch_from() gives it back. */
	memcpy(l->sig_addr.b, f->latch_addr6, 16);
	l->sig_af = (uint16_t)c->af[from];
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
					media_ports_mark(&mc->ports, c->edge4, c->af[x] == AF_INET6,
							 s->edge[x]);
				}
			}
		}
	}
	return 0;
}
