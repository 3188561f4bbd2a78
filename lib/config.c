// SPDX-License-Identifier: GPL-2.0-only
/* Settings (xs_config, one element) and the per-reason counters (xs_stats). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/xdpsbc.h"

int xs_config_get(const struct xs_maps *m, struct xs_config *cfg)
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(m->config, &key, cfg))
		return -errno;
	return 0;
}

/* Ranges must be ordered; the XDP program reads the element as one value. */
int xs_config_set(const struct xs_maps *m, const struct xs_config *cfg)
{
	__u32 key = 0;

	if (cfg->rtp_min > cfg->rtp_max || cfg->turn_min > cfg->turn_max ||
	    cfg->relay_min > cfg->relay_max)
		return -EINVAL;
	/* The XDP program never bans on a first request: a rate of 0 cannot be. */
	if ((cfg->flags & XS_CFG_FLOOD) &&
	    (!cfg->flood_rate || !cfg->flood_window_s || !cfg->flood_ban_s ||
	     cfg->flood_prefix4 > 32 || cfg->flood_prefix6 > 128))
		return -EINVAL;
	if (bpf_map_update_elem(m->config, &key, cfg, BPF_ANY))
		return -errno;
	return 0;
}

static const struct {
	const char *name, *doc;
	int action;
} reasons[XS_REASON_MAX] = {
/* XDP_* come from linux/bpf.h (enum xdp_action), included by bpf/bpf.h. */
#define XS_REASON(e, str, act, d) [XS_##e] = {str, d, act},
#include "xdpsbc_reasons.inc"
#undef XS_REASON
};

const char *xs_reason_name(unsigned int r)
{
	return r < XS_REASON_MAX ? reasons[r].name : "unknown";
}

const char *xs_reason_doc(unsigned int r)
{
	return r < XS_REASON_MAX ? reasons[r].doc : "";
}

const char *xs_reason_action(unsigned int r)
{
	static const char *const act[] = {"aborted", "drop", "pass", "tx", "redirect"};

	return r < XS_REASON_MAX ? act[reasons[r].action] : "unknown";
}

/**
 * xs_stats_read() - the per-reason counters summed over every possible CPU.
 * @out: XS_REASON_MAX entries.
 *
 * A map pinned by an older version has fewer reasons (the list only grows):
 * the ones it lacks read as zero until the next load re-creates it.
 */
int xs_stats_read(const struct xs_maps *m, struct xs_counter *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct xs_counter *percpu;
	int ret = 0;

	if (ncpu < 0)
		return ncpu;
	if (bpf_obj_get_info_by_fd(m->stats, &info, &len))
		return -errno;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (__u32 r = 0; r < XS_REASON_MAX; r++) {
		out[r].packets = out[r].bytes = 0;
		if (r >= info.max_entries)
			continue;
		if (bpf_map_lookup_elem(m->stats, &r, percpu)) {
			ret = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++) {
			out[r].packets += percpu[c].packets;
			out[r].bytes += percpu[c].bytes;
		}
	}
	free(percpu);
	return ret;
}
