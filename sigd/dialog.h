/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * INVITE dialogs, keyed by Call-ID: which leg is the caller (A, the UAC of
 * the initial INVITE) so media_rewrite() knows the direction, and enough of
 * both legs (tags, remote targets, route sets, addresses, CSeqs) for the proxy
 * to send BYE to both on media timeout. Persisted to the state directory
 * (write, then rename) so a restarted daemon can still end calls.
 */
#ifndef XDPSBC_SIGD_DIALOG_H
#define XDPSBC_SIGD_DIALOG_H

#include <time.h>
#include "sigd.h"

enum dlg_state { DLG_EARLY, DLG_CONFIRMED };

/* An INVITE rings at most this long before the dialog is forgotten (timer C is 3 min). */
#define DLG_EARLY_MAX_S 600

/* One leg: what a request to that party needs. */
struct dlg_leg {
	char tag[128];
	char hdr[512];	      /* its From (A) or To (B) header value, with the tag */
	char target[512];     /* its Contact URI as it sent it */
	char routes[1024];    /* route set towards it, comma-separated, "" = none */
	struct sip_addr addr; /* where requests to it go */
	uint32_t cseq;	      /* highest CSeq it used */
	bool client;	      /* behind the edge (vs. the core) */
};

struct dialog {
	char call_id[256];
	uint64_t cookie; /* media_cookie(call_id) */
	enum dlg_state state;
	uint32_t inv_cseq; /* CSeq of the initial INVITE */
	time_t created;
	struct dlg_leg a, b;
	/* Policy accounting (policy.h): the call's company, brand, road-warrior user. */
	char company[64], brand[64], rw_user[160];
	struct dialog *next;  /* all dialogs */
	struct dialog *hnext; /* same Call-ID hash bucket */
};

struct dialog *dlg_find(const char *call_id);
struct dialog *dlg_find_cookie(uint64_t cookie);
struct dialog *dlg_new(const char *call_id);
void dlg_del(struct dialog *d);
unsigned int dlg_count(void);
void dlg_flush(void);
struct dialog *dlg_first(void);

/* State file @dir/dialogs: write-then-rename; load at start. */
int dlg_save(const char *dir);
int dlg_load(const char *dir);

#endif /* XDPSBC_SIGD_DIALOG_H */
