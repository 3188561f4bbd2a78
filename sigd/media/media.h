/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The media side of xdpsbc-sigd: rewrites SDP offers and answers (RFC 3264)
 * so that media is anchored on the edge, allocates relay ports and programs
 * the XDP relay flows (xs_flows). The proxy (proxy.c) calls it for every
 * message that may carry SDP and when a call ends.
 *
 * Media state needs no file: every flow carries the call's cookie (a hash of
 * the Call-ID), so after a restart media_new() rebuilds its call table and
 * port allocation from the pinned flow map and media_end() still works.
 */
#ifndef XDPSBC_SIGD_MEDIA_H
#define XDPSBC_SIGD_MEDIA_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <osipparser2/osip_parser.h>

#include "media/types.h"

struct media_ctx;

struct media_ctx *media_new(const struct media_opts *o);
void media_free(struct media_ctx *mc);
/* Apply new options (SIGHUP); calls in progress keep their ports. */
int media_reconfigure(struct media_ctx *mc, const struct media_opts *o);

/*
 * Rewrite the SDP body of @msg, sent by leg @from of call @call_id from @src
 * (NULL: unknown): allocate or reuse relay ports per m-line, program the
 * flows (opening the leg's latch window), replace c=/m=/o=/a=rtcp, the body
 * and Content-Length. Returns 0 (also when @msg has no SDP body), or a
 * negative errno leaving @msg and the call's media untouched (a call this
 * message created is gone again, its ports free): -EBADMSG for malformed
 * SDP, -E2BIG for more relayed m-lines than max_streams, -EDQUOT when @src
 * would hold more than source_ports, -ENOSPC when the port range is
 * exhausted or the flow map (xs_flows, map-sizes flows) is full.
 */
int media_rewrite(struct media_ctx *mc, osip_message_t *msg, const char *call_id,
		  enum media_side from, const struct media_src *src);

/* media_rewrite()'s error @err (negative) in words, for log lines. */
const char *media_strerror(int err);

/* The call ended (BYE, CANCEL, final >= 300): remove its flows, free its ports. */
void media_end(struct media_ctx *mc, const char *call_id);

/* The flow cookie of a call: a stable 64-bit hash of its Call-ID (FNV-1a). */
uint64_t media_cookie(const char *call_id);

/*
 * Media timeout: for each call with no packets either way for timeout_s, call
 * @on_timeout(cookie, arg) (the proxy finds its dialog by cookie and sends BYE
 * to both legs), then end it. Cookies, not Call-IDs, because after a restart
 * the media state is rebuilt from the flow map, which only holds cookies.
 */
void media_poll(struct media_ctx *mc, void (*on_timeout)(uint64_t cookie, void *arg), void *arg);
/* End a call known only by its cookie (after a restart). */
void media_end_cookie(struct media_ctx *mc, uint64_t cookie);

/*
 * The call was answered: from now on the plain media timeout applies (before,
 * a ringing call gets Timer C on top, see media_poll()). media_rewrite()
 * notices a 2xx to INVITE or an ACK carrying SDP by itself; this is for a
 * 2xx without SDP (answer in a reliable 18x).
 */
void media_confirm(struct media_ctx *mc, const char *call_id);

/*
 * Flows another edge programmed were put into xs_flows (a standby taking
 * over, cluster/): learn their calls and ports as after a restart.
 */
int media_adopt(struct media_ctx *mc);

/* Number of calls with media state; for status and tests. */
unsigned int media_calls(const struct media_ctx *mc);
/* Relay ports allocated, and those held by signalling source @src; for status and tests. */
unsigned int media_ports_used(const struct media_ctx *mc);
/* Relay ports held by @src's source unit (an IPv4 address, an IPv6 /64). */
unsigned int media_source_ports(const struct media_ctx *mc, const struct sip_ip *src);
/*
 * Media address @i (0 .. n-1, n returned; -ENOENT past it): its address,
 * relay ports in use and in all, for /metrics.
 */
int media_addr_ports(const struct media_ctx *mc, unsigned int i, struct in_addr *addr,
		     unsigned int *used, unsigned int *total);
/* Flow inserts refused because xs_flows was full (calls answered 503), for /metrics. */
uint64_t media_flows_full(const struct media_ctx *mc);
/*
 * Warn (rate-limited, with the Call-ID) about calls whose media the relay
 * drops for no route. Call it often: it reads the pinned per-interface
 * no-route counts at most once a second, and the calls' flows only when
 * those grew (noroute.c).
 */
void media_noroute_watch(struct media_ctx *mc, const char *pin_root);

#endif /* XDPSBC_SIGD_MEDIA_H */
