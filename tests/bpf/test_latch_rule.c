// SPDX-License-Identifier: GPL-2.0-only
/*
 * The latching decision both datapaths take (xs_latch_step(),
 * bpf/xdpsbc_latch.h: the XDP program's xs_latch4/6 and the userspace
 * relays' xs_dp_latch() call it), row by row: flow flags and how the
 * packet's source relates to the flow -> what happens. test_relay and
 * test_relay6 run the same rule through the XDP program with real packets,
 * test_dp_latch through the userspace relays.
 */
#include <stdio.h>
#include <linux/types.h>

#include "xdpsbc_latch.h"
#include "../lib/check.h"

#define L  XS_FLOW_LATCH
#define LD XS_FLOW_LATCHED
#define PL XS_FLOW_PRELATCHED

static const struct row {
	const char *what;
	__u32 flags;
	int from_peer, from_latch;
	int want;
} rows[] = {
	{"static flow (no LATCH): any source relays", 0, 0, 0, XS_LATCH_PASS},
	{"unlatched: the signalled source learns", L, 0, 1, XS_LATCH_LEARN},
	{"unlatched: anyone else is dropped", L, 0, 0, XS_LATCH_DROP},
	{"latched: the peer relays", L | LD, 1, 1, XS_LATCH_PASS},
	{"latched: the peer relays even if latch_addr moved on", L | LD, 1, 0, XS_LATCH_PASS},
	{"latched: the signalled IP from another port is dropped", L | LD, 0, 1, XS_LATCH_DROP},
	{"latched: a stranger is dropped", L | LD, 0, 0, XS_LATCH_DROP},
	{"pre-latched: the peer confirms it", L | LD | PL, 1, 1, XS_LATCH_SETTLE},
	{"pre-latched: the signalled IP may move it once", L | LD | PL, 0, 1, XS_LATCH_LEARN},
	{"pre-latched: a stranger is dropped", L | LD | PL, 0, 0, XS_LATCH_DROP},
};

int main(void)
{
	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		char name[128];

		int got = xs_latch_step(r->flags, r->from_peer, r->from_latch);

		snprintf(name, sizeof(name), "latch_rule: %s", r->what);
		if (T_CHECK(name, got == r->want, "got %d, want %d", got, r->want))
			T_PASS(name);
	}
	return check_failed ? 1 : 0;
}
