/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The proxy core (RFC 3261 section 16, RFC 3581): requests from clients and
 * the core in, forwarded requests and responses out, with NAT fixing, media
 * anchoring through media.h and call teardown.
 */
#ifndef XDPSBC_SIGD_PROXY_H
#define XDPSBC_SIGD_PROXY_H

#include "sip/proxy_state.h"

int proxy_init(struct proxy *p, const struct sigd_cfg *cfg, struct media_ctx *mc,
	       proxy_send_fn send, void *send_arg);
/* Apply a reloaded configuration (routing, domains, core list). */
int proxy_reconfigure(struct proxy *p, const struct sigd_cfg *cfg);
/* One datagram or one framed TCP message from @src. Never fails: bad input is logged. */
void proxy_input(struct proxy *p, const char *buf, size_t len, const struct sip_addr *src);
/* Timers: retransmissions, transaction expiry, media timeout (once a second). */
void proxy_tick(struct proxy *p);
/* The media timeout callback: BYE to both legs of the call with @cookie. */
void proxy_media_timeout(uint64_t cookie, void *arg);
/* Save the dialogs now if they changed (proxy_tick() does it within 200 ms). */
void proxy_flush(struct proxy *p);
/* Reload the dialogs saved in the state directory; returns how many. */
int proxy_restore(struct proxy *p);
/* Save the dialogs and drop transactions; returns the number of dialogs kept. */
unsigned int proxy_shutdown(struct proxy *p);
/* Calls in progress of a company, a brand or a road-warrior user (NULL: any). */
unsigned int proxy_count_calls(const char *company, const char *brand, const char *rw_user,
			       void *except_cid);
/* Log counters, dialogs and registrations (SIGUSR1). */
void proxy_status(struct proxy *p);

#endif /* XDPSBC_SIGD_PROXY_H */
