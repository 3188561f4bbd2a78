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

static int do_status(struct cli *c, int argc, char **argv)
{
	struct ban_count bc = {.now = xs_now_ns()};
	struct xs_config cfg;
	struct xs_maps m;
	char ports[64];
	int ret, npos;
	char **pos;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret)
		return ret;
	ret = xs_maps_open(c->pin_root, false, &m);
	if (ret == -ENOENT) {
		xs_config_defaults(&cfg); /* nothing pinned yet: what a new pin root gets */
	} else if (ret) {
		return cli_fail(ret, c->pin_root);
	} else {
		ret = xs_config_get(&m, &cfg);
		ret = ret ?: xs_flood_walk(&m, count_cb, &bc);
		xs_maps_close(&m);
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

/* Read, change with @fn and write xs_config under the lock. */
static int update(struct cli *c, void (*fn)(struct xs_config *cfg, const void *arg),
		  const void *arg)
{
	struct xs_config cfg;
	struct xs_maps m;
	int lock, ret;

	ret = cli_open(c, true, &m, &lock);
	if (ret)
		return ret;
	ret = xs_config_get(&m, &cfg);
	if (!ret) {
		fn(&cfg, arg);
		ret = xs_config_set(&m, &cfg);
	}
	cli_close(&m, lock);
	return ret ? cli_fail(ret, "flood settings") : 0;
}

static void set_on(struct xs_config *cfg, const void *arg)
{
	if (*(const bool *)arg)
		cfg->flags |= XS_CFG_FLOOD;
	else
		cfg->flags &= ~XS_CFG_FLOOD;
}

static int on_off(struct cli *c, int argc, char **argv, bool on)
{
	int ret, npos;
	char **pos;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret)
		return ret;
	ret = update(c, set_on, &on);
	if (!ret)
		printf("flood limit %s\n", on ? "on" : "off");
	return ret;
}

static int do_on(struct cli *c, int argc, char **argv)
{
	return on_off(c, argc, argv, true);
}

static int do_off(struct cli *c, int argc, char **argv)
{
	return on_off(c, argc, argv, false);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out > max ? -EINVAL : 0;
}

/* A duration of at least a second ("2", "2s", "5m"); permanent is not one. */
static int parse_secs(struct cli *c, const char *opt, const char *s, uint32_t *out)
{
	uint64_t secs;

	if (xs_duration_parse(s, &secs) || !secs || secs > UINT32_MAX)
		return cli_usage_err(c, "invalid %s '%s': expected seconds (or 5m, 1h), at least 1",
				     opt, s);
	*out = secs;
	return 0;
}

static int parse_ports(struct cli *c, const char *s, uint16_t ports[XS_FLOOD_PORTS_MAX])
{
	char buf[128], *tok, *save = NULL;
	unsigned long v;
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		return cli_usage_err(c, "invalid --ports '%s': too long", s);
	strcpy(buf, s);
	memset(ports, 0, XS_FLOOD_PORTS_MAX * sizeof(ports[0]));
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_uint(tok, 65535, &v) || !v)
			return cli_usage_err(c, "invalid port '%s' in --ports: expected 1-65535",
					     tok);
		if (n == XS_FLOOD_PORTS_MAX)
			return cli_usage_err(c, "too many --ports: at most %d", XS_FLOOD_PORTS_MAX);
		ports[n++] = v;
	}
	if (!n)
		return cli_usage_err(c, "--ports needs at least one port");
	return 0;
}

struct flood_set {
	uint32_t rate, window, ban;
	int prefix4, prefix6; /* -1: unchanged */
	bool have_ports;
	uint16_t ports[XS_FLOOD_PORTS_MAX];
};

static void apply_set(struct xs_config *cfg, const void *arg)
{
	const struct flood_set *fs = arg;

	if (fs->rate)
		cfg->flood_rate = fs->rate;
	if (fs->window)
		cfg->flood_window_s = fs->window;
	if (fs->ban)
		cfg->flood_ban_s = fs->ban;
	if (fs->prefix4 >= 0)
		cfg->flood_prefix4 = fs->prefix4;
	if (fs->prefix6 >= 0)
		cfg->flood_prefix6 = fs->prefix6;
	if (fs->have_ports)
		memcpy(cfg->flood_ports, fs->ports, sizeof(fs->ports));
}

static int do_set(struct cli *c, int argc, char **argv)
{
	const char *rate = NULL, *window = NULL, *ban = NULL, *ports = NULL, *p4 = NULL, *p6 = NULL;
	const struct opt opts[] = {
		{"--rate", "N", &rate, "requests allowed per window (more bans), 1-1000000"},
		{"--window", "S", &window, "the counting window, seconds (default 2)"},
		{"--ban", "S", &ban, "how long a ban lasts, seconds (default 300)"},
		{"--ports", "P,P", &ports, "the SIP ports watched, UDP and TCP (at most 8)"},
		{"--prefix4", "N", &p4, "an IPv4 source is its /N (default 32)"},
		{"--prefix6", "N", &p6, "an IPv6 source is its /N (default 64)"},
		{NULL},
	};
	struct flood_set fs = {.prefix4 = -1, .prefix6 = -1};
	unsigned long v;
	int ret, npos;
	char **pos;

	ret = cli_args(c, argc, argv, opts, 0, 0, &pos, &npos);
	if (ret)
		return ret;
	if (!rate && !window && !ban && !ports && !p4 && !p6)
		return cli_usage_err(c, "nothing to set");
	if (rate) {
		if (parse_uint(rate, 1000000, &v) || !v)
			return cli_usage_err(c, "invalid --rate '%s': expected 1-1000000", rate);
		fs.rate = v;
	}
	if (window && (ret = parse_secs(c, "--window", window, &fs.window)))
		return ret;
	if (ban && (ret = parse_secs(c, "--ban", ban, &fs.ban)))
		return ret;
	if (ports) {
		ret = parse_ports(c, ports, fs.ports);
		if (ret)
			return ret;
		fs.have_ports = true;
	}
	if (p4) {
		if (parse_uint(p4, 32, &v))
			return cli_usage_err(c, "invalid --prefix4 '%s': expected 0-32", p4);
		fs.prefix4 = v;
	}
	if (p6) {
		if (parse_uint(p6, 128, &v))
			return cli_usage_err(c, "invalid --prefix6 '%s': expected 0-128", p6);
		fs.prefix6 = v;
	}
	ret = update(c, apply_set, &fs);
	if (!ret)
		printf("flood limit settings changed\n");
	return ret;
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

static int do_bans(struct cli *c, int argc, char **argv)
{
	struct ban_list l = {.json = c->json, .now = xs_now_ns()};
	struct xs_maps m;
	int ret, npos;
	char **pos;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret)
		return ret;
	ret = xs_maps_open(c->pin_root, false, &m);
	if (ret == -ENOENT) {
		if (c->json)
			printf("[]\n");
		return 0;
	}
	if (ret)
		return cli_fail(ret, c->pin_root);
	if (c->json)
		json_arr_begin(NULL);
	ret = xs_flood_walk(&m, list_cb, &l);
	xs_maps_close(&m);
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
	 "the SIP flood limit: on/off, rate, window, ban, ports, sources tracked and banned"},
	{"flood on", do_on, "", "limit SIP requests per source in XDP (the default)"},
	{"flood off", do_off, "", "stop limiting (bans in force stop dropping too)"},
	{"flood set", do_set,
	 "[--rate N] [--window S] [--ban S] [--ports P,P] [--prefix4 N] "
	 "[--prefix6 N]",
	 "more than N requests to the SIP ports within S s bans the source for S s (defaults: "
	 "16, 2, 300; ports 5060,5061; /32 and /64)"},
	{"bans", do_bans, "[-j]", "sources banned by the flood limit now, with time left"},
	{NULL},
};
