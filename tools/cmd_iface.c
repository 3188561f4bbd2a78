// SPDX-License-Identifier: GPL-2.0-only
/* attach, detach, unload, status. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "fw/fw.h"
#include "relay/relay.h"

struct iface_args {
	struct cli_iface iface;
	int mode; /* index in mode_words */
	bool replace;
};

static const char *const mode_words[] = {"native", "skb", "generic", NULL};

static const struct opt attach_opts[] = {
	DEFINE_ARG("IFACE", IFACE, struct iface_args, iface),
	DEFINE_OPTION("--mode", WORD, struct iface_args, mode, .metavar = "native|skb",
		      .words = mode_words, .expect = "native or skb",
		      .help = "attach mode (default: native, else skb)"),
	DEFINE_OPTION("--replace", FLAG, struct iface_args, replace,
		      .help = "replace the xdpsbc program already attached with this build's, "
			      "atomically, keeping the maps (migrated when their layout changed)"),
	END_OPTIONS,
};

static const struct opt iface_arg[] = {
	DEFINE_ARG("IFACE", IFACE, struct iface_args, iface),
	END_OPTIONS,
};

/* attach, detach and unload lock the pin root but open no maps: they load or unpin. */
static int lock_root(struct cli *c, int *fd)
{
	int ret = xs_lock(c->pin_root);

	if (ret < 0)
		return cli_lock_err(c, ret);
	*fd = ret;
	return 0;
}

/*
 * attach --replace on an interface running xdpsbc: this build's program takes
 * its place in one kernel operation. When that migrated a map, every other
 * interface still running an old program on the old map moves too.
 */
static int replace(struct cli *c, const struct iface_args *a)
{
	uint32_t oid = 0, nid = 0;
	unsigned int n = 0;
	int ret;

	xs_migrate_allow(true);
	ret = xs_replace(c->pin_root, a->iface.ifindex, true, &oid, &nid);
	if (ret == -EBUSY)
		return cli_err("%s: the XDP program attached is not xdpsbc; not replacing it",
			       a->iface.name);
	if (ret < 0)
		return cli_err("%s: replace failed: %s", a->iface.name, strerror(-ret));
	if (xs_migrated() && xs_replace_all(c->pin_root, false, &n))
		ret = -EIO;
	xs_migrate_settle(true);
	printf("replaced xdpsbc on %s (prog id %u -> %u, maps kept under %s", a->iface.name, oid,
	       nid, c->pin_root);
	if (xs_migrated())
		printf(", %u migrated to this version's layout; %u other interfaces moved",
		       xs_migrated(), n);
	printf(")\n");
	return ret == -EIO ? cli_err("some interfaces still run the old program") : 0;
}

static int do_attach(struct cli *c, const struct xs_maps *unused, void *args)
{
	const struct iface_args *a = args;
	enum xs_mode mode = XS_MODE_AUTO, used;
	const char *name = a->iface.name;
	uint32_t id = 0;
	int lock = -1, ret;

	if (cli_given(c, "--mode"))
		mode = a->mode == 0 ? XS_MODE_NATIVE : XS_MODE_SKB;
	ret = lock_root(c, &lock);
	if (ret)
		return ret;
	if (a->replace && xs_attached(a->iface.ifindex, NULL, NULL) == 1) {
		ret = replace(c, a);
		xs_unlock(lock);
		return ret;
	}
	xs_migrate_allow(a->replace);
	ret = xs_attach(c->pin_root, a->iface.ifindex, mode, &used);
	if (!ret && xs_migrated()) {
		unsigned int n = 0;

		/* The interfaces still running an old program on the old maps. */
		ret = xs_replace_all(c->pin_root, false, &n);
		xs_migrate_settle(true);
	}
	xs_unlock(lock);
	if (ret == -EEXIST)
		return cli_err("%s: xdpsbc is already attached (--replace swaps in this build)",
			       name);
	if (ret == -EBUSY)
		return cli_err("%s: another XDP program is attached; not replacing it", name);
	if (ret)
		return cli_err("%s: attach in %s mode failed: %s", name, xs_mode_str(mode),
			       strerror(-ret));
	xs_attached(a->iface.ifindex, NULL, &id);
	printf("attached xdpsbc to %s (%s mode, prog id %u, maps %s)\n", name, xs_mode_str(used),
	       id, c->pin_root);
	if (xs_fwd_get(name) == 0)
		printf("note: net.ipv4.conf.%s.forwarding is 0: the relay drops media arriving on "
		       "%s "
		       "(drop-no-route) until it is 1; xdpsbc-sigd sets it behind a guard unless "
		       "forwarding = require|off\n",
		       name, name);
	if (xs_attached_single(a->iface.ifindex) == 1)
		printf("note: libxdp's multi-program dispatcher cannot load on this kernel; "
		       "xdpsbc runs as the interface's only XDP program\n");
	return 0;
}

static int do_detach(struct cli *c, const struct xs_maps *unused, void *args)
{
	const struct iface_args *a = args;
	int lock = -1, ret;

	ret = lock_root(c, &lock);
	if (ret)
		return ret;
	ret = xs_detach_root(c->pin_root, a->iface.ifindex);
	xs_unlock(lock);
	if (ret == -ENOENT)
		return cli_err("%s: xdpsbc is not attached", a->iface.name);
	if (ret == -EBUSY)
		return cli_err("%s: the XDP program attached is not xdpsbc; leaving it",
			       a->iface.name);
	if (ret)
		return cli_fail(ret, a->iface.name);
	printf("detached xdpsbc from %s (maps kept under %s)\n", a->iface.name, c->pin_root);
	return 0;
}

/*
 * Interfaces this pin root's program left, whose forwarding sigd turned on
 * behind the guard: back to off and unguarded, as the host had them.
 */
static void unforward(char (*names)[IF_NAMESIZE], unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (xs_fwd_guard_has(names[i]) != 1)
			continue;
		if (xs_fwd_set(names[i], false) || xs_fwd_guard_release(names[i]))
			fprintf(stderr, "warning: %s: forwarding and its guard not undone\n",
				names[i]);
		else
			printf("net.ipv4.conf.%s.forwarding back to 0 (xdpsbc-sigd had set it)\n",
			       names[i]);
	}
}

static int do_unload(struct cli *c, const struct xs_maps *unused, void *args)
{
	char names[XS_TXPORTS_MAX][IF_NAMESIZE];
	struct if_nameindex *ifs = if_nameindex(), *i;
	unsigned int n = 0;
	int lock = -1, ret;
	uint32_t id;

	for (i = ifs; i && i->if_index && n < XS_TXPORTS_MAX; i++)
		if (xs_attached(i->if_index, NULL, &id) == 1 &&
		    xs_prog_uses_root(id, c->pin_root) == 1)
			snprintf(names[n++], IF_NAMESIZE, "%s", i->if_name);
	if (ifs)
		if_freenameindex(ifs);
	ret = lock_root(c, &lock);
	if (ret)
		return ret;
	ret = xs_unload(c->pin_root);
	xs_unlock(lock);
	if (ret)
		return cli_fail(ret, "unload");
	printf("unloaded xdpsbc: detached and removed the pins under %s\n", c->pin_root);
	unforward(names, n);
	return 0;
}

static const char *port_range(char *buf, size_t len, unsigned int lo, unsigned int hi)
{
	if (!lo && !hi)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%u-%u", lo, hi);
	return buf;
}

void status_settings(const struct xs_config *cfg, bool json)
{
	char r1[16], r2[16], r3[16];

	port_range(r1, sizeof(r1), cfg->rtp_min, cfg->rtp_max);
	port_range(r2, sizeof(r2), cfg->turn_min, cfg->turn_max);
	port_range(r3, sizeof(r3), cfg->relay_min, cfg->relay_max);
	if (json) {
		json_obj_begin("settings");
		json_bool("ipv4_only_media", cfg->flags & XS_CFG_V6_MEDIA_DROP);
		json_bool("turn", cfg->flags & XS_CFG_TURN);
		json_bool("pinholes", cfg->flags & XS_CFG_PINHOLES);
		json_str("rtp_ports", r1);
		json_str("turn_ports", r2);
		json_u64("turn_udp", cfg->turn_udp);
		json_u64("turn_tls", cfg->turn_tls);
		json_str("relay_ports", r3);
		json_bool("trusted_reverse_path", cfg->flags & XS_CFG_RPF);
		json_obj_end();
		return;
	}
	printf("settings:\n"
	       "  media ipv4-only: %s (IPv6 UDP to ports %s dropped when on)\n"
	       "  media turn:      %s (UDP %u, TCP %u, relay %s)\n"
	       "  relay ports:     %s%s\n",
	       cfg->flags & XS_CFG_V6_MEDIA_DROP ? "on" : "off", r1,
	       cfg->flags & XS_CFG_TURN ? "on" : "off", cfg->turn_udp, cfg->turn_tls, r2, r3,
	       cfg->flags & XS_CFG_PINHOLES ? " (pinholes closed unless a flow owns the port)"
					    : "");
	if (cfg->flags & XS_CFG_RPF)
		printf("  trusted:         only via the interface routing back to the source "
		       "(set by xdpsbc-sigd rp-filter)\n");
}

/* The maps section of status: size, use and kernel memory of every pin. */
struct maps_sum {
	struct xs_map_usage u[64];
	size_t n;
	uint64_t memlock;
};

static int map_collect(const struct xs_map_usage *u, void *arg)
{
	struct maps_sum *s = arg;

	if (s->n < sizeof(s->u) / sizeof(s->u[0]))
		s->u[s->n++] = *u;
	s->memlock += u->memlock;
	return 0;
}

/* Entries in pinned map @name as the walk counted them, 0 when not. */
static unsigned long map_entries(const struct maps_sum *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->u[i].name, name))
			return s->u[i].entries > 0 ? (unsigned long)s->u[i].entries : 0;
	return 0;
}

static void mib(char *buf, size_t len, uint64_t bytes)
{
	snprintf(buf, len, "%.1f MiB", bytes / 1048576.0);
}

static void map_row(const struct xs_map_usage *u, bool json)
{
	const struct xs_map_sizes *want = xs_map_sizes_current();
	bool differs = u->knob >= 0 && want->n[u->knob] != u->max_entries;
	char used[24], pct[24], mem[24];

	if (json) {
		json_obj_begin(NULL);
		json_str("name", u->name);
		json_str("type", u->type);
		json_u64("max_entries", u->max_entries);
		if (u->entries >= 0)
			json_u64("entries", u->entries);
		else
			json_null("entries");
		json_u64("memlock_bytes", u->memlock);
		if (u->knob >= 0) {
			json_str("size_knob", xs_size_name(u->knob));
			json_u64("configured", want->n[u->knob]);
		}
		json_obj_end();
		return;
	}
	used[0] = pct[0] = '\0';
	if (u->entries >= 0)
		snprintf(used, sizeof(used), "%ld", u->entries);
	else
		snprintf(used, sizeof(used), "-");
	if (u->entries >= 0 && u->max_entries)
		snprintf(pct, sizeof(pct), "%ld%%", u->entries * 100 / u->max_entries);
	mib(mem, sizeof(mem), u->memlock);
	printf("  %-12s %-12s %11u %9s %5s %10s", u->name, u->type, u->max_entries, used, pct, mem);
	if (differs)
		printf("  (pinned size kept; %s=%u applies when re-created)", xs_size_name(u->knob),
		       want->n[u->knob]);
	putchar('\n');
}

static void status_maps(struct cli *c, const struct maps_sum *s)
{
	char mem[24];

	if (c->json) {
		json_arr_begin("maps");
		for (size_t i = 0; i < s->n; i++)
			map_row(&s->u[i], true);
		json_arr_end();
		json_u64("maps_memlock_bytes", s->memlock);
		return;
	}
	printf("maps:\n  %-12s %-12s %11s %9s %5s %10s\n", "NAME", "TYPE", "MAX ENTRIES", "IN USE",
	       "", "MEMORY");
	for (size_t i = 0; i < s->n; i++)
		map_row(&s->u[i], false);
	mib(mem, sizeof(mem), s->memlock);
	printf("  total kernel memory: %s (%llu bytes)\n", mem, (unsigned long long)s->memlock);
}

/* The edge's place in a cluster: only the running sigd knows it (null / a note without). */
static void status_cluster(struct cli *c)
{
	static char buf[16384];
	int err = ctl_query("cluster", c->json, NULL, buf, sizeof(buf));

	if (c->json) {
		if (err || buf[0] != '{')
			json_null("cluster");
		else
			json_raw("cluster", buf);
	} else if (err) {
		printf("cluster:\n  unknown: xdpsbc-sigd not reachable (%s)\n", strerror(-err));
	} else {
		printf("cluster:\n%s", buf);
	}
}

static int do_status(struct cli *c, const struct xs_maps *m, void *args)
{
	struct if_nameindex *ifs, *i;
	struct xs_config cfg;
	enum xs_mode mode;
	bool have_maps = m;
	char dp[16], fw[16];
	uint32_t id;

	/* What the running sigd chose (datapath = auto|xdp|afxdp|udp); else the program. */
	if (xs_dp_state_read(c->pin_root, dp, sizeof(dp), fw, sizeof(fw), NULL)) {
		snprintf(dp, sizeof(dp), "xdp");
		snprintf(fw, sizeof(fw), "xdp");
	}
	if (c->json) {
		json_obj_begin(NULL);
		json_str("pin_root", c->pin_root);
		json_str("datapath", dp);
		json_str("firewall", fw);
		fw_status_fields(true);
		json_bool("maps_pinned", have_maps);
		json_arr_begin("interfaces");
	} else {
		printf("pin root:   %s (%s)\n", c->pin_root,
		       have_maps ? "maps pinned" : "no maps pinned");
		printf("datapath:   %s\nfirewall:   %s\n", dp, fw);
		fw_status_fields(false);
		printf("interfaces:\n");
	}
	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		if (xs_attached(i->if_index, &mode, &id) != 1)
			continue;
		if (xs_prog_uses_root(id, c->pin_root) != 1)
			continue;
		if (c->json) {
			json_obj_begin(NULL);
			json_str("name", i->if_name);
			json_u64("ifindex", i->if_index);
			json_str("mode", xs_mode_str(mode));
			json_u64("prog_id", id);
			json_obj_end();
		} else {
			printf("  %-15s %s mode, prog id %u\n", i->if_name, xs_mode_str(mode), id);
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	if (c->json)
		json_arr_end();
	status_readiness(c);
	if (have_maps && !xs_config_get(m, &cfg)) {
		static struct maps_sum ms; /* 64 rows: not on the stack */
		unsigned long b4, b6, t4, t6, fl;

		/* One walk per map, for the entry counts and the maps section. */
		xs_maps_usage(c->pin_root, map_collect, &ms);
		b4 = map_entries(&ms, XS_MAP_BLOCK4), b6 = map_entries(&ms, XS_MAP_BLOCK6);
		t4 = map_entries(&ms, XS_MAP_TRUST4), t6 = map_entries(&ms, XS_MAP_TRUST6);
		fl = map_entries(&ms, XS_MAP_FLOWS);
		status_settings(&cfg, c->json);
		if (c->json) {
			json_obj_begin("entries");
			json_u64("block4", b4);
			json_u64("block6", b6);
			json_u64("trust4", t4);
			json_u64("trust6", t6);
			json_u64("flows", fl);
			json_obj_end();
		} else {
			printf("entries:\n  blocklist: %lu (IPv4 %lu, IPv6 %lu)\n"
			       "  trusted:   %lu (IPv4 %lu, IPv6 %lu)\n  flows:     %lu\n",
			       b4 + b6, b4, b6, t4 + t6, t4, t6, fl);
		}
		status_maps(c, &ms);
	}
	status_cluster(c);
	if (c->json) {
		json_obj_end();
		json_done();
	}
	return 0;
}

#define IFACE_CMD(...) .args_size = sizeof(struct iface_args), .maps = CLI_MAPS_NONE, __VA_ARGS__

const struct cmd cmds_iface[] = {
	{"attach", do_attach, "IFACE [--mode native|skb] [--replace]",
	 "attach the XDP program to IFACE (native mode, else skb with a warning; --mode forces "
	 "one); "
	 "maps under the pin root are reused; --replace swaps a running xdpsbc for this build "
	 "atomically",
	 .opts = attach_opts, IFACE_CMD()},
	{"detach", do_detach, "IFACE", "remove xdpsbc from IFACE; the maps and their entries stay",
	 .opts = iface_arg, IFACE_CMD()},
	{"unload", do_unload, "",
	 "detach from every interface running this pin root's xdpsbc and remove the pins",
	 IFACE_CMD()},
	{"status", do_status, "[-j]",
	 "pin root, datapath and firewall (as sigd chose them), nftables table, attached "
	 "interfaces "
	 "(mode, prog id), their readiness to relay (forwarding, drops for no route in the last "
	 "minute), settings, entry counts, and each map's size, use and kernel memory",
	 .maps = CLI_MAPS_READ},
	{NULL},
};
