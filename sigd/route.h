/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Routing decisions: single upstream, or by Request-URI restricted
 * to allowed domains, never an open relay; loose routing (RFC 3261 16.4,
 * 16.6), Record-Route and our Via.
 */
#ifndef XDPSBC_SIGD_ROUTE_H
#define XDPSBC_SIGD_ROUTE_H

#include "options.h"
#include "sigd.h"

#define ROUTE_MAX_CORE_IPS 64

struct route_cfg {
	struct sip_edge edge;
	bool have_upstream;
	struct sip_addr upstream;
	const char (*domains)[128];
	unsigned int ndomains;
	const struct xs_cidr *core;
	unsigned int ncore;
	/* Addresses of the upstream and the allowed domains, resolved at (re)load. */
	struct in_addr core_ips[ROUTE_MAX_CORE_IPS];
	unsigned int ncore_ips;
};

enum route_action { ROUTE_FORWARD, ROUTE_LOCAL, ROUTE_REJECT };

struct route_result {
	enum route_action action;
	int code; /* ROUTE_LOCAL / ROUTE_REJECT: the response to send */
	const char *reason;
	struct sip_addr dst;
	bool had_own_route;
};

/* Fill @rc from @cfg (resolving --upstream and the domains); @cfg must outlive @rc. */
int route_cfg_init(struct route_cfg *rc, const struct sigd_cfg *cfg);
/* Does @src belong to the core (upstream, allowed domains' hosts, --core)? */
bool route_from_core(const struct route_cfg *rc, const struct in_addr *src);
bool route_domain_allowed(const struct route_cfg *rc, const char *host);
/*
 * Decide where @req goes: pops our own Route entries, strips an alias from a
 * Request-URI naming the edge. @known_dialog: the Call-ID belongs to a dialog
 * the edge record-routed.
 */
void route_request(const struct route_cfg *rc, osip_message_t *req, bool from_core,
		   bool known_dialog, struct route_result *r);
/* Record-Route on a dialog-creating request; two entries when transports differ. */
int route_record(const struct route_cfg *rc, osip_message_t *req, uint8_t in_proto,
		 uint8_t out_proto);
/* Push our Via (with @branch and rport) on top of @req. */
int route_push_via(const struct route_cfg *rc, osip_message_t *req, const char *branch,
		   uint8_t proto);
/* Is @v our Via (edge address and one of our branches)? */
bool route_via_is_ours(const struct route_cfg *rc, const osip_via_t *v);

#endif /* XDPSBC_SIGD_ROUTE_H */
