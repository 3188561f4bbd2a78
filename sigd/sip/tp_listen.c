// SPDX-License-Identifier: GPL-2.0-only
/*
 * The transport's listen sockets (UDP, TCP and TLS on each listen address,
 * IPv4 and IPv6), reading datagrams, and accepting connections within the
 * caps (tp_int.h has the state shared with the connections).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sip/tp_int.h"

int spare_open(void)
{
	if (tp_spare_fd < 0)
		tp_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return tp_spare_fd;
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

/*
 * A SIP datagram socket's receive queue absorbs the time the loop is not
 * reading it: a save, a burst of bpf syscalls, or (on a shared host) the
 * scheduler running something else. The default (rmem_default, ~208 KiB)
 * holds about 100 datagrams, 30 ms at 600 calls/s; a longer stall drops
 * INVITEs and 200s, which come back as retransmissions and 408s. 8 MiB
 * holds a few seconds at that rate and costs memory only while queued.
 * FORCE (CAP_NET_ADMIN, which sigd has for the datapath) is not capped by
 * rmem_max; without it the plain option gets what rmem_max allows.
 */
#define UDP_RCVBUF (8 << 20)

static void udp_rcvbuf(int fd)
{
	int sz = UDP_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

static int listen_one(const struct sip_addr *a, bool tls)
{
	struct listener *l = &tp_lsn[tp_nlsn];
	struct epoll_event ev = {.events = EPOLLIN};
	struct sockaddr_storage ss;
	socklen_t sl = sip_addr_to_sa(a, &ss);
	int err;

	if (tp_nlsn >= TP_MAX_LISTEN)
		return -E2BIG;
	l->af = a->ip.af == AF_INET6 ? AF_INET6 : AF_INET;
	l->tls = tls;
	l->udp_fd = tls ? -1 : sock_open(l->af, SOCK_DGRAM);
	l->tcp_fd = sock_open(l->af, SOCK_STREAM);
	if ((!tls && l->udp_fd < 0) || l->tcp_fd < 0)
		goto fail;
	if (!tls)
		udp_rcvbuf(l->udp_fd);
	if ((!tls && bind(l->udp_fd, (struct sockaddr *)&ss, sl)) ||
	    bind(l->tcp_fd, (struct sockaddr *)&ss, sl) || listen(l->tcp_fd, 128))
		goto fail;
	ev.data.u32 = l->udp_fd;
	if (!tls && epoll_ctl(tp_epfd, EPOLL_CTL_ADD, l->udp_fd, &ev))
		goto fail;
	ev.data.u32 = l->tcp_fd;
	if (epoll_ctl(tp_epfd, EPOLL_CTL_ADD, l->tcp_fd, &ev))
		goto fail;
	tp_nlsn++;
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

	tp_rx_cb = rx;
	tp_rx_arg = arg;
	tp_nlsn = 0;
	tp_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (tp_epfd < 0)
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

void udp_read(int udp_fd)
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
		tp_rx_cb(tp_rx_arg, buf, n, &src);
	}
}

void accept_pause(bool on)
{
	for (unsigned int i = 0; i < tp_nlsn; i++) {
		struct epoll_event ev = {.events = on ? 0 : EPOLLIN, .data.u32 = tp_lsn[i].tcp_fd};

		epoll_ctl(tp_epfd, EPOLL_CTL_MOD, tp_lsn[i].tcp_fd, &ev);
	}
	tp_accept_paused_until = on ? sigd_now_ms() + ACCEPT_PAUSE_MS : 0;
}

/*
 * Out of file descriptors: the pending connection stays in the backlog and
 * the listener stays readable, so a level-triggered loop would spin. Spend
 * the spare fd to accept and close it (the peer sees the refusal), then take
 * the spare back; if it cannot be had again, stop accepting for a while.
 */
static bool accept_no_fd(int tcp_fd)
{
	bool had_spare = tp_spare_fd >= 0;
	int fd = -1;

	/* accept() takes the fd before it looks at the backlog: EMFILE also when it is empty. */
	if (tp_spare_fd >= 0) {
		close(tp_spare_fd);
		tp_spare_fd = -1;
		fd = accept4(tcp_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	if (fd >= 0 || !had_spare) {
		tp_st.refused_fd++;
		WARN_RATE(WARN_FD, "out of file descriptors, refusing connections (%llu so far)",
			  (unsigned long long)tp_st.refused_fd);
	}
	if (spare_open() < 0) {
		accept_pause(true);
		return false;
	}
	return fd >= 0;
}

static bool accept_allowed(const struct sip_addr *peer)
{
	if (tp_naccept >= tp_lim.max_conns) {
		tp_st.refused_cap++;
		WARN_RATE(WARN_CAP, "%u connections, refusing %s (%llu so far)", tp_naccept,
			  PEER(peer), (unsigned long long)tp_st.refused_cap);
		return false;
	}
	if (tp_lim.max_per_source && conns_from(&peer->ip) >= tp_lim.max_per_source) {
		tp_st.refused_source++;
		WARN_RATE(WARN_SOURCE, "%s has %u connections, refusing more (%llu so far)",
			  PEER(peer), tp_lim.max_per_source,
			  (unsigned long long)tp_st.refused_source);
		return false;
	}
	return true;
}

void tcp_accept(int tcp_fd, bool tls)
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
		if (tls && !(tp_conns[slot]->ssl = tls_new(fd, true, &peer))) {
			conn_kill(slot);
			continue;
		}
		tp_st.accepted++;
	}
}
