// SPDX-License-Identifier: GPL-2.0-only
/*
 * The edge acts only on what it issued: attacker's requests with forged
 * aliases, Route entries and responses, each refused with nothing sent to
 * the destination they ask for, and the legitimate flows next to them
 * (core -> client through a real alias, in-dialog requests through a signed
 * Record-Route, a dialog that outlives a key rotation). "Internal" is
 * 10.1.1.1:8080, behind the core; "outside" is 203.0.113.99.
 */
#include <errno.h>
#include "proxy_harness.h"
#include "sip/route.h"
#include "secret.h"

#define ATTACKER addr("192.0.2.66", 41000)

/* Was anything sent to @ip (any port, any transport)? */
static bool sent_to(const char *ip)
{
	struct sip_addr a = addr(ip, 1);

	for (int i = 0; i < nout; i++)
		if (out[i].dst.ip.v4.s_addr == a.ip.v4.s_addr)
			return true;
	return false;
}

static bool sent_tcp(void)
{
	for (int i = 0; i < nout; i++)
		if (out[i].dst.proto == SIP_TCP)
			return true;
	return false;
}

/* A request @method from @tag to @ruri with extra header lines @extra (each ending CRLF). */
static void send_req(const char *method, const char *ruri, const char *callid, const char *totag,
		     const char *extra, const char *contact, const struct sip_addr *src)
{
	char msg[4096];

	snprintf(msg, sizeof(msg),
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK%s%lx;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:mallory@example.com>;tag=m1\r\n"
		 "To: <sip:victim@example.com>%s%s\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 7 %s\r\n"
		 "%s%s%s%s"
		 "Content-Length: 0\r\n\r\n",
		 method, ruri, method, random(), totag ? ";tag=" : "", totag ? totag : "", callid,
		 method, extra ? extra : "", contact ? "Contact: " : "", contact ? contact : "",
		 contact ? "\r\n" : "");
	input(msg, src);
}

/* Forged aliases in the Request-URI: internal host, outside host, TCP to an internal port. */
static void test_forged_alias(void)
{
	const char *name = "trust_forged_alias";
	int before = check_failed;
	struct sip_addr m = ATTACKER;
	char ruri[256], good[64];
	static const char *const forged[] = {
		"10.1.1.1~8080~1",		    /* unsigned, internal */
		"203.0.113.99~5060~1",		    /* unsigned, outside */
		"10.1.1.1~8080~2",		    /* unsigned, TCP to an internal port */
		"10.1.1.1~8080~1~0123456789abcdef", /* a made-up MAC */
	};

	for (unsigned int up = 0; up < 2; up++) {
		for (unsigned int i = 0; i < sizeof(forged) / sizeof(*forged); i++) {
			/* With an upstream and without (allowed domains only), in dialog or not. */
			for (int dlg = 0; dlg < 2; dlg++) {
				setup(up ? "sip:198.51.100.10:5060" : NULL,
				      up ? NULL : "example.com");
				snprintf(ruri, sizeof(ruri), "sip:victim@203.0.113.1:5060;alias=%s",
					 forged[i]);
				send_req("MESSAGE", ruri, "fa-1", dlg ? "v1" : NULL,
					 dlg ? "Route: <sip:203.0.113.1:5060;lr>\r\n" : NULL, NULL,
					 &m);
				T_CHECK(name, !sent_to("10.1.1.1") && !sent_to("203.0.113.99"),
					"alias %s (upstream %u, in dialog %d) followed", forged[i],
					up, dlg);
				T_CHECK(name, !sent_tcp(), "TCP opened for alias %s", forged[i]);
			}
		}
	}
	/* An alias signed for another address does not carry over. */
	setup(NULL, "example.com");
	snprintf(good, sizeof(good), "%s", alias_of("192.0.2.50", 40000, SIP_UDP));
	snprintf(ruri, sizeof(ruri), "sip:victim@203.0.113.1:5060;alias=10.1.1.1~8080~1%s",
		 strchr(strchr(strchr(good, '~') + 1, '~') + 1, '~'));
	send_req("MESSAGE", ruri, "fa-2", NULL, NULL, NULL, &m);
	T_CHECK(name, !sent_to("10.1.1.1") && find_resp(403), "transplanted MAC followed");
	if (check_failed == before)
		T_PASS(name);
}

/* A client INVITE answered by the core: a live dialog with our signed Record-Route. */
static struct sent *establish(const char *callid, char *rr, size_t rrlen)
{
	struct sip_addr c = CLIENT;
	osip_message_t *fwd;
	struct sent *fw;
	char *s = NULL;

	send_req("INVITE", "sip:bob@example.com", callid, NULL, NULL, "<sip:alice@10.0.0.2:5060>",
		 &c);
	fw = find_req("INVITE");
	if (!fw || !fw->msg || !osip_list_size(&fw->msg->record_routes))
		return NULL;
	osip_record_route_to_str(osip_list_get(&fw->msg->record_routes, 0), &s);
	snprintf(rr, rrlen, "%s", s ? s : "");
	osip_free(s);
	osip_message_clone(fw->msg, &fwd);
	core_answers(&(struct sent){.msg = fwd}, 200, "bobtag");
	osip_message_free(fwd);
	return find_resp(200);
}

/* Route entries: a second one after ours, one naming the edge without our MAC, ours copied. */
static void test_forged_route(void)
{
	const char *name = "trust_forged_route";
	int before = check_failed;
	struct sip_addr m = ATTACKER;
	char rr[256], extra[512];

	setup("sip:198.51.100.10:5060", NULL);
	/* The attacker's own call gives it a genuine Record-Route for that Call-ID. */
	if (!T_CHECK(name, establish("own-call", rr, sizeof(rr)), "no call of its own"))
		return;
	/*
	 * 1. Ours, then a second entry towards an internal host: the request
	 * goes by the dialog's route set (none here) to its remote target, the
	 * core's Contact; the client's entry is not passed on.
	 */
	reset();
	snprintf(extra, sizeof(extra), "Route: %s\r\nRoute: <sip:10.1.1.1:8080;lr>\r\n", rr);
	send_req("MESSAGE", "sip:bob@198.51.100.20:5060", "own-call", "bobtag", extra, NULL, &m);
	T_CHECK(name,
		!sent_to("10.1.1.1") && find_req("MESSAGE") &&
			addr_is(&find_req("MESSAGE")->dst, "198.51.100.20", 5060) &&
			!osip_list_size(&find_req("MESSAGE")->msg->routes),
		"second Route entry followed or passed on");
	reset();
	snprintf(extra, sizeof(extra),
		 "Route: %s\r\nRoute: <sip:10.1.1.1:8080;transport=tcp;lr>\r\n", rr);
	send_req("INFO", "sip:bob@10.1.1.1:8080;transport=tcp", "own-call", "bobtag", extra, NULL,
		 &m);
	T_CHECK(name, !sent_to("10.1.1.1") && !sent_tcp(), "TCP to an internal port opened");
	/* 2. Our entry, copied into another Call-ID with no dialog: no standing. */
	reset();
	snprintf(extra, sizeof(extra), "Route: %s\r\n", rr);
	send_req("MESSAGE", "sip:victim@10.1.1.1:8080", "no-such-call", "x1", extra, NULL, &m);
	T_CHECK(name, !sent_to("10.1.1.1"), "copied Record-Route followed");
	/* 3. A Route naming the edge with no MAC, a To tag and no dialog. */
	reset();
	send_req("MESSAGE", "sip:victim@203.0.113.99", "forged-2", "x2",
		 "Route: <sip:203.0.113.1:5060;lr>\r\n", NULL, &m);
	T_CHECK(name, !sent_to("203.0.113.99"), "forged in-dialog request relayed outside");
	/* ...out of dialog, with a pre-loaded route beyond the edge: the upstream gets no Route. */
	reset();
	send_req("MESSAGE", "sip:victim@example.com", "forged-3", NULL,
		 "Route: <sip:203.0.113.1:5060;lr>\r\nRoute: <sip:10.1.1.1:8080;lr>\r\n", NULL, &m);
	T_CHECK(name,
		!sent_to("10.1.1.1") && find_req("MESSAGE") &&
			addr_is(&find_req("MESSAGE")->dst, "198.51.100.10", 5060) &&
			!osip_list_size(&find_req("MESSAGE")->msg->routes),
		"pre-loaded Route passed on to the core");
	/*
	 * 4. The Request-URI names the edge, no alias, no registration: in a
	 * dialog (its Call-ID and both its tags), only that dialog's other leg
	 * (a UA that ignored our Record-Route), nowhere else; with the Call-ID
	 * and a To tag that is not the dialog's, not even there.
	 */
	reset();
	snprintf(extra, sizeof(extra), "Route: %s\r\n", rr);
	send_req("MESSAGE", "sip:nobody@203.0.113.1:5060", "own-call", "bobtag", extra, NULL, &m);
	T_CHECK(name,
		find_req("MESSAGE") && addr_is(&find_req("MESSAGE")->dst, "198.51.100.20", 5060),
		"R-URI naming the edge in a dialog: not to its other leg");
	reset();
	send_req("MESSAGE", "sip:nobody@203.0.113.1:5060", "own-call", "zz", extra, NULL, &m);
	T_CHECK(name, !find_req("MESSAGE") && find_resp(404),
		"R-URI naming the edge, foreign To tag: routed by the dialog");
	/* 5. Same without any dialog: refused (domains mode, nothing else to go to). */
	setup(NULL, "example.com");
	send_req("MESSAGE", "sip:nobody@203.0.113.1:5060", "forged-4", "zz",
		 "Route: <sip:203.0.113.1:5060;lr>\r\n", NULL, &m);
	T_CHECK(name, nout == 1 && find_resp(404), "R-URI naming the edge without dialog");
	if (check_failed == before)
		T_PASS(name);
}

/* Does the request @s carry @what anywhere (its Request-URI or a header)? */
static bool carries(const struct sent *s, const char *what)
{
	char *buf = NULL;
	size_t len;
	bool found;

	if (!s || msg_serialize(s->msg, &buf, &len))
		return false;
	found = strstr(buf, what) != NULL;
	osip_free(buf);
	return found;
}

/*
 * A dialog through a core proxy (its Record-Route above ours): the
 * client's in-dialog requests go by the route set and remote target the
 * dialog learned from the 2xx. Route entries the client adds after the
 * proxy's and a Request-URI of its own never reach the proxy, which would
 * follow them; the legitimate requests (with the route set, or from a UA
 * that ignored it) arrive as a compliant UA would send them.
 */
static void test_route_set_bound(void)
{
	const char *name = "trust_route_set_bound";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	osip_record_route_t *proxy_rr;
	char rr[256], extra[768];
	osip_message_t *fwd;
	struct sent *fw;
	char *s = NULL;

	setup("sip:198.51.100.10:5060", NULL);
	send_req("INVITE", "sip:bob@example.com", "rs-1", NULL, NULL, "<sip:alice@10.0.0.2:5060>",
		 &c);
	fw = find_req("INVITE");
	if (!T_CHECK(name, fw && osip_list_size(&fw->msg->record_routes), "INVITE not forwarded"))
		return;
	osip_record_route_to_str(osip_list_get(&fw->msg->record_routes, 0), &s);
	snprintf(rr, sizeof(rr), "%s", s ? s : "");
	osip_free(s);
	/* The core proxy adds its own Record-Route above ours; the callee answers. */
	osip_message_clone(fw->msg, &fwd);
	osip_record_route_init(&proxy_rr);
	osip_record_route_parse(proxy_rr, "<sip:198.51.100.10;lr>");
	osip_list_add(&fwd->record_routes, proxy_rr, 0);
	core_answers(&(struct sent){.msg = fwd}, 200, "bobtag");
	osip_message_free(fwd);
	if (!T_CHECK(name, find_resp(200), "call not answered"))
		return;

	/* The attacker's entries after the proxy's, and an internal Request-URI. */
	reset();
	snprintf(extra, sizeof(extra),
		 "Route: %s\r\nRoute: <sip:198.51.100.10;lr>\r\n"
		 "Route: <sip:10.1.1.1:8080;transport=tcp;lr>\r\n",
		 rr);
	send_req("MESSAGE", "sip:admin@10.1.1.1:8080", "rs-1", "bobtag", extra, NULL, &c);
	fw = find_req("MESSAGE");
	T_CHECK(name, fw && addr_is(&fw->dst, "198.51.100.10", 5060), "not sent to the proxy");
	T_CHECK(name, fw && !carries(fw, "10.1.1.1"), "client's route or target passed on");
	T_CHECK(name,
		fw && osip_list_size(&fw->msg->routes) == 1 && fw->msg->req_uri &&
			!strcmp(fw->msg->req_uri->host, "198.51.100.20"),
		"route set or remote target not the dialog's");
	/* Only the proxy's entry, and a Request-URI elsewhere: the same. */
	reset();
	send_req("INFO", "sip:x@203.0.113.99", "rs-1", "bobtag",
		 "Route: <sip:198.51.100.10;lr>\r\n", NULL, &c);
	fw = find_req("INFO");
	T_CHECK(name,
		fw && !carries(fw, "203.0.113.99") && addr_is(&fw->dst, "198.51.100.10", 5060),
		"outside Request-URI passed on to the proxy");

	/* A UA that ignored the route set (sipp): it reaches the proxy all the same. */
	reset();
	send_req("INFO", "sip:bob@198.51.100.20:5060", "rs-1", "bobtag", NULL, NULL, &c);
	fw = find_req("INFO");
	T_CHECK(name,
		fw && addr_is(&fw->dst, "198.51.100.10", 5060) &&
			osip_list_size(&fw->msg->routes) == 1,
		"request without the route set not routed by the dialog");
	/* The legitimate BYE, as a compliant UA sends it. */
	reset();
	snprintf(extra, sizeof(extra), "Route: %s\r\nRoute: <sip:198.51.100.10;lr>\r\n", rr);
	send_req("BYE", "sip:bob@198.51.100.20:5060", "rs-1", "bobtag", extra, NULL, &c);
	fw = find_req("BYE");
	T_CHECK(name,
		fw && addr_is(&fw->dst, "198.51.100.10", 5060) &&
			osip_list_size(&fw->msg->routes) == 1 &&
			carries(fw, "sip:bob@198.51.100.20"),
		"legitimate BYE not routed through the proxy");
	if (check_failed == before)
		T_PASS(name);
}

/* A response with our Via address and prefix but a branch the edge never made. */
static void test_forged_branch(void)
{
	const char *name = "trust_forged_branch";
	int before = check_failed;
	struct sip_addr m = ATTACKER;
	char br[SIGD_BRANCH_LEN + 1], resp[1024];
	osip_message_t *req;

	setup("sip:198.51.100.10:5060", NULL);
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/UDP "
		 "203.0.113.1:5060;branch=z9hG4bKxs0123456789abcdef0123456789abcdef\r\n"
		 "Via: SIP/2.0/TCP 10.1.1.1:8080;branch=z9hG4bKv\r\n"
		 "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: fb-1\r\n"
		 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	input(resp, &m);
	T_CHECK(name, nout == 0, "forged response relayed (%d sent)", nout);
	/* Ours verify, also after one rotation; a flipped digit does not. */
	osip_message_init(&req);
	osip_message_parse(req, resp, strlen(resp));
	msg_branch(req, br);
	T_CHECK(name, msg_branch_is_ours(br), "own branch %s rejected", br);
	secret_rotate(NULL);
	T_CHECK(name, msg_branch_is_ours(br), "own branch rejected after a rotation");
	br[SIGD_BRANCH_LEN - 1] ^= 1;
	T_CHECK(name, !msg_branch_is_ours(br), "tampered branch accepted");
	msg_branch_random(br);
	T_CHECK(name, msg_branch_is_ours(br), "random branch %s not ours", br);
	osip_message_free(req);
	if (check_failed == before)
		T_PASS(name);
}

/* The legitimate flows: REGISTER then a core call to the alias; BYE both ways; rotation. */
static void test_legit(void)
{
	const char *name = "trust_legit_flows";
	int before = check_failed;
	struct sip_addr c = CLIENT, core = CORE;
	char rr[256], extra[512], ruri[256], contact[256];
	osip_contact_t *ct;
	struct sent *fw;
	char *s = NULL;

	setup("sip:198.51.100.10:5060", NULL);
	send_req("REGISTER", "sip:example.com", "reg-9", NULL, NULL,
		 "<sip:alice@10.0.0.2:5060>;expires=600", &c);
	fw = find_req("REGISTER");
	if (!T_CHECK(name, fw && (ct = osip_list_get(&fw->msg->contacts, 0)), "no REGISTER"))
		return;
	osip_uri_to_str(ct->url, &s);
	snprintf(contact, sizeof(contact), "%s", s ? s : "");
	osip_free(s);
	/* The core calls the Contact it was given. */
	reset();
	send_req("INVITE", contact, "core-9", NULL, NULL, "<sip:carol@198.51.100.10>", &core);
	T_CHECK(name, find_req("INVITE") && addr_is(&find_req("INVITE")->dst, "192.0.2.50", 40000),
		"core -> client through the alias failed");
	/* A client call, then BYE from the client through our signed Record-Route. */
	setup("sip:198.51.100.10:5060", NULL);
	if (!T_CHECK(name, establish("call-9", rr, sizeof(rr)), "call not established"))
		return;
	reset();
	snprintf(extra, sizeof(extra), "Route: %s\r\n", rr);
	send_req("INFO", "sip:bob@198.51.100.20:5060", "call-9", "bobtag", extra, NULL, &c);
	T_CHECK(name,
		find_req("INFO") && addr_is(&find_req("INFO")->dst, "198.51.100.20", 5060) &&
			!osip_list_size(&find_req("INFO")->msg->routes),
		"in-dialog INFO through our Record-Route not routed");
	/* The key rotates mid-call: the dialog's Route and alias still verify. */
	snprintf(ruri, sizeof(ruri), "sip:alice@203.0.113.1:5060;alias=%s",
		 alias_of("192.0.2.50", 40000, SIP_UDP));
	secret_rotate(NULL);
	reset();
	send_req("INFO", ruri, "call-9", "1", extra, NULL, &core);
	T_CHECK(name, find_req("INFO") && addr_is(&find_req("INFO")->dst, "192.0.2.50", 40000),
		"core -> client after rotation");
	reset();
	send_req("BYE", "sip:bob@198.51.100.20:5060", "call-9", "bobtag", extra, NULL, &c);
	T_CHECK(name, find_req("BYE") && addr_is(&find_req("BYE")->dst, "198.51.100.20", 5060),
		"BYE through a Record-Route made before the rotation");
	/* Two rotations later the old key is gone: that alias is refused, not followed. */
	secret_rotate(NULL);
	reset();
	send_req("INFO", ruri, "call-9", "1", NULL, NULL, &core);
	T_CHECK(name, !find_req("INFO") && find_resp(403), "alias of a retired key followed");
	if (check_failed == before)
		T_PASS(name);
}

/* A transaction begun before a rotation: its retransmission and CANCEL still find it. */
static void test_rotation_txn(void)
{
	const char *name = "trust_rotation_transaction";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	char inv[1024], br[SIGD_BRANCH_LEN + 1];
	struct sent *fw;

	setup("sip:198.51.100.10:5060", NULL);
	snprintf(inv, sizeof(inv),
		 L("INVITE sip:bob@example.com SIP/2.0")
			 L("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKrot1;rport")
				 L("Max-Forwards: 70") L("From: <sip:alice@example.com>;tag=r1")
					 L("To: <sip:bob@example.com>") L("Call-ID: rot-1")
						 L("CSeq: 1 INVITE")
							 L("Contact: <sip:alice@10.0.0.2>")
								 L("Content-Length: 0") L(""));
	input(inv, &c);
	fw = find_req("INVITE");
	if (!T_CHECK(name, fw, "INVITE not forwarded"))
		return;
	snprintf(br, sizeof(br), "%s", msg_via_branch(msg_top_via(fw->msg)));
	secret_rotate(NULL);
	reset();
	input(inv, &c);
	T_CHECK(name, !find_req("INVITE"), "retransmission after a rotation forwarded again");
	reset();
	input(L("CANCEL sip:bob@example.com SIP/2.0")
		      L("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKrot1;rport")
			      L("Max-Forwards: 70") L("From: <sip:alice@example.com>;tag=r1")
				      L("To: <sip:bob@example.com>") L("Call-ID: rot-1")
					      L("CSeq: 1 CANCEL") L("Content-Length: 0") L(""),
	      &c);
	T_CHECK(name,
		find_req("CANCEL") &&
			!strcmp(msg_via_branch(msg_top_via(find_req("CANCEL")->msg)), br),
		"CANCEL after a rotation: %s", find_resp(481) ? "481" : "not forwarded");
	if (check_failed == before)
		T_PASS(name);
}

/* Contacts rebuilt from scratch: the fuzzer's cases and the ones that must pass. */
static void test_contact_rebuild(void)
{
	const char *name = "trust_contact_rebuild";
	int before = check_failed;
	struct sip_addr c = CLIENT;
	struct sent *fw;
	static const struct {
		const char *contact, *method;
		int contacts; /* forwarded with this many, or 0: refused with 400 */
	} cases[] = {
		/* Unbalanced quote and a comma in an unknown parameter: dropped, one Contact. */
		{"<sip:a@10.0.0.2>;x=\"unbal, <sip:evil@10.1.1.1>", "REGISTER", 1},
		/* ...in a kept parameter: refused. */
		{"<sip:a@10.0.0.2>;+sip.instance=\"unbal, <sip:evil@10.1.1.1>", "REGISTER", 0},
		{"<tel:+15551234>", "REGISTER", 0},
		{"<sip:a@10.0.0.2;%>;%", "INVITE", 1},
		{"*", "REGISTER", 1},
		{"*", "INVITE", 0},
		{"<sip:a%0d%0aX-Evil:%201@10.0.0.2>", "REGISTER", 0},
		{"<sip:a@10.0.0.2;ob>;+sip.instance=\"<urn:uuid:1>\";reg-id=1;expires=60, "
		 "<sip:b@10.0.0.3>;q=0.5",
		 "REGISTER", 2},
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char cid[32];

		setup("sip:198.51.100.10:5060", NULL);
		snprintf(cid, sizeof(cid), "ct-%u", i);
		send_req(cases[i].method, "sip:bob@example.com", cid, NULL, NULL, cases[i].contact,
			 &c);
		fw = find_req(cases[i].method);
		if (!cases[i].contacts) {
			T_CHECK(name, !fw && find_resp(400), "case %u (%s) not refused", i,
				cases[i].contact);
			continue;
		}
		if (!T_CHECK(name, fw && fw->msg, "case %u (%s) not forwarded", i,
			     cases[i].contact))
			continue;
		T_CHECK(name, osip_list_size(&fw->msg->contacts) == cases[i].contacts,
			"case %u: %d Contacts: %s", i, osip_list_size(&fw->msg->contacts), fw->buf);
		for (int k = 0; k < osip_list_size(&fw->msg->contacts); k++) {
			osip_contact_t *ct = osip_list_get(&fw->msg->contacts, k);
			struct sip_addr a;

			if (!ct->url && !strcmp(cases[i].contact, "*"))
				continue;
			T_CHECK(name,
				ct->url && sip_edge_is_uri(&px.rc.edge, ct->url) &&
					!nat_alias_decode(ct->url, &a) &&
					addr_is(&a, "192.0.2.50", 40000),
				"case %u: Contact %d not anchored: %s", i, k, fw->buf);
		}
	}
	if (check_failed == before)
		T_PASS(name);
}

/*
 * Contacts assembled from the pieces parsers trip on (quotes, commas,
 * brackets, escapes, empty parameters): whatever the edge forwards must have
 * every Contact naming the edge with our alias, or be a lone "*"; the rest
 * is refused. Bounded: 4000 messages.
 */
static void test_contact_mutations(void)
{
	const char *name = "trust_contact_mutations";
	int before = check_failed, fwd = 0, refused = 0;
	static const char *const piece[] = {
		"<",
		">",
		"\"",
		",",
		";",
		"%",
		"%0d%0a",
		"sip:",
		"sips:",
		"tel:",
		"a@",
		"10.0.0.2",
		"10.1.1.1",
		":8080",
		"=",
		"x",
		"+sip.instance",
		"expires",
		"q=0.5",
		";ob",
		" ",
		"\\",
		"*",
		";alias=10.1.1.1~8080~2",
		";transport=tcp",
		"@",
		"\"<urn:x>\"",
		"<sip:b@10.0.0.3>",
		";lr",
		"?h=v",
		"methods=\"INVITE, BYE\"",
	};
	unsigned int seed = 1;

	setup("sip:198.51.100.10:5060", NULL);
	for (int i = 0; i < 4000; i++) {
		char contact[512] = "", cid[32], ip[32];
		int n = 1 + (seed = seed * 1103515245 + 12345) % 12;
		struct sip_addr c;
		struct sent *fw;

		/* A source per message: the 400s must not get one source banned. */
		snprintf(ip, sizeof(ip), "172.20.%d.%d", i / 250, 1 + i % 250);
		c = addr(ip, 40000);

		if (i % 2)
			strcat(contact, "<sip:a@10.0.0.2");
		for (int k = 0; k < n; k++) {
			seed = seed * 1103515245 + 12345;
			strcat(contact, piece[(seed >> 8) % (sizeof(piece) / sizeof(*piece))]);
		}
		snprintf(cid, sizeof(cid), "mut-%d", i);
		reset();
		send_req("REGISTER", "sip:example.com", cid, NULL, NULL, contact, &c);
		fw = find_req("REGISTER");
		if (!fw) {
			refused++;
			continue;
		}
		fwd++;
		if (!T_CHECK(name, fw->msg, "forwarded REGISTER does not parse: %s", fw->buf))
			break;
		for (int k = 0; k < osip_list_size(&fw->msg->contacts); k++) {
			osip_contact_t *ct = osip_list_get(&fw->msg->contacts, k);
			struct sip_addr a;

			if (!ct->url && osip_list_size(&fw->msg->contacts) == 1)
				continue; /* "*" */
			if (!T_CHECK(name,
				     ct->url && sip_edge_is_uri(&px.rc.edge, ct->url) &&
					     !nat_alias_decode(ct->url, &a) && sip_addr_eq(&a, &c),
				     "Contact [%s] forwarded unanchored: %s", contact, fw->buf))
				break;
		}
		if (check_failed != before)
			break;
	}
	printf("# %d forwarded, %d refused or unparseable\n", fwd, refused);
	if (check_failed == before)
		T_PASS(name);
}

int main(void)
{
	xs_log_set_level(getenv("V") ? XS_LOG_DEBUG : XS_LOG_ERR);
	sigd_osip_init();
	srandom(1);
	test_forged_alias();
	test_forged_route();
	test_route_set_bound();
	test_forged_branch();
	test_legit();
	test_rotation_txn();
	test_contact_rebuild();
	test_contact_mutations();
	reset();
	return check_failed ? 1 : 0;
}
