// SPDX-License-Identifier: GPL-2.0-only
/*
 * Registrations and state files under attack, in process: REGISTER hijack,
 * state-file injection through escaped CR/LF in a user part, hostile and
 * damaged state files, log escaping (state_test.h: the topology).
 */
#include "state_test.h"

static void test_register_hijack(void)
{
	const char *name = "state_register_hijack";
	int f0 = check_failed;
	struct sip_addr bob = CLIENT2, att = ATTACKER, core = CORE, b;
	long ttl = -1;

	setup(NULL);
	/* The outsider registers bob; the core wants credentials it does not have. */
	registr("bob", "example.com", "203.0.113.66", "h1", "3600", &att);
	T_CHECK(name, find_req("REGISTER"), "REGISTER not forwarded to the core");
	T_CHECK(name, binding_lookup("bob@example.com", &b), "binding before the core's answer");
	core_registers(401);
	T_CHECK(name, binding_lookup("bob@example.com", &b) && !binding_count(),
		"401 left a binding");
	/* The real bob registers; the core accepts. */
	reset();
	registr("bob", "example.com", "10.0.0.9", "h2", "99999", &bob);
	core_registers(200);
	T_CHECK(name, !binding_lookup("bob@example.com", &b) && addr_is(&b, "192.0.2.60", 40010),
		"real bob not bound");
	binding_foreach(ttl_of, &ttl);
	T_CHECK(name, ttl > 0 && ttl <= 3600, "expiry not capped: %ld", ttl);
	/* Again the outsider, again refused; and an AOR of another domain the core takes. */
	reset();
	registr("bob", "example.com", "203.0.113.66", "h3", "0", &att);
	core_registers(403);
	reset();
	registr("bob", "evil.example", "203.0.113.66", "h4", "3600", &att);
	core_registers(200);
	T_CHECK(name, !binding_lookup("bob@example.com", &b) && addr_is(&b, "192.0.2.60", 40010),
		"bob's binding changed by the outsider");
	/* The core calls bob through the edge: it reaches the real bob. */
	reset();
	input("INVITE sip:bob@203.0.113.1:5060 SIP/2.0\r\n"
	      "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKcore1\r\nMax-Forwards: 70\r\n"
	      "From: <sip:carol@example.com>;tag=c1\r\nTo: <sip:bob@example.com>\r\n"
	      "Call-ID: hijack-call\r\nCSeq: 1 INVITE\r\nContact: <sip:carol@198.51.100.10>\r\n"
	      "Content-Length: 0\r\n\r\n",
	      &core);
	T_CHECK(name, find_req("INVITE") && addr_is(&find_req("INVITE")->dst, "192.0.2.60", 40010),
		"call for bob went to %s", find_req("INVITE") ? "someone else" : "nobody");
	if (check_failed == f0)
		T_PASS(name);
}

static bool file_is_0600_json(const char *path)
{
	char line[8192];
	struct stat st;
	bool ok = true;
	FILE *f;

	if (stat(path, &st) || (st.st_mode & 0777) != 0600)
		return false;
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);

		ok &= json_is_object(o);
		json_decref(o);
	}
	fclose(f);
	return ok;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		fchmod(fd, mode);
		close(fd);
	}
}

static void *load_file_at(const char *path, size_t *len)
{
	char *buf = NULL;
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (n > 0 && (buf = calloc(1, n + 1)) && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n > 0 ? n : 0;
	return buf;
}

static void count_bindings(const char *aor, const struct sip_addr *a, long ttl, void *arg)
{
	(*(int *)arg)++;
}

/* A username that unescapes to CR, LF and tabs: the old format's record separators. */
static void test_file_injection(void)
{
	const char *name = "state_file_injection";
	int f0 = check_failed, n = 0;
	char dir[] = "/tmp/xs-test-state-XXXXXX", path[256], aor[256];
	const char *user = "mallory%0d%0aeve%09eve@example.com%09203.0.113.66%095060%091%09"
			   "4102444800";
	struct sip_addr att = ATTACKER, b;
	osip_uri_t *u;

	setup(NULL);
	if (!T_CHECK(name, mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(px.state_dir, sizeof(px.state_dir), "%s", dir);
	registr(user, "example.com", "203.0.113.66", "i1", "600", &att);
	core_registers(200);
	proxy_flush(&px); /* what proxy_tick() does within SAVE_INTERVAL_MS */
	/* What the AOR is once parsed: the raw control characters. */
	osip_uri_init(&u);
	snprintf(path, sizeof(path), "sip:%s@example.com", user);
	osip_uri_parse(u, path);
	binding_aor(u, aor, sizeof(aor));
	osip_uri_free(u);
	T_CHECK(name, strchr(aor, '\n') && !binding_lookup(aor, &b), "binding not stored as is");
	snprintf(path, sizeof(path), "%s/bindings", dir);
	T_CHECK(name, file_is_0600_json(path), "bindings file not 0600 JSON lines");
	/* Restart: only the file survives. */
	binding_flush();
	T_CHECK(name, binding_load(dir) == 1, "records loaded != 1");
	binding_foreach(count_bindings, &n);
	T_CHECK(name, n == 1, "%d bindings after load", n);
	T_CHECK(name, !binding_lookup(aor, &b) && addr_is(&b, "203.0.113.66", 5060),
		"AOR changed by the round trip");
	T_CHECK(name, binding_lookup("eve@example.com", &b), "injected binding for eve");
	/* Dialogs: a From display name with a tab, through save and load. */
	invite("inj-1", "it1", "i2", &att, false);
	proxy_flush(&px);
	snprintf(path, sizeof(path), "%s/dialogs", dir);
	T_CHECK(name, file_is_0600_json(path), "dialogs file not 0600 JSON lines");
	dlg_flush();
	T_CHECK(name, dlg_load(dir) == 1 && dlg_find("inj-1"), "dialog lost in the round trip");
	unlink(path);
	snprintf(path, sizeof(path), "%s/bindings", dir);
	unlink(path);
	rmdir(dir);
	px.state_dir[0] = 0;
	if (check_failed == f0)
		T_PASS(name);
}

/* A hostile or damaged file: bad records are skipped whole, a file others can write is not read. */
static void test_file_hostile(void)
{
	const char *name = "state_file_hostile";
	int f0 = check_failed;
	char dir[] = "/tmp/xs-test-state-XXXXXX", path[256], text[4096];
	struct sip_addr b;
	long long exp = (long long)time(NULL) + 600;

	setup(NULL);
	if (!T_CHECK(name, mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/bindings", dir);
#define A "\"addr\":{\"ip\":\"192.0.2.60\",\"port\":40010,\"proto\":\"udp\"}"
	snprintf(text, sizeof(text),
		 "{\"aor\":\"bob@example.com\"," A ",\"expires\":%lld}\n"
		 "bob\t-\t203.0.113.66\t5060\t1\t%lld\n"
		 "{\"aor\":\"a@example.com\",\"addr\":{\"ip\":\"192.0.2.1\",\"port\":70000,"
		 "\"proto\":\"udp\"},\"expires\":%lld}\n"
		 "{\"aor\":\"b@EXAMPLE.com\"," A ",\"expires\":%lld}\n"
		 "{\"aor\":\"c@example.com\"," A ",\"expires\":%lld,\"x\":1}\n"
		 "{\"aor\":\"d@example.com\"," A ",\"expires\":%lld,\"aor\":\"e@example.com\"}\n"
		 "{\"aor\":\"f@example.com\"," A ",\"expires\":12}\n"
		 "{\"aor\":\"g@example.com\"," A ",\"expires\":%lld} trailing\n"
		 "{\"aor\":\"h@example.com\"," A "\n",
		 exp, exp, exp, exp, exp, exp, exp);
#undef A
	write_file(path, text, 0600);
	binding_flush();
	T_CHECK(name,
		binding_load(dir) == 1 && binding_count() == 1 &&
			!binding_lookup("bob@example.com", &b) && addr_is(&b, "192.0.2.60", 40010),
		"%u bindings loaded from a hostile file", binding_count());
	binding_flush();
	write_file(path, text, 0666);
	T_CHECK(name, binding_load(dir) == -EPERM && !binding_count(),
		"a world-writable file was read");
	unlink(path);
	/* A dialog whose header would inject a line into the edge's BYE. */
	snprintf(path, sizeof(path), "%s/dialogs", dir);
#define LEG(tag, h)                                                                              \
	"{\"tag\":\"" tag "\",\"hdr\":\"" h "\",\"target\":\"sip:x@192.0.2.1\",\"routes\":\"\"," \
	"\"addr\":{\"ip\":\"192.0.2.1\",\"port\":5060,\"proto\":\"udp\"},\"cseq\":1,\"client\":" \
	"true}"
#define DLG(cid, h)                                                                                \
	"{\"v\":2,\"call_id\":\"" cid "\",\"state\":\"confirmed\",\"inv_cseq\":1,"                 \
	"\"created\":1700000000,\"ringing\":0,"                                                    \
	"\"inv_src\":{\"ip\":\"192.0.2.1\",\"port\":5060,\"proto\":\"udp\"},"                      \
	"\"inv_hop\":{\"ip\":\"198.51.100.10\",\"port\":5060,\"proto\":\"udp\"},\"counted\":true," \
	"\"a\":" LEG("ta", h) ",\"b\":" LEG(                                                       \
		"tb", "<sip:b@example.com>;tag=tb") ",\"company\":\"\",\"brand\":\"\",\"rw_"       \
						    "user\":\"\"}\n"
	write_file(path,
		   DLG("good", "<sip:a@example.com>;tag=ta")
			   DLG("bad", "<sip:a@example.com>;tag=ta\\r\\nX-Evil: 1") "not json\n",
		   0600);
#undef DLG
#undef LEG
	dlg_flush();
	T_CHECK(name, dlg_load(dir) == 1 && dlg_find("good") && !dlg_find("bad"),
		"dialog records: good %d bad %d", !!dlg_find("good"), !!dlg_find("bad"));
	T_CHECK(name,
		dlg_count_src(&(struct sip_ip){.af = AF_INET, .v4 = {inet_addr("192.0.2.1")}}) == 1,
		"restored dialog not counted");
	unlink(path);
	rmdir(dir);
	dlg_flush();
	if (check_failed == f0)
		T_PASS(name);
}

/* Damaged copies of real state files: no crash, and what loads is well-formed. */
static void test_file_garbage(void)
{
	const char *name = "state_file_garbage";
	int f0 = check_failed;
	char dir[] = "/tmp/xs-test-state-XXXXXX", path[256], *orig[2] = {0};
	const char *files[2] = {"dialogs", "bindings"};
	struct sip_addr c = CLIENT, core = CORE;
	size_t len[2] = {0};
	unsigned int seed = 12345;

	setup(NULL);
	if (!T_CHECK(name, mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(px.state_dir, sizeof(px.state_dir), "%s", dir);
	for (int i = 0; i < 4; i++) {
		char cid[16], br[16];
		osip_message_t *fw;

		snprintf(cid, sizeof(cid), "garb-%d", i);
		snprintf(br, sizeof(br), "g%d", i);
		reset();
		invite(cid, "gt", br, &c, false);
		fw = took("INVITE");
		if (fw && i % 2) {
			answer(fw, 200, "bob", &core, false);
		}
		if (fw)
			osip_message_free(fw);
	}
	registr("bob", "example.com", "10.0.0.9", "g9", "600", &c);
	core_registers(200);
	proxy_flush(&px);
	for (int f = 0; f < 2; f++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
		orig[f] = (char *)load_file_at(path, &len[f]);
	}
	for (int round = 0; round < 600 && orig[0] && orig[1]; round++) {
		int f = round % 2;
		char *b = malloc(len[f] + 1);

		memcpy(b, orig[f], len[f]);
		for (int k = 0; k < 1 + round % 7; k++) {
			size_t at = rand_r(&seed) % len[f];

			b[at] = round % 3 ? (char)rand_r(&seed) : "{}\":,\n\\\0"[rand_r(&seed) % 9];
		}
		b[len[f]] = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
		{
			int fd = open(path, O_WRONLY | O_TRUNC);

			if (fd >= 0) {
				if (write(fd, b,
					  len[f] - (round % 5 == 0 ? rand_r(&seed) % len[f] : 0)) <
				    0)
					perror("write");
				close(fd);
			}
		}
		free(b);
		if (f == 0) {
			dlg_flush();
			dlg_load(dir);
			for (struct dialog *d = dlg_first(); d; d = d->next)
				if (sf_has_ctl(d->a.hdr) || sf_has_ctl(d->b.hdr) ||
				    sf_has_ctl(d->a.target) || sf_has_ctl(d->call_id) ||
				    !d->a.hdr[0]) {
					T_FAIL(name, "round %d: a malformed dialog loaded", round);
					break;
				}
		} else {
			binding_flush();
			binding_load(dir);
			T_CHECK(name, binding_count() <= 1, "round %d: %u bindings", round,
				binding_count());
		}
	}
	T_CHECK(name, orig[0] && orig[1], "no state files written");
	for (int f = 0; f < 2; f++) {
		free(orig[f]);
		snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
		unlink(path);
	}
	rmdir(dir);
	px.state_dir[0] = 0;
	dlg_flush();
	binding_flush();
	if (check_failed == f0)
		T_PASS(name);
}

static void test_log_escape(void)
{
	const char *name = "state_log_escape";
	char buf[64];

	T_CHECK(name,
		!strcmp(log_esc("a\r\nb\t\\\x1b[31m\xc3\xa9", buf, sizeof(buf)),
			"a\\r\\nb\\t\\\\\\x1b[31m\\xc3\\xa9"),
		"got %s", buf);
	T_CHECK(name, strlen(log_esc("\n\n\n\n\n\n\n\n\n\n", buf, 8)) < 8, "overflow");
	if (!check_failed)
		T_PASS(name);
}

/* Dialog caps: per source, then the whole table; a refused INVITE is never forwarded. */
int main(void)
{
	state_test_init();
	test_register_hijack();
	test_file_injection();
	test_file_hostile();
	test_file_garbage();
	test_log_escape();
	state_test_done();
	return check_failed ? 1 : 0;
}
