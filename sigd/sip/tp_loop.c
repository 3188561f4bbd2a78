// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's one epoll loop: events of the listeners (tp_listen.c: UDP,
 * TCP and TLS on each listen address), of the connections (transport.c) and
 * of other readable fds (control API, ban events), then the timers.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "sip/tp_int.h"

static uint64_t last_expire_ms;

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

	if (tp_epfd < 0)
		return -EBADF;
	if (nwatch >= TP_MAX_WATCH)
		return -E2BIG;
	if (epoll_ctl(tp_epfd, EPOLL_CTL_ADD, fd, &ev))
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
	int n = epoll_wait(tp_epfd, ev, 64, timeout_ms);

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;
		unsigned int slot = tag - TAG_CONN;

		if (tag < TAG_CONN) {
			for (unsigned int l = 0; l < tp_nlsn; l++) {
				if (tag == (uint32_t)tp_lsn[l].udp_fd)
					udp_read(tp_lsn[l].udp_fd);
				else if (tag == (uint32_t)tp_lsn[l].tcp_fd)
					tcp_accept(tp_lsn[l].tcp_fd, tp_lsn[l].tls);
			}
			continue;
		}
		if (tag >= TAG_WATCH && tag < TAG_WATCH + nwatch) {
			watches[tag - TAG_WATCH].cb(watches[tag - TAG_WATCH].arg);
			continue;
		}
		if (tag < TAG_CONN || slot >= tp_nslots || !tp_conns[slot] || tp_conns[slot]->dead)
			continue;
		conn_event(slot, ev[i].events);
	}
	now = sigd_now_ms();
	if (tp_accept_paused_until && now >= tp_accept_paused_until)
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
	for (unsigned int i = 0; i < tp_nslots; i++)
		conn_kill(i);
	conns_reap();
	for (unsigned int i = 0; i < tp_nlsn; i++) {
		if (tp_lsn[i].udp_fd >= 0)
			close(tp_lsn[i].udp_fd);
		close(tp_lsn[i].tcp_fd);
	}
	tp_nlsn = 0;
	if (tp_epfd >= 0)
		close(tp_epfd);
	if (tp_spare_fd >= 0)
		close(tp_spare_fd);
	tp_epfd = tp_spare_fd = -1;
	nwatch = 0;
	tp_naccept = 0;
	tp_accept_paused_until = 0;
}
