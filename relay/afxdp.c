// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AF_XDP relay: for drivers whose XDP can parse and drop but not
 * forward well (generic mode, no XDP_TX/REDIRECT). The XDP program keeps
 * the whole policy (blocklist, IPv6 media, pinholes) and, with
 * XS_CFG_AFXDP, hands packets that hit a relay flow to the AF_XDP socket of
 * their interface and RX queue (xs_xsks, key XS_XSK_KEY). Here they get the
 * treatment xs_forward() gives them in the driver: latching and strict
 * source (xs_dp_latch), next hop (rtnetlink instead of bpf_fib_lookup,
 * nexthop.c), header rewrite with incremental checksums for IPv4 and IPv6
 * alike, the IPv4 <-> IPv6 header replacement of a flow whose legs differ
 * in family, counters into the flow, and transmission on the egress
 * interface's socket (libxdp's xsk
 * API; the frame itself when it leaves where it came in, a copy into the
 * egress socket's UMEM otherwise).
 *
 * One socket per RX queue of each served interface, zero-copy where the
 * driver allows, copy mode otherwise. One thread serves every socket: a
 * socket's rings are single-producer/single-consumer, and a cross-interface
 * transmit writes another socket's TX ring, so one owner keeps that lock-free.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/sockios.h>
#include <linux/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "relay/internal.h"
#include "relay/frame.h"
#include "relay/nexthop.h"

#define XS_XSK_FRAMES 4096
#define XS_XSK_FRAME  XSK_UMEM__DEFAULT_FRAME_SIZE
#define XS_XSK_RING   2048
#define XS_XSK_BATCH  64
#define XS_XSK_MAX    16			      /* sockets: interfaces x queues */
#define XS_XSK_BASE   (~((uint64_t)XS_XSK_FRAME - 1)) /* aligned mode: frame start */

struct xsock {
	struct xsk_socket *xsk;
	struct xsk_umem *umem;
	void *area;
	struct xsk_ring_cons rx, cq;
	struct xsk_ring_prod tx, fq;
	uint64_t free[XS_XSK_FRAMES];
	unsigned int nfree, tx_pending;
	uint32_t ifindex, queue, key;
	bool zc;
};

struct afxdp_dp {
	struct xs_dp head;
	struct xs_dp_opts o;
	int xsks_fd;
	struct xsock s[XS_XSK_MAX];
	unsigned int n;
	pthread_t thr;
	atomic_bool stop;
	struct xs_nh_cache nh;
	atomic_ulong relayed, dropped;
};

/* What one batch did to one flow, written back once per batch. */
struct acct {
	struct xs_flow_key key;
	struct xs_flow f;
	bool latched;
	uint64_t pkts, bytes;
	uint32_t ifindex;
};

static unsigned int rx_queues(const char *ifname)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	struct ifreq ifr = {0};
	unsigned int n = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		n = ch.combined_count + ch.rx_count;
	close(fd);
	return n ? n : 1;
}

static void xsock_close(struct xsock *s)
{
	if (s->xsk)
		xsk_socket__delete(s->xsk);
	if (s->umem)
		xsk_umem__delete(s->umem);
	free(s->area);
	memset(s, 0, sizeof(*s));
}

static int xsock_try(struct xsock *s, const char *ifname, uint32_t q, uint16_t bind_flags)
{
	struct xsk_umem_config ucfg = {
		.fill_size = XS_XSK_RING, .comp_size = XS_XSK_RING, .frame_size = XS_XSK_FRAME};
	struct xsk_socket_config xcfg = {.rx_size = XS_XSK_RING,
					 .tx_size = XS_XSK_RING,
					 .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
					 .bind_flags = bind_flags};
	size_t size = (size_t)XS_XSK_FRAMES * XS_XSK_FRAME;
	uint32_t idx;
	int err;

	if (posix_memalign(&s->area, (size_t)getpagesize(), size))
		return -ENOMEM;
	err = xsk_umem__create(&s->umem, s->area, size, &s->fq, &s->cq, &ucfg);
	if (err)
		goto fail;
	/* xs_xsks is ours: libxdp must not load its own program or map. */
	err = xsk_socket__create(&s->xsk, ifname, q, s->umem, &s->rx, &s->tx, &xcfg);
	if (err)
		goto fail;
	/* Half the frames wait in the fill ring for RX, half serve copies for TX. */
	for (unsigned int i = 0; i < XS_XSK_FRAMES; i++)
		s->free[s->nfree++] = (uint64_t)i * XS_XSK_FRAME;
	if (xsk_ring_prod__reserve(&s->fq, XS_XSK_RING, &idx) != XS_XSK_RING) {
		err = -ENOSPC;
		goto fail;
	}
	for (unsigned int i = 0; i < XS_XSK_RING; i++)
		*xsk_ring_prod__fill_addr(&s->fq, idx++) = s->free[--s->nfree];
	xsk_ring_prod__submit(&s->fq, XS_XSK_RING);
	s->queue = q;
	s->zc = bind_flags & XDP_ZEROCOPY;
	return 0;
fail:
	xsock_close(s);
	return err;
}

/* Zero-copy where the driver allows it, else copy mode. */
static int xsock_open(struct afxdp_dp *d, struct xsock *s, const char *ifname, uint32_t q)
{
	int err = xsock_try(s, ifname, q, XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP);
	int fd;

	if (err)
		err = xsock_try(s, ifname, q, XDP_COPY | XDP_USE_NEED_WAKEUP);
	if (err)
		return err;
	s->ifindex = if_nametoindex(ifname);
	s->key = XS_XSK_KEY(s->ifindex, q);
	for (unsigned int i = 0; i < d->n; i++) {
		if (d->s[i].key == s->key) {
			xs_log(XS_LOG_ERR,
			       "afxdp: %s queue %u collides with another socket's key\n", ifname,
			       q);
			xsock_close(s);
			return -EEXIST;
		}
	}
	fd = xsk_socket__fd(s->xsk);
	if (bpf_map_update_elem(d->xsks_fd, &s->key, &fd, BPF_ANY)) {
		err = -errno;
		xsock_close(s);
		return err;
	}
	return 0;
}

static struct xsock *sock_for(struct afxdp_dp *d, uint32_t ifindex, uint32_t queue)
{
	struct xsock *any = NULL;

	for (unsigned int i = 0; i < d->n; i++) {
		if (d->s[i].ifindex != ifindex)
			continue;
		if (d->s[i].queue == queue)
			return &d->s[i];
		any = any ? any : &d->s[i];
	}
	return any;
}

static struct acct *acct_of(struct acct *a, unsigned int *na, const struct xs_flow_key *k,
			    int flows_fd)
{
	for (unsigned int i = 0; i < *na; i++)
		if (!memcmp(&a[i].key, k, sizeof(*k)))
			return &a[i];
	if (*na == XS_XSK_BATCH)
		return NULL;
	memset(&a[*na], 0, sizeof(a[0]));
	a[*na].key = *k;
	if (bpf_map_lookup_elem(flows_fd, k, &a[*na].f))
		return NULL;
	return &a[(*na)++];
}

/*
 * The relay decision and rewrite for one frame of @len bytes, with @room
 * bytes of its UMEM frame usable (a translation to IPv6 grows it by 20);
 * *@olen gets the length it leaves with. Returns the socket to send it
 * from, or NULL to drop. xs_forward() in bpf/lib/relay.h, in userspace:
 * the same latching, hop limit (drop at 1 or 0, else decremented), and for
 * IPv6 or a translation the same refusals (UDP without checksum, an IPv6
 * fragment header across families).
 */
static struct xsock *relay_one(struct afxdp_dp *d, struct xsock *in, uint8_t *p, uint32_t len,
			       uint32_t room, uint32_t *olen, struct acct *acc, unsigned int *nacc)
{
	struct ethhdr *eth = (void *)p;
	struct xs_flow_key key = {.proto = IPPROTO_UDP};
	struct xs_frame fr;
	struct xs_nh nh;
	struct acct *a;
	struct xs_flow *f;
	bool ch, out6;
	int err;

	if (xs_frame_parse(p, len, &fr))
		return NULL;
	key.v6 = fr.v6;
	memcpy(key.addr6, fr.daddr, fr.v6 ? 16 : 4);
	key.port = fr.udph->dest;
	a = acct_of(acc, nacc, &key, d->o.flows_fd);
	if (!a)
		return NULL;
	f = &a->f;
	if (xs_dp_latch(d->o.flows_fd, f, fr.saddr, fr.v6, fr.udph->source, &ch))
		return NULL;
	a->latched |= ch;
	out6 = f->flags & XS_FLOW_OUT6;
	if (out6 ? !memcmp(f->dst_addr6, (uint8_t[16]){0}, 16) : !f->dst_addr)
		return NULL; /* no route: the other leg on hold or unknown */
	if (fr.hlim <= 1)
		return NULL; /* drop-hop-limit */
	/* No checksum: invalid over IPv6, and a translation would have to sum the payload. */
	if ((fr.v6 || out6) && !fr.udph->check)
		return NULL;
	if (fr.v6 != out6 && fr.fraghdr)
		return NULL; /* drop-xlat */
	err = out6 ? xs_nh_lookup6(&d->nh, f->dst_addr6, &nh)
		   : xs_nh_lookup(&d->nh, f->dst_addr, &nh);
	if (err)
		return NULL;

	if (xs_frame_rewrite(&fr, f, p, room, olen))
		return NULL;
	memcpy(eth->h_dest, nh.dmac, ETH_ALEN);
	memcpy(eth->h_source, nh.smac, ETH_ALEN);
	a->pkts++;
	a->bytes += *olen;
	a->ifindex = nh.ifindex;
	return sock_for(d, nh.ifindex, in->queue);
}

static void complete_tx(struct xsock *s)
{
	uint32_t idx, n;

	if (!s->tx_pending)
		return;
	n = xsk_ring_cons__peek(&s->cq, XS_XSK_RING, &idx);
	/* Back to the frame's start: a transmitted RX frame carries its headroom. */
	for (uint32_t i = 0; i < n; i++)
		s->free[s->nfree++] = *xsk_ring_cons__comp_addr(&s->cq, idx++) & XS_XSK_BASE;
	xsk_ring_cons__release(&s->cq, n);
	s->tx_pending -= n;
}

static bool tx_frame(struct xsock *s, uint64_t addr, uint32_t len)
{
	uint32_t idx;

	if (xsk_ring_prod__reserve(&s->tx, 1, &idx) != 1)
		return false;
	xsk_ring_prod__tx_desc(&s->tx, idx)->addr = addr;
	xsk_ring_prod__tx_desc(&s->tx, idx)->len = len;
	xsk_ring_prod__submit(&s->tx, 1);
	s->tx_pending++;
	return true;
}

/* Give frames back to the fill ring, keeping an eighth for TX copies. */
static void refill(struct xsock *s)
{
	uint32_t idx, want = s->nfree > XS_XSK_FRAMES / 8 ? s->nfree - XS_XSK_FRAMES / 8 : 0;
	uint32_t n;

	/* reserve() is all or nothing: ask for what the ring has room for. */
	if (want)
		want = xsk_prod_nb_free(&s->fq, want);
	if (want > XS_XSK_RING)
		want = XS_XSK_RING;
	if (!want)
		return;
	n = xsk_ring_prod__reserve(&s->fq, want, &idx);
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&s->fq, idx++) = s->free[--s->nfree];
	xsk_ring_prod__submit(&s->fq, n);
}

static void rx_batch(struct afxdp_dp *d, struct xsock *s, bool *kick)
{
	struct acct acc[XS_XSK_BATCH];
	unsigned int nacc = 0;
	uint32_t idx, n;

	n = xsk_ring_cons__peek(&s->rx, XS_XSK_BATCH, &idx);
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&s->rx, idx++);
		uint64_t addr = xsk_umem__extract_addr(desc->addr);
		uint64_t base = addr & XS_XSK_BASE;
		uint8_t *p = xsk_umem__get_data(s->area, desc->addr);
		uint32_t olen = desc->len;
		struct xsock *out =
			relay_one(d, s, p, desc->len, XS_XSK_FRAME - (uint32_t)(addr - base), &olen,
				  acc, &nacc);
		bool sent = false;

		if (out == s) {
			sent = tx_frame(s, addr, olen);
			if (sent) {
				kick[s - d->s] = true;
				atomic_fetch_add(&d->relayed, 1);
				continue; /* the frame comes back through the completion ring */
			}
		} else if (out) {
			complete_tx(out);
			if (out->nfree) {
				uint64_t o = out->free[--out->nfree];

				memcpy(xsk_umem__get_data(out->area, o), p, olen);
				sent = tx_frame(out, o, olen);
				if (!sent)
					out->free[out->nfree++] = o;
				else
					kick[out - d->s] = true;
			}
		}
		if (!sent && atomic_fetch_add(&d->dropped, 1) < 20)
			xs_log(XS_LOG_DEBUG,
			       "afxdp: dropped a %u-byte frame from ifindex %u (%s)\n", desc->len,
			       s->ifindex, out ? "egress ring full" : "no flow or route");
		if (sent)
			atomic_fetch_add(&d->relayed, 1);
		s->free[s->nfree++] = base;
	}
	xsk_ring_cons__release(&s->rx, n);
	for (unsigned int i = 0; i < nacc; i++)
		if (acc[i].pkts || acc[i].latched)
			xs_dp_account(d->o.flows_fd, &acc[i].key, &acc[i].f, acc[i].latched,
				      acc[i].pkts, acc[i].bytes, acc[i].ifindex);
}

static void kick_tx(struct xsock *s)
{
	for (int i = 0; i < 64; i++) {
		if (sendto(xsk_socket__fd(s->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return;
		if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			return;
		complete_tx(s);
	}
}

static void *loop(void *arg)
{
	struct afxdp_dp *d = arg;
	struct pollfd pfd[XS_XSK_MAX];
	bool kick[XS_XSK_MAX];

	for (unsigned int i = 0; i < d->n; i++) {
		pfd[i].fd = xsk_socket__fd(d->s[i].xsk);
		pfd[i].events = POLLIN;
	}
	while (!atomic_load(&d->stop)) {
		if (poll(pfd, d->n, 100) < 0)
			continue;
		memset(kick, 0, sizeof(kick));
		for (unsigned int i = 0; i < d->n; i++) {
			complete_tx(&d->s[i]);
			rx_batch(d, &d->s[i], kick);
		}
		for (unsigned int i = 0; i < d->n; i++) {
			struct xsock *s = &d->s[i];

			/*
			 * Copy mode transmits in sendto(), at most 32 frames a call
			 * (-EAGAIN when more wait): kick while the ring holds any, or
			 * frames stay queued and the UMEM drains. Zero-copy: when the
			 * driver asks for it.
			 */
			if ((kick[i] || s->tx_pending) &&
			    (!s->zc || xsk_ring_prod__needs_wakeup(&s->tx)))
				kick_tx(s);
			complete_tx(s);
			refill(s);
		}
	}
	return NULL;
}

static void afxdp_describe(const struct xs_dp *dp, char *buf, size_t len)
{
	const struct afxdp_dp *d = (const void *)dp;
	size_t off;

	off = (size_t)snprintf(buf, len, "afxdp: %u sockets (", d->n);
	for (unsigned int i = 0; i < d->n && off < len; i++) {
		char name[IF_NAMESIZE] = "?";

		struct xdp_statistics st = {0};
		socklen_t sl = sizeof(st);

		if_indextoname(d->s[i].ifindex, name);
		getsockopt(xsk_socket__fd(d->s[i].xsk), SOL_XDP, XDP_STATISTICS, &st, &sl);
		off += (size_t)snprintf(buf + off, len - off, "%s%s/q%u %s", i ? ", " : "", name,
					d->s[i].queue, d->s[i].zc ? "zero-copy" : "copy");
		/* The kernel's drops: a full RX ring or an empty fill ring. */
		if (st.rx_dropped || st.rx_ring_full || st.rx_fill_ring_empty_descs)
			off += (size_t)snprintf(
				buf + off, len - off,
				" [kernel dropped %llu, rx ring full %llu, fill ring "
				"empty %llu]",
				(unsigned long long)st.rx_dropped,
				(unsigned long long)st.rx_ring_full,
				(unsigned long long)st.rx_fill_ring_empty_descs);
	}
	if (off < len)
		snprintf(buf + off, len - off, "), %lu relayed, %lu dropped",
			 atomic_load(&d->relayed), atomic_load(&d->dropped));
}

static void afxdp_free(struct afxdp_dp *d)
{
	for (unsigned int i = 0; i < d->n; i++) {
		bpf_map_delete_elem(d->xsks_fd, &d->s[i].key);
		xsock_close(&d->s[i]);
	}
	if (d->xsks_fd >= 0)
		close(d->xsks_fd);
	xs_nh_fini(&d->nh);
	free(d);
}

static void afxdp_stop(struct xs_dp *dp)
{
	struct afxdp_dp *d = (void *)dp;

	atomic_store(&d->stop, true);
	pthread_join(d->thr, NULL);
	afxdp_free(d);
}

int xs_dp_afxdp_start(const struct xs_dp_opts *o, struct xs_dp **out)
{
	struct afxdp_dp *d = calloc(1, sizeof(*d));
	char path[512];
	int err = 0;

	if (!d)
		return -ENOMEM;
	d->head.kind = XS_DP_AFXDP;
	d->head.stop = afxdp_stop;
	d->head.describe = afxdp_describe;
	d->o = *o;
	d->xsks_fd = -1;
	snprintf(path, sizeof(path), "%s/%s", o->pin_root, XS_MAP_XSKS);
	d->xsks_fd = bpf_obj_get(path);
	if (d->xsks_fd < 0) {
		err = -errno;
		xs_log(XS_LOG_WARN, "afxdp: %s: %s (attach the new program first)\n", path,
		       strerror(errno));
		goto fail;
	}
	err = xs_nh_init(&d->nh);
	for (unsigned int i = 0; !err && i < o->nifaces; i++) {
		unsigned int nq = rx_queues(o->ifaces[i]);

		for (unsigned int q = 0; !err && q < nq && d->n < XS_XSK_MAX; q++) {
			err = xsock_open(d, &d->s[d->n], o->ifaces[i], q);
			if (!err)
				d->n++;
		}
	}
	if (!err && !d->n)
		err = -ENODEV;
	if (err)
		goto fail;
	err = -pthread_create(&d->thr, NULL, loop, d);
	if (err)
		goto fail;
	*out = &d->head;
	return 0;
fail:
	afxdp_free(d);
	return err;
}
