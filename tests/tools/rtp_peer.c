// SPDX-License-Identifier: GPL-2.0-only
/*
 * rtp_peer: a bounded RTP endpoint for the end-to-end tests.
 *
 * Binds LOCAL, sends COUNT RTP packets to REMOTE while receiving and checking
 * what the far end sends, then prints one JSON line. Every payload byte is a
 * function of (ssrc, seq, offset), so a receiver can tell a packet relayed
 * intact from one that was truncated or rewritten in the wrong place.
 *
 *   rtp_peer -l 10.0.0.2:4000 -r 203.0.113.1:20000 [-n 250] [-i 20] [-t 15]
 *            [-W] [-e N] [-L ms] [-R] [-s ssrc] [-o file]
 *
 * Addresses are IPv4 (a.b.c.d:port) or IPv6 ([x::y]:port, or x::y:port: the
 * last colon is the port's), -l and -r of one family (one socket sends and
 * receives).
 *
 * -W waits for the first packet from anyone before sending: a peer on the
 * public side talks to a NATed caller through the edge only once the edge has
 * latched the caller's real address from its first packet (symmetric RTP).
 * -R also sends an RTCP sender report every 25 packets from LOCAL port + 1 to
 * REMOTE port + 1 and counts the RTCP packets received on LOCAL port + 1;
 * with -W, reports wait (queued, not skipped) for the first one received.
 * The run ends when everything is sent and either -e N packets arrived (plus
 * a short drain for the last RTCP) or nothing arrived for -L ms (default
 * 1000), and in any case after -t seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RTP_HDR	    12
#define RTP_PAYLOAD 160 /* 20 ms of G.711 */
#define RTP_PT	    0	/* PCMU */
#define SEQ_BASE    0x1000
#define MAX_COUNT   60000 /* below 65536: a sequence number names one packet */
#define RTCP_EVERY  25
#define DRAIN_MS    300 /* after the last expected RTP packet, for trailing RTCP */

/* Either family; sin_port and sin6_port sit at the same offset, so .in.sin_port serves both. */
typedef union {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
} sockaddr_any;

static socklen_t sa_len(const sockaddr_any *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

static bool sa_same(const sockaddr_any *a, const sockaddr_any *b)
{
	if (a->sa.sa_family != b->sa.sa_family || a->in.sin_port != b->in.sin_port)
		return false;
	if (a->sa.sa_family == AF_INET6)
		return !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16);
	return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
}

/* "a.b.c.d:port" or "[x::y]:port". */
static const char *sa_str(const sockaddr_any *a, char *buf, size_t len)
{
	char h[INET6_ADDRSTRLEN] = "";

	if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, h, sizeof(h));
		snprintf(buf, len, "[%s]:%u", h, ntohs(a->in.sin_port));
	} else {
		inet_ntop(AF_INET, &a->in.sin_addr, h, sizeof(h));
		snprintf(buf, len, "%s:%u", h, ntohs(a->in.sin_port));
	}
	return buf;
}

struct peer {
	int rtp, rtcp; /* rtcp: -1 unless -R */
	sockaddr_any remote, remote_rtcp;
	uint32_t ssrc;
	/* what arrived */
	unsigned long received, unique, in_order, out_of_order, duplicates, corrupt, foreign;
	unsigned long rtcp_sent, rtcp_received, rtcp_corrupt;
	uint32_t far_ssrc;
	bool have_far;
	int last_idx, first_idx, missing_first; /* missing_first: lowest index never seen */
	sockaddr_any first_src;
	unsigned int srcs; /* distinct source addresses seen (up to 8 kept) */
	sockaddr_any src_seen[8];
	uint8_t seen[MAX_COUNT / 8 + 1];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint8_t payload_byte(uint32_t ssrc, uint16_t seq, unsigned int i)
{
	return (uint8_t)(ssrc * 13 + seq * 31 + i * 7 + (seq >> 8));
}

static int parse_addr(const char *s, sockaddr_any *sa)
{
	char buf[80], *colon, *host = buf;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->in.sin_port = htons((uint16_t)atoi(colon + 1));
	if (*host == '[' && colon > host + 1 && colon[-1] == ']') {
		colon[-1] = '\0';
		sa->in6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host + 1, &sa->in6.sin6_addr) != 1)
			return -EINVAL;
	} else if (strchr(host, ':')) {
		/* Bare IPv6 (what a scenario takes from c=IN IP6): the last colon is the port's. */
		sa->in6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &sa->in6.sin6_addr) != 1)
			return -EINVAL;
	} else {
		sa->in.sin_family = AF_INET;
		if (inet_pton(AF_INET, host, &sa->in.sin_addr) != 1)
			return -EINVAL;
	}
	return sa->in.sin_port ? 0 : -EINVAL;
}

static int bound_socket(const sockaddr_any *local)
{
	int one = 1, fd;

	fd = socket(local->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &local->sa, sa_len(local)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void send_rtp(struct peer *p, unsigned int idx)
{
	uint8_t pkt[RTP_HDR + RTP_PAYLOAD];
	uint16_t seq = (uint16_t)(SEQ_BASE + idx);
	uint32_t ts = htonl(idx * RTP_PAYLOAD), ssrc = htonl(p->ssrc);
	uint16_t nseq = htons(seq);

	pkt[0] = 0x80;				 /* V=2 */
	pkt[1] = RTP_PT | (idx == 0 ? 0x80 : 0); /* marker on the first packet */
	memcpy(pkt + 2, &nseq, 2);
	memcpy(pkt + 4, &ts, 4);
	memcpy(pkt + 8, &ssrc, 4);
	for (unsigned int i = 0; i < RTP_PAYLOAD; i++)
		pkt[RTP_HDR + i] = payload_byte(p->ssrc, seq, i);
	sendto(p->rtp, pkt, sizeof(pkt), 0, &p->remote.sa, sa_len(&p->remote));
}

static void send_rtcp(struct peer *p, unsigned int sent)
{
	/* RFC 3550 sender report without report blocks: 28 bytes. */
	uint32_t sr[7];

	sr[0] = htonl(0x80000000u | (200u << 16) | 6u); /* V=2, PT=SR, length 6 words */
	sr[1] = htonl(p->ssrc);
	sr[2] = htonl(0x83aa7e80u); /* NTP seconds: fixed, the receiver checks it */
	sr[3] = htonl(sent);
	sr[4] = htonl(sent * RTP_PAYLOAD);
	sr[5] = htonl(sent);
	sr[6] = htonl(sent * RTP_PAYLOAD);
	if (sendto(p->rtcp, sr, sizeof(sr), 0, &p->remote_rtcp.sa, sa_len(&p->remote_rtcp)) ==
	    sizeof(sr))
		p->rtcp_sent++;
}

static void note_source(struct peer *p, const sockaddr_any *from)
{
	unsigned int i, kept = p->srcs < 8 ? p->srcs : 8;

	for (i = 0; i < kept; i++)
		if (sa_same(&p->src_seen[i], from))
			return;
	if (p->srcs == 0)
		p->first_src = *from;
	if (p->srcs < 8)
		p->src_seen[p->srcs] = *from;
	p->srcs++;
}

static void check_rtp(struct peer *p, const uint8_t *pkt, ssize_t len)
{
	uint16_t seq;
	uint32_t ssrc;
	int idx;

	if (len != RTP_HDR + RTP_PAYLOAD || pkt[0] != 0x80 || (pkt[1] & 0x7f) != RTP_PT) {
		p->corrupt++;
		return;
	}
	memcpy(&seq, pkt + 2, 2);
	memcpy(&ssrc, pkt + 8, 4);
	seq = ntohs(seq);
	ssrc = ntohl(ssrc);
	for (unsigned int i = 0; i < RTP_PAYLOAD; i++) {
		if (pkt[RTP_HDR + i] != payload_byte(ssrc, seq, i)) {
			p->corrupt++;
			return;
		}
	}
	if (!p->have_far) {
		p->far_ssrc = ssrc;
		p->have_far = true;
	} else if (ssrc != p->far_ssrc) {
		p->foreign++;
		return;
	}
	idx = (uint16_t)(seq - SEQ_BASE);
	if (idx >= MAX_COUNT) {
		p->corrupt++;
		return;
	}
	if (p->unique == 0)
		p->first_idx = idx;
	if (p->seen[idx / 8] & (1u << (idx % 8))) {
		p->duplicates++;
		return;
	}
	p->seen[idx / 8] |= 1u << (idx % 8);
	p->unique++;
	if (idx > p->last_idx)
		p->in_order++;
	else
		p->out_of_order++;
	p->last_idx = idx > p->last_idx ? idx : p->last_idx;
}

static bool drain(struct peer *p, int fd, bool rtcp)
{
	uint8_t buf[2048];
	sockaddr_any from;
	socklen_t fl;
	ssize_t n;
	bool got = false;

	for (int budget = 0; budget < 1024; budget++) {
		fl = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, &from.sa, &fl);
		if (n < 0)
			break;
		got = true;
		if (rtcp) {
			uint32_t w0;

			p->rtcp_received++;
			memcpy(&w0, buf, 4);
			if (n != 28 || (ntohl(w0) >> 16) != 0x80c8)
				p->rtcp_corrupt++;
			continue;
		}
		p->received++;
		note_source(p, &from);
		check_rtp(p, buf, n);
	}
	return got;
}

static void usage(void)
{
	fprintf(stderr, "usage: rtp_peer -l ADDR:PORT -r ADDR:PORT [-n count] [-i ms] [-t s] "
			"[-W] [-e expect] [-L linger_ms] [-R] [-s ssrc] [-o file]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct peer p;
	sockaddr_any local, local_rtcp;
	unsigned int count = 250, interval = 20, timeout = 15, linger = 1000;
	unsigned long expect = 0;
	bool wait_first = false, rtcp = false, have_l = false, have_r = false;
	const char *out = NULL;
	uint64_t start, next_send, last_rx, end;
	unsigned int sent = 0, rtcp_due = 0;
	uint64_t done_at = 0;
	char a1[64], a2[64];
	FILE *f = stdout;
	int c;

	p.ssrc = (uint32_t)getpid() * 2654435761u;
	p.rtcp = -1;
	p.last_idx = -1;
	while ((c = getopt(argc, argv, "l:r:n:i:t:We:L:Rs:o:")) != -1) {
		switch (c) {
		case 'l':
			if (parse_addr(optarg, &local))
				usage();
			have_l = true;
			break;
		case 'r':
			if (parse_addr(optarg, &p.remote))
				usage();
			have_r = true;
			break;
		case 'n':
			count = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'i':
			interval = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			timeout = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'W':
			wait_first = true;
			break;
		case 'e':
			expect = strtoul(optarg, NULL, 0);
			break;
		case 'L':
			linger = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'R':
			rtcp = true;
			break;
		case 's':
			p.ssrc = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			usage();
		}
	}
	if (!have_l || !have_r || count > MAX_COUNT || timeout == 0 || timeout > 600)
		usage();

	p.rtp = bound_socket(&local);
	if (p.rtp < 0) {
		fprintf(stderr, "rtp_peer: bind %s: %s\n", sa_str(&local, a1, sizeof(a1)),
			strerror(-p.rtp));
		return 1;
	}
	if (rtcp) {
		local_rtcp = local;
		local_rtcp.in.sin_port = htons(ntohs(local.in.sin_port) + 1);
		p.remote_rtcp = p.remote;
		p.remote_rtcp.in.sin_port = htons(ntohs(p.remote.in.sin_port) + 1);
		p.rtcp = bound_socket(&local_rtcp);
		if (p.rtcp < 0) {
			fprintf(stderr, "rtp_peer: bind rtcp: %s\n", strerror(-p.rtcp));
			return 1;
		}
	}

	start = now_ms();
	end = start + (uint64_t)timeout * 1000;
	next_send = start;
	last_rx = start;
	for (;;) {
		struct pollfd pfd[2] = {{p.rtp, POLLIN, 0}, {p.rtcp, POLLIN, 0}};
		uint64_t now = now_ms();
		int wait_ms;

		if (now >= end)
			break;
		if (sent < count && (!wait_first || p.received) && now >= next_send) {
			send_rtp(&p, sent);
			sent++;
			if (rtcp && sent % RTCP_EVERY == 0)
				rtcp_due++;
			next_send += interval;
			if (next_send < now) /* fell behind (scheduling): do not burst */
				next_send = now;
			continue;
		}
		while (rtcp_due && (!wait_first || p.rtcp_received)) {
			send_rtcp(&p, sent);
			rtcp_due--;
		}
		if (sent == count) {
			if (expect && p.unique >= expect && !done_at)
				done_at = now + DRAIN_MS;
			if (done_at && now >= done_at)
				break;
			if (!expect && now - last_rx >= linger && now - next_send >= linger)
				break;
		}
		wait_ms = 50;
		if (sent < count && (!wait_first || p.received))
			wait_ms = next_send > now ? (int)(next_send - now) : 0;
		if (poll(pfd, rtcp ? 2 : 1, wait_ms) > 0) {
			if (drain(&p, p.rtp, false))
				last_rx = now_ms();
			if (rtcp)
				drain(&p, p.rtcp, true);
		}
	}

	p.missing_first = -1;
	for (int i = 0; i < p.last_idx; i++) {
		if (!(p.seen[i / 8] & (1u << (i % 8)))) {
			p.missing_first = i;
			break;
		}
	}
	if (out) {
		f = fopen(out, "w");
		if (!f) {
			fprintf(stderr, "rtp_peer: %s: %s\n", out, strerror(errno));
			return 1;
		}
	}
	sa_str(&p.first_src, a1, sizeof(a1));
	sa_str(&p.remote, a2, sizeof(a2));
	fprintf(f,
		"{\"sent\":%u,\"received\":%lu,\"unique\":%lu,\"in_order\":%lu,"
		"\"out_of_order\":%lu,\"duplicates\":%lu,\"corrupt\":%lu,\"foreign\":%lu,"
		"\"rtcp_sent\":%lu,\"rtcp_received\":%lu,\"rtcp_corrupt\":%lu,"
		"\"first\":%d,\"last\":%d,\"first_gap\":%d,"
		"\"source\":\"%s\",\"sources\":%u,\"remote\":\"%s\",\"ms\":%llu}\n",
		sent, p.received, p.unique, p.in_order, p.out_of_order, p.duplicates, p.corrupt,
		p.foreign, p.rtcp_sent, p.rtcp_received, p.rtcp_corrupt,
		p.unique ? p.first_idx : -1, p.last_idx, p.missing_first, p.srcs ? a1 : ":0",
		p.srcs, a2, (unsigned long long)(now_ms() - start));
	if (out)
		fclose(f);
	return 0;
}
