/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Types shared by the xdpsbc-sigd proxy core: signalling addresses and the
 * per-call logging convention (every line about a call starts "[Call-ID]").
 */
#ifndef XDPSBC_SIGD_H
#define XDPSBC_SIGD_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include <netinet/in.h>
#include <osipparser2/osip_parser.h>
#include "lib/xdpsbc.h"

static inline const char *clog_id(const char *cid)
{
	return cid && *cid ? cid : "-";
}

/*
 * @s with control characters, backslash and bytes >= 0x7f written as \r,
 * \n, \t, \\ or \xNN, cut to fit @len: network strings (a Call-ID, a
 * username unescaped from %0d%0a) must not split or forge log lines.
 */
const char *log_esc(const char *s, char *buf, size_t len);
#define LOG_ESC_LEN 320

/* " (taken over)" for a call this edge took over from a cluster peer, else "". */
const char *clog_mark(const char *cid);

/* The Call-ID is the sender's: escaped like any other network string. */
#define CLOG(lvl, cid, fmt, ...)                                                            \
	do {                                                                                \
		char clog_buf_[LOG_ESC_LEN];                                                \
		xs_log(lvl, "[%s]%s " fmt "\n",                                             \
		       log_esc(clog_id(cid), clog_buf_, sizeof(clog_buf_)), clog_mark(cid), \
		       ##__VA_ARGS__);                                                      \
	} while (0)

/* Transport codes as kamailio writes them in ;alias= (1 udp, 2 tcp). */
enum sip_proto { SIP_UDP = 1, SIP_TCP = 2 };

/* A signalling peer: IPv4 address, port (host order) and transport. */
struct sip_addr {
	struct in_addr ip;
	uint16_t port;
	uint8_t proto;
};

#define SIP_ADDR_STRLEN 40
const char *sip_addr_str(const struct sip_addr *a, char *buf, size_t len);
bool sip_addr_eq(const struct sip_addr *a, const struct sip_addr *b);
/* "IP[:PORT]" (port default @defport) -> UDP address. */
int sip_addr_parse(const char *s, uint16_t defport, struct sip_addr *a);
/*
 * Where a URI points: host (IPv4 literal or cached name), port, ;transport=.
 * Never blocks: -EAGAIN/-ETIMEDOUT while a name is being resolved (dns.h).
 */
int sip_addr_from_uri(const osip_uri_t *u, struct sip_addr *a);
/* Where a response goes: Via received/rport, else sent-by (literals only), and transport. */
int sip_addr_from_via(const osip_via_t *v, struct sip_addr *a);
const char *sip_proto_name(uint8_t proto);

/* The edge's own signalling address, as written in Via, Record-Route, Contact. */
struct sip_edge {
	struct in_addr ip;
	uint16_t port;
	char ip_str[16];
	char port_str[8];
};
void sip_edge_init(struct sip_edge *e, struct in_addr ip, uint16_t port);
/* Does @u name the edge (its IP and port, port 5060 when absent)? */
bool sip_edge_is_uri(const struct sip_edge *e, const osip_uri_t *u);

/* Monotonic milliseconds, for timers. */
static inline uint64_t sigd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* XDPSBC_SIGD_H */
