// SPDX-License-Identifier: GPL-2.0-only
/*
 * fw install|uninstall|status|persist|unpersist: the nftables backend
 * (loader/nft*.c), the firewall of the UDP datapath and, on request, of any
 * datapath. Its sets follow the pinned policy: cli_close() re-syncs them after
 * every command that changed state (block, trust, media, gc) while the table
 * is installed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "datapath.h"

static int do_install(struct cli *c, int argc, char **argv)
{
	struct xs_nft_status st;
	struct xs_maps m;
	int lock, ret;
	char **pos;
	int npos;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret || (ret = cli_open(c, true, &m, &lock)))
		return ret;
	ret = xs_nft_install(&m);
	xs_maps_close(&m); /* not cli_close: no second sync */
	xs_unlock(lock);
	if (ret)
		return cli_fail(ret, "fw install: nftables");
	ret = xs_nft_status(&st);
	printf("nftables table inet %s installed: %u rules, %u sets\n", XS_NFT_TABLE, st.rules,
	       st.sets);
	return ret ? cli_fail(ret, "fw status") : 0;
}

static int do_uninstall(struct cli *c, int argc, char **argv)
{
	char **pos;
	int npos, ret, ret2;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret)
		return ret;
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

static int do_status(struct cli *c, int argc, char **argv)
{
	char **pos;
	int npos, ret;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret)
		return ret;
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

static int do_persist(struct cli *c, int argc, char **argv, bool on)
{
	struct xs_maps m;
	int lock, ret;
	char **pos;
	int npos;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret)
		return ret;
	if (!on) {
		ret = xs_nft_unpersist();
		if (ret == -ENOENT)
			return printf("not persisted\n"), 0;
		if (ret)
			return cli_fail(ret, "fw unpersist");
		printf("removed %s and its include from %s\n", xs_nft_file_path(),
		       xs_nft_conf_path());
		return 0;
	}
	ret = cli_open(c, true, &m, &lock);
	if (ret)
		return ret;
	ret = xs_nft_persist(&m);
	xs_maps_close(&m);
	xs_unlock(lock);
	if (ret)
		return cli_fail(ret, "fw persist");
	printf("wrote %s, included from %s\n", xs_nft_file_path(), xs_nft_conf_path());
	return 0;
}

static int do_persist_on(struct cli *c, int argc, char **argv)
{
	return do_persist(c, argc, argv, true);
}

static int do_persist_off(struct cli *c, int argc, char **argv)
{
	return do_persist(c, argc, argv, false);
}

/* The command running (cli_open), so a change re-syncs only the sets it touches. */
const char *fw_cmd;

static unsigned int sync_what(void)
{
	if (!fw_cmd)
		return XS_NFT_SYNC_ALL;
	if (!strncmp(fw_cmd, "block ", 6) || !strcmp(fw_cmd, "gc"))
		return XS_NFT_SYNC_BLOCK;
	if (!strncmp(fw_cmd, "trust ", 6))
		return XS_NFT_SYNC_TRUST;
	if (!strncmp(fw_cmd, "media ", 6) || !strncmp(fw_cmd, "flood ", 6))
		return XS_NFT_SYNC_CONFIG;
	return XS_NFT_SYNC_ALL;
}

void fw_sync_after_change(const struct xs_maps *m)
{
	int ret = xs_nft_present();

	if (ret == 1)
		ret = xs_nft_sync_some(m, sync_what());
	if (ret < 0)
		fprintf(stderr, "xdpsbc: warning: nftables sets not updated: %s\n", strerror(-ret));
}

const struct cmd cmds_fw[] = {
	{"fw install", do_install, "",
	 "install the nftables table inet xdpsbc with the pinned policy (replaces ours only)"},
	{"fw uninstall", do_uninstall, "",
	 "remove table inet xdpsbc and its persistent copy; nothing else is touched"},
	{"fw status", do_status, "[-j]", "is the nftables policy in place, complete, persisted"},
	{"fw persist", do_persist_on, "",
	 "write the policy as nft text and include it once from nftables.conf"},
	{"fw unpersist", do_persist_off, "", "remove that file and exactly its include line"},
	{NULL},
};
