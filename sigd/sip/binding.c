// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sip/binding.h"
#include "sip/nat.h"
#include "secret.h"
#include "sip/msg.h"
#include "sip/statefile.h"

#define BINDING_MAX	65536
#define BINDING_BUCKETS 4096

struct binding {
	char aor[BINDING_AOR_LEN];
	struct sip_addr addr;
	time_t expires;
	struct binding *next; /* same bucket */
};

/* Hashed by AOR with the install's key: every call to sip:user@edge looks one up. */
static struct binding *buckets[BINDING_BUCKETS];
static unsigned int nbind;
static unsigned int max_expires = BINDING_EXPIRES_DEFAULT;
static time_t last_expire;

static struct binding **bucket(const char *aor)
{
	return &buckets[secret_hash64(aor, strlen(aor)) % BINDING_BUCKETS];
}

void binding_set_max_expires(unsigned int seconds)
{
	max_expires = seconds;
}

static void expire(time_t now)
{
	last_expire = now;
	for (unsigned int i = 0; i < BINDING_BUCKETS; i++)
		for (struct binding **pp = &buckets[i], *b; (b = *pp);) {
			if (b->expires <= now) {
				*pp = b->next;
				free(b);
				nbind--;
			} else {
				pp = &b->next;
			}
		}
}

static int make_aor(const char *user, const char *host, char *buf, size_t len)
{
	size_t n;

	if (!host || !*host)
		return -EINVAL;
	/*
	 * Control characters (a user part unescaped from %0d%0a) are kept: the
	 * AOR is only a key, the state file escapes it and logs go through
	 * log_esc().
	 */
	n = snprintf(buf, len, "%s%s%s", user ? user : "", user && *user ? "@" : "", host);
	if (n >= len)
		return -EINVAL;
	/* The host part compares case-insensitively (RFC 3261 19.1.4); the user does not. */
	for (char *h = buf + n - strlen(host); *h; h++)
		*h = tolower((unsigned char)*h);
	return 0;
}

int binding_aor(const osip_uri_t *u, char *buf, size_t len)
{
	return u ? make_aor(u->username, u->host, buf, len) : -EINVAL;
}

void binding_seen(const char *aor, const struct sip_addr *src, unsigned int expires)
{
	time_t now = time(NULL);
	struct binding **pp, *b;

	if (!aor || !*aor || strlen(aor) >= sizeof(b->aor))
		return;
	/* A full pass at most once a second; lookups check the expiry themselves. */
	if (now != last_expire)
		expire(now);
	if (expires > max_expires)
		expires = max_expires;
	for (pp = bucket(aor); (b = *pp); pp = &b->next)
		if (!strcmp(b->aor, aor))
			break;
	if (b && !expires) {
		/* expires 0 unregisters. */
		*pp = b->next;
		free(b);
		nbind--;
		return;
	}
	if (!b) {
		if (!expires || nbind >= BINDING_MAX || !(b = calloc(1, sizeof(*b))))
			return;
		strcpy(b->aor, aor);
		b->next = *bucket(aor);
		*bucket(aor) = b;
		nbind++;
	}
	b->addr = *src;
	b->expires = now + expires;
}

int binding_lookup(const char *aor, struct sip_addr *out)
{
	time_t now = time(NULL);

	if (!aor)
		return -ENOENT;
	for (struct binding *b = *bucket(aor); b; b = b->next)
		if (b->expires > now && !strcmp(b->aor, aor)) {
			*out = b->addr;
			return 0;
		}
	return -ENOENT;
}

int binding_lookup_request(const osip_message_t *req, struct sip_addr *out)
{
	char aor[BINDING_AOR_LEN];

	if (!req->req_uri || !req->to || !req->to->url ||
	    make_aor(req->req_uri->username, req->to->url->host, aor, sizeof(aor)))
		return -ENOENT;
	return binding_lookup(aor, out);
}

unsigned int binding_count(void)
{
	expire(time(NULL));
	return nbind;
}

void binding_foreach(void (*fn)(const char *, const struct sip_addr *, long, void *), void *arg)
{
	time_t now = time(NULL);

	for (unsigned int i = 0; i < BINDING_BUCKETS; i++)
		for (struct binding *b = buckets[i]; b; b = b->next)
			if (b->expires > now)
				fn(b->aor, &b->addr, (long)(b->expires - now), arg);
}

static unsigned int parse_expires(const char *s, unsigned int dflt)
{
	char *end;
	unsigned long v;

	if (!s)
		return dflt;
	v = strtoul(s, &end, 10);
	if (end == s || *end)
		return dflt;
	return v > UINT32_MAX ? UINT32_MAX : v;
}

static unsigned int contact_expires(const osip_contact_t *c, unsigned int dflt)
{
	osip_generic_param_t *p = NULL;

	osip_generic_param_get_byname((osip_list_t *)&c->gen_params, "expires", &p);
	return p ? parse_expires(p->gvalue, dflt) : dflt;
}

static unsigned int header_expires(const osip_message_t *m, unsigned int dflt)
{
	osip_header_t *eh = NULL;

	osip_message_get_expires(m, 0, &eh);
	return eh ? parse_expires(eh->hvalue, dflt) : dflt;
}

int binding_register_request(const osip_message_t *reg, char *aor, size_t len,
			     unsigned int *expires)
{
	unsigned int dflt = header_expires(reg, 3600), best = 0;
	osip_contact_t *c;
	int pos = 0;

	if (!reg->to || binding_aor(reg->to->url, aor, len))
		return -EINVAL;
	while ((c = osip_list_get(&reg->contacts, pos++))) {
		/* "Contact: *" removes every binding. */
		unsigned int e = c->url ? contact_expires(c, dflt) : 0;

		if (e > best)
			best = e;
	}
	*expires = best;
	return 0;
}

unsigned int binding_granted(const osip_message_t *ok, const struct sip_edge *edge,
			     const struct sip_addr *src, unsigned int requested)
{
	unsigned int dflt = header_expires(ok, requested), best = 0;
	osip_contact_t *c;
	int pos = 0;

	if (!requested || !osip_list_size(&ok->contacts))
		return requested ? dflt : 0;
	while ((c = osip_list_get(&ok->contacts, pos++))) {
		struct sip_addr a;
		unsigned int e;

		if (!c->url || !sip_edge_is_uri(edge, c->url) || nat_alias_decode(c->url, &a) ||
		    !sip_addr_eq(&a, src))
			continue;
		e = contact_expires(c, dflt);
		if (e > best)
			best = e;
	}
	return best;
}

void binding_flush(void)
{
	for (unsigned int i = 0; i < BINDING_BUCKETS; i++)
		while (buckets[i]) {
			struct binding *b = buckets[i];

			buckets[i] = b->next;
			free(b);
		}
	nbind = 0;
}

static int emit(FILE *f, void *arg)
{
	for (unsigned int i = 0; i < BINDING_BUCKETS; i++)
		for (struct binding *b = buckets[i]; b; b = b->next) {
			int err = sf_put(f, json_pack("{s:s, s:o, s:I}", "aor", b->aor, "addr",
						      sf_addr(&b->addr), "expires",
						      (json_int_t)b->expires));

			if (err)
				return err;
		}
	return 0;
}

int binding_save(const char *dir)
{
	expire(time(NULL));
	return sf_write(dir, "bindings", emit, NULL);
}

static int load_rec(json_t *o, void *arg)
{
	char aor[BINDING_AOR_LEN], *at;
	time_t now = time(NULL);
	struct sip_addr a;
	uint64_t exp;

	if (sf_get_text(o, "aor", aor, sizeof(aor)) || sf_get_addr(o, "addr", &a) || !a.port ||
	    sf_get_uint(o, "expires", INT64_MAX, &exp) || json_object_size(o) != 3)
		return -EINVAL;
	/* user@host with a host in lower case, as binding_aor() writes it. */
	at = strrchr(aor, '@');
	for (const char *h = at ? at + 1 : aor; *h; h++)
		if (isupper((unsigned char)*h))
			return -EINVAL;
	if (!*(at ? at + 1 : aor))
		return -EINVAL;
	if ((time_t)exp <= now)
		return -ESTALE;
	binding_seen(aor, &a, (time_t)exp - now > max_expires ? max_expires : (time_t)exp - now);
	return 0;
}

int binding_load(const char *dir)
{
	return sf_read(dir, "bindings", load_rec, NULL);
}
