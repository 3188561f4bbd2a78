// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcp_clients: many SIP-over-TCP clients from one address, for namespace
 * tests, bounded in count and time.
 *
 *   tcp_clients SRC DST PORT COUNT HOLD_MS [silent]
 *	open COUNT (at most 4000) connections from SRC to DST:PORT; on each
 *	send an OPTIONS to the edge (unless "silent") and wait up to 2 s for
 *	the answers; then keep the connections HOLD_MS (at most 60000), watching
 *	which the far end closes. With HOLD_MS 0 it returns as soon as every
 *	connection has its answer (a ping). Prints one line:
 *	  connected=N answered=N closed=N first_close_ms=N rtt_max_ms=N
 *	(first_close_ms: from the last connect to the first close, -1 none;
 *	rtt_max_ms: the slowest 200 after its OPTIONS, -1 none).
 *
 * Exit 0, or 1 with a message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int connect_one(const char *src, const struct sockaddr_in *dst)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct pollfd p;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	socklen_t el = sizeof(err);

	inet_pton(AF_INET, src, &sin.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		goto fail;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) && errno != EINPROGRESS)
		goto fail;
	p = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&p, 1, 2000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err)
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

int main(int argc, char **argv)
{
	static int fds[MAX_CONNS], answered[MAX_CONNS], closed[MAX_CONNS];
	struct sockaddr_in dst = {.sin_family = AF_INET};
	int n, nconn = 0, nans = 0, nclosed = 0;
	long long hold, t_conn, first_close = -1, t_end, rtt_max = -1;
	bool silent = argc > 6 && !strcmp(argv[6], "silent");
	char buf[2048];

	if (argc < 6) {
		fprintf(stderr, "usage: tcp_clients SRC DST PORT COUNT HOLD_MS [silent]\n");
		return 1;
	}
	n = atoi(argv[4]);
	hold = atoll(argv[5]);
	if (n < 1 || n > MAX_CONNS || hold < 0 || hold > 60000 ||
	    inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) {
		fprintf(stderr, "tcp_clients: bad arguments\n");
		return 1;
	}
	dst.sin_port = htons(atoi(argv[3]));
	for (int i = 0; i < n; i++) {
		int fd = connect_one(argv[1], &dst);

		if (fd < 0)
			continue;
		fds[nconn++] = fd;
	}
	t_conn = now_ms();
	for (int i = 0; i < nconn && !silent; i++) {
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		int len;

		getsockname(fds[i], (struct sockaddr *)&me, &ml);
		len = snprintf(buf, sizeof(buf),
			       "OPTIONS sip:%s:%s;transport=tcp SIP/2.0\r\n"
			       "Via: SIP/2.0/TCP %s:%u;branch=z9hG4bKtc%d;rport\r\n"
			       "Max-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag=t%d\r\n"
			       "To: <sip:%s>\r\nCall-ID: tc-%u-%d\r\nCSeq: 1 OPTIONS\r\n"
			       "Content-Length: 0\r\n\r\n",
			       argv[2], argv[3], argv[1], ntohs(me.sin_port), i, i, argv[2],
			       ntohs(me.sin_port), i);
		send(fds[i], buf, len, MSG_NOSIGNAL);
	}
	t_end = t_conn + (silent ? 0 : 2000) + hold;
	while (now_ms() < t_end && nclosed < nconn && !(hold == 0 && !silent && nans == nconn)) {
		static struct pollfd p[MAX_CONNS];
		int k = 0;

		for (int i = 0; i < nconn; i++)
			if (!closed[i])
				p[k++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
		if (poll(p, k, 50) <= 0)
			continue;
		for (int j = 0; j < k; j++) {
			int i;
			ssize_t r;

			if (!p[j].revents)
				continue;
			for (i = 0; fds[i] != p[j].fd; i++)
				;
			r = recv(fds[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
			if (r > 0) {
				buf[r] = 0;
				if (!answered[i] && strstr(buf, "SIP/2.0 200")) {
					answered[i] = 1, nans++;
					if (now_ms() - t_conn > rtt_max)
						rtt_max = now_ms() - t_conn;
				}
			} else if (r == 0 || errno != EAGAIN) {
				closed[i] = 1;
				nclosed++;
				if (first_close < 0)
					first_close = now_ms() - t_conn;
			}
		}
	}
	printf("connected=%d answered=%d closed=%d first_close_ms=%lld rtt_max_ms=%lld\n", nconn,
	       nans, nclosed, first_close, rtt_max);
	for (int i = 0; i < nconn; i++)
		close(fds[i]);
	return 0;
}
