/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The media side's options and the names of a call's legs and sources:
 * shared by its API (media.h) and its internals (internal.h).
 */
#ifndef XDPSBC_SIGD_MEDIA_TYPES_H
#define XDPSBC_SIGD_MEDIA_TYPES_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include "sigd.h"

/* Which address a leg's media may latch from (docs/security/media.md). */
enum media_latch {
	MEDIA_LATCH_SIGNALLING = 0, /* the leg's signalling source IP (the core: its SDP address) */
	MEDIA_LATCH_SDP,	    /* the address in the leg's SDP (no NAT anywhere) */
};

#define MEDIA_LATCH_WINDOW_DEFAULT 10  /* s after an offer/answer a leg may latch */
#define MEDIA_MAX_STREAMS_DEFAULT  8   /* relayed m-lines per call */
#define MEDIA_SOURCE_PORTS_DEFAULT 400 /* relay ports one signalling source may hold */
#define MEDIA_ADDRS_MAX		   16  /* media addresses (media-ip) */

struct media_opts {
	struct in_addr public_ip;   /* the edge's IPv4 media address, written into c= and o= */
	struct in6_addr public_ip6; /* its IPv6 media address (:: none: every leg is IPv4) */
	/*
	 * `media ipv4-only`: read from xs_config (XS_CFG_V6_MEDIA_DROP) when a
	 * leg's family is decided, so the CLI's switch applies to new calls
	 * at once. config_fd <= 0 (tests): dual_stack stands for "off".
	 */
	int config_fd;
	bool dual_stack;
	/*
	 * The IPv4 media addresses a call's c=, o= and relay ports may be on
	 * (one per call); none: public_ip alone. Each has the whole port range.
	 */
	struct in_addr media_ip[MEDIA_ADDRS_MAX];
	unsigned int n_media_ip;
	uint16_t port_min, port_max; /* relay port range (even RTP port, RTCP on +1) */
	int flows_fd;		     /* pinned xs_flows map */
	enum media_latch latch;	     /* latch source rule */
	unsigned int latch_window_s; /* 0: MEDIA_LATCH_WINDOW_DEFAULT */
	unsigned int timeout_s;	     /* media timeout: no packets either way (default 60) */
	unsigned int max_streams;    /* relayed m-lines per call; 0: no limit but SDP_MAX_MEDIA */
	unsigned int source_ports;   /* relay ports per signalling source; 0: no limit */
	/*
	 * Random source for port picks; NULL: getrandom(). Tests that compare
	 * rewritten SDP byte for byte plug in a counter, which makes the
	 * allocation sequential.
	 */
	uint32_t (*port_rng)(void);
	/*
	 * Is @cookie a call this edge only holds a copy of (a standby's of its
	 * peer's, cluster/)? The rebuild from the flow map leaves those out
	 * until they are taken over. NULL: every flow is this edge's.
	 */
	bool (*foreign_cookie)(uint64_t cookie);
};

/*
 * Who sent the SDP being rewritten: the signalling source of the message
 * (the address the INVITE, 18x/200, ACK or UPDATE came from) and whether
 * that is the core (trusted: its SDP address is where its media comes from,
 * and it is not held to the per-source port limit).
 */
struct media_src {
	struct sip_ip sig; /* the signalling source, either family (af 0: unknown) */
	bool core;
	/*
	 * The family of the hop the rewritten message goes to (its next hop,
	 * or for a response the request's sender): the family the receiving
	 * leg's media gets when the edge first writes SDP to it (0: unknown,
	 * IPv4).
	 */
	int to_af;
};

static inline struct media_src media_src_of(const struct sip_addr *a, bool core,
					    const struct sip_addr *to)
{
	struct media_src ms = {.sig = a->ip, .core = core, .to_af = to ? to->ip.af : 0};

	return ms;
}

/* The two legs of a call: A sent the initial INVITE (the dialog's caller), B answers it. */
enum media_side { MEDIA_SIDE_A = 0, MEDIA_SIDE_B = 1 };

#endif /* XDPSBC_SIGD_MEDIA_TYPES_H */
