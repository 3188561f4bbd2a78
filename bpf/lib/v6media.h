/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stage 4: IPv4-only media. When on, IPv6 UDP to the RTP range is dropped
 * and, with TURN on, IPv6 to the TURN ports too (UDP turn_udp and the relay
 * range, TCP turn_tls). Signalling (5060/5061) and everything else pass. The
 * settings are read per packet, so `xdpsbc media ...` takes effect without a
 * reload; an all-zero element (never initialised) drops nothing.
 */
#ifndef XDPSBC_BPF_V6MEDIA_H
#define XDPSBC_BPF_V6MEDIA_H

#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/config.h"

static __always_inline int xs_v6media(const struct xs_pkt *pkt, const struct xs_config *cfg)
{
	__u16 dport = bpf_ntohs(pkt->dport);
	__u32 flags;

	if (pkt->family != XS_AF_INET6 || !cfg)
		return XS_CONTINUE;
	flags = cfg->flags;
	if (!(flags & XS_CFG_V6_MEDIA_DROP))
		return XS_CONTINUE;

	if (pkt->l4proto == IPPROTO_UDP) {
		if (xs_in_range(dport, cfg->rtp_min, cfg->rtp_max))
			return XS_DROP_V6_MEDIA;
		if ((flags & XS_CFG_TURN) && ((cfg->turn_udp && dport == cfg->turn_udp) ||
					      xs_in_range(dport, cfg->turn_min, cfg->turn_max)))
			return XS_DROP_V6_MEDIA;
	} else if (pkt->l4proto == IPPROTO_TCP) {
		if ((flags & XS_CFG_TURN) && cfg->turn_tls && dport == cfg->turn_tls)
			return XS_DROP_V6_MEDIA;
	}
	return XS_CONTINUE;
}

#endif /* XDPSBC_BPF_V6MEDIA_H */
