// SPDX-License-Identifier: GPL-2.0-only
/*
 * Relay port allocation: even RTP port, RTCP on the next one.
 *
 * A pair is allocated per leg and m-line even when rtcp-mux is offered: mux is
 * only in effect once the answer accepts it too (RFC 5761 5.1.1), and until
 * then, or if the answer declines, RTCP arrives on the odd port. Reserving the
 * pair up front keeps one allocation for the stream's whole life; the odd
 * port's flow (and so its pinhole) simply does not exist while mux is in use.
 * The cost is half the range under mux, which a 10,000-port range can afford.
 *
 * Next-fit: the search starts after the last allocation, so a port that was
 * just freed is reused last and late packets of an ended call do not land in
 * a new one.
 */
#include <errno.h>
#include <stdlib.h>

#include "media_int.h"

int media_ports_init(struct media_ports *p, uint16_t min, uint16_t max)
{
	unsigned int base = min < 2 ? 2 : (min + 1U) & ~1U;

	p->base = (uint16_t)base;
	p->pairs = max >= base + 1 ? (max - base + 1U) / 2 : 0;
	p->next = 0;
	p->used_count = 0;
	p->used = calloc(p->pairs ? p->pairs : 1, 1);
	return p->used ? 0 : -ENOMEM;
}

void media_ports_fini(struct media_ports *p)
{
	free(p->used);
	p->used = NULL;
	p->pairs = 0;
}

int media_ports_alloc(struct media_ports *p, uint16_t *rtp)
{
	unsigned int i, k;

	for (i = 0; i < p->pairs; i++) {
		k = (p->next + i) % p->pairs;
		if (!p->used[k]) {
			p->used[k] = 1;
			p->used_count++;
			p->next = (k + 1) % p->pairs;
			*rtp = (uint16_t)(p->base + 2 * k);
			return 0;
		}
	}
	return -ENOSPC;
}

static int pair_of(const struct media_ports *p, uint16_t rtp, unsigned int *k)
{
	if (rtp < p->base || (rtp - p->base) & 1)
		return -ERANGE;
	*k = (rtp - p->base) / 2U;
	return *k < p->pairs ? 0 : -ERANGE;
}

void media_ports_free(struct media_ports *p, uint16_t rtp)
{
	unsigned int k;

	if (!pair_of(p, rtp, &k) && p->used[k]) {
		p->used[k] = 0;
		p->used_count--;
	}
}

void media_ports_mark(struct media_ports *p, uint16_t rtp)
{
	unsigned int k;

	if (!pair_of(p, rtp, &k) && !p->used[k]) {
		p->used[k] = 1;
		p->used_count++;
	}
}
