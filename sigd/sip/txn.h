/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Transactions the proxy forwarded, keyed by our branch and the method. They
 * let the proxy absorb retransmissions (a request whose final response was
 * already forwarded gets that response again and goes no further), retransmit
 * a forwarded INVITE over UDP until the next hop answers (timer A), and find
 * the INVITE a CANCEL refers to.
 */
#ifndef XDPSBC_SIGD_TXN_H
#define XDPSBC_SIGD_TXN_H

#include "sigd.h"
#include "sip/msg.h"

#define TXN_T1_MS      500
#define TXN_T4_MS      5000
#define TXN_TIMEOUT_MS (64 * TXN_T1_MS) /* timer B/F: 32 s */
#define TXN_LINGER_MS  32000		/* timers H/J over UDP: absorb retransmissions */
#define TXN_TIMER_C_MS 180000		/* a ringing INVITE is cancelled after 3 min */

/* Defaults of max-transactions and max-transactions-per-source. */
#define TXN_MAX_DEFAULT	    65536
#define TXN_PER_SRC_DEFAULT 512

struct txn {
	char branch[SIGD_BRANCH_LEN + 1]; /* ours, on the forwarded request */
	char method[16];
	char call_id[128];
	struct sip_addr src; /* where the request came from: responses go only there */
	struct sip_addr dst; /* where we forwarded it: responses come only from there */
	/*
	 * The request as forwarded, kept while the next hop may need it again
	 * (timer A, a CANCEL, a 408 built from it) and freed with the final
	 * response, so a completed transaction holds only that response.
	 */
	char *fwd;
	size_t fwd_len;
	char *resp; /* the last response forwarded back */
	size_t resp_len;
	struct sip_addr resp_dst;
	int resp_code;
	char *reg_aor; /* a client's REGISTER: its binding, stored on the core's 2xx */
	unsigned int reg_expires;
	bool local;    /* a request we originated: absorb its responses */
	bool answered; /* the next hop sent any response: stop retransmitting */
	bool initial_invite;
	bool counted; /* counts against src's per-source share */
	uint64_t created_ms, next_ms, interval_ms, expire_ms;
	struct txn *next;
	/* Private to txn.c: the timer heap's key (never later than the next timer) and slot. */
	uint64_t due_ms;
	unsigned int hslot;
};

/* max-transactions, max-transactions-per-source (0: no per-source cap). */
void txn_set_limits(unsigned int max, unsigned int per_source);
struct txn *txn_find(const char *branch, const char *method);
/*
 * A new transaction from @src (@exempt: not counted in the source's share:
 * the core, trusted sources, our own requests). NULL with *@err -ENOSPC
 * (table full), -EDQUOT (the source holds its share) or -ENOMEM.
 */
struct txn *txn_add(const char *branch, const char *method, const char *call_id,
		    const struct sip_addr *src, bool exempt, int *err);
/* The request as forwarded (@fwd, osip_malloc'd, is copied and freed). */
void txn_set_fwd(struct txn *t, char *fwd, size_t fwd_len);
void txn_del(struct txn *t);
/* @t's expire_ms or next_ms was changed by hand (txn_set_response() does it itself). */
void txn_resched(struct txn *t);
/* The request as received, rebuilt from the forwarded one (our Via popped); NULL if gone. */
osip_message_t *txn_request(const struct txn *t);
/* Remember @resp (copied) as the last response sent back, to @dst. */
void txn_set_response(struct txn *t, int code, const char *resp, size_t len,
		      const struct sip_addr *dst);
/*
 * Timers: @resend(t) for INVITEs over UDP with no answer yet; at expiry
 * @timeout(t) for transactions without a final response (timer B, F, C),
 * which returns true when it gave the transaction more time. Expired
 * ones are freed.
 */
void txn_tick(uint64_t now_ms, void (*resend)(struct txn *, void *),
	      bool (*timeout)(struct txn *, void *), void *arg);
unsigned int txn_count(void);
/* Transactions held by source @ip. */
unsigned int txn_count_src(const struct sip_ip *ip);
void txn_flush(void);

#endif /* XDPSBC_SIGD_TXN_H */
