// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include "secret.h"
#include "srccount.h"

/* Keyed: a sender picking its (spoofed) addresses cannot aim them at one bucket. */
static unsigned int bucket(struct in_addr ip)
{
	return secret_hash64(&ip, sizeof(ip)) % SRCC_BUCKETS;
}

static struct srcc_ent **find(struct srcc_tab *t, struct in_addr ip)
{
	struct srcc_ent **pp = &t->b[bucket(ip)];

	while (*pp && (*pp)->ip.s_addr != ip.s_addr)
		pp = &(*pp)->next;
	return pp;
}

unsigned int srcc_get(const struct srcc_tab *t, struct in_addr ip)
{
	struct srcc_ent **pp = find((struct srcc_tab *)t, ip);

	return *pp ? (*pp)->n : 0;
}

int srcc_inc(struct srcc_tab *t, struct in_addr ip)
{
	struct srcc_ent **pp = find(t, ip);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return -ENOMEM;
		(*pp)->ip = ip;
	}
	(*pp)->n++;
	return 0;
}

void srcc_dec(struct srcc_tab *t, struct in_addr ip)
{
	struct srcc_ent **pp = find(t, ip), *e = *pp;

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
