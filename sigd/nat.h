/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Signalling NAT traversal, stateless in the manner of kamailio's nathelper:
 * the top Via learns received/rport (RFC 3581) and a client's Contact is
 * rewritten to the edge with the client's seen address in ;alias=ip~port~proto,
 * so a request coming back for that URI can be sent to the NAT binding with
 * no table at all, and a restart of the daemon forgets nothing.
 */
#ifndef XDPSBC_SIGD_NAT_H
#define XDPSBC_SIGD_NAT_H

#include "sigd.h"

/* RFC 3581: rport=<source port> when asked for; received= when asked or the host differs. */
int nat_fix_via(osip_message_t *req, const struct sip_addr *src);
/* "10.0.0.2~5060~1" */
int nat_alias_encode(const struct sip_addr *a, char *buf, size_t len);
/* 0 and @a when @u carries a valid alias; -ENOENT without one; -EINVAL when bad. */
int nat_alias_decode(const osip_uri_t *u, struct sip_addr *a);
/* Remove every ;alias= from @u. */
void nat_alias_strip(osip_uri_t *u);
/* Point every Contact of @m at @edge with @src (the client's seen address) as alias. */
int nat_alias_contacts(osip_message_t *m, const struct sip_edge *edge, const struct sip_addr *src);

#endif /* XDPSBC_SIGD_NAT_H */
