// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP exhaustion from one sender, against the real transport on loopback:
 * a source past its connection cap is refused while another source still
 * gets answers; the global cap; connections that bring no message, a message
 * that trickles in and idle connections are closed on time; a peer that does
 * not read cannot make the edge queue without bound; and running out of file
 * descriptors does not make the loop spin.
 */
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include "tcp_test.h"

static uint16_t port;
static struct tp_limits lim;

static void limits(unsigned int max, unsigned int per_source, unsigned int msg_ms,
		   unsigned int idle_ms, unsigned int max_out)
{
	lim = (struct tp_limits){max, per_source, msg_ms, idle_ms, max_out};
	tp_set_limits(&lim);
}

/* Has the edge closed @fd (EOF or reset) within @ms? */
static bool closed_within(int fd, int ms)
{
	char buf[4096];

	for (;;) {
		ssize_t n = pump_read(fd, buf, sizeof(buf), ms);

		if (n == 0 || n == -ECONNRESET)
			return true;
		if (n < 0)
			return false;
	}
}

static uint64_t now_ms(void)
{
	return sigd_now_ms();
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	pump(50);
}

static void per_source_cap(void)
{
	const char *name = "tcp_per_source_cap";
	int before = check_failed, fds[6], other, third[4];
	struct tp_stats st;

	limits(8, 4, 5000, 60000, TP_DEFAULT_MAX_OUT);
	for (int i = 0; i < 6; i++) {
		fds[i] = tcp_client("127.0.0.2", port);
		pump(20);
	}
	for (int i = 0; i < 4; i++)
		T_CHECK(name, options_ok(fds[i], port, 1000), "connection %d not answered", i);
	for (int i = 4; i < 6; i++)
		T_CHECK(name, closed_within(fds[i], 500), "connection %d past the cap kept", i);
	other = tcp_client("127.0.0.4", port);
	T_CHECK(name, other >= 0 && options_ok(other, port, 1000),
		"another source is not answered while the first is at its cap");
	tp_get_stats(&st);
	T_CHECK(name, st.refused_source == 2, "refused_source %llu",
		(unsigned long long)st.refused_source);
	/* 4 + 1 live; three more from a third source reach the global cap of 8. */
	for (int i = 0; i < 4; i++) {
		third[i] = tcp_client("127.0.0.6", port);
		pump(20);
	}
	for (int i = 0; i < 3; i++)
		T_CHECK(name, options_ok(third[i], port, 1000), "third source %d", i);
	T_CHECK(name, closed_within(third[3], 500), "the global cap is not enforced");
	tp_get_stats(&st);
	T_CHECK(name, st.refused_cap == 1, "refused_cap %llu", (unsigned long long)st.refused_cap);
	close_all(fds, 6);
	close_all(third, 4);
	close(other);
	pump(50);
	if (check_failed == before)
		T_PASS(name);
}

static void timeouts(void)
{
	const char *name = "tcp_timeouts";
	int before = check_failed, silent, talker, slow;
	uint64_t t0, t_silent = 0, t_slow = 0, t_talker = 0;
	char buf[4096];
	int len;

	limits(64, 16, 300, 800, TP_DEFAULT_MAX_OUT);
	silent = tcp_client("127.0.0.2", port);
	talker = tcp_client("127.0.0.2", port);
	slow = tcp_client("127.0.0.2", port);
	pump(20);
	T_CHECK(name, options_ok(talker, port, 1000), "talker not answered");
	t0 = now_ms();
	len = options_msg(buf, sizeof(buf), slow, port, 7);
	/* One byte every 50 ms: each resets the idle timer, none the message's. */
	for (int i = 0; i < len && now_ms() - t0 < 1500; i++) {
		struct pollfd p[3] = {{.fd = silent, .events = POLLIN},
				      {.fd = slow, .events = POLLIN},
				      {.fd = talker, .events = POLLIN}};

		send(slow, buf + i, 1, MSG_NOSIGNAL);
		for (int j = 0; j < 10; j++) {
			tp_poll(5);
			poll(p, 3, 0);
			if (!t_silent && p[0].revents)
				t_silent = now_ms() - t0;
			if (!t_slow && p[1].revents)
				t_slow = now_ms() - t0;
			if (!t_talker && p[2].revents)
				t_talker = now_ms() - t0;
		}
	}
	if (!t_talker && closed_within(talker, 1000))
		t_talker = now_ms() - t0;
	printf("# closed after: silent %llu ms, trickling %llu ms, idle %llu ms\n",
	       (unsigned long long)t_silent, (unsigned long long)t_slow,
	       (unsigned long long)t_talker);
	T_CHECK(name, t_silent >= 200 && t_silent <= 700, "no-message connection: %llu ms",
		(unsigned long long)t_silent);
	T_CHECK(name, t_slow >= 200 && t_slow <= 700, "trickling message: %llu ms",
		(unsigned long long)t_slow);
	T_CHECK(name, t_talker >= 600 && t_talker <= 1400, "idle connection: %llu ms",
		(unsigned long long)t_talker);
	close(silent);
	close(talker);
	close(slow);
	pump(20);
	if (check_failed == before)
		T_PASS(name);
}

/* A client that never reads: the edge's queue for it stays bounded, then the edge lets go. */
static void slow_reader(void)
{
	const char *name = "tcp_slow_reader_bounded";
	int before = check_failed, fd, small = 4096, err = 0, sent = 0;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	static char big[16384];
	struct sip_addr peer = {.proto = SIP_TCP};
	struct tp_stats st;

	limits(64, 16, 5000, 60000, TP_MAX_MSG);
	fd = sock(SOCK_STREAM, "127.0.0.7", 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	sin.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (!T_CHECK(name, !connect(fd, (struct sockaddr *)&sin, sizeof(sin)), "connect"))
		return;
	T_CHECK(name, options_ok(fd, port, 1000), "not answered before");
	peer.ip = sip_ip4((struct in_addr){htonl(INADDR_LOOPBACK + 6)});
	peer.port = local_port(fd);
	memset(big, 'x', sizeof(big));
	/* What the edge queues is bounded: kernel buffers plus max_out. */
	for (int i = 0; i < 4096 && !err; i++) {
		err = tp_send(&peer, big, sizeof(big), NULL);
		sent += !err;
		tp_poll(0);
	}
	tp_get_stats(&st);
	printf("# %d x 16 KiB queued before the edge gave up (%s)\n", sent, strerror(-err));
	T_CHECK(name, err == -ENOBUFS, "queue never full: %s", strerror(-err));
	T_CHECK(name, st.closed_overflow == 1, "closed_overflow %llu",
		(unsigned long long)st.closed_overflow);
	T_CHECK(name, closed_within(fd, 1000), "connection kept");
	close(fd);
	fd = tcp_client("127.0.0.7", port);
	T_CHECK(name, fd >= 0 && options_ok(fd, port, 1000), "not answered afterwards");
	close(fd);
	if (check_failed == before)
		T_PASS(name);
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * Out of descriptors: a child opens connections to the edge, whose process
 * may hold only a few more fds. The edge keeps refusing them (each pending
 * one accepted with the spare fd and closed) and its CPU time over 3 s of
 * polling stays small; with the limit back, connections work again.
 */
static void emfile(void)
{
	const char *name = "tcp_emfile_no_spin";
	int before = check_failed, fd, ready[2];
	struct rlimit rl, low;
	struct tp_stats st;
	double cpu;
	pid_t child;
	char c;

	limits(1024, 1024, 5000, 60000, TP_DEFAULT_MAX_OUT);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (pipe(ready))
		return;
	child = fork();
	if (child == 0) {
		int fds[40];

		read(ready[0], &c, 1);
		for (int i = 0; i < 40; i++)
			fds[i] = tcp_client("127.0.0.8", port);
		/* Hold them until the parent is done measuring. */
		read(ready[0], &c, 1);
		for (int i = 0; i < 40; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		_exit(0);
	}
	/* The lowest free fd, plus two: two connections fit, the rest meet EMFILE. */
	fd = dup(0);
	close(fd);
	low = rl;
	low.rlim_cur = fd + 2;
	setrlimit(RLIMIT_NOFILE, &low);
	write(ready[1], "g", 1);
	pump(300);
	cpu = cpu_s();
	for (uint64_t t0 = now_ms(); now_ms() - t0 < 3000;)
		tp_poll(100);
	cpu = cpu_s() - cpu;
	tp_get_stats(&st);
	setrlimit(RLIMIT_NOFILE, &rl);
	write(ready[1], "g", 1);
	waitpid(child, NULL, 0);
	close(ready[0]);
	close(ready[1]);
	printf("# out of fds: %.3f s CPU in 3 s of polling, %llu connections refused\n", cpu,
	       (unsigned long long)st.refused_fd);
	T_CHECK(name, st.refused_fd > 0, "EMFILE not reached");
	T_CHECK(name, cpu < 0.3, "the loop spins: %.3f s CPU in 3 s", cpu);
	pump(200);
	fd = tcp_client("127.0.0.2", port);
	T_CHECK(name, fd >= 0 && options_ok(fd, port, 1000), "not answered afterwards");
	close(fd);
	if (check_failed == before)
		T_PASS(name);
}

int main(void)
{
	struct sigd_cfg cfg;
	char up[64];
	int core = sock(SOCK_DGRAM, "127.0.0.3", 0);

	snprintf(up, sizeof(up), "sip:127.0.0.3:%u", local_port(core));
	port = start_proxy(&cfg, up);
	if (!port) {
		T_FAIL("tcp_limits", "no listen port");
		return 1;
	}
	per_source_cap();
	timeouts();
	slow_reader();
	emfile();
	tp_close();
	close(core);
	return check_failed ? 1 : 0;
}
