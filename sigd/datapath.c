// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which datapath carries the media (`datapath = auto|xdp|afxdp|udp`) and
 * which firewall enforces the edge policy (`firewall = auto|xdp|nftables`).
 *
 * auto probes, best first, and logs what it chose and why:
 *   xdp    the XDP program attaches natively on `iface` (driver XDP, so
 *          XDP_TX/XDP_REDIRECT run in the driver): it relays in the driver;
 *   afxdp  it attaches at all (generic mode) and an AF_XDP socket opens on
 *          the interface: the program keeps the policy and hands relay-port
 *          packets to userspace through the xskmap (relay/afxdp.c);
 *   udp    nothing of that works (or no `iface`): plain UDP sockets
 *          (relay/udp.c), with the policy in nftables.
 * The firewall follows: auto means the XDP program where it is attached,
 * nftables on the UDP path; `nftables` installs the nft table on any path.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "datapath.h"
#include "instance.h"
#include "options.h"

static int set_afxdp_flag(const struct xs_maps *maps, bool on)
{
	struct xs_config xc;
	int err = xs_config_get(maps, &xc);

	if (err)
		return err;
	if (!!(xc.flags & XS_CFG_AFXDP) == on)
		return 0;
	xc.flags = on ? xc.flags | XS_CFG_AFXDP : xc.flags & ~XS_CFG_AFXDP;
	return xs_config_set(maps, &xc);
}

/* The interfaces the AF_XDP relay serves: `iface` and every armed egress. */
static void afxdp_ifaces(const struct sigd_cfg *cfg, const struct xs_maps *maps, struct sigd_dp *sd,
			 struct xs_dp_opts *o)
{
	uint32_t key, next, *prev = NULL;

	o->nifaces = 0;
	if (cfg->iface[0])
		o->ifaces[o->nifaces++] = cfg->iface;
	while (o->nifaces < 4 && !bpf_map_get_next_key(maps->txports, prev, &next)) {
		char *name = sd->ifnames[o->nifaces];

		key = next;
		prev = &key;
		if (!if_indextoname(key, name))
			continue;
		if (cfg->iface[0] && !strcmp(name, cfg->iface))
			continue;
		o->ifaces[o->nifaces++] = name;
	}
}

static void opts_of(const char *pin_root, const struct sigd_cfg *cfg, const struct xs_maps *maps,
		    struct xs_dp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->flows_fd = maps->flows;
	o->config_fd = maps->config;
	o->stats_fd = maps->stats;
	o->xsks_fd = -1;
	o->pin_root = pin_root;
	o->port_min = cfg->rtp_min;
	o->port_max = cfg->rtp_max;
}

/* Native attach on iface: the probe for the in-driver relay. */
static int probe_native(const char *pin_root, const struct sigd_cfg *cfg, char *why, size_t len)
{
	unsigned int ifindex = if_nametoindex(cfg->iface);
	enum xs_mode mode;
	uint32_t id;
	int err;

	if (!ifindex) {
		snprintf(why, len, "interface %s: %s", cfg->iface, strerror(errno));
		return -ENODEV;
	}
	err = xs_attached(ifindex, &mode, &id);
	if (err == 1 && mode == XS_MODE_NATIVE) {
		snprintf(why, len, "xdpsbc runs natively (driver XDP) on %s", cfg->iface);
		return 0;
	}
	if (err == 1) {
		snprintf(why, len, "xdpsbc runs in %s mode on %s, not in the driver",
			 xs_mode_str(mode), cfg->iface);
		return -EOPNOTSUPP;
	}
	err = xs_attach(pin_root, ifindex, XS_MODE_NATIVE, &mode);
	if (err) {
		snprintf(why, len, "native XDP on %s refused: %s", cfg->iface, strerror(-err));
		return err;
	}
	snprintf(why, len, "native XDP attach on %s works", cfg->iface);
	return 0;
}

/*
 * The userspace relays run in a process of their own, forked before sigd
 * opens any SIP socket, so that, as with the XDP relay, media keeps flowing
 * while sigd is stopped, restarted or killed: a restarted sigd adopts the
 * running relay. The relay exits on SIGTERM, or when its pin root is
 * unloaded (`xdpsbc unload`), checked every second.
 */
static volatile sig_atomic_t relay_stop;

static void relay_on_term(int sig)
{
	relay_stop = 1;
}

static void relay_main(const char *pin_root, enum xs_datapath kind, const struct xs_dp_opts *o,
		       int wfd)
{
	struct sigaction sa = {.sa_handler = relay_on_term};
	char line[512], flows[600];
	struct xs_dp *dp = NULL;
	int err;

	setsid(); /* a terminal's ^C to sigd does not stop the media */
	/* The relay outlives sigd: it must not keep the next sigd out of the state dir. */
	sigd_instance_lock_forget();
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	err = kind == XS_DP_AFXDP ? xs_dp_afxdp_start(o, &dp) : xs_dp_udp_start(o, &dp);
	if (err) {
		snprintf(line, sizeof(line), "E%d", -err);
	} else {
		line[0] = 'O';
		xs_dp_describe(dp, line + 1, sizeof(line) - 1);
	}
	if (write(wfd, line, strlen(line) + 1) < 0)
		err = err ?: -EPIPE;
	close(wfd);
	if (err)
		_exit(1);
	snprintf(flows, sizeof(flows), "%s/%s", pin_root, XS_MAP_FLOWS);
	while (!relay_stop && !access(flows, F_OK))
		sleep(1);
	xs_dp_describe(dp, line, sizeof(line));
	xs_log(XS_LOG_INFO, "relay process %d exiting (%s): %s\n", (int)getpid(),
	       relay_stop ? "signal" : "pin root unloaded", line);
	xs_dp_stop(dp);
	_exit(0);
}

static int relay_spawn(const char *pin_root, enum xs_datapath kind, const struct xs_dp_opts *o,
		       struct sigd_dp *sd)
{
	struct pollfd pfd;
	char line[512] = "";
	ssize_t n = 0;
	int p[2], err;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		close(p[0]);
		relay_main(pin_root, kind, o, p[1]);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 15000) == 1)
		n = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	if (n <= 0 || line[0] != 'O') {
		if (n <= 0)
			kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return n <= 0 ? -ETIMEDOUT : -atoi(line + 1);
	}
	sd->relay_pid = pid;
	sd->spawned = true;
	snprintf(sd->relay_line, sizeof(sd->relay_line), "relay process %d: %s", (int)pid,
		 line + 1);
	return 0;
}

/* Is @pid an xdpsbc-sigd process (its relay), not a recycled pid? */
static bool is_relay(int pid)
{
	char path[64], cmd[256] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	return n > 0 && strstr(cmd, "xdpsbc-sigd");
}

/*
 * A relay left by an earlier sigd: adopted when it runs datapath @want
 * (afxdp or udp), else stopped (SIGTERM, bounded wait) so that ours can take
 * the ports, or, for xdp, so that it does not keep serving beside the driver.
 */
static bool relay_adopt(const char *pin_root, enum xs_datapath want, struct sigd_dp *sd)
{
	char dp[16] = "", fw[16] = "";
	int pid = 0;

	if (xs_dp_state_read(pin_root, dp, sizeof(dp), fw, sizeof(fw), &pid) || pid == getpid() ||
	    !is_relay(pid))
		return false;
	if (strcmp(dp, xs_dp_str(XS_DP_AFXDP)) && strcmp(dp, xs_dp_str(XS_DP_UDP)))
		return false; /* an xdp sigd: no relay process */
	/* Not after a map migration: that relay still holds the old maps. */
	if (want != XS_DP_XDP && !strcmp(dp, xs_dp_str(want)) && !xs_migrated()) {
		sd->relay_pid = pid;
		snprintf(sd->relay_line, sizeof(sd->relay_line),
			 "relay process %d of an earlier sigd adopted", pid);
		return true;
	}
	xs_log(XS_LOG_INFO, "stopping the %s relay process %d of an earlier sigd\n", dp, pid);
	kill(pid, SIGTERM);
	/* A zombie (nobody reaps an orphan here) has an empty cmdline: gone. */
	for (int i = 0; i < 50 && !kill(pid, 0) && is_relay(pid); i++) {
		struct timespec ts = {.tv_nsec = 100000000};

		nanosleep(&ts, NULL);
	}
	return false;
}

static int start_afxdp(const char *pin_root, const struct sigd_cfg *cfg, const struct xs_maps *maps,
		       struct sigd_dp *sd)
{
	unsigned int ifindex = if_nametoindex(cfg->iface);
	struct xs_dp_opts o;
	enum xs_mode mode;
	uint32_t id;
	int err;

	if (!ifindex)
		return -ENODEV;
	if (xs_attached(ifindex, &mode, &id) != 1) {
		err = xs_attach(pin_root, ifindex, cfg->xdp_mode, &mode);
		if (err)
			return err;
		xs_log(XS_LOG_INFO, "xdpsbc attached to %s (%s) for AF_XDP\n", cfg->iface,
		       xs_mode_str(mode));
	}
	opts_of(pin_root, cfg, maps, &o);
	afxdp_ifaces(cfg, maps, sd, &o);
	if (!relay_adopt(pin_root, XS_DP_AFXDP, sd)) {
		err = relay_spawn(pin_root, XS_DP_AFXDP, &o, sd);
		if (err)
			return err;
	}
	return set_afxdp_flag(maps, true);
}

static int start_udp(const char *pin_root, const struct sigd_cfg *cfg, const struct xs_maps *maps,
		     struct sigd_dp *sd)
{
	struct xs_dp_opts o;

	/*
	 * The XDP program would relay (or pinhole) these ports before our
	 * sockets see them: take this pin root's program off every interface.
	 */
	struct if_nameindex *ifs = if_nameindex(), *i;

	for (i = ifs; i && i->if_index; i++) {
		enum xs_mode mode;
		uint32_t id;

		if (xs_attached(i->if_index, &mode, &id) == 1 &&
		    xs_prog_uses_root(id, pin_root) == 1) {
			xs_log(XS_LOG_WARN, "udp datapath: detaching xdpsbc from %s\n", i->if_name);
			xs_detach_root(pin_root, i->if_index);
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	opts_of(pin_root, cfg, maps, &o);
	o.nft_pinholes = sd->fw == SIGD_FW_NFT;
	o.maps = maps;
	if (relay_adopt(pin_root, XS_DP_UDP, sd))
		return 0;
	return relay_spawn(pin_root, XS_DP_UDP, &o, sd);
}

int sigd_dp_start(const char *pin_root, const struct sigd_cfg *cfg, const struct xs_maps *maps,
		  struct sigd_dp *sd)
{
	enum xs_datapath want = cfg->datapath;
	char why[256] = "configured";
	int err = 0;

	memset(sd, 0, sizeof(*sd));
	if (want == XS_DP_AUTO) {
		if (!cfg->iface[0]) {
			want = XS_DP_UDP;
			snprintf(why, sizeof(why), "no iface to attach XDP to");
		} else if (!probe_native(pin_root, cfg, why, sizeof(why))) {
			want = XS_DP_XDP;
		} else {
			char w2[256];

			sd->kind = XS_DP_AFXDP;
			sd->fw = cfg->firewall == SIGD_FW_NFT ? SIGD_FW_NFT : SIGD_FW_XDP;
			err = start_afxdp(pin_root, cfg, maps, sd);
			if (!err) {
				want = XS_DP_AFXDP;
				snprintf(w2, sizeof(w2), "%s; AF_XDP sockets open", why);
			} else {
				want = XS_DP_UDP;
				snprintf(w2, sizeof(w2), "%s; AF_XDP: %s", why, strerror(-err));
			}
			snprintf(why, sizeof(why), "%s", w2);
		}
	}
	sd->kind = want;
	sd->fw =
		cfg->firewall == SIGD_FW_NFT || (cfg->firewall == SIGD_FW_AUTO && want == XS_DP_UDP)
			? SIGD_FW_NFT
			: SIGD_FW_XDP;
	if (want == XS_DP_XDP)
		relay_adopt(pin_root, XS_DP_XDP, sd); /* stops an earlier sigd's relay */
	if (want == XS_DP_AFXDP && !sd->relay_pid)
		err = start_afxdp(pin_root, cfg, maps, sd);
	else if (want == XS_DP_UDP)
		err = start_udp(pin_root, cfg, maps, sd);
	if (want != XS_DP_AFXDP)
		set_afxdp_flag(maps, false);
	if (err) {
		xs_log(XS_LOG_ERR, "datapath %s: %s\n", xs_dp_str(want), strerror(-err));
		return err;
	}
	if (sd->fw == SIGD_FW_NFT) {
		struct xs_nft_status st;

		/*
		 * A complete table (an earlier sigd's) is only re-synced: re-creating
		 * it would empty the pinhole set the running relay keeps.
		 */
		if (!xs_nft_status(&st) && st.table && st.rules == st.expect_rules &&
		    st.sets == st.expect_sets)
			err = xs_nft_sync(maps);
		else
			err = xs_nft_install(maps);
		if (err) {
			xs_log(XS_LOG_ERR, "firewall nftables: %s\n", strerror(-err));
			sigd_dp_abort(sd);
			return err;
		}
	}
	xs_log(XS_LOG_INFO, "datapath %s (%s)%s%s, firewall %s\n", xs_dp_str(want), why,
	       sd->relay_line[0] ? ": " : "", sd->relay_line, sigd_fw_str(sd->fw));
	err = xs_dp_state_write(pin_root, want, why, sigd_fw_str(sd->fw),
				sd->relay_pid ? sd->relay_pid : (int)getpid());
	if (err)
		xs_log(XS_LOG_WARN, "datapath state file: %s\n", strerror(-err));
	return 0;
}

void sigd_dp_stop(struct sigd_dp *sd)
{
	/* Like the pinned XDP relay, the relay process outlives sigd. */
	if (sd->relay_pid && waitpid(sd->relay_pid, NULL, WNOHANG) == 0)
		xs_log(XS_LOG_INFO, "%s relay process %d keeps carrying the media\n",
		       xs_dp_str(sd->kind), sd->relay_pid);
	sd->relay_pid = 0;
}

void sigd_dp_abort(struct sigd_dp *sd)
{
	int pid = sd->relay_pid, i;

	sd->relay_pid = 0;
	if (!pid)
		return;
	if (!sd->spawned) {
		xs_log(XS_LOG_INFO, "%s relay process %d (adopted) keeps running\n",
		       xs_dp_str(sd->kind), pid);
		return;
	}
	kill(pid, SIGTERM);
	/* It stops within its one-second poll; bounded, then forced. */
	for (i = 0; i < 30 && waitpid(pid, NULL, WNOHANG) == 0; i++) {
		struct timespec ts = {.tv_nsec = 100000000};

		nanosleep(&ts, NULL);
	}
	if (i == 30) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	sd->spawned = false;
	xs_log(XS_LOG_INFO, "%s relay process %d stopped: sigd did not start\n",
	       xs_dp_str(sd->kind), pid);
}

const char *sigd_fw_str(int fw)
{
	return fw == SIGD_FW_NFT ? "nftables" : fw == SIGD_FW_XDP ? "xdp" : "auto";
}

int sigd_fw_parse(const char *s, int *fw)
{
	if (!strcmp(s, "auto"))
		*fw = SIGD_FW_AUTO;
	else if (!strcmp(s, "xdp"))
		*fw = SIGD_FW_XDP;
	else if (!strcmp(s, "nftables") || !strcmp(s, "nft"))
		*fw = SIGD_FW_NFT;
	else
		return -EINVAL;
	return 0;
}
