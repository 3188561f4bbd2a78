/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared policy across the edges of a cluster through Redis: blocklist
 * entries, trusted networks and XDP flood bans made on one edge are
 * published to Redis and applied by every other edge (docs/operations.md,
 * "cluster"). Without a redis address none of this runs and the edge is
 * the single edge it always was.
 *
 * The work happens on a thread of its own (hiredis' blocking client, no
 * Redis call in the SIP loop); the loop only hands it flood-ban events and
 * asks it for its status.
 */
#ifndef XDPSBC_SIGD_CLUSTER_H
#define XDPSBC_SIGD_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <netinet/in.h>
#include "sigd.h"

struct xs_maps;
struct xs_flood_key;

#define CLUSTER_NODE_LEN 64

#define CLUSTER_REDIS_MAX 4

struct cluster_cfg {
	/* Tried in turn until one is a primary (ROLE master): a Sentinel-managed set. */
	struct {
		char host[128];
		uint16_t port;
	} redis[CLUSTER_REDIS_MAX];
	unsigned int nredis;		    /* 0 = no cluster */
	char node_id[CLUSTER_NODE_LEN];	    /* "" = the host name */
	char standby_for[CLUSTER_NODE_LEN]; /* keep this peer's calls ready; "" = none */
};

/* "HOST[:PORT][,HOST[:PORT]..]" (port default 6379, at most 4) or "none"; -EINVAL if bad. */
int cluster_parse_standby(struct cluster_cfg *c, const char *v);
int cluster_parse_redis(struct cluster_cfg *c, const char *v);
/* A node id: 1-63 characters of [A-Za-z0-9._-]; -EINVAL else. */
int cluster_parse_node(struct cluster_cfg *c, const char *v);

/*
 * Connect and load the whole shared state into the maps before the edge
 * reports ready (at most a few seconds; an unreachable Redis is logged and
 * the edge starts on what its maps hold). 0 (also with no cluster) or -errno.
 * Call before fork/daemon(); cluster_start() after it.
 */
int cluster_init(const struct cluster_cfg *cfg, const struct xs_maps *maps, const char *pin_root);
int cluster_start(void);
void cluster_stop(void);
bool cluster_enabled(void);

/* A flood ban the XDP program reported (datapath clock expiry): published. */
void cluster_ban(const struct xs_flood_key *src, uint64_t banned_until_ns);

/* The status section (xdpsbc status: "cluster"), a new reference. */
json_t *cluster_status_json(void);
/* The same for people: indented lines, a new string (free()); NULL without memory. */
char *cluster_status_text(void);
/* Prometheus lines (xdpsbc_cluster_*), a new string (free()), NULL with no cluster. */
char *cluster_metrics(void);

/*
 * Replicated calls (calls.c), from the SIP loop. cluster_calls_changed():
 * the dialogs changed (proxy_flush()); each call whose record differs from
 * the one last written is queued for Redis. cluster_calls_poll(): every
 * loop turn; a standby that now holds @public_ip (the addresses moved to it)
 * takes its peer's calls over: dialogs into the table, flows (already in
 * xs_flows) into @mc. Returns the calls taken over, 0 or -errno.
 */
struct media_ctx;
void cluster_calls_changed(void);
/* Is @cookie a call a standby holds for its peer (not taken over yet)? */
bool cluster_foreign_cookie(uint64_t cookie);
int cluster_calls_poll(struct media_ctx *mc, const struct sip_ip *public_ip);

#endif /* XDPSBC_SIGD_CLUSTER_H */
