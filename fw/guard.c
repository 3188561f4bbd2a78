// SPDX-License-Identifier: GPL-2.0-only
/*
 * IPv4 forwarding for the relay, and the guard that keeps the host from
 * routing once it is on.
 *
 * bpf_fib_lookup() answers BPF_FIB_LKUP_RET_FWD_DISABLED for any lookup
 * whose ifindex has net.ipv4.conf.IFACE.forwarding = 0, whatever the flags
 * (0, DIRECT, OUTPUT, SKIP_NEIGH, SRC and their combinations, measured on
 * 6.18: docs/operations.md). The relay's lookup names the ingress interface,
 * so each interface media arrives on needs forwarding on. For IPv4 that
 * per-interface switch also lets the stack route what arrives there (with
 * net.ipv4.ip_forward still 0), so xdpsbc pairs it with a guard: a table
 * `ip xdpsbc_guard` whose prerouting chain drops, per guarded interface,
 * every packet addressed to another host (`fib daddr type unicast`). It runs
 * before the routing decision, so the host sends no redirects, no TTL
 * exceeded and no fragmentation-needed for it either: seen from outside it
 * does not route, as before. Media the XDP program relays never reaches
 * netfilter. Each rule carries the interface name in its comment; the rules
 * are the record of which interfaces xdpsbc turned forwarding on for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/bpf.h>
#include <linux/rtnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "fw/internal.h"

#define GUARD_CHAIN "pre"
#define GUARD_TAG   "xdpsbc forwarding guard: "

static int sysctl_path(const char *fam, const char *ifname, const char *key, char *buf, size_t len)
{
	if (!*ifname || strchr(ifname, '/') || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	snprintf(buf, len, "/proc/sys/net/%s/conf/%s/%s", fam, ifname, key);
	return 0;
}

int xs_sysctl_if_get(const char *fam, const char *ifname, const char *key)
{
	char path[128], v[16] = "";
	int fd, err = sysctl_path(fam, ifname, key, path, sizeof(path));
	ssize_t n;

	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, v, sizeof(v) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	return err ?: atoi(v);
}

int xs_sysctl_if_set(const char *fam, const char *ifname, const char *key, int val)
{
	char path[128], v[16];
	int fd, n, err = sysctl_path(fam, ifname, key, path, sizeof(path));

	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(v, sizeof(v), "%d\n", val);
	err = write(fd, v, n) == n ? 0 : -errno;
	close(fd);
	return err;
}

int xs_fwd_get(const char *ifname)
{
	int v = xs_sysctl_if_get("ipv4", ifname, "forwarding");

	return v < 0 ? v : v != 0;
}

int xs_fwd_set(const char *ifname, bool on)
{
	return xs_sysctl_if_set("ipv4", ifname, "forwarding", on);
}

const char *xs_noroute_why_str(int why)
{
	switch (why) {
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return "forwarding disabled";
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return "next hop's MAC unresolved (no neighbour entry)";
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		return "no route (or a local destination)";
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		return "route is blackhole/unreachable/prohibit";
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return "packet larger than the egress MTU";
	case BPF_FIB_LKUP_RET_UNSUPP_LWT:
		return "route needs encapsulation";
	case XS_NOROUTE_NO_TXPORT:
		return "egress interface not attached to xdpsbc";
	default:
		return "fib lookup error";
	}
}

/* ---- the guard table ---- */

static void g_table(struct xs_nft_batch *t, uint16_t type)
{
	struct nftnl_table *tb = nftnl_table_alloc();

	nftnl_table_set_u32(tb, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	nftnl_table_set_str(tb, NFTNL_TABLE_NAME, XS_FWD_GUARD_TABLE);
	nftnl_table_nlmsg_build_payload(
		xs_nft_batch_hdr(t, NFPROTO_IPV4, type,
				 type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0),
		tb);
	xs_nft_batch_next(t);
	nftnl_table_free(tb);
}

static void g_chain(struct xs_nft_batch *t)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, XS_FWD_GUARD_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, GUARD_CHAIN);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	/* raw: before conntrack and DNAT, on the address the packet came with. */
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, -300);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nftnl_chain_nlmsg_build_payload(
		xs_nft_batch_hdr(t, NFPROTO_IPV4, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
	xs_nft_batch_next(t);
	nftnl_chain_free(c);
}

static void add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *cmp_eq(const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return e;
}

/* iifname IFACE fib daddr type unicast counter drop comment "...IFACE" */
static int g_rule(struct xs_nft_batch *t, const char *ifname)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(128);
	char name[IFNAMSIZ] = "", tag[64];
	uint32_t unicast = RTN_UNICAST;
	struct nftnl_expr *e;

	if (!r || !u) {
		nftnl_rule_free(r);
		nftnl_udata_buf_free(u);
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "%s", ifname);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, XS_FWD_GUARD_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, GUARD_CHAIN);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);

	e = nftnl_expr_alloc("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_IIFNAME);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	add_expr(r, e);
	add_expr(r, cmp_eq(name, sizeof(name)));
	e = nftnl_expr_alloc("fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	add_expr(r, e);
	add_expr(r, cmp_eq(&unicast, sizeof(unicast)));
	add_expr(r, nftnl_expr_alloc("counter"));
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	add_expr(r, e);

	snprintf(tag, sizeof(tag), GUARD_TAG "%s", ifname);
	nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, tag);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
			    nftnl_udata_buf_len(u));
	nftnl_rule_nlmsg_build_payload(
		xs_nft_batch_hdr(t, NFPROTO_IPV4, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
	xs_nft_batch_next(t);
	nftnl_udata_buf_free(u);
	nftnl_rule_free(r);
	return 0;
}

int xs_fwd_guard_add(const char *ifname)
{
	struct xs_nft_batch t;
	int err;

	if (!*ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	err = xs_fwd_guard_has(ifname);
	if (err)
		return err < 0 ? err : 0;
	err = xs_nft_batch_open(&t);
	if (err)
		return err;
	g_table(&t, NFT_MSG_NEWTABLE);
	g_chain(&t);
	err = g_rule(&t, ifname);
	err = err ?: xs_nft_batch_commit(&t);
	xs_nft_batch_close(&t);
	return err;
}

int xs_fwd_guard_remove(void)
{
	return xs_fwd_guard_release(NULL);
}

/* ---- reading the guard back ---- */

struct guard_dump {
	const char *want; /* NULL: count every guarded interface */
	char (*names)[IF_NAMESIZE];
	unsigned int n, max;
	bool found;
};

static int guard_rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct guard_dump *d = arg;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *u, *name;
	uint32_t len;

	if (!r)
		return MNL_CB_ERROR;
	/* The comment TLV: type, length, text (NUL-terminated). */
	if (!nftnl_rule_nlmsg_parse(nlh, r) &&
	    (u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len)) &&
	    len > 2 + strlen(GUARD_TAG) && !memchr(u + 2, 0, strlen(GUARD_TAG)) &&
	    !strncmp(u + 2, GUARD_TAG, strlen(GUARD_TAG)) && memchr(u + 2, 0, len - 2)) {
		name = u + 2 + strlen(GUARD_TAG);
		if (d->want && !strcmp(name, d->want))
			d->found = true;
		if (d->names && d->n < d->max && strlen(name) < IF_NAMESIZE)
			snprintf(d->names[d->n], IF_NAMESIZE, "%s", name);
		d->n++;
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static void build_rule(struct nlmsghdr *nlh, void *o)
{
	nftnl_rule_nlmsg_build_payload(nlh, o);
}

static int guard_dump(struct guard_dump *d)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	int err;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, XS_FWD_GUARD_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, GUARD_CHAIN);
	err = xs_nft_request(NFPROTO_IPV4, NFT_MSG_GETRULE, NLM_F_DUMP, r, build_rule,
			     guard_rule_cb, d);
	nftnl_rule_free(r);
	/* No table (or chain) yet: nothing is guarded. */
	return err == -ENOENT ? 0 : err;
}

int xs_fwd_guard_has(const char *ifname)
{
	struct guard_dump d;
	int err = -EINTR;

	/* A dump interrupted by a concurrent ruleset change is taken again. */
	for (int try = 0; try < XS_NFT_DUMP_TRIES && err == -EINTR; try++) {
		d = (struct guard_dump){.want = ifname};
		err = guard_dump(&d);
	}

	return err ?: d.found;
}

int xs_fwd_guard_list(char (*names)[IF_NAMESIZE], unsigned int max)
{
	struct guard_dump d;
	int err = -EINTR;

	for (int try = 0; try < XS_NFT_DUMP_TRIES && err == -EINTR; try++) {
		d = (struct guard_dump){.names = names, .max = max};
		err = guard_dump(&d);
	}

	return err ?: (int)(d.n < max ? d.n : max);
}

int xs_fwd_guard_release(const char *ifname)
{
	char names[XS_NOROUTE_MAX][IF_NAMESIZE];
	struct xs_nft_batch t;
	int n = ifname ? xs_fwd_guard_list(names, XS_NOROUTE_MAX) : 0, err, kept = 0;

	if (n < 0)
		return n;
	err = xs_nft_batch_open(&t);
	if (err)
		return err;
	/*
	 * One transaction: the table is emptied (created first, so that deleting
	 * a missing one is no error) and the other interfaces' rules put back,
	 * so they are never unguarded.
	 */
	g_table(&t, NFT_MSG_NEWTABLE);
	g_table(&t, NFT_MSG_DELTABLE);
	for (int i = 0; i < n && !err; i++) {
		if (!strcmp(names[i], ifname))
			continue;
		if (!kept++) {
			g_table(&t, NFT_MSG_NEWTABLE);
			g_chain(&t);
		}
		err = g_rule(&t, names[i]);
	}
	err = err ?: xs_nft_batch_commit(&t);
	xs_nft_batch_close(&t);
	return err;
}
