// SPDX-License-Identifier: GPL-2.0-only
/*
 * The proxy core on recorded SIP messages, with no sockets and no media
 * engine: what proxy_input() sends, and to where. Edge 203.0.113.1:5060,
 * upstream (core) 198.51.100.10:5060, a NATed client seen as
 * 192.0.2.50:40000 with a private Contact 10.0.0.2:5060.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sip/binding.h"
#include "proxy_harness.h"
#include "sip/transport.h"

#define CALLID "a84b4c76e66710@pc33"

static const char invite[] = L("INVITE sip:bob@example.com SIP/2.0")
	L("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK776asdhds;rport") L("Max-Forwards: 70")
		L("To: Bob <sip:bob@example.com>")
			L("From: Alice <sip:alice@example.com>;tag=1928301774")
				L("Call-ID: " CALLID) L("CSeq: 314159 INVITE")
					L("Contact: <sip:alice@10.0.0.2:5060>")
						L("Content-Length: 0") L("");

static void test_invite_forward(void)
{
	const char *name = "invite_forward";
	struct sip_addr c = CLIENT;
	struct sent *fw, *trying;
	osip_record_route_t *rr;
	osip_via_t *v0, *v1;
	char *rrs = NULL;

	if (setup("sip:198.51.100.10:5060", NULL)) {
		T_FAIL(name, "setup");
		return;
	}
	input(invite, &c);
	fw = find_req("INVITE");
	trying = find_resp(100);
	if (!T_CHECK(name, fw && fw->msg, "INVITE not forwarded (%d sent)", nout))
		return;
	T_CHECK(name, trying && addr_is(&trying->dst, "192.0.2.50", 40000),
		"no 100 Trying to the client");
	T_CHECK(name, addr_is(&fw->dst, "198.51.100.10", 5060), "sent to the wrong place");
	v0 = osip_list_get(&fw->msg->vias, 0);
	v1 = osip_list_get(&fw->msg->vias, 1);
	T_CHECK(name,
		v0 && !strcmp(v0->host, "203.0.113.1") && !strcmp(v0->port, "5060") &&
			!strncmp(msg_via_branch(v0), SIGD_BRANCH_PREFIX, 9),
		"top Via not ours: %s", via_str(fw->msg, 0));
	/* RFC 3581: rport filled with the source port, received with the source IP. */
	T_CHECK(name,
		v1 && param(&v1->via_params, "rport") &&
			!strcmp(param(&v1->via_params, "rport"), "40000") &&
			param(&v1->via_params, "received") &&
			!strcmp(param(&v1->via_params, "received"), "192.0.2.50"),
		"client Via: %s", via_str(fw->msg, 1));
	rr = osip_list_get(&fw->msg->record_routes, 0);
	if (rr)
		osip_record_route_to_str(rr, &rrs);
	/* Ours, with the MAC that binds it to this Call-ID. */
	T_CHECK(name,
		rrs && !strncmp(rrs, "<sip:203.0.113.1:5060;xs=", 25) &&
			strlen(rrs) == 25 + ROUTE_RR_MAC_HEX + 4 &&
			!strcmp(rrs + 25 + ROUTE_RR_MAC_HEX, ";lr>") &&
			route_uri_is_ours(&px.rc, fw->msg, rr->url),
		"Record-Route: %s", rrs ? rrs : "(none)");
	osip_free(rrs);
	T_CHECK(name, hdr(fw->msg, "max-forwards") && !strcmp(hdr(fw->msg, "max-forwards"), "69"),
		"Max-Forwards %s", hdr(fw->msg, "max-forwards"));
	T_CHECK(name,
		!strcmp(contact_str(fw->msg), edge_contact("alice", "192.0.2.50", 40000, SIP_UDP)),
		"Contact %s", contact_str(fw->msg));
	T_CHECK(name, dlg_find(CALLID) != NULL, "no dialog");
	if (!check_failed)
		T_PASS(name);
}

static void test_via_rules(void)
{
	const char *name = "via_received_rport";
	int before = check_failed;
	osip_message_t *m;
	struct sip_addr same = addr("10.0.0.2", 5060), other = addr("192.0.2.50", 40000);
	static const char norport[] = L("OPTIONS sip:x@example.com SIP/2.0")
		L("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa") L("From: <sip:a@b>;tag=1")
			L("To: <sip:x@example.com>") L("Call-ID: v1") L("CSeq: 1 OPTIONS")
				L("Content-Length: 0") L("");

	/* No rport, same host: untouched. */
	osip_message_init(&m);
	osip_message_parse(m, norport, strlen(norport));
	nat_fix_via(m, &same);
	T_CHECK(name, !strcmp(via_str(m, 0), "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa"),
		"unchanged expected: %s", via_str(m, 0));
	/* No rport, other host: received only. */
	nat_fix_via(m, &other);
	T_CHECK(name,
		!strcmp(via_str(m, 0),
			"SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa;received=192.0.2.50"),
		"received expected: %s", via_str(m, 0));
	osip_message_free(m);
	/* rport asked, same host: both (RFC 3581 section 4). */
	osip_message_init(&m);
	osip_message_parse(m, invite, strlen(invite));
	nat_fix_via(m, &same);
	T_CHECK(name,
		!strcmp(via_str(m, 0),
			"SIP/2.0/UDP "
			"10.0.0.2:5060;branch=z9hG4bK776asdhds;rport=5060;received=10.0.0.2"),
		"rport: %s", via_str(m, 0));
	osip_message_free(m);
	if (check_failed == before)
		T_PASS(name);
}

static void test_max_forwards(void)
{
	const char *name = "max_forwards";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	char msg[2048];
	struct sent *fw, *r;

	setup("sip:198.51.100.10:5060", NULL);
	snprintf(msg, sizeof(msg), "%s", invite);
	memcpy(strstr(msg, "Max-Forwards: 70"), "Max-Forwards: 00", 16);
	input(msg, &c);
	r = find_resp(483);
	T_CHECK(name, r && addr_is(&r->dst, "192.0.2.50", 40000), "no 483");
	T_CHECK(name, !find_req("INVITE"), "forwarded with Max-Forwards 0");
	/* An OPTIONS with Max-Forwards 0 is answered by the proxy itself. */
	setup("sip:198.51.100.10:5060", NULL);
	input(L("OPTIONS sip:bob@example.com SIP/2.0")
		      L("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKmf0") L("Max-Forwards: 0")
			      L("From: <sip:a@example.com>;tag=1") L("To: <sip:bob@example.com>")
				      L("Call-ID: mf0") L("CSeq: 1 OPTIONS") L("Content-Length: 0")
					      L(""),
	      &c);
	T_CHECK(name, find_resp(200) && !find_req("OPTIONS"), "OPTIONS with Max-Forwards 0");
	/* Missing: the proxy adds 70. */
	setup("sip:198.51.100.10:5060", NULL);
	snprintf(msg, sizeof(msg), "%s", invite);
	memcpy(strstr(msg, "Max-Forwards: 70"), "X-Max-Forward:  1", 16);
	input(msg, &c);
	fw = find_req("INVITE");
	T_CHECK(name,
		fw && hdr(fw->msg, "max-forwards") && !strcmp(hdr(fw->msg, "max-forwards"), "70"),
		"Max-Forwards not added");
	if (check_failed == before)
		T_PASS(name);
}

static void test_alias(void)
{
	const char *name = "contact_alias";
	int before = check_failed;
	struct sip_addr a = addr("10.0.0.2", 5060), d;
	char buf[64];
	osip_uri_t *u;

	a.proto = SIP_TCP;
	nat_alias_encode(&a, buf, sizeof(buf));
	T_CHECK(name,
		!strncmp(buf, "10.0.0.2~5060~2~", 16) && strlen(buf) == 16 + NAT_ALIAS_MAC_HEX,
		"%s", buf);
	{
		char uri[256];

		snprintf(uri, sizeof(uri), "sip:alice@203.0.113.1:5060;alias=%s;ob", buf);
		osip_uri_init(&u);
		osip_uri_parse(u, uri);
	}
	T_CHECK(name, !nat_alias_decode(u, &d) && sip_addr_eq(&a, &d), "decode");
	nat_alias_strip(u);
	T_CHECK(name, nat_alias_decode(u, &d) == -ENOENT, "strip");
	osip_uri_free(u);
	/* What the edge did not sign: none, or another address under our MAC. */
	osip_uri_init(&u);
	osip_uri_parse(u, "sip:alice@203.0.113.1;alias=10.0.0.2~5060~2");
	T_CHECK(name, nat_alias_decode(u, &d) == -EPERM, "unsigned alias accepted");
	osip_uri_free(u);
	{
		char uri[256];

		snprintf(uri, sizeof(uri), "sip:alice@203.0.113.1;alias=10.0.0.3~5060~2%s",
			 buf + 15);
		osip_uri_init(&u);
		osip_uri_parse(u, uri);
		T_CHECK(name, nat_alias_decode(u, &d) == -EPERM, "moved alias accepted");
		osip_uri_free(u);
	}
	osip_uri_init(&u);
	osip_uri_parse(u, "sip:alice@203.0.113.1;alias=10.0.0.2~99999~1");
	T_CHECK(name, nat_alias_decode(u, &d) == -EINVAL, "bad port accepted");
	osip_uri_free(u);
	osip_uri_init(&u);
	osip_uri_parse(u, "sip:alice@203.0.113.1;alias=evil.example~5060~1");
	T_CHECK(name, nat_alias_decode(u, &d) == -EINVAL, "name accepted");
	osip_uri_free(u);
	if (check_failed == before)
		T_PASS(name);
}

/* The core calls the client through its aliased Contact. */
static void test_call_to_alias(void)
{
	const char *name = "request_to_alias";
	int before = check_failed;
	struct sip_addr core = CORE;
	struct sent *fw;
	char inv[1024];

	setup("sip:198.51.100.10:5060", NULL);
	snprintf(inv, sizeof(inv),
		 L("INVITE sip:alice@203.0.113.1:5060;alias=%s SIP/2.0")
			 L("Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKcore1")
				 L("Max-Forwards: 69") L("From: <sip:carol@example.com>;tag=77")
					 L("To: <sip:alice@example.com>") L("Call-ID: core-call-1")
						 L("CSeq: 1 INVITE")
							 L("Contact: <sip:carol@198.51.100.10>")
								 L("Content-Length: 0") L(""),
		 alias_of("192.0.2.50", 40000, SIP_UDP));
	input(inv, &core);
	fw = find_req("INVITE");
	if (T_CHECK(name, fw && fw->msg, "not forwarded")) {
		char *ru = NULL;

		T_CHECK(name, addr_is(&fw->dst, "192.0.2.50", 40000), "not sent to the alias");
		osip_uri_to_str(fw->msg->req_uri, &ru);
		T_CHECK(name, ru && !strcmp(ru, "sip:alice@203.0.113.1:5060"), "R-URI %s", ru);
		osip_free(ru);
		/* The core's Contact is not aliased. */
		T_CHECK(name, !strcmp(contact_str(fw->msg), "<sip:carol@198.51.100.10>"),
			"Contact %s", contact_str(fw->msg));
	}
	if (check_failed == before)
		T_PASS(name);
}

static void test_domains(void)
{
	const char *name = "route_domains_403";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	char msg[2048], *p;
	struct sent *r, *fw;

	setup(NULL, "192.0.2.200,example.org");
	/* example.com is not served: 403, nothing relayed. */
	input(invite, &c);
	r = find_resp(403);
	T_CHECK(name, r && addr_is(&r->dst, "192.0.2.50", 40000), "no 403");
	T_CHECK(name, !find_req("INVITE"), "foreign domain relayed");
	/* An allowed domain goes to the Request-URI host. */
	setup(NULL, "192.0.2.200,example.org");
	snprintf(msg, sizeof(msg), "%s", invite);
	p = strstr(msg, "bob@example.com SIP");
	memcpy(p, "bob@192.0.2.200 SIP", 19);
	input(msg, &c);
	fw = find_req("INVITE");
	T_CHECK(name, fw && addr_is(&fw->dst, "192.0.2.200", 5060), "allowed domain not routed");
	/* A forged Route naming us does not open the relay for in-dialog requests. */
	setup(NULL, "192.0.2.200");
	input(L("BYE sip:victim@192.0.2.99 SIP/2.0")
		      L("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKf1")
			      L("Route: <sip:203.0.113.1:5060;lr>") L("From: <sip:a@b>;tag=1")
				      L("To: <sip:victim@192.0.2.99>;tag=2") L("Call-ID: forged")
					      L("CSeq: 2 BYE") L("Content-Length: 0") L(""),
	      &c);
	T_CHECK(name, find_resp(403) && !find_req("BYE"), "forged in-dialog request relayed");
	if (check_failed == before)
		T_PASS(name);
}

static const char cancel[] = L("CANCEL sip:bob@example.com SIP/2.0")
	L("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK776asdhds;rport") L("Max-Forwards: 70")
		L("To: Bob <sip:bob@example.com>")
			L("From: Alice <sip:alice@example.com>;tag=1928301774")
				L("Call-ID: " CALLID) L("CSeq: 314159 CANCEL")
					L("Content-Length: 0") L("");

static void test_branch(void)
{
	const char *name = "branch_stable";
	int before = check_failed;
	char b1[SIGD_BRANCH_LEN + 1], b2[SIGD_BRANCH_LEN + 1], b3[SIGD_BRANCH_LEN + 1],
		b4[SIGD_BRANCH_LEN + 1], msg[2048];
	osip_message_t *m;

	osip_message_init(&m);
	osip_message_parse(m, invite, strlen(invite));
	msg_branch(m, b1);
	osip_message_free(m);
	osip_message_init(&m);
	osip_message_parse(m, invite, strlen(invite));
	msg_branch(m, b2);
	osip_message_free(m);
	osip_message_init(&m);
	/* A CANCEL carries the INVITE's branch: it must map to the same one. */
	osip_message_parse(m, cancel, strlen(cancel));
	msg_branch(m, b3);
	osip_message_free(m);
	snprintf(msg, sizeof(msg), "%s", invite);
	memcpy(strstr(msg, "776asdhds"), "776asdhdX", 9);
	osip_message_init(&m);
	osip_message_parse(m, msg, strlen(msg));
	msg_branch(m, b4);
	osip_message_free(m);
	T_CHECK(name, !strcmp(b1, b2), "retransmission changed branch %s %s", b1, b2);
	T_CHECK(name, !strcmp(b1, b3), "CANCEL branch differs %s %s", b1, b3);
	T_CHECK(name, strcmp(b1, b4), "different transactions share %s", b1);
	T_CHECK(name, !strncmp(b1, "z9hG4bK", 7) && strlen(b1) == SIGD_BRANCH_LEN, "format %s", b1);
	if (check_failed == before)
		T_PASS(name);
}

static void test_retransmission(void)
{
	const char *name = "retransmission_absorbed";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	struct sent *fw, *ok;
	osip_message_t *fwd;

	setup("sip:198.51.100.10:5060", NULL);
	input(invite, &c);
	fw = find_req("INVITE");
	if (!T_CHECK(name, fw, "not forwarded"))
		return;
	osip_message_clone(fw->msg, &fwd);
	core_answers(&(struct sent){.msg = fwd}, 200, "bobtag");
	ok = find_resp(200);
	if (T_CHECK(name, ok && addr_is(&ok->dst, "192.0.2.50", 40000),
		    "200 not back to the client")) {
		T_CHECK(name, osip_list_size(&ok->msg->vias) == 1, "our Via not popped");
		T_CHECK(name, osip_list_size(&ok->msg->record_routes) == 1, "Record-Route lost");
	}
	reset();
	input(invite, &c);
	T_CHECK(name, count_req("INVITE") == 0, "retransmission forwarded again");
	T_CHECK(name, find_resp(200) && addr_is(&find_resp(200)->dst, "192.0.2.50", 40000),
		"200 not resent");
	T_CHECK(name, dlg_find(CALLID) && dlg_find(CALLID)->state == DLG_CONFIRMED,
		"dialog not confirmed");
	osip_message_free(fwd);
	if (check_failed == before)
		T_PASS(name);
}

static void test_cancel(void)
{
	const char *name = "cancel";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	struct sent *fw, *can, *ok;
	osip_message_t *fwd, *cfwd;
	char inv_branch[64];

	setup("sip:198.51.100.10:5060", NULL);
	input(invite, &c);
	fw = find_req("INVITE");
	if (!T_CHECK(name, fw, "not forwarded"))
		return;
	snprintf(inv_branch, sizeof(inv_branch), "%s", msg_via_branch(msg_top_via(fw->msg)));
	osip_message_clone(fw->msg, &fwd);
	core_answers(&(struct sent){.msg = fwd}, 180, "bobtag");
	reset();
	input(cancel, &c);
	ok = find_resp(200);
	can = find_req("CANCEL");
	T_CHECK(name,
		ok && ok->msg->cseq && !strcmp(ok->msg->cseq->method, "CANCEL") &&
			addr_is(&ok->dst, "192.0.2.50", 40000),
		"no 200 for the CANCEL");
	if (T_CHECK(name, can, "CANCEL not forwarded")) {
		T_CHECK(name, addr_is(&can->dst, "198.51.100.10", 5060),
			"CANCEL to the wrong place");
		T_CHECK(name, !strcmp(msg_via_branch(msg_top_via(can->msg)), inv_branch),
			"CANCEL branch %s != INVITE %s", msg_via_branch(msg_top_via(can->msg)),
			inv_branch);
		T_CHECK(name, osip_list_size(&can->msg->vias) == 1, "CANCEL has %d Vias",
			osip_list_size(&can->msg->vias));
		/* The core's 200 to our CANCEL stays with us. */
		osip_message_clone(can->msg, &cfwd);
		reset();
		core_answers(&(struct sent){.msg = cfwd}, 200, NULL);
		T_CHECK(name, nout == 0, "200 to our CANCEL was forwarded");
		osip_message_free(cfwd);
	}
	reset();
	core_answers(&(struct sent){.msg = fwd}, 487, "bobtag");
	T_CHECK(name, find_resp(487) && addr_is(&find_resp(487)->dst, "192.0.2.50", 40000),
		"487 not forwarded");
	T_CHECK(name, !dlg_find(CALLID), "dialog left after 487");
	osip_message_free(fwd);
	if (check_failed == before)
		T_PASS(name);
}

static void test_bad_input(void)
{
	const char *name = "bad_input";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	char junk[512];

	setup("sip:198.51.100.10:5060", NULL);
	input("garbage\r\n\r\n", &c);
	input("INVITE\r\n", &c);
	input("SIP/2.0 200\r\n\r\n", &c);
	for (unsigned int i = 0; i < sizeof(junk) - 1; i++)
		junk[i] = 1 + (i * 7919) % 255;
	junk[sizeof(junk) - 1] = 0;
	input(junk, &c);
	T_CHECK(name, nout == 0, "%d messages sent for garbage", nout);
	/* Parseable, no Call-ID or CSeq: 400 back to the Via. */
	input(L("OPTIONS sip:x@example.com SIP/2.0")
		      L("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKq") L("From: <sip:a@b>;tag=1")
			      L("To: <sip:x@example.com>") L("Content-Length: 0") L(""),
	      &c);
	T_CHECK(name, find_resp(400) && addr_is(&find_resp(400)->dst, "192.0.2.50", 40000),
		"no 400");
	T_CHECK(name, !find_req("OPTIONS"), "bad request forwarded");
	/* A response that is not ours is dropped. */
	reset();
	input(L("SIP/2.0 200 OK") L("Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKzz")
		      L("From: <sip:a@b>;tag=1") L("To: <sip:x@example.com>;tag=2") L("Call-ID: r1")
			      L("CSeq: 1 OPTIONS") L("Content-Length: 0") L(""),
	      &c);
	T_CHECK(name, nout == 0, "foreign response forwarded");
	if (check_failed == before)
		T_PASS(name);
}

/* In-dialog BYE from the core through our Record-Route, and dialog persistence. */
static void test_dialog_and_timeout(void)
{
	const char *name = "dialog_persist_timeout";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	char dir[] = "/tmp/xs-test-proxy-XXXXXX";
	struct sent *fw;
	osip_message_t *fwd;
	struct dialog *d;
	char path[512];

	setup("sip:198.51.100.10:5060", NULL);
	if (!mkdtemp(dir)) {
		T_FAIL(name, "mkdtemp");
		return;
	}
	snprintf(px.state_dir, sizeof(px.state_dir), "%s", dir);
	input(invite, &c);
	fw = find_req("INVITE");
	if (!T_CHECK(name, fw, "not forwarded"))
		return;
	osip_message_clone(fw->msg, &fwd);
	core_answers(&(struct sent){.msg = fwd}, 200, "bobtag");
	osip_message_free(fwd);
	/* A "restart" after the next tick's save: forget everything but the state file. */
	proxy_flush(&px);
	dlg_flush();
	txn_flush();
	T_CHECK(name, proxy_restore(&px) == 1, "dialog not restored");
	d = dlg_find(CALLID);
	if (T_CHECK(name, d, "dialog lost")) {
		T_CHECK(name,
			d->state == DLG_CONFIRMED && !strcmp(d->a.tag, "1928301774") &&
				!strcmp(d->b.tag, "bobtag"),
			"tags");
		T_CHECK(name, addr_is(&d->a.addr, "192.0.2.50", 40000) && d->a.client,
			"caller addr");
		T_CHECK(name, addr_is(&d->b.addr, "198.51.100.20", 5060), "callee addr");
		T_CHECK(name, !strcmp(d->a.target, "sip:alice@10.0.0.2:5060"), "caller target %s",
			d->a.target);
	}
	/* The caller moves (new NAT binding, new Contact) with a re-INVITE. */
	{
		struct sip_addr moved = addr("192.0.2.50", 40002);

		reset();
		input(L("INVITE sip:bob@198.51.100.20:5060 SIP/2.0")
			      L("Via: SIP/2.0/UDP 10.0.0.3:5060;branch=z9hG4bKreinv;rport") L(
				      "Route: <sip:203.0.113.1:5060;lr>") L("Max-Forwards: 70")
				      L("To: Bob <sip:bob@example.com>;tag=bobtag") L(
					      "From: Alice <sip:alice@example.com>;tag=1928301774")
					      L("Call-ID: " CALLID) L("CSeq: 314160 INVITE")
						      L("Contact: <sip:alice@10.0.0.3:5060>")
							      L("Content-Length: 0") L(""),
		      &moved);
		d = dlg_find(CALLID);
		T_CHECK(name,
			find_req("INVITE") &&
				addr_is(&find_req("INVITE")->dst, "198.51.100.20", 5060),
			"re-INVITE not routed");
		T_CHECK(name,
			d && addr_is(&d->a.addr, "192.0.2.50", 40002) &&
				!strcmp(d->a.target, "sip:alice@10.0.0.3:5060"),
			"target refresh");
	}
	reset();
	proxy_media_timeout(media_cookie(CALLID), &px);
	T_CHECK(name, count_req("BYE") == 2, "%d BYEs", count_req("BYE"));
	for (int i = 0; i < nout; i++) {
		osip_message_t *m = out[i].msg;
		char *ru = NULL;

		if (!m || !MSG_IS_REQUEST(m))
			continue;
		osip_uri_to_str(m->req_uri, &ru);
		if (addr_is(&out[i].dst, "192.0.2.50", 40002))
			T_CHECK(name,
				!strcmp(ru, "sip:alice@10.0.0.3:5060") &&
					!strcmp(msg_from_tag(m), "bobtag") &&
					!strcmp(msg_to_tag(m), "1928301774"),
				"BYE to caller: %s", out[i].buf);
		else
			T_CHECK(name,
				addr_is(&out[i].dst, "198.51.100.20", 5060) &&
					!strcmp(ru, "sip:bob@198.51.100.20:5060") &&
					!strcmp(msg_from_tag(m), "1928301774") &&
					!strcmp(m->cseq->number, "314161"),
				"BYE to callee: %s", out[i].buf);
		osip_free(ru);
	}
	T_CHECK(name, !dlg_find(CALLID), "dialog left after timeout");
	snprintf(path, sizeof(path), "%s/dialogs", dir);
	unlink(path);
	rmdir(dir);
	if (check_failed == before)
		T_PASS(name);
}

/* An in-dialog BYE from the core: our Route popped, sent to the client's alias. */
static void test_loose_route(void)
{
	const char *name = "loose_route_bye";
	int before = check_failed;
	struct sip_addr core = CORE;
	struct sent *fw;

	char bye[1024];

	setup("sip:198.51.100.10:5060", NULL);
	snprintf(bye, sizeof(bye),
		 L("BYE sip:alice@203.0.113.1:5060;alias=%s SIP/2.0")
			 L("Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bKb1")
				 L("Route: <sip:203.0.113.1:5060;lr>") L("Max-Forwards: 70")
					 L("From: <sip:bob@example.com>;tag=bobtag")
						 L("To: <sip:alice@example.com>;tag=1928301774")
							 L("Call-ID: other-call") L("CSeq: 5 BYE")
								 L("Content-Length: 0") L(""),
		 alias_of("192.0.2.50", 40000, SIP_UDP));
	input(bye, &core);
	fw = find_req("BYE");
	if (T_CHECK(name, fw, "not forwarded")) {
		T_CHECK(name, addr_is(&fw->dst, "192.0.2.50", 40000), "wrong destination");
		T_CHECK(name, osip_list_size(&fw->msg->routes) == 0, "our Route not popped");
	}
	if (check_failed == before)
		T_PASS(name);
}

static void test_register_binding(void)
{
	const char *name = "register_binding";
	int before = check_failed;
	struct sip_addr c = CLIENT, core = CORE, b;
	struct sent *fw;

	setup("sip:198.51.100.10:5060", NULL);
	input(L("REGISTER sip:example.com SIP/2.0") L(
		      "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKr1;rport") L("Max-Forwards: 70")
		      L("From: <sip:alice@example.com>;tag=r1") L("To: <sip:alice@example.com>")
			      L("Call-ID: reg-1") L("CSeq: 1 REGISTER")
				      L("Contact: <sip:alice@10.0.0.2:5060>;expires=600")
					      L("Content-Length: 0") L(""),
	      &c);
	fw = find_req("REGISTER");
	T_CHECK(name, fw && addr_is(&fw->dst, "198.51.100.10", 5060), "REGISTER not sent upstream");
	{
		char want[320];

		snprintf(want, sizeof(want), "%s;expires=600",
			 edge_contact("alice", "192.0.2.50", 40000, SIP_UDP));
		T_CHECK(name, fw && !strcmp(contact_str(fw->msg), want), "Contact %s",
			fw ? contact_str(fw->msg) : "");
	}
	T_CHECK(name, fw && osip_list_size(&fw->msg->record_routes) == 0, "REGISTER record-routed");
	/* Nothing is stored before the core accepts the REGISTER. */
	T_CHECK(name, binding_lookup("alice@example.com", &b), "binding before the core's 2xx");
	if (fw) {
		osip_message_t *reg;

		osip_message_clone(fw->msg, &reg);
		core_answers(&(struct sent){.msg = reg}, 200, "regtag");
		osip_message_free(reg);
	}
	T_CHECK(name, !binding_lookup("alice@example.com", &b) && addr_is(&b, "192.0.2.50", 40000),
		"no binding");
	T_CHECK(name, binding_lookup("alice", &b), "binding keyed by the user part alone");
	/* The core calls sip:alice@edge without alias: the binding routes it. */
	reset();
	input(L("INVITE sip:alice@203.0.113.1:5060 SIP/2.0")
		      L("Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKc9")
			      L("Max-Forwards: 70") L("From: <sip:bob@example.com>;tag=c9")
				      L("To: <sip:alice@example.com>") L("Call-ID: core-2")
					      L("CSeq: 1 INVITE")
						      L("Contact: <sip:bob@198.51.100.10>")
							      L("Content-Length: 0") L(""),
	      &core);
	fw = find_req("INVITE");
	T_CHECK(name, fw && addr_is(&fw->dst, "192.0.2.50", 40000), "not routed by binding");
	if (check_failed == before)
		T_PASS(name);
}

static void test_options_file(void)
{
	const char *name = "config_file";
	int before = check_failed;
	char path[] = "/tmp/xs-test-conf-XXXXXX";
	int fd = mkstemp(path);
	struct sigd_cfg c;
	char *argv[] = {"t", "--config", path, "--media-timeout", "30", NULL};
	FILE *f;

	if (fd < 0) {
		T_FAIL(name, "mkstemp");
		return;
	}
	f = fdopen(fd, "w");
	fputs("# comment\npublic-ip = 192.0.2.1\nlisten = 192.0.2.1:5070 # trailing\n"
	      "upstream = sip:198.51.100.10:5060\nrtp-ports = 30001-30999\nmedia-timeout = 90\n"
	      "strict-source = yes\nlatch-signalled-ip = yes\nlatch-window = 5\n"
	      "max-ports-per-source = 0\ndomains = a.example, b.example\ncore = 198.51.100.0/24\n",
	      f);
	fclose(f);
	T_CHECK(name, opts_load(&c, 5, argv) == 0, "load");
	T_CHECK(name,
		c.nlisten == 1 && c.listen[0].port == 5070 && c.rtp_min == 30002 &&
			c.rtp_max == 30999,
		"ports");
	T_CHECK(name, c.media_timeout == 30, "command line does not win: %u", c.media_timeout);
	T_CHECK(name,
		c.latch_sdp && c.latch_window == 5 && !c.source_ports && c.max_streams == 8 &&
			c.ndomains == 2 && !strcmp(c.domains[1], "b.example") && c.ncore == 1,
		"lists");
	f = fopen(path, "w");
	fputs("no-such-key = 1\n", f);
	fclose(f);
	T_CHECK(name, opts_load(&c, 3, argv) == -EINVAL, "unknown key accepted");
	unlink(path);
	if (check_failed == before)
		T_PASS(name);
}

static void test_tcp_frame(void)
{
	const char *name = "tcp_framing";
	int before = check_failed;
	static const char two[] = L("OPTIONS sip:a SIP/2.0") L("l: 4")
		L("") "abcd" L("OPTIONS sip:b SIP/2.0") L("Content-Length: 0") L("");

	T_CHECK(name,
		tp_frame(two, strlen(two)) == (ssize_t)(strlen(two) - 46) ||
			tp_frame(two, strlen(two)) > 0,
		"framing");
	T_CHECK(name, tp_frame(two, 30) == 0, "incomplete accepted");
	T_CHECK(name, tp_frame(two, strlen(L("OPTIONS sip:a SIP/2.0") L("l: 4") L("")) + 2) == 0,
		"short body accepted");
	T_CHECK(name,
		tp_frame(two, strlen(two)) ==
			(ssize_t)strlen(L("OPTIONS sip:a SIP/2.0") L("l: 4") L("") "abcd"),
		"first message length");
	if (check_failed == before)
		T_PASS(name);
}

/* A TCP client, a UDP core: two Record-Routes, our Via says UDP; OPTIONS to the edge answered. */
static void test_double_rr(void)
{
	const char *name = "double_record_route";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	struct sent *fw, *ok;
	char msg[2048], *rr0 = NULL, *rr1 = NULL;

	setup("sip:198.51.100.10:5060", NULL);
	c.proto = SIP_TCP;
	snprintf(msg, sizeof(msg), "%s", invite);
	memcpy(strstr(msg, "SIP/2.0/UDP"), "SIP/2.0/TCP", 11);
	input(msg, &c);
	fw = find_req("INVITE");
	if (T_CHECK(name, fw && osip_list_size(&fw->msg->record_routes) == 2,
		    "two Record-Routes")) {
		osip_record_route_to_str(osip_list_get(&fw->msg->record_routes, 0), &rr0);
		osip_record_route_to_str(osip_list_get(&fw->msg->record_routes, 1), &rr1);
		T_CHECK(name,
			strstr(rr0, ";transport=udp;lr>") && strstr(rr1, ";transport=tcp;lr>") &&
				route_uri_is_ours(&px.rc, fw->msg,
						  ((osip_record_route_t *)osip_list_get(
							   &fw->msg->record_routes, 0))
							  ->url) &&
				route_uri_is_ours(&px.rc, fw->msg,
						  ((osip_record_route_t *)osip_list_get(
							   &fw->msg->record_routes, 1))
							  ->url),
			"%s / %s", rr0, rr1);
		T_CHECK(name, !strcmp(msg_top_via(fw->msg)->protocol, "UDP"), "our Via transport");
		T_CHECK(name, fw->dst.proto == SIP_UDP, "sent over TCP");
		T_CHECK(name,
			strstr(contact_str(fw->msg), alias_of("192.0.2.50", 40000, SIP_TCP)) !=
				NULL,
			"TCP alias: %s", contact_str(fw->msg));
		osip_free(rr0);
		osip_free(rr1);
	}
	ok = find_resp(100);
	T_CHECK(name, ok && ok->dst.proto == SIP_TCP, "100 Trying not on the TCP connection");
	/* Keepalive OPTIONS to the edge itself. */
	reset();
	input(L("OPTIONS sip:203.0.113.1:5060 SIP/2.0")
		      L("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKo1")
			      L("From: <sip:a@b>;tag=1") L("To: <sip:203.0.113.1>")
				      L("Call-ID: ka1") L("CSeq: 1 OPTIONS") L("Content-Length: 0")
					      L(""),
	      &c);
	T_CHECK(name, find_resp(200) && nout == 1, "OPTIONS to the edge not answered locally");
	if (check_failed == before)
		T_PASS(name);
}

int main(void)
{
	xs_log_set_level(getenv("V") ? XS_LOG_DEBUG : XS_LOG_ERR);
	sigd_osip_init();
	test_via_rules();
	test_invite_forward();
	test_max_forwards();
	test_alias();
	test_call_to_alias();
	test_domains();
	test_branch();
	test_retransmission();
	test_cancel();
	test_bad_input();
	test_loose_route();
	test_register_binding();
	test_dialog_and_timeout();
	test_options_file();
	test_tcp_frame();
	test_double_rr();
	reset();
	return check_failed ? 1 : 0;
}
