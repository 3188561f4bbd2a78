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
