// SPDX-License-Identifier: GPL-2.0-only
/*
 * SDP offer/answer rewriting and relay flows on recorded messages
 * (tests/sip/data): basic call, hold and resume, a moving callee, late offer,
 * rtcp-mux, a=rtcp, two m-lines, port 0 and T.38, IPv6, malformed SDP.
 * Each scenario gets a fresh flow map and media context, so ports are known:
 * the first m-line gets 20000 (advertised to A) and 20002 (advertised to B).
 */
#include "sdp_test.h"

#define CALL1  "call-1@192.0.2.10"
#define ZERO   "0.0.0.0:0"
#define A_RTP  "192.0.2.10:49170"
#define A_RTCP "192.0.2.10:49171"
#define B_RTP  "198.51.100.20:3456"
#define B_RTCP "198.51.100.20:3457"

/* Rewrite @file from @from, expecting @want_err and, when 0, body @want. */
static int step(struct env *e, const char *name, const char *file, enum media_side from,
		const char *want)
{
	char *wire;
	int err, ok;

	err = rewrite_file(e->mc, file, from, &wire);
	if (err || !wire) {
		T_FAIL(name, "%s: media_rewrite %d (%s)", file, err, strerror(-err));
		free(wire);
		return 0;
	}
	ok = check_body(name, wire, want);
	free(wire);
	return ok;
}

static const char *const sdp_invite_to_b = L("v=0")
	L("o=alice 2890844526 2890844526 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
		L("t=0 0") L("m=audio 20002 RTP/AVP 0 8 101") L("a=rtpmap:0 PCMU/8000")
			L("a=rtpmap:8 PCMA/8000") L("a=rtpmap:101 telephone-event/8000")
				L("a=fmtp:101 0-15") L("a=sendrecv");

static const char *const sdp_answer_to_a =
	L("v=0") L("o=bob 1000 1000 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
		L("t=0 0") L("m=audio 20000 RTP/AVP 0 101") L("a=rtpmap:0 PCMU/8000")
			L("a=rtpmap:101 telephone-event/8000") L("a=fmtp:101 0-15") L("a=sendrecv");

/* A packet relayed both ways, as the XDP program would record it. */
static void fake_latch(int fd, uint16_t from_port, uint16_t rev_port, const char *peer,
		       uint16_t peer_port)
{
	struct xs_flow f, r;

	flow_get(fd, from_port, &f);
	inet_pton(AF_INET, peer, &f.peer_addr);
	f.peer_port = htons(peer_port);
	/* A packet from a new source within the window: the provisional latch moved. */
	f.flags = (f.flags | XS_FLOW_LATCHED) & ~XS_FLOW_PRELATCHED;
	f.packets = 10;
	f.bytes = 1720;
	f.last_seen_ns = boot_ns();
	flow_put(fd, from_port, &f);
	flow_get(fd, rev_port, &r);
	r.dst_addr = f.peer_addr;
	r.dst_port = f.peer_port;
	flow_put(fd, rev_port, &r);
}

static void test_basic_call(struct env *e)
{
	struct xs_flow f;
	char *wire, *orig;
	osip_message_t *m;
	int ok;

	ok = step(e, "sdp_invite_offer", "invite.sip", MEDIA_SIDE_A, sdp_invite_to_b) &&
	     check_flow("sdp_invite_offer", e->fd, 20000, ZERO, 20002, A_RTP, CALL1) &&
	     check_flow("sdp_invite_offer", e->fd, 20002, A_RTP, 20000, ZERO, CALL1) &&
	     check_flow("sdp_invite_offer", e->fd, 20001, ZERO, 20003, A_RTCP, CALL1) &&
	     check_flow("sdp_invite_offer", e->fd, 20003, A_RTCP, 20001, ZERO, CALL1) &&
	     T_CHECK("sdp_invite_offer", flows_count(e->fd) == 4, "%u flows", flows_count(e->fd)) &&
	     T_CHECK("sdp_invite_offer", media_calls(e->mc) == 1, "%u calls", media_calls(e->mc));
	if (ok)
		T_PASS("sdp_invite_offer");

	ok = step(e, "sdp_183_answer", "183.sip", MEDIA_SIDE_B, sdp_answer_to_a) &&
	     check_flow("sdp_183_answer", e->fd, 20000, B_RTP, 20002, A_RTP, CALL1) &&
	     check_flow("sdp_183_answer", e->fd, 20002, A_RTP, 20000, B_RTP, CALL1) &&
	     check_flow("sdp_183_answer", e->fd, 20001, B_RTCP, 20003, A_RTCP, CALL1) &&
	     check_flow("sdp_183_answer", e->fd, 20003, A_RTCP, 20001, B_RTCP, CALL1) &&
	     !flow_get(e->fd, 20000, &f) &&
	     /* No signalling source given: latched from the SDP address, pre-latched. */
	     T_CHECK("sdp_183_answer",
		     (f.flags & ~XS_FLOW_SIGD_MASK) ==
			     (XS_FLOW_LATCH | XS_FLOW_LATCHED | XS_FLOW_PRELATCHED),
		     "flags %#x", f.flags);
	if (ok)
		T_PASS("sdp_183_answer");

	/* Media flowed and A latched behind its NAT; the 200 must keep that. */
	fake_latch(e->fd, 20000, 20002, "192.0.2.77", 40000);
	ok = step(e, "sdp_200_keeps_latch", "200.sip", MEDIA_SIDE_B, sdp_answer_to_a) &&
	     check_flow("sdp_200_keeps_latch", e->fd, 20002, "192.0.2.77:40000", 20000, B_RTP,
			CALL1) &&
	     !flow_get(e->fd, 20000, &f) &&
	     T_CHECK("sdp_200_keeps_latch", f.packets == 10 && f.bytes == 1720, "counters lost") &&
	     T_CHECK("sdp_200_keeps_latch", f.flags & XS_FLOW_LATCHED, "latch lost") &&
	     T_CHECK("sdp_200_keeps_latch", flows_count(e->fd) == 4, "%u flows",
		     flows_count(e->fd));
	if (ok)
		T_PASS("sdp_200_keeps_latch");

	m = load_msg("ack.sip");
	orig = m ? msg_str(m) : NULL;
	if (m)
		osip_message_free(m);
	ok = T_CHECK("sdp_ack_no_body", rewrite_file(e->mc, "ack.sip", MEDIA_SIDE_A, &wire) == 0,
		     "rewrite failed") &&
	     T_CHECK("sdp_ack_no_body", wire && orig && !strcmp(wire, orig), "ACK changed");
	free(wire);
	free(orig);
	if (ok)
		T_PASS("sdp_ack_no_body");
}

static void test_hold_resume(struct env *e)
{
	struct xs_flow f;
	int ok;

	ok = step(e, "sdp_reinvite_hold", "reinvite_hold.sip", MEDIA_SIDE_A,
		  L("v=0") L("o=alice 2890844526 2890844527 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 0.0.0.0") L("t=0 0") L("m=audio 20002 RTP/AVP 0 8 101")
				  L("a=rtpmap:0 PCMU/8000") L("a=rtpmap:8 PCMA/8000")
					  L("a=rtpmap:101 telephone-event/8000")
						  L("a=fmtp:101 0-15") L("a=sendonly")) &&
	     /* Nothing is sent to A; A itself may still send (music on hold). */
	     check_flow("sdp_reinvite_hold", e->fd, 20002, ZERO, 20000, B_RTP, CALL1) &&
	     check_flow("sdp_reinvite_hold", e->fd, 20003, ZERO, 20001, B_RTCP, CALL1) &&
	     check_flow("sdp_reinvite_hold", e->fd, 20000, B_RTP, 20002, A_RTP, CALL1) &&
	     !flow_get(e->fd, 20000, &f) &&
	     T_CHECK("sdp_reinvite_hold", (f.flags & XS_FLOW_LATCHED) && f.packets == 10,
		     "A's latch or counters lost");
	ok = ok &&
	     step(e, "sdp_reinvite_hold", "200_hold.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1001 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20000 RTP/AVP 0 101")
				  L("a=rtpmap:0 PCMU/8000") L("a=rtpmap:101 telephone-event/8000")
					  L("a=fmtp:101 0-15") L("a=recvonly"));
	if (ok)
		T_PASS("sdp_reinvite_hold");

	ok = step(e, "sdp_reinvite_resume", "reinvite_resume.sip", MEDIA_SIDE_A,
		  L("v=0") L("o=alice 2890844526 2890844528 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20002 RTP/AVP 0 8 101")
				  L("a=rtpmap:0 PCMU/8000") L("a=rtpmap:8 PCMA/8000")
					  L("a=rtpmap:101 telephone-event/8000")
						  L("a=fmtp:101 0-15") L("a=sendrecv")) &&
	     /* Back to where A's NAT really is, not to its private address. */
	     check_flow("sdp_reinvite_resume", e->fd, 20002, "192.0.2.77:40000", 20000, B_RTP,
			CALL1) &&
	     check_flow("sdp_reinvite_resume", e->fd, 20003, A_RTCP, 20001, B_RTCP, CALL1) &&
	     step(e, "sdp_reinvite_resume", "200_resume.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1002 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20000 RTP/AVP 0 101")
				  L("a=rtpmap:0 PCMU/8000") L("a=rtpmap:101 telephone-event/8000")
					  L("a=fmtp:101 0-15") L("a=sendrecv"));
	if (ok)
		T_PASS("sdp_reinvite_resume");
}

/* The callee re-INVITEs from a new address with another codec. */
static void test_callee_moves(struct env *e)
{
	char pb[32];
	struct xs_flow f;
	int ok;

	fake_latch(e->fd, 20002, 20000, "198.51.100.20", 3456);
	ok = step(e, "sdp_reinvite_address_change", "reinvite_b_move.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1003 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20000 RTP/AVP 8")
				  L("a=rtpmap:8 PCMA/8000") L("a=sendrecv")) &&
	     check_flow("sdp_reinvite_address_change", e->fd, 20000, "198.51.100.21:4000", 20002,
			A_RTP, CALL1) &&
	     check_flow("sdp_reinvite_address_change", e->fd, 20001, "198.51.100.21:4001", 20003,
			A_RTCP, CALL1) &&
	     check_flow("sdp_reinvite_address_change", e->fd, 20002, "192.0.2.77:40000", 20000,
			"198.51.100.21:4000", CALL1) &&
	     !flow_get(e->fd, 20002, &f) &&
	     /* Its old latch is gone: pre-latched to the new SDP address (no source given). */
	     T_CHECK("sdp_reinvite_address_change",
		     (f.flags & XS_FLOW_PRELATCHED) &&
			     !strcmp(ep(pb, f.peer_addr, f.peer_port), "198.51.100.21:4000"),
		     "B's old latch kept after it moved") &&
	     T_CHECK("sdp_reinvite_address_change", f.packets == 10, "counters lost") &&
	     step(e, "sdp_reinvite_address_change", "200_b_move.sip", MEDIA_SIDE_A,
		  L("v=0") L("o=alice 2890844526 2890844529 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20002 RTP/AVP 8")
				  L("a=rtpmap:8 PCMA/8000") L("a=sendrecv")) &&
	     check_flow("sdp_reinvite_address_change", e->fd, 20002, "192.0.2.77:40000", 20000,
			"198.51.100.21:4000", CALL1);
	if (ok)
		T_PASS("sdp_reinvite_address_change");

	media_end(e->mc, CALL1);
	if (T_CHECK("sdp_bye_end", flows_count(e->fd) == 0, "%u flows left", flows_count(e->fd)) &&
	    T_CHECK("sdp_bye_end", media_calls(e->mc) == 0, "%u calls", media_calls(e->mc)))
		T_PASS("sdp_bye_end");
}

static void test_late_offer(void)
{
	const char *name = "sdp_late_offer", *id = "late-1@192.0.2.10";
	struct env e;
	char *wire;
	int ok;

	if (env_new(&e)) {
		T_FAIL(name, "setup");
		return;
	}
	ok = T_CHECK(name, rewrite_file(e.mc, "late_invite.sip", MEDIA_SIDE_A, &wire) == 0, "-") &&
	     T_CHECK(name, media_calls(e.mc) == 0 && flows_count(e.fd) == 0, "state without SDP");
	free(wire);
	ok = ok &&
	     step(&e, name, "late_200.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1000 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20000 RTP/AVP 0 101")
				  L("a=rtpmap:0 PCMU/8000") L("a=rtpmap:101 telephone-event/8000")
					  L("a=fmtp:101 0-15") L("a=sendrecv")) &&
	     check_flow(name, e.fd, 20002, ZERO, 20000, B_RTP, id) &&
	     check_flow(name, e.fd, 20000, B_RTP, 20002, ZERO, id) &&
	     step(&e, name, "late_ack.sip", MEDIA_SIDE_A, sdp_invite_to_b) &&
	     check_flow(name, e.fd, 20002, A_RTP, 20000, B_RTP, id) &&
	     check_flow(name, e.fd, 20000, B_RTP, 20002, A_RTP, id) &&
	     check_flow(name, e.fd, 20001, B_RTCP, 20003, A_RTCP, id) &&
	     check_flow(name, e.fd, 20003, A_RTCP, 20001, B_RTCP, id);
	if (ok)
		T_PASS(name);
	env_free(&e);
}

static void test_rtcp_mux(void)
{
	const char *id = "mux-1@192.0.2.10";
	struct env e;
	struct xs_flow f;
	int ok;

	if (env_new(&e)) {
		T_FAIL("sdp_rtcp_mux", "setup");
		return;
	}
	/* Offered only: RTCP may still come on +1 if the answer declines. */
	ok = step(&e, "sdp_rtcp_mux", "mux_invite.sip", MEDIA_SIDE_A,
		  L("v=0") L("o=alice 2890844526 1 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20002 RTP/AVP 0 8 101")
				  L("a=rtpmap:0 PCMU/8000") L("a=rtpmap:8 PCMA/8000")
					  L("a=rtpmap:101 telephone-event/8000")
						  L("a=fmtp:101 0-15") L("a=rtcp-mux")
							  L("a=sendrecv")) &&
	     T_CHECK("sdp_rtcp_mux", flows_count(e.fd) == 4, "offer: %u flows",
		     flows_count(e.fd)) &&
	     step(&e, "sdp_rtcp_mux", "mux_200.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
			  L("t=0 0") L("m=audio 20000 RTP/AVP 0 101") L("a=rtpmap:0 PCMU/8000")
				  L("a=rtpmap:101 telephone-event/8000") L("a=fmtp:101 0-15")
					  L("a=rtcp-mux") L("a=sendrecv")) &&
	     T_CHECK("sdp_rtcp_mux", flows_count(e.fd) == 2, "answer: %u flows",
		     flows_count(e.fd)) &&
	     T_CHECK("sdp_rtcp_mux", flow_get(e.fd, 20001, &f) == -ENOENT, "RTCP pinhole open") &&
	     check_flow("sdp_rtcp_mux", e.fd, 20000, B_RTP, 20002, A_RTP, id) &&
	     check_flow("sdp_rtcp_mux", e.fd, 20002, A_RTP, 20000, B_RTP, id);
	if (ok)
		T_PASS("sdp_rtcp_mux");
	env_free(&e);

	if (env_new(&e)) {
		T_FAIL("sdp_rtcp_mux_declined", "setup");
		return;
	}
	ok = step(&e, "sdp_rtcp_mux_declined", "mux_invite.sip", MEDIA_SIDE_A,
		  L("v=0") L("o=alice 2890844526 1 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20002 RTP/AVP 0 8 101")
				  L("a=rtpmap:0 PCMU/8000") L("a=rtpmap:8 PCMA/8000")
					  L("a=rtpmap:101 telephone-event/8000")
						  L("a=fmtp:101 0-15") L("a=rtcp-mux")
							  L("a=sendrecv")) &&
	     step(&e, "sdp_rtcp_mux_declined", "nomux_200.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
			  L("t=0 0") L("m=audio 20000 RTP/AVP 0 101") L("a=rtpmap:0 PCMU/8000")
				  L("a=rtpmap:101 telephone-event/8000") L("a=fmtp:101 0-15")
					  L("a=sendrecv")) &&
	     T_CHECK("sdp_rtcp_mux_declined", flows_count(e.fd) == 4, "%u flows",
		     flows_count(e.fd)) &&
	     check_flow("sdp_rtcp_mux_declined", e.fd, 20001, B_RTCP, 20003, A_RTCP, id);
	if (ok)
		T_PASS("sdp_rtcp_mux_declined");
	env_free(&e);
}

static void test_rtcp_attr(void)
{
	const char *name = "sdp_rtcp_attribute", *id = "rtcp-1@192.0.2.10";
	struct env e;
	int ok;

	if (env_new(&e)) {
		T_FAIL(name, "setup");
		return;
	}
	ok = step(&e, name, "rtcp_invite.sip", MEDIA_SIDE_A,
		  L("v=0") L("o=alice 2890844526 1 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20002 RTP/AVP 0 8 101")
				  L("a=rtpmap:0 PCMU/8000") L("a=rtpmap:8 PCMA/8000") L(
					  "a=rtpmap:101 telephone-event/8000") L("a=fmtp:101 0-15")
					  L("a=rtcp:20003 IN IP4 203.0.113.1") L("a=sendrecv")) &&
	     check_flow(name, e.fd, 20001, ZERO, 20003, "192.0.2.11:53020", id) &&
	     check_flow(name, e.fd, 20003, "192.0.2.11:53020", 20001, ZERO, id) &&
	     step(&e, name, "rtcp_200.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
			  L("t=0 0") L("m=audio 20000 RTP/AVP 0 101") L("a=rtpmap:0 PCMU/8000")
				  L("a=rtpmap:101 telephone-event/8000") L("a=fmtp:101 0-15")
					  L("a=rtcp:20001") L("a=sendrecv")) &&
	     check_flow(name, e.fd, 20001, "198.51.100.20:5000", 20003, "192.0.2.11:53020", id) &&
	     check_flow(name, e.fd, 20003, "192.0.2.11:53020", 20001, "198.51.100.20:5000", id) &&
	     check_flow(name, e.fd, 20000, B_RTP, 20002, A_RTP, id);
	if (ok)
		T_PASS(name);
	env_free(&e);
}

static const char *const sdp_av_to_b = L("v=0") L("o=alice 2890844526 1 IN IP4 203.0.113.1")
	L("s=-") L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20002 RTP/AVP 0")
		L("a=rtpmap:0 PCMU/8000") L("m=video 20006 RTP/AVP 31") L("c=IN IP4 203.0.113.1")
			L("a=rtpmap:31 H261/90000");

static void test_two_mlines(void)
{
	const char *id = "av-1@192.0.2.10";
	struct env e;
	struct xs_flow f;
	int ok;

	if (env_new(&e)) {
		T_FAIL("sdp_two_mlines", "setup");
		return;
	}
	ok = step(&e, "sdp_two_mlines", "av_invite.sip", MEDIA_SIDE_A, sdp_av_to_b) &&
	     T_CHECK("sdp_two_mlines", flows_count(e.fd) == 8, "%u flows", flows_count(e.fd)) &&
	     step(&e, "sdp_two_mlines", "av_200.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
			  L("t=0 0") L("m=audio 20000 RTP/AVP 0") L("a=rtpmap:0 PCMU/8000")
				  L("m=video 20004 RTP/AVP 31") L("a=rtpmap:31 H261/90000")) &&
	     check_flow("sdp_two_mlines", e.fd, 20000, B_RTP, 20002, A_RTP, id) &&
	     check_flow("sdp_two_mlines", e.fd, 20004, "198.51.100.20:3458", 20006,
			"192.0.2.12:51372", id) &&
	     check_flow("sdp_two_mlines", e.fd, 20006, "192.0.2.12:51372", 20004,
			"198.51.100.20:3458", id) &&
	     check_flow("sdp_two_mlines", e.fd, 20007, "192.0.2.12:51373", 20005,
			"198.51.100.20:3459", id);
	if (ok)
		T_PASS("sdp_two_mlines");
	env_free(&e);

	if (env_new(&e)) {
		T_FAIL("sdp_port0_rejected", "setup");
		return;
	}
	ok = step(&e, "sdp_port0_rejected", "av_invite.sip", MEDIA_SIDE_A, sdp_av_to_b) &&
	     step(&e, "sdp_port0_rejected", "av_200_novideo.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
			  L("t=0 0") L("m=audio 20000 RTP/AVP 0") L("a=rtpmap:0 PCMU/8000")
				  L("m=video 0 RTP/AVP 31")) &&
	     T_CHECK("sdp_port0_rejected", flows_count(e.fd) == 4, "%u flows", flows_count(e.fd)) &&
	     T_CHECK("sdp_port0_rejected", flow_get(e.fd, 20004, &f) == -ENOENT, "video flow left");
	if (ok)
		T_PASS("sdp_port0_rejected");

	/* Fax: the callee switches to T.38 (audio to port 0, image added). */
	ok = step(&e, "sdp_t38_image", "t38_reinvite.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 2 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
			  L("t=0 0") L("m=audio 0 RTP/AVP 0") L("m=image 20008 udptl t38")
				  L("a=T38FaxVersion:0") L("a=T38FaxRateManagement:transferredTCF")
					  L("a=T38FaxUdpEC:t38UDPRedundancy")) &&
	     T_CHECK("sdp_t38_image", flow_get(e.fd, 20000, &f) == -ENOENT, "audio flow left") &&
	     check_flow("sdp_t38_image", e.fd, 20010, ZERO, 20008, "198.51.100.20:5004", id) &&
	     step(&e, "sdp_t38_image", "t38_200.sip", MEDIA_SIDE_A,
		  L("v=0") L("o=alice 2890844526 2 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 0 RTP/AVP 0")
				  L("m=image 20010 udptl t38") L("a=T38FaxVersion:0")
					  L("a=T38FaxRateManagement:transferredTCF")) &&
	     check_flow("sdp_t38_image", e.fd, 20008, "198.51.100.20:5004", 20010,
			"192.0.2.10:6004", id) &&
	     check_flow("sdp_t38_image", e.fd, 20010, "192.0.2.10:6004", 20008,
			"198.51.100.20:5004", id) &&
	     T_CHECK("sdp_t38_image", flows_count(e.fd) == 4, "%u flows", flows_count(e.fd));
	if (ok)
		T_PASS("sdp_t38_image");
	env_free(&e);
}

/*
 * An IPv6 caller: its SDP toward B says the edge's IPv4 address (media is
 * anchored on the IPv4-only edge), ICE is stripped, and no flow can send to
 * it (dst 0) until the XDP program latches an IPv4 source for it.
 */
static void test_ipv6(void)
{
	const char *name = "sdp_ipv6_c_line", *id = "v6-1@example.com";
	struct env e;
	int ok;

	if (env_new(&e)) {
		T_FAIL(name, "setup");
		return;
	}
	ok = step(&e, name, "v6_invite.sip", MEDIA_SIDE_A,
		  L("v=0") L("o=alice 7 7 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
			  L("t=0 0") L("m=audio 20002 RTP/AVP 0") L("a=rtpmap:0 PCMU/8000")
				  L("a=sendrecv")) &&
	     check_flow(name, e.fd, 20000, ZERO, 20002, ZERO, id) &&
	     check_flow(name, e.fd, 20002, ZERO, 20000, ZERO, id) &&
	     step(&e, name, "v6_200.sip", MEDIA_SIDE_B,
		  L("v=0") L("o=bob 1000 1 IN IP4 203.0.113.1") L("s=-") L("c=IN IP4 203.0.113.1")
			  L("t=0 0") L("m=audio 20000 RTP/AVP 0 101") L("a=rtpmap:0 PCMU/8000")
				  L("a=rtpmap:101 telephone-event/8000") L("a=fmtp:101 0-15")
					  L("a=sendrecv")) &&
	     check_flow(name, e.fd, 20000, B_RTP, 20002, ZERO, id) &&
	     check_flow(name, e.fd, 20002, ZERO, 20000, B_RTP, id);
	if (ok)
		T_PASS(name);
	env_free(&e);
}

/* TCP media (MSRP) cannot go through the UDP relay: rejected, not leaked. */
static void test_tcp_media(void)
{
	const char *name = "sdp_tcp_media_rejected";
	struct env e;
	int ok;

	if (env_new(&e)) {
		T_FAIL(name, "setup");
		return;
	}
	ok = step(&e, name, "tcp_invite.sip", MEDIA_SIDE_A,
		  L("v=0") L("o=alice 2890844526 1 IN IP4 203.0.113.1") L("s=-")
			  L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20002 RTP/AVP 0")
				  L("a=rtpmap:0 PCMU/8000") L("m=message 0 TCP/MSRP *")
					  L("a=accept-types:text/plain")
						  L("a=path:msrp://192.0.2.10:7394/jshA7we;tcp")) &&
	     T_CHECK(name, flows_count(e.fd) == 4, "%u flows", flows_count(e.fd));
	if (ok)
		T_PASS(name);
	env_free(&e);
}

static void test_malformed(void)
{
	static const char *const files[] = {"bad_garbage.sip",	  "bad_noc.sip",  "bad_port.sip",
					    "bad_port_alpha.sip", "bad_rtcp.sip", "bad_caddr.sip"};
	struct env e;
	unsigned int i;

	if (env_new(&e)) {
		T_FAIL("sdp_malformed", "setup");
		return;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char name[64], *orig = NULL, *wire = NULL;
		osip_message_t *m = load_msg(files[i]);
		int err;

		snprintf(name, sizeof(name), "sdp_malformed_%.*s", (int)(strlen(files[i]) - 4),
			 files[i]);
		if (!T_CHECK(name, m != NULL, "cannot load %s", files[i]))
			continue;
		orig = msg_str(m);
		osip_message_free(m);
		err = rewrite_file(e.mc, files[i], MEDIA_SIDE_A, &wire);
		if (T_CHECK(name, err == -EBADMSG, "got %d", err) &&
		    T_CHECK(name, wire && orig && !strcmp(wire, orig), "message changed") &&
		    T_CHECK(name, media_calls(e.mc) == 0 && flows_count(e.fd) == 0,
			    "state left behind"))
			T_PASS(name);
		free(orig);
		free(wire);
	}
	env_free(&e);
}

int main(int argc, char **argv)
{
	struct env e;

	parser_init();
	if (find_data(argv[0])) {
		T_FAIL("sdp_data", "tests/sip/data not found");
		return 1;
	}
	if (env_new(&e)) {
		T_SKIP("sdp", "cannot create a BPF hash map (%s): needs root", strerror(errno));
		return 0;
	}
	test_basic_call(&e);
	test_hold_resume(&e);
	test_callee_moves(&e);
	env_free(&e);

	test_late_offer();
	test_rtcp_mux();
	test_rtcp_attr();
	test_two_mlines();
	test_ipv6();
	test_tcp_media();
	test_malformed();
	return check_failed ? 1 : 0;
}
