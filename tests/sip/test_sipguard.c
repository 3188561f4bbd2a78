// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guards around libosip2 (sigd/sip/guard.h): a MIME part with two
 * Content-Type headers, which libosip2 parses by leaking the first, is
 * dropped before parsing, and memory stays flat under a flood of them;
 * legitimate multipart and single-body messages still go through.
 * Edge 203.0.113.1:5060, upstream 198.51.100.10:5060, client 192.0.2.50.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../lib/check.h"
#include "sip/dialog.h"
#include "options.h"
#include "sip/proxy.h"
#include "sip/guard.h"
#include "sip/msg.h"
#include "sip/txn.h"

static int nsent;
static char last[8192];

static int capture(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	nsent++;
	snprintf(last, sizeof(last), "%.*s", (int)len, buf);
	return 0;
}

static struct sigd_cfg cfg;
static struct proxy px;

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
			"--state-dir",
			"",
			NULL};

	if (opts_load(&cfg, 11, argv) || opts_validate(&cfg))
		return -1;
	return proxy_init(&px, &cfg, NULL, capture, NULL);
}

/* A MESSAGE with a multipart body whose first part has @n Content-Type headers of @name. */
static char *multipart(unsigned int n, const char *name, const char *eol, size_t *len)
{
	static char buf[16384];
	char body[15000];
	size_t b = 0;

	b += snprintf(body + b, sizeof(body) - b, "--b1%s", eol);
	for (unsigned int i = 0; i < n && b < sizeof(body) - 200; i++)
		b += snprintf(body + b, sizeof(body) - b, "%s: text/plain;x=%u%s", name, i, eol);
	b += snprintf(body + b, sizeof(body) - b,
		      "%shello%s--b1%sContent-Type: text/plain%s%sbye%s", eol, eol, eol, eol, eol,
		      eol);
	b += snprintf(body + b, sizeof(body) - b, "--b1--%s", eol);
	*len = snprintf(buf, sizeof(buf),
			"MESSAGE sip:bob@example.com SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-g%u;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:alice@example.com>;tag=g1\r\n"
			"To: <sip:bob@example.com>\r\n"
			"Call-ID: guard-%u@10.0.0.2\r\n"
			"CSeq: 1 MESSAGE\r\n"
			"Content-Type: multipart/mixed;boundary=b1\r\n"
			"Content-Length: %zu\r\n\r\n%s",
			n, n, strlen(body), body);
	return buf;
}

static void test_guard_cases(void)
{
	const char *name = "sipguard_cases";
	static const char sdp_invite[] =
		"INVITE sip:bob@example.com SIP/2.0\r\nContent-Type: application/sdp\r\n"
		"Content-Length: 5\r\n\r\nv=0\r\n";
	static const char two_top[] = "OPTIONS sip:a SIP/2.0\r\nContent-Type: a/b\r\n"
				      "c: x/y\r\nContent-type: c/d\r\n\r\n";
	static const char in_body[] = "MESSAGE sip:a SIP/2.0\r\nContent-Type: text/plain\r\n\r\n"
				      "Content-Type: is text here\r\n\r\nContent-Type: again\r\n";
	size_t len;
	char *m;
	int ok = 1;

	ok &= T_CHECK(name, !sipguard_raw(sdp_invite, strlen(sdp_invite)), "single body refused");
	m = multipart(1, "Content-Type", "\r\n", &len);
	ok &= T_CHECK(name, !sipguard_raw(m, len), "legitimate multipart refused");
	m = multipart(2, "Content-Type", "\r\n", &len);
	ok &= T_CHECK(name, sipguard_raw(m, len) == -EBADMSG, "two Content-Type in a part passed");
	m = multipart(2, "  content-TYPE", "\n", &len);
	ok &= T_CHECK(name, sipguard_raw(m, len) == -EBADMSG, "LF-only, blanks, any case passed");
	m = multipart(2, "Content-Typewhatever", "\r", &len);
	ok &= T_CHECK(name, sipguard_raw(m, len) == -EBADMSG, "CR-only, prefix match passed");
	ok &= T_CHECK(name, sipguard_raw(two_top, strlen(two_top)) == -EBADMSG,
		      "two Content-Type in the SIP headers passed");
	/* Text may mention it, once per paragraph (two lines in a row are refused). */
	ok &= T_CHECK(name, !sipguard_raw(in_body, strlen(in_body)), "text body refused");
	if (ok)
		T_PASS(name);
}

/*
 * The attack: 16 KB datagrams packed with Content-Type lines in one part.
 * Before the guard each one leaked about 19 KB inside libosip2; now none is
 * parsed, none is forwarded, and the heap does not grow.
 */
static void test_flood_no_leak(void)
{
	const char *name = "sipguard_flood_no_leak";
	struct sip_addr src = {.port = 40000, .proto = SIP_UDP};
	struct mallinfo2 before, after;
	uint64_t bad0 = px.st.bad;
	size_t len, grown;
	char *m;

	inet_pton(AF_INET, "192.0.2.50", &src.ip);
	m = multipart(400, "Content-Type", "\r\n", &len);
	nsent = 0;
	proxy_input(&px, m, len, &src); /* warm up allocator caches */
	before = mallinfo2();
	for (int i = 0; i < 2000; i++)
		proxy_input(&px, m, len, &src);
	after = mallinfo2();
	grown = after.uordblks > before.uordblks ? after.uordblks - before.uordblks : 0;
	if (grown > 64 * 1024)
		T_FAIL(name, "heap grew by %zu bytes over 2000 datagrams of %zu bytes", grown, len);
	else if (nsent)
		T_FAIL(name, "%d messages sent for refused datagrams", nsent);
	else if (px.st.bad - bad0 != 2001)
		T_FAIL(name, "%llu counted bad, want 2001", (unsigned long long)(px.st.bad - bad0));
	else
		T_PASS(name);
}

/* A legitimate multipart MESSAGE still reaches the core, body intact. */
static void test_legit_multipart(void)
{
	const char *name = "sipguard_legit_multipart";
	struct sip_addr src = {.port = 40000, .proto = SIP_UDP};
	size_t len;
	char *m;

	inet_pton(AF_INET, "192.0.2.50", &src.ip);
	m = multipart(1, "Content-Type", "\r\n", &len);
	nsent = 0;
	proxy_input(&px, m, len, &src);
	if (nsent != 1 || strncmp(last, "MESSAGE ", 8) || !strstr(last, "hello") ||
	    !strstr(last, "bye"))
		T_FAIL(name, "%d sent; last:\n%s", nsent, last);
	else
		T_PASS(name);
	txn_flush();
}

int main(void)
{
	xs_log_set_level(getenv("V") ? XS_LOG_DEBUG : XS_LOG_ERR);
	sigd_osip_init();
	if (setup()) {
		T_FAIL("sipguard_setup", "proxy setup failed");
		return 1;
	}
	test_guard_cases();
	test_legit_multipart();
	test_flood_no_leak();
	txn_flush();
	dlg_flush();
	return check_failed ? 1 : 0;
}
