// SPDX-License-Identifier: GPL-2.0-only
/*
 * One epoll loop for UDP, the TCP listener, TCP connections and other
 * readable fds (control API, ban events).
 *
 * A connection is never freed while a caller may hold a pointer into it:
 * the peer address and the input buffer are handed to the SIP layer, which
 * may send on that same connection and fail. Closing only marks the slot
 * dead (fd closed, out of epoll); the memory is released at the end of
 * tp_poll(), when no message is being handled.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sip/tls.h"
#include "sip/transport.h"

struct conn {
	int fd;
	struct sip_addr peer; /* proto SIP_TCP or SIP_TLS */
	struct ssl_st *ssl;   /* TLS: the session; NULL for TCP */
	bool hs_done;	      /* TLS: handshake complete (records may flow) */
	bool connecting, accepted, dead, had_msg;
	char *in, *out;
	size_t in_len, out_len;
	uint64_t last_ms;  /* last traffic either way */
	uint64_t start_ms; /* a message (or, accepted, the connection) began here; 0 none */
};

/* The listen sockets: one UDP and one TCP per listen address, IPv4 and IPv6. */
struct listener {
	int udp_fd, tcp_fd; /* a TLS listener has no UDP socket (-1) */
	int af;
	bool tls;
};

static int epfd = -1, spare_fd = -1;
static struct listener lsn[TP_MAX_LISTEN];
static unsigned int nlsn;
static struct conn *conns[TP_SLOTS];
static unsigned int nslots;  /* slots in use are below this */
static unsigned int naccept; /* live accepted connections */
static unsigned int ndead;
static tp_rx_fn rx_cb;
static void *rx_arg;
static struct tp_limits lim = {TP_DEFAULT_MAX_CONNS, TP_DEFAULT_MAX_PER_SOURCE, TP_DEFAULT_MSG_MS,
			       TP_DEFAULT_IDLE_MS, TP_DEFAULT_MAX_OUT};
static struct tp_stats st;
static uint64_t accept_paused_until, last_expire_ms;
static uint64_t last_warn_ms[4];

/* Tags in epoll data: listeners by fd value, connections by slot + 0x10000. */
#define TAG_CONN 0x10000
/* Without a spare fd for the EMFILE trick, stop accepting this long. */
#define ACCEPT_PAUSE_MS 1000
#define WARN_EVERY_MS	10000
#define EXPIRE_EVERY_MS 50

enum { WARN_CAP, WARN_SOURCE, WARN_FD, WARN_CLOSE };

/* Refusals come in floods: one line per kind every WARN_EVERY_MS, with the count so far. */
#define WARN_RATE(kind, fmt, ...)                                                        \
	do {                                                                             \
		uint64_t now_ = sigd_now_ms();                                           \
		if (now_ - last_warn_ms[kind] >= WARN_EVERY_MS || !last_warn_ms[kind]) { \
			last_warn_ms[kind] = now_;                                       \
			xs_log(XS_LOG_WARN, "[-] tcp: " fmt "\n", ##__VA_ARGS__);        \
		}                                                                        \
	} while (0)

/* "[2001:db8::1]:5060" for log lines. */
static const char *peer_str(const struct sip_addr *a, char *buf, size_t len)
{
	char h[SIP_IP_STRLEN];

	snprintf(buf, len, "%s:%u", sip_ip_host(&a->ip, h, sizeof(h)), a->port);
	return buf;
}

#define PEER(a) peer_str((a), (char[SIP_IP_STRLEN + 8]){0}, SIP_IP_STRLEN + 8)

void tp_limits_default(struct tp_limits *l)
{
	*l = (struct tp_limits){TP_DEFAULT_MAX_CONNS, TP_DEFAULT_MAX_PER_SOURCE, TP_DEFAULT_MSG_MS,
				TP_DEFAULT_IDLE_MS, TP_DEFAULT_MAX_OUT};
}

void tp_set_limits(const struct tp_limits *l)
{
	lim = *l;
	if (lim.max_conns > TP_SLOTS - TP_SLOTS_OUT)
		lim.max_conns = TP_SLOTS - TP_SLOTS_OUT;
	if (lim.max_out < TP_MAX_MSG)
		lim.max_out = TP_MAX_MSG; /* one message always fits */
}

void tp_get_stats(struct tp_stats *s)
{
	*s = st;
	s->conns = 0;
	for (unsigned int i = 0; i < nslots; i++)
		s->conns += conns[i] && !conns[i]->dead;
}

static int spare_open(void)
{
	if (spare_fd < 0)
		spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return spare_fd;
}

static int sock_open(int af, int type)
{
	int one = 1, fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] beside 0.0.0.0: each family on its own socket, no mapped addresses. */
	if (af == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	return fd;
}

static int listen_one(const struct sip_addr *a, bool tls)
{
	struct listener *l = &lsn[nlsn];
	struct epoll_event ev = {.events = EPOLLIN};
	struct sockaddr_storage ss;
	socklen_t sl = sip_addr_to_sa(a, &ss);
	int err;

	if (nlsn >= TP_MAX_LISTEN)
		return -E2BIG;
	l->af = a->ip.af == AF_INET6 ? AF_INET6 : AF_INET;
	l->tls = tls;
	l->udp_fd = tls ? -1 : sock_open(l->af, SOCK_DGRAM);
	l->tcp_fd = sock_open(l->af, SOCK_STREAM);
	if ((!tls && l->udp_fd < 0) || l->tcp_fd < 0)
		goto fail;
	if ((!tls && bind(l->udp_fd, (struct sockaddr *)&ss, sl)) ||
	    bind(l->tcp_fd, (struct sockaddr *)&ss, sl) || listen(l->tcp_fd, 128))
		goto fail;
	ev.data.u32 = l->udp_fd;
	if (!tls && epoll_ctl(epfd, EPOLL_CTL_ADD, l->udp_fd, &ev))
		goto fail;
	ev.data.u32 = l->tcp_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, l->tcp_fd, &ev))
		goto fail;
	nlsn++;
	return 0;
fail:
	err = -errno;
	xs_log(XS_LOG_ERR, "listen %s%s: %s\n", tls ? "tls " : "", PEER(a), strerror(-err));
	if (l->udp_fd >= 0)
		close(l->udp_fd);
	if (l->tcp_fd >= 0)
		close(l->tcp_fd);
	return err;
}

int tp_init(const struct sip_addr *listen_addr, unsigned int n, tp_rx_fn rx, void *arg)
{
	int err;

	rx_cb = rx;
	rx_arg = arg;
	nlsn = 0;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	if (n > TP_MAX_LISTEN)
		return -E2BIG;
	for (unsigned int i = 0; i < n; i++) {
		err = listen_one(&listen_addr[i], false);
		if (err)
			return err;
	}
	spare_open();
	return 0;
}

int tp_listen_tls(const struct sip_addr *listen_addr, unsigned int n)
{
	if (n && !tls_server_ready())
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		int err = listen_one(&listen_addr[i], true);

		if (err)
			return err;
	}
	return 0;
}

/* The UDP socket to send to a peer of family @af: the first listener of that family. */
static int udp_fd_for(int af)
{
	for (unsigned int i = 0; i < nlsn; i++)
		if (lsn[i].af == af)
			return lsn[i].udp_fd;
	return -1;
}

/* Close now, free later (see the top of this file). */
static void conn_kill(int slot)
{
	struct conn *c = conns[slot];

	if (!c || c->dead)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	tls_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
	c->dead = true;
	if (c->accepted)
		naccept--;
	ndead++;
}

static void conn_free(int slot)
{
	struct conn *c = conns[slot];

	free(c->in);
	free(c->out);
	free(c);
	conns[slot] = NULL;
}

static void conns_reap(void)
{
	if (!ndead)
		return;
	for (unsigned int i = 0; i < nslots; i++)
		if (conns[i] && conns[i]->dead)
			conn_free(i);
	ndead = 0;
	while (nslots && !conns[nslots - 1])
		nslots--;
}

static int conn_add(int fd, const struct sip_addr *peer, bool accepted)
{
	struct epoll_event ev = {.events = EPOLLIN | (accepted ? 0 : EPOLLOUT)};
	unsigned int slot;
	struct conn *c;

	for (slot = 0; slot < TP_SLOTS && conns[slot]; slot++)
		;
	if (slot == TP_SLOTS)
		return -EMFILE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = fd;
	c->peer = *peer;
	if (c->peer.proto != SIP_TLS)
		c->peer.proto = SIP_TCP;
	c->connecting = !accepted;
	c->accepted = accepted;
	c->last_ms = sigd_now_ms();
	/* An accepted connection must bring its first message within msg_ms. */
	c->start_ms = accepted ? c->last_ms : 0;
	ev.data.u32 = TAG_CONN + slot;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(c);
		return -errno;
	}
	conns[slot] = c;
	if (slot >= nslots)
		nslots = slot + 1;
	if (accepted)
		naccept++;
	return slot;
}

static int conn_find(const struct sip_addr *peer)
{
	for (unsigned int i = 0; i < nslots; i++)
		if (conns[i] && !conns[i]->dead && sip_ip_eq(&conns[i]->peer.ip, &peer->ip) &&
		    conns[i]->peer.port == peer->port && conns[i]->peer.proto == peer->proto)
			return i;
	return -ENOENT;
}

/* Accepted connections from @ip's source unit (an IPv4 address, an IPv6 /64). */
static unsigned int conns_from(const struct sip_ip *ip)
{
	struct sip_ip u = sip_ip_source(ip);
	unsigned int n = 0;

	for (unsigned int i = 0; i < nslots; i++) {
		struct sip_ip pu;

		if (!conns[i] || conns[i]->dead || !conns[i]->accepted)
			continue;
		pu = sip_ip_source(&conns[i]->peer.ip);
		n += sip_ip_eq(&pu, &u);
	}
	return n;
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
	bool ww = false;
	size_t done = 0;

	/* TLS: what is queued waits for the handshake, which asks for its own events. */
	if (c->ssl && !c->hs_done)
		return 0;
	while (done < c->out_len) {
		ssize_t n;

		if (c->ssl) {
			n = tls_write(c->ssl, c->out + done, c->out_len - done, &ww);
			if (n == -EAGAIN)
				break;
			if (n <= 0)
				return -EIO;
		} else {
			n = send(c->fd, c->out + done, c->out_len - done, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				return -errno;
			}
		}
		done += n;
	}
	memmove(c->out, c->out + done, c->out_len - done);
	c->out_len -= done;
	conn_want_out(slot, c->out_len > 0 || ww);
	return 0;
}

static int tcp_send(const struct sip_addr *dst, const char *buf, size_t len)
{
	int slot = conn_find(dst), err;
	struct conn *c;
	char *nb;

	if (slot < 0) {
		struct sockaddr_storage ss;
		socklen_t sl = sip_addr_to_sa(dst, &ss);
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&ss, sl) && errno != EINPROGRESS) {
			err = -errno;
			close(fd);
			return err;
		}
		slot = conn_add(fd, dst, false);
		if (slot < 0) {
			close(fd);
			return slot;
		}
		if (dst->proto == SIP_TLS) {
			conns[slot]->ssl = tls_new(fd, false, dst);
			if (!conns[slot]->ssl) {
				conn_kill(slot);
				return -ENOMEM;
			}
			/* The handshake (and then the message) within msg_ms. */
			conns[slot]->start_ms = sigd_now_ms();
		}
	}
	c = conns[slot];
	/*
	 * A peer that stopped reading: the queue is bounded, and a message
	 * cannot be dropped from the middle of a stream, so the connection goes.
	 */
	if (c->out_len + len > lim.max_out) {
		st.closed_overflow++;
		WARN_RATE(WARN_CLOSE, "%s does not read (%zu bytes queued), closing",
			  PEER(&c->peer), c->out_len);
		conn_kill(slot);
		return -ENOBUFS;
	}
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
		conn_kill(slot);
	return err;
}

int tp_send(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t sl = sip_addr_to_sa(dst, &ss);
	int fd;

	if (dst->proto == SIP_TCP || dst->proto == SIP_TLS)
		return tcp_send(dst, buf, len);
	/* No listener of that family: the edge has no address there to be answered on. */
	fd = udp_fd_for(ss.ss_family);
	if (fd < 0)
		return -EAFNOSUPPORT;
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0)
		return -errno;
	return 0;
}

/* Hand each complete message in the input to the SIP layer. */
static void conn_dispatch(int slot)
{
	struct conn *c = conns[slot];
	size_t off = 0;

	while (!c->dead) {
		size_t skip = off;
		ssize_t len;

		/* CRLF keepalives between messages (RFC 5626). */
		while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n'))
			skip++;
		off = skip;
		if (off == c->in_len)
			break;
		len = tp_frame(c->in + off, c->in_len - off);
		if (len < 0) {
			st.closed_bad_frame++;
			xs_log(XS_LOG_WARN, "[-] tcp %s: %s, closing\n", PEER(&c->peer),
			       len == -EMSGSIZE ? "message too large" : "unframeable input");
			conn_kill(slot);
			return;
		}
		if (len == 0) {
			if (!c->start_ms)
				c->start_ms = sigd_now_ms();
			break;
		}
		c->had_msg = true;
		c->start_ms = 0;
		/* @c stays allocated until conns_reap(), even if this closes it. */
		rx_cb(rx_arg, c->in + off, len, &c->peer);
		off += len;
	}
	if (c->dead)
		return;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	c->in[c->in_len] = 0;
}

/* One step of a TLS handshake; true when records may flow now. */
static bool conn_handshake(int slot)
{
	struct conn *c = conns[slot];
	bool ww;
	int r = tls_handshake(c->ssl, &c->peer, &ww);

	if (r < 0) {
		st.tls_failed++;
		conn_kill(slot);
		return false;
	}
	if (r == 0) {
		conn_want_out(slot, ww);
		return false;
	}
	c->hs_done = true;
	c->connecting = false;
	/* An outgoing connection's clock was for the handshake; an accepted one's for its message. */
	if (!c->accepted)
		c->start_ms = 0;
	if (conn_flush(slot)) {
		conn_kill(slot);
		return false;
	}
	return true;
}

static ssize_t conn_recv(int slot, char *buf, size_t room)
{
	struct conn *c = conns[slot];
	bool ww;
	ssize_t n;

	if (!c->ssl) {
		n = recv(c->fd, buf, room, 0);
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? -EAGAIN : n < 0 ? -EIO : n;
	}
	n = tls_read(c->ssl, buf, room, &ww);
	/* A record to send first (TLS 1.3 key update): wait for writability too. */
	if (n == -EAGAIN && ww)
		conn_want_out(slot, true);
	return n;
}

static void conn_read(int slot)
{
	struct conn *c = conns[slot];
	/* tp_frame() refuses a pending message of TP_MAX_MSG: there is always room. */
	size_t room;
	char *nb;
	ssize_t n;

	if (c->ssl && !c->hs_done && !conn_handshake(slot))
		return;
	if (!c->in) {
		c->in = malloc(TP_MAX_MSG + 1);
		if (!c->in) {
			conn_kill(slot);
			return;
		}
	}
again:
	room = TP_MAX_MSG - c->in_len;
	nb = c->in;
	n = conn_recv(slot, nb + c->in_len, room);
	if (n <= 0) {
		if (n == -EAGAIN)
			return;
		conn_kill(slot);
		return;
	}
	c->last_ms = sigd_now_ms();
	c->in_len += n;
	c->in[c->in_len] = 0; /* nothing below relies on it; a guard for what might */
	conn_dispatch(slot);
	/* TLS: records already decrypted raise no epoll event of their own. */
	if (!c->dead && c->ssl && tls_pending(c->ssl) && c->in_len < TP_MAX_MSG)
		goto again;
}

static void udp_read(int udp_fd)
{
	char buf[TP_MAX_MSG + 1];

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(udp_fd, buf, TP_MAX_MSG, 0, (struct sockaddr *)&ss, &sl);
		struct sip_addr src;

		if (n < 0)
			return;
		sip_addr_from_sa(&ss, SIP_UDP, &src);
		buf[n] = 0;
		rx_cb(rx_arg, buf, n, &src);
	}
}

static void accept_pause(bool on)
{
	for (unsigned int i = 0; i < nlsn; i++) {
		struct epoll_event ev = {.events = on ? 0 : EPOLLIN, .data.u32 = lsn[i].tcp_fd};

		epoll_ctl(epfd, EPOLL_CTL_MOD, lsn[i].tcp_fd, &ev);
	}
	accept_paused_until = on ? sigd_now_ms() + ACCEPT_PAUSE_MS : 0;
}

/*
 * Out of file descriptors: the pending connection stays in the backlog and
 * the listener stays readable, so a level-triggered loop would spin. Spend
 * the spare fd to accept and close it (the peer sees the refusal), then take
 * the spare back; if it cannot be had again, stop accepting for a while.
 */
static bool accept_no_fd(int tcp_fd)
{
	bool had_spare = spare_fd >= 0;
	int fd = -1;

	/* accept() takes the fd before it looks at the backlog: EMFILE also when it is empty. */
	if (spare_fd >= 0) {
		close(spare_fd);
		spare_fd = -1;
		fd = accept4(tcp_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	if (fd >= 0 || !had_spare) {
		st.refused_fd++;
		WARN_RATE(WARN_FD, "out of file descriptors, refusing connections (%llu so far)",
			  (unsigned long long)st.refused_fd);
	}
	if (spare_open() < 0) {
		accept_pause(true);
		return false;
	}
	return fd >= 0;
}

static bool accept_allowed(const struct sip_addr *peer)
{
	if (naccept >= lim.max_conns) {
		st.refused_cap++;
		WARN_RATE(WARN_CAP, "%u connections, refusing %s (%llu so far)", naccept,
			  PEER(peer), (unsigned long long)st.refused_cap);
		return false;
	}
	if (lim.max_per_source && conns_from(&peer->ip) >= lim.max_per_source) {
		st.refused_source++;
		WARN_RATE(WARN_SOURCE, "%s has %u connections, refusing more (%llu so far)",
			  PEER(peer), lim.max_per_source, (unsigned long long)st.refused_source);
		return false;
	}
	return true;
}

static void tcp_accept(int tcp_fd, bool tls)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(tcp_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sip_addr peer;
		int slot;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				if (accept_no_fd(tcp_fd))
					continue;
				return;
			}
			if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO)
				continue;
			if (errno == ENOBUFS || errno == ENOMEM)
				accept_pause(true);
			return;
		}
		sip_addr_from_sa(&ss, tls ? SIP_TLS : SIP_TCP, &peer);
		/* Refused with a close right away: nothing is kept for the peer. */
		if (!accept_allowed(&peer) || (slot = conn_add(fd, &peer, true)) < 0) {
			close(fd);
			continue;
		}
		/* TLS shares the TCP caps; the handshake counts against the first message's time. */
		if (tls && !(conns[slot]->ssl = tls_new(fd, true, &peer))) {
			conn_kill(slot);
			continue;
		}
		st.accepted++;
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

/*
 * Time limits: a message (and an accepted connection's first one) must be
 * complete within msg_ms of its first byte, however slowly it trickles in;
 * any connection without traffic for idle_ms is closed.
 */
static void conns_expire(uint64_t now)
{
	for (unsigned int i = 0; i < nslots; i++) {
		struct conn *c = conns[i];

		if (!c || c->dead)
			continue;
		if ((c->start_ms && now - c->start_ms > lim.msg_ms) ||
		    now - c->last_ms > lim.idle_ms) {
			st.closed_timeout++;
			xs_log(XS_LOG_DEBUG, "[-] tcp %s: %s, closing\n", PEER(&c->peer),
			       c->start_ms ? (c->had_msg ? "message incomplete" : "no message")
					   : "idle");
			conn_kill(i);
		}
	}
}

static void conn_event(int slot, uint32_t events)
{
	struct conn *c = conns[slot];

	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		conn_kill(slot);
		return;
	}
	if (events & EPOLLOUT) {
		c->connecting = false;
		if (c->ssl && !c->hs_done) {
			if (!conn_handshake(slot))
				return;
		} else if (conn_flush(slot)) {
			conn_kill(slot);
			return;
		}
	}
	if (events & EPOLLIN)
		conn_read(slot);
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
		unsigned int slot = tag - TAG_CONN;

		if (tag < TAG_CONN) {
			for (unsigned int l = 0; l < nlsn; l++) {
				if (tag == (uint32_t)lsn[l].udp_fd)
					udp_read(lsn[l].udp_fd);
				else if (tag == (uint32_t)lsn[l].tcp_fd)
					tcp_accept(lsn[l].tcp_fd, lsn[l].tls);
			}
			continue;
		}
		if (tag >= TAG_WATCH && tag < TAG_WATCH + nwatch) {
			watches[tag - TAG_WATCH].cb(watches[tag - TAG_WATCH].arg);
			continue;
		}
		if (tag < TAG_CONN || slot >= nslots || !conns[slot] || conns[slot]->dead)
			continue;
		conn_event(slot, ev[i].events);
	}
	now = sigd_now_ms();
	if (accept_paused_until && now >= accept_paused_until)
		accept_pause(false);
	/* A busy loop polls often: the timers need a scan only every EXPIRE_EVERY_MS. */
	if (now - last_expire_ms >= EXPIRE_EVERY_MS) {
		last_expire_ms = now;
		conns_expire(now);
	}
	conns_reap();
	return 0;
}

void tp_close(void)
{
	for (unsigned int i = 0; i < nslots; i++)
		conn_kill(i);
	conns_reap();
	for (unsigned int i = 0; i < nlsn; i++) {
		if (lsn[i].udp_fd >= 0)
			close(lsn[i].udp_fd);
		close(lsn[i].tcp_fd);
	}
	nlsn = 0;
	if (epfd >= 0)
		close(epfd);
	if (spare_fd >= 0)
		close(spare_fd);
	epfd = spare_fd = -1;
	nwatch = 0;
	naccept = 0;
	accept_paused_until = 0;
}
