// SPDX-License-Identifier: GPL-2.0-only
/*
 * Input and request processing. The proxy is transaction stateful only as
 * far as absorbing retransmissions and CANCEL need (txn.c); everything a
 * restart must not lose is either in the messages (Via, alias, Record-Route)
 * or in the dialog file (dialog.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "sip/binding.h"
#include "sip/dialog.h"
#include "sip/nat.h"
#include "sip/proxy_int.h"
#include "sip/proxy.h"
#include "sip/guard.h"
#include "sip/msg.h"
#include "sip/txn.h"

unsigned int proxy_count_calls(const char *company, const char *brand, const char *rw_user,
			       void *except_cid)
{
	unsigned int n = 0;

	for (struct dialog *d = dlg_first(); d; d = d->next) {
		if (except_cid && !strcmp(d->call_id, except_cid))
			continue;
		if ((company && !strcmp(d->company, company)) ||
		    (brand && d->brand[0] && !strcmp(d->brand, brand)) ||
		    (rw_user && !strcmp(d->rw_user, rw_user)))
			n++;
	}
	return n;
}

static unsigned int count_calls(const char *company, const char *brand, const char *rw_user,
				void *arg)
{
	return proxy_count_calls(company, brand, rw_user, arg);
}

/* The caps apply to new entries: lowering one never drops what exists. */
static void set_limits(const struct sigd_cfg *cfg)
{
	dlg_set_limits(cfg->max_dialogs, cfg->max_dialogs_src);
	txn_set_limits(cfg->max_txns, cfg->max_txns_src);
	binding_set_max_expires(cfg->max_reg_expires);
}

int proxy_init(struct proxy *p, const struct sigd_cfg *cfg, struct media_ctx *mc,
	       proxy_send_fn send, void *send_arg)
{
	memset(p, 0, sizeof(*p));
	p->mc = mc;
	p->send = send;
	p->send_arg = send_arg;
	snprintf(p->state_dir, sizeof(p->state_dir), "%s", cfg->state_dir);
	policy_init(&p->pol, &cfg->pol, NULL, NULL);
	set_limits(cfg);
	return route_cfg_init(&p->rc, cfg);
}

int proxy_reconfigure(struct proxy *p, const struct sigd_cfg *cfg)
{
	struct route_cfg rc;
	int err = route_cfg_init(&rc, cfg);

	if (err)
		return err;
	p->rc = rc;
	policy_set_cfg(&p->pol, &cfg->pol);
	set_limits(cfg);
	return 0;
}

int proxy_restore(struct proxy *p)
{
	int n = p->state_dir[0] ? dlg_load(p->state_dir) : 0;

	if (n < 0)
		xs_log(XS_LOG_WARN, "loading dialogs from %s: %s\n", p->state_dir, strerror(-n));
	for (struct dialog *d = dlg_first(); d; d = d->next)
		CLOG(XS_LOG_INFO, d->call_id, "restored %s dialog",
		     d->state == DLG_CONFIRMED ? "confirmed" : "early");
	if (p->state_dir[0] && binding_load(p->state_dir) > 0)
		xs_log(XS_LOG_INFO, "%u registrations restored\n", binding_count());
	return n;
}

static bool creates_dialog(const osip_message_t *m)
{
	return is_method(m, "INVITE") || is_method(m, "SUBSCRIBE") || is_method(m, "REFER");
}

/* Max-Forwards (RFC 3261 16.3 step 3, 16.6 step 3): 0 if it may go on, else -1. */
static int max_forwards(osip_message_t *m)
{
	osip_header_t *h = NULL;
	long n;

	osip_message_get_max_forwards(m, 0, &h);
	if (!h || !h->hvalue) {
		osip_message_set_max_forwards(m, "70");
		return 0;
	}
	n = strtol(h->hvalue, NULL, 10);
	if (n <= 0)
		return -1;
	if (n > 255)
		n = 255;
	osip_free(h->hvalue);
	h->hvalue = osip_malloc(8);
	snprintf(h->hvalue, 8, "%ld", n - 1);
	return 0;
}

/* Is @src exempt from the per-source caps (the core, a trusted source)? */
static bool cap_exempt(const struct proxy *p, const struct sip_addr *src, bool from_core)
{
	return from_core || policy_trusted(p->pol.cfg, &src->ip);
}

/* A request the edge refuses on its own (a cap, a Call-ID in use): counted and answered. */
static void refuse(struct proxy *p, const osip_message_t *m, const struct sip_addr *src,
		   enum pol_reason r, const char *cid)
{
	char ab[SIP_ADDR_STRLEN];

	p->pol.refusals[r]++;
	p->st.rejected++;
	CLOG(XS_LOG_INFO, cid, "%s from %s refused (%s)", LOG_METHOD(m),
	     sip_addr_str(src, ab, sizeof(ab)), pol_reason_label(r));
	proxy_reply(p, m, src, pol_reason_code(r), pol_reason_phrase(r), cid);
}

static enum pol_reason cap_reason(int err, bool dialog)
{
	if (err == -EEXIST)
		return POL_CALL_ID_IN_USE;
	if (err == -EDQUOT)
		return dialog ? POL_DIALOGS_PER_SOURCE : POL_TXNS_PER_SOURCE;
	return dialog ? POL_DIALOGS_FULL : POL_TXNS_FULL;
}

/*
 * A client's in-dialog request towards the core goes by the dialog's remote
 * target and route set, not by what the client wrote (route_bind()). Early
 * dialogs (no route set learned yet), legs whose target or route set did not
 * fit, and requests between two clients are routed as received, then judged.
 */
static void bind_to_dialog(const struct dialog *d, const struct dlg_leg *leg, osip_message_t *m,
			   bool from_core, const char *cid)
{
	const struct dlg_leg *to;

	if (from_core || !d || d->state != DLG_CONFIRMED)
		return;
	to = leg == &d->a ? &d->b : &d->a;
	if (to->client || to->partial)
		return;
	if (route_bind(m, to->target, to->routes))
		CLOG(XS_LOG_DEBUG, cid,
		     "%s: the dialog's target does not parse, routed as received", msg_method(m));
}

static void handle_ack(struct proxy *p, osip_message_t *m, const struct sip_addr *src,
		       const char *cid, bool from_core, const char *branch)
{
	struct txn *t = txn_find(branch, "INVITE");
	struct dlg_leg *leg;
	struct dialog *d = dlg_of(m, cid, &leg);
	struct route_result rr;

	if (max_forwards(m))
		return;
	/* The ACK of a failure is hop by hop: only from the INVITE's sender. */
	if (t && !t->local && t->resp_code >= 300 && !sip_addr_eq(src, &t->src))
		t = NULL;
	/*
	 * A client's ACK that belongs to no dialog and no forwarded INVITE
	 * acknowledges one of our own refusals (403, 486, ...): it ends here,
	 * rather than carrying an unauthorised source's traffic to the core.
	 */
	if (!from_core && !d && !t) {
		CLOG(XS_LOG_DEBUG, cid, "ACK without dialog or transaction absorbed");
		return;
	}
	bind_to_dialog(d, leg, m, from_core, cid);
	route_request(&p->rc, m, from_core, dlg_hop(d, leg), &rr);
	/*
	 * An ACK for a non-2xx final goes where its INVITE went (same branch):
	 * a destination the edge chose and judged for that INVITE.
	 */
	if (t && t->resp_code >= 300)
		rr.dst = t->dst, rr.action = ROUTE_FORWARD;
	if (rr.action != ROUTE_FORWARD) {
		CLOG(XS_LOG_DEBUG, cid, "ACK not routable (%d), dropped", rr.code);
		return;
	}
	/* Before the media learn anything from it (an ACK may carry the answer). */
	if (!from_core && nat_alias_contacts(m, &p->rc.edge, &p->rc.core_face, src)) {
		CLOG(XS_LOG_INFO, cid, "ACK Contact cannot be rebuilt, dropped");
		return;
	}
	if (p->mc && d && msg_has_body(m)) {
		enum media_side side = leg == &d->a ? MEDIA_SIDE_A : MEDIA_SIDE_B;
		struct media_src ms = media_src_of(src, from_core, &rr.dst);
		int err = media_rewrite(p->mc, m, cid, side, &ms);

		if (err) {
			/* Forwarded as is, its media would bypass the edge: dropped. */
			CLOG(XS_LOG_WARN, cid, "ACK SDP not rewritten: %s; ACK dropped",
			     media_strerror(err));
			return;
		}
	}
	route_push_via(&p->rc, m, branch, &rr.dst);
	if (!proxy_send_msg(p, m, &rr.dst, cid, NULL, NULL))
		CLOG(XS_LOG_DEBUG, cid, "ACK forwarded");
}

static void handle_retransmission(struct proxy *p, struct txn *t, const osip_message_t *m,
				  const struct sip_addr *src, const char *cid)
{
	p->st.retrans_absorbed++;
	if (t->local)
		return;
	if (t->resp) {
		CLOG(XS_LOG_DEBUG, cid, "%s retransmission: resending %d", t->method, t->resp_code);
		p->send(&t->resp_dst, t->resp, t->resp_len, p->send_arg);
	} else if (!strcmp(t->method, "INVITE")) {
		/* Our timer A retransmits towards the next hop; calm the caller. */
		proxy_reply(p, m, src, 100, "Trying", cid);
	} else if (t->fwd) {
		/* Non-INVITE: the client's retransmissions are our timer E. */
		p->send(&t->dst, t->fwd, t->fwd_len, p->send_arg);
	}
}

static int media_request(struct proxy *p, osip_message_t *m, struct dialog *d, const char *cid,
			 const struct sip_addr *src, const struct sip_addr *dst)
{
	struct media_src ms = media_src_of(src, route_from_core(&p->rc, &src->ip), dst);
	enum media_side side;
	int err;

	if (!p->mc || !d || !msg_has_body(m) || !sdp_method(m))
		return 0;
	side = !strcmp(msg_from_tag(m) ?: "", d->a.tag) ? MEDIA_SIDE_A : MEDIA_SIDE_B;
	err = media_rewrite(p->mc, m, cid, side, &ms);
	if (!err)
		return 0;
	CLOG(XS_LOG_WARN, cid, "%s SDP: %s", LOG_METHOD(m), media_strerror(err));
	if (err == -EBADMSG)
		proxy_reply(p, m, src, 400, "Bad Request (SDP)", cid);
	else if (err == -E2BIG)
		proxy_reply(p, m, src, 488, "Not Acceptable Here (too many media streams)", cid);
	else if (err == -EDQUOT)
		proxy_reply(p, m, src, 503, "Service Unavailable (media port limit)", cid);
	else if (err == -ENOSPC) /* no relay ports, or the relay flow table is full */
		proxy_reply(p, m, src, 503, "Service Unavailable (no media ports)", cid);
	else
		proxy_reply(p, m, src, 500, "Server Internal Error", cid);
	return err;
}

/*
 * Our branch for request @m: msg_branch(), unless the transaction it belongs
 * to (its own, or the INVITE of a CANCEL or ACK) began before a key rotation,
 * under the branch made with the previous key: then that one, so that
 * retransmissions, CANCEL and ACK still find it.
 */
static void request_branch(const osip_message_t *m, char branch[SIGD_BRANCH_LEN + 1])
{
	const char *meth = MSG_IS_ACK(m) || MSG_IS_CANCEL(m) ? "INVITE" : m->sip_method;
	char old[SIGD_BRANCH_LEN + 1];

	msg_branch(m, branch);
	if (!txn_find(branch, meth) && msg_branch_prev(m, old) && txn_find(old, meth))
		memcpy(branch, old, sizeof(old));
}

/*
 * A client's REGISTER: nothing is stored until the core accepts it (its 2xx
 * through this transaction, response.c), so a REGISTER the core refuses
 * (401, 403) leaves the AOR's binding as it was.
 */
static void register_pending(struct txn *t, const osip_message_t *m, const struct sip_addr *src,
			     const char *cid)
{
	char aor[BINDING_AOR_LEN], ab[SIP_ADDR_STRLEN], eb[LOG_ESC_LEN];
	unsigned int expires;

	if (binding_register_request(m, aor, sizeof(aor), &expires)) {
		CLOG(XS_LOG_INFO, cid, "REGISTER from %s: no usable address of record",
		     sip_addr_str(src, ab, sizeof(ab)));
		return;
	}
	free(t->reg_aor);
	t->reg_aor = strdup(aor);
	t->reg_expires = expires;
	CLOG(XS_LOG_INFO, cid, "REGISTER %s from %s, %u s asked", log_esc(aor, eb, sizeof(eb)),
	     sip_addr_str(src, ab, sizeof(ab)), expires);
}

/* 503 with Retry-After (RFC 3261 21.5.4): the next hop is being resolved. */
static void reply_retry_after(struct proxy *p, const osip_message_t *req,
			      const struct sip_addr *dst, const char *reason, const char *cid)
{
	osip_message_t *r = msg_make_response(req, 503, reason);

	if (!r)
		return;
	CLOG(XS_LOG_INFO, cid, "%s answered 503 %s", LOG_METHOD(req), reason);
	osip_message_set_header(r, "Retry-After", "5");
	proxy_send_msg(p, r, dst, cid, NULL, NULL);
	osip_message_free(r);
}

static void handle_request(struct proxy *p, osip_message_t *m, const struct sip_addr *src,
			   const char *cid)
{
	bool from_core = route_from_core(&p->rc, &src->ip);
	bool initial = is_method(m, "INVITE") && !msg_to_tag(m);
	char branch[SIGD_BRANCH_LEN + 1], ab[SIP_ADDR_STRLEN], *fwd = NULL;
	osip_message_t *orig = NULL, *contacts = NULL;
	struct route_result rr;
	struct pol_call pc;
	enum pol_reason pr;
	struct dlg_leg *leg;
	struct dialog *d;
	struct txn *t;
	size_t fwd_len = 0;
	bool changed = false, new_dialog = false;
	int err;

	nat_fix_via(m, src);
	request_branch(m, branch);
	if (MSG_IS_ACK(m)) {
		handle_ack(p, m, src, cid, from_core, branch);
		return;
	}
	if (MSG_IS_CANCEL(m)) {
		proxy_cancel(p, m, src, cid, branch);
		return;
	}
	t = txn_find(branch, m->sip_method);
	if (t) {
		handle_retransmission(p, t, m, src, cid);
		return;
	}
	/* Policy (policy.h): before anything is answered or routed. */
	d = dlg_of(m, cid, &leg);
	pr = policy_check_request(&p->pol, m, src, from_core, d != NULL, cid, count_calls,
				  (void *)cid, &pc);
	if (pr != POL_REASON_MAX) {
		if (pol_reason_code(pr))
			proxy_reply(p, m, src, pol_reason_code(pr), pol_reason_phrase(pr), cid);
		return;
	}
	if (max_forwards(m)) {
		/* RFC 3261 16.3 step 3: an OPTIONS may end here, answered by us. */
		if (MSG_IS_OPTIONS(m)) {
			proxy_reply(p, m, src, 200, "OK", cid);
		} else {
			p->pol.refusals[POL_TOO_MANY_HOPS]++;
			proxy_reply(p, m, src, 483, "Too Many Hops", cid);
		}
		return;
	}
	if (osip_message_clone(m, &orig))
		orig = NULL;
	bind_to_dialog(d, leg, m, from_core, cid);
	route_request(&p->rc, m, from_core, dlg_hop(d, leg), &rr);
	if (rr.action != ROUTE_FORWARD) {
		if (rr.resolving && src->proto == SIP_UDP) {
			/* The lookup is started; the client's retransmission will find it. */
			CLOG(XS_LOG_DEBUG, cid, "%s: next hop being resolved, dropped",
			     msg_method(m));
			p->st.dropped++;
			goto out;
		}
		if (rr.code >= 300)
			p->st.rejected++;
		if (rr.code == 403 || rr.code == 404)
			CLOG(XS_LOG_INFO, cid, "%s from %s not routed: %s", LOG_METHOD(m),
			     sip_addr_str(src, ab, sizeof(ab)), rr.reason);
		if (rr.code == 503)
			reply_retry_after(p, orig ?: m, src, rr.reason, cid);
		else
			proxy_reply(p, orig ?: m, src, rr.code, rr.reason, cid);
		goto out;
	}
	/* A client's Contacts, rebuilt before anything is allocated for the request. */
	if (!from_core && nat_contacts_rebuild(m, &p->rc.edge, &p->rc.core_face, src, &contacts)) {
		p->st.rejected++;
		CLOG(XS_LOG_INFO, cid, "%s from %s: Contact cannot be rebuilt", LOG_METHOD(m),
		     sip_addr_str(src, ab, sizeof(ab)));
		proxy_reply(p, orig ?: m, src, 400, "Bad Request (Contact)", cid);
		goto out;
	}
	/*
	 * Room first, in the dialog table and the transaction table: a request
	 * the edge cannot track is refused, never forwarded half-handled (an
	 * INVITE without a dialog would leave its media unanchored, a request
	 * without a transaction could not have its response matched).
	 */
	if (initial) {
		err = dlg_start(m, cid, src, from_core, cap_exempt(p, src, from_core), &rr.dst, &pc,
				&d);
		if (err < 0) {
			refuse(p, orig ?: m, src, cap_reason(err, true), cid);
			goto out;
		}
		new_dialog = err == 0;
		changed = true;
	}
	t = txn_add(branch, m->sip_method, cid, src, cap_exempt(p, src, from_core), &err);
	if (!t) {
		if (new_dialog)
			dlg_del(d);
		refuse(p, orig ?: m, src, cap_reason(err, false), cid);
		goto out;
	}
	t->dst = rr.dst;
	t->initial_invite = initial;
	if (is_method(m, "INVITE"))
		proxy_reply(p, orig ?: m, src, 100, "Trying", cid);
	if (initial) {
		char *ru = uri_str(m->req_uri), db[SIP_ADDR_STRLEN], eb[LOG_ESC_LEN];

		CLOG(XS_LOG_INFO, cid, "INVITE %s from %s (%s) to %s",
		     log_esc(ru ? ru : "?", eb, sizeof(eb)), sip_addr_str(src, ab, sizeof(ab)),
		     from_core ? "core" : "client", sip_addr_str(&rr.dst, db, sizeof(db)));
		osip_free(ru);
	} else if (d && m->cseq) {
		uint32_t n = strtoul(m->cseq->number, NULL, 10);

		if (n > leg->cseq)
			leg->cseq = n, changed = true;
		changed |= dlg_refresh(leg, m, src);
		if (changed)
			dlg_touch(d);
	}
	if (media_request(p, m, d, cid, src, &rr.dst)) {
		if (new_dialog)
			dlg_del(d);
		txn_del(t);
		goto out;
	}
	nat_contacts_apply(m, contacts);
	contacts = NULL;
	if (is_method(m, "REGISTER") && !from_core)
		register_pending(t, m, src, cid);
	if (!msg_to_tag(m) && creates_dialog(m))
		route_record(&p->rc, m, src, &rr.dst);
	route_push_via(&p->rc, m, branch, &rr.dst);
	if (proxy_send_msg(p, m, &rr.dst, cid, &fwd, &fwd_len) && initial)
		CLOG(XS_LOG_WARN, cid, "INVITE not sent; caller will retransmit");
	CLOG(XS_LOG_DEBUG, cid, "%s forwarded to %s", LOG_METHOD(m),
	     sip_addr_str(&rr.dst, ab, sizeof(ab)));
	/* Kept even when the send failed: timer A and the client's retransmissions resend it. */
	txn_set_fwd(t, fwd, fwd_len);
	if (is_method(m, "BYE") && d) {
		/* Only a BYE of the dialog (both tags) ends its media. */
		CLOG(XS_LOG_INFO, cid, "BYE from %s", from_core ? "core" : "client");
		if (p->mc)
			media_end(p->mc, cid);
		dlg_del(d);
		changed = true;
	}
out:
	if (orig)
		osip_message_free(orig);
	if (contacts)
		osip_message_free(contacts);
	if (changed)
		proxy_save(p);
}

void proxy_input(struct proxy *p, const char *buf, size_t len, const struct sip_addr *src)
{
	char cid[256], ab[SIP_ADDR_STRLEN];
	osip_message_t *m;
	size_t i;

	/* RFC 5626 keepalives (CRLF) and empty datagrams. */
	for (i = 0; i < len && (buf[i] == '\r' || buf[i] == '\n' || buf[i] == ' '); i++)
		;
	if (i == len)
		return;
	p->st.rx++;
	if (policy_check_raw(&p->pol, buf, len, &src->ip) != POL_REASON_MAX) {
		/* Not parsed, so no Call-ID: the size says enough. */
		p->pol.refusals[POL_TOO_BIG]++;
		p->st.bad++;
		xs_log(XS_LOG_INFO, "[-] policy: message of %zu bytes from %s dropped (too-big)\n",
		       len, sip_addr_str(src, ab, sizeof(ab)));
		return;
	}
	if (sipguard_raw(buf, len)) {
		/* What libosip2 would mishandle is never parsed: no Call-ID either. */
		p->st.bad++;
		p->pol.refusals[POL_UNPARSEABLE]++;
		xs_log(XS_LOG_WARN,
		       "[-] message of %zu bytes from %s dropped (repeated Content-Type)\n", len,
		       sip_addr_str(src, ab, sizeof(ab)));
		return;
	}
	if (osip_message_init(&m))
		return;
	if (osip_message_parse(m, buf, len) || (!MSG_IS_REQUEST(m) && !MSG_IS_RESPONSE(m))) {
		xs_log(XS_LOG_WARN, "[-] unparseable message (%zu bytes) from %s dropped\n", len,
		       sip_addr_str(src, ab, sizeof(ab)));
		p->st.bad++;
		p->pol.refusals[POL_UNPARSEABLE]++;
		goto out;
	}
	msg_call_id(m, cid, sizeof(cid));
	if (!policy_content_length_ok(buf, len)) {
		p->st.bad++;
		p->pol.refusals[POL_CONTENT_LENGTH]++;
		CLOG(XS_LOG_WARN, cid, "message from %s: Content-Length larger than the body",
		     sip_addr_str(src, ab, sizeof(ab)));
		if (MSG_IS_REQUEST(m) && !MSG_IS_ACK(m) && msg_has_required(m))
			proxy_reply(p, m, src, 400, "Bad Request (Content-Length)", cid);
		goto out;
	}
	if (!msg_has_required(m)) {
		p->st.bad++;
		p->pol.refusals[POL_MISSING_HEADERS]++;
		CLOG(XS_LOG_WARN, cid, "message from %s lacks Via/From/To/Call-ID/CSeq",
		     sip_addr_str(src, ab, sizeof(ab)));
		if (MSG_IS_REQUEST(m) && !MSG_IS_ACK(m) && msg_top_via(m))
			proxy_reply(p, m, src, 400, "Bad Request (missing headers)", cid);
		goto out;
	}
	if (MSG_IS_REQUEST(m))
		handle_request(p, m, src, cid);
	else
		proxy_response(p, m, src, cid);
out:
	osip_message_free(m);
}
