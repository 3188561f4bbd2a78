// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exhaustion of the relay ports through the proxy, with the media engine on a
 * private flow map and the capture send function: one source's INVITEs stop
 * at its port share (503, not forwarded), another source still calls, too
 * many m-lines get 488, and a failed or cancelled call gives its ports back;
 * with several media addresses each call is anchored on one of them and a
 * full pool answers 503 without forwarding anything.
 * Edge 203.0.113.1:5060, core 198.51.100.10:5060.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "../lib/check.h"
#include "sip/dialog.h"
#include "media/media.h"
#include "options.h"
#include "sip/proxy.h"
#include "sip/msg.h"
#include "sip/txn.h"
#include "xdpsbc_common.h"

/* Relay ports held by an IPv4 source. */
static unsigned int src_ports4(const struct media_ctx *mc, struct in_addr a)
{
	struct sip_ip ip = sip_ip4(a);

	return media_source_ports(mc, &ip);
}

struct sent {
	struct sip_addr dst;
	osip_message_t *msg;
};

static struct sent out[32];
static int nout;
static struct sigd_cfg cfg;
static struct proxy px;
static struct media_ctx *mc;
static struct media_opts mo;

static int capture(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	(void)arg;
	if (nout < 32) {
		out[nout].dst = *dst;
		osip_message_init(&out[nout].msg);
		if (osip_message_parse(out[nout].msg, buf, len)) {
			osip_message_free(out[nout].msg);
			out[nout].msg = NULL;
		}
		nout++;
	}
	return 0;
}

static void reset(void)
{
	for (int i = 0; i < nout; i++)
		if (out[i].msg)
			osip_message_free(out[i].msg);
	nout = 0;
}

static struct sip_addr addr(const char *ip, uint16_t port)
{
	struct sip_addr a = {.port = port, .proto = SIP_UDP};

	sip_ip_parse(ip, &a.ip);
	return a;
}

static struct sent *find_req(const char *method)
{
	for (int i = 0; i < nout; i++)
		if (out[i].msg && MSG_IS_REQUEST(out[i].msg) &&
		    !strcmp(out[i].msg->sip_method, method))
			return &out[i];
	return NULL;
}

static struct sent *find_resp(int code)
{
	for (int i = 0; i < nout; i++)
		if (out[i].msg && MSG_IS_RESPONSE(out[i].msg) && out[i].msg->status_code == code)
			return &out[i];
	return NULL;
}

/* An INVITE (or CANCEL) of call @id from @ip, with @streams audio m-lines. */
static void send_req(const char *method, const char *id, const char *ip, unsigned int streams)
{
	char body[2048] = "", msg[4096];
	struct sip_addr src = addr(ip, 5060);
	size_t n = 0;

	if (streams) {
		n = (size_t)snprintf(
			body, sizeof(body),
			"v=0\r\no=u 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\n"
			"t=0 0\r\n");
		for (unsigned int i = 0; i < streams; i++)
			n += (size_t)snprintf(body + n, sizeof(body) - n,
					      "m=audio %u RTP/AVP 0\r\n", 4000 + 2 * i);
	}
	snprintf(msg, sizeof(msg),
		 "%s sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-%s;rport\r\n"
		 "Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\n"
		 "From: <sip:alice@example.com>;tag=t-%s\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n"
		 "Contact: <sip:alice@10.0.0.2:5060>\r\n%sContent-Length: %zu\r\n\r\n%s",
		 method, id, id, id, method, streams ? "Content-Type: application/sdp\r\n" : "", n,
		 body);
	proxy_input(&px, msg, strlen(msg), &src);
}

/* The c= address of forwarded INVITE @fw ("" when none). */
static const char *c_addr(osip_message_t *fw, char *buf)
{
	osip_body_t *b = NULL;
	const char *c;

	buf[0] = 0;
	if (fw && !osip_message_get_body(fw, 0, &b) && b && b->body &&
	    (c = strstr(b->body, "\nc=IN IP4 ")))
		sscanf(c + 10, "%15[0-9.]", buf);
	return buf;
}

/* The core answers the INVITE it was sent (@fw) with @code. */
static void core_answers(osip_message_t *fw, int code)
{
	struct sip_addr core = addr("198.51.100.10", 5060);
	osip_message_t *req, *r;
	char *buf;
	size_t len;

	osip_message_clone(fw, &req);
	if (!msg_to_tag(req))
		osip_to_set_tag(req->to, osip_strdup("core-tag"));
	r = msg_make_response(req, code, NULL);
	osip_message_free(req);
	msg_serialize(r, &buf, &len);
	proxy_input(&px, buf, len, &core);
	osip_free(buf);
	osip_message_free(r);
}

/* INVITE @id from @ip: forwarded to the core (a copy in *@fw), or answered @code. */
static int invite(const char *id, const char *ip, unsigned int streams, osip_message_t **fw)
{
	struct sent *s;
	int code = 0;

	reset();
	send_req("INVITE", id, ip, streams);
	s = find_req("INVITE");
	if (s) {
		if (fw)
			osip_message_clone(s->msg, fw);
		return 0;
	}
	for (int i = 0; i < nout; i++)
		if (out[i].msg && MSG_IS_RESPONSE(out[i].msg) && out[i].msg->status_code >= 300)
			code = out[i].msg->status_code;
	return code ? code : -1;
}

static int setup(void)
{
	char *argv[] = {"test",
			"--config",
			"none",
			"--public-ip",
			"203.0.113.1",
			"--listen",
			"203.0.113.1:5060",
			"--upstream",
			"sip:198.51.100.10:5060",
			"--rtp-ports",
			"20000-20999",
			"--max-ports-per-source",
			"8",
			"--state-dir",
			"",
			NULL};
	int fd;

	txn_flush();
	dlg_flush();
	if (opts_load(&cfg, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) || opts_validate(&cfg))
		return -1;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xs_flows", sizeof(struct xs_flow_key),
			    sizeof(struct xs_flow), 4096, NULL);
	if (fd < 0)
		return -errno;
	mo.public_ip = cfg.public_ip[0].v4;
	mo.port_min = cfg.rtp_min;
	mo.port_max = cfg.rtp_max;
	mo.flows_fd = fd;
	mo.latch_window_s = cfg.latch_window;
	mo.max_streams = cfg.max_streams;
	mo.source_ports = cfg.source_ports;
	mc = media_new(&mo);
	if (!mc)
		return -ENOMEM;
	return proxy_init(&px, &cfg, mc, capture, NULL);
}

int main(void)
{
	struct in_addr a1, a2;
	osip_message_t *fw1 = NULL, *fw2 = NULL, *fw4 = NULL;
	const char *n;
	int r1, r2, r3;

	parser_init();
	inet_pton(AF_INET, "192.0.2.50", &a1);
	inet_pton(AF_INET, "192.0.2.60", &a2);
	if (setup()) {
		T_SKIP("proxy_media", "no media engine (BPF map): %s", strerror(errno));
		return 0;
	}

	n = "media_source_cap_503";
	r1 = invite("c1", "192.0.2.50", 1, &fw1);
	r2 = invite("c2", "192.0.2.50", 1, &fw2);
	r3 = invite("c3", "192.0.2.50", 1, NULL);
	if (T_CHECK(n, r1 == 0 && r2 == 0, "calls within the share: %d %d", r1, r2) &&
	    T_CHECK(n, r3 == 503, "third call from the source: %d, want 503", r3) &&
	    T_CHECK(n, !dlg_find("c3"), "dialog kept for the refused call") &&
	    T_CHECK(n, src_ports4(mc, a1) == 8, "source holds %u", src_ports4(mc, a1)))
		T_PASS(n);

	n = "media_source_cap_other_source_calls";
	if (T_CHECK(n, invite("c4", "192.0.2.60", 1, &fw4) == 0, "refused") &&
	    T_CHECK(n, src_ports4(mc, a2) == 4, "holds %u", src_ports4(mc, a2)))
		T_PASS(n);

	n = "media_ports_back_after_486";
	reset();
	if (fw1)
		core_answers(fw1, 486);
	if (T_CHECK(n, find_resp(486), "486 not relayed") &&
	    T_CHECK(n, src_ports4(mc, a1) == 4, "source holds %u", src_ports4(mc, a1)))
		T_PASS(n);

	n = "media_ports_back_after_cancel";
	reset();
	send_req("CANCEL", "c2", "192.0.2.50", 0);
	/*
	 * The media end with the INVITE's final answer to the CANCEL (the 487),
	 * not with the CANCEL itself, which may cross the callee's 2xx.
	 */
	T_CHECK(n, src_ports4(mc, a1) == 4, "ports freed before the 487: %u", src_ports4(mc, a1));
	if (fw2)
		core_answers(fw2, 487);
	if (T_CHECK(n, src_ports4(mc, a1) == 0, "source holds %u", src_ports4(mc, a1)) &&
	    T_CHECK(n, invite("c3", "192.0.2.50", 1, NULL) == 0, "the source cannot call again"))
		T_PASS(n);

	n = "media_streams_cap_488";
	r1 = invite("c5", "192.0.2.60", 9, NULL);
	if (T_CHECK(n, r1 == 488, "9 m-lines: %d, want 488", r1) &&
	    T_CHECK(n, src_ports4(mc, a2) == 4, "ports taken: %u", src_ports4(mc, a2)))
		T_PASS(n);

	/* Two media addresses with one call's ports each (a range no call holds). */
	n = "media_addrs_full_503";
	mo.port_min = 21000;
	mo.port_max = 21003;
	inet_pton(AF_INET, "203.0.113.2", &mo.media_ip[0]);
	inet_pton(AF_INET, "203.0.113.3", &mo.media_ip[1]);
	mo.n_media_ip = 2;
	if (fw1)
		osip_message_free(fw1);
	if (fw2)
		osip_message_free(fw2);
	fw1 = fw2 = NULL;
	{
		char ca[16], cb[16];
		struct sent *busy;

		r1 = media_reconfigure(mc, &mo);
		r2 = r1 ? r1 : invite("d1", "192.0.2.70", 1, &fw1);
		r3 = r2 ? r2 : invite("d2", "192.0.2.71", 1, &fw2);
		c_addr(fw1, ca);
		c_addr(fw2, cb);
		if (T_CHECK(n, r1 == 0 && r2 == 0 && r3 == 0, "reconfigure %d, calls %d %d", r1, r2,
			    r3) &&
		    T_CHECK(n,
			    (!strcmp(ca, "203.0.113.2") && !strcmp(cb, "203.0.113.3")) ||
				    (!strcmp(ca, "203.0.113.3") && !strcmp(cb, "203.0.113.2")),
			    "forwarded with c= %s and %s, want one on each media address", ca,
			    cb) &&
		    T_CHECK(n, invite("d3", "192.0.2.72", 1, NULL) == 503,
			    "third call not refused (or forwarded, unanchored)") &&
		    T_CHECK(n,
			    (busy = find_resp(503)) && busy->msg->reason_phrase &&
				    strstr(busy->msg->reason_phrase, "no media ports"),
			    "503 without its reason") &&
		    T_CHECK(n, !find_req("INVITE") && !dlg_find("d3"),
			    "the refused call was forwarded or kept"))
			T_PASS(n);
	}

	if (fw1)
		osip_message_free(fw1);
	if (fw2)
		osip_message_free(fw2);
	if (fw4)
		osip_message_free(fw4);
	reset();
	media_free(mc);
	return check_failed ? 1 : 0;
}
