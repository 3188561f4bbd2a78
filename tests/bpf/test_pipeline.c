// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table tests of the xdpsbc verdict pipeline under
 * BPF_PROG_TEST_RUN: each row builds a frame, sets the media settings, runs
 * it once and checks the verdict and that exactly its reason's counters moved
 * (one packet, the frame's bytes). Unchanged frames must come back unchanged.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../lib/bpftest.h"
#include "../lib/check.h"
#include "../lib/pkt.h"

#define QINQ                   \
	{                      \
		0x88a8, 0x8100 \
	}
#define DOT1Q          \
	{              \
		0x8100 \
	}
#define CLEAN4	 .src = "198.51.100.10", .dst = "198.51.100.1"
#define CLEAN6	 .src = "2001:db8:1::10", .dst = "2001:db8:1::1"
#define BLOCKED4 .src = "203.0.113.9", .dst = "198.51.100.1"
#define BLOCKED6 .src = "2001:db8:bad::9", .dst = "2001:db8:1::1"
#define TRUSTED4 .src = "192.0.2.10", .dst = "198.51.100.1"
#define TRUSTED6 .src = "2001:db8:7::10", .dst = "2001:db8:1::1"
/* IPv6 extension headers in order. */
#define EXT(...) .ext = {__VA_ARGS__}, .n_ext = sizeof((uint8_t[]){__VA_ARGS__})
#define HBH	 IPPROTO_HOPOPTS
#define DST	 IPPROTO_DSTOPTS
#define RT	 IPPROTO_ROUTING
#define FRAG	 IPPROTO_FRAGMENT
#define AH	 IPPROTO_AH
#define UDP(p)	 .l4 = IPPROTO_UDP, .sport = 40000, .dport = (p)
#define TCP(p)	 .l4 = IPPROTO_TCP, .sport = 40000, .dport = (p)

/* Media settings a row runs with. */
enum cfg {
	C_OFF,	   /* defaults, nothing on */
	C_V6,	   /* media ipv4-only on */
	C_V6_TURN, /* ... and TURN */
	C_ZERO,	   /* element never initialised: all zeros */
	C_RPF,	   /* trusted only via the interface routing back (XS_CFG_RPF) */
};

struct row {
	const char *name;
	struct pkt_spec pkt;
	enum cfg cfg;
	const char *skip; /* why this row cannot run here */
	int reason;
};

/* ROW(description, settings, expected reason, packet spec...) */
#define ROW(n, c, r, ...)                                                         \
	{                                                                         \
		.name = (n), .cfg = (c), .reason = XS_##r, .pkt = { __VA_ARGS__ } \
	}
#define ROW_SKIP(n, c, r, why, ...)                                                              \
	{                                                                                        \
		.name = (n), .cfg = (c), .reason = XS_##r, .skip = (why), .pkt = { __VA_ARGS__ } \
	}

#define SKIP_SHORT                                                                          \
	"BPF_PROG_TEST_RUN rejects frames shorter than ETH_HLEN, also behind XDP metadata " \
	"(and drivers never deliver them)"

static const struct row rows[] = {
	/* clang-format off */
	/* IPv4 basics */
	ROW("v4 udp sip passes", C_V6, PASS, CLEAN4, UDP(5060), .payload = 100),
	ROW("v4 tcp passes", C_V6, PASS, CLEAN4, TCP(5061)),
	ROW("v4 icmp passes", C_OFF, PASS, CLEAN4, .l4 = IPPROTO_ICMP, .payload = 16),
	ROW("v4 udp to rtp port passes (v6-only drop)", C_V6_TURN, PASS, CLEAN4, UDP(15000)),
	ROW("v4 with options passes", C_OFF, PASS, CLEAN4, UDP(5060), .ip_opts = 8),
	ROW("v4 with options blocked", C_OFF, DROP_BLOCKLIST, BLOCKED4, UDP(5060), .ip_opts = 40),
	ROW("non-ip (arp) passes", C_OFF, PASS_NOT_IP, .ethertype = 0x0806, .payload = 28),
	ROW("non-ip (lldp) passes", C_OFF, PASS_NOT_IP, .ethertype = 0x88cc, .payload = 30),
	ROW("vlan-tagged arp passes not-ip", C_OFF, PASS_NOT_IP,
		.vlan = DOT1Q, .ethertype = 0x0806, .payload = 28),
	/* VLAN and QinQ */
	ROW("vlan v4 passes", C_OFF, PASS, .vlan = DOT1Q, CLEAN4, UDP(5060)),
	ROW("vlan v4 blocked", C_OFF, DROP_BLOCKLIST, .vlan = DOT1Q, BLOCKED4, UDP(5060)),
	ROW("qinq v4 passes", C_OFF, PASS, .vlan = QINQ, CLEAN4, UDP(5060)),
	ROW("qinq v4 blocked", C_OFF, DROP_BLOCKLIST, .vlan = QINQ, BLOCKED4, UDP(5060)),
	ROW("qinq v6 media dropped", C_V6, DROP_V6_MEDIA, .vlan = QINQ, CLEAN6, UDP(12000)),
	ROW("8021q-in-8021q v6 media dropped", C_V6, DROP_V6_MEDIA,
		.vlan = {0x8100, 0x8100}, CLEAN6, UDP(12000)),
	ROW("three vlan tags unparsed", C_OFF, PASS_UNPARSED,
		.vlan = {0x88a8, 0x8100, 0x8100}, BLOCKED4, UDP(5060)),
	/* truncated and malformed */
	ROW_SKIP("truncated ethernet (12 bytes)", C_OFF, PASS_UNPARSED, SKIP_SHORT,
		CLEAN4, UDP(5060), .truncate = 12),
	ROW("truncated vlan tag", C_OFF, PASS_UNPARSED,
		.vlan = DOT1Q, BLOCKED4, UDP(5060), .truncate = 16),
	ROW("truncated qinq inner tag", C_OFF, PASS_UNPARSED,
		.vlan = QINQ, BLOCKED4, UDP(5060), .truncate = 20),
	ROW("truncated ipv4 header", C_OFF, PASS_UNPARSED,
		BLOCKED4, UDP(5060), .truncate = 14 + 19),
	ROW("truncated ipv4 options", C_OFF, PASS_UNPARSED,
		BLOCKED4, UDP(5060), .ip_opts = 8, .truncate = 14 + 24),
	ROW("truncated udp header", C_V6, PASS_UNPARSED,
		CLEAN6, UDP(15000), .truncate = 14 + 40 + 7),
	ROW("truncated udp header v4", C_OFF, PASS_UNPARSED,
		CLEAN4, UDP(5060), .truncate = 14 + 20 + 7),
	ROW("truncated tcp header", C_OFF, PASS_UNPARSED,
		CLEAN4, TCP(5061), .truncate = 14 + 20 + 19),
	ROW("tcp data offset < 5", C_OFF, PASS_UNPARSED, CLEAN4, TCP(5061), .tcp_doff = 4),
	ROW("bad ihl (4)", C_OFF, PASS_UNPARSED, BLOCKED4, UDP(5060), .ihl = 4),
	ROW("ihl beyond the frame (15)", C_OFF, PASS_UNPARSED, BLOCKED4, UDP(5060), .ihl = 15),
	ROW("truncated ipv6 header", C_V6, PASS_UNPARSED,
		BLOCKED6, UDP(15000), .truncate = 14 + 39),
	/* IPv4 fragments */
	ROW("v4 first fragment judged (blocked)", C_OFF, DROP_BLOCKLIST,
		BLOCKED4, UDP(5060), .more_frags = true),
	ROW("v4 first fragment judged (passes)", C_OFF, PASS,
		CLEAN4, UDP(5060), .more_frags = true),
	ROW("v4 non-first fragment passes", C_OFF, PASS_FRAGMENT,
		CLEAN4, UDP(5060), .frag_off = 185, .payload = 64),
	ROW("v4 last fragment passes", C_OFF, PASS_FRAGMENT,
		CLEAN4, UDP(5060), .frag_off = 8, .payload = 3),
	ROW("v4 non-first fragment of blocked source dropped", C_OFF, DROP_BLOCKLIST,
		BLOCKED4, UDP(5060), .frag_off = 185, .more_frags = true, .payload = 64),
	ROW("v4 non-first fragment of trusted source", C_OFF, PASS_TRUSTED,
		TRUSTED4, UDP(5060), .frag_off = 185, .payload = 64),
	/* blocklist and trust */
	ROW("trusted beats blocklist", C_OFF, PASS_TRUSTED, TRUSTED4, UDP(5060)),
	/*
	 * Reverse path: the test run's ingress is loopback, which routes back to
	 * no remote source, so a trusted IPv4 source arriving there is spoofed.
	 */
	ROW("trusted (and blocked) source passes as trusted", C_OFF, PASS_TRUSTED,
		.src = "192.0.2.20", .dst = "198.51.100.1", UDP(5060)),
	ROW("rpf: trusted source on the wrong interface is blocked", C_RPF, DROP_BLOCKLIST,
		.src = "192.0.2.20", .dst = "198.51.100.1", UDP(5060)),
	ROW("rpf: v6 trusted source not checked", C_RPF, PASS_TRUSTED, TRUSTED6, UDP(5060)),
	ROW("nested expired /32 inside live /24 still dropped", C_OFF, DROP_BLOCKLIST,
		.src = "203.0.113.7", .dst = "198.51.100.1", UDP(5060)),
	ROW("expired entry passes before gc", C_OFF, PASS,
		.src = "198.51.100.70", .dst = "198.51.100.1", UDP(5060)),
	ROW("expiry ahead still drops", C_OFF, DROP_BLOCKLIST,
		.src = "198.51.100.130", .dst = "198.51.100.1", UDP(5060)),
	ROW("expired /32 over expired /28 over live /25", C_OFF, DROP_BLOCKLIST,
		.src = "198.51.100.133", .dst = "198.51.100.1", UDP(5060)),
	ROW("v6 blocked /48", C_OFF, DROP_BLOCKLIST, BLOCKED6, UDP(5060)),
	ROW("v6 nested expired /64 inside live /48", C_OFF, DROP_BLOCKLIST,
		.src = "2001:db8:bad:1::5", .dst = "2001:db8:1::1", UDP(5060)),
	ROW("v6 expired entry passes", C_OFF, PASS,
		.src = "2001:db8:dead::5", .dst = "2001:db8:1::1", UDP(5060)),
	ROW("v6 trusted beats blocklist", C_OFF, PASS_TRUSTED,
		.src = "2001:db8:bad:7::1", .dst = "2001:db8:1::1", UDP(5060)),
	ROW("v6 trusted skips media drop", C_V6_TURN, PASS_TRUSTED, TRUSTED6, UDP(15000)),
	/* IPv6 media drop, toggled at run time between rows */
	ROW("v6 sip 5060 passes with media drop on", C_V6_TURN, PASS,
		CLEAN6, UDP(5060), .payload = 400),
	ROW("v6 sip tcp 5061 passes", C_V6_TURN, PASS, CLEAN6, TCP(5061)),
	ROW("v6 rtp low bound dropped", C_V6, DROP_V6_MEDIA, CLEAN6, UDP(10000), .payload = 172),
	ROW("v6 rtp high bound dropped", C_V6, DROP_V6_MEDIA, CLEAN6, UDP(20000)),
	ROW("v6 below rtp range passes", C_V6, PASS, CLEAN6, UDP(9999)),
	ROW("v6 above rtp range passes", C_V6, PASS, CLEAN6, UDP(20001)),
	ROW("v6 rtp passes with media drop off", C_OFF, PASS, CLEAN6, UDP(15000)),
	ROW("v6 rtp passes with zeroed settings", C_ZERO, PASS, CLEAN6, UDP(15000)),
	ROW("v6 tcp to rtp range passes", C_V6_TURN, PASS, CLEAN6, TCP(15000)),
	ROW("v6 turn udp 3478 passes with turn off", C_V6, PASS, CLEAN6, UDP(3478)),
	ROW("v6 turn udp 3478 dropped with turn on", C_V6_TURN, DROP_V6_MEDIA, CLEAN6, UDP(3478)),
	ROW("v6 turn tls 5349 passes with turn off", C_V6, PASS, CLEAN6, TCP(5349)),
	ROW("v6 turn tls 5349 dropped with turn on", C_V6_TURN, DROP_V6_MEDIA, CLEAN6, TCP(5349)),
	ROW("v6 udp 5349 passes (tls is tcp)", C_V6_TURN, PASS, CLEAN6, UDP(5349)),
	ROW("v6 turn relay low bound dropped", C_V6_TURN, DROP_V6_MEDIA, CLEAN6, UDP(49152)),
	ROW("v6 turn relay high bound dropped", C_V6_TURN, DROP_V6_MEDIA, CLEAN6, UDP(49252)),
	ROW("v6 above turn relay passes", C_V6_TURN, PASS, CLEAN6, UDP(49253)),
	ROW("v6 turn relay passes with turn off", C_V6, PASS, CLEAN6, UDP(49200)),
	ROW("v6 vlan media dropped", C_V6, DROP_V6_MEDIA, .vlan = DOT1Q, CLEAN6, UDP(16000)),
	ROW("v6 icmpv6 passes", C_V6_TURN, PASS, CLEAN6, .l4 = IPPROTO_ICMPV6, .payload = 8),
	/* IPv6 extension headers and fragments */
	ROW("v6 hop-by-hop then media dropped", C_V6, DROP_V6_MEDIA,
		CLEAN6, UDP(15000), EXT(HBH)),
	ROW("v6 six extension headers then media dropped", C_V6, DROP_V6_MEDIA,
		CLEAN6, UDP(15000), EXT(HBH, DST, RT, FRAG, AH, DST)),
	ROW("v6 seven extension headers unparsed", C_V6, PASS_UNPARSED,
		CLEAN6, UDP(15000), EXT(HBH, DST, RT, FRAG, AH, DST, DST)),
	ROW("v6 ah then sip passes", C_V6, PASS,
		CLEAN6, UDP(5060), EXT(AH)),
	ROW("v6 truncated extension header", C_V6, PASS_UNPARSED,
		CLEAN6, UDP(15000), EXT(HBH, RT), .truncate = 14 + 40 + 8 + 1),
	ROW("v6 extension header longer than the frame", C_V6, PASS_UNPARSED,
		CLEAN6, UDP(15000), EXT(AH), .truncate = 14 + 40 + 12),
	ROW("v6 first fragment judged", C_V6, DROP_V6_MEDIA,
		CLEAN6, UDP(15000), EXT(FRAG), .more_frags = true),
	ROW("v6 non-first fragment passes", C_V6, PASS_FRAGMENT,
		CLEAN6, UDP(15000), EXT(FRAG), .frag_off = 100, .payload = 80),
	ROW("v6 non-first fragment of blocked source dropped", C_V6, DROP_BLOCKLIST,
		BLOCKED6, UDP(15000), EXT(FRAG), .frag_off = 100, .payload = 80),
	ROW("v6 esp passes", C_V6_TURN, PASS, CLEAN6, .l4 = 50, .payload = 40),
	/* clang-format on */
};

static int set_cfg(struct bt_ctx *t, enum cfg c)
{
	struct xs_config cfg;

	switch (c) {
	case C_OFF:
		bt_config_default(&cfg, 0);
		break;
	case C_V6:
		bt_config_default(&cfg, XS_CFG_V6_MEDIA_DROP);
		break;
	case C_V6_TURN:
		bt_config_default(&cfg, XS_CFG_V6_MEDIA_DROP | XS_CFG_TURN);
		break;
	case C_RPF:
		bt_config_default(&cfg, XS_CFG_RPF);
		break;
	default:
		memset(&cfg, 0, sizeof(cfg));
	}
	return bt_config_set(t, &cfg);
}

static int setup(struct bt_ctx *t)
{
	uint64_t now = bt_now_ns(), hour = 3600ULL * 1000000000ULL;
	int err = 0;

	err |= bt_trust_add(t, "192.0.2.10/32");
	err |= bt_trust_add(t, "2001:db8:7::/48");
	err |= bt_trust_add(t, "2001:db8:bad:7::/64");
	err |= bt_block_add(t, "192.0.2.10/32", 0); /* also trusted */
	err |= bt_trust_add(t, "192.0.2.20/32");
	err |= bt_block_add(t, "192.0.2.20/32", 0); /* also trusted: for the reverse path */
	err |= bt_block_add(t, "203.0.113.0/24", 0);
	err |= bt_block_add(t, "203.0.113.7/32", 1 /* long past */); /* expired, nested */
	err |= bt_block_add(t, "198.51.100.64/26", now - 1);	     /* expired, alone */
	err |= bt_block_add(t, "198.51.100.128/25", now + hour);
	err |= bt_block_add(t, "198.51.100.128/28", 1 /* long past */);
	err |= bt_block_add(t, "198.51.100.133/32", 1 /* long past */);
	err |= bt_block_add(t, "2001:db8:bad::/48", 0);
	err |= bt_block_add(t, "2001:db8:bad:1::/64", 1 /* long past */);
	err |= bt_block_add(t, "2001:db8:dead::/48", 1 /* long past */);
	return err;
}

static void check_entries(struct bt_ctx *t, uint64_t t0)
{
	const char *name = "blocklist hits and last hit recorded";
	uint64_t want24 = 0, want_trust = 0, now = bt_now_ns();
	struct xs_trust tr;
	struct xs_block b;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *src = rows[i].pkt.src;

		if (!src || rows[i].reason == XS_PASS_UNPARSED)
			continue;
		if (!strncmp(src, "203.0.113.", 10))
			want24++;
		if (!strcmp(src, "192.0.2.10"))
			want_trust++;
	}
	if (T_CHECK(name, bt_block_get(t, "203.0.113.0/24", &b) == 0, "lookup") &&
	    T_CHECK(name, b.hits == want24, "hits %llu, want %llu", (unsigned long long)b.hits,
		    (unsigned long long)want24) &&
	    T_CHECK(name, b.last_hit_ns >= t0 && b.last_hit_ns <= now,
		    "last_hit_ns %llu not in run", (unsigned long long)b.last_hit_ns))
		T_PASS(name);

	name = "expired entries count no hits";
	if (T_CHECK(name, bt_block_get(t, "203.0.113.7/32", &b) == 0, "lookup") &&
	    T_CHECK(name, b.hits == 0 && b.last_hit_ns == 0, "hits %llu",
		    (unsigned long long)b.hits) &&
	    T_CHECK(name, bt_block_get(t, "2001:db8:bad:1::/64", &b) == 0, "lookup") &&
	    T_CHECK(name, b.hits == 0, "v6 hits %llu", (unsigned long long)b.hits))
		T_PASS(name);

	name = "trusted blocklist entry counts no hits";
	if (T_CHECK(name, bt_block_get(t, "192.0.2.10/32", &b) == 0, "lookup") &&
	    T_CHECK(name, b.hits == 0, "hits %llu", (unsigned long long)b.hits))
		T_PASS(name);

	name = "trust hits recorded";
	if (T_CHECK(name, bt_trust_get(t, "192.0.2.10/32", &tr) == 0, "lookup") &&
	    T_CHECK(name, tr.hits == want_trust, "hits %llu, want %llu",
		    (unsigned long long)tr.hits, (unsigned long long)want_trust))
		T_PASS(name);
}

int main(void)
{
	uint8_t frame[PKT_MAX];
	struct bt_run run;
	struct bt_ctx t;
	char why[256];
	uint64_t t0;
	size_t i;
	int err, len;

	err = bt_open(&t);
	if (err) {
		T_FAIL("load xdpsbc", "%s", strerror(-err));
		return 1;
	}
	T_PASS("load xdpsbc (private maps)");
	if (setup(&t)) {
		T_FAIL("fill maps", "%s", strerror(errno));
		bt_close(&t);
		return 1;
	}
	t0 = bt_now_ns();

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		int ok;

		if (r->skip) {
			T_SKIP(r->name, "%s", r->skip);
			continue;
		}
		len = pkt_build(&r->pkt, frame, sizeof(frame));
		if (len < 0) {
			T_FAIL(r->name, "bad packet spec");
			continue;
		}
		err = set_cfg(&t, r->cfg);
		if (err) {
			T_FAIL(r->name, "config: %s", strerror(-err));
			continue;
		}
		memset(&run, 0, sizeof(run));
		ok = bt_expect(&t, frame, len, &run, r->reason, why, sizeof(why));
		if (ok < 0) {
			T_FAIL(r->name, "test run: %s", strerror(-ok));
			continue;
		}
		if (!ok) {
			T_FAIL(r->name, "%s", why);
			continue;
		}
		/* Nothing but the relay rewrites frames. */
		if (!T_CHECK(r->name, run.out_len == (uint32_t)len && !memcmp(run.out, frame, len),
			     "frame changed: %s",
			     pkt_diff(run.out, run.out_len, frame, len, why, sizeof(why))))
			continue;
		T_PASS(r->name);
	}
	check_entries(&t, t0);
	bt_close(&t);
	return check_failed ? 1 : 0;
}
