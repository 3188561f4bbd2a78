// SPDX-License-Identifier: GPL-2.0-only
/*
 * The table of pinned maps: name, where its fd sits in struct xs_maps, and
 * the key/value sizes userspace copies. Opening (maps.c) and sizing (sizes.c)
 * both walk it.
 */
#include <stddef.h>
#include "lib/xdpsbc.h"
#include "lib/internal.h"

#define DESC(name, field, key, val)                                             \
	{                                                                       \
		name, offsetof(struct xs_maps, field), sizeof(key), sizeof(val) \
	}

/* Sizes are checked on open: userspace copies keys and values of these sizes. */
const struct xs_map_desc xs_map_descs[] = {
	DESC(XS_MAP_STATS, stats, __u32, struct xs_counter),
	DESC(XS_MAP_CONFIG, config, __u32, struct xs_config),
	DESC(XS_MAP_BLOCK4, block4, struct xs_lpm4, struct xs_block),
	DESC(XS_MAP_BLOCK6, block6, struct xs_lpm6, struct xs_block),
	DESC(XS_MAP_BLKNOTE4, blknote4, struct xs_lpm4, struct xs_note),
	DESC(XS_MAP_BLKNOTE6, blknote6, struct xs_lpm6, struct xs_note),
	DESC(XS_MAP_TRUST4, trust4, struct xs_lpm4, struct xs_trust),
	DESC(XS_MAP_TRUST6, trust6, struct xs_lpm6, struct xs_trust),
	DESC(XS_MAP_FLOWS, flows, struct xs_flow_key, struct xs_flow),
	DESC(XS_MAP_TXPORTS, txports, __u32, __u32),
	DESC(XS_MAP_FLOOD, flood, struct xs_flood_key, struct xs_flood),
	DESC(XS_MAP_BLKGEN, blkgen, __u32, __u64),
	{NULL, 0, 0, 0},
};
