/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The in-process proxy harness shared by the proxy unit tests: a proxy with
 * no sockets and no media engine whose send function captures (and parses)
 * what it would send, and where. Edge 203.0.113.1:5060, upstream (core)
 * 198.51.100.10:5060, a NATed client seen as 192.0.2.50:40000.
 */
#ifndef XDPSBC_TESTS_PROXY_HARNESS_H
#define XDPSBC_TESTS_PROXY_HARNESS_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/check.h"
#include "sip/dialog.h"
#include "sip/nat.h"
#include "options.h"
#include "sip/proxy.h"
#include "sip/msg.h"
#include "sip/txn.h"

#define L(s) s "\r\n"

struct sent {
	struct sip_addr dst;
	char *buf;
	osip_message_t *msg;
};

static struct sent out[32];
static int nout;

static inline int capture(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	if (nout < 32) {
		out[nout].dst = *dst;
		out[nout].buf = strndup(buf, len);
		osip_message_init(&out[nout].msg);
		if (osip_message_parse(out[nout].msg, buf, len)) {
			osip_message_free(out[nout].msg);
			out[nout].msg = NULL;
		}
		nout++;
	}
	return 0;
}

static inline void reset(void)
{
	for (int i = 0; i < nout; i++) {
		free(out[i].buf);
		if (out[i].msg)
			osip_message_free(out[i].msg);
	}
	nout = 0;
}

static inline struct sip_addr addr(const char *ip, uint16_t port)
{
	struct sip_addr a = {.port = port, .proto = SIP_UDP};

	sip_ip_parse(ip, &a.ip);
	return a;
}

static inline bool addr_is(const struct sip_addr *a, const char *ip, uint16_t port)
{
	struct sip_addr b = addr(ip, port);

	return sip_ip_eq(&a->ip, &b.ip) && a->port == port;
}

/* The first captured message that is a request @method / a response @code. */
static struct sent *find_req(const char *method)
{
	for (int i = 0; i < nout; i++)
		if (out[i].msg && MSG_IS_REQUEST(out[i].msg) &&
		    !strcmp(out[i].msg->sip_method, method))
			return &out[i];
	return NULL;
}

static struct sent *find_resp(int code)
{
	for (int i = 0; i < nout; i++)
		if (out[i].msg && MSG_IS_RESPONSE(out[i].msg) && out[i].msg->status_code == code)
			return &out[i];
	return NULL;
}

static inline int count_req(const char *method)
{
	int n = 0;

	for (int i = 0; i < nout; i++)
		n += out[i].msg && MSG_IS_REQUEST(out[i].msg) &&
		     !strcmp(out[i].msg->sip_method, method);
	return n;
}

static inline const char *hdr(osip_message_t *m, const char *name)
{
	osip_header_t *h = NULL;

	osip_message_header_get_byname(m, name, 0, &h);
	return h ? h->hvalue : NULL;
}

static inline const char *param(osip_list_t *l, const char *name)
{
	osip_generic_param_t *p = NULL;

	osip_generic_param_get_byname(l, (char *)name, &p);
	return p ? (p->gvalue ? p->gvalue : "") : NULL;
}

static inline char *via_str(osip_message_t *m, int pos)
{
	static char buf[512];
	char *s = NULL;

	osip_via_to_str(osip_list_get(&m->vias, pos), &s);
	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	osip_free(s);
	return buf;
}

static inline char *contact_str(osip_message_t *m)
{
	static char buf[512];
	char *s = NULL;
	osip_contact_t *c = osip_list_get(&m->contacts, 0);

	if (c)
		osip_contact_to_str(c, &s);
	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	osip_free(s);
	return buf;
}

/* The alias the edge writes for @ip:@port (signed: nat.h). */
static inline const char *alias_of(const char *ip, uint16_t port, uint8_t proto)
{
	static char buf[4][96];
	static int i;
	struct sip_addr a = addr(ip, port);

	a.proto = proto;
	i = (i + 1) % 4;
	nat_alias_encode(&a, buf[i], sizeof(buf[i]));
	return buf[i];
}

/* "<sip:alice@203.0.113.1:5060;alias=...>" for the client. */
static inline const char *edge_contact(const char *user, const char *ip, uint16_t port,
				       uint8_t proto)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "<sip:%s@203.0.113.1:5060;alias=%s>", user,
		 alias_of(ip, port, proto));
	return buf;
}

static struct sigd_cfg cfg;
static struct proxy px;

static inline int setup(const char *upstream, const char *domains)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = "test";
	argv[argc++] = "--config";
	argv[argc++] = "none";
	argv[argc++] = "--public-ip";
	argv[argc++] = "203.0.113.1";
	argv[argc++] = "--listen";
	argv[argc++] = "203.0.113.1:5060";
	if (upstream) {
		argv[argc++] = "--upstream";
		argv[argc++] = (char *)upstream;
	}
	if (domains) {
		argv[argc++] = "--domains";
		argv[argc++] = (char *)domains;
	}
	argv[argc++] = "--state-dir";
	argv[argc++] = "";
	argv[argc] = NULL;
	reset();
	txn_flush();
	dlg_flush();
	if (opts_load(&cfg, argc, argv) || opts_validate(&cfg))
		return -1;
	return proxy_init(&px, &cfg, NULL, capture, NULL);
}

static inline void input(const char *msg, const struct sip_addr *src)
{
	proxy_input(&px, msg, strlen(msg), src);
}

#define CLIENT addr("192.0.2.50", 40000)
#define CORE   addr("198.51.100.10", 5060)
/* Build the response @code from the core to the forwarded request @fw. */
static inline void core_answers(struct sent *fw, int code, const char *totag)
{
	struct sip_addr core = CORE;
	osip_message_t *req, *r;
	char *buf;
	size_t len;

	osip_message_clone(fw->msg, &req);
	if (totag && !msg_to_tag(req))
		osip_to_set_tag(req->to, osip_strdup(totag));
	r = msg_make_response(req, code, NULL);
	osip_message_free(req);
	osip_list_special_free(&r->record_routes, (void (*)(void *))osip_record_route_free);
	osip_list_clone(&fw->msg->record_routes, &r->record_routes,
			(int (*)(void *, void **))osip_from_clone);
	if (code >= 200 && code < 300 && MSG_IS_REGISTER(fw->msg))
		/* A registrar's 2xx lists the bindings it holds (RFC 3261 10.3 step 8). */
		osip_list_clone(&fw->msg->contacts, &r->contacts,
				(int (*)(void *, void **))osip_contact_clone);
	else if (code >= 200 && code < 300)
		osip_message_set_contact(r, "<sip:bob@198.51.100.20:5060>");
	msg_serialize(r, &buf, &len);
	proxy_input(&px, buf, len, &core);
	osip_free(buf);
	osip_message_free(r);
}

#endif /* XDPSBC_TESTS_PROXY_HARNESS_H */
