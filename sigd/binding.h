/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Registrations seen passing to the core: AOR -> the client's seen source
 * address and the expiry. The core reaches clients through the aliased
 * Contact; this table serves logs and Request-URIs that name the edge
 * without an alias (sip:alice@edge).
 */
#ifndef XDPSBC_SIGD_BINDING_H
#define XDPSBC_SIGD_BINDING_H

#include "sigd.h"

/* Remember (or, with @expires 0, forget) @user@@host at @src. */
void binding_seen(const char *user, const char *host, const struct sip_addr *src,
		  unsigned int expires);
/* The most recent live binding of @user (any host). */
int binding_lookup(const char *user, struct sip_addr *out);
unsigned int binding_count(void);
/* For logs and status: call @fn for each live binding. */
void binding_foreach(void (*fn)(const char *aor, const struct sip_addr *a, long ttl, void *),
		     void *arg);
/* Record the bindings a REGISTER from @src asks for (Expires / ;expires=). */
void binding_from_register(const osip_message_t *reg, const struct sip_addr *src);

/* State file @dir/bindings (write, then rename), so a restart keeps them. */
int binding_save(const char *dir);
int binding_load(const char *dir);
void binding_flush(void);

#endif /* XDPSBC_SIGD_BINDING_H */
