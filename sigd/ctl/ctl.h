/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control API: a Unix socket for the xdpsbc CLI (what only sigd knows:
 * calls, policy counters, tenants) and an optional HTTP listener with the
 * REST operations of the blocklist, listings and Prometheus /metrics.
 *
 * Both are served from the daemon's one loop: each connection is read
 * without blocking into a bounded buffer, answered once complete, and closed
 * (one request per connection). A connection idle for CTL_TIMEOUT_MS is
 * dropped.
 */
#ifndef XDPSBC_SIGD_CTL_H
#define XDPSBC_SIGD_CTL_H

#include "ctl/state.h"
#include "ctl/strbuf.h"
#include "ctl/api.h"

/*
 * Open the Unix socket (cfg->ctl_socket, mode 0600) and the HTTP listener
 * (cfg->http_listen; refuses to start without a token) and register them in
 * the transport's loop.
 */
int ctl_init(struct ctl *c, const struct sigd_cfg *cfg, struct proxy *px,
	     const struct xs_maps *maps, const char *pin_root);
/* The Unix socket's path: ctl-socket, else STATE-DIR/ctl.sock; NULL if too long. */
const char *ctl_socket_path(const struct sigd_cfg *cfg, char *buf, size_t len);
/* Re-read the token (SIGHUP). */
int ctl_reconfigure(struct ctl *c, const struct sigd_cfg *cfg);
/* Close connections that stalled (called from the loop). */
void ctl_tick(struct ctl *c);
void ctl_close(struct ctl *c);

/* Read the token from @cfg (http-token, else the first line of http-token-file). */
int ctl_token(const struct sigd_cfg *cfg, char *out, size_t len);
/* Is "Authorization: Bearer X" in @headers the token? Constant-time compare. */
bool ctl_authorised(const char *headers, const char *token);

#endif /* XDPSBC_SIGD_CTL_H */
