// SPDX-License-Identifier: GPL-2.0-only
/*
 * The part every command shares: typed option parsing into the command's
 * argument struct, and the open/act/close sequence around its handler (lock
 * the pin root, open the maps, act, re-sync the nft sets the command
 * touches, close), so no handler writes it again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include "cli.h"
#include "fw/fw.h"

int cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xdpsbc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_usage_err(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdpsbc %s: ", c->cmd ? c->cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c->cmd)
		fprintf(stderr, " (usage: xdpsbc %s %s)", c->cmd->name, c->cmd->args);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int cli_fail(int ret, const char *what)
{
	return cli_err("%s: %s", what, strerror(-ret));
}

void cli_iso_time(int64_t wall, char *buf, size_t len)
{
	time_t t = wall;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Why the pin root could not be locked, in one line. */
int cli_lock_err(struct cli *c, int ret)
{
	if (ret == -EWOULDBLOCK)
		return cli_err("%s is locked by another xdpsbc run (waited; XDPSBC_LOCK_TIMEOUT "
			       "sets how long)",
			       c->pin_root);
	if (ret == -ENOTSUP)
		return cli_err("pin root %s is not on a bpf filesystem (use a directory under "
			       "/sys/fs/bpf)",
			       c->pin_root);
	return cli_err("cannot lock %s: %s", c->pin_root, strerror(-ret));
}

/* ---- typed values ---- */

/* CIDRs and durations keep the short form "xdpsbc: invalid ..." (docs/cli.md). */
static int parse_cidr(const char *s, struct xs_cidr *out)
{
	int ret = xs_cidr_parse(s, out);

	if (ret == -ERANGE)
		cli_err("invalid CIDR '%s': prefix length longer than the address (/32 for IPv4, "
			"/128 for IPv6)",
			s);
	else if (ret)
		cli_err("invalid CIDR '%s': expected ADDRESS[/PREFIXLEN], e.g. 192.0.2.0/24 or "
			"2001:db8::/32",
			s);
	return ret ? EXIT_USAGE : 0;
}

static int parse_duration(const char *s, uint64_t *secs)
{
	int ret = xs_duration_parse(s, secs);

	if (ret == -ERANGE)
		cli_err("invalid duration '%s': must be more than 0 and at most 100 years "
			"(use 'permanent' for no expiry)",
			s);
	else if (ret)
		cli_err("invalid duration '%s': expected N[s|m|h|d|w] (e.g. 90, 15m, 2h, 7d) or "
			"'permanent'",
			s);
	return ret ? EXIT_USAGE : 0;
}

static int parse_port_list(struct cli *c, const struct opt *o, const char *s, uint16_t *ports)
{
	char buf[128], *tok, *save = NULL;
	uint32_t v;
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		return cli_usage_err(c, "invalid %s '%s': too long", o->name, s);
	strcpy(buf, s);
	memset(ports, 0, XS_FLOOD_PORTS_MAX * sizeof(ports[0]));
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (xs_u32_parse(tok, 1, 65535, &v))
			return cli_usage_err(c, "invalid port '%s' in %s: expected 1-65535", tok,
					     o->name);
		if (n == XS_FLOOD_PORTS_MAX)
			return cli_usage_err(c, "too many %s: at most %d", o->name,
					     XS_FLOOD_PORTS_MAX);
		ports[n++] = v;
	}
	if (!n)
		return cli_usage_err(c, "%s needs at least one port", o->name);
	return 0;
}

static int parse_word(struct cli *c, const struct opt *o, const char *s, int *out)
{
	for (int i = 0; o->words[i]; i++)
		if (!strcmp(s, o->words[i])) {
			*out = i;
			return 0;
		}
	/* "invalid mode 'turbo'": a word names a kind of thing, not an option. */
	return cli_usage_err(c, "invalid %s '%s': expected %s", o->name ? o->name + 2 : o->metavar,
			     s, o->expect);
}

/* Convert @s as @o says into @args; 0, or the exit code after a one-line error. */
static int parse_value(struct cli *c, const struct opt *o, const char *s, void *args)
{
	void *dst = (char *)args + o->off;
	const char *what = o->name ?: o->metavar;
	uint64_t secs;
	uint32_t v;
	int ret;

	switch (o->type) {
	case CLI_OPT_FLAG:
		*(bool *)dst = true;
		return 0;
	case CLI_OPT_STR:
		*(const char **)dst = s;
		return 0;
	case CLI_OPT_U32:
		if (xs_u32_parse(s, o->min, o->max, &v))
			return cli_usage_err(c, "invalid %s '%s': expected %u-%u", what, s, o->min,
					     o->max);
		*(uint32_t *)dst = v;
		return 0;
	case CLI_OPT_DURATION:
		return parse_duration(s, dst);
	case CLI_OPT_SECONDS:
		if (xs_duration_parse(s, &secs) || !secs || secs > UINT32_MAX)
			return cli_usage_err(c,
					     "invalid %s '%s': expected seconds (or 5m, 1h), at "
					     "least 1",
					     what, s);
		*(uint32_t *)dst = secs;
		return 0;
	case CLI_OPT_CIDR:
		return parse_cidr(s, dst);
	case CLI_OPT_PORT_RANGE: {
		struct cli_port_range *r = dst;

		ret = xs_port_range_parse(s, &r->lo, &r->hi);
		if (ret == -ERANGE)
			return cli_usage_err(c, "invalid port range '%s': MIN is above MAX", s);
		if (ret)
			return cli_usage_err(
				c, "invalid port range '%s': expected MIN-MAX, 1-65535", s);
		return 0;
	}
	case CLI_OPT_PORT_LIST:
		return parse_port_list(c, o, s, dst);
	case CLI_OPT_WORD:
		return parse_word(c, o, s, dst);
	case CLI_OPT_IFACE: {
		struct cli_iface *i = dst;

		i->name = s;
		i->ifindex = if_nametoindex(s);
		if (!i->ifindex)
			return cli_err("unknown interface '%s'", s), EXIT_USAGE;
		return 0;
	}
	}
	return cli_usage_err(c, "internal error: option %s has no type", what);
}

static bool opt_end(const struct opt *o)
{
	return !o || (!o->name && !o->metavar);
}

bool cli_given(const struct cli *c, const char *name)
{
	const struct opt *o = c->cmd ? c->cmd->opts : NULL;

	for (int i = 0; !opt_end(o) && !opt_end(&o[i]); i++)
		if (o[i].name && !strcmp(o[i].name, name))
			return c->given & (1U << i);
	return false;
}

/*
 * Options are matched by name; "--opt=value" and "--opt value" both work.
 * "--" ends options, so a reason may start with a dash. Positional
 * arguments fill the DEFINE_ARG rows in order; all of them are required.
 */
static int parse_args(struct cli *c, int argc, char **argv, void *args)
{
	const struct opt *opts = c->cmd->opts;
	bool dashdash = false;
	int npos = 0, want = 0, ret;

	for (const struct opt *p = opts; !opt_end(p); p++)
		want += !p->name;
	c->given = 0;
	for (int i = 0; i < argc; i++) {
		const struct opt *o = NULL, *p;
		char *a = argv[i], *eq;
		int idx = 0, k;
		size_t len;

		if (dashdash || a[0] != '-' || !a[1]) {
			for (p = opts, k = 0; !opt_end(p); p++)
				if (!p->name && k++ == npos)
					o = p;
			if (!o)
				return cli_usage_err(c, "unexpected argument '%s'", a);
			npos++;
			ret = parse_value(c, o, a, args);
			if (ret)
				return ret;
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		for (p = opts, k = 0; !opt_end(p); p++, k++)
			if (p->name && strlen(p->name) == len && !strncmp(p->name, a, len)) {
				o = p;
				idx = k;
			}
		if (!o)
			return cli_usage_err(c, "unknown option '%s'", a);
		if (o->type == CLI_OPT_FLAG) {
			if (eq)
				return cli_usage_err(c, "%s takes no value", o->name);
			ret = parse_value(c, o, NULL, args);
		} else if (eq) {
			ret = parse_value(c, o, eq + 1, args);
		} else if (i + 1 < argc) {
			ret = parse_value(c, o, argv[++i], args);
		} else {
			return cli_usage_err(c, "%s needs a value (%s)", o->name, o->metavar);
		}
		if (ret)
			return ret;
		if (idx < 32)
			c->given |= 1U << idx;
	}
	if (npos < want)
		return cli_usage_err(c, "missing argument");
	return 0;
}

/* ---- the open/act/close sequence ---- */

/*
 * Lock (to change state) and open the pinned maps, creating them when
 * missing. Returns 0, or the exit code after a one-line error.
 */
static int open_for_change(struct cli *c, struct xs_maps *m, int *lock_fd)
{
	int ret;

	ret = xs_lock(c->pin_root);
	if (ret < 0)
		return cli_lock_err(c, ret);
	*lock_fd = ret;
	ret = xs_maps_open(c->pin_root, true, m);
	if (ret) {
		xs_unlock(*lock_fd);
		*lock_fd = -1;
		if (ret == -ENOENT)
			return cli_err("no xdpsbc maps pinned under %s", c->pin_root);
		return cli_err("cannot open the maps under %s: %s", c->pin_root, strerror(-ret));
	}
	return 0;
}

/* The nftables backend follows the maps, when installed: the sets this command touches. */
static void nft_follow(const struct cli *c, const struct xs_maps *m)
{
	unsigned int what = c->cmd ? c->cmd->nft_sync : 0;
	int ret;

	if (!what)
		return;
	ret = xs_nft_present();
	if (ret == 1) {
		ret = xs_nft_sync_some(m, what);
		xs_log(XS_LOG_INFO, "nft sets re-synced:%s%s%s\n",
		       what & XS_NFT_SYNC_BLOCK ? " block" : "",
		       what & XS_NFT_SYNC_TRUST ? " trust" : "",
		       what & XS_NFT_SYNC_CONFIG ? " config" : "");
	}
	if (ret < 0)
		fprintf(stderr, "xdpsbc: warning: nftables sets not updated: %s\n", strerror(-ret));
}

int cli_change(struct cli *c, int (*act)(struct cli *c, const struct xs_maps *m, void *args),
	       void *args)
{
	struct xs_maps m;
	int lock, ret;

	ret = open_for_change(c, &m, &lock);
	if (ret)
		return ret;
	ret = act(c, &m, args);
	nft_follow(c, &m);
	xs_maps_close(&m);
	xs_unlock(lock);
	return ret;
}

int cli_config_edit(const struct xs_maps *m, void (*edit)(struct xs_config *cfg, const void *arg),
		    const void *arg)
{
	struct xs_config cfg;
	int ret = xs_config_get(m, &cfg);

	if (ret)
		return ret;
	edit(&cfg, arg);
	return xs_config_set(m, &cfg);
}

int cli_run(struct cli *c, int argc, char **argv)
{
	const struct cmd *cmd = c->cmd;
	struct xs_maps m;
	void *args;
	int ret, open;

	/* calloc(0) may return NULL: every command gets a valid (maybe empty) struct. */
	args = calloc(1, cmd->args_size ?: 1);
	if (!args)
		return cli_fail(-ENOMEM, cmd->name);
	ret = parse_args(c, argc, argv, args);
	if (ret)
		goto out;
	switch (cmd->maps) {
	case CLI_MAPS_NONE:
		ret = cmd->fn(c, NULL, args);
		break;
	case CLI_MAPS_READ:
		open = xs_maps_open(c->pin_root, false, &m);
		if (open && open != -ENOENT) {
			ret = cli_fail(open, c->pin_root);
			break;
		}
		ret = cmd->fn(c, open ? NULL : &m, args);
		if (!open)
			xs_maps_close(&m);
		break;
	case CLI_MAPS_CHANGE:
		ret = cli_change(c, cmd->fn, args);
		break;
	}
out:
	free(args);
	return ret;
}
