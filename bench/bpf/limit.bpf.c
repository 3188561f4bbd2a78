// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bench's limit programs: what the same I/O allows at best, measured in
 * the same run and topology as xdpsbc (bench/live.sh, "limit-*" cases).
 *
 * limit_fwd is the least a relay must do: parse Ethernet/IPv4/UDP, rewrite
 * the addresses, ports and MACs to those of one fixed flow (set in .rodata
 * by `loadgen xdp-fwd` before load), update the IPv4 and UDP checksums
 * incrementally and send the frame out the way xdpsbc does: XDP_TX when the
 * egress is the ingress interface (one-armed), else XDP_REDIRECT through a
 * devmap (two-armed). No flow lookup, no source check, no clock, no counter:
 * xdpsbc relay pps / limit_fwd pps is the share of the limit the relay keeps.
 * The drop limit is loadgen's two-instruction XDP_DROP (bench/loadgen.c).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* The only .rodata variable, so loadgen finds it at offset 0 (struct limit_cfg there). */
const volatile struct {
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u8 smac[ETH_ALEN], dmac[ETH_ALEN];
	__u32 egress; /* ifindex; 0: XDP_TX out of the ingress interface */
} fwd = {};

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} limit_tx SEC(".maps");

/* RFC 1624 incremental update of one 32- and one 16-bit change each. */
static __always_inline __u64 acc4(__u64 s, __u32 from, __u32 to)
{
	return s + (~from >> 16) + (~from & 0xffff) + (to >> 16) + (to & 0xffff);
}

static __always_inline __u16 fold(__u64 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s;
}

SEC("xdp")
int limit_fwd(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u64 s;
	int i;

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	s = (__u16)~ip->check;
	s = acc4(s, ip->saddr, fwd.saddr);
	s = acc4(s, ip->daddr, fwd.daddr);
	ip->check = fold(s);
	if (udp->check) {
		s = (__u16)~udp->check;
		s = acc4(s, ip->saddr, fwd.saddr);
		s = acc4(s, ip->daddr, fwd.daddr);
		s += (__u16)~udp->source + fwd.sport + (__u16)~udp->dest + fwd.dport;
		udp->check = fold(s) ?: 0xffff;
	}
	ip->saddr = fwd.saddr;
	ip->daddr = fwd.daddr;
	udp->source = fwd.sport;
	udp->dest = fwd.dport;
#pragma unroll
	for (i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = fwd.dmac[i];
		eth->h_source[i] = fwd.smac[i];
	}
	if (!fwd.egress)
		return XDP_TX;
	return bpf_redirect_map(&limit_tx, 0, 0);
}

char LICENSE[] SEC("license") = "GPL";
