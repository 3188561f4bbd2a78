// SPDX-License-Identifier: GPL-2.0-only
/*
 * The nftables backend: table `inet xdpsbc`, its sets and its one chain,
 * written with libnftnl and sent with libmnl as batch transactions (all or
 * nothing), in the network namespace of the caller.
 *
 * The policy lives in set contents (sync.c fills them from the pinned maps,
 * through the batch and set operations of sets.c); the rules are fixed, described once in xs_nft_rules[] and turned
 * into netlink here and into nft text in nft_persist.c. Every rule, the
 * chain and the table carry the marker comment, so status can tell ours
 * from anyone else's and uninstall deletes only our table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "fw/internal.h"

const struct xs_nft_rule xs_nft_rules[] = {
	{NFPROTO_IPV4, 0, XS_NS_TRUST4, -1, -1, -1, NF_ACCEPT, "trusted networks", XS_PASS_TRUSTED,
	 XS_NFT_M_ANY},
	{NFPROTO_IPV6, 0, XS_NS_TRUST6, -1, -1, -1, NF_ACCEPT, "trusted networks", XS_PASS_TRUSTED,
	 XS_NFT_M_ANY},
	{NFPROTO_IPV4, 0, XS_NS_BLOCK4, -1, -1, -1, NF_DROP, "blocklist", XS_DROP_BLOCKLIST,
	 XS_NFT_M_ANY},
	{NFPROTO_IPV6, 0, XS_NS_BLOCK6, -1, -1, -1, NF_DROP, "blocklist", XS_DROP_BLOCKLIST,
	 XS_NFT_M_ANY},
	{NFPROTO_IPV4, XS_L4_SIP, XS_NS_BAN4, XS_NS_SIPPORTS, -1, -1, NF_DROP, "SIP flood ban",
	 XS_DROP_FLOOD, XS_NFT_M_ANY},
	{NFPROTO_IPV6, XS_L4_SIP, XS_NS_BAN6, XS_NS_SIPPORTS, -1, -1, NF_DROP, "SIP flood ban",
	 XS_DROP_FLOOD, XS_NFT_M_ANY},
	{NFPROTO_IPV4, IPPROTO_UDP, -1, XS_NS_SIPPORTS, -1, XS_NS_FLOOD4, NF_DROP,
	 "SIP flood limit (udp requests)", XS_DROP_FLOOD, XS_NFT_M_UDP_REQUEST},
	{NFPROTO_IPV6, IPPROTO_UDP, -1, XS_NS_SIPPORTS, -1, XS_NS_FLOOD6, NF_DROP,
	 "SIP flood limit (udp requests)", XS_DROP_FLOOD, XS_NFT_M_UDP_REQUEST},
	{NFPROTO_IPV4, IPPROTO_TCP, -1, XS_NS_SIPPORTS, -1, XS_NS_FLOOD4, NF_DROP,
	 "SIP flood limit (tcp connections)", XS_DROP_FLOOD, XS_NFT_M_TCP_SYN},
	{NFPROTO_IPV6, IPPROTO_TCP, -1, XS_NS_SIPPORTS, -1, XS_NS_FLOOD6, NF_DROP,
	 "SIP flood limit (tcp connections)", XS_DROP_FLOOD, XS_NFT_M_TCP_SYN},
	{NFPROTO_IPV6, IPPROTO_UDP, -1, XS_NS_V6UDP, -1, -1, NF_DROP, "IPv6 media",
	 XS_DROP_V6_MEDIA, XS_NFT_M_ANY},
	{NFPROTO_IPV6, IPPROTO_TCP, -1, XS_NS_V6TCP, -1, -1, NF_DROP, "IPv6 media",
	 XS_DROP_V6_MEDIA, XS_NFT_M_ANY},
	{NFPROTO_IPV4, IPPROTO_UDP, -1, XS_NS_RELAY, XS_NS_PINHOLES, -1, NF_DROP, "pinholes",
	 XS_DROP_PINHOLE, XS_NFT_M_ANY},
	/* The UDP relay serves IPv6 flows too: their closed ports are closed alike. */
	{NFPROTO_IPV6, IPPROTO_UDP, -1, XS_NS_RELAY, XS_NS_PINHOLES, -1, NF_DROP, "pinholes",
	 XS_DROP_PINHOLE, XS_NFT_M_ANY},
};
const unsigned int xs_nft_nrules = sizeof(xs_nft_rules) / sizeof(xs_nft_rules[0]);

/* ---- messages ---- */

static void put_comment(void *obj, int attr, int utype,
			void (*set)(void *, uint16_t, const void *, uint32_t), const char *text)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(256);

	if (!u)
		return;
	nftnl_udata_put_strz(u, utype, text);
	set(obj, attr, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

static void table_set(void *o, uint16_t a, const void *d, uint32_t l)
{
	nftnl_table_set_data(o, a, d, l);
}

static void rule_set(void *o, uint16_t a, const void *d, uint32_t l)
{
	nftnl_rule_set_data(o, a, d, l);
}

static int add_table(struct xs_nft_batch *t, uint16_t type, uint16_t flags, bool comment)
{
	struct nftnl_table *tb = nftnl_table_alloc();

	if (!tb)
		return -ENOMEM;
	nftnl_table_set_u32(tb, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(tb, NFTNL_TABLE_NAME, XS_NFT_TABLE);
	if (comment)
		put_comment(tb, NFTNL_TABLE_USERDATA, NFTNL_UDATA_TABLE_COMMENT, table_set,
			    XS_NFT_MARKER);
	nftnl_table_nlmsg_build_payload(xs_nft_batch_hdr(t, NFPROTO_INET, type, flags), tb);
	xs_nft_batch_next(t);
	nftnl_table_free(tb);
	return 0;
}

static int add_set(struct xs_nft_batch *t, enum xs_nft_set i, const struct xs_config *cfg)
{
	const struct xs_nft_setdef *d = &xs_nft_sets[i];
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, XS_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, i + 1);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->len);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, d->flags);
	if (d->flags & NFT_SET_EVAL) {
		/* Rate state outlives a window; a ban lasts flood_ban_s. */
		bool ban = i == XS_NS_BAN4 || i == XS_NS_BAN6;
		uint64_t ms = 1000ULL * (ban ? cfg->flood_ban_s : 60);

		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, ms ? ms : 1000);
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, 65536);
	}
	nftnl_set_nlmsg_build_payload(
		xs_nft_batch_hdr(t, NFPROTO_INET, NFT_MSG_NEWSET, NLM_F_CREATE), s);
	xs_nft_batch_next(t);
	nftnl_set_free(s);
	return 0;
}

static int add_chain(struct xs_nft_batch *t)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, XS_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, XS_NFT_CHAIN);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
	/* raw: before conntrack, so dropped floods cost no conntrack entries. */
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, XS_NFT_PRIO);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nftnl_chain_nlmsg_build_payload(
		xs_nft_batch_hdr(t, NFPROTO_INET, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
	xs_nft_batch_next(t);
	nftnl_chain_free(c);
	return 0;
}

/* ---- expressions ---- */

static void e_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
}

static void e_cmp8(struct nftnl_rule *r, uint8_t val)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &val, 1);
	nftnl_rule_add_expr(r, e);
}

/* reg1 & @mask, compared (@op) with @val: @len bytes, network order. */
static void e_masked_cmp(struct nftnl_rule *r, const void *mask, const void *val, uint32_t len,
			 uint32_t op)
{
	struct nftnl_expr *b = nftnl_expr_alloc("bitwise"), *e = nftnl_expr_alloc("cmp");
	uint8_t zero[4] = {0};

	nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(b, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(b, NFTNL_EXPR_BITWISE_XOR, zero, len);
	nftnl_rule_add_expr(r, b);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, val, len);
	nftnl_rule_add_expr(r, e);
}

static void e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len);

/*
 * The XS_NFT_M_* match (nft_int.h). UDP: the 4 payload bytes past the fixed
 * 8-byte header are not "SIP/", and the first is not CR or LF (& 0xf8 ==
 * 0x08 also takes TAB, VT, FF and BS, which begin no request). A datagram
 * with fewer than 4 payload bytes cannot be loaded and is not counted: it
 * is nothing sigd parses. TCP: flags & (FIN|SYN|RST|ACK) == SYN.
 */
static void e_match(struct nftnl_rule *r, enum xs_nft_match m)
{
	static const uint8_t all[4] = {0xff, 0xff, 0xff, 0xff}, crlf_mask = 0xf8, crlf = 0x08;
	static const uint8_t flags_mask = 0x17, syn = 0x02; /* FIN|SYN|RST|ACK, SYN */
	uint32_t resp = htonl(XS_NFT_SIP_RESPONSE);

	if (m == XS_NFT_M_UDP_REQUEST) {
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 8, 4);
		e_masked_cmp(r, all, &resp, 4, NFT_CMP_NEQ);
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 8, 1);
		e_masked_cmp(r, &crlf_mask, &crlf, 1, NFT_CMP_NEQ);
	} else if (m == XS_NFT_M_TCP_SYN) {
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
		e_masked_cmp(r, &flags_mask, &syn, 1, NFT_CMP_EQ);
	}
}

static void e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
}

static void e_lookup(struct nftnl_rule *r, int set, bool inv)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, xs_nft_sets[set].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set + 1);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *dynset(int set, uint32_t op)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, op);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, xs_nft_sets[set].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set + 1);
	return e;
}

/* update @flood { saddr limit rate over R/second burst B packets } add @ban { saddr } */
static void e_meter(struct nftnl_rule *r, int flood, int ban, const struct xs_config *cfg)
{
	struct nftnl_expr *e = dynset(flood, NFT_DYNSET_OP_UPDATE);
	struct nftnl_expr *lim = nftnl_expr_alloc("limit");

	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_RATE, xs_nft_flood_rate(cfg));
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_BURST, cfg->flood_rate ?: 1);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
	nftnl_expr_add_expr(e, NFTNL_EXPR_DYNSET_EXPRESSIONS, lim);
	nftnl_rule_add_expr(r, e);
	nftnl_rule_add_expr(r, dynset(ban, NFT_DYNSET_OP_ADD));
}

/* Packets and bytes per rule: `nft list` shows what each part of the policy did. */
static void e_counter(struct nftnl_rule *r)
{
	nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
}

static void e_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	nftnl_rule_add_expr(r, e);
}

uint64_t xs_nft_flood_rate(const struct xs_config *cfg)
{
	uint64_t w = cfg->flood_window_s ?: 1;
	uint64_t r = cfg->flood_rate / w;

	return r ?: 1;
}

static int add_rule(struct xs_nft_batch *t, const struct xs_nft_rule *d,
		    const struct xs_config *cfg)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	char comment[96];

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, XS_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, XS_NFT_CHAIN);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);

	e_meta(r, NFT_META_NFPROTO);
	e_cmp8(r, d->nfproto);
	if (d->saddr_set >= 0) {
		if (d->nfproto == NFPROTO_IPV4)
			e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		else
			e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16);
		e_lookup(r, d->saddr_set, false);
	}
	if (d->l4proto) {
		e_meta(r, NFT_META_L4PROTO);
		if (d->l4proto == XS_L4_SIP)
			e_lookup(r, XS_NS_SIPPROTO, false);
		else
			e_cmp8(r, d->l4proto);
	}
	if (d->dport_set >= 0) {
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		e_lookup(r, d->dport_set, false);
		if (d->dport_not_set >= 0)
			e_lookup(r, d->dport_not_set, true);
	}
	e_match(r, d->match);
	if (d->meter >= 0) {
		if (d->nfproto == NFPROTO_IPV4)
			e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		else
			e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16);
		e_meter(r, d->meter, d->meter == XS_NS_FLOOD4 ? XS_NS_BAN4 : XS_NS_BAN6, cfg);
	}
	e_counter(r);
	e_verdict(r, d->verdict);
	snprintf(comment, sizeof(comment), "%s: %s", XS_NFT_MARKER, d->what);
	put_comment(r, NFTNL_RULE_USERDATA, NFTNL_UDATA_RULE_COMMENT, rule_set, comment);
	nftnl_rule_nlmsg_build_payload(
		xs_nft_batch_hdr(t, NFPROTO_INET, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND), r);
	xs_nft_batch_next(t);
	nftnl_rule_free(r);
	return 0;
}

/* ---- operations ---- */

/*
 * The relay ports a flow owns, from the flow map (its keys' edge ports):
 * what the pinhole set holds on the udp datapath, so that installing the
 * table again under live calls does not close their ports until the relay's
 * next sync.
 */
static int flow_ports(const struct xs_maps *m, struct xs_nft_elem **out, size_t *n)
{
	struct xs_flow_key k, next, *prev = NULL;
	uint8_t *seen = calloc(65536 / 8, 1);
	struct xs_nft_elem *e;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (!seen)
		return -ENOMEM;
	while (m->flows >= 0 && !bpf_map_get_next_key(m->flows, prev, &next)) {
		uint16_t port = ntohs(next.port);

		if (!(seen[port / 8] & (1 << (port % 8))))
			seen[port / 8] |= 1 << (port % 8), cnt++;
		k = next;
		prev = &k;
	}
	e = calloc(cnt ?: 1, sizeof(*e));
	if (!e) {
		free(seen);
		return -ENOMEM;
	}
	for (unsigned int p = 1; p < 65536; p++)
		if (seen[p / 8] & (1 << (p % 8))) {
			e[*n].key[0] = p >> 8;
			e[(*n)++].key[1] = p & 0xff;
		}
	free(seen);
	*out = e;
	return 0;
}

int xs_nft_install(const struct xs_maps *m)
{
	struct xs_nft_batch t;
	struct xs_config cfg;
	int err;

	err = xs_config_get(m, &cfg);
	if (err)
		return err;
	err = xs_nft_batch_open(&t);
	if (err)
		return err;
	/* Create-then-delete makes the delete valid whether or not it existed. */
	err = add_table(&t, NFT_MSG_NEWTABLE, NLM_F_CREATE, false);
	err = err ?: add_table(&t, NFT_MSG_DELTABLE, 0, false);
	err = err ?: add_table(&t, NFT_MSG_NEWTABLE, NLM_F_CREATE, true);
	for (int i = 0; !err && i < XS_NS_MAX; i++)
		err = add_set(&t, i, &cfg);
	err = err ?: add_chain(&t);
	for (unsigned int i = 0; !err && i < xs_nft_nrules; i++)
		err = add_rule(&t, &xs_nft_rules[i], &cfg);
	err = err ?: xs_nft_sync_batch(&t, m, XS_NFT_SYNC_ALL);
	if (!err) {
		struct xs_nft_elem *e;
		size_t n;

		err = flow_ports(m, &e, &n);
		err = err ?: xs_nft_set_add(&t, XS_NS_PINHOLES, e, n);
		free(e);
	}
	err = err ?: xs_nft_batch_commit(&t);
	xs_nft_batch_close(&t);
	return err;
}

int xs_nft_uninstall(void)
{
	struct xs_nft_batch t;
	int err = xs_nft_batch_open(&t);

	if (err)
		return err;
	err = add_table(&t, NFT_MSG_DELTABLE, 0, false);
	err = err ?: xs_nft_batch_commit(&t);
	xs_nft_batch_close(&t);
	return err;
}

int xs_nft_sync(const struct xs_maps *m)
{
	return xs_nft_sync_some(m, XS_NFT_SYNC_ALL);
}

int xs_nft_sync_some(const struct xs_maps *m, unsigned int what)
{
	struct xs_nft_batch t;
	int err = xs_nft_batch_open(&t);

	if (err)
		return err;
	err = xs_nft_sync_batch(&t, m, what);
	err = err ?: xs_nft_batch_commit(&t);
	xs_nft_batch_close(&t);
	return err;
}

int xs_nft_pinholes(const uint16_t *ports, unsigned int n)
{
	struct xs_nft_elem *e = calloc(n ?: 1, sizeof(*e));
	struct xs_nft_batch t;
	int err;

	if (!e)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		e[i].key[0] = ports[i] >> 8;
		e[i].key[1] = ports[i] & 0xff;
	}
	err = xs_nft_batch_open(&t);
	if (!err) {
		xs_nft_set_flush(&t, XS_NS_PINHOLES);
		err = xs_nft_set_add(&t, XS_NS_PINHOLES, e, n);
		err = err ?: xs_nft_batch_commit(&t);
		xs_nft_batch_close(&t);
	}
	free(e);
	return err;
}
