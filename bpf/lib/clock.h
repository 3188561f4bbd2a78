/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath clock: CLOCK_MONOTONIC at tick resolution (see the time
 * convention in xdpsbc_common.h). bpf_ktime_get_coarse_ns() returns the time
 * of the last tick without reading the clocksource; that is all an expiry,
 * a media timeout or a flood window needs.
 *
 * It is still a helper call, and the time it returns changes once a tick.
 * bpf_jiffies64() changes at the same tick and the verifier inlines it into
 * a load, so the program keeps the last (jiffies, coarse ns) pair it read
 * and calls the helper only when jiffies moved: one call per tick and CPU
 * instead of one per packet.
 */
#ifndef XDPSBC_BPF_CLOCK_H
#define XDPSBC_BPF_CLOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * In .bss: per load, shared by the CPUs. Written at most once per tick per
 * CPU, so the line is read-mostly. The two words are not updated together:
 * a reader can pair a new jiffies with the previous tick's time, and the
 * tick updates jiffies just before the coarse time, so the cached time may
 * be one tick older than the coarse clock's, and two CPUs refilling it in
 * the same tick can step it back by that tick. Every user of the clock (entry
 * expiry, latch window, media timeout, next-hop refresh, ban time) works in
 * seconds or at tick resolution already; one tick more does not matter.
 * A new load starts with jiffies 0 and so reads the clock first.
 */
__u64 xs_clk_jiffies;
__u64 xs_clk_ns;

static __always_inline __u64 xs_now(void)
{
	__u64 j = bpf_jiffies64(), ns;

	if (j == *(volatile __u64 *)&xs_clk_jiffies)
		return *(volatile __u64 *)&xs_clk_ns;
	ns = bpf_ktime_get_coarse_ns();
	/* Time first: a reader that sees the new jiffies mostly sees this time too. */
	*(volatile __u64 *)&xs_clk_ns = ns;
	*(volatile __u64 *)&xs_clk_jiffies = j;
	return ns;
}

#endif /* XDPSBC_BPF_CLOCK_H */
