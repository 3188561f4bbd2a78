// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flood bans reported by the XDP program (xs_bans ring buffer, lib/bans.c):
 * each one is logged with the source and kept in a ring of the last ones,
 * counted, for /metrics and the API.
 * The ring buffer's fd sits in the daemon's one loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "policy/bans.h"
#include "sip/transport.h"
#include "cluster/cluster.h"

static struct xs_bans *bans;

void ban_ring_add(struct ban_ring *r, const char *src, uint64_t until_ns, uint32_t count)
{
	struct ban_event *b = &r->ev[r->head];

	snprintf(b->src, sizeof(b->src), "%s", src);
	b->wall = time(NULL);
	b->until_ns = until_ns;
	b->count = count;
	r->head = (r->head + 1) % BANS_KEEP;
	if (r->n < BANS_KEEP)
		r->n++;
	r->total++;
}

const struct ban_event *ban_ring_get(const struct ban_ring *r, unsigned int i)
{
	return &r->ev[(r->head + BANS_KEEP - 1 - i) % BANS_KEEP];
}

static int on_ban(const struct xs_ban_event *ev, void *arg)
{
	struct ban_ring *r = arg;
	uint64_t now = xs_now_ns();
	char src[64];

	if (xs_flood_key_format(&ev->src, src, sizeof(src)))
		snprintf(src, sizeof(src), "?");
	xs_log(XS_LOG_WARN,
	       "[-] XDP flood ban: %s after %u requests in the window; "
	       "its SIP packets are dropped for %llu s\n",
	       src, ev->count,
	       (unsigned long long)(ev->banned_until_ns > now
					    ? (ev->banned_until_ns - now + 500000000ULL) /
						      1000000000ULL
					    : 0));
	ban_ring_add(r, src, ev->banned_until_ns, ev->count);
	cluster_ban(&ev->src, ev->banned_until_ns); /* the other edges ban it too */
	return 0;
}

static void on_ready(void *arg)
{
	xs_bans_poll(arg, 0);
}

int bans_init(const char *pin_root, struct ban_ring *r)
{
	int err = xs_bans_open(pin_root, on_ban, r, &bans);

	if (err) {
		/* An XDP object without the flood stage: bans are simply not reported. */
		xs_log(XS_LOG_WARN, "flood bans ring buffer under %s: %s; bans not reported\n",
		       pin_root, strerror(-err));
		return err;
	}
	err = tp_watch(xs_bans_fd(bans), on_ready, bans);
	if (err) {
		xs_bans_close(bans);
		bans = NULL;
	}
	return err;
}

void bans_close(void)
{
	xs_bans_close(bans);
	bans = NULL;
}
