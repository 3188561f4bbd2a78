// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include "secret.h"
#include "srccount.h"

/* Keyed: a sender picking its (spoofed) addresses cannot aim them at one bucket. */
static unsigned int bucket(const struct sip_ip *ip)
{
	if (ip->af == AF_INET6)
		return secret_hash64(&ip->v6, sizeof(ip->v6)) % SRCC_BUCKETS;
	return secret_hash64(&ip->v4, sizeof(ip->v4)) % SRCC_BUCKETS;
}

/* @ip is a source unit already (sip_ip_source()). */
static struct srcc_ent **find(struct srcc_tab *t, const struct sip_ip *ip)
{
	struct srcc_ent **pp = &t->b[bucket(ip)];

	while (*pp && !sip_ip_eq(&(*pp)->ip, ip))
		pp = &(*pp)->next;
	return pp;
}

unsigned int srcc_get(const struct srcc_tab *t, const struct sip_ip *ip)
{
	struct sip_ip u = sip_ip_source(ip);
	struct srcc_ent **pp = find((struct srcc_tab *)t, &u);

	return *pp ? (*pp)->n : 0;
}

int srcc_inc(struct srcc_tab *t, const struct sip_ip *ip)
{
	struct sip_ip u = sip_ip_source(ip);
	struct srcc_ent **pp = find(t, &u);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return -ENOMEM;
		(*pp)->ip = u;
	}
	(*pp)->n++;
	return 0;
}

void srcc_dec(struct srcc_tab *t, const struct sip_ip *ip)
{
	struct sip_ip u = sip_ip_source(ip);
	struct srcc_ent **pp = find(t, &u), *e = *pp;

	if (!e)
		return;
	if (--e->n == 0) {
		*pp = e->next;
		free(e);
	}
}

void srcc_clear(struct srcc_tab *t)
{
	for (unsigned int i = 0; i < SRCC_BUCKETS; i++)
		while (t->b[i]) {
			struct srcc_ent *e = t->b[i];

			t->b[i] = e->next;
			free(e);
		}
}
