// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "binding.h"
#include "nat.h"
#include "route.h"
#include "sipmsg.h"

static void add_core_ip(struct route_cfg *rc, struct in_addr ip)
{
	for (unsigned int i = 0; i < rc->ncore_ips; i++)
		if (rc->core_ips[i].s_addr == ip.s_addr)
			return;
	if (rc->ncore_ips < ROUTE_MAX_CORE_IPS)
		rc->core_ips[rc->ncore_ips++] = ip;
}

int route_cfg_init(struct route_cfg *rc, const struct sigd_cfg *cfg)
{
	memset(rc, 0, sizeof(*rc));
	sip_edge_init(&rc->edge, cfg->public_ip, cfg->listen.port);
	rc->domains = cfg->domains;
	rc->ndomains = cfg->ndomains;
	rc->core = cfg->core;
	rc->ncore = cfg->ncore;
	if (cfg->upstream[0]) {
		osip_uri_t *u;
		int err;

		if (osip_uri_init(&u))
			return -ENOMEM;
		err = osip_uri_parse(u, cfg->upstream) ? -EINVAL
						       : sip_addr_from_uri(u, &rc->upstream);
		osip_uri_free(u);
		if (err) {
			xs_log(XS_LOG_ERR, "upstream %s: cannot parse or resolve\n", cfg->upstream);
			return err;
		}
		rc->have_upstream = true;
		add_core_ip(rc, rc->upstream.ip);
	}
	for (unsigned int i = 0; i < cfg->ndomains; i++) {
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res;
		struct in_addr ip;

		if (inet_pton(AF_INET, cfg->domains[i], &ip) == 1) {
			add_core_ip(rc, ip);
		} else if (!getaddrinfo(cfg->domains[i], NULL, &hints, &res)) {
			add_core_ip(rc, ((struct sockaddr_in *)res->ai_addr)->sin_addr);
			freeaddrinfo(res);
		}
	}
	return 0;
}

bool route_from_core(const struct route_cfg *rc, const struct in_addr *src)
{
	for (unsigned int i = 0; i < rc->ncore_ips; i++)
		if (rc->core_ips[i].s_addr == src->s_addr)
			return true;
	for (unsigned int i = 0; i < rc->ncore; i++) {
		uint32_t mask =
			rc->core[i].prefixlen ? htonl(~0U << (32 - rc->core[i].prefixlen)) : 0;
		uint32_t net;

		memcpy(&net, rc->core[i].addr, 4);
		if ((src->s_addr & mask) == net)
			return true;
	}
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

/* Next hop for a request following its route set and Request-URI (RFC 3261 16.6). */
static int next_hop(const struct route_cfg *rc, osip_message_t *req, struct sip_addr *dst)
{
	osip_route_t *rt = osip_list_get(&req->routes, 0);
	osip_uri_t *ruri = req->req_uri;

	if (rt && rt->url)
		return sip_addr_from_uri(rt->url, dst);
	if (sip_edge_is_uri(&rc->edge, ruri)) {
		int err = nat_alias_decode(ruri, dst);

		if (!err) {
			nat_alias_strip(ruri);
			return 0;
		}
		if (err != -ENOENT)
			return err;
		/* The edge without alias: a user registered through us. */
		return binding_lookup(ruri->username, dst);
	}
	return sip_addr_from_uri(ruri, dst);
}

void route_request(const struct route_cfg *rc, osip_message_t *req, bool from_core,
		   bool known_dialog, struct route_result *r)
{
	osip_route_t *rt;
	osip_uri_t *ruri = req->req_uri;
	bool in_dialog = msg_to_tag(req) != NULL;
	bool ruri_is_edge = sip_edge_is_uri(&rc->edge, ruri);

	memset(r, 0, sizeof(*r));
	/* Loose routing: remove the Route entries that name us (one or two). */
	while ((rt = osip_list_get(&req->routes, 0)) && sip_edge_is_uri(&rc->edge, rt->url)) {
		osip_list_remove(&req->routes, 0);
		osip_route_free(rt);
		r->had_own_route = true;
	}
	if (ruri_is_edge && !ruri->username && !osip_list_size(&req->routes) &&
	    MSG_IS_OPTIONS(req)) {
		set_reject(r, ROUTE_LOCAL, 200, "OK");
		return;
	}
	if (from_core || (in_dialog && (known_dialog || r->had_own_route))) {
		if (next_hop(rc, req, &r->dst)) {
			set_reject(r, ROUTE_REJECT, 404, "Not Found");
			return;
		}
		/*
		 * A client's in-dialog request may only leave towards the core, another
		 * client (an alias) or a dialog we record-routed: a forged Route
		 * naming us must not make the edge a relay.
		 */
		if (!from_core && !known_dialog && !route_from_core(rc, &r->dst.ip) &&
		    !route_domain_allowed(rc, ruri->host) && !ruri_is_edge) {
			set_reject(r, ROUTE_REJECT, 403, "Forbidden");
			return;
		}
		r->action = ROUTE_FORWARD;
		return;
	}
	/* From a client, out of dialog: the routing policy decides, nothing else. */
	if (rc->ndomains && !ruri_is_edge && !route_domain_allowed(rc, ruri->host)) {
		set_reject(r, ROUTE_REJECT, 403, "Forbidden (domain not served)");
		return;
	}
	if (rc->have_upstream) {
		r->dst = rc->upstream;
	} else if (ruri_is_edge) {
		int err = nat_alias_decode(ruri, &r->dst);

		if (!err)
			nat_alias_strip(ruri);
		else if (binding_lookup(ruri->username, &r->dst)) {
			set_reject(r, ROUTE_REJECT, 404, "Not Found");
			return;
		}
	} else if (sip_addr_from_uri(ruri, &r->dst)) {
		set_reject(r, ROUTE_REJECT, 404, "Not Found");
		return;
	}
	r->action = ROUTE_FORWARD;
}

static int add_rr(const struct route_cfg *rc, osip_message_t *req, int pos, const char *proto)
{
	osip_record_route_t *rr;
	char buf[128];

	snprintf(buf, sizeof(buf), "<sip:%s:%s%s%s;lr>", rc->edge.ip_str, rc->edge.port_str,
		 proto ? ";transport=" : "", proto ? proto : "");
	if (osip_record_route_init(&rr))
		return -ENOMEM;
	if (osip_record_route_parse(rr, buf)) {
		osip_record_route_free(rr);
		return -EINVAL;
	}
	osip_list_add(&req->record_routes, rr, pos);
	return 0;
}

int route_record(const struct route_cfg *rc, osip_message_t *req, uint8_t in_proto,
		 uint8_t out_proto)
{
	int err;

	if (in_proto == out_proto)
		return add_rr(rc, req, 0, in_proto == SIP_TCP ? "tcp" : NULL);
	/* Double Record-Route: the top entry faces the next hop, the second the previous. */
	err = add_rr(rc, req, 0, sip_proto_name(out_proto));
	return err ?: add_rr(rc, req, 1, sip_proto_name(in_proto));
}

int route_push_via(const struct route_cfg *rc, osip_message_t *req, const char *branch,
		   uint8_t proto)
{
	osip_via_t *v;

	if (osip_via_init(&v))
		return -ENOMEM;
	osip_via_set_version(v, osip_strdup("2.0"));
	osip_via_set_protocol(v, osip_strdup(proto == SIP_TCP ? "TCP" : "UDP"));
	osip_via_set_host(v, osip_strdup(rc->edge.ip_str));
	osip_via_set_port(v, osip_strdup(rc->edge.port_str));
	osip_via_set_branch(v, osip_strdup(branch));
	osip_via_param_add(v, osip_strdup("rport"), NULL);
	osip_list_add(&req->vias, v, 0);
	return 0;
}

bool route_via_is_ours(const struct route_cfg *rc, const osip_via_t *v)
{
	const char *br = msg_via_branch(v);

	return v && v->host && !strcmp(v->host, rc->edge.ip_str) && br &&
	       !strncmp(br, SIGD_BRANCH_PREFIX, strlen(SIGD_BRANCH_PREFIX));
}
