/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How many entries of a table (dialogs, transactions) each source address
 * holds, so one sender cannot fill a table that every caller shares. An
 * address is tracked only while it holds entries. The unit is an IPv4
 * address or an IPv6 /64 (sip_ip_source()).
 */
#ifndef XDPSBC_SIGD_SRCCOUNT_H
#define XDPSBC_SIGD_SRCCOUNT_H

#include "sigd.h"

#define SRCC_BUCKETS 1024

struct srcc_ent {
	struct sip_ip ip; /* the source unit */
	unsigned int n;
	struct srcc_ent *next;
};

struct srcc_tab {
	struct srcc_ent *b[SRCC_BUCKETS];
};

unsigned int srcc_get(const struct srcc_tab *t, const struct sip_ip *ip);
/* One more entry for @ip; -ENOMEM when it cannot be tracked. */
int srcc_inc(struct srcc_tab *t, const struct sip_ip *ip);
void srcc_dec(struct srcc_tab *t, const struct sip_ip *ip);
void srcc_clear(struct srcc_tab *t);

#endif /* XDPSBC_SIGD_SRCCOUNT_H */
