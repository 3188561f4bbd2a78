// SPDX-License-Identifier: GPL-2.0-only
/*
 * The proxy's transaction and dialog state under attack, in process: forged
 * responses, table exhaustion from one source, timer C, Call-ID reuse,
 * CANCEL crossing a 2xx, a call taken over from a peer edge; each with the
 * legitimate call that must still work (state_test.h: the topology, a
 * private flow map for media anchoring).
 */
#include <signal.h>
#include "state_test.h"

static void test_forged_200(void)
{
	const char *name = "state_forged_200_not_next_hop";
	int f0 = check_failed;
	struct sip_addr c = CLIENT, core = CORE, att = ATTACKER,
			core_port = addr("198.51.100.10", 5999), core_tcp = CORE;
	osip_message_t *fw;
	struct dialog *d;
	uint64_t unmatched;

	setup(NULL);
	invite("forged-1", "ft1", "f1", &c, true);
	fw = took("INVITE");
	if (!T_CHECK(name, fw, "INVITE not forwarded"))
		return;
	unmatched = px.pol.refusals[POL_UNMATCHED_RESPONSE];
	reset();
	/* The attacker saw (or computed) the edge's branch: still not the next hop. */
	answer(fw, 200, "evil", &att, true);
	answer(fw, 200, "evil", &core_port, true);
	/* The core's address and port, another transport (the request went over UDP). */
	core_tcp.proto = SIP_TCP;
	answer(fw, 200, "evil", &core_tcp, true);
	d = dlg_find("forged-1");
	T_CHECK(name, nout == 0, "%d messages sent for forged 200s", nout);
	T_CHECK(name, d && d->state == DLG_EARLY, "forged 200 confirmed the dialog");
	T_CHECK(name, px.pol.refusals[POL_UNMATCHED_RESPONSE] == unmatched + 3,
		"unmatched responses not counted");
	/* The real answer from the next hop still goes through and confirms. */
	answer(fw, 180, "bob", &core, false);
	answer(fw, 200, "bob", &core, true);
	d = dlg_find("forged-1");
	T_CHECK(name, find_resp(200) && addr_is(&find_resp(200)->dst, "192.0.2.50", 40000),
		"real 200 not forwarded");
	T_CHECK(name, d && d->state == DLG_CONFIRMED && !strcmp(d->b.tag, "bob"),
		"real 200 did not confirm");
	osip_message_free(fw);
	end_media("forged-1");
	if (check_failed == f0)
		T_PASS(name);
}

/* A response names an internal host in its second Via: it is never sent there. */
static void test_forged_via(void)
{
	const char *name = "state_forged_response_via";
	int f0 = check_failed;
	struct sip_addr c = CLIENT, core = CORE, att = ATTACKER;
	char buf[2048], br[SIGD_BRANCH_LEN + 1];
	osip_message_t *fw;
	osip_via_t *v;

	setup(NULL);
	/* No transaction at all, a well-formed edge branch, Via 2 at an internal port. */
	msg_branch_random(br);
	snprintf(buf, sizeof(buf),
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 203.0.113.1:5060;branch=%s\r\n"
		 "Via: SIP/2.0/TCP 10.1.2.3:8080;branch=z9hG4bKx\r\n"
		 "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
		 "Call-ID: via-1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
		 br);
	input(buf, &att);
	input(buf, &core);
	T_CHECK(name, nout == 0, "unmatched response sent to %s", nout ? out[0].buf : "");
	/* A real transaction, the real next hop, a rewritten second Via: back to the source. */
	invite("via-2", "vt2", "v2", &c, false);
	fw = took("INVITE");
	if (!T_CHECK(name, fw, "INVITE not forwarded"))
		return;
	osip_via_init(&v);
	osip_via_parse(v, "SIP/2.0/TCP 10.1.2.3:8080;branch=z9hG4bKevil");
	osip_via_free(osip_list_get(&fw->vias, 1));
	osip_list_remove(&fw->vias, 1);
	osip_list_add(&fw->vias, v, 1);
	reset();
	answer(fw, 486, "bob", &core, false);
	T_CHECK(name,
		nout == 1 && addr_is(&out[0].dst, "192.0.2.50", 40000) &&
			out[0].dst.proto == SIP_UDP,
		"486 went to %s", nout ? "another address" : "nowhere");
	osip_message_free(fw);
	if (check_failed == f0)
		T_PASS(name);
}

/* A 2xx retransmission after the transaction is gone: only from the INVITE's next hop. */
static void test_stray_2xx(void)
{
	const char *name = "state_stray_2xx";
	int f0 = check_failed;
	struct sip_addr c = CLIENT, core = CORE, att = ATTACKER;
	osip_message_t *fw;

	setup(NULL);
	invite("stray-1", "st1", "s1", &c, false);
	fw = took("INVITE");
	if (!T_CHECK(name, fw, "INVITE not forwarded"))
		return;
	answer(fw, 200, "bob", &core, false);
	txn_flush(); /* a restart, or the transaction's linger is over */
	reset();
	answer(fw, 200, "bob", &att, false);
	answer(fw, 200, "other", &core, false);
	T_CHECK(name, nout == 0, "stray 2xx from elsewhere / other tag forwarded");
	answer(fw, 200, "bob", &core, false);
	T_CHECK(name, nout == 1 && addr_is(&out[0].dst, "192.0.2.50", 40000),
		"the callee's 2xx retransmission lost");
	osip_message_free(fw);
	if (check_failed == f0)
		T_PASS(name);
}

static void test_dialog_caps(void)
{
	const char *name = "state_dialog_caps";
	const char *extra[] = {"--max-dialogs-per-source", "3", "--max-dialogs", "5", NULL};
	int f0 = check_failed;
	struct sip_addr x = CLIENT, y = CLIENT2, z = addr("192.0.2.70", 5060), core = CORE;
	char cid[32], br[32];
	unsigned int fl;
	struct sent *r;

	setup(extra);
	for (int i = 0; i < 3; i++) {
		snprintf(cid, sizeof(cid), "cap-x%d", i);
		snprintf(br, sizeof(br), "cx%d", i);
		invite(cid, "cx", br, &x, true);
	}
	T_CHECK(name, dlg_count() == 3, "%u dialogs", dlg_count());
	fl = flows();
	reset();
	invite("cap-x3", "cx", "cx3", &x, true);
	r = find_resp(503);
	T_CHECK(name, r && addr_is(&r->dst, "192.0.2.50", 40000),
		"4th call from one source: no 503");
	T_CHECK(name, !find_req("INVITE") && !dlg_find("cap-x3") && flows() == fl,
		"4th call forwarded or anchored");
	T_CHECK(name, px.pol.refusals[POL_DIALOGS_PER_SOURCE] == 1, "not counted");
	/* Another source still gets through. */
	reset();
	invite("cap-y0", "cy", "cy0", &y, true);
	T_CHECK(name, find_req("INVITE") && dlg_find("cap-y0"), "other source refused");
	T_CHECK(name, !have_media || flows() > fl, "other source's call not anchored");
	invite("cap-z0", "cz", "cz0", &z, true);
	/* Full: 503 for everyone, the core too, and nothing forwarded unanchored. */
	reset();
	fl = flows();
	invite("cap-z1", "cz", "cz1", &z, true);
	/* The core routes by its own Request-URI. */
	input("INVITE sip:alice@192.0.2.50:40000 SIP/2.0\r\n"
	      "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKcap1\r\nMax-Forwards: 70\r\n"
	      "From: <sip:carol@example.com>;tag=c1\r\nTo: <sip:alice@example.com>\r\n"
	      "Call-ID: cap-core\r\nCSeq: 1 INVITE\r\nContact: <sip:carol@198.51.100.10>\r\n"
	      "Content-Length: 0\r\n\r\n",
	      &core);
	T_CHECK(name, !find_req("INVITE") && dlg_count() == 5 && flows() == fl,
		"INVITE forwarded into a full table");
	T_CHECK(name, nout == 2 && find_resp(503), "no 503 when full");
	T_CHECK(name, px.pol.refusals[POL_DIALOGS_FULL] == 2, "full not counted");
	/* A call ends: room again. */
	{
		osip_message_t *req;

		reset();
		invite("cap-x0", "cx", "cx0", &x, true); /* a retransmission: 100 again */
		txn_flush();
		dlg_del(dlg_find("cap-x0"));
		end_media("cap-x0");
		invite("cap-x4", "cx", "cx4", &x, true);
		req = took("INVITE");
		T_CHECK(name, req, "no room after a call ended");
		if (req)
			osip_message_free(req);
	}
	for (struct dialog *d = dlg_first(); d; d = d->next)
		end_media(d->call_id);
	if (check_failed == f0)
		T_PASS(name);
}

static void message(const char *br, const struct sip_addr *src)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "MESSAGE sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
		 "From: <sip:alice@example.com>;tag=m%s\r\nTo: <sip:bob@example.com>\r\n"
		 "Call-ID: msg-%s\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
		 br, br, br);
	input(buf, src);
}

/* Transactions: a per-source cap, and what a completed one still holds. */
static void test_txn_caps(void)
{
	const char *name = "state_txn_caps";
	const char *extra[] = {"--max-transactions-per-source", "4", NULL};
	int f0 = check_failed;
	struct sip_addr x = CLIENT, y = CLIENT2, core = CORE;
	char br[16];
	struct txn *t;
	osip_message_t *fw;

	setup(extra);
	for (int i = 0; i < 4; i++) {
		snprintf(br, sizeof(br), "tm%d", i);
		message(br, &x);
	}
	reset();
	message("tm4", &x);
	T_CHECK(name, find_resp(503) && !find_req("MESSAGE"), "5th request from one source passed");
	T_CHECK(name, px.pol.refusals[POL_TXNS_PER_SOURCE] == 1, "not counted");
	reset();
	message("ty0", &y);
	fw = took("MESSAGE");
	T_CHECK(name, fw, "other source refused");
	T_CHECK(name, txn_count_src(&x.ip) == 4 && txn_count_src(&y.ip) == 1, "per-source counts");
	/* Answered: the forwarded copy is freed, the transaction keeps only the response. */
	if (fw) {
		char b[SIGD_BRANCH_LEN + 1];

		snprintf(b, sizeof(b), "%s", msg_via_branch(msg_top_via(fw)));
		t = txn_find(b, "MESSAGE");
		T_CHECK(name, t && t->fwd, "pending transaction lost its request");
		answer(fw, 200, "m", &core, false);
		t = txn_find(b, "MESSAGE");
		T_CHECK(name, t && !t->fwd && t->resp, "completed transaction keeps its request");
		T_CHECK(name, t && t->expire_ms <= t->created_ms + TXN_LINGER_MS + 100,
			"linger past timer J");
		osip_message_free(fw);
	}
	if (check_failed == f0)
		T_PASS(name);
}

/* Timer C: a ringing INVITE is cancelled downstream, the caller gets 408, the dialog ends. */
static void test_timer_c(void)
{
	const char *name = "state_timer_c";
	int f0 = check_failed;
	struct sip_addr c = CLIENT, core = CORE;
	char b[SIGD_BRANCH_LEN + 1];
	osip_message_t *fw;
	struct txn *t;

	setup(NULL);
	invite("timerc-1", "tc", "tc1", &c, true);
	fw = took("INVITE");
	if (!T_CHECK(name, fw, "INVITE not forwarded"))
		return;
	answer(fw, 180, "bob", &core, false);
	snprintf(b, sizeof(b), "%s", msg_via_branch(msg_top_via(fw)));
	t = txn_find(b, "INVITE");
	if (T_CHECK(name, t, "transaction lost")) {
		t->expire_ms = 0;
		txn_resched(t);
	}
	reset();
	proxy_tick(&px);
	T_CHECK(name,
		find_req("CANCEL") && addr_is(&find_req("CANCEL")->dst, "198.51.100.10", 5060),
		"no CANCEL downstream");
	T_CHECK(name, find_resp(408) && addr_is(&find_resp(408)->dst, "192.0.2.50", 40000),
		"no 408 to the caller");
	T_CHECK(name, !dlg_find("timerc-1") && (!have_media || !flows()),
		"dialog or media left after timer C");
	/* The callee's 487 then is absorbed, not sent twice. */
	reset();
	answer(fw, 487, "bob", &core, false);
	T_CHECK(name, !find_resp(487), "487 after our 408 forwarded");
	osip_message_free(fw);
	/* An early dialog whose INVITE is gone is forgotten after DLG_EARLY_MAX_S. */
	invite("early-1", "e1", "e1", &c, false);
	txn_flush();
	dlg_find("early-1")->created -= DLG_EARLY_MAX_S + 1;
	px.last_poll_ms = 0;
	proxy_tick(&px);
	T_CHECK(name, !dlg_find("early-1"), "stale early dialog kept");
	if (check_failed == f0)
		T_PASS(name);
}

/* Another party's initial INVITE with a live call's Call-ID: 482, the call untouched. */
static void test_callid_reuse(void)
{
	const char *name = "state_callid_reuse";
	int f0 = check_failed;
	struct sip_addr c = CLIENT, att = ATTACKER, core = CORE;
	osip_message_t *fw;
	struct dialog *d;
	unsigned int fl;

	setup(NULL);
	invite("reuse-1", "owner", "r1", &c, true);
	fw = took("INVITE");
	if (!T_CHECK(name, fw, "INVITE not forwarded"))
		return;
	answer(fw, 200, "bob", &core, true);
	osip_message_free(fw);
	fl = flows();
	reset();
	invite("reuse-1", "thief", "r2", &att, true);
	invite("reuse-1", "thief", "r3", &c, true);
	invite("reuse-1", "owner", "r4", &att, true);
	d = dlg_find("reuse-1");
	T_CHECK(name, !find_req("INVITE"), "reused Call-ID forwarded");
	T_CHECK(name, find_resp(482) && px.pol.refusals[POL_CALL_ID_IN_USE] == 3, "no 482");
	T_CHECK(name,
		d && d->state == DLG_CONFIRMED && !strcmp(d->a.tag, "owner") &&
			addr_is(&d->a.addr, "192.0.2.50", 40000),
		"dialog overwritten");
	T_CHECK(name, flows() == fl, "media changed");
	/* In-dialog with the Call-ID and foreign tags: not this dialog's request. */
	reset();
	input("INVITE sip:alice@203.0.113.1:5060 SIP/2.0\r\n"
	      "Via: SIP/2.0/UDP 203.0.113.66:5060;branch=z9hG4bKre1;rport\r\n"
	      "Route: <sip:203.0.113.1:5060;lr>\r\nMax-Forwards: 70\r\n"
	      "From: <sip:bob@example.com>;tag=guess\r\nTo: <sip:alice@example.com>;tag=owner\r\n"
	      "Call-ID: reuse-1\r\nCSeq: 9 INVITE\r\nContact: <sip:x@203.0.113.66>\r\n"
	      "Content-Length: 0\r\n\r\n",
	      &att);
	d = dlg_find("reuse-1");
	T_CHECK(name,
		!find_req("INVITE") || !addr_is(&find_req("INVITE")->dst, "192.0.2.50", 40000),
		"foreign re-INVITE routed by the dialog");
	T_CHECK(name,
		d && addr_is(&d->b.addr, "198.51.100.20", 5060) &&
			!strcmp(d->b.target, "sip:bob@198.51.100.20:5060"),
		"leg B refreshed by a stranger");
	/* The owner's own BYE ends it. */
	reset();
	input("BYE sip:bob@198.51.100.20:5060 SIP/2.0\r\n"
	      "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKbye1;rport\r\n"
	      "Route: <sip:203.0.113.1:5060;lr>\r\nMax-Forwards: 70\r\n"
	      "From: <sip:alice@example.com>;tag=owner\r\nTo: <sip:bob@example.com>;tag=bob\r\n"
	      "Call-ID: reuse-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
	      &c);
	T_CHECK(name, find_req("BYE") && !dlg_find("reuse-1") && (!have_media || flows() < fl),
		"the owner's BYE did not end the call");
	if (check_failed == f0)
		T_PASS(name);
}

/* A CANCEL that crosses the 2xx leaves the answered call and its media alone. */
static void test_cancel_crossing(void)
{
	const char *name = "state_cancel_crossing_200";
	int f0 = check_failed;
	struct sip_addr c = CLIENT, att = ATTACKER, core = CORE;
	osip_message_t *fw;
	unsigned int fl;

	setup(NULL);
	invite("cross-1", "cr", "cr1", &c, true);
	fw = took("INVITE");
	if (!T_CHECK(name, fw, "INVITE not forwarded"))
		return;
	answer(fw, 180, "bob", &core, false);
	/* An outsider's CANCEL of the ringing call: 481, nothing cancelled. */
	reset();
	cancel("cross-1", "cr", "cr1", &att);
	T_CHECK(name, find_resp(481) && !find_req("CANCEL"), "stranger's CANCEL accepted");
	answer(fw, 200, "bob", &core, true);
	fl = flows();
	reset();
	cancel("cross-1", "cr", "cr1", &c);
	T_CHECK(name, find_resp(200) && !find_req("CANCEL"), "CANCEL after 200 forwarded");
	T_CHECK(name, dlg_find("cross-1") && dlg_find("cross-1")->state == DLG_CONFIRMED,
		"dialog lost");
	T_CHECK(name, !have_media || (fl > 0 && flows() == fl), "media ended by the CANCEL");
	osip_message_free(fw);
	end_media("cross-1");
	/* A CANCEL in time still ends the call, through the callee's 487. */
	setup(NULL);
	invite("cross-2", "cr", "cr2", &c, true);
	fw = took("INVITE");
	if (!T_CHECK(name, fw, "INVITE not forwarded"))
		return;
	answer(fw, 180, "bob", &core, false);
	reset();
	cancel("cross-2", "cr", "cr2", &c);
	T_CHECK(name, find_req("CANCEL"), "CANCEL not forwarded");
	answer(fw, 487, "bob", &core, false);
	T_CHECK(name, find_resp(487) && !dlg_find("cross-2") && (!have_media || !flows()),
		"487 did not end the call");
	osip_message_free(fw);
	if (check_failed == f0)
		T_PASS(name);
}

static void stuck(int sig)
{
	static const char m[] =
		"FAIL state_taken_over_bye: the save after a takeover never ended\n";

	if (write(1, m, sizeof(m) - 1) < 0)
		_exit(2);
	_exit(1);
}

/*
 * A call taken over from a peer edge (dlg_from_json(): its record, not a
 * replay) is the proxy's own: the next save journals it and returns, the
 * caller's BYE goes to the core, the 200 ends it, and the journal keeps
 * the other taken-over call. A copy of the record that dropped the
 * dialog's journal links once left the save looping for ever: media still
 * flowed in XDP, every SIP request after the takeover went unanswered.
 */
static void test_taken_over_bye(void)
{
	const char *name = "state_taken_over_bye";
	int f0 = check_failed;
	char da[] = "/tmp/xs-test-peer-XXXXXX", db[] = "/tmp/xs-test-standby-XXXXXX";
	const char *ea[] = {"--state-dir", da, NULL}, *eb[] = {"--state-dir", db, NULL};
	struct sip_addr c = CLIENT, c2 = CLIENT2, core = CORE;
	json_t *rec[2] = {NULL, NULL};
	osip_message_t *fw;
	struct dialog *d;
	char path[300];

	if (!T_CHECK(name, mkdtemp(da) && mkdtemp(db), "mkdtemp"))
		return;
	/* The peer edge: two answered calls. */
	setup(ea);
	for (int i = 0; i < 2; i++) {
		char cid[16], tag[16], br[16];

		snprintf(cid, sizeof(cid), "peer-%d", i);
		snprintf(tag, sizeof(tag), "pa%d", i);
		snprintf(br, sizeof(br), "pb%d", i);
		reset();
		invite(cid, tag, br, i ? &c2 : &c, false);
		fw = took("INVITE");
		if (!T_CHECK(name, fw, "INVITE %d not forwarded", i))
			return;
		answer(fw, 200, "bob", &core, false);
		osip_message_free(fw);
		d = dlg_find(cid);
		T_CHECK(name, d && d->state == DLG_CONFIRMED, "call %d not confirmed", i);
		rec[i] = d ? dlg_json(d) : NULL;
	}
	proxy_flush(&px);
	/* The standby: a call of its own, then the peer's records. */
	setup(eb);
	invite("own-1", "own", "ob1", &c, false);
	T_CHECK(name, dlg_find("own-1"), "own call not started");
	for (int i = 0; i < 2; i++)
		T_CHECK(name, rec[i] && !dlg_from_json(rec[i]), "record %d not taken", i);
	px.dirty = true; /* as proxy_save() after a takeover */
	signal(SIGALRM, stuck);
	alarm(5);
	proxy_flush(&px);
	alarm(0);
	T_CHECK(name, !dlg_pending(), "changes left after the save");
	reset();
	input("BYE sip:bob@198.51.100.20:5060 SIP/2.0\r\n"
	      "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKtbye1;rport\r\n"
	      "Route: <sip:203.0.113.1:5060;lr>\r\nMax-Forwards: 70\r\n"
	      "From: <sip:alice@example.com>;tag=pa0\r\nTo: <sip:bob@example.com>;tag=bob\r\n"
	      "Call-ID: peer-0\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
	      &c);
	fw = took("BYE");
	T_CHECK(name,
		fw && find_req("BYE") && addr_is(&find_req("BYE")->dst, "198.51.100.20", 5060),
		"the BYE of a taken-over call was not sent to the core");
	if (fw) {
		struct sip_addr callee = addr("198.51.100.20", 5060);

		answer(fw, 200, NULL, &callee, false);
		osip_message_free(fw);
	}
	T_CHECK(name, !dlg_find("peer-0"), "the BYE did not end the call");
	T_CHECK(name, find_resp(200), "the 200 to the BYE was not relayed (%d sent)", nout);
	alarm(5);
	proxy_flush(&px);
	alarm(0);
	/* What the standby journaled: its own call and the other taken-over one. */
	dlg_flush();
	T_CHECK(name, dlg_load(db) == 2 && dlg_find("peer-1") && dlg_find("own-1"),
		"%u dialogs in the standby's journal", dlg_count());
	dlg_flush();
	for (int i = 0; i < 2; i++)
		json_decref(rec[i]);
	snprintf(path, sizeof(path), "%s/dialogs", da);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dialogs", db);
	unlink(path);
	rmdir(da);
	rmdir(db);
	if (check_failed == f0)
		T_PASS(name);
}

int main(void)
{
	state_test_init();
	test_forged_200();
	test_forged_via();
	test_stray_2xx();
	test_dialog_caps();
	test_txn_caps();
	test_timer_c();
	test_callid_reuse();
	test_cancel_crossing();
	test_taken_over_bye();
	state_test_done();
	return check_failed ? 1 : 0;
}
