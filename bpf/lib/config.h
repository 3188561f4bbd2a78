/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Questions about the settings (xs_config) that several stages ask: is a
 * port in one of its ranges, is it one of the SIP ports. Header-only and
 * stage-free, so a stage needing one does not include another stage.
 */
#ifndef XDPSBC_BPF_CONFIG_H
#define XDPSBC_BPF_CONFIG_H

#include "xdpsbc_common.h"

/* @port in [@min, @max]; an unset range (max 0) holds nothing. */
static __always_inline int xs_in_range(__u16 port, __u16 min, __u16 max)
{
	return max && port >= min && port <= max;
}

/* Is @dport one of the SIP ports the flood limit watches (host order)? */
static __always_inline int xs_flood_port(const struct xs_config *cfg, __u16 dport)
{
	int i;

#pragma unroll
	for (i = 0; i < XS_FLOOD_PORTS_MAX; i++) {
		if (!cfg->flood_ports[i])
			return 0;
		if (cfg->flood_ports[i] == dport)
			return 1;
	}
	return 0;
}

#endif /* XDPSBC_BPF_CONFIG_H */
