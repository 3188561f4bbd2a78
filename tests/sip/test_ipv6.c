// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dual-stack signalling in process: IPv6 literals parsed and written back
 * (libosip2 keeps brackets out of the host and puts them back), the signed
 * alias of an IPv6 client and the spellings it refuses, and an IPv6 client
 * registering and calling through an edge with 203.0.113.1 and 2001:db8::1
 * to an IPv4 core: Via, received/rport, Contact, double Record-Route, and
 * the way back. Attacks beside them: a forged or re-spelled IPv6 alias is
 * not followed, an IPv6 client's Route to an internal host is not either.
 */
#include <errno.h>
#include "proxy_harness.h"
#include "sip/route.h"
#include "srccount.h"

#define V6C	"2001:db8:10::50"
#define V6EDGE	"2001:db8::1"
#define CLIENT6 addr(V6C, 40000)
#define CORE	addr("198.51.100.10", 5060)

static int setup6(void)
{
	char *argv[] = {"test",
			"--config",
			"none",
			"--public-ip",
			"203.0.113.1,2001:db8::1",
			"--listen",
			"203.0.113.1:5060",
			"--listen",
			"[2001:db8::1]:5060",
			"--upstream",
			"sip:198.51.100.10:5060",
			"--state-dir",
			"",
			NULL};

	reset();
	txn_flush();
	dlg_flush();
	if (opts_load(&cfg, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) || opts_validate(&cfg))
		return -1;
	return proxy_init(&px, &cfg, NULL, capture, NULL);
}

static void test_literals(void)
{
	const char *name = "ipv6_literals";
	int f0 = check_failed;
	struct sip_addr a;
	struct sip_ip ip;
	char buf[SIP_ADDR_STRLEN];
	osip_uri_t *u;
	char *s = NULL;

	T_CHECK(name,
		!sip_addr_parse("[2001:db8::1]:5070", 5060, &a) && a.ip.af == AF_INET6 &&
			a.port == 5070,
		"[v6]:port");
	T_CHECK(name, !strcmp(sip_addr_str(&a, buf, sizeof(buf)), "[2001:db8::1]:5070/udp"),
		"written as %s", buf);
	T_CHECK(name, !sip_addr_parse("2001:db8::1", 5060, &a) && a.port == 5060, "bare v6");
	T_CHECK(name, !sip_addr_parse("192.0.2.1:5061", 5060, &a) && a.ip.af == AF_INET, "v4");
	T_CHECK(name,
		sip_addr_parse("[2001:db8::1]5060", 5060, &a) && sip_addr_parse("[]:1", 1, &a),
		"malformed accepted");
	/* One sender, one key: a mapped address is the IPv4 address. */
	T_CHECK(name, !sip_ip_parse("::ffff:192.0.2.9", &ip) && ip.af == AF_INET,
		"mapped not folded");
	/* libosip2: brackets out of the host, back in when written. */
	osip_uri_init(&u);
	T_CHECK(name,
		!osip_uri_parse(u, "sip:bob@[2001:db8::10]:5062;transport=tcp") && u->host &&
			!strcmp(u->host, "2001:db8::10") && !sip_addr_from_uri(u, &a) &&
			a.ip.af == AF_INET6 && a.port == 5062 && a.proto == SIP_TCP,
		"URI host %s", u->host ? u->host : "-");
	osip_uri_to_str(u, &s);
	T_CHECK(name, s && !strcmp(s, "sip:bob@[2001:db8::10]:5062;transport=tcp"), "URI %s",
		s ? s : "-");
	osip_free(s);
	osip_uri_free(u);
	if (check_failed == f0)
		T_PASS(name);
}

static void test_alias(void)
{
	const char *name = "ipv6_alias";
	int f0 = check_failed;
	static const char *const bad[] = {
		"2001:db8:10::50~40000~1~",	/* unbracketed */
		"[2001:DB8:10::50]~40000~1~",	/* another spelling */
		"[2001:db8:10:0::50]~40000~1~", /* another spelling */
		"[::ffff:192.0.2.50]~40000~1~", /* mapped */
		"[2001:db8:10::50]~040000~1~",	/* leading zero */
		"[2001:db8:10::50~40000~1~",	/* unbalanced */
	};
	struct sip_addr a = CLIENT6, got;
	char alias[96], uri[256];
	osip_uri_t *u;

	if (!T_CHECK(name, setup6() == 0, "setup"))
		return;
	T_CHECK(name,
		!nat_alias_encode(&a, alias, sizeof(alias)) && alias[0] == '[' &&
			!strncmp(alias, "[" V6C "]~40000~1~", strlen(V6C) + 11),
		"alias %s", alias);
	snprintf(uri, sizeof(uri), "sip:alice@203.0.113.1:5060;alias=%s", alias);
	osip_uri_init(&u);
	T_CHECK(name,
		!osip_uri_parse(u, uri) && !nat_alias_decode(u, &got) && sip_addr_eq(&got, &a),
		"round trip of %s", uri);
	osip_uri_free(u);
	/* The MAC of the canonical text moved to other spellings of the same address. */
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(uri, sizeof(uri), "sip:a@203.0.113.1;alias=%s%s", bad[i],
			 strrchr(alias, '~') + 1);
		osip_uri_init(&u);
		T_CHECK(name, osip_uri_parse(u, uri) || nat_alias_decode(u, &got) != 0,
			"%s accepted", uri);
		osip_uri_free(u);
	}
	if (check_failed == f0)
		T_PASS(name);
}

static void send6(const char *method, const char *callid, const char *extra)
{
	struct sip_addr src = CLIENT6;
	char msg[4096];

	snprintf(msg, sizeof(msg),
		 "%s sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP [fd00::5]:5060;branch=z9hG4bK6%s%s;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@example.com>;tag=a6\r\n"
		 "To: <sip:bob@example.com>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 %s\r\n"
		 "Contact: <sip:alice@[fd00::5]:5060>\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 method, method, callid, callid, method, extra ? extra : "");
	input(msg, &src);
}

static void send_bye6(const char *route)
{
	struct sip_addr src = CLIENT6;
	char msg[4096];

	snprintf(msg, sizeof(msg),
		 "BYE sip:bob@198.51.100.20:5060 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP [fd00::5]:5060;branch=z9hG4bK6bye;rport\r\n"
		 "Max-Forwards: 70\r\n%s"
		 "From: <sip:alice@example.com>;tag=a6\r\n"
		 "To: <sip:bob@example.com>;tag=b6\r\n"
		 "Call-ID: inv6\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
		 route);
	input(msg, &src);
}

/* The IPv6 client's REGISTER and INVITE to the IPv4 core, and the answers back. */
static void test_call(void)
{
	const char *name = "ipv6_client_to_v4_core";
	int f0 = check_failed;
	struct sent *fw;
	osip_record_route_t *rr0, *rr1;
	char *s0 = NULL, *s1 = NULL, resp[4096], rr_a[512] = "", rr_b[512] = "";
	osip_via_t *v;

	if (!T_CHECK(name, setup6() == 0, "setup"))
		return;
	send6("REGISTER", "reg6", "Expires: 600\r\n");
	fw = find_req("REGISTER");
	if (!T_CHECK(name, fw && fw->msg, "REGISTER not forwarded"))
		return;
	T_CHECK(name, addr_is(&fw->dst, "198.51.100.10", 5060), "REGISTER not to the core");
	T_CHECK(name, strstr(via_str(fw->msg, 0), "203.0.113.1:5060"), "top Via %s",
		via_str(fw->msg, 0));
	/* The client's sent-by is not its source: received= (no brackets) and rport. */
	v = osip_list_get(&fw->msg->vias, 1);
	T_CHECK(name,
		v && param(&v->via_params, "received") &&
			!strcmp(param(&v->via_params, "received"), V6C) &&
			!strcmp(param(&v->via_params, "rport") ?: "", "40000"),
		"client Via %s", via_str(fw->msg, 1));
	/* The Contact faces the IPv4 core: the edge's IPv4 address, the client's IPv6 alias. */
	T_CHECK(name, strstr(contact_str(fw->msg), "@203.0.113.1:5060;alias=[" V6C "]~40000~1~"),
		"Contact %s", contact_str(fw->msg));

	reset();
	send6("INVITE", "inv6", NULL);
	fw = find_req("INVITE");
	if (!T_CHECK(name, fw && fw->msg, "INVITE not forwarded"))
		return;
	/* The family changes at the edge: two entries, each facing its side. */
	rr0 = osip_list_get(&fw->msg->record_routes, 0);
	rr1 = osip_list_get(&fw->msg->record_routes, 1);
	if (rr0)
		osip_record_route_to_str(rr0, &s0);
	if (rr1)
		osip_record_route_to_str(rr1, &s1);
	T_CHECK(name,
		s0 && s1 && strstr(s0, "<sip:203.0.113.1:5060;xs=") &&
			strstr(s1, "<sip:[2001:db8::1]:5060;xs="),
		"Record-Route %s / %s", s0 ?: "-", s1 ?: "-");
	T_CHECK(name,
		route_uri_is_ours(&px.rc, fw->msg, rr0->url) &&
			route_uri_is_ours(&px.rc, fw->msg, rr1->url),
		"Record-Route entries not ours");
	snprintf(rr_a, sizeof(rr_a), "%s", s0 ?: "");
	snprintf(rr_b, sizeof(rr_b), "%s", s1 ?: "");
	osip_free(s0);
	osip_free(s1);

	/* The core's 200 goes back to the client's IPv6 source. */
	{
		char *v0 = strdup(via_str(fw->msg, 0)), *v1 = strdup(via_str(fw->msg, 1));

		snprintf(resp, sizeof(resp),
			 "SIP/2.0 200 OK\r\nVia: %s\r\nVia: %s\r\n"
			 "Record-Route: %s, %s\r\n"
			 "From: <sip:alice@example.com>;tag=a6\r\n"
			 "To: <sip:bob@example.com>;tag=b6\r\nCall-ID: inv6\r\n"
			 "CSeq: 1 INVITE\r\nContact: <sip:bob@198.51.100.20:5060>\r\n"
			 "Content-Length: 0\r\n\r\n",
			 v0, v1, rr_a, rr_b);
		free(v0);
		free(v1);
	}
	reset();
	{
		struct sip_addr core = CORE;

		input(resp, &core);
	}
	fw = find_resp(200);
	T_CHECK(name, fw && addr_is(&fw->dst, V6C, 40000), "200 not to the IPv6 client");
	/* The client's route set starts at the edge's IPv6 entry (the last one). */
	rr1 = fw && fw->msg ? osip_list_get(&fw->msg->record_routes, 1) : NULL;
	T_CHECK(name, rr1 && rr1->url && rr1->url->host && !strcmp(rr1->url->host, V6EDGE),
		"client-facing Record-Route %s", rr_b);

	/* The client's BYE through that route set reaches the core's Contact. */
	{
		char extra[1200];

		snprintf(extra, sizeof(extra), "Route: %s, %s\r\n", rr_b, rr_a);
		reset();
		send_bye6(extra);
	}
	fw = find_req("BYE");
	T_CHECK(name,
		fw && addr_is(&fw->dst, "198.51.100.20", 5060) && fw->msg &&
			!osip_list_size(&fw->msg->routes),
		"BYE not to the core's Contact (%d sent)", nout);
	if (check_failed == f0)
		T_PASS(name);
}

/* The core calls the IPv6 client through its alias; the client's answer finds the way back. */
static void test_core_to_client(void)
{
	const char *name = "ipv6_core_to_client";
	int f0 = check_failed;
	struct sip_addr core = CORE, cl = CLIENT6;
	char msg[4096], *via0;
	osip_record_route_t *rr0;
	struct sent *fw;

	if (!T_CHECK(name, setup6() == 0, "setup"))
		return;
	snprintf(msg, sizeof(msg),
		 "INVITE sip:alice@203.0.113.1:5060;alias=%s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKcore1\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=c1\r\n"
		 "To: <sip:alice@example.com>\r\nCall-ID: core6\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:bob@198.51.100.20:5060>\r\nContent-Length: 0\r\n\r\n",
		 alias_of(V6C, 40000, SIP_UDP));
	input(msg, &core);
	fw = find_req("INVITE");
	if (!T_CHECK(name, fw && fw->msg && addr_is(&fw->dst, V6C, 40000),
		     "INVITE not to the IPv6 client (%d sent)", nout))
		return;
	T_CHECK(name, strstr(via_str(fw->msg, 0), "[2001:db8::1]:5060"), "top Via %s",
		via_str(fw->msg, 0));
	rr0 = osip_list_get(&fw->msg->record_routes, 0);
	T_CHECK(name,
		rr0 && rr0->url && !strcmp(rr0->url->host ?: "", V6EDGE) &&
			osip_list_size(&fw->msg->record_routes) == 2,
		"Record-Route towards the client");
	via0 = strdup(via_str(fw->msg, 0));
	snprintf(msg, sizeof(msg),
		 "SIP/2.0 180 Ringing\r\nVia: %s\r\n"
		 "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKcore1\r\n"
		 "From: <sip:bob@example.com>;tag=c1\r\nTo: <sip:alice@example.com>;tag=a1\r\n"
		 "Call-ID: core6\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:alice@[fd00::5]:5060>\r\nContent-Length: 0\r\n\r\n",
		 via0);
	free(via0);
	reset();
	input(msg, &cl);
	fw = find_resp(180);
	T_CHECK(name, fw && addr_is(&fw->dst, "198.51.100.10", 5060), "180 not to the core");
	T_CHECK(name, fw && fw->msg && strstr(contact_str(fw->msg), "@203.0.113.1:5060;alias=["),
		"client Contact not rebuilt for the core: %s",
		fw && fw->msg ? contact_str(fw->msg) : "-");
	if (check_failed == f0)
		T_PASS(name);
}

/* TLS names: sips: and transport=tls, a TLS Via, and what the edge writes for a TLS client. */
static void test_tls_names(void)
{
	const char *name = "tls_addressing";
	int f0 = check_failed;
	char *argv[] = {"test",
			"--config",
			"none",
			"--public-ip",
			"203.0.113.1",
			"--listen",
			"203.0.113.1:5060",
			"--listen-tls",
			"203.0.113.1:5061",
			"--tls-cert",
			"edge.crt",
			"--tls-key",
			"edge.key",
			"--upstream",
			"sip:198.51.100.10:5060",
			"--state-dir",
			"",
			NULL};
	struct sip_addr a, cl = addr("192.0.2.50", 40100), core = CORE;
	osip_record_route_t *rr0, *rr1;
	char msg[2048], *s0 = NULL, *s1 = NULL;
	struct sent *fw;
	osip_uri_t *u;
	osip_via_t *v;

	osip_uri_init(&u);
	T_CHECK(name,
		!osip_uri_parse(u, "sips:198.51.100.10") && !sip_addr_from_uri(u, &a) &&
			a.proto == SIP_TLS && a.port == 5061,
		"sips: is TLS on 5061");
	osip_uri_free(u);
	osip_uri_init(&u);
	T_CHECK(name,
		!osip_uri_parse(u, "sip:198.51.100.10:5071;transport=tls") &&
			!sip_addr_from_uri(u, &a) && a.proto == SIP_TLS && a.port == 5071,
		"transport=tls");
	osip_uri_free(u);
	osip_via_init(&v);
	T_CHECK(name,
		!osip_via_parse(v, "SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bKt;rport") &&
			!sip_addr_from_via(v, &a) && a.proto == SIP_TLS && a.ip.af == AF_INET6,
		"TLS Via");
	osip_via_free(v);

	reset();
	txn_flush();
	dlg_flush();
	if (!T_CHECK(name,
		     !opts_load(&cfg, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) &&
			     !opts_validate(&cfg) && !proxy_init(&px, &cfg, NULL, capture, NULL),
		     "setup"))
		return;
	cl.proto = SIP_TLS;
	snprintf(msg, sizeof(msg),
		 "INVITE sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS 10.0.0.2:5061;branch=z9hG4bKtls1;rport\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=t1\r\n"
		 "To: <sip:bob@example.com>\r\nCall-ID: tls1\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:alice@10.0.0.2:5061;transport=tls>\r\nContent-Length: 0\r\n\r\n");
	input(msg, &cl);
	fw = find_req("INVITE");
	if (!T_CHECK(name, fw && fw->msg && fw->dst.proto == SIP_UDP,
		     "INVITE not forwarded over UDP"))
		return;
	rr0 = osip_list_get(&fw->msg->record_routes, 0);
	rr1 = osip_list_get(&fw->msg->record_routes, 1);
	if (rr0)
		osip_record_route_to_str(rr0, &s0);
	if (rr1)
		osip_record_route_to_str(rr1, &s1);
	T_CHECK(name,
		s0 && s1 && strstr(s0, "203.0.113.1:5060;") && strstr(s0, "transport=udp") &&
			strstr(s1, "203.0.113.1:5061;") && strstr(s1, "transport=tls"),
		"Record-Route %s / %s", s0 ?: "-", s1 ?: "-");
	osip_free(s0);
	osip_free(s1);
	T_CHECK(name, strstr(contact_str(fw->msg), "@203.0.113.1:5060;alias=192.0.2.50~40100~3~"),
		"Contact %s", contact_str(fw->msg));
	/* The core calls the client back through its alias: over TLS, our TLS port in the Via. */
	reset();
	snprintf(msg, sizeof(msg),
		 "OPTIONS sip:alice@203.0.113.1:5060;alias=%s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKcoreo\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=c2\r\n"
		 "To: <sip:alice@example.com>\r\nCall-ID: tls2\r\nCSeq: 1 OPTIONS\r\n"
		 "Content-Length: 0\r\n\r\n",
		 alias_of("192.0.2.50", 40100, SIP_TLS));
	input(msg, &core);
	fw = find_req("OPTIONS");
	T_CHECK(name,
		fw && fw->dst.proto == SIP_TLS && addr_is(&fw->dst, "192.0.2.50", 40100) &&
			fw->msg && strstr(via_str(fw->msg, 0), "TLS 203.0.113.1:5061"),
		"request to the TLS client: %s", fw && fw->msg ? via_str(fw->msg, 0) : "not sent");
	if (check_failed == f0)
		T_PASS(name);
}

/* Per-source caps and blocks count an IPv6 client by its /64. */
static void test_source_unit(void)
{
	const char *name = "ipv6_source_unit";
	int f0 = check_failed;
	struct srcc_tab t = {0};
	struct sip_ip a, b, c;
	struct xs_cidr cidr;

	sip_ip_parse("2001:db8:10::1", &a);
	sip_ip_parse("2001:db8:10::ffff:1234", &b); /* same /64 */
	sip_ip_parse("2001:db8:11::1", &c);	    /* another /64 */
	srcc_inc(&t, &a);
	srcc_inc(&t, &b);
	srcc_inc(&t, &c);
	T_CHECK(name, srcc_get(&t, &a) == 2 && srcc_get(&t, &c) == 1,
		"counts %u %u (a /64 rotating its interface ids must share one budget)",
		srcc_get(&t, &a), srcc_get(&t, &c));
	srcc_clear(&t);
	sip_ip_cidr(&b, true, &cidr);
	T_CHECK(name,
		cidr.family == AF_INET6 && cidr.prefixlen == 64 && sip_ip_in_cidr(&a, &cidr) &&
			!sip_ip_in_cidr(&c, &cidr),
		"block unit");
	if (check_failed == f0)
		T_PASS(name);
}

int main(void)
{
	xs_log_set_level(getenv("V") ? XS_LOG_DEBUG : XS_LOG_ERR);
	sigd_osip_init();
	test_literals();
	test_alias();
	test_call();
	test_core_to_client();
	test_tls_names();
	test_source_unit();
	reset();
	return check_failed ? 1 : 0;
}
