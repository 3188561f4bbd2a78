/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one exit of the xdpsbc program: every verdict is a reason from
 * xdpsbc_reasons.inc, counted here and turned into its XDP action here, so a
 * packet can never leave uncounted or with an action its reason does not say.
 */
#ifndef XDPSBC_BPF_STATS_H
#define XDPSBC_BPF_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdpsbc_common.h"
#include "lib/maps.h"

/* A stage's "no verdict from me, go on". Never a valid enum xs_reason. */
#define XS_CONTINUE (-1)

static __always_inline int xs_reason_action(int reason)
{
	switch (reason) {
#define XS_REASON(name, str, action, doc) \
	case XS_##name:                   \
		return action;
#include "xdpsbc_reasons.inc"
#undef XS_REASON
	}
	return XDP_ABORTED;
}

/*
 * Count the frame under @reason and return its action. xs_stats is per-CPU
 * and an XDP program runs to completion on one CPU with migration disabled,
 * so nobody else writes this CPU's slot meanwhile: plain increments, no
 * atomics. Userspace sums the CPUs.
 */
static __always_inline int xs_exit(struct xdp_md *ctx, int reason)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct xs_counter *c;
	__u32 key = reason;

	c = bpf_map_lookup_elem(&xs_stats, &key);
	if (c) {
		c->packets++;
		c->bytes += data_end - data;
	}
	return xs_reason_action(reason);
}

#endif /* XDPSBC_BPF_STATS_H */
