// SPDX-License-Identifier: GPL-2.0-only
/*
 * Responses coming back through the edge: pop our Via, absorb what is ours,
 * rewrite SDP and Contact, learn the dialog from the 2xx, forward to the
 * next Via. Also the proxy's timers and status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sip/binding.h"
#include "sip/dialog.h"
#include "sip/nat.h"
#include "sip/proxy_int.h"
#include "sip/txn.h"

/*
 * A response whose transaction is over. Only a 2xx retransmission of a
 * confirmed dialog's initial INVITE goes on (the callee retransmits it until
 * the ACK, and a restart forgets transactions), and only when it comes from
 * where that INVITE went, with the dialog's tags; it goes to where the
 * INVITE came from. Returns the destination, or NULL to drop.
 */
static const struct sip_addr *stray_2xx(const osip_message_t *m, const struct sip_addr *src,
					const char *cid)
{
	struct dialog *d = dlg_find(cid);

	if (!d || d->state != DLG_CONFIRMED || m->status_code < 200 || m->status_code >= 300 ||
	    !is_method(m, "INVITE") || strtoul(m->cseq->number, NULL, 10) != d->inv_cseq ||
	    strcmp(msg_from_tag(m) ?: "", d->a.tag) || strcmp(msg_to_tag(m) ?: "", d->b.tag) ||
	    !sip_addr_eq(src, &d->inv_hop))
		return NULL;
	return &d->inv_src;
}

/* The core's 2xx to a client's REGISTER: now the binding exists. */
static void register_done(struct proxy *p, struct txn *t, const osip_message_t *m)
{
	unsigned int e = binding_granted(m, &p->rc.edge, &t->src, t->reg_expires);
	char eb[LOG_ESC_LEN], ab[SIP_ADDR_STRLEN];

	binding_seen(t->reg_aor, &t->src, e);
	CLOG(XS_LOG_INFO, t->call_id, "registration %s at %s %s",
	     log_esc(t->reg_aor, eb, sizeof(eb)), sip_addr_str(&t->src, ab, sizeof(ab)),
	     e ? "accepted" : "removed");
	p->bindings_dirty = true;
	free(t->reg_aor);
	t->reg_aor = NULL;
}

static void drop_unmatched(struct proxy *p, const osip_message_t *m, const struct sip_addr *src,
			   const char *cid, const char *why)
{
	char ab[SIP_ADDR_STRLEN];

	p->st.dropped++;
	p->pol.refusals[POL_UNMATCHED_RESPONSE]++;
	CLOG(XS_LOG_INFO, cid, "response %d %s from %s dropped: %s", m->status_code, LOG_METHOD(m),
	     sip_addr_str(src, ab, sizeof(ab)), why);
}

void proxy_response(struct proxy *p, osip_message_t *m, const struct sip_addr *src, const char *cid)
{
	bool from_core = route_from_core(&p->rc, &src->ip);
	osip_via_t *v = msg_top_via(m);
	char branch[SIGD_BRANCH_LEN + 1], ab[SIP_ADDR_STRLEN], *out = NULL;
	osip_message_t *contacts = NULL;
	int code = m->status_code;
	const struct sip_addr *dst;
	struct dialog *d;
	struct txn *t;
	size_t out_len;

	if (!route_via_is_ours(&p->rc, v)) {
		CLOG(XS_LOG_DEBUG, cid, "response %d not for us, dropped", code);
		p->st.dropped++;
		return;
	}
	snprintf(branch, sizeof(branch), "%s", msg_via_branch(v));
	osip_list_remove(&m->vias, 0);
	osip_via_free(v);
	/*
	 * Believe and forward only the answer to a request the edge forwarded
	 * (its transaction: our branch and the CSeq method), from the hop it
	 * was sent to (address, port, transport: over TCP the connection it
	 * went on). Anything else is a forgery or a leftover.
	 */
	t = txn_find(branch, m->cseq->method);
	if (!t) {
		dst = stray_2xx(m, src, cid);
		if (!dst) {
			drop_unmatched(p, m, src, cid, "no transaction");
			return;
		}
		if (!from_core && nat_alias_contacts(m, &p->rc.edge, &p->rc.core_face, src)) {
			CLOG(XS_LOG_WARN, cid, "response %d: Contact cannot be rebuilt, dropped",
			     code);
			p->st.bad++;
			return;
		}
		if (!proxy_send_msg(p, m, dst, cid, NULL, NULL))
			CLOG(XS_LOG_DEBUG, cid, "%d retransmission forwarded (transaction over)",
			     code);
		return;
	}
	if (!sip_addr_eq(src, &t->dst)) {
		drop_unmatched(p, m, src, cid, "not from the request's next hop");
		return;
	}
	t->answered = true;
	if (t->local) {
		/* The answer to a CANCEL or BYE the edge itself sent. */
		CLOG(XS_LOG_DEBUG, cid, "%d to our %s absorbed", code, LOG_METHOD(m));
		if (code >= 200 && !t->resp_code)
			txn_set_response(t, code, "", 0, src);
		return;
	}
	if (code == 100)
		return; /* hop by hop: we sent our own */
	if (t->resp_code >= 200 && code >= 200) {
		/* A retransmitted final (a 2xx until the ACK): resend what we sent. */
		if (code == t->resp_code && t->resp_len)
			p->send(&t->resp_dst, t->resp, t->resp_len, p->send_arg);
		return;
	}
	if (!osip_list_size(&m->vias)) {
		/*
		 * A UAS that answered with only our Via (copied from our CANCEL, say):
		 * the transaction still knows the Vias of the request it answers.
		 */
		osip_message_t *req = txn_request(t);

		if (req)
			osip_list_clone(&req->vias, &m->vias,
					(int (*)(void *, void **))osip_via_clone);
		if (req)
			osip_message_free(req);
		if (!osip_list_size(&m->vias))
			return;
	}
	/* A client's Contacts, checked before the dialog or the media learn anything. */
	if (!from_core && nat_contacts_rebuild(m, &p->rc.edge, &p->rc.core_face, src, &contacts)) {
		CLOG(XS_LOG_WARN, cid, "response %d: Contact cannot be rebuilt, dropped", code);
		p->st.bad++;
		return;
	}
	d = dlg_find(cid);
	if (d && p->mc && code >= 180 && code < 300 && msg_has_body(m) && sdp_method(m)) {
		/* The answerer is the other side from the request's sender (its From tag). */
		enum media_side side =
			!strcmp(msg_from_tag(m) ?: "", d->a.tag) ? MEDIA_SIDE_B : MEDIA_SIDE_A;
		/* The response goes back to the request's sender. */
		struct media_src ms = media_src_of(src, from_core, &t->src);
		int err = media_rewrite(p->mc, m, cid, side, &ms);

		if (err) {
			CLOG(XS_LOG_WARN, cid, "%d %s SDP: %s; response dropped", code,
			     LOG_METHOD(m), media_strerror(err));
			p->st.bad++;
			if (contacts)
				osip_message_free(contacts);
			return;
		}
	}
	if (d && d->state == DLG_CONFIRMED && code >= 200 && code < 300 &&
	    (is_method(m, "INVITE") || is_method(m, "UPDATE")) &&
	    dlg_refresh(!strcmp(msg_from_tag(m) ?: "", d->a.tag) ? &d->b : &d->a, m, src)) {
		dlg_touch(d);
		proxy_save(p);
	}
	if (d && t->initial_invite && d->state == DLG_EARLY &&
	    strtoul(m->cseq->number, NULL, 10) == d->inv_cseq &&
	    !strcmp(msg_from_tag(m) ?: "", d->a.tag)) {
		if (code >= 200 && code < 300) {
			dlg_confirm(&p->rc.edge, d, m, src, from_core);
			CLOG(XS_LOG_INFO, cid, "answered %d", code);
			/* Answered: plain media timeout from now on, SDP in the 2xx or not. */
			if (p->mc)
				media_confirm(p->mc, cid);
			proxy_save(p);
		} else if (code > 100 && code < 200) {
			/* Still ringing: the early dialog lives as long as its INVITE (timer C). */
			d->ringing = time(NULL);
		} else if (code >= 300) {
			CLOG(XS_LOG_INFO, cid, "INVITE failed %d", code);
			if (p->mc)
				media_end(p->mc, cid);
			dlg_del(d);
			proxy_save(p);
		}
	}
	if (t->reg_aor && code >= 200 && code < 300)
		register_done(p, t, m);
	nat_contacts_apply(m, contacts);
	contacts = NULL;
	/*
	 * Back to where the request came from, whatever the next Via says: a
	 * Via is the sender's to write, the transaction's source is not.
	 */
	dst = &t->src;
	if (proxy_send_msg(p, m, dst, cid, &out, &out_len))
		return;
	proxy_count_failure(p, dst, code, m->cseq->method, cid);
	CLOG(XS_LOG_DEBUG, cid, "%d %s forwarded to %s", code, LOG_METHOD(m),
	     sip_addr_str(dst, ab, sizeof(ab)));
	txn_set_response(t, code, out, out_len, dst);
	osip_free(out);
}

static void on_resend(struct txn *t, void *arg)
{
	struct proxy *p = arg;

	p->send(&t->dst, t->fwd, t->fwd_len, p->send_arg);
}

/*
 * A transaction without final response at its expiry. An INVITE never
 * answered (timer B) or ringing too long (timer C, RFC 3261 16.8: the edge
 * cancels it downstream) gets 408 to the caller, and its early dialog and
 * media end; the transaction stays a while for the 487 and retransmissions.
 */
static bool on_timeout(struct txn *t, void *arg)
{
	struct proxy *p = arg;
	osip_message_t *req, *r;
	struct dialog *d;
	char *out = NULL;
	size_t len = 0;

	if (t->local || strcmp(t->method, "INVITE"))
		return false;
	p->st.timeouts++;
	req = txn_request(t);
	if (!req)
		return false;
	if (t->answered) {
		CLOG(XS_LOG_INFO, t->call_id, "INVITE ringing too long: CANCEL and 408");
		proxy_send_cancel(p, t);
	} else {
		CLOG(XS_LOG_INFO, t->call_id, "INVITE unanswered by next hop: 408");
	}
	r = msg_make_response(req, 408, "Request Timeout");
	osip_message_free(req);
	if (r && !proxy_send_msg(p, r, &t->src, t->call_id, &out, &len))
		txn_set_response(t, 408, out, len, &t->src);
	if (r)
		osip_message_free(r);
	osip_free(out);
	d = dlg_find(t->call_id);
	if (t->initial_invite && d && d->state == DLG_EARLY) {
		if (p->mc)
			media_end(p->mc, t->call_id);
		dlg_del(d);
		proxy_save(p);
	}
	return t->resp_code >= 200;
}

/*
 * Early dialogs whose final response never came (lost, or lost in a
 * restart). Only the early list is walked: the calls up cost nothing here.
 */
static void sweep_dialogs(struct proxy *p)
{
	time_t old = time(NULL) - DLG_EARLY_MAX_S;
	bool changed = false;

	for (struct dialog *d = dlg_first_early(), *next; d; d = next) {
		next = d->enext;
		if (d->state != DLG_EARLY || d->created > old || d->ringing > old)
			continue;
		CLOG(XS_LOG_INFO, d->call_id, "early dialog never answered; forgotten");
		if (p->mc)
			media_end(p->mc, d->call_id);
		dlg_del(d);
		changed = true;
	}
	if (changed)
		proxy_save(p);
}

void proxy_tick(struct proxy *p)
{
	uint64_t now = sigd_now_ms();

	txn_tick(now, on_resend, on_timeout, p);
	if ((p->dirty || p->bindings_dirty) && now - p->last_save_ms >= SAVE_INTERVAL_MS)
		proxy_flush(p);
	if (now - p->last_poll_ms >= 1000) {
		p->last_poll_ms = now;
		if (p->mc)
			media_poll(p->mc, proxy_media_timeout, p);
		sweep_dialogs(p);
		policy_tick(&p->pol);
	}
}

static void log_binding(const char *aor, const struct sip_addr *a, long ttl, void *arg)
{
	char ab[SIP_ADDR_STRLEN], eb[LOG_ESC_LEN];

	xs_log(XS_LOG_INFO, "  registration %s at %s, %ld s left\n", log_esc(aor, eb, sizeof(eb)),
	       sip_addr_str(a, ab, sizeof(ab)), ttl);
}

void proxy_status(struct proxy *p)
{
	char aa[SIP_ADDR_STRLEN], ba[SIP_ADDR_STRLEN], ref[512] = "";

	xs_log(XS_LOG_INFO,
	       "status: %u dialogs, %u transactions, %u registrations, %u calls with media; "
	       "rx %llu tx %llu bad %llu rejected %llu absorbed %llu timeouts %llu\n",
	       dlg_count(), txn_count(), binding_count(), p->mc ? media_calls(p->mc) : 0,
	       (unsigned long long)p->st.rx, (unsigned long long)p->st.tx,
	       (unsigned long long)p->st.bad, (unsigned long long)p->st.rejected,
	       (unsigned long long)p->st.retrans_absorbed, (unsigned long long)p->st.timeouts);
	for (int r = 0, n = 0; r < POL_REASON_MAX; r++)
		if (p->pol.refusals[r] && n < (int)sizeof(ref) - 1)
			n += snprintf(ref + n, sizeof(ref) - n, " %s %llu", pol_reason_label(r),
				      (unsigned long long)p->pol.refusals[r]);
	xs_log(XS_LOG_INFO,
	       "policy: blocks scanner %llu bruteforce %llu, %u sources tracked; "
	       "refusals:%s\n",
	       (unsigned long long)p->pol.blocks_scanner,
	       (unsigned long long)p->pol.blocks_bruteforce, p->pol.nsrc, ref[0] ? ref : " none");
	for (struct dialog *d = dlg_first(); d; d = d->next)
		CLOG(XS_LOG_INFO, d->call_id, "  %s, caller %s (%s), callee %s (%s), %lld s%s%s",
		     d->state == DLG_CONFIRMED ? "confirmed" : "early",
		     sip_addr_str(&d->a.addr, aa, sizeof(aa)), d->a.client ? "client" : "core",
		     sip_addr_str(&d->b.addr, ba, sizeof(ba)), d->b.client ? "client" : "core",
		     (long long)(time(NULL) - d->created), d->company[0] ? ", company " : "",
		     d->company);
	binding_foreach(log_binding, NULL);
}

unsigned int proxy_shutdown(struct proxy *p)
{
	proxy_save(p);
	proxy_flush(p);
	txn_flush();
	return dlg_count();
}
