// SPDX-License-Identifier: GPL-2.0-only
/*
 * The media side's limits against exhaustion from one sender, and the latch
 * address each leg's flows get. In-process: media_rewrite() on generated
 * INVITEs, a private flow map, the real (getrandom) port picker except where
 * a test says otherwise.
 */
#include "sdp_test.h"

/* Relay ports held by an IPv4 source. */
static unsigned int src_ports4(const struct media_ctx *mc, struct in_addr a)
{
	struct sip_ip ip = sip_ip4(a);

	return media_source_ports(mc, &ip);
}

#define SRC1 "198.51.100.7"
#define SRC2 "198.51.100.8"
#define CORE "192.0.2.50"

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

/* An INVITE for call @id from @sdp_ip with @streams audio m-lines. */
static osip_message_t *invite(const char *id, const char *sdp_ip, unsigned int streams)
{
	char body[4096], msg[8192];
	osip_message_t *m;
	size_t n;
	unsigned int i;

	n = (size_t)snprintf(body, sizeof(body),
			     "v=0\r\no=u 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", sdp_ip,
			     sdp_ip);
	for (i = 0; i < streams && n < sizeof(body) - 64; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
				      "m=audio %u RTP/AVP 0\r\na=sendrecv\r\n", 4000 + 2 * i);
	snprintf(msg, sizeof(msg),
		 "INVITE sip:bob@example.net SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\n"
		 "From: <sip:a@example.com>;tag=a1\r\nTo: <sip:bob@example.net>\r\n"
		 "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 sdp_ip, id, id, strlen(body), body);
	if (osip_message_init(&m))
		return NULL;
	if (osip_message_parse(m, msg, strlen(msg))) {
		osip_message_free(m);
		return NULL;
	}
	return m;
}

static int offer(struct env *e, const char *id, const char *from, bool core, unsigned int streams,
		 const char *sdp_ip)
{
	struct media_src src = {.sig = sip_ip4(ip(from)), .core = core};
	osip_message_t *m = invite(id, sdp_ip ? sdp_ip : "10.0.0.2", streams);
	int err;

	if (!m)
		return -ENOMEM;
	err = media_rewrite(e->mc, m, id, MEDIA_SIDE_A, &src);
	osip_message_free(m);
	return err;
}

static void test_streams_cap(void)
{
	const char *name = "media_streams_per_call_capped";
	struct env e;

	if (env_new(&e)) {
		T_FAIL(name, "env");
		return;
	}
	e.o.max_streams = 8;
	media_reconfigure(e.mc, &e.o);
	if (T_CHECK(name, offer(&e, "big", SRC1, false, 16, NULL) == -E2BIG, "16 m-lines taken") &&
	    T_CHECK(name,
		    media_calls(e.mc) == 0 && media_ports_used(e.mc) == 0 && flows_count(e.fd) == 0,
		    "state left: %u calls, %u ports, %u flows", media_calls(e.mc),
		    media_ports_used(e.mc), flows_count(e.fd)) &&
	    T_CHECK(name, offer(&e, "ok", SRC1, false, 8, NULL) == 0, "8 m-lines refused") &&
	    T_CHECK(name, media_ports_used(e.mc) == 32, "%u ports", media_ports_used(e.mc)))
		T_PASS(name);
	env_free(&e);
}

/*
 * One source cannot hold more than its share; another source still gets a
 * call; the core is not limited; failed and ended calls give their ports back.
 */
static void test_source_cap(void)
{
	const char *name = "media_ports_per_source_capped";
	char id[32];
	struct env e;
	unsigned int i;
	int err = 0;

	if (env_open(&e, 20000, 29999, 60)) {
		T_FAIL(name, "env");
		return;
	}
	e.o.port_rng = NULL; /* the real picker */
	e.o.source_ports = 40;
	media_reconfigure(e.mc, &e.o);
	for (i = 0; i < 10 && !err; i++) {
		snprintf(id, sizeof(id), "s1-%u", i);
		err = offer(&e, id, SRC1, false, 1, NULL);
	}
	if (!T_CHECK(name, !err, "call %u from one source: %d", i, err) ||
	    !T_CHECK(name, offer(&e, "s1-over", SRC1, false, 1, NULL) == -EDQUOT,
		     "11th call from the same source allowed") ||
	    !T_CHECK(name, src_ports4(e.mc, ip(SRC1)) == 40, "source holds %u",
		     src_ports4(e.mc, ip(SRC1))) ||
	    !T_CHECK(name, media_calls(e.mc) == 10, "%u calls", media_calls(e.mc))) {
		env_free(&e);
		return;
	}
	T_PASS(name);

	name = "media_other_source_still_served";
	if (T_CHECK(name, offer(&e, "s2", SRC2, false, 2, NULL) == 0, "refused") &&
	    T_CHECK(name, offer(&e, "core", CORE, true, 8, "192.0.2.51") == 0,
		    "the core refused") &&
	    T_CHECK(name, src_ports4(e.mc, ip(CORE)) == 0, "core counted"))
		T_PASS(name);

	name = "media_ports_back_after_calls";
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "s1-%u", i);
		media_end(e.mc, id);
	}
	if (T_CHECK(name, src_ports4(e.mc, ip(SRC1)) == 0, "source still holds %u",
		    src_ports4(e.mc, ip(SRC1))) &&
	    T_CHECK(name, media_ports_used(e.mc) == 8 + 32, "%u ports in use",
		    media_ports_used(e.mc)) &&
	    T_CHECK(name, offer(&e, "s1-again", SRC1, false, 1, NULL) == 0,
		    "the source cannot call again"))
		T_PASS(name);
	env_free(&e);
}

/* A full range: 503 material (-ENOSPC), nothing half-allocated left behind. */
static void test_range_full(void)
{
	const char *name = "media_range_full_fails_closed";
	struct env e;

	if (env_open(&e, 20000, 20007, 60)) { /* 4 pairs: one 2-stream call */
		T_FAIL(name, "env");
		return;
	}
	e.o.port_rng = NULL;
	media_reconfigure(e.mc, &e.o);
	if (T_CHECK(name, offer(&e, "a", SRC1, false, 2, NULL) == 0, "first call") &&
	    T_CHECK(name, offer(&e, "b", SRC2, false, 1, NULL) == -ENOSPC,
		    "second call anchored") &&
	    T_CHECK(name, media_calls(e.mc) == 1 && media_ports_used(e.mc) == 8,
		    "%u calls, %u ports", media_calls(e.mc), media_ports_used(e.mc)) &&
	    (media_end(e.mc, "a"), 1) &&
	    T_CHECK(name, offer(&e, "b", SRC2, false, 1, NULL) == 0, "ports not back"))
		T_PASS(name);
	env_free(&e);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Random pairs: the ports of one call say nothing about the next call's. */
static void test_random_ports(void)
{
	const char *name = "media_ports_random";
	unsigned int i, n = 0, adjacent = 0;
	struct xs_flow_key k, next;
	uint16_t port[512];
	bool first = true;
	char id[32];
	struct env e;

	if (env_open(&e, 20000, 29999, 60)) {
		T_FAIL(name, "env");
		return;
	}
	e.o.port_rng = NULL;
	media_reconfigure(e.mc, &e.o);
	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "r%u", i);
		offer(&e, id, CORE, true, 1, "192.0.2.9");
	}
	while (!bpf_map_get_next_key(e.fd, first ? NULL : &k, &next) && n < 512) {
		first = false;
		k = next;
		if (!(ntohs(k.port) & 1))
			port[n++] = ntohs(k.port);
	}
	qsort(port, n, sizeof(port[0]), cmp_u16);
	for (i = 1; i < n; i++)
		adjacent += port[i] == port[i - 1] + 2;
	/*
	 * In order, all 100 pairs would sit side by side (99 adjacent); 100
	 * random pairs of 5,000 are adjacent about twice.
	 */
	if (T_CHECK(name, n == 100 && media_ports_used(e.mc) == 200, "%u RTP flows, %u ports", n,
		    media_ports_used(e.mc)) &&
	    T_CHECK(name, adjacent < 15, "%u of %u pairs adjacent", adjacent, n))
		T_PASS(name);
	env_free(&e);
}

/* Behind NAT: latch from the signalling source; no NAT: pre-latched to the SDP. */
static void test_latch_address(void)
{
	const char *name = "media_latch_from_signalling_source";
	struct xs_flow_key k, next;
	struct xs_flow f;
	struct env e;
	bool first = true, found_nat = false, found_pre = false;

	if (env_new(&e)) {
		T_FAIL(name, "env");
		return;
	}
	offer(&e, "nat", "203.0.113.10", false, 1, "10.0.0.2");
	offer(&e, "pub", "198.51.100.30", false, 1, "198.51.100.30");
	while (!bpf_map_get_next_key(e.fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (bpf_map_lookup_elem(e.fd, &k, &f) || !f.expect_addr)
			continue;
		if (f.expect_addr == ip("10.0.0.2").s_addr)
			found_nat = f.latch_addr == ip("203.0.113.10").s_addr &&
				    !(f.flags & XS_FLOW_LATCHED) && f.latch_until_ns > boot_ns();
		if (f.expect_addr == ip("198.51.100.30").s_addr)
			found_pre = f.latch_addr == f.expect_addr &&
				    (f.flags & XS_FLOW_PRELATCHED) && f.peer_addr == f.expect_addr;
	}
	if (T_CHECK(name, found_nat, "NATed leg: not latching from its signalling source") &&
	    T_CHECK(name, found_pre, "public leg: not pre-latched to its SDP address"))
		T_PASS(name);
	env_free(&e);
}

int main(int argc, char **argv)
{
	(void)argc;
	find_data(argv[0]);
	parser_init();
	test_streams_cap();
	test_source_cap();
	test_range_full();
	test_random_ports();
	test_latch_address();
	return check_failed ? 1 : 0;
}
