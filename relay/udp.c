// SPDX-License-Identifier: GPL-2.0-only
/*
 * The plain UDP relay: the datapath of last resort, for hosts where XDP
 * cannot run at all. One socket per relay port that a flow in xs_flows owns,
 * bound to the flow's edge address (IPv4, or IPv6-only for an IPv6 key);
 * worker threads wait on epoll, read with
 * recvmmsg, decide per datagram with the XDP program's latching rules
 * (xs_dp_latch) and send with sendmmsg from the socket of the flow's source
 * port, so the peer sees media from the port it sends to (symmetric RTP).
 *
 * A manager thread scans xs_flows every XS_UDP_SCAN_MS and opens sockets for
 * new flows and closes those of flows that went away, so sigd's media code
 * needs no hook: whatever it writes into the map is served. A closed socket
 * is freed a few scans later, after no worker can still hold it. With
 * nft_pinholes, the manager also keeps the nft pinhole set equal to the set
 * of open ports (the firewall of this path, fw/nft.c).
 *
 * Counters go back into the flow (packets, bytes counted as whole frames
 * like the XDP program does, last_seen_ns), so sigd's media timeout and
 * `xdpsbc flows` work unchanged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fw/fw.h"
#include "relay/internal.h"
#include "relay/nexthop.h"

#define XS_UDP_SCAN_MS	  20
#define XS_UDP_BATCH	  32
#define XS_UDP_MAX_WORKER 8
#define XS_UDP_GRACE	  5 /* scans a closed socket waits before it is freed */
#define XS_UDP_MTU	  2048
#define XS_UDP_RESYNC	  50 /* scans between full nft pinhole syncs */
#define XS_UDP_NFT_STATS  2  /* scans between reads of the nft rule counters */

struct usock {
	int fd;
	uint8_t addr[16]; /* the edge address, IPv4 in the first four bytes */
	bool v6;
	uint16_t port; /* host order */
	unsigned int seen, dead_at;
	struct usock *next_dead;
};

struct udp_dp {
	struct xs_dp head;
	struct xs_dp_opts o;
	_Atomic(struct usock *) *table; /* by port */
	struct usock *dead;
	int epfd[XS_UDP_MAX_WORKER];
	pthread_t worker[XS_UDP_MAX_WORKER], mgr;
	unsigned int nworkers, gen, open;
	atomic_bool stop;
	atomic_ulong relayed, dropped;
	/* Verdicts not yet added to xs_stats (packets, bytes), by reason. */
	atomic_ulong verdict[XS_REASON_MAX][2];
	struct xs_counter nft_last[XS_REASON_MAX]; /* nft counters already counted */
	uint64_t blkgen;			   /* xs_blkgen at the last nft set sync */
	struct xs_config cfg;			   /* xs_config at the last nft set sync */
	bool cfg_known;				   /* cfg was read once */
};

static void count(struct udp_dp *d, unsigned int reason, unsigned long pkts, unsigned long bytes)
{
	atomic_fetch_add(&d->verdict[reason][0], pkts);
	atomic_fetch_add(&d->verdict[reason][1], bytes);
}

/*
 * On this path the firewall is nftables: what its rules dropped (blocklist,
 * IPv6 media, pinholes, flood) goes into xs_stats under the reason the XDP
 * program would have used, so `xdpsbc stats` reads the same on every path.
 * A re-installed table starts its counters from 0 again.
 */
/*
 * sigd's own policy (scanners, brute force) blocks sources by writing the
 * blocklist maps; every such change moves xs_blkgen. Follow it, and sigd's
 * settings, into the nft sets, which are this path's firewall. (CLI changes
 * re-sync themselves.)
 */
static void nft_follow(struct udp_dp *d)
{
	struct xs_config cfg;
	uint32_t zero = 0;
	uint64_t gen;
	int err;

	if (!d->o.maps)
		return;
	if (!bpf_map_lookup_elem(d->o.maps->blkgen, &zero, &gen) && gen != d->blkgen) {
		err = xs_nft_sync_some(d->o.maps, XS_NFT_SYNC_BLOCK | XS_NFT_SYNC_TRUST);
		if (err)
			xs_log(XS_LOG_WARN, "udp datapath: nft sets not re-synced: %s\n",
			       strerror(-err));
		else
			d->blkgen = gen;
	}
	if (xs_config_get(d->o.maps, &cfg) || !memcmp(&cfg, &d->cfg, sizeof(cfg)))
		return;
	/*
	 * `xdpsbc flood set`: the rate is in the flood rules and the ban time in
	 * the ban sets, so the table is installed again (pinholes, blocklist and
	 * trusted networks are carried over in the same transaction; the rate
	 * and ban state start afresh).
	 */
	if (d->cfg_known &&
	    (cfg.flood_rate != d->cfg.flood_rate || cfg.flood_window_s != d->cfg.flood_window_s ||
	     cfg.flood_ban_s != d->cfg.flood_ban_s)) {
		err = xs_nft_install(d->o.maps);
		if (err) {
			xs_log(XS_LOG_WARN, "udp datapath: nft flood rules not updated: %s\n",
			       strerror(-err));
			return;
		}
		xs_log(XS_LOG_INFO, "udp datapath: nft flood limit now %u per %u s, bans %u s\n",
		       cfg.flood_rate, cfg.flood_window_s, cfg.flood_ban_s);
	} else if (xs_nft_sync_some(d->o.maps, XS_NFT_SYNC_CONFIG)) {
		/* sigd's reload moves the relay range in xs_config: the nft relay set follows. */
		return;
	}
	d->cfg = cfg;
	d->cfg_known = true;
}

static void nft_stats(struct udp_dp *d)
{
	struct xs_counter now[XS_REASON_MAX];

	if (xs_nft_counters(now))
		return;
	for (unsigned int r = 0; r < XS_REASON_MAX; r++) {
		struct xs_counter *l = &d->nft_last[r];

		if (now[r].packets < l->packets)
			*l = (struct xs_counter){0};
		if (now[r].packets > l->packets)
			count(d, r, now[r].packets - l->packets, now[r].bytes - l->bytes);
		*l = now[r];
	}
}

/*
 * Add the verdicts to xs_stats (CPU 0's slot), so `xdpsbc stats` counts
 * this path too. Safe only because no XDP program of this pin root runs
 * on the UDP path (sigd detaches it): nothing else writes the counters.
 */
static void stats_flush(struct udp_dp *d)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xs_counter *v;

	if (d->o.stats_fd < 0 || ncpu <= 0)
		return;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return;
	for (uint32_t r = 0; r < XS_REASON_MAX; r++) {
		unsigned long p = atomic_exchange(&d->verdict[r][0], 0);
		unsigned long b = atomic_exchange(&d->verdict[r][1], 0);

		if (!p || bpf_map_lookup_elem(d->o.stats_fd, &r, v))
			continue;
		v[0].packets += p;
		v[0].bytes += b;
		bpf_map_update_elem(d->o.stats_fd, &r, v, BPF_ANY);
	}
	free(v);
}

/*
 * A socket bound to the edge address and port of flow key @k: IPv4, or
 * IPv6-only for an IPv6 key (never a v4-mapped catch-all), so each family's
 * edge address is served by its own socket.
 */
static struct usock *sock_open(struct udp_dp *d, const struct xs_flow_key *k)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = k->port};
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_addr.s_addr = k->addr, .sin_port = k->port};
	struct epoll_event ev = {.events = EPOLLIN};
	struct usock *s = calloc(1, sizeof(*s));
	uint16_t port = ntohs(k->port);
	int one = 1, rcv = 1 << 20, af = k->v6 ? AF_INET6 : AF_INET;
	char ab[INET6_ADDRSTRLEN];

	if (!s)
		return NULL;
	s->fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail;
	/* The edge address may come up after sigd (or sit on a VIP). */
	if (k->v6) {
		memcpy(&sin6.sin6_addr, k->addr6, 16);
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
		/* The ingress interface: relay-tx or relay-redirect, as XDP counts. */
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	} else {
		setsockopt(s->fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (k->v6 ? bind(s->fd, (struct sockaddr *)&sin6, sizeof(sin6))
		  : bind(s->fd, (struct sockaddr *)&sin, sizeof(sin))) {
		xs_log(XS_LOG_WARN, "udp datapath: bind %s%s%s:%u: %s\n", k->v6 ? "[" : "",
		       inet_ntop(af, k->addr6, ab, sizeof(ab)), k->v6 ? "]" : "", port,
		       strerror(errno));
		goto fail;
	}
	memcpy(s->addr, k->addr6, 16);
	s->v6 = k->v6;
	s->port = port;
	ev.data.ptr = s;
	/* RTP and its RTCP port land on one worker: one thread per stream. */
	if (epoll_ctl(d->epfd[(port / 2) % d->nworkers], EPOLL_CTL_ADD, s->fd, &ev))
		goto fail;
	return s;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return NULL;
}

static void sock_retire(struct udp_dp *d, struct usock *s)
{
	epoll_ctl(d->epfd[(s->port / 2) % d->nworkers], EPOLL_CTL_DEL, s->fd, NULL);
	atomic_store(&d->table[s->port], NULL);
	s->dead_at = d->gen + XS_UDP_GRACE;
	s->next_dead = d->dead;
	d->dead = s;
}

static void reap(struct udp_dp *d, bool all)
{
	struct usock **pp = &d->dead, *s;

	while ((s = *pp)) {
		if (all || (int)(d->gen - s->dead_at) >= 0) {
			*pp = s->next_dead;
			close(s->fd);
			free(s);
		} else {
			pp = &s->next_dead;
		}
	}
}

/* One pass over xs_flows: open what flows own, close what they no longer own. */
static void scan(struct udp_dp *d)
{
	struct xs_flow_key key, next;
	unsigned int budget = XS_FLOWS_MAX + 1, changed = 0, n = 0;
	bool first = true;
	uint16_t *ports = NULL;

	d->gen++;
	while (budget-- && !bpf_map_get_next_key(d->o.flows_fd, first ? NULL : &key, &next)) {
		uint16_t port = ntohs(next.port);
		struct usock *s;

		first = false;
		key = next;
		/*
		 * Every UDP flow, whatever the relay range: calls keep their
		 * ports when a reload moves the range.
		 */
		if (key.proto != IPPROTO_UDP)
			continue;
		s = atomic_load(&d->table[port]);
		if (s && (s->v6 != key.v6 || memcmp(s->addr, key.addr6, 16))) {
			sock_retire(d, s); /* the port moved to another edge address */
			s = NULL;
		}
		if (!s) {
			s = sock_open(d, &key);
			if (!s)
				continue;
			atomic_store(&d->table[port], s);
			d->open++;
			changed++;
		}
		s->seen = d->gen;
	}
	for (unsigned int p = 1; p <= 65535; p++) {
		struct usock *s = atomic_load(&d->table[p]);

		if (!s)
			continue;
		if (s->seen != d->gen) {
			sock_retire(d, s);
			d->open--;
			changed++;
		}
	}
	reap(d, false);
	if (d->o.nft_pinholes && d->gen % XS_UDP_NFT_STATS == 0) {
		nft_stats(d);
		nft_follow(d);
	}
	stats_flush(d);
	/* Also now and then: `xdpsbc fw install` may have emptied the set. */
	if (!d->o.nft_pinholes || (!changed && d->gen % XS_UDP_RESYNC))
		return;
	ports = calloc(d->open + 1, sizeof(*ports));
	if (!ports)
		return;
	for (unsigned int p = 1; p <= 65535 && n < d->open; p++)
		if (atomic_load(&d->table[p]))
			ports[n++] = (uint16_t)p;
	int err = xs_nft_pinholes(ports, n);

	if (err)
		xs_log(XS_LOG_WARN, "udp datapath: nft pinholes: %s\n", strerror(-err));
	free(ports);
}

static void *manager(void *arg)
{
	struct udp_dp *d = arg;
	struct timespec ts = {.tv_nsec = XS_UDP_SCAN_MS * 1000000L};

	while (!atomic_load(&d->stop)) {
		scan(d);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* The interface a datagram came in on (IP_PKTINFO / IPV6_PKTINFO). */
static uint32_t in_ifindex(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			return (uint32_t)((struct in_pktinfo *)CMSG_DATA(c))->ipi_ifindex;
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
			return ((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_ifindex;
	}
	return 0;
}

/*
 * A batch read from socket @s: decide, send from the source port's socket,
 * account. The socket of the source port is of the family the flow leaves
 * in (XS_FLOW_OUT6), so a translating flow crosses families simply by being
 * sent from it: the kernel builds the new IP header and UDP checksum.
 */
static void relay_batch(struct udp_dp *d, struct xs_nh_cache *nh, struct usock *s,
			struct mmsghdr *in, unsigned int n)
{
	uint32_t oif = 0, ifin[XS_UDP_BATCH];
	struct xs_flow_key key = {.port = htons(s->port), .proto = IPPROTO_UDP, .v6 = s->v6};
	unsigned int hin = s->v6 ? XS_DP_L2L3L4_6 : XS_DP_L2L3L4, hout;
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} dst;
	struct mmsghdr out[XS_UDP_BATCH];
	struct usock *o;
	struct xs_flow f;
	bool latched = false, ch, out6;
	uint64_t bytes = 0;
	unsigned int k = 0;
	int sent;

	memcpy(key.addr6, s->addr, 16);
	if (bpf_map_lookup_elem(d->o.flows_fd, &key, &f))
		goto drop_all;
	out6 = f.flags & XS_FLOW_OUT6;
	hout = out6 ? XS_DP_L2L3L4_6 : XS_DP_L2L3L4;
	for (unsigned int i = 0; i < n; i++) {
		struct sockaddr_in6 *src6 = in[i].msg_hdr.msg_name;
		struct sockaddr_in *src = in[i].msg_hdr.msg_name;
		int why = s->v6 ? xs_dp_latch(d->o.flows_fd, &f, &src6->sin6_addr, true,
					      src6->sin6_port, &ch)
				: xs_dp_latch(d->o.flows_fd, &f, &src->sin_addr.s_addr, false,
					      src->sin_port, &ch);

		if (why) {
			atomic_fetch_add(&d->dropped, 1);
			count(d, (unsigned int)why, 1, in[i].msg_len + hin);
			continue;
		}
		latched |= ch;
		ifin[k] = in_ifindex(&in[i].msg_hdr);
		out[k].msg_hdr = in[i].msg_hdr;
		out[k].msg_hdr.msg_control = NULL;
		out[k].msg_hdr.msg_controllen = 0;
		out[k].msg_hdr.msg_iov[0].iov_len = in[i].msg_len;
		out[k].msg_hdr.msg_name = &dst;
		out[k].msg_hdr.msg_namelen = out6 ? sizeof(dst.in6) : sizeof(dst.in);
		bytes += in[i].msg_len + hout;
		k++;
	}
	/*
	 * No destination (the other leg on hold or not answered yet), or no
	 * socket of the leaving family on the edge source: as drop-no-route.
	 */
	o = atomic_load(&d->table[ntohs(f.src_port)]);
	if (!k || !o || o->v6 != out6 || memcmp(o->addr, f.src_addr6, 16) ||
	    (out6 ? !memcmp(f.dst_addr6, (uint8_t[16]){0}, 16) : !f.dst_addr)) {
		atomic_fetch_add(&d->dropped, k);
		count(d, XS_DROP_NO_ROUTE, k, bytes);
		k = 0;
	}
	memset(&dst, 0, sizeof(dst));
	if (out6) {
		dst.in6.sin6_family = AF_INET6;
		memcpy(&dst.in6.sin6_addr, f.dst_addr6, 16);
		dst.in6.sin6_port = f.dst_port;
	} else {
		dst.in.sin_family = AF_INET;
		dst.in.sin_addr.s_addr = f.dst_addr;
		dst.in.sin_port = f.dst_port;
	}
	sent = k ? sendmmsg(o->fd, out, k, 0) : 0;
	if (sent < 0)
		sent = 0;
	if (k)
		bytes = bytes * (unsigned int)sent / k;
	if (sent) {
		xs_nh_oif(nh, f.dst_addr6, out6, &oif);
		for (int i = 0; i < sent; i++)
			count(d, ifin[i] && ifin[i] == oif ? XS_RELAY_TX : XS_RELAY_REDIRECT, 1,
			      out[i].msg_hdr.msg_iov[0].iov_len + hout);
	}
	atomic_fetch_add(&d->relayed, (unsigned long)sent);
	atomic_fetch_add(&d->dropped, k - (unsigned int)sent);
	if (sent || latched)
		xs_dp_account(d->o.flows_fd, &key, &f, latched, (uint64_t)sent, bytes, oif);
	return;
drop_all:
	/* The flow went between the scan and this batch. */
	atomic_fetch_add(&d->dropped, n);
	count(d, XS_DROP_PINHOLE, n, 0);
}

static void *worker(void *arg)
{
	struct udp_dp *d = ((void **)arg)[0];
	int epfd = (int)(long)((void **)arg)[1];
	static __thread char bufs[XS_UDP_BATCH][XS_UDP_MTU];
	/* Room for either family's source address and packet info. */
	static __thread struct sockaddr_in6 names[XS_UDP_BATCH];
	static __thread char ctl[XS_UDP_BATCH][CMSG_SPACE(sizeof(struct in6_pktinfo))];
	static __thread struct xs_nh_cache nh;
	struct iovec iov[XS_UDP_BATCH];
	struct mmsghdr msgs[XS_UDP_BATCH];
	struct epoll_event ev[64];

	free(arg);
	if (xs_nh_init(&nh))
		xs_log(XS_LOG_WARN,
		       "udp datapath: no rtnetlink: relays counted as relay-redirect\n");
	while (!atomic_load(&d->stop)) {
		int n = epoll_wait(epfd, ev, 64, 100);

		for (int i = 0; i < n; i++) {
			struct usock *s = ev[i].data.ptr;

			/* Bounded per wakeup so one busy stream cannot starve the others. */
			for (int round = 0; round < 8; round++) {
				int got;

				for (int j = 0; j < XS_UDP_BATCH; j++) {
					iov[j].iov_base = bufs[j];
					iov[j].iov_len = XS_UDP_MTU;
					memset(&msgs[j].msg_hdr, 0, sizeof(msgs[j].msg_hdr));
					msgs[j].msg_hdr.msg_iov = &iov[j];
					msgs[j].msg_hdr.msg_iovlen = 1;
					msgs[j].msg_hdr.msg_name = &names[j];
					msgs[j].msg_hdr.msg_namelen = sizeof(names[j]);
					msgs[j].msg_hdr.msg_control = ctl[j];
					msgs[j].msg_hdr.msg_controllen = sizeof(ctl[j]);
				}
				got = recvmmsg(s->fd, msgs, XS_UDP_BATCH, MSG_DONTWAIT, NULL);
				if (got <= 0)
					break;
				relay_batch(d, &nh, s, msgs, (unsigned int)got);
				if (got < XS_UDP_BATCH)
					break;
			}
		}
	}
	xs_nh_fini(&nh);
	return NULL;
}

static void udp_describe(const struct xs_dp *dp, char *buf, size_t len)
{
	const struct udp_dp *d = (const void *)dp;

	snprintf(buf, len, "udp: %u sockets, %u workers, %lu relayed, %lu dropped", d->open,
		 d->nworkers, atomic_load(&d->relayed), atomic_load(&d->dropped));
}

static void udp_stop(struct xs_dp *dp)
{
	struct udp_dp *d = (void *)dp;

	atomic_store(&d->stop, true);
	pthread_join(d->mgr, NULL);
	for (unsigned int i = 0; i < d->nworkers; i++) {
		pthread_join(d->worker[i], NULL);
		close(d->epfd[i]);
	}
	for (unsigned int p = 0; p < 65536; p++) {
		struct usock *s = atomic_load(&d->table[p]);

		if (s) {
			close(s->fd);
			free(s);
		}
	}
	reap(d, true);
	stats_flush(d);
	free(d->table);
	free(d);
}

int xs_dp_udp_start(const struct xs_dp_opts *o, struct xs_dp **out)
{
	struct udp_dp *d = calloc(1, sizeof(*d));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int i;
	int err = 0;

	if (!d)
		return -ENOMEM;
	d->head.kind = XS_DP_UDP;
	d->head.stop = udp_stop;
	d->head.describe = udp_describe;
	d->o = *o;
	d->table = calloc(65536, sizeof(*d->table));
	d->nworkers = o->workers ? o->workers : (ncpu > 4 ? 4 : ncpu > 0 ? (unsigned int)ncpu : 1);
	if (d->nworkers > XS_UDP_MAX_WORKER)
		d->nworkers = XS_UDP_MAX_WORKER;
	if (!d->table) {
		free(d);
		return -ENOMEM;
	}
	for (i = 0; i < d->nworkers; i++) {
		d->epfd[i] = epoll_create1(EPOLL_CLOEXEC);
		if (d->epfd[i] < 0)
			err = -errno;
	}
	if (!err)
		scan(d); /* sockets for the flows already there (a restart) before we return */
	for (i = 0; !err && i < d->nworkers; i++) {
		void **arg = malloc(2 * sizeof(void *));

		if (!arg) {
			err = -ENOMEM;
			break;
		}
		arg[0] = d;
		arg[1] = (void *)(long)d->epfd[i];
		err = -pthread_create(&d->worker[i], NULL, worker, arg);
		if (err) {
			free(arg);
			break;
		}
	}
	if (!err)
		err = -pthread_create(&d->mgr, NULL, manager, d);
	if (err) {
		/* Stop the workers started so far; the manager never ran. */
		atomic_store(&d->stop, true);
		d->nworkers = i;
		for (unsigned int j = 0; j < i; j++)
			pthread_join(d->worker[j], NULL);
		free(d->table);
		free(d);
		return err;
	}
	*out = &d->head;
	return 0;
}

void xs_dp_stop(struct xs_dp *dp)
{
	if (dp)
		dp->stop(dp);
}

void xs_dp_describe(const struct xs_dp *dp, char *buf, size_t len)
{
	dp->describe(dp, buf, len);
}
