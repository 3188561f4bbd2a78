// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdpsbc: the edge's verdict pipeline, one small stage per header in lib/.
 *
 *   parse -> trusted -> blocklist -> SIP flood limit -> IPv6 media drop
 *         -> relay/pinhole -> pass
 *
 * Trusted sources skip the blocking stages but are still relayed. Media of a
 * flow whose source passed the source checks under the current blocklist
 * generation skips them (relay.h); SIP of a source the flood limit tracks
 * skips the blocklist lookup the same way (flood.h), and a closed pinhole
 * is dropped before it (its verdict is a drop either way). Non-first
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
	struct xs_flood_ctx fc;
	const struct xs_config *cfg;
	struct xs_flow *f;
	__u32 zero = 0;
	int trusted = 0, in_range;
	__u64 gen = 0;
	int r;

	r = xs_parse(ctx, pkt);
	if (r != XS_CONTINUE)
		return r;

	/*
	 * Media of a flow whose source already passed the source checks under
	 * the current blocklist generation skips them (relay.h); so does the
	 * blocklist lookup for SIP of a source the flood limit tracks (flood.h).
	 * The generation is read before the checks, so a change made meanwhile
	 * invalidates what they find.
	 */
	cfg = bpf_map_lookup_elem(&xs_config, &zero);
	f = xs_relay_lookup(pkt, cfg, &in_range);
	if (f) {
		gen = xs_block_gen();
		if (xs_flow_checked(f, pkt, cfg, gen))
			goto relay; /* one call site: the relay is inlined once */
	}

	trusted = xs_trusted(ctx, pkt, cfg);
	fc.watched = 0;
	if (!trusted) {
		/* The trusted lookup stays first: the core's SIP pays no flood lookup. */
		xs_flood_lookup(pkt, cfg, &fc);
		if (fc.watched && !f)
			gen = xs_block_gen();
		/*
		 * A closed pinhole is dropped whatever the blocklist says, so
		 * it is judged before the trie lookup, the stage that grows
		 * with the blocklist. Its packets count as drop-pinhole, not
		 * as hits of a blocklist entry they also match. The IPv6
		 * media drop comes first as in the full order, and a packet
		 * the flood limit watches keeps that order too.
		 */
		if (!f && in_range && !fc.watched) {
			r = xs_closed_pinhole(pkt, cfg);
			if (r != XS_CONTINUE)
				return r;
		}
		if (!xs_flood_checked(&fc, gen)) {
			r = xs_blocklist(pkt);
			if (r != XS_CONTINUE)
				return r;
		}
	}
	if (pkt->frag)
		return trusted ? XS_PASS_TRUSTED : XS_PASS_FRAGMENT;

	if (!trusted) {
		r = xs_flood_limit(ctx, pkt, cfg, &fc, gen);
		if (r != XS_CONTINUE)
			return r;
		r = xs_v6media(pkt, cfg);
		if (r != XS_CONTINUE)
			return r;
	}
	if (f) {
		xs_flow_mark_checked(f, pkt, gen);
relay:
		r = xs_relay_flow(ctx, pkt, cfg, f);
	} else {
		r = in_range ? xs_pinhole(pkt, cfg, trusted) : XS_CONTINUE;
	}
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
