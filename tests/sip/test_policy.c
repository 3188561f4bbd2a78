// SPDX-License-Identifier: GPL-2.0-only
/*
 * The security policy through the proxy, without sockets or BPF: config
 * sections, authorised networks (403 "Forbidden (invalid IP)"), road-warrior,
 * company and brand call limits (486), scanner User-Agents and brute force
 * (blocks captured instead of written to XDP), size/URI/Content-Length/
 * Max-Forwards checks, the dialog file's tenant fields, the API token check,
 * and a bounded fuzz run of garbled input. Edge 203.0.113.1:5060, upstream
 * 198.51.100.10:5060.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../lib/check.h"
#include "ctl/ctl.h"
#include "sip/dialog.h"
#include "options.h"
#include "policy/policy.h"
#include "sip/proxy.h"
#include "sip/msg.h"
#include "sip/txn.h"

struct sent {
	struct sip_addr dst;
	int code; /* 0: a request */
	char reason[128];
};

static struct sent out[64];
static int nout;

static int capture(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	osip_message_t *m;

	if (nout >= 64 || osip_message_init(&m))
		return 0;
	if (!osip_message_parse(m, buf, len)) {
		out[nout].dst = *dst;
		out[nout].code = MSG_IS_RESPONSE(m) ? m->status_code : 0;
		snprintf(out[nout].reason, sizeof(out[nout].reason), "%s",
			 m->reason_phrase ? m->reason_phrase : "");
		nout++;
	}
	osip_message_free(m);
	return 0;
}

static struct {
	struct xs_cidr c;
	struct in_addr ip; /* the IPv4 address when c is one */
	uint64_t secs;
	char note[64];
} blocks[16];
static int nblocks;

static int capture_block(const struct xs_cidr *c, uint64_t secs, const char *note, void *arg)
{
	if (nblocks < 16) {
		blocks[nblocks].c = *c;
		memset(&blocks[nblocks].ip, 0, sizeof(blocks[nblocks].ip));
		if (c->family == AF_INET)
			memcpy(&blocks[nblocks].ip, c->addr, 4);
		blocks[nblocks].secs = secs;
		snprintf(blocks[nblocks].note, sizeof(blocks[nblocks].note), "%s", note);
		nblocks++;
	}
	return 0;
}

static struct sigd_cfg cfg;
static struct proxy px;
static char conf_path[64];

static const char conf[] = "public-ip = 203.0.113.1, 2001:db8::1\n"
			   "listen = 203.0.113.1:5060\n"
			   "listen = [2001:db8::1]:5060\n"
			   "upstream = sip:198.51.100.10:5060\n"
			   "state-dir =\n"
			   "trusted = 192.0.2.200/30, 2001:db8:ff::/64\n"
			   "bruteforce-threshold = 3\n"
			   "bruteforce-window = 10s\n"
			   "bruteforce-block = 1\n"
			   "bruteforce-block-max = 3\n"
			   "scanner-block = 2h\n"
			   "max-message-size = 2000\n"
			   "max-uri-length = 100\n"
			   "# tenants\n"
			   "[brand big]\n"
			   "max-calls = 3\n"
			   "[company acme]\n"
			   "brand = big\n"
			   "domains = acme.example, acme.test\n"
			   "authorised-ips = 192.0.2.10, 192.0.2.16/28, 2001:db8:aa::/48\n"
			   "max-calls = 2\n"
			   "[company beta]\n"
			   "brand = big\n"
			   "domains = beta.example\n"
			   "[company free]\n"
			   "domains = free.example\n"
			   "[company gamma]\n"
			   "domains = gamma.example\n"
			   "authorised-ips = 192.0.2.128/28\n"
			   "[user alice@acme.example]\n"
			   "road-warrior-calls = 1\n";

static int write_conf(const char *text)
{
	FILE *f;

	snprintf(conf_path, sizeof(conf_path), "/tmp/xs-test-policy-%d", getpid());
	f = fopen(conf_path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	return 0;
}

static int load(const char *text, struct sigd_cfg *c)
{
	char *argv[] = {"test", "--config", conf_path, NULL};
	int err;

	if (write_conf(text))
		return -EIO;
	err = opts_load(c, 3, argv);
	if (!err)
		err = opts_validate(c);
	unlink(conf_path);
	return err;
}

static int setup(void)
{
	nout = nblocks = 0;
	txn_flush();
	dlg_flush();
	policy_free(&px.pol);
	if (load(conf, &cfg) || proxy_init(&px, &cfg, NULL, capture, NULL))
		return -1;
	px.pol.block = capture_block;
	return 0;
}

static struct sip_addr addr(const char *ip, uint16_t port)
{
	struct sip_addr a = {.port = port, .proto = SIP_UDP};

	sip_ip_parse(ip, &a.ip);
	return a;
}

/* Send a request from @ip; returns the last response code sent back to it (0: none). */
static int req(const char *method, const char *from, const char *callid, const char *ip,
	       const char *extra)
{
	char buf[4096], host[SIP_IP_STRLEN];
	struct sip_addr src = addr(ip, 5060);
	int n0 = nout, code = 0;

	sip_ip_host(&src.ip, host, sizeof(host));

	snprintf(buf, sizeof(buf),
		 "%s sip:bob@acme.example SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s%s\r\n"
		 "%s"
		 "From: <sip:%s>;tag=t%s\r\n"
		 "To: <sip:bob@acme.example>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 %s\r\n"
		 "Contact: <sip:x@%s:5060>\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 method, host, callid, method,
		 extra && strstr(extra, "Max-Forwards") ? "" : "Max-Forwards: 70\r\n", from, callid,
		 callid, method, host, extra ? extra : "");
	proxy_input(&px, buf, strlen(buf), &src);
	for (int i = n0; i < nout; i++)
		if (out[i].code && out[i].code != 100 && sip_ip_eq(&out[i].dst.ip, &src.ip))
			code = out[i].code;
	return code;
}

static bool forwarded_since(int n0)
{
	for (int i = n0; i < nout; i++)
		if (!out[i].code)
			return true;
	return false;
}

static const char *last_reason(void)
{
	return nout ? out[nout - 1].reason : "";
}

/* The upstream answers the INVITE of @callid with @code (ends the call when >= 300). */
static void answer(const char *callid, int code)
{
	char buf[2048], branch[SIGD_BRANCH_LEN + 1], host[SIP_IP_STRLEN], ip[SIP_IP_STRLEN];
	struct sip_addr up = addr("198.51.100.10", 5060);
	struct dialog *d = dlg_find(callid);
	osip_message_t *m;

	if (!d)
		return;
	sip_ip_host(&d->a.addr.ip, host, sizeof(host));
	sip_ip_str(&d->a.addr.ip, ip, sizeof(ip));
	/* Our branch is a hash of the client's Via and Call-ID: rebuild it. */
	snprintf(buf, sizeof(buf),
		 "INVITE sip:bob@acme.example SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch="
		 "z9hG4bK%sINVITE\r\nFrom: <sip:a@b>;tag=t%s\r\nTo: <sip:b@c>\r\nCall-ID: %s\r\n"
		 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		 host, callid, callid, callid);
	osip_message_init(&m);
	osip_message_parse(m, buf, strlen(buf));
	msg_branch(m, branch);
	osip_message_free(m);
	snprintf(buf, sizeof(buf),
		 "SIP/2.0 %d X\r\nVia: SIP/2.0/UDP 203.0.113.1:5060;branch=%s;rport\r\n"
		 "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%sINVITE;received=%s;rport=5060\r\n"
		 "From: %s\r\nTo: <sip:bob@acme.example>;tag=up\r\nCall-ID: %s\r\n"
		 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		 code, branch, host, callid, ip, d->a.hdr, callid);
	proxy_input(&px, buf, strlen(buf), &up);
}

static void test_config(void)
{
	const char *name = "policy_config";
	int f0 = check_failed;
	static struct sigd_cfg c;
	static char bad[4096];
	static const char *const bads[] = {
		"[tenant x]\n",
		"[company acme]\nfoo = 1\n",
		"[company acme]\ndomains = a.example\nbrand = nope\n",
		"[user bob@nowhere.example]\nroad-warrior-calls = 1\n",
		"[company acme]\ndomains = a.example\n[company acme]\ndomains = b.example\n",
		"[company a]\ndomains = x.example\n[company b]\ndomains = x.example\n",
		"[company acme]\ndomains = a.example\nauthorised-ips = 300.1.1.1\n",
		"[company acme]\ndomains = a.example\nmax-calls = -1\n",
		"[company acme]\n",
		"bruteforce-block = 1h\nbruteforce-block-max = 10m\n",
		"[brand b]\nmax-calls\n",
	};

	if (!T_CHECK(name, load(conf, &c) == 0, "the example config does not load"))
		return;
	T_CHECK(name, c.pol.ncompanies == 4 && c.pol.nbrands == 1 && c.pol.nusers == 1,
		"%u companies %u brands %u users", c.pol.ncompanies, c.pol.nbrands, c.pol.nusers);
	T_CHECK(name,
		c.pol.companies[0].nauth == 3 && c.pol.companies[0].ndomains == 2 &&
			c.pol.companies[0].max_calls == 2 &&
			!strcmp(c.pol.companies[0].brand, "big"),
		"acme parsed wrong");
	T_CHECK(name, c.pol.users[0].rw_calls == 1, "road-warrior-calls");
	T_CHECK(name,
		c.pol.bf_threshold == 3 && c.pol.bf_block_s == 1 && c.pol.scanner_block_s == 7200 &&
			c.pol.max_ruri == 100,
		"global keys");
	T_CHECK(name, c.pol.nscanner == 5 && !strcmp(c.pol.scanner_ua[0], "friendly-scanner"),
		"default scanner patterns");
	for (unsigned int i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		snprintf(bad, sizeof(bad),
			 "public-ip = 203.0.113.1\nupstream = sip:198.51.100.10\n%s", bads[i]);
		T_CHECK(name, load(bad, &c) != 0, "accepted: %s", bads[i]);
	}
	snprintf(bad, sizeof(bad),
		 "public-ip = 203.0.113.1\nupstream = sip:198.51.100.10\nhttp-listen = 8080\n");
	T_CHECK(name,
		load(bad, &c) == 0 && c.http_on && c.http_listen.port == 8080 &&
			c.http_listen.ip.v4.s_addr == htonl(INADDR_LOOPBACK),
		"a bare http-listen port is not localhost");
	snprintf(bad, sizeof(bad),
		 "public-ip = 203.0.113.1\nupstream = sip:198.51.100.10\nhttp-listen = "
		 "192.0.2.1:8x\n");
	T_CHECK(name, load(bad, &c) != 0, "bad http-listen accepted");
	snprintf(bad, sizeof(bad),
		 "public-ip = 203.0.113.1\nupstream = sip:198.51.100.10\n"
		 "scanner-user-agents = none\n");
	T_CHECK(name, load(bad, &c) == 0 && c.pol.nscanner == 0, "scanner-user-agents = none");
	if (check_failed == f0)
		T_PASS(name);
}

static void test_authorised_ip(void)
{
	const char *name = "policy_authorised_ip";
	int f0 = check_failed, n0;

	if (!T_CHECK(name, setup() == 0, "setup"))
		return;
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "carol@acme.example", "a1", "192.0.2.10", NULL) == 0 &&
			forwarded_since(n0),
		"authorised address refused");
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "carol@acme.example", "a2", "192.0.2.20", NULL) == 0 &&
			forwarded_since(n0),
		"address in an authorised /28 refused");
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "carol@acme.example", "a3", "192.0.2.99", NULL) == 403 &&
			!forwarded_since(n0),
		"unauthorised address not refused");
	T_CHECK(name, !strcmp(last_reason(), "Forbidden (invalid IP)"), "reason '%s'",
		last_reason());
	T_CHECK(name, req("REGISTER", "carol@acme.example", "a4", "192.0.2.99", NULL) == 403,
		"unauthorised REGISTER not refused");
	n0 = nout;
	/* (An INVITE would meet acme's limit of 2 calls, which applies to everyone.) */
	T_CHECK(name,
		req("REGISTER", "carol@acme.example", "a5", "192.0.2.201", NULL) == 0 &&
			forwarded_since(n0),
		"trusted source refused");
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "dave@beta.example", "a6", "192.0.2.99", NULL) == 0 &&
			forwarded_since(n0),
		"company without authorised networks refused");
	/* A To tag of no known call does not bypass the check; a stray ACK goes nowhere. */
	{
		static const char *const fmt =
			"%s sip:bob@acme.example SIP/2.0\r\nVia: SIP/2.0/UDP "
			"192.0.2.99;branch=z9hG4bK%s\r\n"
			"From: <sip:carol@acme.example>;tag=x\r\nTo: "
			"<sip:bob@acme.example>;tag=y\r\n"
			"Call-ID: forged\r\nCSeq: 2 %s\r\nContent-Length: 0\r\n\r\n";
		struct sip_addr s = addr("192.0.2.99", 5060);
		char buf[1024];

		n0 = nout;
		snprintf(buf, sizeof(buf), fmt, "INVITE", "fi", "INVITE");
		proxy_input(&px, buf, strlen(buf), &s);
		T_CHECK(name, nout == n0 + 1 && out[n0].code == 403, "forged in-dialog INVITE");
		n0 = nout;
		snprintf(buf, sizeof(buf), fmt, "ACK", "fa", "ACK");
		proxy_input(&px, buf, strlen(buf), &s);
		T_CHECK(name, nout == n0, "stray ACK forwarded");
	}
	T_CHECK(name, px.pol.refusals[POL_INVALID_IP] == 3, "refusals %llu",
		(unsigned long long)px.pol.refusals[POL_INVALID_IP]);
	if (check_failed == f0)
		T_PASS(name);
}

static void test_road_warrior(void)
{
	const char *name = "policy_road_warrior";
	int f0 = check_failed, n0;

	if (!T_CHECK(name, setup() == 0, "setup"))
		return;
	n0 = nout;
	T_CHECK(name,
		req("REGISTER", "alice@acme.example", "r0", "192.0.2.77", NULL) == 0 &&
			forwarded_since(n0),
		"road warrior cannot register");
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "alice@acme.example", "r1", "192.0.2.77", NULL) == 0 &&
			forwarded_since(n0),
		"first road-warrior call refused");
	T_CHECK(name, req("INVITE", "alice@acme.example", "r2", "192.0.2.77", NULL) == 486,
		"second road-warrior call not refused");
	T_CHECK(name, !strcmp(last_reason(), "Busy Here (max calls exceeded)"), "reason '%s'",
		last_reason());
	/* From an authorised address the road-warrior limit does not apply. */
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "alice@acme.example", "r3", "192.0.2.10", NULL) == 0 &&
			forwarded_since(n0),
		"call from the office counted as road warrior");
	/* The first call fails: the slot is free again. */
	answer("r1", 480);
	T_CHECK(name, !dlg_find("r1"), "failed call still counted");
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "alice@acme.example", "r4", "192.0.2.77", NULL) == 0 &&
			forwarded_since(n0),
		"slot not freed by the failed call");
	T_CHECK(name, proxy_count_calls(NULL, NULL, "alice@acme.example", NULL) == 1,
		"road-warrior count %u", proxy_count_calls(NULL, NULL, "alice@acme.example", NULL));
	T_CHECK(name, req("INVITE", "bob@acme.example", "r5", "192.0.2.77", NULL) == 403,
		"a user without road-warrior calls not refused");
	if (check_failed == f0)
		T_PASS(name);
}

static void test_call_limits(void)
{
	const char *name = "policy_call_limits";
	int f0 = check_failed;

	if (!T_CHECK(name, setup() == 0, "setup"))
		return;
	/* acme: max 2; brand big (acme + beta): max 3. */
	T_CHECK(name, req("INVITE", "c@acme.example", "l1", "192.0.2.10", NULL) == 0, "1st");
	T_CHECK(name, req("INVITE", "c@acme.example", "l2", "192.0.2.10", NULL) == 0, "2nd");
	T_CHECK(name, req("INVITE", "c@acme.example", "l3", "192.0.2.10", NULL) == 486,
		"company limit");
	T_CHECK(name, px.pol.refusals[POL_MAX_CALLS_COMPANY] == 1, "company refusal count");
	T_CHECK(name, req("INVITE", "d@beta.example", "l4", "192.0.2.60", NULL) == 0, "beta 1st");
	T_CHECK(name, req("INVITE", "d@beta.example", "l5", "192.0.2.60", NULL) == 486,
		"brand limit");
	T_CHECK(name, px.pol.refusals[POL_MAX_CALLS_BRAND] == 1, "brand refusal count");
	/* A retransmitted INVITE of an admitted call is not refused by its own count. */
	T_CHECK(name, req("INVITE", "c@acme.example", "l2", "192.0.2.10", NULL) == 0,
		"retransmission refused");
	/* Companies without a brand or limit are free. */
	for (int i = 0; i < 5; i++) {
		char cid[8];

		snprintf(cid, sizeof(cid), "f%d", i);
		T_CHECK(name, req("INVITE", "e@free.example", cid, "192.0.2.40", NULL) == 0,
			"unlimited company refused");
	}
	answer("l1", 603);
	T_CHECK(name, req("INVITE", "d@beta.example", "l6", "192.0.2.60", NULL) == 0,
		"brand slot not freed");
	T_CHECK(name, proxy_count_calls(NULL, "big", NULL, NULL) == 3, "brand count");
	/* Calls from the core to a tenant count too. */
	T_CHECK(name, proxy_count_calls("acme", NULL, NULL, NULL) == 1, "acme count");
	if (check_failed == f0)
		T_PASS(name);
}

/*
 * The tenant comes from the source, not the From a client writes: a phone in
 * acme's office claiming beta's domain, or one no company owns, is still
 * acme's call, under acme's limit; a source in nobody's networks with an
 * unowned domain is refused when the policy requires a tenant.
 */
static void test_tenant_by_source(void)
{
	const char *name = "policy_tenant_by_source";
	int f0 = check_failed, n0;
	struct dialog *d;

	if (!T_CHECK(name, setup() == 0, "setup"))
		return;
	T_CHECK(name, req("INVITE", "m@beta.example", "t1", "192.0.2.10", NULL) == 0, "t1");
	d = dlg_find("t1");
	T_CHECK(name, d && !strcmp(d->company, "acme") && !strcmp(d->brand, "big"),
		"office call claiming beta's domain counted as '%s'", d ? d->company : "(none)");
	T_CHECK(name, req("INVITE", "m@nowhere.example", "t2", "192.0.2.20", NULL) == 0, "t2");
	d = dlg_find("t2");
	T_CHECK(name, d && !strcmp(d->company, "acme"),
		"office call with an unowned domain counted as '%s'", d ? d->company : "(none)");
	/* acme's limit is 2: the unowned-domain trick does not get a third call. */
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "m@nowhere.example", "t3", "192.0.2.10", NULL) == 486 &&
			!forwarded_since(n0),
		"third acme call under an unowned domain not refused");
	T_CHECK(name, px.pol.refusals[POL_MAX_CALLS_COMPANY] == 1, "company refusals %llu",
		(unsigned long long)px.pol.refusals[POL_MAX_CALLS_COMPANY]);
	T_CHECK(name, proxy_count_calls("acme", NULL, NULL, NULL) == 2, "acme count %u",
		proxy_count_calls("acme", NULL, NULL, NULL));
	/* A domain whose company has networks counts only from them, even from acme's. */
	n0 = nout;
	T_CHECK(name,
		req("REGISTER", "g@gamma.example", "t3g", "192.0.2.10", NULL) == 403 &&
			!forwarded_since(n0),
		"acme's office posing as a gamma user not refused");
	T_CHECK(name, req("REGISTER", "g@gamma.example", "t3h", "192.0.2.130", NULL) == 0,
		"gamma's own user refused");
	/* Outside every company's networks, a company's domain is checked as before. */
	T_CHECK(name, req("INVITE", "carol@acme.example", "t4", "192.0.2.99", NULL) == 403,
		"acme's domain from outside its networks not refused");
	/* No tenant at all: let through by default, untenanted ... */
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "x@nowhere.example", "t5", "192.0.2.99", NULL) == 0 &&
			forwarded_since(n0),
		"untenanted call refused without require-tenant");
	d = dlg_find("t5");
	T_CHECK(name, d && !d->company[0], "untenanted call counted as '%s'",
		d ? d->company : "(none)");
	/* ... and refused with require-tenant. */
	cfg.pol.require_tenant = true;
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "x@nowhere.example", "t6", "192.0.2.99", NULL) == 403 &&
			!forwarded_since(n0),
		"untenanted call not refused with require-tenant");
	T_CHECK(name, !strcmp(last_reason(), "Forbidden (no tenant)"), "reason '%s'",
		last_reason());
	T_CHECK(name, req("REGISTER", "x@nowhere.example", "t7", "192.0.2.99", NULL) == 403,
		"untenanted REGISTER not refused");
	/* Legitimate: a company without networks by its domain, acme from its office. */
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "e@free.example", "t8", "192.0.2.98", NULL) == 0 &&
			forwarded_since(n0),
		"free.example (no networks) refused");
	d = dlg_find("t8");
	T_CHECK(name, d && !strcmp(d->company, "free"), "free call counted as '%s'",
		d ? d->company : "(none)");
	answer("t1", 486);
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "carol@acme.example", "t9", "192.0.2.10", NULL) == 0 &&
			forwarded_since(n0),
		"acme's own call from its office refused");
	T_CHECK(name, px.pol.refusals[POL_NO_TENANT] == 2, "no-tenant refusals %llu",
		(unsigned long long)px.pol.refusals[POL_NO_TENANT]);
	cfg.pol.require_tenant = false;
	if (check_failed == f0)
		T_PASS(name);
}

static void test_scanner(void)
{
	const char *name = "policy_scanner";
	int f0 = check_failed, n0;

	if (!T_CHECK(name, setup() == 0, "setup"))
		return;
	n0 = nout;
	T_CHECK(name,
		req("OPTIONS", "100@1.2.3.4", "s1", "192.0.2.66",
		    "User-Agent: friendly-scanner\r\n") == 0 &&
			nout == n0,
		"scanner answered");
	T_CHECK(name,
		nblocks == 1 && blocks[0].ip.s_addr == inet_addr("192.0.2.66") &&
			blocks[0].secs == 7200 && strstr(blocks[0].note, "friendly-scanner"),
		"not blocked (%d blocks)", nblocks);
	n0 = nout;
	T_CHECK(name, req("INVITE", "e@free.example", "s2", "192.0.2.66", NULL) == 0 && nout == n0,
		"blocked source still served");
	T_CHECK(name,
		req("REGISTER", "x@free.example", "s3", "192.0.2.67",
		    "User-Agent: SIPVicious 0.3\r\n") == 0 &&
			nblocks == 2,
		"case-insensitive match");
	req("OPTIONS", "x@free.example", "s4", "192.0.2.201", "User-Agent: sipcli/v1\r\n");
	T_CHECK(name, nblocks == 2, "trusted source blocked");
	if (check_failed == f0)
		T_PASS(name);
}

static void test_bruteforce(void)
{
	const char *name = "policy_bruteforce";
	struct sip_ip ip = sip_ip4((struct in_addr){inet_addr("192.0.2.88")});
	int f0 = check_failed;

	if (!T_CHECK(name, setup() == 0, "setup"))
		return;
	/* The upstream's 401s forwarded to the client count (threshold 3). */
	for (int i = 0; i < 3; i++) {
		char cid[8];

		snprintf(cid, sizeof(cid), "b%d", i);
		req("INVITE", "e@free.example", cid, "192.0.2.88", NULL);
		answer(cid, 407);
	}
	T_CHECK(name, nblocks == 1 && blocks[0].ip.s_addr == ip.v4.s_addr && blocks[0].secs == 1,
		"no 1 s block after 3 failures (%d blocks)", nblocks);
	T_CHECK(name, policy_blocked(&px.pol, &ip), "not blocked in sigd");
	usleep(1100 * 1000);
	T_CHECK(name, !policy_blocked(&px.pol, &ip), "block did not expire");
	for (int i = 0; i < 3; i++)
		policy_failure(&px.pol, &ip, 401, "REGISTER", "-");
	T_CHECK(name, nblocks == 2 && blocks[1].secs == 2, "repeat offender: %llu s",
		nblocks == 2 ? (unsigned long long)blocks[1].secs : 0ULL);
	usleep(2100 * 1000);
	for (int i = 0; i < 3; i++)
		policy_failure(&px.pol, &ip, 403, "REGISTER", "-");
	T_CHECK(name, nblocks == 3 && blocks[2].secs == 3, "capped at the maximum");
	/* Trusted and core sources never count. */
	ip.v4.s_addr = inet_addr("192.0.2.202");
	for (int i = 0; i < 10; i++)
		policy_failure(&px.pol, &ip, 401, "REGISTER", "-");
	T_CHECK(name, nblocks == 3, "trusted source blocked");
	/* Our own 403 (invalid IP) counts too. */
	for (int i = 0; i < 3; i++) {
		char cid[8];

		snprintf(cid, sizeof(cid), "i%d", i);
		req("REGISTER", "z@acme.example", cid, "192.0.2.90", NULL);
	}
	T_CHECK(name, nblocks == 4 && blocks[3].ip.s_addr == inet_addr("192.0.2.90"),
		"own 403s not counted");
	if (check_failed == f0)
		T_PASS(name);
}

/*
 * IPv6 sources meet the same policy: a tenant's IPv6 network, a road
 * warrior on IPv6, a trusted IPv6 prefix; brute force and scanners from
 * IPv6 block the sender's /64 (in sigd and, through the block callback, in
 * the XDP IPv6 blocklist), and no neighbouring /64.
 */
static void test_ipv6_sources(void)
{
	const char *name = "policy_ipv6_sources";
	int f0 = check_failed, n0;
	struct sip_ip other, same;
	char net[64] = "";

	if (!T_CHECK(name, setup() == 0, "setup"))
		return;
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "carol@acme.example", "v1", "2001:db8:aa:1::10", NULL) == 0 &&
			forwarded_since(n0),
		"address in the tenant's IPv6 /48 refused");
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "carol@acme.example", "v2", "2001:db8:bb::10", NULL) == 403 &&
			!forwarded_since(n0),
		"IPv6 address outside the tenant's networks not refused");
	n0 = nout;
	T_CHECK(name,
		req("REGISTER", "carol@acme.example", "v3", "2001:db8:ff::5", NULL) == 0 &&
			forwarded_since(n0),
		"trusted IPv6 source refused");
	/* Road warrior from IPv6: one call, then 486. */
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "alice@acme.example", "v4", "2001:db8:77::1", NULL) == 0 &&
			forwarded_since(n0),
		"road-warrior call from IPv6 refused");
	T_CHECK(name, req("INVITE", "alice@acme.example", "v5", "2001:db8:77::1", NULL) == 486,
		"second road-warrior call from IPv6 not refused");
	/* Our own 403s count: three from addresses of one /64 block that /64. */
	req("REGISTER", "z@acme.example", "v6", "2001:db8:bb::20", NULL);
	req("REGISTER", "z@acme.example", "v7", "2001:db8:bb::21", NULL);
	req("REGISTER", "z@acme.example", "v8", "2001:db8:bb::ffff:22", NULL);
	if (nblocks)
		xs_cidr_format(&blocks[0].c, net, sizeof(net));
	T_CHECK(name,
		nblocks == 1 && blocks[0].c.family == AF_INET6 && !strcmp(net, "2001:db8:bb::/64"),
		"no /64 block after 3 failures from one /64 (%d blocks, %s)", nblocks, net);
	sip_ip_parse("2001:db8:bb::99", &same);
	sip_ip_parse("2001:db8:bc::20", &other);
	T_CHECK(name, policy_blocked(&px.pol, &same) && !policy_blocked(&px.pol, &other),
		"block not by /64");
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "dave@beta.example", "v9", "2001:db8:bb::99", NULL) == 0 &&
			nout == n0,
		"blocked /64 still served");
	n0 = nout;
	T_CHECK(name,
		req("INVITE", "dave@beta.example", "v10", "2001:db8:bc::20", NULL) == 0 &&
			forwarded_since(n0),
		"neighbouring /64 refused");
	/* A scanner on IPv6. */
	req("OPTIONS", "x@free.example", "v11", "2001:db8:5c::1", "User-Agent: sipvicious\r\n");
	if (nblocks == 2)
		xs_cidr_format(&blocks[1].c, net, sizeof(net));
	T_CHECK(name, nblocks == 2 && !strcmp(net, "2001:db8:5c::/64"), "scanner on IPv6: %s", net);
	if (check_failed == f0)
		T_PASS(name);
}

static void test_sanity(void)
{
	const char *name = "policy_sanity";
	static char big[3000], longuri[300], buf[4096];
	struct sip_addr src = addr("192.0.2.40", 5060);
	int f0 = check_failed, n0;

	if (!T_CHECK(name, setup() == 0, "setup"))
		return;
	memset(big, 'a', sizeof(big) - 1);
	n0 = nout;
	snprintf(buf, sizeof(buf), "X-Pad: %.2500s\r\n", big);
	T_CHECK(name, req("OPTIONS", "e@free.example", "z1", "192.0.2.40", buf) == 0 && nout == n0,
		"oversized message answered");
	T_CHECK(name, px.pol.refusals[POL_TOO_BIG] == 1, "too-big not counted");
	memset(longuri, 'u', 200);
	snprintf(buf, sizeof(buf),
		 "INVITE sip:%.200s@free.example SIP/2.0\r\nVia: SIP/2.0/UDP "
		 "192.0.2.40;branch=z9hG4bKq\r\n"
		 "From: <sip:e@free.example>;tag=1\r\nTo: <sip:b@free.example>\r\nCall-ID: z2\r\n"
		 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		 longuri);
	n0 = nout;
	proxy_input(&px, buf, strlen(buf), &src);
	T_CHECK(name, nout == n0 + 1 && out[n0].code == 414, "long Request-URI: %d",
		nout > n0 ? out[n0].code : 0);
	snprintf(buf, sizeof(buf),
		 "OPTIONS sip:b@free.example SIP/2.0\r\nVia: SIP/2.0/UDP "
		 "192.0.2.40;branch=z9hG4bKr\r\n"
		 "From: <sip:e@free.example>;tag=1\r\nTo: <sip:b@free.example>\r\nCall-ID: z3\r\n"
		 "CSeq: 1 OPTIONS\r\nContent-Length: 50\r\n\r\nshort");
	n0 = nout;
	proxy_input(&px, buf, strlen(buf), &src);
	T_CHECK(name, nout == n0 + 1 && out[n0].code == 400, "Content-Length too big: %d",
		nout > n0 ? out[n0].code : 0);
	T_CHECK(name, policy_content_length_ok("A\r\nl: 3\r\n\r\nabcdef", 17), "more is fine");
	T_CHECK(name, !policy_content_length_ok("A\r\nContent-Length: x\r\n\r\n", 24),
		"non-numeric accepted");
	T_CHECK(name, !policy_content_length_ok("A\r\nContent-Length: -1\r\n\r\n", 25),
		"negative accepted");
	T_CHECK(name,
		req("INVITE", "e@free.example", "z4", "192.0.2.40", "Max-Forwards: 0\r\n") == 483,
		"Max-Forwards 0");
	if (check_failed == f0)
		T_PASS(name);
}

static void test_dialog_file(void)
{
	const char *name = "policy_dialog_file";
	int f0 = check_failed;
	char dir[] = "/tmp/xs-test-policy-XXXXXX";
	struct dialog *d;

	if (!T_CHECK(name, setup() == 0 && mkdtemp(dir), "setup"))
		return;
	req("INVITE", "alice@acme.example", "d1", "192.0.2.77", NULL);
	T_CHECK(name, dlg_save(dir) == 0, "save");
	dlg_flush();
	T_CHECK(name, dlg_load(dir) == 1, "load");
	d = dlg_find("d1");
	T_CHECK(name,
		d && !strcmp(d->company, "acme") && !strcmp(d->brand, "big") &&
			!strcmp(d->rw_user, "alice@acme.example"),
		"tenant fields lost");
	/*
	 * The old tab-separated format is not read: its fields were not escaped,
	 * so a record of it cannot be trusted (its records are skipped).
	 */
	FILE *f;
	char path[128];

	snprintf(path, sizeof(path), "%s/dialogs", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("D1\td2\t1\t1\t1700000000\t-\t-\t-\t-\t192.0.2.1\t5060\t1\t1\t1\t"
		      "-\t-\t-\t-\t192.0.2.2\t5060\t1\t1\t0\tacme\tbig\t-\n",
		      f);
		fclose(f);
	}
	dlg_flush();
	T_CHECK(name, dlg_load(dir) == 0 && !dlg_find("d2"), "old format loaded");
	unlink(path);
	rmdir(dir);
	dlg_flush();
	if (check_failed == f0)
		T_PASS(name);
}

static void test_token(void)
{
	const char *name = "policy_api_token";
	int f0 = check_failed;
	const char *h = "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n";

	T_CHECK(name, ctl_authorised(h, "s3cret"), "right token refused");
	T_CHECK(name, !ctl_authorised(h, "s3cre"), "prefix accepted");
	T_CHECK(name, !ctl_authorised(h, "s3cret2"), "longer token accepted");
	T_CHECK(name, !ctl_authorised("GET / HTTP/1.1\r\nHost: x\r\n", "s3cret"), "no header");
	T_CHECK(name, !ctl_authorised("GET / HTTP/1.1\r\nAuthorization: Basic czM=\r\n", "s3cret"),
		"basic accepted");
	T_CHECK(name, !ctl_authorised(h, ""), "empty token accepts all");
	if (check_failed == f0)
		T_PASS(name);
}

/* Garbled input: truncations, flipped bytes and spliced headers of a valid INVITE. */
static void test_fuzz(void)
{
	const char *name = "policy_fuzz";
	int f0 = check_failed;
	static const char base[] =
		"INVITE sip:bob@free.example SIP/2.0\r\nVia: SIP/2.0/UDP "
		"192.0.2.41:5060;branch=z9hG4bKf;rport\r\n"
		"Max-Forwards: 70\r\nFrom: \"A\" <sip:e@free.example>;tag=1\r\nTo: "
		"<sip:bob@free.example>\r\n"
		"Call-ID: fuzz@x\r\nCSeq: 1 INVITE\r\nContact: <sip:e@10.0.0.1:5060>\r\n"
		"Content-Type: application/sdp\r\nContent-Length: 31\r\n\r\nv=0\r\nc=IN IP4 "
		"10.0.0.1\r\nm=au\r\n";
	static const char junk[] = ":;<>@\"\r\n\t ,=%\\\x00\xff";
	struct sip_addr src = addr("192.0.2.41", 5060);
	char buf[sizeof(base) + 64];
	unsigned int seed = getenv("POLICY_FUZZ_SEED") ? atoi(getenv("POLICY_FUZZ_SEED")) : 4242;
	int iters = getenv("POLICY_FUZZ") ? atoi(getenv("POLICY_FUZZ")) : 5000;

	if (!T_CHECK(name, setup() == 0, "setup"))
		return;
	/* POLICY_FUZZ=N POLICY_FUZZ_SEED=S for longer runs (under ASan, say). */
	for (int i = 0; i < iters; i++) {
		size_t len = sizeof(base) - 1;

		memcpy(buf, base, len);
		switch (i % 4) {
		case 0: /* truncated */
			len = rand_r(&seed) % len;
			break;
		case 1: /* flipped bytes */
			for (int k = 0; k < 1 + i % 8; k++)
				buf[rand_r(&seed) % len] = junk[rand_r(&seed) % (sizeof(junk) - 1)];
			break;
		case 2: /* random bytes in the header block */
			for (int k = 0; k < 20; k++)
				buf[rand_r(&seed) % 200] = rand_r(&seed);
			break;
		default: /* a header line cut in half and repeated */
			len = 40 + rand_r(&seed) % (len - 40);
			memcpy(buf + len, base + 30, 40);
			len += 40;
		}
		nout = 0;
		proxy_input(&px, buf, len, &src);
		if (i % 64 == 0) {
			txn_flush();
			dlg_flush();
		}
	}
	nout = 0;
	T_CHECK(name, req("OPTIONS", "e@free.example", "after", "192.0.2.42", NULL) != -1,
		"dead after fuzzing");
	if (check_failed == f0)
		T_PASS(name);
}

int main(void)
{
	xs_log_set_level(getenv("V") ? XS_LOG_DEBUG : XS_LOG_ERR);
	sigd_osip_init();
	test_config();
	test_authorised_ip();
	test_road_warrior();
	test_call_limits();
	test_tenant_by_source();
	test_scanner();
	test_bruteforce();
	test_ipv6_sources();
	test_sanity();
	test_dialog_file();
	test_token();
	test_fuzz();
	txn_flush();
	dlg_flush();
	policy_free(&px.pol);
	return check_failed ? 1 : 0;
}
