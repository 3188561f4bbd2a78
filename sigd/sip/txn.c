// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "srccount.h"
#include "sip/txn.h"

#define TXN_BUCKETS 4096

static struct txn *buckets[TXN_BUCKETS];
static unsigned int ntxn;
static unsigned int txn_max = TXN_MAX_DEFAULT, txn_per_src = TXN_PER_SRC_DEFAULT;
static struct srcc_tab per_src;

void txn_set_limits(unsigned int max, unsigned int per_source)
{
	txn_max = max;
	txn_per_src = per_source;
}

static unsigned int bucket(const char *branch, const char *method)
{
	return fnv1a(fnv1a(FNV1A_INIT, branch), method) % TXN_BUCKETS;
}

struct txn *txn_find(const char *branch, const char *method)
{
	struct txn *t;

	if (!branch || !method)
		return NULL;
	for (t = buckets[bucket(branch, method)]; t; t = t->next)
		if (!strcmp(t->branch, branch) && !strcmp(t->method, method))
			return t;
	return NULL;
}

static void txn_free(struct txn *t)
{
	if (t->counted)
		srcc_dec(&per_src, &t->src.ip);
	free(t->fwd);
	free(t->resp);
	free(t->reg_aor);
	free(t);
	ntxn--;
}

struct txn *txn_add(const char *branch, const char *method, const char *call_id,
		    const struct sip_addr *src, bool exempt, int *err)
{
	unsigned int b = bucket(branch, method);
	struct txn *t;

	if (ntxn >= txn_max) {
		*err = -ENOSPC;
		return NULL;
	}
	if (!exempt && txn_per_src && srcc_get(&per_src, &src->ip) >= txn_per_src) {
		*err = -EDQUOT;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t || (!exempt && srcc_inc(&per_src, &src->ip))) {
		free(t);
		*err = -ENOMEM;
		return NULL;
	}
	t->counted = !exempt;
	snprintf(t->branch, sizeof(t->branch), "%s", branch);
	snprintf(t->method, sizeof(t->method), "%s", method);
	snprintf(t->call_id, sizeof(t->call_id), "%s", call_id);
	t->src = *src;
	t->created_ms = sigd_now_ms();
	t->interval_ms = TXN_T1_MS;
	t->next_ms = t->created_ms + TXN_T1_MS;
	t->expire_ms = t->created_ms + TXN_TIMEOUT_MS;
	t->next = buckets[b];
	buckets[b] = t;
	ntxn++;
	return t;
}

void txn_set_fwd(struct txn *t, char *fwd, size_t fwd_len)
{
	free(t->fwd);
	t->fwd = NULL;
	t->fwd_len = 0;
	/*
	 * libosip2 serialises into a buffer of several KB whatever the
	 * message's size: keep an exact copy, the request stays for minutes.
	 */
	if (fwd && (t->fwd = malloc(fwd_len ? fwd_len : 1))) {
		memcpy(t->fwd, fwd, fwd_len);
		t->fwd_len = fwd_len;
	}
	osip_free(fwd);
}

void txn_del(struct txn *t)
{
	for (struct txn **pp = &buckets[bucket(t->branch, t->method)]; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			txn_free(t);
			return;
		}
}

osip_message_t *txn_request(const struct txn *t)
{
	osip_message_t *m;
	osip_via_t *v;

	if (!t->fwd || osip_message_init(&m))
		return NULL;
	if (osip_message_parse(m, t->fwd, t->fwd_len) || !msg_has_required(m)) {
		osip_message_free(m);
		return NULL;
	}
	v = msg_top_via(m);
	osip_list_remove(&m->vias, 0);
	osip_via_free(v);
	return m;
}

/*
 * How long a transaction that got its final response stays to absorb
 * retransmissions: an INVITE until the 2xx retransmissions and the ACK of
 * a failure are over (timers H, and 2xx retransmissions, 64*T1); other
 * requests over UDP until the client's own retransmissions stop (timer J,
 * counted from the first request, as its timer F is), over TCP only T4
 * for a late copy of the response (timer K).
 */
static uint64_t linger(const struct txn *t, uint64_t now)
{
	uint64_t end;

	if (!strcmp(t->method, "INVITE"))
		return now + TXN_LINGER_MS;
	if (t->src.proto != SIP_UDP || t->local)
		return now + TXN_T4_MS;
	end = t->created_ms + TXN_LINGER_MS;
	return end > now + TXN_T4_MS ? end : now + TXN_T4_MS;
}

void txn_set_response(struct txn *t, int code, const char *resp, size_t len,
		      const struct sip_addr *dst)
{
	uint64_t now = sigd_now_ms();
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return;
	memcpy(copy, resp, len);
	free(t->resp);
	t->resp = copy;
	t->resp_len = len;
	t->resp_code = code;
	t->resp_dst = *dst;
	if (code >= 200) {
		t->expire_ms = linger(t, now);
		txn_set_fwd(t, NULL, 0);
	} else if (!strcmp(t->method, "INVITE") && t->expire_ms < now + TXN_TIMER_C_MS) {
		/* Ringing may last: keep the INVITE for a CANCEL until timer C. */
		t->expire_ms = now + TXN_TIMER_C_MS;
	}
}

void txn_tick(uint64_t now, void (*resend)(struct txn *, void *),
	      bool (*timeout)(struct txn *, void *), void *arg)
{
	for (unsigned int b = 0; b < TXN_BUCKETS; b++) {
		struct txn **pp = &buckets[b], *t;

		while ((t = *pp)) {
			if (now >= t->expire_ms) {
				if (t->resp_code < 200 && timeout && timeout(t, arg) &&
				    t->expire_ms > now) {
					pp = &t->next;
					continue;
				}
				*pp = t->next;
				txn_free(t);
				continue;
			}
			/*
			 * Over UDP nobody else retransmits a forwarded INVITE once we
			 * sent 100 Trying, nor a request we originated (CANCEL, BYE).
			 */
			if (!t->answered && t->dst.proto == SIP_UDP && t->fwd &&
			    (t->local || !strcmp(t->method, "INVITE")) && now >= t->next_ms) {
				if (resend)
					resend(t, arg);
				if (t->interval_ms < 4000 || !strcmp(t->method, "INVITE"))
					t->interval_ms *= 2;
				t->next_ms = now + t->interval_ms;
			}
			pp = &t->next;
		}
	}
}

unsigned int txn_count(void)
{
	return ntxn;
}

unsigned int txn_count_src(const struct sip_ip *ip)
{
	return srcc_get(&per_src, ip);
}

void txn_flush(void)
{
	for (unsigned int b = 0; b < TXN_BUCKETS; b++) {
		while (buckets[b]) {
			struct txn *t = buckets[b];

			buckets[b] = t->next;
			txn_free(t);
		}
	}
	ntxn = 0;
	srcc_clear(&per_src);
}
