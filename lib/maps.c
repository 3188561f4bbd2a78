// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pinned maps. They are created by loading the xdpsbc object with every
 * map pinned under the pin root (its program left unloaded), so the CLI can
 * block sources and change settings before any interface is armed; later
 * loads find the pins and reuse them.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/xdpsbc.h"
#include "lib/internal.h"
#include "xdpsbc.skel.h"

static int *map_fd(struct xs_maps *m, const struct xs_map_desc *d)
{
	return (int *)((char *)m + d->off);
}

/*
 * Maps indexed by an enum of the program (xs_stats by enum xs_reason): their
 * size is the program's, not the operator's. The reason list only grows, so a
 * pin left by an older version is smaller than this program needs; it is
 * re-created (its counters restart) rather than adopted, every other map is
 * kept.
 */
static bool sized_by_program(const struct bpf_map *map)
{
	return !strcmp(bpf_map__name(map), XS_MAP_STATS);
}

/*
 * libbpf reuses a pin only when its sizes and flags match the object's. A
 * pin of another layout is an error (logged, -EINVAL); a pin of another size
 * (created with other map sizes, or by a version with other defaults) is
 * kept, so take its size, and the flags the kernel added at creation. A map
 * not pinned yet gets the configured size (sizes.c).
 */
/* The pin root of the pin @path (its directory), in a static buffer. */
static const char *pin_root_of(const char *path)
{
	static char root[PATH_MAX];
	char *slash;

	snprintf(root, sizeof(root), "%s", path);
	slash = strrchr(root, '/');
	if (slash && slash != root)
		*slash = '\0';
	return root;
}

static int adopt_pinned_size(struct bpf_map *map, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? xs_obj_size_map(map) : -errno;
	ret = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (ret)
		return -errno;
	/* Another layout: migrated when a step exists (migrate.c), else refused. */
	if (info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map)) {
		ret = xs_migrate_pin(pin_root_of(path), bpf_map__name(map), path, 0);
		if (ret < 0)
			return ret;
		return adopt_pinned_size(map, path);
	}
	/* libbpf would refuse quietly (at debug level); say which pin and why. */
	if (info.type != bpf_map__type(map)) {
		xs_log(XS_LOG_ERR,
		       "%s: the pinned map has another type than this program's; left by "
		       "another xdpsbc version? 'xdpsbc unload' removes it\n",
		       path);
		return -EINVAL;
	}
	/* Grown with the program: re-created at its size, every counter copied. */
	if (info.max_entries != bpf_map__max_entries(map) && sized_by_program(map)) {
		ret = xs_migrate_pin(pin_root_of(path), bpf_map__name(map), path,
				     bpf_map__max_entries(map));
		return ret < 0 ? ret : 0;
	}
	xs_size_pinned_differs(path, bpf_map__name(map), info.max_entries);
	if (info.max_entries != bpf_map__max_entries(map))
		ret = bpf_map__set_max_entries(map, info.max_entries);
	/* The kernel adds flags of its own (BPF_F_RDONLY_PROG on devmaps). */
	if (!ret && info.map_flags != bpf_map__map_flags(map))
		ret = bpf_map__set_map_flags(map, info.map_flags);
	return ret;
}

/**
 * xs_obj_set_pins() - pin every map of @obj under @pin_root by its name.
 *
 * libbpf then reuses a pinned map whose type and sizes match and pins the
 * ones it creates. Internal maps (.rodata, .bss) are per-load and not pinned.
 */
int xs_obj_set_pins(struct bpf_object *obj, const char *pin_root)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int ret;

	bpf_object__for_each_map(map, obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		ret = xs_pin_path(pin_root, bpf_map__name(map), path, sizeof(path));
		if (!ret)
			ret = bpf_map__set_pin_path(map, path);
		if (ret)
			return ret;
		ret = adopt_pinned_size(map, path);
		if (ret)
			return ret;
	}
	return 0;
}

int xs_config_defaults(struct xs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rtp_min = XS_CFG_DEFAULT_RTP_MIN;
	cfg->rtp_max = XS_CFG_DEFAULT_RTP_MAX;
	cfg->turn_min = XS_CFG_DEFAULT_TURN_MIN;
	cfg->turn_max = XS_CFG_DEFAULT_TURN_MAX;
	cfg->turn_udp = XS_CFG_DEFAULT_TURN_UDP;
	cfg->turn_tls = XS_CFG_DEFAULT_TURN_TLS;
	/*
	 * IPv4-only media is the default policy of a carrier edge: IPv6
	 * RTP is dropped, IPv6 signalling stays open. `media ipv4-only off` undoes it.
	 */
	cfg->flags |= XS_CFG_V6_MEDIA_DROP;
	/* Flood limiting is on by default, with Kamailio's pike-like defaults. */
	cfg->flags |= XS_CFG_FLOOD;
	cfg->flood_ports[0] = 5060;
	cfg->flood_ports[1] = 5061;
	cfg->flood_rate = XS_CFG_DEFAULT_FLOOD_RATE;
	cfg->flood_window_s = XS_CFG_DEFAULT_FLOOD_WINDOW;
	cfg->flood_ban_s = XS_CFG_DEFAULT_FLOOD_BAN;
	cfg->flood_prefix4 = XS_CFG_DEFAULT_FLOOD_PREFIX4;
	cfg->flood_prefix6 = XS_CFG_DEFAULT_FLOOD_PREFIX6;
	return 0;
}

/* Load the object with pins and no program: creates and pins missing maps. */
static int create_pins(const char *pin_root)
{
	struct bpf_program *prog;
	struct xdpsbc *skel;
	int ret;

	skel = xdpsbc__open();
	if (!skel)
		return -errno ?: -EINVAL;
	ret = xs_obj_set_pins(skel->obj, pin_root);
	if (ret)
		goto out;
	bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, false);
	ret = xdpsbc__load(skel);
out:
	xdpsbc__destroy(skel);
	return ret;
}

static int check_layout(int fd, const struct xs_map_desc *d, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.key_size == d->key_size && info.value_size == d->value_size)
		return 0;
	return -EINVAL;
}

static int open_all(const char *pin_root, struct xs_maps *m)
{
	const struct xs_map_desc *d;
	char path[PATH_MAX];
	int ret, fd;

	for (d = xs_map_descs; d->name; d++) {
		ret = xs_pin_path(pin_root, d->name, path, sizeof(path));
		if (ret)
			return ret;
		fd = bpf_obj_get(path);
		if (fd < 0)
			return -errno;
		*map_fd(m, d) = fd;
		ret = check_layout(fd, d, path);
		if (ret == -EINVAL) {
			/* An earlier layout: migrated when a step exists, else refused. */
			ret = xs_migrate_pin(pin_root, d->name, path, 0);
			if (ret < 0)
				return ret;
			close(fd);
			*map_fd(m, d) = -1;
			fd = bpf_obj_get(path);
			if (fd < 0)
				return -errno;
			*map_fd(m, d) = fd;
			ret = check_layout(fd, d, path);
		}
		if (ret)
			return ret;
	}
	xs_layout_stamp(pin_root);
	return 0;
}

/**
 * xs_maps_open() - open the maps pinned under @pin_root.
 * @create: create (and pin) missing maps, and give a new xs_config its defaults.
 *
 * Returns 0 with every fd in @m open, or a negative errno with none open:
 * -ENOENT when not pinned and !@create.
 */
int xs_maps_open(const char *pin_root, bool create, struct xs_maps *m)
{
	char path[PATH_MAX];
	struct xs_config cfg;
	bool fresh;
	int ret;

	for (const struct xs_map_desc *d = xs_map_descs; d->name; d++)
		*map_fd(m, d) = -1;
	ret = open_all(pin_root, m);
	if (!ret || ret != -ENOENT || !create)
		goto out;
	xs_maps_close(m);

	ret = xs_bpffs_ensure(pin_root);
	if (ret)
		return ret;
	xs_pin_path(pin_root, XS_MAP_CONFIG, path, sizeof(path));
	fresh = access(path, F_OK) != 0;
	ret = create_pins(pin_root);
	/*
	 * Another process (sigd, without the CLI's lock) may have pinned the
	 * same maps a moment earlier, making our pinning fail: use theirs.
	 */
	if (ret) {
		xs_maps_close(m);
		if (open_all(pin_root, m))
			goto out;
		fresh = false; /* theirs, defaults and all */
		ret = 0;
	} else {
		ret = open_all(pin_root, m);
	}
	if (!ret && fresh) {
		xs_config_defaults(&cfg);
		ret = xs_config_set(m, &cfg);
	}
out:
	if (ret)
		xs_maps_close(m);
	return ret;
}

void xs_maps_close(struct xs_maps *m)
{
	for (const struct xs_map_desc *d = xs_map_descs; d->name; d++) {
		int *fd = map_fd(m, d);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}
