// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-install secret's MACs and hashes come from keyed contexts cached
 * per thread: they must equal the one-shot HMAC-SHA256 under the keys of
 * <state-dir>/secret, bit for bit (call cookies and signed Via branches
 * outlive a restart and an upgrade), follow a key rotation at once (a stale
 * context would sign with a retired key), agree across threads, and cost
 * much less than the one-shot. The forged tag is refused beside the real one.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "../lib/check.h"
#include "secret.h"

static uint8_t k_hash[SECRET_KEY_LEN], k_mac[SECRET_KEY_LEN], k_prev[SECRET_KEY_LEN];

static int unhex(const char *s, uint8_t *k)
{
	for (int i = 0; i < SECRET_KEY_LEN; i++)
		if (sscanf(s + 2 * i, "%2hhx", &k[i]) != 1)
			return -1;
	return 0;
}

/* Read the keys back from <@dir>/secret, as a restarted sigd would. */
static int read_keys(const char *dir)
{
	char path[600], name[8], hex[70], line[160];
	int seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/secret", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%7s %65s", name, hex) != 2)
			continue;
		if (!strcmp(name, "hash") && !unhex(hex, k_hash))
			seen |= 1;
		else if (!strcmp(name, "mac") && !unhex(hex, k_mac))
			seen |= 2;
		else if (!strcmp(name, "prev") && !unhex(hex, k_prev))
			seen |= 4;
	}
	fclose(f);
	return seen;
}

static void ref_tag(const uint8_t *key, const char *data, char *out, size_t nhex)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	HMAC(EVP_sha256(), key, SECRET_KEY_LEN, (const uint8_t *)data, strlen(data), md, &n);
	for (size_t i = 0; i < nhex / 2; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[nhex] = 0;
}

static uint64_t ref_hash(const char *data)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	uint64_t h;

	HMAC(EVP_sha256(), k_hash, SECRET_KEY_LEN, (const uint8_t *)data, strlen(data), md, &n);
	memcpy(&h, md, sizeof(h));
	return h;
}

static const char *const inputs[] = {"", "z9hG4bK-1", "call-1@192.0.2.10",
				     "a somewhat longer input that spans more than one block of "
				     "sha256, sixty-four bytes, to cover the update path"};

static void test_equal(const char *dir)
{
	char got[65], want[65];
	int ok = 1;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		for (size_t nhex = 2; nhex <= 64; nhex += 14) {
			secret_tag(inputs[i], strlen(inputs[i]), got, nhex);
			ref_tag(k_mac, inputs[i], want, nhex);
			ok &= T_CHECK("secret_equal", !strcmp(got, want), "tag %zu/%zu: %s vs %s",
				      i, nhex, got, want);
			ok &= T_CHECK("secret_equal",
				      secret_check(inputs[i], strlen(inputs[i]), want, nhex),
				      "own tag %zu refused", i);
		}
		ok &= T_CHECK("secret_equal",
			      secret_hash64(inputs[i], strlen(inputs[i])) == ref_hash(inputs[i]),
			      "hash %zu", i);
	}
	/* The attacker's tag: one digit off. */
	secret_tag("call-1", 6, got, 16);
	got[3] = got[3] == '0' ? '1' : '0';
	ok &= T_CHECK("secret_equal", !secret_check("call-1", 6, got, 16), "forged tag accepted");
	(void)dir;
	if (ok)
		T_PASS("secret_equal");
}

static void test_rotate(const char *dir)
{
	char before[33], after[33], want[33], prev[33];
	int ok = 1;

	secret_tag("branch-7", 8, before, 32);
	if (!T_CHECK("secret_rotate", !secret_rotate(dir), "rotate") ||
	    !T_CHECK("secret_rotate", read_keys(dir) == 7, "keys not saved"))
		return;
	secret_tag("branch-7", 8, after, 32);
	ref_tag(k_mac, "branch-7", want, 32);
	ok &= T_CHECK("secret_rotate", !strcmp(after, want), "new key not used: %s vs %s", after,
		      want);
	ok &= T_CHECK("secret_rotate", strcmp(after, before), "tag unchanged by the rotation");
	ok &= T_CHECK("secret_rotate", secret_check("branch-7", 8, before, 32),
		      "a tag of the previous key refused");
	ok &= T_CHECK("secret_rotate",
		      secret_tag_prev("branch-7", 8, prev, 32) && !strcmp(prev, before),
		      "tag_prev %s vs %s", prev, before);
	/* Two rotations on: the first key is retired and its tags fail. */
	secret_rotate(dir);
	ok &= T_CHECK("secret_rotate", !secret_check("branch-7", 8, before, 32),
		      "a retired key's tag accepted");
	read_keys(dir);
	ok &= T_CHECK("secret_rotate", secret_hash64("x", 1) == ref_hash("x"),
		      "hash key changed by a rotation");
	if (ok)
		T_PASS("secret_rotate");
}

static void *thread_tags(void *arg)
{
	char *out = arg;

	for (int i = 0; i < 1000; i++)
		secret_tag("call-1@192.0.2.10", 17, out, 32);
	return NULL;
}

static void test_threads(void)
{
	char a[33], b[33], mine[33];
	pthread_t t1, t2;

	pthread_create(&t1, NULL, thread_tags, a);
	pthread_create(&t2, NULL, thread_tags, b);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	secret_tag("call-1@192.0.2.10", 17, mine, 32);
	if (T_CHECK("secret_threads", !strcmp(a, mine) && !strcmp(b, mine), "%s %s %s", a, b, mine))
		T_PASS("secret_threads");
}

static double ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The cached contexts against the one-shot, same inputs, same thread. */
static void test_cost(void)
{
	enum { N = 20000 };
	char out[33];
	double t0, fast, slow;

	t0 = ns_now();
	for (int i = 0; i < N; i++)
		secret_tag("z9hG4bK-1234567890", 18, out, 32);
	fast = (ns_now() - t0) / N;
	t0 = ns_now();
	for (int i = 0; i < N; i++)
		ref_tag(k_mac, "z9hG4bK-1234567890", out, 32);
	slow = (ns_now() - t0) / N;
	printf("# secret_tag %.0f ns, one-shot HMAC %.0f ns\n", fast, slow);
	/* Loose: a shared host is noisy; the cached path is several times cheaper. */
	if (T_CHECK("secret_cost", fast * 2 < slow, "%.0f ns vs %.0f ns", fast, slow))
		T_PASS("secret_cost");
}

int main(void)
{
	char dir[] = "/tmp/xs-secret-XXXXXX", path[64];

	if (!mkdtemp(dir)) {
		T_FAIL("secret", "mkdtemp");
		return 1;
	}
	if (secret_init(dir) || read_keys(dir) != 3) {
		T_FAIL("secret", "secret_init");
		return 1;
	}
	test_equal(dir);
	test_threads();
	test_rotate(dir);
	test_cost();
	/* A restart reads the saved keys: the same hash as before. */
	secret_init(dir);
	read_keys(dir);
	if (T_CHECK("secret_restart", secret_hash64("call-9", 6) == ref_hash("call-9"), "hash"))
		T_PASS("secret_restart");
	snprintf(path, sizeof(path), "%s/secret", dir);
	unlink(path);
	rmdir(dir);
	return check_failed ? 1 : 0;
}
