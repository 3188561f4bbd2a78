// SPDX-License-Identifier: GPL-2.0-only
/*
 * Validate and rewrite SDP with libosip2's parser (see sdp.h). libosip2 is
 * lenient: it accepts "m=audio abc ..." or an m-line without any c=, so the
 * checks a relay depends on (ports, addresses) are made here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include "media/sdp.h"

/* Strict decimal port: "0".."65535", nothing else. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (!s || !*s || strlen(s) > 5)
		return -EBADMSG;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EBADMSG;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -EBADMSG;
	*port = (uint16_t)v;
	return 0;
}

/*
 * An address of c= or a=rtcp. IPv4 fills @addr (0.0.0.0 is a hold); IPv6
 * fills @a6 and sets @v6 (and @hold for "::"), leaving @addr 0.
 */
static int parse_addr(const char *nettype, const char *addrtype, const char *addr,
		      struct in_addr *out, struct in6_addr *a6, bool *v6, bool *hold)
{
	if (!nettype || !addrtype || !addr || strcasecmp(nettype, "IN"))
		return -EBADMSG;
	out->s_addr = 0;
	memset(a6, 0, sizeof(*a6));
	*v6 = false;
	if (!strcasecmp(addrtype, "IP4")) {
		if (inet_pton(AF_INET, addr, out) != 1)
			return -EBADMSG;
		*hold = out->s_addr == INADDR_ANY;
		return 0;
	}
	if (!strcasecmp(addrtype, "IP6")) {
		if (inet_pton(AF_INET6, addr, a6) != 1)
			return -EBADMSG;
		*v6 = true;
		*hold = IN6_IS_ADDR_UNSPECIFIED(a6);
		return 0;
	}
	return -EBADMSG;
}

/* "PORT [IN IP4 ADDR]" (RFC 3605). */
static int parse_rtcp(const char *value, struct sdp_media_info *mi)
{
	char port[8], net[8], type[8], addr[INET6_ADDRSTRLEN];
	bool hold;
	int n;

	if (!value)
		return -EBADMSG;
	n = sscanf(value, "%7s %7s %7s %45s", port, net, type, addr);
	if ((n != 1 && n != 4) || parse_port(port, &mi->rtcp_port) || !mi->rtcp_port)
		return -EBADMSG;
	if (n == 4) {
		if (parse_addr(net, type, addr, &mi->rtcp_addr, &mi->rtcp_addr6, &mi->rtcp_v6,
			       &hold))
			return -EBADMSG;
	}
	return 0;
}

/*
 * The edge relays UDP only (RTP/AVP, RTP/SAVP(F), UDP/TLS/RTP/SAVPF, udptl,
 * UDP/BFCP, ...). TCP media (MSRP, BFCP, RFC 4571 RTP) cannot be anchored, and
 * passing it by would leak the client's address, so those m-lines are rejected.
 */
static bool proto_is_udp(const char *proto)
{
	return proto && strncasecmp(proto, "TCP", 3) != 0;
}

static int parse_media(sdp_message_t *sdp, int i, struct sdp_media_info *mi)
{
	sdp_media_t *m = osip_list_get(&sdp->m_medias, i);
	sdp_connection_t *c;
	sdp_attribute_t *a;
	int j, err;

	memset(mi, 0, sizeof(*mi));
	err = parse_port(m->m_port, &mi->port);
	if (err)
		return err;
	mi->relay = i < SDP_MAX_MEDIA && proto_is_udp(m->m_proto);
	if (!mi->port || !mi->relay)
		return 0;

	c = osip_list_get(&m->c_connections, 0);
	if (!c)
		c = sdp->c_connection;
	if (!c)
		return -EBADMSG;
	err = parse_addr(c->c_nettype, c->c_addrtype, c->c_addr, &mi->addr, &mi->addr6, &mi->v6,
			 &mi->hold);
	if (err)
		return err;

	mi->rtcp_port = mi->port == 65535 ? 0 : mi->port + 1;
	mi->rtcp_addr = mi->addr;
	mi->rtcp_addr6 = mi->addr6;
	mi->rtcp_v6 = mi->v6;
	for (j = 0; (a = osip_list_get(&m->a_attributes, j)); j++) {
		if (!a->a_att_field)
			continue;
		if (!strcasecmp(a->a_att_field, "rtcp-mux")) {
			mi->mux = true;
		} else if (!strcasecmp(a->a_att_field, "rtcp")) {
			err = parse_rtcp(a->a_att_value, mi);
			if (err)
				return err;
		}
	}
	/*
	 * RTCP to another family than RTP's: the relay keeps one family per
	 * leg, so that address is unreachable (nothing is sent to it).
	 */
	if (mi->rtcp_v6 != mi->v6) {
		mi->rtcp_addr.s_addr = 0;
		memset(&mi->rtcp_addr6, 0, sizeof(mi->rtcp_addr6));
		mi->rtcp_v6 = mi->v6;
	}
	return 0;
}

/*
 * libosip2's SDP parser reads past the string it is given: an m= line without
 * a format list at the end of the text makes it look one byte beyond the
 * terminating NUL (and search on from there), so what it parses is never the
 * caller's buffer but a copy ended by a line break and SDP_PARSE_PAD zero
 * bytes, whatever the caller allocated.
 */
#define SDP_PARSE_PAD 8

static char *parse_copy(const char *text)
{
	size_t len = strlen(text);
	bool bare = !len || text[len - 1] != '\n';
	char *s = calloc(1, len + 2 + SDP_PARSE_PAD);

	if (!s)
		return NULL;
	memcpy(s, text, len);
	if (bare)
		memcpy(s + len, "\r\n", 2);
	return s;
}

int sdp_parse(const char *text, sdp_message_t **out, struct sdp_info *info)
{
	sdp_message_t *sdp;
	char *copy;
	int i, n, err;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	copy = parse_copy(text);
	if (!copy)
		return -ENOMEM;
	if (sdp_message_init(&sdp)) {
		free(copy);
		return -ENOMEM;
	}
	err = sdp_message_parse(sdp, copy);
	free(copy);
	if (err || !sdp->v_version || !sdp->o_addr) {
		sdp_message_free(sdp);
		return -EBADMSG;
	}
	n = osip_list_size(&sdp->m_medias);
	for (i = 0; i < n; i++) {
		struct sdp_media_info dummy;

		err = parse_media(sdp, i, i < SDP_MAX_MEDIA ? &info->m[i] : &dummy);
		if (err) {
			sdp_message_free(sdp);
			return err;
		}
	}
	info->n = (unsigned int)n;
	*out = sdp;
	return 0;
}

static int set_str(char **field, const char *value)
{
	char *s = osip_strdup(value);

	if (!s)
		return -ENOMEM;
	osip_free(*field);
	*field = s;
	return 0;
}

static bool is_unspecified(const char *addrtype, const char *addr)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (addrtype && !strcasecmp(addrtype, "IP6"))
		return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&a6);
	return addr && inet_pton(AF_INET, addr, &a4) == 1 && a4.s_addr == INADDR_ANY;
}

/* The edge address written into the SDP, as text of its family. */
struct edge_text {
	const char *type; /* "IP4", "IP6" */
	const char *any;  /* its unspecified address: a hold */
	char addr[INET6_ADDRSTRLEN];
};

/*
 * A connection address seen by the other side: the edge (of the family the
 * other side's leg uses, whatever the sender's was), or the unspecified
 * address when it was a hold, so a hold keeps meaning "do not send to me".
 */
static int rewrite_conn(sdp_connection_t *c, const struct edge_text *edge)
{
	bool hold = is_unspecified(c->c_addrtype, c->c_addr);
	int err;

	err = set_str(&c->c_nettype, "IN");
	err = err ?: set_str(&c->c_addrtype, edge->type);
	err = err ?: set_str(&c->c_addr, hold ? edge->any : edge->addr);
	/* A multicast TTL or count means nothing on a unicast edge address. */
	osip_free(c->c_addr_multicast_ttl);
	c->c_addr_multicast_ttl = NULL;
	osip_free(c->c_addr_multicast_int);
	c->c_addr_multicast_int = NULL;
	return err;
}

/*
 * ICE through an anchoring SBC: the candidates are the client's own addresses,
 * which the other side must not see and could not reach; the edge is the only
 * candidate. Strip them, as rtpengine does by default.
 */
static bool is_ice(const char *field)
{
	static const char *const ice[] = {"candidate",	  "remote-candidates", "ice-ufrag",
					  "ice-pwd",	  "ice-options",       "ice-lite",
					  "ice-mismatch", "end-of-candidates", "ice-pacing"};
	unsigned int i;

	for (i = 0; field && i < sizeof(ice) / sizeof(ice[0]); i++)
		if (!strcasecmp(field, ice[i]))
			return true;
	return false;
}

static void strip_ice(osip_list_t *attrs)
{
	sdp_attribute_t *a;
	int i = 0;

	while ((a = osip_list_get(attrs, i))) {
		if (is_ice(a->a_att_field)) {
			osip_list_remove(attrs, i);
			sdp_attribute_free(a);
		} else {
			i++;
		}
	}
}

static int rewrite_rtcp(sdp_attribute_t *a, uint16_t port, const struct edge_text *edge)
{
	char net[8], type[8], addr[INET6_ADDRSTRLEN], buf[80];
	int n;

	n = sscanf(a->a_att_value, "%*s %7s %7s %45s", net, type, addr);
	if (n == 3)
		snprintf(buf, sizeof(buf), "%u IN %s %s", port, edge->type,
			 is_unspecified(type, addr) ? edge->any : edge->addr);
	else
		snprintf(buf, sizeof(buf), "%u", port);
	return set_str(&a->a_att_value, buf);
}

static int rewrite_media(sdp_media_t *m, const struct sdp_media_info *mi, uint16_t edge_port,
			 const struct edge_text *edge)
{
	sdp_connection_t *c;
	sdp_attribute_t *a;
	char buf[8];
	int i, err = 0;

	for (i = 0; !err && (c = osip_list_get(&m->c_connections, i)); i++)
		err = rewrite_conn(c, edge);
	strip_ice(&m->a_attributes);
	if (err)
		return err;

	/* A rejected or disabled stream stays port 0 (RFC 3264 section 6). */
	snprintf(buf, sizeof(buf), "%u", mi && mi->relay && mi->port ? edge_port : 0);
	err = set_str(&m->m_port, buf);
	/* One port pair per m-line: "m=video 49170/2" becomes a single stream. */
	osip_free(m->m_number_of_port);
	m->m_number_of_port = NULL;
	if (err || !mi || !mi->relay || !mi->port)
		return err;

	for (i = 0; !err && (a = osip_list_get(&m->a_attributes, i)); i++)
		if (a->a_att_field && !strcasecmp(a->a_att_field, "rtcp") && a->a_att_value)
			err = rewrite_rtcp(a, edge_port + 1, edge);
	return err;
}

int sdp_rewrite(sdp_message_t *sdp, const struct sdp_info *info, const uint16_t *edge_port, int af,
		const void *addr, char **text)
{
	struct edge_text e = {.type = "IP4", .any = "0.0.0.0"}, *edge = &e;
	sdp_media_t *m;
	int i, err;

	*text = NULL;
	if (af == AF_INET6)
		e.type = "IP6", e.any = "::";
	else if (af != AF_INET)
		return -EAFNOSUPPORT;
	inet_ntop(af, addr, e.addr, sizeof(e.addr));

	/*
	 * o=: only the address changes. Session id and version pass through:
	 * each side bumps its version when its SDP changes, and the edge's SDP
	 * toward the other side changes only then (ports are kept per m-line),
	 * so the versions the other side sees stay consistent (RFC 3264 8).
	 */
	err = set_str(&sdp->o_nettype, "IN");
	err = err ?: set_str(&sdp->o_addrtype, edge->type);
	err = err ?: set_str(&sdp->o_addr, edge->addr);
	if (!err && sdp->c_connection)
		err = rewrite_conn(sdp->c_connection, edge);
	if (err)
		return err;
	strip_ice(&sdp->a_attributes);

	for (i = 0; (m = osip_list_get(&sdp->m_medias, i)); i++) {
		bool known = (unsigned int)i < info->n && i < SDP_MAX_MEDIA;

		err = rewrite_media(m, known ? &info->m[i] : NULL, known ? edge_port[i] : 0, edge);
		if (err)
			return err;
	}
	if (sdp_message_to_str(sdp, text))
		return -ENOMEM;
	return 0;
}

/* ---- the SDP body of a message ---- */

static bool ct_is(const osip_content_type_t *ct, const char *type, const char *subtype)
{
	return ct && ct->type && !strcasecmp(ct->type, type) &&
	       (!subtype || (ct->subtype && !strcasecmp(ct->subtype, subtype)));
}

osip_body_t *sdp_body(osip_message_t *msg, bool *multipart)
{
	osip_body_t *b;
	int i;

	*multipart = false;
	if (ct_is(msg->content_type, "application", "sdp"))
		return osip_list_get(&msg->bodies, 0);
	if (!ct_is(msg->content_type, "multipart", NULL))
		return NULL;
	*multipart = true;
	for (i = 0; (b = osip_list_get(&msg->bodies, i)); i++)
		if (ct_is(b->content_type, "application", "sdp"))
			return b;
	return NULL;
}

int sdp_body_replace(osip_message_t *msg, osip_body_t *b, char *text, bool multipart)
{
	size_t len = strlen(text);
	char buf[24], *s, *eoh;
	int err;

	osip_free(b->body);
	b->body = text;
	b->length = len;
	osip_message_force_update(msg);
	if (multipart) {
		/* The total is the serialized multipart body: let libosip2 build it. */
		if (osip_message_to_str(msg, &s, &len))
			return -ENOMEM;
		eoh = strstr(s, "\r\n\r\n");
		len = eoh ? len - (size_t)(eoh + 4 - s) : 0;
		osip_free(s);
	}
	snprintf(buf, sizeof(buf), "%zu", len);
	osip_content_length_free(msg->content_length);
	msg->content_length = NULL;
	err = osip_message_set_content_length(msg, buf);
	osip_message_force_update(msg);
	return err ? -ENOMEM : 0;
}
