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
/*
 * The timers: a binary min-heap of every transaction by due_ms, so a tick
 * costs the transactions whose timer fired (O(log n) each), not a walk of
 * all of them on every wakeup. due_ms may be earlier than the transaction's
 * real next timer (the heap is told only of changes that make it earlier):
 * an early pop just recomputes it.
 */
static struct txn **heap;
static unsigned int nheap, heap_cap;
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

static void heap_set(unsigned int i, struct txn *t)
{
	heap[i] = t;
	t->hslot = i;
}

static void heap_sift(unsigned int i)
{
	struct txn *t = heap[i];

	while (i && heap[(i - 1) / 2]->due_ms > t->due_ms) {
		heap_set(i, heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		unsigned int c = 2 * i + 1;

		if (c >= nheap)
			break;
		if (c + 1 < nheap && heap[c + 1]->due_ms < heap[c]->due_ms)
			c++;
		if (heap[c]->due_ms >= t->due_ms)
			break;
		heap_set(i, heap[c]);
		i = c;
	}
	heap_set(i, t);
}

static int heap_push(struct txn *t)
{
	if (nheap == heap_cap) {
		unsigned int cap = heap_cap ? 2 * heap_cap : 1024;
		struct txn **h = realloc(heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		heap = h;
		heap_cap = cap;
	}
	heap_set(nheap++, t);
	heap_sift(t->hslot);
	return 0;
}

static void heap_remove(struct txn *t)
{
	unsigned int i = t->hslot;

	if (--nheap != i) {
		heap_set(i, heap[nheap]);
		heap_sift(i);
	}
}

/* Does @t retransmit its request? (UDP: nobody else does; see txn_tick()). */
static bool retransmits(const struct txn *t)
{
	return !t->answered && t->dst.proto == SIP_UDP && t->fwd &&
	       (t->local || !strcmp(t->method, "INVITE"));
}

void txn_resched(struct txn *t)
{
	t->due_ms = t->expire_ms;
	if (retransmits(t) && t->next_ms < t->due_ms)
		t->due_ms = t->next_ms;
	heap_sift(t->hslot);
}

static void txn_free(struct txn *t)
{
	heap_remove(t);
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
	/* dst, fwd and local are set after this: the first retransmission counts. */
	t->due_ms = t->next_ms;
	if (heap_push(t)) {
		if (t->counted)
			srcc_dec(&per_src, &src->ip);
		free(t);
		*err = -ENOMEM;
		return NULL;
	}
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
	txn_resched(t);
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
	txn_resched(t);
}

void txn_tick(uint64_t now, void (*resend)(struct txn *, void *),
	      bool (*timeout)(struct txn *, void *), void *arg)
{
	while (nheap && heap[0]->due_ms <= now) {
		struct txn *t = heap[0];

		if (now >= t->expire_ms) {
			if (t->resp_code < 200 && timeout && timeout(t, arg) &&
			    t->expire_ms > now) {
				txn_resched(t);
				continue;
			}
			txn_del(t);
			continue;
		}
		/*
		 * Over UDP nobody else retransmits a forwarded INVITE once we
		 * sent 100 Trying, nor a request we originated (CANCEL, BYE).
		 */
		if (retransmits(t) && now >= t->next_ms) {
			if (resend)
				resend(t, arg);
			if (t->interval_ms < 4000 || !strcmp(t->method, "INVITE"))
				t->interval_ms *= 2;
			t->next_ms = now + t->interval_ms;
		}
		txn_resched(t);
		/* Not due any more (expiry and next retransmission are ahead): progress. */
		if (t->due_ms <= now) {
			t->due_ms = now + 1;
			heap_sift(t->hslot);
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
	nheap = 0;
	srcc_clear(&per_src);
}
