// SPDX-License-Identifier: GPL-2.0-only
/* block add|del|list|flush|import, gc. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int check_reason(const char *r)
{
	if (r && strlen(r) >= XS_NOTE_LEN) {
		cli_err("reason too long: %zu bytes, at most %d", strlen(r), XS_NOTE_LEN - 1);
		return EXIT_USAGE;
	}
	return 0;
}

static int block_err(int ret, const struct xs_maps *m, const char *what)
{
	struct xs_map_usage u4, u6;

	if (ret == -ENOSPC) {
		xs_map_usage_fd(m->block4, false, &u4);
		xs_map_usage_fd(m->block6, false, &u6);
		return cli_err("%s: blocklist full (%lu of %u IPv4, %lu of %u IPv6 entries; "
			       "map-sizes blocklist); nothing changed",
			       what, xs_map_count_lpm(m->block4), u4.max_entries,
			       xs_map_count_lpm(m->block6), u6.max_entries);
	}
	return cli_fail(ret, what);
}

struct block_args {
	struct xs_cidr cidr;
	uint64_t secs; /* 0: permanent */
	const char *reason;
	const char *file;
	bool force; /* even where it overlaps a trusted network */
};

/*
 * A block over a trusted network would not do what it says: trusted sources
 * are never blocked. Refused unless @force; 0 fine, else the exit code.
 */
static int check_trusted(const struct xs_maps *m, const struct xs_cidr *cidr, bool force,
			 const char *where)
{
	struct xs_cidr t;
	char b[64], tb[64];
	int ret = xs_block_trust_conflict(m, cidr, &t);

	if (ret < 0)
		return cli_fail(ret, "reading the trusted networks");
	if (!ret || force)
		return 0;
	xs_cidr_format(cidr, b, sizeof(b));
	xs_cidr_format(&t, tb, sizeof(tb));
	cli_err("%s%s overlaps the trusted network %s, whose sources are never blocked; nothing "
		"changed (xdpsbc trust del %s first, or --force to add it anyway)",
		where, b, tb, tb);
	return 1;
}

static const struct opt add_opts[] = {
	DEFINE_ARG("CIDR", CIDR, struct block_args, cidr),
	DEFINE_OPTION("--for", DURATION, struct block_args, secs, .metavar = "DURATION",
		      .help = "expire after DURATION (default: permanent)"),
	DEFINE_OPTION("--reason", STR, struct block_args, reason, .metavar = "TEXT",
		      .help = "note kept with the entry"),
	DEFINE_OPTION("--force", FLAG, struct block_args, force,
		      .help = "add it even where it overlaps a trusted network"),
	END_OPTIONS,
};

/* @secs in its largest exact unit: 3600 -> "1h", 90 -> "90s". */
static void fmt_duration(uint64_t secs, char *buf, size_t len)
{
	static const struct {
		char unit;
		uint64_t secs;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!(secs % units[i].secs)) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(secs / units[i].secs),
				 units[i].unit);
			return;
		}
	snprintf(buf, len, "%llus", (unsigned long long)secs);
}

static int do_add(struct cli *c, const struct xs_maps *m, void *args)
{
	struct block_args *a = args;
	char buf[64], dur[32];
	int ret;

	ret = check_reason(a->reason);
	if (ret)
		return ret;
	ret = check_trusted(m, &a->cidr, a->force, "block add: ");
	if (ret)
		return ret;
	ret = xs_block_add(m, &a->cidr, a->secs, a->reason);
	if (ret)
		return block_err(ret, m, "block add");
	xs_cidr_format(&a->cidr, buf, sizeof(buf));
	fmt_duration(a->secs, dur, sizeof(dur));
	printf("blocked %s %s%s\n", buf, a->secs ? "for " : "permanently", a->secs ? dur : "");
	return 0;
}

static const struct opt cidr_arg[] = {
	DEFINE_ARG("CIDR", CIDR, struct block_args, cidr),
	END_OPTIONS,
};

static int do_del(struct cli *c, const struct xs_maps *m, void *args)
{
	struct block_args *a = args;
	char buf[64];
	int ret;

	xs_cidr_format(&a->cidr, buf, sizeof(buf));
	ret = xs_block_del(m, &a->cidr);
	if (ret == -ENOENT)
		return cli_err("block del: %s is not in the blocklist", buf);
	if (ret)
		return cli_fail(ret, "block del");
	printf("unblocked %s\n", buf);
	return 0;
}

static void fmt_remaining(uint64_t secs, char *buf, size_t len)
{
	if (secs >= 86400)
		snprintf(buf, len, "%llud%02lluh", (unsigned long long)secs / 86400,
			 (unsigned long long)secs % 86400 / 3600);
	else if (secs >= 3600)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)secs / 3600,
			 (unsigned long long)secs % 3600 / 60);
	else if (secs >= 60)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)secs / 60,
			 (unsigned long long)secs % 60);
	else
		snprintf(buf, len, "%llus", (unsigned long long)secs);
}

struct list_ctx {
	bool json;
	uint64_t now;
};

static int list_one(const struct xs_block_entry *e, void *arg)
{
	struct list_ctx *l = arg;
	char cidr[64], exp[32] = "", rem[32], last[32] = "", added[32];
	bool expired = xs_block_expired(&e->val, l->now);
	bool perm = !e->val.expires_ns;
	uint64_t left = 0;

	xs_cidr_format(&e->cidr, cidr, sizeof(cidr));
	cli_iso_time(xs_clock_to_wall(e->val.added_ns), added, sizeof(added));
	if (!perm) {
		cli_iso_time(xs_clock_to_wall(e->val.expires_ns), exp, sizeof(exp));
		left = expired ? 0 : (e->val.expires_ns - l->now + 999999999ULL) / 1000000000ULL;
	}
	if (e->val.last_hit_ns)
		cli_iso_time(xs_clock_to_wall(e->val.last_hit_ns), last, sizeof(last));

	if (l->json) {
		json_obj_begin(NULL);
		json_str("cidr", cidr);
		json_bool("permanent", perm);
		if (perm)
			json_null("expires");
		else
			json_str("expires", exp);
		json_u64("remaining_s", left);
		json_u64("expires_mono_ns", e->val.expires_ns);
		json_u64("added_mono_ns", e->val.added_ns);
		json_bool("expired", expired);
		json_u64("hits", e->val.hits);
		if (e->val.last_hit_ns)
			json_str("last_hit", last);
		else
			json_null("last_hit");
		json_str("added", added);
		json_str("reason", e->note.text);
		json_obj_end();
		return 0;
	}
	if (perm)
		snprintf(rem, sizeof(rem), "permanent");
	else if (expired)
		snprintf(rem, sizeof(rem), "expired");
	else
		fmt_remaining(left, rem, sizeof(rem));
	printf("%-24s %-20s %-10s %10llu %-20s %s\n", cidr, perm ? "-" : exp, rem,
	       (unsigned long long)e->val.hits, *last ? last : "-", e->note.text);
	return 0;
}

static int do_list(struct cli *c, const struct xs_maps *m, void *args)
{
	struct list_ctx l = {c->json, xs_now_ns()};
	int ret = 0;

	if (c->json)
		json_arr_begin(NULL);
	else
		printf("%-24s %-20s %-10s %10s %-20s %s\n", "CIDR", "EXPIRES", "REMAINING", "HITS",
		       "LAST HIT", "REASON");
	if (m) /* nothing pinned: nothing blocked */
		ret = xs_block_walk(m, list_one, &l);
	if (c->json) {
		json_arr_end();
		json_done();
	}
	return ret ? cli_fail(ret, "block list") : 0;
}

static int do_flush(struct cli *c, const struct xs_maps *m, void *args)
{
	unsigned int n = 0;
	int ret = xs_block_flush(m, &n);

	if (ret)
		return cli_fail(ret, "block flush");
	printf("removed %u blocklist entries\n", n);
	return 0;
}

static int do_gc(struct cli *c, const struct xs_maps *m, void *args)
{
	unsigned int n = 0;
	int ret = xs_block_gc(m, &n);

	if (ret)
		return cli_fail(ret, "gc");
	if (c->json) {
		json_obj_begin(NULL);
		json_u64("removed", n);
		json_obj_end();
		json_done();
	} else {
		printf("removed %u expired blocklist entries\n", n);
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* One line "CIDR[,DURATION][,REASON]" into @r; the reason may hold commas. */
static int import_line(const char *file, unsigned long ln, char *line, struct xs_block_req *r)
{
	char *cidr = line, *dur = NULL, *reason = NULL, *comma;

	comma = strchr(line, ',');
	if (comma) {
		*comma = '\0';
		dur = comma + 1;
		comma = strchr(dur, ',');
		if (comma) {
			*comma = '\0';
			reason = trim(comma + 1);
		}
		dur = trim(dur);
	}
	cidr = trim(cidr);
	memset(r, 0, sizeof(*r));
	if (xs_cidr_parse(cidr, &r->cidr)) {
		cli_err("%s:%lu: invalid CIDR '%s'", file, ln, cidr);
		return -EINVAL;
	}
	if (dur && *dur && xs_duration_parse(dur, &r->seconds)) {
		cli_err("%s:%lu: invalid duration '%s' (N[s|m|h|d|w] or 'permanent')", file, ln,
			dur);
		return -EINVAL;
	}
	if (reason && strlen(reason) >= XS_NOTE_LEN) {
		cli_err("%s:%lu: reason longer than %d bytes", file, ln, XS_NOTE_LEN - 1);
		return -EINVAL;
	}
	if (reason && *reason) {
		r->note = strdup(reason);
		if (!r->note)
			return -ENOMEM;
	}
	return 0;
}

/* Parse the whole file first: a bad line must leave the maps untouched. */
static int read_import(const char *file, struct xs_block_req **out, size_t *count,
		       unsigned long **lines)
{
	struct xs_block_req *reqs = NULL, *tmp;
	unsigned long *lns = NULL, *ltmp, ln = 0;
	size_t n = 0, cap = 0, len = 0;
	char *line = NULL, *s;
	int ret = 0;
	FILE *f;

	f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!f)
		return cli_err("%s: %s", file, strerror(errno)), -errno;
	while (getline(&line, &len, f) >= 0) {
		ln++;
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			tmp = realloc(reqs, cap * sizeof(*reqs));
			ltmp = tmp ? realloc(lns, cap * sizeof(*lns)) : NULL;
			if (tmp)
				reqs = tmp;
			if (!tmp || !ltmp) {
				ret = -ENOMEM;
				cli_err("%s: out of memory", file);
				break;
			}
			lns = ltmp;
		}
		ret = import_line(file, ln, s, &reqs[n]);
		if (ret)
			break;
		lns[n++] = ln;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	*out = reqs;
	*count = n;
	*lines = lns;
	return ret;
}

struct import_ctx {
	const char *file;
	struct xs_block_req *reqs;
	unsigned long *lines;
	size_t n;
	bool force;
};

static int import_act(struct cli *c, const struct xs_maps *m, void *arg)
{
	struct import_ctx *x = arg;
	size_t failed = 0;
	char where[300];
	int ret;

	/* All or nothing: one refused line leaves the blocklist as it was. */
	for (size_t i = 0; i < x->n; i++) {
		snprintf(where, sizeof(where), "%s:%lu: ", x->file, x->lines[i]);
		ret = check_trusted(m, &x->reqs[i].cidr, x->force, where);
		if (ret)
			return ret;
	}
	ret = xs_block_import(m, x->reqs, x->n, &failed);
	if (ret == -ENOSPC)
		return cli_err("%s:%lu: blocklist full after %zu new entries; rolled back, nothing "
			       "changed",
			       x->file, x->lines[failed], failed);
	if (ret)
		return cli_err("%s:%lu: %s; rolled back, nothing changed", x->file,
			       x->lines[failed], strerror(-ret));
	printf("imported %zu blocklist entries from %s\n", x->n, x->file);
	return 0;
}

static const struct opt import_opts[] = {
	DEFINE_ARG("FILE", STR, struct block_args, file),
	DEFINE_OPTION("--force", FLAG, struct block_args, force,
		      .help = "import entries that overlap a trusted network too"),
	END_OPTIONS,
};

/* The file is read whole before the lock is taken: a slow stdin holds no one up. */
static int do_import(struct cli *c, const struct xs_maps *unused, void *args)
{
	struct import_ctx x = {.file = ((struct block_args *)args)->file,
			       .force = ((struct block_args *)args)->force};
	int ret;

	ret = read_import(x.file, &x.reqs, &x.n, &x.lines);
	ret = ret ? EXIT_USAGE : cli_change(c, import_act, &x);
	for (size_t i = 0; i < x.n; i++)
		free((char *)x.reqs[i].note);
	free(x.reqs);
	free(x.lines);
	return ret;
}

/* Every block command that changes state touches the blocklist sets only. */
#define BLOCK_SYNC XS_NFT_SYNC_BLOCK

const struct cmd cmds_block[] = {
	{"block add", do_add, "CIDR [--for DURATION] [--reason TEXT] [--force]",
	 "block a source network; DURATION is N, Ns, Nm, Nh, Nd, Nw or 'permanent' (default); "
	 "a network overlapping a trusted one is refused unless --force",
	 .opts = add_opts, .args_size = sizeof(struct block_args), .maps = CLI_MAPS_CHANGE,
	 .nft_sync = BLOCK_SYNC},
	{"block del", do_del, "CIDR", "remove a blocklist entry (exact CIDR)", .opts = cidr_arg,
	 .args_size = sizeof(struct block_args), .maps = CLI_MAPS_CHANGE, .nft_sync = BLOCK_SYNC},
	{"block list", do_list, "[-j]",
	 "list entries: CIDR, expiry (UTC), time left, hits, last hit, reason",
	 .maps = CLI_MAPS_READ},
	{"block flush", do_flush, "", "remove every blocklist entry", .maps = CLI_MAPS_CHANGE,
	 .nft_sync = BLOCK_SYNC},
	/* CLI_MAPS_NONE: it reads the file first, then runs the change sequence itself. */
	{"block import", do_import, "FILE [--force]",
	 "add 'CIDR[,DURATION][,REASON]' lines ('#' comments, blank lines ok); all or nothing: a "
	 "bad line, a line overlapping a trusted network (unless --force) or a full blocklist "
	 "changes nothing",
	 .opts = import_opts, .args_size = sizeof(struct block_args), .maps = CLI_MAPS_NONE,
	 .nft_sync = BLOCK_SYNC},
	{"gc", do_gc, "[-j]", "remove expired blocklist entries (they already never match)",
	 .maps = CLI_MAPS_CHANGE, .nft_sync = BLOCK_SYNC},
	{NULL},
};
