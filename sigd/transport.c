// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "transport.h"

#define TP_MAX_CONNS 4096
#define TP_IDLE_MS   (15 * 60 * 1000)

struct conn {
	int fd;
	struct sip_addr peer;
	bool connecting;
	char *in, *out;
	size_t in_len, out_len;
	uint64_t last_ms;
};

static int epfd = -1, udp_fd = -1, tcp_fd = -1;
static struct conn *conns[TP_MAX_CONNS];
static tp_rx_fn rx_cb;
static void *rx_arg;

/* Tags in epoll data: listeners by fd value, connections by slot + 0x10000. */
#define TAG_CONN 0x10000

static struct sockaddr_in to_sin(const struct sip_addr *a)
{
	return (struct sockaddr_in){
		.sin_family = AF_INET, .sin_addr = a->ip, .sin_port = htons(a->port)};
}

int tp_init(const struct sip_addr *listen_addr, tp_rx_fn rx, void *arg)
{
	struct sockaddr_in sin = to_sin(listen_addr);
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1, err;

	rx_cb = rx;
	rx_arg = arg;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (epfd < 0 || udp_fd < 0 || tcp_fd < 0)
		return -errno;
	setsockopt(udp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(udp_fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    bind(tcp_fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(tcp_fd, 128)) {
		err = -errno;
		xs_log(XS_LOG_ERR, "listen %s:%u: %s\n", inet_ntoa(listen_addr->ip),
		       listen_addr->port, strerror(-err));
		return err;
	}
	ev.data.u32 = udp_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, udp_fd, &ev))
		return -errno;
	ev.data.u32 = tcp_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tcp_fd, &ev))
		return -errno;
	return 0;
}

static void conn_close(int slot)
{
	struct conn *c = conns[slot];

	if (!c)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	conns[slot] = NULL;
}

static int conn_add(int fd, const struct sip_addr *peer, bool connecting)
{
	struct epoll_event ev = {.events = EPOLLIN | (connecting ? EPOLLOUT : 0)};
	int slot;

	for (slot = 0; slot < TP_MAX_CONNS && conns[slot]; slot++)
		;
	if (slot == TP_MAX_CONNS)
		return -EMFILE;
	conns[slot] = calloc(1, sizeof(struct conn));
	if (!conns[slot])
		return -ENOMEM;
	conns[slot]->fd = fd;
	conns[slot]->peer = *peer;
	conns[slot]->peer.proto = SIP_TCP;
	conns[slot]->connecting = connecting;
	conns[slot]->last_ms = sigd_now_ms();
	ev.data.u32 = TAG_CONN + slot;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(conns[slot]);
		conns[slot] = NULL;
		return -errno;
	}
	return slot;
}

static int conn_find(const struct sip_addr *peer)
{
	for (int i = 0; i < TP_MAX_CONNS; i++)
		if (conns[i] && conns[i]->peer.ip.s_addr == peer->ip.s_addr &&
		    conns[i]->peer.port == peer->port)
			return i;
	return -ENOENT;
}

static void conn_want_out(int slot, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
				 .data.u32 = TAG_CONN + slot};

	epoll_ctl(epfd, EPOLL_CTL_MOD, conns[slot]->fd, &ev);
}

static int conn_flush(int slot)
{
	struct conn *c = conns[slot];

	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		memmove(c->out, c->out + n, c->out_len - n);
		c->out_len -= n;
	}
	conn_want_out(slot, c->out_len > 0);
	return 0;
}

static int tcp_send(const struct sip_addr *dst, const char *buf, size_t len)
{
	int slot = conn_find(dst), err;
	struct conn *c;
	char *nb;

	if (slot < 0) {
		struct sockaddr_in sin = to_sin(dst);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) && errno != EINPROGRESS) {
			err = -errno;
			close(fd);
			return err;
		}
		slot = conn_add(fd, dst, true);
		if (slot < 0) {
			close(fd);
			return slot;
		}
	}
	c = conns[slot];
	if (c->out_len + len > 4 * TP_MAX_MSG)
		return -ENOBUFS;
	nb = realloc(c->out, c->out_len + len);
	if (!nb)
		return -ENOMEM;
	c->out = nb;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	c->last_ms = sigd_now_ms();
	if (c->connecting)
		return 0;
	err = conn_flush(slot);
	if (err)
		conn_close(slot);
	return err;
}

int tp_send(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	struct sockaddr_in sin = to_sin(dst);

	if (dst->proto == SIP_TCP)
		return tcp_send(dst, buf, len);
	if (sendto(udp_fd, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -errno;
	return 0;
}

/* Case-insensitive "name:" at the start of a header line. */
static long header_value(const char *line, const char *end, const char *name)
{
	size_t n = strlen(name);
	const char *p = line + n;

	if ((size_t)(end - line) <= n || strncasecmp(line, name, n))
		return -1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != ':')
		return -1;
	return strtol(p + 1, NULL, 10);
}

ssize_t tp_frame(const char *buf, size_t len)
{
	const char *hend = memmem(buf, len, "\r\n\r\n", 4), *line;
	long clen = 0;

	if (!hend)
		return len > TP_MAX_MSG ? -EMSGSIZE : 0;
	/* Only the framing: the message itself is parsed by osipparser2. */
	for (line = buf; line && line < hend; line = memmem(line, hend - line, "\r\n", 2)) {
		long v;

		if (line != buf)
			line += 2;
		v = header_value(line, hend, "Content-Length");
		if (v < 0)
			v = header_value(line, hend, "l");
		if (v >= 0)
			clen = v;
	}
	if (clen > TP_MAX_MSG)
		return -EMSGSIZE;
	if ((size_t)(hend + 4 - buf) + clen > len)
		return 0;
	return hend + 4 - buf + clen;
}

static void conn_read(int slot)
{
	struct conn *c = conns[slot];
	char tmp[16384];
	ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(slot);
		return;
	}
	c->last_ms = sigd_now_ms();
	char *nb = realloc(c->in, c->in_len + n);

	if (!nb) {
		conn_close(slot);
		return;
	}
	c->in = nb;
	memcpy(c->in + c->in_len, tmp, n);
	c->in_len += n;
	for (;;) {
		size_t skip = 0;
		ssize_t len;

		/* CRLF keepalives between messages (RFC 5626). */
		while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n'))
			skip++;
		len = tp_frame(c->in + skip, c->in_len - skip);
		if (len < 0) {
			xs_log(XS_LOG_WARN, "[-] tcp %s:%u: unframeable input, closing\n",
			       inet_ntoa(c->peer.ip), c->peer.port);
			conn_close(slot);
			return;
		}
		if (len == 0) {
			memmove(c->in, c->in + skip, c->in_len - skip);
			c->in_len -= skip;
			return;
		}
		rx_cb(rx_arg, c->in + skip, len, &c->peer);
		/* The callback may have closed this connection by sending on it. */
		if (conns[slot] != c)
			return;
		memmove(c->in, c->in + skip + len, c->in_len - skip - len);
		c->in_len -= skip + len;
	}
}

static void udp_read(void)
{
	char buf[TP_MAX_MSG + 1];

	for (int i = 0; i < 64; i++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		ssize_t n = recvfrom(udp_fd, buf, TP_MAX_MSG, 0, (struct sockaddr *)&sin, &sl);
		struct sip_addr src;

		if (n < 0)
			return;
		src = (struct sip_addr){
			.ip = sin.sin_addr, .port = ntohs(sin.sin_port), .proto = SIP_UDP};
		buf[n] = 0;
		rx_cb(rx_arg, buf, n, &src);
	}
}

static void tcp_accept(void)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		int fd =
			accept4(tcp_fd, (struct sockaddr *)&sin, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sip_addr peer;

		if (fd < 0)
			return;
		peer = (struct sip_addr){
			.ip = sin.sin_addr, .port = ntohs(sin.sin_port), .proto = SIP_TCP};
		if (conn_add(fd, &peer, false) < 0)
			close(fd);
	}
}

/* Other readable fds in the same loop (control API, ban events): tagged TAG_WATCH + i. */
#define TAG_WATCH    0x20000
#define TP_MAX_WATCH 8
static struct {
	int fd;
	void (*cb)(void *arg);
	void *arg;
} watches[TP_MAX_WATCH];
static unsigned int nwatch;

int tp_watch(int fd, void (*cb)(void *arg), void *arg)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TAG_WATCH + nwatch};

	if (epfd < 0)
		return -EBADF;
	if (nwatch >= TP_MAX_WATCH)
		return -E2BIG;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	watches[nwatch].fd = fd;
	watches[nwatch].cb = cb;
	watches[nwatch].arg = arg;
	nwatch++;
	return 0;
}

int tp_poll(int timeout_ms)
{
	struct epoll_event ev[64];
	uint64_t now;
	int n = epoll_wait(epfd, ev, 64, timeout_ms);

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;
		int slot = tag - TAG_CONN;

		if (tag == (uint32_t)udp_fd) {
			udp_read();
			continue;
		}
		if (tag == (uint32_t)tcp_fd) {
			tcp_accept();
			continue;
		}
		if (tag >= TAG_WATCH && tag < TAG_WATCH + nwatch) {
			watches[tag - TAG_WATCH].cb(watches[tag - TAG_WATCH].arg);
			continue;
		}
		if (tag < TAG_CONN || !conns[slot])
			continue;
		if (ev[i].events & (EPOLLERR | EPOLLHUP) && !(ev[i].events & EPOLLIN)) {
			conn_close(slot);
			continue;
		}
		if (ev[i].events & EPOLLOUT) {
			conns[slot]->connecting = false;
			if (conn_flush(slot)) {
				conn_close(slot);
				continue;
			}
		}
		if (ev[i].events & EPOLLIN)
			conn_read(slot);
	}
	now = sigd_now_ms();
	for (int i = 0; i < TP_MAX_CONNS; i++)
		if (conns[i] && now - conns[i]->last_ms > TP_IDLE_MS)
			conn_close(i);
	return 0;
}

void tp_close(void)
{
	for (int i = 0; i < TP_MAX_CONNS; i++)
		conn_close(i);
	if (udp_fd >= 0)
		close(udp_fd);
	if (tcp_fd >= 0)
		close(tcp_fd);
	if (epfd >= 0)
		close(epfd);
	udp_fd = tcp_fd = epfd = -1;
	nwatch = 0;
}
