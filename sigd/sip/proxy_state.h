/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The proxy's state, shared by every part of it (proxy.c, response.c,
 * originate.c, send.c) and read by the control API: a header of its own so
 * that no part needs another just for the struct.
 */
#ifndef XDPSBC_SIGD_PROXY_STATE_H
#define XDPSBC_SIGD_PROXY_STATE_H

#include "media/media.h"
#include "policy/policy.h"
#include "sip/route.h"
#include "sigd.h"

/* Sends @buf to @dst; returns 0 or a negative errno. Transport, or a test capture. */
typedef int (*proxy_send_fn)(const struct sip_addr *dst, const char *buf, size_t len, void *arg);

struct proxy_stats {
	uint64_t rx, tx, dropped, bad, rejected, retrans_absorbed, timeouts;
};

struct proxy {
	struct route_cfg rc;
	struct media_ctx *mc; /* NULL: signalling only (unit tests) */
	proxy_send_fn send;
	void *send_arg;
	char state_dir[256]; /* "" = do not persist */
	uint64_t last_poll_ms;
	uint64_t last_save_ms;
	bool dirty;	     /* dialogs changed since the last save */
	bool bindings_dirty; /* registrations changed since the last save */
	struct proxy_stats st;
	struct policy pol; /* security policy; pol.block set by main (XDP blocklist) */
};

#endif /* XDPSBC_SIGD_PROXY_STATE_H */
