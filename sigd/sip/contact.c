// SPDX-License-Identifier: GPL-2.0-only
/*
 * A client's Contacts, rebuilt on the edge (nat.h). Editing the client's
 * Contact in place kept whatever libosip2 had accepted: a parameter value
 * with an unbalanced quote and a comma came out as a second Contact the edge
 * never anchored, a host-less URI went through unchanged, an empty parameter
 * (";%") made the alias vanish on the next parse. So nothing of the client's
 * header is copied as text: each Contact is written anew from the edge URI,
 * the escaped user part, the signed alias and the parameters below, and the
 * whole result must parse back to what was meant.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sip/nat.h"
#include "sip/msg.h"

/* Contact header parameters kept (RFC 3261 20.10, RFC 3840 feature tags, RFC 5626). */
static const char *const hdr_params[] = {
	"expires",  "q",	"reg-id",  "methods",  "events",   "audio",
	"video",    "text",	"isfocus", "automata", "class",	   "duplex",
	"mobility", "priority", "schemes", "actor",    "language",
};

/*
 * Contact URI parameters kept: ob (RFC 5626 outbound), and the two line
 * identifiers common phones put there to tell their accounts apart.
 */
static const char *const uri_params[] = {"ob", "line", "rinstance"};

#define CONTACT_USER_MAX 128
#define CONTACT_LEN_MAX	 1024

static bool in_list(const char *const *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(l[i], name))
			return true;
	return false;
}

/* RFC 3261 25.1 token characters. */
static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("-.!%*_+`'~", *s)))
			return false;
	return true;
}

/* A quoted string with printable contents and no quote or backslash inside. */
static bool is_simple_quoted(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return false;
	for (size_t i = 1; i < n - 1; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

struct sbuf {
	char *p;
	size_t len, cap;
	bool full;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->full = true;
	else
		b->len += n;
}

/* The user part, unescaped by libosip2, escaped again: only unreserved characters stay. */
static int add_user(struct sbuf *b, const char *user)
{
	size_t n = strlen(user);

	if (n > CONTACT_USER_MAX)
		return -EINVAL;
	for (const unsigned char *c = (const unsigned char *)user; *c; c++) {
		/* Control characters have no business in a user name (logs, state files). */
		if (*c < 0x20 || *c == 0x7f)
			return -EINVAL;
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("-_.!~*'()+", *c))
			sb_add(b, "%c", *c);
		else
			sb_add(b, "%%%02X", *c);
	}
	sb_add(b, "@");
	return 0;
}

/* ;name[=value] for each kept parameter; a kept one with a bad name or value: -EINVAL. */
static int add_params(struct sbuf *b, const osip_list_t *l, bool uri)
{
	osip_generic_param_t *p;
	int pos = 0;

	while ((p = osip_list_get(l, pos++))) {
		const char *name = p->gname, *val = p->gvalue;
		bool keep;

		if (!name)
			continue;
		keep = uri ? in_list(uri_params, sizeof(uri_params) / sizeof(*uri_params), name)
			   : in_list(hdr_params, sizeof(hdr_params) / sizeof(*hdr_params), name) ||
				       (name[0] == '+' && name[1]);
		if (!keep)
			continue;
		if (!is_token(name) || (val && !is_token(val) && (uri || !is_simple_quoted(val))))
			return -EINVAL;
		sb_add(b, ";%s%s%s", name, val ? "=" : "", val ? val : "");
	}
	return 0;
}

static int build_one(struct sbuf *b, const osip_contact_t *c, const struct sip_edge_addr *edge,
		     uint8_t proto, const char *alias)
{
	const osip_uri_t *u = c->url;
	int err;

	if (!u || !u->host || !u->host[0] || !u->scheme ||
	    (strcasecmp(u->scheme, "sip") && strcasecmp(u->scheme, "sips")))
		return -EINVAL;
	sb_add(b, "<sip:");
	if (u->username && u->username[0]) {
		err = add_user(b, u->username);
		if (err)
			return err;
	}
	sb_add(b, "%s:%s", edge->host, sip_edge_port(edge, proto));
	err = add_params(b, &u->url_params, true);
	if (err)
		return err;
	/* The peer reaches the edge over its own transport: say so when not UDP. */
	if (proto != SIP_UDP)
		sb_add(b, ";transport=%s", sip_proto_name(proto));
	sb_add(b, ";alias=%s>", alias);
	return add_params(b, &c->gen_params, false);
}

/* Does the text in @hv parse, as a message would carry it, to @n Contacts naming the edge? */
static osip_message_t *reparse(const char *hv, int n, const struct sip_edge *edge,
			       const struct sip_addr *src)
{
	static const char head[] = "OPTIONS sip:x@invalid SIP/2.0\r\nContact: ";
	size_t len = strlen(head) + strlen(hv) + 5;
	char *text = malloc(len);
	osip_message_t *m = NULL;
	osip_contact_t *c;
	struct sip_addr a;
	int pos = 0, err;

	if (!text)
		return NULL;
	snprintf(text, len, "%s%s\r\n\r\n", head, hv);
	err = osip_message_init(&m) ? -ENOMEM : osip_message_parse(m, text, strlen(text));
	free(text);
	if (err || osip_list_size(&m->contacts) != n)
		goto bad;
	while ((c = osip_list_get(&m->contacts, pos++)))
		if (!sip_edge_is_uri(edge, c->url) || nat_alias_decode(c->url, &a) ||
		    !sip_addr_eq(&a, src))
			goto bad;
	return m;
bad:
	if (m)
		osip_message_free(m);
	return NULL;
}

int nat_contacts_rebuild(const osip_message_t *m, const struct sip_edge *edge,
			 const struct sip_addr *face, const struct sip_addr *src,
			 osip_message_t **out)
{
	int n = osip_list_size(&m->contacts), pos = 0, err;
	struct sbuf b = {.cap = (size_t)(n > 0 ? n : 1) * CONTACT_LEN_MAX};
	const osip_contact_t *c;
	char alias[64];

	*out = NULL;
	if (n <= 0)
		return 0;
	if (n > NAT_CONTACTS_MAX)
		return -EINVAL;
	c = osip_list_get(&m->contacts, 0);
	if (!c->url && c->displayname && !strcmp(c->displayname, "*")) {
		/* "Contact: *" (REGISTER removing all bindings): nothing to rewrite. */
		return n == 1 && MSG_IS_REGISTER(m) ? 0 : -EINVAL;
	}
	err = nat_alias_encode(src, alias, sizeof(alias));
	if (err)
		return err;
	b.p = malloc(b.cap);
	if (!b.p)
		return -ENOMEM;
	while (!err && (c = osip_list_get(&m->contacts, pos++))) {
		if (pos > 1)
			sb_add(&b, ", ");
		err = build_one(&b, c, sip_edge_for(edge, face->ip.af), face->proto, alias);
	}
	if (!err && b.full)
		err = -EINVAL;
	if (!err) {
		*out = reparse(b.p, n, edge, src);
		err = *out ? 0 : -EINVAL;
	}
	free(b.p);
	return err;
}

void nat_contacts_apply(osip_message_t *m, osip_message_t *rebuilt)
{
	osip_contact_t *c;

	if (!rebuilt)
		return;
	/* Swap the lists: @m now holds exactly what was checked. */
	osip_list_special_free(&m->contacts, (void (*)(void *))osip_contact_free);
	osip_list_init(&m->contacts);
	while ((c = osip_list_get(&rebuilt->contacts, 0))) {
		osip_list_remove(&rebuilt->contacts, 0);
		osip_list_add(&m->contacts, c, -1);
	}
	osip_message_free(rebuilt);
}

int nat_alias_contacts(osip_message_t *m, const struct sip_edge *edge, const struct sip_addr *face,
		       const struct sip_addr *src)
{
	osip_message_t *rebuilt;
	int err = nat_contacts_rebuild(m, edge, face, src, &rebuilt);

	if (!err)
		nat_contacts_apply(m, rebuilt);
	return err;
}
