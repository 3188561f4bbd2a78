/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Registrations the core accepted: address of record -> the client's seen
 * source address and the expiry. The core reaches clients through the
 * aliased Contact; this table serves logs and Request-URIs that name the
 * edge without an alias (sip:alice@edge).
 *
 * A binding is stored only from the core's 2xx to a client's REGISTER (the
 * edge does not authenticate, the core does), keyed by the full AOR
 * (user@host of the To URI, host in lower case), its expiry capped at
 * max-register-expires. Persisted as JSON lines (statefile.h).
 */
#ifndef XDPSBC_SIGD_BINDING_H
#define XDPSBC_SIGD_BINDING_H

#include "sigd.h"

#define BINDING_AOR_LEN		256
#define BINDING_EXPIRES_DEFAULT 3600 /* max-register-expires */

void binding_set_max_expires(unsigned int seconds);
/*
 * The AOR "user@host" of @u (the user part as parsed, i.e. unescaped; the
 * host in lower case); -EINVAL when the host is missing or the result is
 * too long.
 */
int binding_aor(const osip_uri_t *u, char *buf, size_t len);
/* Remember (or, with @expires 0, forget) @aor at @src; the expiry is capped. */
void binding_seen(const char *aor, const struct sip_addr *src, unsigned int expires);
/* The live binding of @aor. */
int binding_lookup(const char *aor, struct sip_addr *out);
/* For a Request-URI naming the edge: the binding of its user at the To URI's host. */
int binding_lookup_request(const osip_message_t *req, struct sip_addr *out);
unsigned int binding_count(void);
/* For logs and status: call @fn for each live binding. */
void binding_foreach(void (*fn)(const char *aor, const struct sip_addr *a, long ttl, void *),
		     void *arg);
/*
 * What a REGISTER asks for: its AOR and the longest expiry among its
 * Contacts (Expires header or ;expires=, default 3600; 0 for "*" or a
 * removal). -EINVAL when there is no usable AOR.
 */
int binding_register_request(const osip_message_t *reg, char *aor, size_t len,
			     unsigned int *expires);
/*
 * The core's 2xx @ok to that REGISTER from @src: the expiry it granted for
 * the Contact the edge forwarded (the edge URI with @src's alias), else,
 * when it lists no Contact, the Expires header or @requested. Listing
 * Contacts without ours means ours is not registered (0).
 */
unsigned int binding_granted(const osip_message_t *ok, const struct sip_edge *edge,
			     const struct sip_addr *src, unsigned int requested);

/* State file @dir/bindings (JSON lines, 0600, write then rename), so a restart keeps them. */
int binding_save(const char *dir);
int binding_load(const char *dir);
void binding_flush(void);

#endif /* XDPSBC_SIGD_BINDING_H */
