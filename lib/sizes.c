// SPDX-License-Identifier: GPL-2.0-only
/*
 * How big the big maps are. One table names the size knobs ("flood",
 * "flows", "blocklist", "trusted") and the pinned maps each one sizes; sigd's
 * map-sizes key, the CLI's --map-sizes and $XDPSBC_MAP_SIZES all parse the
 * same "NAME=N,NAME=N" list with it. A size takes effect when a map is
 * created: a pin of another size is kept, with a warning, because resizing a
 * kernel map means creating a new one and copying every entry across.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/xdpsbc.h"
#include "lib/internal.h"

struct knob {
	const char *name;
	const char *maps[4]; /* NULL-terminated when shorter */
	uint32_t def, min, max;
};

static const struct knob knobs[XS_SIZE_MAX] = {
	[XS_SIZE_FLOOD] = {"flood", {XS_MAP_FLOOD}, XS_FLOOD_DEFAULT, 64, XS_FLOOD_MAX},
	[XS_SIZE_FLOWS] = {"flows", {XS_MAP_FLOWS}, XS_FLOWS_DEFAULT, 4, XS_FLOWS_MAX},
	[XS_SIZE_BLOCKLIST] = {"blocklist",
			       {XS_MAP_BLOCK4, XS_MAP_BLOCK6, XS_MAP_BLKNOTE4, XS_MAP_BLKNOTE6},
			       XS_BLOCK_DEFAULT,
			       1,
			       XS_BLOCK_MAX},
	[XS_SIZE_TRUSTED] =
		{"trusted", {XS_MAP_TRUST4, XS_MAP_TRUST6}, XS_TRUST_DEFAULT, 1, XS_TRUST_MAX},
};

static struct xs_map_sizes current;
static bool current_set;

const char *xs_size_name(enum xs_size k)
{
	return k < XS_SIZE_MAX ? knobs[k].name : "?";
}

void xs_map_sizes_defaults(struct xs_map_sizes *s)
{
	for (int k = 0; k < XS_SIZE_MAX; k++)
		s->n[k] = knobs[k].def;
}

/**
 * xs_map_sizes_parse() - apply "NAME=N,NAME=N" to @s.
 *
 * Sizes not named keep their value in @s. On error @s is unchanged and @why
 * says which item is wrong and what is allowed.
 */
int xs_map_sizes_parse(const char *list, struct xs_map_sizes *s, char *why, size_t len)
{
	struct xs_map_sizes out = *s;
	char buf[256], *save, *tok;

	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf)) {
		snprintf(why, len, "list too long");
		return -EINVAL;
	}
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		char *eq = strchr(tok, '=');
		int k;

		if (eq)
			*eq = '\0';
		for (k = 0; k < XS_SIZE_MAX && strcmp(knobs[k].name, tok); k++)
			;
		if (!eq || k == XS_SIZE_MAX) {
			snprintf(why, len,
				 "'%s': expected NAME=ENTRIES, NAME one of flood, flows, "
				 "blocklist, trusted",
				 tok);
			return -EINVAL;
		}
		if (xs_u32_parse(eq + 1, knobs[k].min, knobs[k].max, &out.n[k])) {
			snprintf(why, len, "%s=%s: entries from %u to %u", tok, eq + 1,
				 knobs[k].min, knobs[k].max);
			return -EINVAL;
		}
	}
	*s = out;
	return 0;
}

/* $XDPSBC_MAP_SIZES applied to @s (nothing when unset). */
int xs_map_sizes_env(struct xs_map_sizes *s, char *why, size_t len)
{
	const char *env = getenv("XDPSBC_MAP_SIZES");
	int ret;

	if (!env || !*env)
		return 0;
	ret = xs_map_sizes_parse(env, s, why, len);
	if (ret) {
		size_t n = strlen(why);

		snprintf(why + n, len - n, " (in $XDPSBC_MAP_SIZES)");
	}
	return ret;
}

void xs_map_sizes_use(const struct xs_map_sizes *s)
{
	current = *s;
	current_set = true;
}

/* What xs_map_sizes_use() set, else the defaults with $XDPSBC_MAP_SIZES. */
const struct xs_map_sizes *xs_map_sizes_current(void)
{
	char why[160];

	if (!current_set) {
		xs_map_sizes_defaults(&current);
		if (xs_map_sizes_env(&current, why, sizeof(why))) {
			xs_log(XS_LOG_ERR, "map sizes: %s; using the defaults\n", why);
			xs_map_sizes_defaults(&current);
		}
		current_set = true;
	}
	return &current;
}

/* The knob that sizes pinned map @name, or -1 (sized by the program). */
int xs_size_of_map(const char *name)
{
	for (int k = 0; k < XS_SIZE_MAX; k++)
		for (int i = 0; i < 4 && knobs[k].maps[i]; i++)
			if (!strcmp(knobs[k].maps[i], name))
				return k;
	return -1;
}

/**
 * xs_obj_size_map() - give @map, about to be created, its configured size.
 *
 * Called for maps that are not pinned yet; pinned ones keep their size.
 */
int xs_obj_size_map(struct bpf_map *map)
{
	int k = xs_size_of_map(bpf_map__name(map));

	if (k < 0)
		return 0;
	return bpf_map__set_max_entries(map, xs_map_sizes_current()->n[k]);
}

/*
 * A pin found with another size than configured: it is kept, entries and
 * all, since a kernel map cannot be resized. Said once per knob and process.
 */
void xs_size_pinned_differs(const char *path, const char *name, uint32_t pinned)
{
	static unsigned int warned;
	int k = xs_size_of_map(name);
	uint32_t want;

	if (k < 0)
		return;
	want = xs_map_sizes_current()->n[k];
	if (pinned == want || (warned & (1U << k)))
		return;
	warned |= 1U << k;
	xs_log(XS_LOG_WARN,
	       "%s: pinned with %u entries, map-sizes %s=%u: keeping the pinned map and its "
	       "entries; the new size applies once the map is re-created ('xdpsbc unload', "
	       "which drops calls and the blocklist)\n",
	       path, pinned, knobs[k].name, want);
}

/**
 * xs_maps_check_sizes() - warn about each map of @m pinned with another size
 * than configured (once per knob), for a daemon starting on existing pins.
 */
void xs_maps_check_sizes(const struct xs_maps *m, const char *pin_root)
{
	char path[PATH_MAX];

	for (const struct xs_map_desc *d = xs_map_descs; d->name; d++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd = *(const int *)((const char *)m + d->off);

		if (xs_size_of_map(d->name) < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		xs_pin_path(pin_root, d->name, path, sizeof(path));
		xs_size_pinned_differs(path, d->name, info.max_entries);
	}
}
