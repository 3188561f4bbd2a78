// SPDX-License-Identifier: GPL-2.0-only
/* media ipv4-only|ports|turn: the IPv6 media policy, changed at run time via xs_config. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

enum { W_OFF, W_ON, W_STATUS };
static const char *const on_off_status[] = {"off", "on", "status", NULL};

struct media_args {
	int word; /* W_OFF, W_ON, W_STATUS */
	struct cli_port_range ports;
	uint32_t flag; /* the xs_config flag the command sets or clears */
};

static const struct opt word_arg[] = {
	DEFINE_ARG("setting", WORD, struct media_args, word, .words = on_off_status,
		   .expect = "on or off (or status)"),
	END_OPTIONS,
};

static const struct opt range_arg[] = {
	DEFINE_ARG("MIN-MAX", PORT_RANGE, struct media_args, ports),
	END_OPTIONS,
};

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

static void set_flag(struct xs_config *cfg, const void *arg)
{
	const struct media_args *a = arg;

	if (a->word == W_ON)
		cfg->flags |= a->flag;
	else
		cfg->flags &= ~a->flag;
}

static int flag_act(struct cli *c, const struct xs_maps *m, void *args)
{
	const struct media_args *a = args;
	int ret = cli_config_edit(m, set_flag, a);

	if (ret)
		return cli_fail(ret, "settings");
	if (a->flag == XS_CFG_V6_MEDIA_DROP)
		printf("media ipv4-only %s: IPv6 media %s\n", on_off_status[a->word],
		       a->word == W_ON ? "dropped" : "passes");
	else
		printf("media turn %s\n", on_off_status[a->word]);
	return 0;
}

/* "status" reads, "on" and "off" change: the handler picks the sequence. */
static int on_off(struct cli *c, struct media_args *a, uint32_t flag)
{
	if (a->word == W_STATUS)
		return show(c);
	a->flag = flag;
	return cli_change(c, flag_act, a);
}

static int do_ipv4_only(struct cli *c, const struct xs_maps *unused, void *args)
{
	return on_off(c, args, XS_CFG_V6_MEDIA_DROP);
}

static int do_turn(struct cli *c, const struct xs_maps *unused, void *args)
{
	return on_off(c, args, XS_CFG_TURN);
}

static void set_ports(struct xs_config *cfg, const void *arg)
{
	const struct media_args *a = arg;

	cfg->rtp_min = a->ports.lo;
	cfg->rtp_max = a->ports.hi;
}

static int do_ports(struct cli *c, const struct xs_maps *m, void *args)
{
	const struct media_args *a = args;
	int ret = cli_config_edit(m, set_ports, a);

	if (ret)
		return cli_fail(ret, "settings");
	printf("media ports %u-%u (IPv6 UDP to these is dropped while ipv4-only is on)\n",
	       a->ports.lo, a->ports.hi);
	return 0;
}

#define MEDIA_CMD(...) \
	.args_size = sizeof(struct media_args), .nft_sync = XS_NFT_SYNC_CONFIG, __VA_ARGS__

const struct cmd cmds_media[] = {
	{"media ipv4-only", do_ipv4_only, "on|off|status [-j]",
	 "on: drop IPv6 UDP to the RTP port range (and TURN ports when turn is on); IPv6 "
	 "signalling still passes. Takes effect at once, no reload",
	 .opts = word_arg, .maps = CLI_MAPS_NONE, MEDIA_CMD()},
	{"media ports", do_ports, "MIN-MAX", "the RTP port range (default 10000-20000)",
	 .opts = range_arg, .maps = CLI_MAPS_CHANGE, MEDIA_CMD()},
	{"media turn", do_turn, "on|off|status",
	 "with ipv4-only on, also drop IPv6 UDP 3478, TCP 5349 and UDP 49152-49252",
	 .opts = word_arg, .maps = CLI_MAPS_NONE, MEDIA_CMD()},
	{NULL},
};
