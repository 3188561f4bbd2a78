// SPDX-License-Identifier: GPL-2.0-only
/*
 * fw install|uninstall|status|persist|unpersist: the nftables backend
 * (fw/), the firewall of the UDP datapath and, on request, of any
 * datapath. Its sets follow the pinned policy: after a command that changed
 * state, cli.c re-syncs the sets that command's table entry names (.nft_sync)
 * while the table is installed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "fw/fw.h"

/* A change with .nft_sync 0: the install fills every set itself. */
static int do_install(struct cli *c, const struct xs_maps *m, void *args)
{
	struct xs_nft_status st;
	int ret;

	ret = xs_nft_install(m);
	if (ret)
		return cli_fail(ret, "fw install: nftables");
	ret = xs_nft_status(&st);
	printf("nftables table inet %s installed: %u rules, %u sets\n", XS_NFT_TABLE, st.rules,
	       st.sets);
	return ret ? cli_fail(ret, "fw status") : 0;
}

static int do_uninstall(struct cli *c, const struct xs_maps *unused, void *args)
{
	int ret, ret2;

	/* Everything xdpsbc added: the table and, if persisted, the file and its include. */
	ret = xs_nft_uninstall();
	ret2 = xs_nft_unpersist();
	if (ret && ret != -ENOENT)
		return cli_fail(ret, "fw uninstall: nftables");
	if (ret2 && ret2 != -ENOENT)
		return cli_fail(ret2, "fw uninstall: persistent copy");
	if (ret == -ENOENT)
		printf("nftables table inet %s was not installed\n", XS_NFT_TABLE);
	else
		printf("nftables table inet %s removed\n", XS_NFT_TABLE);
	if (!ret2)
		printf("removed %s and its include from %s\n", xs_nft_file_path(),
		       xs_nft_conf_path());
	return 0;
}

/* The nft state as a JSON object "nftables" or a text line (status, media status). */
int fw_status_fields(bool json)
{
	struct xs_nft_status st;
	int ret = xs_nft_status(&st);
	bool ok = st.table && st.rules == st.expect_rules && st.sets == st.expect_sets;

	if (json) {
		json_obj_begin("nftables");
		json_bool("installed", st.table);
		json_bool("complete", ok);
		json_u64("rules", st.rules);
		json_u64("sets", st.sets);
		json_u64("expected_rules", st.expect_rules);
		json_bool("persisted", st.persisted);
		if (ret)
			json_str("error", strerror(-ret));
		json_obj_end();
	} else if (ret) {
		printf("nftables:        unknown (%s)\n", strerror(-ret));
	} else {
		printf("nftables:        %s (table inet %s: %u/%u rules, %u/%u sets)%s\n",
		       !st.table ? "not installed"
		       : ok	 ? "installed"
				 : "INCOMPLETE",
		       XS_NFT_TABLE, st.rules, st.expect_rules, st.sets, st.expect_sets,
		       st.persisted ? ", persisted" : "");
	}
	return ret;
}

static int do_status(struct cli *c, const struct xs_maps *unused, void *args)
{
	int ret;

	if (c->json)
		json_obj_begin(NULL);
	ret = fw_status_fields(c->json);
	if (c->json) {
		json_str("file", xs_nft_file_path());
		json_str("conf", xs_nft_conf_path());
		json_obj_end();
		json_done();
	}
	return ret ? cli_fail(ret, "fw status") : 0;
}

static int do_persist(struct cli *c, const struct xs_maps *m, void *args)
{
	int ret = xs_nft_persist(m);

	if (ret)
		return cli_fail(ret, "fw persist");
	printf("wrote %s, included from %s\n", xs_nft_file_path(), xs_nft_conf_path());
	return 0;
}

static int do_unpersist(struct cli *c, const struct xs_maps *unused, void *args)
{
	int ret = xs_nft_unpersist();

	if (ret == -ENOENT)
		return printf("not persisted\n"), 0;
	if (ret)
		return cli_fail(ret, "fw unpersist");
	printf("removed %s and its include from %s\n", xs_nft_file_path(), xs_nft_conf_path());
	return 0;
}

/* install and persist read the maps under the lock and write every set themselves. */
const struct cmd cmds_fw[] = {
	{"fw install", do_install, "",
	 "install the nftables table inet xdpsbc with the pinned policy (replaces ours only)",
	 .maps = CLI_MAPS_CHANGE},
	{"fw uninstall", do_uninstall, "",
	 "remove table inet xdpsbc and its persistent copy; nothing else is touched",
	 .maps = CLI_MAPS_NONE},
	{"fw status", do_status, "[-j]", "is the nftables policy in place, complete, persisted",
	 .maps = CLI_MAPS_NONE},
	{"fw persist", do_persist, "",
	 "write the policy as nft text and include it once from nftables.conf",
	 .maps = CLI_MAPS_CHANGE},
	{"fw unpersist", do_unpersist, "", "remove that file and exactly its include line",
	 .maps = CLI_MAPS_NONE},
	{NULL},
};
