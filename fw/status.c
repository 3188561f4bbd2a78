// SPDX-License-Identifier: GPL-2.0-only
/*
 * The nftables backend, reading side: whether our table is there and whole,
 * its rule counters per verdict reason, and its sets — dump requests with
 * libnftnl and libmnl in the caller's network namespace. The writing side
 * (the table, its sets and rules, batch transactions) is nft.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "fw/internal.h"

struct dump_ctx {
	unsigned int rules, sets;
};

static int rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump_ctx *c = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *u;
	uint32_t len;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    (u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len)) != NULL) {
		/* The comment TLV: type, length, text. */
		if (len > 2 + strlen(XS_NFT_MARKER) &&
		    !strncmp(u + 2, XS_NFT_MARKER, strlen(XS_NFT_MARKER)))
			c->rules++;
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

struct ctr_ctx {
	struct xs_counter *out;
};

static int ctr_expr(struct nftnl_expr *e, void *arg)
{
	struct xs_counter *c = arg;

	if (!strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter")) {
		c->packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		c->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static int ctr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ctr_ctx *c = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *u;
	uint32_t len;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    (u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len)) != NULL && len > 2) {
		/* The comment TLV: type, length, "xdpsbc: what". */
		for (unsigned int i = 0; i < xs_nft_nrules; i++) {
			char want[96];

			snprintf(want, sizeof(want), "%s: %s", XS_NFT_MARKER, xs_nft_rules[i].what);
			if (!strncmp(u + 2, want, len - 2)) {
				struct xs_counter one = {0};

				nftnl_expr_foreach(r, ctr_expr, &one);
				c->out[xs_nft_rules[i].reason].packets += one.packets;
				c->out[xs_nft_rules[i].reason].bytes += one.bytes;
				break;
			}
		}
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump_ctx *c = arg;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0) {
		const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);

		for (int i = 0; name && i < XS_NS_MAX; i++)
			if (!strcmp(name, xs_nft_sets[i].name))
				c->sets++;
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/*
 * A dump the ruleset changed under (another process updating a set: the udp
 * relay, sigd) ends with NLM_F_DUMP_INTR, which libmnl reports as EINTR: it
 * is taken again, from scratch.
 */
int xs_nft_request(uint16_t family, uint16_t type, uint16_t flags, void *payload_obj,
		   void (*build)(struct nlmsghdr *, void *), mnl_cb_t cb, void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	uint32_t seq = (uint32_t)time(NULL), portid;
	struct nlmsghdr *nlh;
	int ret, err = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = nftnl_nlmsg_build_hdr(buf, type, family, flags | NLM_F_ACK, seq);
	build(nlh, payload_obj);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret <= 0) {
			err = ret < 0 ? -errno : 0;
			break;
		}
		ret = mnl_cb_run(buf, ret, seq, portid, cb, arg);
		if (ret <= 0) {
			err = ret < 0 ? -errno : 0;
			break;
		}
	}
out:
	mnl_socket_close(nl);
	return err;
}

static void build_table(struct nlmsghdr *nlh, void *o)
{
	nftnl_table_nlmsg_build_payload(nlh, o);
}

static void build_rule(struct nlmsghdr *nlh, void *o)
{
	nftnl_rule_nlmsg_build_payload(nlh, o);
}

static void build_set(struct nlmsghdr *nlh, void *o)
{
	nftnl_set_nlmsg_build_payload(nlh, o);
}

static int noop_cb(const struct nlmsghdr *nlh, void *arg)
{
	return MNL_CB_OK;
}

int xs_nft_present(void)
{
	struct nftnl_table *tb = nftnl_table_alloc();
	int err;

	if (!tb)
		return -ENOMEM;
	nftnl_table_set_str(tb, NFTNL_TABLE_NAME, XS_NFT_TABLE);
	err = xs_nft_request(NFPROTO_INET, NFT_MSG_GETTABLE, 0, tb, build_table, noop_cb, NULL);
	nftnl_table_free(tb);
	if (err == -ENOENT)
		return 0;
	return err ? err : 1;
}

int xs_nft_counters(struct xs_counter out[XS_REASON_MAX])
{
	struct ctr_ctx c = {.out = out};
	struct nftnl_rule *r = nftnl_rule_alloc();
	int err;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, XS_NFT_TABLE);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	for (int try = 0; try < XS_NFT_DUMP_TRIES; try++) {
		memset(out, 0, sizeof(*out) * XS_REASON_MAX);
		err = xs_nft_request(NFPROTO_INET, NFT_MSG_GETRULE, NLM_F_DUMP, r, build_rule,
				     ctr_cb, &c);
		if (err != -EINTR)
			break;
	}
	nftnl_rule_free(r);
	return err;
}

int xs_nft_status(struct xs_nft_status *st)
{
	struct dump_ctx c = {0};
	struct nftnl_rule *r;
	struct nftnl_set *s;
	int err;

	memset(st, 0, sizeof(*st));
	st->expect_rules = xs_nft_nrules;
	st->expect_sets = XS_NS_MAX;
	st->persisted = xs_nft_persisted();
	err = xs_nft_present();
	if (err <= 0)
		return err;
	st->table = true;
	r = nftnl_rule_alloc();
	s = nftnl_set_alloc();
	if (!r || !s) {
		err = -ENOMEM;
		goto out;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, XS_NFT_TABLE);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, XS_NFT_TABLE);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	for (int try = 0; try < XS_NFT_DUMP_TRIES; try++) {
		c = (struct dump_ctx){0};
		err = xs_nft_request(NFPROTO_INET, NFT_MSG_GETRULE, NLM_F_DUMP, r, build_rule,
				     rule_cb, &c);
		err = err
			      ?: xs_nft_request(NFPROTO_INET, NFT_MSG_GETSET, NLM_F_DUMP, s,
						build_set, set_cb, &c);
		if (err != -EINTR)
			break;
	}
	st->rules = c.rules;
	st->sets = c.sets;
out:
	if (r)
		nftnl_rule_free(r);
	if (s)
		nftnl_set_free(s);
	return err;
}
