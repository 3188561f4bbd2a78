// SPDX-License-Identifier: GPL-2.0-only
/*
 * State whose cost must not grow with the calls up. The dialog journal
 * (dialog.h): a save appends only the dialogs that changed; a restart
 * replays records and tombstones back to the same dialogs; a torn last
 * line, a file others can write and a journal grown past its slack are
 * handled. The transaction timers (txn.c): a tick handles the transactions
 * whose timer fired, in deadline order, and leaves the rest alone.
 */
#include "state_test.h"

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

static bool file_is_json_0600(const char *path)
{
	char line[8192];
	struct stat st;
	bool ok = true;
	FILE *f;

	if (stat(path, &st) || (st.st_mode & 0777) != 0600 || !(f = fopen(path, "r")))
		return false;
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);

		ok &= json_is_object(o);
		json_decref(o);
	}
	fclose(f);
	return ok;
}

static struct dialog *mk(const char *cid, const char *ip, bool confirm)
{
	struct sip_addr src = addr(ip, 5060);
	struct dialog *d;
	int err;

	d = dlg_new(cid, &src, false, &err);
	if (!d)
		return NULL;
	snprintf(d->a.tag, sizeof(d->a.tag), "ta-%s", cid);
	snprintf(d->a.hdr, sizeof(d->a.hdr), "<sip:a@example.com>;tag=ta-%s", cid);
	d->a.addr = src;
	if (confirm) {
		snprintf(d->b.tag, sizeof(d->b.tag), "tb");
		snprintf(d->b.hdr, sizeof(d->b.hdr), "<sip:b@example.com>;tag=tb");
		dlg_set_confirmed(d);
	}
	return d;
}

/* Bytes one save of a single changed dialog appends, with @up calls up. */
static long append_cost(const char *dir, const char *path, unsigned int up)
{
	char cid[32];
	off_t before;

	dlg_flush();
	for (unsigned int i = 0; i < up; i++) {
		snprintf(cid, sizeof(cid), "up-%u", i);
		mk(cid, "192.0.2.10", true);
	}
	if (dlg_save(dir)) /* the first save compacts */
		return -1;
	before = file_size(path);
	mk("new-call", "192.0.2.11", false);
	if (dlg_save(dir))
		return -1;
	return (long)(file_size(path) - before);
}

static void test_journal_flat(void)
{
	const char *name = "journal_cost_flat";
	int f0 = check_failed;
	char dir[] = "/tmp/xs-test-journal-XXXXXX", path[256];
	long c10, c5000;

	setup(NULL);
	dlg_set_limits(100000, 0);
	if (!T_CHECK(name, mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/dialogs", dir);
	c10 = append_cost(dir, path, 10);
	c5000 = append_cost(dir, path, 5000);
	/* One record either way: a few hundred bytes, not the whole table. */
	T_CHECK(name, c10 > 0 && c10 < 2048 && c5000 == c10,
		"one call appended %ld bytes with 10 up, %ld with 5000 up", c10, c5000);
	T_CHECK(name, file_is_json_0600(path), "journal not 0600 JSON lines");
	dlg_flush();
	unlink(path);
	rmdir(dir);
	if (check_failed == f0)
		T_PASS(name);
}

static void test_journal_replay(void)
{
	const char *name = "journal_restart_replay";
	int f0 = check_failed;
	char dir[] = "/tmp/xs-test-journal-XXXXXX", path[256];
	struct dialog *d;
	int fd;

	setup(NULL);
	dlg_set_limits(100000, 0);
	if (!T_CHECK(name, mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/dialogs", dir);
	dlg_flush();
	mk("keep", "192.0.2.20", false);
	mk("ends", "192.0.2.20", true);
	mk("reused", "192.0.2.21", true);
	T_CHECK(name, dlg_save(dir) == 0, "first save");
	/* Changes after the compaction: journal records and tombstones. */
	dlg_set_confirmed(dlg_find("keep"));
	dlg_find("keep")->b.cseq = 7;
	snprintf(dlg_find("keep")->b.tag, sizeof(d->b.tag), "tb");
	snprintf(dlg_find("keep")->b.hdr, sizeof(d->b.hdr), "<sip:b@example.com>;tag=tb");
	dlg_del(dlg_find("ends"));
	dlg_del(dlg_find("reused"));
	mk("reused", "192.0.2.22", false);
	mk("short", "192.0.2.23", false);
	dlg_del(dlg_find("short")); /* never written: nothing to bury */
	T_CHECK(name, dlg_save(dir) == 0, "journal save");
	/* kill -9 in the middle of an append: a torn line at the end. */
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd >= 0) {
		if (write(fd, "{\"v\":2,\"call_id\":\"torn\",\"sta", 28) < 0)
			perror("write");
		close(fd);
	}
	dlg_flush();
	T_CHECK(name, dlg_load(dir) == 2, "%u dialogs after the replay", dlg_count());
	d = dlg_find("keep");
	T_CHECK(name, d && d->state == DLG_CONFIRMED && d->b.cseq == 7, "confirmed change lost");
	T_CHECK(name, !dlg_find("ends") && !dlg_find("short") && !dlg_find("torn"),
		"an ended, unsaved or torn dialog came back");
	d = dlg_find("reused");
	T_CHECK(name,
		d && d->state == DLG_EARLY && d->inv_src.ip.v4.s_addr == inet_addr("192.0.2.22"),
		"the reused Call-ID is not the newer dialog");
	T_CHECK(name, dlg_first_early() == d && !d->enext, "early list wrong after the replay");
	/* The first save after a restart rewrites the file without the dead records. */
	T_CHECK(name, dlg_save(dir) == 0 && file_is_json_0600(path), "compaction after restart");
	dlg_flush();
	T_CHECK(name, dlg_load(dir) == 2, "%u dialogs after compaction", dlg_count());
	/* A journal others can write is neither read nor extended. */
	chmod(path, 0666);
	dlg_flush();
	T_CHECK(name, dlg_load(dir) == -EPERM, "a world-writable journal was read");
	mk("after", "192.0.2.24", false);
	T_CHECK(name, dlg_save(dir) == 0 && (file_size(path) >= 0) && file_is_json_0600(path),
		"the journal was not replaced by a file of ours");
	dlg_flush();
	unlink(path);
	rmdir(dir);
	if (check_failed == f0)
		T_PASS(name);
}

/* The journal is rewritten once it outgrows twice the live records plus the slack. */
static void test_journal_compaction(void)
{
	const char *name = "journal_compaction";
	int f0 = check_failed;
	char dir[] = "/tmp/xs-test-journal-XXXXXX", path[256], cid[32];
	off_t max = 0;

	setup(NULL);
	dlg_set_limits(100000, 0);
	if (!T_CHECK(name, mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/dialogs", dir);
	dlg_flush();
	for (int i = 0; i < 20000; i++) {
		snprintf(cid, sizeof(cid), "churn-%d", i);
		mk(cid, "192.0.2.30", true);
		if (i >= 10)
			dlg_del(dlg_find((snprintf(cid, sizeof(cid), "churn-%d", i - 10), cid)));
		if (i % 50 == 0 && dlg_save(dir))
			break;
		if (file_size(path) > max)
			max = file_size(path);
	}
	T_CHECK(name, max > 0 && max < 2 * DLG_JOURNAL_SLACK, "journal grew to %lld bytes",
		(long long)max);
	dlg_flush();
	T_CHECK(name, dlg_load(dir) >= 10 && dlg_count() <= 60, "%u dialogs after churn",
		dlg_count());
	dlg_flush();
	unlink(path);
	rmdir(dir);
	if (check_failed == f0)
		T_PASS(name);
}

static unsigned int fired;

static bool count_timeout(struct txn *t, void *arg)
{
	fired++;
	return false;
}

static void test_txn_timers(void)
{
	const char *name = "txn_timers_by_deadline";
	int f0 = check_failed;
	struct sip_addr src = addr("192.0.2.40", 5060);
	uint64_t now = sigd_now_ms();
	char br[32];
	int err;

	setup(NULL);
	txn_flush();
	txn_set_limits(100000, 0);
	/* 5000 transactions expiring 1 ms apart, added in a scrambled order. */
	for (unsigned int i = 0; i < 5000; i++) {
		unsigned int k = (i * 7919) % 5000;
		struct txn *t;

		snprintf(br, sizeof(br), "z9hG4bK-heap-%u", k);
		t = txn_add(br, "OPTIONS", "heap", &src, true, &err);
		if (!t)
			break;
		t->answered = true;
		t->expire_ms = now + 100000 + k;
		txn_resched(t);
	}
	T_CHECK(name, txn_count() == 5000, "%u transactions", txn_count());
	fired = 0;
	txn_tick(now + 100000 + 2499, NULL, count_timeout, NULL);
	T_CHECK(name, fired == 2500 && txn_count() == 2500, "%u fired, %u left", fired,
		txn_count());
	snprintf(br, sizeof(br), "z9hG4bK-heap-%u", 2499);
	T_CHECK(name, !txn_find(br, "OPTIONS"), "the last expired one is still there");
	snprintf(br, sizeof(br), "z9hG4bK-heap-%u", 2500);
	T_CHECK(name, txn_find(br, "OPTIONS"), "one not due yet is gone");
	/* Deleting from the middle keeps the order of the rest. */
	txn_del(txn_find(br, "OPTIONS"));
	fired = 0;
	txn_tick(now + 100000 + 3000, NULL, count_timeout, NULL);
	T_CHECK(name, fired == 500 && txn_count() == 1999, "%u fired, %u left", fired, txn_count());
	txn_flush();
	if (check_failed == f0)
		T_PASS(name);
}

int main(void)
{
	state_test_init();
	test_journal_flat();
	test_journal_replay();
	test_journal_compaction();
	test_txn_timers();
	state_test_done();
	return check_failed ? 1 : 0;
}
