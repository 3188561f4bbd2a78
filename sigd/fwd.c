// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP relay asks bpf_fib_lookup() for each call's next hop, and the
 * kernel answers only for an ingress interface with IPv4 forwarding on
 * (net.ipv4.conf.IFACE.forwarding; no lookup flag avoids it). A host as it
 * comes has it off: every RTP packet would be dropped as drop-no-route.
 *
 * forwarding = auto (the default) turns it on for each relay interface that
 * has it off, after installing the guard (fw/guard.c) that keeps the
 * stack from routing anything arriving there: the host does not become a
 * router. Interfaces that already forward (a host the operator made a router)
 * are left as they are, unguarded. require changes nothing and refuses to
 * start while one is off; off changes nothing and warns.
 *
 * IPv6 media the XDP relay sends (media ipv4-only off) needs
 * net.ipv6.conf.IFACE.forwarding the same way, on an edge with an IPv6
 * public-ip (fwd6_one()). There the per-interface switch does not make the
 * stack route (ip6_forward() obeys net.ipv6.conf.all.forwarding only), so
 * no guard is needed; it does make the interface ignore router
 * advertisements while accept_ra is 1, so auto sets accept_ra to 2 first
 * (accept them while forwarding): the host keeps its SLAAC addresses and
 * default route.
 *
 * The interfaces sigd turned forwarding on for are also listed in
 * STATE-DIR/forwarding: a ruleset flush (`nft flush ruleset`, a reload of
 * nftables.service) removes the guard but not the sysctl, and sigd, which
 * checks every few seconds, puts the guard back and says so.
 */
#include <errno.h>
#include <stdlib.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fw/fw.h"
#include "fwd.h"
#include "options.h"

int sigd_fwd_parse(const char *s, int *mode)
{
	if (!strcmp(s, "auto"))
		*mode = SIGD_FWD_AUTO;
	else if (!strcmp(s, "require"))
		*mode = SIGD_FWD_REQUIRE;
	else if (!strcmp(s, "off"))
		*mode = SIGD_FWD_OFF;
	else
		return -EINVAL;
	return 0;
}

const char *sigd_fwd_str(int mode)
{
	return mode == SIGD_FWD_REQUIRE ? "require" : mode == SIGD_FWD_OFF ? "off" : "auto";
}

#define OWN_MAX 64

static char owned[OWN_MAX][IF_NAMESIZE];
static unsigned int nowned;
static char own_path[300];

static bool is_owned(const char *ifname)
{
	for (unsigned int i = 0; i < nowned; i++)
		if (!strcmp(owned[i], ifname))
			return true;
	return false;
}

static void own(const char *ifname)
{
	FILE *f;

	if (is_owned(ifname) || nowned == OWN_MAX)
		return;
	snprintf(owned[nowned++], IF_NAMESIZE, "%s", ifname);
	if (!own_path[0])
		return;
	f = fopen(own_path, "a");
	if (f) {
		fprintf(f, "%s\n", ifname);
		fclose(f);
	}
}

static void own_load(const char *state_dir)
{
	char line[64];
	FILE *f;

	if (own_path[0])
		return;
	snprintf(own_path, sizeof(own_path), "%s/forwarding", state_dir);
	f = fopen(own_path, "r");
	while (f && fgets(line, sizeof(line), f) && nowned < OWN_MAX) {
		line[strcspn(line, "\n")] = 0;
		if (*line && strlen(line) < IF_NAMESIZE && !is_owned(line))
			snprintf(owned[nowned++], IF_NAMESIZE, "%s", line);
	}
	if (f)
		fclose(f);
}

static int fwd_one(const char *ifname, int mode)
{
	int on = xs_fwd_get(ifname), err;

	if (on < 0) {
		xs_log(XS_LOG_ERR, "%s: cannot read net.ipv4.conf.%s.forwarding: %s\n", ifname,
		       ifname, strerror(-on));
		return mode == SIGD_FWD_OFF ? 0 : on;
	}
	if (on) {
		/* Ours from an earlier run (the guard or our list says so): keep it guarded. */
		int had = xs_fwd_guard_has(ifname);

		if (is_owned(ifname) || had == 1) {
			own(ifname);
			err = xs_fwd_guard_add(ifname);
			if (err)
				xs_log(XS_LOG_ERR, "%s: forwarding guard not restored: %s\n",
				       ifname, strerror(-err));
			else if (had != 1)
				xs_log(XS_LOG_WARN,
				       "%s: net.ipv4.conf.%s.forwarding is 1 as sigd left it, but "
				       "its "
				       "guard (table ip %s) was gone: restored\n",
				       ifname, ifname, XS_FWD_GUARD_TABLE);
			return err;
		}
		return 0;
	}
	if (mode == SIGD_FWD_REQUIRE) {
		xs_log(XS_LOG_ERR,
		       "net.ipv4.conf.%s.forwarding is 0: the relay cannot forward media on %s "
		       "(sysctl -w net.ipv4.conf.%s.forwarding=1, or forwarding = auto)\n",
		       ifname, ifname, ifname);
		return -EPERM;
	}
	if (mode == SIGD_FWD_OFF) {
		xs_log(XS_LOG_WARN,
		       "net.ipv4.conf.%s.forwarding is 0 and forwarding = off: media arriving on "
		       "%s is dropped (drop-no-route)\n",
		       ifname, ifname);
		return 0;
	}
	/* Guard first: there is no moment where the host routes what arrives here. */
	err = xs_fwd_guard_add(ifname);
	if (err) {
		xs_log(XS_LOG_ERR,
		       "%s: forwarding guard (nftables table ip %s) not installed: %s; "
		       "net.ipv4.conf.%s.forwarding stays 0 and media is dropped\n",
		       ifname, XS_FWD_GUARD_TABLE, strerror(-err), ifname);
		return err;
	}
	own(ifname);
	err = xs_fwd_set(ifname, true);
	if (err) {
		xs_log(XS_LOG_ERR, "net.ipv4.conf.%s.forwarding=1: %s\n", ifname, strerror(-err));
		return err;
	}
	xs_log(XS_LOG_INFO,
	       "net.ipv4.conf.%s.forwarding=1 for the relay's next-hop lookups; nftables table "
	       "ip %s drops anything else %s would route\n",
	       ifname, XS_FWD_GUARD_TABLE, ifname);
	return 0;
}

/* net.ipv6.conf.@ifname.forwarding for the XDP relay's IPv6 next-hop lookups. */
static int fwd6_one(const char *ifname, const struct sigd_cfg *cfg)
{
	int on, ra, err;

	if (cfg->public_ip[1].af != AF_INET6)
		return 0;
	on = xs_sysctl_if_get("ipv6", ifname, "forwarding");
	if (on < 0) /* IPv6 off on this interface (disable_ipv6, no ipv6 module) */
		return 0;
	if (on)
		return 0;
	if (cfg->forwarding == SIGD_FWD_REQUIRE) {
		xs_log(XS_LOG_ERR,
		       "net.ipv6.conf.%s.forwarding is 0: the relay cannot forward IPv6 media on "
		       "%s "
		       "(sysctl -w net.ipv6.conf.%s.forwarding=1, or forwarding = auto)\n",
		       ifname, ifname, ifname);
		return -EPERM;
	}
	if (cfg->forwarding == SIGD_FWD_OFF) {
		xs_log(XS_LOG_WARN,
		       "net.ipv6.conf.%s.forwarding is 0 and forwarding = off: with media "
		       "ipv4-only "
		       "off, IPv6 media arriving on %s is dropped (drop-no-route)\n",
		       ifname, ifname);
		return 0;
	}
	ra = xs_sysctl_if_get("ipv6", ifname, "accept_ra");
	if (ra == 1 && (err = xs_sysctl_if_set("ipv6", ifname, "accept_ra", 2))) {
		xs_log(XS_LOG_ERR,
		       "net.ipv6.conf.%s.accept_ra=2: %s; IPv6 forwarding left off (it would "
		       "stop router advertisements on %s)\n",
		       ifname, strerror(-err), ifname);
		return err;
	}
	err = xs_sysctl_if_set("ipv6", ifname, "forwarding", 1);
	if (err) {
		xs_log(XS_LOG_ERR, "net.ipv6.conf.%s.forwarding=1: %s\n", ifname, strerror(-err));
		return err;
	}
	xs_log(XS_LOG_INFO,
	       "net.ipv6.conf.%s.forwarding=1 for the relay's IPv6 next-hop lookups%s (the host "
	       "still routes no IPv6: net.ipv6.conf.all.forwarding is unchanged)\n",
	       ifname, ra == 1 ? ", accept_ra=2" : "");
	return 0;
}

int sigd_fwd_prepare(const char *pin_root, const struct sigd_cfg *cfg)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int err = 0, e;

	own_load(cfg->state_dir);
	if (cfg->iface[0])
		err = fwd_one(cfg->iface, cfg->forwarding) ?: fwd6_one(cfg->iface, cfg);
	for (i = ifs; i && i->if_index; i++) {
		enum xs_mode mode;
		uint32_t id;

		if (!strcmp(i->if_name, cfg->iface))
			continue;
		if (xs_attached(i->if_index, &mode, &id) != 1 ||
		    xs_prog_uses_root(id, pin_root) != 1)
			continue;
		e = fwd_one(i->if_name, cfg->forwarding) ?: fwd6_one(i->if_name, cfg);
		err = err ?: e;
	}
	if (ifs)
		if_freenameindex(ifs);
	return err;
}

void sigd_fwd_tick(void)
{
	static time_t last;
	time_t now = time(NULL);

	if (now - last < 5)
		return;
	last = now;
	for (unsigned int i = 0; i < nowned; i++) {
		if (xs_fwd_get(owned[i]) != 1 || xs_fwd_guard_has(owned[i]) != 0)
			continue;
		if (xs_fwd_guard_add(owned[i]))
			xs_log(XS_LOG_ERR,
			       "%s: the forwarding guard is gone and cannot be restored: the host "
			       "routes what arrives there\n",
			       owned[i]);
		else
			xs_log(XS_LOG_WARN,
			       "%s: the forwarding guard (table ip %s) was removed (a ruleset "
			       "flush?): restored\n",
			       owned[i], XS_FWD_GUARD_TABLE);
	}
}
