/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stage 1: trusted networks. A trusted source (the SIP core, the carrier's
 * own media servers) is never blocked: it skips the blocklist and the IPv6
 * media drop, and a closed pinhole does not drop it either. Its media is
 * still relayed when it hits a flow.
 */
#ifndef XDPSBC_BPF_TRUST_H
#define XDPSBC_BPF_TRUST_H

#include "lib/maps.h"
#include "lib/parse.h"

static __always_inline int xs_trusted(const struct xs_pkt *pkt)
{
	struct xs_trust *t;

	if (pkt->family == XS_AF_INET)
		t = bpf_map_lookup_elem(&xs_trust4, &pkt->src4);
	else
		t = bpf_map_lookup_elem(&xs_trust6, &pkt->src6);
	if (!t)
		return 0;
	/* Shared by all CPUs: atomic add. */
	__sync_fetch_and_add(&t->hits, 1);
	return 1;
}

#endif /* XDPSBC_BPF_TRUST_H */
