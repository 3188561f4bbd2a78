/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals of the nftables backend: the batch, set names, one element. */
#ifndef XDPSBC_NFT_INT_H
#define XDPSBC_NFT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include "fw/fw.h"

/* Times a netlink dump interrupted by a concurrent ruleset change is taken (EINTR). */
#define XS_NFT_DUMP_TRIES 8

/*
 * One nftables request of @type for @family (@build puts @payload_obj in
 * the message), its answers through @cb; 0 or a negative errno (-EINTR: a
 * dump the ruleset changed under; the caller takes it again).
 */
int xs_nft_request(uint16_t family, uint16_t type, uint16_t flags, void *payload_obj,
		   void (*build)(struct nlmsghdr *, void *), mnl_cb_t cb, void *arg);

/* nft's datatype ids (nftables src/datatype.h), so `nft list` prints the sets. */
#define XS_NFT_TYPE_INET_PROTO	 12
#define XS_NFT_TYPE_INET_SERVICE 13
#define XS_NFT_TYPE_IPV4	 7
#define XS_NFT_TYPE_IPV6	 8

/* The sets of the table; elements come from the pinned maps (nft_sync.c). */
enum xs_nft_set {
	XS_NS_TRUST4,
	XS_NS_TRUST6,
	XS_NS_BLOCK4,
	XS_NS_BLOCK6,
	XS_NS_V6UDP,
	XS_NS_V6TCP,
	XS_NS_RELAY,
	XS_NS_PINHOLES,
	XS_NS_SIPPROTO,
	XS_NS_SIPPORTS,
	XS_NS_FLOOD4,
	XS_NS_FLOOD6,
	XS_NS_BAN4,
	XS_NS_BAN6,
	XS_NS_MAX
};

struct xs_nft_setdef {
	const char *name;
	uint32_t type, len, flags;
};
extern const struct xs_nft_setdef xs_nft_sets[XS_NS_MAX];

/*
 * The rules, in chain order, described once: nft.c builds them as netlink
 * expressions, nft_persist.c as nft text. Each matches the family, then
 * optionally the source against a set, the transport protocol (a value or
 * the sip_proto set) and the destination port against a set (and not in a
 * second one), optionally meters the source, and ends in the verdict.
 */
#define XS_L4_SIP 0xff /* l4proto: "meta l4proto @sip_proto" */
/*
 * What of a packet the flood meter counts, as the XDP flood stage does
 * (bpf/lib/flood.h): over UDP a datagram whose payload is not a response
 * ("SIP/...") nor a CR/LF keep-alive, so the core's answers never ban it;
 * over TCP, where nft cannot find the payload on every kernel (the inner
 * header base needs 6.2), a connection attempt (SYN without ACK): the
 * requests inside a connection are sigd's to limit.
 */
enum xs_nft_match {
	XS_NFT_M_ANY,
	XS_NFT_M_UDP_REQUEST,
	XS_NFT_M_TCP_SYN,
};
#define XS_NFT_SIP_RESPONSE 0x5349502fU /* "SIP/" */
#define XS_NFT_CHAIN	    "pre"
#define XS_NFT_PRIO	    (-300) /* raw */
struct xs_nft_rule {
	uint8_t nfproto;				/* NFPROTO_IPV4 / NFPROTO_IPV6 */
	uint8_t l4proto;				/* 0: any */
	int saddr_set, dport_set, dport_not_set, meter; /* -1: none */
	int verdict;
	const char *what;
	unsigned int reason; /* the XDP verdict reason it stands for (stats) */
	enum xs_nft_match match;
};
extern const struct xs_nft_rule xs_nft_rules[];
extern const unsigned int xs_nft_nrules;
/* The flood limit as a token bucket: flood_rate per flood_window_s, per second. */
uint64_t xs_nft_flood_rate(const struct xs_config *cfg);

/* One transaction: messages appended, then sent and acknowledged together. */
struct xs_nft_batch {
	struct mnl_socket *nl;
	struct nftnl_batch *b;
	uint32_t seq, first_seq;
	char *buf;
};

/* sets.c: the batch transaction and the set operations, below nft.c and sync.c. */
int xs_nft_batch_open(struct xs_nft_batch *t);
/* Room for the next message, 0 or -ENOMEM. */
void *xs_nft_batch_cur(struct xs_nft_batch *t);
void xs_nft_batch_next(struct xs_nft_batch *t);
/* The header of the batch's next message (family NFPROTO_INET or _IPV4), acked. */
struct nlmsghdr *xs_nft_batch_hdr(struct xs_nft_batch *t, uint16_t family, uint16_t type,
				  uint16_t flags);
/* End the batch, send it, read every ack; the first error wins. */
int xs_nft_batch_commit(struct xs_nft_batch *t);
void xs_nft_batch_close(struct xs_nft_batch *t);

/* Append "flush set" and the elements of a set; an element is a key or an interval. */
struct xs_nft_elem {
	uint8_t key[16], end[16]; /* end: first key after the interval (interval sets) */
	bool has_end;		  /* false: the interval runs to the top of the key space */
	uint64_t timeout_ms;	  /* 0: none */
};
void xs_nft_set_flush(struct xs_nft_batch *t, enum xs_nft_set s);
int xs_nft_set_add(struct xs_nft_batch *t, enum xs_nft_set s, const struct xs_nft_elem *e,
		   size_t n);

/* sync.c: the elements of set @s from the maps (free *@out). */
int xs_nft_elems(const struct xs_maps *m, enum xs_nft_set s, struct xs_nft_elem **out, size_t *n);
/* Flush and refill every map-backed set. */
int xs_nft_sync_batch(struct xs_nft_batch *t, const struct xs_maps *m, unsigned int what);
/* nft_persist.c */
bool xs_nft_persisted(void);

#endif /* XDPSBC_NFT_INT_H */
