// SPDX-License-Identifier: GPL-2.0-only
/* The cluster's record table and the records' JSON form (store.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cluster/store.h"

static const char *const kinds[CL_KINDS] = {"block", "trust", "ban"};

const char *cl_kind_name(enum cl_kind k)
{
	return k < CL_KINDS ? kinds[k] : "?";
}

int cl_kind_parse(const char *s, enum cl_kind *k)
{
	for (int i = 0; i < CL_KINDS; i++)
		if (!strcmp(s, kinds[i])) {
			*k = i;
			return 0;
		}
	return -EINVAL;
}

int64_t cl_wall_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int cl_store_init(struct cl_store *s, size_t buckets)
{
	memset(s, 0, sizeof(*s));
	s->b = calloc(buckets, sizeof(*s->b));
	if (!s->b)
		return -ENOMEM;
	s->nb = buckets;
	return 0;
}

void cl_store_free(struct cl_store *s)
{
	for (size_t i = 0; i < s->nb; i++)
		while (s->b[i]) {
			struct cl_rec *r = s->b[i];

			s->b[i] = r->next;
			free(r);
		}
	free(s->b);
	memset(s, 0, sizeof(*s));
}

static size_t hash(enum cl_kind k, const struct xs_cidr *c, size_t nb)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)k;
	const uint8_t *p = c->addr;

	for (int i = 0; i < 16; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	h = (h ^ c->prefixlen ^ ((uint64_t)c->family << 8)) * 1099511628211ULL;
	return h % nb;
}

static bool same(const struct cl_rec *r, enum cl_kind k, const struct xs_cidr *c)
{
	return r->kind == k && r->cidr.family == c->family && r->cidr.prefixlen == c->prefixlen &&
	       !memcmp(r->cidr.addr, c->addr, 16);
}

struct cl_rec *cl_get(struct cl_store *s, enum cl_kind k, const struct xs_cidr *c)
{
	for (struct cl_rec *r = s->b[hash(k, c, s->nb)]; r; r = r->next)
		if (same(r, k, c))
			return r;
	return NULL;
}

struct cl_rec *cl_put(struct cl_store *s, enum cl_kind k, const struct xs_cidr *c)
{
	struct cl_rec *r = cl_get(s, k, c);
	size_t h;

	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->kind = k;
	r->cidr = *c;
	xs_cidr_format(c, r->key, sizeof(r->key));
	h = hash(k, c, s->nb);
	r->next = s->b[h];
	s->b[h] = r;
	s->n[k]++;
	return r;
}

void cl_drop(struct cl_store *s, struct cl_rec *r)
{
	struct cl_rec **pp = &s->b[hash(r->kind, &r->cidr, s->nb)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			s->n[r->kind]--;
			free(r);
			return;
		}
}

void cl_each(struct cl_store *s, void (*fn)(struct cl_store *s, struct cl_rec *r, void *arg),
	     void *arg)
{
	for (size_t i = 0; i < s->nb; i++) {
		struct cl_rec *r = s->b[i], *next;

		for (; r; r = next) {
			next = r->next;
			fn(s, r, arg);
		}
	}
}

bool cl_newer(const struct cl_rec *r, int64_t ts, const char *node)
{
	if (ts != r->ts)
		return ts > r->ts;
	return strcmp(node, r->node) > 0;
}

char *cl_encode(const struct cl_rec *r)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:s, s:b}", "cidr", r->key, "exp",
			      (json_int_t)r->exp, "ts", (json_int_t)r->ts, "node", r->node,
			      "reason", r->reason, "del", r->del);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

/* Node ids as the node-id key allows them; reasons without control characters (logs, CLI). */
static bool node_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n < CLUSTER_NODE_LEN &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Everything read from Redis is checked like network input: a bad record is skipped. */
int cl_decode(const char *js, size_t len, enum cl_kind kind, struct cl_rec *out)
{
	json_t *o = json_loadb(js, len, 0, NULL);
	const char *cidr = NULL, *node = NULL, *reason = "";
	json_int_t exp = 0, ts = 0;
	int del = 0, ret = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!o || json_unpack(o, "{s:s, s:I, s:I, s:s, s?s, s?b}", "cidr", &cidr, "exp", &exp, "ts",
			      &ts, "node", &node, "reason", &reason, "del", &del))
		goto out;
	if (exp < 0 || ts <= 0 || !node_ok(node) || !text_ok(reason) ||
	    strlen(reason) >= sizeof(out->reason) || xs_cidr_parse(cidr, &out->cidr))
		goto out;
	out->kind = kind;
	xs_cidr_format(&out->cidr, out->key, sizeof(out->key));
	out->exp = exp;
	out->ts = ts;
	out->del = del;
	strcpy(out->node, node);
	strncpy(out->reason, reason, sizeof(out->reason) - 1);
	ret = 0;
out:
	json_decref(o);
	return ret;
}
