/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libxdpsbc: open, load, attach and pin the xdpsbc XDP program, and read or
 * change its pinned maps. Used by the CLI (tools/) and the daemon (sigd/).
 * Every function returns 0 or a negative errno and logs nothing itself
 * unless it says so; callers report once, at the boundary.
 */
#ifndef XDPSBC_LOADER_H
#define XDPSBC_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xdpsbc_common.h"

/* ---- logging (log.c) ---- */
enum xs_log_level { XS_LOG_ERR, XS_LOG_WARN, XS_LOG_INFO, XS_LOG_DEBUG };
void xs_log_set_level(enum xs_log_level level);
/* stderr (the default; journal priority prefixes under systemd) or syslog(3). */
enum xs_log_target { XS_LOG_STDERR, XS_LOG_SYSLOG };
void xs_log_set_target(enum xs_log_target target, const char *ident);
void xs_log(enum xs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Routes libbpf and libxdp messages into xs_log one level lower. */
void xs_log_route_libs(void);

/* ---- pin root, bpffs, lock (pin.c) ---- */
/* The pin root: @override, else $XDPSBC_PIN_ROOT, else XS_PIN_ROOT_DEFAULT. */
const char *xs_pin_root(const char *override);
/*
 * The run-time directory of the instance that uses @pin_root: XS_RUN_DIR and
 * the pin root's last component (/sys/fs/bpf/xdpsbc -> /run/xdpsbc,
 * /sys/fs/bpf/xdpsbc-b -> /run/xdpsbc-b). sigd keeps its state, control
 * socket and lock there unless told otherwise, so that instances on
 * different pin roots never share them; the CLI finds the socket there.
 */
#define XS_RUN_DIR "/run"
int xs_instance_dir(const char *pin_root, char *buf, size_t len);
/* Mount bpffs on the parent of @pin_root's bpffs mount point when missing. */
int xs_bpffs_ensure(const char *pin_root);
/* Exclusive lock on the pin directory (created when missing); returns an fd. */
int xs_lock(const char *pin_root);
/* Like xs_lock(), waiting at most @timeout_ms; -EWOULDBLOCK when still busy. */
int xs_lock_wait(const char *pin_root, int timeout_ms);
void xs_unlock(int fd);

/* ---- maps (maps.c) ---- */
struct xs_maps {
	int stats, config, block4, block6, blknote4, blknote6, trust4, trust6, flows, txports;
	int flood;
	int blkgen; /* changed after every blocklist and trusted-network change (block.c) */
};
/*
 * Open the pinned maps under @pin_root. With @create, maps that are not
 * pinned yet are created (by loading the object with pinning, not attaching)
 * and their settings initialised to the defaults.
 */
int xs_maps_open(const char *pin_root, bool create, struct xs_maps *m);
void xs_maps_close(struct xs_maps *m);

/* ---- map layout migration (migrate.c) ---- */
/*
 * Let this process migrate pins of an earlier layout (sigd at start, `xdpsbc
 * attach --replace`): only a caller that then moves every program to the new
 * maps (xs_replace_all()) may, since a running old program keeps the old map.
 * Otherwise opening such a pin fails with -EPERM and says how to upgrade.
 */
void xs_migrate_allow(bool allow);
/* How many maps this process migrated or re-created. */
unsigned int xs_migrated(void);
/* Copy what old maps gained since their migration; @done: release them. */
void xs_migrate_settle(bool done);

/* ---- map sizes (sizes.c) and use (usage.c) ---- */
/* The size knobs, one per group of maps: "flood", "flows", "blocklist", "trusted". */
enum xs_size { XS_SIZE_FLOOD, XS_SIZE_FLOWS, XS_SIZE_BLOCKLIST, XS_SIZE_TRUSTED, XS_SIZE_MAX };
struct xs_map_sizes {
	uint32_t n[XS_SIZE_MAX]; /* max entries; per family for blocklist and trusted */
};
const char *xs_size_name(enum xs_size k);
void xs_map_sizes_defaults(struct xs_map_sizes *s);
/* "flood=65536,blocklist=16" onto @s; -EINVAL (@s unchanged) with the reason in @why. */
int xs_map_sizes_parse(const char *list, struct xs_map_sizes *s, char *why, size_t len);
/* $XDPSBC_MAP_SIZES onto @s, when set. */
int xs_map_sizes_env(struct xs_map_sizes *s, char *why, size_t len);
/*
 * The sizes this process gives the maps it creates (xs_maps_open() with
 * create, xs_attach()). Until set: the defaults with $XDPSBC_MAP_SIZES.
 */
void xs_map_sizes_use(const struct xs_map_sizes *s);
const struct xs_map_sizes *xs_map_sizes_current(void);
/* Warn (once per knob) about maps of @m pinned with another size than configured. */
void xs_maps_check_sizes(const struct xs_maps *m, const char *pin_root);
/* The knob sizing pinned map @name ("xs_block4"), or -1 (sized by the program). */
int xs_size_of_map(const char *name);

struct xs_map_usage {
	char name[32];
	const char *type;     /* "hash", "lru_hash", ... */
	uint32_t max_entries; /* what the pin was created with */
	long entries;	      /* in use; -1: not counted (arrays, ring buffers) */
	uint64_t memlock;     /* kernel memory, bytes, as /proc/PID/fdinfo reports it */
	int knob;	      /* enum xs_size, -1 when the program sizes it */
};
typedef int (*xs_map_usage_cb)(const struct xs_map_usage *u, void *arg);
/*
 * Every map pinned under @pin_root, by name, with its size, use and memory.
 * Use is counted by walking the keys (bounded by max_entries): about 0.5 us
 * per entry, so a full 2^18-entry map adds ~0.1 s.
 */
int xs_maps_usage(const char *pin_root, xs_map_usage_cb cb, void *arg);
/* One map's size, use (counted as above, unless !@count) and memory, by fd. */
int xs_map_usage_fd(int fd, bool count, struct xs_map_usage *u);

/* ---- attach (attach.c) ---- */
enum xs_mode { XS_MODE_AUTO, XS_MODE_NATIVE, XS_MODE_SKB };
const char *xs_mode_str(enum xs_mode mode);
/*
 * Attach the xdpsbc program to @ifindex, reusing (or creating) the pinned maps.
 * AUTO tries native, then falls back to skb with a warning. Tries libxdp's
 * dispatcher first and falls back to a single program, saying so.
 * @used receives the mode that took effect.
 */
int xs_attach(const char *pin_root, int ifindex, enum xs_mode mode, enum xs_mode *used);
int xs_detach(int ifindex);
/* Is the xdpsbc program attached to @ifindex? 1 yes, 0 no, <0 error. */
int xs_attached(int ifindex, enum xs_mode *mode, uint32_t *prog_id);
/* Remove every pin under @pin_root (after detaching from all interfaces). */
int xs_unload(const char *pin_root);
/*
 * Is the program attached to @ifindex (id @prog_id) the one using the maps
 * pinned under @pin_root? 1 yes, 0 no (another pin root's xdpsbc), <0 error.
 */
int xs_prog_uses_root(uint32_t prog_id, const char *pin_root);
/* 1 when the XDP program on @ifindex runs alone (no libxdp dispatcher), 0 if not, <0 error. */
int xs_attached_single(int ifindex);
/*
 * Atomically replace the xdpsbc program on @ifindex with this build's, keeping
 * the pinned maps (migrated first when their layout changed): the kernel swaps
 * old for new (XDP_FLAGS_REPLACE), no packet sees neither. Without @force only
 * when it differs (another build, or maps a migration replaced).
 * 1 replaced, 0 nothing to do, -ENOENT not attached, -EBUSY another program.
 * @old_id, @new_id (may be NULL): the program ids.
 */
int xs_replace(const char *pin_root, int ifindex, bool force, uint32_t *old_id, uint32_t *new_id);
/* xs_replace() on every interface running this pin root's xdpsbc; @n: how many replaced. */
int xs_replace_all(const char *pin_root, bool force, unsigned int *n);
/* xs_detach(), and remove @ifindex from the pin root's redirect devmap. */
int xs_detach_root(const char *pin_root, int ifindex);

/* ---- addresses, durations, numbers (parse.c) ---- */
struct xs_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint32_t prefixlen;
	uint8_t addr[16]; /* network byte order, host bits cleared */
};
/* "192.0.2.0/24", "2001:db8::/32", or a bare address (/32, /128). */
int xs_cidr_parse(const char *s, struct xs_cidr *out);
int xs_cidr_format(const struct xs_cidr *c, char *buf, size_t len);
/* Do the two networks share an address (one contains the other)? */
bool xs_cidr_overlap(const struct xs_cidr *a, const struct xs_cidr *b);
/* A hundred years: far beyond any sensible block, far below u64 nanoseconds. */
#define XS_DURATION_MAX (100ULL * 365 * 24 * 3600)
/* "90", "90s", "15m", "2h", "7d", "permanent" -> seconds (0 = permanent). */
int xs_duration_parse(const char *s, uint64_t *seconds);
/* A decimal number in [@min, @max]: -EINVAL bad text, -ERANGE out of bounds. */
int xs_u32_parse(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* "MIN-MAX", ports 1-65535: -EINVAL bad text, -ERANGE MIN above MAX. */
int xs_port_range_parse(const char *s, uint16_t *lo, uint16_t *hi);
/* The datapath clock: CLOCK_MONOTONIC_COARSE, as bpf_ktime_get_coarse_ns(). */
uint64_t xs_now_ns(void);
/* Datapath clock nanoseconds -> wall-clock seconds since the epoch (display). */
int64_t xs_clock_to_wall(uint64_t clock_ns);

/* ---- blocklist and trusted networks (block.c) ---- */
int xs_block_add(const struct xs_maps *m, const struct xs_cidr *c, uint64_t seconds,
		 const char *note);
/* The same with an absolute expiry on the datapath clock (xs_now_ns(); 0: permanent). */
int xs_block_add_at(const struct xs_maps *m, const struct xs_cidr *c, uint64_t expires_ns,
		    const char *note);
int xs_block_del(const struct xs_maps *m, const struct xs_cidr *c);
int xs_trust_add(const struct xs_maps *m, const struct xs_cidr *c);
int xs_trust_del(const struct xs_maps *m, const struct xs_cidr *c);
/* Listing, import, expiry. */
struct xs_block_entry {
	struct xs_cidr cidr;
	struct xs_block val;
	struct xs_note note; /* "" when none */
};
typedef int (*xs_block_cb)(const struct xs_block_entry *e, void *arg);
int xs_block_walk(const struct xs_maps *m, xs_block_cb cb, void *arg);
bool xs_block_expired(const struct xs_block *b, uint64_t now_ns);
struct xs_block_req {
	struct xs_cidr cidr;
	uint64_t seconds; /* 0: permanent */
	const char *note; /* NULL or "": keep the existing reason */
};
/* All or nothing; on error *@failed is the index of the entry that failed. */
int xs_block_import(const struct xs_maps *m, const struct xs_block_req *reqs, size_t n,
		    size_t *failed);
int xs_block_gc(const struct xs_maps *m, unsigned int *removed);
int xs_block_flush(const struct xs_maps *m, unsigned int *removed);
/* Entries in an LPM map (blocklist, notes or trusted networks). */
unsigned long xs_map_count_lpm(int fd);
typedef int (*xs_trust_cb)(const struct xs_cidr *c, const struct xs_trust *t, void *arg);
int xs_trust_walk(const struct xs_maps *m, xs_trust_cb cb, void *arg);
/*
 * A trusted network (xs_trust4/6) that overlaps @c, into @trusted: 1 found,
 * 0 none, <0 error. Callers refuse such a block: trusted sources are never
 * blocked, so it would silently not do what it says.
 */
int xs_block_trust_conflict(const struct xs_maps *m, const struct xs_cidr *c,
			    struct xs_cidr *trusted);

/* ---- settings (config.c) ---- */
int xs_config_get(const struct xs_maps *m, struct xs_config *cfg);
int xs_config_set(const struct xs_maps *m, const struct xs_config *cfg);
/* The settings a freshly created xs_config gets. */
int xs_config_defaults(struct xs_config *cfg);

/* ---- verdict reasons and their counters (config.c) ---- */
/* By enum xs_reason: "drop-blocklist", its doc, "drop"/"pass"/... */
const char *xs_reason_name(unsigned int reason);
const char *xs_reason_doc(unsigned int reason);
const char *xs_reason_action(unsigned int reason);
/* Per-reason counters summed over CPUs; @out has XS_REASON_MAX entries. */
int xs_stats_read(const struct xs_maps *m, struct xs_counter *out);

/* ---- SIP flood bans (bans.c) ---- */
/*
 * The XDP program reports each new ban on the pinned xs_bans ring buffer.
 * Open it, then poll (or put xs_bans_fd() in your own event loop and call
 * xs_bans_poll(b, 0) when it is readable); @cb runs once per event.
 */
struct xs_bans;
typedef int (*xs_ban_cb)(const struct xs_ban_event *ev, void *arg);
int xs_bans_open(const char *pin_root, xs_ban_cb cb, void *arg, struct xs_bans **out);
int xs_bans_poll(struct xs_bans *b, int timeout_ms);
int xs_bans_fd(const struct xs_bans *b);
void xs_bans_close(struct xs_bans *b);
/* Sources in xs_flood (counting or banned); see struct xs_flood. */
typedef int (*xs_flood_cb)(const struct xs_flood_key *k, const struct xs_flood *v, void *arg);
int xs_flood_walk(const struct xs_maps *m, xs_flood_cb cb, void *arg);
int xs_flood_key_format(const struct xs_flood_key *k, char *buf, size_t len);
int xs_flood_forget(const struct xs_maps *m, const struct xs_flood_key *k);

#endif /* XDPSBC_LOADER_H */
