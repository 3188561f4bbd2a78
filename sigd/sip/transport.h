/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP over UDP, TCP and TLS on each listen address (IPv4 and IPv6): non-blocking sockets on one
 * epoll set; TCP messages framed by Content-Length; a response or request to
 * a TCP peer reuses its connection or opens one. TCP connections are bounded
 * in number (in all and per source: an IPv4 address, an IPv6 /64), in time
 * and in buffered bytes.
 */
#ifndef XDPSBC_SIGD_TRANSPORT_H
#define XDPSBC_SIGD_TRANSPORT_H

#include <sys/types.h>
#include "sigd.h"

#define TP_MAX_MSG    65535
#define TP_MAX_LISTEN 8
/* Connection slots; accepted connections are capped below this (tcp-max-connections). */
#define TP_SLOTS 16384
/* Slots only the edge's own connections (to the core, to clients) may take. */
#define TP_SLOTS_OUT 1024

struct tp_limits {
	unsigned int max_conns;	     /* accepted connections in all */
	unsigned int max_per_source; /* accepted connections from one IPv4 address or IPv6 /64 */
	unsigned int msg_ms;	     /* a message must be complete this long after it began */
	unsigned int idle_ms;	     /* a connection without traffic is closed */
	unsigned int max_out;	     /* bytes queued to a peer that does not read */
};

#define TP_DEFAULT_MAX_CONNS	  1024
#define TP_DEFAULT_MAX_PER_SOURCE 32
#define TP_DEFAULT_MSG_MS	  (10 * 1000)
#define TP_DEFAULT_IDLE_MS	  (300 * 1000)
#define TP_DEFAULT_MAX_OUT	  (128 * 1024)

struct tp_stats {
	uint64_t accepted, refused_cap, refused_source, refused_fd;
	uint64_t closed_timeout, closed_overflow, closed_bad_frame;
	uint64_t tls_failed; /* TLS handshakes refused or broken (tls.h has the detail) */
	unsigned int conns;
};

typedef void (*tp_rx_fn)(void *arg, const char *buf, size_t len, const struct sip_addr *src);

/* Listen on each of @n addresses (UDP and TCP); a send goes out on a socket of its family. */
int tp_init(const struct sip_addr *listen, unsigned int n, tp_rx_fn rx, void *arg);
/*
 * Also accept SIP over TLS on each of @n addresses (after tls_init() with a
 * certificate). TLS connections share the TCP caps, timeouts and framing;
 * the handshake runs on the loop, non-blocking, within the message timeout.
 */
int tp_listen_tls(const struct sip_addr *listen, unsigned int n);
/* Set the TCP limits (defaults until called); applies to existing connections too. */
void tp_set_limits(const struct tp_limits *l);
void tp_limits_default(struct tp_limits *l);
void tp_get_stats(struct tp_stats *st);
/*
 * proxy_send_fn: UDP datagram, or queued on the peer's TCP connection. A
 * connection that fails is closed only when the event loop is done with it,
 * so @dst and any message buffer of the caller stay valid.
 */
int tp_send(const struct sip_addr *dst, const char *buf, size_t len, void *arg);
/* Wait up to @timeout_ms and handle what is ready; -EINTR on a signal. */
int tp_poll(int timeout_ms);
void tp_close(void);
/* Also wait for @fd to be readable in tp_poll(), then call @cb(@arg). */
int tp_watch(int fd, void (*cb)(void *arg), void *arg);
/*
 * Length of the first complete message in @buf (TCP framing), 0 if
 * incomplete, -EBADMSG (malformed or conflicting Content-Length, bare CR or
 * LF in the header section) or -EMSGSIZE (beyond TP_MAX_MSG).
 */
ssize_t tp_frame(const char *buf, size_t len);

#endif /* XDPSBC_SIGD_TRANSPORT_H */
