/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The datapath and firewall sigd runs (datapath.c): auto-probed or as
 * configured, logged with the reason, recorded for `xdpsbc status`.
 */
#ifndef XDPSBC_SIGD_DATAPATH_H
#define XDPSBC_SIGD_DATAPATH_H

#include <net/if.h>
#include "fw/fw.h"
#include "relay/relay.h"

enum { SIGD_FW_AUTO, SIGD_FW_XDP, SIGD_FW_NFT };

struct sigd_cfg;

struct sigd_dp {
	enum xs_datapath kind;
	int fw;	       /* SIGD_FW_XDP or SIGD_FW_NFT once started */
	int relay_pid; /* the relay process (afxdp, udp), else 0 */
	bool spawned;  /* forked by this sigd (not adopted from an earlier one) */
	char relay_line[600];
	char ifnames[4][IF_NAMESIZE];
};

/*
 * Choose and start the datapath. For xdp it only decides (auto attaches
 * natively to probe); the caller attaches as before when kind is XS_DP_XDP.
 * afxdp and udp run in a relay process that outlives sigd (datapath.c).
 * Call before opening any other socket or thread: it forks.
 */
int sigd_dp_start(const char *pin_root, const struct sigd_cfg *cfg, const struct xs_maps *maps,
		  struct sigd_dp *sd);
void sigd_dp_stop(struct sigd_dp *sd);
/*
 * The start was refused after the datapath came up: a relay this sigd
 * forked is stopped (nothing else would ever stop it); an adopted one,
 * carrying an earlier sigd's calls, is left to the next start.
 */
void sigd_dp_abort(struct sigd_dp *sd);
const char *sigd_fw_str(int fw);
int sigd_fw_parse(const char *s, int *fw);

#endif /* XDPSBC_SIGD_DATAPATH_H */
