// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dialog.h"
#include "media.h"

#define DLG_MAX	    65536
#define DLG_BUCKETS 4096

static struct dialog *dialogs, *buckets[DLG_BUCKETS];
static unsigned int ndlg;

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

struct dialog *dlg_new(const char *call_id)
{
	struct dialog *d;

	if (ndlg >= DLG_MAX || strlen(call_id) >= sizeof(d->call_id))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	strcpy(d->call_id, call_id);
	d->cookie = media_cookie(call_id);
	d->created = time(NULL);
	d->next = dialogs;
	dialogs = d;
	d->hnext = *bucket(call_id);
	*bucket(call_id) = d;
	ndlg++;
	return d;
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
}

/*
 * One dialog per line, tab-separated. SIP header values cannot hold tabs or
 * line breaks once parsed and re-serialised, and empty fields are written
 * as "-" so every line has the same field count.
 */
#define DLG_FIELDS 23

static void put(FILE *f, const char *s, char sep)
{
	if (!s || !*s)
		s = "-";
	/* A quoted display name may hold a tab: keep the line's shape. */
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
	fputc(sep, f);
}

static void put_leg(FILE *f, const struct dlg_leg *l)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &l->addr.ip, ip, sizeof(ip));
	put(f, l->tag, '\t');
	put(f, l->hdr, '\t');
	put(f, l->target, '\t');
	put(f, l->routes, '\t');
	fprintf(f, "%s\t%u\t%u\t%u\t%d\t", ip, l->addr.port, l->addr.proto, l->cseq, l->client);
}

int dlg_save(const char *dir)
{
	char tmp[512], path[512];
	FILE *f;
	int err = 0;

	if (!dir || !*dir)
		return 0;
	snprintf(path, sizeof(path), "%s/dialogs", dir);
	snprintf(tmp, sizeof(tmp), "%s/dialogs.tmp", dir);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (struct dialog *d = dialogs; d; d = d->next) {
		fprintf(f, "D1\t%s\t%d\t%u\t%lld\t", d->call_id, d->state, d->inv_cseq,
			(long long)d->created);
		put_leg(f, &d->a);
		put_leg(f, &d->b);
		put(f, d->company, '\t');
		put(f, d->brand, '\t');
		put(f, d->rw_user, '\n');
	}
	/*
	 * No fsync: the file guards against the daemon dying, not the machine;
	 * after a reboot the pinned flows it describes are gone too.
	 */
	if (fflush(f))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void get(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", strcmp(s, "-") ? s : "");
}

static int get_leg(char **f, struct dlg_leg *l)
{
	get(l->tag, sizeof(l->tag), f[0]);
	get(l->hdr, sizeof(l->hdr), f[1]);
	get(l->target, sizeof(l->target), f[2]);
	get(l->routes, sizeof(l->routes), f[3]);
	if (inet_pton(AF_INET, f[4], &l->addr.ip) != 1)
		return -EINVAL;
	l->addr.port = atoi(f[5]);
	l->addr.proto = atoi(f[6]);
	l->cseq = strtoul(f[7], NULL, 10);
	l->client = atoi(f[8]);
	return 0;
}

int dlg_load(const char *dir)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/dialogs", dir);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) > 0) {
		char *fld[DLG_FIELDS + 4], *save, *tok;
		struct dialog *d;
		int nf = 0;

		line[strcspn(line, "\n")] = 0;
		for (tok = strtok_r(line, "\t", &save); tok && nf < DLG_FIELDS + 4;
		     tok = strtok_r(NULL, "\t", &save))
			fld[nf++] = tok;
		/* The policy fields (3) were added later: older files lack them. */
		if ((nf != DLG_FIELDS && nf != DLG_FIELDS + 3) || strcmp(fld[0], "D1") ||
		    dlg_find(fld[1]))
			continue;
		d = dlg_new(fld[1]);
		if (!d)
			break;
		d->state = atoi(fld[2]) == DLG_CONFIRMED ? DLG_CONFIRMED : DLG_EARLY;
		d->inv_cseq = strtoul(fld[3], NULL, 10);
		d->created = atoll(fld[4]);
		if (nf == DLG_FIELDS + 3) {
			get(d->company, sizeof(d->company), fld[23]);
			get(d->brand, sizeof(d->brand), fld[24]);
			get(d->rw_user, sizeof(d->rw_user), fld[25]);
		}
		if (get_leg(&fld[5], &d->a) || get_leg(&fld[14], &d->b)) {
			dlg_del(d);
			continue;
		}
		n++;
	}
	free(line);
	fclose(f);
	return n;
}
