/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xdpsbc-sigd settings. Every option is defined once, in the table in
 * options.c, and can be given as --name VALUE or as "name = value" in the
 * config file; the command line wins over the file.
 */
#ifndef XDPSBC_SIGD_OPTIONS_H
#define XDPSBC_SIGD_OPTIONS_H

#include <net/if.h>
#include "policy/policy.h"
#include "sigd.h"
#include "datapath.h"
#include "sip/transport.h"
#include "sip/dns.h"
#include "rpfilter.h"
#include "cluster/cluster.h"
#include "media/types.h"

#define SIGD_CONFIG_DEFAULT "/etc/xdpsbc/xdpsbc.conf"
#define SIGD_STATE_DEFAULT  "/run/PIN-ROOT-NAME" /* xs_instance_dir() of the pin root */
#define SIGD_MAX_DOMAINS    64
#define SIGD_MAX_CORE	    64
#define SIGD_CTL_DEFAULT    SIGD_STATE_DEFAULT "/ctl.sock"
#define SIGD_MAX_LISTEN	    8

struct sigd_cfg {
	char config[256]; /* "none": no file */
	char iface[IF_NAMESIZE];
	enum xs_mode xdp_mode;
	enum xs_datapath datapath; /* auto: probe xdp, afxdp, udp (sigd/datapath.c) */
	int firewall;		   /* SIGD_FW_*: auto = nftables on the udp path */
	/* The edge's public addresses: [0] IPv4, [1] IPv6 (af 0: none). */
	struct sip_ip public_ip[2];
	/* SIP UDP and TCP listen addresses, IPv4 and IPv6 (default 0.0.0.0:5060). */
	struct sip_addr listen[SIGD_MAX_LISTEN];
	unsigned int nlisten;
	/* SIP over TLS listen addresses; the server certificate, its key, the client CA. */
	struct sip_addr listen_tls[SIGD_MAX_LISTEN];
	unsigned int nlisten_tls;
	char tls_cert[256], tls_key[256], tls_ca[256];
	/* Which pass sets options (0 defaults, 1 file, 2 command line): repeatable keys reset. */
	uint8_t cfg_pass, listen_pass, listen_tls_pass;
	char upstream[256]; /* provider URI; "" = route by Request-URI */
	char domains[SIGD_MAX_DOMAINS][128];
	unsigned int ndomains;
	struct xs_cidr core[SIGD_MAX_CORE];
	unsigned int ncore;
	enum sigd_rpf rp_filter; /* reverse-path filtering of the edge's interfaces */
	uint16_t rtp_min, rtp_max;
	/* Media addresses (media-ip); none: the IPv4 public-ip. */
	struct in_addr media_ip[MEDIA_ADDRS_MAX];
	unsigned int n_media_ip;
	unsigned int media_timeout;
	/* Media latching and limits (docs/security/media.md). */
	bool latch_sdp;		   /* latch-source = sdp */
	unsigned int latch_window; /* s */
	unsigned int max_streams;  /* relayed m-lines per call */
	unsigned int source_ports; /* relay ports per signalling source, 0: no limit */
	bool foreground;
	bool log_syslog;     /* log-target = syslog */
	char pin_root[256];  /* "" = xs_pin_root(NULL) */
	char state_dir[256]; /* "" until opts_load derives it from the pin root */
	int forwarding;	     /* SIGD_FWD_*: IPv4 forwarding on the relay interfaces */
	enum xs_log_level log_level;
	/* Control API: Unix socket ("" = state-dir/ctl.sock, "none"), HTTP listener, token. */
	char ctl_socket[108];
	bool http_on;
	struct sip_addr http_listen;
	char http_token[256];
	char http_token_file[256];
	/* Sizes of the maps sigd creates (pinned maps keep theirs); lib/sizes.c. */
	struct xs_map_sizes map_sizes;
	/* Table caps (dialog.h, txn.h; 0 per source: none) and the registration cap. */
	unsigned int max_dialogs, max_dialogs_src, max_txns, max_txns_src, max_reg_expires;
	struct tp_limits tcp; /* TCP connection caps, timeouts, output queue */
	struct dns_cfg dns;   /* resolver cache lifetimes and lookup deadline */
	/* Shared policy through Redis (cluster/cluster.h); no redis: a single edge. */
	struct cluster_cfg cluster;
	/* Security policy: global keys and the [brand]/[company]/[user] sections. */
	struct policy_cfg pol;
};

/*
 * Defaults, then the config file (from --config or the default path), then
 * the command line. Returns 0, 1 when --help was printed, or -EINVAL with the
 * problem logged.
 */
int opts_load(struct sigd_cfg *cfg, int argc, char **argv);
/* Check that the settings make a working proxy (public IP, a route). */
int opts_validate(const struct sigd_cfg *cfg);
void opts_usage(FILE *f);

/* netcfg.c: the listen, public-ip and media-ip keys, and the edge addresses they give. */
int sigd_set_listen(struct sigd_cfg *c, const char *v);
int sigd_set_public_ip(struct sigd_cfg *c, const char *v);
int sigd_set_media_ip(struct sigd_cfg *c, const char *v);
/* Warn about media-ip addresses this host does not hold (media to them never arrives). */
void sigd_warn_media_ip(const struct sigd_cfg *c);
int sigd_set_listen_tls(struct sigd_cfg *c, const char *v);
void sigd_cfg_edge(const struct sigd_cfg *c, struct sip_edge *e);
/* Every listen family has an edge address; every public address a listen entry. */
int sigd_cfg_check_net(const struct sigd_cfg *c);

#endif /* XDPSBC_SIGD_OPTIONS_H */
