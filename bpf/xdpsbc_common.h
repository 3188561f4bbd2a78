/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Everything the XDP program and userspace both see: map key/value layouts,
 * flags, pinned map names and the verdict-reason list. Fixed-width types only,
 * network byte order where the name says be.
 */
#ifndef XDPSBC_COMMON_H
#define XDPSBC_COMMON_H

#include <linux/types.h>

#define XS_PIN_ROOT_DEFAULT "/sys/fs/bpf/xdpsbc"

/* Pinned map names (kernel object names are cut at 15 characters). */
#define XS_MAP_STATS	"xs_stats"
#define XS_MAP_CONFIG	"xs_config"
#define XS_MAP_BLOCK4	"xs_block4"
#define XS_MAP_BLOCK6	"xs_block6"
#define XS_MAP_BLKNOTE4 "xs_blknote4"
#define XS_MAP_BLKNOTE6 "xs_blknote6"
#define XS_MAP_TRUST4	"xs_trust4"
#define XS_MAP_TRUST6	"xs_trust6"
#define XS_MAP_FLOWS	"xs_flows"
#define XS_MAP_TXPORTS	"xs_txports"
#define XS_MAP_FLOOD	"xs_flood"
#define XS_MAP_BANS	"xs_bans"
#define XS_MAP_BLKGEN	"xs_blkgen"
#define XS_MAP_XSKS	"xs_xsks" /* AF_XDP sockets of the afxdp datapath */
#define XS_MAP_NOROUTE	"xs_noroute"
#define XS_MAP_LAYOUT	"xs_layout" /* layout version of each versioned map (userspace) */

/*
 * Sizes. The big maps (blocklist, trusted networks, flows, flood state) are
 * created with the operator's size (map-sizes, lib/sizes.c), between 1
 * and the _MAX ceiling here; the BTF definitions in lib/maps.h carry the
 * defaults, chosen so that a fresh pin root costs about 45 MB of kernel
 * memory and all maps full about 200 MB (docs/operations.md). Per
 * family for the blocklist and the trusted networks.
 */
#define XS_BLOCK_DEFAULT (1U << 18)
#define XS_BLOCK_MAX	 (1U << 22)
#define XS_TRUST_DEFAULT 65536
#define XS_TRUST_MAX	 (1U << 20)
#define XS_FLOWS_DEFAULT (1U << 18) /* 65,536 calls of 4 flows */
#define XS_FLOWS_MAX	 (1U << 22)
#define XS_TXPORTS_MAX	 64
#define XS_NOTE_LEN	 64
/*
 * Flood-limiting state per source: an LRU map, so a spoofed-source storm
 * evicts the oldest sources instead of failing inserts. LRU maps are
 * preallocated: 128 bytes of kernel memory per entry (fdinfo memlock),
 * 32 MiB for the default 1<<18 sources, taken when the maps are created.
 */
#define XS_FLOOD_DEFAULT (1U << 18)
#define XS_FLOOD_MAX	 (1U << 22)
#define XS_BANS_RINGBUF	 (256U * 1024) /* bytes: ~6,500 ban events in flight */

enum xs_reason {
#define XS_REASON(name, str, action, doc) XS_##name,
#include "xdpsbc_reasons.inc"
#undef XS_REASON
	XS_REASON_MAX
};

/* xs_stats: per-CPU, indexed by enum xs_reason. */
struct xs_counter {
	__u64 packets;
	__u64 bytes;
};

/* LPM trie keys: prefixlen first, as the kernel requires. */
struct xs_lpm4 {
	__u32 prefixlen;
	__be32 addr;
};

struct xs_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/*
 * Time in every map (blocklist expiry and hits, flow last-seen, flood windows
 * and bans) is CLOCK_MONOTONIC nanoseconds as the XDP program reads it with
 * bpf_ktime_get_coarse_ns(): CLOCK_MONOTONIC_COARSE, the time of the last
 * tick. It needs no clocksource read, which halves the cost of a clock read
 * per packet (measured: +22 ns against +45 ns for bpf_ktime_get_boot_ns()),
 * and a tick (1-10 ms) is far finer than any expiry or timeout here.
 * Userspace reads the same clock (xs_now_ns()); wall-clock steps do not
 * move expiries; converting to wall time is for display only.
 */
struct xs_block {
	__u64 expires_ns; /* 0: permanent */
	__u64 added_ns;
	__u64 hits;
	__u64 last_hit_ns; /* 0: never hit */
	__u32 prefixlen;   /* of this entry: an expired match retries one bit shorter */
	__u32 pad;
};

/* How many expired, nested entries a lookup steps over before giving up. */
#define XS_BLOCK_EXPIRED_WALK 8

/* xs_blknote4/6 value (userspace only): the operator's reason text. */
struct xs_note {
	char text[XS_NOTE_LEN];
};

/* xs_trust4/6 value. */
struct xs_trust {
	__u64 hits;
};

/* xs_config: one element, key 0. Ports are host byte order. */
#define XS_CFG_V6_MEDIA_DROP (1U << 0) /* media ipv4-only on */
#define XS_CFG_TURN	     (1U << 1) /* also drop IPv6 TURN ports */
#define XS_CFG_PINHOLES	     (1U << 2) /* relay range closed unless a flow owns the port */
#define XS_CFG_FLOOD	     (1U << 3) /* SIP flood limiting on */
#define XS_CFG_AFXDP	     (1U << 4) /* relay flows in userspace: hand them to xs_xsks */
#define XS_CFG_RPF	     (1U << 5) /* trusted only via the interface routing back to it */

/*
 * xs_xsks (XSKMAP): the AF_XDP socket of (ingress interface, RX queue). The
 * key folds both so one map serves every armed interface; userspace refuses
 * interfaces whose keys would collide.
 */
#define XS_XSK_IF_BITS 8
#define XS_XSK_Q_BITS  6
#define XS_XSKS_MAX    (1U << (XS_XSK_IF_BITS + XS_XSK_Q_BITS))
#define XS_XSK_KEY(ifindex, queue)                                       \
	((((ifindex) & ((1U << XS_XSK_IF_BITS) - 1)) << XS_XSK_Q_BITS) | \
	 ((queue) & ((1U << XS_XSK_Q_BITS) - 1)))

/* SIP ports the flood limit watches (UDP and TCP); 0 ends the list. */
#define XS_FLOOD_PORTS_MAX 8

struct xs_config {
	__u32 flags;
	__u16 rtp_min; /* IPv6 media drop range, default 10000-20000 */
	__u16 rtp_max;
	__u16 turn_min; /* TURN relay range, default 49152-49252 */
	__u16 turn_max;
	__u16 turn_udp;	 /* default 3478 */
	__u16 turn_tls;	 /* TCP, default 5349 */
	__u16 relay_min; /* media relay (pinhole) range; 0-0: none */
	__u16 relay_max;
	__u32 pad;
	/* Flood limiting (XS_CFG_FLOOD): more than flood_rate requests within
	 * flood_window_s seconds bans the source for flood_ban_s seconds. */
	__u16 flood_ports[XS_FLOOD_PORTS_MAX]; /* default 5060, 5061 */
	__u32 flood_rate;		       /* default 16 */
	__u32 flood_window_s;		       /* default 2 */
	__u32 flood_ban_s;		       /* default 300 */
	__u8 flood_prefix4;		       /* a source is its /N: default 32 */
	__u8 flood_prefix6;		       /* default 64 */
	__u16 flood_pad;
};

#define XS_CFG_DEFAULT_RTP_MIN	     10000
#define XS_CFG_DEFAULT_RTP_MAX	     20000
#define XS_CFG_DEFAULT_TURN_MIN	     49152
#define XS_CFG_DEFAULT_TURN_MAX	     49252
#define XS_CFG_DEFAULT_TURN_UDP	     3478
#define XS_CFG_DEFAULT_TURN_TLS	     5349
#define XS_CFG_DEFAULT_FLOOD_RATE    16
#define XS_CFG_DEFAULT_FLOOD_WINDOW  2
#define XS_CFG_DEFAULT_FLOOD_BAN     300
#define XS_CFG_DEFAULT_FLOOD_PREFIX4 32
#define XS_CFG_DEFAULT_FLOOD_PREFIX6 64

/*
 * xs_flows: the relay table. Key: the edge address and port a packet arrives
 * on, IPv4 or IPv6. Value: where it goes and from which edge address/port it
 * leaves; the reverse flow is the one keyed by that source (src_addr,
 * src_port, proto). Every address field is a union: an IPv4 address sits in
 * its first four bytes (the __be32 name), the other twelve are zero; an IPv6
 * one fills the 16 bytes (the *6 name). Which one a field holds follows the
 * leg: the key's family for the addresses of the arriving side (expect, peer,
 * latch, chk_saddr), XS_FLOW_OUT6 for those of the leaving side (src, dst,
 * nh_daddr). A flow whose two sides differ translates between IPv4 and IPv6.
 */
/*
 * xs_flows layout versions (lib/migrate.c migrates each to the next): 1: the
 * first release (8 B key, 104 B value); 2: source-checked latching (8 B,
 * 120 B); 3: dual-stack (20 B, 208 B).
 */
#define XS_FLOW_LAYOUT 3

struct xs_flow_key {
	union {
		__be32 addr;
		__u8 addr6[16];
	};
	__be16 port;
	__u8 proto; /* IPPROTO_UDP */
	__u8 v6;    /* 1: addr6 is an IPv6 address; 0: addr is IPv4 */
};

/*
 * Latching (RFC 7362 "symmetric RTP"). A LATCH flow relays only packets from
 * its latched peer. It learns that peer once, from the first packet whose
 * source IP is latch_addr (the leg's signalling source, or its SDP address)
 * and that arrives before latch_until_ns; anything else is dropped as
 * drop-media-source, never forwarded. sigd reopens the window (a new
 * deadline, LATCHED cleared) when it reprograms the flow after an offer or
 * answer. PRELATCHED: the latch is provisional: sigd set the peer itself,
 * to the SDP address and port (the leg is not behind a NAT) or to the peer
 * latched before the leg's own new offer/answer; until the deadline the first
 * packet from latch_addr may still move it, once; a packet from the peer
 * confirms it. A flow without LATCH (static flows, tests) relays any source.
 */
#define XS_FLOW_LATCH	   (1U << 0)   /* source-checked latching, see above (sigd: always) */
#define XS_FLOW_PRELATCHED (1U << 1)   /* provisional: may move once within the window */
#define XS_FLOW_LATCHED	   (1U << 3)   /* peer_addr/port valid: set by the datapath (or sigd) */
#define XS_FLOW_OUT6	   (1U << 4)   /* leaves as IPv6: src/dst/nh_daddr are the *6 fields */
#define XS_FLOW_SIGD_MASK  0xffff0000U /* sigd's own (m-line, leg); XDP leaves them alone */

/* An address field of either family (see xs_flows above). */
#define XS_ADDR(name)              \
	union {                    \
		__be32 name;       \
		__u8 name##6 [16]; \
	}

struct xs_flow {
	XS_ADDR(dst_addr); /* peer of the other leg (signalled, then latched) */
	XS_ADDR(src_addr); /* edge address the packet leaves from */
	__be16 dst_port;
	__be16 src_port;      /* edge port the packet leaves from */
	XS_ADDR(expect_addr); /* signalled address of this leg's sender */
	XS_ADDR(peer_addr);   /* latched source of this leg's sender */
	__be16 expect_port;
	__be16 peer_port;
	__u32 flags;
	__u32 ifindex; /* set by the XDP program: egress of the last relayed packet */
	__u64 cookie;  /* call identity, set by sigd (hash of Call-ID) */
	__u64 packets;
	__u64 bytes;
	__u64 last_seen_ns;
	/*
	 * Next-hop cache, XDP's own: bpf_fib_lookup() for nh_daddr gave these
	 * MACs and the egress in ifindex at nh_ns (0: empty). Userspace writes
	 * zeros (a fresh struct) and the next packet resolves again.
	 */
	__u8 nh_smac[6];
	__u8 nh_dmac[6];
	XS_ADDR(nh_daddr);
	__u32 nh_pad;
	__u64 nh_ns;
	/*
	 * Source-check cache, XDP's own: chk_saddr passed the trusted-network
	 * and blocklist checks while xs_blkgen held chk_gen - 1 (0: never).
	 * While both still hold, its media skips those lookups (see relay.h).
	 */
	__u64 chk_gen;
	XS_ADDR(chk_saddr);
	__u32 noroute; /* XDP's own: packets dropped for want of a next hop (wraps) */
	__u32 noroute_pad;
	/*
	 * Latching, sigd's: only latch_addr may latch, only while the datapath
	 * clock is below latch_until_ns (see XS_FLOW_LATCH above).
	 */
	__u64 latch_until_ns;
	XS_ADDR(latch_addr);
};

/*
 * xs_noroute: media dropped for want of a next hop, per ingress ifindex
 * (key), for `xdpsbc status`'s readiness: how many, when last, and why.
 * A call on hold (no destination) is not counted. Times are the datapath
 * clock (xs_now_ns()); window_* counts the drops of a window of at most a
 * minute, restarted by the first drop after it ends, so "in the last
 * minute" needs no sampling by userspace.
 */
#define XS_NOROUTE_MAX	     256
#define XS_NOROUTE_WINDOW_NS (60ULL * 1000000000ULL)
#define XS_NOROUTE_NO_TXPORT 100 /* why: the egress is not an armed xdpsbc interface */
struct xs_noroute {
	__u64 packets;
	__u64 last_ns;
	__u64 window_ns;
	__u64 window_packets;
	__s32 why; /* bpf_fib_lookup()'s answer (BPF_FIB_LKUP_RET_*), or XS_NOROUTE_NO_TXPORT */
	__u32 pad;
};

/*
 * xs_blkgen: one __u64, key 0. Every change to what the source checks
 * answer for a source (a blocklist entry added or refreshed, a trusted
 * network added or removed) stores a fresh random value here after making
 * it. A flow's or a flood entry's cached "this source was checked"
 * (chk_gen) is valid only while the value is unchanged; random
 * rather than counted, so that two writers racing cannot bring back a value
 * a cache was taken under (no ABA). Deleting entries needs no change.
 */

/* A cached next hop is used for this long before bpf_fib_lookup() again. */
#define XS_NH_TTL_NS 1000000000ULL

/*
 * xs_flood: per-source flood state. Key: the source masked to its prefix
 * (flood_prefix4/6 at the time it was counted). IPv4 sits in addr[0..3].
 */
struct xs_flood_key {
	__u8 family; /* 4 or 6 */
	__u8 prefixlen;
	__u16 pad;
	__u8 addr[16];
};

/*
 * The *_tick fields are the XDP program's own: jiffies (bpf_jiffies64(),
 * inlined by the verifier, free) when libbpf knows CONFIG_HZ, else the
 * datapath clock in ns. Counting a SIP request then reads no clock at all.
 * banned_until_ns is the same instant on the datapath clock, for userspace.
 */
struct xs_flood {
	__u64 window_tick;	 /* start of the counting window */
	__u64 banned_until_tick; /* banned while now < this */
	__u64 banned_until_ns;	 /* datapath clock; 0: never banned */
	__u32 count;		 /* requests in the window */
	__u32 bans;		 /* bans of this source while it stayed in the map */
	__u64 chk_gen; /* /32 or /128 key: passed the source checks under xs_blkgen chk_gen - 1 */
};

/*
 * xs_layout (userspace only): the layout version each versioned map was
 * pinned with, keyed by map name, so that an upgrade decides from data which
 * migration steps (loader/migrate.c) an old pin needs. A version is bumped
 * whenever a map's key or value layout, or the meaning of a field, changes.
 */
#define XS_LAYOUT_MAPS 32

struct xs_layout_key {
	char name[16];
};

struct xs_layout {
	__u32 version;
	__u32 key_size;
	__u32 value_size;
	__u32 pad;
};

/*
 * xs_layout, key "build": the instruction tag the program of the build whose
 * object hashes to obj_hash loaded as, so that a daemon restarting with the
 * same build sees the running program is its own without loading it again.
 */
#define XS_LAYOUT_BUILD "build"

struct xs_layout_build {
	__u64 obj_hash;
	__u8 tag[8];
};

/* xs_bans ring buffer record: one per new ban. */
struct xs_ban_event {
	struct xs_flood_key src;
	__u64 banned_until_ns;
	__u32 count;
	__u32 pad;
};

#endif /* XDPSBC_COMMON_H */
