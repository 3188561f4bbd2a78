// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdpsbc: the edge's verdict pipeline, one small stage per header in lib/.
 *
 *   parse -> trusted -> blocklist -> SIP flood limit -> IPv6 media drop
 *         -> relay/pinhole -> pass
 *
 * Trusted sources skip the blocking stages but are still relayed. Non-first
 * fragments are judged by source (trust, blocklist) and then pass: they have
 * no transport header for the later stages.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdpsbc_common.h"
#include "lib/maps.h"
#include "lib/stats.h"
#include "lib/parse.h"
#include "lib/trust.h"
#include "lib/blocklist.h"
#include "lib/flood.h"
#include "lib/v6media.h"
#include "lib/relay.h"

static __always_inline int xs_pipeline(struct xdp_md *ctx, struct xs_pkt *pkt)
{
	const struct xs_config *cfg;
	__u32 zero = 0;
	int trusted;
	int r;

	r = xs_parse(ctx, pkt);
	if (r != XS_CONTINUE)
		return r;

	trusted = xs_trusted(pkt);
	if (!trusted) {
		r = xs_blocklist(pkt);
		if (r != XS_CONTINUE)
			return r;
	}
	if (pkt->frag)
		return trusted ? XS_PASS_TRUSTED : XS_PASS_FRAGMENT;

	cfg = bpf_map_lookup_elem(&xs_config, &zero);
	if (!trusted) {
		r = xs_flood_limit(ctx, pkt, cfg);
		if (r != XS_CONTINUE)
			return r;
		r = xs_v6media(pkt, cfg);
		if (r != XS_CONTINUE)
			return r;
	}
	r = xs_relay(ctx, pkt, cfg, trusted);
	if (r != XS_CONTINUE)
		return r;
	return trusted ? XS_PASS_TRUSTED : XS_PASS;
}

SEC("xdp")
int xdpsbc(struct xdp_md *ctx)
{
	struct xs_pkt pkt = {};

	return xs_exit(ctx, xs_pipeline(ctx, &pkt));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
