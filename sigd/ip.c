// SPDX-License-Identifier: GPL-2.0-only
/*
 * IPv4 and IPv6 addresses of signalling peers (struct sip_ip, sigd.h):
 * parsing, formatting, comparing, source units and CIDRs, socket
 * addresses. A leaf: the resolver, the policy and the per-source counters
 * use it without pulling in the SIP layer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "sigd.h"

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
