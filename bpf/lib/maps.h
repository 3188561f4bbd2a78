/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps of the xdpsbc program, BTF-defined so that bpftool prints keys and
 * values by field. Names, sizes and layouts come from xdpsbc_common.h; the
 * loader pins them under the pin root (XS_PIN_ROOT_DEFAULT) by these names.
 */
#ifndef XDPSBC_BPF_MAPS_H
#define XDPSBC_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdpsbc_common.h"

/* Per-CPU packets and bytes per verdict reason (see stats.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XS_REASON_MAX);
	__type(key, __u32);
	__type(value, struct xs_counter);
} xs_stats SEC(".maps");

/* Settings, key 0, written by userspace and read per packet: no reload needed. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xs_config);
} xs_config SEC(".maps");

/* LPM tries cannot be preallocated; the kernel insists on BPF_F_NO_PREALLOC. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XS_BLOCK_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xs_lpm4);
	__type(value, struct xs_block);
} xs_block4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XS_BLOCK_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xs_lpm6);
	__type(value, struct xs_block);
} xs_block6 SEC(".maps");

/* The blocklist generation (xdpsbc_common.h): changes whenever a source may have become blocked. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xs_blkgen SEC(".maps");

/*
 * The operator's reason text per blocklist entry. Only userspace reads or
 * writes these; they live beside the tries so the text survives restarts and
 * the per-packet value stays small.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XS_BLOCK_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xs_lpm4);
	__type(value, struct xs_note);
} xs_blknote4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XS_BLOCK_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xs_lpm6);
	__type(value, struct xs_note);
} xs_blknote6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XS_TRUST_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xs_lpm4);
	__type(value, struct xs_trust);
} xs_trust4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XS_TRUST_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xs_lpm6);
	__type(value, struct xs_trust);
} xs_trust6 SEC(".maps");

/*
 * The relay table. Not preallocated: a million flows would otherwise pin
 * their memory from load time on, with no call in progress.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XS_FLOWS_DEFAULT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xs_flow_key);
	__type(value, struct xs_flow);
} xs_flows SEC(".maps");

/* Media dropped for no route, per ingress interface (xdpsbc_common.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XS_NOROUTE_MAX);
	__type(key, __u32);
	__type(value, struct xs_noroute);
} xs_noroute SEC(".maps");

/* Egress interfaces for XDP_REDIRECT, key and value the ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XS_TXPORTS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xs_txports SEC(".maps");

/*
 * Flood-limiting state per source (see flood.h). LRU: under a storm of
 * spoofed sources the least recently seen are evicted and inserts never
 * fail; a real flooder keeps its own entry hot. Always preallocated.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XS_FLOOD_DEFAULT);
	__type(key, struct xs_flood_key);
	__type(value, struct xs_flood);
} xs_flood SEC(".maps");

/* New bans, one struct xs_ban_event each, for the daemon to log and count. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XS_BANS_RINGBUF);
} xs_bans SEC(".maps");

/* AF_XDP sockets by XS_XSK_KEY(ifindex, queue): the afxdp datapath (relay.h). */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XS_XSKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xs_xsks SEC(".maps");

#endif /* XDPSBC_BPF_MAPS_H */
