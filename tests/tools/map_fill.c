// SPDX-License-Identifier: GPL-2.0-only
/*
 * map_fill: put N distinct entries into a pinned map, for the map-size tests
 * and the memory figures in docs/operations.md.
 *
 *   map_fill PIN N
 *
 * Keys count up from 1 in their last bytes; an LPM trie key gets a full
 * prefix (/32 for an 8-byte key, /128 for 20 bytes). Values are zero. Stops
 * at the first refused insert and prints one line: "inserted K of N: ERROR".
 * Exit 0 when all N went in, 1 otherwise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	unsigned long n, i;
	struct timespec t0, t1;
	unsigned char *key, *val;
	int fd, err = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: map_fill PIN N\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	fd = bpf_obj_get(argv[1]);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		perror(argv[1]);
		return 2;
	}
	key = calloc(1, info.key_size + 8);
	val = calloc(1, info.value_size + 8);
	if (!key || !val)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		uint32_t v = (uint32_t)(i + 1);

		memset(key, 0, info.key_size);
		if (info.type == BPF_MAP_TYPE_LPM_TRIE) {
			uint32_t plen = (info.key_size - 4) * 8;

			memcpy(key, &plen, 4);
		}
		/* Big-endian in the last four bytes: distinct, and a valid address. */
		for (int b = 0; b < 4 && b < (int)info.key_size; b++)
			key[info.key_size - 1 - b] = v >> (8 * b);
		if (bpf_map_update_elem(fd, key, val, BPF_NOEXIST)) {
			err = -errno;
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("inserted %lu of %lu: %s (%.3f s)\n", i, n, err ? strerror(-err) : "ok",
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return i == n ? 0 : 1;
}
