/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Routing decisions: single upstream, or by Request-URI restricted to allowed
 * domains, never an open relay; loose routing (RFC 3261 16.4, 16.6),
 * Record-Route and our Via.
 *
 * What the edge hands out and later reads back carries a MAC (secret.h): its
 * Via branch (sipmsg.h), its Contact alias (nat.h) and its Record-Route
 * entries (;xs=, bound to the Call-ID). The destination of a client's request
 * is then decided in one place, route_request(), from what the edge issued or
 * was configured with, never from a host the client named.
 */
#ifndef XDPSBC_SIGD_ROUTE_H
#define XDPSBC_SIGD_ROUTE_H

#include "options.h"
#include "sigd.h"

#define ROUTE_MAX_CORE_IPS 64

struct route_cfg {
	struct sip_edge edge;
	/*
	 * The family the core is reached over (the upstream's, else IPv4 when
	 * the edge has an IPv4 address) and transport (the upstream's, else
	 * UDP): a client's rebuilt Contact faces the core and names the edge's
	 * address of that family and its port of that transport.
	 */
	struct sip_addr core_face;
	bool have_upstream;
	struct sip_addr upstream;
	char upstream_host[256]; /* the upstream's name when it has one ("" = a literal) */
	const char (*domains)[128];
	unsigned int ndomains;
	const struct xs_cidr *core;
	unsigned int ncore;
	/* Addresses of the upstream and the allowed domains, resolved at (re)load. */
	struct sip_ip core_ips[ROUTE_MAX_CORE_IPS];
	unsigned int ncore_ips;
};

enum route_action { ROUTE_FORWARD, ROUTE_LOCAL, ROUTE_REJECT };

/* Where the destination came from: what the policy in route_request() judges. */
enum route_how {
	ROUTE_BY_NONE,
	ROUTE_BY_UPSTREAM, /* the configured upstream */
	ROUTE_BY_DOMAIN,   /* the Request-URI's host, an allowed domain */
	ROUTE_BY_ALIAS,	   /* a Contact alias the edge signed */
	ROUTE_BY_BINDING,  /* a registration seen through the edge */
	ROUTE_BY_DIALOG,   /* the known dialog's other leg */
	ROUTE_BY_ROUTE,	   /* the first Route entry after ours */
	ROUTE_BY_RURI,	   /* the Request-URI's host */
};

struct route_result {
	enum route_action action;
	int code; /* ROUTE_LOCAL / ROUTE_REJECT: the response to send */
	const char *reason;
	struct sip_addr dst;
	enum route_how how;
	bool had_own_route; /* a Route entry the edge signed for this Call-ID was popped */
	bool resolving;	    /* 503 because a name is being looked up: over UDP, drop instead */
};

#define ROUTE_RR_MAC_HEX 16

/* Fill @rc from @cfg (resolving --upstream and the domains); @cfg must outlive @rc. */
int route_cfg_init(struct route_cfg *rc, const struct sigd_cfg *cfg);
/* Does @src belong to the core (upstream, allowed domains' hosts, --core)? */
bool route_from_core(const struct route_cfg *rc, const struct sip_ip *src);
bool route_domain_allowed(const struct route_cfg *rc, const char *host);
/*
 * Decide where @req goes: pops our own Route entries (those naming the edge
 * that do not verify are removed and count for nothing), strips an alias from
 * a Request-URI naming the edge. @dialog_hop: the Call-ID belongs to a dialog
 * the edge keeps, and this is where that dialog's requests from this sender
 * go (its other leg); NULL otherwise.
 *
 * The core is trusted to choose destinations. For a client's request the
 * destination must be the upstream, an allowed domain, a signed alias, a
 * registered binding, the dialog's other leg or a core address: anything
 * else is refused (403) and nothing is sent. A client's request out of
 * dialog loses all its Route entries: the edge chooses where it goes.
 */
void route_request(const struct route_cfg *rc, osip_message_t *req, bool from_core,
		   const struct sip_addr *dialog_hop, struct route_result *r);
/*
 * A client's request in a confirmed dialog with the core, rebuilt from the
 * dialog (RFC 3261 12.2.1.1): Request-URI @target (the core's remote target)
 * and Route set @routes (comma-separated, learned from the 2xx's
 * Record-Route beyond the edge, "" for none). The client chooses neither:
 * entries it adds after the edge's own, or a Request-URI of its own, never
 * reach a core proxy that would follow them. Nothing is changed on error
 * (-EINVAL: @target or @routes does not parse).
 */
int route_bind(osip_message_t *req, const char *target, const char *routes);
/* May a request go to @r->dst (route_request() checks this itself; for callers' overrides). */
bool route_dst_allowed(const struct route_cfg *rc, const osip_message_t *req, bool from_core,
		       const struct sip_addr *dialog_hop, const struct route_result *r);
/* Is @u one of our Record-Route entries for @req's Call-ID, its MAC valid? */
bool route_uri_is_ours(const struct route_cfg *rc, const osip_message_t *req, const osip_uri_t *u);
/*
 * Record-Route on a dialog-creating request that came from @from and goes to
 * @to; two entries when the transport or the address family changes, each
 * naming the edge's address of its side's family. Each carries ;xs=<MAC of
 * the Call-ID and its transport>.
 */
int route_record(const struct route_cfg *rc, osip_message_t *req, const struct sip_addr *from,
		 const struct sip_addr *to);
/* Push our Via (the edge address of @dst's family, @branch, rport) on top of @req. */
int route_push_via(const struct route_cfg *rc, osip_message_t *req, const char *branch,
		   const struct sip_addr *dst);
/* Is @v our Via (edge address and one of our branches)? */
bool route_via_is_ours(const struct route_cfg *rc, const osip_via_t *v);

#endif /* XDPSBC_SIGD_ROUTE_H */
