/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * INVITE dialogs, keyed by Call-ID: which leg is the caller (A, the UAC of
 * the initial INVITE) so media_rewrite() knows the direction, and enough of
 * both legs (tags, remote targets, route sets, addresses, CSeqs) for the proxy
 * to send BYE to both on media timeout. Persisted to the state directory
 * (statefile.h: JSON lines, 0600, checked on load) so a restarted daemon can
 * still end calls: the file is a journal, each change appended as the
 * dialog's new record or a tombstone, and rewritten whole (compacted) only
 * when it has grown to twice what is live, so the cost of a save is that of
 * the dialogs that changed, not of all the calls up.
 *
 * A dialog belongs to the leg that created it: the source and From tag of
 * its initial INVITE. Another initial INVITE with the same Call-ID from
 * anyone else is refused, never merged into it. Each source holds at most
 * max-dialogs-per-source dialogs, the table max-dialogs.
 */
#ifndef XDPSBC_SIGD_DIALOG_H
#define XDPSBC_SIGD_DIALOG_H

#include <time.h>
#include "sigd.h"

enum dlg_state { DLG_EARLY, DLG_CONFIRMED };

/*
 * An early dialog is forgotten after this, whatever happened to its
 * INVITE: timer C (3 min) cancels a ringing INVITE and answers 408 itself;
 * this catches the rest (a restart in between, a lost final response).
 */
#define DLG_EARLY_MAX_S 240

/* Defaults of max-dialogs and max-dialogs-per-source. */
#define DLG_MAX_DEFAULT	    65536
#define DLG_PER_SRC_DEFAULT 128

/* One leg: what a request to that party needs. */
struct dlg_leg {
	char tag[128];
	char hdr[512];	      /* its From (A) or To (B) header value, with the tag */
	char target[512];     /* its Contact URI as it sent it */
	char routes[1024];    /* route set towards it, comma-separated, "" = none */
	struct sip_addr addr; /* where requests to it go */
	uint32_t cseq;	      /* highest CSeq it used */
	bool client;	      /* behind the edge (vs. the core) */
	bool partial;	      /* target or routes did not fit: not used to rebuild requests */
};

struct dialog {
	char call_id[256];
	uint64_t cookie; /* media_cookie(call_id) */
	enum dlg_state state;
	uint32_t inv_cseq; /* CSeq of the initial INVITE */
	time_t created;
	time_t ringing;		 /* the latest provisional answer to the initial INVITE (0: none) */
	struct sip_addr inv_src; /* where the initial INVITE came from (the dialog's owner) */
	struct sip_addr inv_hop; /* where it went: its 2xx come from there */
	bool counted;		 /* counts against inv_src's share */
	struct dlg_leg a, b;
	/* Policy accounting (policy.h): the call's company, brand, road-warrior user. */
	char company[64], brand[64], rw_user[160];
	struct dialog *next;  /* all dialogs */
	struct dialog *hnext; /* same Call-ID hash bucket */
	/* Private to dialog.c: list links, and the journal's view of the dialog. */
	struct dialog **pprev, *enext, **epprev, *jnext, **jpprev;
	unsigned int rec_len; /* bytes of its latest record in the journal (0: none) */
};

struct dialog *dlg_find(const char *call_id);
struct dialog *dlg_find_cookie(uint64_t cookie);
/* max-dialogs, max-dialogs-per-source (0: no per-source cap). */
void dlg_set_limits(unsigned int max, unsigned int per_source);
/*
 * A new dialog owned by @src (@exempt: not counted in its share: the core,
 * trusted sources). NULL with *@err -ENOSPC (table full), -EDQUOT (the
 * source's share is used), -EEXIST (the Call-ID has a dialog) or -EINVAL.
 */
struct dialog *dlg_new(const char *call_id, const struct sip_addr *src, bool exempt, int *err);
unsigned int dlg_count_src(const struct sip_ip *ip);
/*
 * The leg of @d that sent an in-dialog request with these tags, or NULL
 * when they are not this dialog's: the Call-ID alone proves nothing. Early,
 * only the caller's tag is known (From for A, To for B); confirmed, both
 * must match.
 */
struct dlg_leg *dlg_sender(struct dialog *d, const char *from_tag, const char *to_tag);
void dlg_del(struct dialog *d);
unsigned int dlg_count(void);
void dlg_flush(void);
struct dialog *dlg_first(void);
/* The early dialogs only (those not yet confirmed), linked by enext. */
struct dialog *dlg_first_early(void);
/* @d is answered: it leaves the early list. */
void dlg_set_confirmed(struct dialog *d);
/* @d changed: its new record goes into the journal at the next dlg_save(). */
void dlg_touch(struct dialog *d);
/* Changes waiting for dlg_save(). */
bool dlg_pending(void);

/*
 * State file @dir/dialogs, JSON lines, 0600. dlg_save() appends the records
 * of the dialogs touched and tombstones of those deleted since the last save
 * (one write and one fdatasync), and compacts (a write-then-rename of every
 * live dialog) on the first save into @dir and when the file has grown past
 * twice the live records plus DLG_JOURNAL_SLACK: amortised, each change is
 * written about twice, whatever the number of calls up. dlg_load() replays
 * the file (a later record of a Call-ID replaces the earlier one, a
 * tombstone deletes it) and returns the dialogs restored.
 */
#define DLG_JOURNAL_SLACK (1 << 20)
int dlg_save(const char *dir);
int dlg_load(const char *dir);
/*
 * One dialog as a state-file record, and back (checked field by field; the
 * caps do not apply: a call in progress, restored or taken over from a
 * peer edge). dlg_from_json(): 0, -EEXIST (Call-ID known) or -EINVAL.
 */
struct json_t;
struct json_t *dlg_json(const struct dialog *d);
int dlg_from_json(struct json_t *o);

/* Dialogs from messages. */
struct pol_call;
/*
 * Record leg A of a new dialog from its initial INVITE @m (from @src, sent
 * on to @dst; @exempt from the per-source cap). The Call-ID may already
 * have a dialog: only its owner (same source, same From tag) may start it
 * again while it is early; anyone else gets -EEXIST. Returns 0 for a new
 * dialog, 1 for the owner's again, or a negative errno.
 */
int dlg_start(osip_message_t *m, const char *cid, const struct sip_addr *src, bool from_core,
	      bool exempt, const struct sip_addr *dst, const struct pol_call *pc,
	      struct dialog **out);
/* Update @leg's remote target and seen address from its in-dialog message @m. */
bool dlg_refresh(struct dlg_leg *leg, const osip_message_t *m, const struct sip_addr *src);
/* The dialog of in-dialog request @m (Call-ID and both tags), its sending leg in *@leg. */
struct dialog *dlg_of(const osip_message_t *m, const char *cid, struct dlg_leg **leg);
/* Where in-dialog requests from @leg of @d go: the other leg; NULL without a dialog. */
const struct sip_addr *dlg_hop(const struct dialog *d, const struct dlg_leg *leg);
/* The 2xx @m (from @src) to the initial INVITE confirms @d: leg B, route sets, addresses. */
void dlg_confirm(const struct sip_edge *edge, struct dialog *d, const osip_message_t *m,
		 const struct sip_addr *src, bool from_core);

#endif /* XDPSBC_SIGD_DIALOG_H */
