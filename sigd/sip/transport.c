// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TCP and TLS connections, and sending. The epoll loop (tp_loop.c)
 * hands them their events; the listeners (tp_listen.c) add the accepted
 * ones. A TLS connection is a TCP connection with a session: its handshake
 * and records are driven from the same events.
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
#include "sip/tp_int.h"

int tp_epfd = -1, tp_spare_fd = -1;
struct listener tp_lsn[TP_MAX_LISTEN];
unsigned int tp_nlsn;
struct conn *tp_conns[TP_SLOTS];
unsigned int tp_nslots;
unsigned int tp_naccept;
tp_rx_fn tp_rx_cb;
void *tp_rx_arg;
struct tp_limits tp_lim = {TP_DEFAULT_MAX_CONNS, TP_DEFAULT_MAX_PER_SOURCE, TP_DEFAULT_MSG_MS,
			   TP_DEFAULT_IDLE_MS, TP_DEFAULT_MAX_OUT};
struct tp_stats tp_st;
uint64_t tp_accept_paused_until;
uint64_t tp_last_warn_ms[4];
static unsigned int ndead;

void tp_limits_default(struct tp_limits *l)
{
	*l = (struct tp_limits){TP_DEFAULT_MAX_CONNS, TP_DEFAULT_MAX_PER_SOURCE, TP_DEFAULT_MSG_MS,
				TP_DEFAULT_IDLE_MS, TP_DEFAULT_MAX_OUT};
}

void tp_set_limits(const struct tp_limits *l)
{
	tp_lim = *l;
	if (tp_lim.max_conns > TP_SLOTS - TP_SLOTS_OUT)
		tp_lim.max_conns = TP_SLOTS - TP_SLOTS_OUT;
	if (tp_lim.max_out < TP_MAX_MSG)
		tp_lim.max_out = TP_MAX_MSG; /* one message always fits */
}

void tp_get_stats(struct tp_stats *s)
{
	*s = tp_st;
	s->conns = 0;
	for (unsigned int i = 0; i < tp_nslots; i++)
		s->conns += tp_conns[i] && !tp_conns[i]->dead;
}

/* Close now, free later (see the top of this file). */
void conn_kill(int slot)
{
	struct conn *c = tp_conns[slot];

	if (!c || c->dead)
		return;
	epoll_ctl(tp_epfd, EPOLL_CTL_DEL, c->fd, NULL);
	tls_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
	c->dead = true;
	if (c->accepted)
		tp_naccept--;
	ndead++;
}

static void conn_free(int slot)
{
	struct conn *c = tp_conns[slot];

	free(c->in);
	free(c->out);
	free(c);
	tp_conns[slot] = NULL;
}

void conns_reap(void)
{
	if (!ndead)
		return;
	for (unsigned int i = 0; i < tp_nslots; i++)
		if (tp_conns[i] && tp_conns[i]->dead)
			conn_free(i);
	ndead = 0;
	while (tp_nslots && !tp_conns[tp_nslots - 1])
		tp_nslots--;
}

int conn_add(int fd, const struct sip_addr *peer, bool accepted)
{
	struct epoll_event ev = {.events = EPOLLIN | (accepted ? 0 : EPOLLOUT)};
	unsigned int slot;
	struct conn *c;

	for (slot = 0; slot < TP_SLOTS && tp_conns[slot]; slot++)
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
	if (epoll_ctl(tp_epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(c);
		return -errno;
	}
	tp_conns[slot] = c;
	if (slot >= tp_nslots)
		tp_nslots = slot + 1;
	if (accepted)
		tp_naccept++;
	return slot;
}

static int conn_find(const struct sip_addr *peer)
{
	for (unsigned int i = 0; i < tp_nslots; i++)
		if (tp_conns[i] && !tp_conns[i]->dead &&
		    sip_ip_eq(&tp_conns[i]->peer.ip, &peer->ip) &&
		    tp_conns[i]->peer.port == peer->port && tp_conns[i]->peer.proto == peer->proto)
			return i;
	return -ENOENT;
}

/* Accepted connections from @ip's source unit (an IPv4 address, an IPv6 /64). */
unsigned int conns_from(const struct sip_ip *ip)
{
	struct sip_ip u = sip_ip_source(ip);
	unsigned int n = 0;

	for (unsigned int i = 0; i < tp_nslots; i++) {
		struct sip_ip pu;

		if (!tp_conns[i] || tp_conns[i]->dead || !tp_conns[i]->accepted)
			continue;
		pu = sip_ip_source(&tp_conns[i]->peer.ip);
		n += sip_ip_eq(&pu, &u);
	}
	return n;
}

static void conn_want_out(int slot, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0),
				 .data.u32 = TAG_CONN + slot};

	epoll_ctl(tp_epfd, EPOLL_CTL_MOD, tp_conns[slot]->fd, &ev);
}

static int conn_flush(int slot)
{
	struct conn *c = tp_conns[slot];
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
			tp_conns[slot]->ssl = tls_new(fd, false, dst);
			if (!tp_conns[slot]->ssl) {
				conn_kill(slot);
				return -ENOMEM;
			}
			/* The handshake (and then the message) within msg_ms. */
			tp_conns[slot]->start_ms = sigd_now_ms();
		}
	}
	c = tp_conns[slot];
	/*
	 * A peer that stopped reading: the queue is bounded, and a message
	 * cannot be dropped from the middle of a stream, so the connection goes.
	 */
	if (c->out_len + len > tp_lim.max_out) {
		tp_st.closed_overflow++;
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

/* The UDP socket to send to a peer of family @af: the first listener of that family. */
int udp_fd_for(int af)
{
	for (unsigned int i = 0; i < tp_nlsn; i++)
		if (tp_lsn[i].af == af)
			return tp_lsn[i].udp_fd;
	return -1;
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
	struct conn *c = tp_conns[slot];
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
			tp_st.closed_bad_frame++;
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
		tp_rx_cb(tp_rx_arg, c->in + off, len, &c->peer);
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
	struct conn *c = tp_conns[slot];
	bool ww;
	int r = tls_handshake(c->ssl, &c->peer, &ww);

	if (r < 0) {
		tp_st.tls_failed++;
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
	struct conn *c = tp_conns[slot];
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
	struct conn *c = tp_conns[slot];
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

/*
 * Time limits: a message (and an accepted connection's first one) must be
 * complete within msg_ms of its first byte, however slowly it trickles in;
 * any connection without traffic for idle_ms is closed.
 */
void conns_expire(uint64_t now)
{
	for (unsigned int i = 0; i < tp_nslots; i++) {
		struct conn *c = tp_conns[i];

		if (!c || c->dead)
			continue;
		if ((c->start_ms && now - c->start_ms > tp_lim.msg_ms) ||
		    now - c->last_ms > tp_lim.idle_ms) {
			tp_st.closed_timeout++;
			xs_log(XS_LOG_DEBUG, "[-] tcp %s: %s, closing\n", PEER(&c->peer),
			       c->start_ms ? (c->had_msg ? "message incomplete" : "no message")
					   : "idle");
			conn_kill(i);
		}
	}
}

void conn_event(int slot, uint32_t events)
{
	struct conn *c = tp_conns[slot];

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
