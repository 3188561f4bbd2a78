/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP over TLS with OpenSSL: the server context (tls-cert, tls-key; client
 * certificates verified against tls-ca when set), the client context (the
 * upstream verified against tls-ca or the system store), TLS 1.2 and later
 * only. Every call is non-blocking: the transport drives the handshake and
 * the records from its epoll loop, and a peer that stalls costs one
 * connection slot until the transport's message timeout closes it.
 */
#ifndef XDPSBC_SIGD_TLS_H
#define XDPSBC_SIGD_TLS_H

#include <sys/types.h>
#include "sigd.h"

struct ssl_st;

struct tls_stats {
	uint64_t handshakes;	   /* completed */
	uint64_t handshake_failed; /* refused or broken, certificate failures included */
	uint64_t verify_failed;	   /* of those: the peer's certificate did not verify */
};

/*
 * Load @cert/@key (server side; "" when the edge does not accept TLS) and
 * @ca ("" = the system store for outgoing connections, no client
 * verification). 0 or -errno with the problem logged.
 */
int tls_init(const char *cert, const char *key, const char *ca);
void tls_fini(void);
bool tls_server_ready(void);
/* The name an outgoing connection to @dst must present (the upstream's host). */
void tls_set_peer_name(const struct sip_addr *dst, const char *name);
struct ssl_st *tls_new(int fd, bool server, const struct sip_addr *peer);
void tls_free(struct ssl_st *s);
/* 1 done, 0 in progress (*want_write: wait for writability too), -EPROTO failed (logged). */
int tls_handshake(struct ssl_st *s, const struct sip_addr *peer, bool *want_write);
/* Bytes read or written, -EAGAIN (*want_write: needs writability), 0 closed, -EIO. */
ssize_t tls_read(struct ssl_st *s, char *buf, size_t len, bool *want_write);
ssize_t tls_write(struct ssl_st *s, const char *buf, size_t len, bool *want_write);
/* Bytes decrypted and buffered in @s, to be read before waiting again. */
bool tls_pending(struct ssl_st *s);
void tls_get_stats(struct tls_stats *st);

#endif /* XDPSBC_SIGD_TLS_H */
