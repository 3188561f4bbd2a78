// SPDX-License-Identifier: GPL-2.0-only
/*
 * The load generator's XDP program, run by BPF_PROG_RUN in live-frames mode
 * (bench/loadgen.c): every repetition writes the Ethernet/IPv4/UDP headers
 * of the next packet (IPv4 or IPv6) from a template and returns XDP_TX, which transmits the
 * frame out of the interface given as the run's ingress_ifindex.
 *
 * The headers are rewritten in full each time because live-frames pages are
 * recycled with whatever the last run left in them: a relay downstream may
 * have rewritten them (veth hands the same page on). Packet n belongs to
 * flow n % nflows (source port sport + 2 * flow, destination port from the
 * port table) and, over IPv4, to source address saddr + (n / nflows) % nsrcs.
 * The IPv4 header checksum is recomputed. A template without UDP checksum
 * (IPv4 only) needs no checksum work for the ports; one with (always over
 * IPv6, where 0 is illegal) has it adjusted for the words written here
 * (RFC 1624: HC' = ~(~HC + ~m + m')), so every packet's checksum is exact.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define LG_HDR	     (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))
#define LG_HDR6	     (sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + sizeof(struct udphdr))
#define LG_MAX_FLOWS 65536

struct lg_cfg {
	/* template: Ethernet, IPv4 (checksum 0) or IPv6, UDP (checksum of the template) */
	__u8 hdr[LG_HDR6];
	__u8 v6;
	__u8 pad;
	__u32 nflows;
	__u32 nsrcs;
	__u32 saddr; /* host order */
	__u32 sport;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lg_cfg);
} lg_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LG_MAX_FLOWS);
	__type(key, __u32);
	__type(value, __u32); /* destination port, host order */
} lg_dports SEC(".maps");

__u64 lg_seq;

/* Ones' complement: replace 16-bit word @from by @to in checksum sum @sum. */
static __always_inline __u64 csum_repl(__u64 sum, __u16 from, __u16 to)
{
	return sum + (__u16)~from + to;
}

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

SEC("xdp")
int loadgen_tx(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 zero = 0, flow, src = 0, *dport, i, saddr0 = 0, saddr;
	struct udphdr *udp;
	struct lg_cfg *c;
	__u16 *w, sport, dst, check;
	__u64 n, sum = 0;

	c = bpf_map_lookup_elem(&lg_cfg, &zero);
	if (!c || !c->nflows || !c->nsrcs)
		return XDP_ABORTED;
	/* BPF_PROG_RUN runs us on one CPU: a plain increment is enough. */
	n = lg_seq++;
	flow = n % c->nflows;
	dport = bpf_map_lookup_elem(&lg_dports, &flow);
	if (!dport)
		return XDP_ABORTED;

	if (c->v6) {
		if (data + LG_HDR6 > data_end)
			return XDP_ABORTED;
		__builtin_memcpy(data, c->hdr, LG_HDR6);
		udp = data + sizeof(struct ethhdr) + sizeof(struct ipv6hdr);
	} else {
		if (data + LG_HDR > data_end)
			return XDP_ABORTED;
		__builtin_memcpy(data, c->hdr, LG_HDR);
		src = (n / c->nflows) % c->nsrcs;
		saddr0 = ip->saddr;
		ip->saddr = bpf_htonl(c->saddr + src);
		w = (__u16 *)ip;
#pragma unroll
		for (i = 0; i < sizeof(struct iphdr) / 2; i++)
			sum += w[i];
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		ip->check = ~sum & 0xffff;
		udp = (void *)(ip + 1);
	}
	sport = bpf_htons(c->sport + 2 * flow);
	dst = bpf_htons(*dport);
	if (udp->check) {
		sum = (__u16)~udp->check;
		sum = csum_repl(sum, udp->source, sport);
		sum = csum_repl(sum, udp->dest, dst);
		if (!c->v6 && src) {
			saddr = ip->saddr;
			sum = csum_repl(sum, saddr0 & 0xffff, saddr & 0xffff);
			sum = csum_repl(sum, saddr0 >> 16, saddr >> 16);
		}
		check = csum_fold(sum);
		udp->check = check ? check : 0xffff;
	}
	udp->source = sport;
	udp->dest = dst;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
