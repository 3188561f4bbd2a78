/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The transport's shared state, between the connections (transport.c), the
 * listeners, UDP and accepting (tp_listen.c) and the loop (tp_loop.c). One
 * event loop, one thread: nothing here is locked.
 */
#ifndef XDPSBC_SIGD_TP_INT_H
#define XDPSBC_SIGD_TP_INT_H

#include <stdio.h>
#include "sip/tls.h"
#include "sip/transport.h"

struct conn {
	int fd;
	struct sip_addr peer; /* proto SIP_TCP or SIP_TLS */
	struct ssl_st *ssl;   /* TLS: the session; NULL for TCP */
	bool hs_done;	      /* TLS: handshake complete (records may flow) */
	bool connecting, accepted, dead, had_msg;
	char *in, *out;
	size_t in_len, out_len;
	uint64_t last_ms;  /* last traffic either way */
	uint64_t start_ms; /* a message (or, accepted, the connection) began here; 0 none */
};

/* The listen sockets: one UDP and one TCP per listen address, IPv4 and IPv6. */
struct listener {
	int udp_fd, tcp_fd; /* a TLS listener has no UDP socket (-1) */
	int af;
	bool tls;
};

extern int tp_epfd, tp_spare_fd;
extern struct listener tp_lsn[TP_MAX_LISTEN];
extern unsigned int tp_nlsn;
extern struct conn *tp_conns[TP_SLOTS];
extern unsigned int tp_nslots;	/* slots in use are below this */
extern unsigned int tp_naccept; /* live accepted connections */
extern tp_rx_fn tp_rx_cb;
extern void *tp_rx_arg;
extern struct tp_limits tp_lim;
extern struct tp_stats tp_st;
extern uint64_t tp_accept_paused_until;
extern uint64_t tp_last_warn_ms[4];

/* Tags in epoll data: listeners by fd value, connections by slot + 0x10000. */
#define TAG_CONN 0x10000
/* Without a spare fd for the EMFILE trick, stop accepting this long. */
#define ACCEPT_PAUSE_MS 1000
#define WARN_EVERY_MS	10000
#define EXPIRE_EVERY_MS 50

enum { WARN_CAP, WARN_SOURCE, WARN_FD, WARN_CLOSE };

/* Refusals come in floods: one line per kind every WARN_EVERY_MS, with the count so far. */
#define WARN_RATE(kind, fmt, ...)                                                              \
	do {                                                                                   \
		uint64_t now_ = sigd_now_ms();                                                 \
		if (now_ - tp_last_warn_ms[kind] >= WARN_EVERY_MS || !tp_last_warn_ms[kind]) { \
			tp_last_warn_ms[kind] = now_;                                          \
			xs_log(XS_LOG_WARN, "[-] tcp: " fmt "\n", ##__VA_ARGS__);              \
		}                                                                              \
	} while (0)

/* "[2001:db8::1]:5060" for log lines. */
static inline const char *peer_str(const struct sip_addr *a, char *buf, size_t len)
{
	char h[SIP_IP_STRLEN];

	snprintf(buf, len, "%s:%u", sip_ip_host(&a->ip, h, sizeof(h)), a->port);
	return buf;
}

#define PEER(a) peer_str((a), (char[SIP_IP_STRLEN + 8]){0}, SIP_IP_STRLEN + 8)

/* transport.c */
int conn_add(int fd, const struct sip_addr *peer, bool accepted);
void conn_kill(int slot);
unsigned int conns_from(const struct sip_ip *ip);
/* The events epoll reported for the connection in @slot. */
void conn_event(int slot, uint32_t events);
/* Close connections past their time limits (tp_poll(), every EXPIRE_EVERY_MS). */
void conns_expire(uint64_t now);
/* Free the connections closed since the last call (nothing may point into them). */
void conns_reap(void);
/* tp_listen.c */
int spare_open(void);
void udp_read(int udp_fd);
void tcp_accept(int tcp_fd, bool tls);
void accept_pause(bool on);

#endif /* XDPSBC_SIGD_TP_INT_H */
