/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The nftables backend (fw/), the fallback firewall of the in-driver policy:
 *
 * - an `inet xdpsbc` table of its own,
 *   built with libnftnl in batch transactions, holding the same policy as the
 *   XDP program (blocklist, trusted networks, IPv6 media drop, pinholes, SIP
 *   flood limit) as set contents, so a policy change is a set update;
 *
 * Every function returns 0 or a negative errno (see loader.h).
 */
#ifndef XDPSBC_FW_H
#define XDPSBC_FW_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/xdpsbc.h"

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

/*
 * IPv4 forwarding for the relay (fw/guard.c). bpf_fib_lookup() needs
 * net.ipv4.conf.IFACE.forwarding = 1 on the interface media arrives on;
 * the guard, table `ip xdpsbc_guard`, keeps such an interface from routing
 * anything else (prerouting drop of packets for other hosts). The guard's
 * rules name the interfaces xdpsbc turned forwarding on for.
 */
#define XS_FWD_GUARD_TABLE "xdpsbc_guard"
/* net.@fam.conf.@ifname.@key (@fam "ipv4" or "ipv6"): its value, or a negative errno. */
int xs_sysctl_if_get(const char *fam, const char *ifname, const char *key);
int xs_sysctl_if_set(const char *fam, const char *ifname, const char *key, int val);
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

#endif /* XDPSBC_FW_H */
