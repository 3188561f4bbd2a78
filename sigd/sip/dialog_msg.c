// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the proxy learns of a dialog from its messages (see dialog.h): leg A
 * from the initial INVITE, leg B and the route sets from the 2xx, target
 * refreshes, in-dialog matching.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sip/dialog.h"
#include "sip/msg.h"
#include "policy/policy.h"

/*
 * Copy @s (osip_malloc'd, freed) into a dialog field. A quoted display name
 * may hold a tab: fields are kept free of control characters, so what is
 * saved loads back (statefile.h refuses them) and a BYE built from them
 * stays one header per line.
 */
/* False when @s did not fit (@dst holds its start). */
static bool copy_osip_str(char *dst, size_t len, char *s)
{
	int n = snprintf(dst, len, "%s", s ? s : "");

	for (char *c = dst; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	osip_free(s);
	return n >= 0 && (size_t)n < len;
}

/*
 * Record leg A of a new dialog from its initial INVITE. The Call-ID may
 * already have a dialog: only its owner (same source, same From tag) may
 * start it again while it is early (an INVITE sent anew after a 491, say);
 * anyone else gets -EEXIST, so a guessed Call-ID cannot take a call's media.
 * Returns 0 for a new dialog, 1 for the owner's again, or a negative errno.
 */
int dlg_start(osip_message_t *m, const char *cid, const struct sip_addr *src, bool from_core,
	      bool exempt, const struct sip_addr *dst, const struct pol_call *pc,
	      struct dialog **out)
{
	const char *ftag = msg_from_tag(m) ?: "";
	struct dialog *d = dlg_find(cid);
	osip_contact_t *c = osip_list_get(&m->contacts, 0);
	char *s = NULL;
	int err = 0, again = d != NULL;

	if (d &&
	    (d->state != DLG_EARLY || strcmp(d->a.tag, ftag) || !sip_addr_eq(&d->inv_src, src)))
		return -EEXIST;
	if (!d)
		d = dlg_new(cid, src, exempt, &err);
	if (!d)
		return err;
	d->state = DLG_EARLY;
	d->inv_cseq = strtoul(m->cseq->number, NULL, 10);
	snprintf(d->a.tag, sizeof(d->a.tag), "%s", ftag);
	osip_from_to_str(m->from, &s);
	copy_osip_str(d->a.hdr, sizeof(d->a.hdr), s);
	d->a.partial = !copy_osip_str(d->a.target, sizeof(d->a.target), c ? uri_str(c->url) : NULL);
	d->a.addr = *src;
	d->a.client = !from_core;
	d->a.cseq = d->inv_cseq;
	d->b.addr = *dst;
	d->b.client = from_core;
	d->inv_hop = *dst;
	snprintf(d->company, sizeof(d->company), "%s", pc->company);
	snprintf(d->brand, sizeof(d->brand), "%s", pc->brand);
	snprintf(d->rw_user, sizeof(d->rw_user), "%s", pc->rw_user);
	dlg_touch(d);
	*out = d;
	return again;
}

/*
 * Target refresh (RFC 3261 12.2.2): a re-INVITE or UPDATE may carry a new
 * Contact, and a client behind NAT may have a new binding; keep both so the
 * edge's own BYE on media timeout still reaches the leg.
 */
bool dlg_refresh(struct dlg_leg *leg, const osip_message_t *m, const struct sip_addr *src)
{
	osip_contact_t *c = osip_list_get(&m->contacts, 0);
	bool changed = false;
	char *t;

	if (leg->client && !sip_addr_eq(&leg->addr, src)) {
		leg->addr = *src;
		changed = true;
	}
	if (!c || !c->url || !(is_method(m, "INVITE") || is_method(m, "UPDATE")))
		return changed;
	t = uri_str(c->url);
	if (t && strcmp(t, leg->target)) {
		leg->partial |= !copy_osip_str(leg->target, sizeof(leg->target), t);
		return true;
	}
	osip_free(t);
	return changed;
}

/*
 * Where the known dialog @d sends in-dialog requests from its leg @leg (the
 * sender, matched by both tags in dlg_of()): the other leg; NULL without
 * a dialog.
 */
const struct sip_addr *dlg_hop(const struct dialog *d, const struct dlg_leg *leg)
{
	if (!d)
		return NULL;
	return leg == &d->a ? &d->b.addr : &d->a.addr;
}

/*
 * The dialog an in-dialog request belongs to: its Call-ID and both tags
 * (dlg_sender()). A request with a known Call-ID and foreign tags is
 * treated as belonging to no dialog: no routing by the dialog, no policy
 * exemption, no media change, no leg update.
 */
struct dialog *dlg_of(const osip_message_t *m, const char *cid, struct dlg_leg **leg)
{
	struct dialog *d = dlg_find(cid);

	*leg = NULL;
	if (!d || !msg_to_tag(m))
		return NULL;
	*leg = dlg_sender(d, msg_from_tag(m), msg_to_tag(m));
	return *leg ? d : NULL;
}

/* Appends @s to the comma-separated @buf: false, and @buf unchanged, when it does not fit. */
static bool append_route(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);
	int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", s);

	if (w < 0 || (size_t)w >= len - n) {
		buf[n] = 0;
		return false;
	}
	return true;
}

/* @leg's route set gets Record-Route entry @i of @m. */
static void add_route(struct dlg_leg *leg, const osip_message_t *m, int i)
{
	char *s = NULL;

	osip_record_route_to_str(osip_list_get(&m->record_routes, i), &s);
	if (!s || !append_route(leg->routes, sizeof(leg->routes), s))
		leg->partial = true;
	osip_free(s);
}

/* The route set of a 2xx's Record-Route list, split around our own entries. */
static void learn_routes(const struct sip_edge *edge, struct dialog *d, const osip_message_t *m)
{
	int n = osip_list_size(&m->record_routes), first = -1, last = -1;

	for (int i = 0; i < n; i++) {
		osip_record_route_t *rr = osip_list_get(&m->record_routes, i);

		if (sip_edge_is_uri(edge, rr->url)) {
			if (first < 0)
				first = i;
			last = i;
		}
	}
	d->a.routes[0] = d->b.routes[0] = 0;
	if (first < 0)
		return;
	/* Towards B (callee side): the entries above ours, nearest first. */
	for (int i = first - 1; i >= 0; i--)
		add_route(&d->b, m, i);
	for (int i = last + 1; i < n; i++)
		add_route(&d->a, m, i);
}

/* Where in-dialog requests to @leg go: its seen address, first route, or target. */
static void leg_addr(struct dlg_leg *leg, const struct sip_addr *seen)
{
	osip_route_t *rt = NULL;
	osip_uri_t *u = NULL;
	struct sip_addr a;

	if (leg->client && seen) {
		leg->addr = *seen;
		return;
	}
	if (leg->routes[0] && !osip_route_init(&rt) && !osip_route_parse(rt, leg->routes) &&
	    !sip_addr_from_uri(rt->url, &a))
		leg->addr = a;
	else if (leg->target[0] && !osip_uri_init(&u) && !osip_uri_parse(u, leg->target) &&
		 !sip_addr_from_uri(u, &a))
		leg->addr = a;
	if (rt)
		osip_route_free(rt);
	if (u)
		osip_uri_free(u);
}

void dlg_confirm(const struct sip_edge *edge, struct dialog *d, const osip_message_t *m,
		 const struct sip_addr *src, bool from_core)
{
	osip_contact_t *c = osip_list_get(&m->contacts, 0);
	char *s = NULL;

	dlg_set_confirmed(d);
	snprintf(d->b.tag, sizeof(d->b.tag), "%s", msg_to_tag(m) ?: "");
	osip_to_to_str(m->to, &s);
	copy_osip_str(d->b.hdr, sizeof(d->b.hdr), s);
	if (c)
		d->b.partial = !copy_osip_str(d->b.target, sizeof(d->b.target), uri_str(c->url));
	d->b.client = !from_core;
	learn_routes(edge, d, m);
	leg_addr(&d->b, src);
	if (!d->a.client)
		leg_addr(&d->a, NULL);
}
