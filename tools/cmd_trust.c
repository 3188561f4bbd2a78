// SPDX-License-Identifier: GPL-2.0-only
/* trust add|del|list: networks that are never blocked. */
#include <errno.h>
#include <stdio.h>
#include "cli.h"

static int trust_change(struct cli *c, int argc, char **argv, bool add)
{
	struct xs_cidr cidr;
	struct xs_maps m;
	int npos, lock, ret;
	char **pos, buf[64];

	ret = cli_args(c, argc, argv, NULL, 1, 1, &pos, &npos);
	if (!ret)
		ret = cli_parse_cidr(pos[0], &cidr);
	if (ret || (ret = cli_open(c, true, &m, &lock)))
		return ret;
	ret = add ? xs_trust_add(&m, &cidr) : xs_trust_del(&m, &cidr);
	cli_close(&m, lock);
	xs_cidr_format(&cidr, buf, sizeof(buf));
	if (ret == -ENOENT)
		return cli_err("trust del: %s is not trusted", buf);
	if (ret == -ENOSPC)
		return cli_err("trust add: trusted networks full (%d per family)", XS_TRUST_MAX);
	if (ret)
		return cli_fail(ret, add ? "trust add" : "trust del");
	printf("%s %s\n", add ? "trusted" : "no longer trusted:", buf);
	return 0;
}

static int do_add(struct cli *c, int argc, char **argv)
{
	return trust_change(c, argc, argv, true);
}

static int do_del(struct cli *c, int argc, char **argv)
{
	return trust_change(c, argc, argv, false);
}

static int list_one(const struct xs_cidr *cidr, const struct xs_trust *t, void *arg)
{
	bool json = *(bool *)arg;
	char buf[64];

	xs_cidr_format(cidr, buf, sizeof(buf));
	if (json) {
		json_obj_begin(NULL);
		json_str("cidr", buf);
		json_u64("hits", t->hits);
		json_obj_end();
	} else {
		printf("%-44s %10llu\n", buf, (unsigned long long)t->hits);
	}
	return 0;
}

static int do_list(struct cli *c, int argc, char **argv)
{
	struct xs_maps m;
	char **pos;
	int npos, ret;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret)
		return ret;
	ret = cli_open_listing(c, &m);
	if (ret < 0)
		return ret;
	if (c->json)
		json_arr_begin(NULL);
	else
		printf("%-44s %10s\n", "CIDR", "HITS");
	if (ret) {
		ret = xs_trust_walk(&m, list_one, &c->json);
		xs_maps_close(&m);
	}
	if (c->json) {
		json_arr_end();
		json_done();
	}
	return ret ? cli_fail(ret, "trust list") : 0;
}

const struct cmd cmds_trust[] = {
	{"trust add", do_add, "CIDR", "never block sources in CIDR (checked before the blocklist)"},
	{"trust del", do_del, "CIDR", "remove a trusted network (exact CIDR)"},
	{"trust list", do_list, "[-j]", "list trusted networks with their hit counters"},
	{NULL},
};
