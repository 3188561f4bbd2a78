// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the pinned maps cost and hold: max entries, entries in use and kernel
 * memory, for `xdpsbc status` and sigd's /metrics.
 *
 * Memory is the kernel's own figure (memlock in /proc/self/fdinfo/FD, from
 * the map type's map_mem_usage): preallocated maps (LRU, arrays) count their
 * full size from creation on; hash maps without preallocation count their
 * buckets plus the elements in use; LPM tries the elements in use.
 *
 * The kernel keeps no entry count it exposes, so use is counted by walking
 * the map, bounded by max_entries so a map changing under the walk cannot
 * keep it going: hash maps in batches (BPF_MAP_LOOKUP_BATCH, 4096 entries a
 * syscall), LPM tries key by key with bpf_map_get_next_key(), which cannot
 * batch and costs about 2 us per entry (measured on a full 2^18 blocklist).
 */
#include <dirent.h>
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

static uint64_t fd_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static bool countable(enum bpf_map_type t)
{
	switch (t) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_LPM_TRIE:
	case BPF_MAP_TYPE_DEVMAP_HASH:
		return true;
	default:
		return false;
	}
}

/*
 * Hash maps answer batch lookups: 4096 entries a syscall instead of one.
 * Returns -1 when the map type or kernel does not support it.
 */
static long count_batch(int fd, const struct bpf_map_info *info)
{
	const __u32 chunk = 4096;
	char *keys = malloc((size_t)chunk * info->key_size);
	char *vals = malloc((size_t)chunk * info->value_size);
	__u64 in = 0, out = 0;
	bool first = true;
	long n = 0;
	__u32 cnt;
	int ret;

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (;;) {
		cnt = chunk;
		ret = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &cnt, NULL);
		if (ret && errno != ENOENT) {
			n = first ? -1 : n; /* a map changing under the walk: what was seen */
			break;
		}
		n += cnt;
		if (ret || (uint32_t)n > info->max_entries)
			break; /* ENOENT: the last batch */
		in = out;
		first = false;
	}
	free(keys);
	free(vals);
	return n;
}

static long count_keys(int fd, uint32_t key_size, uint32_t max)
{
	char *cur = calloc(2, key_size ?: 1), *next = cur + key_size;
	void *prev = NULL;
	long n = 0;

	if (!cur)
		return -1;
	while ((uint32_t)n <= max && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(cur, next, key_size);
		prev = cur;
		n++;
	}
	free(cur);
	return n;
}

int xs_map_usage_fd(int fd, bool count, struct xs_map_usage *u)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	memset(u, 0, sizeof(*u));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	snprintf(u->name, sizeof(u->name), "%s", info.name);
	u->type = libbpf_bpf_map_type_str(info.type) ?: "unknown";
	u->max_entries = info.max_entries;
	u->entries = -1;
	if (count && (info.type == BPF_MAP_TYPE_HASH || info.type == BPF_MAP_TYPE_LRU_HASH))
		u->entries = count_batch(fd, &info);
	if (count && u->entries < 0 && countable(info.type))
		u->entries = count_keys(fd, info.key_size, info.max_entries);
	u->memlock = fd_memlock(fd);
	u->knob = xs_size_of_map(u->name);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int xs_maps_usage(const char *pin_root, xs_map_usage_cb cb, void *arg)
{
	char *names[64], path[PATH_MAX];
	struct xs_map_usage u;
	size_t n = 0, i;
	struct dirent *de;
	int ret = 0, fd;
	DIR *dir;

	dir = opendir(pin_root);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && n < sizeof(names) / sizeof(names[0]))
		if (de->d_name[0] != '.' && (names[n] = strdup(de->d_name)))
			n++;
	closedir(dir);
	qsort(names, n, sizeof(names[0]), cmp_name);
	for (i = 0; i < n; i++) {
		if (ret || xs_pin_path(pin_root, names[i], path, sizeof(path)))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* not a map, or gone meanwhile */
		if (!xs_map_usage_fd(fd, true, &u)) {
			/* The pin's name: kernel object names are cut at 15 characters. */
			snprintf(u.name, sizeof(u.name), "%s", names[i]);
			u.knob = xs_size_of_map(u.name);
			ret = cb(&u, arg);
		}
		close(fd);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	return ret;
}
