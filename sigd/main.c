// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpsbc-sigd: the SIP edge daemon. Sets up the XDP side (maps, attach,
 * pinhole range), the media engine and the proxy, then runs one epoll loop.
 * SIGHUP reloads the config file; SIGTERM/SIGINT stop it, leaving the pinned
 * flows so media of calls in progress keeps flowing.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "policy/bans.h"
#include "ctl/ctl.h"
#include "sip/dns.h"
#include "fwd.h"
#include "instance.h"
#include "options.h"
#include "sip/proxy.h"
#include "secret.h"
#include "sip/msg.h"
#include "sip/tls.h"
#include "sip/transport.h"

static volatile sig_atomic_t got_hup, got_term, got_usr1;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void rx(void *arg, const char *buf, size_t len, const struct sip_addr *src)
{
	proxy_input(arg, buf, len, src);
}

static const struct xs_maps *block_maps;
static const char *block_root;

/* policy_block_fn: the source goes into the XDP blocklist, under the pin root's lock. */
static int block_source(const struct xs_cidr *c, uint64_t seconds, const char *note, void *arg)
{
	int lk = xs_lock_wait(block_root, 200), err;

	err = xs_block_add(block_maps, c, seconds, note);
	if (lk >= 0)
		xs_unlock(lk);
	return err;
}

static int mkdir_p(const char *dir)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -errno : 0;
}

static int mkdir_p_parent(const char *path)
{
	char dir[256], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	return mkdir_p(dir);
}

/* Open the relay range: pinholes close unless a flow owns the port. */
static int set_relay_range(const struct xs_maps *maps, const struct sigd_cfg *cfg)
{
	struct xs_config xc;
	int err = xs_config_get(maps, &xc);

	if (err)
		return err;
	xc.relay_min = cfg->rtp_min;
	xc.relay_max = cfg->rtp_max;
	xc.flags |= XS_CFG_PINHOLES;
	/* The driver's half of rp-filter: trusted only via the interface routing back. */
	if (cfg->rp_filter == SIGD_RPF_STRICT)
		xc.flags |= XS_CFG_RPF;
	else
		xc.flags &= ~XS_CFG_RPF;
	return xs_config_set(maps, &xc);
}

static void media_opts_of(const struct sigd_cfg *cfg, const struct xs_maps *maps,
			  struct media_opts *mo)
{
	memset(mo, 0, sizeof(*mo));
	/*
	 * Media is anchored on the IPv4 address; with `media ipv4-only off`
	 * (read from xs_config per call) IPv6 legs get the IPv6 one.
	 */
	if (cfg->public_ip[0].af == AF_INET)
		mo->public_ip = cfg->public_ip[0].v4;
	if (cfg->public_ip[1].af == AF_INET6)
		mo->public_ip6 = cfg->public_ip[1].v6;
	mo->config_fd = maps->config;
	memcpy(mo->media_ip, cfg->media_ip, sizeof(mo->media_ip));
	mo->n_media_ip = cfg->n_media_ip;
	mo->port_min = cfg->rtp_min;
	mo->port_max = cfg->rtp_max;
	mo->flows_fd = maps->flows;
	mo->latch = cfg->latch_sdp ? MEDIA_LATCH_SDP : MEDIA_LATCH_SIGNALLING;
	mo->latch_window_s = cfg->latch_window;
	mo->timeout_s = cfg->media_timeout;
	mo->max_streams = cfg->max_streams;
	mo->source_ports = cfg->source_ports;
	mo->foreign_cookie = cluster_foreign_cookie;
}

/*
 * An upgrade: the xdpsbc programs of an earlier build (or on maps a migration
 * just replaced) give way to this build's, atomically, maps and flows kept.
 */
static void upgrade_programs(const char *pin_root)
{
	unsigned int n = 0;

	if (xs_replace_all(pin_root, false, &n))
		xs_log(XS_LOG_WARN, "some interfaces still run an earlier xdpsbc program\n");
	xs_migrate_settle(true);
	if (n)
		xs_log(XS_LOG_INFO, "xdpsbc program of this build swapped in on %u interfaces\n",
		       n);
}

static int attach_iface(const char *pin_root, const struct sigd_cfg *cfg)
{
	unsigned int ifindex = if_nametoindex(cfg->iface);
	enum xs_mode mode;
	uint32_t id;
	int err;

	if (!ifindex) {
		xs_log(XS_LOG_ERR, "interface %s: %s\n", cfg->iface, strerror(errno));
		return -ENODEV;
	}
	err = xs_attached(ifindex, &mode, &id);
	if (err == 1) {
		xs_log(XS_LOG_INFO, "xdpsbc already attached to %s (%s, prog %u)\n", cfg->iface,
		       xs_mode_str(mode), id);
		return 0;
	}
	err = xs_attach(pin_root, ifindex, cfg->xdp_mode, &mode);
	if (err) {
		xs_log(XS_LOG_ERR, "attach to %s: %s\n", cfg->iface, strerror(-err));
		return err;
	}
	xs_log(XS_LOG_INFO, "xdpsbc attached to %s (%s)\n", cfg->iface, xs_mode_str(mode));
	return 0;
}

static void reload(int argc, char **argv, struct sigd_cfg *cfg, struct proxy *px,
		   struct media_ctx *mc, const struct xs_maps *maps, struct ctl *ctl)
{
	static struct sigd_cfg nc; /* large (policy tables): not on the stack */
	struct media_opts mo;
	bool same_listen;

	if (opts_load(&nc, argc, argv) || opts_validate(&nc)) {
		xs_log(XS_LOG_WARN, "reload: config rejected, keeping the running one\n");
		return;
	}
	same_listen = nc.nlisten == cfg->nlisten && nc.nlisten_tls == cfg->nlisten_tls;
	for (unsigned int i = 0; same_listen && i < nc.nlisten; i++)
		same_listen = sip_addr_eq(&nc.listen[i], &cfg->listen[i]);
	for (unsigned int i = 0; same_listen && i < nc.nlisten_tls; i++)
		same_listen = sip_addr_eq(&nc.listen_tls[i], &cfg->listen_tls[i]);
	if (strcmp(nc.tls_cert, cfg->tls_cert) || strcmp(nc.tls_key, cfg->tls_key) ||
	    strcmp(nc.tls_ca, cfg->tls_ca))
		xs_log(XS_LOG_WARN, "reload: tls-cert, tls-key and tls-ca are read at start: "
				    "a restart applies them\n");
	if (!same_listen || strcmp(nc.iface, cfg->iface) ||
	    !sip_ip_eq(&nc.public_ip[0], &cfg->public_ip[0]) ||
	    !sip_ip_eq(&nc.public_ip[1], &cfg->public_ip[1]))
		xs_log(XS_LOG_WARN,
		       "reload: listen, listen-tls, iface and public-ip changes need a restart\n");
	if (strcmp(nc.ctl_socket, cfg->ctl_socket) || nc.http_on != cfg->http_on ||
	    nc.http_listen.port != cfg->http_listen.port ||
	    !sip_ip_eq(&nc.http_listen.ip, &cfg->http_listen.ip))
		xs_log(XS_LOG_WARN, "reload: ctl-socket and http-listen changes need a restart\n");
	if (memcmp(&nc.map_sizes, &cfg->map_sizes, sizeof(nc.map_sizes)))
		xs_log(XS_LOG_WARN, "reload: map-sizes apply when the maps are created; the "
				    "pinned maps keep their size\n");
	if (memcmp(&nc.cluster, &cfg->cluster, sizeof(nc.cluster)))
		xs_log(XS_LOG_WARN, "reload: redis and node-id changes need a restart\n");
	nc.cluster = cfg->cluster;
	memcpy(nc.listen, cfg->listen, sizeof(nc.listen));
	nc.nlisten = cfg->nlisten;
	memcpy(nc.listen_tls, cfg->listen_tls, sizeof(nc.listen_tls));
	nc.nlisten_tls = cfg->nlisten_tls;
	memcpy(nc.tls_cert, cfg->tls_cert, sizeof(nc.tls_cert));
	memcpy(nc.tls_key, cfg->tls_key, sizeof(nc.tls_key));
	memcpy(nc.tls_ca, cfg->tls_ca, sizeof(nc.tls_ca));
	memcpy(nc.public_ip, cfg->public_ip, sizeof(nc.public_ip));
	memcpy(nc.ctl_socket, cfg->ctl_socket, sizeof(nc.ctl_socket));
	nc.http_on = cfg->http_on;
	nc.http_listen = cfg->http_listen;
	memcpy(nc.iface, cfg->iface, sizeof(nc.iface));
	*cfg = nc;
	xs_log_set_level(cfg->log_level);
	xs_log_set_target(cfg->log_syslog ? XS_LOG_SYSLOG : XS_LOG_STDERR, "xdpsbc-sigd");
	if (proxy_reconfigure(px, cfg))
		xs_log(XS_LOG_WARN, "reload: routing unchanged\n");
	media_opts_of(cfg, maps, &mo);
	if (media_reconfigure(mc, &mo))
		xs_log(XS_LOG_WARN, "reload: media options rejected\n");
	if (set_relay_range(maps, cfg))
		xs_log(XS_LOG_WARN, "reload: relay range not set\n");
	ctl_reconfigure(ctl, cfg);
	tp_set_limits(&cfg->tcp);
	dns_set_cfg(&cfg->dns);
	xs_log(XS_LOG_INFO,
	       "configuration reloaded: %u companies, %u brands, %u users, %u trusted\n",
	       cfg->pol.ncompanies, cfg->pol.nbrands, cfg->pol.nusers, cfg->pol.ntrusted);
}

/*
 * Every TCP connection is a descriptor: lift the soft limit (often 1024) to
 * what the connection cap needs, as far as the hard limit allows. Beyond it
 * the transport refuses connections without spinning.
 */
static void raise_nofile(const struct sigd_cfg *cfg)
{
	rlim_t want = cfg->tcp.max_conns + TP_SLOTS_OUT + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		xs_log(XS_LOG_WARN, "open file limit not raised: %s\n", strerror(errno));
	if (rl.rlim_cur < want)
		xs_log(XS_LOG_WARN, "open file limit %llu is below what %u TCP connections need\n",
		       (unsigned long long)rl.rlim_cur, cfg->tcp.max_conns);
}

int main(int argc, char **argv)
{
	static struct sigd_cfg cfg;
	static struct proxy px;
	static struct ctl ctl;
	struct sigaction sa = {.sa_handler = on_signal};
	struct xs_maps maps;
	static struct sigd_dp sdp;
	struct media_opts mo;
	struct media_ctx *mc;
	const char *pin_root;
	int err;

	err = opts_load(&cfg, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	xs_log_set_level(cfg.log_level);
	xs_log_set_target(cfg.log_syslog ? XS_LOG_SYSLOG : XS_LOG_STDERR, "xdpsbc-sigd");
	xs_log_route_libs();
	if (opts_validate(&cfg))
		return 2;
	sigd_osip_init();

	/* One sigd per state dir, decided before anything is attached or changed. */
	err = mkdir_p(cfg.state_dir);
	if (err)
		xs_log(XS_LOG_WARN, "state dir %s: %s; calls will not survive a restart\n",
		       cfg.state_dir, strerror(-err));
	if (!err && sigd_instance_lock(cfg.state_dir))
		return 1;
	pin_root = xs_pin_root(cfg.pin_root[0] ? cfg.pin_root : NULL);
	xs_map_sizes_use(&cfg.map_sizes); /* for maps created now; pins keep their size */
	xs_migrate_allow(true); /* pins of an earlier layout: we move every program below */
	err = xs_bpffs_ensure(pin_root);
	err = err ?: xs_maps_open(pin_root, true, &maps);
	if (err) {
		xs_log(XS_LOG_ERR, "maps under %s: %s\n", pin_root, strerror(-err));
		return 1;
	}
	xs_maps_check_sizes(&maps, pin_root);
	/*
	 * Handlers before the datapath forks its relay: a SIGTERM during the
	 * start ends it through fail:, which stops that relay, instead of
	 * killing sigd and orphaning it.
	 */
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Before any socket: a spoofed core source must never reach one. */
	if (sigd_rp_filter(cfg.rp_filter))
		return 1;
	upgrade_programs(pin_root);
	/* Choose the datapath (auto probes); the XDP one attaches as before. */
	if (sigd_dp_start(pin_root, &cfg, &maps, &sdp))
		return 1;
	/* From here a refusal also stops the relay process just forked (fail:). */
	if (sdp.kind == XS_DP_XDP && cfg.iface[0] && attach_iface(pin_root, &cfg))
		goto fail;
	if (sdp.kind != XS_DP_UDP && sigd_fwd_prepare(pin_root, &cfg)) {
		xs_log(XS_LOG_ERR, "the relay cannot forward media: refusing to start\n");
		goto fail;
	}
	err = set_relay_range(&maps, &cfg);
	if (err)
		xs_log(XS_LOG_WARN, "relay range %u-%u not set: %s\n", cfg.rtp_min, cfg.rtp_max,
		       strerror(-err));
	if (sdp.fw == SIGD_FW_NFT && xs_nft_sync(&maps)) /* the relay range, now set */
		xs_log(XS_LOG_WARN, "nftables sets not updated\n");
	/*
	 * A cluster edge holds the shared policy before it takes traffic, and a
	 * standby its peer's calls before the media engine reads the flow map
	 * (the peer's flows there are not this edge's calls).
	 */
	if (cluster_init(&cfg.cluster, &maps, pin_root)) {
		xs_log(XS_LOG_ERR, "cluster: bad node-id (set node-id)\n");
		return 1;
	}
	media_opts_of(&cfg, &maps, &mo);
	sigd_warn_media_ip(&cfg);
	mc = media_new(&mo);
	if (!mc) {
		xs_log(XS_LOG_ERR, "media engine did not start\n");
		goto fail;
	}
	err = access(cfg.state_dir, W_OK) ? -errno : 0;
	if (secret_init(err ? NULL : cfg.state_dir)) {
		xs_log(XS_LOG_ERR, "no signing secret: refusing to start\n");
		goto fail;
	}
	/* Configured names may be waited for now, before the loop; never in it. */
	dns_set_cfg(&cfg.dns);
	dns_set_wait(2 * cfg.dns.timeout_ms);
	if (proxy_init(&px, &cfg, mc, tp_send, NULL))
		goto fail;
	dns_set_wait(0);
	err = proxy_restore(&px);
	if (err > 0)
		xs_log(XS_LOG_INFO, "%d dialogs restored, %u calls with media\n", err,
		       media_calls(mc));
	block_maps = &maps;
	block_root = pin_root;
	px.pol.block = block_source;
	if (tp_init(cfg.listen, cfg.nlisten, rx, &px))
		goto fail;
	if (tls_init(cfg.tls_cert, cfg.tls_key, cfg.tls_ca) ||
	    tp_listen_tls(cfg.listen_tls, cfg.nlisten_tls))
		goto fail;
	/* An upstream over TLS must prove its name (or, a literal, its address). */
	if (px.rc.have_upstream && px.rc.upstream.proto == SIP_TLS && px.rc.upstream_host[0])
		tls_set_peer_name(&px.rc.upstream, px.rc.upstream_host);
	tp_set_limits(&cfg.tcp);
	raise_nofile(&cfg);
	if (cfg.ctl_socket[0] && strcmp(cfg.ctl_socket, "none") && mkdir_p_parent(cfg.ctl_socket))
		xs_log(XS_LOG_WARN, "cannot create the directory of %s\n", cfg.ctl_socket);
	if (ctl_init(&ctl, &cfg, &px, &maps, pin_root))
		goto fail;
	bans_init(pin_root, &ctl.bans);
	if (got_term) {
		xs_log(XS_LOG_ERR, "stopped while starting\n");
		goto fail;
	}
	if (!cfg.foreground && daemon(0, 1)) {
		xs_log(XS_LOG_ERR, "daemon: %s\n", strerror(errno));
		goto fail;
	}
	sigd_instance_lock_repid();
	if (cluster_start())
		xs_log(XS_LOG_ERR, "cluster: thread not started; policy not shared\n");
	for (unsigned int i = 0; i < cfg.nlisten; i++) {
		char ab[SIP_ADDR_STRLEN];

		xs_log(XS_LOG_INFO, "xdpsbc-sigd listening on %s (and tcp)\n",
		       sip_addr_str(&cfg.listen[i], ab, sizeof(ab)));
	}
	xs_log(XS_LOG_INFO, "public %s%s%s, %s\n", px.rc.edge.a[0].set ? px.rc.edge.a[0].host : "",
	       px.rc.edge.a[0].set && px.rc.edge.a[1].set ? " " : "",
	       px.rc.edge.a[1].set ? px.rc.edge.a[1].host : "",
	       cfg.upstream[0] ? cfg.upstream : "routing by Request-URI");
	sigd_notify_ready("listening, datapath ready");

	while (!got_term) {
		err = tp_poll(100);
		if (err && err != -EINTR) {
			xs_log(XS_LOG_ERR, "poll: %s\n", strerror(-err));
			break;
		}
		if (got_hup) {
			got_hup = 0;
			sigd_notify_reloading();
			reload(argc, argv, &cfg, &px, mc, &maps, &ctl);
			if (sdp.kind != XS_DP_UDP)
				sigd_fwd_prepare(pin_root, &cfg);
			sigd_notify_ready("listening, configuration reloaded");
		}
		if (got_usr1) {
			got_usr1 = 0;
			proxy_status(&px);
		}
		proxy_tick(&px);
		ctl_tick(&ctl);
		dns_tick();
		if (sdp.kind != XS_DP_UDP) {
			media_noroute_watch(mc, pin_root);
			sigd_fwd_tick();
		}
		sigd_notify_watchdog();
		/* Calls taken over from a peer are saved (and replicated) as ours. */
		if (cluster_calls_poll(mc, &cfg.public_ip[cfg.public_ip[0].af ? 0 : 1]) > 0)
			px.dirty = true;
	}
	sigd_notify_stopping();
	xs_log(XS_LOG_INFO, "shutting down; %u dialogs saved, media flows stay pinned\n",
	       proxy_shutdown(&px));
	bans_close();
	cluster_stop();
	ctl_close(&ctl);
	tp_close();
	policy_free(&px.pol);
	media_free(mc);
	sigd_dp_stop(&sdp);
	xs_maps_close(&maps);
	return 0;

fail:
	xs_log(XS_LOG_ERR, "not started\n");
	sigd_dp_abort(&sdp);
	return 1;
}
