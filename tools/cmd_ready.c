// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xdpsbc status`'s readiness section: per interface running this pin root's
 * program, can the relay forward media? It needs IPv4 forwarding on the
 * interface (bpf_fib_lookup() refuses without it), and the next hops must
 * resolve: drops for no route in the last minute (xs_noroute, kept by the
 * XDP program with their time, so "the last minute" is the kernel's count,
 * not a sample) say they do not, and why (the FIB's answer).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "fw/fw.h"

struct ready {
	int fwd; /* 1, 0, or a negative errno */
	int guarded;
	uint64_t recent, total;
	uint64_t ago_s; /* since the last drop; meaningful when total */
	int why;
	bool can;
};

static void ready_of(int fd, const char *name, unsigned int ifindex, struct ready *r)
{
	struct xs_noroute n;
	uint64_t now = xs_now_ns();
	__u32 key = ifindex;

	memset(r, 0, sizeof(*r));
	r->fwd = xs_fwd_get(name);
	r->guarded = xs_fwd_guard_has(name);
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &key, &n)) {
		r->total = n.packets;
		r->why = n.why;
		r->ago_s = now > n.last_ns ? (now - n.last_ns) / 1000000000ULL : 0;
		if (now - n.window_ns < XS_NOROUTE_WINDOW_NS)
			r->recent = n.window_packets;
	}
	r->can = r->fwd == 1 && !r->recent;
}

void status_readiness(struct cli *c)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	char path[512];
	struct ready r;
	enum xs_mode mode;
	uint32_t id;
	int fd = -1;

	/* Missing under a pin root an older program made: no counts, not an error. */
	if (snprintf(path, sizeof(path), "%s/%s", c->pin_root, XS_MAP_NOROUTE) < (int)sizeof(path))
		fd = bpf_obj_get(path);
	if (c->json)
		json_arr_begin("readiness");
	else
		printf("readiness:\n");
	for (i = ifs; i && i->if_index; i++) {
		if (xs_attached(i->if_index, &mode, &id) != 1 ||
		    xs_prog_uses_root(id, c->pin_root) != 1)
			continue;
		ready_of(fd, i->if_name, i->if_index, &r);
		if (c->json) {
			json_obj_begin(NULL);
			json_str("name", i->if_name);
			json_str("mode", xs_mode_str(mode));
			if (r.fwd < 0)
				json_null("forwarding");
			else
				json_bool("forwarding", r.fwd);
			json_bool("guarded", r.guarded == 1);
			json_u64("drop_no_route_last_minute", r.recent);
			json_u64("drop_no_route_total", r.total);
			if (r.total) {
				json_u64("drop_no_route_seconds_ago", r.ago_s);
				json_str("drop_no_route_why", xs_noroute_why_str(r.why));
			}
			json_bool("can_relay", r.can);
			json_obj_end();
			continue;
		}
		printf("  %-15s %s (%s mode; net.ipv4.conf.%s.forwarding %s%s)", i->if_name,
		       r.can ? "ready" : "NOT READY", xs_mode_str(mode), i->if_name,
		       r.fwd < 0 ? "unreadable"
		       : r.fwd	 ? "1"
				 : "0",
		       r.guarded == 1 ? ", set by xdpsbc behind its guard" : "");
		if (r.recent)
			printf("; %llu media packets dropped for no route in the last minute: %s",
			       (unsigned long long)r.recent, xs_noroute_why_str(r.why));
		else if (r.fwd == 0)
			printf("; media arriving here is dropped (drop-no-route)");
		printf("\n");
	}
	if (ifs)
		if_freenameindex(ifs);
	if (fd >= 0)
		close(fd);
	if (c->json)
		json_arr_end();
}
