// SPDX-License-Identifier: GPL-2.0-only
/*
 * The media side of xdpsbc-sigd (see media.h): SDP offer and answer
 * handling in SIP messages, teardown and media timeouts. The call table is
 * in calls.c, ports are allocated in ports.c, flows programmed in flows.c,
 * SDP edited in sdp.c.
 *
 * Sides come from the dialog, not from offer/answer roles: whatever A sends
 * (INVITE offer, ACK answer of a late offer, re-INVITE, UPDATE) describes A,
 * and its rewritten copy advertises edge[B] to B. So early and late offers,
 * 18x and 200 answers, and re-offers from either side all take the same path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <osipparser2/osip_port.h>
#include <bpf/bpf.h>

#include "lib/xdpsbc.h"
#include "media/internal.h"
#include "media/media.h"
#include "secret.h"

uint64_t media_cookie(const char *call_id)
{
	/* Keyed (secret.h): a sender cannot pick Call-IDs that collide with a victim's call. */
	uint64_t h = secret_hash64(call_id ? call_id : "", call_id ? strlen(call_id) : 0);

	/* 0 is "no call" in a flow. */
	return h ? h : 1;
}

/* Ports a stream holds: an RTP/RTCP pair toward each leg. */
#define STREAM_PORTS 4

static void stream_release(struct media_ctx *mc, struct media_call *c, struct media_stream *s)
{
	media_flows_delete(mc, c, s);
	media_ports_free(&mc->ports, c->edge4, c->af[0] == AF_INET6, s->edge[0]);
	media_ports_free(&mc->ports, c->edge4, c->af[1] == AF_INET6, s->edge[1]);
	if (s->edge[0])
		media_quota_add(&mc->quota, &s->owner, -STREAM_PORTS);
	memset(s, 0, sizeof(*s));
}

/* Timer C (RFC 3261 16.6): how long a proxy lets an INVITE ring. */
#define MEDIA_RING_NS (180 * NSEC_PER_SEC)

static uint64_t timeout_ns(const struct media_ctx *mc)
{
	return (uint64_t)(mc->o.timeout_s ? mc->o.timeout_s : 60) * NSEC_PER_SEC;
}

/* When call @c times out unless a packet or an SDP change comes first. */
static uint64_t deadline(const struct media_ctx *mc, const struct media_call *c)
{
	uint64_t last = c->active_ns > c->seen_ns ? c->active_ns : c->seen_ns;

	return last + timeout_ns(mc) + (c->confirmed ? 0 : MEDIA_RING_NS);
}

static bool call_holds_ports(const struct media_call *c)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		if (c->s[i].edge[0])
			return true;
	return false;
}

int media_adopt(struct media_ctx *mc)
{
	unsigned int before = mc->calls;
	int err = mc->o.flows_fd >= 0 ? media_flows_rebuild(mc) : -EBADF;

	return err ?: (int)(mc->calls - before);
}

/* The pool of (media address, pair) for options @o. */
static int ports_init(struct media_ports *p, const struct media_opts *o)
{
	int err = o->n_media_ip ? media_ports_init(p, o->media_ip, o->n_media_ip, o->port_min,
						   o->port_max)
				: media_ports_init(p, &o->public_ip, 1, o->port_min, o->port_max);

	p->rng = o->port_rng;
	return err;
}

struct media_ctx *media_new(const struct media_opts *o)
{
	struct media_ctx *mc = calloc(1, sizeof(*mc));
	int err;

	if (!mc)
		return NULL;
	mc->o = *o;
	if (ports_init(&mc->ports, o))
		goto fail;
	if (o->flows_fd >= 0) {
		err = media_flows_rebuild(mc);
		if (err) {
			xs_log(XS_LOG_ERR, "media: rebuilding calls from the flow map: %s\n",
			       strerror(-err));
			goto fail;
		}
		if (mc->calls)
			xs_log(XS_LOG_INFO, "media: recovered %u calls from the flow map\n",
			       mc->calls);
	}
	return mc;
fail:
	media_free(mc);
	return NULL;
}

void media_free(struct media_ctx *mc)
{
	struct media_call *c, *next;
	unsigned int h;

	if (!mc)
		return;
	/* The flows stay: media of calls in progress keeps flowing without us. */
	for (h = 0; h < MEDIA_HASH_SIZE; h++)
		for (c = mc->hash[h]; c; c = next) {
			next = c->next;
			free(c);
		}
	media_call_spares_free(mc);
	media_ports_fini(&mc->ports);
	media_quota_fini(&mc->quota);
	free(mc->due);
	free(mc);
}

int media_reconfigure(struct media_ctx *mc, const struct media_opts *o)
{
	struct media_ports np;
	struct media_call *c;
	unsigned int h, i;
	int err;

	err = ports_init(&np, o);
	if (err) {
		media_ports_fini(&np);
		return err;
	}
	/*
	 * Calls in progress keep their ports and media address; their ports
	 * stay reserved when they fall in the new range and addresses too (a
	 * call on an address no longer listed gets no new m-line on it:
	 * -ENOSPC). New flow flags apply when a call's flows are next
	 * programmed.
	 */
	for (h = 0; h < MEDIA_HASH_SIZE; h++)
		for (c = mc->hash[h]; c; c = c->next)
			for (i = 0; i < c->n; i++) {
				media_ports_mark(&np, c->edge4, c->af[0] == AF_INET6,
						 c->s[i].edge[0]);
				media_ports_mark(&np, c->edge4, c->af[1] == AF_INET6,
						 c->s[i].edge[1]);
			}
	media_ports_fini(&mc->ports);
	mc->ports = np;
	/* A shorter media timeout brings every deadline closer: all due now (the heap stays one). */
	if ((o->timeout_s ? o->timeout_s : 60) < (mc->o.timeout_s ? mc->o.timeout_s : 60))
		for (i = 0; i < mc->ndue; i++)
			mc->due[i]->due_ns = 0;
	mc->o = *o;
	return 0;
}

unsigned int media_calls(const struct media_ctx *mc)
{
	return mc ? mc->calls : 0;
}

unsigned int media_ports_used(const struct media_ctx *mc)
{
	return mc ? 2 * mc->ports.used_count : 0;
}

unsigned int media_source_ports(const struct media_ctx *mc, const struct sip_ip *src)
{
	return mc ? media_quota_held(&mc->quota, src) : 0;
}

int media_addr_ports(const struct media_ctx *mc, unsigned int i, struct in_addr *addr,
		     unsigned int *used, unsigned int *total)
{
	if (!mc || i >= mc->ports.naddrs)
		return -ENOENT;
	*addr = mc->ports.addr[i];
	*used = 2 * mc->ports.addr_used[i];
	*total = 2 * mc->ports.pairs;
	return (int)mc->ports.naddrs;
}

uint64_t media_flows_full(const struct media_ctx *mc)
{
	return mc ? mc->flows_full : 0;
}

/* What leg @l now signals for a stream. A hold keeps the address it holds from. */
static void leg_update(struct media_leg *l, const struct sdp_media_info *mi,
		       const struct media_src *src)
{
	bool had = l->known && !media_addr_zero(&l->addr) && l->v6 == mi->v6;

	if (src) {
		memset(&l->sig_addr, 0, sizeof(l->sig_addr));
		l->sig_af = src->sig.af;
		if (src->sig.af == AF_INET6)
			l->sig_addr.v6 = src->sig.v6;
		else if (src->sig.af == AF_INET)
			l->sig_addr.v4 = src->sig.v4;
		l->sig_core = src->core;
	}
	l->known = true;
	l->mux = mi->mux;
	l->hold = mi->hold;
	if (mi->hold && had)
		return;
	l->v6 = mi->v6;
	memset(&l->addr, 0, sizeof(l->addr));
	memset(&l->rtcp_addr, 0, sizeof(l->rtcp_addr));
	if (mi->v6) {
		l->addr.v6 = mi->addr6;
		l->rtcp_addr.v6 = mi->rtcp_addr6;
	} else {
		l->addr.v4 = mi->addr;
		l->rtcp_addr.v4 = mi->rtcp_addr;
	}
	l->port = mi->port;
	l->rtcp_port = mi->rtcp_port;
}

/* `media ipv4-only off` and an IPv6 media address: legs may be IPv6. */
static bool media_dual(const struct media_ctx *mc)
{
	struct xs_config cfg;
	uint32_t zero = 0;

	if (IN6_IS_ADDR_UNSPECIFIED(&mc->o.public_ip6))
		return false;
	if (mc->o.config_fd <= 0)
		return mc->o.dual_stack;
	/* Unreadable: the default, ipv4-only on. */
	if (bpf_map_lookup_elem(mc->o.config_fd, &zero, &cfg))
		return false;
	return !(cfg.flags & XS_CFG_V6_MEDIA_DROP);
}

int media_leg_af(bool dual, bool have4, int sdp_af, int sig_af)
{
	if (!dual)
		return AF_INET;
	if (!have4)
		return AF_INET6;
	if (sdp_af)
		return sdp_af == AF_INET6 ? AF_INET6 : AF_INET;
	return sig_af == AF_INET6 ? AF_INET6 : AF_INET;
}

/* The family of the first relayed m-line's c=, 0 when none is relayed. */
static int sdp_af(const struct sdp_info *info, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (info->m[i].relay && info->m[i].port)
			return info->m[i].v6 ? AF_INET6 : AF_INET;
	return 0;
}

/*
 * Fix the families of @c's legs that have none yet (docs/sigd.md, "Media
 * address family"): the sender's from its SDP and signalling source, the
 * receiver's from the hop the rewritten message goes to.
 */
static void legs_af(struct media_ctx *mc, struct media_call *c, enum media_side from,
		    const struct sdp_info *info, unsigned int n, const struct media_src *src)
{
	bool dual, have4 = c->edge4.s_addr != 0;

	if (c->af[from] && c->af[!from])
		return;
	dual = media_dual(mc) && !IN6_IS_ADDR_UNSPECIFIED(&c->edge6);
	if (!c->af[from])
		c->af[from] =
			(uint16_t)media_leg_af(dual, have4, sdp_af(info, n), src ? src->sig.af : 0);
	if (!c->af[!from])
		c->af[!from] = (uint16_t)media_leg_af(dual, have4, 0, src ? src->to_af : 0);
}

static const char *leg_str(const struct media_leg *l, char *buf, size_t len)
{
	return inet_ntop(l->v6 ? AF_INET6 : AF_INET, l->addr.b, buf, (socklen_t)len);
}

static const char *side_name(enum media_side from)
{
	return from == MEDIA_SIDE_A ? "caller" : "callee";
}

/*
 * The limits, before anything is allocated: relayed m-lines per call (each
 * holds STREAM_PORTS ports) and ports per signalling source (the core has no
 * such limit: every call from the core comes from it).
 */
static int check_limits(struct media_ctx *mc, const struct media_call *c,
			const struct sdp_info *info, unsigned int n, const struct media_src *src,
			const char *call_id)
{
	unsigned int i, streams = 0, fresh = 0, held;

	for (i = 0; i < n; i++) {
		if (!info->m[i].relay || !info->m[i].port)
			continue;
		streams++;
		if (!c || !c->s[i].edge[0])
			fresh++;
	}
	if (mc->o.max_streams && streams > mc->o.max_streams) {
		xs_log(XS_LOG_WARN, "[%s] %u relayed m-lines, more than max-media-streams %u\n",
		       call_id, streams, mc->o.max_streams);
		return -E2BIG;
	}
	if (!fresh || !src || src->core || !src->sig.af || !mc->o.source_ports)
		return 0;
	held = media_quota_held(&mc->quota, &src->sig);
	if (held + fresh * STREAM_PORTS > mc->o.source_ports) {
		xs_log(XS_LOG_WARN,
		       "[%s] source %s holds %u relay ports, %u more would pass "
		       "max-ports-per-source %u\n",
		       call_id, sip_ip_str(&src->sig, (char[SIP_IP_STRLEN]){0}, SIP_IP_STRLEN),
		       held, fresh * STREAM_PORTS, mc->o.source_ports);
		return -EDQUOT;
	}
	return 0;
}

/*
 * The media address of call @c, picked when it first needs ports: all of a
 * call's streams are on one address, the one its c= line names, with room
 * for every new m-line of this SDP. Until then (no relayed m-line) c= is the
 * first media address.
 */
static int call_addr(struct media_ctx *mc, struct media_call *c, const struct sdp_info *info,
		     unsigned int n)
{
	unsigned int i, fresh = 0, legs4 = (c->af[0] != AF_INET6) + (c->af[1] != AF_INET6);

	/* Holding nothing, it is free to move; else its streams stay where they are. */
	if (call_holds_ports(c))
		return 0;
	for (i = 0; i < n; i++)
		if (info->m[i].relay && info->m[i].port && !c->s[i].edge[0])
			fresh++;
	if (!fresh || !legs4) {
		c->edge4 = mc->ports.naddrs ? mc->ports.addr[0] : mc->o.public_ip;
		return 0;
	}
	return media_ports_pick_addr(&mc->ports, legs4 * fresh, &c->edge4);
}

/*
 * Work on a copy of the call's streams; allocate what new m-lines need; only
 * when the SDP could be rewritten commit: program flows, release rejected
 * streams, replace the body. On error the message and the call are unchanged
 * (a call that was created here is dropped again, its ports and flows gone).
 */
int media_rewrite(struct media_ctx *mc, osip_message_t *msg, const char *call_id,
		  enum media_side from, const struct media_src *src)
{
	uint16_t edge_port[MEDIA_MAX_STREAMS] = {0}, fresh_ports[2 * MEDIA_MAX_STREAMS], old_af[2];
	char ab[INET6_ADDRSTRLEN];
	union media_addr edge;
	struct media_stream ns[MEDIA_MAX_STREAMS];
	bool release[MEDIA_MAX_STREAMS] = {false}, multipart, bare, created = false;
	unsigned int i, n, nfresh = 0;
	struct media_call *c;
	struct sdp_info info;
	struct in_addr addr0;
	sdp_message_t *sdp;
	char *text, *out;
	osip_body_t *b;
	int err, x;

	if ((MSG_IS_REQUEST(msg) && msg->sip_method && MSG_IS_ACK(msg)) ||
	    (MSG_IS_STATUS_2XX(msg) && msg->cseq && msg->cseq->method &&
	     !strcmp(msg->cseq->method, "INVITE")))
		media_confirm(mc, call_id);
	b = sdp_body(msg, &multipart);
	if (!b || !b->body || !b->length)
		return 0;
	/*
	 * libosip2's SDP parser wants every line ended. A multipart's SDP part
	 * comes without its last CRLF (MIME gives it to the boundary).
	 */
	bare = b->body[b->length - 1] != '\n';
	text = malloc(b->length + 3);
	if (!text)
		return -ENOMEM;
	memcpy(text, b->body, b->length);
	strcpy(text + b->length, bare ? "\r\n" : "");
	err = sdp_parse(text, &sdp, &info);
	free(text);
	if (err) {
		xs_log(XS_LOG_WARN, "[%s] malformed SDP from the %s, message not changed\n",
		       call_id, side_name(from));
		return err;
	}

	n = info.n < MEDIA_MAX_STREAMS ? info.n : MEDIA_MAX_STREAMS;
	c = media_call_find(mc, media_cookie(call_id));
	err = check_limits(mc, c, &info, n, src, call_id);
	if (err) {
		sdp_message_free(sdp);
		return err;
	}
	if (!c) {
		c = media_call_add(mc, media_cookie(call_id), call_id);
		if (!c) {
			sdp_message_free(sdp);
			return -ENOMEM;
		}
		created = true;
	} else if (!c->call_id[0]) {
		/* Rebuilt after a restart: now we know its name. */
		snprintf(c->call_id, sizeof(c->call_id), "%s", call_id);
	}

	memcpy(old_af, c->af, sizeof(old_af));
	legs_af(mc, c, from, &info, n, src);
	addr0 = c->edge4;
	err = call_addr(mc, c, &info, n);
	if (err) {
		xs_log(XS_LOG_ERR, "[%s] relay ports exhausted on every media address\n", call_id);
		goto rollback;
	}
	memcpy(ns, c->s, sizeof(ns));
	for (i = 0; i < n; i++) {
		const struct sdp_media_info *mi = &info.m[i];

		if (!mi->relay || !mi->port) {
			/* Port 0 (or not relayable): the stream holds nothing. */
			release[i] = ns[i].edge[0] || ns[i].edge[1];
			memset(&ns[i], 0, sizeof(ns[i]));
			continue;
		}
		if (!ns[i].edge[0]) {
			/* A new stream: one port pair toward each leg. */
			memset(&ns[i], 0, sizeof(ns[i]));
			for (x = 0; x < 2; x++) {
				err = media_ports_alloc(&mc->ports, c->edge4, c->af[x] == AF_INET6,
							&ns[i].edge[x]);
				if (err) {
					xs_log(XS_LOG_ERR, "[%s] relay ports exhausted\n", call_id);
					goto rollback;
				}
				fresh_ports[nfresh++] = ns[i].edge[x];
			}
			if (src && !src->core)
				ns[i].owner = src->sig;
		}
		leg_update(&ns[i].leg[from], mi, src);
		edge_port[i] = ns[i].edge[!from];
	}

	edge = media_call_edge(c, !from);
	err = sdp_rewrite(sdp, &info, edge_port, c->af[!from], edge.b, &out);
	if (err)
		goto rollback;
	sdp_message_free(sdp);
	sdp = NULL;
	if (bare && (i = (unsigned int)strlen(out)) >= 2 && out[i - 1] == '\n')
		out[i - (out[i - 2] == '\r' ? 2 : 1)] = 0;

	for (i = 0; i < n; i++) {
		int e = 0;

		if (release[i])
			stream_release(mc, c, &c->s[i]);
		else if (ns[i].edge[0])
			e = media_flows_program(mc, c, i, &ns[i], &c->s[i], from);
		if (e && !err) {
			if (e == -ENOSPC)
				xs_log(XS_LOG_ERR,
				       "[%s] relay flow table full (xs_flows at its max entries, "
				       "map-sizes flows): call refused\n",
				       call_id);
			else
				xs_log(XS_LOG_ERR, "[%s] programming relay flows: %s\n", call_id,
				       strerror(-e));
			err = e;
		}
		if (!release[i] && ns[i].edge[0] && !c->s[i].edge[0])
			media_quota_add(&mc->quota, &ns[i].owner, STREAM_PORTS);
		c->s[i] = ns[i];
	}
	if (n > c->n)
		c->n = n;
	c->active_ns = media_now_ns();
	if (err) {
		/* The flows are half there: a new call goes at once, ports and all. */
		osip_free(out);
		goto fail_committed;
	}

	err = sdp_body_replace(msg, b, out, multipart);
	if (err)
		goto fail_committed;
	for (i = 0; i < n; i++)
		if (ns[i].edge[0])
			xs_log(XS_LOG_DEBUG,
			       "[%s] m-line %u from the %s: %s:%u, relayed on %u/%u\n", call_id, i,
			       side_name(from), leg_str(&ns[i].leg[from], ab, sizeof(ab)),
			       ns[i].leg[from].port, ns[i].edge[from], ns[i].edge[!from]);
	return err;

fail_committed:
	if (created)
		media_end_cookie(mc, c->cookie);
	return err;

rollback:
	for (i = 0; i < nfresh; i++)
		media_ports_free(&mc->ports, c->edge4, c->af[i & 1] == AF_INET6, fresh_ports[i]);
	c->edge4 = addr0;
	if (sdp)
		sdp_message_free(sdp);
	if (created) {
		media_call_unlink(mc, c);
		media_call_free(mc, c);
	} else {
		memcpy(c->af, old_af, sizeof(old_af));
	}
	return err;
}

const char *media_strerror(int err)
{
	switch (err) {
	case -EBADMSG:
		return "malformed SDP";
	case -E2BIG:
		return "more m-lines than max-media-streams";
	case -EDQUOT:
		return "source at max-ports-per-source";
	case -ENOSPC:
		return "relay ports exhausted or relay flow table full";
	default:
		return strerror(-err);
	}
}

void media_end_cookie(struct media_ctx *mc, uint64_t cookie)
{
	struct media_call *c = media_call_find(mc, cookie);
	char name[32];
	unsigned int i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		stream_release(mc, c, &c->s[i]);
	CLOG(XS_LOG_INFO, media_call_name(c, name, sizeof(name)),
	     "media ended, relay flows removed");
	media_call_unlink(mc, c);
	media_call_free(mc, c);
}

void media_end(struct media_ctx *mc, const char *call_id)
{
	uint64_t cookie = media_cookie(call_id);
	struct media_call *c = media_call_find(mc, cookie);

	/* A call rebuilt after a restart learns its name here, for the log line. */
	if (c && !c->call_id[0])
		snprintf(c->call_id, sizeof(c->call_id), "%s", call_id);
	media_end_cookie(mc, cookie);
}

void media_confirm(struct media_ctx *mc, const char *call_id)
{
	struct media_call *c = media_call_find(mc, media_cookie(call_id));

	if (c && !c->confirmed) {
		c->confirmed = true;
		/* Timer C is off: its deadline comes closer. */
		if (c->due_ns > deadline(mc, c))
			media_call_set_due(mc, c, deadline(mc, c));
	}
}

/*
 * A call times out when no packet went either way for timeout_s (0: the
 * default 60 s), counted from its last packet, or from its creation or last
 * SDP change when none came since. Before the 2xx, early media is optional
 * and a phone may ring for minutes: an unconfirmed call gets Timer C on top,
 * so only calls whose signalling was lost time out then. A call without any
 * relayed m-line has no media to time out.
 *
 * Only the calls due are looked at (the heap of calls.c): a call's due time
 * is its deadline as last computed, so a poll costs O(log n) per call due,
 * whatever the number of calls up, and the flows are read only for a call
 * whose cached last packet time says it may have expired. Expired cookies
 * are collected first, so that @on_timeout may end calls itself.
 */
void media_poll(struct media_ctx *mc, void (*on_timeout)(uint64_t cookie, void *arg), void *arg)
{
	uint64_t now = media_now_ns(), *expired = NULL, *tmp, d;
	unsigned int n = 0, cap = 0, i;
	struct media_call *c;
	char name[32];

	/* Each call popped gets a due time after now: the loop sees it once. */
	while ((c = media_call_first_due(mc)) && c->due_ns <= now) {
		if (!call_holds_ports(c)) {
			/* Its first ports come with an SDP change: active_ns moves past this. */
			media_call_set_due(mc, c, now + timeout_ns(mc));
			continue;
		}
		d = deadline(mc, c);
		if (d > now) {
			media_call_set_due(mc, c, d);
			continue;
		}
		c->seen_ns = media_flows_last_seen(mc, c);
		d = deadline(mc, c);
		if (d > now) {
			media_call_set_due(mc, c, d);
			continue;
		}
		media_call_set_due(mc, c, now + timeout_ns(mc));
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			tmp = realloc(expired, cap * sizeof(*expired));
			if (!tmp)
				break; /* the rest are still due: the next poll */
			expired = tmp;
		}
		expired[n++] = c->cookie;
		CLOG(XS_LOG_INFO, media_call_name(c, name, sizeof(name)),
		     "media timeout, no packets for %llu s",
		     (unsigned long long)((now - d + timeout_ns(mc)) / NSEC_PER_SEC));
	}
	for (i = 0; i < n; i++) {
		if (on_timeout)
			on_timeout(expired[i], arg);
		media_end_cookie(mc, expired[i]);
	}
	free(expired);
}
