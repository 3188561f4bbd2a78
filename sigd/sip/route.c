// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "sip/binding.h"
#include "sip/dns.h"
#include "sip/nat.h"
#include "sip/route.h"
#include "secret.h"
#include "sip/msg.h"

static void add_core_ip(struct route_cfg *rc, struct sip_ip ip)
{
	for (unsigned int i = 0; i < rc->ncore_ips; i++)
		if (sip_ip_eq(&rc->core_ips[i], &ip))
			return;
	if (rc->ncore_ips < ROUTE_MAX_CORE_IPS)
		rc->core_ips[rc->ncore_ips++] = ip;
}

int route_cfg_init(struct route_cfg *rc, const struct sigd_cfg *cfg)
{
	memset(rc, 0, sizeof(*rc));
	sigd_cfg_edge(cfg, &rc->edge);
	rc->domains = cfg->domains;
	rc->ndomains = cfg->ndomains;
	rc->core = cfg->core;
	rc->ncore = cfg->ncore;
	dns_unpin_all();
	if (cfg->upstream[0]) {
		struct sip_ip ip;
		osip_uri_t *u;
		int err;

		if (osip_uri_init(&u))
			return -ENOMEM;
		err = osip_uri_parse(u, cfg->upstream) || !u->host ? -EINVAL : 0;
		/* A name: pinned (refreshed in the background), waited for only at start. */
		if (!err && sip_ip_parse(u->host, &ip)) {
			snprintf(rc->upstream_host, sizeof(rc->upstream_host), "%s", u->host);
			dns_pin(u->host);
			dns_lookup_wait(u->host, &ip);
		}
		err = err ?: sip_addr_from_uri(u, &rc->upstream);
		osip_uri_free(u);
		if (err) {
			xs_log(XS_LOG_ERR, "upstream %s: cannot parse or resolve\n", cfg->upstream);
			return err;
		}
		rc->have_upstream = true;
		rc->core_face = rc->upstream;
		add_core_ip(rc, rc->upstream.ip);
	}
	if (!rc->core_face.ip.af) {
		rc->core_face.ip.af = rc->edge.a[0].set ? AF_INET : AF_INET6;
		rc->core_face.proto = SIP_UDP;
	}
	for (unsigned int i = 0; i < cfg->ndomains; i++) {
		struct sip_ip ip;

		/* Later addresses of a pinned name count too (route_from_core()). */
		dns_pin(cfg->domains[i]);
		if (!dns_lookup_wait(cfg->domains[i], &ip))
			add_core_ip(rc, ip);
	}
	return 0;
}

bool route_from_core(const struct route_cfg *rc, const struct sip_ip *src)
{
	for (unsigned int i = 0; i < rc->ncore_ips; i++)
		if (sip_ip_eq(&rc->core_ips[i], src))
			return true;
	if ((rc->upstream_host[0] || rc->ndomains) && dns_pinned_addr(src))
		return true;
	for (unsigned int i = 0; i < rc->ncore; i++)
		if (sip_ip_in_cidr(src, &rc->core[i]))
			return true;
	return false;
}

bool route_domain_allowed(const struct route_cfg *rc, const char *host)
{
	if (!host)
		return false;
	for (unsigned int i = 0; i < rc->ndomains; i++)
		if (!strcasecmp(rc->domains[i], host))
			return true;
	return false;
}

static void set_reject(struct route_result *r, enum route_action a, int code, const char *reason)
{
	r->action = a;
	r->code = code;
	r->reason = reason;
}

/*
 * No next hop: a name still being resolved is worth a retry (503; over UDP
 * the caller drops it and the client's retransmission finds the cache
 * filled), anything else is 404.
 */
static void set_unroutable(struct route_result *r, int err)
{
	if (err == -EAGAIN || err == -ETIMEDOUT) {
		set_reject(r, ROUTE_REJECT, 503, "Service Unavailable (resolving)");
		r->resolving = err == -EAGAIN;
		return;
	}
	set_reject(r, ROUTE_REJECT, 404, "Not Found");
}

/*
 * What a Record-Route entry's MAC covers: the Call-ID (an entry copied from
 * another call does not verify) and its transport (the double entries of a
 * transport change are not interchangeable).
 */
static int rr_data(const osip_message_t *req, const char *proto, char *buf, size_t len)
{
	char cid[256];
	int n = snprintf(buf, len, "rr|%s|%s", msg_call_id(req, cid, sizeof(cid)),
			 proto ? proto : "");

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

bool route_uri_is_ours(const struct route_cfg *rc, const osip_message_t *req, const osip_uri_t *u)
{
	osip_uri_param_t *tag = NULL, *tp = NULL;
	char data[320];
	int n;

	if (!sip_edge_is_uri(&rc->edge, u))
		return false;
	osip_uri_param_get_byname((osip_list_t *)&u->url_params, "xs", &tag);
	osip_uri_param_get_byname((osip_list_t *)&u->url_params, "transport", &tp);
	n = rr_data(req, tp ? tp->gvalue : NULL, data, sizeof(data));
	return tag && tag->gvalue && n > 0 && secret_check(data, n, tag->gvalue, ROUTE_RR_MAC_HEX);
}

/*
 * A Request-URI naming the edge: its signed alias, else a registration (of
 * its user at the To URI's host: the full AOR), else -ENOENT.
 */
static int edge_target(const osip_message_t *req, osip_uri_t *ruri, struct route_result *r)
{
	int err = nat_alias_decode(ruri, &r->dst);

	if (!err) {
		nat_alias_strip(ruri);
		r->how = ROUTE_BY_ALIAS;
		return 0;
	}
	if (err != -ENOENT)
		return err; /* -EPERM: not ours; -EINVAL: malformed */
	if (binding_lookup_request(req, &r->dst))
		return -ENOENT;
	r->how = ROUTE_BY_BINDING;
	return 0;
}

/* Next hop for an in-dialog request following its route set and Request-URI (RFC 3261 16.6). */
static int next_hop(const struct route_cfg *rc, osip_message_t *req,
		    const struct sip_addr *dialog_hop, struct route_result *r)
{
	osip_route_t *rt = osip_list_get(&req->routes, 0);
	osip_uri_t *ruri = req->req_uri;
	int err;

	if (rt && rt->url) {
		r->how = ROUTE_BY_ROUTE;
		return sip_addr_from_uri(rt->url, &r->dst);
	}
	if (sip_edge_is_uri(&rc->edge, ruri)) {
		err = edge_target(req, ruri, r);
		if (err != -ENOENT || !dialog_hop)
			return err;
		/*
		 * A UA that ignored our Record-Route (sipp's built-in scenarios do)
		 * and names the edge without alias: the known dialog's other leg.
		 */
		r->dst = *dialog_hop;
		r->how = ROUTE_BY_DIALOG;
		return 0;
	}
	r->how = route_domain_allowed(rc, ruri->host) ? ROUTE_BY_DOMAIN : ROUTE_BY_RURI;
	return sip_addr_from_uri(ruri, &r->dst);
}

bool route_dst_allowed(const struct route_cfg *rc, const osip_message_t *req, bool from_core,
		       const struct sip_addr *dialog_hop, const struct route_result *r)
{
	/* The core chooses its destinations (a spoofed core source is the reverse-path check's). */
	if (from_core)
		return true;
	switch (r->how) {
	case ROUTE_BY_UPSTREAM:
	case ROUTE_BY_DOMAIN:
	case ROUTE_BY_ALIAS:
	case ROUTE_BY_BINDING:
	case ROUTE_BY_DIALOG:
		return true;
	case ROUTE_BY_ROUTE:
	case ROUTE_BY_RURI:
		/* A host the client named: only the core, or where its dialog goes anyway. */
		return route_from_core(rc, &r->dst.ip) ||
		       (dialog_hop && sip_ip_eq(&dialog_hop->ip, &r->dst.ip) &&
			dialog_hop->port == r->dst.port);
	default:
		return false;
	}
}

static void drop_routes(osip_message_t *req)
{
	osip_route_t *rt;

	while ((rt = osip_list_get(&req->routes, 0))) {
		osip_list_remove(&req->routes, 0);
		osip_route_free(rt);
	}
}

int route_bind(osip_message_t *req, const char *target, const char *routes)
{
	char hname[] = "route"; /* lowered in place by libosip2 */
	osip_message_t *tmp = NULL;
	osip_uri_t *u = NULL;
	osip_route_t *rt;
	char *copy = NULL;
	int err = -ENOMEM;

	if (osip_uri_init(&u) || osip_message_init(&tmp))
		goto out;
	err = -EINVAL;
	if (!target[0] || osip_uri_parse(u, target) || !u->host)
		goto out;
	/* The same splitting of a comma-separated list as the message parser's. */
	if (routes[0] &&
	    (!(copy = osip_strdup(routes)) || osip_message_set_multiple_header(tmp, hname, copy)))
		goto out;
	drop_routes(req);
	while ((rt = osip_list_get(&tmp->routes, 0))) {
		osip_list_remove(&tmp->routes, 0);
		osip_list_add(&req->routes, rt, -1);
	}
	osip_uri_free(req->req_uri);
	req->req_uri = u;
	u = NULL;
	err = 0;
out:
	osip_free(copy);
	if (u)
		osip_uri_free(u);
	if (tmp)
		osip_message_free(tmp);
	return err;
}

static void decide(const struct route_cfg *rc, osip_message_t *req, bool from_core,
		   const struct sip_addr *dialog_hop, struct route_result *r)
{
	osip_uri_t *ruri = req->req_uri;
	bool in_dialog = msg_to_tag(req) != NULL;
	bool ruri_is_edge = sip_edge_is_uri(&rc->edge, ruri);
	int err;

	if (ruri_is_edge && !ruri->username && !osip_list_size(&req->routes) &&
	    MSG_IS_OPTIONS(req)) {
		set_reject(r, ROUTE_LOCAL, 200, "OK");
		return;
	}
	if (from_core || (in_dialog && (dialog_hop || r->had_own_route))) {
		err = next_hop(rc, req, dialog_hop, r);
		if (err == -EPERM)
			set_reject(r, ROUTE_REJECT, 403, "Forbidden (alias not issued here)");
		else if (err)
			set_unroutable(r, err);
		else
			r->action = ROUTE_FORWARD;
		return;
	}
	/*
	 * From a client, out of dialog: the routing policy decides, nothing else.
	 * Not even a pre-loaded Route beyond the edge: the next hop would follow it.
	 */
	drop_routes(req);
	if (rc->ndomains && !ruri_is_edge && !route_domain_allowed(rc, ruri->host)) {
		set_reject(r, ROUTE_REJECT, 403, "Forbidden (domain not served)");
		return;
	}
	if (rc->have_upstream) {
		r->dst = rc->upstream;
		r->how = ROUTE_BY_UPSTREAM;
		/* A named upstream: its address as last refreshed (kept when a refresh fails). */
		if (rc->upstream_host[0])
			dns_lookup(rc->upstream_host, &r->dst.ip);
	} else if (ruri_is_edge) {
		err = edge_target(req, ruri, r);
		if (err == -EPERM) {
			set_reject(r, ROUTE_REJECT, 403, "Forbidden (alias not issued here)");
			return;
		} else if (err) {
			set_reject(r, ROUTE_REJECT, 404, "Not Found");
			return;
		}
	} else {
		r->how = route_domain_allowed(rc, ruri->host) ? ROUTE_BY_DOMAIN : ROUTE_BY_RURI;
		err = sip_addr_from_uri(ruri, &r->dst);
		if (err) {
			set_unroutable(r, err);
			return;
		}
	}
	r->action = ROUTE_FORWARD;
}

void route_request(const struct route_cfg *rc, osip_message_t *req, bool from_core,
		   const struct sip_addr *dialog_hop, struct route_result *r)
{
	osip_route_t *rt;

	memset(r, 0, sizeof(*r));
	/*
	 * Loose routing: remove the Route entries that name us (one or two). Only
	 * those we signed for this Call-ID say the request belongs to a dialog we
	 * record-routed; one that merely names the edge (a phone's outbound-proxy
	 * setting, or a forgery) is removed too, as it names where the request
	 * already is, but gives it no standing.
	 */
	while ((rt = osip_list_get(&req->routes, 0)) && sip_edge_is_uri(&rc->edge, rt->url)) {
		if (route_uri_is_ours(rc, req, rt->url))
			r->had_own_route = true;
		osip_list_remove(&req->routes, 0);
		osip_route_free(rt);
	}
	decide(rc, req, from_core, dialog_hop, r);
	/* The one place that judges a destination, whatever the branch above. */
	if (r->action == ROUTE_FORWARD && !route_dst_allowed(rc, req, from_core, dialog_hop, r))
		set_reject(r, ROUTE_REJECT, 403, "Forbidden (destination not allowed)");
}

static int add_rr(const struct route_cfg *rc, osip_message_t *req, int pos, int af, uint8_t sproto,
		  const char *proto)
{
	const struct sip_edge_addr *ea = sip_edge_for(&rc->edge, af);
	osip_record_route_t *rr;
	char buf[256], data[320], tag[ROUTE_RR_MAC_HEX + 1];
	int n = rr_data(req, proto, data, sizeof(data));

	if (n < 0)
		return n;
	secret_tag(data, n, tag, ROUTE_RR_MAC_HEX);
	snprintf(buf, sizeof(buf), "<sip:%s:%s;xs=%s%s%s;lr>", ea->host, sip_edge_port(ea, sproto),
		 tag, proto ? ";transport=" : "", proto ? proto : "");
	if (osip_record_route_init(&rr))
		return -ENOMEM;
	if (osip_record_route_parse(rr, buf)) {
		osip_record_route_free(rr);
		return -EINVAL;
	}
	osip_list_add(&req->record_routes, rr, pos);
	return 0;
}

int route_record(const struct route_cfg *rc, osip_message_t *req, const struct sip_addr *from,
		 const struct sip_addr *to)
{
	const struct sip_edge_addr *ein = sip_edge_for(&rc->edge, from->ip.af);
	const struct sip_edge_addr *eout = sip_edge_for(&rc->edge, to->ip.af);
	bool same_proto = from->proto == to->proto;
	int err;

	if (same_proto && ein == eout)
		return add_rr(rc, req, 0, to->ip.af, to->proto,
			      to->proto != SIP_UDP ? sip_proto_name(to->proto) : NULL);
	/*
	 * Double Record-Route: the top entry faces the next hop, the second the
	 * previous; each side then routes to the edge address of its own family
	 * and over its own transport.
	 */
	err = add_rr(rc, req, 0, to->ip.af, to->proto,
		     same_proto && to->proto == SIP_UDP ? NULL : sip_proto_name(to->proto));
	return err
		       ?: add_rr(rc, req, 1, from->ip.af, from->proto,
				 same_proto && from->proto == SIP_UDP
					 ? NULL
					 : sip_proto_name(from->proto));
}

int route_push_via(const struct route_cfg *rc, osip_message_t *req, const char *branch,
		   const struct sip_addr *dst)
{
	const struct sip_edge_addr *ea = sip_edge_for(&rc->edge, dst->ip.af);
	uint8_t proto = dst->proto;
	osip_via_t *v;

	if (osip_via_init(&v))
		return -ENOMEM;
	osip_via_set_version(v, osip_strdup("2.0"));
	osip_via_set_protocol(v, osip_strdup(sip_proto_via(proto)));
	/* libosip2 writes an IPv6 host in brackets. */
	osip_via_set_host(v, osip_strdup(ea->ip_str));
	osip_via_set_port(v, osip_strdup(sip_edge_port(ea, proto)));
	osip_via_set_branch(v, osip_strdup(branch));
	osip_via_param_add(v, osip_strdup("rport"), NULL);
	osip_list_add(&req->vias, v, 0);
	return 0;
}

bool route_via_is_ours(const struct route_cfg *rc, const osip_via_t *v)
{
	/* The prefix anyone can write: only the MAC says the edge issued it. */
	uint16_t port = 5060;

	if (v && v->port && v->port[0])
		port = atoi(v->port);
	return v && v->host && sip_edge_is_host(&rc->edge, v->host, port) &&
	       msg_branch_is_ours(msg_via_branch(v));
}
