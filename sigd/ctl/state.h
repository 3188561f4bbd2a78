/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control API's state: what the server (ctl.c) keeps per connection and
 * what the answers (api.c, metrics.c) read. A header of its own so the
 * answers need nothing of the server.
 */
#ifndef XDPSBC_SIGD_CTL_STATE_H
#define XDPSBC_SIGD_CTL_STATE_H

#include <netinet/in.h>
#include "options.h"
#include "sip/proxy.h"
#include "policy/bans.h"

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
	/* Counters of the API. */
	uint64_t http_requests, http_unauthorised, unix_requests;
	uint64_t refused_full, refused_per_src, auth_timeouts;
	struct ban_ring bans; /* the XDP flood bans sigd saw */
};

#endif /* XDPSBC_SIGD_CTL_STATE_H */
