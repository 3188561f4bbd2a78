// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include "lib/xdpsbc.h"
#include "secret.h"

/* File format: three lines "hash HEX", "mac HEX", "prev HEX" (64 hex digits each). */
static struct {
	uint8_t hash[SECRET_KEY_LEN], mac[SECRET_KEY_LEN], prev[SECRET_KEY_LEN];
	bool have_prev, ready;
	unsigned int gen; /* bumped whenever a key changes: the cached contexts are stale */
} keys;

/*
 * One HMAC-SHA256 context per key, keyed once. The one-shot HMAC() fetches
 * the algorithm, allocates a context and hashes the key's pads on every
 * call, about 2 us, and sigd asks for several MACs and hashes per message
 * (Via branches, tags, cookies, every table lookup): it was the largest
 * single cost per call. A keyed context re-initialised with no key restarts
 * from the saved pads. Per thread (the DNS workers and the cluster thread
 * may hash too); the output is HMAC()'s, bit for bit.
 */
enum { K_HASH, K_MAC, K_PREV, K_MAX };
static __thread struct {
	unsigned int gen;
	EVP_MAC_CTX *ctx[K_MAX];
} cache;

static int random_key(uint8_t *k)
{
	size_t got = 0;

	while (got < SECRET_KEY_LEN) {
		ssize_t n = getrandom(k + got, SECRET_KEY_LEN - got, 0);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += n;
	}
	return 0;
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int key_of_hex(const char *s, uint8_t *k)
{
	for (size_t i = 0; i < SECRET_KEY_LEN; i++)
		if (sscanf(s + 2 * i, "%2hhx", &k[i]) != 1)
			return -EINVAL;
	return strlen(s) == 2 * SECRET_KEY_LEN ? 0 : -EINVAL;
}

static int secret_path(const char *dir, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/secret", dir);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int secret_load(const char *path)
{
	char line[160], name[8], hex[2 * SECRET_KEY_LEN + 2];
	int err = 0, seen = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%7s %65s", name, hex) != 2) {
			err = -EINVAL;
		} else if (!strcmp(name, "hash")) {
			err = key_of_hex(hex, keys.hash), seen |= 1;
		} else if (!strcmp(name, "mac")) {
			err = key_of_hex(hex, keys.mac), seen |= 2;
		} else if (!strcmp(name, "prev")) {
			err = key_of_hex(hex, keys.prev);
			keys.have_prev = !err;
		} else {
			err = -EINVAL;
		}
	}
	fclose(f);
	return err ?: seen == 3 ? 0 : -EINVAL;
}

/* Write-then-rename, 0600 from the start: the secret is never readable by others. */
static int secret_save(const char *dir)
{
	char path[512], tmp[520], h[2 * SECRET_KEY_LEN + 1];
	int err = secret_path(dir, path, sizeof(path)), fd;
	FILE *f;

	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	hex_of(keys.hash, SECRET_KEY_LEN, h);
	fprintf(f, "hash %s\n", h);
	hex_of(keys.mac, SECRET_KEY_LEN, h);
	fprintf(f, "mac %s\n", h);
	if (keys.have_prev) {
		hex_of(keys.prev, SECRET_KEY_LEN, h);
		fprintf(f, "prev %s\n", h);
	}
	err = fflush(f) || fsync(fd) ? -errno : 0;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int secret_init(const char *dir)
{
	char path[512];
	int err;

	unsigned int gen = keys.gen + 1;

	memset(&keys, 0, sizeof(keys));
	keys.gen = gen;
	if (dir && *dir) {
		err = secret_path(dir, path, sizeof(path));
		if (err)
			return err;
		err = secret_load(path);
		if (!err) {
			keys.ready = true;
			return 0;
		}
		if (err != -ENOENT) {
			xs_log(XS_LOG_ERR, "%s: %s (remove it to start with a new secret)\n", path,
			       strerror(-err));
			return err;
		}
	}
	memset(&keys, 0, sizeof(keys));
	keys.gen = gen;
	err = random_key(keys.hash) ?: random_key(keys.mac);
	if (err)
		return err;
	keys.ready = true;
	return dir && *dir ? secret_save(dir) : 0;
}

int secret_rotate(const char *dir)
{
	uint8_t next[SECRET_KEY_LEN];
	int err = random_key(next);

	if (err)
		return err;
	memcpy(keys.prev, keys.mac, SECRET_KEY_LEN);
	keys.have_prev = true;
	memcpy(keys.mac, next, SECRET_KEY_LEN);
	keys.gen++;
	return dir && *dir ? secret_save(dir) : 0;
}

static void ensure_ready(void)
{
	/* Unit tests and fuzzers that never called secret_init(): an in-memory key. */
	if (!keys.ready)
		secret_init(NULL);
}

static EVP_MAC_CTX *keyed_ctx(const uint8_t *key)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;

	EVP_MAC_free(alg); /* the context holds its own reference */
	if (ctx && !EVP_MAC_init(ctx, key, SECRET_KEY_LEN, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* HMAC-SHA256 of @data under key @k into @md (32 bytes). */
static void hmac(int k, const void *data, size_t len, uint8_t *md)
{
	const uint8_t *key = k == K_HASH ? keys.hash : k == K_MAC ? keys.mac : keys.prev;
	unsigned int mdlen = 0;
	EVP_MAC_CTX *ctx;
	size_t out = 0;

	if (cache.gen != keys.gen) {
		for (int i = 0; i < K_MAX; i++) {
			EVP_MAC_CTX_free(cache.ctx[i]);
			cache.ctx[i] = NULL;
		}
		cache.gen = keys.gen;
	}
	if (!cache.ctx[k])
		cache.ctx[k] = keyed_ctx(key);
	ctx = cache.ctx[k];
	if (ctx && EVP_MAC_init(ctx, NULL, 0, NULL) && EVP_MAC_update(ctx, data, len) &&
	    EVP_MAC_final(ctx, md, &out, 32) && out == 32)
		return;
	/* No context (out of memory): the slow way, same result. */
	HMAC(EVP_sha256(), key, SECRET_KEY_LEN, data, len, md, &mdlen);
}

static void mac_hex(int k, const void *data, size_t len, char *out, size_t nhex)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t md[32];

	hmac(k, data, len, md);
	if (nhex > 2 * sizeof(md))
		nhex = 2 * sizeof(md);
	for (size_t i = 0; i < nhex / 2; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[nhex / 2 * 2] = '\0';
}

void secret_tag(const void *data, size_t len, char *out, size_t nhex)
{
	ensure_ready();
	mac_hex(K_MAC, data, len, out, nhex);
}

bool secret_tag_prev(const void *data, size_t len, char *out, size_t nhex)
{
	ensure_ready();
	out[0] = '\0';
	if (!keys.have_prev)
		return false;
	mac_hex(K_PREV, data, len, out, nhex);
	return true;
}

bool secret_check(const void *data, size_t len, const char *tag, size_t nhex)
{
	char want[65];

	ensure_ready();
	if (!tag || nhex > 64 || strnlen(tag, nhex + 1) != nhex)
		return false;
	mac_hex(K_MAC, data, len, want, nhex);
	if (!CRYPTO_memcmp(want, tag, nhex))
		return true;
	if (!keys.have_prev)
		return false;
	mac_hex(K_PREV, data, len, want, nhex);
	return !CRYPTO_memcmp(want, tag, nhex);
}

uint64_t secret_hash64(const void *data, size_t len)
{
	uint8_t md[32];
	uint64_t h;

	ensure_ready();
	hmac(K_HASH, data, len, md);
	memcpy(&h, md, sizeof(h));
	return h;
}
