// SPDX-License-Identifier: GPL-2.0-only
/*
 * Signalling addresses: formatting, parsing, and resolving URIs and Vias.
 * Host names in URIs come from the resolver cache (dns.h) and never block;
 * a Via names where to answer with received/rport, so it takes literals only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "sip/dns.h"
#include "sigd.h"

const char *sip_proto_name(uint8_t proto)
{
	return proto == SIP_TLS ? "tls" : proto == SIP_TCP ? "tcp" : "udp";
}

const char *sip_proto_via(uint8_t proto)
{
	return proto == SIP_TLS ? "TLS" : proto == SIP_TCP ? "TCP" : "UDP";
}

const char *sip_ip_str(const struct sip_ip *ip, char *buf, size_t len)
{
	if (!inet_ntop(ip->af == AF_INET6 ? AF_INET6 : AF_INET,
		       ip->af == AF_INET6 ? (const void *)&ip->v6 : (const void *)&ip->v4, buf,
		       len))
		snprintf(buf, len, "?");
	return buf;
}

const char *sip_ip_host(const struct sip_ip *ip, char *buf, size_t len)
{
	char s[SIP_IP_STRLEN];

	sip_ip_str(ip, s, sizeof(s));
	snprintf(buf, len, ip->af == AF_INET6 ? "[%s]" : "%s", s);
	return buf;
}

static void fold_mapped(struct sip_ip *ip)
{
	if (ip->af == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&ip->v6)) {
		struct in_addr a;

		memcpy(&a, &ip->v6.s6_addr[12], 4);
		*ip = sip_ip4(a);
	}
}

int sip_ip_parse(const char *s, struct sip_ip *ip)
{
	char buf[SIP_IP_STRLEN];
	size_t n;

	memset(ip, 0, sizeof(*ip));
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &ip->v4) == 1) {
		ip->af = AF_INET;
		return 0;
	}
	n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = 0;
		s = buf;
	}
	if (inet_pton(AF_INET6, s, &ip->v6) != 1) {
		memset(ip, 0, sizeof(*ip));
		return -EINVAL;
	}
	ip->af = AF_INET6;
	fold_mapped(ip);
	return 0;
}

struct sip_ip sip_ip4(struct in_addr a)
{
	struct sip_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.af = AF_INET;
	ip.v4 = a;
	return ip;
}

bool sip_ip_eq(const struct sip_ip *a, const struct sip_ip *b)
{
	if (a->af != b->af)
		return false;
	if (a->af == AF_INET6)
		return !memcmp(&a->v6, &b->v6, sizeof(a->v6));
	return a->af != AF_INET || a->v4.s_addr == b->v4.s_addr;
}

bool sip_ip_is_any(const struct sip_ip *ip)
{
	if (ip->af == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&ip->v6);
	return ip->af != AF_INET || ip->v4.s_addr == INADDR_ANY;
}

struct sip_ip sip_ip_source(const struct sip_ip *ip)
{
	struct sip_ip s = *ip;

	if (s.af == AF_INET6)
		memset(&s.v6.s6_addr[8], 0, 8);
	return s;
}

void sip_ip_cidr(const struct sip_ip *ip, bool as_source, struct xs_cidr *c)
{
	struct sip_ip s = as_source ? sip_ip_source(ip) : *ip;

	memset(c, 0, sizeof(*c));
	c->family = s.af == AF_INET6 ? AF_INET6 : AF_INET;
	if (c->family == AF_INET6) {
		c->prefixlen = as_source ? 64 : 128;
		memcpy(c->addr, &s.v6, 16);
	} else {
		c->prefixlen = 32;
		memcpy(c->addr, &s.v4, 4);
	}
}

bool sip_ip_in_cidr(const struct sip_ip *ip, const struct xs_cidr *c)
{
	const uint8_t *a = ip->af == AF_INET6 ? ip->v6.s6_addr : (const uint8_t *)&ip->v4;
	unsigned int bits = c->prefixlen, full = bits / 8;

	if (c->family != ip->af || bits > (ip->af == AF_INET6 ? 128U : 32U))
		return false;
	if (memcmp(a, c->addr, full))
		return false;
	if (bits % 8) {
		uint8_t mask = 0xff << (8 - bits % 8);

		return (a[full] & mask) == (c->addr[full] & mask);
	}
	return true;
}

const char *sip_addr_str(const struct sip_addr *a, char *buf, size_t len)
{
	char ip[SIP_IP_STRLEN];

	snprintf(buf, len, "%s:%u/%s", sip_ip_host(&a->ip, ip, sizeof(ip)), a->port,
		 sip_proto_name(a->proto));
	return buf;
}

bool sip_addr_eq(const struct sip_addr *a, const struct sip_addr *b)
{
	return sip_ip_eq(&a->ip, &b->ip) && a->port == b->port && a->proto == b->proto;
}

socklen_t sip_addr_to_sa(const struct sip_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->ip.af == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = a->ip.v6;
		s6->sin6_port = htons(a->port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_addr = a->ip.v4;
	s4->sin_port = htons(a->port);
	return sizeof(*s4);
}

void sip_addr_from_sa(const struct sockaddr_storage *ss, uint8_t proto, struct sip_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->proto = proto;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		a->ip.af = AF_INET6;
		a->ip.v6 = s6->sin6_addr;
		a->port = ntohs(s6->sin6_port);
		fold_mapped(&a->ip);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		a->ip = sip_ip4(s4->sin_addr);
		a->port = ntohs(s4->sin_port);
	}
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v == 0 || v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

int sip_addr_parse(const char *s, uint16_t defport, struct sip_addr *a)
{
	char host[SIP_IP_STRLEN];
	const char *colon = strrchr(s, ':'), *close = strchr(s, ']');
	size_t n;

	/* A bare IPv6 address has colons but no port: "[v6]:port" to give one. */
	if (s[0] == '[')
		colon = close && close[1] == ':' ? close + 1 : NULL;
	else if (colon && strchr(s, ':') != colon)
		colon = NULL;
	n = colon ? (size_t)(colon - s) : strlen(s);
	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = 0;
	memset(a, 0, sizeof(*a));
	a->proto = SIP_UDP;
	a->port = defport;
	if (colon && parse_port(colon + 1, &a->port))
		return -EINVAL;
	return sip_ip_parse(host, &a->ip);
}

int sip_addr_from_uri(const osip_uri_t *u, struct sip_addr *a)
{
	osip_uri_param_t *tp = NULL;

	if (!u || !u->host || !u->host[0])
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->proto = SIP_UDP;
	osip_uri_param_get_byname((osip_list_t *)&u->url_params, "transport", &tp);
	if (tp && tp->gvalue && !strcasecmp(tp->gvalue, "tcp"))
		a->proto = SIP_TCP;
	/* sips: is TLS whatever the transport parameter says (RFC 3261 26.2). */
	if ((tp && tp->gvalue && !strcasecmp(tp->gvalue, "tls")) ||
	    (u->scheme && !strcasecmp(u->scheme, "sips")))
		a->proto = SIP_TLS;
	a->port = a->proto == SIP_TLS ? 5061 : 5060;
	if (u->port && u->port[0] && parse_port(u->port, &a->port))
		return -EINVAL;
	return dns_lookup(u->host, &a->ip);
}

int sip_addr_from_via(const osip_via_t *v, struct sip_addr *a)
{
	osip_generic_param_t *rcv = NULL, *rport = NULL;
	const char *host = v->host;

	memset(a, 0, sizeof(*a));
	a->proto = !v->protocol			     ? SIP_UDP
		   : !strcasecmp(v->protocol, "TCP") ? SIP_TCP
		   : !strcasecmp(v->protocol, "TLS") ? SIP_TLS
						     : SIP_UDP;
	a->port = 5060;
	osip_generic_param_get_byname((osip_list_t *)&v->via_params, "received", &rcv);
	osip_generic_param_get_byname((osip_list_t *)&v->via_params, "rport", &rport);
	if (rcv && rcv->gvalue)
		host = rcv->gvalue;
	if (rport && rport->gvalue && rport->gvalue[0]) {
		if (parse_port(rport->gvalue, &a->port))
			return -EINVAL;
	} else if (v->port && v->port[0] && parse_port(v->port, &a->port)) {
		return -EINVAL;
	}
	/*
	 * The edge adds received= whenever sent-by is not the source address
	 * (nat_fix_via()), so a name here was never checked against anything:
	 * refused rather than looked up.
	 */
	if (!host || sip_ip_parse(host, &a->ip))
		return -EINVAL;
	return 0;
}

void sip_edge_set(struct sip_edge *e, const struct sip_ip *ip, uint16_t port)
{
	struct sip_edge_addr *ea = &e->a[ip->af == AF_INET6];

	memset(ea, 0, sizeof(*ea));
	ea->set = true;
	ea->ip = *ip;
	ea->port = port;
	sip_ip_str(ip, ea->ip_str, sizeof(ea->ip_str));
	sip_ip_host(ip, ea->host, sizeof(ea->host));
	snprintf(ea->port_str, sizeof(ea->port_str), "%u", port);
}

void sip_edge_set_tls(struct sip_edge *e, int af, uint16_t port)
{
	struct sip_edge_addr *ea = &e->a[af == AF_INET6];

	ea->tls_port = port;
	snprintf(ea->tls_port_str, sizeof(ea->tls_port_str), "%u", port);
}

const struct sip_edge_addr *sip_edge_for(const struct sip_edge *e, int af)
{
	const struct sip_edge_addr *ea = &e->a[af == AF_INET6];

	return ea->set ? ea : &e->a[af != AF_INET6];
}

bool sip_edge_is_host(const struct sip_edge *e, const char *host, uint16_t port)
{
	struct sip_ip ip;

	if (!host || sip_ip_parse(host, &ip))
		return false;
	for (int i = 0; i < 2; i++)
		if (e->a[i].set && sip_ip_eq(&e->a[i].ip, &ip))
			return port == e->a[i].port ||
			       (e->a[i].tls_port && port == e->a[i].tls_port);
	return false;
}

bool sip_edge_is_uri(const struct sip_edge *e, const osip_uri_t *u)
{
	uint16_t port = 5060;

	if (!u || !u->host)
		return false;
	if (u->port && u->port[0] && parse_port(u->port, &port))
		return false;
	return sip_edge_is_host(e, u->host, port);
}
