// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source blocklist (xs_block4/6, reason text in xs_blknote4/6) and the
 * trusted networks (xs_trust4/6). Keys are the LPM keys of the shared header;
 * a change either happens completely or is undone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "lib/xdpsbc.h"

/* Big enough for either LPM key. */
union xs_lpm {
	struct xs_lpm4 v4;
	struct xs_lpm6 v6;
};

static void lpm_key(const struct xs_cidr *c, union xs_lpm *k)
{
	memset(k, 0, sizeof(*k));
	if (c->family == AF_INET) {
		k->v4.prefixlen = c->prefixlen;
		memcpy(&k->v4.addr, c->addr, 4);
	} else {
		k->v6.prefixlen = c->prefixlen;
		memcpy(k->v6.addr, c->addr, 16);
	}
}

static void lpm_cidr(int family, const union xs_lpm *k, struct xs_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->family = family;
	if (family == AF_INET) {
		c->prefixlen = k->v4.prefixlen;
		memcpy(c->addr, &k->v4.addr, 4);
	} else {
		c->prefixlen = k->v6.prefixlen;
		memcpy(c->addr, k->v6.addr, 16);
	}
}

/*
 * After anything that may have made a source blocked: a fresh value in
 * xs_blkgen, so the XDP program's per-flow "source checked" caches go stale
 * and the next packet of every flow is checked again (xdpsbc_common.h).
 * Random, not counted: racing writers cannot recreate an old value.
 */
static void gen_bump(const struct xs_maps *m)
{
	__u32 zero = 0;
	__u64 gen;

	if (getrandom(&gen, sizeof(gen), 0) != sizeof(gen))
		gen = xs_now_ns() ^ ((__u64)getpid() << 32);
	if (gen == ~0ULL) /* the program caches gen + 1; keep that non-zero */
		gen = 1;
	bpf_map_update_elem(m->blkgen, &zero, &gen, BPF_ANY);
}

/* A full LPM trie says ENOSPC, a full hash E2BIG: one answer for callers. */
static int map_err(int err)
{
	return err == -E2BIG ? -ENOSPC : err;
}

struct saved {
	bool had_block, had_note;
	struct xs_block blk;
	struct xs_note note;
};

static int put(int fd, const void *k, const void *v)
{
	return bpf_map_update_elem(fd, k, v, BPF_ANY) ? map_err(-errno) : 0;
}

/* Put @c back as @old described it. Best effort: it undoes our own change. */
static void restore(const struct xs_maps *m, const struct xs_cidr *c, const struct saved *old)
{
	int bfd = c->family == AF_INET ? m->block4 : m->block6;
	int nfd = c->family == AF_INET ? m->blknote4 : m->blknote6;
	union xs_lpm k;

	lpm_key(c, &k);
	if (old->had_note)
		put(nfd, &k, &old->note);
	else
		bpf_map_delete_elem(nfd, &k);
	if (old->had_block)
		put(bfd, &k, &old->blk);
	else
		bpf_map_delete_elem(bfd, &k);
}

static uint64_t expiry(uint64_t now, uint64_t seconds)
{
	return seconds ? now + seconds * 1000000000ULL : 0;
}

/*
 * Insert or refresh one entry, recording what was there in @old. A refresh
 * keeps the hit counters; no @note keeps the old reason. Undoes itself on error.
 */
static int block_put(const struct xs_maps *m, const struct xs_cidr *c, uint64_t expires_ns,
		     const char *note, uint64_t now, struct saved *old)
{
	int bfd = c->family == AF_INET ? m->block4 : m->block6;
	int nfd = c->family == AF_INET ? m->blknote4 : m->blknote6;
	struct xs_block val = {};
	struct xs_note n = {};
	union xs_lpm k;
	int ret;

	if (c->family != AF_INET && c->family != AF_INET6)
		return -EAFNOSUPPORT;
	lpm_key(c, &k);
	old->had_block = !bpf_map_lookup_elem(bfd, &k, &old->blk);
	old->had_note = !bpf_map_lookup_elem(nfd, &k, &old->note);
	if (old->had_block) {
		val.hits = old->blk.hits;
		val.last_hit_ns = old->blk.last_hit_ns;
	}
	val.added_ns = now;
	val.expires_ns = expires_ns;
	val.prefixlen = c->prefixlen;
	ret = put(bfd, &k, &val);
	if (ret)
		return ret;
	if (note && *note) {
		strncpy(n.text, note, sizeof(n.text) - 1);
		ret = put(nfd, &k, &n);
		if (ret) {
			restore(m, c, old);
			return ret;
		}
	}
	return 0;
}

/**
 * xs_block_add() - block @c for @seconds (0: permanently), reason @note.
 *
 * Returns 0, -ENOSPC when the blocklist is full (nothing changed).
 */
int xs_block_add(const struct xs_maps *m, const struct xs_cidr *c, uint64_t seconds,
		 const char *note)
{
	uint64_t now = xs_now_ns();
	struct saved old;
	int ret;

	/* Every caller's duration, whatever it parsed: seconds * 1e9 must not wrap. */
	if (seconds > XS_DURATION_MAX)
		return -ERANGE;
	ret = block_put(m, c, expiry(now, seconds), note, now, &old);
	gen_bump(m);
	return ret;
}

/*
 * xs_block_add_at() - block @c until @expires_ns on the datapath clock (0:
 * permanently): an expiry set elsewhere (another edge) kept to the millisecond.
 */
int xs_block_add_at(const struct xs_maps *m, const struct xs_cidr *c, uint64_t expires_ns,
		    const char *note)
{
	struct saved old;
	int ret;

	ret = block_put(m, c, expires_ns, note, xs_now_ns(), &old);
	gen_bump(m);
	return ret;
}

/* Returns 0, or -ENOENT when @c is not in the blocklist. */
int xs_block_del(const struct xs_maps *m, const struct xs_cidr *c)
{
	union xs_lpm k;
	int ret = 0;

	lpm_key(c, &k);
	if (bpf_map_delete_elem(c->family == AF_INET ? m->block4 : m->block6, &k))
		ret = -errno;
	bpf_map_delete_elem(c->family == AF_INET ? m->blknote4 : m->blknote6, &k);
	/* Not for the XDP caches: the nft sets and sigd's cluster sync follow xs_blkgen. */
	if (!ret)
		gen_bump(m);
	return ret;
}

struct old_rec {
	size_t i;
	struct saved s;
};

/**
 * xs_block_import() - add @n entries, all or none.
 * @failed: on error, the index of the entry that failed.
 *
 * When an entry fails (a full blocklist), every entry before it is put back
 * as it was: new ones removed, overwritten ones restored with their old
 * expiry, counters and reason.
 */
int xs_block_import(const struct xs_maps *m, const struct xs_block_req *reqs, size_t n,
		    size_t *failed)
{
	struct old_rec *olds = NULL, *tmp;
	size_t nold = 0, cap = 0, i;
	uint64_t now = xs_now_ns();
	struct saved s;
	int ret = 0;

	for (i = 0; i < n; i++) {
		ret = reqs[i].seconds > XS_DURATION_MAX ? -ERANGE : 0;
		if (ret)
			break;
		ret = block_put(m, &reqs[i].cidr, expiry(now, reqs[i].seconds), reqs[i].note, now,
				&s);
		if (ret)
			break;
		if (!s.had_block && !s.had_note)
			continue;
		if (nold == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(olds, cap * sizeof(*olds));
			if (!tmp) {
				restore(m, &reqs[i].cidr, &s);
				ret = -ENOMEM;
				break;
			}
			olds = tmp;
		}
		olds[nold].i = i;
		olds[nold++].s = s;
	}
	if (ret) {
		static const struct saved none;

		*failed = i;
		/* Newest first, so a CIDR listed twice ends as it began. */
		while (i-- > 0) {
			if (nold && olds[nold - 1].i == i)
				restore(m, &reqs[i].cidr, &olds[--nold].s);
			else
				restore(m, &reqs[i].cidr, &none);
		}
	}
	gen_bump(m);
	free(olds);
	return ret;
}

/* Walk one LPM map; @cb gets each key. Keys are read ahead so @cb may delete. */
static int walk_lpm(int fd, int family, int (*cb)(int family, const union xs_lpm *k, void *arg),
		    void *arg)
{
	union xs_lpm cur, next;
	void *prev = NULL;
	int ret;

	for (;;) {
		if (bpf_map_get_next_key(fd, prev, &next))
			return errno == ENOENT ? 0 : -errno;
		ret = cb(family, &next, arg);
		if (ret)
			return ret;
		cur = next;
		prev = &cur;
	}
}

struct block_walk {
	const struct xs_maps *m;
	xs_block_cb cb;
	void *arg;
};

static int block_one(int family, const union xs_lpm *k, void *arg)
{
	struct block_walk *w = arg;
	struct xs_block_entry e = {};

	lpm_cidr(family, k, &e.cidr);
	if (bpf_map_lookup_elem(family == AF_INET ? w->m->block4 : w->m->block6, k, &e.val))
		return errno == ENOENT ? 0 : -errno;
	if (bpf_map_lookup_elem(family == AF_INET ? w->m->blknote4 : w->m->blknote6, k, &e.note))
		e.note.text[0] = '\0';
	e.note.text[sizeof(e.note.text) - 1] = '\0';
	return w->cb(&e, w->arg);
}

/* Every blocklist entry (IPv4, then IPv6); a non-zero return from @cb stops the walk. */
int xs_block_walk(const struct xs_maps *m, xs_block_cb cb, void *arg)
{
	struct block_walk w = {m, cb, arg};
	int ret;

	ret = walk_lpm(m->block4, AF_INET, block_one, &w);
	if (!ret)
		ret = walk_lpm(m->block6, AF_INET6, block_one, &w);
	return ret;
}

/*
 * Collect, then delete: deleting the key get_next_key is about to start from
 * would restart the walk at the beginning.
 */
struct keyvec {
	struct xs_cidr *v;
	size_t n, cap;
	uint64_t now;
	bool expired_only;
	const struct xs_maps *m;
};

static int keyvec_push(struct keyvec *kv, const struct xs_cidr *c)
{
	struct xs_cidr *tmp;

	if (kv->n == kv->cap) {
		kv->cap = kv->cap ? kv->cap * 2 : 256;
		tmp = realloc(kv->v, kv->cap * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		kv->v = tmp;
	}
	kv->v[kv->n++] = *c;
	return 0;
}

static int collect_block(const struct xs_block_entry *e, void *arg)
{
	struct keyvec *kv = arg;

	if (kv->expired_only && !xs_block_expired(&e->val, kv->now))
		return 0;
	return keyvec_push(kv, &e->cidr);
}

/* Notes whose entry is gone (a crash between the two deletes) go too. */
static int collect_orphan(int family, const union xs_lpm *k, void *arg)
{
	struct keyvec *kv = arg;
	struct xs_block v;
	struct xs_cidr c;

	if (!bpf_map_lookup_elem(family == AF_INET ? kv->m->block4 : kv->m->block6, k, &v))
		return 0;
	lpm_cidr(family, k, &c);
	return keyvec_push(kv, &c);
}

static int block_remove(const struct xs_maps *m, bool expired_only, unsigned int *removed)
{
	struct keyvec kv = {.now = xs_now_ns(), .expired_only = expired_only, .m = m};
	size_t entries;
	int ret;

	ret = xs_block_walk(m, collect_block, &kv);
	entries = kv.n;
	if (!ret)
		ret = walk_lpm(m->blknote4, AF_INET, collect_orphan, &kv);
	if (!ret)
		ret = walk_lpm(m->blknote6, AF_INET6, collect_orphan, &kv);
	for (size_t i = 0; !ret && i < kv.n; i++) {
		int r = xs_block_del(m, &kv.v[i]);

		if (r && r != -ENOENT)
			ret = r;
	}
	if (removed)
		*removed = entries;
	free(kv.v);
	return ret;
}

bool xs_block_expired(const struct xs_block *b, uint64_t now)
{
	return b->expires_ns && b->expires_ns <= now;
}

/* Remove expired entries and their notes; @removed: how many entries. */
int xs_block_gc(const struct xs_maps *m, unsigned int *removed)
{
	return block_remove(m, true, removed);
}

int xs_block_flush(const struct xs_maps *m, unsigned int *removed)
{
	int ret = block_remove(m, false, removed);

	gen_bump(m); /* the nft sets and sigd's cluster sync follow xs_blkgen */
	return ret;
}

static int count_one(int family, const union xs_lpm *k, void *arg)
{
	(*(unsigned long *)arg)++;
	return 0;
}

unsigned long xs_map_count_lpm(int fd)
{
	unsigned long n = 0;

	walk_lpm(fd, 0, count_one, &n);
	return n;
}

int xs_trust_add(const struct xs_maps *m, const struct xs_cidr *c)
{
	int fd = c->family == AF_INET ? m->trust4 : m->trust6;
	struct xs_trust t = {};
	union xs_lpm k;
	int ret;

	lpm_key(c, &k);
	if (!bpf_map_lookup_elem(fd, &k, &t))
		return 0; /* already trusted: keep its counter */
	ret = put(fd, &k, &t);
	gen_bump(m); /* cached "checked, not trusted" answers go stale */
	return ret;
}

int xs_trust_del(const struct xs_maps *m, const struct xs_cidr *c)
{
	union xs_lpm k;

	lpm_key(c, &k);
	if (bpf_map_delete_elem(c->family == AF_INET ? m->trust4 : m->trust6, &k))
		return -errno;
	gen_bump(m); /* its sources now face the blocklist and the flood limit */
	return 0;
}

struct trust_walk {
	const struct xs_maps *m;
	xs_trust_cb cb;
	void *arg;
};

static int trust_one(int family, const union xs_lpm *k, void *arg)
{
	struct trust_walk *w = arg;
	struct xs_trust t;
	struct xs_cidr c;

	lpm_cidr(family, k, &c);
	if (bpf_map_lookup_elem(family == AF_INET ? w->m->trust4 : w->m->trust6, k, &t))
		return errno == ENOENT ? 0 : -errno;
	return w->cb(&c, &t, w->arg);
}

int xs_trust_walk(const struct xs_maps *m, xs_trust_cb cb, void *arg)
{
	struct trust_walk w = {m, cb, arg};
	int ret;

	ret = walk_lpm(m->trust4, AF_INET, trust_one, &w);
	if (!ret)
		ret = walk_lpm(m->trust6, AF_INET6, trust_one, &w);
	return ret;
}

struct conflict {
	const struct xs_cidr *c;
	struct xs_cidr *out;
};

static int conflict_one(const struct xs_cidr *t, const struct xs_trust *v, void *arg)
{
	struct conflict *w = arg;

	if (!xs_cidr_overlap(t, w->c))
		return 0;
	*w->out = *t;
	return 1; /* stops the walk */
}

int xs_block_trust_conflict(const struct xs_maps *m, const struct xs_cidr *c,
			    struct xs_cidr *trusted)
{
	struct conflict w = {c, trusted};
	int fd = c->family == AF_INET ? m->trust4 : m->trust6;

	return walk_lpm(fd, c->family, trust_one, &(struct trust_walk){m, conflict_one, &w});
}
