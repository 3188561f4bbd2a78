/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The userspace relays (relay/): AF_XDP sockets fed by the XDP program
 * through an xskmap, and plain UDP sockets. Both relay by the same xs_flows
 * entries as the XDP program (latching, counters), so sigd's media code and
 * `xdpsbc flows` work unchanged. Also the datapath state file sigd writes
 * and `xdpsbc status` reads.
 *
 * Every function returns 0 or a negative errno (see lib/xdpsbc.h).
 */
#ifndef XDPSBC_RELAY_H
#define XDPSBC_RELAY_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/xdpsbc.h"

enum xs_datapath { XS_DP_AUTO, XS_DP_XDP, XS_DP_AFXDP, XS_DP_UDP };
const char *xs_dp_str(enum xs_datapath dp);
int xs_dp_parse(const char *s, enum xs_datapath *dp);

struct xs_dp;
struct xs_dp_opts {
	int flows_fd;  /* pinned xs_flows */
	int config_fd; /* pinned xs_config (AF_XDP: its flag) */
	int stats_fd;  /* pinned xs_stats (UDP: its verdicts, -1: none) */
	int xsks_fd;   /* pinned xs_xsks (AF_XDP), else -1 */
	const char *pin_root;
	const char *ifaces[4]; /* AF_XDP: interfaces to open sockets on */
	unsigned int nifaces;
	uint16_t port_min, port_max; /* the relay range, for the log (every UDP flow is served) */
	bool nft_pinholes;	     /* UDP: keep the nft pinhole set in step */
	const struct xs_maps *maps;  /* UDP with nft: re-sync the sets when xs_blkgen moves */
	unsigned int workers;	     /* UDP: threads (0: one per CPU, at most 4) */
};

/* Start the relay; it runs in its own threads until xs_dp_stop(). */
int xs_dp_udp_start(const struct xs_dp_opts *o, struct xs_dp **out);
int xs_dp_afxdp_start(const struct xs_dp_opts *o, struct xs_dp **out);
void xs_dp_stop(struct xs_dp *dp);
/* One line for the log: sockets, mode (zero-copy or copy), packets. */
void xs_dp_describe(const struct xs_dp *dp, char *buf, size_t len);

/*
 * The relay decision for one packet to flow @f from @saddr:@sport, shared by
 * the userspace datapaths: the XDP program's xs_latch() in C. @saddr is 4
 * bytes (IPv4) or 16 (@v6). Latches @f
 * (and aims the reverse flow, via @flows_fd) as the XDP program would.
 * Returns 0 to relay, or the xs_reason to drop with.
 */
int xs_dp_latch(int flows_fd, struct xs_flow *f, const void *saddr, bool v6, uint16_t sport,
		bool *changed);

/*
 * The state file sigd writes and `xdpsbc status` reads: datapath, firewall,
 * why, and the pid of the process that carries the media (sigd, or its
 * relay process on afxdp/udp). Read fails with -ESRCH once that pid is gone.
 */
#define XS_DP_STATE_FILE "datapath"
int xs_dp_state_write(const char *pin_root, enum xs_datapath dp, const char *why,
		      const char *firewall, int pid);
int xs_dp_state_read(const char *pin_root, char *dp, size_t dplen, char *fw, size_t fwlen,
		     int *pid);

#endif /* XDPSBC_RELAY_H */
