// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dialog table (see dialog.h) and its state file; what the proxy learns
 * of a dialog from its messages is in dialog_msg.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sip/dialog.h"
#include "sip/msg.h"
#include "policy/policy.h"
#include "media/media.h"
#include "srccount.h"
#include "sip/statefile.h"

/* A power of two; 16 Ki buckets keep the chains short at 50,000 calls. */
#define DLG_BUCKETS 16384

/* hlist-style links: unlinking needs no walk. */
#define DL_ADD(head, d, nx, pp)                   \
	do {                                      \
		(d)->nx = *(head);                \
		if (*(head))                      \
			(*(head))->pp = &(d)->nx; \
		*(head) = (d);                    \
		(d)->pp = (head);                 \
	} while (0)
#define DL_DEL(d, nx, pp)                              \
	do {                                           \
		if ((d)->pp) {                         \
			*(d)->pp = (d)->nx;            \
			if ((d)->nx)                   \
				(d)->nx->pp = (d)->pp; \
			(d)->pp = NULL;                \
			(d)->nx = NULL;                \
		}                                      \
	} while (0)

static struct dialog *dialogs, *early, *touched, *buckets[DLG_BUCKETS];
static unsigned int ndlg;
static unsigned int dlg_max = DLG_MAX_DEFAULT, dlg_per_src = DLG_PER_SRC_DEFAULT;
static struct srcc_tab per_src;

void dlg_set_limits(unsigned int max, unsigned int per_source)
{
	dlg_max = max;
	dlg_per_src = per_source;
}

/*
 * The journal (dlg_save()): the file open for appending, its size, the
 * bytes of live records in it, and the tombstones waiting to be appended.
 */
static struct {
	int fd;
	char dir[256];
	uint64_t size, live;
	char *buf;
	size_t len, cap;
	bool loading; /* dlg_load() replays: nothing is journaled */
} jr = {.fd = -1};

static struct dialog **bucket_of(uint64_t cookie)
{
	return &buckets[cookie & (DLG_BUCKETS - 1)];
}

static struct dialog **bucket(const char *call_id)
{
	return bucket_of(media_cookie(call_id));
}

/*
 * A dialog is 5 KiB, past glibc's per-thread caches: with tens of thousands
 * up, each malloc and free of one walks bins that grow with the heap.
 * Dialogs end at about the rate new ones start: a short list of ended ones
 * serves the next without malloc.
 */
#define DLG_SPARES_MAX 256
static struct dialog *spares;
static unsigned int nspares;

static struct dialog *dlg_alloc(void)
{
	struct dialog *d = spares;

	if (!d)
		return calloc(1, sizeof(*d));
	spares = d->next;
	nspares--;
	memset(d, 0, sizeof(*d));
	return d;
}

static void dlg_release(struct dialog *d)
{
	if (!d)
		return;
	if (nspares >= DLG_SPARES_MAX) {
		free(d);
		return;
	}
	d->next = spares;
	spares = d;
	nspares++;
}

struct dialog *dlg_first(void)
{
	return dialogs;
}

struct dialog *dlg_first_early(void)
{
	return early;
}

void dlg_set_confirmed(struct dialog *d)
{
	d->state = DLG_CONFIRMED;
	DL_DEL(d, enext, epprev);
	dlg_touch(d);
}

void dlg_touch(struct dialog *d)
{
	if (!d->jpprev && !jr.loading)
		DL_ADD(&touched, d, jnext, jpprev);
}

bool dlg_pending(void)
{
	return touched || jr.len;
}

struct dialog *dlg_find(const char *call_id)
{
	for (struct dialog *d = *bucket(call_id); d; d = d->hnext)
		if (!strcmp(d->call_id, call_id))
			return d;
	return NULL;
}

struct dialog *dlg_find_cookie(uint64_t cookie)
{
	/* The buckets are keyed by the cookie itself. */
	for (struct dialog *d = *bucket_of(cookie); d; d = d->hnext)
		if (d->cookie == cookie)
			return d;
	return NULL;
}

unsigned int dlg_count_src(const struct sip_ip *ip)
{
	return srcc_get(&per_src, ip);
}

struct dialog *dlg_new(const char *call_id, const struct sip_addr *src, bool exempt, int *err)
{
	struct dialog *d;

	if (!*call_id || strlen(call_id) >= sizeof(d->call_id)) {
		*err = -EINVAL;
		return NULL;
	}
	if (dlg_find(call_id)) {
		*err = -EEXIST;
		return NULL;
	}
	if (ndlg >= dlg_max) {
		*err = -ENOSPC;
		return NULL;
	}
	if (!exempt && dlg_per_src && srcc_get(&per_src, &src->ip) >= dlg_per_src) {
		*err = -EDQUOT;
		return NULL;
	}
	d = dlg_alloc();
	if (!d || (!exempt && srcc_inc(&per_src, &src->ip))) {
		dlg_release(d);
		*err = -ENOMEM;
		return NULL;
	}
	strcpy(d->call_id, call_id);
	d->cookie = media_cookie(call_id);
	d->created = time(NULL);
	d->inv_src = *src;
	d->counted = !exempt;
	DL_ADD(&dialogs, d, next, pprev);
	DL_ADD(&early, d, enext, epprev);
	dlg_touch(d);
	d->hnext = *bucket(call_id);
	*bucket(call_id) = d;
	ndlg++;
	return d;
}

struct dlg_leg *dlg_sender(struct dialog *d, const char *from_tag, const char *to_tag)
{
	from_tag = from_tag ?: "";
	to_tag = to_tag ?: "";
	if (d->state == DLG_EARLY)
		return !strcmp(from_tag, d->a.tag) ? &d->a
		       : !strcmp(to_tag, d->a.tag) ? &d->b
						   : NULL;
	if (!strcmp(from_tag, d->a.tag) && !strcmp(to_tag, d->b.tag))
		return &d->a;
	if (!strcmp(from_tag, d->b.tag) && !strcmp(to_tag, d->a.tag))
		return &d->b;
	return NULL;
}

static void tombstone(const struct dialog *d);

void dlg_del(struct dialog *d)
{
	for (struct dialog **pp = bucket_of(d->cookie); *pp; pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	/* In the journal: a tombstone supersedes its record. */
	if (d->rec_len && !jr.loading)
		tombstone(d);
	jr.live -= d->rec_len;
	DL_DEL(d, next, pprev);
	DL_DEL(d, enext, epprev);
	DL_DEL(d, jnext, jpprev);
	if (d->counted)
		srcc_dec(&per_src, &d->inv_src.ip);
	dlg_release(d);
	ndlg--;
}

unsigned int dlg_count(void)
{
	return ndlg;
}

/* Forget every dialog and the journal's state (a restart, in the tests). */
void dlg_flush(void)
{
	jr.loading = true;
	while (dialogs)
		dlg_del(dialogs);
	jr.loading = false;
	srcc_clear(&per_src);
	if (jr.fd >= 0)
		close(jr.fd);
	jr.fd = -1;
	jr.dir[0] = 0;
	jr.size = jr.live = 0;
	jr.len = 0;
}

/* The record format's version: a record of another version is skipped. */
#define DLG_REC_V 2

static json_t *leg_json(const struct dlg_leg *l)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:b, s:b}", "tag", l->tag, "hdr", l->hdr,
			 "target", l->target, "routes", l->routes, "addr", sf_addr(&l->addr),
			 "cseq", (json_int_t)l->cseq, "client", l->client, "partial", l->partial);
}

json_t *dlg_json(const struct dialog *d)
{
	return json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:b, s:o, s:o, s:s, s:s, s:s}",
			 "v", DLG_REC_V, "call_id", d->call_id, "state",
			 d->state == DLG_CONFIRMED ? "confirmed" : "early", "inv_cseq",
			 (json_int_t)d->inv_cseq, "created", (json_int_t)d->created, "ringing",
			 (json_int_t)d->ringing, "inv_src", sf_addr(&d->inv_src), "inv_hop",
			 sf_addr(&d->inv_hop), "counted", d->counted, "a", leg_json(&d->a), "b",
			 leg_json(&d->b), "company", d->company, "brand", d->brand, "rw_user",
			 d->rw_user);
}

/* Append @o's line to the journal buffer; its length, or 0 when out of memory. */
static unsigned int buf_put(json_t *o)
{
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t n = line ? strlen(line) + 1 : 0;

	json_decref(o);
	if (!line)
		return 0;
	if (jr.len + n > jr.cap) {
		size_t cap = jr.cap ? jr.cap : 16384;
		char *b;

		while (cap < jr.len + n)
			cap *= 2;
		b = realloc(jr.buf, cap);
		if (!b) {
			free(line);
			return 0;
		}
		jr.buf = b;
		jr.cap = cap;
	}
	memcpy(jr.buf + jr.len, line, n - 1);
	jr.buf[jr.len + n - 1] = '\n';
	jr.len += n;
	free(line);
	return n;
}

static void tombstone(const struct dialog *d)
{
	/* Lost on out of memory: the next compaction drops the record anyway. */
	buf_put(json_pack("{s:i, s:s, s:b}", "v", DLG_REC_V, "call_id", d->call_id, "gone", 1));
}

static int emit(FILE *f, void *arg)
{
	uint64_t *live = arg;

	for (struct dialog *d = dialogs; d; d = d->next) {
		json_t *o = dlg_json(d);
		char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
		int err;

		json_decref(o);
		if (!line)
			return -ENOMEM;
		err = fputs(line, f) == EOF || fputc('\n', f) == EOF ? -EIO : 0;
		d->rec_len = strlen(line) + 1;
		*live += d->rec_len;
		free(line);
		if (err)
			return err;
	}
	return 0;
}

/* Rewrite the file with the live dialogs only, and reopen it for appending. */
static int compact(const char *dir)
{
	uint64_t live = 0;
	int err;

	if (jr.fd >= 0)
		close(jr.fd);
	jr.fd = -1;
	jr.len = 0; /* the rewrite holds no deleted dialog */
	while (touched) {
		struct dialog *d = touched;

		DL_DEL(d, jnext, jpprev);
	}
	err = sf_write(dir, "dialogs", emit, &live);
	if (err)
		return err;
	jr.live = jr.size = live;
	jr.fd = sf_open_append(dir, "dialogs");
	if (jr.fd < 0)
		return jr.fd;
	snprintf(jr.dir, sizeof(jr.dir), "%s", dir);
	return 0;
}

int dlg_save(const char *dir)
{
	int err;

	if (!dir || !*dir)
		return 0;
	/* A new file, another directory, or a failed append: start from a clean copy. */
	if (jr.fd < 0 || strcmp(jr.dir, dir))
		return compact(dir);
	while (touched) {
		struct dialog *d = touched;
		unsigned int n = buf_put(dlg_json(d));

		DL_DEL(d, jnext, jpprev);
		if (!n)
			return compact(dir);
		jr.live += n;
		jr.live -= d->rec_len;
		d->rec_len = n;
	}
	if (!jr.len)
		return 0;
	err = sf_append(jr.fd, jr.buf, jr.len);
	if (err) {
		/* Whatever part made it is superseded by the rewrite. */
		xs_log(XS_LOG_WARN, "%s/dialogs: append: %s; rewriting it\n", dir, strerror(-err));
		return compact(dir);
	}
	jr.size += jr.len;
	jr.len = 0;
	if (jr.size > 2 * jr.live + DLG_JOURNAL_SLACK)
		return compact(dir);
	return 0;
}

static int get_leg(const json_t *o, const char *key, struct dlg_leg *l)
{
	const json_t *v = json_object_get(o, key);
	uint64_t cseq;

	if (!json_is_object(v) || sf_get_str(v, "tag", l->tag, sizeof(l->tag)) ||
	    sf_get_str(v, "hdr", l->hdr, sizeof(l->hdr)) ||
	    sf_get_str(v, "target", l->target, sizeof(l->target)) ||
	    sf_get_str(v, "routes", l->routes, sizeof(l->routes)) ||
	    sf_get_addr(v, "addr", &l->addr) || sf_get_uint(v, "cseq", UINT32_MAX, &cseq) ||
	    sf_get_bool(v, "client", &l->client))
		return -EINVAL;
	/* Absent in records of earlier versions: their legs were kept whole or cut unseen. */
	l->partial = false;
	if (json_object_get(v, "partial") && sf_get_bool(v, "partial", &l->partial))
		return -EINVAL;
	l->cseq = cseq;
	return 0;
}

/*
 * Everything is read and checked into @tmp before a dialog is created from
 * it. @replay (the journal at start): a tombstone deletes its Call-ID's
 * dialog and a later record replaces an earlier one; otherwise (a peer's
 * record) a known Call-ID is -EEXIST and tombstones are not records.
 */
static int from_json(json_t *o, bool replay)
{
	struct dialog tmp = {0}, *d;
	char state[16];
	uint64_t v, cseq, created, ringing;
	time_t now = time(NULL);
	int err;

	if (sf_get_uint(o, "v", 100, &v) || v != DLG_REC_V)
		return -EPROTO;
	if (replay && json_object_get(o, "gone")) {
		/* A tombstone: the call ended after its record was written. */
		if (json_object_size(o) != 3 || !json_is_true(json_object_get(o, "gone")) ||
		    sf_get_str(o, "call_id", tmp.call_id, sizeof(tmp.call_id)))
			return -EINVAL;
		d = dlg_find(tmp.call_id);
		if (d)
			dlg_del(d);
		return 0;
	}
	if (sf_get_str(o, "call_id", tmp.call_id, sizeof(tmp.call_id)) || !tmp.call_id[0] ||
	    sf_get_str(o, "state", state, sizeof(state)) ||
	    sf_get_uint(o, "inv_cseq", UINT32_MAX, &cseq) ||
	    sf_get_uint(o, "created", (uint64_t)now + 86400, &created) ||
	    sf_get_uint(o, "ringing", (uint64_t)now + 86400, &ringing) ||
	    sf_get_addr(o, "inv_src", &tmp.inv_src) || sf_get_addr(o, "inv_hop", &tmp.inv_hop) ||
	    sf_get_bool(o, "counted", &tmp.counted) || get_leg(o, "a", &tmp.a) ||
	    get_leg(o, "b", &tmp.b) || sf_get_str(o, "company", tmp.company, sizeof(tmp.company)) ||
	    sf_get_str(o, "brand", tmp.brand, sizeof(tmp.brand)) ||
	    sf_get_str(o, "rw_user", tmp.rw_user, sizeof(tmp.rw_user)) || !tmp.a.hdr[0])
		return -EINVAL;
	if (!strcmp(state, "confirmed"))
		tmp.state = DLG_CONFIRMED;
	else if (!strcmp(state, "early"))
		tmp.state = DLG_EARLY;
	else
		return -EINVAL;
	if (tmp.state == DLG_CONFIRMED && !tmp.b.hdr[0])
		return -EINVAL;
	/* A later record of the same call replaces the earlier one. */
	d = replay ? dlg_find(tmp.call_id) : NULL;
	if (d)
		dlg_del(d);
	/* Restored as they were: the caps apply to new calls, not to calls in progress. */
	d = dlg_new(tmp.call_id, &tmp.inv_src, true, &err);
	if (!d)
		return err;
	tmp.cookie = d->cookie;
	tmp.created = created;
	tmp.ringing = ringing;
	tmp.inv_cseq = cseq;
	/*
	 * Its own links stay: the lists point at @d, not at @tmp. All of them,
	 * the journal's too: a peer's record (not a replay) is in the touched
	 * list since dlg_new(), and a copy that cleared its links would cut
	 * that list after it and leave its head pointing at a dialog that no
	 * longer knows it is linked, so dlg_save() would never empty the list.
	 */
	tmp.next = d->next;
	tmp.pprev = d->pprev;
	tmp.hnext = d->hnext;
	tmp.enext = d->enext;
	tmp.epprev = d->epprev;
	tmp.jnext = d->jnext;
	tmp.jpprev = d->jpprev;
	tmp.rec_len = d->rec_len;
	*d = tmp;
	if (d->state == DLG_CONFIRMED)
		DL_DEL(d, enext, epprev);
	if (d->counted && srcc_inc(&per_src, &d->inv_src.ip))
		d->counted = false;
	return 0;
}

int dlg_from_json(json_t *o)
{
	return from_json(o, false);
}

static int load_rec(json_t *o, void *arg)
{
	return from_json(o, true);
}

int dlg_load(const char *dir)
{
	int n;

	jr.loading = true;
	n = sf_read(dir, "dialogs", load_rec, NULL);
	jr.loading = false;
	/* The first dlg_save() rewrites the file as the replay left it. */
	if (jr.fd >= 0)
		close(jr.fd);
	jr.fd = -1;
	return n < 0 ? n : (int)ndlg;
}
