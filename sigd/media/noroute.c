// SPDX-License-Identifier: GPL-2.0-only
/*
 * Calls whose media is dropped for no route. The XDP program counts such
 * drops per ingress interface (xs_noroute) and per flow (xs_flow.noroute).
 * Once a second sigd sums the per-interface counts, a few map lookups
 * whatever the number of calls; only when they grew does it read the flows
 * of its calls, to name the calls hit. Each call is warned about at most
 * once a minute, and one round logs at most MAX_WARN calls.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>

#include "fw/fw.h"
#include "media/internal.h"
#include "media/media.h"

#define CHECK_NS  NSEC_PER_SEC
#define REWARN_NS (60 * NSEC_PER_SEC)
#define MAX_WARN  20

static int noroute_fd = -1;
static uint64_t last_check_ns, last_total;

/* Sum of the per-interface counts, and "e0: why, ..." for those that grew. */
static uint64_t read_ifaces(char *why, size_t len)
{
	static struct {
		uint32_t ifindex;
		uint64_t packets;
	} seen[XS_NOROUTE_MAX];
	static unsigned int nseen;
	uint32_t key, next, *prev = NULL;
	uint64_t total = 0;
	size_t off = 0;

	why[0] = 0;
	while (!bpf_map_get_next_key(noroute_fd, prev, &next)) {
		struct xs_noroute n;
		char name[IF_NAMESIZE];
		unsigned int i;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(noroute_fd, &key, &n))
			continue;
		total += n.packets;
		for (i = 0; i < nseen && seen[i].ifindex != key; i++)
			;
		if (i == nseen && nseen < XS_NOROUTE_MAX)
			seen[nseen++].ifindex = key;
		if (i < nseen && seen[i].packets != n.packets && off < len) {
			if (!if_indextoname(key, name))
				snprintf(name, sizeof(name), "#%u", key);
			off += snprintf(why + off, len - off, "%s%s: %s", off ? ", " : "", name,
					xs_noroute_why_str(n.why));
		}
		if (i < nseen)
			seen[i].packets = n.packets;
	}
	return total;
}

void media_noroute_watch(struct media_ctx *mc, const char *pin_root)
{
	uint64_t now = media_now_ns(), total;
	unsigned int h, warned = 0, more = 0;
	struct media_call *c;
	char why[256], name[MEDIA_CALLID_MAX], path[512];

	if (now - last_check_ns < CHECK_NS)
		return;
	last_check_ns = now;
	if (noroute_fd < 0) {
		/* Pinned with the program: absent until it is loaded (or an older one runs). */
		snprintf(path, sizeof(path), "%s/%s", pin_root, XS_MAP_NOROUTE);
		noroute_fd = bpf_obj_get(path);
		if (noroute_fd < 0)
			return;
	}
	total = read_ifaces(why, sizeof(why));
	if (total == last_total)
		return;
	last_total = total;
	for (h = 0; h < MEDIA_HASH_SIZE; h++) {
		for (c = mc->hash[h]; c; c = c->next) {
			uint32_t n = media_flows_noroute(mc, c);
			/* Less than before: flows reprogrammed (re-INVITE), counting anew. */
			uint32_t grown = n >= c->noroute ? n - c->noroute : n;

			c->noroute = n;
			if (!c->noroute_read) {
				c->noroute_read = true;
				/* Rebuilt after a restart: what its flows carry is a baseline. */
				if (!c->call_id[0])
					continue;
			}
			if (!grown)
				continue;
			if (c->noroute_warn_ns && now - c->noroute_warn_ns < REWARN_NS)
				continue;
			if (warned == MAX_WARN) {
				more++;
				continue;
			}
			c->noroute_warn_ns = now;
			warned++;
			CLOG(XS_LOG_WARN, media_call_name(c, name, sizeof(name)),
			     "media dropped for no route: %u packets so far (%s); the relay "
			     "cannot reach this call's next hop: see `xdpsbc status`",
			     n, why[0] ? why : "?");
		}
	}
	if (more)
		xs_log(XS_LOG_WARN, "media dropped for no route on %u more calls\n", more);
}
