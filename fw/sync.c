// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy sync: the elements of the nft sets, computed from the pinned maps
 * the XDP program reads, so both firewalls enforce one policy.
 *
 * The blocklist and trusted networks are LPM tries in BPF, where prefixes
 * may nest; an nft interval set refuses overlapping intervals. CIDRs either
 * nest or are disjoint, and for "is this source blocked" only their union
 * matters, so a prefix inside another one already in the set is left out
 * (sorted by start, then by length: one pass). The inner entry's own expiry
 * is then not represented while the outer one lives (docs/datapaths.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/netfilter/nf_tables.h>

#include "fw/internal.h"

struct vec {
	struct xs_nft_elem *e;
	uint32_t *plen;
	size_t n, cap;
	int family;
	uint64_t now;
};

static int vec_push(struct vec *v, const struct xs_nft_elem *e, uint32_t plen)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct xs_nft_elem *ne = realloc(v->e, cap * sizeof(*ne));
		uint32_t *np;

		if (!ne)
			return -ENOMEM;
		v->e = ne;
		np = realloc(v->plen, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		v->plen = np;
		v->cap = cap;
	}
	v->e[v->n] = *e;
	v->plen[v->n++] = plen;
	return 0;
}

/* [start, end) of a CIDR; has_end false when it runs to the top. */
static void cidr_elem(const struct xs_cidr *c, struct xs_nft_elem *e)
{
	unsigned int len = c->family == AF_INET ? 4 : 16, bits = len * 8;
	unsigned int host = bits - c->prefixlen;
	int i, carry = 1;

	memset(e, 0, sizeof(*e));
	memcpy(e->key, c->addr, len);
	memcpy(e->end, c->addr, len);
	/* end = start + 2^host: add 1 at bit @host, counted from the right. */
	if (host == bits) {
		e->has_end = false;
		return;
	}
	i = (int)len - 1 - (int)(host / 8);
	carry = 1 << (host % 8);
	for (; i >= 0 && carry; i--) {
		unsigned int s = e->end[i] + carry;

		e->end[i] = s & 0xff;
		carry = s >> 8;
	}
	e->has_end = !carry;
}

static int cidr_push(struct vec *v, const struct xs_cidr *c, uint64_t tmo)
{
	struct xs_nft_elem e;

	if (c->family != v->family)
		return 0;
	cidr_elem(c, &e);
	e.timeout_ms = tmo;
	return vec_push(v, &e, c->prefixlen);
}

static int block_cb(const struct xs_block_entry *b, void *arg)
{
	struct vec *v = arg;
	uint64_t tmo = 0;

	if (xs_block_expired(&b->val, v->now))
		return 0;
	if (b->val.expires_ns) {
		tmo = (b->val.expires_ns - v->now) / 1000000;
		tmo = tmo ?: 1;
	}
	return cidr_push(v, &b->cidr, tmo);
}

static int trust_cb(const struct xs_cidr *c, const struct xs_trust *t, void *arg)
{
	return cidr_push(arg, c, 0);
}

static size_t sort_len;
static struct vec *sort_vec;

static int cmp_idx(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int r = memcmp(sort_vec->e[i].key, sort_vec->e[j].key, sort_len);

	if (r)
		return r;
	return (int)sort_vec->plen[i] - (int)sort_vec->plen[j];
}

/* Sort by start, shortest prefix first, and drop what a kept prefix covers. */
static int disjoint(struct vec *v, size_t klen, struct xs_nft_elem **out, size_t *n)
{
	size_t *idx = calloc(v->n ?: 1, sizeof(*idx)), k = 0;
	struct xs_nft_elem *res = calloc(v->n ?: 1, sizeof(*res));
	const struct xs_nft_elem *cur = NULL;

	if (!idx || !res) {
		free(idx);
		free(res);
		return -ENOMEM;
	}
	for (size_t i = 0; i < v->n; i++)
		idx[i] = i;
	sort_len = klen;
	sort_vec = v;
	qsort(idx, v->n, sizeof(*idx), cmp_idx);
	for (size_t i = 0; i < v->n; i++) {
		const struct xs_nft_elem *e = &v->e[idx[i]];

		if (cur && (!cur->has_end || memcmp(e->key, cur->end, klen) < 0))
			continue; /* nested in cur */
		res[k++] = *e;
		cur = e;
	}
	free(idx);
	*out = res;
	*n = k;
	return 0;
}

static void port_elem(struct xs_nft_elem *e, uint16_t lo, uint16_t hi)
{
	memset(e, 0, sizeof(*e));
	e->key[0] = lo >> 8;
	e->key[1] = lo & 0xff;
	e->has_end = hi != 0xffff;
	e->end[0] = (uint16_t)(hi + 1) >> 8;
	e->end[1] = (uint16_t)(hi + 1) & 0xff;
}

static int ports(const struct xs_config *cfg, enum xs_nft_set s, struct xs_nft_elem **out,
		 size_t *n)
{
	struct xs_nft_elem *e = calloc(XS_FLOOD_PORTS_MAX + 4, sizeof(*e));
	size_t k = 0;

	if (!e)
		return -ENOMEM;
	switch (s) {
	case XS_NS_V6UDP:
		if (!(cfg->flags & XS_CFG_V6_MEDIA_DROP))
			break;
		port_elem(&e[k++], cfg->rtp_min, cfg->rtp_max);
		if (cfg->flags & XS_CFG_TURN) {
			port_elem(&e[k++], cfg->turn_udp, cfg->turn_udp);
			port_elem(&e[k++], cfg->turn_min, cfg->turn_max);
		}
		break;
	case XS_NS_V6TCP:
		if ((cfg->flags & (XS_CFG_V6_MEDIA_DROP | XS_CFG_TURN)) ==
		    (XS_CFG_V6_MEDIA_DROP | XS_CFG_TURN))
			port_elem(&e[k++], cfg->turn_tls, cfg->turn_tls);
		break;
	case XS_NS_RELAY:
		if ((cfg->flags & XS_CFG_PINHOLES) && cfg->relay_max)
			port_elem(&e[k++], cfg->relay_min, cfg->relay_max);
		break;
	case XS_NS_SIPPORTS:
		if (!(cfg->flags & XS_CFG_FLOOD))
			break;
		for (int i = 0; i < XS_FLOOD_PORTS_MAX && cfg->flood_ports[i]; i++)
			port_elem(&e[k++], cfg->flood_ports[i], cfg->flood_ports[i]);
		break;
	case XS_NS_SIPPROTO:
		e[k].key[0] = IPPROTO_UDP;
		e[k++].has_end = false;
		e[k].key[0] = IPPROTO_TCP;
		e[k++].has_end = false;
		break;
	default:
		break;
	}
	/* Intervals that overlap (TURN inside the RTP range, say) would be refused. */
	if (xs_nft_sets[s].flags & NFT_SET_INTERVAL) {
		struct vec v = {.e = e, .n = k, .cap = k};
		uint32_t plen[XS_FLOOD_PORTS_MAX + 4] = {0};
		int err;

		v.plen = plen;
		err = disjoint(&v, 2, out, n);
		free(e);
		return err;
	}
	*out = e;
	*n = k;
	return 0;
}

int xs_nft_elems(const struct xs_maps *m, enum xs_nft_set s, struct xs_nft_elem **out, size_t *n)
{
	struct vec v = {.now = xs_now_ns()};
	struct xs_config cfg;
	int err;

	*out = NULL;
	*n = 0;
	switch (s) {
	case XS_NS_TRUST4:
	case XS_NS_TRUST6:
		v.family = s == XS_NS_TRUST4 ? AF_INET : AF_INET6;
		err = xs_trust_walk(m, trust_cb, &v);
		break;
	case XS_NS_BLOCK4:
	case XS_NS_BLOCK6:
		v.family = s == XS_NS_BLOCK4 ? AF_INET : AF_INET6;
		err = xs_block_walk(m, block_cb, &v);
		break;
	default:
		err = xs_config_get(m, &cfg);
		return err ?: ports(&cfg, s, out, n);
	}
	if (!err)
		err = disjoint(&v, v.family == AF_INET ? 4 : 16, out, n);
	free(v.e);
	free(v.plen);
	return err;
}

int xs_nft_sync_batch(struct xs_nft_batch *t, const struct xs_maps *m, unsigned int what)
{
	static const struct {
		enum xs_nft_set set;
		unsigned int group;
	} synced[] = {
		{XS_NS_TRUST4, XS_NFT_SYNC_TRUST},    {XS_NS_TRUST6, XS_NFT_SYNC_TRUST},
		{XS_NS_BLOCK4, XS_NFT_SYNC_BLOCK},    {XS_NS_BLOCK6, XS_NFT_SYNC_BLOCK},
		{XS_NS_V6UDP, XS_NFT_SYNC_CONFIG},    {XS_NS_V6TCP, XS_NFT_SYNC_CONFIG},
		{XS_NS_RELAY, XS_NFT_SYNC_CONFIG},    {XS_NS_SIPPROTO, XS_NFT_SYNC_CONFIG},
		{XS_NS_SIPPORTS, XS_NFT_SYNC_CONFIG},
	};
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(synced) / sizeof(synced[0]); i++) {
		struct xs_nft_elem *e;
		size_t n;

		if (!(synced[i].group & what))
			continue;
		err = xs_nft_elems(m, synced[i].set, &e, &n);
		if (err)
			break;
		xs_nft_set_flush(t, synced[i].set);
		err = xs_nft_set_add(t, synced[i].set, e, n);
		free(e);
	}
	return err;
}
