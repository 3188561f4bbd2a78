// SPDX-License-Identifier: GPL-2.0-only
/* trust add|del|list: networks that are never blocked. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include "cli.h"

struct trust_args {
	struct xs_cidr cidr;
};

static const struct opt cidr_arg[] = {
	DEFINE_ARG("CIDR", CIDR, struct trust_args, cidr),
	END_OPTIONS,
};

static int trust_change(const struct xs_maps *m, const struct xs_cidr *cidr, bool add)
{
	char buf[64];
	int ret;

	ret = add ? xs_trust_add(m, cidr) : xs_trust_del(m, cidr);
	xs_cidr_format(cidr, buf, sizeof(buf));
	if (ret == -ENOENT)
		return cli_err("trust del: %s is not trusted", buf);
	if (ret == -ENOSPC) {
		struct xs_map_usage u;

		xs_map_usage_fd(cidr->family == AF_INET ? m->trust4 : m->trust6, false, &u);
		return cli_err("trust add: trusted networks full (%u per family, map-sizes "
			       "trusted); nothing changed",
			       u.max_entries);
	}
	if (ret)
		return cli_fail(ret, add ? "trust add" : "trust del");
	printf("%s %s\n", add ? "trusted" : "no longer trusted:", buf);
	return 0;
}

static int do_add(struct cli *c, const struct xs_maps *m, void *args)
{
	return trust_change(m, &((struct trust_args *)args)->cidr, true);
}

static int do_del(struct cli *c, const struct xs_maps *m, void *args)
{
	return trust_change(m, &((struct trust_args *)args)->cidr, false);
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

static int do_list(struct cli *c, const struct xs_maps *m, void *args)
{
	int ret = 0;

	if (c->json)
		json_arr_begin(NULL);
	else
		printf("%-44s %10s\n", "CIDR", "HITS");
	if (m)
		ret = xs_trust_walk(m, list_one, &c->json);
	if (c->json) {
		json_arr_end();
		json_done();
	}
	return ret ? cli_fail(ret, "trust list") : 0;
}

const struct cmd cmds_trust[] = {
	{"trust add", do_add, "CIDR", "never block sources in CIDR (checked before the blocklist)",
	 .opts = cidr_arg, .args_size = sizeof(struct trust_args), .maps = CLI_MAPS_CHANGE,
	 .nft_sync = XS_NFT_SYNC_TRUST},
	{"trust del", do_del, "CIDR", "remove a trusted network (exact CIDR)", .opts = cidr_arg,
	 .args_size = sizeof(struct trust_args), .maps = CLI_MAPS_CHANGE,
	 .nft_sync = XS_NFT_SYNC_TRUST},
	{"trust list", do_list, "[-j]", "list trusted networks with their hit counters",
	 .maps = CLI_MAPS_READ},
	{NULL},
};
