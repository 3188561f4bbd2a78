// SPDX-License-Identifier: GPL-2.0-only
/* stats (per-reason counters, optionally watched) and flows (the relay table). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "cli.h"

static void stats_print(struct cli *c, const struct xs_counter *cur, const struct xs_counter *prev,
			double dt)
{
	char ts[32];

	if (c->json) {
		cli_iso_time(time(NULL), ts, sizeof(ts));
		json_obj_begin(NULL);
		json_str("time", ts);
		json_obj_begin("reasons");
		for (int r = 0; r < XS_REASON_MAX; r++) {
			json_obj_begin(xs_reason_name(r));
			json_str("action", xs_reason_action(r));
			json_u64("packets", cur[r].packets);
			json_u64("bytes", cur[r].bytes);
			if (prev) {
				json_u64("pps", (cur[r].packets - prev[r].packets) / dt);
				json_u64("bps", (cur[r].bytes - prev[r].bytes) * 8 / dt);
			}
			json_obj_end();
		}
		json_obj_end();
		json_obj_end();
		json_done();
		return;
	}
	printf("%-20s %-9s %14s %16s", "REASON", "ACTION", "PACKETS", "BYTES");
	if (prev)
		printf(" %12s %14s", "PPS", "BIT/S");
	putchar('\n');
	for (int r = 0; r < XS_REASON_MAX; r++) {
		printf("%-20s %-9s %14llu %16llu", xs_reason_name(r), xs_reason_action(r),
		       (unsigned long long)cur[r].packets, (unsigned long long)cur[r].bytes);
		if (prev)
			printf(" %12.0f %14.0f", (cur[r].packets - prev[r].packets) / dt,
			       (cur[r].bytes - prev[r].bytes) * 8 / dt);
		putchar('\n');
	}
	fflush(stdout);
}

struct stats_args {
	bool watch;
	const char *interval;
	uint32_t count;
};

static const struct opt stats_opts[] = {
	DEFINE_OPTION("--watch", FLAG, struct stats_args, watch,
		      .help = "print again every interval"),
	DEFINE_OPTION("--interval", STR, struct stats_args, interval, .metavar = "SECONDS",
		      .help = "with --watch (default 1)"),
	DEFINE_OPTION("--count", U32, struct stats_args, count, .metavar = "N", .min = 1,
		      .max = UINT32_MAX, .help = "with --watch: stop after N reports"),
	END_OPTIONS,
};

static int do_stats(struct cli *c, const struct xs_maps *m, void *args)
{
	const struct stats_args *a = args;
	struct xs_counter cur[XS_REASON_MAX], prev[XS_REASON_MAX];
	const char *interval = a->interval ?: "1";
	long n = a->count ? (long)a->count : -1, i;
	double secs;
	char *end;
	int ret;

	/* Fractions of a second: the one option that is not one of the typed values. */
	secs = strtod(interval, &end);
	if (*end || !(secs >= 0.1 && secs <= 3600))
		return cli_usage_err(c, "invalid interval '%s': 0.1 to 3600 seconds", interval);
	if (!m)
		return cli_err("no xdpsbc maps pinned under %s", c->pin_root);
	ret = xs_stats_read(m, cur);
	if (!ret)
		stats_print(c, cur, NULL, 0);
	for (i = 1; !ret && a->watch && (n < 0 || i < n); i++) {
		struct timespec ts = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};

		memcpy(prev, cur, sizeof(cur));
		nanosleep(&ts, NULL);
		ret = xs_stats_read(m, cur);
		if (ret)
			break;
		if (!c->json)
			putchar('\n');
		stats_print(c, cur, prev, secs);
	}
	return ret ? cli_fail(ret, "stats") : 0;
}

/* An address union field (xdpsbc_common.h) of family @v6, as "a.b.c.d" or "x::y". */
static void addr_str(char *buf, size_t len, const void *addr, bool v6)
{
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

/* "a.b.c.d:port" or "[x::y]:port". */
static void addr_port(char *buf, size_t len, const void *addr, bool v6, __be16 port)
{
	char a[INET6_ADDRSTRLEN];

	addr_str(a, sizeof(a), addr, v6);
	snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", a, ntohs(port));
}

static void flag_str(uint32_t f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", f & XS_FLOW_LATCH ? "latch," : "",
		 f & XS_FLOW_LATCHED ? "latched," : "", f & XS_FLOW_PRELATCHED ? "prelatched," : "",
		 f & XS_FLOW_OUT6 ? "out6," : "");
	if (*buf)
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, len, "-");
}

static void flow_print(bool json, const struct xs_flow_key *k, const struct xs_flow *f,
		       uint64_t now)
{
	char edge[56], dst[56], src[56], peer[56], expect[56], flags[56], cookie[24];
	char from[INET6_ADDRSTRLEN];
	bool in6 = k->v6, out6 = f->flags & XS_FLOW_OUT6;
	uint64_t idle = f->last_seen_ns && now > f->last_seen_ns
				? (now - f->last_seen_ns) / 1000000000ULL
				: 0;

	/* The arriving side's addresses follow the key, the leaving side's XS_FLOW_OUT6. */
	addr_port(edge, sizeof(edge), k->addr6, in6, k->port);
	addr_port(dst, sizeof(dst), f->dst_addr6, out6, f->dst_port);
	addr_port(src, sizeof(src), f->src_addr6, out6, f->src_port);
	addr_port(expect, sizeof(expect), f->expect_addr6, in6, f->expect_port);
	if (f->flags & XS_FLOW_LATCHED)
		addr_port(peer, sizeof(peer), f->peer_addr6, in6, f->peer_port);
	else
		snprintf(peer, sizeof(peer), "-");
	flag_str(f->flags, flags, sizeof(flags));
	snprintf(cookie, sizeof(cookie), "%016llx", (unsigned long long)f->cookie);
	if (json) {
		json_obj_begin(NULL);
		json_str("edge", edge);
		json_u64("proto", k->proto);
		json_u64("family", in6 ? 6 : 4);
		json_u64("family_out", out6 ? 6 : 4);
		json_str("dst", dst);
		json_str("src", src);
		json_str("expect", expect);
		if (f->flags & XS_FLOW_LATCHED)
			json_str("peer", peer);
		else
			json_null("peer");
		json_str("flags", flags);
		/* Who may latch, and for how many more seconds (0: window over). */
		addr_str(from, sizeof(from), f->latch_addr6, in6);
		json_str("latch_from", from);
		json_u64("latch_window_s",
			 f->latch_until_ns > now
				 ? (f->latch_until_ns - now + 999999999ULL) / 1000000000ULL
				 : 0);
		json_u64("ifindex", f->ifindex);
		json_u64("packets", f->packets);
		json_u64("bytes", f->bytes);
		if (f->last_seen_ns)
			json_u64("idle_s", idle);
		else
			json_null("idle_s");
		json_str("cookie", cookie);
		json_obj_end();
		return;
	}
	printf("%-21s -> %-21s from %-21s %-21s %-22s %10llu %12llu %6s %s\n", edge, dst, src, peer,
	       flags, (unsigned long long)f->packets, (unsigned long long)f->bytes,
	       f->last_seen_ns
		       ? (snprintf(expect, sizeof(expect), "%llu", (unsigned long long)idle),
			  expect)
		       : "-",
	       cookie);
}

static int do_flows(struct cli *c, const struct xs_maps *m, void *args)
{
	struct xs_flow_key k, next;
	uint64_t now = xs_now_ns();
	struct xs_flow f;
	void *prev = NULL;

	if (c->json)
		json_arr_begin(NULL);
	else
		printf("%-21s    %-21s      %-21s %-21s %-22s %10s %12s %6s %s\n", "EDGE", "DST",
		       "SRC", "PEER", "FLAGS", "PACKETS", "BYTES", "IDLE", "COOKIE");
	while (m && !bpf_map_get_next_key(m->flows, prev, &next)) {
		if (!bpf_map_lookup_elem(m->flows, &next, &f))
			flow_print(c->json, &next, &f, now);
		k = next;
		prev = &k;
	}
	if (c->json) {
		json_arr_end();
		json_done();
	}
	return 0;
}

const struct cmd cmds_stats[] = {
	{"stats", do_stats, "[-j] [--watch [--interval S] [--count N]]",
	 "packets and bytes per verdict reason, summed over CPUs (relay counters included); "
	 "--watch adds rates; -j --watch prints one JSON object a line",
	 .opts = stats_opts, .args_size = sizeof(struct stats_args), .maps = CLI_MAPS_READ},
	{"flows", do_flows, "[-j]",
	 "the relay flows: edge addr:port -> destination, from edge port, latched peer, flags, "
	 "packets, bytes, idle seconds, call cookie (-j adds the latch source and window)",
	 .maps = CLI_MAPS_READ},
	{NULL},
};
