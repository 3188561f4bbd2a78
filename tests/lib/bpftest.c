// SPDX-License-Identifier: GPL-2.0-only
/* BPF_PROG_TEST_RUN harness for the xdpsbc program; see bpftest.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpftest.h"
#include "xdpsbc.skel.h"

static const char *const reason_names[] = {
#define XS_REASON(name, str, action, doc) [XS_##name] = str,
#include "xdpsbc_reasons.inc"
#undef XS_REASON
};

static const int reason_actions[] = {
#define XS_REASON(name, str, action, doc) [XS_##name] = action,
#include "xdpsbc_reasons.inc"
#undef XS_REASON
};

const char *bt_reason_name(int reason)
{
	if (reason < 0 || reason >= XS_REASON_MAX)
		return "?";
	return reason_names[reason];
}

int bt_reason_action(int reason)
{
	if (reason < 0 || reason >= XS_REASON_MAX)
		return -1;
	return reason_actions[reason];
}

int bt_open_sized(struct bt_ctx *t, unsigned int flood_max)
{
	struct bpf_map *map;
	int err;

	memset(t, 0, sizeof(*t));
	t->skel = xdpsbc__open();
	if (!t->skel)
		return -errno;
	/* Private maps: whatever pinning the object asks for, none here. */
	bpf_object__for_each_map(map, t->skel->obj)
	{
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			goto fail;
	}
	if (flood_max)
		err = bpf_map__set_max_entries(t->skel->maps.xs_flood, flood_max);
	else
		err = bpf_map__set_max_entries(t->skel->maps.xs_flows, BT_BENCH_ENTRIES)
			      ?: bpf_map__set_max_entries(t->skel->maps.xs_block4,
							  BT_BENCH_ENTRIES);
	if (err)
		goto fail;
	err = xdpsbc__load(t->skel);
	if (err)
		goto fail;
	t->prog_fd = bpf_program__fd(t->skel->progs.xdpsbc);
	t->stats_fd = bpf_map__fd(t->skel->maps.xs_stats);
	t->config_fd = bpf_map__fd(t->skel->maps.xs_config);
	t->block4_fd = bpf_map__fd(t->skel->maps.xs_block4);
	t->block6_fd = bpf_map__fd(t->skel->maps.xs_block6);
	t->trust4_fd = bpf_map__fd(t->skel->maps.xs_trust4);
	t->trust6_fd = bpf_map__fd(t->skel->maps.xs_trust6);
	t->flows_fd = bpf_map__fd(t->skel->maps.xs_flows);
	t->txports_fd = bpf_map__fd(t->skel->maps.xs_txports);
	t->flood_fd = bpf_map__fd(t->skel->maps.xs_flood);
	t->bans_fd = bpf_map__fd(t->skel->maps.xs_bans);
	t->blkgen_fd = bpf_map__fd(t->skel->maps.xs_blkgen);
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = t->ncpus ? t->ncpus : -EINVAL;
		goto fail;
	}
	return 0;
fail:
	xdpsbc__destroy(t->skel);
	t->skel = NULL;
	return err < 0 ? err : -err;
}

void bt_close(struct bt_ctx *t)
{
	xdpsbc__destroy(t->skel);
	t->skel = NULL;
}

int bt_run_prog(int prog_fd, const void *in, size_t len, struct bt_run *r)
{
	uint8_t buf[4096];
	struct xdp_md ctx = {};
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int err;

	if (len + r->meta > sizeof(buf))
		return -EMSGSIZE;
	memset(buf, 0, r->meta);
	memcpy(buf + r->meta, in, len);
	opts.data_in = buf;
	opts.data_size_in = (uint32_t)(len + r->meta);
	opts.data_out = r->out;
	opts.data_size_out = sizeof(r->out);
	opts.repeat = r->repeat ? r->repeat : 1;
	if (r->ifindex || r->meta) {
		ctx.data = r->meta;
		ctx.data_end = (uint32_t)(len + r->meta);
		ctx.ingress_ifindex = r->ifindex;
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return -errno;
	r->retval = opts.retval;
	r->duration_ns = opts.duration;
	r->out_len = opts.data_size_out;
	return 0;
}

int bt_stats(struct bt_ctx *t, struct xs_counter sums[XS_REASON_MAX])
{
	struct xs_counter *vals;
	uint32_t key;
	int cpu;

	vals = calloc(t->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (key = 0; key < XS_REASON_MAX; key++) {
		sums[key].packets = sums[key].bytes = 0;
		if (bpf_map_lookup_elem(t->stats_fd, &key, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		for (cpu = 0; cpu < t->ncpus; cpu++) {
			sums[key].packets += vals[cpu].packets;
			sums[key].bytes += vals[cpu].bytes;
		}
	}
	free(vals);
	return 0;
}

void bt_config_default(struct xs_config *c, uint32_t flags)
{
	memset(c, 0, sizeof(*c));
	c->flags = flags;
	c->rtp_min = XS_CFG_DEFAULT_RTP_MIN;
	c->rtp_max = XS_CFG_DEFAULT_RTP_MAX;
	c->turn_min = XS_CFG_DEFAULT_TURN_MIN;
	c->turn_max = XS_CFG_DEFAULT_TURN_MAX;
	c->turn_udp = XS_CFG_DEFAULT_TURN_UDP;
	c->turn_tls = XS_CFG_DEFAULT_TURN_TLS;
}

void bt_config_flood(struct xs_config *c, uint32_t rate, uint32_t window_s, uint32_t ban_s)
{
	c->flags |= XS_CFG_FLOOD;
	memset(c->flood_ports, 0, sizeof(c->flood_ports));
	c->flood_ports[0] = 5060;
	c->flood_ports[1] = 5061;
	c->flood_rate = rate;
	c->flood_window_s = window_s;
	c->flood_ban_s = ban_s;
	c->flood_prefix4 = XS_CFG_DEFAULT_FLOOD_PREFIX4;
	c->flood_prefix6 = XS_CFG_DEFAULT_FLOOD_PREFIX6;
}

uint64_t bt_flood_hz(struct bt_ctx *t)
{
	unsigned int hz = t->skel->kconfig ? t->skel->kconfig->CONFIG_HZ : 0;

	return hz ? hz : 1000000000ULL;
}

int bt_flood_get(struct bt_ctx *t, const char *addr, unsigned int prefixlen, struct xs_flood *out)
{
	struct xs_flood_key k = {.prefixlen = prefixlen};
	unsigned int i;

	if (inet_pton(AF_INET, addr, k.addr) == 1) {
		k.family = 4;
		if (prefixlen > 32)
			return -EINVAL;
	} else if (inet_pton(AF_INET6, addr, k.addr) == 1) {
		k.family = 6;
		if (prefixlen > 128)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	for (i = prefixlen; i < 128; i++)
		k.addr[i / 8] &= ~(0x80 >> (i % 8));
	return bpf_map_lookup_elem(t->flood_fd, &k, out) ? -errno : 0;
}

int bt_config_set(struct bt_ctx *t, const struct xs_config *c)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(t->config_fd, &zero, c, BPF_ANY) ? -errno : 0;
}

uint64_t bt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int bt_cidr(const char *cidr, struct xs_lpm6 *key6, struct xs_lpm4 *key4)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
	unsigned long plen;

	if (n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, cidr, n);
	addr[n] = '\0';
	memset(key4, 0, sizeof(*key4));
	memset(key6, 0, sizeof(*key6));
	if (inet_pton(AF_INET, addr, &key4->addr) == 1) {
		plen = slash ? strtoul(slash + 1, NULL, 10) : 32;
		if (plen > 32)
			return -EINVAL;
		key4->prefixlen = plen;
		return 4;
	}
	if (inet_pton(AF_INET6, addr, key6->addr) == 1) {
		plen = slash ? strtoul(slash + 1, NULL, 10) : 128;
		if (plen > 128)
			return -EINVAL;
		key6->prefixlen = plen;
		return 6;
	}
	return -EINVAL;
}

int bt_block_add(struct bt_ctx *t, const char *cidr, uint64_t expires_ns)
{
	struct xs_block v = {.expires_ns = expires_ns, .added_ns = bt_now_ns()};
	struct xs_lpm4 k4;
	struct xs_lpm6 k6;
	int fam = bt_cidr(cidr, &k6, &k4);
	int err;

	if (fam < 0)
		return fam;
	v.prefixlen = fam == 4 ? k4.prefixlen : k6.prefixlen;
	if (fam == 4)
		err = bpf_map_update_elem(t->block4_fd, &k4, &v, BPF_ANY);
	else
		err = bpf_map_update_elem(t->block6_fd, &k6, &v, BPF_ANY);
	if (err)
		return -errno;
	return bt_blkgen_bump(t);
}

int bt_blkgen_bump(struct bt_ctx *t)
{
	static uint64_t n = 0x5eed;
	uint32_t zero = 0;
	uint64_t gen;

	/* Distinct per call is all the program needs (the loader uses random values). */
	gen = (bt_now_ns() << 16) ^ ++n;
	return bpf_map_update_elem(t->blkgen_fd, &zero, &gen, BPF_ANY) ? -errno : 0;
}

int bt_block_get(struct bt_ctx *t, const char *cidr, struct xs_block *out)
{
	struct xs_lpm4 k4;
	struct xs_lpm6 k6;
	int fam = bt_cidr(cidr, &k6, &k4);
	int err;

	if (fam < 0)
		return fam;
	if (fam == 4)
		err = bpf_map_lookup_elem(t->block4_fd, &k4, out);
	else
		err = bpf_map_lookup_elem(t->block6_fd, &k6, out);
	return err ? -errno : 0;
}

int bt_trust_add(struct bt_ctx *t, const char *cidr)
{
	struct xs_trust v = {};
	struct xs_lpm4 k4;
	struct xs_lpm6 k6;
	int fam = bt_cidr(cidr, &k6, &k4);
	int err;

	if (fam < 0)
		return fam;
	if (fam == 4)
		err = bpf_map_update_elem(t->trust4_fd, &k4, &v, BPF_ANY);
	else
		err = bpf_map_update_elem(t->trust6_fd, &k6, &v, BPF_ANY);
	if (err)
		return -errno;
	return bt_blkgen_bump(t); /* as xs_trust_add() does */
}

int bt_trust_get(struct bt_ctx *t, const char *cidr, struct xs_trust *out)
{
	struct xs_lpm4 k4;
	struct xs_lpm6 k6;
	int fam = bt_cidr(cidr, &k6, &k4);
	int err;

	if (fam < 0)
		return fam;
	if (fam == 4)
		err = bpf_map_lookup_elem(t->trust4_fd, &k4, out);
	else
		err = bpf_map_lookup_elem(t->trust6_fd, &k6, out);
	return err ? -errno : 0;
}

static int flow_key(const char *addr, uint16_t port, struct xs_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET6, addr, k->addr6) == 1)
		k->v6 = 1;
	else if (inet_pton(AF_INET, addr, &k->addr) != 1)
		return -EINVAL;
	k->port = htons(port);
	k->proto = IPPROTO_UDP;
	return 0;
}

int bt_flow_set(struct bt_ctx *t, const char *addr, uint16_t port, const struct xs_flow *f)
{
	struct xs_flow_key k;

	if (flow_key(addr, port, &k))
		return -EINVAL;
	return bpf_map_update_elem(t->flows_fd, &k, f, BPF_ANY) ? -errno : 0;
}

int bt_flow_get(struct bt_ctx *t, const char *addr, uint16_t port, struct xs_flow *f)
{
	struct xs_flow_key k;

	if (flow_key(addr, port, &k))
		return -EINVAL;
	return bpf_map_lookup_elem(t->flows_fd, &k, f) ? -errno : 0;
}

long long bt_map_memlock(int map_fd)
{
	char path[64], line[256];
	long long val = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", map_fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &val) == 1)
			break;
	fclose(f);
	return val;
}

int bt_expect(struct bt_ctx *t, const void *in, size_t len, struct bt_run *r, int reason, char *why,
	      size_t cap)
{
	struct xs_counter before[XS_REASON_MAX], after[XS_REASON_MAX];
	size_t olen;
	int err, i;

	err = bt_stats(t, before);
	if (err)
		return err;
	err = bt_run(t, in, len, r);
	if (err)
		return err;
	err = bt_stats(t, after);
	if (err)
		return err;
	if ((int)r->retval != bt_reason_action(reason)) {
		/* Name the reason that moved, which says more than the action. */
		for (i = 0; i < XS_REASON_MAX; i++)
			if (after[i].packets != before[i].packets)
				break;
		snprintf(why, cap, "action %u, want %d (%s); counted as %s", r->retval,
			 bt_reason_action(reason), bt_reason_name(reason),
			 i < XS_REASON_MAX ? bt_reason_name(i) : "nothing");
		return 0;
	}
	olen = r->out_len ? r->out_len : len;
	for (i = 0; i < XS_REASON_MAX; i++) {
		uint64_t dp = after[i].packets - before[i].packets;
		uint64_t db = after[i].bytes - before[i].bytes;
		/* Counted as the frame leaves: a translated one changed its length. */
		uint64_t wp = i == reason ? 1 : 0, wb = i == reason ? olen : 0;

		if (dp != wp || db != wb) {
			snprintf(why, cap,
				 "counter %s moved by %llu packets/%llu bytes, want %llu/%llu "
				 "(expected reason %s)",
				 bt_reason_name(i), (unsigned long long)dp, (unsigned long long)db,
				 (unsigned long long)wp, (unsigned long long)wb,
				 bt_reason_name(reason));
			return 0;
		}
	}
	return 1;
}

int bt_netns_setup(const char *const *cmds, size_t n, char *why, size_t cap)
{
	size_t i;

	if (unshare(CLONE_NEWNET)) {
		snprintf(why, cap, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (system(cmds[i]) != 0) {
			snprintf(why, cap, "'%s' failed", cmds[i]);
			return -1;
		}
	}
	return 0;
}

int bt_forwarding(const char *dev, int on)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", dev);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", on);
	return fclose(f) ? -errno : 0;
}
