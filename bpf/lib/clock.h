/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath clock: CLOCK_MONOTONIC at tick resolution (see the time
 * convention in xdpsbc_common.h). bpf_ktime_get_coarse_ns() returns the time
 * of the last tick without reading the clocksource; that is all an expiry,
 * a media timeout or a flood window needs, at half the cost per packet.
 */
#ifndef XDPSBC_BPF_CLOCK_H
#define XDPSBC_BPF_CLOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u64 xs_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

#endif /* XDPSBC_BPF_CLOCK_H */
