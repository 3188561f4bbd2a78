// SPDX-License-Identifier: GPL-2.0-only
/*
 * The edge's signalling addresses from the settings: the listen entries
 * (several, IPv4 and IPv6) and the public addresses (one IPv4, one IPv6),
 * and which address the edge writes in Via, Record-Route and Contact for a
 * peer of each family.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include "options.h"

static int add_listen(struct sip_addr *list, unsigned int *n, uint8_t *pass, uint8_t cur,
		      const char *v, uint16_t defport, uint8_t proto)
{
	char buf[512], *save, *tok;

	/* A repeatable key: the command line's entries replace the file's. */
	if (*pass != cur) {
		*n = 0;
		*pass = cur;
	}
	if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
		return -EINVAL;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct sip_addr a;

		if (*n >= SIGD_MAX_LISTEN)
			return -E2BIG;
		if (sip_addr_parse(tok, defport, &a))
			return -EINVAL;
		a.proto = proto;
		for (unsigned int i = 0; i < *n; i++)
			if (sip_addr_eq(&list[i], &a))
				return -EEXIST;
		list[(*n)++] = a;
	}
	return 0;
}

int sigd_set_listen(struct sigd_cfg *c, const char *v)
{
	return add_listen(c->listen, &c->nlisten, &c->listen_pass, c->cfg_pass, v, 5060, SIP_UDP);
}

int sigd_set_listen_tls(struct sigd_cfg *c, const char *v)
{
	return add_listen(c->listen_tls, &c->nlisten_tls, &c->listen_tls_pass, c->cfg_pass, v, 5061,
			  SIP_TLS);
}

int sigd_set_public_ip(struct sigd_cfg *c, const char *v)
{
	char buf[128], *save, *tok;
	struct sip_ip ips[2] = {0};

	if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
		return -EINVAL;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct sip_ip ip;

		if (sip_ip_parse(tok, &ip) || sip_ip_is_any(&ip))
			return -EINVAL;
		/* One address per family. */
		if (ips[ip.af == AF_INET6].af)
			return -EINVAL;
		ips[ip.af == AF_INET6] = ip;
	}
	if (!ips[0].af && !ips[1].af)
		return -EINVAL;
	c->public_ip[0] = ips[0];
	c->public_ip[1] = ips[1];
	return 0;
}

/*
 * media-ip: the IPv4 addresses media is anchored on, each with the whole
 * rtp-ports range (docs/sigd.md, "Call capacity"). Media is IPv4-only so
 * far: an IPv6 entry is refused rather than silently ignored.
 */
int sigd_set_media_ip(struct sigd_cfg *c, const char *v)
{
	struct in_addr ips[MEDIA_ADDRS_MAX];
	char buf[MEDIA_ADDRS_MAX * 20], *save, *tok;
	unsigned int n = 0, i;

	if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
		return -EINVAL;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct sip_ip ip;

		if (sip_ip_parse(tok, &ip) || sip_ip_is_any(&ip) || ip.af != AF_INET ||
		    n == MEDIA_ADDRS_MAX)
			return -EINVAL;
		for (i = 0; i < n; i++)
			if (ips[i].s_addr == ip.v4.s_addr)
				return -EINVAL;
		ips[n++] = ip.v4;
	}
	memcpy(c->media_ip, ips, n * sizeof(ips[0]));
	c->n_media_ip = n;
	return 0;
}

void sigd_warn_media_ip(const struct sigd_cfg *c)
{
	struct ifaddrs *ifs, *i;
	char b[INET_ADDRSTRLEN];
	unsigned int k;
	bool found;

	if (!c->n_media_ip || getifaddrs(&ifs))
		return;
	for (k = 0; k < c->n_media_ip; k++) {
		found = false;
		for (i = ifs; i && !found; i = i->ifa_next)
			found = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
				((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
					c->media_ip[k].s_addr;
		/* A standby's shared addresses arrive later: a warning, not a refusal. */
		if (!found)
			xs_log(XS_LOG_WARN,
			       "media-ip %s is not an address of this host: calls anchored "
			       "on it get no media until it is\n",
			       inet_ntop(AF_INET, &c->media_ip[k], b, sizeof(b)));
	}
	freeifaddrs(ifs);
}

/* The first entry of family @af in @list, NULL when none. */
static const struct sip_addr *first_of(const struct sip_addr *list, unsigned int n, int af)
{
	for (unsigned int i = 0; i < n; i++)
		if (list[i].ip.af == af)
			return &list[i];
	return NULL;
}

/* The first listen entry of family @af (plain, else TLS), NULL when none. */
static const struct sip_addr *listen_of(const struct sigd_cfg *c, int af)
{
	return first_of(c->listen, c->nlisten, af) ?: first_of(c->listen_tls, c->nlisten_tls, af);
}

void sigd_cfg_edge(const struct sigd_cfg *c, struct sip_edge *e)
{
	static const int afs[2] = {AF_INET, AF_INET6};

	memset(e, 0, sizeof(*e));
	for (int i = 0; i < 2; i++) {
		const struct sip_addr *l = listen_of(c, afs[i]);
		struct sip_ip ip;

		if (!l)
			continue;
		/* The public address, else a specific listen address (a wildcard names nothing). */
		if (c->public_ip[i].af)
			ip = c->public_ip[i];
		else if (!sip_ip_is_any(&l->ip))
			ip = l->ip;
		else
			continue;
		sip_edge_set(e, &ip, l->port);
		l = first_of(c->listen_tls, c->nlisten_tls, afs[i]);
		if (l)
			sip_edge_set_tls(e, afs[i], l->port);
	}
}

int sigd_cfg_check_net(const struct sigd_cfg *c)
{
	static const char *fam[2] = {"IPv4", "IPv6"};
	struct sip_edge e;

	if (!c->public_ip[0].af && !c->public_ip[1].af) {
		xs_log(XS_LOG_ERR, "--public-ip is required\n");
		return -EINVAL;
	}
	if (c->nlisten_tls && (!c->tls_cert[0] || !c->tls_key[0])) {
		xs_log(XS_LOG_ERR, "listen-tls needs tls-cert and tls-key\n");
		return -EINVAL;
	}
	sigd_cfg_edge(c, &e);
	for (int i = 0; i < 2; i++) {
		if (listen_of(c, i ? AF_INET6 : AF_INET) && !e.a[i].set) {
			xs_log(XS_LOG_ERR,
			       "listening on %s needs an %s public-ip or a specific listen "
			       "address\n",
			       fam[i], fam[i]);
			return -EINVAL;
		}
		if (c->public_ip[i].af && !e.a[i].set) {
			xs_log(XS_LOG_ERR, "public-ip %s without an %s listen entry\n", fam[i],
			       fam[i]);
			return -EINVAL;
		}
	}
	return 0;
}
