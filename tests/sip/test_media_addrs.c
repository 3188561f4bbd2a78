// SPDX-License-Identifier: GPL-2.0-only
/*
 * Call capacity over several media addresses (media-ip): each address has
 * the whole port range, a call's ports and c= are on one of them, the
 * addresses fill evenly, a full pool refuses the call with nothing changed,
 * a restart and a reload keep every call on its address, rtcp-mux offered
 * by both legs programs 2 flows and by one 4, the media-ip key refuses
 * what media cannot use, and the media timeout, which looks only at the
 * calls due, still ends a call answered after it was first looked at. In-process: media_rewrite() on generated SDP, a
 * private flow map.
 */
#include "sdp_test.h"
#include "options.h"

static const char *const addrs[] = {"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"};

/* A context with the first @n addresses, ports @min-@max, getrandom() picks. */
static int env_addrs(struct env *e, unsigned int n, uint16_t min, uint16_t max)
{
	unsigned int i;

	if (env_open(e, min, max, 60))
		return -1;
	e->o.port_rng = NULL;
	for (i = 0; i < n; i++)
		inet_pton(AF_INET, addrs[i], &e->o.media_ip[i]);
	e->o.n_media_ip = n;
	return media_reconfigure(e->mc, &e->o);
}

/* An INVITE (from leg A) or its 200 (from leg B) for call @id, with or without rtcp-mux. */
static osip_message_t *sdp_msg(const char *id, bool answer, bool mux)
{
	char body[512], msg[2048];
	const char *ip = answer ? "198.51.100.20" : "192.0.2.10";
	osip_message_t *m;

	snprintf(body, sizeof(body),
		 "v=0\r\no=u 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0\r\n%sa=sendrecv\r\n",
		 ip, ip, answer ? 6000 : 4000, mux ? "a=rtcp-mux\r\n" : "");
	if (answer)
		snprintf(msg, sizeof(msg),
			 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%s\r\n"
			 "From: <sip:a@example.com>;tag=a1\r\nTo: <sip:b@example.net>;tag=b1\r\n"
			 "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 id, id, strlen(body), body);
	else
		snprintf(msg, sizeof(msg),
			 "INVITE sip:b@example.net SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%s\r\n"
			 "From: <sip:a@example.com>;tag=a1\r\nTo: <sip:b@example.net>\r\n"
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

/*
 * Rewrite the INVITE (or 200) of call @id; *@caddr gets the c= address of
 * the result ("" when refused), *@changed whether the message changed.
 */
static int rewrite(struct env *e, const char *id, bool answer, bool mux, char *caddr, bool *changed)
{
	osip_message_t *m = sdp_msg(id, answer, mux);
	char *before, *after, *c;
	int err;

	caddr[0] = 0;
	if (!m)
		return -ENOMEM;
	before = msg_str(m);
	err = media_rewrite(e->mc, m, id, answer ? MEDIA_SIDE_B : MEDIA_SIDE_A, NULL);
	after = msg_str(m);
	if (changed)
		*changed = before && after && strcmp(before, after);
	c = after ? strstr(body_of(after), "\r\nc=IN IP4 ") : NULL;
	if (!err && c)
		sscanf(c + 11, "%15[0-9.]", caddr);
	free(before);
	free(after);
	osip_message_free(m);
	return err;
}

/* Flows of call @id: how many, and whether every one is keyed and sourced on @addr. */
static unsigned int call_flows(int fd, const char *id, const char *addr, bool *on_addr)
{
	struct xs_flow_key k, next, *prev = NULL;
	uint64_t cookie = media_cookie(id);
	__be32 a = 0;
	unsigned int n = 0;
	struct xs_flow f;

	inet_pton(AF_INET, addr, &a);
	*on_addr = true;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &f) || f.cookie != cookie)
			continue;
		n++;
		if (k.addr != a || f.src_addr != a)
			*on_addr = false;
	}
	return n;
}

/* One pair per leg per address: three calls, one on each address; a fourth is refused. */
static void test_spread_and_full(void)
{
	const char *name = "media_addrs_one_call_per_address";
	char c[4][16], id[16];
	struct env e;
	bool changed = true, on = false;
	int ok = 1, err, i;

	if (env_addrs(&e, 3, 20000, 20003)) {
		T_FAIL(name, "setup");
		return;
	}
	for (i = 0; i < 3 && ok; i++) {
		snprintf(id, sizeof(id), "call-%d", i);
		ok = T_CHECK(name, rewrite(&e, id, false, false, c[i], NULL) == 0, "call %d", i) &&
		     T_CHECK(name, call_flows(e.fd, id, c[i], &on) == 4 && on,
			     "call %d: flows not all on its address %s", i, c[i]);
	}
	ok = ok && T_CHECK(name, strcmp(c[0], c[1]) && strcmp(c[1], c[2]) && strcmp(c[0], c[2]),
			   "two calls on one address: %s %s %s", c[0], c[1], c[2]);
	if (ok)
		T_PASS(name);

	/* Full on every address: refused, message and state unchanged (proxy: 503). */
	name = "media_addrs_full_refused_unchanged";
	err = rewrite(&e, "call-3", false, false, c[3], &changed);
	if (T_CHECK(name, err == -ENOSPC, "got %d", err) &&
	    T_CHECK(name, !changed, "refused message was rewritten") &&
	    T_CHECK(name, media_calls(e.mc) == 3 && flows_count(e.fd) == 12, "%u calls, %u flows",
		    media_calls(e.mc), flows_count(e.fd)))
		T_PASS(name);

	/* The second call ends: its address takes the next call. */
	name = "media_addrs_freed_address_reused";
	media_end(e.mc, "call-1");
	if (T_CHECK(name, rewrite(&e, "call-3", false, false, c[3], NULL) == 0, "refused") &&
	    T_CHECK(name, !strcmp(c[3], c[1]), "on %s, want the freed %s", c[3], c[1]) &&
	    T_CHECK(name, call_flows(e.fd, "call-3", c[3], &on) == 4 && on, "flows"))
		T_PASS(name);

	/* kill -9 and start again: each call keeps its address, the pool is still full. */
	name = "media_addrs_restart_keeps_addresses";
	media_free(e.mc);
	e.mc = media_new(&e.o);
	ok = T_CHECK(name, e.mc && media_calls(e.mc) == 3, "%u calls rebuilt",
		     e.mc ? media_calls(e.mc) : 0) &&
	     T_CHECK(name, rewrite(&e, "call-9", false, false, c[1], NULL) == -ENOSPC,
		     "rebuilt pool not full") &&
	     T_CHECK(name,
		     rewrite(&e, "call-2", true, false, c[1], NULL) == 0 && !strcmp(c[1], c[2]),
		     "call-2 answered on %s, was %s", c[1], c[2]);
	if (ok)
		T_PASS(name);

	/* SIGHUP adds an address: the next call goes there; the others stay. */
	name = "media_addrs_reload_adds_address";
	e.o.n_media_ip = 4;
	inet_pton(AF_INET, addrs[3], &e.o.media_ip[3]);
	if (T_CHECK(name, media_reconfigure(e.mc, &e.o) == 0, "reconfigure") &&
	    T_CHECK(name, rewrite(&e, "call-4", false, false, c[3], NULL) == 0, "refused") &&
	    T_CHECK(name, !strcmp(c[3], addrs[3]), "on %s", c[3]) &&
	    T_CHECK(name, call_flows(e.fd, "call-0", c[0], &on) == 4 && on, "call-0 moved"))
		T_PASS(name);
	env_free(&e);
}

/* Random picks over 4 addresses: they fill evenly, and every pair is usable. */
static void test_even_fill(void)
{
	const char *name = "media_addrs_fill_evenly";
	unsigned int per[4] = {0}, i, k, lo = ~0U;
	char c[16], id[24];
	struct env e;
	int ok = 1;

	/* 50 pairs per address: 25 calls each, 100 in all. */
	if (env_addrs(&e, 4, 20000, 20099)) {
		T_FAIL(name, "setup");
		return;
	}
	for (i = 0; i < 100 && ok; i++) {
		snprintf(id, sizeof(id), "fill-%u", i);
		ok = T_CHECK(name, rewrite(&e, id, false, false, c, NULL) == 0, "call %u refused",
			     i);
		for (k = 0; k < 4; k++)
			per[k] += !strcmp(c, addrs[k]);
		if (i == 49)
			for (k = 0; k < 4; k++)
				lo = per[k] < lo ? per[k] : lo;
	}
	ok = ok && T_CHECK(name, lo >= 6, "at 50 calls an address had only %u", lo) &&
	     T_CHECK(name, per[0] == 25 && per[1] == 25 && per[2] == 25 && per[3] == 25,
		     "full: %u %u %u %u calls", per[0], per[1], per[2], per[3]) &&
	     T_CHECK(name, rewrite(&e, "fill-100", false, false, c, NULL) == -ENOSPC,
		     "a call past the pool") &&
	     T_CHECK(name, media_ports_used(e.mc) == 400, "%u ports", media_ports_used(e.mc));
	if (ok)
		T_PASS(name);
	env_free(&e);
}

/* rtcp-mux in effect only when both legs signal it: 2 flows a stream, else 4. */
static void test_rtcp_mux(void)
{
	const char *name = "media_addrs_rtcp_mux_both";
	char c[16], c2[16];
	struct env e;
	bool on = false;

	if (env_addrs(&e, 2, 20000, 20099)) {
		T_FAIL(name, "setup");
		return;
	}
	if (T_CHECK(name, rewrite(&e, "m1", false, true, c, NULL) == 0, "offer") &&
	    T_CHECK(name, call_flows(e.fd, "m1", c, &on) == 4 && on, "before the answer: %u flows",
		    call_flows(e.fd, "m1", c, &on)) &&
	    T_CHECK(name, rewrite(&e, "m1", true, true, c2, NULL) == 0 && !strcmp(c, c2),
		    "answer on %s, offer on %s", c2, c) &&
	    T_CHECK(name, call_flows(e.fd, "m1", c, &on) == 2 && on, "%u flows",
		    call_flows(e.fd, "m1", c, &on)))
		T_PASS(name);
	name = "media_addrs_rtcp_mux_one_side";
	if (T_CHECK(name, rewrite(&e, "m2", false, true, c, NULL) == 0, "offer") &&
	    T_CHECK(name, rewrite(&e, "m2", true, false, c2, NULL) == 0, "answer") &&
	    T_CHECK(name, call_flows(e.fd, "m2", c, &on) == 4 && on, "%u flows",
		    call_flows(e.fd, "m2", c, &on)) &&
	    T_CHECK(name,
		    rewrite(&e, "m3", false, false, c, NULL) == 0 &&
			    rewrite(&e, "m3", true, true, c2, NULL) == 0 &&
			    call_flows(e.fd, "m3", c, &on) == 4,
		    "answerer alone: %u flows", call_flows(e.fd, "m3", c, &on)))
		T_PASS(name);
	env_free(&e);
}

/* An offer from an IPv4 caller to an IPv6 hop (its callee's leg gets IPv6 media). */
static int offer_to_v6(struct env *e, const char *id)
{
	struct media_src src = {.core = true, .to_af = AF_INET6};
	osip_message_t *m = sdp_msg(id, false, false);
	int err;

	if (!m)
		return -ENOMEM;
	src.sig.af = AF_INET;
	inet_pton(AF_INET, "192.0.2.10", &src.sig.v4);
	err = media_rewrite(e->mc, m, id, MEDIA_SIDE_A, &src);
	osip_message_free(m);
	return err;
}

/*
 * IPv6 legs are all on the one IPv6 media address: its ports are a range of
 * their own (were they taken from the call's IPv4 address, two calls on
 * different IPv4 addresses could get the same IPv6 relay port, one flow).
 * One pair a range: a call's IPv4 leg takes the first address's, its IPv6
 * leg the IPv6 range's; the next call is refused although the second IPv4
 * address is free, because the IPv6 range is full.
 */
static void test_v6_range(void)
{
	const char *name = "media_addrs_ipv6_range_own";
	struct xs_flow_key k, next, *prev = NULL;
	unsigned int n6 = 0;
	struct env e;
	int ok;

	if (env_addrs(&e, 2, 20000, 20001)) {
		T_FAIL(name, "setup");
		return;
	}
	inet_pton(AF_INET6, "2001:db8::1", &e.o.public_ip6);
	e.o.dual_stack = true;
	ok = T_CHECK(name, media_reconfigure(e.mc, &e.o) == 0, "reconfigure") &&
	     T_CHECK(name, offer_to_v6(&e, "v6-1") == 0, "first call refused");
	while (!bpf_map_get_next_key(e.fd, prev, &next)) {
		k = next;
		prev = &k;
		n6 += k.v6;
	}
	ok = ok &&
	     T_CHECK(name, flows_count(e.fd) == 4 && n6 == 2, "%u flows, %u keyed on IPv6",
		     flows_count(e.fd), n6) &&
	     T_CHECK(name, offer_to_v6(&e, "v6-2") == -ENOSPC,
		     "a second call past the IPv6 range") &&
	     T_CHECK(name, media_calls(e.mc) == 1 && flows_count(e.fd) == 4, "%u calls, %u flows",
		     media_calls(e.mc), flows_count(e.fd));
	if (ok)
		T_PASS(name);
	env_free(&e);
}

static void count_timeout(uint64_t cookie, void *arg)
{
	(void)cookie;
	(*(unsigned int *)arg)++;
}

/*
 * The media timeout looks only at the calls due: a ringing call polled
 * (due after Timer C) and answered later times out on the plain timeout,
 * and a call with a fresh packet does not.
 */
static void test_timeout_due(void)
{
	const char *name = "media_timeout_after_late_answer";
	unsigned int n = 0;
	char c[16];
	struct env e;
	int ok;

	if (env_addrs(&e, 2, 20000, 20099)) {
		T_FAIL(name, "setup");
		return;
	}
	e.o.timeout_s = 1;
	media_reconfigure(e.mc, &e.o);
	ok = T_CHECK(name, rewrite(&e, "t1", false, false, c, NULL) == 0, "offer") &&
	     T_CHECK(name, rewrite(&e, "t2", false, false, c, NULL) == 0, "offer");
	media_poll(e.mc, count_timeout, &n); /* both ringing: due after Timer C */
	ok = ok && T_CHECK(name, rewrite(&e, "t1", true, false, c, NULL) == 0, "answer");
	usleep(1200 * 1000);
	media_poll(e.mc, count_timeout, &n);
	ok = ok && T_CHECK(name, n == 1 && media_calls(e.mc) == 1, "%u timeouts, %u calls", n,
			   media_calls(e.mc));
	if (ok)
		T_PASS(name);
	env_free(&e);
}

static void test_option(void)
{
	const char *name = "media_addrs_option";
	struct sigd_cfg c;

	memset(&c, 0, sizeof(c));
	if (T_CHECK(name, !sigd_set_media_ip(&c, "203.0.113.1, 203.0.113.2") && c.n_media_ip == 2,
		    "two addresses: %u", c.n_media_ip) &&
	    T_CHECK(name, sigd_set_media_ip(&c, "203.0.113.1,2001:db8::1") == -EINVAL,
		    "IPv6 taken (media is IPv4)") &&
	    T_CHECK(name, sigd_set_media_ip(&c, "203.0.113.1,203.0.113.1") == -EINVAL,
		    "duplicate taken") &&
	    T_CHECK(name, sigd_set_media_ip(&c, "0.0.0.0") == -EINVAL, "wildcard taken") &&
	    T_CHECK(name,
		    sigd_set_media_ip(&c, "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5,10.0.0.6,"
					  "10.0.0.7,10.0.0.8,10.0.0.9,10.0.0.10,10.0.0.11,"
					  "10.0.0.12,10.0.0.13,10.0.0.14,10.0.0.15,10.0.0.16,"
					  "10.0.0.17") == -EINVAL,
		    "17 addresses taken") &&
	    T_CHECK(name, c.n_media_ip == 2, "a refused value changed the setting"))
		T_PASS(name);
}

int main(int argc, char **argv)
{
	struct env e;

	(void)argc;
	(void)argv;
	parser_init();
	test_option();
	if (env_new(&e)) {
		T_SKIP("media_addrs", "cannot create a BPF hash map (%s): needs root",
		       strerror(errno));
		return 0;
	}
	env_free(&e);
	test_spread_and_full();
	test_even_fill();
	test_rtcp_mux();
	test_timeout_due();
	test_v6_range();
	return check_failed ? 1 : 0;
}
