// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "secret.h"
#include "sip/msg.h"

uint64_t fnv1a(uint64_t h, const char *s)
{
	if (!s)
		s = "";
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	/* A separator, so ("ab","c") and ("a","bc") differ. */
	h ^= 0xff;
	h *= 0x100000001b3ULL;
	return h;
}

const char *msg_call_id(const osip_message_t *m, char *buf, size_t len)
{
	const osip_call_id_t *c = m->call_id;

	if (!c || !c->number)
		snprintf(buf, len, "-");
	else if (c->host)
		snprintf(buf, len, "%s@%s", c->number, c->host);
	else
		snprintf(buf, len, "%s", c->number);
	return buf;
}

static const char *tag_of(const osip_from_t *f)
{
	osip_generic_param_t *p = NULL;

	if (!f)
		return NULL;
	osip_generic_param_get_byname((osip_list_t *)&f->gen_params, "tag", &p);
	return p && p->gvalue && p->gvalue[0] ? p->gvalue : NULL;
}

const char *msg_from_tag(const osip_message_t *m)
{
	return tag_of(m->from);
}

const char *msg_to_tag(const osip_message_t *m)
{
	return tag_of(m->to);
}

osip_via_t *msg_top_via(const osip_message_t *m)
{
	return osip_list_get(&m->vias, 0);
}

const char *msg_via_branch(const osip_via_t *v)
{
	osip_generic_param_t *p = NULL;

	if (!v)
		return NULL;
	osip_generic_param_get_byname((osip_list_t *)&v->via_params, "branch", &p);
	return p ? p->gvalue : NULL;
}

bool msg_has_required(const osip_message_t *m)
{
	const osip_via_t *v = msg_top_via(m);

	return v && v->host && m->from && m->from->url && m->to && m->to->url && m->call_id &&
	       m->call_id->number && m->cseq && m->cseq->method && m->cseq->number &&
	       (!MSG_IS_REQUEST(m) || (m->req_uri && m->sip_method));
}

bool msg_has_body(const osip_message_t *m)
{
	return osip_list_size(&m->bodies) > 0;
}

const char *msg_method(const osip_message_t *m)
{
	if (MSG_IS_REQUEST(m))
		return m->sip_method;
	return m->cseq ? m->cseq->method : "";
}

/*
 * What identifies the incoming transaction, hashed with the install's hash
 * key: fields are length-prefixed so ("ab","c") and ("a","bc") differ, and
 * keyed so that no sender can aim two transactions at one id.
 */
static void id_add(char *buf, size_t cap, size_t *n, const char *s)
{
	size_t l = s ? strlen(s) : 0;
	int w;

	if (*n >= cap)
		return;
	w = snprintf(buf + *n, cap - *n, "%zu:%s|", l, s ? s : "");
	*n = w < 0 ? cap : *n + (size_t)w;
}

static uint64_t txn_hash(const osip_message_t *req)
{
	const osip_via_t *v = msg_top_via(req);
	const char *br = msg_via_branch(v);
	char cid[256], buf[2048];
	size_t n = 0;

	id_add(buf, sizeof(buf), &n, br);
	id_add(buf, sizeof(buf), &n, v ? v->host : NULL);
	id_add(buf, sizeof(buf), &n, v ? v->port : NULL);
	id_add(buf, sizeof(buf), &n, msg_call_id(req, cid, sizeof(cid)));
	if (!br || strncmp(br, "z9hG4bK", 7)) {
		/* RFC 2543 peers: no unique branch, identify by dialog and CSeq. */
		char *ruri = NULL;

		if (req->req_uri)
			osip_uri_to_str(req->req_uri, &ruri);
		id_add(buf, sizeof(buf), &n, req->cseq ? req->cseq->number : NULL);
		id_add(buf, sizeof(buf), &n, msg_from_tag(req));
		id_add(buf, sizeof(buf), &n, ruri);
		osip_free(ruri);
	}
	/* A truncated identity (a huge Via) still hashes what fitted: deterministic. */
	return secret_hash64(buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
}

static bool branch_of(uint64_t id, bool prev, char out[SIGD_BRANCH_LEN + 1])
{
	const size_t plen = sizeof(SIGD_BRANCH_PREFIX) - 1;
	char mac[SIGD_BRANCH_MAC_HEX + 1];

	snprintf(out, SIGD_BRANCH_LEN + 1, SIGD_BRANCH_PREFIX "%016llx", (unsigned long long)id);
	if (!prev)
		secret_tag(out + plen, SIGD_BRANCH_ID_HEX, mac, SIGD_BRANCH_MAC_HEX);
	else if (!secret_tag_prev(out + plen, SIGD_BRANCH_ID_HEX, mac, SIGD_BRANCH_MAC_HEX))
		return false;
	memcpy(out + plen + SIGD_BRANCH_ID_HEX, mac, SIGD_BRANCH_MAC_HEX + 1);
	return true;
}

void msg_branch(const osip_message_t *req, char out[SIGD_BRANCH_LEN + 1])
{
	branch_of(txn_hash(req), false, out);
}

bool msg_branch_prev(const osip_message_t *req, char out[SIGD_BRANCH_LEN + 1])
{
	return branch_of(txn_hash(req), true, out);
}

void msg_branch_random(char out[SIGD_BRANCH_LEN + 1])
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = sigd_now_ms() ^ (uint64_t)(uintptr_t)out;
	branch_of(r, false, out);
}

bool msg_branch_is_ours(const char *br)
{
	const size_t plen = sizeof(SIGD_BRANCH_PREFIX) - 1;

	if (!br || strlen(br) != SIGD_BRANCH_LEN || strncmp(br, SIGD_BRANCH_PREFIX, plen))
		return false;
	return secret_check(br + plen, SIGD_BRANCH_ID_HEX, br + plen + SIGD_BRANCH_ID_HEX,
			    SIGD_BRANCH_MAC_HEX);
}

osip_message_t *msg_make_response(const osip_message_t *req, int code, const char *reason)
{
	osip_message_t *r;
	int err;

	if (osip_message_init(&r))
		return NULL;
	osip_message_set_version(r, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(r, code);
	osip_message_set_reason_phrase(r, osip_strdup(reason ? reason
						      : osip_message_get_reason(code)
							      ? osip_message_get_reason(code)
							      : "Unknown"));
	/* Tolerant of missing headers: a 400 for a bad request still gets out. */
	err = osip_list_clone(&req->vias, &r->vias, (int (*)(void *, void **))osip_via_clone);
	if (!err && req->from)
		err = osip_from_clone(req->from, &r->from);
	if (!err && req->to)
		err = osip_to_clone(req->to, &r->to);
	if (!err && req->call_id)
		err = osip_call_id_clone(req->call_id, &r->call_id);
	if (!err && req->cseq)
		err = osip_cseq_clone(req->cseq, &r->cseq);
	if (err || !osip_list_size(&r->vias)) {
		osip_message_free(r);
		return NULL;
	}
	if (code > 100 && r->to && !msg_to_tag(r)) {
		char tag[24];

		snprintf(tag, sizeof(tag), "xs%08x", (unsigned int)txn_hash(req));
		osip_to_set_tag(r->to, osip_strdup(tag));
	}
	osip_message_set_header(r, "Server", "xdpsbc-sigd");
	osip_message_set_content_length(r, "0");
	return r;
}

int msg_serialize(osip_message_t *m, char **buf, size_t *len)
{
	osip_message_force_update(m);
	if (osip_message_to_str(m, buf, len) || !*buf)
		return -EBADMSG;
	return 0;
}

/* libosip2's own complaints (a bad start line...) go to our log, at debug level. */
static void osip_trace_to_log(const char *file, int line, osip_trace_level_t level, const char *fmt,
			      va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\r\n")] = 0;
	xs_log(XS_LOG_DEBUG, "osip: %s\n", buf);
}

int sigd_osip_init(void)
{
	osip_trace_initialize_func(OSIP_WARNING, osip_trace_to_log);
	return parser_init();
}
