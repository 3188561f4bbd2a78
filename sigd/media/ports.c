// SPDX-License-Identifier: GPL-2.0-only
/*
 * Relay port allocation: even RTP port, RTCP on the next one, on one of the
 * media addresses; and the count of relay ports each signalling source holds.
 *
 * The pool is every (media address, port pair): a relay flow is keyed by the
 * edge address and port (xs_flows), so each media address has the whole
 * range to itself and capacity grows with the addresses (docs/sigd.md,
 * "Call capacity"). A call's ports are all on one address, the one its SDP
 * c= names; a new call's address is picked at random weighted by free pairs,
 * so the addresses fill evenly.
 *
 * A pair is allocated per leg and m-line even when rtcp-mux is offered: mux is
 * only in effect once the answer accepts it too (RFC 5761 5.1.1), and until
 * then, or if the answer declines, RTCP arrives on the odd port. Reserving the
 * pair up front keeps one allocation for the stream's whole life; the odd
 * port's flow (and so its pinhole) simply does not exist while mux is in use.
 * The cost is half the range under mux, which a 10,000-port range can afford.
 *
 * Random pairs: a port handed to one call says nothing about the ports of
 * the next call, so a caller cannot aim at a victim's ports by making a call
 * of its own and trying its neighbours (latching is what actually stops a
 * hijack; this only takes the guessing away). MEDIA_PORTS_TRIES random picks
 * find a free pair unless the range is nearly full; then a scan from a random
 * pair finds one if any is left, so allocation fails only when nothing is
 * free. A freed pair is picked again with probability 1/pairs, so late
 * packets of an ended call rarely land in a new one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <netinet/in.h>

#include "media/internal.h"
#include "secret.h"

#define MEDIA_PORTS_TRIES 32

int media_ports_init(struct media_ports *p, const struct in_addr *addrs, unsigned int naddrs,
		     uint16_t min, uint16_t max)
{
	unsigned int base = min < 2 ? 2 : (min + 1U) & ~1U, i;

	memset(p, 0, sizeof(*p));
	if (naddrs > MEDIA_ADDRS_MAX)
		return -E2BIG;
	p->base = (uint16_t)base;
	p->pairs = max >= base + 1 ? (max - base + 1U) / 2 : 0;
	p->naddrs = naddrs;
	for (i = 0; i < naddrs; i++)
		p->addr[i] = addrs[i];
	/* One more range: the IPv6 media address's. */
	p->used = calloc(p->pairs ? (size_t)p->pairs * (naddrs + 1) : 1, 1);
	return p->used ? 0 : -ENOMEM;
}

void media_ports_fini(struct media_ports *p)
{
	free(p->used);
	p->used = NULL;
	p->pairs = 0;
	p->naddrs = 0;
}

/* A random 32-bit value from a buffer refilled by getrandom(): one syscall per 64. */
static int rnd32(struct media_ports *p, uint32_t *v)
{
	if (p->rng) {
		*v = p->rng();
		return 0;
	}
	if (!p->rnd_left) {
		ssize_t n = getrandom(p->rnd, sizeof(p->rnd), 0);

		if (n != (ssize_t)sizeof(p->rnd))
			return n < 0 ? -errno : -EIO;
		p->rnd_left = sizeof(p->rnd) / sizeof(p->rnd[0]);
	}
	*v = p->rnd[--p->rnd_left];
	return 0;
}

/*
 * The index of media address @a (@v6: the IPv6 one, naddrs), or -1 when it
 * is not (or no longer) one of them.
 */
static int addr_index(const struct media_ports *p, struct in_addr a, bool v6)
{
	unsigned int i;

	if (v6)
		return (int)p->naddrs;
	for (i = 0; i < p->naddrs; i++)
		if (p->addr[i].s_addr == a.s_addr)
			return (int)i;
	return -1;
}

int media_ports_pick_addr(struct media_ports *p, unsigned int need, struct in_addr *addr)
{
	unsigned int i, total = 0, left, fit = 0, last = 0;
	uint32_t r;
	int err;

	for (i = 0; i < p->naddrs; i++)
		if (p->pairs - p->addr_used[i] >= need) {
			total += p->pairs - p->addr_used[i];
			fit++;
			last = i;
		}
	if (!total || !need)
		return -ENOSPC;
	if (fit == 1) {
		/* No choice: no random value spent (tests count the port picks). */
		*addr = p->addr[last];
		return 0;
	}
	err = rnd32(p, &r);
	if (err)
		return err;
	/* Weighted by free pairs: the addresses fill evenly, the emptiest first. */
	left = r % total;
	for (i = 0; i < p->naddrs; i++) {
		unsigned int free_pairs = p->pairs - p->addr_used[i];

		if (free_pairs < need)
			continue;
		if (left < free_pairs)
			break;
		left -= free_pairs;
	}
	*addr = p->addr[i];
	return 0;
}

static void take(struct media_ports *p, unsigned int a, unsigned int k, uint16_t *rtp)
{
	p->used[(size_t)a * p->pairs + k] = 1;
	p->addr_used[a]++;
	p->used_count++;
	*rtp = (uint16_t)(p->base + 2 * k);
}

int media_ports_alloc(struct media_ports *p, struct in_addr addr, bool v6, uint16_t *rtp)
{
	int ai = addr_index(p, addr, v6);
	const uint8_t *used;
	unsigned int i, k;
	uint32_t r = 0;
	int err;

	if (ai < 0 || p->addr_used[ai] >= p->pairs)
		return -ENOSPC;
	used = p->used + (size_t)ai * p->pairs;
	for (i = 0; i < MEDIA_PORTS_TRIES; i++) {
		err = rnd32(p, &r);
		if (err)
			return err;
		/* Modulo bias below 2^-17 for 2^15 pairs: irrelevant here. */
		k = r % p->pairs;
		if (!used[k]) {
			take(p, (unsigned int)ai, k, rtp);
			return 0;
		}
	}
	err = rnd32(p, &r);
	if (err)
		return err;
	for (i = 0; i < p->pairs; i++) {
		k = (r + i) % p->pairs;
		if (!used[k]) {
			take(p, (unsigned int)ai, k, rtp);
			return 0;
		}
	}
	return -ENOSPC;
}

/* The slot of @rtp on @addr in p->used, -ERANGE outside the range or the addresses. */
static int slot_of(const struct media_ports *p, struct in_addr addr, bool v6, uint16_t rtp,
		   size_t *slot, int *ai)
{
	unsigned int k;

	*ai = addr_index(p, addr, v6);
	if (*ai < 0 || rtp < p->base || (rtp - p->base) & 1)
		return -ERANGE;
	k = (rtp - p->base) / 2U;
	if (k >= p->pairs)
		return -ERANGE;
	*slot = (size_t)*ai * p->pairs + k;
	return 0;
}

void media_ports_free(struct media_ports *p, struct in_addr addr, bool v6, uint16_t rtp)
{
	size_t s;
	int ai;

	if (!slot_of(p, addr, v6, rtp, &s, &ai) && p->used[s]) {
		p->used[s] = 0;
		p->addr_used[ai]--;
		p->used_count--;
	}
}

void media_ports_mark(struct media_ports *p, struct in_addr addr, bool v6, uint16_t rtp)
{
	size_t s;
	int ai;

	if (!slot_of(p, addr, v6, rtp, &s, &ai) && !p->used[s]) {
		p->used[s] = 1;
		p->addr_used[ai]++;
		p->used_count++;
	}
}

/* ---- relay ports held per signalling source ---- */

/* @a is a source unit (sip_ip_source()): an IPv4 address or an IPv6 /64. */
static unsigned int quota_bucket(const struct sip_ip *a)
{
	/* Keyed: a sender choosing its addresses cannot aim them at one chain. */
	if (a->af == AF_INET6)
		return secret_hash64(&a->v6, 8) & ((1U << MEDIA_QUOTA_BITS) - 1);
	return secret_hash64(&a->v4, 4) & ((1U << MEDIA_QUOTA_BITS) - 1);
}

unsigned int media_quota_held(const struct media_quota *q, const struct sip_ip *addr)
{
	struct sip_ip src = sip_ip_source(addr);
	const struct media_quota_ent *e;

	for (e = q->hash[quota_bucket(&src)]; e; e = e->next)
		if (sip_ip_eq(&e->addr, &src))
			return e->ports;
	return 0;
}

int media_quota_add(struct media_quota *q, const struct sip_ip *addr, int ports)
{
	struct sip_ip src = sip_ip_source(addr);
	struct media_quota_ent **pp = &q->hash[quota_bucket(&src)], *e;

	if (!src.af || !ports)
		return 0;
	for (; (e = *pp); pp = &e->next)
		if (sip_ip_eq(&e->addr, &src))
			break;
	if (!e) {
		if (ports < 0)
			return 0;
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->addr = src;
		*pp = e;
		q->sources++;
	}
	if (ports < 0 && (unsigned int)-ports >= e->ports) {
		/* Nothing held any more: the entry goes, the table stays small. */
		*pp = e->next;
		free(e);
		q->sources--;
		return 0;
	}
	e->ports += (unsigned int)ports;
	return 0;
}

void media_quota_fini(struct media_quota *q)
{
	struct media_quota_ent *e, *next;
	unsigned int i;

	for (i = 0; i < (1U << MEDIA_QUOTA_BITS); i++)
		for (e = q->hash[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	memset(q, 0, sizeof(*q));
}
