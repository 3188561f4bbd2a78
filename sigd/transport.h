/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP over UDP and TCP on one listen address: non-blocking sockets on one
 * epoll set; TCP messages framed by Content-Length; a response or request to
 * a TCP peer reuses its connection or opens one.
 */
#ifndef XDPSBC_SIGD_TRANSPORT_H
#define XDPSBC_SIGD_TRANSPORT_H

#include "sigd.h"

#define TP_MAX_MSG 65535

typedef void (*tp_rx_fn)(void *arg, const char *buf, size_t len, const struct sip_addr *src);

int tp_init(const struct sip_addr *listen, tp_rx_fn rx, void *arg);
/* proxy_send_fn: UDP datagram, or queued on the peer's TCP connection. */
int tp_send(const struct sip_addr *dst, const char *buf, size_t len, void *arg);
/* Wait up to @timeout_ms and handle what is ready; -EINTR on a signal. */
int tp_poll(int timeout_ms);
void tp_close(void);
/* Also wait for @fd to be readable in tp_poll(), then call @cb(@arg). */
int tp_watch(int fd, void (*cb)(void *arg), void *arg);
/* Length of the first complete message in @buf (TCP framing), 0 if incomplete, <0 bad. */
ssize_t tp_frame(const char *buf, size_t len);

#endif /* XDPSBC_SIGD_TRANSPORT_H */
