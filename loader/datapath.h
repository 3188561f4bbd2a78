/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fallbacks of the in-driver relay, as a library sigd (and the CLI) use:
 *
 * - the nftables firewall (nft*.c): an `inet xdpsbc` table of its own,
 *   built with libnftnl in batch transactions, holding the same policy as the
 *   XDP program (blocklist, trusted networks, IPv6 media drop, pinholes, SIP
 *   flood limit) as set contents, so a policy change is a set update;
 * - the userspace relays (dp_*.c): AF_XDP sockets fed by the XDP program
 *   through an xskmap, and plain UDP sockets. Both relay by the same xs_flows
 *   entries as the XDP program (latching, strict source, counters), so sigd's
 *   media code and `xdpsbc flows` work unchanged.
 *
 * Every function returns 0 or a negative errno (see loader.h).
 */
#ifndef XDPSBC_DATAPATH_H
#define XDPSBC_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>
#include "loader.h"

/* ---- nftables backend (nft.c, nft_sync.c, nft_persist.c) ---- */
#define XS_NFT_TABLE  "xdpsbc" /* family inet */
#define XS_NFT_MARKER "xdpsbc" /* comment on the table, its chain and every rule */
/* The persistent copy and the line that includes it (env overrides for tests). */
#define XS_NFT_CONF_DEFAULT "/etc/nftables.conf"
#define XS_NFT_FILE_DEFAULT "/etc/nftables.d/xdpsbc.nft"

struct xs_nft_status {
	bool table;	    /* inet xdpsbc exists */
	unsigned int rules; /* rules in it carrying the marker */
	unsigned int sets;  /* of the sets xdpsbc creates */
	unsigned int expect_rules, expect_sets;
	bool persisted; /* the file exists and nftables.conf includes it */
};

/* Create (or re-create) the table, its sets and rules, then fill the sets from @m. */
int xs_nft_install(const struct xs_maps *m);
/* Delete the table (only ours: inet xdpsbc). -ENOENT when it is not there. */
int xs_nft_uninstall(void);
int xs_nft_status(struct xs_nft_status *st);
/* 1 when the table exists, 0 when not, <0 error. */
int xs_nft_present(void);
/*
 * Policy sync: replace the contents of the blocklist, trusted, IPv6-media,
 * relay-range and SIP flood sets with what the pinned maps say, in one
 * transaction. The CLI calls it after block/trust/media/gc changes when the
 * table is present.
 */
int xs_nft_sync(const struct xs_maps *m);
/* Only some of them: what a change to the blocklist, trusted networks or settings touches. */
#define XS_NFT_SYNC_BLOCK  (1U << 0)
#define XS_NFT_SYNC_TRUST  (1U << 1)
#define XS_NFT_SYNC_CONFIG (1U << 2)
#define XS_NFT_SYNC_ALL	   (XS_NFT_SYNC_BLOCK | XS_NFT_SYNC_TRUST | XS_NFT_SYNC_CONFIG)
int xs_nft_sync_some(const struct xs_maps *m, unsigned int what);
/* Replace the pinhole set (relay ports a flow owns) with @ports. */
int xs_nft_pinholes(const uint16_t *ports, unsigned int n);
/* Our rules' counters summed by the XDP verdict reason each stands for. */
int xs_nft_counters(struct xs_counter out[XS_REASON_MAX]);
/* Write the policy as nft text to @path (the persistent copy). */
int xs_nft_write(const struct xs_maps *m, const char *path);
/* Write the file and add its include to nftables.conf once; and undo that. */
int xs_nft_persist(const struct xs_maps *m);
int xs_nft_unpersist(void);
const char *xs_nft_conf_path(void);
const char *xs_nft_file_path(void);

/* ---- userspace datapaths (dp_*.c) ---- */
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
 * the userspace datapaths: the XDP program's xs_latch() in C. Latches @f
 * (and aims the reverse flow, via @flows_fd) as the XDP program would.
 * Returns 0 to relay, or the xs_reason to drop with.
 */
int xs_dp_latch(int flows_fd, struct xs_flow *f, uint32_t saddr, uint16_t sport, bool *changed);

/*
 * IPv4 forwarding for the relay (fwd_guard.c). bpf_fib_lookup() needs
 * net.ipv4.conf.IFACE.forwarding = 1 on the interface media arrives on;
 * the guard, table `ip xdpsbc_guard`, keeps such an interface from routing
 * anything else (prerouting drop of packets for other hosts). The guard's
 * rules name the interfaces xdpsbc turned forwarding on for.
 */
#define XS_FWD_GUARD_TABLE "xdpsbc_guard"
/* net.ipv4.conf.@ifname.forwarding: 0 or 1, or a negative errno. */
int xs_fwd_get(const char *ifname);
int xs_fwd_set(const char *ifname, bool on);
/* Guard @ifname (idempotent); 1/0 whether it is guarded; the guarded names. */
int xs_fwd_guard_add(const char *ifname);
int xs_fwd_guard_has(const char *ifname);
int xs_fwd_guard_list(char (*names)[16], unsigned int max);
/* Remove the guard table (no error when there is none). */
int xs_fwd_guard_remove(void);
/* Stop guarding @ifname, keeping the others' rules (one transaction). */
int xs_fwd_guard_release(const char *ifname);
/* What xs_noroute's why means, for a person. */
const char *xs_noroute_why_str(int why);

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

#endif /* XDPSBC_DATAPATH_H */
