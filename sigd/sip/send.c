// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the proxy puts out, below request and response handling: a message
 * serialised and sent (counted), the edge's own answers, the brute-force
 * accounting of failure answers, and the batched save of dialogs and
 * registrations to the state directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sip/binding.h"
#include "sip/dialog.h"
#include "sip/proxy_int.h"

int proxy_send_msg(struct proxy *p, osip_message_t *m, const struct sip_addr *dst, const char *cid,
		   char **out, size_t *out_len)
{
	char *buf = NULL, ab[SIP_ADDR_STRLEN];
	size_t len = 0;
	int err = msg_serialize(m, &buf, &len);

	if (err) {
		CLOG(XS_LOG_WARN, cid, "cannot serialise %s", LOG_METHOD(m));
		return err;
	}
	err = p->send(dst, buf, len, p->send_arg);
	if (err)
		CLOG(XS_LOG_WARN, cid, "send to %s: %s", sip_addr_str(dst, ab, sizeof(ab)),
		     strerror(-err));
	else
		p->st.tx++;
	if (out) {
		*out = buf;
		*out_len = len;
	} else {
		osip_free(buf);
	}
	return err;
}

void proxy_reply(struct proxy *p, const osip_message_t *req, const struct sip_addr *dst, int code,
		 const char *reason, const char *cid)
{
	osip_message_t *r = msg_make_response(req, code, reason);

	if (!r)
		return;
	if (code >= 300)
		CLOG(XS_LOG_INFO, cid, "%s answered %d %s", LOG_METHOD(req), code,
		     r->reason_phrase ? r->reason_phrase : "");
	proxy_send_msg(p, r, dst, cid, NULL, NULL);
	osip_message_free(r);
	proxy_count_failure(p, dst, code, msg_method(req), cid);
}

/* Brute-force accounting of a failure answer going to a client (ours or forwarded). */
void proxy_count_failure(struct proxy *p, const struct sip_addr *dst, int code, const char *method,
			 const char *cid)
{
	bool fail = code == 401 || code == 403 || code == 407 ||
		    (code >= 400 && method && !strcasecmp(method, "REGISTER"));

	if (fail && !route_from_core(&p->rc, &dst->ip))
		policy_failure(&p->pol, &dst->ip, code, method, cid);
}

/*
 * The dialogs changed (dlg_touch(), dlg_del()): save them soon. The save
 * appends only what changed to the dialog journal (dialog.h), batched into
 * proxy_tick() every SAVE_INTERVAL_MS: a call costs its own few records,
 * whatever the number of calls up. A sigd killed in that window loses only
 * the newest changes, and the pinned flows still carry their media.
 */
void proxy_save(struct proxy *p)
{
	p->dirty = true;
}

void proxy_flush(struct proxy *p)
{
	int err;

	if (!p->dirty && !p->bindings_dirty)
		return;
	p->last_save_ms = sigd_now_ms();
	if (p->dirty) {
		p->dirty = false;
		cluster_calls_changed(); /* a cluster edge writes the changed calls to Redis */
		err = dlg_save(p->state_dir);
		if (err)
			xs_log(XS_LOG_WARN, "saving dialogs to %s: %s\n", p->state_dir,
			       strerror(-err));
	}
	/* Registrations too: one rewrite per interval, not one per REGISTER. */
	if (p->bindings_dirty) {
		p->bindings_dirty = false;
		err = binding_save(p->state_dir);
		if (err)
			xs_log(XS_LOG_WARN, "saving registrations to %s: %s\n", p->state_dir,
			       strerror(-err));
	}
}
