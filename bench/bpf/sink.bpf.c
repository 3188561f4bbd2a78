// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bench's sink (k0 in bench/lib.sh): drops the media and load the edge
 * delivers, right in the driver, so the sink costs next to nothing and the
 * interface's rx counter is the delivered count, IPv4 or IPv6 (the relay's
 * IPv6 and translated cases). SIP (UDP or TCP port 5060) and everything
 * that is neither UDP nor TCP over IPv4 or IPv6 (ARP, neighbour discovery)
 * pass, so the same sink serves the signalling bench's callee.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xdp_sink(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *l4;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		/* No extension headers: the bench sends none. */
		if ((void *)(ip6 + 1) > data_end ||
		    (ip6->nexthdr != IPPROTO_UDP && ip6->nexthdr != IPPROTO_TCP))
			return XDP_PASS;
		l4 = (void *)(ip6 + 1);
	} else {
		if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
			return XDP_PASS;
		if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP)
			return XDP_PASS;
		l4 = (void *)ip + ip->ihl * 4;
	}
	/* Ports sit at the same offsets in UDP and TCP. */
	if ((void *)(l4 + 1) > data_end)
		return XDP_PASS;
	if (l4->dest == bpf_htons(5060) || l4->source == bpf_htons(5060))
		return XDP_PASS;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
