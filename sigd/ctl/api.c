// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control API answers: calls and policy for the CLI (Unix socket), the REST
 * operations (blocklist list/add/batch/remove; trusted networks, bans, calls,
 * flows); the Prometheus text at /metrics is in metrics.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ctl/api.h"
#include "sip/binding.h"
#include "sip/dialog.h"
#include "sip/dns.h"
#include "sip/tls.h"
#include "sip/transport.h"
#include "sip/txn.h"

/* ---- calls ---- */

struct flow_sum {
	uint64_t cookie, packets, bytes;
	unsigned int n;
};

static int cmp_cookie(const void *a, const void *b)
{
	const struct flow_sum *x = a, *y = b;

	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

/* Flows per call cookie, one walk of the flow map; sorted for bsearch. */
static struct flow_sum *flow_sums(const struct ctl *c, size_t *n)
{
	struct xs_flow_key k, next, *prev = NULL;
	struct flow_sum *v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!c->maps || c->maps->flows < 0)
		return NULL;
	for (unsigned int i = 0;
	     i < XS_FLOWS_MAX && !bpf_map_get_next_key(c->maps->flows, prev, &next); i++) {
		struct xs_flow f;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(c->maps->flows, &k, &f))
			continue;
		if (*n == cap) {
			struct flow_sum *t = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v));

			if (!t)
				break;
			v = t;
		}
		v[(*n)++] = (struct flow_sum){f.cookie, f.packets, f.bytes, 1};
	}
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_cookie);
	/* Merge runs of one cookie. */
	size_t w = 0;

	for (size_t i = 0; i < *n; i++) {
		if (w && v[w - 1].cookie == v[i].cookie) {
			v[w - 1].packets += v[i].packets;
			v[w - 1].bytes += v[i].bytes;
			v[w - 1].n++;
		} else {
			v[w++] = v[i];
		}
	}
	*n = w;
	return v;
}

static json_t *calls_json(const struct ctl *c)
{
	json_t *arr = json_array();
	size_t nf;
	struct flow_sum *fs = flow_sums(c, &nf);
	time_t now = time(NULL);
	char aa[SIP_ADDR_STRLEN], ba[SIP_ADDR_STRLEN];

	for (struct dialog *d = dlg_first(); d; d = d->next) {
		struct flow_sum key = {.cookie = d->cookie}, *f = NULL;

		if (nf)
			f = bsearch(&key, fs, nf, sizeof(*fs), cmp_cookie);
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:I, "
				       "s:i, s:I, s:I}",
				       "call_id", d->call_id, "state",
				       d->state == DLG_CONFIRMED ? "confirmed" : "early", "company",
				       d->company, "brand", d->brand, "road_warrior", d->rw_user,
				       "caller", "addr", sip_addr_str(&d->a.addr, aa, sizeof(aa)),
				       "side", d->a.client ? "client" : "core", "callee", "addr",
				       sip_addr_str(&d->b.addr, ba, sizeof(ba)), "side",
				       d->b.client ? "client" : "core", "age_s",
				       (json_int_t)(now - d->created), "flows", f ? (int)f->n : 0,
				       "packets", (json_int_t)(f ? f->packets : 0), "bytes",
				       (json_int_t)(f ? f->bytes : 0)));
	}
	free(fs);
	return arr;
}

static void calls_text(const struct ctl *c, struct sbuf *out)
{
	json_t *arr = calls_json(c), *v;
	size_t i;

	sb_printf(out, "%-36s %-9s %-12s %-12s %-22s %-22s %6s %5s\n", "CALL-ID", "STATE",
		  "COMPANY", "BRAND", "CALLER", "CALLEE", "AGE", "FLOWS");
	json_array_foreach(arr, i, v)
	{
		sb_printf(out, "%-36s %-9s %-12s %-12s %-22s %-22s %5llds %5lld%s%s\n",
			  json_string_value(json_object_get(v, "call_id")),
			  json_string_value(json_object_get(v, "state")),
			  *json_string_value(json_object_get(v, "company"))
				  ? json_string_value(json_object_get(v, "company"))
				  : "-",
			  *json_string_value(json_object_get(v, "brand"))
				  ? json_string_value(json_object_get(v, "brand"))
				  : "-",
			  json_string_value(json_object_get(json_object_get(v, "caller"), "addr")),
			  json_string_value(json_object_get(json_object_get(v, "callee"), "addr")),
			  (long long)json_integer_value(json_object_get(v, "age_s")),
			  (long long)json_integer_value(json_object_get(v, "flows")),
			  *json_string_value(json_object_get(v, "road_warrior")) ? " rw " : "",
			  json_string_value(json_object_get(v, "road_warrior")));
	}
	sb_printf(out, "%zu calls\n", json_array_size(arr));
	json_decref(arr);
}

/* ---- policy: tenants, limits, counters ---- */

static json_t *policy_json(const struct ctl *c)
{
	const struct policy_cfg *pc = &c->cfg->pol;
	const struct policy *pol = &c->px->pol;
	json_t *o = json_object(), *cos = json_array(), *brs = json_array(), *us = json_array(),
	       *ref = json_object();

	for (unsigned int i = 0; i < pc->ncompanies; i++) {
		const struct pol_company *co = &pc->companies[i];

		json_array_append_new(
			cos, json_pack("{s:s, s:s, s:i, s:i, s:i, s:i}", "name", co->name, "brand",
				       co->brand, "max_calls", co->max_calls, "calls",
				       proxy_count_calls(co->name, NULL, NULL, NULL), "domains",
				       co->ndomains, "authorised_networks", co->nauth));
	}
	for (unsigned int i = 0; i < pc->nbrands; i++)
		json_array_append_new(
			brs, json_pack("{s:s, s:i, s:i}", "name", pc->brands[i].name, "max_calls",
				       pc->brands[i].max_calls, "calls",
				       proxy_count_calls(NULL, pc->brands[i].name, NULL, NULL)));
	for (unsigned int i = 0; i < pc->nusers; i++)
		json_array_append_new(
			us, json_pack("{s:s, s:i, s:i}", "user", pc->users[i].aor,
				      "road_warrior_calls", pc->users[i].rw_calls, "calls",
				      proxy_count_calls(NULL, NULL, pc->users[i].aor, NULL)));
	for (int r = 0; r < POL_REASON_MAX; r++)
		json_object_set_new(ref, pol_reason_label(r), json_integer(pol->refusals[r]));
	json_object_set_new(o, "companies", cos);
	json_object_set_new(o, "brands", brs);
	json_object_set_new(o, "users", us);
	json_object_set_new(o, "refusals", ref);
	json_object_set_new(o, "blocks",
			    json_pack("{s:I, s:I, s:I}", "scanner", (json_int_t)pol->blocks_scanner,
				      "bruteforce", (json_int_t)pol->blocks_bruteforce, "errors",
				      (json_int_t)pol->block_errors));
	json_object_set_new(o, "sources_tracked", json_integer(pol->nsrc));
	json_object_set_new(o, "bans_seen", json_integer(c->bans.total));
	return o;
}

static void policy_text(const struct ctl *c, struct sbuf *out)
{
	const struct policy_cfg *pc = &c->cfg->pol;
	const struct policy *pol = &c->px->pol;

	sb_printf(out, "%-8s %-24s %-16s %8s %8s\n", "KIND", "NAME", "BRAND", "CALLS", "MAX");
	for (unsigned int i = 0; i < pc->nbrands; i++)
		sb_printf(out, "%-8s %-24s %-16s %8u %8u\n", "brand", pc->brands[i].name, "-",
			  proxy_count_calls(NULL, pc->brands[i].name, NULL, NULL),
			  pc->brands[i].max_calls);
	for (unsigned int i = 0; i < pc->ncompanies; i++)
		sb_printf(out, "%-8s %-24s %-16s %8u %8u\n", "company", pc->companies[i].name,
			  pc->companies[i].brand[0] ? pc->companies[i].brand : "-",
			  proxy_count_calls(pc->companies[i].name, NULL, NULL, NULL),
			  pc->companies[i].max_calls);
	for (unsigned int i = 0; i < pc->nusers; i++)
		sb_printf(out, "%-8s %-24s %-16s %8u %8u\n", "user", pc->users[i].aor, "-",
			  proxy_count_calls(NULL, NULL, pc->users[i].aor, NULL),
			  pc->users[i].rw_calls);
	sb_printf(out, "refusals:");
	for (int r = 0; r < POL_REASON_MAX; r++)
		sb_printf(out, " %s=%llu", pol_reason_label(r),
			  (unsigned long long)pol->refusals[r]);
	sb_printf(out,
		  "\nblocks: scanner=%llu bruteforce=%llu errors=%llu; sources tracked %u; "
		  "XDP bans seen %llu\n",
		  (unsigned long long)pol->blocks_scanner,
		  (unsigned long long)pol->blocks_bruteforce, (unsigned long long)pol->block_errors,
		  pol->nsrc, (unsigned long long)c->bans.total);
}

static void dump_json(json_t *j, struct sbuf *out)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s)
		sb_printf(out, "%s\n", s);
	else
		out->oom = true;
	free(s);
	json_decref(j);
}

int ctl_unix_command(struct ctl *c, const char *line, struct sbuf *out)
{
	char cmd[32] = "", fmt[16] = "";

	sscanf(line, "%31s %15s", cmd, fmt);
	bool json = !strcmp(fmt, "json");

	if (!strcmp(cmd, "calls")) {
		if (json)
			dump_json(calls_json(c), out);
		else
			calls_text(c, out);
	} else if (!strcmp(cmd, "policy")) {
		if (json)
			dump_json(policy_json(c), out);
		else
			policy_text(c, out);
	} else if (!strcmp(cmd, "metrics")) {
		ctl_metrics(c, out);
	} else if (!strcmp(cmd, "cluster")) {
		if (json) {
			dump_json(cluster_status_json(), out);
		} else {
			char *t = cluster_status_text();

			sb_printf(out, "%s", t ? t : "");
			free(t);
		}
	} else {
		sb_printf(out, "error: unknown command '%s' (calls, policy, metrics, cluster)\n",
			  cmd);
		return 400;
	}
	return 200;
}

/* ---- blocklist ---- */

static int lock(const struct ctl *c)
{
	/* Like the CLI, change the maps under the pin root's lock; wait little. */
	return c->pin_root ? xs_lock_wait(c->pin_root, 500) : -ENOENT;
}

static int block_entry(const struct xs_block_entry *e, void *arg)
{
	json_t *arr = arg;
	uint64_t now = xs_now_ns();
	char cidr[64];

	if (xs_block_expired(&e->val, now))
		return 0;
	xs_cidr_format(&e->cidr, cidr, sizeof(cidr));
	json_array_append_new(
		arr,
		json_pack("{s:s, s:s, s:b, s:I, s:I}", "cidr", cidr, "reason", e->note.text,
			  "permanent", !e->val.expires_ns, "expires_in_s",
			  (json_int_t)(e->val.expires_ns ? (e->val.expires_ns - now) / 1000000000ULL
							 : 0),
			  "hits", (json_int_t)e->val.hits));
	return 0;
}

#define DUR_RANGE "\"duration\" out of range: 1 s to 100 years (36500d), or \"permanent\": true"

/* One {"cidr"|"ip", "reason", "duration"|"permanent"} object. */
static int block_req(json_t *o, struct xs_block_req *r, char *why, size_t wl)
{
	json_t *ip = json_object_get(o, "cidr") ?: json_object_get(o, "ip");
	json_t *dur = json_object_get(o, "duration"), *perm = json_object_get(o, "permanent");
	json_t *reason = json_object_get(o, "reason");

	if (!json_is_object(o) || !json_is_string(ip) ||
	    xs_cidr_parse(json_string_value(ip), &r->cidr)) {
		snprintf(why, wl, "each entry needs \"cidr\" (or \"ip\"): an address or CIDR");
		return -EINVAL;
	}
	if (reason &&
	    (!json_is_string(reason) || strlen(json_string_value(reason)) >= XS_NOTE_LEN)) {
		snprintf(why, wl, "\"reason\" must be a string shorter than %d", XS_NOTE_LEN);
		return -EINVAL;
	}
	r->note = reason ? json_string_value(reason) : "api";
	r->seconds = 3600;
	if (perm && !json_is_boolean(perm)) {
		snprintf(why, wl, "\"permanent\" must be true or false");
		return -EINVAL;
	}
	if (json_is_true(perm)) {
		r->seconds = 0;
	} else if (json_is_integer(dur)) {
		json_int_t v = json_integer_value(dur);

		/* Bounded here, not by the multiplication into nanoseconds later. */
		if (v <= 0 || (uint64_t)v > XS_DURATION_MAX) {
			snprintf(why, wl, DUR_RANGE);
			return -ERANGE;
		}
		r->seconds = v;
	} else if (json_is_string(dur)) {
		int err = xs_duration_parse(json_string_value(dur), &r->seconds);

		if (err == -ERANGE) {
			snprintf(why, wl, DUR_RANGE);
			return -ERANGE;
		}
		if (err) {
			snprintf(why, wl, "bad \"duration\" (90, 90s, 15m, 2h, 7d, permanent)");
			return -EINVAL;
		}
	} else if (dur) {
		snprintf(why, wl, "bad \"duration\" (seconds or 90s, 15m, 2h, 7d, permanent)");
		return -EINVAL;
	}
	return 0;
}

/*
 * Does @ci overlap a network whose sources are never blocked: sigd's
 * trusted list, the core, or the XDP trusted networks? Then @why names it.
 */
static bool trusted_conflict(const struct ctl *c, const struct xs_cidr *ci, char *why, size_t wl)
{
	const struct sigd_cfg *cfg = c->cfg;
	const struct xs_cidr *hit = NULL;
	const char *kind = "";
	struct xs_cidr t;
	char a[64], b[64];

	for (unsigned int i = 0; i < cfg->pol.ntrusted && !hit; i++)
		if (xs_cidr_overlap(ci, &cfg->pol.trusted[i]))
			hit = &cfg->pol.trusted[i], kind = "sigd's trusted network";
	for (unsigned int i = 0; i < cfg->ncore && !hit; i++)
		if (xs_cidr_overlap(ci, &cfg->core[i]))
			hit = &cfg->core[i], kind = "the core network";
	if (!hit && xs_block_trust_conflict(c->maps, ci, &t) == 1)
		hit = &t, kind = "the XDP trusted network";
	if (!hit)
		return false;
	xs_cidr_format(ci, a, sizeof(a));
	xs_cidr_format(hit, b, sizeof(b));
	snprintf(why, wl, "%s overlaps %s %s", a, kind, b);
	return true;
}

static int err_json(struct sbuf *out, int code, const char *msg)
{
	json_t *j = json_pack("{s:s}", "error", msg);

	dump_json(j, out);
	return code;
}

static int blocklist_add(struct ctl *c, const char *body, size_t blen, bool batch, struct sbuf *out)
{
	json_error_t je;
	json_t *j = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &je);
	struct xs_block_req *reqs = NULL;
	size_t n, i, failed = 0;
	char why[256];
	int err = 0, lk;

	if (!j) {
		snprintf(why, sizeof(why), "body is not JSON: %s", je.text);
		return err_json(out, 400, why);
	}
	if (batch != json_is_array(j)) {
		json_decref(j);
		return err_json(out, 400,
				batch ? "batch body must be an array" : "body must be one object");
	}
	n = batch ? json_array_size(j) : 1;
	if (!n || n > 10000) {
		json_decref(j);
		return err_json(out, 400, "between 1 and 10000 entries");
	}
	reqs = calloc(n, sizeof(*reqs));
	if (!reqs) {
		json_decref(j);
		return err_json(out, 500, "out of memory");
	}
	for (i = 0; i < n && !err; i++)
		err = block_req(batch ? json_array_get(j, i) : j, &reqs[i], why, sizeof(why));
	if (err) {
		char msg[300];

		snprintf(msg, sizeof(msg), "entry %zu: %s", i - 1, why);
		free(reqs);
		json_decref(j);
		return err_json(out, 400, msg);
	}
	/* Refuse what overlaps a trusted network (never blocked), unless forced. */
	for (i = 0; i < n; i++) {
		json_t *f = json_object_get(batch ? json_array_get(j, i) : j, "force");
		char msg[320];

		if (json_is_true(f) || !trusted_conflict(c, &reqs[i].cidr, why, sizeof(why)))
			continue;
		snprintf(msg, sizeof(msg),
			 "entry %zu: %s; nothing changed (\"force\": true adds it)", i, why);
		free(reqs);
		json_decref(j);
		return err_json(out, 409, msg);
	}
	lk = lock(c);
	err = xs_block_import(c->maps, reqs, n, &failed);
	if (lk >= 0)
		xs_unlock(lk);
	free(reqs);
	json_decref(j);
	if (err) {
		snprintf(why, sizeof(why), "entry %zu: %s", failed, strerror(-err));
		return err_json(out, 500, why);
	}
	xs_log(XS_LOG_INFO, "[-] api: %zu blocklist entries added\n", n);
	dump_json(json_pack("{s:I}", "added", (json_int_t)n), out);
	return 201;
}

static int blocklist_del(struct ctl *c, const char *what, struct sbuf *out)
{
	struct xs_cidr cidr;
	char buf[128];
	int err, lk;

	/* The CIDR's slash may come %2F-encoded. */
	snprintf(buf, sizeof(buf), "%s", what);
	char *pct = strcasestr(buf, "%2F");

	if (pct) {
		*pct = '/';
		memmove(pct + 1, pct + 3, strlen(pct + 3) + 1);
	}
	if (xs_cidr_parse(buf, &cidr))
		return err_json(out, 400, "bad address or CIDR");
	lk = lock(c);
	err = xs_block_del(c->maps, &cidr);
	if (lk >= 0)
		xs_unlock(lk);
	if (err == -ENOENT)
		return err_json(out, 404, "not in the blocklist");
	if (err)
		return err_json(out, 500, strerror(-err));
	xs_log(XS_LOG_INFO, "[-] api: %s removed from the blocklist\n", buf);
	dump_json(json_pack("{s:s}", "removed", buf), out);
	return 200;
}

static int trust_entry(const struct xs_cidr *ci, const struct xs_trust *t, void *arg)
{
	char s[64];

	xs_cidr_format(ci, s, sizeof(s));
	json_array_append_new(arg, json_pack("{s:s, s:s}", "cidr", s, "source", "xdp"));
	return 0;
}

static json_t *trusted_json(const struct ctl *c)
{
	json_t *arr = json_array();
	char s[64];

	xs_trust_walk(c->maps, trust_entry, arr);
	for (unsigned int i = 0; i < c->cfg->pol.ntrusted; i++) {
		xs_cidr_format(&c->cfg->pol.trusted[i], s, sizeof(s));
		json_array_append_new(arr, json_pack("{s:s, s:s}", "cidr", s, "source", "sigd"));
	}
	return arr;
}

static int flood_entry(const struct xs_flood_key *k, const struct xs_flood *v, void *arg)
{
	json_t *arr = arg;
	uint64_t now = xs_now_ns();
	char src[64];

	if (v->banned_until_ns <= now || xs_flood_key_format(k, src, sizeof(src)))
		return 0;
	json_array_append_new(arr,
			      json_pack("{s:s, s:I, s:i}", "source", src, "remaining_s",
					(json_int_t)((v->banned_until_ns - now) / 1000000000ULL),
					"bans", v->bans));
	return 0;
}

/* The sources banned now (xs_flood) and the ban events sigd saw, newest first. */
static json_t *bans_json(const struct ctl *c)
{
	json_t *banned = json_array(), *arr = json_array();
	uint64_t now = xs_now_ns();

	if (c->maps->flood >= 0)
		xs_flood_walk(c->maps, flood_entry, banned);

	for (unsigned int i = 0; i < c->bans.n; i++) {
		const struct ban_event *b = ban_ring_get(&c->bans, i);

		json_array_append_new(
			arr, json_pack("{s:s, s:I, s:I, s:i}", "source", b->src, "at",
				       (json_int_t)b->wall, "remaining_s",
				       (json_int_t)(b->until_ns > now
							    ? (b->until_ns - now) / 1000000000ULL
							    : 0),
				       "requests", b->count));
	}
	return json_pack("{s:o, s:o, s:I}", "banned", banned, "events", arr, "events_total",
			 (json_int_t)c->bans.total);
}

static json_t *flows_json(const struct ctl *c)
{
	struct xs_flow_key k, next, *prev = NULL;
	json_t *arr = json_array();

	for (unsigned int i = 0;
	     i < XS_FLOWS_MAX && !bpf_map_get_next_key(c->maps->flows, prev, &next); i++) {
		char in[INET6_ADDRSTRLEN], to[INET6_ADDRSTRLEN], from[INET6_ADDRSTRLEN];
		struct dialog *d;
		struct xs_flow f;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(c->maps->flows, &k, &f))
			continue;
		/* Address unions: the key's family arriving, XS_FLOW_OUT6 leaving. */
		inet_ntop(k.v6 ? AF_INET6 : AF_INET, k.addr6, in, sizeof(in));
		inet_ntop(f.flags & XS_FLOW_OUT6 ? AF_INET6 : AF_INET, f.dst_addr6, to, sizeof(to));
		inet_ntop(f.flags & XS_FLOW_OUT6 ? AF_INET6 : AF_INET, f.src_addr6, from,
			  sizeof(from));
		d = dlg_find_cookie(f.cookie);
		json_array_append_new(
			arr,
			json_pack("{s:s, s:i, s:s, s:i, s:s, s:i, s:s, s:I, s:I, s:b}", "edge", in,
				  "port", ntohs(k.port), "to", to, "to_port", ntohs(f.dst_port),
				  "via", from, "via_port", ntohs(f.src_port), "call_id",
				  d ? d->call_id : "", "packets", (json_int_t)f.packets, "bytes",
				  (json_int_t)f.bytes, "latched", !!(f.flags & XS_FLOW_LATCHED)));
	}
	return arr;
}

int ctl_http_route(struct ctl *c, const char *method, const char *path, const char *body,
		   size_t body_len, struct sbuf *out, const char **ctype)
{
	static const char bl[] = "/api/v1/blocklist";
	bool get = !strcmp(method, "GET");

	if (!strcmp(path, "/metrics") && get) {
		*ctype = "text/plain; version=0.0.4";
		ctl_metrics(c, out);
		return 200;
	}
	if (!strcmp(path, bl)) {
		if (get) {
			json_t *arr = json_array();

			xs_block_walk(c->maps, block_entry, arr);
			dump_json(arr, out);
			return 200;
		}
		if (!strcmp(method, "POST"))
			return blocklist_add(c, body, body_len, false, out);
		return err_json(out, 405, "GET or POST");
	}
	if (!strcmp(path, "/api/v1/blocklist/batch")) {
		if (!strcmp(method, "POST"))
			return blocklist_add(c, body, body_len, true, out);
		return err_json(out, 405, "POST");
	}
	if (!strncmp(path, bl, sizeof(bl) - 1) && path[sizeof(bl) - 1] == '/') {
		if (!strcmp(method, "DELETE"))
			return blocklist_del(c, path + sizeof(bl), out);
		return err_json(out, 405, "DELETE");
	}
	if (!get)
		return err_json(out, strncmp(path, "/api/v1/", 8) ? 404 : 405, "not found");
	if (!strcmp(path, "/api/v1/trusted"))
		dump_json(trusted_json(c), out);
	else if (!strcmp(path, "/api/v1/bans"))
		dump_json(bans_json(c), out);
	else if (!strcmp(path, "/api/v1/calls"))
		dump_json(calls_json(c), out);
	else if (!strcmp(path, "/api/v1/flows"))
		dump_json(flows_json(c), out);
	else if (!strcmp(path, "/api/v1/policy"))
		dump_json(policy_json(c), out);
	else
		return err_json(out, 404, "not found");
	return 200;
}
