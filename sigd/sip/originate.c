// SPDX-License-Identifier: GPL-2.0-only
/*
 * Requests the edge sends on its own: CANCEL towards the callee for a
 * cancelled INVITE, and BYE to both legs when media times out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sip/dialog.h"
#include "sip/proxy_int.h"
#include "sip/msg.h"
#include "sip/txn.h"

/* Send @m as a request the edge owns: remember it to retransmit and absorb its answers. */
static void send_local(struct proxy *p, osip_message_t *m, const struct sip_addr *dst,
		       const char *cid, const char *branch)
{
	struct sip_addr none = {0};
	char *buf = NULL;
	size_t len = 0;
	struct txn *t;
	int err;

	if (proxy_send_msg(p, m, dst, cid, &buf, &len))
		return;
	/* Ours: bounded by the table, not by a source's share. */
	t = txn_add(branch, m->sip_method, cid, &none, true, &err);
	if (!t) {
		CLOG(XS_LOG_WARN, cid, "%s sent but not tracked: %s", LOG_METHOD(m),
		     strerror(-err));
		osip_free(buf);
		return;
	}
	t->local = true;
	t->dst = *dst;
	txn_set_fwd(t, buf, len);
}

/* RFC 3261 9.1: same Request-URI, Call-ID, From, To, Route and top Via as the INVITE. */
static osip_message_t *make_cancel(const char *invite, size_t len)
{
	osip_message_t *inv, *c = NULL;
	osip_via_t *v;
	int err;

	if (osip_message_init(&inv))
		return NULL;
	if (osip_message_parse(inv, invite, len) || !msg_has_required(inv) || osip_message_init(&c))
		goto out;
	osip_message_set_method(c, osip_strdup("CANCEL"));
	osip_message_set_version(c, osip_strdup("SIP/2.0"));
	err = osip_uri_clone(inv->req_uri, &c->req_uri);
	err = err ?: osip_via_clone(msg_top_via(inv), &v);
	if (!err)
		osip_list_add(&c->vias, v, 0);
	err = err
		      ?: osip_list_clone(&inv->routes, &c->routes,
					 (int (*)(void *, void **))osip_from_clone);
	err = err ?: osip_from_clone(inv->from, &c->from);
	err = err ?: osip_to_clone(inv->to, &c->to);
	err = err ?: osip_call_id_clone(inv->call_id, &c->call_id);
	err = err ?: osip_cseq_init(&c->cseq);
	if (err) {
		osip_message_free(c);
		c = NULL;
		goto out;
	}
	osip_cseq_set_number(c->cseq, osip_strdup(inv->cseq->number));
	osip_cseq_set_method(c->cseq, osip_strdup("CANCEL"));
	osip_message_set_max_forwards(c, "70");
	osip_message_set_content_length(c, "0");
out:
	osip_message_free(inv);
	return c;
}

void proxy_send_cancel(struct proxy *p, struct txn *inv)
{
	osip_message_t *c;

	if (!inv->fwd || inv->resp_code >= 200 || txn_find(inv->branch, "CANCEL"))
		return;
	c = make_cancel(inv->fwd, inv->fwd_len);
	if (!c) {
		CLOG(XS_LOG_WARN, inv->call_id, "cannot build CANCEL");
		return;
	}
	send_local(p, c, &inv->dst, inv->call_id, inv->branch);
	osip_message_free(c);
}

/*
 * The CANCEL only asks the callee to stop ringing: the media and the dialog
 * end with the INVITE's final response (the 487, or a 408 from timer C),
 * not here. A CANCEL crossing the 2xx thus leaves the answered call and its
 * media alone, and so does a CANCEL from anyone but the INVITE's sender.
 */
void proxy_cancel(struct proxy *p, osip_message_t *m, const struct sip_addr *src, const char *cid,
		  const char *branch)
{
	struct txn *inv = txn_find(branch, "INVITE");
	struct txn *own = txn_find(branch, "CANCEL");

	if (own && own->local && inv && sip_addr_eq(src, &inv->src)) {
		/* A retransmitted CANCEL: our 200 was lost. */
		proxy_reply(p, m, src, 200, "OK", cid);
		return;
	}
	if (!inv || inv->local || !sip_addr_eq(src, &inv->src)) {
		proxy_reply(p, m, src, 481, "Call/Transaction Does Not Exist", cid);
		return;
	}
	proxy_reply(p, m, src, 200, "OK", cid);
	if (inv->resp_code >= 200) {
		CLOG(XS_LOG_INFO, cid, "CANCEL after the final %d: nothing to cancel",
		     inv->resp_code);
		return;
	}
	CLOG(XS_LOG_INFO, cid, "CANCEL from caller");
	proxy_send_cancel(p, inv);
}

/* A BYE from leg @from to leg @to of @d, as the edge would send it for @from. */
static void send_bye(struct proxy *p, struct dialog *d, struct dlg_leg *from, struct dlg_leg *to)
{
	const struct sip_edge_addr *ea = sip_edge_for(&p->rc.edge, to->addr.ip.af);
	char branch[SIGD_BRANCH_LEN + 1], *buf;
	osip_message_t *m;
	size_t cap = 4096;
	int n;

	if (!to->target[0] || !to->hdr[0] || !from->hdr[0]) {
		CLOG(XS_LOG_WARN, d->call_id, "cannot send BYE: leg incomplete");
		return;
	}
	buf = malloc(cap);
	if (!buf)
		return;
	msg_branch_random(branch);
	from->cseq++;
	n = snprintf(buf, cap,
		     "BYE %s SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s:%s;branch=%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: %s\r\n"
		     "To: %s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u BYE\r\n"
		     "%s%s%s"
		     "Reason: Q.850;cause=102;text=\"media timeout\"\r\n"
		     "Content-Length: 0\r\n\r\n",
		     to->target, sip_proto_via(to->addr.proto), ea->host,
		     sip_edge_port(ea, to->addr.proto), branch, from->hdr, to->hdr, d->call_id,
		     from->cseq, to->routes[0] ? "Route: " : "", to->routes,
		     to->routes[0] ? "\r\n" : "");
	if (n <= 0 || (size_t)n >= cap || osip_message_init(&m)) {
		free(buf);
		return;
	}
	/* Through the parser, so what leaves is well-formed SIP or nothing. */
	if (!osip_message_parse(m, buf, n) && msg_has_required(m))
		send_local(p, m, &to->addr, d->call_id, branch);
	else
		CLOG(XS_LOG_WARN, d->call_id, "BYE did not parse; not sent");
	osip_message_free(m);
	free(buf);
}

void proxy_media_timeout(uint64_t cookie, void *arg)
{
	struct proxy *p = arg;
	struct dialog *d = dlg_find_cookie(cookie);

	if (!d) {
		xs_log(XS_LOG_INFO, "[cookie %016llx] media timeout of a call without dialog\n",
		       (unsigned long long)cookie);
		return;
	}
	if (d->state != DLG_CONFIRMED) {
		CLOG(XS_LOG_INFO, d->call_id, "media timeout before answer; flows ended");
		return;
	}
	CLOG(XS_LOG_INFO, d->call_id, "media timeout: BYE to both legs");
	send_bye(p, d, &d->a, &d->b);
	send_bye(p, d, &d->b, &d->a);
	dlg_del(d);
	proxy_save(p);
}
