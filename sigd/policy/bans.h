/* SPDX-License-Identifier: GPL-2.0-only */
/* XDP flood bans (ring buffer) into sigd's log, metrics and API. */
#ifndef XDPSBC_SIGD_BANS_H
#define XDPSBC_SIGD_BANS_H

#include <stdint.h>

#define BANS_KEEP 1024 /* recent ban events listed by /api/v1/bans */

/* A ban reported by the XDP flood stage (ring buffer), as sigd saw it. */
struct ban_event {
	char src[48]; /* address/prefix */
	int64_t wall; /* when sigd got the event */
	uint64_t until_ns;
	uint32_t count;
};

/* The last BANS_KEEP ban events, and how many were seen in all. */
struct ban_ring {
	uint64_t total;
	struct ban_event ev[BANS_KEEP];
	unsigned int head, n;
};

/* Record a ban event for listing and metrics. */
void ban_ring_add(struct ban_ring *r, const char *src, uint64_t until_ns, uint32_t count);
/* The @i-th newest event, @i < r->n. */
const struct ban_event *ban_ring_get(const struct ban_ring *r, unsigned int i);

/* Open the pinned xs_bans ring buffer and watch it in the loop; 0 or -errno (logged). */
int bans_init(const char *pin_root, struct ban_ring *r);
void bans_close(void);

#endif /* XDPSBC_SIGD_BANS_H */
