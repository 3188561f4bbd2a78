// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cluster's map side: records from Redis into this edge's blocklist and
 * trusted networks (the udp datapath's nft sets follow xs_blkgen), and the
 * edge's own changes, whoever made them (CLI, REST API, sigd's policy), found
 * by comparing the maps with the records after every xs_blkgen change.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "cluster/redis.h"

/* Expiries travel as wall-clock ms; each edge's maps hold its datapath clock. */
static int64_t wall_ms_of(uint64_t clock_ns, int64_t now_ms, uint64_t now_ns)
{
	return now_ms + ((int64_t)clock_ns - (int64_t)now_ns) / 1000000;
}

static bool exp_eq(int64_t a, int64_t b)
{
	if (!a || !b)
		return a == b;
	return a - b <= CLUSTER_EXP_SLACK_MS && b - a <= CLUSTER_EXP_SLACK_MS;
}

static bool live(const struct cl_rec *r, int64_t now_ms)
{
	return !r->del && (!r->exp || r->exp > now_ms);
}

/* A live block record outranks a ban of the same CIDR in the blocklist map. */
static bool block_live(struct cl *c, const struct xs_cidr *cidr, int64_t now_ms)
{
	struct cl_rec *b = cl_get(&c->st, CL_BLOCK, cidr);

	return b && live(b, now_ms);
}

static int apply(struct cl *c, struct cl_rec *r)
{
	int64_t now_ms = cl_wall_ms();
	uint64_t now_ns = xs_now_ns(), until = r->exp ? now_ns + (r->exp - now_ms) * 1000000ULL : 0;
	char why[XS_NOTE_LEN];
	int lk, err = 0;

	/* Our own flood bans live in the XDP flood map, not the blocklist. */
	if (r->kind == CL_BAN && !strcmp(r->node, c->cfg.node_id))
		return 0;
	lk = xs_lock_wait(c->pin_root, 500);
	switch (r->kind) {
	case CL_BLOCK:
		if (!live(r, now_ms))
			err = xs_block_del(c->maps, &r->cidr);
		else
			err = xs_block_add_at(c->maps, &r->cidr, until, r->reason);
		break;
	case CL_TRUST:
		err = r->del ? xs_trust_del(c->maps, &r->cidr) : xs_trust_add(c->maps, &r->cidr);
		break;
	case CL_BAN:
		if (block_live(c, &r->cidr, now_ms))
			break;
		if (!live(r, now_ms)) {
			err = xs_block_del(c->maps, &r->cidr);
			break;
		}
		snprintf(why, sizeof(why), "flood ban on %.40s", r->node);
		err = xs_block_add_at(c->maps, &r->cidr, until, why);
		break;
	default:
		err = -EINVAL;
	}
	if (lk >= 0)
		xs_unlock(lk);
	if (err == -ENOENT)
		err = 0;
	r->failed = err != 0;
	if (err) {
		c->stats.apply_failed++;
		xs_log(XS_LOG_WARN, "cluster: %s %s from %s not applied: %s\n",
		       cl_kind_name(r->kind), r->key, r->node, strerror(-err));
	}
	return err;
}

void cl_merge(struct cl *c, const struct cl_rec *in, bool do_apply)
{
	struct cl_rec *r = cl_get(&c->st, in->kind, &in->cidr);

	if (r && !cl_newer(r, in->ts, in->node)) {
		c->stats.events_stale++;
		return;
	}
	if (!r) {
		r = cl_put(&c->st, in->kind, &in->cidr);
		if (!r)
			return;
	}
	if (r->del)
		c->st.tombs--;
	r->exp = in->exp;
	r->ts = in->ts;
	r->del = in->del;
	memcpy(r->node, in->node, sizeof(r->node));
	memcpy(r->reason, in->reason, sizeof(r->reason));
	r->dirty = false;
	if (r->del)
		c->st.tombs++;
	if (do_apply) {
		apply(c, r);
		xs_log(XS_LOG_DEBUG, "cluster: %s %s %s from %s\n", r->del ? "delete" : "set",
		       cl_kind_name(r->kind), r->key, r->node);
	}
}

/* A change this edge made: a record newer than anything it knew of. */
static void local(struct cl *c, struct cl_rec *r, int64_t ts, int64_t exp, const char *reason,
		  bool del)
{
	if (r->del && !del)
		c->st.tombs--;
	else if (!r->del && del)
		c->st.tombs++;
	r->ts = ts > r->ts ? ts : r->ts + 1;
	r->exp = exp;
	r->del = del;
	snprintf(r->node, sizeof(r->node), "%s", c->cfg.node_id);
	if (reason)
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	r->dirty = true;
	r->failed = false;
	r->seen = true;
	c->stats.local_changes++;
}

struct scan {
	struct cl *c;
	bool startup;
	int64_t now_ms;
	uint64_t now_ns;
};

static int scan_block(const struct xs_block_entry *e, void *arg)
{
	struct scan *s = arg;
	struct cl *c = s->c;
	int64_t exp, added;
	struct cl_rec *r, *b;

	if (xs_block_expired(&e->val, s->now_ns))
		return 0;
	exp = e->val.expires_ns ? wall_ms_of(e->val.expires_ns, s->now_ms, s->now_ns) : 0;
	added = s->now_ms - (int64_t)((s->now_ns - e->val.added_ns) / 1000000ULL);
	r = cl_get(&c->st, CL_BLOCK, &e->cidr);
	if (r && !r->del && exp_eq(r->exp, exp) &&
	    (!r->reason[0] || !strcmp(r->reason, e->note.text))) {
		r->seen = true;
		return 0;
	}
	b = cl_get(&c->st, CL_BAN, &e->cidr);
	if (b && !b->del && exp_eq(b->exp, exp)) {
		b->seen = true;
		return 0;
	}
	/* At start, what Redis holds wins over an older local entry (a delete made meanwhile). */
	if (s->startup && r && r->ts >= added) {
		r->seen = true;
		apply(c, r);
		return 0;
	}
	r = r ?: cl_put(&c->st, CL_BLOCK, &e->cidr);
	if (!r)
		return 0;
	local(c, r, added, exp, e->note.text, false);
	return 0;
}

static int scan_trust(const struct xs_cidr *cidr, const struct xs_trust *t, void *arg)
{
	struct scan *s = arg;
	struct cl *c = s->c;
	struct cl_rec *r = cl_get(&c->st, CL_TRUST, cidr);

	if (r && !r->del) {
		r->seen = true;
		return 0;
	}
	/*
	 * The trusted networks carry no time of their own: one found at start
	 * counts as older than any record, so a cluster delete removes it.
	 */
	if (s->startup && r) {
		r->seen = true;
		apply(c, r);
		return 0;
	}
	r = r ?: cl_put(&c->st, CL_TRUST, cidr);
	if (r)
		local(c, r, s->startup ? 1 : s->now_ms, 0, NULL, false);
	return 0;
}

static void unmark(struct cl_store *st, struct cl_rec *r, void *arg)
{
	r->seen = false;
}

/* A record the maps do not have: removed here (runtime), or to be applied (start). */
static void missing(struct cl_store *st, struct cl_rec *r, void *arg)
{
	struct scan *s = arg;
	struct cl *c = s->c;
	if (r->seen || r->del || r->failed)
		return;
	if (r->kind == CL_BAN && !strcmp(r->node, c->cfg.node_id))
		return;
	if (r->kind == CL_BAN && block_live(c, &r->cidr, s->now_ms))
		return;
	if (r->exp && r->exp <= s->now_ms + CLUSTER_EXP_SLACK_MS)
		return; /* expired, not deleted: every edge lets it go by itself */
	if (s->startup) {
		apply(c, r);
		return;
	}
	local(c, r, s->now_ms, r->exp, NULL, true);
}

void cl_scan(struct cl *c, bool startup)
{
	struct scan s = {.c = c, .startup = startup, .now_ms = cl_wall_ms(), .now_ns = xs_now_ns()};
	uint32_t zero = 0;
	uint64_t gen = 0;

	/* The generation first: a change made during the walk moves it again. */
	bpf_map_lookup_elem(c->maps->blkgen, &zero, &gen);
	cl_each(&c->st, unmark, NULL);
	if (xs_block_walk(c->maps, scan_block, &s) || xs_trust_walk(c->maps, scan_trust, &s)) {
		xs_log(XS_LOG_WARN, "cluster: cannot read the blocklist maps\n");
		return;
	}
	cl_each(&c->st, missing, &s);
	c->gen = gen;
	c->scan_ms = s.now_ms;
}

void cl_take_bans(struct cl *c)
{
	unsigned int n, i;
	int64_t now = cl_wall_ms();
	struct {
		struct xs_cidr cidr;
		int64_t exp;
	} q[CL_BANQ];

	pthread_mutex_lock(&c->qmu);
	n = c->banq_n;
	memcpy(q, c->banq, n * sizeof(q[0]));
	c->banq_n = 0;
	pthread_mutex_unlock(&c->qmu);
	for (i = 0; i < n; i++) {
		struct cl_rec *r = cl_put(&c->st, CL_BAN, &q[i].cidr);

		if (r)
			local(c, r, now, q[i].exp, "flood ban", false);
	}
}
