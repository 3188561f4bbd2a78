// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sip/dialog.h"
#include "media/media.h"
#include "srccount.h"
#include "sip/statefile.h"

#define DLG_BUCKETS 4096

static struct dialog *dialogs, *buckets[DLG_BUCKETS];
static unsigned int ndlg;
static unsigned int dlg_max = DLG_MAX_DEFAULT, dlg_per_src = DLG_PER_SRC_DEFAULT;
static struct srcc_tab per_src;

void dlg_set_limits(unsigned int max, unsigned int per_source)
{
	dlg_max = max;
	dlg_per_src = per_source;
}

static struct dialog **bucket(const char *call_id)
{
	return &buckets[media_cookie(call_id) % DLG_BUCKETS];
}

struct dialog *dlg_first(void)
{
	return dialogs;
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
	for (struct dialog *d = dialogs; d; d = d->next)
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
	d = calloc(1, sizeof(*d));
	if (!d || (!exempt && srcc_inc(&per_src, &src->ip))) {
		free(d);
		*err = -ENOMEM;
		return NULL;
	}
	strcpy(d->call_id, call_id);
	d->cookie = media_cookie(call_id);
	d->created = time(NULL);
	d->inv_src = *src;
	d->counted = !exempt;
	d->next = dialogs;
	dialogs = d;
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

void dlg_del(struct dialog *d)
{
	for (struct dialog **pp = bucket(d->call_id); *pp; pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	for (struct dialog **pp = &dialogs; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			if (d->counted)
				srcc_dec(&per_src, &d->inv_src.ip);
			free(d);
			ndlg--;
			return;
		}
}

unsigned int dlg_count(void)
{
	return ndlg;
}

void dlg_flush(void)
{
	while (dialogs)
		dlg_del(dialogs);
	srcc_clear(&per_src);
}

/* The record format's version: a record of another version is skipped. */
#define DLG_REC_V 2

static json_t *leg_json(const struct dlg_leg *l)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:b}", "tag", l->tag, "hdr", l->hdr,
			 "target", l->target, "routes", l->routes, "addr", sf_addr(&l->addr),
			 "cseq", (json_int_t)l->cseq, "client", l->client);
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

static int emit(FILE *f, void *arg)
{
	for (struct dialog *d = dialogs; d; d = d->next) {
		int err = sf_put(f, dlg_json(d));

		if (err)
			return err;
	}
	return 0;
}

int dlg_save(const char *dir)
{
	return sf_write(dir, "dialogs", emit, NULL);
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
	l->cseq = cseq;
	return 0;
}

/* Everything is read and checked into @tmp before a dialog is created from it. */
int dlg_from_json(json_t *o)
{
	struct dialog tmp = {0}, *d;
	char state[16];
	uint64_t v, cseq, created, ringing;
	time_t now = time(NULL);
	int err;

	if (sf_get_uint(o, "v", 100, &v) || v != DLG_REC_V)
		return -EPROTO;
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
	/* Restored as they were: the caps apply to new calls, not to calls in progress. */
	d = dlg_new(tmp.call_id, &tmp.inv_src, true, &err);
	if (!d)
		return err;
	tmp.cookie = d->cookie;
	tmp.created = created;
	tmp.ringing = ringing;
	tmp.inv_cseq = cseq;
	tmp.next = d->next;
	tmp.hnext = d->hnext;
	*d = tmp;
	if (d->counted && srcc_inc(&per_src, &d->inv_src.ip))
		d->counted = false;
	return 0;
}

static int load_rec(json_t *o, void *arg)
{
	return dlg_from_json(o);
}

int dlg_load(const char *dir)
{
	return sf_read(dir, "dialogs", load_rec, NULL);
}
