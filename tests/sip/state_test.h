/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the state tests (test_state*.c): the proxy with a capture send
 * function and a private flow map (sdp_test.h), requests of a caller and
 * answers of a next hop, as built by a real peer or by an attacker. Edge
 * 203.0.113.1:5060, upstream (core) 198.51.100.10:5060, clients
 * 192.0.2.0/24, the attacker 203.0.113.66. Header-only: each test_*.c is
 * its own program.
 */
#ifndef XDPSBC_TESTS_STATE_TEST_H
#define XDPSBC_TESTS_STATE_TEST_H

#include <fcntl.h>
#include <sys/stat.h>
#include "sdp_test.h"
#include "sip/binding.h"
#include "sip/dialog.h"
#include "options.h"
#include "sip/proxy.h"
#include "sip/msg.h"
#include "sip/statefile.h"
#include "sip/txn.h"

struct sent {
	struct sip_addr dst;
	char *buf;
	osip_message_t *msg;
};

static struct sent out[64];
static int nout;

static inline int capture(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	if (nout < 64) {
		out[nout].dst = *dst;
		out[nout].buf = strndup(buf, len);
		osip_message_init(&out[nout].msg);
		if (osip_message_parse(out[nout].msg, buf, len)) {
			osip_message_free(out[nout].msg);
			out[nout].msg = NULL;
		}
		nout++;
	}
	return 0;
}

static inline void reset(void)
{
	for (int i = 0; i < nout; i++) {
		free(out[i].buf);
		if (out[i].msg)
			osip_message_free(out[i].msg);
	}
	nout = 0;
}

static inline struct sip_addr addr(const char *ip, uint16_t port)
{
	struct sip_addr a = {.port = port, .proto = SIP_UDP};

	sip_ip_parse(ip, &a.ip);
	return a;
}

static inline bool addr_is(const struct sip_addr *a, const char *ip, uint16_t port)
{
	struct sip_addr b = addr(ip, port);

	return a->ip.v4.s_addr == b.ip.v4.s_addr && a->port == port;
}

static inline struct sent *find_req(const char *method)
{
	for (int i = 0; i < nout; i++)
		if (out[i].msg && MSG_IS_REQUEST(out[i].msg) &&
		    !strcmp(out[i].msg->sip_method, method))
			return &out[i];
	return NULL;
}

static inline struct sent *find_resp(int code)
{
	for (int i = 0; i < nout; i++)
		if (out[i].msg && MSG_IS_RESPONSE(out[i].msg) && out[i].msg->status_code == code)
			return &out[i];
	return NULL;
}

#define CLIENT	 addr("192.0.2.50", 40000)
#define CLIENT2	 addr("192.0.2.60", 40010)
#define CORE	 addr("198.51.100.10", 5060)
#define ATTACKER addr("203.0.113.66", 5060)

static struct sigd_cfg cfg;
static struct proxy px;
static struct env env;
static bool have_media;

/* A fresh proxy with the standard arguments plus @extra (NULL-terminated). */
static inline int setup(const char *const *extra)
{
	const char *argv[32] = {"test",
				"--config",
				"none",
				"--public-ip",
				"203.0.113.1",
				"--listen",
				"203.0.113.1:5060",
				"--upstream",
				"sip:198.51.100.10:5060",
				"--state-dir",
				""};
	int argc = 11;

	while (extra && *extra && argc < 30)
		argv[argc++] = *extra++;
	argv[argc] = NULL;
	reset();
	txn_flush();
	dlg_flush();
	binding_flush();
	if (opts_load(&cfg, argc, (char **)argv) || opts_validate(&cfg))
		return -1;
	return proxy_init(&px, &cfg, have_media ? env.mc : NULL, capture, NULL);
}

static inline void input(const char *msg, const struct sip_addr *src)
{
	proxy_input(&px, msg, strlen(msg), src);
}

static const char sdp_offer[] = "v=0\r\no=alice 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\n"
				"t=0 0\r\nm=audio 49170 RTP/AVP 0\r\n";
static const char sdp_answer[] = "v=0\r\no=bob 1 1 IN IP4 198.51.100.20\r\ns=-\r\n"
				 "c=IN IP4 198.51.100.20\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n";

/* An initial INVITE of call @cid from @src, From tag @ftag, client branch @br. */
static inline void invite(const char *cid, const char *ftag, const char *br,
			  const struct sip_addr *src, bool sdp)
{
	char buf[4096];

	snprintf(buf, sizeof(buf),
		 "INVITE sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK%s;rport\r\n"
		 "Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\n"
		 "From: <sip:alice@example.com>;tag=%s\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:alice@10.0.0.2:5060>\r\n%sContent-Length: %zu\r\n\r\n%s",
		 br, ftag, cid, sdp ? "Content-Type: application/sdp\r\n" : "",
		 sdp ? strlen(sdp_offer) : 0, sdp ? sdp_offer : "");
	input(buf, src);
}

/* A CANCEL of that INVITE. */
static inline void cancel(const char *cid, const char *ftag, const char *br,
			  const struct sip_addr *src)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "CANCEL sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK%s;rport\r\n"
		 "Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\n"
		 "From: <sip:alice@example.com>;tag=%s\r\nCall-ID: %s\r\nCSeq: 1 CANCEL\r\n"
		 "Content-Length: 0\r\n\r\n",
		 br, ftag, cid);
	input(buf, src);
}

/*
 * The response @code to the forwarded request @req (a copy is kept by the
 * caller), To tag @totag, from @src: as the next hop would build it, or as an
 * attacker who saw or computed the branch would.
 */
static inline void answer(const osip_message_t *req, int code, const char *totag,
			  const struct sip_addr *src, bool sdp)
{
	osip_message_t *c, *r;
	char *buf;
	size_t len;

	osip_message_clone(req, &c);
	if (totag && !msg_to_tag(c))
		osip_to_set_tag(c->to, osip_strdup(totag));
	r = msg_make_response(c, code, NULL);
	osip_message_free(c);
	osip_list_clone(&req->record_routes, &r->record_routes,
			(int (*)(void *, void **))osip_from_clone);
	if (code >= 200 && code < 300 && MSG_IS_REGISTER(req))
		osip_list_clone(&req->contacts, &r->contacts,
				(int (*)(void *, void **))osip_contact_clone);
	else if (code >= 200 && code < 300)
		osip_message_set_contact(r, "<sip:bob@198.51.100.20:5060>");
	if (sdp) {
		osip_content_length_free(r->content_length);
		r->content_length = NULL;
		osip_message_set_body(r, sdp_answer, strlen(sdp_answer));
		osip_message_set_content_type(r, "application/sdp");
	}
	msg_serialize(r, &buf, &len);
	proxy_input(&px, buf, len, src);
	osip_free(buf);
	osip_message_free(r);
}

/* A copy of the first forwarded @method, or NULL. */
static inline osip_message_t *took(const char *method)
{
	struct sent *s = find_req(method);
	osip_message_t *c = NULL;

	if (s)
		osip_message_clone(s->msg, &c);
	return c;
}

static inline unsigned int flows(void)
{
	return have_media ? flows_count(env.fd) : 0;
}

static inline void end_media(const char *cid)
{
	if (have_media)
		media_end(env.mc, cid);
}

static inline void registr(const char *user, const char *host, const char *contact_host,
			   const char *br, const char *expires, const struct sip_addr *src)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "REGISTER sip:example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
		 "From: <sip:%s@%s>;tag=r%s\r\nTo: <sip:%s@%s>\r\nCall-ID: reg-%s\r\n"
		 "CSeq: 1 REGISTER\r\nContact: <sip:ua@%s:5060>;expires=%s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 contact_host, br, user, host, br, user, host, br, contact_host, expires);
	input(buf, src);
}

/* The core answers the last forwarded REGISTER with @code. */
static inline void core_registers(int code)
{
	struct sip_addr core = CORE;
	osip_message_t *fw = took("REGISTER");

	if (fw) {
		answer(fw, code, "reg", &core, false);
		osip_message_free(fw);
	}
}

static inline void ttl_of(const char *aor, const struct sip_addr *a, long ttl, void *arg)
{
	if (!strcmp(aor, "bob@example.com"))
		*(long *)arg = ttl;
}

/* Logging quiet, the flow map if BPF is there. */
static inline void state_test_init(void)
{
	sigd_osip_init();
	xs_log_set_level(getenv("V") ? XS_LOG_DEBUG : XS_LOG_ERR);
	/* The media checks need a BPF hash map; without one the signalling checks still run. */
	have_media = !env_open(&env, 20000, 20999, 60);
	if (!have_media)
		T_SKIP("state_media", "no BPF map: media anchoring not checked");
}

static inline void state_test_done(void)
{
	reset();
	if (have_media)
		env_free(&env);
}

#endif /* XDPSBC_TESTS_STATE_TEST_H */
