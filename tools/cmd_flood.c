// SPDX-License-Identifier: GPL-2.0-only
/*
 * flood status|on|off|set and bans: the XDP SIP flood limit (xs_config) and
 * the sources it has banned (xs_flood).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static void ports_str(const struct xs_config *cfg, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < XS_FLOOD_PORTS_MAX && cfg->flood_ports[i] && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%u", i ? "," : "", cfg->flood_ports[i]);
}

struct ban_count {
	uint64_t now;
	unsigned long tracked, banned;
};

static int count_cb(const struct xs_flood_key *k, const struct xs_flood *v, void *arg)
{
	struct ban_count *bc = arg;

	bc->tracked++;
	if (v->banned_until_ns > bc->now)
		bc->banned++;
	return 0;
}

static int do_status(struct cli *c, const struct xs_maps *m, void *args)
{
	struct ban_count bc = {.now = xs_now_ns()};
	struct xs_config cfg;
	char ports[64];
	int ret;

	if (!m) {
		xs_config_defaults(&cfg); /* nothing pinned yet: what a new pin root gets */
	} else {
		ret = xs_config_get(m, &cfg);
		ret = ret ?: xs_flood_walk(m, count_cb, &bc);
		if (ret)
			return cli_fail(ret, "flood");
	}
	ports_str(&cfg, ports, sizeof(ports));
	if (c->json) {
		json_obj_begin(NULL);
		json_bool("on", cfg.flags & XS_CFG_FLOOD);
		json_u64("rate", cfg.flood_rate);
		json_u64("window_s", cfg.flood_window_s);
		json_u64("ban_s", cfg.flood_ban_s);
		json_str("ports", ports);
		json_u64("prefix4", cfg.flood_prefix4);
		json_u64("prefix6", cfg.flood_prefix6);
		json_u64("tracked", bc.tracked);
		json_u64("banned", bc.banned);
		json_obj_end();
		json_done();
		return 0;
	}
	printf("flood limit: %s\n"
	       "  more than %u requests in %u s from one source (IPv4 /%u, IPv6 /%u)\n"
	       "  bans it for %u s; SIP ports (UDP and TCP): %s\n"
	       "  sources tracked: %lu, banned now: %lu\n",
	       cfg.flags & XS_CFG_FLOOD ? "on" : "off", cfg.flood_rate, cfg.flood_window_s,
	       cfg.flood_prefix4, cfg.flood_prefix6, cfg.flood_ban_s, ports, bc.tracked, bc.banned);
	return 0;
}

static void set_on(struct xs_config *cfg, const void *arg)
{
	if (*(const bool *)arg)
		cfg->flags |= XS_CFG_FLOOD;
	else
		cfg->flags &= ~XS_CFG_FLOOD;
}

static int on_off(const struct xs_maps *m, bool on)
{
	int ret = cli_config_edit(m, set_on, &on);

	if (ret)
		return cli_fail(ret, "flood settings");
	printf("flood limit %s\n", on ? "on" : "off");
	return 0;
}

static int do_on(struct cli *c, const struct xs_maps *m, void *args)
{
	return on_off(m, true);
}

static int do_off(struct cli *c, const struct xs_maps *m, void *args)
{
	return on_off(m, false);
}

struct flood_set {
	const struct cli *c; /* which options were given */
	uint32_t rate, window, ban, prefix4, prefix6;
	uint16_t ports[XS_FLOOD_PORTS_MAX];
};

static const struct opt set_opts[] = {
	DEFINE_OPTION("--rate", U32, struct flood_set, rate, .metavar = "N", .min = 1,
		      .max = 1000000, .help = "requests allowed per window (more bans), 1-1000000"),
	DEFINE_OPTION("--window", SECONDS, struct flood_set, window, .metavar = "S",
		      .help = "the counting window, seconds (default 2)"),
	DEFINE_OPTION("--ban", SECONDS, struct flood_set, ban, .metavar = "S",
		      .help = "how long a ban lasts, seconds (default 300)"),
	DEFINE_OPTION("--ports", PORT_LIST, struct flood_set, ports, .metavar = "P,P",
		      .help = "the SIP ports watched, UDP and TCP (at most 8)"),
	DEFINE_OPTION("--prefix4", U32, struct flood_set, prefix4, .metavar = "N", .max = 32,
		      .help = "an IPv4 source is its /N (default 32)"),
	DEFINE_OPTION("--prefix6", U32, struct flood_set, prefix6, .metavar = "N", .max = 128,
		      .help = "an IPv6 source is its /N (default 64)"),
	END_OPTIONS,
};

static void apply_set(struct xs_config *cfg, const void *arg)
{
	const struct flood_set *fs = arg;

	if (cli_given(fs->c, "--rate"))
		cfg->flood_rate = fs->rate;
	if (cli_given(fs->c, "--window"))
		cfg->flood_window_s = fs->window;
	if (cli_given(fs->c, "--ban"))
		cfg->flood_ban_s = fs->ban;
	if (cli_given(fs->c, "--prefix4"))
		cfg->flood_prefix4 = fs->prefix4;
	if (cli_given(fs->c, "--prefix6"))
		cfg->flood_prefix6 = fs->prefix6;
	if (cli_given(fs->c, "--ports"))
		memcpy(cfg->flood_ports, fs->ports, sizeof(fs->ports));
}

static int set_act(struct cli *c, const struct xs_maps *m, void *args)
{
	int ret = cli_config_edit(m, apply_set, args);

	if (ret)
		return cli_fail(ret, "flood settings");
	printf("flood limit settings changed\n");
	return 0;
}

/* Checked before the lock: "nothing to set" changes nothing and locks nothing. */
static int do_set(struct cli *c, const struct xs_maps *unused, void *args)
{
	struct flood_set *fs = args;

	if (!c->given)
		return cli_usage_err(c, "nothing to set");
	fs->c = c;
	return cli_change(c, set_act, fs);
}

struct ban_list {
	bool json;
	uint64_t now;
	unsigned long n;
};

static int list_cb(const struct xs_flood_key *k, const struct xs_flood *v, void *arg)
{
	struct ban_list *l = arg;
	char cidr[64], until[32];
	uint64_t left;

	if (v->banned_until_ns <= l->now)
		return 0;
	left = (v->banned_until_ns - l->now + 999999999ULL) / 1000000000ULL;
	if (xs_flood_key_format(k, cidr, sizeof(cidr)))
		snprintf(cidr, sizeof(cidr), "?");
	cli_iso_time(xs_clock_to_wall(v->banned_until_ns), until, sizeof(until));
	l->n++;
	if (l->json) {
		json_obj_begin(NULL);
		json_str("source", cidr);
		json_u64("remaining_s", left);
		json_str("until", until);
		json_u64("until_mono_ns", v->banned_until_ns);
		json_u64("count", v->count);
		json_u64("bans", v->bans);
		json_obj_end();
	} else {
		if (l->n == 1)
			printf("%-42s %-20s %9s %6s %5s\n", "source", "banned until (UTC)",
			       "remaining", "count", "bans");
		printf("%-42s %-20s %8lus %6u %5u\n", cidr, until, (unsigned long)left, v->count,
		       v->bans);
	}
	return 0;
}

static int do_bans(struct cli *c, const struct xs_maps *m, void *args)
{
	struct ban_list l = {.json = c->json, .now = xs_now_ns()};
	int ret;

	if (!m) {
		if (c->json)
			printf("[]\n");
		return 0;
	}
	if (c->json)
		json_arr_begin(NULL);
	ret = xs_flood_walk(m, list_cb, &l);
	if (c->json) {
		json_arr_end();
		json_done();
	} else if (!ret && !l.n) {
		printf("no banned sources\n");
	}
	return ret ? cli_fail(ret, "bans") : 0;
}

const struct cmd cmds_flood[] = {
	{"flood status", do_status, "[-j]",
	 "the SIP flood limit: on/off, rate, window, ban, ports, sources tracked and banned",
	 .maps = CLI_MAPS_READ},
	{"flood on", do_on, "", "limit SIP requests per source in XDP (the default)",
	 .maps = CLI_MAPS_CHANGE, .nft_sync = XS_NFT_SYNC_CONFIG},
	{"flood off", do_off, "", "stop limiting (bans in force stop dropping too)",
	 .maps = CLI_MAPS_CHANGE, .nft_sync = XS_NFT_SYNC_CONFIG},
	/* CLI_MAPS_NONE: it refuses an empty change before locking, then changes. */
	{"flood set", do_set,
	 "[--rate N] [--window S] [--ban S] [--ports P,P] [--prefix4 N] "
	 "[--prefix6 N]",
	 "more than N requests to the SIP ports within S s bans the source for S s (defaults: "
	 "16, 2, 300; ports 5060,5061; /32 and /64)",
	 .opts = set_opts, .args_size = sizeof(struct flood_set), .maps = CLI_MAPS_NONE,
	 .nft_sync = XS_NFT_SYNC_CONFIG},
	{"bans", do_bans, "[-j]", "sources banned by the flood limit now, with time left",
	 .maps = CLI_MAPS_READ},
	{NULL},
};
