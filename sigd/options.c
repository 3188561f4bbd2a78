// SPDX-License-Identifier: GPL-2.0-only
/*
 * The option table: one row per setting and its setter, used by getopt_long,
 * by the config file reader (options_load.c) and by --help, so a flag and
 * its config key cannot drift apart.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sip/binding.h"
#include "sip/dialog.h"
#include "fwd.h"
#include "options.h"
#include "options_int.h"
#include "media/media.h"
#include "media/sdp.h"
#include "sip/txn.h"

static int copy_str(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -EINVAL;
	strcpy(dst, v);
	return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	uint32_t n;

	if (xs_u32_parse(v, 0, max, &n))
		return -EINVAL;
	*out = n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!v || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int set_config(struct sigd_cfg *c, const char *v)
{
	return copy_str(c->config, sizeof(c->config), v);
}

static int set_iface(struct sigd_cfg *c, const char *v)
{
	return copy_str(c->iface, sizeof(c->iface), v);
}

static int set_xdp_mode(struct sigd_cfg *c, const char *v)
{
	if (!strcmp(v, "native"))
		c->xdp_mode = XS_MODE_NATIVE;
	else if (!strcmp(v, "skb"))
		c->xdp_mode = XS_MODE_SKB;
	else if (!strcmp(v, "auto"))
		c->xdp_mode = XS_MODE_AUTO;
	else
		return -EINVAL;
	return 0;
}

static int set_datapath(struct sigd_cfg *c, const char *v)
{
	return xs_dp_parse(v, &c->datapath);
}

static int set_firewall(struct sigd_cfg *c, const char *v)
{
	return sigd_fw_parse(v, &c->firewall);
}

static int set_tls_cert(struct sigd_cfg *c, const char *v)
{
	return copy_str(c->tls_cert, sizeof(c->tls_cert), v);
}

static int set_tls_key(struct sigd_cfg *c, const char *v)
{
	return copy_str(c->tls_key, sizeof(c->tls_key), v);
}

static int set_tls_ca(struct sigd_cfg *c, const char *v)
{
	return copy_str(c->tls_ca, sizeof(c->tls_ca), v);
}

static int set_upstream(struct sigd_cfg *c, const char *v)
{
	if (*v && strncasecmp(v, "sip:", 4) && strncasecmp(v, "sips:", 5))
		return -EINVAL;
	return copy_str(c->upstream, sizeof(c->upstream), v);
}

/* Split a comma list into @n trimmed items, each checked by @add. */
static int split_list(const char *v, int (*add)(struct sigd_cfg *, const char *),
		      struct sigd_cfg *c)
{
	char buf[4096], *save, *tok;

	if (copy_str(buf, sizeof(buf), v))
		return -EINVAL;
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		int err = add(c, tok);

		if (err)
			return err;
	}
	return 0;
}

static int add_domain(struct sigd_cfg *c, const char *d)
{
	if (c->ndomains >= SIGD_MAX_DOMAINS)
		return -E2BIG;
	return copy_str(c->domains[c->ndomains++], sizeof(c->domains[0]), d);
}

static int set_domains(struct sigd_cfg *c, const char *v)
{
	c->ndomains = 0;
	return split_list(v, add_domain, c);
}

static int add_core(struct sigd_cfg *c, const char *s)
{
	if (c->ncore >= SIGD_MAX_CORE)
		return -E2BIG;
	if (xs_cidr_parse(s, &c->core[c->ncore]))
		return -EINVAL;
	c->ncore++;
	return 0;
}

static int set_core(struct sigd_cfg *c, const char *v)
{
	c->ncore = 0;
	return split_list(v, add_core, c);
}

static int set_rtp_ports(struct sigd_cfg *c, const char *v)
{
	uint16_t lo, hi;

	if (xs_port_range_parse(v, &lo, &hi) || lo < 1024 || hi < lo + 3)
		return -EINVAL;
	/* RTP on even ports, RTCP on the odd one above. */
	c->rtp_min = (lo + 1) & ~1UL;
	c->rtp_max = hi;
	return 0;
}

static int set_media_timeout(struct sigd_cfg *c, const char *v)
{
	unsigned long t;

	if (parse_uint(v, 86400, &t) || t == 0)
		return -EINVAL;
	c->media_timeout = t;
	return 0;
}

/*
 * Both old latching switches predate the latch rule of docs/security/media.md.
 * strict-source (drop media from anyone but the latched source) is what every
 * flow does now and cannot be turned off; latch-signalled-ip (latch only from
 * the SDP address) is latch-source = sdp.
 */
static int set_strict(struct sigd_cfg *c, const char *v)
{
	bool on;

	(void)c;
	if (parse_bool(v, &on))
		return -EINVAL;
	xs_log(XS_LOG_WARN,
	       "strict-source is deprecated: latched flows always drop media from "
	       "other sources%s\n",
	       on ? "" : " (strict-source = no is ignored)");
	return 0;
}

static int set_latch_sig(struct sigd_cfg *c, const char *v)
{
	bool on;

	if (parse_bool(v, &on))
		return -EINVAL;
	xs_log(XS_LOG_WARN, "latch-signalled-ip is deprecated: use latch-source = %s\n",
	       on ? "sdp" : "signalling");
	c->latch_sdp = on;
	return 0;
}

static int set_latch_source(struct sigd_cfg *c, const char *v)
{
	if (!strcmp(v, "signalling"))
		c->latch_sdp = false;
	else if (!strcmp(v, "sdp"))
		c->latch_sdp = true;
	else
		return -EINVAL;
	return 0;
}

static int set_latch_window(struct sigd_cfg *c, const char *v)
{
	unsigned long t;

	if (parse_uint(v, 300, &t) || t == 0)
		return -EINVAL;
	c->latch_window = t;
	return 0;
}

static int set_max_streams(struct sigd_cfg *c, const char *v)
{
	unsigned long n;

	if (parse_uint(v, SDP_MAX_MEDIA, &n) || n == 0)
		return -EINVAL;
	c->max_streams = n;
	return 0;
}

static int set_source_ports(struct sigd_cfg *c, const char *v)
{
	unsigned long n;

	if (parse_uint(v, 65536, &n))
		return -EINVAL;
	c->source_ports = n;
	return 0;
}

static int set_rp_filter(struct sigd_cfg *c, const char *v)
{
	if (!strcmp(v, "strict"))
		c->rp_filter = SIGD_RPF_STRICT;
	else if (!strcmp(v, "keep"))
		c->rp_filter = SIGD_RPF_KEEP;
	else
		return -EINVAL;
	return 0;
}

static int set_require_tenant(struct sigd_cfg *c, const char *v)
{
	return parse_bool(v, &c->pol.require_tenant);
}

static int set_foreground(struct sigd_cfg *c, const char *v)
{
	return parse_bool(v, &c->foreground);
}

static int set_pin_root(struct sigd_cfg *c, const char *v)
{
	return copy_str(c->pin_root, sizeof(c->pin_root), v);
}

static int set_state_dir(struct sigd_cfg *c, const char *v)
{
	return copy_str(c->state_dir, sizeof(c->state_dir), v);
}

static int set_forwarding(struct sigd_cfg *c, const char *v)
{
	return sigd_fwd_parse(v, &c->forwarding);
}

static int set_log_level(struct sigd_cfg *c, const char *v)
{
	static const char *const names[] = {"err", "warn", "info", "debug"};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i]) || (i == 0 && !strcmp(v, "error"))) {
			c->log_level = i;
			return 0;
		}
	return -EINVAL;
}

static int set_log_target(struct sigd_cfg *c, const char *v)
{
	if (!strcmp(v, "stderr"))
		c->log_syslog = false;
	else if (!strcmp(v, "syslog"))
		c->log_syslog = true;
	else
		return -EINVAL;
	return 0;
}

static int set_trusted(struct sigd_cfg *c, const char *v)
{
	return policy_set_trusted(&c->pol, v);
}

static int set_scanner_ua(struct sigd_cfg *c, const char *v)
{
	return policy_set_scanner_ua(&c->pol, v);
}

static int parse_secs(const char *v, bool permanent_ok, uint64_t *out)
{
	if (xs_duration_parse(v, out) || (!*out && !permanent_ok) || *out > 10 * 365 * 86400ULL)
		return -EINVAL;
	return 0;
}

static int set_scanner_block(struct sigd_cfg *c, const char *v)
{
	return parse_secs(v, true, &c->pol.scanner_block_s);
}

static int set_secs_u(const char *v, unsigned int *out)
{
	uint64_t s;
	int err = parse_secs(v, false, &s);

	if (!err)
		*out = s;
	return err;
}

static int set_bf_threshold(struct sigd_cfg *c, const char *v)
{
	unsigned long n;
	int err = parse_uint(v, 100000, &n);

	if (!err)
		c->pol.bf_threshold = n;
	return err;
}

static int set_bf_window(struct sigd_cfg *c, const char *v)
{
	return set_secs_u(v, &c->pol.bf_window_s);
}

static int set_bf_block(struct sigd_cfg *c, const char *v)
{
	return set_secs_u(v, &c->pol.bf_block_s);
}

static int set_bf_block_max(struct sigd_cfg *c, const char *v)
{
	return set_secs_u(v, &c->pol.bf_block_max_s);
}

static int set_bf_forget(struct sigd_cfg *c, const char *v)
{
	return set_secs_u(v, &c->pol.bf_forget_s);
}

static int set_max_msg(struct sigd_cfg *c, const char *v)
{
	unsigned long n;
	int err = parse_uint(v, 65535, &n);

	if (!err && n < 512)
		err = -EINVAL;
	if (!err)
		c->pol.max_msg = n;
	return err;
}

static int set_max_uri(struct sigd_cfg *c, const char *v)
{
	unsigned long n;
	int err = parse_uint(v, 65535, &n);

	if (!err && n < 32)
		err = -EINVAL;
	if (!err)
		c->pol.max_ruri = n;
	return err;
}

static int set_map_sizes(struct sigd_cfg *c, const char *v)
{
	char why[160];
	int err = xs_map_sizes_parse(v, &c->map_sizes, why, sizeof(why));

	if (err)
		xs_log(XS_LOG_ERR, "map-sizes: %s\n", why);
	return err;
}

static int set_cap(const char *v, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long n;
	int err = parse_uint(v, max, &n);

	if (!err && n < min)
		err = -EINVAL;
	if (!err)
		*out = n;
	return err;
}

static int set_max_dialogs(struct sigd_cfg *c, const char *v)
{
	return set_cap(v, 1, 1U << 20, &c->max_dialogs);
}

static int set_max_dialogs_src(struct sigd_cfg *c, const char *v)
{
	return set_cap(v, 0, 1U << 20, &c->max_dialogs_src);
}

static int set_max_txns(struct sigd_cfg *c, const char *v)
{
	return set_cap(v, 1, 1U << 22, &c->max_txns);
}

static int set_max_txns_src(struct sigd_cfg *c, const char *v)
{
	return set_cap(v, 0, 1U << 22, &c->max_txns_src);
}

static int set_max_reg_expires(struct sigd_cfg *c, const char *v)
{
	return set_cap(v, 1, 7 * 86400, &c->max_reg_expires);
}

static int set_ctl_socket(struct sigd_cfg *c, const char *v)
{
	if (strcmp(v, "none") && v[0] != '/')
		return -EINVAL;
	return copy_str(c->ctl_socket, sizeof(c->ctl_socket), v);
}

static int set_http_listen(struct sigd_cfg *c, const char *v)
{
	unsigned long port;

	c->http_on = false;
	if (!strcmp(v, "none") || !*v)
		return 0;
	if (strchr(v, ':')) {
		if (sip_addr_parse(v, 0, &c->http_listen) || !c->http_listen.port)
			return -EINVAL;
	} else {
		/* A bare port listens on localhost: the API is not for the Internet. */
		if (parse_uint(v, 65535, &port) || !port)
			return -EINVAL;
		sip_addr_parse("127.0.0.1", 0, &c->http_listen);
		c->http_listen.port = port;
	}
	c->http_listen.proto = SIP_TCP;
	c->http_on = true;
	return 0;
}

static int set_http_token(struct sigd_cfg *c, const char *v)
{
	return copy_str(c->http_token, sizeof(c->http_token), v);
}

static int set_http_token_file(struct sigd_cfg *c, const char *v)
{
	return copy_str(c->http_token_file, sizeof(c->http_token_file), v);
}

static int set_count(const char *v, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long n;
	int err = parse_uint(v, max, &n);

	if (!err && n < min)
		err = -EINVAL;
	if (!err)
		*out = n;
	return err;
}

static int set_tcp_max(struct sigd_cfg *c, const char *v)
{
	return set_count(v, 1, TP_SLOTS - TP_SLOTS_OUT, &c->tcp.max_conns);
}

static int set_tcp_per_source(struct sigd_cfg *c, const char *v)
{
	return set_count(v, 1, TP_SLOTS - TP_SLOTS_OUT, &c->tcp.max_per_source);
}

static int set_ms(const char *v, uint64_t max_s, unsigned int *out)
{
	uint64_t s;
	int err = parse_secs(v, false, &s);

	if (!err && s > max_s)
		err = -EINVAL;
	if (!err)
		*out = s * 1000;
	return err;
}

static int set_tcp_msg_timeout(struct sigd_cfg *c, const char *v)
{
	return set_ms(v, 3600, &c->tcp.msg_ms);
}

static int set_tcp_idle_timeout(struct sigd_cfg *c, const char *v)
{
	return set_ms(v, 86400, &c->tcp.idle_ms);
}

static int set_tcp_max_output(struct sigd_cfg *c, const char *v)
{
	return set_count(v, TP_MAX_MSG, 64UL << 20, &c->tcp.max_out);
}

static int set_dns_ttl(struct sigd_cfg *c, const char *v)
{
	return set_secs_u(v, &c->dns.ttl_s);
}

static int set_dns_neg_ttl(struct sigd_cfg *c, const char *v)
{
	return set_secs_u(v, &c->dns.neg_ttl_s);
}

static int set_dns_timeout(struct sigd_cfg *c, const char *v)
{
	return set_ms(v, 60, &c->dns.timeout_ms);
}

static int set_redis(struct sigd_cfg *c, const char *v)
{
	return cluster_parse_redis(&c->cluster, v);
}

static int set_standby_for(struct sigd_cfg *c, const char *v)
{
	return cluster_parse_standby(&c->cluster, v);
}

static int set_node_id(struct sigd_cfg *c, const char *v)
{
	return cluster_parse_node(&c->cluster, v);
}

const struct opt sigd_opts[] = {
	{"config", "FILE|none", set_config, "config file (default " SIGD_CONFIG_DEFAULT ")"},
	{"iface", "IFACE", set_iface, "attach the XDP program here if it is not attached"},
	{"xdp-mode", "native|skb", set_xdp_mode, "XDP attach mode (default: native, else skb)"},
	{"datapath", "auto|xdp|afxdp|udp", set_datapath,
	 "media relay: in-driver XDP, AF_XDP sockets or UDP sockets (default auto: probe)"},
	{"firewall", "auto|xdp|nftables", set_firewall,
	 "edge policy in the XDP program or also in nftables (default auto: nftables on udp)"},
	{"listen-tls", "IP:PORT", sigd_set_listen_tls,
	 "SIP over TLS listen address, [IPv6]:PORT too; repeatable (default port 5061)"},
	{"tls-cert", "FILE", set_tls_cert, "TLS server certificate (PEM, chain after it)"},
	{"tls-key", "FILE", set_tls_key, "TLS private key (PEM)"},
	{"tls-ca", "FILE", set_tls_ca,
	 "CA bundle: TLS clients must present a certificate it signs; also verifies the "
	 "upstream (default: the system store)"},
	{"public-ip", "IP[,IPv6]", sigd_set_public_ip,
	 "edge addresses for media, Via and Record-Route: one IPv4 and/or one IPv6"},
	{"listen", "IP:PORT", sigd_set_listen,
	 "SIP UDP and TCP listen address, [IPv6]:PORT too; repeatable (default 0.0.0.0:5060)"},
	{"upstream", "URI", set_upstream, "send everything from clients to this provider URI"},
	{"domains", "D1,D2", set_domains, "route by Request-URI, only to these domains (403 else)"},
	{"core", "CIDR,..", set_core, "addresses of the SIP core besides --upstream"},
	{"rp-filter", "strict|keep", set_rp_filter,
	 "strict: drop packets whose source does not route back out of their ingress interface "
	 "(net.ipv4.conf.all.rp_filter = 1), so outsiders cannot pose as the core; keep: leave "
	 "the sysctl (default strict)"},
	{"media-ip", "IP,IP,..", sigd_set_media_ip,
	 "IPv4 addresses media is anchored on, each with the whole rtp-ports range, one per "
	 "call (up to 16; default: the IPv4 public-ip)"},
	{"rtp-ports", "MIN-MAX", set_rtp_ports, "media relay port range (default 20000-29999)"},
	{"media-timeout", "SEC", set_media_timeout, "end calls without media for SEC (default 60)"},
	{"latch-source", "signalling|sdp", set_latch_source,
	 "a leg's media latches only from its SIP source IP, or from its SDP address "
	 "(default signalling)"},
	{"latch-window", "SEC", set_latch_window,
	 "a leg may latch only within SEC of its offer/answer (default 10)"},
	{"max-media-streams", "N", set_max_streams,
	 "relayed m-lines per call; more get 488 (default 8)"},
	{"max-ports-per-source", "N", set_source_ports,
	 "relay ports one signalling source may hold; beyond: 503 (default 400; 0 off; "
	 "the core has no limit)"},
	{"strict-source", NULL, set_strict, "deprecated: always on (see latch-source)"},
	{"latch-signalled-ip", NULL, set_latch_sig, "deprecated: latch-source = sdp"},
	{"pin-root", "DIR", set_pin_root,
	 "bpffs pin directory (default $XDPSBC_PIN_ROOT or " XS_PIN_ROOT_DEFAULT ")"},
	{"state-dir", "DIR", set_state_dir,
	 "call state, lock and control socket (default " SIGD_STATE_DEFAULT
	 ": /run/xdpsbc for " XS_PIN_ROOT_DEFAULT ")"},
	{"forwarding", "auto|require|off", set_forwarding,
	 "IPv4 forwarding the relay needs on its interfaces: auto sets it behind a guard, "
	 "require refuses to start without it, off leaves it (default auto)"},
	{"log-level", "err|warn|info|debug", set_log_level, "log verbosity (default info)"},
	{"log-target", "stderr|syslog", set_log_target,
	 "stderr (the journal under systemd, with priorities) or syslog (default stderr)"},
	{"foreground", NULL, set_foreground, "do not detach from the terminal"},
	{"trusted", "CIDR,..", set_trusted,
	 "SIP sources exempt from policy checks and never blocked by sigd"},
	{"require-tenant", NULL, set_require_tenant,
	 "refuse client requests from no company's networks whose From domain has no company"},
	{"scanner-user-agents", "P1,P2|none", set_scanner_ua,
	 "User-Agent substrings dropped and blocked (default friendly-scanner,sipvicious,"
	 "sipcli,VaxSIPUserAgent,pplsip)"},
	{"scanner-block", "DURATION", set_scanner_block,
	 "how long a scanner stays blocked (default 1d; permanent)"},
	{"bruteforce-threshold", "N", set_bf_threshold,
	 "401/403/407 and failed REGISTERs per window before a block (default 20; 0 off)"},
	{"bruteforce-window", "DURATION", set_bf_window,
	 "brute-force counting window (default 60s)"},
	{"bruteforce-block", "DURATION", set_bf_block, "first brute-force block (default 10m)"},
	{"bruteforce-block-max", "DURATION", set_bf_block_max,
	 "repeat offenders: block doubled up to this (default 1d)"},
	{"bruteforce-forget", "DURATION", set_bf_forget,
	 "offences forgotten after this quiet time (default 1d)"},
	{"max-message-size", "BYTES", set_max_msg,
	 "larger SIP messages are dropped (default 16384)"},
	{"max-uri-length", "BYTES", set_max_uri, "longer Request-URIs get 414 (default 1024)"},
	{"map-sizes", "NAME=N,..", set_map_sizes,
	 "entries of the maps when sigd creates them: flood, flows, blocklist, trusted "
	 "(docs/operations.md; pinned maps keep their size)"},
	{"max-dialogs", "N", set_max_dialogs,
	 "calls in progress at most; a new one beyond gets 503 (default 65536)"},
	{"max-dialogs-per-source", "N", set_max_dialogs_src,
	 "calls in progress per client address, core and trusted exempt (default 128; 0 none)"},
	{"max-transactions", "N", set_max_txns,
	 "requests in progress at most; beyond: 503 (default 65536)"},
	{"max-transactions-per-source", "N", set_max_txns_src,
	 "requests in progress per client address, core and trusted exempt (default 512; 0 none)"},
	{"max-register-expires", "SEC", set_max_reg_expires,
	 "registrations the core accepted are kept at most this long (default 3600)"},
	{"ctl-socket", "PATH|none", set_ctl_socket,
	 "control socket for the CLI (default STATE-DIR/ctl.sock, i.e. " SIGD_CTL_DEFAULT ")"},
	{"http-listen", "[IP:]PORT|none", set_http_listen,
	 "REST API and /metrics (default none; IP default 127.0.0.1)"},
	{"http-token", "TOKEN", set_http_token, "bearer token of the REST API"},
	{"http-token-file", "FILE", set_http_token_file,
	 "read the REST API token from FILE (first line)"},
	{"tcp-max-connections", "N", set_tcp_max,
	 "SIP over TCP: accepted connections in all (default 1024)"},
	{"tcp-max-per-source", "N", set_tcp_per_source,
	 "SIP over TCP: accepted connections from one IP address (default 32)"},
	{"tcp-message-timeout", "DURATION", set_tcp_msg_timeout,
	 "a TCP connection's first message, and any message once begun, within (default 10s)"},
	{"tcp-idle-timeout", "DURATION", set_tcp_idle_timeout,
	 "close TCP connections without traffic for this long (default 5m)"},
	{"tcp-max-output", "BYTES", set_tcp_max_output,
	 "close a TCP peer that leaves this much unread (default 131072)"},
	{"dns-ttl", "DURATION", set_dns_ttl,
	 "keep a resolved host name this long, then refresh it (default 5m)"},
	{"dns-negative-ttl", "DURATION", set_dns_neg_ttl,
	 "do not look up a name that failed again for this long (default 30s)"},
	{"dns-timeout", "DURATION", set_dns_timeout,
	 "a name lookup not answered by then has failed (default 2s)"},
	{"redis", "HOST:PORT,..|none", set_redis,
	 "share blocklist, trusted networks, bans and calls with the edges through this Redis "
	 "(the first primary of the list; default none: a single edge)"},
	{"node-id", "NAME", set_node_id, "this edge's name in the cluster (default the host name)"},
	{"standby-for", "NODE|none", set_standby_for,
	 "keep NODE's calls ready and take them over when public-ip moves here (default none)"},
};

const unsigned int sigd_nopts = sizeof(sigd_opts) / sizeof(sigd_opts[0]);
