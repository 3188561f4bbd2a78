// SPDX-License-Identifier: GPL-2.0-only
/*
 * The transport with real sockets on loopback: a TCP client sends an INVITE in
 * fragments, the proxy forwards it over UDP to a "core" socket, the core's
 * 200 comes back on the client's TCP connection; then the core calls back
 * over a TCP upstream the proxy has to connect to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../lib/check.h"
#include "options.h"
#include "proxy.h"
#include "sipmsg.h"
#include "transport.h"

#define L(s) s "\r\n"

static struct proxy px;

static void rx(void *arg, const char *buf, size_t len, const struct sip_addr *src)
{
	proxy_input(arg, buf, len, src);
}

/* Run the proxy until @fd is readable or @ms pass; read into @buf. */
static ssize_t pump_read(int fd, char *buf, size_t len, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		tp_poll(5);
		proxy_tick(&px);
		if (poll(&p, 1, 5) > 0) {
			ssize_t n = recv(fd, buf, len - 1, 0);

			if (n >= 0)
				buf[n] = 0;
			return n;
		}
	}
	return -ETIMEDOUT;
}

static int sock(int type, const char *ip, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, type, 0), one = 1;

	inet_pton(AF_INET, ip, &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	getsockname(fd, (struct sockaddr *)&sin, &sl);
	return ntohs(sin.sin_port);
}

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
	char buf[8192], lport[16], up[64], *argv[16];
	int core, cli, err, argc = 0;
	uint16_t port = 0, core_port;
	struct sockaddr_in edge = {.sin_family = AF_INET}, core_sin;
	struct sigd_cfg cfg;
	ssize_t n;

	xs_log_set_level(getenv("V") ? XS_LOG_DEBUG : XS_LOG_ERR);
	sigd_osip_init();
	core = sock(SOCK_DGRAM, "127.0.0.3", 0);
	core_port = local_port(core);
	snprintf(up, sizeof(up), "sip:127.0.0.3:%u", core_port);
	/* The proxy needs the same port for UDP and TCP: try a few. */
	for (int i = 0; i < 20 && !port; i++) {
		uint16_t p = 30000 + (getpid() * 7 + i * 131) % 30000;

		snprintf(lport, sizeof(lport), "127.0.0.1:%u", p);
		argc = 0;
		argv[argc++] = "t";
		argv[argc++] = "--config";
		argv[argc++] = "none";
		argv[argc++] = "--public-ip";
		argv[argc++] = "127.0.0.1";
		argv[argc++] = "--listen";
		argv[argc++] = lport;
		argv[argc++] = "--upstream";
		argv[argc++] = up;
		argv[argc++] = "--state-dir";
		argv[argc++] = "";
		argv[argc] = NULL;
		if (opts_load(&cfg, argc, argv) || proxy_init(&px, &cfg, NULL, tp_send, NULL))
			break;
		err = tp_init(&cfg.listen, rx, &px);
		if (!err)
			port = p;
		else
			tp_close();
	}
	if (!port) {
		T_FAIL(name, "no listen port");
		return 1;
	}
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
	if (!check_failed)
		T_PASS(name);
	close(cli);
	close(core);
	tcp_upstream(&cfg, port);
	tcp_forged_alias(port);
	tp_close();
	return check_failed ? 1 : 0;
}
