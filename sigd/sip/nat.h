/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Signalling NAT traversal, stateless in the manner of kamailio's nathelper:
 * the top Via learns received/rport (RFC 3581) and a client's Contact is
 * rebuilt on the edge with the client's seen address in
 * ;alias=ip~port~proto~mac (an IPv6 ip in brackets), so a request coming back for that URI can be sent
 * to the NAT binding with no table at all, and a restart of the daemon
 * forgets nothing. The MAC (secret.h) over "ip~port~proto" makes the alias
 * something only the edge can write: a Request-URI carrying any other alias
 * is refused, never followed.
 */
#ifndef XDPSBC_SIGD_NAT_H
#define XDPSBC_SIGD_NAT_H

#include "sigd.h"

/* RFC 3581: rport=<source port> when asked for; received= when asked or the host differs. */
int nat_fix_via(osip_message_t *req, const struct sip_addr *src);
#define NAT_ALIAS_MAC_HEX 16
/* "10.0.0.2~5060~1~<16 hex digits of MAC>", "[2001:db8::2]~5060~1~<MAC>" */
int nat_alias_encode(const struct sip_addr *a, char *buf, size_t len);
/*
 * 0 and @a when @u carries an alias the edge wrote; -ENOENT without one;
 * -EINVAL when malformed; -EPERM when unsigned or its MAC does not verify.
 */
int nat_alias_decode(const osip_uri_t *u, struct sip_addr *a);
/* Remove every ;alias= from @u. */
void nat_alias_strip(osip_uri_t *u);

/* A client may list at most this many Contacts in one message. */
#define NAT_CONTACTS_MAX 16
/*
 * Rebuild every Contact of @m (from a client seen at @src) from scratch: the
 * edge's address of @face's family and port of its transport (@face: the
 * peer @m goes to; only its family and transport count), the client's user part (escaped), the signed alias of @src
 * and the whitelisted parameters (nat_contact.c lists them), whose names
 * and values must be tokens or quoted strings. "Contact: *" is kept, alone
 * and in a REGISTER only. The result is re-parsed and must give back as many
 * Contacts, each naming the edge with our alias. 0, or -EINVAL (the message
 * must be refused: 400) with @m's Contacts unchanged.
 */
int nat_alias_contacts(osip_message_t *m, const struct sip_edge *edge, const struct sip_addr *face,
		       const struct sip_addr *src);
/*
 * The same in two steps, so a request can be refused before anything is
 * allocated for it: @*out receives the checked Contacts (NULL: nothing to
 * rewrite), which nat_contacts_apply() moves into @m and frees.
 */
int nat_contacts_rebuild(const osip_message_t *m, const struct sip_edge *edge,
			 const struct sip_addr *face, const struct sip_addr *src,
			 osip_message_t **out);
void nat_contacts_apply(osip_message_t *m, osip_message_t *rebuilt);

#endif /* XDPSBC_SIGD_NAT_H */
