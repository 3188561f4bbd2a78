// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "lib/xdpsbc.h"
#include "secret.h"

/* File format: three lines "hash HEX", "mac HEX", "prev HEX" (64 hex digits each). */
static struct {
	uint8_t hash[SECRET_KEY_LEN], mac[SECRET_KEY_LEN], prev[SECRET_KEY_LEN];
	bool have_prev, ready;
} keys;

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

	memset(&keys, 0, sizeof(keys));
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
	return dir && *dir ? secret_save(dir) : 0;
}

static void ensure_ready(void)
{
	/* Unit tests and fuzzers that never called secret_init(): an in-memory key. */
	if (!keys.ready)
		secret_init(NULL);
}

static void mac_hex(const uint8_t *key, const void *data, size_t len, char *out, size_t nhex)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	HMAC(EVP_sha256(), key, SECRET_KEY_LEN, data, len, md, &mdlen);
	if (nhex > 2 * mdlen)
		nhex = 2 * mdlen;
	for (size_t i = 0; i < nhex / 2; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[nhex / 2 * 2] = '\0';
}

void secret_tag(const void *data, size_t len, char *out, size_t nhex)
{
	ensure_ready();
	mac_hex(keys.mac, data, len, out, nhex);
}

bool secret_tag_prev(const void *data, size_t len, char *out, size_t nhex)
{
	ensure_ready();
	out[0] = '\0';
	if (!keys.have_prev)
		return false;
	mac_hex(keys.prev, data, len, out, nhex);
	return true;
}

bool secret_check(const void *data, size_t len, const char *tag, size_t nhex)
{
	char want[65];

	ensure_ready();
	if (!tag || nhex > 64 || strnlen(tag, nhex + 1) != nhex)
		return false;
	mac_hex(keys.mac, data, len, want, nhex);
	if (!CRYPTO_memcmp(want, tag, nhex))
		return true;
	if (!keys.have_prev)
		return false;
	mac_hex(keys.prev, data, len, want, nhex);
	return !CRYPTO_memcmp(want, tag, nhex);
}

uint64_t secret_hash64(const void *data, size_t len)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	uint64_t h;

	ensure_ready();
	HMAC(EVP_sha256(), keys.hash, SECRET_KEY_LEN, data, len, md, &mdlen);
	memcpy(&h, md, sizeof(h));
	return h;
}
