// SPDX-License-Identifier: GPL-2.0-only
/*
 * The call table of the media side: calls by cookie in a chained hash, in a
 * min-heap by when the media timeout next looks at them, and the clock
 * their activity is measured on. SDP handling (media.c) and the rebuild
 * from the flow map (flows.c) both add and find calls here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/internal.h"

uint64_t media_now_ns(void)
{
	struct timespec ts;

	/* The datapath clock of last_seen_ns: bpf_ktime_get_coarse_ns(). */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

const char *media_call_name(const struct media_call *c, char *buf, size_t len)
{
	if (c->call_id[0])
		return c->call_id;
	snprintf(buf, len, "cookie %016llx", (unsigned long long)c->cookie);
	return buf;
}

static void due_set(struct media_ctx *mc, unsigned int i, struct media_call *c)
{
	mc->due[i] = c;
	c->dslot = i;
}

static void due_sift(struct media_ctx *mc, unsigned int i)
{
	struct media_call *c = mc->due[i];

	while (i && mc->due[(i - 1) / 2]->due_ns > c->due_ns) {
		due_set(mc, i, mc->due[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		unsigned int k = 2 * i + 1;

		if (k >= mc->ndue)
			break;
		if (k + 1 < mc->ndue && mc->due[k + 1]->due_ns < mc->due[k]->due_ns)
			k++;
		if (mc->due[k]->due_ns >= c->due_ns)
			break;
		due_set(mc, i, mc->due[k]);
		i = k;
	}
	due_set(mc, i, c);
}

void media_call_set_due(struct media_ctx *mc, struct media_call *c, uint64_t due_ns)
{
	c->due_ns = due_ns;
	due_sift(mc, c->dslot);
}

struct media_call *media_call_first_due(const struct media_ctx *mc)
{
	return mc->ndue ? mc->due[0] : NULL;
}

struct media_call *media_call_find(struct media_ctx *mc, uint64_t cookie)
{
	struct media_call *c;

	for (c = mc->hash[cookie & (MEDIA_HASH_SIZE - 1)]; c; c = c->next)
		if (c->cookie == cookie)
			return c;
	return NULL;
}

struct media_call *media_call_add(struct media_ctx *mc, uint64_t cookie, const char *call_id)
{
	struct media_call **head = &mc->hash[cookie & (MEDIA_HASH_SIZE - 1)];
	struct media_call *c;

	if (mc->ndue == mc->due_cap) {
		unsigned int cap = mc->due_cap ? 2 * mc->due_cap : 1024;
		struct media_call **d = realloc(mc->due, cap * sizeof(*d));

		if (!d)
			return NULL;
		mc->due = d;
		mc->due_cap = cap;
	}
	c = mc->spare;
	if (c) {
		mc->spare = c->next;
		mc->nspare--;
		memset(c, 0, sizeof(*c));
	} else {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
	}
	c->cookie = cookie;
	c->active_ns = media_now_ns();
	/* A default media address; media.c (call_addr()) picks its own with its first ports. */
	c->edge4 = mc->ports.naddrs ? mc->ports.addr[0] : mc->o.public_ip;
	c->edge6 = mc->o.public_ip6;
	if (call_id)
		snprintf(c->call_id, sizeof(c->call_id), "%s", call_id);
	c->next = *head;
	*head = c;
	mc->calls++;
	/* Due at once: the first poll sets the real deadline (a pop, O(log n)). */
	c->due_ns = 0;
	due_set(mc, mc->ndue++, c);
	due_sift(mc, c->dslot);
	return c;
}

/*
 * A call is 1.5 KiB, past glibc's per-thread caches: with tens of thousands
 * up, each malloc and free of one walks bins that grow with the heap, and
 * that cost grew with the calls up (12.6 % of sigd's samples at 5*10^4 up,
 * 8.9 % at 10^2). Calls end at about the rate new ones start: a short list
 * of ended ones serves the next without malloc.
 */
#define MEDIA_SPARES_MAX 256

void media_call_free(struct media_ctx *mc, struct media_call *c)
{
	if (mc->nspare >= MEDIA_SPARES_MAX) {
		free(c);
		return;
	}
	c->next = mc->spare;
	mc->spare = c;
	mc->nspare++;
}

void media_call_spares_free(struct media_ctx *mc)
{
	struct media_call *c;

	while ((c = mc->spare)) {
		mc->spare = c->next;
		free(c);
	}
	mc->nspare = 0;
}

void media_call_unlink(struct media_ctx *mc, struct media_call *c)
{
	struct media_call **pp = &mc->hash[c->cookie & (MEDIA_HASH_SIZE - 1)];

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = c->next;
		mc->calls--;
		if (c->dslot < --mc->ndue) {
			due_set(mc, c->dslot, mc->due[mc->ndue]);
			due_sift(mc, c->dslot);
		}
	}
}
