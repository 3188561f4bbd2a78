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
#include "sipmsg.h"

#define TXN_T1_MS      500
#define TXN_TIMEOUT_MS (64 * TXN_T1_MS) /* timer B/F: 32 s */
#define TXN_LINGER_MS  32000		/* keep completed transactions to absorb retransmissions */

struct txn {
	char branch[SIGD_BRANCH_LEN + 1]; /* ours, on the forwarded request */
	char method[16];
	char call_id[128];
	struct sip_addr src;  /* where the request came from */
	struct sip_addr dst;  /* where we forwarded it */
	osip_message_t *orig; /* the request as received, to build our own responses */
	char *fwd;	      /* the request as forwarded */
	size_t fwd_len;
	char *resp; /* the last response forwarded back */
	size_t resp_len;
	struct sip_addr resp_dst;
	int resp_code;
	bool local;    /* a request we originated: absorb its responses */
	bool answered; /* the next hop sent any response: stop retransmitting */
	bool initial_invite;
	uint64_t created_ms, next_ms, interval_ms, expire_ms;
	struct txn *next;
};

struct txn *txn_find(const char *branch, const char *method);
/* A new transaction; takes ownership of @orig and @fwd. */
struct txn *txn_add(const char *branch, const char *method, const char *call_id,
		    osip_message_t *orig, char *fwd, size_t fwd_len);
/* Remember @resp (copied) as the last response sent back, to @dst. */
void txn_set_response(struct txn *t, int code, const char *resp, size_t len,
		      const struct sip_addr *dst);
/*
 * Timers: @resend(t) for INVITEs over UDP with no answer yet, @timeout(t) for
 * transactions never answered within 32 s; expired ones are freed.
 */
void txn_tick(uint64_t now_ms, void (*resend)(struct txn *, void *),
	      void (*timeout)(struct txn *, void *), void *arg);
unsigned int txn_count(void);
void txn_flush(void);

#endif /* XDPSBC_SIGD_TXN_H */
