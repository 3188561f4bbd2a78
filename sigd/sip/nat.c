// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sip/nat.h"
#include "secret.h"
#include "sip/msg.h"

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
	char ip[SIP_IP_STRLEN], port[8];
	struct sip_ip sent_by;

	if (!v || !v->host)
		return -EBADMSG;
	/* received= carries an IPv6 address without brackets (RFC 3261 grammar, RFC 5118). */
	sip_ip_str(&src->ip, ip, sizeof(ip));
	snprintf(port, sizeof(port), "%u", src->port);
	osip_generic_param_get_byname(&v->via_params, "rport", &rport);
	if (rport)
		param_set(&v->via_params, "rport", port);
	/* Compared as addresses: an IPv6 sent-by has more than one spelling. */
	if (rport || sip_ip_parse(v->host, &sent_by) || !sip_ip_eq(&sent_by, &src->ip))
		param_set(&v->via_params, "received", ip);
	return 0;
}

/* The MAC of the alias value "ip~port~proto", as the fourth component. */
static void alias_tag(const char *val, size_t len, char tag[NAT_ALIAS_MAC_HEX + 1])
{
	secret_tag(val, len, tag, NAT_ALIAS_MAC_HEX);
}

int nat_alias_encode(const struct sip_addr *a, char *buf, size_t len)
{
	char ip[SIP_IP_STRLEN], tag[NAT_ALIAS_MAC_HEX + 1];
	size_t used;
	int n;

	/* An IPv6 address in brackets: '~' never occurs in one, ':' does ("[::1]~5060~1"). */
	sip_ip_host(&a->ip, ip, sizeof(ip));
	n = snprintf(buf, len, "%s~%u~%u", ip, a->port, a->proto);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	used = n;
	alias_tag(buf, used, tag);
	n = snprintf(buf + used, len - used, "~%s", tag);
	return n < 0 || (size_t)n >= len - used ? -ENOSPC : 0;
}

int nat_alias_decode(const osip_uri_t *u, struct sip_addr *a)
{
	osip_uri_param_t *p = NULL;
	char ip[SIP_IP_STRLEN + 1], canon[96];
	unsigned int port, proto;
	const char *tag;
	struct sip_addr got = {0};
	int n;

	osip_uri_param_get_byname((osip_list_t *)&u->url_params, "alias", &p);
	if (!p)
		return -ENOENT;
	/* IPv4 dotted, or IPv6 in brackets: the bracket set holds no '~'. */
	if (!p->gvalue ||
	    (sscanf(p->gvalue, "%16[0-9.]~%u~%u", ip, &port, &proto) != 3 &&
	     sscanf(p->gvalue, "%48[][0-9a-fA-F:.]~%u~%u", ip, &port, &proto) != 3) ||
	    port == 0 || port > 65535 ||
	    (proto != SIP_UDP && proto != SIP_TCP && proto != SIP_TLS) ||
	    (ip[0] == '[') != (strchr(ip, ':') != NULL) || sip_ip_parse(ip, &got.ip))
		return -EINVAL;
	got.port = port;
	got.proto = proto;
	/* Only the canonical spelling was signed: no leading zeros, spaces, other IPv6 forms. */
	sip_ip_host(&got.ip, ip, sizeof(ip));
	n = snprintf(canon, sizeof(canon), "%s~%u~%u", ip, port, proto);
	if (strncmp(p->gvalue, canon, n))
		return -EINVAL;
	tag = p->gvalue + n;
	/* An alias the edge did not write (none, or a bad MAC) is never followed. */
	if (*tag != '~' || strlen(tag + 1) != NAT_ALIAS_MAC_HEX ||
	    !secret_check(canon, n, tag + 1, NAT_ALIAS_MAC_HEX))
		return -EPERM;
	*a = got;
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
