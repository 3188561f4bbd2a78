// SPDX-License-Identifier: GPL-2.0-only
/*
 * Next hop for the userspace relays: what bpf_fib_lookup() gives the XDP
 * program, asked of the kernel over rtnetlink (libmnl), for IPv4 and IPv6
 * destinations alike: the route to the
 * destination (egress interface, gateway), then the gateway's neighbour
 * entry (its MAC) and the egress interface's own MAC. Like the XDP relay,
 * a destination without a resolved neighbour is not relayed (no route).
 * Answers are cached for XS_NH_TTL_NS, as the XDP program caches them.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "relay/nexthop.h"

struct route_ans {
	uint32_t oif;
	uint8_t gw[16]; /* IPv4 in the first four bytes; 0: on link */
	bool has_gw, ok;
};

struct neigh_ans {
	uint8_t mac[6];
	bool ok;
};

static int route_attr(const struct nlattr *a, void *arg)
{
	struct route_ans *r = arg;

	uint16_t len = mnl_attr_get_payload_len(a);

	if (mnl_attr_get_type(a) == RTA_OIF) {
		r->oif = mnl_attr_get_u32(a);
	} else if (mnl_attr_get_type(a) == RTA_GATEWAY && (len == 4 || len == 16)) {
		memcpy(r->gw, mnl_attr_get_payload(a), len);
		r->has_gw = true;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct route_ans *r = arg;
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	/* Only a route we can forward on: not local, blackhole, unreachable. */
	if (rm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rm), route_attr, r);
	r->ok = r->oif != 0;
	return MNL_CB_OK;
}

static int neigh_attr(const struct nlattr *a, void *arg)
{
	struct neigh_ans *n = arg;

	if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6) {
		memcpy(n->mac, mnl_attr_get_payload(a), 6);
		n->ok = true;
	}
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	struct neigh_ans *n = arg;

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return MNL_CB_OK;
	if (!(nd->ndm_state &
	      (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*nd), neigh_attr, n);
	return MNL_CB_OK;
}

/* One request, its answer through @cb; -errno from the kernel's error. */
static int ask(struct xs_nh_cache *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid = mnl_socket_get_portid(c->nl);
	int ret;

	nlh->nlmsg_seq = ++c->seq;
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ret = mnl_socket_recvfrom(c->nl, buf, sizeof(buf));
		if (ret <= 0)
			return ret < 0 ? -errno : -EIO;
		ret = mnl_cb_run(buf, ret, c->seq, portid, cb, arg);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

static int if_mac(uint32_t ifindex, uint8_t *mac)
{
	struct ifreq ifr = {0};
	int fd, err = 0;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* The route to @daddr (4 or 16 bytes by @af): egress interface and gateway. */
static int route(struct xs_nh_cache *c, int af, const void *daddr, struct route_ans *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rm;
	int err;

	memset(r, 0, sizeof(*r));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK; /* the ack ends the answer */
	rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
	rm->rtm_family = (unsigned char)af;
	rm->rtm_dst_len = af == AF_INET6 ? 128 : 32;
	mnl_attr_put(nlh, RTA_DST, af == AF_INET6 ? 16 : 4, daddr);
	err = ask(c, nlh, route_cb, r);
	if (err)
		return err;
	return r->ok ? 0 : -ENETUNREACH;
}

static int resolve(struct xs_nh_cache *c, int af, const void *daddr, struct xs_nh *nh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	size_t alen = af == AF_INET6 ? 16 : 4;
	struct route_ans r;
	struct neigh_ans n = {0};
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	int err;

	err = route(c, af, daddr, &r);
	if (err)
		return err;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK; /* the ack ends the answer */
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (unsigned char)af;
	nd->ndm_ifindex = (int)r.oif;
	/* IPv6 gateways are often link-local: asked on the route's interface, as above. */
	mnl_attr_put(nlh, NDA_DST, alen, r.has_gw ? r.gw : daddr);
	err = ask(c, nlh, neigh_cb, &n);
	if (err && err != -ENOENT)
		return err;
	if (!n.ok)
		return -EHOSTUNREACH;
	err = if_mac(r.oif, nh->smac);
	if (err)
		return err;
	memcpy(nh->dmac, n.mac, 6);
	nh->ifindex = r.oif;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int xs_nh_init(struct xs_nh_cache *c)
{
	memset(c, 0, sizeof(*c));
	c->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!c->nl)
		return -errno;
	if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(c->nl);
		c->nl = NULL;
		return err;
	}
	return 0;
}

void xs_nh_fini(struct xs_nh_cache *c)
{
	if (c->nl)
		mnl_socket_close(c->nl);
	c->nl = NULL;
}

/* The slot of an address in a cache table, and whether it holds that address. */
static struct xs_nh_slot *slot_of(struct xs_nh_slot *tab, const uint8_t a[16], bool v6)
{
	uint32_t h = 0;

	for (unsigned int i = 0; i < 16; i += 4)
		h ^= (uint32_t)a[i] << 24 | (uint32_t)a[i + 1] << 16 | (uint32_t)a[i + 2] << 8 |
		     a[i + 3];
	return &tab[(h ^ (h >> 16) ^ v6) % XS_NH_SLOTS];
}

static bool slot_is(const struct xs_nh_slot *s, const uint8_t a[16], bool v6)
{
	return s->at && s->v6 == v6 && !memcmp(s->daddr, a, 16);
}

int xs_nh_oif(struct xs_nh_cache *c, const void *daddr, bool v6, uint32_t *oif)
{
	uint8_t a[16] = {0};
	struct xs_nh_slot *s;
	uint64_t now = mono_ns();
	struct route_ans r;

	memcpy(a, daddr, v6 ? 16 : 4);
	s = slot_of(c->rslot, a, v6);
	if (!c->nl)
		return -ENOTCONN;
	if (!slot_is(s, a, v6) || now - s->at >= XS_NH_TTL_NS) {
		memcpy(s->daddr, a, 16);
		s->v6 = v6;
		s->at = now;
		s->err = route(c, v6 ? AF_INET6 : AF_INET, a, &r);
		s->nh.ifindex = r.oif;
	}
	*oif = s->nh.ifindex;
	return s->err;
}

static int lookup(struct xs_nh_cache *c, const uint8_t a[16], bool v6, struct xs_nh *out)
{
	struct xs_nh_slot *s = slot_of(c->slot, a, v6);
	uint64_t now = mono_ns();

	if (!c->nl)
		return -ENOTCONN;
	/* A failure is asked again sooner: the neighbour may resolve meanwhile. */
	if (slot_is(s, a, v6) && now - s->at < (s->err ? XS_NH_TTL_NS / 10 : XS_NH_TTL_NS)) {
		if (s->err)
			return s->err;
		*out = s->nh;
		return 0;
	}
	memcpy(s->daddr, a, 16);
	s->v6 = v6;
	s->at = now;
	s->err = resolve(c, v6 ? AF_INET6 : AF_INET, a, &s->nh);
	if (!s->err)
		*out = s->nh;
	return s->err;
}

int xs_nh_lookup(struct xs_nh_cache *c, uint32_t daddr, struct xs_nh *out)
{
	uint8_t a[16] = {0};

	memcpy(a, &daddr, 4);
	return lookup(c, a, false, out);
}

int xs_nh_lookup6(struct xs_nh_cache *c, const void *daddr6, struct xs_nh *out)
{
	uint8_t a[16];

	memcpy(a, daddr6, 16);
	return lookup(c, a, true, out);
}
