/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The cluster's records: one per (kind, CIDR), as stored in Redis (one hash
 * per kind, field = CIDR, value = JSON) and as this edge last knew it.
 *
 * Conflict rule: the record with the larger (ts, node) wins, ts being the
 * origin's wall clock in ms when the change was made. A delete is a
 * tombstone record (del) kept CLUSTER_TOMB_KEEP_S, so an edge that was cut
 * off and still holds the entry cannot bring it back, and an add made
 * during a partition is not lost (it is newer than what Redis has).
 */
#ifndef XDPSBC_SIGD_CLUSTER_STORE_H
#define XDPSBC_SIGD_CLUSTER_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/xdpsbc.h"
#include "cluster/cluster.h"

enum cl_kind { CL_BLOCK, CL_TRUST, CL_BAN, CL_KINDS };

/* Tombstones outlive the longest partition the cluster heals without resurrection. */
#define CLUSTER_TOMB_KEEP_S (7 * 86400)
/* Expiries compare equal within this (clock conversion, the coarse datapath clock). */
#define CLUSTER_EXP_SLACK_MS 1000

struct cl_rec {
	struct cl_rec *next; /* hash chain */
	enum cl_kind kind;
	struct xs_cidr cidr;
	char key[64]; /* the CIDR as text: the Redis field */
	int64_t exp;  /* wall clock ms, absolute; 0: permanent */
	int64_t ts;   /* wall clock ms of the change at its origin */
	char node[CLUSTER_NODE_LEN];
	char reason[XS_NOTE_LEN];
	bool del;
	bool dirty;  /* ours, not yet in Redis */
	bool failed; /* could not be put in the maps (full): not a local delete */
	bool seen;   /* scan mark */
};

struct cl_store {
	struct cl_rec **b;
	size_t nb, n[CL_KINDS], tombs;
};

const char *cl_kind_name(enum cl_kind k);
int cl_kind_parse(const char *s, enum cl_kind *k);
int cl_store_init(struct cl_store *s, size_t buckets);
void cl_store_free(struct cl_store *s);
struct cl_rec *cl_get(struct cl_store *s, enum cl_kind k, const struct xs_cidr *c);
/* Find or add (zeroed but for kind, cidr, key); NULL without memory. */
struct cl_rec *cl_put(struct cl_store *s, enum cl_kind k, const struct xs_cidr *c);
void cl_drop(struct cl_store *s, struct cl_rec *r);
/* Call @fn on every record; it may cl_drop() the one it gets. */
void cl_each(struct cl_store *s, void (*fn)(struct cl_store *s, struct cl_rec *r, void *arg),
	     void *arg);
/* Is (@ts, @node) newer than @r's? */
bool cl_newer(const struct cl_rec *r, int64_t ts, const char *node);

/* The JSON value of @r (new string, free()), and back: -EINVAL when malformed. */
char *cl_encode(const struct cl_rec *r);
int cl_decode(const char *json, size_t len, enum cl_kind kind, struct cl_rec *out);

int64_t cl_wall_ms(void);

#endif /* XDPSBC_SIGD_CLUSTER_STORE_H */
