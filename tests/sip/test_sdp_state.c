// SPDX-License-Identifier: GPL-2.0-only
/*
 * Media state around the SDP rewrite: port exhaustion and reuse, a new port
 * range on reload, a restart that rebuilds calls from the flow map, media
 * timeouts, SDP inside a multipart body, and a full relay flow table.
 */
#include "sdp_test.h"
#include "media/internal.h" /* the port allocator, to see what a refused call holds */

static int rewrite_ok(struct env *e, const char *name, const char *file, enum media_side from)
{
	char *wire;
	int err = rewrite_file(e->mc, file, from, &wire);

	free(wire);
	return T_CHECK(name, err == 0, "%s: %d (%s)", file, err, strerror(-err));
}

/* The m= port of the first m-line in the rewritten @file, or -1. */
static int rewritten_port(struct env *e, const char *file, enum media_side from)
{
	char *wire, *m;
	int port = -1;

	if (!rewrite_file(e->mc, file, from, &wire) && (m = strstr(wire, "\r\nm=")))
		sscanf(strchr(m, ' '), " %d", &port);
	free(wire);
	return port;
}

static void test_ports(void)
{
	struct env e;
	char *orig, *wire = NULL;
	osip_message_t *m;
	int err, ok;

	/* One RTP/RTCP pair: a call needs two (one toward each leg). */
	if (env_open(&e, 20000, 20001, 60)) {
		T_FAIL("sdp_enospc", "setup");
		return;
	}
	m = load_msg("invite.sip");
	orig = m ? msg_str(m) : NULL;
	if (m)
		osip_message_free(m);
	err = rewrite_file(e.mc, "invite.sip", MEDIA_SIDE_A, &wire);
	if (T_CHECK("sdp_enospc", err == -ENOSPC, "got %d", err) &&
	    T_CHECK("sdp_enospc", wire && orig && !strcmp(wire, orig), "message changed") &&
	    T_CHECK("sdp_enospc", media_calls(e.mc) == 0 && flows_count(e.fd) == 0,
		    "state left behind"))
		T_PASS("sdp_enospc");
	free(wire);
	free(orig);

	/* SIGHUP with a wider range: now it fits; a third call does not. */
	e.o.port_max = 20003;
	ok = T_CHECK("sdp_reconfigure_range", media_reconfigure(e.mc, &e.o) == 0, "reconfigure") &&
	     rewrite_ok(&e, "sdp_reconfigure_range", "invite.sip", MEDIA_SIDE_A) &&
	     T_CHECK("sdp_reconfigure_range", flows_count(e.fd) == 4, "%u flows",
		     flows_count(e.fd));
	if (ok)
		T_PASS("sdp_reconfigure_range");

	err = rewrite_file(e.mc, "mux_invite.sip", MEDIA_SIDE_A, &wire);
	free(wire);
	ok = T_CHECK("sdp_ports_freed_at_end", err == -ENOSPC, "second call got %d", err);
	media_end(e.mc, "call-1@192.0.2.10");
	ok = ok && rewrite_ok(&e, "sdp_ports_freed_at_end", "mux_invite.sip", MEDIA_SIDE_A) &&
	     T_CHECK("sdp_ports_freed_at_end", media_calls(e.mc) == 1, "%u calls",
		     media_calls(e.mc));
	if (ok)
		T_PASS("sdp_ports_freed_at_end");
	env_free(&e);
}

/* kill -9 and start again: the context goes, the flows stay. */
static int restart(struct env *e)
{
	media_free(e->mc);
	e->mc = media_new(&e->o);
	return e->mc != NULL;
}

static void test_restart(void)
{
	struct xs_flow f, latched;
	struct env e;
	int ok, port;

	if (env_new(&e)) {
		T_FAIL("sdp_restart_rebuild", "setup");
		return;
	}
	/* call-1: 20000/20002; av-1: 20004..20010; mux-1: 20012/20014. */
	ok = rewrite_ok(&e, "sdp_restart_rebuild", "invite.sip", MEDIA_SIDE_A) &&
	     rewrite_ok(&e, "sdp_restart_rebuild", "200.sip", MEDIA_SIDE_B) &&
	     rewrite_ok(&e, "sdp_restart_rebuild", "av_invite.sip", MEDIA_SIDE_A) &&
	     rewrite_ok(&e, "sdp_restart_rebuild", "av_200.sip", MEDIA_SIDE_B) &&
	     rewrite_ok(&e, "sdp_restart_rebuild", "mux_invite.sip", MEDIA_SIDE_A) &&
	     rewrite_ok(&e, "sdp_restart_rebuild", "mux_200.sip", MEDIA_SIDE_B) &&
	     T_CHECK("sdp_restart_rebuild", flows_count(e.fd) == 14, "%u flows", flows_count(e.fd));
	if (!ok) {
		env_free(&e);
		return;
	}
	flow_get(e.fd, 20000, &latched);
	latched.flags = (latched.flags | XS_FLOW_LATCHED) & ~XS_FLOW_PRELATCHED;
	latched.packets = 7;
	inet_pton(AF_INET, "192.0.2.77", &latched.peer_addr);
	latched.peer_port = htons(40000);
	flow_put(e.fd, 20000, &latched);

	if (!T_CHECK("sdp_restart_rebuild", restart(&e) && media_calls(e.mc) == 3, "%u calls",
		     media_calls(e.mc)) ||
	    !T_CHECK("sdp_restart_rebuild", flows_count(e.fd) == 14, "flows changed")) {
		env_free(&e);
		return;
	}
	T_PASS("sdp_restart_rebuild");

	/*
	 * A re-INVITE of a recovered call keeps its ports, latch and counters;
	 * a second restart while on hold still resumes to the latched address.
	 */
	ok = T_CHECK("sdp_restart_reinvite",
		     rewritten_port(&e, "reinvite_hold.sip", MEDIA_SIDE_A) == 20002,
		     "ports changed") &&
	     check_flow("sdp_restart_reinvite", e.fd, 20002, "0.0.0.0:0", 20000,
			"198.51.100.20:3456", "call-1@192.0.2.10") &&
	     !flow_get(e.fd, 20000, &f) &&
	     T_CHECK("sdp_restart_reinvite", (f.flags & XS_FLOW_LATCHED) && f.packets == 7,
		     "latch or counters lost") &&
	     restart(&e) &&
	     T_CHECK("sdp_restart_reinvite",
		     rewritten_port(&e, "reinvite_resume.sip", MEDIA_SIDE_A) == 20002,
		     "ports changed") &&
	     check_flow("sdp_restart_reinvite", e.fd, 20002, "192.0.2.77:40000", 20000,
			"198.51.100.20:3456", "call-1@192.0.2.10");
	if (ok)
		T_PASS("sdp_restart_reinvite");

	/* rtcp-mux was inferred: a re-offer does not reopen the RTCP ports. */
	ok = T_CHECK("sdp_restart_mux", rewritten_port(&e, "mux_200.sip", MEDIA_SIDE_B) == 20012,
		     "ports changed") &&
	     T_CHECK("sdp_restart_mux",
		     flow_get(e.fd, 20013, &f) == -ENOENT && flow_get(e.fd, 20015, &f) == -ENOENT,
		     "RTCP flows reappeared") &&
	     check_flow("sdp_restart_mux", e.fd, 20012, "198.51.100.20:3456", 20014,
			"192.0.2.10:49170", "mux-1@192.0.2.10");
	if (ok)
		T_PASS("sdp_restart_mux");

	/* The port allocation was rebuilt too: a new call gets free ports. */
	port = rewritten_port(&e, "late_200.sip", MEDIA_SIDE_B);
	if (T_CHECK("sdp_restart_new_call", port == 20016, "new call got port %d", port))
		T_PASS("sdp_restart_new_call");

	media_end_cookie(e.mc, media_cookie("av-1@192.0.2.10"));
	ok = T_CHECK("sdp_restart_end_cookie", flows_count(e.fd) == 10, "%u flows",
		     flows_count(e.fd)) &&
	     T_CHECK("sdp_restart_end_cookie", flow_get(e.fd, 20004, &f) == -ENOENT,
		     "video left") &&
	     T_CHECK("sdp_restart_end_cookie", media_calls(e.mc) == 3, "%u calls",
		     media_calls(e.mc));
	media_end(e.mc, "call-1@192.0.2.10");
	media_end(e.mc, "mux-1@192.0.2.10");
	media_end(e.mc, "late-1@192.0.2.10");
	ok = ok &&
	     T_CHECK("sdp_restart_end_cookie", flows_count(e.fd) == 0 && media_calls(e.mc) == 0,
		     "%u flows left", flows_count(e.fd));
	if (ok)
		T_PASS("sdp_restart_end_cookie");
	env_free(&e);
}

struct timeouts {
	unsigned int n;
	uint64_t cookie[8];
};

static void on_timeout(uint64_t cookie, void *arg)
{
	struct timeouts *t = arg;

	if (t->n < 8)
		t->cookie[t->n++] = cookie;
}

static void test_timeout(void)
{
	const char *name = "sdp_media_timeout";
	struct timeouts t = {0};
	struct xs_flow f;
	struct env e;
	int ok;

	if (env_open(&e, 20000, 20099, 1)) {
		T_FAIL(name, "setup");
		return;
	}
	/* call-1 gets 20000/20002, mux-1 20004/20006, rtcp-1 20008/20010. */
	ok = rewrite_ok(&e, name, "invite.sip", MEDIA_SIDE_A) &&
	     rewrite_ok(&e, name, "200.sip", MEDIA_SIDE_B) &&
	     rewrite_ok(&e, name, "ack.sip", MEDIA_SIDE_A) &&
	     rewrite_ok(&e, name, "mux_invite.sip", MEDIA_SIDE_A) &&
	     rewrite_ok(&e, name, "mux_200.sip", MEDIA_SIDE_B) &&
	     rewrite_ok(&e, name, "rtcp_invite.sip", MEDIA_SIDE_A);
	media_poll(e.mc, on_timeout, &t);
	ok = ok && T_CHECK(name, t.n == 0, "timed out at once");
	usleep(1200 * 1000);
	/*
	 * mux-1 had a packet just now; call-1 never had one; rtcp-1 is still
	 * ringing (no 2xx): it has Timer C on top.
	 */
	flow_get(e.fd, 20004, &f);
	f.last_seen_ns = boot_ns();
	f.packets = 1;
	flow_put(e.fd, 20004, &f);
	media_poll(e.mc, on_timeout, &t);
	ok = ok &&
	     T_CHECK(name, t.n == 1 && t.cookie[0] == media_cookie("call-1@192.0.2.10"),
		     "%u timeouts", t.n) &&
	     T_CHECK(name, media_calls(e.mc) == 2 && flows_count(e.fd) == 6, "%u calls, %u flows",
		     media_calls(e.mc), flows_count(e.fd)) &&
	     T_CHECK(name, flow_get(e.fd, 20000, &f) == -ENOENT, "timed-out flows left");
	if (ok)
		T_PASS(name);
	env_free(&e);
}

static void test_multipart(void)
{
	const char *name = "sdp_multipart";
	const char *want = "--unique-boundary-1\r\ncontent-type: application/sdp\r\n\r\n" L("v=0")
		L("o=alice 2890844526 2890844526 IN IP4 203.0.113.1") L("s=-")
			L("c=IN IP4 203.0.113.1") L("t=0 0") L("m=audio 20002 RTP/AVP 0")
				L("a=rtpmap:0 PCMU/8000") L("a=sendrecv") "--unique-boundary-1\r\n";
	struct env e;
	char *wire = NULL;
	int err;

	if (env_new(&e)) {
		T_FAIL(name, "setup");
		return;
	}
	err = rewrite_file(e.mc, "multipart_invite.sip", MEDIA_SIDE_A, &wire);
	if (T_CHECK(name, err == 0, "%d", err) &&
	    T_CHECK(name, wire && strstr(body_of(wire), want), "SDP part not rewritten:\n%s",
		    wire ? body_of(wire) : "") &&
	    T_CHECK(name, strstr(wire, "hello isup"), "other part lost") &&
	    T_CHECK(name, content_length_of(wire) == (long)strlen(body_of(wire)),
		    "Content-Length %ld, body %zu", content_length_of(wire),
		    strlen(body_of(wire))) &&
	    T_CHECK(name, flows_count(e.fd) == 4, "%u flows", flows_count(e.fd)))
		T_PASS(name);
	free(wire);
	env_free(&e);
}

/*
 * The relay flow table (xs_flows, map-sizes flows) full: a new call gets
 * -ENOSPC (the proxy answers 503), its message is unchanged, it leaves no
 * ports or half of its flows behind, the calls already up keep theirs, and
 * once a call ends the next one fits.
 */
static void test_flows_full(void)
{
	const char *name = "sdp_flows_full";
	char *orig, *wire = NULL;
	struct env e;
	osip_message_t *m;
	int err, ok;

	/* Room for one call (4 flows) and half of the next. */
	if (env_new(&e)) {
		T_FAIL(name, "setup");
		return;
	}
	media_free(e.mc);
	close(e.fd);
	e.fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xs_flows_test", sizeof(struct xs_flow_key),
			      sizeof(struct xs_flow), 6, NULL);
	e.o.flows_fd = e.fd;
	e.mc = e.fd >= 0 ? media_new(&e.o) : NULL;
	if (!e.mc) {
		T_FAIL(name, "setup of a 6-flow map");
		return;
	}
	m = load_msg("mux_invite.sip");
	orig = m ? msg_str(m) : NULL;
	if (m)
		osip_message_free(m);
	ok = rewrite_ok(&e, name, "invite.sip", MEDIA_SIDE_A) &&
	     T_CHECK(name, flows_count(e.fd) == 4, "%u flows", flows_count(e.fd));
	err = rewrite_file(e.mc, "mux_invite.sip", MEDIA_SIDE_A, &wire);
	ok = ok && T_CHECK(name, err == -ENOSPC, "second call got %d", err) &&
	     T_CHECK(name, wire && orig && !strcmp(wire, orig), "message changed") &&
	     T_CHECK(name, media_calls(e.mc) == 1 && flows_count(e.fd) == 4,
		     "%u calls, %u flows: state left behind", media_calls(e.mc),
		     flows_count(e.fd)) &&
	     T_CHECK(name, e.mc->ports.used_count == 2, "%u port pairs held, want call 1's 2",
		     e.mc->ports.used_count) &&
	     T_CHECK(name, media_flows_full(e.mc) >= 1, "refusal not counted") &&
	     T_CHECK(name, rewritten_port(&e, "200.sip", MEDIA_SIDE_B) > 0,
		     "the call already up lost its media");
	free(wire);
	free(orig);
	/* Once the first call ends, the refused one fits. */
	media_end(e.mc, "call-1@192.0.2.10");
	ok = ok && T_CHECK(name, flows_count(e.fd) == 0, "flows of the ended call left") &&
	     T_CHECK(name, rewritten_port(&e, "mux_invite.sip", MEDIA_SIDE_A) > 0,
		     "the next call was refused") &&
	     T_CHECK(name, flows_count(e.fd) == 4, "%u flows", flows_count(e.fd));
	if (ok)
		T_PASS(name);
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
		T_SKIP("sdp_state", "cannot create a BPF hash map (%s): needs root",
		       strerror(errno));
		return 0;
	}
	env_free(&e);
	test_ports();
	test_restart();
	test_timeout();
	test_multipart();
	test_flows_full();
	return check_failed ? 1 : 0;
}
