// SPDX-License-Identifier: GPL-2.0-only
/*
 * SDP offer/answer: the input is an SDP body. sdp_parse() on an exact-size
 * copy, sdp_rewrite() of what it accepted, and the rewritten SDP must parse
 * again with the same number of m-lines (what the other side receives is
 * valid SDP). Then the same body goes through media_rewrite() as the offer
 * of an INVITE, as the answer of its 200 and inside a multipart body, on a
 * private flow map when BPF is available (as root).
 */
#include <bpf/bpf.h>
#include <stdio.h>
#include <unistd.h>
#include <osipparser2/osip_port.h>
#include "fuzz.h"
#include "media/media.h"
#include "media/sdp.h"
#include "xdpsbc_common.h"

static struct media_opts mo;
static int flows_fd = -1;

static void setup(void)
{
	fuzz_quiet();
	inet_pton(AF_INET, "203.0.113.1", &mo.public_ip);
	/* media ipv4-only off: legs of both families, translated calls. */
	inet_pton(AF_INET6, "2001:db8::1", &mo.public_ip6);
	mo.dual_stack = true;
	mo.port_min = 20000;
	mo.port_max = 20999;
	mo.latch = MEDIA_LATCH_SIGNALLING;
	mo.latch_window_s = MEDIA_LATCH_WINDOW_DEFAULT;
	mo.timeout_s = 60;
	mo.max_streams = MEDIA_MAX_STREAMS_DEFAULT;
	mo.source_ports = MEDIA_SOURCE_PORTS_DEFAULT;
	flows_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xs_flows_fuzz", sizeof(struct xs_flow_key),
				  sizeof(struct xs_flow), 4096, NULL);
	mo.flows_fd = flows_fd;
	if (flows_fd < 0)
		fprintf(stderr, "fuzz: no BPF flow map (%m): media_rewrite() not run\n");
}

/* Rewritten towards an IPv4 leg (@v6 false) or an IPv6 leg (c=/o=/a=rtcp IN IP6). */
static void parse_rewrite(const char *text, bool v6)
{
	static const struct in6_addr edge6 = {{{0x20, 0x01, 0x0d, 0xb8, [15] = 1}}};
	uint16_t ports[SDP_MAX_MEDIA];
	struct sdp_info info, again;
	sdp_message_t *sdp, *sdp2;
	char *out;

	if (sdp_parse(text, &sdp, &info))
		return;
	for (unsigned int i = 0; i < SDP_MAX_MEDIA; i++)
		ports[i] = (uint16_t)(30000 + 2 * i);
	if (!sdp_rewrite(sdp, &info, ports, v6 ? AF_INET6 : AF_INET,
			 v6 ? (const void *)&edge6 : (const void *)&mo.public_ip, &out)) {
		/* What the edge sends on must be SDP the edge itself accepts. */
		if (sdp_parse(out, &sdp2, &again)) {
			fprintf(stderr, "rewritten SDP does not parse:\n%s\n", out);
			abort();
		}
		if (again.n != info.n) {
			fprintf(stderr, "rewritten SDP has %u m-lines, not %u\n", again.n, info.n);
			abort();
		}
		sdp_message_free(sdp2);
		osip_free(out);
	}
	sdp_message_free(sdp);
}

static const char hdrs[] = "%s\r\n"
			   "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n"
			   "From: <sip:alice@example.com>;tag=a1\r\n"
			   "To: <sip:bob@example.net>%s\r\n"
			   "Call-ID: fuzz-1@192.0.2.10\r\n"
			   "CSeq: 1 INVITE\r\n"
			   "Content-Type: %s\r\n"
			   "Content-Length: %zu\r\n\r\n";

/* A message @start carrying @body (@multipart: as the SDP part of two), rewritten from @side. */
static void message(struct media_ctx *mc, const char *start, const char *to_tag, const char *body,
		    size_t blen, bool multipart, enum media_side side)
{
	/* The caller a client behind NAT, the callee the core. */
	/* The callee's leg over IPv6: a call between the families when the caller is IPv4. */
	struct media_src src = {.core = side == MEDIA_SIDE_B,
				.to_af = side == MEDIA_SIDE_A ? AF_INET6 : AF_INET};
	static const char mp_head[] = "--b1\r\nContent-Type: application/sdp\r\n\r\n";
	static const char mp_tail[] = "\r\n--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n--b1--\r\n";
	size_t total = multipart ? sizeof(mp_head) - 1 + blen + sizeof(mp_tail) - 1 : blen;
	size_t cap = sizeof(hdrs) + 256 + total;
	char *buf = malloc(cap), *p;
	osip_message_t *m;
	int n;

	src.sig.af = AF_INET;
	inet_pton(AF_INET, side == MEDIA_SIDE_A ? "192.0.2.50" : "198.51.100.10", &src.sig.v4);
	n = snprintf(buf, cap, hdrs, start, to_tag,
		     multipart ? "multipart/mixed;boundary=b1" : "application/sdp", total);
	p = buf + n;
	if (multipart)
		p = mempcpy(p, mp_head, sizeof(mp_head) - 1);
	p = mempcpy(p, body, blen);
	if (multipart)
		p = mempcpy(p, mp_tail, sizeof(mp_tail) - 1);
	if (!osip_message_init(&m)) {
		if (!osip_message_parse(m, buf, p - buf))
			media_rewrite(mc, m, "fuzz-1@192.0.2.10", side, &src);
		osip_message_free(m);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct media_ctx *mc;
	struct xs_flow_key k;
	char *text;

	if (!ready) {
		setup();
		ready = true;
	}
	text = fuzz_str(data, size);
	parse_rewrite(text, false);
	parse_rewrite(text, true);
	free(text);
	if (flows_fd < 0 || memchr(data, 0, size))
		return 0;
	mc = media_new(&mo);
	if (!mc)
		return 0;
	message(mc, "INVITE sip:bob@example.net SIP/2.0", "", (const char *)data, size, false,
		MEDIA_SIDE_A);
	message(mc, "SIP/2.0 200 OK", ";tag=b1", (const char *)data, size, false, MEDIA_SIDE_B);
	message(mc, "INVITE sip:bob@example.net SIP/2.0", ";tag=b1", (const char *)data, size, true,
		MEDIA_SIDE_A);
	media_end(mc, "fuzz-1@192.0.2.10");
	media_free(mc);
	for (int n = 0; n < 100000 && !bpf_map_get_next_key(flows_fd, NULL, &k); n++)
		bpf_map_delete_elem(flows_fd, &k);
	return 0;
}
