/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Run the xdpsbc program under BPF_PROG_TEST_RUN: load the skeleton with
 * private, unpinned maps (tests never touch the pinned production maps and
 * can run in parallel), run frames, read per-reason counters, and fill the
 * maps the way userspace would.
 */
#ifndef XDPSBC_TESTS_BPFTEST_H
#define XDPSBC_TESTS_BPFTEST_H

#include <stddef.h>
#include <stdint.h>

#include "xdpsbc_common.h"

struct xdpsbc;

struct bt_ctx {
	struct xdpsbc *skel;
	int prog_fd;
	int stats_fd, config_fd, block4_fd, block6_fd, trust4_fd, trust6_fd, flows_fd, txports_fd;
	int flood_fd, bans_fd, blkgen_fd;
	int ncpus;
};

/*
 * Open and load xdpsbc with no map pinned. Returns 0 or a negative errno.
 * The flood map (preallocated) gets BT_FLOOD_MAX entries; bt_open_sized()
 * with 0 keeps the program's default size and gives the blocklist and the
 * flow table BT_BENCH_ENTRIES, for the bench's million-entry lookups.
 */
#define BT_FLOOD_MAX	 4096
#define BT_BENCH_ENTRIES (1U << 20)
int bt_open_sized(struct bt_ctx *t, unsigned int flood_max);
static inline int bt_open(struct bt_ctx *t)
{
	return bt_open_sized(t, BT_FLOOD_MAX);
}
void bt_close(struct bt_ctx *t);

struct bt_run {
	uint32_t ifindex; /* ingress ifindex for ctx_in (0: the test device, loopback) */
	uint32_t meta; /* bytes of XDP metadata in front of the frame (to test < 14 byte frames) */
	uint32_t repeat; /* 0 = 1 */
	/* results */
	uint32_t retval;
	uint32_t duration_ns; /* average per repeat, from the kernel */
	uint8_t out[4096];
	uint32_t out_len;
};

/* Run @len bytes at @in through program @prog_fd. Returns 0 or a negative errno. */
int bt_run_prog(int prog_fd, const void *in, size_t len, struct bt_run *r);
static inline int bt_run(struct bt_ctx *t, const void *in, size_t len, struct bt_run *r)
{
	return bt_run_prog(t->prog_fd, in, len, r);
}

/* Per-reason packets/bytes summed over all CPUs. */
int bt_stats(struct bt_ctx *t, struct xs_counter sums[XS_REASON_MAX]);
const char *bt_reason_name(int reason);
int bt_reason_action(int reason);

/* Settings element 0; bt_config_default() fills the defaults with @flags. */
void bt_config_default(struct xs_config *c, uint32_t flags);
int bt_config_set(struct bt_ctx *t, const struct xs_config *c);

/* The datapath clock now, as bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC_COARSE). */
uint64_t bt_now_ns(void);

/*
 * Blocklist / trusted entries from "CIDR" strings (IPv4 or IPv6). @expires_ns
 * is absolute datapath-clock time, 0 permanent. Stores the entry prefixlen in the
 * value as userspace must.
 */
int bt_block_add(struct bt_ctx *t, const char *cidr, uint64_t expires_ns);
/* A fresh xs_blkgen, as userspace must after a blocklist add or trust change (the *_add do). */
int bt_blkgen_bump(struct bt_ctx *t);
int bt_block_get(struct bt_ctx *t, const char *cidr, struct xs_block *out);
int bt_trust_add(struct bt_ctx *t, const char *cidr);
int bt_trust_get(struct bt_ctx *t, const char *cidr, struct xs_trust *out);

/* Flood limiting on with @rate per @window_s, ban @ban_s, ports 5060, 5061 (on top of @c). */
void bt_config_flood(struct xs_config *c, uint32_t rate, uint32_t window_s, uint32_t ban_s);
/* Flood ticks per second as the loaded program counts them (CONFIG_HZ, or 10^9: ns). */
uint64_t bt_flood_hz(struct bt_ctx *t);
/* The flood entry of source "addr" masked to /@prefixlen; -ENOENT when none. */
int bt_flood_get(struct bt_ctx *t, const char *addr, unsigned int prefixlen, struct xs_flood *out);

/* Flow keyed by edge "addr" (IPv4 or IPv6 literal), host-order @port. */
int bt_flow_set(struct bt_ctx *t, const char *addr, uint16_t port, const struct xs_flow *f);
int bt_flow_get(struct bt_ctx *t, const char *addr, uint16_t port, struct xs_flow *f);
/* Parse a CIDR into an LPM key (4 or 6, by the family of the text); returns the family. */
int bt_cidr(const char *cidr, struct xs_lpm6 *key6, struct xs_lpm4 *key4);

/* "memlock:" of a map fd from /proc/self/fdinfo, bytes; negative errno on failure. */
long long bt_map_memlock(int map_fd);

/*
 * Run @in once and check the verdict is @reason's action and the counters
 * moved by exactly one packet of @len bytes under @reason and nothing else.
 * Returns 1 on success, 0 with @why filled on mismatch, a negative errno when
 * the run itself failed. @r receives the output frame.
 */
int bt_expect(struct bt_ctx *t, const void *in, size_t len, struct bt_run *r, int reason, char *why,
	      size_t cap);

/*
 * Move this process into a fresh network namespace (it goes away with the
 * process) and run @cmds there with system(); bpf_fib_lookup under
 * BPF_PROG_TEST_RUN then sees only what the commands built.
 */
int bt_netns_setup(const char *const *cmds, size_t n, char *why, size_t cap);
/* net.ipv4.conf.@dev.forwarding, which bpf_fib_lookup requires on the ingress. */
int bt_forwarding(const char *dev, int on);

#endif /* XDPSBC_TESTS_BPFTEST_H */
