// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "binding.h"
#include "sipmsg.h"

#define BINDING_MAX 65536

struct binding {
	char aor[256];
	char user[128];
	struct sip_addr addr;
	time_t expires;
	struct binding *next;
};

static struct binding *bindings;
static unsigned int nbind;

static void expire(time_t now)
{
	for (struct binding **pp = &bindings, *b; (b = *pp);) {
		if (b->expires <= now) {
			*pp = b->next;
			free(b);
			nbind--;
		} else {
			pp = &b->next;
		}
	}
}

void binding_seen(const char *user, const char *host, const struct sip_addr *src,
		  unsigned int expires)
{
	char aor[256];
	time_t now = time(NULL);
	struct binding *b;

	expire(now);
	snprintf(aor, sizeof(aor), "%s@%s", user ? user : "", host ? host : "");
	for (b = bindings; b; b = b->next)
		if (!strcmp(b->aor, aor))
			break;
	if (!b) {
		if (!expires || nbind >= BINDING_MAX || !(b = calloc(1, sizeof(*b))))
			return;
		snprintf(b->aor, sizeof(b->aor), "%s", aor);
		snprintf(b->user, sizeof(b->user), "%s", user ? user : "");
		b->next = bindings;
		bindings = b;
		nbind++;
	}
	b->addr = *src;
	/* expires 0 unregisters: let the next expire() pass drop it. */
	b->expires = now + expires;
	if (!expires)
		expire(now);
}

int binding_lookup(const char *user, struct sip_addr *out)
{
	time_t now = time(NULL), best = 0;

	for (struct binding *b = bindings; b; b = b->next)
		if (b->expires > now && user && !strcmp(b->user, user) && b->expires > best) {
			*out = b->addr;
			best = b->expires;
		}
	return best ? 0 : -ENOENT;
}

unsigned int binding_count(void)
{
	expire(time(NULL));
	return nbind;
}

void binding_foreach(void (*fn)(const char *, const struct sip_addr *, long, void *), void *arg)
{
	time_t now = time(NULL);

	for (struct binding *b = bindings; b; b = b->next)
		if (b->expires > now)
			fn(b->aor, &b->addr, (long)(b->expires - now), arg);
}

void binding_from_register(const osip_message_t *reg, const struct sip_addr *src)
{
	osip_header_t *eh = NULL;
	osip_contact_t *c;
	unsigned int expires = 3600;
	int pos = 0;

	if (!reg->to || !reg->to->url)
		return;
	osip_message_get_expires(reg, 0, &eh);
	if (eh && eh->hvalue)
		expires = strtoul(eh->hvalue, NULL, 10);
	while ((c = osip_list_get(&reg->contacts, pos++))) {
		osip_generic_param_t *p = NULL;
		unsigned int e = expires;

		if (!c->url) {
			e = 0; /* "Contact: *" */
		} else {
			osip_generic_param_get_byname(&c->gen_params, "expires", &p);
			if (p && p->gvalue)
				e = strtoul(p->gvalue, NULL, 10);
		}
		binding_seen(reg->to->url->username, reg->to->url->host, src, e);
	}
}

void binding_flush(void)
{
	while (bindings) {
		struct binding *b = bindings;

		bindings = b->next;
		free(b);
	}
	nbind = 0;
}

/* One binding per line: user, AOR, ip, port, proto, expiry (wall clock). */
int binding_save(const char *dir)
{
	char tmp[512], path[512], ip[INET_ADDRSTRLEN];
	int err = 0;
	FILE *f;

	if (!dir || !*dir)
		return 0;
	snprintf(path, sizeof(path), "%s/bindings", dir);
	snprintf(tmp, sizeof(tmp), "%s/bindings.tmp", dir);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (struct binding *b = bindings; b; b = b->next) {
		inet_ntop(AF_INET, &b->addr.ip, ip, sizeof(ip));
		fprintf(f, "%s\t%s\t%s\t%u\t%u\t%lld\n", b->user[0] ? b->user : "-", b->aor, ip,
			b->addr.port, b->addr.proto, (long long)b->expires);
	}
	if (fclose(f))
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int binding_load(const char *dir)
{
	char path[512], line[1024], user[128], aor[256], ip[64];
	unsigned int port, proto;
	long long exp;
	time_t now = time(NULL);
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/bindings", dir);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct sip_addr a = {0};

		if (sscanf(line, "%127[^\t]\t%255[^\t]\t%63[^\t]\t%u\t%u\t%lld", user, aor, ip,
			   &port, &proto, &exp) != 6 ||
		    exp <= now || inet_pton(AF_INET, ip, &a.ip) != 1 || port > 65535)
			continue;
		a.port = port;
		a.proto = proto == SIP_TCP ? SIP_TCP : SIP_UDP;
		{
			char *at = strrchr(aor, '@');

			if (!at)
				continue;
			*at = 0;
			binding_seen(strcmp(user, "-") ? user : "", at + 1, &a, exp - now);
			n++;
		}
	}
	fclose(f);
	return n;
}
