// SPDX-License-Identifier: GPL-2.0-only
/*
 * The transport with real sockets on loopback: a TCP client sends an INVITE in
 * fragments, the proxy forwards it over UDP to a "core" socket, the core's
 * 200 comes back on the client's TCP connection; then the core calls back
 * over a TCP upstream the proxy has to connect to.
 */
#include "tcp_test.h"

/* A 200 for @req (as received by the core), sent back to where its top Via says. */
static void core_reply(int fd, const char *req, const struct sockaddr_in *to)
{
	osip_message_t *m, *r;
	char *buf;
	size_t len;

	osip_message_init(&m);
	osip_message_parse(m, req, strlen(req));
	r = msg_make_response(m, 200, NULL);
	msg_serialize(r, &buf, &len);
	sendto(fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to));
	osip_free(buf);
	osip_message_free(r);
	osip_message_free(m);
}

#define HDRS                               \
	L("OPTIONS sip:127.0.0.1 SIP/2.0") \
	L("Via: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKf") L("Call-ID: f") L("CSeq: 1 OPTIONS")

/* The framing alone: what a header section announces, and what is refused. */
static void frame_cases(void)
{
	/* The input's length from its literal: one case has a NUL in it. */
#define C(desc, in, want)                      \
	{                                      \
		desc, in, sizeof(in) - 1, want \
	}
	static const struct {
		const char *desc, *in;
		size_t len;
		ssize_t want; /* >0 length, 0 incomplete, <0 error; -1000 - k: all but k bytes */
	} cases[] = {
		C("no Content-Length", HDRS L("") "rest", -1000 - 4),
		C("Content-Length", HDRS L("Content-Length: 5") L("") "hello", -1000),
		C("compact form", HDRS L("l:5") L("") "hello", -1000),
		C("space before the colon, case", HDRS L("content-LENGTH :  5  ") L("") "hello",
		  -1000),
		C("body incomplete", HDRS L("Content-Length: 6") L("") "hello", 0),
		C("headers incomplete", HDRS "Content-Length: 5", 0),
		C("repeated, same value", HDRS L("l: 5") L("Content-Length: 5") L("") "hello",
		  -1000),
		C("conflicting", HDRS L("Content-Length: 0") L("l: 5") L("") "hello", -EBADMSG),
		C("empty value, digits in the body", HDRS L("Content-Length:") L("") "12345",
		  -EBADMSG),
		C("trailing junk", HDRS L("Content-Length: 5 5") L("") "hello", -EBADMSG),
		C("negative", HDRS L("Content-Length: -5") L("") "hello", -EBADMSG),
		C("sign", HDRS L("Content-Length: +5") L("") "hello", -EBADMSG),
		C("hex", HDRS L("Content-Length: 0x5") L("") "hello", -EBADMSG),
		C("too many digits", HDRS L("Content-Length: 0000000000005") L("") "hello",
		  -EMSGSIZE),
		C("too large", HDRS L("Content-Length: 65536") L("") "x", -EMSGSIZE),
		C("bare LF before it", HDRS "X-A: b\nContent-Length: 5" L("") L("") "hello",
		  -EBADMSG),
		C("bare CR in a line", HDRS L("X-A: b\rc") L("") "", -EBADMSG),
		C("NUL in the header section",
		  HDRS "X-A: b\0" L("") L("Content-Length: 5") L("") "hello", -EBADMSG),
		C("folded line is not one", HDRS L("X-A: b") L(" Content-Length: 5") L("") "hello",
		  -1000 - 5),
		C("Content-Length-X is another header", HDRS L("Content-Length-X: 5") L("") "hello",
		  -1000 - 5),
	};
	const char *name = "tcp_frame_cases";
	int before = check_failed;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len;
		/* Exactly sized, not NUL-terminated: a read past it is caught under ASan. */
		char *b = malloc(len);
		ssize_t want = cases[i].want <= -1000 ? (ssize_t)len + cases[i].want + 1000
						      : cases[i].want;
		ssize_t got;

		memcpy(b, cases[i].in, len);
		got = tp_frame(b, len);
		T_CHECK(name, got == want, "%s: got %zd, want %zd", cases[i].desc, got, want);
		free(b);
	}
	{
		/* A header section without its end, as large as a message may be. */
		char *b = malloc(TP_MAX_MSG);

		memset(b, 'a', TP_MAX_MSG);
		T_CHECK(name, tp_frame(b, TP_MAX_MSG) == -EMSGSIZE, "endless header section");
		free(b);
	}
	if (check_failed == before)
		T_PASS(name);
}

/* Has the edge closed @fd (EOF or reset) within @ms? Replies before it are read over. */
static bool closed_by_edge(int fd, int ms)
{
	char buf[8192];

	for (;;) {
		ssize_t n = pump_read(fd, buf, sizeof(buf), ms);

		if (n == 0 || n == -ECONNRESET)
			return true;
		if (n < 0)
			return false;
	}
}

/* Did the core receive anything within @ms? */
static bool core_got(int core, int ms)
{
	char buf[8192];

	return pump_read(core, buf, sizeof(buf), ms) > 0;
}

/*
 * Over real TCP: a message whose Content-Length the framing and the parser
 * could read differently smuggles a second INVITE in its body. The edge
 * closes the connection, nothing reaches the core, and the client's next
 * connection works.
 */
static void bad_frame_closes(uint16_t port, int core)
{
#define INV(cl)                                                     \
	L("INVITE sip:bob@example.com SIP/2.0")                     \
	L("Via: SIP/2.0/TCP 10.0.0.2:5060;branch=z9hG4bKsm1;rport") \
	L("Max-Forwards: 70")                                       \
	L("From: <sip:alice@example.com>;tag=s1")                   \
	L("To: <sip:bob@example.com>")                              \
	L("Call-ID: smuggle-1") L("CSeq: 1 INVITE") L("Contact: <sip:alice@10.0.0.2:5060>") cl
#define SMUGGLED                                                    \
	L("INVITE sip:carol@example.com SIP/2.0")                   \
	L("Via: SIP/2.0/TCP 10.0.0.2:5060;branch=z9hG4bKsm2;rport") \
	L("Max-Forwards: 70")                                       \
	L("From: <sip:alice@example.com>;tag=s2")                   \
	L("To: <sip:carol@example.com>")                            \
	L("Call-ID: smuggle-2") L("CSeq: 1 INVITE") L("Content-Length: 0") L("")
	static const struct {
		const char *desc, *msg;
	} cases[] = {
		{"conflicting Content-Length",
		 INV(L("Content-Length: 0") L("l: 238") L("")) SMUGGLED},
		{"empty Content-Length, digits in the body",
		 INV(L("Content-Length:") L("")) SMUGGLED},
		{"bare LF hides a Content-Length",
		 INV("X-A: b\nContent-Length: 238" L("") L("")) SMUGGLED},
		{"trailing junk", INV(L("Content-Length: 0 238") L("")) SMUGGLED},
	};
	const char *name = "tcp_bad_frame_closes";
	int before = check_failed, fd;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fd = tcp_client("127.0.0.2", port);
		if (!T_CHECK(name, fd >= 0, "connect"))
			return;
		send(fd, cases[i].msg, strlen(cases[i].msg), MSG_NOSIGNAL);
		T_CHECK(name, closed_by_edge(fd, 1000), "%s: connection not closed", cases[i].desc);
		T_CHECK(name, !core_got(core, 200), "%s: something reached the core",
			cases[i].desc);
		close(fd);
	}
	fd = tcp_client("127.0.0.2", port);
	T_CHECK(name, fd >= 0 && options_ok(fd, port, 1000), "a good message afterwards");
	close(fd);
	if (check_failed == before)
		T_PASS(name);
}

/*
 * 200 pipelined OPTIONS on one connection, then an abrupt close: the edge
 * reads them, answers, and its sends fail in the middle of handling a
 * message whose peer address and buffer belong to that connection. Under
 * ASan (test_proxy_tcp_asan) a use after free would stop the program here.
 */
static void pipelined_then_reset(uint16_t port)
{
	const char *name = "tcp_pipelined_then_reset";
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int before = check_failed, fd;
	size_t len = 0, cap = 200 * 512;
	char *buf = malloc(cap);

	for (int round = 0; round < 3; round++) {
		fd = tcp_client("127.0.0.5", port);
		if (!T_CHECK(name, fd >= 0, "connect"))
			break;
		len = 0;
		for (unsigned int i = 0; i < 200; i++)
			len += options_msg(buf + len, cap - len, fd, port, i);
		send(fd, buf, len, MSG_NOSIGNAL);
		/* Round 0: reset before the edge reads; later rounds: while it answers. */
		if (round)
			tp_poll(0);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		pump(200);
	}
	fd = tcp_client("127.0.0.5", port);
	T_CHECK(name, fd >= 0 && options_ok(fd, port, 1000), "the edge answers afterwards");
	close(fd);
	free(buf);
	if (check_failed == before)
		T_PASS(name);
}

/*
 * UDP client, TCP core: the proxy opens the connection to the upstream, the
 * core answers and later sends a BYE on that same connection, which reaches
 * the client through its alias.
 */
static void tcp_upstream(struct sigd_cfg *cfg, uint16_t port)
{
	const char *name = "udp_client_tcp_core";
	int before = check_failed, lst, cli, conn = -1;
	struct sockaddr_in edge = {.sin_family = AF_INET, .sin_port = htons(port)};
	char buf[8192], bye[2048], *alias_param;
	ssize_t n;

	inet_pton(AF_INET, "127.0.0.1", &edge.sin_addr);
	lst = sock(SOCK_STREAM, "127.0.0.3", 0);
	listen(lst, 4);
	snprintf(cfg->upstream, sizeof(cfg->upstream), "sip:127.0.0.3:%u;transport=tcp",
		 local_port(lst));
	proxy_reconfigure(&px, cfg);
	cli = sock(SOCK_DGRAM, "127.0.0.2", 0);
	snprintf(buf, sizeof(buf),
		 L("INVITE sip:bob@example.com SIP/2.0")
			 L("Via: SIP/2.0/UDP 127.0.0.2:%u;branch=z9hG4bKudp1;rport")
				 L("Max-Forwards: 70") L("From: <sip:alice@example.com>;tag=u1")
					 L("To: <sip:bob@example.com>") L("Call-ID: tcp-call-2")
						 L("CSeq: 1 INVITE")
							 L("Contact: <sip:alice@127.0.0.2:%u>")
								 L("Content-Length: 0") L(""),
		 local_port(cli), local_port(cli));
	sendto(cli, buf, strlen(buf), 0, (struct sockaddr *)&edge, sizeof(edge));
	for (int i = 0; i < 200 && conn < 0; i++) {
		struct pollfd p = {.fd = lst, .events = POLLIN};

		tp_poll(5);
		if (poll(&p, 1, 5) > 0)
			conn = accept(lst, NULL, NULL);
	}
	if (!T_CHECK(name, conn >= 0, "the proxy did not connect to the TCP upstream"))
		goto out;
	n = pump_read(conn, buf, sizeof(buf), 2000);
	if (!T_CHECK(name, n > 0 && !strncmp(buf, "INVITE ", 7), "no INVITE over TCP (%zd)", n))
		goto out;
	T_CHECK(name, strstr(buf, "Via: SIP/2.0/TCP 127.0.0.1:") != NULL, "Via transport: %s", buf);
	{
		osip_message_t *m, *r;
		char *out, *alias;
		size_t len;

		osip_message_init(&m);
		osip_message_parse(m, buf, n);
		r = msg_make_response(m, 200, NULL);
		msg_serialize(r, &out, &len);
		send(conn, out, len, 0);
		osip_free(out);
		/* The BYE goes to the Contact the core saw: the edge with the alias. */
		alias = strstr(buf, "alias=");
		alias_param = alias ? strndup(alias, strcspn(alias, ";>\r")) : strdup("");
		snprintf(bye, sizeof(bye),
			 L("BYE sip:alice@127.0.0.1:%u;%s SIP/2.0")
				 L("Via: SIP/2.0/TCP 127.0.0.3:5060;branch=z9hG4bKcorebye") L(
					 "Max-Forwards: 70") L("From: <sip:bob@example.com>;tag=%s")
					 L("To: <sip:alice@example.com>;tag=u1")
						 L("Call-ID: tcp-call-2") L("CSeq: 9 BYE")
							 L("Content-Length: 0") L(""),
			 port, alias_param, msg_to_tag(r) ? msg_to_tag(r) : "x");
		free(alias_param);
		osip_message_free(r);
		osip_message_free(m);
	}
	n = pump_read(cli, buf, sizeof(buf), 2000);
	while (n > 0 && strstr(buf, "SIP/2.0 100"))
		n = pump_read(cli, buf, sizeof(buf), 2000);
	T_CHECK(name, n > 0 && strstr(buf, "SIP/2.0 200"), "no 200 to the UDP client: %s",
		n > 0 ? buf : "");
	send(conn, bye, strlen(bye), 0);
	n = pump_read(cli, buf, sizeof(buf), 2000);
	T_CHECK(name, n > 0 && !strncmp(buf, "BYE sip:alice@127.0.0.1:", 24),
		"BYE from the core did not reach the client: %s", n > 0 ? buf : "");
	if (check_failed == before)
		T_PASS(name);
out:
	if (conn >= 0)
		close(conn);
	close(lst);
	close(cli);
}

/*
 * An outsider asks for TCP to an "internal" port through a forged alias, in
 * dialog and not: the edge never connects there (the requests have no
 * standing, so they go to the upstream, which is no longer listening).
 */
static void tcp_forged_alias(uint16_t port)
{
	const char *name = "tcp_forged_alias_not_connected";
	int before = check_failed, lst, cli, conn = -1;
	struct sockaddr_in edge = {.sin_family = AF_INET, .sin_port = htons(port)};
	char buf[4096];

	inet_pton(AF_INET, "127.0.0.1", &edge.sin_addr);
	lst = sock(SOCK_STREAM, "127.0.0.4", 0);
	listen(lst, 4);
	cli = sock(SOCK_DGRAM, "127.0.0.5", 0);
	for (int i = 0; i < 2; i++) {
		snprintf(buf, sizeof(buf),
			 L("MESSAGE sip:x@127.0.0.1:%u;alias=127.0.0.4~%u~2 SIP/2.0") L(
				 "Via: SIP/2.0/UDP 127.0.0.5:%u;branch=z9hG4bKfa%d;rport")
				 L("Route: <sip:127.0.0.1:%u;lr>") L("Max-Forwards: 70") L(
					 "From: <sip:m@example.com>;tag=m")
					 L("To: <sip:x@example.com>%s") L("Call-ID: fa-tcp-%d")
						 L("CSeq: 1 MESSAGE") L("Content-Length: 0") L(""),
			 port, local_port(lst), local_port(cli), i, port, i ? ";tag=t" : "", i);
		sendto(cli, buf, strlen(buf), 0, (struct sockaddr *)&edge, sizeof(edge));
		pump_read(cli, buf, sizeof(buf), 300);
	}
	for (int i = 0; i < 50 && conn < 0; i++) {
		struct pollfd p = {.fd = lst, .events = POLLIN};

		tp_poll(5);
		if (poll(&p, 1, 5) > 0)
			conn = accept(lst, NULL, NULL);
	}
	T_CHECK(name, conn < 0, "the edge connected to the port the alias named");
	if (check_failed == before)
		T_PASS(name);
	if (conn >= 0)
		close(conn);
	close(lst);
	close(cli);
}

int main(void)
{
	const char *name = "tcp_client_udp_core";
	char buf[8192], up[64];
	int core, cli, before;
	uint16_t port, core_port;
	struct sockaddr_in edge = {.sin_family = AF_INET}, core_sin;
	struct sigd_cfg cfg;
	ssize_t n;

	core = sock(SOCK_DGRAM, "127.0.0.3", 0);
	core_port = local_port(core);
	snprintf(up, sizeof(up), "sip:127.0.0.3:%u", core_port);
	/* The proxy needs the same port for UDP and TCP: start_proxy() tries a few. */
	port = start_proxy(&cfg, up);
	if (!port) {
		T_FAIL(name, "no listen port");
		return 1;
	}
	frame_cases();
	before = check_failed;
	edge.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &edge.sin_addr);
	/* The client on another address: the core is whoever 127.0.0.3 is. */
	cli = sock(SOCK_STREAM, "127.0.0.2", 0);
	if (connect(cli, (struct sockaddr *)&edge, sizeof(edge))) {
		T_FAIL(name, "connect: %s", strerror(errno));
		return 1;
	}
	snprintf(buf, sizeof(buf),
		 L("INVITE sip:bob@example.com SIP/2.0")
			 L("Via: SIP/2.0/TCP 10.0.0.2:5060;branch=z9hG4bKtcp1;rport")
				 L("Max-Forwards: 70") L("From: <sip:alice@example.com>;tag=t1") L(
					 "To: <sip:bob@example.com>") L("Call-ID: tcp-call-1")
					 L("CSeq: 1 INVITE") L(
						 "Contact: <sip:alice@10.0.0.2:5060;transport=tcp>")
						 L("Content-Type: text/plain")
							 L("Content-Length: 5") L("") "hello");
	/* CRLF keepalive, then the message in three pieces. */
	send(cli, "\r\n\r\n", 4, 0);
	send(cli, buf, 40, 0);
	tp_poll(20);
	send(cli, buf + 40, strlen(buf) - 42, 0);
	tp_poll(20);
	send(cli, buf + strlen(buf) - 2, 2, 0);
	n = pump_read(core, buf, sizeof(buf), 2000);
	if (!T_CHECK(name, n > 0 && !strncmp(buf, "INVITE ", 7), "core got nothing (%zd)", n))
		return 1;
	T_CHECK(name, strstr(buf, "Via: SIP/2.0/UDP 127.0.0.1:") != NULL, "our Via: %s", buf);
	T_CHECK(name, strstr(buf, "hello") != NULL, "body lost: %s", buf);
	T_CHECK(name, strstr(buf, "transport=tcp;lr>") && strstr(buf, "transport=udp;lr>"),
		"double Record-Route: %s", buf);
	core_sin = edge;
	core_reply(core, buf, &core_sin);
	/* The 100 Trying, then the 200, on the client's own connection. */
	for (int i = 0; i < 2; i++) {
		n = pump_read(cli, buf, sizeof(buf), 2000);
		if (n > 0 && strstr(buf, "SIP/2.0 200"))
			break;
	}
	T_CHECK(name, n > 0 && strstr(buf, "SIP/2.0 200") != NULL, "no 200 on TCP: %zd %s", n,
		n > 0 ? buf : "");
	T_CHECK(name, n > 0 && strstr(buf, "z9hG4bKxs") == NULL, "our Via not popped: %s", buf);
	if (check_failed == before)
		T_PASS(name);
	close(cli);
	close(core);
	bad_frame_closes(port, core);
	pipelined_then_reset(port);
	tcp_upstream(&cfg, port);
	tcp_forged_alias(port);
	tp_close();
	return check_failed ? 1 : 0;
}
