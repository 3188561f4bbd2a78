// SPDX-License-Identifier: GPL-2.0-only
/*
 * udp_probe: real UDP for namespace tests, bounded in count and time.
 *
 *   udp_probe send SRC SPORT DST DPORT [COUNT [SIZE]]
 *	send COUNT (default 1, at most 100000) datagrams of SIZE bytes from
 *	SRC:SPORT (SPORT 0: any) to DST:DPORT, 1 ms apart; prints how many left.
 *   udp_probe recv ADDR PORT SECONDS [EXPECT]
 *	count datagrams arriving on ADDR:PORT for SECONDS (at most 600), or
 *	until EXPECT arrived; prints the count. "ready" on stderr once bound.
 *
 *   udp_probe flood SRC SPORT DST DPORT SECONDS [SIZE]
 *	send SIZE-byte (default 172: RTP of 20 ms G.711) datagrams as fast as
 *	sendmmsg goes for SECONDS (at most 30); prints "SENT SECONDS".
 *
 * IPv4 or IPv6 by the address given. Exit 0, or 1 with a message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int sockaddr_of(const char *addr, const char *port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char *end;
	long p = strtol(port, &end, 10);

	if (*end || p < 0 || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(p);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int do_send(int argc, char **argv)
{
	struct sockaddr_storage src, dst;
	socklen_t slen, dlen;
	long count = argc > 4 ? atol(argv[4]) : 1, size = argc > 5 ? atol(argv[5]) : 64, sent = 0;
	struct timespec gap = {0, 1000 * 1000};
	char buf[1500];
	int fam, fd, one = 1;

	fam = sockaddr_of(argv[0], argv[1], &src, &slen);
	if (fam < 0 || sockaddr_of(argv[2], argv[3], &dst, &dlen) != fam) {
		fprintf(stderr, "udp_probe: bad or mixed-family addresses\n");
		return 1;
	}
	if (count < 1 || count > 100000 || size < 1 || size > (long)sizeof(buf)) {
		fprintf(stderr, "udp_probe: COUNT 1-100000, SIZE 1-%zu\n", sizeof(buf));
		return 1;
	}
	fd = socket(fam, SOCK_DGRAM, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, slen)) {
		fprintf(stderr, "udp_probe: bind %s:%s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	memset(buf, 'x', sizeof(buf));
	for (long i = 0; i < count; i++) {
		snprintf(buf, sizeof(buf), "probe %ld", i);
		if (sendto(fd, buf, size, 0, (struct sockaddr *)&dst, dlen) == size)
			sent++;
		nanosleep(&gap, NULL);
	}
	close(fd);
	printf("%ld\n", sent);
	return sent == count ? 0 : 1;
}

/* A bounded flood for the bench (bench/family.sh): batches of 64, for SECONDS. */
static int do_flood(int argc, char **argv)
{
	struct sockaddr_storage src, dst;
	socklen_t slen, dlen;
	double secs = atof(argv[4]), t0, t;
	long size = argc > 5 ? atol(argv[5]) : 172, sent = 0;
	static char buf[1500];
	struct mmsghdr m[64];
	struct iovec iov;
	int fam, fd, one = 1, n;

	fam = sockaddr_of(argv[0], argv[1], &src, &slen);
	if (fam < 0 || sockaddr_of(argv[2], argv[3], &dst, &dlen) != fam || secs <= 0 ||
	    secs > 30 || size < 12 || size > (long)sizeof(buf)) {
		fprintf(stderr, "udp_probe: bad addresses, SECONDS (0-30) or SIZE (12-1500)\n");
		return 1;
	}
	fd = socket(fam, SOCK_DGRAM, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, slen)) {
		fprintf(stderr, "udp_probe: bind %s:%s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	buf[0] = (char)0x80; /* RTP version 2 */
	iov.iov_base = buf;
	iov.iov_len = (size_t)size;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 64; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &dst;
		m[i].msg_hdr.msg_namelen = dlen;
	}
	t0 = now_s();
	do {
		n = sendmmsg(fd, m, 64, 0);
		if (n > 0)
			sent += n;
		t = now_s() - t0;
	} while (t < secs);
	close(fd);
	printf("%ld %.3f\n", sent, t);
	return 0;
}

static int do_recv(int argc, char **argv)
{
	struct sockaddr_storage a;
	double secs = atof(argv[2]), end;
	long expect = argc > 3 ? atol(argv[3]) : 0, got = 0;
	struct pollfd pfd;
	char buf[2048];
	socklen_t len;
	int fam, fd, one = 1;

	fam = sockaddr_of(argv[0], argv[1], &a, &len);
	if (fam < 0 || secs <= 0 || secs > 600) {
		fprintf(stderr, "udp_probe: bad address or SECONDS (0-600)\n");
		return 1;
	}
	fd = socket(fam, SOCK_DGRAM, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 && fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len)) {
		fprintf(stderr, "udp_probe: bind %s:%s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	fprintf(stderr, "ready\n");
	end = now_s() + secs;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!expect || got < expect) {
		double left = end - now_s();

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			got++;
	}
	close(fd);
	printf("%ld\n", got);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "send"))
		return do_send(argc - 2, argv + 2);
	if (argc >= 5 && !strcmp(argv[1], "recv"))
		return do_recv(argc - 2, argv + 2);
	if (argc >= 7 && !strcmp(argv[1], "flood"))
		return do_flood(argc - 2, argv + 2);
	fprintf(stderr, "usage: udp_probe send SRC SPORT DST DPORT [COUNT [SIZE]]\n"
			"       udp_probe recv ADDR PORT SECONDS [EXPECT]\n"
			"       udp_probe flood SRC SPORT DST DPORT SECONDS [SIZE]\n");
	return 1;
}
