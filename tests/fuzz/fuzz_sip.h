/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP message handling end to end, in process: proxy_input() with a capture
 * send function, a policy with a tenant and a road warrior, and the media
 * engine on a private flow map when BPF is available (as root), so SDP in
 * INVITE, 18x/200, ACK, UPDATE and multipart bodies is rewritten and flows
 * are programmed. An input is a sequence of messages separated by NUL
 * bytes; they arrive alternately from the two sides, starting with the one
 * FUZZ_FIRST_FROM_CORE names, so an INVITE, its answers and the ACK can be
 * one input. Edge 203.0.113.1:5060, core 198.51.100.10:5060 (UDP), client
 * 192.0.2.50:40000 (UDP, TCP in the core's target). All state is dropped
 * after each input.
 *
 * What the edge issued and a peer echoes (its Via branch, its Record-Route,
 * the aliased Contact) cannot be guessed by a fuzzer once it is keyed: in a
 * message, @VIA@, @RR@ and @CONTACT@ stand for the top Via, the first
 * Record-Route and the first Contact URI of the last message the edge sent
 * to that side, as that peer would echo them, so recorded call flows reach
 * the response and in-dialog paths.
 */
#include <bpf/bpf.h>
#include <stdio.h>
#include <unistd.h>
#include "fuzz.h"
#include "sip/binding.h"
#include "sip/dialog.h"
#include "options.h"
#include "sip/proxy.h"
#include "sip/txn.h"
#include "xdpsbc_common.h"

#define FUZZ_MAX_MSGS 16

static struct sigd_cfg cfg;
static struct proxy px;
static struct media_opts mo;
static int flows_fd = -1;

enum { ECHO_VIA, ECHO_RR, ECHO_CONTACT, ECHO_MAX };
static const char *const echo_tok[ECHO_MAX] = {"@VIA@", "@RR@", "@CONTACT@"};
static char echo[2][ECHO_MAX][1024]; /* [0] sent to the client, [1] to the core */
static struct sip_ip core_ip;

static void keep(char *dst, size_t len, char *s)
{
	if (s)
		snprintf(dst, len, "%s", s);
	osip_free(s);
}

static int capture(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	osip_record_route_t *rr;
	osip_contact_t *c;
	osip_message_t *m;
	osip_via_t *v;
	char(*e)[1024] = echo[sip_ip_eq(&dst->ip, &core_ip)];
	char *s;

	/* What the edge sends must be SIP again: parse it, as the next hop would. */
	if (osip_message_init(&m))
		return 0;
	if (!osip_message_parse(m, buf, len)) {
		if (MSG_IS_REQUEST(m) && (v = osip_list_get(&m->vias, 0)) &&
		    !osip_via_to_str(v, &s))
			keep(e[ECHO_VIA], sizeof(e[0]), s);
		if ((rr = osip_list_get(&m->record_routes, 0)) && !osip_record_route_to_str(rr, &s))
			keep(e[ECHO_RR], sizeof(e[0]), s);
		if ((c = osip_list_get(&m->contacts, 0)) && c->url && !osip_uri_to_str(c->url, &s))
			keep(e[ECHO_CONTACT], sizeof(e[0]), s);
	}
	osip_message_free(m);
	return 0;
}

/* @in from side @k with its echo tokens replaced; an exact-size buffer (free it). */
static char *substitute(const uint8_t *in, size_t n, int k, size_t *out_len)
{
	size_t cap = n + 1, len = 0;
	char *out = malloc(cap);

	for (size_t i = 0; i < n;) {
		const char *val = NULL;
		size_t tl = 0, vl;

		for (unsigned int t = 0; t < ECHO_MAX && !val; t++) {
			tl = strlen(echo_tok[t]);
			if (n - i >= tl && !memcmp(in + i, echo_tok[t], tl))
				val = echo[k][t];
		}
		if (!val) {
			out[len++] = in[i++];
			continue;
		}
		vl = strlen(val);
		if (len + vl + (n - i) + 1 > cap) {
			cap = len + vl + (n - i) + 1;
			out = realloc(out, cap);
		}
		memcpy(out + len, val, vl);
		len += vl;
		i += tl;
	}
	*out_len = len;
	/* Exactly @len bytes: a read past the message is a finding. */
	return realloc(out, len ? len : 1);
}

static const char fuzz_conf[] = "public-ip = 203.0.113.1\n"
				"listen = 203.0.113.1:5060\n"
				"upstream = sip:198.51.100.10:5060\n"
				"domains = example.com, 203.0.113.1\n"
				"state-dir =\n"
				"[company acme]\n"
				"domains = example.com\n"
				"authorised-ips = 192.0.2.0/25\n"
				"max-calls = 4\n"
				"[user rw@example.com]\n"
				"road-warrior-calls = 1\n";

static void setup(void)
{
	char path[] = "/tmp/xdpsbc-fuzz-conf.XXXXXX";
	char *argv[] = {"fuzz", "--config", path, NULL};
	int fd = mkstemp(path);

	fuzz_quiet();
	if (fd < 0 || write(fd, fuzz_conf, sizeof(fuzz_conf) - 1) != sizeof(fuzz_conf) - 1)
		abort();
	close(fd);
	if (opts_load(&cfg, 3, argv) || opts_validate(&cfg))
		abort();
	unlink(path);
	fuzz_quiet(); /* the configuration set the log level */
	flows_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xs_flows_fuzz", sizeof(struct xs_flow_key),
				  sizeof(struct xs_flow), 4096, NULL);
	/* As main() sets it up from the configuration, on a smaller port range. */
	mo.public_ip = cfg.public_ip[0].v4;
	mo.port_min = 20000;
	mo.port_max = 20999;
	mo.flows_fd = flows_fd;
	mo.latch = cfg.latch_sdp ? MEDIA_LATCH_SDP : MEDIA_LATCH_SIGNALLING;
	mo.latch_window_s = cfg.latch_window;
	mo.timeout_s = cfg.media_timeout;
	mo.max_streams = cfg.max_streams;
	mo.source_ports = cfg.source_ports;
	if (flows_fd < 0)
		fprintf(stderr, "fuzz: no BPF flow map (%m): media engine off\n");
}

static void flows_clear(void)
{
	struct xs_flow_key k;

	for (int n = 0; n < 100000 && !bpf_map_get_next_key(flows_fd, NULL, &k); n++)
		bpf_map_delete_elem(flows_fd, &k);
}

static struct sip_addr addr(const char *ip, uint16_t port)
{
	struct sip_addr a = {.port = port, .proto = SIP_UDP};

	sip_ip_parse(ip, &a.ip);
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct sip_addr side[2] = {addr("192.0.2.50", 40000), addr("198.51.100.10", 5060)};
	struct media_ctx *mc = NULL;
	const uint8_t *chunk;
	size_t left = size;

	/* The core's target sees its client over TCP: both transports are covered. */
	side[0].proto = FUZZ_FIRST_FROM_CORE ? SIP_TCP : SIP_UDP;
	if (!ready) {
		setup();
		core_ip = side[1].ip;
		ready = true;
	}
	if (flows_fd >= 0)
		mc = media_new(&mo);
	if (proxy_init(&px, &cfg, mc, capture, NULL))
		abort();
	for (int i = 0; left && i < FUZZ_MAX_MSGS; i++) {
		int k = (i + FUZZ_FIRST_FROM_CORE) & 1;
		size_t n = fuzz_next(&data, &left, &chunk), len;
		char *msg = substitute(chunk, n, k, &len);

		proxy_input(&px, msg, len, &side[k]);
		free(msg);
	}
	memset(echo, 0, sizeof(echo));
	txn_flush();
	dlg_flush();
	binding_flush();
	policy_free(&px.pol);
	if (mc) {
		media_free(mc);
		flows_clear();
	}
	return 0;
}
