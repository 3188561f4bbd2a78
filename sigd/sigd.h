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
#include <sys/socket.h>
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

/* Transport codes as kamailio writes them in ;alias= (1 udp, 2 tcp, 3 tls). */
enum sip_proto { SIP_UDP = 1, SIP_TCP = 2, SIP_TLS = 3 };

/*
 * An IPv4 or IPv6 address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
 * always stored as the IPv4 address it maps: one sender, one key, whichever
 * socket it came in on. Compare with sip_ip_eq(), never memcmp (padding).
 */
struct sip_ip {
	uint16_t af; /* AF_INET or AF_INET6; 0: none */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* "2001:db8::1" or "192.0.2.1" (plain, no brackets). */
#define SIP_IP_STRLEN 48
const char *sip_ip_str(const struct sip_ip *ip, char *buf, size_t len);
/* As a URI or Via host: IPv6 in brackets ("[2001:db8::1]"). */
const char *sip_ip_host(const struct sip_ip *ip, char *buf, size_t len);
/* A literal, IPv6 with or without brackets; 0 or -EINVAL. */
int sip_ip_parse(const char *s, struct sip_ip *ip);
bool sip_ip_eq(const struct sip_ip *a, const struct sip_ip *b);
bool sip_ip_is_any(const struct sip_ip *ip);
struct sip_ip sip_ip4(struct in_addr a);
/*
 * The unit per-source caps and blocks count in: the IPv4 address, or the
 * IPv6 /64 (one subscriber's prefix: a sender owning a /64 must not get 2^64
 * separate budgets by rotating its interface identifier).
 */
struct sip_ip sip_ip_source(const struct sip_ip *ip);
/* @ip as a host CIDR (/32, /128), or its source unit (/32, /64) with @as_source. */
void sip_ip_cidr(const struct sip_ip *ip, bool as_source, struct xs_cidr *c);
bool sip_ip_in_cidr(const struct sip_ip *ip, const struct xs_cidr *c);

/* A signalling peer: address, port (host order) and transport. */
struct sip_addr {
	struct sip_ip ip;
	uint16_t port;
	uint8_t proto;
};

/* "[2001:db8::1]:5060/udp" */
#define SIP_ADDR_STRLEN 64
const char *sip_addr_str(const struct sip_addr *a, char *buf, size_t len);
bool sip_addr_eq(const struct sip_addr *a, const struct sip_addr *b);
/* "IP[:PORT]", "[IPv6]:PORT" or a bare IPv6 (port default @defport) -> UDP address. */
int sip_addr_parse(const char *s, uint16_t defport, struct sip_addr *a);
/* To and from a socket address (struct sockaddr_storage), IPv4-mapped folded to IPv4. */
socklen_t sip_addr_to_sa(const struct sip_addr *a, struct sockaddr_storage *ss);
void sip_addr_from_sa(const struct sockaddr_storage *ss, uint8_t proto, struct sip_addr *a);
/*
 * Where a URI points: host (IP literal or cached name), port, ;transport=.
 * Never blocks: -EAGAIN/-ETIMEDOUT while a name is being resolved (dns.h).
 */
int sip_addr_from_uri(const osip_uri_t *u, struct sip_addr *a);
/* Where a response goes: Via received/rport, else sent-by (literals only), and transport. */
int sip_addr_from_via(const osip_via_t *v, struct sip_addr *a);
/* "udp", "tcp", "tls" (;transport=, logs); sip_proto_via(): "UDP", "TCP", "TLS". */
const char *sip_proto_name(uint8_t proto);
const char *sip_proto_via(uint8_t proto);

/* One of the edge's own signalling addresses, as written in Via, Record-Route, Contact. */
struct sip_edge_addr {
	bool set;
	struct sip_ip ip;
	uint16_t port, tls_port;    /* tls_port 0: no TLS listener of this family */
	char ip_str[SIP_IP_STRLEN]; /* plain */
	char host[SIP_IP_STRLEN];   /* URI form: IPv6 in brackets */
	char port_str[8], tls_port_str[8];
};

/* The port the edge names for a peer over @proto (its TLS port for TLS). */
static inline const char *sip_edge_port(const struct sip_edge_addr *ea, uint8_t proto)
{
	return proto == SIP_TLS && ea->tls_port ? ea->tls_port_str : ea->port_str;
}

/* The edge's public addresses: [0] IPv4, [1] IPv6 (either may be unset). */
struct sip_edge {
	struct sip_edge_addr a[2];
};

void sip_edge_set(struct sip_edge *e, const struct sip_ip *ip, uint16_t port);
void sip_edge_set_tls(struct sip_edge *e, int af, uint16_t port);
/* The edge address to show a peer of family @af (the other family when @af has none). */
const struct sip_edge_addr *sip_edge_for(const struct sip_edge *e, int af);
/* Does @u name the edge (one of its IPs and that one's port, 5060 when absent)? */
bool sip_edge_is_uri(const struct sip_edge *e, const osip_uri_t *u);
/* Is @host (plain or bracketed) one of the edge's addresses with its port or TLS port @port? */
bool sip_edge_is_host(const struct sip_edge *e, const char *host, uint16_t port);

/* Monotonic milliseconds, for timers. */
static inline uint64_t sigd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* XDPSBC_SIGD_H */
