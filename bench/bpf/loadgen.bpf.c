// SPDX-License-Identifier: GPL-2.0-only
/*
 * The load generator's XDP program, run by BPF_PROG_RUN in live-frames mode
 * (bench/loadgen.c): every repetition writes the Ethernet/IPv4/UDP headers
 * of the next packet from a template and returns XDP_TX, which transmits the
 * frame out of the interface given as the run's ingress_ifindex.
 *
 * The headers are rewritten in full each time because live-frames pages are
 * recycled with whatever the last run left in them: a relay downstream may
 * have rewritten them (veth hands the same page on). Packet n belongs to
 * flow n % nflows (source port sport + 2 * flow, destination port from the
 * port table) and to source address saddr + (n / nflows) % nsrcs. The UDP
 * checksum is 0 (none, legal for IPv4), so changing ports needs no checksum
 * work; the IPv4 header checksum is recomputed.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define LG_HDR	     (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))
#define LG_MAX_FLOWS 65536

struct lg_cfg {
	__u8 hdr[LG_HDR]; /* template: Ethernet, IPv4 (checksum 0), UDP (checksum 0) */
	__u8 pad[2];
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

SEC("xdp")
int loadgen_tx(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 zero = 0, flow, src, *dport, i;
	struct lg_cfg *c;
	__u16 *w;
	__u64 n, sum = 0;

	if (data + LG_HDR > data_end)
		return XDP_ABORTED;
	c = bpf_map_lookup_elem(&lg_cfg, &zero);
	if (!c || !c->nflows || !c->nsrcs)
		return XDP_ABORTED;
	/* BPF_PROG_RUN runs us on one CPU: a plain increment is enough. */
	n = lg_seq++;
	flow = n % c->nflows;
	src = (n / c->nflows) % c->nsrcs;
	dport = bpf_map_lookup_elem(&lg_dports, &flow);
	if (!dport)
		return XDP_ABORTED;

	__builtin_memcpy(data, c->hdr, LG_HDR);
	ip->saddr = bpf_htonl(c->saddr + src);
	w = (__u16 *)ip;
#pragma unroll
	for (i = 0; i < sizeof(struct iphdr) / 2; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = ~sum & 0xffff;
	udp->source = bpf_htons(c->sport + 2 * flow);
	udp->dest = bpf_htons(*dport);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
