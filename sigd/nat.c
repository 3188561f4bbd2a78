// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nat.h"
#include "sipmsg.h"

static void param_set(osip_list_t *params, const char *name, const char *value)
{
	osip_generic_param_t *p = NULL;

	osip_generic_param_get_byname(params, (char *)name, &p);
	if (p) {
		osip_free(p->gvalue);
		p->gvalue = value ? osip_strdup(value) : NULL;
	} else {
		osip_generic_param_add(params, osip_strdup(name),
				       value ? osip_strdup(value) : NULL);
	}
}

int nat_fix_via(osip_message_t *req, const struct sip_addr *src)
{
	osip_via_t *v = msg_top_via(req);
	osip_generic_param_t *rport = NULL;
	char ip[INET_ADDRSTRLEN], port[8];

	if (!v || !v->host)
		return -EBADMSG;
	inet_ntop(AF_INET, &src->ip, ip, sizeof(ip));
	snprintf(port, sizeof(port), "%u", src->port);
	osip_generic_param_get_byname(&v->via_params, "rport", &rport);
	if (rport)
		param_set(&v->via_params, "rport", port);
	if (rport || strcmp(v->host, ip))
		param_set(&v->via_params, "received", ip);
	return 0;
}

int nat_alias_encode(const struct sip_addr *a, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];
	int n;

	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	n = snprintf(buf, len, "%s~%u~%u", ip, a->port, a->proto);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int nat_alias_decode(const osip_uri_t *u, struct sip_addr *a)
{
	osip_uri_param_t *p = NULL;
	char ip[INET_ADDRSTRLEN + 1];
	unsigned int port, proto;
	char tail;

	osip_uri_param_get_byname((osip_list_t *)&u->url_params, "alias", &p);
	if (!p)
		return -ENOENT;
	if (!p->gvalue || sscanf(p->gvalue, "%16[0-9.]~%u~%u%c", ip, &port, &proto, &tail) != 3 ||
	    port == 0 || port > 65535 || (proto != SIP_UDP && proto != SIP_TCP))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &a->ip) != 1)
		return -EINVAL;
	a->port = port;
	a->proto = proto;
	return 0;
}

static void uparam_del(osip_uri_t *u, const char *name)
{
	osip_uri_param_t *p;
	int pos = 0;

	while ((p = osip_list_get(&u->url_params, pos))) {
		if (p->gname && !strcasecmp(p->gname, name)) {
			osip_list_remove(&u->url_params, pos);
			osip_uri_param_free(p);
		} else {
			pos++;
		}
	}
}

void nat_alias_strip(osip_uri_t *u)
{
	uparam_del(u, "alias");
}

int nat_alias_contacts(osip_message_t *m, const struct sip_edge *edge, const struct sip_addr *src)
{
	osip_contact_t *c;
	char alias[64];
	int pos = 0, err;

	err = nat_alias_encode(src, alias, sizeof(alias));
	if (err)
		return err;
	while ((c = osip_list_get(&m->contacts, pos++))) {
		osip_uri_t *u = c->url;

		/* "Contact: *" (REGISTER removing all bindings) has no URI to rewrite. */
		if (!u || !u->host)
			continue;
		/* A client cannot choose where the core sends: drop any alias it sent. */
		uparam_del(u, "alias");
		uparam_del(u, "transport");
		osip_free(u->host);
		u->host = osip_strdup(edge->ip_str);
		osip_free(u->port);
		u->port = osip_strdup(edge->port_str);
		osip_uri_uparam_add(u, osip_strdup("alias"), osip_strdup(alias));
	}
	return 0;
}
