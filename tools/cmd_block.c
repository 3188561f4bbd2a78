// SPDX-License-Identifier: GPL-2.0-only
/* block add|del|list|flush|import, gc. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int parse_duration(const char *s, uint64_t *secs)
{
	int ret = xs_duration_parse(s, secs);

	if (ret == -ERANGE)
		cli_err("invalid duration '%s': must be more than 0 and at most 100 years "
			"(use 'permanent' for no expiry)",
			s);
	else if (ret)
		cli_err("invalid duration '%s': expected N[s|m|h|d|w] (e.g. 90, 15m, 2h, 7d) or "
			"'permanent'",
			s);
	return ret ? EXIT_USAGE : 0;
}

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
	if (ret == -ENOSPC)
		return cli_err("%s: blocklist full (%lu IPv4 + %lu IPv6 entries); nothing changed",
			       what, xs_map_count_lpm(m->block4), xs_map_count_lpm(m->block6));
	return cli_fail(ret, what);
}

static int do_add(struct cli *c, int argc, char **argv)
{
	const char *dur = NULL, *reason = NULL;
	const struct opt opts[] = {
		{"--for", "DURATION", &dur, "expire after DURATION (default: permanent)"},
		{"--reason", "TEXT", &reason, "note kept with the entry"},
		{NULL},
	};
	struct xs_cidr cidr;
	struct xs_maps m;
	uint64_t secs = 0;
	int npos, lock, ret;
	char **pos, buf[64];

	ret = cli_args(c, argc, argv, opts, 1, 1, &pos, &npos);
	if (!ret)
		ret = cli_parse_cidr(pos[0], &cidr);
	if (!ret && dur)
		ret = parse_duration(dur, &secs);
	if (!ret)
		ret = check_reason(reason);
	if (ret || (ret = cli_open(c, true, &m, &lock)))
		return ret;
	ret = xs_block_add(&m, &cidr, secs, reason);
	if (ret)
		ret = block_err(ret, &m, "block add");
	cli_close(&m, lock);
	if (!ret) {
		xs_cidr_format(&cidr, buf, sizeof(buf));
		printf("blocked %s %s%s%s\n", buf, secs ? "for " : "permanently", secs ? dur : "",
		       "");
	}
	return ret;
}

static int do_del(struct cli *c, int argc, char **argv)
{
	struct xs_cidr cidr;
	struct xs_maps m;
	int npos, lock, ret;
	char **pos, buf[64];

	ret = cli_args(c, argc, argv, NULL, 1, 1, &pos, &npos);
	if (!ret)
		ret = cli_parse_cidr(pos[0], &cidr);
	if (ret || (ret = cli_open(c, true, &m, &lock)))
		return ret;
	xs_cidr_format(&cidr, buf, sizeof(buf));
	ret = xs_block_del(&m, &cidr);
	cli_close(&m, lock);
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

static int do_list(struct cli *c, int argc, char **argv)
{
	struct list_ctx l = {c->json, xs_now_ns()};
	struct xs_maps m;
	char **pos;
	int npos, ret;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret)
		return ret;
	ret = cli_open_listing(c, &m);
	if (ret < 0)
		return ret;
	if (c->json)
		json_arr_begin(NULL);
	else
		printf("%-24s %-20s %-10s %10s %-20s %s\n", "CIDR", "EXPIRES", "REMAINING", "HITS",
		       "LAST HIT", "REASON");
	if (ret) { /* nothing pinned: nothing blocked */
		ret = xs_block_walk(&m, list_one, &l);
		xs_maps_close(&m);
	}
	if (c->json) {
		json_arr_end();
		json_done();
	}
	return ret ? cli_fail(ret, "block list") : 0;
}

static int do_flush(struct cli *c, int argc, char **argv)
{
	unsigned int n = 0;
	struct xs_maps m;
	int npos, lock, ret;
	char **pos;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret || (ret = cli_open(c, true, &m, &lock)))
		return ret;
	ret = xs_block_flush(&m, &n);
	cli_close(&m, lock);
	if (ret)
		return cli_fail(ret, "block flush");
	printf("removed %u blocklist entries\n", n);
	return 0;
}

static int do_gc(struct cli *c, int argc, char **argv)
{
	unsigned int n = 0;
	struct xs_maps m;
	int npos, lock, ret;
	char **pos;

	ret = cli_args(c, argc, argv, NULL, 0, 0, &pos, &npos);
	if (ret || (ret = cli_open(c, true, &m, &lock)))
		return ret;
	ret = xs_block_gc(&m, &n);
	cli_close(&m, lock);
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

static int do_import(struct cli *c, int argc, char **argv)
{
	struct xs_block_req *reqs = NULL;
	unsigned long *lines = NULL;
	size_t n = 0, failed = 0;
	struct xs_maps m;
	int npos, lock, ret;
	char **pos;

	ret = cli_args(c, argc, argv, NULL, 1, 1, &pos, &npos);
	if (ret)
		return ret;
	ret = read_import(pos[0], &reqs, &n, &lines);
	if (ret) {
		ret = EXIT_USAGE;
		goto out;
	}
	ret = cli_open(c, true, &m, &lock);
	if (ret)
		goto out;
	ret = xs_block_import(&m, reqs, n, &failed);
	if (ret == -ENOSPC)
		ret = cli_err("%s:%lu: blocklist full after %zu new entries; rolled back, nothing "
			      "changed",
			      pos[0], lines[failed], failed);
	else if (ret)
		ret = cli_err("%s:%lu: %s; rolled back, nothing changed", pos[0], lines[failed],
			      strerror(-ret));
	else
		printf("imported %zu blocklist entries from %s\n", n, pos[0]);
	cli_close(&m, lock);
out:
	for (size_t i = 0; i < n; i++)
		free((char *)reqs[i].note);
	free(reqs);
	free(lines);
	return ret;
}

const struct cmd cmds_block[] = {
	{"block add", do_add, "CIDR [--for DURATION] [--reason TEXT]",
	 "block a source network; DURATION is N, Ns, Nm, Nh, Nd, Nw or 'permanent' (default)"},
	{"block del", do_del, "CIDR", "remove a blocklist entry (exact CIDR)"},
	{"block list", do_list, "[-j]",
	 "list entries: CIDR, expiry (UTC), time left, hits, last hit, reason"},
	{"block flush", do_flush, "", "remove every blocklist entry"},
	{"block import", do_import, "FILE",
	 "add 'CIDR[,DURATION][,REASON]' lines ('#' comments, blank lines ok); all or nothing: a "
	 "bad line or a full blocklist changes nothing"},
	{"gc", do_gc, "[-j]", "remove expired blocklist entries (they already never match)"},
	{NULL},
};
