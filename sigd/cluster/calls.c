// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replicated calls. Each edge writes its calls to the Redis hash
 * xdpsbc:calls:<node>, one field per call and per kind, and announces each
 * change on the channel of the same name ("set FIELD VALUE", "del FIELD"):
 *   d:<Call-ID>  the dialog, as its state-file record (dialog.h)
 *   f:<cookie>   the call's relay flows: key and value of each xs_flows
 *                entry (edge address and port, peers, latched addresses,
 *                flags), clock fields as wall-clock ms
 * Only calls whose record changed are written: dialogs when the proxy
 * flushes its changes, flows when a walk of xs_flows (every CL_FLOWS_MS)
 * finds a call's flows changed (a latch, a re-INVITE, the end).
 *
 * A standby (standby-for NODE) subscribes to its peer's channel and keeps
 * the peer's calls: dialogs parsed in memory, flows programmed into its own
 * xs_flows right away, so that the moment the peer's addresses move to it
 * its XDP program relays the media with the latched peers. When the
 * standby finds it holds the public address (cluster_calls_poll()), it
 * takes the dialogs into its table and the flows into its media state:
 * from then on BYE, re-INVITE and media timeouts are its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "cluster/redis.h"
#include "sip/dialog.h"
#include "media/media.h"
#include "sigd.h"

#define CL_FLOWS_MS 200

static void ckey(const char *node, char *buf, size_t len)
{
	snprintf(buf, len, "xdpsbc:calls:%s", node);
}

static void hex(const void *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = 0;
}

static int unhex(const char *s, void *p, size_t n)
{
	uint8_t *b = p;

	if (!s || strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		b[i] = v;
	}
	return 0;
}

/* ---- the SIP loop's side ---- */

/*
 * The SIP loop's own copy of the dialog records it handed over: a dialog
 * whose record is unchanged is not queued again, one no longer in the
 * table is queued as a delete. The encoding is the state file's (the
 * proxy writes that file at the same moment, with the same cost).
 */
static json_t *handed;

void cluster_calls_changed(void)
{
	struct cl *c = &cl_g;
	json_t *now, *q, *v;
	char field[300];
	const char *k;
	void *tmp;

	if (!c->on)
		return;
	if (!handed)
		handed = json_object();
	now = json_object();
	q = json_object();
	for (struct dialog *d = dlg_first(); d; d = d->next) {
		json_t *o = dlg_json(d), *old;
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		json_decref(o);
		if (!s)
			continue;
		snprintf(field, sizeof(field), "d:%s", d->call_id);
		old = json_object_get(handed, field);
		if (!old || strcmp(json_string_value(old), s))
			json_object_set_new(q, field, json_string(s));
		json_object_set_new(now, field, json_string(s));
		free(s);
	}
	json_object_foreach_safe(handed, tmp, k, v) if (!json_object_get(now, k))
		json_object_set_new(q, k, json_null());
	json_decref(handed);
	handed = now;
	if (!json_object_size(q)) {
		json_decref(q);
		return;
	}
	pthread_mutex_lock(&c->cmu);
	if (!c->outq)
		c->outq = json_object();
	json_object_update(c->outq, q);
	pthread_mutex_unlock(&c->cmu);
	json_decref(q);
}

/*
 * Does this host hold @a? Not bind(): an edge that listens on the shared
 * address before holding it runs with ip_nonlocal_bind, which makes any
 * bind succeed; nor a route lookup, which may pick another source.
 */
static int addr_local(const struct sip_ip *a)
{
	struct ifaddrs *ifs, *i;
	int ok = 0;

	if (!a->af || getifaddrs(&ifs))
		return 0;
	for (i = ifs; i && !ok; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != a->af)
			continue;
		if (a->af == AF_INET)
			ok = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == a->v4.s_addr;
		else
			ok = !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, &a->v6,
				     sizeof(a->v6));
	}
	freeifaddrs(ifs);
	return ok;
}

static int64_t to_mono(int64_t wall_ms, int64_t now_ms, uint64_t now_ns)
{
	int64_t v;

	if (!wall_ms)
		return 0;
	v = (int64_t)now_ns + (wall_ms - now_ms) * 1000000LL;
	return v > 0 ? v : 1;
}

/* Program one call's flows (a "f:" record) into @fd; the number programmed. */
static int program_flows(struct cl *c, const char *val)
{
	json_t *arr = json_loads(val, 0, NULL), *e;
	int64_t now_ms = cl_wall_ms();
	uint64_t now_ns = xs_now_ns();
	size_t i;
	int n = 0;

	json_array_foreach(arr, i, e)
	{
		struct xs_flow_key k;
		struct xs_flow f, cur;

		if (unhex(json_string_value(json_object_get(e, "k")), &k, sizeof(k)) ||
		    unhex(json_string_value(json_object_get(e, "v")), &f, sizeof(f)))
			continue;
		/* A port of this edge's own call: never overwritten (disjoint rtp-ports). */
		if (!bpf_map_lookup_elem(c->maps->flows, &k, &cur) && cur.cookie != f.cookie) {
			c->flows_conflict++;
			continue;
		}
		f.latch_until_ns =
			to_mono(json_integer_value(json_object_get(e, "lu")), now_ms, now_ns);
		f.last_seen_ns = now_ns;
		if (!bpf_map_update_elem(c->maps->flows, &k, &f, BPF_ANY))
			n++;
	}
	json_decref(arr);
	c->flows_programmed += n;
	return n;
}

static void unprogram_flows(struct cl *c, const char *val)
{
	json_t *arr = json_loads(val, 0, NULL), *e;
	size_t i;

	json_array_foreach(arr, i, e)
	{
		struct xs_flow_key k;
		struct xs_flow f, cur;

		if (unhex(json_string_value(json_object_get(e, "k")), &k, sizeof(k)) ||
		    unhex(json_string_value(json_object_get(e, "v")), &f, sizeof(f)))
			continue;
		if (!bpf_map_lookup_elem(c->maps->flows, &k, &cur) && cur.cookie == f.cookie)
			bpf_map_delete_elem(c->maps->flows, &k);
	}
	json_decref(arr);
}

bool cluster_foreign_cookie(uint64_t cookie)
{
	struct cl *c = &cl_g;
	char field[24];
	bool yes;

	if (!c->on || !c->cfg.standby_for[0] || c->taken)
		return false;
	snprintf(field, sizeof(field), "f:%016llx", (unsigned long long)cookie);
	pthread_mutex_lock(&c->cmu);
	yes = c->peer && json_object_get(c->peer, field);
	pthread_mutex_unlock(&c->cmu);
	return yes;
}

/*
 * The Call-IDs taken over, for clog_mark(): built completely, then published
 * with one atomic store and never changed, so any thread may read it.
 */
static json_t *taken_ids;

const char *clog_mark(const char *cid)
{
	json_t *set = __atomic_load_n(&taken_ids, __ATOMIC_ACQUIRE);

	return set && cid && json_object_get(set, cid) ? " (taken over)" : "";
}

/*
 * Flows are replicated under the peer's cookie, keyed by its signing
 * secret, and this edge finds a call's flows by its own: do the two agree
 * for the calls that have flows? (No flows at all proves nothing.)
 */
static bool keyed_alike(json_t *peer)
{
	bool flows = false;
	const char *k;
	json_t *v;
	char field[24];

	json_object_foreach(peer, k, v)
	{
		if (k[0] == 'f')
			flows = true;
		if (k[0] != 'd')
			continue;
		snprintf(field, sizeof(field), "f:%016llx",
			 (unsigned long long)media_cookie(k + 2));
		if (json_object_get(peer, field))
			return true;
	}
	return !flows;
}

int cluster_calls_poll(struct media_ctx *mc, const struct sip_ip *public_ip)
{
	struct cl *c = &cl_g;
	static uint64_t next;
	uint64_t now = sigd_now_ms(), t0;
	char ipb[INET6_ADDRSTRLEN];
	json_t *peer, *v;
	const char *k;
	int n = 0, media;

	if (!c->on || !c->cfg.standby_for[0] || c->taken || now < next)
		return 0;
	next = now + 50;
	if (!addr_local(public_ip))
		return 0;
	t0 = now;
	pthread_mutex_lock(&c->cmu);
	c->taken = true;
	peer = c->peer;
	c->peer = json_object();
	pthread_mutex_unlock(&c->cmu);
	json_t *ids = json_object();

	json_object_foreach(peer, k, v) if (k[0] == 'd')
		json_object_set_new(ids, k + 2, json_true());
	__atomic_store_n(&taken_ids, ids, __ATOMIC_RELEASE);
	/* The flows first (they are in the map already; again in case one raced). */
	json_object_foreach(peer, k, v) if (k[0] == 'f') program_flows(c, json_string_value(v));
	json_object_foreach(peer, k, v)
	{
		json_t *o;
		int err;

		if (k[0] != 'd')
			continue;
		o = json_loads(json_string_value(v), 0, NULL);
		err = o ? dlg_from_json(o) : -EINVAL;
		json_decref(o);
		if (err)
			CLOG(XS_LOG_WARN, k + 2, "from %s: dialog not restored: %s",
			     c->cfg.standby_for, strerror(-err));
		else {
			CLOG(XS_LOG_INFO, k + 2, "from %s: dialog and media now here",
			     c->cfg.standby_for);
			n++;
		}
	}
	if (n && !keyed_alike(peer))
		xs_log(XS_LOG_ERR,
		       "cluster: no call of %s has its flows under this edge's cookie: the two "
		       "edges' signing secrets (STATE-DIR/secret) differ, so these calls' media "
		       "and in-dialog requests are not recognised here; copy the peer's secret\n",
		       c->cfg.standby_for);
	json_decref(peer);
	media = media_adopt(mc);
	pthread_mutex_lock(&c->smu);
	c->taken_calls = n;
	c->takeover_ms = (int64_t)(sigd_now_ms() - t0);
	pthread_mutex_unlock(&c->smu);
	xs_log(XS_LOG_WARN,
	       "cluster: holding %s: took over %d calls of %s (%d with media) in %llu ms\n",
	       sip_ip_str(public_ip, ipb, sizeof(ipb)), n, c->cfg.standby_for,
	       media < 0 ? 0 : media, (unsigned long long)(sigd_now_ms() - t0));
	cluster_calls_changed(); /* they are this edge's now: written under its name */
	return n;
}

/* ---- the cluster thread's side ---- */

static int cmd_ok(redisContext *r)
{
	redisReply *rep = NULL;
	int ok = redisGetReply(r, (void **)&rep) == REDIS_OK && rep &&
		 rep->type != REDIS_REPLY_ERROR;

	freeReplyObject(rep);
	return ok ? 0 : -EIO;
}

/* HSET or HDEL and the event, pipelined (replies read by the caller: 2). */
static void put(struct cl *c, const char *field, const char *val)
{
	char key[128], *msg = NULL;

	ckey(c->cfg.node_id, key, sizeof(key));
	if (val) {
		redisAppendCommand(c->cmd, "HSET %s %s %s", key, field, val);
		if (asprintf(&msg, "set %s %s", field, val) < 0)
			msg = NULL;
		json_object_set_new(c->mine, field, json_string(val));
	} else {
		redisAppendCommand(c->cmd, "HDEL %s %s", key, field);
		if (asprintf(&msg, "del %s", field) < 0)
			msg = NULL;
		json_object_del(c->mine, field);
	}
	redisAppendCommand(c->cmd, "PUBLISH %s %s", key, msg ? msg : "");
	free(msg);
	c->calls_out++;
}

/* The flows of every call, by cookie: "f:<cookie>" -> JSON array text. */
static json_t *walk_flows(struct cl *c)
{
	json_t *by = json_object(), *arr;
	struct xs_flow_key key, next;
	struct xs_flow f;
	char field[24], kh[2 * sizeof(key) + 1], vh[2 * sizeof(f) + 1];
	int64_t now_ms = cl_wall_ms();
	uint64_t now_ns = xs_now_ns();
	unsigned int budget = 1u << 22;
	bool first = true;

	while (budget-- && !bpf_map_get_next_key(c->maps->flows, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(c->maps->flows, &key, &f) || !f.cookie)
			continue;
		snprintf(field, sizeof(field), "f:%016llx", (unsigned long long)f.cookie);
		/* The standby's copies of its peer's calls are not its own (yet). */
		if (c->cfg.standby_for[0] && !c->taken && json_object_get(c->peer, field))
			continue;
		int64_t lu =
			f.latch_until_ns
				? now_ms + ((int64_t)f.latch_until_ns - (int64_t)now_ns) / 1000000
				: 0;
		/* What the datapath changes on every packet is not replicated. */
		f.packets = f.bytes = f.last_seen_ns = 0;
		f.ifindex = 0;
		memset(f.nh_smac, 0, sizeof(f.nh_smac));
		memset(f.nh_dmac, 0, sizeof(f.nh_dmac));
		/* Either family: the whole address field (an IPv6 leg's is 16 bytes). */
		memset(f.nh_daddr6, 0, sizeof(f.nh_daddr6));
		f.nh_ns = 0;
		f.chk_gen = 0;
		memset(f.chk_saddr6, 0, sizeof(f.chk_saddr6));
		f.latch_until_ns = 0;
		hex(&key, sizeof(key), kh);
		hex(&f, sizeof(f), vh);
		arr = json_object_get(by, field);
		if (!arr) {
			arr = json_array();
			json_object_set_new(by, field, arr);
		}
		/* lu rounded to 100 ms: a walk does not see a change in the conversion. */
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "k", kh, "v", vh, "lu",
						     (json_int_t)(lu ? (lu + 50) / 100 * 100 : 0)));
	}
	return by;
}

static void flows_step(struct cl *c)
{
	json_t *now, *v;
	const char *k;
	void *tmp;

	pthread_mutex_lock(&c->cmu); /* c->peer, which the takeover swaps */
	now = walk_flows(c);
	pthread_mutex_unlock(&c->cmu);
	json_object_foreach(now, k, v)
	{
		char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		json_t *old = json_object_get(c->mine, k);

		if (s && (!old || strcmp(json_string_value(old), s)))
			put(c, k, s);
		free(s);
	}
	json_object_foreach_safe(c->mine, tmp, k, v) if (k[0] == 'f' && !json_object_get(now, k))
		put(c, k, NULL);
	json_decref(now);
}

static int drain(struct cl *c, unsigned int n)
{
	for (unsigned int i = 0; i < 2 * n; i++)
		if (cmd_ok(c->cmd))
			return -EIO;
	return 0;
}

int cl_calls_step(struct cl *c, int64_t now_ms)
{
	json_t *q, *v, *old;
	const char *k;
	uint64_t before = c->calls_out;

	if (!c->mine)
		c->mine = json_object();
	pthread_mutex_lock(&c->cmu);
	q = c->outq;
	c->outq = NULL;
	pthread_mutex_unlock(&c->cmu);
	json_object_foreach(q, k, v)
	{
		old = json_object_get(c->mine, k);
		if (json_is_null(v)) {
			if (old)
				put(c, k, NULL);
		} else if (!old || strcmp(json_string_value(old), json_string_value(v))) {
			put(c, k, json_string_value(v));
		}
	}
	json_decref(q);
	if (now_ms - c->flows_ms >= CL_FLOWS_MS) {
		c->flows_ms = now_ms;
		flows_step(c);
	}
	return drain(c, (unsigned int)(c->calls_out - before));
}

/*
 * (Re)connected: this edge's hash is rewritten from what it holds (Redis
 * may have restarted empty, or hold calls of a previous run), and a
 * standby reads its peer's hash whole.
 */
int cl_calls_connect(struct cl *c)
{
	char key[128];
	redisReply *r;
	const char *k;
	json_t *v, *mine = c->mine;
	void *tmp;
	unsigned int n = 0;

	ckey(c->cfg.node_id, key, sizeof(key));
	r = redisCommand(c->cmd, "DEL %s", key);
	freeReplyObject(r);
	c->mine = json_object();
	json_object_foreach_safe(mine, tmp, k, v)
	{
		put(c, k, json_string_value(v));
		n++;
	}
	json_decref(mine);
	if (drain(c, n))
		return -EIO;
	if (!c->cfg.standby_for[0] || c->taken)
		return 0;
	ckey(c->cfg.standby_for, key, sizeof(key));
	r = redisCommand(c->sub, "SUBSCRIBE %s", key);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return -EIO;
	}
	freeReplyObject(r);
	r = redisCommand(c->cmd, "HGETALL %s", key);
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return -EIO;
	}
	json_t *peer = json_object();

	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING)
			json_object_set_new(peer, r->element[i]->str,
					    json_string(r->element[i + 1]->str));
	freeReplyObject(r);
	/* Flows of calls that ended while this edge was away go; the others are (re)programmed. */
	pthread_mutex_lock(&c->cmu);
	json_object_foreach(c->peer, k, v) if (k[0] == 'f' && !json_object_get(peer, k))
		unprogram_flows(c, json_string_value(v));
	json_object_foreach(peer, k, v) if (k[0] == 'f') program_flows(c, json_string_value(v));
	json_decref(c->peer);
	c->peer = peer;
	pthread_mutex_unlock(&c->cmu);
	return 0;
}

int cl_calls_message(struct cl *c, const char *channel, const char *msg, size_t len)
{
	char key[128], field[300];
	const char *sp, *val;
	size_t fl;

	if (!c->cfg.standby_for[0])
		return 0;
	ckey(c->cfg.standby_for, key, sizeof(key));
	if (strcmp(channel, key))
		return 0;
	pthread_mutex_lock(&c->cmu);
	if (c->taken)
		goto out;
	if (len > 4 && !strncmp(msg, "set ", 4)) {
		sp = memchr(msg + 4, ' ', len - 4);
		if (!sp || (fl = sp - (msg + 4)) >= sizeof(field))
			goto out;
		memcpy(field, msg + 4, fl);
		field[fl] = 0;
		val = sp + 1;
		json_object_set_new(c->peer, field, json_stringn(val, len - (val - msg)));
		if (field[0] == 'f')
			program_flows(c, json_string_value(json_object_get(c->peer, field)));
	} else if (len > 4 && !strncmp(msg, "del ", 4) && (fl = len - 4) < sizeof(field)) {
		memcpy(field, msg + 4, fl);
		field[fl] = 0;
		json_t *old = json_object_get(c->peer, field);

		if (old && field[0] == 'f')
			unprogram_flows(c, json_string_value(old));
		json_object_del(c->peer, field);
	}
	c->calls_in++;
out:
	pthread_mutex_unlock(&c->cmu);
	return 1;
}
