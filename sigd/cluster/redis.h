/* SPDX-License-Identifier: GPL-2.0-only */
/* The cluster thread's Redis side (redis.c) and its map side (apply.c). */
#ifndef XDPSBC_SIGD_CLUSTER_REDIS_H
#define XDPSBC_SIGD_CLUSTER_REDIS_H

#include <pthread.h>
#include <hiredis/hiredis.h>
#include "cluster/store.h"

#define CL_PEERS_MAX 32
#define CL_BANQ	     256

struct cl_peer {
	char node[CLUSTER_NODE_LEN];
	int64_t seen_ms; /* its last heartbeat, its clock */
};

struct cl_stats {
	uint64_t events_out, events_in, events_stale, events_bad, reconnects, apply_failed;
	uint64_t local_changes;
	int64_t lag_last_ms, lag_max_ms;
	int64_t synced_ms; /* last full load from Redis */
};

struct cl {
	struct cluster_cfg cfg;
	const struct xs_maps *maps;
	const char *pin_root;
	bool on;
	/* Thread-only state. */
	struct cl_store st;
	redisContext *cmd, *sub;
	bool connected;
	unsigned int cur; /* cfg.redis[] in use, or tried next */
	uint64_t gen;
	int64_t next_try_ms, scan_ms, gc_ms, hb_ms, peers_ms;
	struct cl_stats stats;
	struct cl_peer peers[CL_PEERS_MAX];
	unsigned int npeers;
	/* Handed over by the SIP loop under qmu. */
	pthread_mutex_t qmu;
	struct {
		struct xs_cidr cidr;
		int64_t exp;
	} banq[CL_BANQ];
	unsigned int banq_n;
	uint64_t banq_lost;
	/* Published for the SIP loop under smu. */
	pthread_mutex_t smu;
	struct cl_stats snap;
	struct cl_peer snap_peers[CL_PEERS_MAX];
	unsigned int snap_npeers;
	size_t snap_n[CL_KINDS], snap_tombs, snap_dirty;
	bool snap_connected;
	unsigned int snap_cur;
	pthread_t th;
	bool th_on;
	volatile int stop;
	/*
	 * Replicated calls (calls.c). Under cmu: outq (field -> value, null: delete,
	 * from the SIP loop), peer (the standby's copy of its peer's calls) and
	 * taken. Thread-only: mine (what this edge last wrote), flows (per-cookie
	 * digest of the last walk).
	 */
	pthread_mutex_t cmu;
	json_t *outq, *peer, *mine, *flows;
	bool taken;
	int64_t flows_ms;
	uint64_t calls_out, calls_in, flows_programmed, flows_conflict;
	/* Published under smu. */
	size_t snap_peer_calls, snap_my_calls;
	unsigned int taken_calls;
	int64_t takeover_ms;
};

extern struct cl cl_g;

/* redis.c */
int cl_connect(struct cl *c, bool startup);
void cl_disconnect(struct cl *c);
int cl_read_events(struct cl *c);
int cl_push_dirty(struct cl *c, bool all);
int cl_heartbeat(struct cl *c, int64_t now_ms);
int cl_gc(struct cl *c, int64_t now_ms);

/* calls.c (cluster thread) */
int cl_calls_connect(struct cl *c);
int cl_calls_step(struct cl *c, int64_t now_ms);
/* A message on a calls channel: 1 handled, 0 not a calls channel. */
int cl_calls_message(struct cl *c, const char *channel, const char *msg, size_t len);

/* apply.c */
/* A record from Redis: kept and applied when newer than what the edge knows. */
void cl_merge(struct cl *c, const struct cl_rec *in, bool apply);
/* Find what changed in the maps that the cluster did not do: dirty records. */
void cl_scan(struct cl *c, bool startup);
void cl_take_bans(struct cl *c);

#endif /* XDPSBC_SIGD_CLUSTER_REDIS_H */
