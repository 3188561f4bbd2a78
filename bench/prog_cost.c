// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-packet cost of every xdpsbc verdict path under BPF_PROG_TEST_RUN,
 * beside the trivial xdp_pass / xdp_tx programs measured in the same run,
 * with the blocklist and the flow table at 1, 10^3 and 10^6 entries; and the
 * kernel memory per blocklist entry, per flow and per flood-limit source
 * ("memlock:" in fdinfo, which is the map's own accounting of its memory on
 * this kernel).
 *
 * The flood limit is on, as by default, with a rate no packet of the bench
 * reaches: every SIP packet of the pass rows is counted (lookup, clock,
 * atomic add) and none is banned; the flood-drop row's source is banned.
 *
 * BPF_PROG_TEST_RUN with repeat runs the program over the same buffer and
 * keeps what it wrote, so the relay is measured on a pair of latched flows
 * that send each other's output back: every repeat is a full lookup, source
 * check, next hop and rewrite. The relay decrements the TTL/hop limit, so a
 * looped frame starts at 255 and a run is bounded to 250 repeats (RELAY_REPEAT);
 * its baseline is xdp_tx at the same count. A translating pair alternates
 * IPv4->IPv6 and IPv6->IPv4 (its frame grows and shrinks by 20 bytes in
 * turn); each direction alone is measured single-shot (a fresh frame per
 * run, repeat 1, against xdp_tx single-shot), which includes the test-run
 * overhead of one program call.
 *
 * Usage: prog_cost [--quick] [--json FILE]   (QUICK=1 in the environment = --quick)
 * Markdown on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../tests/lib/bpftest.h"
#include "../tests/lib/pkt.h"
#include "xdp_trivial.skel.h"
#include "xdpsbc.skel.h"

#define EDGE	"203.0.113.1"
#define PEER1	"203.0.113.20"
#define PEER2	"203.0.113.30"
#define EDGE6	"2001:db8:a::1"
#define PEER1_6 "2001:db8:a::20"
#define PEER2_6 "2001:db8:a::30"
#define MAC_XSA "02:00:00:00:aa:01"
#define MAC_P1	"02:00:00:00:00:20"
#define MAC_P2	"02:00:00:00:00:30"
/* A looped relay frame loses a hop per repeat: 255 hops, 250 repeats a run. */
#define RELAY_REPEAT 250
/* Trials of the short runs (relay loops and single shots); 5 in a quick run. */
static unsigned int short_trials = 63;

enum base { BASE_PASS, BASE_TX };

struct path {
	const char *name;
	int reason;
	enum base base;
	double goal; /* the ratio to the baseline the design aims at */
	struct pkt_spec pkt;
	unsigned int max_repeat; /* 0: the run's repeat; else at most this (a frame that changes) */
};

/* clang-format off */
static const struct path paths[] = {
	{ "pass (v4 sip)", XS_PASS, BASE_PASS, 1.5,
	  { .src = "198.51.100.10", .dst = EDGE, .sport = 5060, .dport = 5060, .payload = 400 }, 0 },
	{ "pass (v4 udp, not sip)", XS_PASS, BASE_PASS, 1.5,
	  { .src = "198.51.100.10", .dst = EDGE, .sport = 5060, .dport = 5080, .payload = 400 }, 0 },
	{ "pass (v6 sip)", XS_PASS, BASE_PASS, 1.5,
	  { .src = "2001:db8:1::10", .dst = "2001:db8:1::1", .sport = 5060, .dport = 5060,
	    .payload = 400 }, 0 },
	{ "trusted", XS_PASS_TRUSTED, BASE_PASS, 1.5,
	  { .src = "192.0.2.10", .dst = EDGE, .sport = 5060, .dport = 5060, .payload = 400 }, 0 },
	{ "blocklist drop", XS_DROP_BLOCKLIST, BASE_PASS, 1.5,
	  { .src = "198.51.100.200", .dst = EDGE, .sport = 5060, .dport = 5060, .payload = 400 }, 0 },
	{ "ipv6 media drop", XS_DROP_V6_MEDIA, BASE_PASS, 1.5,
	  { .src = "2001:db8:1::10", .dst = "2001:db8:1::1", .sport = 30000, .dport = 15000,
	    .payload = 172 }, 0 },
	{ "flood drop (banned source)", XS_DROP_FLOOD, BASE_PASS, 1.5,
	  { .src = "198.51.100.66", .dst = EDGE, .sport = 5060, .dport = 5060, .payload = 400 }, 0 },
	{ "pinhole drop", XS_DROP_PINHOLE, BASE_PASS, 1.5,
	  { .src = "198.51.100.10", .dst = EDGE, .sport = 30000, .dport = 20004, .payload = 172 }, 0 },
	{ "relay rewrite + XDP_TX", XS_RELAY_TX, BASE_TX, 2.5,
	  { .smac = MAC_P1, .dmac = MAC_XSA, .src = EDGE, .dst = PEER2,
	    .sport = 20002, .dport = 20006, .payload = 172, .ttl = 255 }, RELAY_REPEAT },
	{ "relay v6 rewrite + XDP_TX", XS_RELAY_TX, BASE_TX, 2.5,
	  { .smac = MAC_P1, .dmac = MAC_XSA, .src = EDGE6, .dst = PEER2_6,
	    .sport = 20002, .dport = 20006, .payload = 172, .ttl = 255 }, RELAY_REPEAT },
	{ "relay v4<->v6 translation, alternating + XDP_TX", XS_RELAY_TX, BASE_TX, 2.5,
	  { .smac = MAC_P1, .dmac = MAC_XSA, .src = EDGE, .dst = PEER2,
	    .sport = 20016, .dport = 20010, .payload = 172, .ttl = 255 }, RELAY_REPEAT },
	{ "relay v4->v6 translation + XDP_TX, single-shot", XS_RELAY_TX, BASE_TX, 2.5,
	  { .smac = MAC_P1, .dmac = MAC_XSA, .src = EDGE, .dst = PEER2,
	    .sport = 20016, .dport = 20010, .payload = 172 }, 1 },
	{ "relay v6->v4 translation + XDP_TX, single-shot", XS_RELAY_TX, BASE_TX, 2.5,
	  { .smac = MAC_P1, .dmac = MAC_XSA, .src = EDGE6, .dst = PEER1_6,
	    .sport = 20014, .dport = 20012, .payload = 172 }, 1 },
	{ "relay v4 rewrite + XDP_TX, single-shot", XS_RELAY_TX, BASE_TX, 2.5,
	  { .smac = MAC_P1, .dmac = MAC_XSA, .src = EDGE, .dst = PEER2,
	    .sport = 20002, .dport = 20006, .payload = 172 }, 1 },
};
/* clang-format on */
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static struct bt_ctx t;
static struct xdp_trivial *triv;
static int if_a;
static unsigned int repeat = 1000000, trials = 7;
static int have_net;

/*
 * Median per-packet ns of @trials runs of @repeat, as the kernel measures it
 * (1 ns resolution). Not wall time: with repeat > 1 the syscall re-targets
 * the XDP dispatcher before and after the loop, which costs tens of ms here.
 */
static double measure_n(int prog_fd, const uint8_t *frame, int len, uint32_t ifindex,
			unsigned int repeat, unsigned int trials)
{
	double v[64], tmp;
	struct bt_run r;
	unsigned int i, j;

	for (i = 0; i < trials; i++) {
		memset(&r, 0, sizeof(r));
		r.ifindex = ifindex;
		r.repeat = repeat;
		if (bt_run_prog(prog_fd, frame, len, &r))
			return -1;
		v[i] = r.duration_ns;
	}
	for (i = 0; i < trials; i++)
		for (j = i + 1; j < trials; j++)
			if (v[j] < v[i])
				tmp = v[i], v[i] = v[j], v[j] = tmp;
	return v[trials / 2];
}

static double measure(int prog_fd, const uint8_t *frame, int len, uint32_t ifindex)
{
	return measure_n(prog_fd, frame, len, ifindex, repeat, trials);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 16);
}

/* Random /32s and /24s (alternating), never inside the bench's own networks. */
static int block_fill(unsigned int have, unsigned int want)
{
	struct xs_block v = {.added_ns = bt_now_ns()};
	struct xs_lpm4 k;
	uint32_t a, net;

	while (have < want) {
		a = rnd();
		k.prefixlen = (have & 1) ? 24 : 32;
		if (k.prefixlen == 24)
			a &= 0xffffff00;
		net = a & 0xffffff00;
		if (net == 0xc0000200 || net == 0xc6336400 || net == 0xcb007100)
			continue; /* 192.0.2/24, 198.51.100/24, 203.0.113/24 */
		k.addr = htonl(a);
		v.prefixlen = k.prefixlen;
		if (bpf_map_update_elem(t.block4_fd, &k, &v, BPF_NOEXIST)) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		have++;
	}
	return bt_blkgen_bump(&t); /* as the loader does after adding */
}

/* Flows on other edge addresses/ports than the bench pair. */
static int flows_fill(unsigned int have, unsigned int want)
{
	struct xs_flow f = {.dst_addr = htonl(0xc6336414), .src_addr = htonl(0xcb007101)};
	struct xs_flow_key k = {.proto = IPPROTO_UDP};

	for (; have < want; have++) {
		/* Relay-range ports on 100.64.0.0/10 edge addresses: never a bench address. */
		k.addr = htonl(0x64400000 + (have >> 13));
		k.port = htons(20000 + (have & 0x1fff));
		f.dst_port = k.port;
		if (bpf_map_update_elem(t.flows_fd, &k, &f, BPF_NOEXIST))
			return -errno;
	}
	return 0;
}

/* @s into an address union field: 4 bytes for IPv4, 16 for IPv6; 1 when IPv6. */
static int addr_put(const char *s, void *field)
{
	if (inet_pton(AF_INET6, s, field) == 1)
		return 1;
	inet_pton(AF_INET, s, field);
	return 0;
}

/*
 * A flow as sigd programs it, latched: the source check is part of every
 * relayed packet. Its peer is where the looped packet comes from, the edge
 * address @peer and port of the other flow of the pair; it leaves from @src.
 */
static int flow_put(const char *addr, uint16_t port, const char *dst, uint16_t dport,
		    const char *src, uint16_t sport, const char *peer, uint16_t peer_port)
{
	struct xs_flow f = {.dst_port = htons(dport),
			    .src_port = htons(sport),
			    .peer_port = htons(peer_port),
			    .flags = XS_FLOW_LATCH | XS_FLOW_LATCHED};

	if (addr_put(dst, f.dst_addr6))
		f.flags |= XS_FLOW_OUT6;
	addr_put(src, f.src_addr6);
	addr_put(peer, f.peer_addr6);
	return bt_flow_set(&t, addr, port, &f);
}

static int setup_maps(void)
{
	struct xs_config c;
	int err;

	struct xs_flood_key fk = {.family = 4, .prefixlen = 32, .addr = {198, 51, 100, 66}};
	/* Banned for ever: userspace cannot read the program's flood clock (jiffies). */
	struct xs_flood fv = {.banned_until_tick = UINT64_MAX, .count = 17, .bans = 1};

	bt_config_default(&c, XS_CFG_V6_MEDIA_DROP | XS_CFG_TURN | XS_CFG_PINHOLES);
	c.relay_min = 20000;
	c.relay_max = 29999;
	bt_config_flood(&c, UINT32_MAX - 1, 2, 300);
	err = bt_config_set(&t, &c);
	fv.banned_until_ns = bt_now_ns() + 3600ULL * 1000000000ULL;
	if (!err && bpf_map_update_elem(t.flood_fd, &fk, &fv, BPF_ANY))
		err = -errno;
	err = err ?: bt_trust_add(&t, "192.0.2.10/32");
	err = err ?: bt_block_add(&t, "198.51.100.192/26", 0);
	/* The ping-pong pair: each rewrites the frame into the other's key. */
	err = err ?: flow_put(PEER2, 20006, PEER1, 20008, EDGE, 20000, EDGE, 20002);
	err = err ?: flow_put(PEER1, 20008, PEER2, 20006, EDGE, 20002, EDGE, 20000);
	/* The same in IPv6, and a pair that translates one way and back. */
	err = err ?: flow_put(PEER2_6, 20006, PEER1_6, 20008, EDGE6, 20000, EDGE6, 20002);
	err = err ?: flow_put(PEER1_6, 20008, PEER2_6, 20006, EDGE6, 20002, EDGE6, 20000);
	err = err ?: flow_put(PEER2, 20010, PEER1_6, 20012, EDGE6, 20014, EDGE, 20016);
	err = err ?: flow_put(PEER1_6, 20012, PEER2, 20010, EDGE, 20016, EDGE6, 20014);
	return err;
}

static int topology(void)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"ip link add xsA address " MAC_XSA " type veth peer name xsAp",
		"ip link set xsA up && ip link set xsAp up",
		"sysctl -qw net.ipv6.conf.all.forwarding=1",
		"ip addr add " EDGE "/24 dev xsA",
		"ip -6 addr add " EDGE6 "/64 dev xsA nodad",
		"ip neigh replace " PEER1 " lladdr " MAC_P1 " dev xsA nud permanent",
		"ip neigh replace " PEER2 " lladdr " MAC_P2 " dev xsA nud permanent",
		"ip -6 neigh replace " PEER1_6 " lladdr " MAC_P1 " dev xsA nud permanent",
		"ip -6 neigh replace " PEER2_6 " lladdr " MAC_P2 " dev xsA nud permanent",
	};
	char why[256];

	if (bt_netns_setup(cmds, sizeof(cmds) / sizeof(cmds[0]), why, sizeof(why)) ||
	    bt_forwarding("xsA", 1)) {
		fprintf(stderr, "prog_cost: no relay topology (%s): relay path not measured\n",
			why);
		return -1;
	}
	if_a = if_nametoindex("xsA");
	return if_a ? 0 : -1;
}

struct result {
	const char *path;
	const char *verdict;
	unsigned int entries;
	double ns, base_ns, ratio, goal;
	const char *base;
	unsigned int repeat;
};

static struct result results[3 * NPATHS];
static int nresults;

/* Check the path really takes its verdict, then time it. */
static int run_path(const struct path *p, unsigned int entries, double base_pass, double base_tx,
		    const uint8_t *tx_frame, int tlen)
{
	unsigned int rep = repeat, tri = trials;
	struct xs_counter before[XS_REASON_MAX], after[XS_REASON_MAX];
	uint8_t frame[PKT_MAX];
	struct result *res = &results[nresults];
	struct bt_run r = {};
	uint32_t ifindex = p->base == BASE_TX ? if_a : 0;
	int len;
	double ns;

	if (p->base == BASE_TX && !have_net)
		return 0;
	len = pkt_build(&p->pkt, frame, sizeof(frame));
	r.ifindex = ifindex;
	if (len < 0 || bt_stats(&t, before) || bt_run(&t, frame, len, &r) || bt_stats(&t, after))
		return -EIO;
	if (after[p->reason].packets != before[p->reason].packets + 1) {
		fprintf(stderr, "prog_cost: %s did not take verdict %s\n", p->name,
			bt_reason_name(p->reason));
		return -EPROTO;
	}
	if (p->max_repeat && p->max_repeat < rep) {
		rep = p->max_repeat;
		tri = short_trials;
		/* The baseline at the same count: the per-run overhead weighs the same. */
		base_tx = measure_n(bpf_program__fd(triv->progs.xdp_tx), tx_frame, tlen, if_a, rep,
				    tri);
	}
	ns = measure_n(t.prog_fd, frame, len, ifindex, rep, tri);
	if (ns < 0)
		return -EIO;
	if (bt_stats(&t, before) ||
	    before[p->reason].packets < after[p->reason].packets + (__u64)rep * tri) {
		fprintf(stderr, "prog_cost: %s left its verdict during the run\n", p->name);
		return -EPROTO;
	}
	res->path = p->name;
	res->verdict = bt_reason_name(p->reason);
	res->entries = entries;
	res->ns = ns;
	res->base = p->base == BASE_TX ? "xdp_tx" : "xdp_pass";
	res->base_ns = p->base == BASE_TX ? base_tx : base_pass;
	res->ratio = ns / res->base_ns;
	res->goal = p->goal;
	res->repeat = rep;
	nresults++;
	return 0;
}

/*
 * What the verifier did per program (bpf_prog_info.verified_insns: the
 * instructions it walked, its complexity measure) and the program's size, so
 * a change that bloats the program shows across runs and kernels.
 */
struct prog_cost {
	char name[BPF_OBJ_NAME_LEN];
	__u32 verified_insns, xlated_insns, jited_bytes;
};
static struct prog_cost progs[8];
static int nprogs;

static void prog_costs(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		struct prog_cost *p = &progs[nprogs];

		if (nprogs == (int)(sizeof(progs) / sizeof(progs[0])) ||
		    bpf_program__fd(prog) < 0 ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		snprintf(p->name, sizeof(p->name), "%s", bpf_program__name(prog));
		p->verified_insns = info.verified_insns;
		p->xlated_insns = info.xlated_prog_len / 8;
		p->jited_bytes = info.jited_prog_len;
		nprogs++;
	}
}

int main(int argc, char **argv)
{
	unsigned int sizes[3] = {1, 1000, 1000000};
	long long mem_block0, mem_flow0, mem_block = 0, mem_flow = 0, mem_flood;
	const char *json = NULL, *q = getenv("QUICK");
	uint8_t pass_frame[PKT_MAX], tx_frame[PKT_MAX];
	int quick = q && *q && strcmp(q, "0");
	unsigned int s, i, have_b = 1, have_f = 6;
	double base_pass = 0, base_tx = 0;
	struct utsname un;
	cpu_set_t cpus;
	int err, plen, tlen;
	FILE *jf;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--json") && i + 1 < (unsigned int)argc)
			json = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--quick] [--json FILE]\n", argv[0]);
			return 2;
		}
	}
	if (quick) {
		/* A smoke run of the harness (make test), not a measurement. */
		repeat = 2000;
		trials = 2;
		short_trials = 5;
		sizes[1] = 100;
		sizes[2] = 1000;
	}
	/* One CPU: per-CPU counters and caches stay put between runs. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	have_net = topology() == 0;
	err = bt_open_sized(&t, 0); /* the flood map at its real size, for its memory */
	if (err) {
		fprintf(stderr, "prog_cost: load xdpsbc: %s\n", strerror(-err));
		return 1;
	}
	triv = xdp_trivial__open_and_load();
	if (!triv) {
		fprintf(stderr, "prog_cost: load xdp_trivial: %s\n", strerror(errno));
		return 1;
	}
	prog_costs(t.skel->obj);
	prog_costs(triv->obj);
	mem_block0 = bt_map_memlock(t.block4_fd);
	mem_flow0 = bt_map_memlock(t.flows_fd);
	mem_flood = bt_map_memlock(t.flood_fd); /* LRU: preallocated, all of it from the start */
	if (setup_maps()) {
		fprintf(stderr, "prog_cost: fill maps: %s\n", strerror(errno));
		return 1;
	}
	plen = pkt_build(&paths[0].pkt, pass_frame, sizeof(pass_frame));
	tlen = pkt_build(&paths[NPATHS - 1].pkt, tx_frame, sizeof(tx_frame));

	for (s = 0; s < 3; s++) {
		err = block_fill(have_b, sizes[s]);
		err = err ?: flows_fill(have_f, sizes[s] + 5); /* + the pairs' other flows */
		if (err) {
			fprintf(stderr, "prog_cost: fill to %u: %s\n", sizes[s], strerror(-err));
			return 1;
		}
		have_b = sizes[s];
		have_f = sizes[s] + 5;
		if (s == 2) {
			mem_block = bt_map_memlock(t.block4_fd);
			mem_flow = bt_map_memlock(t.flows_fd);
		}
		base_pass = measure(bpf_program__fd(triv->progs.xdp_pass), pass_frame, plen, 0);
		base_tx = have_net ? measure(bpf_program__fd(triv->progs.xdp_tx), tx_frame, tlen,
					     if_a)
				   : 0;
		for (i = 0; i < NPATHS; i++) {
			err = run_path(&paths[i], sizes[s], base_pass, base_tx, tx_frame, tlen);
			if (err) {
				fprintf(stderr, "prog_cost: %s: %s\n", paths[i].name,
					strerror(-err));
				return 1;
			}
		}
	}

	uname(&un);
	printf("# xdpsbc per-packet cost (BPF_PROG_TEST_RUN)\n\n");
	printf("Kernel %s, %s mode: median of %u runs of %u repeats (kernel-measured, 1 ns\n"
	       "resolution), one CPU. Entries: the IPv4 blocklist holds that many random /32s\n"
	       "and /24s, the flow table that many flows plus five (the relayed pairs). Goals\n"
	       "(the design's per-path targets) are reported, not asserted.\n\n",
	       un.release, quick ? "quick" : "full", trials, repeat);
	printf("| path | verdict | entries | repeat | ns/pkt | baseline | baseline ns/pkt | ratio "
	       "| goal |\n");
	printf("|---|---|---:|---:|---:|---|---:|---:|---|\n");
	for (i = 0; i < (unsigned int)nresults; i++) {
		struct result *r = &results[i];

		printf("| %s | %s | %u | %u | %.0f | %s | %.0f | %.2fx | %s %.1fx |\n", r->path,
		       r->verdict, r->entries, r->repeat, r->ns, r->base, r->base_ns, r->ratio,
		       r->ratio <= r->goal ? "met" : "MISSED", r->goal);
	}
	if (!have_net)
		printf("\nRelay path not measured: no private network namespace (needs root).\n");
	printf("\n## Across sizes (ns/pkt)\n\n| path |");
	for (s = 0; s < 3; s++)
		printf(" %u entries |", sizes[s]);
	printf(" largest / smallest |\n|---|---:|---:|---:|---:|\n");
	for (i = 0; i < NPATHS; i++) {
		double first = 0, last = 0;
		int k, n = 0;

		for (k = 0; k < nresults; k++) {
			if (results[k].path != paths[i].name)
				continue;
			if (!n++)
				printf("| %s |", paths[i].name), first = results[k].ns;
			printf(" %.0f |", results[k].ns);
			last = results[k].ns;
		}
		if (n)
			printf(" %.2fx |\n", last / first);
	}
	printf("\n## Verifier (bpf_prog_info)\n\n| program | verified insns | xlated insns | "
	       "jited bytes |\n|---|---:|---:|---:|\n");
	for (i = 0; i < (unsigned int)nprogs; i++)
		printf("| %s | %u | %u | %u |\n", progs[i].name, progs[i].verified_insns,
		       progs[i].xlated_insns, progs[i].jited_bytes);
	printf("\n## Kernel memory (memlock in fdinfo: the map's own accounting)\n\n");
	printf("| map | entries | memlock empty | memlock filled | bytes/entry |\n"
	       "|---|---:|---:|---:|---:|\n");
	printf("| xs_block4 (LPM trie) | %u | %lld | %lld | %.1f |\n", have_b, mem_block0,
	       mem_block, (double)(mem_block - mem_block0) / have_b);
	printf("| xs_flows (hash, %u buckets) | %u | %lld | %lld | %.1f |\n", BT_BENCH_ENTRIES,
	       have_f, mem_flow0, mem_flow, (double)(mem_flow - mem_flow0) / have_f);
	printf("| xs_flood (LRU hash, preallocated) | %u (max) | %lld | %lld | %.1f |\n",
	       XS_FLOOD_DEFAULT, mem_flood, mem_flood, (double)mem_flood / XS_FLOOD_DEFAULT);

	if (json) {
		jf = fopen(json, "w");
		if (!jf) {
			fprintf(stderr, "prog_cost: %s: %s\n", json, strerror(errno));
			return 1;
		}
		fprintf(jf,
			"{\"kernel\":\"%s\",\"quick\":%s,\"repeat\":%u,\"trials\":%u,\"results\":[",
			un.release, quick ? "true" : "false", repeat, trials);
		for (i = 0; i < (unsigned int)nresults; i++) {
			struct result *r = &results[i];

			fprintf(jf,
				"%s{\"path\":\"%s\",\"verdict\":\"%s\",\"entries\":%u,\"repeat\":%"
				"u,"
				"\"ns\":%.2f,"
				"\"baseline\":\"%s\",\"baseline_ns\":%.2f,\"ratio\":%.3f,\"goal\":%"
				".1f,"
				"\"met\":%s}",
				i ? "," : "", r->path, r->verdict, r->entries, r->repeat, r->ns,
				r->base, r->base_ns, r->ratio, r->goal,
				r->ratio <= r->goal ? "true" : "false");
		}
		fprintf(jf,
			"],\"memory\":[{\"map\":\"xs_block4\",\"entries\":%u,\"memlock\":%lld,"
			"\"bytes_per_entry\":%.1f},{\"map\":\"xs_flows\",\"entries\":%u,"
			"\"memlock\":%lld,\"bytes_per_entry\":%.1f},{\"map\":\"xs_flood\","
			"\"entries\":%u,\"memlock\":%lld,\"bytes_per_entry\":%.1f}]",
			have_b, mem_block, (double)(mem_block - mem_block0) / have_b, have_f,
			mem_flow, (double)(mem_flow - mem_flow0) / have_f, XS_FLOOD_DEFAULT,
			mem_flood, (double)mem_flood / XS_FLOOD_DEFAULT);
		fprintf(jf, ",\"programs\":[");
		for (i = 0; i < (unsigned int)nprogs; i++)
			fprintf(jf,
				"%s{\"program\":\"%s\",\"verified_insns\":%u,\"xlated_insns\":%u,"
				"\"jited_bytes\":%u}",
				i ? "," : "", progs[i].name, progs[i].verified_insns,
				progs[i].xlated_insns, progs[i].jited_bytes);
		fprintf(jf, "]}\n");
		fclose(jf);
	}
	xdp_trivial__destroy(triv);
	bt_close(&t);
	return 0;
}
