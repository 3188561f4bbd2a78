// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cluster's Redis side. Keys: one hash per kind, xdpsbc:policy:<kind>
 * (field = CIDR, value = the record's JSON, store.h); change events on the
 * channel xdpsbc:policy ("<kind> <json>"); heartbeats in the hash
 * xdpsbc:nodes (node -> wall ms). A record is written by a Lua script that
 * keeps the larger (ts, node) and publishes only what it wrote, so writers
 * racing, or an edge back from a partition, cannot overwrite a newer record.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cluster/redis.h"

#define CL_CHANNEL  "xdpsbc:policy"
#define CL_NODES    "xdpsbc:nodes"
#define CL_IO_MS    2000 /* a loaded host: Redis and this thread may wait their turn */
#define CL_PIPELINE 256

static const char lww_lua[] =
	"local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if cur then\n"
	"  local c = cjson.decode(cur)\n"
	"  local ts = tonumber(ARGV[3])\n"
	"  if c.ts > ts or (c.ts == ts and c.node >= ARGV[4]) then return 0 end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
	"redis.call('PUBLISH', KEYS[2], ARGV[5])\n"
	"return 1\n";

/* Remove a stale record only if nobody rewrote it since it was read. */
static const char gc_lua[] = "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then\n"
			     "  return redis.call('HDEL', KEYS[1], ARGV[1])\n"
			     "end\n"
			     "return 0\n";

static void hkey(enum cl_kind k, char *buf, size_t len)
{
	snprintf(buf, len, "xdpsbc:policy:%s", cl_kind_name(k));
}

void cl_disconnect(struct cl *c)
{
	const char *why = c->cmd && c->cmd->err	  ? c->cmd->errstr
			  : c->sub && c->sub->err ? c->sub->errstr
						  : "a command failed";

	if (c->connected)
		xs_log(XS_LOG_WARN,
		       "cluster: Redis %s:%u lost (%s); enforcing what the maps hold, queueing "
		       "changes\n",
		       c->cfg.redis[c->cur].host, c->cfg.redis[c->cur].port, why);
	if (c->cmd)
		redisFree(c->cmd);
	if (c->sub)
		redisFree(c->sub);
	c->cmd = c->sub = NULL;
	c->connected = false;
}

static redisContext *open_ctx(struct cl *c)
{
	struct timeval tv = {.tv_sec = CL_IO_MS / 1000, .tv_usec = (CL_IO_MS % 1000) * 1000};
	redisContext *r =
		redisConnectWithTimeout(c->cfg.redis[c->cur].host, c->cfg.redis[c->cur].port, tv);

	if (!r || r->err) {
		if (r)
			redisFree(r);
		return NULL;
	}
	redisSetTimeout(r, tv);
	return r;
}

static bool reply_ok(redisReply *r)
{
	return r && r->type != REDIS_REPLY_ERROR;
}

/* The records of one kind, merged (applied when @apply). */
static int load_kind(struct cl *c, enum cl_kind k, bool apply)
{
	char key[64];
	redisReply *r;
	struct cl_rec in;

	hkey(k, key, sizeof(key));
	r = redisCommand(c->cmd, "HGETALL %s", key);
	if (!reply_ok(r) || r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return -EIO;
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		redisReply *v = r->element[i + 1];

		if (v->type != REDIS_REPLY_STRING || cl_decode(v->str, v->len, k, &in)) {
			c->stats.events_bad++;
			continue;
		}
		cl_merge(c, &in, apply);
	}
	freeReplyObject(r);
	return 0;
}

/* A replica refuses writes: only the primary of a Sentinel-managed set will do. */
static bool is_primary(struct cl *c)
{
	redisReply *r = redisCommand(c->cmd, "ROLE");
	bool ok = reply_ok(r) && r->type == REDIS_REPLY_ARRAY && r->elements &&
		  r->element[0]->type == REDIS_REPLY_STRING &&
		  !strcmp(r->element[0]->str, "master");

	freeReplyObject(r);
	return ok;
}

/*
 * Subscribe first, then read every hash: an event racing the load is read
 * after it and merged by the same rule. At start the records only fill the
 * table (cl_scan() then settles them against the maps); later they apply.
 */
int cl_connect(struct cl *c, bool startup)
{
	redisReply *r;
	int k;

	c->cmd = open_ctx(c);
	c->sub = c->cmd && is_primary(c) ? open_ctx(c) : NULL;
	if (!c->sub)
		goto fail;
	r = redisCommand(c->sub, "SUBSCRIBE %s", CL_CHANNEL);
	if (!reply_ok(r)) {
		freeReplyObject(r);
		goto fail;
	}
	freeReplyObject(r);
	for (k = 0; k < CL_KINDS; k++)
		if (load_kind(c, k, !startup))
			goto fail;
	if (cl_calls_connect(c))
		goto fail;
	c->connected = true;
	c->stats.synced_ms = cl_wall_ms();
	return 0;
fail:
	cl_disconnect(c);
	c->cur = (c->cur + 1) % c->cfg.nredis; /* the next address, next time */
	return -ECONNREFUSED;
}

static void on_message(struct cl *c, redisReply *r)
{
	redisReply *p;
	const char *sp;
	char kname[16];
	enum cl_kind k;
	struct cl_rec in;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message"))
		return;
	p = r->element[2];
	if (p->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
		return;
	if (cl_calls_message(c, r->element[1]->str, p->str, p->len))
		return;
	sp = memchr(p->str, ' ', p->len);
	if (!sp || sp - p->str >= (long)sizeof(kname)) {
		c->stats.events_bad++;
		return;
	}
	memcpy(kname, p->str, sp - p->str);
	kname[sp - p->str] = 0;
	if (cl_kind_parse(kname, &k) || cl_decode(sp + 1, p->len - (sp + 1 - p->str), k, &in)) {
		c->stats.events_bad++;
		return;
	}
	if (!strcmp(in.node, c->cfg.node_id))
		return; /* our own write coming back */
	c->stats.events_in++;
	/* Lag: the origin's change to here, over both clocks (keep them in NTP). */
	int64_t lag = cl_wall_ms() - in.ts;

	c->stats.lag_last_ms = lag > 0 ? lag : 0;
	if (c->stats.lag_last_ms > c->stats.lag_max_ms)
		c->stats.lag_max_ms = c->stats.lag_last_ms;
	cl_merge(c, &in, true);
}

/* The subscriber socket is readable: take every complete event. */
int cl_read_events(struct cl *c)
{
	void *rep;

	if (redisBufferRead(c->sub) != REDIS_OK)
		return -EIO;
	for (;;) {
		if (redisGetReplyFromReader(c->sub, &rep) != REDIS_OK)
			return -EIO;
		if (!rep)
			return 0;
		on_message(c, rep);
		freeReplyObject(rep);
	}
}

struct push {
	struct cl *c;
	bool all;
	struct cl_rec *recs[CL_PIPELINE];
	unsigned int n;
	int err;
};

/* Send the batch pipelined; a record Redis refused as older is re-read. */
static int flush(struct push *p)
{
	struct cl *c = p->c;
	unsigned int i;
	int err = 0;

	for (i = 0; i < p->n; i++) {
		redisReply *r = NULL;

		if (redisGetReply(c->cmd, (void **)&r) != REDIS_OK) {
			err = -EIO;
			break;
		}
		if (reply_ok(r) && r->type == REDIS_REPLY_INTEGER) {
			if (r->integer == 1)
				c->stats.events_out++;
			p->recs[i]->dirty = false;
		} else if (!err) {
			xs_log(XS_LOG_WARN, "cluster: Redis refused %s %s: %s\n",
			       cl_kind_name(p->recs[i]->kind), p->recs[i]->key,
			       r && r->type == REDIS_REPLY_ERROR ? r->str : "?");
		}
		freeReplyObject(r);
	}
	p->n = 0;
	return err;
}

static void push_one(struct cl_store *st, struct cl_rec *r, void *arg)
{
	struct push *p = arg;
	char key[64], ts[24], *val, *msg;
	const char *argv[10];
	size_t lens[10];
	int n = 0;

	if (p->err || (!r->dirty && !p->all))
		return;
	val = cl_encode(r);
	if (!val || asprintf(&msg, "%s %s", cl_kind_name(r->kind), val) < 0) {
		free(val);
		return;
	}
	hkey(r->kind, key, sizeof(key));
	snprintf(ts, sizeof(ts), "%lld", (long long)r->ts);
	argv[n++] = "EVAL";
	argv[n++] = lww_lua;
	argv[n++] = "2";
	argv[n++] = key;
	argv[n++] = CL_CHANNEL;
	argv[n++] = r->key;
	argv[n++] = val;
	argv[n++] = ts;
	argv[n++] = r->node;
	argv[n++] = msg;
	for (int i = 0; i < n; i++)
		lens[i] = strlen(argv[i]);
	if (redisAppendCommandArgv(p->c->cmd, n, argv, lens) != REDIS_OK)
		p->err = -EIO;
	else
		p->recs[p->n++] = r;
	free(val);
	free(msg);
	if (!p->err && p->n == CL_PIPELINE)
		p->err = flush(p);
}

/* Our changes (or, after a reconnect, every record: Redis may have lost them). */
int cl_push_dirty(struct cl *c, bool all)
{
	struct push p = {.c = c, .all = all};
	int err;

	cl_each(&c->st, push_one, &p);
	err = p.err ?: flush(&p);
	if (!err && all) {
		/* Refused as older: Redis has a newer record; it wins here too. */
		for (int k = 0; k < CL_KINDS && !err; k++)
			err = load_kind(c, k, true);
	}
	return err;
}

static void add_peer(struct cl *c, const char *node, int64_t ms)
{
	if (c->npeers < CL_PEERS_MAX) {
		snprintf(c->peers[c->npeers].node, sizeof(c->peers[0].node), "%s", node);
		c->peers[c->npeers++].seen_ms = ms;
	}
}

int cl_heartbeat(struct cl *c, int64_t now_ms)
{
	redisReply *r;

	r = redisCommand(c->cmd, "HSET %s %s %lld", CL_NODES, c->cfg.node_id, (long long)now_ms);
	if (!reply_ok(r)) {
		freeReplyObject(r);
		return -EIO;
	}
	freeReplyObject(r);
	r = redisCommand(c->cmd, "HGETALL %s", CL_NODES);
	if (!reply_ok(r) || r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return -EIO;
	}
	c->npeers = 0;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		redisReply *k = r->element[i], *v = r->element[i + 1];

		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
		    strcmp(k->str, c->cfg.node_id))
			add_peer(c, k->str, strtoll(v->str, NULL, 10));
	}
	freeReplyObject(r);
	return 0;
}

struct gc {
	struct cl *c;
	int64_t now_ms;
	int err;
};

static void gc_one(struct cl_store *st, struct cl_rec *r, void *arg)
{
	struct gc *g = arg;
	bool stale = r->del ? r->ts < g->now_ms - CLUSTER_TOMB_KEEP_S * 1000LL
			    : r->exp && r->exp < g->now_ms - 60000;
	char key[64], *val;
	redisReply *rep;

	if (!stale || r->dirty || g->err)
		return;
	val = cl_encode(r);
	if (!val)
		return;
	hkey(r->kind, key, sizeof(key));
	rep = redisCommand(g->c->cmd, "EVAL %s 1 %s %s %s", gc_lua, key, r->key, val);
	if (!reply_ok(rep))
		g->err = -EIO;
	freeReplyObject(rep);
	free(val);
	if (!g->err) {
		if (r->del)
			st->tombs--;
		cl_drop(st, r);
	}
}

/* Old tombstones and long-expired records leave Redis and the table. */
int cl_gc(struct cl *c, int64_t now_ms)
{
	struct gc g = {.c = c, .now_ms = now_ms};

	cl_each(&c->st, gc_one, &g);
	return g.err;
}
