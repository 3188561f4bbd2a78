// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flood bans reported by the XDP program (xs_bans ring buffer, lib/bans.c):
 * each one is logged with the source and counted for /metrics and the API.
 * The ring buffer's fd sits in the daemon's one loop.
 */
#include <errno.h>
#include <string.h>
#include "policy/bans.h"
#include "sip/transport.h"
#include "cluster/cluster.h"

static struct xs_bans *bans;

static int on_ban(const struct xs_ban_event *ev, void *arg)
{
	struct ctl *c = arg;
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
	ctl_ban_event(c, src, ev->banned_until_ns, ev->count);
	cluster_ban(&ev->src, ev->banned_until_ns); /* the other edges ban it too */
	return 0;
}

static void on_ready(void *arg)
{
	xs_bans_poll(arg, 0);
}

int bans_init(const char *pin_root, struct ctl *c)
{
	int err = xs_bans_open(pin_root, on_ban, c, &bans);

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
