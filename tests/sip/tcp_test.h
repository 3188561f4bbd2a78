/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the transport tests (test_proxy_tcp.c, test_tcp_limits.c): the
 * real transport and proxy in this process on 127.0.0.1, clients on other
 * loopback addresses, and a loop that runs the proxy while waiting for a
 * client socket. Header-only: each test_*.c is its own program.
 */
#ifndef XDPSBC_TESTS_TCP_TEST_H
#define XDPSBC_TESTS_TCP_TEST_H

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
#include "sip/proxy.h"
#include "sip/msg.h"
#include "sip/transport.h"

#define L(s) s "\r\n"

static struct proxy px;

static void rx(void *arg, const char *buf, size_t len, const struct sip_addr *src)
{
	proxy_input(arg, buf, len, src);
}

/* Run the proxy until @fd is readable or @ms pass; read into @buf (NUL-terminated). */
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
			return n < 0 ? -errno : n;
		}
	}
	return -ETIMEDOUT;
}

/* Run the proxy for @ms. */
static void pump(int ms)
{
	for (int i = 0; i < ms / 5; i++) {
		tp_poll(5);
		proxy_tick(&px);
	}
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

/* A TCP client on @ip connected to the edge on 127.0.0.1:@port, or -1. */
static int tcp_client(const char *ip, uint16_t port)
{
	struct sockaddr_in edge = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = sock(SOCK_STREAM, ip, 0);

	inet_pton(AF_INET, "127.0.0.1", &edge.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&edge, sizeof(edge))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An OPTIONS to the edge itself (answered 200 by the edge), from @fd's address. */
static int options_msg(char *buf, size_t len, int fd, uint16_t edge_port, unsigned int n)
{
	return snprintf(buf, len,
			L("OPTIONS sip:127.0.0.1:%u;transport=tcp SIP/2.0") L(
				"Via: SIP/2.0/TCP 127.0.0.9:%u;branch=z9hG4bKopt%u;rport")
				L("Max-Forwards: 70") L("From: <sip:ping@example.com>;tag=p%u")
					L("To: <sip:127.0.0.1>") L("Call-ID: opt-%u-%u")
						L("CSeq: %u OPTIONS") L("Content-Length: 0") L(""),
			edge_port, local_port(fd), n, n, local_port(fd), n, n + 1);
}

/* Does an OPTIONS on @fd get its 200 within @ms? */
static bool options_ok(int fd, uint16_t edge_port, int ms)
{
	char buf[4096];
	ssize_t n;

	options_msg(buf, sizeof(buf), fd, edge_port, 1);
	if (send(fd, buf, strlen(buf), MSG_NOSIGNAL) < 0)
		return false;
	n = pump_read(fd, buf, sizeof(buf), ms);
	return n > 0 && !strncmp(buf, "SIP/2.0 200", 11);
}

/* The proxy on 127.0.0.1 (UDP and TCP on one port), upstream @up; returns the port or 0. */
static uint16_t start_proxy(struct sigd_cfg *cfg, const char *up)
{
	char lport[32], *argv[16];
	int argc;

	xs_log_set_level(getenv("V") ? XS_LOG_DEBUG : XS_LOG_ERR);
	sigd_osip_init();
	for (int i = 0; i < 20; i++) {
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
		argv[argc++] = (char *)up;
		argv[argc++] = "--state-dir";
		argv[argc++] = "";
		argv[argc] = NULL;
		if (opts_load(cfg, argc, argv) || proxy_init(&px, cfg, NULL, tp_send, NULL))
			return 0;
		if (!tp_init(cfg->listen, cfg->nlisten, rx, &px))
			return p;
		tp_close();
	}
	return 0;
}

#endif /* XDPSBC_TESTS_TCP_TEST_H */
