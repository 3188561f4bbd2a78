// SPDX-License-Identifier: GPL-2.0-only
/*
 * loadgen: the bench's live load generator. Sends RTP-sized UDP frames, IPv4 or IPv6,
 * out of a real interface with BPF_PROG_RUN in live-frames mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES): a two-instruction XDP program returns
 * XDP_TX for every repetition, so the kernel transmits each frame through
 * the interface's ndo_xdp_xmit without a socket or an skb. On veth that is
 * the peer's receive path, exactly as a wire would deliver it.
 *
 * Flows rotate per packet: the generator program (bench/bpf/loadgen.bpf.c)
 * writes each packet's headers from a template, destination port from a
 * table (--dport-file, else dport + 2i), source port sport + 2i, source
 * address src + k for --srcs addresses, round robin. This is the
 * xdp-trafficgen approach; the UDP checksum is 0 (none), which IPv4 allows.
 * IPv6 forbids it (and the relay drops such a packet rather than translate
 * it to IPv6), so over IPv6, and over IPv4 with --udp-csum, every packet
 * carries a real UDP checksum: the template's, which the program adjusts
 * for the ports and source it writes (RFC 1624).
 *
 *   loadgen send --ifname IF --dst-mac MAC --src IP --dst IP --dport P
 *                [--sport P] [--flows N] [--srcs N (IPv4)] [--size IPBYTES] [--udp-csum]
 *                [--burst N (frames per batch, <= 256)] [--seconds S] [--count N] [--rate PPS]
 *                [--dport-file FILE (one destination port per flow)]
 *   loadgen xdp-drop IF     attach an XDP_DROP program (a sink that counts
 *                           in the interface's rx statistics and frees fast)
 *   loadgen xdp-fwd IF OUT_IF SRC DST SPORT DPORT SMAC DMAC
 *                           attach the minimal forwarder (bench/bpf/limit.bpf.c)
 *                           to IF: every UDP packet rewritten to SRC:SPORT ->
 *                           DST:DPORT, MACs SMAC -> DMAC, out of OUT_IF
 *                           (XDP_TX when it is IF, else XDP_REDIRECT)
 *
 * send prints one JSON object: packets handed to the kernel, seconds, pps,
 * and the CPU time the generator's own syscalls took.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

#define MAX_FLOWS 65536
#define MAX_SRCS  256
#define FRAME_MAX 1514

struct opts {
	const char *ifname;
	unsigned char dmac[ETH_ALEN];
	int family; /* AF_INET or AF_INET6: the addresses' */
	union {
		struct in_addr src;
		struct in6_addr src6;
	};
	union {
		struct in_addr dst;
		struct in6_addr dst6;
	};
	unsigned int dport, sport, flows, srcs, size, burst, udp_csum;
	double seconds, rate;
	unsigned long long count;
	const char *dport_file;
	const char *obj; /* generator program object */
};

/* Destination port of flow @i: from --dport-file, else dport + 2i. */
static unsigned short dports[MAX_FLOWS];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* The sink: a program of two instructions, r0 = verdict; exit. */
static int load_const_prog(int verdict)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = verdict},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);

	return bpf_prog_load(BPF_PROG_TYPE_XDP, verdict == XDP_TX ? "loadgen_tx" : "loadgen_drop",
			     "GPL", insns, 2, &o);
}

static unsigned short csum_fold(unsigned long sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static unsigned long csum_add(unsigned long sum, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return sum;
}

/* The UDP checksum of @udp (check 0) and its @ulen bytes under the pseudo-header. */
static unsigned short udp_csum(const struct opts *o, const struct udphdr *udp, size_t ulen)
{
	unsigned long sum = IPPROTO_UDP + ulen;

	if (o->family == AF_INET6) {
		sum = csum_add(sum, &o->src6, 16);
		sum = csum_add(sum, &o->dst6, 16);
	} else {
		sum = csum_add(sum, &o->src, 4);
		sum = csum_add(sum, &o->dst, 4);
	}
	sum = csum_fold(csum_add(sum, udp, ulen));
	/* Folded to 0 is sent as all ones: 0 means "no checksum". */
	return sum ? sum : 0xffff;
}

/*
 * One Ethernet/IP/UDP frame with an RTP-like payload, of o->size IP bytes;
 * the IPv4 header checksum exact, the UDP checksum 0 unless IPv6 or
 * --udp-csum.
 */
static size_t build_frame(unsigned char *f, const unsigned char *smac, const struct opts *o,
			  unsigned int sport, unsigned int dport)
{
	struct ethhdr *eth = (void *)f;
	struct iphdr *ip = (void *)(eth + 1);
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	size_t iplen = o->family == AF_INET6 ? sizeof(*ip6) : sizeof(*ip);
	struct udphdr *udp = (void *)((unsigned char *)(eth + 1) + iplen);
	unsigned char *pl = (void *)(udp + 1);
	size_t ulen = o->size - iplen, plen = ulen - sizeof(*udp), i;

	memset(f, 0, FRAME_MAX);
	memcpy(eth->h_dest, o->dmac, ETH_ALEN);
	memcpy(eth->h_source, smac, ETH_ALEN);
	if (o->family == AF_INET6) {
		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->payload_len = htons(ulen);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		ip6->saddr = o->src6;
		ip6->daddr = o->dst6;
	} else {
		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(o->size);
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->saddr = o->src.s_addr;
		ip->daddr = o->dst.s_addr;
		ip->check = htons(csum_fold(csum_add(0, ip, sizeof(*ip))));
	}
	udp->source = htons(sport);
	udp->dest = htons(dport);
	udp->len = htons(ulen);
	/* RTP v2, PT 0 (PCMU), then a payload pattern. */
	pl[0] = 0x80;
	for (i = 12; i < plen; i++)
		pl[i] = 0xd5;
	if (o->family == AF_INET6 || o->udp_csum)
		udp->check = htons(udp_csum(o, udp, ulen));
	return sizeof(*eth) + o->size;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6
		       ? 0
		       : -EINVAL;
}

static int own_mac(const char *ifname, unsigned char *mac)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
	return err;
}

/* The generator program (bench/bpf/loadgen.bpf.c), next to this binary by default. */
static struct bpf_object *open_prog(const char *path, int *prog_fd)
{
	char exe[4096], buf[4200], *slash;
	struct bpf_object *obj;
	ssize_t n;

	if (!path) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return NULL;
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		snprintf(buf, sizeof(buf), "%s/loadgen.bpf.o", exe);
		path = buf;
	}
	obj = bpf_object__open_file(path, NULL);
	if (!obj || libbpf_get_error(obj)) {
		fprintf(stderr, "loadgen: cannot open %s\n", path);
		return NULL;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "loadgen: cannot load %s\n", path);
		bpf_object__close(obj);
		return NULL;
	}
	*prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "loadgen_tx"));
	return obj;
}

struct lg_cfg { /* bench/bpf/loadgen.bpf.c */
	unsigned char hdr[62];
	unsigned char v6;
	unsigned char pad;
	unsigned int nflows, nsrcs, saddr, sport;
};

static int do_send(const struct opts *o)
{
	static unsigned char frame[FRAME_MAX];
	unsigned long long sent = 0, calls = 0, chunk;
	unsigned char smac[ETH_ALEN];
	struct lg_cfg cfg = {};
	struct xdp_md ctx = {};
	struct bpf_object *obj;
	double t0, c0, t, deadline;
	unsigned int i, ifindex, key = 0;
	size_t len;
	int prog = -1, err, cfg_fd, ports_fd;

	ifindex = if_nametoindex(o->ifname);
	if (!ifindex) {
		fprintf(stderr, "loadgen: unknown interface %s\n", o->ifname);
		return 1;
	}
	err = own_mac(o->ifname, smac);
	if (err) {
		fprintf(stderr, "loadgen: %s: no MAC address: %s\n", o->ifname, strerror(-err));
		return 1;
	}
	obj = open_prog(o->obj, &prog);
	if (!obj || prog < 0)
		return 1;
	cfg_fd = bpf_object__find_map_fd_by_name(obj, "lg_cfg");
	ports_fd = bpf_object__find_map_fd_by_name(obj, "lg_dports");
	len = build_frame(frame, smac, o, o->sport, o->dport);
	memcpy(cfg.hdr, frame, sizeof(cfg.hdr));
	cfg.v6 = o->family == AF_INET6;
	if (!cfg.v6)
		cfg.hdr[24] = cfg.hdr[25] = 0; /* IPv4 checksum: the program computes it */
	cfg.nflows = o->flows;
	cfg.nsrcs = o->srcs;
	cfg.saddr = cfg.v6 ? 0 : ntohl(o->src.s_addr);
	cfg.sport = o->sport;
	if (bpf_map_update_elem(cfg_fd, &key, &cfg, BPF_ANY))
		goto map_err;
	for (i = 0; i < o->flows; i++) {
		unsigned int p = o->dport_file ? dports[i] : o->dport + 2 * i;

		if (bpf_map_update_elem(ports_fd, &i, &p, BPF_ANY))
			goto map_err;
	}
	ctx.data_end = len;
	ctx.ingress_ifindex = ifindex;
	/*
	 * Each BPF_PROG_RUN call sets up and tears down a page pool (tens of
	 * milliseconds), so calls are big; the deadline is checked between
	 * calls. With --rate, a call carries a twentieth of a second's packets
	 * and we sleep until it is due: the average rate holds, sent in bursts.
	 */
	chunk = o->rate > 0 ? (unsigned long long)(o->rate / 20) + 1 : 1ULL << 16;
	t0 = now_s();
	c0 = cpu_s();
	deadline = t0 + o->seconds;
	for (;;) {
		unsigned long long n = chunk;
		LIBBPF_OPTS(bpf_test_run_opts, r, .data_in = frame, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .batch_size = o->burst,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		if (o->count && sent >= o->count)
			break;
		if (o->count && o->count - sent < n)
			n = o->count - sent;
		t = now_s();
		if (t >= deadline)
			break;
		if (o->rate > 0) {
			double due = t0 + sent / o->rate;

			if (due > t) {
				double d = due - t;
				struct timespec ts = {.tv_sec = (time_t)d,
						      .tv_nsec = (long)((d - (time_t)d) * 1e9)};
				nanosleep(&ts, NULL);
				continue;
			}
		}
		r.repeat = n;
		err = bpf_prog_test_run_opts(prog, &r);
		calls++;
		if (err) {
			fprintf(stderr, "loadgen: BPF_PROG_RUN: %s\n", strerror(errno));
			bpf_object__close(obj);
			return 1;
		}
		sent += n;
		/* Unpaced: calls of about a quarter second at the rate seen so far. */
		if (o->rate <= 0) {
			chunk = (unsigned long long)(sent / (now_s() - t0) / 4);
			chunk = chunk < 16384 ? 16384 : chunk > (1ULL << 22) ? 1ULL << 22 : chunk;
		}
	}
	t = now_s() - t0;
	printf("{\"sent\":%llu,\"calls\":%llu,\"seconds\":%.3f,\"pps\":%.0f,"
	       "\"cpu_s\":%.3f,\"flows\":%u,\"srcs\":%u,\"ip_bytes\":%u,\"family\":%d}\n",
	       sent, calls, t, sent / t, cpu_s() - c0, o->flows, o->srcs, o->size,
	       o->family == AF_INET6 ? 6 : 4);
	bpf_object__close(obj);
	return 0;
map_err:
	fprintf(stderr, "loadgen: configuring the program: %s\n", strerror(errno));
	bpf_object__close(obj);
	return 1;
}

static int do_xdp_drop(const char *ifname)
{
	unsigned int ifindex = if_nametoindex(ifname);
	int prog, err;

	if (!ifindex) {
		fprintf(stderr, "loadgen: unknown interface %s\n", ifname);
		return 1;
	}
	prog = load_const_prog(XDP_DROP);
	if (prog < 0) {
		fprintf(stderr, "loadgen: loading the XDP_DROP program: %s\n", strerror(-prog));
		return 1;
	}
	/* The attachment holds the program after we exit, until detach or the netns goes. */
	err = bpf_xdp_attach(ifindex, prog, XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "loadgen: attach to %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	return 0;
}

struct limit_cfg { /* bench/bpf/limit.bpf.c, .rodata offset 0 */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	unsigned char smac[ETH_ALEN], dmac[ETH_ALEN];
	uint32_t egress;
};

static int do_xdp_fwd(char **a)
{
	unsigned int in = if_nametoindex(a[0]), out = if_nametoindex(a[1]), key = 0;
	char exe[4096], path[4200], *slash;
	struct limit_cfg cfg = {};
	struct bpf_object *obj;
	struct bpf_map *m, *ro = NULL;
	struct in_addr s, d;
	ssize_t n;
	int prog, err;

	if (!in || !out || !inet_pton(AF_INET, a[2], &s) || !inet_pton(AF_INET, a[3], &d) ||
	    parse_mac(a[6], cfg.smac) || parse_mac(a[7], cfg.dmac)) {
		fprintf(stderr, "loadgen: xdp-fwd: bad interface, address or MAC\n");
		return 2;
	}
	cfg.saddr = s.s_addr;
	cfg.daddr = d.s_addr;
	cfg.sport = htons(atoi(a[4]));
	cfg.dport = htons(atoi(a[5]));
	cfg.egress = out == in ? 0 : out;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return 1;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	snprintf(path, sizeof(path), "%s/limit.bpf.o", exe);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || libbpf_get_error(obj)) {
		fprintf(stderr, "loadgen: cannot open %s\n", path);
		return 1;
	}
	bpf_object__for_each_map(m, obj)
	{
		const char *name = bpf_map__name(m);
		size_t len = strlen(name);

		if (len >= 7 && !strcmp(name + len - 7, ".rodata"))
			ro = m;
	}
	if (!ro || bpf_map__set_initial_value(ro, &cfg, sizeof(cfg)) || bpf_object__load(obj)) {
		fprintf(stderr, "loadgen: cannot configure or load %s\n", path);
		bpf_object__close(obj);
		return 1;
	}
	if (cfg.egress &&
	    bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "limit_tx"), &key, &out, 0)) {
		fprintf(stderr, "loadgen: devmap: %s\n", strerror(errno));
		bpf_object__close(obj);
		return 1;
	}
	prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "limit_fwd"));
	err = bpf_xdp_attach(in, prog, XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		fprintf(stderr, "loadgen: attach to %s: %s\n", a[0], strerror(-err));
	/* The attachment (and through it the devmap) outlives us. */
	bpf_object__close(obj);
	return err ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen send --ifname IF --dst-mac MAC --src IP --dst IP --dport PORT\n"
		"                    [--sport PORT] [--flows N] [--srcs N] [--size IPBYTES]\n"
		"                    [--udp-csum] (IPv4 or IPv6 addresses, one family)\n"
		"                    [--burst N] [--seconds S] [--count N] [--rate PPS]\n"
		"                    [--dport-file FILE]\n"
		"       loadgen xdp-drop IF\n"
		"       loadgen xdp-fwd IF OUT_IF SRC DST SPORT DPORT SMAC DMAC\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"ifname", 1, 0, 'i'},	{"dst-mac", 1, 0, 'm'},
		{"src", 1, 0, 's'},	{"dst", 1, 0, 'd'},
		{"dport", 1, 0, 'P'},	{"sport", 1, 0, 'p'},
		{"flows", 1, 0, 'f'},	{"srcs", 1, 0, 'S'},
		{"size", 1, 0, 'z'},	{"burst", 1, 0, 'b'},
		{"seconds", 1, 0, 't'}, {"count", 1, 0, 'c'},
		{"rate", 1, 0, 'r'},	{"dport-file", 1, 0, 'F'},
		{"obj", 1, 0, 'o'},	{"udp-csum", 0, 0, 'C'},
		{0, 0, 0, 0},
	};
	struct opts o = {
		.sport = 40000, .flows = 1, .srcs = 1, .size = 200, .burst = 64, .seconds = 5};
	int c, have_mac = 0, fsrc = 0, fdst = 0;

	if (argc >= 3 && !strcmp(argv[1], "xdp-drop"))
		return do_xdp_drop(argv[2]);
	if (argc == 10 && !strcmp(argv[1], "xdp-fwd"))
		return do_xdp_fwd(argv + 2);
	if (argc < 2 || strcmp(argv[1], "send")) {
		usage();
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o.ifname = optarg;
			break;
		case 'm':
			have_mac = !parse_mac(optarg, o.dmac);
			break;
		case 's':
			fsrc = inet_pton(AF_INET6, optarg, &o.src6) == 1 ? AF_INET6
			       : inet_pton(AF_INET, optarg, &o.src) == 1 ? AF_INET
									 : 0;
			if (!fsrc)
				goto bad;
			break;
		case 'd':
			fdst = inet_pton(AF_INET6, optarg, &o.dst6) == 1 ? AF_INET6
			       : inet_pton(AF_INET, optarg, &o.dst) == 1 ? AF_INET
									 : 0;
			if (!fdst)
				goto bad;
			break;
		case 'C':
			o.udp_csum = 1;
			break;
		case 'P':
			o.dport = atoi(optarg);
			break;
		case 'p':
			o.sport = atoi(optarg);
			break;
		case 'f':
			o.flows = atoi(optarg);
			break;
		case 'S':
			o.srcs = atoi(optarg);
			break;
		case 'z':
			o.size = atoi(optarg);
			break;
		case 'b':
			o.burst = atoi(optarg);
			break;
		case 't':
			o.seconds = atof(optarg);
			break;
		case 'c':
			o.count = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			o.rate = atof(optarg);
			break;
		case 'F':
			o.dport_file = optarg;
			break;
		case 'o':
			o.obj = optarg;
			break;
		default:
			goto bad;
		}
	}
	if (o.dport_file) {
		FILE *f = fopen(o.dport_file, "r");
		unsigned int p, n = 0;

		if (!f) {
			fprintf(stderr, "loadgen: %s: %s\n", o.dport_file, strerror(errno));
			return 1;
		}
		while (n < MAX_FLOWS && fscanf(f, "%u", &p) == 1 && p && p < 65536)
			dports[n++] = p;
		fclose(f);
		o.flows = n;
		o.dport = n ? dports[0] : 0;
	}
	o.family = fsrc;
	/* One source address over IPv6: the program rotates IPv4 sources only. */
	if (!o.ifname || !have_mac || !fsrc || fsrc != fdst || !o.dport || !o.flows || !o.srcs ||
	    o.srcs > MAX_SRCS || (o.family == AF_INET6 && o.srcs != 1) ||
	    o.size < (o.family == AF_INET6 ? 48 : 28) + 12 || o.size > FRAME_MAX - 14 || !o.burst ||
	    o.burst > 256 || o.seconds <= 0 || o.seconds > 600 ||
	    (!o.dport_file && o.dport + 2 * o.flows > 65536) || o.sport + 2 * o.flows > 65536)
		goto bad;
	return do_send(&o);
bad:
	usage();
	return 2;
}
