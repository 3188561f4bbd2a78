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

#include "options.h"
#include "sip/proxy.h"

/*
 * Connection slots: the CLI's Unix socket and HTTP have pools of their own,
 * so API clients (or anyone who can reach the HTTP port) holding every HTTP
 * slot never lock the operator's CLI out. Before its token is checked an
 * HTTP connection holds a slot at most CTL_AUTH_MS, and one address holds
 * at most CTL_HTTP_PER_SRC of them; a newcomer finding no slot is answered
 * (503, 429, or "error:" on the Unix socket), never silently closed.
 */
#define CTL_UNIX_CONNS	 8
#define CTL_HTTP_CONNS	 16
#define CTL_MAX_CONNS	 (CTL_UNIX_CONNS + CTL_HTTP_CONNS)
#define CTL_HTTP_PER_SRC 4
#define CTL_AUTH_MS	 2000
#define CTL_MAX_REQ	 (256 * 1024) /* a batch of some thousand blocklist entries */
#define CTL_TIMEOUT_MS	 5000
#define CTL_WRITE_MS	 2000 /* longest the loop waits on a peer that does not read */
#define CTL_BANS_KEEP	 1024 /* recent ban events listed by /api/v1/bans */

/* A growing text buffer. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

/* A ban reported by the XDP flood stage (ring buffer), as sigd saw it. */
struct ctl_ban {
	char src[48]; /* address/prefix */
	int64_t wall; /* when sigd got the event */
	uint64_t until_ns;
	uint32_t count;
};

struct ctl {
	struct proxy *px;
	const struct sigd_cfg *cfg;
	const struct xs_maps *maps;
	const char *pin_root;
	int epfd, unix_fd, http_fd;
	char token[256]; /* "" with no HTTP listener */
	char path[256];	 /* of the Unix socket */
	struct ctl_conn {
		int fd;
		bool http;
		bool authed;	     /* HTTP: the token was checked (headers complete) */
		struct in_addr peer; /* HTTP: the client's address */
		uint64_t start_ms;
		size_t len;
		char *buf; /* CTL_MAX_REQ + 1 */
	} conns[CTL_MAX_CONNS];
	/* Counters of the API and the ban events. */
	uint64_t http_requests, http_unauthorised, unix_requests;
	uint64_t refused_full, refused_per_src, auth_timeouts;
	uint64_t bans_total;
	struct ctl_ban bans[CTL_BANS_KEEP];
	unsigned int bans_head, bans_n;
};

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
/* Record a ban event (ring buffer) for listing and metrics. */
void ctl_ban_event(struct ctl *c, const char *src, uint64_t until_ns, uint32_t count);

/* Read the token from @cfg (http-token, else the first line of http-token-file). */
int ctl_token(const struct sigd_cfg *cfg, char *out, size_t len);
/* Is "Authorization: Bearer X" in @headers the token? Constant-time compare. */
bool ctl_authorised(const char *headers, const char *token);

/* ctl_api.c: the answers. @out gets the body; returns the HTTP status. */
int ctl_unix_command(struct ctl *c, const char *line, struct sbuf *out);
int ctl_http_route(struct ctl *c, const char *method, const char *path, const char *body,
		   size_t body_len, struct sbuf *out, const char **ctype);
void ctl_metrics(struct ctl *c, struct sbuf *out);

#endif /* XDPSBC_SIGD_CTL_H */
