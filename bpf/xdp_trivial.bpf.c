// SPDX-License-Identifier: GPL-2.0-only
/*
 * Baselines: the cheapest possible XDP programs. The bench measures xdpsbc
 * against them in the same run, and namespace tests attach xdp_pass to the
 * peer veth, which drops XDP_TX/XDP_REDIRECT frames unless its own side has
 * an XDP program.
 *
 * xdp_pass is the only program in section "xdp", so `ip link set dev X xdp
 * obj xdp_trivial.bpf.o sec xdp` picks it; xdp_tx lives in "xdp.frags" (same
 * program type, multi-buffer capable) so it never shadows xdp_pass.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp.frags")
int xdp_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
