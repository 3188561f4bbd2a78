/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers on parsed SIP messages (osipparser2): lookups, responses, branches. */
#ifndef XDPSBC_SIGD_SIPMSG_H
#define XDPSBC_SIGD_SIPMSG_H

#include <string.h>
#include <strings.h>
#include "sigd.h"

/*
 * Our branches: the RFC 3261 magic cookie, "xs", a 16-hex-digit transaction
 * id and a 16-hex-digit MAC of that id (secret.h), so a response's branch
 * can be checked as ours with no state: the id alone anyone could compute.
 */
#define SIGD_BRANCH_PREFIX  "z9hG4bKxs"
#define SIGD_BRANCH_ID_HEX  16
#define SIGD_BRANCH_MAC_HEX 16
#define SIGD_BRANCH_LEN	    (sizeof(SIGD_BRANCH_PREFIX) - 1 + SIGD_BRANCH_ID_HEX + SIGD_BRANCH_MAC_HEX)

/* parser_init() with libosip2 traces routed into xs_log. */
int sigd_osip_init(void);

uint64_t fnv1a(uint64_t h, const char *s);
#define FNV1A_INIT 0xcbf29ce484222325ULL

/* The Call-ID as text ("-" when missing). */
const char *msg_call_id(const osip_message_t *m, char *buf, size_t len);
const char *msg_from_tag(const osip_message_t *m);
const char *msg_to_tag(const osip_message_t *m);
osip_via_t *msg_top_via(const osip_message_t *m);
const char *msg_via_branch(const osip_via_t *v);
/* Via, From, To, Call-ID and CSeq all present and parsed? */
bool msg_has_required(const osip_message_t *m);
bool msg_has_body(const osip_message_t *m);
/* Request method, or the CSeq method of a response. */
const char *msg_method(const osip_message_t *m);

/*
 * A response to @req built from its Vias, From, To (a deterministic To tag is
 * added to non-100 responses lacking one, so a resent copy is identical),
 * Call-ID and CSeq.
 */
osip_message_t *msg_make_response(const osip_message_t *req, int code, const char *reason);
/* Serialise @m after any change; *buf is osip_malloc'd. */
int msg_serialize(osip_message_t *m, char **buf, size_t *len);

/*
 * The branch we put on a forwarded request: a keyed hash of what identifies
 * the incoming transaction (RFC 3261 16.11), so a retransmission gets the
 * same branch, and a CANCEL or an ACK for a non-2xx gets the INVITE's branch
 * (the method is left out on purpose for that reason), followed by its MAC.
 */
void msg_branch(const osip_message_t *req, char out[SIGD_BRANCH_LEN + 1]);
/* msg_branch() under the MAC key a rotation retired; false without one. */
bool msg_branch_prev(const osip_message_t *req, char out[SIGD_BRANCH_LEN + 1]);
/* A fresh branch for requests the proxy originates (BYE on media timeout). */
void msg_branch_random(char out[SIGD_BRANCH_LEN + 1]);
/* Is @br one of our branches, its MAC valid under the current or previous key? */
bool msg_branch_is_ours(const char *br);

/* Is @m a request (or the response to a request, by CSeq) of method @name? */
static inline bool is_method(const osip_message_t *m, const char *name)
{
	const char *meth = msg_method(m);

	return meth && !strcasecmp(meth, name);
}

static inline char *uri_str(const osip_uri_t *u)
{
	char *s = NULL;

	if (u)
		osip_uri_to_str(u, &s);
	return s;
}

#endif /* XDPSBC_SIGD_SIPMSG_H */
