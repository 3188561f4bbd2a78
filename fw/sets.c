// SPDX-License-Identifier: GPL-2.0-only
/*
 * Below the nftables backend's table code (nft.c) and its policy sync
 * (sync.c): the sets of table `inet xdpsbc`, the batch transaction that
 * carries every change (all or nothing), and the set element operations.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "fw/internal.h"

#define SET_DYN (NFT_SET_TIMEOUT | NFT_SET_EVAL)

const struct xs_nft_setdef xs_nft_sets[XS_NS_MAX] = {
	[XS_NS_TRUST4] = {"trust4", XS_NFT_TYPE_IPV4, 4, NFT_SET_INTERVAL},
	[XS_NS_TRUST6] = {"trust6", XS_NFT_TYPE_IPV6, 16, NFT_SET_INTERVAL},
	[XS_NS_BLOCK4] = {"block4", XS_NFT_TYPE_IPV4, 4, NFT_SET_INTERVAL | NFT_SET_TIMEOUT},
	[XS_NS_BLOCK6] = {"block6", XS_NFT_TYPE_IPV6, 16, NFT_SET_INTERVAL | NFT_SET_TIMEOUT},
	[XS_NS_V6UDP] = {"v6media_udp", XS_NFT_TYPE_INET_SERVICE, 2, NFT_SET_INTERVAL},
	[XS_NS_V6TCP] = {"v6media_tcp", XS_NFT_TYPE_INET_SERVICE, 2, NFT_SET_INTERVAL},
	[XS_NS_RELAY] = {"relay", XS_NFT_TYPE_INET_SERVICE, 2, NFT_SET_INTERVAL},
	[XS_NS_PINHOLES] = {"pinholes", XS_NFT_TYPE_INET_SERVICE, 2, 0},
	[XS_NS_SIPPROTO] = {"sip_proto", XS_NFT_TYPE_INET_PROTO, 1, 0},
	[XS_NS_SIPPORTS] = {"sip_ports", XS_NFT_TYPE_INET_SERVICE, 2, 0},
	[XS_NS_FLOOD4] = {"flood4", XS_NFT_TYPE_IPV4, 4, SET_DYN},
	[XS_NS_FLOOD6] = {"flood6", XS_NFT_TYPE_IPV6, 16, SET_DYN},
	[XS_NS_BAN4] = {"ban4", XS_NFT_TYPE_IPV4, 4, SET_DYN},
	[XS_NS_BAN6] = {"ban6", XS_NFT_TYPE_IPV6, 16, SET_DYN},
};

/* ---- the batch ---- */

#define BATCH_PAGE (256 * 1024)

int xs_nft_batch_open(struct xs_nft_batch *t)
{
	memset(t, 0, sizeof(*t));
	t->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!t->nl)
		return -errno;
	if (mnl_socket_bind(t->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(t->nl);
		return err;
	}
	t->b = nftnl_batch_alloc(BATCH_PAGE, BATCH_PAGE);
	if (!t->b) {
		mnl_socket_close(t->nl);
		return -ENOMEM;
	}
	t->seq = (uint32_t)time(NULL);
	nftnl_batch_begin(nftnl_batch_buffer(t->b), t->seq++);
	nftnl_batch_update(t->b);
	t->first_seq = t->seq;
	return 0;
}

void *xs_nft_batch_cur(struct xs_nft_batch *t)
{
	return nftnl_batch_buffer(t->b);
}

void xs_nft_batch_next(struct xs_nft_batch *t)
{
	nftnl_batch_update(t->b);
}

void xs_nft_batch_close(struct xs_nft_batch *t)
{
	if (t->b)
		nftnl_batch_free(t->b);
	if (t->nl)
		mnl_socket_close(t->nl);
	t->b = NULL;
	t->nl = NULL;
}

/* Read acks until every message of the batch is acknowledged; first error wins. */
static int read_acks(struct xs_nft_batch *t, unsigned int expect)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	unsigned int got = 0;
	int err = 0;

	while (got < expect) {
		ssize_t n = mnl_socket_recvfrom(t->nl, buf, sizeof(buf));
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0)
			return err ?: -errno;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			got++;
			if (e->error && !err)
				err = e->error;
		}
	}
	return err;
}

int xs_nft_batch_commit(struct xs_nft_batch *t)
{
	unsigned int expect = t->seq - t->first_seq;
	int fd = mnl_socket_get_fd(t->nl), iovlen, size, err;
	struct sockaddr_nl snl = {.nl_family = AF_NETLINK};
	struct msghdr msg = {0};
	struct timeval tv = {.tv_sec = 30};

	nftnl_batch_end(nftnl_batch_buffer(t->b), t->seq++);
	nftnl_batch_update(t->b);
	iovlen = nftnl_batch_iovec_len(t->b);
	struct iovec iov[iovlen];

	nftnl_batch_iovec(t->b, iov, iovlen);
	size = 0;
	for (int i = 0; i < iovlen; i++)
		size += (int)iov[i].iov_len;
	/* The kernel takes a batch as one datagram: the send buffer must hold it. */
	size += 4096;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	size = 4 * 1024 * 1024;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	msg.msg_name = &snl;
	msg.msg_namelen = sizeof(snl);
	msg.msg_iov = iov;
	msg.msg_iovlen = iovlen;
	if (sendmsg(fd, &msg, 0) < 0)
		return -errno;
	err = read_acks(t, expect);
	return err;
}

struct nlmsghdr *xs_nft_batch_hdr(struct xs_nft_batch *t, uint16_t family, uint16_t type,
				  uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(xs_nft_batch_cur(t), type, family, flags | NLM_F_ACK,
				     t->seq++);
}

void xs_nft_set_flush(struct xs_nft_batch *t, enum xs_nft_set i)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, XS_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, xs_nft_sets[i].name);
	nftnl_set_elems_nlmsg_build_payload(
		xs_nft_batch_hdr(t, NFPROTO_INET, NFT_MSG_DELSETELEM, 0), s);
	xs_nft_batch_next(t);
	nftnl_set_free(s);
}

#define ELEMS_PER_MSG 512

static struct nftnl_set_elem *elem(const uint8_t *key, uint32_t len, bool end, uint64_t tmo)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (!e)
		return NULL;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	else if (tmo)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, tmo);
	return e;
}

int xs_nft_set_add(struct xs_nft_batch *t, enum xs_nft_set i, const struct xs_nft_elem *el,
		   size_t n)
{
	const struct xs_nft_setdef *d = &xs_nft_sets[i];
	bool interval = d->flags & NFT_SET_INTERVAL;
	size_t k = 0;

	while (k < n) {
		struct nftnl_set *s = nftnl_set_alloc();
		size_t j;

		if (!s)
			return -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, XS_NFT_TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
		nftnl_set_set_u32(s, NFTNL_SET_ID, i + 1);
		for (j = 0; j < ELEMS_PER_MSG && k < n; j++, k++) {
			struct nftnl_set_elem *e = elem(el[k].key, d->len, false, el[k].timeout_ms);

			if (!e) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			nftnl_set_elem_add(s, e);
			if (interval && el[k].has_end) {
				e = elem(el[k].end, d->len, true, 0);
				if (!e) {
					nftnl_set_free(s);
					return -ENOMEM;
				}
				nftnl_set_elem_add(s, e);
			}
		}
		nftnl_set_elems_nlmsg_build_payload(
			xs_nft_batch_hdr(t, NFPROTO_INET, NFT_MSG_NEWSETELEM, NLM_F_CREATE), s);
		xs_nft_batch_next(t);
		nftnl_set_free(s);
	}
	return 0;
}
