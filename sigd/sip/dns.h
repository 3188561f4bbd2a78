/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host names to addresses (A preferred, AAAA for an IPv6-only name) without blocking the SIP loop: lookups answer
 * from a cache at once; a name not in it is handed to resolver threads and
 * the caller is told to come back (the SIP layer drops or answers 503). The
 * configured names (upstream, domains) are pinned: kept and refreshed in the
 * background, served stale while a refresh fails.
 */
#ifndef XDPSBC_SIGD_DNS_H
#define XDPSBC_SIGD_DNS_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include "sigd.h"

struct dns_cfg {
	unsigned int ttl_s;	 /* a resolved name is kept this long (then refreshed) */
	unsigned int neg_ttl_s;	 /* a name that did not resolve is not asked again for */
	unsigned int timeout_ms; /* a lookup not answered by then counts as failed */
};

#define DNS_DEFAULT_TTL_S      300
#define DNS_DEFAULT_NEG_TTL_S  30
#define DNS_DEFAULT_TIMEOUT_MS 2000

struct dns_stats {
	uint64_t hits, misses, failures, timeouts, queue_full;
	unsigned int entries, pending;
};

void dns_cfg_default(struct dns_cfg *c);
void dns_set_cfg(const struct dns_cfg *c);
/*
 * @host to an address, never blocking: 0 (an IP literal, or cached),
 * -EAGAIN (lookup started or under way: try again later), -ETIMEDOUT (the
 * lookup is past its deadline), -EHOSTUNREACH (known not to resolve),
 * -EINVAL (not a host name).
 */
int dns_lookup(const char *host, struct sip_ip *ip);
/* The same, IPv4 only (-EAFNOSUPPORT for an IPv6 answer). */
int dns_lookup4(const char *host, struct in_addr *ip);
/* Keep @host resolved and refreshed in the background (configured names). */
int dns_pin(const char *host);
/* Forget the pins (a reload pins the configured names again). */
void dns_unpin_all(void);
/* Is @ip the address of a pinned name? */
bool dns_pinned_addr(const struct sip_ip *ip);
/*
 * Like dns_lookup() but waits up to dns_set_wait()'s time for the answer:
 * for the configuration at start, before the event loop runs. 0 after.
 */
int dns_lookup_wait(const char *host, struct sip_ip *ip);
void dns_set_wait(unsigned int ms);
/* Refresh pinned names whose time is up (from the event loop, once a second is enough). */
void dns_tick(void);
void dns_get_stats(struct dns_stats *st);

#endif /* XDPSBC_SIGD_DNS_H */
