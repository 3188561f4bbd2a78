// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table tests of the SIP flood limit under BPF_PROG_TEST_RUN. Each
 * case is a short script of steps: send N frames and expect each to take a
 * verdict (with exactly that reason's counters moving by one frame each),
 * age a source's flood entry as if seconds had passed, expect a number of
 * ban events on the ring buffer, or expect the entry's count.
 *
 * Ageing rewrites the entry's times in the past rather than sleeping: the
 * program compares them with its flood clock (jiffies, see flood.h), so an
 * entry aged by 2 s is exactly what the program would find 2 s later, and
 * the test stays fast and deterministic. One case waits for real.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sys/stat.h>
#include <unistd.h>

#include "lib/xdpsbc.h"
#include "../lib/bpftest.h"
#include "../lib/check.h"
#include "../lib/pkt.h"

#define EDGE4	  .dst = "198.51.100.1"
#define EDGE6	  .dst = "2001:db8:1::1"
#define INVITE	  "INVITE sip:bob@example.com SIP/2.0\r\n"
#define RESPONSE  "SIP/2.0 200 OK\r\n"
#define UDP(p)	  .l4 = IPPROTO_UDP, .sport = 5060, .dport = (p)
#define TCP(p)	  .l4 = IPPROTO_TCP, .sport = 40000, .dport = (p)
#define TCP_ACK	  0x10
#define TCP_PSH	  0x08
#define MAX_STEPS 8

enum op {
	OP_END,
	OP_SEND,   /* n frames of pkt, each with verdict reason */
	OP_AGE,	   /* the entry of addr/prefix: times moved back by n seconds */
	OP_EVENTS, /* exactly n ban events since the last OP_EVENTS, for addr/prefix */
	OP_COUNT,  /* the entry of addr/prefix counts n requests (-1: no entry) */
	OP_BANNED, /* the entry is banned, until about n seconds from now */
	OP_CACHED, /* the entry caches the source checks (n = 1) or not (n = 0) */
	OP_BLOCK,  /* blocklist addr/prefix (a new blocklist generation) */
	OP_TRUST,  /* trust addr/prefix (a new generation, as the loader makes) */
};

struct step {
	enum op op;
	int n;
	int reason;
	const char *addr; /* OP_AGE / OP_EVENTS / OP_COUNT / OP_BANNED */
	unsigned int prefix;
	struct pkt_spec pkt;
};

enum cfg { C_DEFAULT, C_OFF, C_PORT5080, C_PREFIX24 };

struct tcase {
	const char *name;
	enum cfg cfg;
	struct step steps[MAX_STEPS];
};

#define SEND(count, r, ...)                                                           \
	{                                                                             \
		.op = OP_SEND, .n = (count), .reason = XS_##r, .pkt = { __VA_ARGS__ } \
	}
#define AGE(a, p, s)                                               \
	{                                                          \
		.op = OP_AGE, .n = (s), .addr = (a), .prefix = (p) \
	}
#define EVENTS(a, p, k)                                               \
	{                                                             \
		.op = OP_EVENTS, .n = (k), .addr = (a), .prefix = (p) \
	}
#define COUNT(a, p, k)                                               \
	{                                                            \
		.op = OP_COUNT, .n = (k), .addr = (a), .prefix = (p) \
	}
#define BANNED(a, p, s)                                               \
	{                                                             \
		.op = OP_BANNED, .n = (s), .addr = (a), .prefix = (p) \
	}
#define CACHED(a, p, k)                                               \
	{                                                             \
		.op = OP_CACHED, .n = (k), .addr = (a), .prefix = (p) \
	}
#define BLOCK(a, p)                                        \
	{                                                  \
		.op = OP_BLOCK, .addr = (a), .prefix = (p) \
	}
#define TRUST(a, p)                                        \
	{                                                  \
		.op = OP_TRUST, .addr = (a), .prefix = (p) \
	}

/* clang-format off */
static const struct tcase cases[] = {
	{ "under threshold: 16 requests in the window pass", C_DEFAULT, {
		SEND(16, PASS, .src = "198.51.100.21", EDGE4, UDP(5060), .data = INVITE),
		COUNT("198.51.100.21", 32, 16),
		EVENTS("198.51.100.21", 32, 0) } },
	{ "over threshold: the 17th request bans, one event", C_DEFAULT, {
		SEND(16, PASS, .src = "198.51.100.22", EDGE4, UDP(5060), .data = INVITE),
		SEND(1, DROP_FLOOD, .src = "198.51.100.22", EDGE4, UDP(5060), .data = INVITE),
		BANNED("198.51.100.22", 32, 300),
		EVENTS("198.51.100.22", 32, 1),
		SEND(20, DROP_FLOOD, .src = "198.51.100.22", EDGE4, UDP(5060), .data = INVITE),
		EVENTS("198.51.100.22", 32, 0) } },
	{ "banned: responses, keep-alives and TCP 5061 dropped too; other ports pass", C_DEFAULT, {
		SEND(16, PASS, .src = "198.51.100.23", EDGE4, UDP(5061), .data = INVITE),
		SEND(1, DROP_FLOOD, .src = "198.51.100.23", EDGE4, UDP(5061), .data = INVITE),
		SEND(1, DROP_FLOOD, .src = "198.51.100.23", EDGE4, UDP(5060), .data = RESPONSE),
		SEND(1, DROP_FLOOD, .src = "198.51.100.23", EDGE4, UDP(5060), .data = "\r\n\r\n"),
		SEND(1, DROP_FLOOD, .src = "198.51.100.23", EDGE4, TCP(5061)),
		SEND(3, PASS, .src = "198.51.100.23", EDGE4, UDP(5080), .data = INVITE),
		SEND(3, PASS, .src = "198.51.100.23", EDGE4, UDP(20000), .payload = 172),
		EVENTS("198.51.100.23", 32, 1) } },
	{ "window reset: 16 + 16 requests two seconds apart pass", C_DEFAULT, {
		SEND(16, PASS, .src = "198.51.100.24", EDGE4, UDP(5060), .data = INVITE),
		AGE("198.51.100.24", 32, 2),
		SEND(16, PASS, .src = "198.51.100.24", EDGE4, UDP(5060), .data = INVITE),
		COUNT("198.51.100.24", 32, 16),
		EVENTS("198.51.100.24", 32, 0) } },
	{ "window not over after 1 s: the 17th still bans", C_DEFAULT, {
		SEND(10, PASS, .src = "198.51.100.25", EDGE4, UDP(5060), .data = INVITE),
		AGE("198.51.100.25", 32, 1),
		SEND(6, PASS, .src = "198.51.100.25", EDGE4, UDP(5060), .data = INVITE),
		SEND(1, DROP_FLOOD, .src = "198.51.100.25", EDGE4, UDP(5060), .data = INVITE),
		EVENTS("198.51.100.25", 32, 1) } },
	{ "ban expiry: after 300 s requests pass, a new flood is a new ban and event", C_DEFAULT, {
		SEND(16, PASS, .src = "198.51.100.26", EDGE4, UDP(5060), .data = INVITE),
		SEND(2, DROP_FLOOD, .src = "198.51.100.26", EDGE4, UDP(5060), .data = INVITE),
		EVENTS("198.51.100.26", 32, 1),
		AGE("198.51.100.26", 32, 299),
		SEND(1, DROP_FLOOD, .src = "198.51.100.26", EDGE4, UDP(5060), .data = INVITE),
		AGE("198.51.100.26", 32, 1),
		SEND(16, PASS, .src = "198.51.100.26", EDGE4, UDP(5060), .data = INVITE),
		SEND(1, DROP_FLOOD, .src = "198.51.100.26", EDGE4, UDP(5060), .data = INVITE) } },
	{ "ban expiry: second ban reported once more", C_DEFAULT, {
		EVENTS("198.51.100.26", 32, 1),
		BANNED("198.51.100.26", 32, 300) } },
	{ "ipv6: a /64 is one source", C_DEFAULT, {
		SEND(8, PASS, .src = "2001:db8:5::1", EDGE6, UDP(5060), .data = INVITE),
		SEND(8, PASS, .src = "2001:db8:5::2", EDGE6, UDP(5060), .data = INVITE),
		COUNT("2001:db8:5::", 64, 16),
		SEND(1, DROP_FLOOD, .src = "2001:db8:5:0:ffff::3", EDGE6, UDP(5060), .data = INVITE),
		SEND(1, PASS, .src = "2001:db8:5:1::1", EDGE6, UDP(5060), .data = INVITE),
		EVENTS("2001:db8:5::", 64, 1) } },
	{ "ipv4 /24 configured: the network is one source", C_PREFIX24, {
		SEND(16, PASS, .src = "203.0.113.7", EDGE4, UDP(5060), .data = INVITE),
		SEND(1, DROP_FLOOD, .src = "203.0.113.99", EDGE4, UDP(5060), .data = INVITE),
		EVENTS("203.0.113.0", 24, 1) } },
	{ "trusted: exempt, not even counted", C_DEFAULT, {
		SEND(40, PASS_TRUSTED, .src = "192.0.2.10", EDGE4, UDP(5060), .data = INVITE),
		COUNT("192.0.2.10", 32, -1) } },
	{ "blocklisted: the blocklist drops first, nothing counted", C_DEFAULT, {
		SEND(20, DROP_BLOCKLIST, .src = "203.0.113.200", EDGE4, UDP(5060), .data = INVITE),
		COUNT("203.0.113.200", 32, -1) } },
	{ "non-SIP ports: not counted", C_DEFAULT, {
		SEND(40, PASS, .src = "198.51.100.27", EDGE4, UDP(5080), .data = INVITE),
		SEND(40, PASS, .src = "198.51.100.27", EDGE4, TCP(443), .tcp_flags = TCP_ACK | TCP_PSH,
		     .data = INVITE),
		COUNT("198.51.100.27", 32, -1) } },
	{ "responses, keep-alives and empty datagrams do not count", C_DEFAULT, {
		SEND(40, PASS, .src = "198.51.100.28", EDGE4, UDP(5060), .data = RESPONSE),
		SEND(40, PASS, .src = "198.51.100.28", EDGE4, UDP(5060), .data = "\r\n\r\n"),
		SEND(40, PASS, .src = "198.51.100.28", EDGE4, UDP(5060)),
		COUNT("198.51.100.28", 32, -1) } },
	{ "tcp: SYNs and bare ACKs do not count, segments with payload do", C_DEFAULT, {
		SEND(40, PASS, .src = "198.51.100.29", EDGE4, TCP(5060)),
		SEND(40, PASS, .src = "198.51.100.29", EDGE4, TCP(5061), .tcp_flags = TCP_ACK),
		COUNT("198.51.100.29", 32, -1),
		SEND(16, PASS, .src = "198.51.100.29", EDGE4, TCP(5060), .tcp_flags = TCP_ACK | TCP_PSH,
		     .data = INVITE),
		SEND(1, DROP_FLOOD, .src = "198.51.100.29", EDGE4, TCP(5061),
		     .tcp_flags = TCP_ACK | TCP_PSH, .payload = 100),
		EVENTS("198.51.100.29", 32, 1) } },
	{ "tls over ipv6: each segment with payload to 5061 counts, per /64", C_DEFAULT, {
		SEND(20, PASS, .src = "2001:db8:9::1", EDGE6, TCP(5061), .tcp_flags = TCP_ACK),
		SEND(8, PASS, .src = "2001:db8:9::1", EDGE6, TCP(5061), .tcp_flags = TCP_ACK | TCP_PSH,
		     .payload = 100),
		SEND(8, PASS, .src = "2001:db8:9::2", EDGE6, TCP(5061), .tcp_flags = TCP_ACK | TCP_PSH,
		     .payload = 100),
		COUNT("2001:db8:9::", 64, 16),
		SEND(1, DROP_FLOOD, .src = "2001:db8:9::3", EDGE6, TCP(5061),
		     .tcp_flags = TCP_ACK | TCP_PSH, .payload = 100),
		EVENTS("2001:db8:9::", 64, 1) } },
	{ "tls over ipv6, banned: the whole /64 dropped on 5061, SYNs too; the next /64 passes", C_DEFAULT, {
		BANNED("2001:db8:9::", 64, 300),
		SEND(2, DROP_FLOOD, .src = "2001:db8:9:0:abcd::1", EDGE6, TCP(5061)),
		SEND(2, DROP_FLOOD, .src = "2001:db8:9:0:abcd::1", EDGE6, TCP(5061),
		     .tcp_flags = TCP_ACK | TCP_PSH, .payload = 100),
		SEND(3, PASS, .src = "2001:db8:9:1::1", EDGE6, TCP(5061),
		     .tcp_flags = TCP_ACK | TCP_PSH, .payload = 100),
		COUNT("2001:db8:9:1::", 64, 3) } },
	{ "configured port 5080 is watched too", C_PORT5080, {
		SEND(16, PASS, .src = "198.51.100.30", EDGE4, UDP(5080), .data = INVITE),
		SEND(1, DROP_FLOOD, .src = "198.51.100.30", EDGE4, UDP(5080), .data = INVITE),
		EVENTS("198.51.100.30", 32, 1) } },
	{ "flood limiting off: nothing counted, nothing dropped", C_OFF, {
		SEND(40, PASS, .src = "198.51.100.31", EDGE4, UDP(5060), .data = INVITE),
		COUNT("198.51.100.31", 32, -1) } },
	{ "check cache: a counted /32 remembers it passed the source checks", C_DEFAULT, {
		SEND(3, PASS, .src = "198.51.100.32", EDGE4, UDP(5060), .data = INVITE),
		CACHED("198.51.100.32", 32, 1),
		SEND(3, PASS, .src = "198.51.100.32", EDGE4, UDP(5060), .data = RESPONSE),
		COUNT("198.51.100.32", 32, 3) } },
	{ "check cache: blocking the source drops it at once, uncounted", C_DEFAULT, {
		BLOCK("198.51.100.32", 32),
		SEND(2, DROP_BLOCKLIST, .src = "198.51.100.32", EDGE4, UDP(5060), .data = INVITE),
		COUNT("198.51.100.32", 32, 3) } },
	{ "check cache: trusting a counted source exempts it at once", C_DEFAULT, {
		SEND(3, PASS, .src = "198.51.100.33", EDGE4, UDP(5060), .data = INVITE),
		CACHED("198.51.100.33", 32, 1),
		TRUST("198.51.100.33", 32),
		SEND(30, PASS_TRUSTED, .src = "198.51.100.33", EDGE4, UDP(5060), .data = INVITE),
		COUNT("198.51.100.33", 32, 3) } },
	{ "check cache: a banned source put on the blocklist is dropped by the blocklist", C_DEFAULT, {
		SEND(16, PASS, .src = "198.51.100.34", EDGE4, UDP(5060), .data = INVITE),
		SEND(3, DROP_FLOOD, .src = "198.51.100.34", EDGE4, UDP(5060), .data = INVITE),
		CACHED("198.51.100.34", 32, 1),
		BLOCK("198.51.100.34", 32),
		SEND(2, DROP_BLOCKLIST, .src = "198.51.100.34", EDGE4, UDP(5060), .data = INVITE),
		EVENTS("198.51.100.34", 32, 1) } },
	{ "check cache: a /64 key is many addresses and caches nothing", C_DEFAULT, {
		SEND(2, PASS, .src = "2001:db8:7:1::1", EDGE6, UDP(5060), .data = INVITE),
		CACHED("2001:db8:7:1::", 64, 0),
		BLOCK("2001:db8:7:1::2", 128),
		SEND(1, DROP_BLOCKLIST, .src = "2001:db8:7:1::2", EDGE6, UDP(5060), .data = INVITE),
		SEND(1, PASS, .src = "2001:db8:7:1::1", EDGE6, UDP(5060), .data = INVITE),
		COUNT("2001:db8:7:1::", 64, 3) } },
	{ "ipv6 fragment to 5060: no ports, not counted", C_DEFAULT, {
		SEND(20, PASS_FRAGMENT, .src = "2001:db8:6::1", EDGE6, UDP(5060), .data = INVITE,
		     .ext = {IPPROTO_FRAGMENT}, .n_ext = 1, .frag_off = 100),
		COUNT("2001:db8:6::", 64, -1) } },
};
/* clang-format on */
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct bt_ctx t;
static struct ring_buffer *rb;

/* Events read from the ring buffer since the last OP_EVENTS. */
static struct xs_ban_event events[64];
static int nevents;

static int on_event(void *ctx, void *data, size_t size)
{
	if (size == sizeof(struct xs_ban_event) && nevents < 64)
		memcpy(&events[nevents], data, size);
	nevents++;
	return 0;
}

static int flood_key(const char *addr, unsigned int prefix, struct xs_flood_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = prefix;
	if (inet_pton(AF_INET, addr, k->addr) == 1)
		k->family = 4;
	else if (inet_pton(AF_INET6, addr, k->addr) == 1)
		k->family = 6;
	else
		return -EINVAL;
	return 0;
}

static int config_for(enum cfg c)
{
	struct xs_config cfg;

	bt_config_default(&cfg, XS_CFG_V6_MEDIA_DROP);
	if (c != C_OFF)
		bt_config_flood(&cfg, 16, 2, 300);
	if (c == C_PORT5080)
		cfg.flood_ports[2] = 5080;
	if (c == C_PREFIX24)
		cfg.flood_prefix4 = 24;
	return bt_config_set(&t, &cfg);
}

/* One step; 1 ok, 0 failed (reported). */
static int step(const char *name, const struct step *s, int idx)
{
	uint8_t frame[PKT_MAX];
	struct xs_flood_key k;
	struct xs_flood f;
	struct bt_run r;
	char why[256];
	uint64_t now = bt_now_ns(), sec = 1000000000ULL;
	int len, i, ok, err;

	switch (s->op) {
	case OP_SEND:
		len = pkt_build(&s->pkt, frame, sizeof(frame));
		if (len < 0) {
			T_FAIL(name, "step %d: bad packet spec", idx);
			return 0;
		}
		for (i = 0; i < s->n; i++) {
			memset(&r, 0, sizeof(r));
			ok = bt_expect(&t, frame, len, &r, s->reason, why, sizeof(why));
			if (ok != 1) {
				T_FAIL(name, "step %d, frame %d of %d: %s", idx, i + 1, s->n,
				       ok < 0 ? strerror(-ok) : why);
				return 0;
			}
		}
		return 1;
	case OP_AGE:
		if (flood_key(s->addr, s->prefix, &k) || bpf_map_lookup_elem(t.flood_fd, &k, &f)) {
			T_FAIL(name, "step %d: no flood entry for %s/%u", idx, s->addr, s->prefix);
			return 0;
		}
		f.window_tick -= s->n * bt_flood_hz(&t);
		if (f.banned_until_tick)
			f.banned_until_tick -= s->n * bt_flood_hz(&t);
		if (f.banned_until_ns)
			f.banned_until_ns -= s->n * sec;
		if (bpf_map_update_elem(t.flood_fd, &k, &f, BPF_EXIST)) {
			T_FAIL(name, "step %d: age: %s", idx, strerror(errno));
			return 0;
		}
		return 1;
	case OP_EVENTS:
		nevents = 0;
		err = ring_buffer__consume(rb);
		if (err < 0) {
			T_FAIL(name, "step %d: ring buffer: %s", idx, strerror(-err));
			return 0;
		}
		if (nevents != s->n) {
			T_FAIL(name, "step %d: %d ban events, want %d", idx, nevents, s->n);
			return 0;
		}
		flood_key(s->addr, s->prefix, &k);
		for (i = 0; i < nevents && i < 64; i++) {
			if (memcmp(&events[i].src, &k, sizeof(k)) || events[i].count != 17 ||
			    events[i].banned_until_ns < now + 299 * sec ||
			    events[i].banned_until_ns > now + 301 * sec) {
				T_FAIL(name,
				       "step %d: event %d: family %u /%u count %u until %+.1f s",
				       idx, i, events[i].src.family, events[i].src.prefixlen,
				       events[i].count,
				       ((double)events[i].banned_until_ns - (double)now) / 1e9);
				return 0;
			}
		}
		return 1;
	case OP_COUNT:
	case OP_BANNED:
		flood_key(s->addr, s->prefix, &k);
		err = bpf_map_lookup_elem(t.flood_fd, &k, &f) ? -errno : 0;
		if (s->op == OP_COUNT && s->n < 0) {
			if (err != -ENOENT)
				T_FAIL(name, "step %d: %s/%u has a flood entry (count %u)", idx,
				       s->addr, s->prefix, f.count);
			return err == -ENOENT;
		}
		if (err) {
			T_FAIL(name, "step %d: no flood entry for %s/%u", idx, s->addr, s->prefix);
			return 0;
		}
		if (s->op == OP_COUNT && f.count != (uint32_t)s->n) {
			T_FAIL(name, "step %d: count %u, want %d", idx, f.count, s->n);
			return 0;
		}
		if (s->op == OP_BANNED && (f.banned_until_ns < now + (s->n - 1) * sec ||
					   f.banned_until_ns > now + (s->n + 1) * sec)) {
			T_FAIL(name, "step %d: banned until %+.1f s, want about %+d s", idx,
			       ((double)f.banned_until_ns - (double)now) / 1e9, s->n);
			return 0;
		}
		return 1;
	case OP_CACHED:
		flood_key(s->addr, s->prefix, &k);
		if (bpf_map_lookup_elem(t.flood_fd, &k, &f)) {
			T_FAIL(name, "step %d: no flood entry for %s/%u", idx, s->addr, s->prefix);
			return 0;
		}
		if (!!f.chk_gen != s->n) {
			T_FAIL(name, "step %d: chk_gen %llu, want %s", idx,
			       (unsigned long long)f.chk_gen, s->n ? "set" : "0");
			return 0;
		}
		return 1;
	case OP_BLOCK:
	case OP_TRUST:
		snprintf(why, sizeof(why), "%s/%u", s->addr, s->prefix);
		err = s->op == OP_BLOCK ? bt_block_add(&t, why, 0) : bt_trust_add(&t, why);
		if (err) {
			T_FAIL(name, "step %d: add %s: %s", idx, why, strerror(-err));
			return 0;
		}
		return 1;
	case OP_END:
		break;
	}
	return 1;
}

/* n frames of @spec, each expected to take @reason; 1 when all did. */
static int send_n(const char *name, const struct pkt_spec *spec, int n, int reason)
{
	struct step st = {.op = OP_SEND, .n = n, .reason = reason, .pkt = *spec};

	return step(name, &st, 0);
}

/*
 * The flood clock against the wall: a 1 s window and a 1 s ban really end
 * after a second (catches a wrong tick rate, which ageing would not).
 */
static void test_real_time(void)
{
	const char *name = "real time: 1 s window and 1 s ban end after a second";
	struct pkt_spec spec = {.src = "198.51.100.41", EDGE4, UDP(5060), .data = INVITE};
	struct timespec ts = {.tv_sec = 1, .tv_nsec = 150 * 1000 * 1000};
	struct xs_config cfg;

	bt_config_default(&cfg, 0);
	bt_config_flood(&cfg, 16, 1, 1);
	if (bt_config_set(&t, &cfg)) {
		T_FAIL(name, "config: %s", strerror(errno));
		return;
	}
	if (!send_n(name, &spec, 16, XS_PASS))
		return;
	nanosleep(&ts, NULL);
	if (!send_n(name, &spec, 16, XS_PASS) || !send_n(name, &spec, 2, XS_DROP_FLOOD))
		return;
	nanosleep(&ts, NULL);
	if (!send_n(name, &spec, 16, XS_PASS) || !send_n(name, &spec, 1, XS_DROP_FLOOD))
		return;
	nevents = 0;
	ring_buffer__consume(rb);
	if (T_CHECK(name, nevents == 2, "%d ban events, want 2", nevents))
		T_PASS(name);
}

struct got {
	int n;
	struct xs_ban_event ev;
};

static int loader_cb(const struct xs_ban_event *ev, void *arg)
{
	struct got *g = arg;

	g->ev = *ev;
	g->n++;
	return 0;
}

static int walk_cb(const struct xs_flood_key *k, const struct xs_flood *v, void *arg)
{
	(*(unsigned long *)arg)++;
	return 0;
}

/*
 * The loader's side: xs_bans_open() on a pinned xs_bans gets each new ban
 * once, and xs_flood_walk() sees every source the cases above left.
 */
static void test_loader(void)
{
	const char *name = "loader: xs_bans_open/poll get one event per ban from the pin";
	struct pkt_spec spec = {.src = "198.51.100.40", EDGE4, UDP(5060), .data = INVITE};
	struct xs_maps m = {.flood = t.flood_fd};
	struct xs_bans *b = NULL;
	struct got g = {};
	uint8_t frame[PKT_MAX];
	char root[64], path[96], cidr[64];
	unsigned long walked = 0;
	struct bt_run r;
	int i, len, n, err;

	snprintf(root, sizeof(root), "/sys/fs/bpf/xdpsbc-test-flood-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/%s", root, XS_MAP_BANS);
	err = xs_bpffs_ensure(root);
	if (!err && mkdir(root, 0700) && errno != EEXIST)
		err = -errno;
	if (!err && bpf_obj_pin(t.bans_fd, path))
		err = -errno;
	err = err ?: xs_bans_open(root, loader_cb, &g, &b);
	if (err) {
		T_FAIL(name, "pin and open %s: %s", path, strerror(-err));
		goto out;
	}
	config_for(C_DEFAULT);
	len = pkt_build(&spec, frame, sizeof(frame));
	for (i = 0; i < 20; i++) {
		memset(&r, 0, sizeof(r));
		bt_run(&t, frame, len, &r);
	}
	n = xs_bans_poll(b, 100);
	n += xs_bans_poll(b, 0);
	xs_flood_key_format(&g.ev.src, cidr, sizeof(cidr));
	if (T_CHECK(name, n == 1 && g.n == 1, "poll handled %d, callback ran %d times", n, g.n) &&
	    T_CHECK(name, !strcmp(cidr, "198.51.100.40/32") && g.ev.count == 17,
		    "event for %s count %u", cidr, g.ev.count) &&
	    T_CHECK(name, xs_bans_fd(b) >= 0, "no epoll fd"))
		T_PASS(name);

	name = "loader: xs_flood_walk sees every source";
	err = xs_flood_walk(&m, walk_cb, &walked);
	/*
	 * Counted above: 198.51.100.21-26, .29, .30, .32-34, .40 (/32),
	 * 203.0.113.0/24, 2001:db8:5::/64, 2001:db8:5:1::/64, 2001:db8:9::/64,
	 * 2001:db8:9:1::/64 and 2001:db8:7:1::/64. Nobody else is counted.
	 */
	if (T_CHECK(name, !err && walked == 18, "err %d, %lu entries, want 18", err, walked))
		T_PASS(name);
out:
	xs_bans_close(b);
	unlink(path);
	rmdir(root);
}

int main(void)
{
	unsigned int i, j;
	int err;

	err = bt_open(&t);
	if (err) {
		T_FAIL("flood: load xdpsbc", "%s", strerror(-err));
		return 1;
	}
	T_PASS("flood: load xdpsbc (private maps)");
	rb = ring_buffer__new(t.bans_fd, on_event, NULL, NULL);
	err = rb ? 0 : -errno;
	err = err ?: bt_trust_add(&t, "192.0.2.0/24");
	err = err ?: bt_block_add(&t, "203.0.113.200/32", 0);
	if (err) {
		T_FAIL("flood: set up maps", "%s", strerror(-err));
		return 1;
	}
	for (i = 0; i < NCASES; i++) {
		const struct tcase *c = &cases[i];
		int ok = 1;

		err = config_for(c->cfg);
		if (err) {
			T_FAIL(c->name, "config: %s", strerror(-err));
			continue;
		}
		for (j = 0; ok && j < MAX_STEPS && c->steps[j].op != OP_END; j++)
			ok = step(c->name, &c->steps[j], j + 1);
		if (ok)
			T_PASS(c->name);
	}
	test_loader();
	test_real_time();
	ring_buffer__free(rb);
	bt_close(&t);
	return check_failed ? 1 : 0;
}
