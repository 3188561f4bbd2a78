// SPDX-License-Identifier: GPL-2.0-only
/*
 * A call taken over from a peer edge, in process, past its BYE (test_state.c
 * has that): the peer's proxy sets the call up on a flow map; the standby's
 * media state starts on the same map without taking the peer's flows for
 * its own, then takes the dialog record (dlg_from_json()) and the flows
 * (media_adopt()) as cluster_calls_poll() does. A re-INVITE with a new
 * caller port goes to the callee through the standby with the same relay
 * ports (the call stays anchored where its media already flows), and the
 * flow towards the caller follows the new port; when the media stops, the
 * standby's media timeout sends BYE to both legs and removes the flows.
 * The Redis transport and the address move are test_cluster_failover.sh's.
 */
#include "state_test.h"

static uint64_t peer_cookie;
static bool taken;

/* media_opts.foreign_cookie of the standby: the peer's call, until the takeover. */
static bool peer_call(uint64_t cookie)
{
	return !taken && cookie == peer_cookie;
}

static unsigned int sdp_port(const struct sent *s)
{
	const char *m = s && s->buf ? strstr(s->buf, "m=audio ") : NULL;

	return m ? (unsigned int)strtoul(m + 8, NULL, 10) : 0;
}

static const char reinvite_sdp[] = "v=0\r\no=alice 1 2 IN IP4 10.0.0.2\r\ns=-\r\n"
				   "c=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 49180 RTP/AVP 0\r\n";

static void reinvite(const struct sip_addr *src)
{
	char buf[4096];

	snprintf(buf, sizeof(buf),
		 "INVITE sip:bob@198.51.100.20:5060 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKtkre1;rport\r\n"
		 "Route: <sip:203.0.113.1:5060;lr>\r\nMax-Forwards: 70\r\n"
		 "From: <sip:alice@example.com>;tag=tka\r\nTo: <sip:bob@example.com>;tag=bob\r\n"
		 "Call-ID: tk-1\r\nCSeq: 2 INVITE\r\nContact: <sip:alice@10.0.0.2:5060>\r\n"
		 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(reinvite_sdp), reinvite_sdp);
	input(buf, src);
}

static void test_taken_over_call(void)
{
	const char *name = "takeover_reinvite_media_timeout";
	int f0 = check_failed;
	char da[] = "/tmp/xs-test-peer-XXXXXX", db[] = "/tmp/xs-test-standby-XXXXXX";
	const char *ea[] = {"--state-dir", da, NULL}, *eb[] = {"--state-dir", db, NULL};
	struct sip_addr c = CLIENT, core = CORE, callee = addr("198.51.100.20", 30000);
	struct media_ctx *peer_mc = env.mc, *mc = NULL;
	struct media_opts o = env.o;
	unsigned int to_core, to_client, fl, n = 0;
	struct sent *s;
	osip_message_t *fw;
	json_t *rec = NULL;
	char path[300], want[32];
	struct xs_flow f;

	callee.port = 5060;
	if (!T_CHECK(name, mkdtemp(da) && mkdtemp(db), "mkdtemp"))
		return;
	/* The peer edge: the call, answered, its relay ports in the offer and answer. */
	setup(ea);
	invite("tk-1", "tka", "tkb1", &c, true);
	s = find_req("INVITE");
	to_core = sdp_port(s);
	fw = took("INVITE");
	if (!T_CHECK(name, fw && to_core, "INVITE not forwarded with an anchored offer"))
		goto out;
	reset();
	answer(fw, 200, "bob", &core, true);
	osip_message_free(fw);
	to_client = sdp_port(find_resp(200));
	fl = flows();
	peer_cookie = media_cookie("tk-1");
	T_CHECK(name, to_client && fl == 4 && dlg_find("tk-1"), "answer %u, %u flows", to_client,
		fl);
	rec = dlg_find("tk-1") ? dlg_json(dlg_find("tk-1")) : NULL;
	proxy_flush(&px);
	/* The peer dies. The standby's media state on the same map: not its call yet. */
	o.foreign_cookie = peer_call;
	o.timeout_s = 1;
	mc = media_new(&o);
	if (!T_CHECK(name, mc && !media_calls(mc), "the standby took the peer's flows as its own"))
		goto out;
	env.mc = mc;
	setup(eb);
	T_CHECK(name, rec && !dlg_from_json(rec), "dialog record not taken");
	taken = true;
	T_CHECK(name, media_adopt(mc) == 1 && media_calls(mc) == 1, "media not adopted");
	/* A re-INVITE, the caller on a new port: same relay ports, the flow follows. */
	reset();
	reinvite(&c);
	s = find_req("INVITE");
	fw = took("INVITE");
	T_CHECK(name, s && addr_is(&s->dst, "198.51.100.20", 5060),
		"re-INVITE of the taken-over call not sent to the callee");
	T_CHECK(name, sdp_port(s) == to_core, "re-INVITE offer on relay port %u, not %u",
		sdp_port(s), to_core);
	if (fw) {
		reset();
		answer(fw, 200, NULL, &callee, true);
		osip_message_free(fw);
	}
	T_CHECK(name, find_resp(200) && sdp_port(find_resp(200)) == to_client,
		"re-INVITE answer not relayed on port %u", to_client);
	/* The callee's packets reach the edge on the port offered to it: they go to the new port. */
	if (T_CHECK(name, !flow_get(env.fd, to_core, &f), "no flow on %u", to_core))
		T_CHECK(name, ntohs(f.dst_port) == 49180 && ntohs(f.src_port) == to_client,
			"flow towards the caller: %s from %u", ep(want, f.dst_addr, f.dst_port),
			ntohs(f.src_port));
	T_CHECK(name, flows() == fl && dlg_find("tk-1"), "%u flows after the re-INVITE", flows());
	/* The media stops: the standby's timeout ends the call on both legs. */
	usleep(1200 * 1000);
	reset();
	media_poll(mc, proxy_media_timeout, &px);
	for (int i = 0; i < nout; i++)
		if (out[i].msg && MSG_IS_REQUEST(out[i].msg) && MSG_IS_BYE(out[i].msg) &&
		    (addr_is(&out[i].dst, "192.0.2.50", 40000) ||
		     addr_is(&out[i].dst, "198.51.100.20", 5060)))
			n++;
	T_CHECK(name, n == 2, "%u BYEs to the legs after the media timeout", n);
	T_CHECK(name, !dlg_find("tk-1") && !flows() && !media_calls(mc),
		"call left after the media timeout: %u flows", flows());
out:
	json_decref(rec);
	env.mc = peer_mc;
	media_free(mc);
	dlg_flush();
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
	if (have_media)
		test_taken_over_call();
	state_test_done();
	return check_failed ? 1 : 0;
}
