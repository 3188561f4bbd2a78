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
	return proto == SIP_TCP ? "tcp" : "udp";
}

const char *sip_addr_str(const struct sip_addr *a, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u/%s", ip, a->port, sip_proto_name(a->proto));
	return buf;
}

bool sip_addr_eq(const struct sip_addr *a, const struct sip_addr *b)
{
	return a->ip.s_addr == b->ip.s_addr && a->port == b->port && a->proto == b->proto;
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
	char host[256];
	const char *colon = strrchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);

	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = 0;
	memset(a, 0, sizeof(*a));
	a->proto = SIP_UDP;
	a->port = defport;
	if (colon && parse_port(colon + 1, &a->port))
		return -EINVAL;
	if (inet_pton(AF_INET, host, &a->ip) != 1)
		return -EINVAL;
	return 0;
}

int sip_addr_from_uri(const osip_uri_t *u, struct sip_addr *a)
{
	osip_uri_param_t *tp = NULL;

	if (!u || !u->host || !u->host[0])
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->proto = SIP_UDP;
	a->port = 5060;
	if (u->port && u->port[0] && parse_port(u->port, &a->port))
		return -EINVAL;
	osip_uri_param_get_byname((osip_list_t *)&u->url_params, "transport", &tp);
	if (tp && tp->gvalue && !strcasecmp(tp->gvalue, "tcp"))
		a->proto = SIP_TCP;
	return dns_lookup4(u->host, &a->ip);
}

int sip_addr_from_via(const osip_via_t *v, struct sip_addr *a)
{
	osip_generic_param_t *rcv = NULL, *rport = NULL;
	const char *host = v->host;

	memset(a, 0, sizeof(*a));
	a->proto = v->protocol && !strcasecmp(v->protocol, "TCP") ? SIP_TCP : SIP_UDP;
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
	if (!host || inet_pton(AF_INET, host, &a->ip) != 1)
		return -EINVAL;
	return 0;
}

void sip_edge_init(struct sip_edge *e, struct in_addr ip, uint16_t port)
{
	e->ip = ip;
	e->port = port;
	inet_ntop(AF_INET, &ip, e->ip_str, sizeof(e->ip_str));
	snprintf(e->port_str, sizeof(e->port_str), "%u", port);
}

bool sip_edge_is_uri(const struct sip_edge *e, const osip_uri_t *u)
{
	uint16_t port = 5060;

	if (!u || !u->host || strcmp(u->host, e->ip_str))
		return false;
	if (u->port && u->port[0] && parse_port(u->port, &port))
		return false;
	return port == e->port;
}
