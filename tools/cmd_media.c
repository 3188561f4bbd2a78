// SPDX-License-Identifier: GPL-2.0-only
/* media ipv4-only|ports|turn: the IPv6 media policy, changed at run time via xs_config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int on_off(struct cli *c, const char *s, bool *on)
{
	if (!strcmp(s, "on"))
		*on = true;
	else if (!strcmp(s, "off"))
		*on = false;
	else
		return cli_usage_err(c, "expected on or off, not '%s'", s);
	return 0;
}

/* Read, change and write xs_config under the lock. */
static int config_update(struct cli *c, uint32_t set, uint32_t clear, int rtp_min, int rtp_max)
{
	struct xs_config cfg;
	struct xs_maps m;
	int lock, ret;

	ret = cli_open(c, true, &m, &lock);
	if (ret)
		return ret;
	ret = xs_config_get(&m, &cfg);
	if (!ret) {
		cfg.flags = (cfg.flags & ~clear) | set;
		if (rtp_min >= 0) {
			cfg.rtp_min = rtp_min;
			cfg.rtp_max = rtp_max;
		}
		ret = xs_config_set(&m, &cfg);
	}
	cli_close(&m, lock);
	return ret ? cli_fail(ret, "settings") : 0;
}

static int show(struct cli *c)
{
	struct xs_config cfg;
	struct xs_maps m;
	int ret;

	ret = xs_maps_open(c->pin_root, false, &m);
	if (ret == -ENOENT)
		xs_config_defaults(&cfg); /* nothing pinned yet: what a new pin root gets */
	else if (ret)
		return cli_fail(ret, c->pin_root);
	else {
		ret = xs_config_get(&m, &cfg);
		xs_maps_close(&m);
		if (ret)
			return cli_fail(ret, "settings");
	}
	if (c->json) {
		json_obj_begin(NULL);
		status_settings(&cfg, true);
		fw_status_fields(true);
		json_obj_end();
		json_done();
	} else {
		status_settings(&cfg, false);
		fw_status_fields(false);
	}
	return 0;
}

static int do_ipv4_only(struct cli *c, int argc, char **argv)
{
	char **pos;
	int npos, ret;
	bool on;

	ret = cli_args(c, argc, argv, NULL, 1, 1, &pos, &npos);
	if (ret)
		return ret;
	if (!strcmp(pos[0], "status"))
		return show(c);
	ret = on_off(c, pos[0], &on);
	if (ret)
		return ret;
	ret = config_update(c, on ? XS_CFG_V6_MEDIA_DROP : 0, on ? 0 : XS_CFG_V6_MEDIA_DROP, -1,
			    -1);
	if (!ret)
		printf("media ipv4-only %s: IPv6 media %s\n", pos[0], on ? "dropped" : "passes");
	return ret;
}

static int parse_port(const char *s, char **end)
{
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, end, 10);
	return v < 1 || v > 65535 ? -1 : (int)v;
}

static int do_ports(struct cli *c, int argc, char **argv)
{
	int npos, ret, lo, hi;
	char **pos, *end;

	ret = cli_args(c, argc, argv, NULL, 1, 1, &pos, &npos);
	if (ret)
		return ret;
	lo = parse_port(pos[0], &end);
	hi = lo > 0 && *end == '-' ? parse_port(end + 1, &end) : -1;
	if (lo < 0 || hi < 0 || *end)
		return cli_usage_err(c, "invalid port range '%s': expected MIN-MAX, 1-65535",
				     pos[0]);
	if (lo > hi)
		return cli_usage_err(c, "invalid port range '%s': MIN is above MAX", pos[0]);
	ret = config_update(c, 0, 0, lo, hi);
	if (!ret)
		printf("media ports %d-%d (IPv6 UDP to these is dropped while ipv4-only is on)\n",
		       lo, hi);
	return ret;
}

static int do_turn(struct cli *c, int argc, char **argv)
{
	char **pos;
	int npos, ret;
	bool on;

	ret = cli_args(c, argc, argv, NULL, 1, 1, &pos, &npos);
	if (ret)
		return ret;
	if (!strcmp(pos[0], "status"))
		return show(c);
	ret = on_off(c, pos[0], &on);
	if (ret)
		return ret;
	ret = config_update(c, on ? XS_CFG_TURN : 0, on ? 0 : XS_CFG_TURN, -1, -1);
	if (!ret)
		printf("media turn %s\n", pos[0]);
	return ret;
}

const struct cmd cmds_media[] = {
	{"media ipv4-only", do_ipv4_only, "on|off|status [-j]",
	 "on: drop IPv6 UDP to the RTP port range (and TURN ports when turn is on); IPv6 "
	 "signalling still passes. Takes effect at once, no reload"},
	{"media ports", do_ports, "MIN-MAX", "the RTP port range (default 10000-20000)"},
	{"media turn", do_turn, "on|off|status",
	 "with ipv4-only on, also drop IPv6 UDP 3478, TCP 5349 and UDP 49152-49252"},
	{NULL},
};
