// SPDX-License-Identifier: GPL-2.0-only
/*
 * Map layout versions and migration. A map whose key or value layout changed
 * between versions cannot be reused by the new program; instead of asking for
 * 'xdpsbc unload' (every call and the blocklist gone), the loader creates the
 * map in the new layout, copies every entry across through the steps below,
 * and swaps the pin (rename on bpffs: atomic for anyone opening it by path).
 * Which steps an old pin needs is decided by data: the version recorded in the
 * xs_layout map, or, for pins made before versions were recorded, the
 * key/value sizes of the one layout that had them.
 *
 * The old map stays alive while a program still uses it: the running program
 * keeps relaying from it until it is replaced (xs_replace()), which then
 * settles what changed meanwhile (flows added, peers latched) into the new map.
 *
 * Adding a step when a layout changes: freeze the old struct in
 * migrate_layouts.h, write a convert function, add one row to steps[].
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/xdpsbc.h"
#include "lib/internal.h"
#include "lib/migrate_layouts.h"
#include "xdpsbc.skel.h"

#define BUF_MAX 512 /* bytes: the largest key or value of any layout */
/* Window a migrated, not yet latched flow gets to latch (sigd's default). */
#define MIGRATE_LATCH_WINDOW_NS (10ULL * 1000000000ULL)
#define RETIRED_MAX		XS_LAYOUT_MAPS

typedef void (*convert_fn)(const void *ok, const void *ov, void *nk, void *nv, uint64_t now);

struct step {
	const char *map;
	uint32_t from; /* the version this step reads; it writes from + 1 */
	uint32_t key_size, value_size;
	convert_fn convert;
};

/*
 * xs_flows 1 -> 2: latching became source-checked (latch_addr, a deadline).
 * Safe semantics for live calls: a flow already latched stays latched to its
 * peer (window closed: media goes on from that address only); one not yet
 * latched may latch from its signalled address for a fresh window, as sigd
 * programs it. The old STRICT and LATCH_SIG_IP bits have no meaning any more
 * (bit 1 is now PRELATCHED) and are cleared.
 */
static void flows_1_to_2(const void *ok, const void *ov, void *nk, void *nv, uint64_t now)
{
	const struct xs_flow_v1 *o = ov;
	struct xs_flow_v2 *n = nv;

	memcpy(nk, ok, sizeof(struct xs_flow_key_v1));
	memset(n, 0, sizeof(*n));
	n->dst_addr = o->dst_addr;
	n->src_addr = o->src_addr;
	n->dst_port = o->dst_port;
	n->src_port = o->src_port;
	n->expect_addr = o->expect_addr;
	n->peer_addr = o->peer_addr;
	n->expect_port = o->expect_port;
	n->peer_port = o->peer_port;
	n->flags = o->flags & (XS_FLOW_SIGD_MASK | XS_FLOW_V1_LATCH | XS_FLOW_V1_LATCHED);
	n->ifindex = o->ifindex;
	n->cookie = o->cookie;
	n->packets = o->packets;
	n->bytes = o->bytes;
	n->last_seen_ns = o->last_seen_ns;
	/* The caches (next hop, source check) start empty: the program refills them. */
	if (!(n->flags & XS_FLOW_LATCH))
		return;
	if (n->flags & XS_FLOW_LATCHED) {
		n->latch_addr = o->peer_addr;
		n->latch_until_ns = 0;
	} else {
		n->latch_addr = o->expect_addr;
		n->latch_until_ns = now + MIGRATE_LATCH_WINDOW_NS;
	}
}

/*
 * xs_flows 2 -> 3: dual-stack. Every IPv4 address moves into the first four
 * bytes of its 16-byte union (the key's too, v6 = 0); ports, flags, counters,
 * cookie and the latch are copied; the caches start empty.
 */
static void flows_2_to_3(const void *ok, const void *ov, void *nk, void *nv, uint64_t now)
{
	const struct xs_flow_key_v1 *k = ok;
	const struct xs_flow_v2 *o = ov;
	struct xs_flow_key *key = nk;
	struct xs_flow *n = nv;

	memset(key, 0, sizeof(*key));
	key->addr = k->addr;
	key->port = k->port;
	key->proto = k->proto;
	memset(n, 0, sizeof(*n));
	n->dst_addr = o->dst_addr;
	n->src_addr = o->src_addr;
	n->dst_port = o->dst_port;
	n->src_port = o->src_port;
	n->expect_addr = o->expect_addr;
	n->peer_addr = o->peer_addr;
	n->expect_port = o->expect_port;
	n->peer_port = o->peer_port;
	n->flags = o->flags;
	n->ifindex = o->ifindex;
	n->cookie = o->cookie;
	n->packets = o->packets;
	n->bytes = o->bytes;
	n->last_seen_ns = o->last_seen_ns;
	n->latch_until_ns = o->latch_until_ns;
	n->latch_addr = o->latch_addr;
}

/*
 * Every layout change, oldest first; a map's current version is 1 + its steps
 * (for xs_flows: XS_FLOW_LAYOUT).
 */
static const struct step steps[] = {
	{XS_MAP_FLOWS, 1, sizeof(struct xs_flow_key_v1), sizeof(struct xs_flow_v1), flows_1_to_2},
	{XS_MAP_FLOWS, 2, sizeof(struct xs_flow_key_v1), sizeof(struct xs_flow_v2), flows_2_to_3},
};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

/*
 * What the datapath changed in an old map between the copy and the program
 * swap, merged into the new entry: for flows, a peer latched meanwhile.
 */
static void flows_merge(const void *conv, void *cur)
{
	const struct xs_flow *o = conv;
	struct xs_flow *n = cur;

	if ((o->flags & XS_FLOW_LATCHED) && !(n->flags & XS_FLOW_LATCHED)) {
		n->peer_addr = o->peer_addr;
		n->peer_port = o->peer_port;
		n->latch_addr = o->latch_addr;
		n->latch_until_ns = o->latch_until_ns;
		n->flags |= XS_FLOW_LATCHED;
	}
}

struct retired {
	char name[16];
	int old_fd, new_fd;
	uint32_t from; /* version of the old map; 0: same layout (a resize) */
	uint32_t old_id;
};
static struct retired retired[RETIRED_MAX];
static unsigned int nretired, nmigrated;
static bool allowed;

void xs_migrate_allow(bool allow)
{
	allowed = allow;
}

unsigned int xs_migrated(void)
{
	return nmigrated;
}

/* 1 when program @prog_id still uses a map a migration of this process replaced. */
int xs_migrate_prog_retired(uint32_t prog_id)
{
	struct bpf_prog_info pinfo = {};
	__u32 len = sizeof(pinfo), ids[64];
	int fd, ret;

	if (!nretired)
		return 0;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	pinfo.nr_map_ids = 64;
	pinfo.map_ids = (__u64)(unsigned long)ids;
	ret = bpf_obj_get_info_by_fd(fd, &pinfo, &len);
	close(fd);
	if (ret)
		return -errno;
	for (__u32 i = 0; i < pinfo.nr_map_ids && i < 64; i++)
		for (unsigned int r = 0; r < nretired; r++)
			if (retired[r].old_id == ids[i])
				return 1;
	return 0;
}

static uint32_t current_version(const char *name)
{
	uint32_t v = 1;

	for (size_t i = 0; i < NSTEPS; i++)
		if (!strcmp(steps[i].map, name))
			v = steps[i].from + 1;
	return v;
}

static const struct step *step_from(const char *name, uint32_t version)
{
	for (size_t i = 0; i < NSTEPS; i++)
		if (!strcmp(steps[i].map, name) && steps[i].from == version)
			return &steps[i];
	return NULL;
}

/* The xs_layout map of @pin_root; created (and pinned) with @create. */
static int layout_open(const char *pin_root, bool create)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	char path[PATH_MAX];
	int fd, ret;

	ret = xs_pin_path(pin_root, XS_MAP_LAYOUT, path, sizeof(path));
	if (ret)
		return ret;
	fd = bpf_obj_get(path);
	if (fd >= 0 || errno != ENOENT || !create)
		return fd >= 0 ? fd : -errno;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, XS_MAP_LAYOUT, sizeof(struct xs_layout_key),
			    sizeof(struct xs_layout), XS_LAYOUT_MAPS, &opts);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		ret = -errno;
		close(fd);
		/* Pinned by another process a moment earlier: use theirs. */
		return ret == -EEXIST ? layout_open(pin_root, false) : ret;
	}
	return fd;
}

static int layout_get(const char *pin_root, const char *name, struct xs_layout *l)
{
	struct xs_layout_key k = {};
	int fd = layout_open(pin_root, false), ret = 0;

	if (fd < 0)
		return fd;
	snprintf(k.name, sizeof(k.name), "%s", name);
	if (bpf_map_lookup_elem(fd, &k, l))
		ret = -errno;
	close(fd);
	return ret;
}

static int layout_set(const char *pin_root, const char *name, uint32_t version, uint32_t ks,
		      uint32_t vs)
{
	struct xs_layout l = {.version = version, .key_size = ks, .value_size = vs};
	struct xs_layout_key k = {};
	int fd = layout_open(pin_root, true), ret = 0;

	if (fd < 0)
		return fd;
	snprintf(k.name, sizeof(k.name), "%s", name);
	if (bpf_map_update_elem(fd, &k, &l, BPF_ANY))
		ret = -errno;
	close(fd);
	return ret;
}

/* The program tag recorded for the build whose object hashes to @hash: 0 or -ENOENT. */
int xs_build_tag_get(const char *pin_root, uint64_t hash, uint8_t tag[8])
{
	struct xs_layout_build b;

	_Static_assert(sizeof(b) == sizeof(struct xs_layout), "one value size in xs_layout");
	if (layout_get(pin_root, XS_LAYOUT_BUILD, (struct xs_layout *)&b) || b.obj_hash != hash)
		return -ENOENT;
	memcpy(tag, b.tag, sizeof(b.tag));
	return 0;
}

void xs_build_tag_set(const char *pin_root, uint64_t hash, const uint8_t tag[8])
{
	struct xs_layout_build b = {.obj_hash = hash};
	struct xs_layout_key k = {};
	int fd = layout_open(pin_root, true);

	if (fd < 0)
		return;
	memcpy(b.tag, tag, sizeof(b.tag));
	snprintf(k.name, sizeof(k.name), "%s", XS_LAYOUT_BUILD);
	bpf_map_update_elem(fd, &k, &b, BPF_ANY);
	close(fd);
}

/**
 * xs_layout_stamp() - record the layout version of every versioned map of
 * @pin_root that has no record yet and has this program's layout.
 */
void xs_layout_stamp(const char *pin_root)
{
	char path[PATH_MAX];
	struct xs_layout l;

	for (size_t i = 0; i < NSTEPS; i++) {
		const struct xs_map_desc *d;
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd;

		if (i + 1 < NSTEPS && !strcmp(steps[i + 1].map, steps[i].map))
			continue; /* once per map */
		if (!layout_get(pin_root, steps[i].map, &l))
			continue;
		for (d = xs_map_descs; d->name && strcmp(d->name, steps[i].map); d++)
			;
		xs_pin_path(pin_root, steps[i].map, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0 || !d->name)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.key_size == d->key_size &&
		    info.value_size == d->value_size)
			layout_set(pin_root, d->name, current_version(d->name), d->key_size,
				   d->value_size);
		close(fd);
	}
}

/*
 * The version of the map pinned as @name with @info: its record, else (a
 * pin older than records) the one version whose sizes it has.
 */
static int pinned_version(const char *pin_root, const char *name, const struct bpf_map_info *info,
			  uint32_t cur_ks, uint32_t cur_vs, uint32_t *version)
{
	struct xs_layout l;

	if (!layout_get(pin_root, name, &l)) {
		if (l.key_size != info->key_size || l.value_size != info->value_size)
			return -EINVAL;
		*version = l.version;
		return 0;
	}
	if (info->key_size == cur_ks && info->value_size == cur_vs) {
		*version = current_version(name);
		return 0;
	}
	for (size_t i = 0; i < NSTEPS; i++)
		if (!strcmp(steps[i].map, name) && steps[i].key_size == info->key_size &&
		    steps[i].value_size == info->value_size) {
			*version = steps[i].from;
			return 0;
		}
	return -ENOENT;
}

/* A new, empty map @name as this program defines it (BTF and all), @max entries. */
static int create_current(const char *name, uint32_t max)
{
	struct bpf_program *prog;
	struct bpf_map *map, *want = NULL;
	struct xdpsbc *skel;
	int fd = -EINVAL, ret;

	skel = xdpsbc__open();
	if (!skel)
		return -errno ?: -EINVAL;
	bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, false);
	bpf_object__for_each_map(map, skel->obj)
	{
		if (!strcmp(bpf_map__name(map), name))
			want = map;
		else if (!bpf_map__is_internal(map))
			bpf_map__set_autocreate(map, false);
	}
	if (!want)
		goto out;
	ret = bpf_map__set_max_entries(want, max);
	ret = ret ?: xdpsbc__load(skel);
	if (ret) {
		fd = ret;
		goto out;
	}
	fd = dup(bpf_map__fd(want));
	if (fd < 0)
		fd = -errno;
out:
	xdpsbc__destroy(skel);
	return fd;
}

static size_t value_buf(const struct bpf_map_info *info)
{
	bool percpu = info->type == BPF_MAP_TYPE_PERCPU_ARRAY ||
		      info->type == BPF_MAP_TYPE_PERCPU_HASH ||
		      info->type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	int ncpu = percpu ? libbpf_num_possible_cpus() : 1;

	return percpu ? ((info->value_size + 7) & ~7U) * (size_t)(ncpu > 0 ? ncpu : 1)
		      : info->value_size;
}

/*
 * Copy every entry of @old (version @from; 0: same layout) into @new, through
 * the steps up to the current layout. @settle: insert only what @new lacks,
 * and merge what the datapath changed into what it has.
 */
static int copy_entries(int old, int new, const char *name, uint32_t from, bool settle,
			unsigned long *copied)
{
	struct bpf_map_info oi = {}, ni = {};
	__u32 len = sizeof(oi);
	unsigned long budget;
	void *ok, *ov, *nk, *nv, *tk, *tv, *cur;
	size_t vlen;
	bool first = true, array;
	int ret = 0;

	if (bpf_obj_get_info_by_fd(old, &oi, &len))
		return -errno;
	len = sizeof(ni);
	if (bpf_obj_get_info_by_fd(new, &ni, &len))
		return -errno;
	array = ni.type == BPF_MAP_TYPE_ARRAY || ni.type == BPF_MAP_TYPE_PERCPU_ARRAY;
	if (settle && array)
		return 0; /* counters: the few of the swap window are not worth a race */
	vlen = value_buf(&oi) > value_buf(&ni) ? value_buf(&oi) : value_buf(&ni);
	if (vlen < BUF_MAX)
		vlen = BUF_MAX;
	ok = calloc(6, vlen);
	if (!ok)
		return -ENOMEM;
	ov = (char *)ok + vlen, nk = (char *)ov + vlen, nv = (char *)nk + vlen;
	tk = (char *)nv + vlen, tv = (char *)tk + vlen;
	cur = tv; /* settle: the entry the new map has */
	budget = (unsigned long)oi.max_entries + 1;
	while (budget--) {
		if (bpf_map_get_next_key(old, first ? NULL : ok, nk)) {
			ret = errno == ENOENT ? 0 : -errno;
			break;
		}
		first = false;
		memcpy(ok, nk, oi.key_size);
		if (bpf_map_lookup_elem(old, ok, ov))
			continue; /* deleted meanwhile */
		memcpy(nk, ok, oi.key_size);
		memcpy(nv, ov, value_buf(&oi));
		for (uint32_t v = from; from && v < current_version(name); v++) {
			const struct step *s = step_from(name, v);

			s->convert(nk, nv, tk, tv, xs_now_ns());
			memcpy(nk, tk, BUF_MAX);
			memcpy(nv, tv, BUF_MAX);
		}
		if (array && *(__u32 *)nk >= ni.max_entries)
			continue;
		if (settle) {
			if (!bpf_map_lookup_elem(new, nk, cur)) {
				if (!strcmp(name, XS_MAP_FLOWS)) {
					flows_merge(nv, cur);
					bpf_map_update_elem(new, nk, cur, BPF_EXIST);
				}
				continue;
			}
		}
		if (bpf_map_update_elem(new, nk, nv, array ? BPF_ANY : BPF_NOEXIST)) {
			if (errno == EEXIST)
				continue; /* a settle racing sigd's own add */
			ret = -errno;
			break;
		}
		(*copied)++;
	}
	free(ok);
	return ret;
}

/* Pin @fd at @path in place of what is there, atomically (rename on bpffs). */
static int swap_pin(const char *pin_root, const char *name, int fd, const char *path)
{
	char tmp[PATH_MAX];

	/* bpffs refuses dots in names. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/xs_migrating_%s", pin_root, name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	if (rename(tmp, path)) {
		int ret = -errno;

		unlink(tmp);
		return ret;
	}
	return 0;
}

/**
 * xs_migrate_pin() - bring the map pinned at @path to this program's layout.
 * @resize: when non-zero, the layout is the same but the map needs @resize
 *	entries (an array indexed by an enum of the program that grew).
 *
 * Returns 0 when the pin already has this program's layout, 1 when it was
 * migrated (the pin now holds a new map with every entry), or a negative
 * errno, logged: -ENOTSUP when no migration exists from the pinned layout,
 * -EPERM when this process may not migrate a layout (see xs_migrate_allow()).
 */
int xs_migrate_pin(const char *pin_root, const char *name, const char *path, uint32_t resize)
{
	const struct xs_map_desc *d;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	unsigned long copied = 0;
	uint32_t from = 0, cur = current_version(name);
	int old, new = -1, ret;

	for (d = xs_map_descs; d->name && strcmp(d->name, name); d++)
		;
	old = bpf_obj_get(path);
	if (old < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(old, &info, &len)) {
		ret = -errno;
		goto out;
	}
	if (!resize) {
		if (!d->name) {
			ret = 0; /* not one userspace reads: libbpf's reuse check decides */
			goto out;
		}
		ret = pinned_version(pin_root, name, &info, d->key_size, d->value_size, &from);
		if (ret == -EINVAL) {
			xs_log(XS_LOG_ERR,
			       "%s: key/value size %u/%u does not match its recorded layout; "
			       "'xdpsbc unload' removes it\n",
			       path, info.key_size, info.value_size);
			goto out;
		}
		if (!ret && from == cur) {
			if (info.key_size == d->key_size && info.value_size == d->value_size)
				goto out;
			ret = -ENOENT;
		}
		if (ret || !step_from(name, from)) {
			xs_log(XS_LOG_ERR,
			       "%s: key/value size %u/%u, this version uses %zu/%zu (layout %u) "
			       "and has no migration from it; 'xdpsbc unload' removes it (drops "
			       "calls and the blocklist)\n",
			       path, info.key_size, info.value_size, d->key_size, d->value_size,
			       cur);
			ret = -ENOTSUP;
			goto out;
		}
	}
	/* A resize keeps the layout: nothing an old program reads changes meaning. */
	if (!allowed && !resize) {
		xs_log(XS_LOG_ERR,
		       "%s: pinned by an earlier xdpsbc (layout %u, this version %u); starting "
		       "xdpsbc-sigd or 'xdpsbc attach IFACE --replace' migrates it\n",
		       path, from, cur);
		ret = -EPERM;
		goto out;
	}
	if (nretired == RETIRED_MAX) {
		ret = -ENOSPC;
		goto out;
	}
	new = create_current(name, resize ? resize : info.max_entries);
	if (new < 0) {
		ret = new;
		goto out;
	}
	ret = copy_entries(old, new, name, from, false, &copied);
	if (!ret)
		ret = swap_pin(pin_root, name, new, path);
	if (ret) {
		xs_log(XS_LOG_ERR, "%s: migration failed (%s); the old map is kept\n", path,
		       strerror(-ret));
		goto out;
	}
	if (from)
		layout_set(pin_root, name, cur, d->key_size, d->value_size);
	if (from)
		xs_log(XS_LOG_INFO, "%s: migrated %lu entries from layout %u to %u\n", path, copied,
		       from, cur);
	else
		xs_log(XS_LOG_WARN,
		       "%s: %u entries, this program counts %u: re-creating it, its %lu entries "
		       "copied (the other maps are kept)\n",
		       path, info.max_entries, resize, copied);
	retired[nretired] =
		(struct retired){.old_fd = old, .new_fd = new, .from = from, .old_id = info.id};
	snprintf(retired[nretired].name, sizeof(retired[nretired].name), "%s", name);
	nretired++;
	nmigrated++;
	return 1;
out:
	if (new >= 0)
		close(new);
	close(old);
	return ret;
}

/**
 * xs_migrate_settle() - after the programs moved to the migrated maps, copy
 * what the old ones still gained meanwhile (flows added, peers latched).
 * @done: also let the old maps go (no program of ours uses them any more).
 */
void xs_migrate_settle(bool done)
{
	for (unsigned int r = 0; r < nretired; r++) {
		unsigned long n = 0;
		int ret = copy_entries(retired[r].old_fd, retired[r].new_fd, retired[r].name,
				       retired[r].from, true, &n);

		if (ret)
			xs_log(XS_LOG_WARN, "%s: settling the migration: %s\n", retired[r].name,
			       strerror(-ret));
		else if (n)
			xs_log(XS_LOG_INFO, "%s: %lu entries added during the migration copied\n",
			       retired[r].name, n);
		if (done) {
			close(retired[r].old_fd);
			close(retired[r].new_fd);
		}
	}
	if (done)
		nretired = 0;
}
