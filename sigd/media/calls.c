// SPDX-License-Identifier: GPL-2.0-only
/*
 * The call table of the media side: calls by cookie in a chained hash, and
 * the clock their activity is measured on. SDP handling (media.c) and the
 * rebuild from the flow map (flows.c) both add and find calls here.
 */
#include <stdio.h>
#include <stdlib.h>
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
	struct media_call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
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
	return c;
}

void media_call_unlink(struct media_ctx *mc, struct media_call *c)
{
	struct media_call **pp = &mc->hash[c->cookie & (MEDIA_HASH_SIZE - 1)];

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = c->next;
		mc->calls--;
	}
}
