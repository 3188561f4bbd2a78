// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cluster thread (cluster.h): connects to Redis, loads the shared state,
 * then loops: events from the subscription, the edge's own map changes
 * (xs_blkgen moved), flood bans handed over by the SIP loop, heartbeats and
 * garbage collection. Cut off from Redis it keeps the table and the maps and
 * retries every second; back, it pushes every record it holds (Redis may
 * have restarted empty) and re-reads the hashes, the larger (ts, node)
 * winning everywhere.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cluster/redis.h"

#define CL_TICK_MS    100
#define CL_RESCAN_MS  5000 /* a full look at the maps even without an xs_blkgen change */
#define CL_HB_MS      1000
#define CL_GC_MS      30000
#define CL_PEER_UP_MS 5000

struct cl cl_g = {.qmu = PTHREAD_MUTEX_INITIALIZER,
		  .smu = PTHREAD_MUTEX_INITIALIZER,
		  .cmu = PTHREAD_MUTEX_INITIALIZER};

int cluster_parse_redis(struct cluster_cfg *c, const char *v)
{
	struct cluster_cfg t = {};
	char buf[1024], *save = NULL, *tok;

	if (!strcmp(v, "none")) {
		c->nredis = 0;
		return 0;
	}
	if (strlen(v) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *colon = strrchr(tok, ':');
		size_t hl = colon ? (size_t)(colon - tok) : strlen(tok);
		uint32_t port = 6379;

		if (t.nredis == CLUSTER_REDIS_MAX || !hl || hl >= sizeof(t.redis[0].host) ||
		    (colon && xs_u32_parse(colon + 1, 1, 65535, &port)))
			return -EINVAL;
		memcpy(t.redis[t.nredis].host, tok, hl);
		t.redis[t.nredis].host[hl] = 0;
		t.redis[t.nredis++].port = port;
	}
	if (!t.nredis)
		return -EINVAL;
	memcpy(c->redis, t.redis, sizeof(c->redis));
	c->nredis = t.nredis;
	return 0;
}

int cluster_parse_standby(struct cluster_cfg *c, const char *v)
{
	struct cluster_cfg t = {};

	if (!strcmp(v, "none")) {
		c->standby_for[0] = 0;
		return 0;
	}
	if (cluster_parse_node(&t, v))
		return -EINVAL;
	strcpy(c->standby_for, t.node_id);
	return 0;
}

int cluster_parse_node(struct cluster_cfg *c, const char *v)
{
	size_t n = strlen(v);

	if (!n || n >= sizeof(c->node_id) ||
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		      "qrstuvwxyz0123456789._-") != n)
		return -EINVAL;
	memmove(c->node_id, v, n + 1); /* v may be c->node_id itself (the host name) */
	return 0;
}

bool cluster_enabled(void)
{
	return cl_g.on;
}

static void publish(struct cl *c)
{
	size_t dirty = 0;

	for (size_t i = 0; i < c->st.nb; i++)
		for (struct cl_rec *r = c->st.b[i]; r; r = r->next)
			dirty += r->dirty;
	pthread_mutex_lock(&c->smu);
	c->snap = c->stats;
	memcpy(c->snap_peers, c->peers, sizeof(c->peers));
	c->snap_npeers = c->npeers;
	memcpy(c->snap_n, c->st.n, sizeof(c->snap_n));
	c->snap_tombs = c->st.tombs;
	c->snap_dirty = dirty;
	c->snap_connected = c->connected;
	c->snap_cur = c->cur;
	c->snap_my_calls = 0;
	if (c->mine) {
		const char *k;
		json_t *v;

		json_object_foreach(c->mine, k, v) c->snap_my_calls += k[0] == 'd';
	}
	pthread_mutex_unlock(&c->smu);
	pthread_mutex_lock(&c->cmu);
	size_t pc = 0;
	if (c->peer) {
		const char *k;
		json_t *v;

		json_object_foreach(c->peer, k, v) pc += k[0] == 'd';
	}
	pthread_mutex_unlock(&c->cmu);
	pthread_mutex_lock(&c->smu);
	c->snap_peer_calls = pc;
	pthread_mutex_unlock(&c->smu);
}

static void try_connect(struct cl *c, bool startup)
{
	int64_t now = cl_wall_ms();

	if (now < c->next_try_ms)
		return;
	c->next_try_ms = now + 1000;
	if (cl_connect(c, startup))
		return;
	if (startup)
		cl_scan(c, true);
	else
		c->stats.reconnects++;
	if (cl_push_dirty(c, true)) {
		cl_disconnect(c);
		return;
	}
	xs_log(XS_LOG_INFO,
	       "cluster: node %s synchronised with Redis %s:%u: %zu blocks, %zu trusted, "
	       "%zu bans, %zu tombstones\n",
	       c->cfg.node_id, c->cfg.redis[c->cur].host, c->cfg.redis[c->cur].port,
	       c->st.n[CL_BLOCK], c->st.n[CL_TRUST], c->st.n[CL_BAN], c->st.tombs);
}

static void step(struct cl *c)
{
	int64_t now;
	uint32_t zero = 0;
	uint64_t gen = 0;

	if (!c->connected)
		try_connect(c, false);
	if (c->connected) {
		struct pollfd p = {.fd = c->sub->fd, .events = POLLIN};

		if (poll(&p, 1, CL_TICK_MS) > 0 && cl_read_events(c))
			cl_disconnect(c);
	} else {
		usleep(CL_TICK_MS * 1000);
	}
	cl_take_bans(c);
	now = cl_wall_ms();
	bpf_map_lookup_elem(c->maps->blkgen, &zero, &gen);
	if (gen != c->gen || now - c->scan_ms >= CL_RESCAN_MS)
		cl_scan(c, false);
	if (c->connected && cl_push_dirty(c, false))
		cl_disconnect(c);
	if (c->connected && cl_calls_step(c, now))
		cl_disconnect(c);
	if (c->connected && now - c->hb_ms >= CL_HB_MS) {
		c->hb_ms = now;
		if (cl_heartbeat(c, now))
			cl_disconnect(c);
	}
	if (c->connected && now - c->gc_ms >= CL_GC_MS) {
		c->gc_ms = now;
		if (cl_gc(c, now))
			cl_disconnect(c);
	}
	publish(c);
}

static void *run(void *arg)
{
	struct cl *c = arg;

	while (!c->stop)
		step(c);
	return NULL;
}

int cluster_init(const struct cluster_cfg *cfg, const struct xs_maps *maps, const char *pin_root)
{
	int err;

	if (!cfg->nredis)
		return 0;
	cl_g.cfg = *cfg;
	if (!cl_g.cfg.node_id[0] && (gethostname(cl_g.cfg.node_id, sizeof(cl_g.cfg.node_id) - 1) ||
				     cluster_parse_node(&cl_g.cfg, cl_g.cfg.node_id)))
		return -EINVAL;
	cl_g.maps = maps;
	cl_g.pin_root = pin_root;
	err = cl_store_init(&cl_g.st, 65536);
	if (err)
		return err;
	cl_g.on = true;
	/* The whole shared state before the edge reports ready (retried for a few seconds). */
	for (int i = 0; i < 3 && !cl_g.connected; i++) {
		cl_g.next_try_ms = 0;
		try_connect(&cl_g, true);
		if (!cl_g.connected)
			usleep(500 * 1000);
	}
	if (!cl_g.connected) {
		xs_log(XS_LOG_WARN,
		       "cluster: Redis %s:%u unreachable; node %s starts on its own maps and "
		       "reconciles when Redis answers\n",
		       cl_g.cfg.redis[0].host, cl_g.cfg.redis[0].port, cl_g.cfg.node_id);
		cl_scan(&cl_g, true);
	}
	publish(&cl_g);
	return 0;
}

int cluster_start(void)
{
	int err;

	if (!cl_g.on)
		return 0;
	cluster_calls_changed(); /* the dialogs restored from the state file, written at once */
	err = pthread_create(&cl_g.th, NULL, run, &cl_g);
	if (err)
		return -err;
	cl_g.th_on = true;
	pthread_setname_np(cl_g.th, "xs-cluster"); /* its CPU time apart in top and /proc */
	return 0;
}

void cluster_stop(void)
{
	if (!cl_g.on)
		return;
	cl_g.stop = 1;
	if (cl_g.th_on)
		pthread_join(cl_g.th, NULL);
	cl_g.th_on = false;
	cl_g.connected = false; /* not "lost": leaving */
	cl_disconnect(&cl_g);
	cl_store_free(&cl_g.st);
	cl_g.on = false;
}

void cluster_ban(const struct xs_flood_key *src, uint64_t banned_until_ns)
{
	struct xs_cidr c = {};

	if (!cl_g.on)
		return;
	c.family = src->family == 6 ? AF_INET6 : AF_INET;
	c.prefixlen = src->prefixlen;
	memcpy(c.addr, src->addr, c.family == AF_INET ? 4 : 16);
	pthread_mutex_lock(&cl_g.qmu);
	if (cl_g.banq_n < CL_BANQ) {
		cl_g.banq[cl_g.banq_n].cidr = c;
		cl_g.banq[cl_g.banq_n++].exp =
			cl_wall_ms() + ((int64_t)banned_until_ns - (int64_t)xs_now_ns()) / 1000000;
	} else {
		cl_g.banq_lost++;
	}
	pthread_mutex_unlock(&cl_g.qmu);
}

json_t *cluster_status_json(void)
{
	json_t *o, *peers;
	int64_t now = cl_wall_ms();

	if (!cl_g.on)
		return json_pack("{s:b, s:s}", "enabled", 0, "role", "single");
	peers = json_array();
	pthread_mutex_lock(&cl_g.smu);
	for (unsigned int i = 0; i < cl_g.snap_npeers; i++)
		json_array_append_new(
			peers, json_pack("{s:s, s:I, s:b}", "node", cl_g.snap_peers[i].node,
					 "last_seen_ms_ago",
					 (json_int_t)(now - cl_g.snap_peers[i].seen_ms), "up",
					 now - cl_g.snap_peers[i].seen_ms < CL_PEER_UP_MS));
	o = json_pack(
		"{s:b, s:s, s:s, s:s, s:b, s:o, s:{s:I, s:I, s:I, s:I, s:I}, "
		"s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
		"enabled", 1, "node", cl_g.cfg.node_id, "role", "active", "redis",
		cl_g.cfg.redis[cl_g.snap_cur].host, "connected", cl_g.snap_connected, "peers",
		peers, "state", "blocks", (json_int_t)cl_g.snap_n[CL_BLOCK], "trusted",
		(json_int_t)cl_g.snap_n[CL_TRUST], "bans", (json_int_t)cl_g.snap_n[CL_BAN],
		"tombstones", (json_int_t)cl_g.snap_tombs, "queued", (json_int_t)cl_g.snap_dirty,
		"replication", "events_out", (json_int_t)cl_g.snap.events_out, "events_in",
		(json_int_t)cl_g.snap.events_in, "local_changes",
		(json_int_t)cl_g.snap.local_changes, "reconnects", (json_int_t)cl_g.snap.reconnects,
		"apply_failed", (json_int_t)cl_g.snap.apply_failed, "lag_last_ms",
		(json_int_t)cl_g.snap.lag_last_ms, "lag_max_ms", (json_int_t)cl_g.snap.lag_max_ms);
	json_t *calls = json_pack(
		"{s:s, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I}", "standby_for",
		cl_g.cfg.standby_for, "own", (json_int_t)cl_g.snap_my_calls, "peer_ready",
		(json_int_t)cl_g.snap_peer_calls, "taken_over", cl_g.taken, "taken_calls",
		(json_int_t)cl_g.taken_calls, "takeover_ms", (json_int_t)cl_g.takeover_ms,
		"events_out", (json_int_t)cl_g.calls_out, "events_in", (json_int_t)cl_g.calls_in,
		"flows_programmed", (json_int_t)cl_g.flows_programmed);
	pthread_mutex_unlock(&cl_g.smu);
	if (o) {
		json_object_set_new(o, "redis_port",
				    json_integer(cl_g.cfg.redis[cl_g.snap_cur].port));
		json_object_set_new(o, "calls", calls);
		if (cl_g.cfg.standby_for[0])
			json_object_set_new(
				o, "role",
				json_string(cl_g.taken ? "active (took over)" : "standby"));
	} else {
		json_decref(calls);
	}
	return o;
}

char *cluster_metrics(void)
{
	char *s = NULL;

	if (!cl_g.on)
		return NULL;
	pthread_mutex_lock(&cl_g.smu);
	if (asprintf(&s,
		     "# HELP xdpsbc_cluster_connected 1 while the edge is connected to Redis.\n"
		     "# TYPE xdpsbc_cluster_connected gauge\n"
		     "xdpsbc_cluster_connected{node=\"%s\"} %d\n"
		     "# HELP xdpsbc_cluster_events_total Policy records written to Redis (out) "
		     "and applied from peers (in).\n"
		     "# TYPE xdpsbc_cluster_events_total counter\n"
		     "xdpsbc_cluster_events_total{dir=\"out\"} %llu\n"
		     "xdpsbc_cluster_events_total{dir=\"in\"} %llu\n"
		     "# HELP xdpsbc_cluster_reconnects_total Reconnections to Redis.\n"
		     "# TYPE xdpsbc_cluster_reconnects_total counter\n"
		     "xdpsbc_cluster_reconnects_total %llu\n"
		     "# HELP xdpsbc_cluster_lag_ms Origin-to-here delay of the last peer record.\n"
		     "# TYPE xdpsbc_cluster_lag_ms gauge\n"
		     "xdpsbc_cluster_lag_ms %lld\n"
		     "# HELP xdpsbc_cluster_records Shared policy records held by the edge.\n"
		     "# TYPE xdpsbc_cluster_records gauge\n"
		     "xdpsbc_cluster_records{kind=\"block\"} %zu\n"
		     "xdpsbc_cluster_records{kind=\"trust\"} %zu\n"
		     "xdpsbc_cluster_records{kind=\"ban\"} %zu\n"
		     "xdpsbc_cluster_records{kind=\"queued\"} %zu\n"
		     "# HELP xdpsbc_cluster_calls_events_total Call records written (out) and "
		     "received from the standby's peer (in).\n"
		     "# TYPE xdpsbc_cluster_calls_events_total counter\n"
		     "xdpsbc_cluster_calls_events_total{dir=\"out\"} %llu\n"
		     "xdpsbc_cluster_calls_events_total{dir=\"in\"} %llu\n"
		     "# HELP xdpsbc_cluster_calls_taken_over Calls this edge took over from its "
		     "peer.\n"
		     "# TYPE xdpsbc_cluster_calls_taken_over gauge\n"
		     "xdpsbc_cluster_calls_taken_over %u\n",
		     cl_g.cfg.node_id, cl_g.snap_connected,
		     (unsigned long long)cl_g.snap.events_out,
		     (unsigned long long)cl_g.snap.events_in,
		     (unsigned long long)cl_g.snap.reconnects, (long long)cl_g.snap.lag_last_ms,
		     cl_g.snap_n[CL_BLOCK], cl_g.snap_n[CL_TRUST], cl_g.snap_n[CL_BAN],
		     cl_g.snap_dirty, (unsigned long long)cl_g.calls_out,
		     (unsigned long long)cl_g.calls_in, cl_g.taken_calls) < 0)
		s = NULL;
	pthread_mutex_unlock(&cl_g.smu);
	return s;
}

char *cluster_status_text(void)
{
	json_t *o = cluster_status_json(), *p, *st, *rp;
	char *s = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&s, &len);

	if (!f || !o) {
		if (f)
			fclose(f);
		json_decref(o);
		free(s);
		return NULL;
	}
	if (!json_is_true(json_object_get(o, "enabled"))) {
		fprintf(f, "  role: single edge (no redis configured)\n");
	} else {
		st = json_object_get(o, "state");
		rp = json_object_get(o, "replication");
		fprintf(f, "  node: %s, role %s\n", json_string_value(json_object_get(o, "node")),
			json_string_value(json_object_get(o, "role")));
		fprintf(f, "  redis: %s:%lld, %s\n", json_string_value(json_object_get(o, "redis")),
			(long long)json_integer_value(json_object_get(o, "redis_port")),
			json_is_true(json_object_get(o, "connected"))
				? "connected"
				: "NOT connected (changes queued)");
		fprintf(f, "  peers:");
		json_array_foreach(json_object_get(o, "peers"), i, p) fprintf(
			f, " %s (%s, %lld ms ago)", json_string_value(json_object_get(p, "node")),
			json_is_true(json_object_get(p, "up")) ? "up" : "down",
			(long long)json_integer_value(json_object_get(p, "last_seen_ms_ago")));
		fprintf(f, "%s\n", json_array_size(json_object_get(o, "peers")) ? "" : " none");
		fprintf(f,
			"  state: %lld blocks, %lld trusted, %lld bans, %lld tombstones, %lld "
			"queued\n",
			(long long)json_integer_value(json_object_get(st, "blocks")),
			(long long)json_integer_value(json_object_get(st, "trusted")),
			(long long)json_integer_value(json_object_get(st, "bans")),
			(long long)json_integer_value(json_object_get(st, "tombstones")),
			(long long)json_integer_value(json_object_get(st, "queued")));
		fprintf(f,
			"  replication: %lld out, %lld in, %lld local changes, %lld reconnects, "
			"lag %lld ms (max %lld), %lld not applied\n",
			(long long)json_integer_value(json_object_get(rp, "events_out")),
			(long long)json_integer_value(json_object_get(rp, "events_in")),
			(long long)json_integer_value(json_object_get(rp, "local_changes")),
			(long long)json_integer_value(json_object_get(rp, "reconnects")),
			(long long)json_integer_value(json_object_get(rp, "lag_last_ms")),
			(long long)json_integer_value(json_object_get(rp, "lag_max_ms")),
			(long long)json_integer_value(json_object_get(rp, "apply_failed")));
		json_t *cs = json_object_get(o, "calls");
		const char *sf = json_string_value(json_object_get(cs, "standby_for"));

		fprintf(f, "  calls: %lld own",
			(long long)json_integer_value(json_object_get(cs, "own")));
		if (sf && *sf)
			fprintf(f, ", standby for %s: %lld ready, %s %lld calls (%lld ms)", sf,
				(long long)json_integer_value(json_object_get(cs, "peer_ready")),
				json_is_true(json_object_get(cs, "taken_over")) ? "took over"
										: "would take",
				(long long)json_integer_value(json_object_get(cs, "taken_calls")),
				(long long)json_integer_value(json_object_get(cs, "takeover_ms")));
		fprintf(f, "\n");
	}
	fclose(f);
	json_decref(o);
	return s;
}
