// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "txn.h"

#define TXN_BUCKETS 4096
#define TXN_MAX	    (1U << 18) /* bound memory under a flood of distinct requests */

static struct txn *buckets[TXN_BUCKETS];
static unsigned int ntxn;

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
	if (t->orig)
		osip_message_free(t->orig);
	osip_free(t->fwd);
	free(t->resp);
	free(t);
}

struct txn *txn_add(const char *branch, const char *method, const char *call_id,
		    osip_message_t *orig, char *fwd, size_t fwd_len)
{
	unsigned int b = bucket(branch, method);
	struct txn *t;

	if (ntxn >= TXN_MAX || !(t = calloc(1, sizeof(*t)))) {
		if (orig)
			osip_message_free(orig);
		osip_free(fwd);
		return NULL;
	}
	snprintf(t->branch, sizeof(t->branch), "%s", branch);
	snprintf(t->method, sizeof(t->method), "%s", method);
	snprintf(t->call_id, sizeof(t->call_id), "%s", call_id);
	t->orig = orig;
	t->fwd = fwd;
	t->fwd_len = fwd_len;
	t->created_ms = sigd_now_ms();
	t->interval_ms = TXN_T1_MS;
	t->next_ms = t->created_ms + TXN_T1_MS;
	t->expire_ms = t->created_ms + TXN_TIMEOUT_MS;
	t->next = buckets[b];
	buckets[b] = t;
	ntxn++;
	return t;
}

void txn_set_response(struct txn *t, int code, const char *resp, size_t len,
		      const struct sip_addr *dst)
{
	char *copy = malloc(len);

	if (!copy)
		return;
	memcpy(copy, resp, len);
	free(t->resp);
	t->resp = copy;
	t->resp_len = len;
	t->resp_code = code;
	t->resp_dst = *dst;
	if (code >= 200)
		t->expire_ms = sigd_now_ms() + TXN_LINGER_MS;
	else if (!strcmp(t->method, "INVITE"))
		/* Ringing may last: keep the INVITE for a CANCEL (timer C, 3 min). */
		t->expire_ms = sigd_now_ms() + 180000;
}

void txn_tick(uint64_t now, void (*resend)(struct txn *, void *),
	      void (*timeout)(struct txn *, void *), void *arg)
{
	for (unsigned int b = 0; b < TXN_BUCKETS; b++) {
		struct txn **pp = &buckets[b], *t;

		while ((t = *pp)) {
			if (now >= t->expire_ms) {
				if (!t->answered && timeout)
					timeout(t, arg);
				*pp = t->next;
				txn_free(t);
				ntxn--;
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
}
