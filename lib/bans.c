// SPDX-License-Identifier: GPL-2.0-only
/*
 * SIP flood bans: the xs_bans ring buffer the XDP program writes one event
 * per new ban to, and the xs_flood map behind `xdpsbc bans`. The ring buffer
 * is opened from its pin, so a daemon started after the program was loaded
 * (or restarted) gets the bans from then on; bans made while nobody read are
 * still in xs_flood, only their events are gone.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/xdpsbc.h"
#include "lib/internal.h"

struct xs_bans {
	struct ring_buffer *rb;
	int map_fd;
	xs_ban_cb cb;
	void *arg;
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct xs_bans *b = ctx;
	struct xs_ban_event ev;

	/* A record of another size is another program version's: skip it. */
	if (size != sizeof(ev))
		return 0;
	memcpy(&ev, data, sizeof(ev));
	return b->cb(&ev, b->arg);
}

/**
 * xs_bans_open() - open the xs_bans ring buffer pinned under @pin_root.
 * @cb: called from xs_bans_poll() once per new ban; a negative return stops
 *	that poll and is returned by it.
 */
int xs_bans_open(const char *pin_root, xs_ban_cb cb, void *arg, struct xs_bans **out)
{
	char path[PATH_MAX];
	struct xs_bans *b;
	int ret;

	*out = NULL;
	ret = xs_pin_path(pin_root, XS_MAP_BANS, path, sizeof(path));
	if (ret)
		return ret;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->cb = cb;
	b->arg = arg;
	b->map_fd = bpf_obj_get(path);
	if (b->map_fd < 0) {
		ret = -errno;
		free(b);
		return ret;
	}
	b->rb = ring_buffer__new(b->map_fd, on_sample, b, NULL);
	if (!b->rb) {
		ret = -errno;
		close(b->map_fd);
		free(b);
		return ret;
	}
	*out = b;
	return 0;
}

/* Wait up to @timeout_ms (0: don't wait, -1: forever); returns events handled or -errno. */
int xs_bans_poll(struct xs_bans *b, int timeout_ms)
{
	int n = ring_buffer__poll(b->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

/* An fd that becomes readable when events wait, for the caller's own poll/epoll loop. */
int xs_bans_fd(const struct xs_bans *b)
{
	return ring_buffer__epoll_fd(b->rb);
}

void xs_bans_close(struct xs_bans *b)
{
	if (!b)
		return;
	ring_buffer__free(b->rb);
	close(b->map_fd);
	free(b);
}

/* "198.51.100.7/32", "2001:db8:5::/64" */
int xs_flood_key_format(const struct xs_flood_key *k, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->addr, a, sizeof(a)))
		return -errno;
	if ((size_t)snprintf(buf, len, "%s/%u", a, k->prefixlen) >= len)
		return -ENOSPC;
	return 0;
}

#define WALK_BATCH 4096

/*
 * Every xs_flood entry, in batches: the map holds up to millions of sources
 * and a syscall per entry would take seconds. @cb returning non-zero stops
 * the walk with that value.
 */
int xs_flood_walk(const struct xs_maps *m, xs_flood_cb cb, void *arg)
{
	struct xs_flood_key *keys;
	struct xs_flood *vals;
	__u32 in = 0, out = 0, n;
	bool first = true;
	int ret = 0, err;

	keys = calloc(WALK_BATCH, sizeof(*keys));
	vals = calloc(WALK_BATCH, sizeof(*vals));
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		n = WALK_BATCH;
		err = bpf_map_lookup_batch(m->flood, first ? NULL : &in, &out, keys, vals, &n,
					   NULL);
		err = err ? -errno : 0;
		if (err && err != -ENOENT) {
			ret = err;
			break;
		}
		for (__u32 i = 0; i < n && !ret; i++)
			ret = cb(&keys[i], &vals[i], arg);
		if (ret || err == -ENOENT)
			break;
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

/* Lift the ban of @k (and forget its count); -ENOENT when it has no entry. */
int xs_flood_forget(const struct xs_maps *m, const struct xs_flood_key *k)
{
	return bpf_map_delete_elem(m->flood, k) ? -errno : 0;
}
