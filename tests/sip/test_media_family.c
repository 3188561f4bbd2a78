// SPDX-License-Identifier: GPL-2.0-only
/*
 * The family of each leg's media (media_leg_af(), sigd/media/media.c; the
 * rule is in docs/sigd.md, "Media address family") and what follows from
 * it: the SDP each leg is sent names the edge address of its own family
 * (c=/o=/a=rtcp IN IP6 for an IPv6 leg, holds as ::), the flows of a call
 * between an IPv6 client and an IPv4 core are keyed in the sender's family
 * and leave in the receiver's (XS_FLOW_OUT6), a restart rebuilds the
 * families from the flow map, and `media ipv4-only on` keeps every leg
 * IPv4. In-process: media_rewrite() on generated messages, a private flow
 * map, ports allocated in order.
 */
#include "sdp_test.h"
#include "media/internal.h"

#define PUBLIC_IP6 "2001:db8:e::1"
#define CLIENT6	   "2001:db8:c::10"
#define CORE4	   "192.0.2.50"
#define CORE6	   "2001:db8:f::50"

static struct sip_ip sip_ip_of(const char *s)
{
	struct sip_ip ip = {0};

	if (inet_pton(AF_INET6, s, &ip.v6) == 1)
		ip.af = AF_INET6;
	else if (inet_pton(AF_INET, s, &ip.v4) == 1)
		ip.af = AF_INET;
	return ip;
}

/*
 * A message of call @id carrying SDP with c=/o= @addr, audio on @port, and
 * a=rtcp naming @addr: an INVITE (@invite) or its 200.
 */
static osip_message_t *sdp_msg(bool invite, const char *id, const char *addr, unsigned int port,
			       bool hold)
{
	const char *t = strchr(addr, ':') ? "IP6" : "IP4";
	char body[1024], msg[4096];
	osip_message_t *m;

	snprintf(body, sizeof(body),
		 "v=0\r\no=u 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0\r\na=rtcp:%u IN %s %s\r\na=candidate:1 1 UDP 1 %s %u typ "
		 "host\r\na=sendrecv\r\n",
		 t, addr, t, hold ? (t[2] == '6' ? "::" : "0.0.0.0") : addr, port, port + 1, t,
		 addr, addr, port);
	if (invite)
		snprintf(msg, sizeof(msg),
			 "INVITE sip:bob@example.net SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP [2001:db8:c::10]:5060;branch=z9hG4bK-%s\r\n"
			 "From: <sip:a@example.com>;tag=a1\r\nTo: <sip:bob@example.net>\r\n"
			 "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 id, id, strlen(body), body);
	else
		snprintf(msg, sizeof(msg),
			 "SIP/2.0 200 OK\r\n"
			 "Via: SIP/2.0/UDP [2001:db8:c::10]:5060;branch=z9hG4bK-%s\r\n"
			 "From: <sip:a@example.com>;tag=a1\r\nTo: <sip:bob@example.net>;tag=b1\r\n"
			 "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 id, id, strlen(body), body);
	if (osip_message_init(&m))
		return NULL;
	if (osip_message_parse(m, msg, strlen(msg))) {
		osip_message_free(m);
		return NULL;
	}
	return m;
}

/* Rewrite one message of leg @from sent from @sig to a hop of family @to_af; body into @out. */
static int send_sdp(struct env *e, bool invite, const char *id, enum media_side from,
		    const char *sig, bool core, int to_af, const char *addr, unsigned int port,
		    bool hold, char *out, size_t len)
{
	struct media_src src = {.sig = sip_ip_of(sig), .core = core, .to_af = to_af};
	osip_message_t *m = sdp_msg(invite, id, addr, port, hold);
	char *wire;
	int err;

	if (!m)
		return -ENOMEM;
	err = media_rewrite(e->mc, m, id, from, &src);
	wire = msg_str(m);
	snprintf(out, len, "%s", wire ? body_of(wire) : "");
	free(wire);
	osip_message_free(m);
	return err;
}

/* The flow on @port of family @v6's edge address. */
static int flow_at(int fd, bool v6, uint16_t port, struct xs_flow *f)
{
	struct xs_flow_key k;

	memset(&k, 0, sizeof(k));
	if (v6)
		inet_pton(AF_INET6, PUBLIC_IP6, k.addr6);
	else
		inet_pton(AF_INET, PUBLIC_IP, k.addr6);
	k.v6 = v6;
	k.port = htons(port);
	k.proto = IPPROTO_UDP;
	return bpf_map_lookup_elem(fd, &k, f) ? -errno : 0;
}

static bool addr_is(const void *field, const char *addr)
{
	uint8_t want[16] = {0};

	if (inet_pton(AF_INET6, addr, want) != 1)
		inet_pton(AF_INET, addr, want);
	return !memcmp(field, want, 16);
}

static int env_dual(struct env *e, bool dual)
{
	int err = env_new(e);

	if (err)
		return err;
	inet_pton(AF_INET6, PUBLIC_IP6, &e->o.public_ip6);
	e->o.dual_stack = dual;
	return media_reconfigure(e->mc, &e->o);
}

static void test_rule(void)
{
	static const struct {
		const char *name;
		bool dual, have4;
		int sdp_af, sig_af, want;
	} rows[] = {
		{"ipv4-only on: an IPv6 client's leg stays IPv4", false, true, AF_INET6, AF_INET6,
		 AF_INET},
		{"ipv4-only on: a leg towards an IPv6 hop stays IPv4", false, true, 0, AF_INET6,
		 AF_INET},
		{"off: IPv6 c= over IPv6 signalling: IPv6", true, true, AF_INET6, AF_INET6,
		 AF_INET6},
		{"off: IPv4 c= over IPv6 signalling (dual-stack client): IPv4", true, true, AF_INET,
		 AF_INET6, AF_INET},
		{"off: IPv6 c= over IPv4 signalling: the c= family", true, true, AF_INET6, AF_INET,
		 AF_INET6},
		{"off: no SDP yet, IPv6 next hop: IPv6", true, true, 0, AF_INET6, AF_INET6},
		{"off: no SDP yet, IPv4 next hop: IPv4", true, true, 0, AF_INET, AF_INET},
		{"off: nothing known: IPv4", true, true, 0, 0, AF_INET},
		{"off: no IPv4 media address: IPv6", true, false, AF_INET, AF_INET, AF_INET6},
	};
	char name[160];

	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got = media_leg_af(rows[i].dual, rows[i].have4, rows[i].sdp_af, rows[i].sig_af);

		snprintf(name, sizeof(name), "media_family_rule: %s", rows[i].name);
		if (T_CHECK(name, got == rows[i].want, "got %d want %d", got, rows[i].want))
			T_PASS(name);
	}
}

/* The edge address family written into an SDP: IN IP6 for c=, o= and a=rtcp, ICE gone. */
static void test_sdp_rewrite6(void)
{
	const char *name = "media_family_sdp_rewrite_ip6";
	struct sdp_info info;
	sdp_message_t *sdp;
	struct in6_addr a6;
	uint16_t ports[1] = {30000};
	char *text = NULL;
	const char *in = "v=0\r\no=u 1 1 IN IP4 192.0.2.50\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 "
			 "0\r\nm=audio 6000 RTP/AVP 0\r\nc=IN IP4 192.0.2.51\r\n"
			 "a=rtcp:6001 IN IP4 192.0.2.51\r\na=ice-ufrag:x\r\n";
	const char *want = "v=0\r\no=u 1 1 IN IP6 2001:db8:e::1\r\ns=-\r\nc=IN IP6 ::\r\nt=0 "
			   "0\r\nm=audio 30000 RTP/AVP 0\r\nc=IN IP6 2001:db8:e::1\r\n"
			   "a=rtcp:30001 IN IP6 2001:db8:e::1\r\n";

	inet_pton(AF_INET6, PUBLIC_IP6, &a6);
	if (!T_CHECK(name, !sdp_parse(in, &sdp, &info), "parse"))
		return;
	if (T_CHECK(name, !sdp_rewrite(sdp, &info, ports, AF_INET6, &a6, &text), "rewrite") &&
	    T_CHECK(name, !strcmp(text, want), "got\n%s\nwant\n%s", text, want))
		T_PASS(name);
	osip_free(text);
	sdp_message_free(sdp);
	if (!T_CHECK("media_family_sdp_rewrite_bad_af", !sdp_parse(in, &sdp, &info), "parse"))
		return;
	if (T_CHECK("media_family_sdp_rewrite_bad_af",
		    sdp_rewrite(sdp, &info, ports, AF_UNIX, &a6, &text) == -EAFNOSUPPORT, "taken"))
		T_PASS("media_family_sdp_rewrite_bad_af");
	sdp_message_free(sdp);
}

/*
 * An IPv6 client calls an IPv4 core with ipv4-only off: the core is sent
 * the edge's IPv4 address, the client the IPv6 one; the client's flows are
 * keyed on IPv6 and leave as IPv4, the core's the other way round, each
 * latching only from its own family.
 */
static void test_v6_client_v4_core(void)
{
	const char *name = "media_family_v6_client_v4_core", *id = "fam-1@2001:db8:c::10";
	char body[2048];
	struct xs_flow fa, fb;
	struct env e;
	int ok;

	if (env_dual(&e, true)) {
		T_FAIL(name, "env");
		return;
	}
	/* Ports in order: edge[A] 20000, edge[B] 20002. */
	ok = T_CHECK(name,
		     !send_sdp(&e, true, id, MEDIA_SIDE_A, CLIENT6, false, AF_INET, CLIENT6, 4000,
			       false, body, sizeof(body)),
		     "offer") &&
	     T_CHECK(name,
		     strstr(body, "c=IN IP4 203.0.113.1\r\n") &&
			     strstr(body, "o=u 1 1 IN IP4 203.0.113.1\r\n") &&
			     strstr(body, "m=audio 20002 ") &&
			     strstr(body, "a=rtcp:20003 IN IP4 203.0.113.1\r\n") &&
			     !strstr(body, "IP6") && !strstr(body, "candidate"),
		     "offer to the core:\n%s", body) &&
	     T_CHECK(name,
		     !send_sdp(&e, false, id, MEDIA_SIDE_B, CORE4, true, AF_INET6, "192.0.2.51",
			       6000, false, body, sizeof(body)),
		     "answer") &&
	     T_CHECK(name,
		     strstr(body, "c=IN IP6 2001:db8:e::1\r\n") &&
			     strstr(body, "o=u 1 1 IN IP6 2001:db8:e::1\r\n") &&
			     strstr(body, "m=audio 20000 ") &&
			     strstr(body, "a=rtcp:20001 IN IP6 2001:db8:e::1\r\n") &&
			     !strstr(body, "IP4"),
		     "answer to the client:\n%s", body) &&
	     T_CHECK(name, !flow_at(e.fd, true, 20000, &fa), "no IPv6 flow on 20000") &&
	     T_CHECK(name, !flow_at(e.fd, false, 20002, &fb), "no IPv4 flow on 20002") &&
	     T_CHECK(name, flow_at(e.fd, false, 20000, &fb) == -ENOENT, "IPv4 flow on 20000") &&
	     T_CHECK(name, !flow_at(e.fd, false, 20002, &fb), "no IPv4 flow on 20002") &&
	     T_CHECK(name,
		     !(fa.flags & XS_FLOW_OUT6) && addr_is(fa.src_addr6, PUBLIC_IP) &&
			     ntohs(fa.src_port) == 20002 && addr_is(fa.dst_addr6, "192.0.2.51") &&
			     ntohs(fa.dst_port) == 6000,
		     "client's flow: flags %#x", fa.flags) &&
	     T_CHECK(name,
		     addr_is(fa.expect_addr6, CLIENT6) && ntohs(fa.expect_port) == 4000 &&
			     addr_is(fa.latch_addr6, CLIENT6),
		     "client's flow latches from its IPv6 source") &&
	     T_CHECK(name,
		     (fb.flags & XS_FLOW_OUT6) && addr_is(fb.src_addr6, PUBLIC_IP6) &&
			     ntohs(fb.src_port) == 20000 && addr_is(fb.dst_addr6, CLIENT6) &&
			     ntohs(fb.dst_port) == 4000,
		     "core's flow: flags %#x", fb.flags) &&
	     T_CHECK(name, addr_is(fb.latch_addr6, "192.0.2.51"),
		     "the core latches from its SDP address") &&
	     T_CHECK(name,
		     !flow_at(e.fd, true, 20001, &fa) && !flow_at(e.fd, false, 20003, &fb) &&
			     addr_is(fb.dst_addr6, CLIENT6) && ntohs(fb.dst_port) == 4001,
		     "RTCP flows");
	if (ok)
		T_PASS(name);

	/* A restart: a new media context on the same map rebuilds the families. */
	name = "media_family_restart_rebuild";
	{
		struct media_ctx *mc2 = media_new(&e.o);
		struct media_call *c = mc2 ? media_call_find(mc2, media_cookie(id)) : NULL;

		if (T_CHECK(name, c, "call not rebuilt") &&
		    T_CHECK(name, c->af[MEDIA_SIDE_A] == AF_INET6 && c->af[MEDIA_SIDE_B] == AF_INET,
			    "families %u/%u", c->af[0], c->af[1]) &&
		    T_CHECK(name,
			    addr_is(&c->edge6, PUBLIC_IP6) &&
				    c->edge4.s_addr == inet_addr(PUBLIC_IP),
			    "edge addresses") &&
		    T_CHECK(name,
			    c->s[0].leg[0].v6 && addr_is(c->s[0].leg[0].addr.b, CLIENT6) &&
				    c->s[0].leg[0].port == 4000,
			    "client's leg")) {
			/* The core's re-INVITE after the restart: sent to the client as IPv6. */
			media_free(e.mc);
			e.mc = mc2;
			mc2 = NULL;
			if (T_CHECK(name,
				    !send_sdp(&e, false, id, MEDIA_SIDE_B, CORE4, true, AF_INET6,
					      "192.0.2.51", 6000, false, body, sizeof(body)),
				    "re-offer") &&
			    T_CHECK(name, strstr(body, "c=IN IP6 2001:db8:e::1\r\n"), "%s", body) &&
			    T_CHECK(name, !flow_at(e.fd, false, 20002, &fb), "flow gone") &&
			    T_CHECK(name,
				    addr_is(fb.dst_addr6, CLIENT6) && (fb.flags & XS_FLOW_OUT6),
				    "core's flow lost its IPv6 destination"))
				T_PASS(name);
		}
		media_free(mc2);
	}

	/* Hold from the client: the core is told 0.0.0.0 (its family), nothing goes to the client. */
	name = "media_family_hold_in_own_family";
	if (T_CHECK(name,
		    !send_sdp(&e, true, id, MEDIA_SIDE_A, CLIENT6, false, AF_INET, CLIENT6, 4000,
			      true, body, sizeof(body)),
		    "hold") &&
	    T_CHECK(name, strstr(body, "c=IN IP4 0.0.0.0\r\n"), "%s", body))
		T_PASS(name);

	/* The call ends: every flow of both families is gone. */
	name = "media_family_end_removes_both_families";
	media_end(e.mc, id);
	if (T_CHECK(name, flows_count(e.fd) == 0, "%u flows left", flows_count(e.fd)))
		T_PASS(name);
	env_free(&e);
}

/* The same call with ipv4-only on: every leg IPv4, as before (no IPv6 flow at all). */
static void test_ipv4_only(void)
{
	const char *name = "media_family_ipv4_only_on", *id = "fam-2@2001:db8:c::10";
	char body[2048];
	struct xs_flow f;
	struct env e;

	if (env_dual(&e, false)) {
		T_FAIL(name, "env");
		return;
	}
	if (T_CHECK(name,
		    !send_sdp(&e, true, id, MEDIA_SIDE_A, CLIENT6, false, AF_INET, CLIENT6, 4000,
			      false, body, sizeof(body)),
		    "offer") &&
	    T_CHECK(name,
		    !send_sdp(&e, false, id, MEDIA_SIDE_B, CORE4, true, AF_INET6, "192.0.2.51",
			      6000, false, body, sizeof(body)),
		    "answer") &&
	    T_CHECK(name, strstr(body, "c=IN IP4 203.0.113.1\r\n") && !strstr(body, "IP6"),
		    "answer to the client:\n%s", body) &&
	    T_CHECK(name, flow_at(e.fd, true, 20000, &f) == -ENOENT, "IPv6 flow") &&
	    T_CHECK(name, !flow_at(e.fd, false, 20000, &f) && ntohs(f.dst_port) == 6000,
		    "client's flow") &&
	    T_CHECK(name,
		    !flow_at(e.fd, false, 20002, &f) && !(f.flags & XS_FLOW_OUT6) && !f.dst_port,
		    "core's flow sends to the unreachable IPv6 client"))
		T_PASS(name);
	env_free(&e);
}

/*
 * The receiving leg's family from the next hop: an IPv4 client calling an
 * IPv6 core is sent IPv4, the core IPv6; and a leg that answers with an
 * address of the other family than the one it was given gets nothing sent
 * to it (dst 0), rather than media from an address it does not expect.
 */
static void test_v4_client_v6_core(void)
{
	const char *name = "media_family_v4_client_v6_core", *id = "fam-3@192.0.2.10";
	const char *name2 = "media_family_answer_of_other_family_unreachable";
	char body[2048];
	struct xs_flow f;
	struct env e;

	if (env_dual(&e, true)) {
		T_FAIL(name, "env");
		return;
	}
	if (T_CHECK(name,
		    !send_sdp(&e, true, id, MEDIA_SIDE_A, "192.0.2.10", false, AF_INET6,
			      "192.0.2.10", 4000, false, body, sizeof(body)),
		    "offer") &&
	    T_CHECK(name, strstr(body, "c=IN IP6 2001:db8:e::1\r\n") && !strstr(body, "IP4"),
		    "offer to the core:\n%s", body) &&
	    T_CHECK(name,
		    !send_sdp(&e, false, id, MEDIA_SIDE_B, CORE6, true, AF_INET, CORE6, 6000, false,
			      body, sizeof(body)),
		    "answer") &&
	    T_CHECK(name, strstr(body, "c=IN IP4 203.0.113.1\r\n"), "answer:\n%s", body) &&
	    T_CHECK(name,
		    !flow_at(e.fd, false, 20000, &f) && (f.flags & XS_FLOW_OUT6) &&
			    addr_is(f.dst_addr6, CORE6) && addr_is(f.src_addr6, PUBLIC_IP6),
		    "client's flow leaves as IPv6") &&
	    T_CHECK(name,
		    !flow_at(e.fd, true, 20002, &f) && !(f.flags & XS_FLOW_OUT6) &&
			    addr_is(f.dst_addr6, "192.0.2.10") && addr_is(f.latch_addr6, CORE6),
		    "core's flow leaves as IPv4"))
		T_PASS(name);

	/* The core re-answers with an IPv4 address: it was given IPv6, nothing is sent there. */
	if (T_CHECK(name2,
		    !send_sdp(&e, false, id, MEDIA_SIDE_B, CORE6, true, AF_INET, "192.0.2.99", 6000,
			      false, body, sizeof(body)),
		    "re-answer") &&
	    T_CHECK(name2,
		    !flow_at(e.fd, false, 20000, &f) && !f.dst_port && (f.flags & XS_FLOW_OUT6),
		    "client's media sent to the other family's address") &&
	    T_CHECK(name2,
		    !flow_at(e.fd, true, 20002, &f) && !f.expect_port &&
			    addr_is(f.latch_addr6, "::"),
		    "the core's flow latches from an IPv4 address"))
		T_PASS(name2);
	env_free(&e);
}

int main(int argc, char **argv)
{
	int fd;

	(void)argc;
	(void)argv;
	fd = flows_create();
	if (fd < 0) {
		T_SKIP("media_family", "no BPF map: %s", strerror(errno));
		return 0;
	}
	close(fd);
	parser_init();
	test_rule();
	test_sdp_rewrite6();
	test_v6_client_v4_core();
	test_ipv4_only();
	test_v4_client_v6_core();
	return check_failed ? 1 : 0;
}
